"""Bulk API 2.0: ingest jobs (CSV in, result CSVs out) and query jobs (CSV pages by locator).

Ingest rows go through the same store calls as REST, so they validate alike. An ingest job is
processed on a background thread started by ``UploadComplete``: polls see ``InProgress`` while it
runs, then ``JobComplete`` (or ``Failed`` when the CSV header names an unknown field; ``Aborted``
stops it between rows, leaving the rest unprocessed). A query job runs when it is created (so a bad
query is a 400 at once): the creation answer says ``UploadComplete``, the first poll
``JobComplete``. Creating and closing answer the job without its counters, as documented; the
answer to ``UploadComplete`` says ``UploadComplete`` even when processing finishes at once.
Result pages default to 100,000 rows when ``maxRecords`` is absent (UNCONFIRMED).
Result CSVs quote every cell; an empty cell leaves a field unchanged and ``#N/A`` sets it null.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..http import Request, Response
from .errors import SfError, not_found
from .ids import make_id, sf_datetime
from .rest import D, api_version, body_json

if TYPE_CHECKING:
    from .server import SalesforceApp

DELIMITERS = {"COMMA": ",", "TAB": "\t", "PIPE": "|", "SEMICOLON": ";", "CARET": "^", "BACKQUOTE": "`"}
LINE_ENDINGS = {"LF": "\n", "CRLF": "\r\n"}
INGEST_OPERATIONS = {"insert", "update", "upsert", "delete", "hardDelete"}
DEFAULT_MAX_RECORDS = 100_000
MAX_UPLOAD_BYTES = 150_000_000
TERMINAL = {"JobComplete", "Failed", "Aborted"}


@dataclass
class Job:
    id: str
    operation: str
    object: str
    is_query: bool
    api_version: float
    created: datetime
    line_ending: str = "LF"
    column_delimiter: str = "COMMA"
    external_id_field: str | None = None
    state: str = "Open"
    modstamp: datetime | None = None
    error_message: str | None = None
    processed: int = 0
    failed: int = 0
    seconds: float = 0.0
    data: bytes | None = None
    header: list[str] = field(default_factory=list)
    successes: list[list[str]] = field(default_factory=list)
    failures: list[list[str]] = field(default_factory=list)
    unprocessed: list[list[str]] = field(default_factory=list)
    result: Any = None  # the SOQL result of a query job

    def info(self, user_id: str) -> dict[str, Any]:
        """Get Job Info: the job with its type and processing counters."""
        out = self.brief(user_id)
        out.update(jobType="V2Query" if self.is_query else "V2Ingest", lineEnding=self.line_ending,
                   columnDelimiter=self.column_delimiter, numberRecordsProcessed=self.processed, retries=0,
                   totalProcessingTime=int(self.seconds * 1000))
        if not self.is_query:
            out.update(numberRecordsFailed=self.failed, apiActiveProcessingTime=int(self.seconds * 1000),
                       apexProcessingTime=0)
        if self.error_message:
            out["errorMessage"] = self.error_message
        return out

    def brief(self, user_id: str, created: bool = False) -> dict[str, Any]:
        """The answer to creating (``created``) or closing/aborting a job: no type, no counters.

        As in the documentation's examples, a new job also says where its data goes and how it is
        delimited; the answer to closing or aborting says neither.
        """
        out: dict[str, Any] = {
            "id": self.id, "operation": self.operation, "object": self.object, "createdById": user_id,
            "createdDate": sf_datetime(self.created), "systemModstamp": sf_datetime(self.modstamp or self.created),
            "state": self.state, "concurrencyMode": "Parallel", "contentType": "CSV", "apiVersion": self.api_version,
        }
        if self.external_id_field:
            out["externalIdFieldName"] = self.external_id_field
        if created:
            if not self.is_query:
                out["contentUrl"] = f"services/data/v{self.api_version:.1f}/jobs/ingest/{self.id}/batches"
            out.update(lineEnding=self.line_ending, columnDelimiter=self.column_delimiter)
        return out

    def csv(self, header: list[str], rows: list[list[str]]) -> bytes:
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=DELIMITERS[self.column_delimiter],
                            lineterminator=LINE_ENDINGS[self.line_ending], quoting=csv.QUOTE_ALL)
        writer.writerow(header)
        writer.writerows(rows)
        return buffer.getvalue().encode("utf-8")


def _job_state_error(message: str) -> SfError:
    return SfError("INVALIDJOBSTATE", message)


class Bulk2:
    def __init__(self, app: SalesforceApp) -> None:
        self.app, self.store = app, app.store
        self.jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._number = 0
        r = app.route
        for kind in ("ingest", "query"):
            r("GET", f"{D}/jobs/{kind}", lambda q, kind=kind: self.list(q, kind == "query"), f"bulk2 {kind} list")
            r("GET", f"{D}/jobs/{kind}/{{job}}", lambda q, kind=kind: self.get(q, kind == "query"),
              f"bulk2 {kind} get")
            r("PATCH", f"{D}/jobs/{kind}/{{job}}", lambda q, kind=kind: self.set_state(q, kind == "query"),
              f"bulk2 {kind} state")
            r("DELETE", f"{D}/jobs/{kind}/{{job}}", lambda q, kind=kind: self.delete(q, kind == "query"),
              f"bulk2 {kind} delete")
        r("POST", f"{D}/jobs/ingest", self.create_ingest, "bulk2 ingest create")
        r("PUT", f"{D}/jobs/ingest/{{job}}/batches", self.upload, "bulk2 ingest upload")
        r("GET", f"{D}/jobs/ingest/{{job}}/{{kind}}", self.ingest_results, "bulk2 ingest results")
        r("POST", f"{D}/jobs/query", self.create_query, "bulk2 query create")
        r("GET", f"{D}/jobs/query/{{job}}/results", self.query_results, "bulk2 query results")

    # ---------------------------------------------------------------------------- lifecycle
    def _new_job(self, request: Request, payload: dict[str, Any], operation: str, sobject: str,
                 is_query: bool) -> Job:
        delimiter = payload.get("columnDelimiter") or "COMMA"
        ending = payload.get("lineEnding") or "LF"
        if delimiter not in DELIMITERS or ending not in LINE_ENDINGS:
            raise SfError("INVALIDJOB", f"Invalid columnDelimiter/lineEnding: {delimiter}/{ending}")
        with self._lock:
            self._number += 1
            job = Job(make_id("750", self._number), operation, sobject, is_query, api_version(request),
                      self.store.now(), ending, delimiter)
            self.jobs[job.id] = job
        return job

    def create_ingest(self, request: Request) -> Response:
        payload = body_json(request)
        operation = payload.get("operation")
        if operation not in INGEST_OPERATIONS:
            raise SfError("INVALIDJOB", f"Invalid operation: {operation}")
        if (payload.get("contentType") or "CSV") != "CSV":
            raise SfError("INVALIDJOB", "contentType must be CSV")
        obj = self.store.schema.get(payload.get("object") or "")
        if obj is None:
            raise SfError("INVALIDJOB", f"Unable to find object: {payload.get('object')}")
        external = payload.get("externalIdFieldName")
        if operation == "upsert":
            fd = obj.field(external or "")
            if fd is None or not (fd.external_id or fd.id_lookup):
                raise SfError("INVALIDJOB", f"External ID was blank or invalid for {obj.name}: {external}")
            external = fd.name
        job = self._new_job(request, payload, operation, obj.name, False)
        job.external_id_field = external if operation == "upsert" else None
        return Response.json(job.brief(self.store.user_id, created=True))

    def create_query(self, request: Request) -> Response:
        from . import soql

        payload = body_json(request)
        operation = payload.get("operation") or "query"
        if operation not in ("query", "queryAll"):
            raise SfError("INVALIDJOB", f"Invalid operation: {operation}")
        started = time.monotonic()
        try:
            result = soql.execute(soql.parse(payload.get("query") or ""), self.store,
                                  include_deleted=operation == "queryAll", now=self.store.now())
        except soql.SoqlError as exc:
            raise SfError(exc.error_code, exc.message) from None
        if result.count is not None:
            raise SfError("INVALIDJOB", "Aggregate queries (COUNT()) are not supported by Bulk API 2.0 query jobs")
        job = self._new_job(request, payload, operation, result.sobject, True)
        job.result, job.state = result, "UploadComplete"
        info = job.brief(self.store.user_id, created=True)
        job.processed, job.seconds = len(result.rows), time.monotonic() - started
        job.state, job.modstamp = "JobComplete", self.store.now()
        return Response.json(info)

    def _job(self, request: Request, is_query: bool) -> Job:
        job = self.jobs.get(request.params["job"])
        if job is None or job.is_query != is_query:
            raise not_found()
        return job

    def list(self, request: Request, is_query: bool) -> Response:
        records = [j.info(self.store.user_id) for j in self.jobs.values() if j.is_query == is_query]
        return Response.json({"done": True, "records": records, "nextRecordsUrl": None})

    def get(self, request: Request, is_query: bool) -> Response:
        return Response.json(self._job(request, is_query).info(self.store.user_id))

    def set_state(self, request: Request, is_query: bool) -> Response:
        job = self._job(request, is_query)
        state = body_json(request).get("state")
        if state == "Aborted":
            if job.state in TERMINAL:
                raise _job_state_error(f"Job is already in a terminal state: {job.state}")
            job.state = "Aborted"
        elif state == "UploadComplete" and not is_query:
            if job.state != "Open":
                raise _job_state_error(f"Job is not Open: {job.state}")
            job.state = "UploadComplete"
        else:
            raise _job_state_error(f"Invalid state change: {state}")
        job.modstamp = self.store.now()
        answer = job.brief(self.store.user_id)  # taken before processing starts: closing says UploadComplete
        if job.state == "UploadComplete":
            threading.Thread(target=self._process, args=(job,), daemon=True).start()
        return Response.json(answer)

    def delete(self, request: Request, is_query: bool) -> Response:
        job = self._job(request, is_query)
        if job.state not in TERMINAL | {"UploadComplete"}:
            raise _job_state_error(f"Job must be closed or aborted before deletion: {job.state}")
        self.jobs.pop(job.id, None)
        return Response(204)

    # ------------------------------------------------------------------------------- ingest
    def upload(self, request: Request) -> Response:
        job = self._job(request, False)
        if job.state != "Open" or job.data is not None:
            raise _job_state_error("Only one upload is allowed, while the job is Open")
        if not request.body:
            raise SfError("INVALIDBATCH", "No data was uploaded")
        if len(request.body) > MAX_UPLOAD_BYTES:
            raise SfError("INVALIDBATCH", "The upload exceeds the 150 MB limit")
        job.data = request.body
        return Response(201)

    def _process(self, job: Job) -> None:
        started = time.monotonic()
        text = (job.data or b"").decode("utf-8-sig", errors="replace")
        rows = [r for r in csv.reader(io.StringIO(text, newline=""), delimiter=DELIMITERS[job.column_delimiter])
                if r]
        job.header, body = (rows[0], rows[1:]) if rows else ([], [])
        problem = self._header_problem(job) if job.header else "InvalidBatch : No data was uploaded"
        if problem:
            job.unprocessed, job.error_message, job.state = body, problem, "Failed"
            return
        if job.state == "UploadComplete":
            job.state = "InProgress"
        for number, cells in enumerate(body):
            if job.state == "Aborted":
                job.unprocessed = body[number:]
                break
            record_id = ""
            try:
                if len(cells) != len(job.header):
                    raise SfError("INVALID_FIELD", f"Number of fields ({len(cells)}) does not match the header "
                                  f"({len(job.header)})")
                record_id, created = self._apply(job, cells)
                job.successes.append([record_id, "true" if created else "false", *cells])
            except SfError as exc:
                job.failures.append([record_id or self._given_id(job, cells), exc.bulk_cell(), *cells])
                job.failed += 1
            job.processed += 1
        job.seconds = time.monotonic() - started
        job.modstamp = self.store.now()
        if job.state == "InProgress":
            job.state = "JobComplete"

    def _header_problem(self, job: Job) -> str | None:
        obj = self.store.object(job.object)
        names = [h.strip() for h in job.header]
        lower = [n.lower() for n in names]
        if job.operation in ("delete", "hardDelete") and lower != ["id"]:
            return "InvalidBatch : The 'delete' batch must contain only 'Id'"
        if job.operation == "update" and "id" not in lower:
            return "InvalidBatch : Field name not found : Id"
        if job.operation == "upsert" and job.external_id_field.lower() not in lower:
            return f"InvalidBatch : Field name not found : {job.external_id_field}"
        for name in names:
            relation, _, _ = name.partition(".")
            known = obj.field(name) if "." not in name else any(
                f.relationship_name and f.relationship_name.lower() == relation.lower() for f in obj.fields.values())
            if not known:
                return f"InvalidBatch : Field name not found : {name}"
        return None

    def _given_id(self, job: Job, cells: list[str]) -> str:
        lower = [h.strip().lower() for h in job.header]
        return cells[lower.index("id")] if "id" in lower and lower.index("id") < len(cells) else ""

    def _apply(self, job: Job, cells: list[str]) -> tuple[str, bool]:
        values: dict[str, Any] = {}
        for name, cell in zip(job.header, cells, strict=True):
            if cell == "":
                continue  # empty = leave unchanged
            value = None if cell == "#N/A" else cell
            relation, dot, field_name = name.strip().partition(".")
            if dot:
                values[relation] = {field_name: value}
            else:
                values[relation] = value
        record_id = next((values.pop(k) for k in list(values) if k.lower() == "id"), None)
        store, sobject = self.store, job.object
        if job.operation == "insert":
            if record_id:
                raise SfError("INVALID_FIELD_FOR_INSERT_UPDATE", "cannot specify Id in an insert call", ["Id"])
            return store.create(sobject, values)["Id"], True
        if job.operation == "upsert":
            ext = job.external_id_field
            if ext == "Id":
                row, created = store.upsert(sobject, "Id", record_id, values)
            else:
                value = next((values.pop(k) for k in list(values) if k.lower() == ext.lower()), None)
                if value is None:
                    raise SfError("REQUIRED_FIELD_MISSING", f"Required fields are missing: [{ext}]", [ext])
                row, created = store.upsert(sobject, ext, value, values)
            return row["Id"], created
        if not record_id:
            raise SfError("MISSING_ARGUMENT", "Id not specified in an update call", ["Id"])
        if job.operation == "update":
            return store.update(sobject, record_id, values)["Id"], False
        store.delete(sobject, record_id, hard=job.operation == "hardDelete")
        return record_id, False

    def ingest_results(self, request: Request) -> Response:
        job = self._job(request, False)
        kind = request.params["kind"].lower()
        if kind == "successfulresults":
            body = job.csv(["sf__Id", "sf__Created", *job.header], job.successes)
        elif kind == "failedresults":
            body = job.csv(["sf__Id", "sf__Error", *job.header], job.failures)
        elif kind == "unprocessedrecords":
            body = job.csv(job.header, job.unprocessed) if job.header else b""
        else:
            raise not_found()
        return Response(200, body, {"Content-Type": "text/csv"})

    # -------------------------------------------------------------------------------- query
    def query_results(self, request: Request) -> Response:
        from . import soql

        job = self._job(request, True)
        if job.state != "JobComplete":
            return Response.json([{"errorCode": "JOB_NOT_COMPLETE",
                                   "message": f"The job is not complete: {job.state}"}], 412)
        try:
            offset = int(base64.urlsafe_b64decode(_pad(request.arg("locator") or "MA")).decode())
            size = int(request.arg("maxRecords") or DEFAULT_MAX_RECORDS)
        except (ValueError, binascii.Error):
            raise SfError("INVALIDLOCATOR", "Invalid locator or maxRecords") from None
        if size < 1:
            raise SfError("INVALIDLOCATOR", "maxRecords must be positive")
        result = job.result
        rows = result.rows[offset:offset + size]
        end = offset + len(rows)
        locator = (base64.urlsafe_b64encode(str(end).encode()).decode().rstrip("=")
                   if end < len(result.rows) else "null")
        body = job.csv(list(result.columns), [soql.csv_row(result, row, self.store) for row in rows])
        return Response(200, body, {"Content-Type": "text/csv", "Sforce-Locator": locator,
                                    "Sforce-NumberOfRecords": str(len(rows))})


def _pad(text: str) -> str:
    return text + "=" * (-len(text) % 4)
