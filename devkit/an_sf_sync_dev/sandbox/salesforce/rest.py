"""REST API under ``/services/data/vNN.N/``: query, sObject rows, describe, updated/deleted, limits, collections.

Decisions on items the reference marks UNCONFIRMED: ``SELECT COUNT()`` answers an empty
``records`` list; a 300 (ambiguous external id) body is the list of the matching records' URLs;
getUpdated/getDeleted round ``start`` and ``end`` down to the minute, cover ``[start, end)`` and
report the rounded ``end`` (capped at now) as ``latestDateCovered``; a collection of more than 200
records is refused with ``EXCEEDED_ID_LIMIT``; query cursors live until their last page is read
(at most 500 are kept, oldest dropped first).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from ..http import Request, Response
from .errors import SfError, not_found
from .ids import make_id, parse_datetime, sf_datetime, well_formed

if TYPE_CHECKING:
    from .server import SalesforceApp

D = "/services/data/{version}"
PAGE_SIZE = 2000
MAX_CURSORS = 500
MAX_COLLECTION = 200
UPDATED_WINDOW, DELETED_WINDOW = timedelta(days=30), timedelta(days=15)
MAX_REPLICATION_IDS = 600_000


def json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return sf_datetime(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def record_url(version: str, sobject: str, record_id: str) -> str:
    return f"/services/data/{version}/sobjects/{sobject}/{record_id}"


def api_version(request: Request) -> float:
    return float(request.params.get("version", "v59.0").lstrip("v"))


def body_json(request: Request, kind: type = dict) -> Any:
    try:
        payload = request.json()
    except ValueError as exc:
        raise SfError("JSON_PARSER_ERROR", f"Unexpected character: {exc}") from None
    if not isinstance(payload, kind):
        raise SfError("JSON_PARSER_ERROR", f"Cannot deserialize instance of {kind.__name__} from the request body")
    return payload


def allow_save(request: Request) -> bool:
    header = request.headers.get("sforce-duplicate-rule-header", "").replace(" ", "").lower()
    return "allowsave=true" in header


# limits every edition reports that the sandbox never uses up (from the documented example)
STATIC_LIMITS = (("DailyAsyncApexExecutions", 250_000), ("DailyStreamingApiEvents", 10_000),
                 ("DailyWorkflowEmails", 405), ("HourlyDashboardRefreshes", 200), ("HourlyTimeBasedWorkflow", 50),
                 ("MassEmail", 10), ("StreamingApiConcurrentClients", 20))


class Rest:
    def __init__(self, app: SalesforceApp) -> None:
        self.app, self.store = app, app.store
        self.cursors: OrderedDict[str, tuple[Any, str, str]] = OrderedDict()  # id -> (result, version, kind)
        self._cursor_lock = threading.Lock()
        self._cursor_number = 0
        r = app.route
        r("GET", "/services/data", self.versions)
        for kind in ("query", "queryAll"):
            r("GET", f"{D}/{kind}", lambda q, kind=kind: self.query(q, kind), kind)
            r("GET", f"{D}/{kind}/{{locator}}", lambda q, kind=kind: self.query_more(q, kind), f"{kind} more")
        r("GET", f"{D}/limits", self.limits, "limits")
        r("GET", f"{D}/sobjects", self.describe_global, "describe global")
        r("GET", f"{D}/sobjects/{{sobject}}", self.metadata, "sobject metadata")
        r("POST", f"{D}/sobjects/{{sobject}}", self.create, "sobject create")
        r("GET", f"{D}/sobjects/{{sobject}}/describe", self.describe, "describe")
        r("GET", f"{D}/sobjects/{{sobject}}/updated", self.updated, "updated")
        r("GET", f"{D}/sobjects/{{sobject}}/deleted", self.deleted, "deleted")
        r("GET", f"{D}/sobjects/{{sobject}}/{{id}}", self.get, "sobject get")
        r("POST", f"{D}/sobjects/{{sobject}}/{{id}}", self.create_by_id_field, "sobject create")
        r("PATCH", f"{D}/sobjects/{{sobject}}/{{id}}", self.update, "sobject update")
        r("DELETE", f"{D}/sobjects/{{sobject}}/{{id}}", self.delete, "sobject delete")
        r("GET", f"{D}/sobjects/{{sobject}}/{{field}}/{{value}}", self.get_by_external_id, "sobject get by ext id")
        r("PATCH", f"{D}/sobjects/{{sobject}}/{{field}}/{{value}}", self.upsert, "sobject upsert")
        r("DELETE", f"{D}/sobjects/{{sobject}}/{{field}}/{{value}}", self.delete_by_external_id,
          "sobject delete by ext id")
        r("POST", f"{D}/composite/sobjects", self.collection_create, "collections create")
        r("PATCH", f"{D}/composite/sobjects", self.collection_update, "collections update")
        r("DELETE", f"{D}/composite/sobjects", self.collection_delete, "collections delete")
        r("GET", f"{D}/composite/sobjects/{{sobject}}", self.collection_retrieve, "collections retrieve")
        r("PATCH", f"{D}/composite/sobjects/{{sobject}}/{{field}}", self.collection_upsert, "collections upsert")

    # ---------------------------------------------------------------------------------- query
    def versions(self, request: Request) -> Response:
        return Response.json([{"label": f"v{v}.0", "url": f"/services/data/v{v}.0", "version": f"{v}.0"}
                              for v in range(45, 63)])

    def query(self, request: Request, kind: str) -> Response:
        from . import soql

        text = request.arg("q")
        if not text:
            raise SfError("MALFORMED_QUERY", "unexpected token: <EOF>")
        try:
            result = soql.execute(soql.parse(text), self.store, include_deleted=kind == "queryAll",
                                  now=self.store.now())
        except soql.SoqlError as exc:
            raise SfError(exc.error_code, exc.message, about_record=False) from None
        if result.count is not None:
            return Response.json({"totalSize": result.total_size, "done": True, "records": []})
        with self._cursor_lock:
            self._cursor_number += 1
            cursor = make_id("01g", self._cursor_number)
            self.cursors[cursor] = (result, request.params["version"], kind)
            while len(self.cursors) > MAX_CURSORS:
                self.cursors.popitem(last=False)
        return self._page(cursor, 0, self._page_size(request))

    def query_more(self, request: Request, kind: str) -> Response:
        cursor, _, offset = request.params["locator"].rpartition("-")
        if cursor not in self.cursors or not offset.isdigit():
            raise SfError("INVALID_QUERY_LOCATOR", "invalid query locator")
        return self._page(cursor, int(offset), self._page_size(request))

    @staticmethod
    def _page_size(request: Request) -> int:
        options = request.headers.get("sforce-query-options", "")
        for part in options.split(","):
            name, _, value = part.strip().partition("=")
            if name.strip().lower() == "batchsize" and value.strip().isdigit():
                return min(max(int(value), 200), PAGE_SIZE)
        return PAGE_SIZE

    def _page(self, cursor: str, offset: int, size: int) -> Response:
        from . import soql

        result, version, kind = self.cursors[cursor]
        rows = result.rows[offset:offset + size]
        body: dict[str, Any] = {"totalSize": result.total_size, "done": offset + size >= len(result.rows)}
        if body["done"]:
            with self._cursor_lock:
                self.cursors.pop(cursor, None)
        else:
            body["nextRecordsUrl"] = f"/services/data/{version}/{kind}/{cursor}-{offset + size}"
        body["records"] = [soql.json_record(result, row, self.store,
                                            lambda t, i: record_url(version, t, i)) for row in rows]
        return Response.json(body)

    # ---------------------------------------------------------------------------- sObject rows
    def record_json(self, version: str, sobject: str, row: dict[str, Any], fields: list[str] | None = None
                    ) -> dict[str, Any]:
        obj = self.store.object(sobject)
        names = [f.name for f in obj.fields.values()] if fields is None else fields
        return {"attributes": {"type": obj.name, "url": record_url(version, obj.name, row["Id"])},
                **{name: json_value(row.get(name)) for name in names}}

    def _fields_param(self, sobject: str, request: Request) -> list[str] | None:
        param = request.arg("fields")
        if not param:
            return None
        obj = self.store.object(sobject)
        names = []
        for name in (p.strip() for p in param.split(",") if p.strip()):
            fd = obj.field(name)
            if fd is None:
                raise SfError("INVALID_FIELD", f"No such column '{name}' on entity '{obj.name}'. If you are "
                              "attempting to use a custom field, be sure to append the '__c' after the custom "
                              "field name. Please reference your WSDL or the describe call for the appropriate "
                              "names.")
            names.append(fd.name)
        return names

    def get(self, request: Request) -> Response:
        sobject, version = request.params["sobject"], request.params["version"]
        _, row = self.store.live(self.store.object(sobject), request.params["id"])
        return Response.json(self.record_json(version, sobject, row, self._fields_param(sobject, request)))

    def create(self, request: Request) -> Response:
        row = self.store.create(request.params["sobject"], body_json(request), allow_save=allow_save(request))
        return Response.json({"id": row["Id"], "success": True, "errors": []}, 201)

    def create_by_id_field(self, request: Request) -> Response:
        if request.params["id"].lower() != "id":
            return self.app.method_not_allowed(request)
        return self.create(request)

    def update(self, request: Request) -> Response:
        self.store.update(request.params["sobject"], request.params["id"], body_json(request),
                          allow_save=allow_save(request))
        return Response(204)

    def delete(self, request: Request) -> Response:
        self.store.delete(request.params["sobject"], request.params["id"])
        return Response(204)

    def _single_by_external_id(self, request: Request) -> dict[str, Any]:
        obj = self.store.object(request.params["sobject"])
        fd = obj.field(request.params["field"])
        if fd is None or not (fd.external_id or fd.id_lookup):
            raise SfError("NOT_FOUND", "Provided external ID field does not exist or is not accessible: "
                          f"{request.params['field']}", status=404)
        keys = self.store.lookup(obj, fd, self.store._coerce(fd, request.params["value"]))
        rows = [self.store.tables[obj.name.lower()][k] for k in keys]
        if len(rows) > 1:
            raise SfError("MULTIPLE_CHOICES", "", status=300, extra={"matches": [r["Id"] for r in rows]})
        if not rows:
            raise not_found()
        return rows[0]

    def get_by_external_id(self, request: Request) -> Response:
        try:
            row = self._single_by_external_id(request)
        except SfError as exc:
            return self._multiple_choices(request, exc)
        sobject = request.params["sobject"]
        return Response.json(self.record_json(request.params["version"], sobject, row,
                                              self._fields_param(sobject, request)))

    def delete_by_external_id(self, request: Request) -> Response:
        try:
            row = self._single_by_external_id(request)
        except SfError as exc:
            return self._multiple_choices(request, exc)
        self.store.delete(request.params["sobject"], row["Id"])
        return Response(204)

    def upsert(self, request: Request) -> Response:
        p = request.params
        try:
            row, created = self.store.upsert(p["sobject"], p["field"], p["value"], body_json(request),
                                             allow_save=allow_save(request))
        except SfError as exc:
            return self._multiple_choices(request, exc)
        if created:
            return Response.json({"id": row["Id"], "success": True, "errors": [], "created": True}, 201)
        if api_version(request) < 46:
            return Response(204)
        return Response.json({"id": row["Id"], "success": True, "errors": [], "created": False}, 200)

    def _multiple_choices(self, request: Request, exc: SfError) -> Response:
        if exc.status != 300:
            raise exc
        obj = self.store.object(request.params["sobject"])
        return Response.json([record_url(request.params["version"], obj.name, i) for i in exc.extra["matches"]],
                             300)

    # ------------------------------------------------------------------------------ describe
    def _object_summary(self, version: str, obj: Any) -> dict[str, Any]:
        base = f"/services/data/{version}/sobjects/{obj.name}"
        return {
            "name": obj.name, "label": obj.name if obj.name != "CampaignMember" else "Campaign Member",
            "labelPlural": obj.label_plural, "keyPrefix": obj.key_prefix, "custom": False,
            "createable": True, "updateable": True, "deletable": True, "queryable": True,
            "retrieveable": True, "searchable": True, "replicateable": True, "layoutable": True,
            "urls": {"sobject": base, "describe": f"{base}/describe", "rowTemplate": f"{base}/{{ID}}"},
        }

    def describe_global(self, request: Request) -> Response:
        version = request.params["version"]
        return Response.json({"encoding": "UTF-8", "maxBatchSize": 200,
                              "sobjects": [self._object_summary(version, o) for o in self.store.schema.objects.values()]})

    def metadata(self, request: Request) -> Response:
        obj = self.store.object(request.params["sobject"])
        return Response.json({"objectDescribe": self._object_summary(request.params["version"], obj),
                              "recentItems": []})

    def describe(self, request: Request) -> Response:
        obj = self.store.object(request.params["sobject"])
        return Response.json({**self._object_summary(request.params["version"], obj),
                              "fields": [f.describe() for f in obj.fields.values()],
                              "childRelationships": [], "recordTypeInfos": [],
                              "undeletable": True, "mergeable": obj.name in ("Account", "Contact", "Lead")})

    # ------------------------------------------------------------------------ updated / deleted
    def _window(self, request: Request, days: timedelta) -> tuple[datetime, datetime]:
        try:
            start = parse_datetime(request.arg("start") or "")
            end = parse_datetime(request.arg("end") or "")
        except ValueError:
            raise SfError("INVALID_REPLICATION_DATE", "start and end must be ISO 8601 date-times") from None
        now = self.store.now().replace(second=0, microsecond=0)
        start, end = start.replace(second=0, microsecond=0), min(end.replace(second=0, microsecond=0), now)
        if start < now - days:
            raise SfError("INVALID_REPLICATION_DATE", f"startDate cannot be more than {days.days} days ago")
        if end < start:
            raise SfError("INVALID_REPLICATION_DATE", "endDate must chronologically follow startDate")
        return start, end

    def updated(self, request: Request) -> Response:
        obj = self.store.object(request.params["sobject"])
        start, end = self._window(request, UPDATED_WINDOW)
        ids = [r["Id"] for r in self.store.rows(obj.name) if start <= r["SystemModstamp"] < end]
        if len(ids) > MAX_REPLICATION_IDS:
            raise SfError("EXCEEDED_ID_LIMIT", "too many ids; narrow the date range")
        return Response.json({"ids": ids, "latestDateCovered": sf_datetime(end)})

    def deleted(self, request: Request) -> Response:
        obj = self.store.object(request.params["sobject"])
        start, end = self._window(request, DELETED_WINDOW)
        log = [(i, d) for name, i, d in self.store.deleted_log if name == obj.name]
        records = [{"id": i, "deletedDate": sf_datetime(d)} for i, d in log if start <= d < end]
        if len(records) > MAX_REPLICATION_IDS:
            raise SfError("EXCEEDED_ID_LIMIT", "too many ids; narrow the date range")
        earliest = min((d for _, d in log), default=start).replace(second=0, microsecond=0)
        return Response.json({"deletedRecords": records, "earliestDateAvailable": sf_datetime(earliest),
                              "latestDateCovered": sf_datetime(end)})

    # -------------------------------------------------------------------------------- limits
    def limits(self, request: Request) -> Response:
        app = self.app
        query_jobs = len([j for j in app.bulk2.jobs.values() if j.is_query])

        def limit(maximum: int, used: int = 0) -> dict[str, int]:
            return {"Max": maximum, "Remaining": max(maximum - used, 0)}

        return Response.json({
            "DailyApiRequests": limit(app.daily_api_limit, app.api_calls),
            "DailyBulkApiBatches": limit(15_000, len(app.bulk2.jobs) + app.bulk1.batch_count()),
            "DailyBulkV2QueryJobs": limit(10_000, query_jobs),
            "DailyBulkV2QueryFileStorageMB": limit(976_562),
            "DataStorageMB": limit(1_024, sum(self.store.counts().values()) * 2 // 1024),
            "FileStorageMB": limit(1_024),
            "ConcurrentAsyncGetReportInstances": limit(200),
            "SingleEmail": limit(5_000),
            **{name: limit(maximum) for name, maximum in STATIC_LIMITS},
        })

    # ---------------------------------------------------------------------------- collections
    def _records(self, request: Request) -> tuple[list[dict[str, Any]], bool]:
        payload = body_json(request)
        records = payload.get("records")
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            raise SfError("JSON_PARSER_ERROR", "records must be a list of objects")
        if len(records) > MAX_COLLECTION:
            raise SfError("EXCEEDED_ID_LIMIT", "record limit reached. cannot submit more than 200 records into "
                          "this call")
        return records, bool(payload.get("allOrNone", False))

    def _collection(self, items: list[Any], all_or_none: bool, apply: Any) -> Response:
        """Apply each item, collecting SaveResults; all-or-none rolls every write back on any error."""
        results: list[dict[str, Any]] = []
        with self.store.savepoint() as point:
            for item in items:
                try:
                    saved = apply(item)
                    results.append({"id": saved.pop("id"), "success": True, "errors": [], **saved})
                except SfError as exc:
                    results.append({"success": False, "errors": [exc.save_error()]})
            if all_or_none and not all(r["success"] for r in results):
                point.rollback()
                rolled = {"statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK", "fields": [],
                          "message": "Record rolled back because not all records were valid and the request "
                                     "was using AllOrNone header"}
                results = [{"success": False, "errors": [rolled]} if r["success"] else r for r in results]
        return Response.json(results)

    @staticmethod
    def _type(record: dict[str, Any]) -> str:
        sobject = (record.get("attributes") or {}).get("type")
        if not sobject:
            raise SfError("INVALID_TYPE", "Must specify a type in attributes")
        return sobject

    def collection_create(self, request: Request) -> Response:
        records, all_or_none = self._records(request)
        save = allow_save(request)

        def apply(record: dict[str, Any]) -> dict[str, Any]:
            return {"id": self.store.create(self._type(record), record, allow_save=save)["Id"]}
        return self._collection(records, all_or_none, apply)

    def collection_update(self, request: Request) -> Response:
        records, all_or_none = self._records(request)
        save = allow_save(request)

        def apply(record: dict[str, Any]) -> dict[str, Any]:
            record_id = record.get("id") or record.get("Id")
            if not record_id:
                raise SfError("MISSING_ARGUMENT", "Id not specified in an update call", ["Id"])
            body = {k: v for k, v in record.items() if k.lower() != "id"}
            return {"id": self.store.update(self._type(record), record_id, body, allow_save=save)["Id"]}
        return self._collection(records, all_or_none, apply)

    def collection_delete(self, request: Request) -> Response:
        ids = [i for i in (request.arg("ids") or "").split(",") if i]
        if len(ids) > MAX_COLLECTION:
            raise SfError("EXCEEDED_ID_LIMIT", "record limit reached. cannot submit more than 200 records into "
                          "this call")
        all_or_none = (request.arg("allOrNone") or "false").lower() == "true"

        def apply(record_id: str) -> dict[str, Any]:
            obj = self.store.schema.for_id(record_id)
            if obj is None or not well_formed(record_id):
                raise SfError("MALFORMED_ID", f"malformed id {record_id}")
            self.store.delete(obj.name, record_id)
            return {"id": record_id}
        return self._collection(ids, all_or_none, apply)

    def collection_retrieve(self, request: Request) -> Response:
        sobject, version = request.params["sobject"], request.params["version"]
        obj = self.store.object(sobject)
        fields = self._fields_param(sobject, request)
        out = []
        for record_id in (i for i in (request.arg("ids") or "").split(",") if i):
            try:
                _, row = self.store.live(obj, record_id)
                out.append(self.record_json(version, sobject, row, fields))
            except SfError:
                out.append(None)
        return Response.json(out)

    def collection_upsert(self, request: Request) -> Response:
        records, all_or_none = self._records(request)
        sobject, field = request.params["sobject"], request.params["field"]
        save = allow_save(request)

        def apply(record: dict[str, Any]) -> dict[str, Any]:
            value = next((v for k, v in record.items() if k.lower() == field.lower()), None)
            if self._type(record).lower() != sobject.lower():
                raise SfError("INVALID_TYPE", f"Record type {self._type(record)} does not match {sobject}")
            if value in (None, "") and field.lower() != "id":
                raise SfError("REQUIRED_FIELD_MISSING", f"Required fields are missing: [{field}]", [field])
            row, created = self.store.upsert(sobject, field, value, record, allow_save=save)
            return {"id": row["Id"], "created": created}
        return self._collection(records, all_or_none, apply)
