"""The sync's Salesforce client: windowed reads and per-row-accounted writes on simple-salesforce.

Reads. The first REST page (``query``/``queryAll``) tells the total and decides the path: up to
``bulk_threshold`` rows go on over REST (2,000 a page); more go through a Bulk API 2.0 query job
whose result pages are streamed. ``read_many`` fetches the first pages of up to five reads in one
Composite call. Either way records come out flat (see :mod:`.records`) in chunks, so memory stays
bounded however many rows match.

Writes. Up to ``write_bulk_threshold`` rows go through sObject Collections (200 a call, one API
call each); more through Bulk API 2.0 ingest jobs (a handful of calls per 100 MB). Every input row
gets a :class:`.WriteResult` at its own index. Rows that failed only with a transient per-row
error (``UNABLE_TO_LOCK_ROW``) are sent again, boundedly.

Calls. Every request goes through :meth:`SalesforceClient._call`, which retries what
:mod:`.transient` calls transient by the sync's one :mod:`an_sf_sync.retry` policy. A response
hook on the session counts the API calls made (``calls_made``; logins are not API calls) and keeps
the org's ``Sforce-Limit-Info`` usage (``api_usage``), from REST and Bulk responses alike.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlencode

import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (
    SalesforceExpiredSession,
    SalesforceGeneralError,
    SalesforceMalformedRequest,
    SalesforceRefusedRequest,
    SalesforceResourceNotFound,
)
from simple_salesforce.util import Usage, call_salesforce

from an_sf_sync.retry import DEFAULT_RETRY, RetryPolicy, Verdict, transport_verdict

from . import bulk, records, soql
from .bulk import Polling, WriteResult
from .errors import SalesforceApiLimitError, SalesforceLoginUnavailableError, SalesforceSyncError
from .hook import DEFAULT_CONN_ID, connector, session_for
from .transient import TRANSIENT_CODES, classify

if TYPE_CHECKING:
    from an_sf_sync.window import Window

log = logging.getLogger(__name__)

T = TypeVar("T")
COLLECTION_SIZE = 200
WRITE_OPERATIONS = ("insert", "update", "upsert")
_LOGIN_PATHS = ("/services/Soap/u/", "/services/oauth2/")
DEFAULT_POLLING = Polling()
COMPOSITE_QUERIES = 5  # queries one Composite request may hold
_SUBREQUEST_ERRORS = {400: SalesforceMalformedRequest, 401: SalesforceExpiredSession, 403: SalesforceRefusedRequest,
                      404: SalesforceResourceNotFound}


@dataclass(frozen=True)
class Read:
    """One read for :meth:`SalesforceClient.read_many`: the arguments of :meth:`SalesforceClient.read`."""

    sobject: str
    fields: Sequence[str]
    window: Window | None = None
    include_deleted: bool = False
    where: str | None = None
    params: Mapping[str, Any] | None = None


def _first_pages(sf: Salesforce, reads: Sequence[Read], statements: Sequence[str]) -> list[dict[str, Any]]:
    """The first page of each query, from one Composite request (at most five queries in one)."""
    body = {"compositeRequest": [
        {"method": "GET", "referenceId": f"read{i}",
         "url": f"/services/data/v{sf.sf_version}/{'queryAll' if r.include_deleted else 'query'}?"
                f"{urlencode({'q': statement})}"} for i, (r, statement) in enumerate(zip(reads, statements, strict=True))]}
    answer = sf.restful("composite", method="POST", data=json.dumps(body)) or {}
    pages = []
    for item in answer.get("compositeResponse", []):
        status = int(item.get("httpStatusCode", 500))
        if status >= 300:  # raised as simple-salesforce raises the same answer to a lone query
            error = _SUBREQUEST_ERRORS.get(status, SalesforceGeneralError)
            raise error(f"{sf.base_url}composite", status, item.get("referenceId", ""), item.get("body"))
        pages.append(item["body"])
    if len(pages) != len(reads):
        raise SalesforceSyncError(f"the Composite request answered {len(pages)} of {len(reads)} queries")
    return pages


def _restful(sf: Salesforce, path: str, method: str, **kwargs: Any) -> Any:
    return sf.restful(path, method=method, **kwargs)


def _query_more(sf: Salesforce, url: str) -> dict[str, Any]:
    return sf.query_more(url, identifier_is_url=True)


class SalesforceClient:
    """A client for one logged-in org.

    ``login`` (optional) returns a freshly logged-in ``Salesforce``; it is used when a session
    expires. Without it an expired session on a path simple-salesforce does not refresh is an
    error. ``conn_id`` only names the connection in messages.
    """

    def __init__(self, sf: Salesforce, *, login: Callable[[], Salesforce] | None = None,
                 conn_id: str | None = None, bulk_threshold: int = 10_000,
                 write_bulk_threshold: int = 2_000, chunk_size: int = 5_000,
                 page_rows: int = 100_000, retry: RetryPolicy = DEFAULT_RETRY,
                 polling: Polling = DEFAULT_POLLING) -> None:
        self.sf, self._login, self.conn_id = sf, login, conn_id
        self.bulk_threshold, self.write_bulk_threshold = bulk_threshold, write_bulk_threshold
        self.chunk_size, self.page_rows = chunk_size, page_rows
        self.retry, self.polling = retry, polling
        self.calls_made = 0
        self.api_usage: Usage | None = None
        self._describes: dict[str, dict[str, Any]] = {}
        self._watch(sf.session)

    @classmethod
    def from_connection(cls, conn_id: str = DEFAULT_CONN_ID, **options: Any) -> SalesforceClient:
        """Log in with the Airflow connection ``conn_id`` through ``SalesforceHook``."""
        login = connector(conn_id, session_for(conn_id))
        return cls(log_in(login, options.get("retry", DEFAULT_RETRY)), login=login, conn_id=conn_id, **options)

    # -- plumbing ------------------------------------------------------------------------------

    def _watch(self, session: requests.Session) -> None:
        hooks = session.hooks.setdefault("response", [])
        if self._on_response not in hooks:
            hooks.append(self._on_response)

    def _on_response(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        if any(p in response.request.path_url for p in _LOGIN_PATHS):
            return
        self.calls_made += 1
        info = response.headers.get("Sforce-Limit-Info")
        if info:
            usage = Salesforce.parse_api_usage(info).get("api-usage")
            if isinstance(usage, Usage):
                self.api_usage = usage

    def _call(self, fn: Callable[[Salesforce], T], *, idempotent: bool = True) -> T:
        """``fn(sf)``, retried as :func:`.transient.classify` and the retry policy say."""
        tries = 0
        while True:
            try:
                return fn(self.sf)
            except Exception as exc:
                verdict = classify(exc)
                if verdict is Verdict.LIMIT:
                    raise SalesforceApiLimitError(self._limit_message()) from exc
                tries += 1
                if (not self.retry.allows(verdict, tries, idempotent=idempotent)
                        or (verdict is Verdict.RELOGIN and self._login is None)):
                    raise
                if verdict is Verdict.RELOGIN:
                    assert self._login is not None  # a relogin without a login was raised above
                    log.warning("Salesforce session expired; logging in again")
                    self.sf = log_in(self._login, self.retry)
                    self._watch(self.sf.session)
                else:
                    delay = self.retry.delay(tries - 1)
                    log.warning("transient Salesforce error (%s); retry %d in %.1f s", exc, tries, delay)
                    time.sleep(delay)

    def _limit_message(self) -> str:
        usage = f" ({self.api_usage.used}/{self.api_usage.total} calls used)" if self.api_usage else ""
        where = f" of Airflow connection {self.conn_id!r}" if self.conn_id else ""
        return (f"The Salesforce org{where} has used up its daily API request limit{usage} "
                "(REQUEST_LIMIT_EXCEEDED). The sync stopped without retrying, so as not to take "
                "more of the allowance other integrations need; nothing is lost, and the next run "
                "resumes from the same point once the rolling 24-hour allowance frees up. To avoid "
                "this, raise the org's API limit or run the sync less often.")

    def _bulk(self, method: str, path: str, *, idempotent: bool = True, **kwargs: Any) -> requests.Response:
        def request(sf: Salesforce) -> requests.Response:
            headers = {**sf.headers, **kwargs.get("headers", {})}
            return call_salesforce(url=sf.bulk2_url + path, method=method, session=sf.session,
                                   headers=headers, **{k: v for k, v in kwargs.items() if k != "headers"})
        return self._call(request, idempotent=idempotent)

    # -- schema ----------------------------------------------------------------------------------

    def describe(self, sobject: str) -> dict[str, Any]:
        """The object's describe, fetched once per client."""
        name = soql.api_name(sobject)
        if name not in self._describes:
            self._describes[name] = self._call(lambda sf: sf.restful(f"sobjects/{name}/describe") or {})
        return self._describes[name]

    def field_types(self, sobject: str) -> dict[str, str]:
        """Lower-cased field name -> describe type (``string``, ``boolean``, ``currency`` …)."""
        return {f["name"].lower(): f["type"] for f in self.describe(sobject)["fields"]}

    # -- reads -----------------------------------------------------------------------------------

    def count(self, sobject: str, *, window: Window | None = None, include_deleted: bool = False,
              where: str | None = None, params: Mapping[str, Any] | None = None) -> int:
        statement = soql.count(sobject, soql.conditions(window, where, params))
        return int(self._call(lambda sf: sf.query(statement, include_deleted=include_deleted))["totalSize"])

    def read(self, sobject: str, fields: Sequence[str], *, window: Window | None = None,
             include_deleted: bool = False, where: str | None = None,
             params: Mapping[str, Any] | None = None) -> Iterator[list[dict[str, Any]]]:
        """Chunks of flat records of ``sobject`` changed in ``window`` (None: no time filter).

        ``include_deleted`` reads through ``queryAll`` so deleted rows (``IsDeleted`` true) come too.
        ``where`` is an extra ``format_soql`` template filled from ``params``. The first REST page
        tells the total: a small read costs one call, a large one switches to Bulk API 2.0.
        """
        statement = soql.select(sobject, fields, soql.conditions(window, where, params))
        page = self._call(lambda sf: sf.query(statement, include_deleted=include_deleted))
        return self._rest_or_bulk(sobject, fields, statement, page, include_deleted)

    def read_many(self, reads: Sequence[Read]) -> list[Iterator[list[dict[str, Any]]]]:
        """The chunks of each read, as :meth:`read` gives them, with their first pages fetched together:
        one Composite call per five reads, so an hour with nothing changed costs one call, not one
        per object. The rest of each read (more REST pages, or Bulk API 2.0) follows as in ``read``."""
        found: list[Iterator[list[dict[str, Any]]]] = []
        for start in range(0, len(reads), COMPOSITE_QUERIES):
            group = reads[start:start + COMPOSITE_QUERIES]
            statements = [soql.select(r.sobject, r.fields, soql.conditions(r.window, r.where, r.params))
                          for r in group]
            pages = self._call(partial(_first_pages, reads=group, statements=statements))
            for read, statement, page in zip(group, statements, pages, strict=True):
                found.append(self._rest_or_bulk(read.sobject, read.fields, statement, page, read.include_deleted))
        return found

    def _rest_or_bulk(self, sobject: str, fields: Sequence[str], statement: str, page: dict[str, Any],
                      include_deleted: bool) -> Iterator[list[dict[str, Any]]]:
        bulk_path = page["totalSize"] > self.bulk_threshold
        log.info("reading %d %s rows over %s", page["totalSize"], sobject, "Bulk API 2.0" if bulk_path else "REST")
        if bulk_path:
            return self._bulk_read(sobject, statement, list(fields), include_deleted)
        return self._rest_read(page, list(fields))

    def _rest_read(self, page: dict[str, Any], fields: list[str]) -> Iterator[list[dict[str, Any]]]:
        while True:
            if page["records"]:
                yield [records.project(records.flatten(r), fields) for r in page["records"]]
            if page.get("done", True) or not page.get("nextRecordsUrl"):
                return
            next_url = page["nextRecordsUrl"]
            page = self._call(partial(_query_more, url=next_url))

    def _bulk_read(self, sobject: str, statement: str, fields: list[str], include_deleted: bool
                   ) -> Iterator[list[dict[str, Any]]]:
        types = self.field_types(sobject)
        rows = bulk.query_rows(self._bulk, statement, include_deleted=include_deleted,
                               page_rows=self.page_rows, polling=self.polling, retry=self.retry)
        header = next(rows, None)
        if header is None:
            return
        requested = {f.lower(): f for f in fields}
        header = [requested.get(h.lower(), h) for h in header]
        converters = records.csv_converters(types, header)
        chunk: list[dict[str, Any]] = []
        for row in rows:
            chunk.append(records.from_csv_row(header, converters, row))
            if len(chunk) >= self.chunk_size:
                yield chunk
                chunk = []
        if chunk:
            yield chunk

    # -- writes ----------------------------------------------------------------------------------

    def write(self, sobject: str, rows: Sequence[Mapping[str, Any]], *, operation: str = "insert",
              external_id_field: str | None = None) -> list[WriteResult]:
        """Insert, update (rows carry ``Id``) or upsert (on ``external_id_field``) ``rows``.

        Returns one :class:`.WriteResult` per row, in input order. Rows failing only with a
        transient error are retried up to ``retry.attempts`` times in all.
        """
        if operation not in WRITE_OPERATIONS:
            raise ValueError(f"operation must be one of {WRITE_OPERATIONS}, not {operation!r}")
        if operation == "upsert" and not external_id_field:
            raise ValueError("an upsert needs external_id_field")
        soql.api_name(sobject)
        results: dict[int, WriteResult] = {}
        pending = list(range(len(rows)))
        for attempt in range(self.retry.attempts):
            batch = [(i, rows[i]) for i in pending]
            via_bulk = len(batch) > self.write_bulk_threshold
            log.info("writing %d %s rows (%s) over %s", len(batch), sobject, operation,
                     "Bulk API 2.0" if via_bulk else "sObject Collections")
            writer = self._bulk_write if via_bulk else self._collections_write
            results.update(writer(sobject, batch, operation, external_id_field))
            pending = [i for i in pending if _transient(results[i])]
            if not pending or attempt + 1 >= self.retry.attempts:
                break
            delay = self.retry.delay(attempt)
            log.warning("%d %s rows hit a transient error; retrying them in %.1f s", len(pending), sobject, delay)
            time.sleep(delay)
        return [results[i] for i in range(len(rows))]

    def delete(self, sobject: str, ids: Sequence[str]) -> list[WriteResult]:
        """Delete records by Id through sObject Collections (200 a call); one result per id, in order.

        Deleting is idempotent: a record already gone answers ENTITY_IS_DELETED, which callers may
        count as done.
        """
        soql.api_name(sobject)
        results: list[WriteResult] = []
        for start in range(0, len(ids), COLLECTION_SIZE):
            part = list(ids[start:start + COLLECTION_SIZE])
            answered = self._call(partial(_restful, path="composite/sobjects", method="DELETE",
                                          params={"ids": ",".join(part), "allOrNone": "false"}))
            if not isinstance(answered, list) or len(answered) != len(part):
                raise SalesforceSyncError(f"sObject Collections delete of {len(part)} {sobject} rows answered "
                                          f"{len(answered or [])} results")
            results += [WriteResult(start + i, bool(r.get("success")), r.get("id") or part[i], None,
                                    list(r.get("errors") or [])) for i, r in enumerate(answered)]
        return results

    def _collections_write(self, sobject: str, batch: Sequence[tuple[int, Mapping[str, Any]]],
                           operation: str, external_id_field: str | None) -> dict[int, WriteResult]:
        path = (f"composite/sobjects/{sobject}/{soql.api_name(external_id_field)}"
                if operation == "upsert" else "composite/sobjects")
        method = "POST" if operation == "insert" else "PATCH"
        results: dict[int, WriteResult] = {}
        for start in range(0, len(batch), COLLECTION_SIZE):
            part = batch[start:start + COLLECTION_SIZE]
            body = json.dumps({"allOrNone": False, "records": [
                {"attributes": {"type": sobject}, **row} for _, row in part]}, default=_json_value)
            saved = self._call(partial(_restful, path=path, method=method, data=body),
                               idempotent=operation != "insert")
            if not isinstance(saved, list) or len(saved) != len(part):
                raise SalesforceSyncError(f"sObject Collections {operation} of {len(part)} {sobject} "
                                          f"rows answered {len(saved or [])} results")
            for (index, _), result in zip(part, saved, strict=True):
                results[index] = WriteResult(index, bool(result.get("success")), result.get("id"),
                                             result.get("created"), list(result.get("errors") or []))
        return results

    def _bulk_write(self, sobject: str, batch: Sequence[tuple[int, Mapping[str, Any]]],
                    operation: str, external_id_field: str | None) -> dict[int, WriteResult]:
        columns = sorted({c for _, row in batch for c in row}, key=lambda c: (c != "Id", c))
        for column in columns:
            soql.api_name(column)
        key = bulk.key_columns(operation, columns, external_id_field)
        results: dict[int, WriteResult] = {}
        for sent, data in bulk.csv_batches(columns, key, batch):
            def run(sf: Salesforce, data: str = data, rows: int = len(sent)) -> tuple[dict, dict]:
                return bulk.ingest(self._bulk, sobject, operation, data, rows,
                                   external_id_field=external_id_field, polling=self.polling)
            # A job that failed before it was closed is aborted by ingest() and can be run again
            # as a whole; a repeated insert could duplicate rows, so only updates/upserts are.
            info, files = self._call(run, idempotent=operation != "insert")
            matched = bulk.match_results(key, sent, files)
            log.info("Bulk API 2.0 job %s: %s processed, %s failed", info.get("id"),
                     info.get("numberRecordsProcessed"), info.get("numberRecordsFailed"))
            for index, _ in sent:
                results[index] = matched.get(index) or WriteResult(index, False, errors=[{
                    "statusCode": "NO_RESULT", "message": "the Bulk job reported no result for this row",
                    "fields": []}])
        return results


def log_in(login: Callable[[], Salesforce], retry: RetryPolicy) -> Salesforce:
    """``login()``, retried with backoff while Salesforce is unavailable; a refusal is raised at once.

    A login creates nothing, so it is repeated even when the server may have acted on it.
    """
    tries = 0
    while True:
        try:
            return login()
        except Exception as exc:
            verdict = Verdict.RETRY if isinstance(exc, SalesforceLoginUnavailableError) else transport_verdict(exc)
            tries += 1
            if verdict is None or not retry.allows(verdict, tries):
                raise
            delay = retry.delay(tries - 1)
            log.warning("Salesforce login unavailable (%s); retry %d in %.1f s", exc, tries, delay)
            time.sleep(delay)


def _transient(result: WriteResult) -> bool:
    return not result.success and bool(result.codes) and set(result.codes) <= TRANSIENT_CODES


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"cannot send {type(value).__name__} to Salesforce")

