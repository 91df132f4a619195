"""Bulk API 1.0 JSON jobs at ``/services/async/{version}/``, as simple-salesforce's ``sf.bulk`` (and so
Airflow's SalesforceBulkOperator) drives them.

Authentication is the ``X-SFDC-Session`` header; errors are ``{"exceptionCode", "exceptionMessage"}``
objects. A batch is processed when it is added: the add answers ``Queued`` (as the real service
does), and every later read of the batch says ``Completed``. In JSON records ``null`` sets a field
null. Query batches yield one result set.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..http import Request, Response
from .errors import SfError
from .ids import make_id, sf_datetime

if TYPE_CHECKING:
    from .server import SalesforceApp

A = "/services/async/{version}"
OPERATIONS = {"insert", "update", "upsert", "delete", "hardDelete", "query", "queryAll"}
MAX_BATCH_RECORDS = 10_000


def bulk1_error(error: SfError) -> Response:
    return Response.json({"exceptionCode": error.code, "exceptionMessage": error.message},
                         404 if error.status == 404 else 400)


@dataclass
class Batch:
    id: str
    job_id: str
    created: datetime
    request: Any
    results: list[Any] = field(default_factory=list)
    processed: int = 0
    failed: int = 0
    seconds: float = 0.0
    state: str = "Completed"
    message: str | None = None

    def info(self, state: str | None = None) -> dict[str, Any]:
        ms = int(self.seconds * 1000)
        out = {"id": self.id, "jobId": self.job_id, "state": state or self.state,
               "createdDate": sf_datetime(self.created), "systemModstamp": sf_datetime(self.created),
               "numberRecordsProcessed": self.processed, "numberRecordsFailed": self.failed,
               "totalProcessingTime": ms, "apiActiveProcessingTime": ms, "apexProcessingTime": 0}
        if self.message:
            out["stateMessage"] = self.message
        return out


@dataclass
class Bulk1Job:
    id: str
    operation: str
    object: str
    serial: bool
    external_id_field: str | None
    api_version: float
    created: datetime
    state: str = "Open"
    batches: dict[str, Batch] = field(default_factory=dict)

    def info(self, user_id: str) -> dict[str, Any]:
        batches = list(self.batches.values())
        return {
            "id": self.id, "operation": self.operation, "object": self.object, "createdById": user_id,
            "createdDate": sf_datetime(self.created), "systemModstamp": sf_datetime(self.created),
            "state": self.state, "externalIdFieldName": self.external_id_field, "assignmentRuleId": None,
            "fastPathEnabled": False,
            "concurrencyMode": "Serial" if self.serial else "Parallel", "contentType": "JSON",
            "numberBatchesQueued": 0, "numberBatchesInProgress": 0,
            "numberBatchesCompleted": sum(b.state == "Completed" for b in batches),
            "numberBatchesFailed": sum(b.state == "Failed" for b in batches),
            "numberBatchesTotal": len(batches),
            "numberRecordsProcessed": sum(b.processed for b in batches),
            "numberRecordsFailed": sum(b.failed for b in batches), "numberRetries": 0,
            "apiVersion": self.api_version, "totalProcessingTime": 0, "apiActiveProcessingTime": 0,
            "apexProcessingTime": 0,
        }


class Bulk1:
    def __init__(self, app: SalesforceApp) -> None:
        self.app, self.store = app, app.store
        self.jobs: dict[str, Bulk1Job] = {}
        self._lock = threading.Lock()
        self._numbers = {"750": 0, "751": 0}

        def r(method: str, pattern: str, handler: Any, name: str) -> None:
            app.route(method, pattern, handler, name, error=bulk1_error)

        r("POST", f"{A}/job", self.create, "bulk1 job create")
        r("GET", f"{A}/job/{{job}}", self.get, "bulk1 job get")
        r("POST", f"{A}/job/{{job}}", self.set_state, "bulk1 job state")
        r("POST", f"{A}/job/{{job}}/batch", self.add_batch, "bulk1 batch add")
        r("GET", f"{A}/job/{{job}}/batch", self.list_batches, "bulk1 batch list")
        r("GET", f"{A}/job/{{job}}/batch/{{batch}}", self.get_batch, "bulk1 batch get")
        r("GET", f"{A}/job/{{job}}/batch/{{batch}}/request", self.batch_request, "bulk1 batch request")
        r("GET", f"{A}/job/{{job}}/batch/{{batch}}/result", self.batch_result, "bulk1 batch result")
        r("GET", f"{A}/job/{{job}}/batch/{{batch}}/result/{{result}}", self.query_result, "bulk1 query result")

    def batch_count(self) -> int:
        return sum(len(j.batches) for j in self.jobs.values())

    def _id(self, prefix: str) -> str:
        with self._lock:
            self._numbers[prefix] += 1
            return make_id(prefix, self._numbers[prefix])

    def _json(self, request: Request) -> Any:
        try:
            return request.json()
        except ValueError:
            raise SfError("InvalidBatch", "Failed to parse JSON") from None

    def _job(self, request: Request) -> Bulk1Job:
        job = self.jobs.get(request.params["job"])
        if job is None:
            raise SfError("InvalidJob", f"Unable to find job {request.params['job']}")
        return job

    def _batch(self, request: Request) -> tuple[Bulk1Job, Batch]:
        job = self._job(request)
        batch = job.batches.get(request.params["batch"])
        if batch is None:
            raise SfError("InvalidBatch", f"Unable to find batch {request.params['batch']}")
        return job, batch

    def create(self, request: Request) -> Response:
        payload = self._json(request)
        if not isinstance(payload, dict) or payload.get("operation") not in OPERATIONS:
            raise SfError("InvalidJob", f"Invalid operation: {(payload or {}).get('operation')}")
        if (payload.get("contentType") or "JSON") != "JSON":
            raise SfError("InvalidJob", "Only the JSON content type is emulated")
        obj = self.store.schema.get(payload.get("object") or "")
        if obj is None:
            raise SfError("InvalidEntity", f"Entity '{payload.get('object')}' is not supported by the Bulk API.")
        external = payload.get("externalIdFieldName") if payload["operation"] == "upsert" else None
        if payload["operation"] == "upsert" and obj.field(external or "") is None:
            raise SfError("InvalidJob", f"External ID was blank or invalid for {obj.name}: {external}")
        mode = payload.get("concurrencyMode", "Parallel")
        job = Bulk1Job(self._id("750"), payload["operation"], obj.name, mode in (1, "1", "Serial"), external,
                       float(request.params["version"]), self.store.now())
        self.jobs[job.id] = job
        return Response.json(job.info(self.store.user_id), 201)

    def get(self, request: Request) -> Response:
        return Response.json(self._job(request).info(self.store.user_id))

    def set_state(self, request: Request) -> Response:
        job = self._job(request)
        state = (self._json(request) or {}).get("state")
        if state not in ("Closed", "Aborted"):
            raise SfError("InvalidJobState", f"Invalid state: {state}")
        if job.state != "Open":
            raise SfError("InvalidJobState", f"Job is {job.state}")
        job.state = state
        return Response.json(job.info(self.store.user_id))

    def add_batch(self, request: Request) -> Response:
        job = self._job(request)
        if job.state != "Open":
            raise SfError("InvalidJobState", f"Job is {job.state}; batches can only be added to an Open job")
        batch = Batch(self._id("751"), job.id, self.store.now(), None)
        started = time.monotonic()
        if job.operation in ("query", "queryAll"):
            batch.request = request.body.decode("utf-8")
            self._run_query(job, batch)
        else:
            records = self._json(request)
            if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
                raise SfError("InvalidBatch", "The batch must be a JSON array of records")
            if len(records) > MAX_BATCH_RECORDS:
                raise SfError("InvalidBatch", f"Records in a batch exceeds the {MAX_BATCH_RECORDS} limit")
            batch.request = records
            batch.results = [self._apply(job, record) for record in records]
            batch.processed = len(records)
            batch.failed = sum(not r["success"] for r in batch.results)
        batch.seconds = time.monotonic() - started
        job.batches[batch.id] = batch
        return Response.json(batch.info("Queued"), 201)

    def _run_query(self, job: Bulk1Job, batch: Batch) -> None:
        from . import soql

        try:
            result = soql.execute(soql.parse(batch.request), self.store,
                                  include_deleted=job.operation == "queryAll", now=self.store.now())
        except soql.SoqlError as exc:
            batch.state, batch.message = "Failed", f"{exc.error_code} : {exc.message}"
            return
        version = f"v{job.api_version:.1f}"
        batch.results = [soql.json_record(result, row, self.store,
                                          lambda t, i: f"/services/data/{version}/sobjects/{t}/{i}")
                         for row in result.rows]
        batch.processed = len(batch.results)

    def _apply(self, job: Bulk1Job, record: dict[str, Any]) -> dict[str, Any]:
        values = {k: v for k, v in record.items() if k.lower() != "id"}
        record_id = next((v for k, v in record.items() if k.lower() == "id"), None)
        try:
            if job.operation == "insert":
                return {"success": True, "created": True, "id": self.store.create(job.object, record)["Id"],
                        "errors": []}
            if job.operation == "upsert":
                ext = job.external_id_field
                value = next((v for k, v in record.items() if k.lower() == ext.lower()), None)
                row, created = self.store.upsert(job.object, ext, value, values)
                return {"success": True, "created": created, "id": row["Id"], "errors": []}
            if not record_id:
                raise SfError("MISSING_ARGUMENT", "Id not specified in an update call", ["Id"])
            if job.operation == "update":
                self.store.update(job.object, record_id, values)
            else:
                self.store.delete(job.object, record_id, hard=job.operation == "hardDelete")
            return {"success": True, "created": False, "id": record_id, "errors": []}
        except SfError as exc:
            return {"success": False, "created": False, "id": record_id, "errors": [exc.save_error()]}

    def list_batches(self, request: Request) -> Response:
        return Response.json({"batchInfo": [b.info() for b in self._job(request).batches.values()]})

    def get_batch(self, request: Request) -> Response:
        return Response.json(self._batch(request)[1].info())

    def batch_request(self, request: Request) -> Response:
        batch = self._batch(request)[1]
        if isinstance(batch.request, str):
            return Response.text(batch.request)
        return Response.json(batch.request)

    def batch_result(self, request: Request) -> Response:
        job, batch = self._batch(request)
        if job.operation in ("query", "queryAll"):
            return Response.json([batch.id.replace("751", "752", 1)])
        return Response.json(batch.results)

    def query_result(self, request: Request) -> Response:
        _, batch = self._batch(request)
        if request.params["result"] != batch.id.replace("751", "752", 1):
            raise SfError("InvalidBatch", f"Unable to find result {request.params['result']}")
        return Response.json(batch.results)
