"""Bulk API 2.0 jobs, driven over simple-salesforce's session so every call is counted and retried.

simple-salesforce's ``sf.bulk2`` reads each result page into one string, sleeps five seconds
before its first poll and never re-authenticates; the sync needs streaming, few polls and retries,
so it speaks the (small) Bulk 2.0 protocol itself through :func:`simple_salesforce.util.call_salesforce`.

Reads stream: a query result page is parsed from the socket as it arrives, so memory holds one
CSV row at a time whatever the page size. Writes upload CSV of at most ~90 MB per job (the API
takes 100 MB) and fetch per-row results; Salesforce does not keep the upload order in its result
files, so rows are matched back by a column the caller sent (see :func:`match_results`).
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import logging
import time
from collections import defaultdict, deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

import requests

from an_sf_sync.retry import RetryPolicy, transport_verdict

from .errors import SalesforceBulkJobError

log = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 90 * 1024 * 1024  # the API's limit is 100 MB of CSV per job
_TERMINAL = {"JobComplete", "Failed", "Aborted"}
NULL_CELL = "#N/A"  # an empty cell means "leave unchanged" in Bulk CSV; this sets null


class Call(Protocol):
    """Performs one Bulk 2.0 request (path relative to ``…/jobs/``), with retries."""

    def __call__(self, method: str, path: str, *, idempotent: bool = True, **kwargs: Any) -> requests.Response: ...


@dataclass(frozen=True)
class Polling:
    """Job status polls: first after ``first`` seconds, then ``growth`` times longer, up to ``cap``.

    Each poll is an API call; slow growth keeps a quick job quick and a long one cheap.
    """

    first: float = 0.5
    growth: float = 1.5
    cap: float = 10.0
    timeout: float = 6 * 3600.0


@dataclass
class WriteResult:
    """The outcome of one input row of a write; ``index`` is its position in the input."""

    index: int
    success: bool
    id: str | None = None
    created: bool | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)

    @property
    def codes(self) -> list[str]:
        return [e.get("statusCode", "") for e in self.errors]


def wait_for_job(call: Call, path: str, polling: Polling) -> dict[str, Any]:
    """Poll ``path`` (``ingest/<id>`` or ``query/<id>``) until the job ends; its final info."""
    delay, deadline = polling.first, time.monotonic() + polling.timeout
    while True:
        time.sleep(delay)
        info = call("GET", path).json()
        if info.get("state") in _TERMINAL:
            if info["state"] != "JobComplete":
                raise SalesforceBulkJobError(
                    f"Bulk API 2.0 job {info.get('id')} ended {info['state']}: "
                    f"{info.get('errorMessage') or 'no reason given'}", job_id=info.get("id", ""),
                    state=info["state"])
            return info
        if time.monotonic() > deadline:
            raise SalesforceBulkJobError(f"Bulk API 2.0 job {info.get('id')} still {info.get('state')} "
                                         f"after {polling.timeout:.0f} s", job_id=info.get("id", ""),
                                         state=str(info.get("state")))
        delay = min(polling.cap, delay * polling.growth)


def query_rows(call: Call, soql: str, *, include_deleted: bool, page_rows: int, polling: Polling,
               retry: RetryPolicy) -> Iterator[list[str]]:
    """Run a query job; yield the CSV header, then every row, streamed page by page.

    A page that breaks off mid-stream is requested again (same locator) and the rows already
    yielded are skipped, so a dropped connection costs a page, not the job.
    """
    body = {"operation": "queryAll" if include_deleted else "query", "query": soql,
            "contentType": "CSV", "columnDelimiter": "COMMA", "lineEnding": "LF"}
    job = call("POST", "query", data=json.dumps(body)).json()
    wait_for_job(call, f"query/{job['id']}", polling)
    locator, header_sent = "", False
    while True:
        params = {"maxRecords": page_rows, **({"locator": locator} if locator else {})}
        done = 0
        for tries in itertools.count(1):
            try:
                with call("GET", f"query/{job['id']}/results", params=params, stream=True,
                          headers={"Accept": "text/csv"}) as response:
                    next_locator = response.headers.get("Sforce-Locator", "null")
                    reader = csv.reader(_lines(response))
                    header = next(reader, None)
                    if header is not None and not header_sent:
                        header_sent = True
                        yield header
                    for row in itertools.islice(reader, done, None):
                        done += 1
                        yield row
                break
            except requests.RequestException as exc:  # a page is read-only: safe to fetch again
                verdict = transport_verdict(exc)
                if verdict is None or not retry.allows(verdict, tries):
                    raise
                log.warning("Bulk query page broke off after %d rows; fetching it again", done)
                time.sleep(retry.delay(tries - 1))
        if next_locator in ("", "null"):
            return
        locator = next_locator


def _lines(response: requests.Response) -> Iterator[str]:
    """The body's lines as they arrive, newline kept (csv joins quoted multi-line values)."""
    pending = b""
    for piece in response.iter_content(chunk_size=1 << 16):  # gunzips as it goes
        pending += piece
        *complete, pending = pending.split(b"\n")
        for line in complete:
            yield line.decode("utf-8", errors="replace") + "\n"
    if pending:
        yield pending.decode("utf-8", errors="replace")


def cell(value: Any) -> str:
    """A Python value as a Bulk CSV cell (None sets the field to null)."""
    if value is None:
        return NULL_CELL
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def csv_batches(columns: Sequence[str], key: Sequence[str], rows: Iterable[tuple[int, Mapping[str, Any]]],
                max_bytes: int = MAX_UPLOAD_BYTES) -> Iterator[tuple[list[tuple[int, tuple[str, ...]]], str]]:
    """Per upload of at most ``max_bytes``: ([(input index, its ``key`` cells)], CSV text)."""
    positions = [list(columns).index(k) for k in key]

    def start() -> tuple[io.StringIO, Any]:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(columns)
        return buffer, writer

    buffer, writer = start()
    sent: list[tuple[int, tuple[str, ...]]] = []
    for index, row in rows:
        cells = [cell(row.get(c)) for c in columns]
        writer.writerow(cells)
        sent.append((index, tuple(cells[p] for p in positions)))
        if buffer.tell() >= max_bytes:
            yield sent, buffer.getvalue()
            buffer, writer = start()
            sent = []
    if sent:
        yield sent, buffer.getvalue()


def ingest(call: Call, sobject: str, operation: str, data: str, rows: int, *,
           external_id_field: str | None, polling: Polling) -> tuple[dict[str, Any], dict[str, list[dict]]]:
    """Create, fill and close one ingest job, wait for it; (final job info, result rows by kind).

    Result files are fetched only when they can hold rows: the failed file when the job reports
    failures, the unprocessed one when fewer rows were processed than sent.
    """
    body = {"object": sobject, "operation": operation, "contentType": "CSV",
            "columnDelimiter": "COMMA", "lineEnding": "LF",
            **({"externalIdFieldName": external_id_field} if external_id_field else {})}
    job = call("POST", "ingest", data=json.dumps(body)).json()  # a repeat only leaves an empty job
    path = f"ingest/{job['id']}"
    try:
        call("PUT", f"{path}/batches", idempotent=False, data=data.encode("utf-8"),
             headers={"Content-Type": "text/csv"})
        call("PATCH", path, idempotent=False, data=json.dumps({"state": "UploadComplete"}))
    except Exception:
        _abort(call, path)
        raise
    info = wait_for_job(call, path, polling)
    results: dict[str, list[dict]] = {"successfulResults": [], "failedResults": [], "unprocessedRecords": []}
    wanted = ["successfulResults"]
    if int(info.get("numberRecordsFailed") or 0):
        wanted.append("failedResults")
    if int(info.get("numberRecordsProcessed") or 0) < rows:
        wanted.append("unprocessedRecords")
    for kind in wanted:
        text = call("GET", f"{path}/{kind}", headers={"Accept": "text/csv"}).text
        results[kind] = list(csv.DictReader(io.StringIO(text)))
    return info, results


def _abort(call: Call, path: str) -> None:
    try:
        call("PATCH", path, data=json.dumps({"state": "Aborted"}))
    except Exception:  # the job is unusable either way; the original error matters
        log.warning("could not abort Bulk API 2.0 job %s", path, exc_info=True)


def _error(text: str) -> dict[str, Any]:
    """``CODE:message:Field1,Field2`` (``--`` for no fields) as a SaveResult-style error."""
    code, _, rest = text.partition(":")
    message, _, fields = rest.rpartition(":")
    if not message:  # no fields part
        message, fields = rest, "--"
    return {"statusCode": code, "message": message,
            "fields": [] if fields in ("", "--") else fields.split(",")}


def match_results(key: Sequence[str], sent: Iterable[tuple[int, tuple[str, ...]]],
                  results: Mapping[str, list[dict]]) -> dict[int, WriteResult]:
    """Map result rows back to input indexes by the ``key`` columns' cells as sent.

    Rows with equal keys are matched first come, first served: they were identical in the key,
    so which of them gets which result does not matter to the caller.
    """
    waiting: dict[tuple[str, ...], deque[int]] = defaultdict(deque)
    for index, cells in sent:
        waiting[cells].append(index)
    matched: dict[int, WriteResult] = {}
    for kind, rows in results.items():
        for row in rows:
            queue = waiting.get(tuple(row.get(k, "") for k in key))
            if not queue:
                log.warning("Bulk result row matches no input row: %s", row)
                continue
            index = queue.popleft()
            if kind == "successfulResults":
                matched[index] = WriteResult(index, True, row.get("sf__Id") or None,
                                             (row.get("sf__Created") or "").lower() == "true")
            elif kind == "failedResults":
                matched[index] = WriteResult(index, False, row.get("sf__Id") or None,
                                             errors=[_error(row.get("sf__Error", ""))])
            else:
                matched[index] = WriteResult(index, False, errors=[{
                    "statusCode": "UNPROCESSED", "message": "Salesforce did not process this row "
                    "(the Bulk job stopped before it)", "fields": []}])
    return matched


def key_columns(operation: str, columns: Sequence[str], external_id_field: str | None) -> list[str]:
    """The column(s) results are joined on: the upsert key, the Id, or (insert) every column."""
    if operation == "upsert" and external_id_field:
        return [external_id_field]
    if operation in ("update", "delete", "hardDelete") and "Id" in columns:
        return ["Id"]
    return list(columns)
