"""The org's records: Ids, system fields, validation as the real service does it, recycle bin, delete log.

Rows are plain dicts keyed by canonical field name with Python-typed values (see the SOQL
module's contract) and are *replaced*, never mutated, on every write, so a query cursor's page is a
snapshot of the rows it matched. Rows are sparse: a field that is null is simply absent.
Every write goes through :meth:`Store.create` / :meth:`update` / :meth:`upsert` / :meth:`delete`
(REST, collections, both Bulk APIs), so all of them validate alike. :meth:`Store.load` is the
trusted fast path for seeding.

Decisions on items the reference marks UNCONFIRMED: a value of the wrong JSON/CSV type is
``INVALID_TYPE_ON_FIELD_IN_RECORD``; every bad lookup Id (malformed, wrong object, missing,
deleted) is ``INVALID_CROSS_REFERENCE_KEY``; picklists are unrestricted; a Contact/CampaignMember
/OpportunityContactRole goes to the recycle bin with a deleted parent it references.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any

from .errors import SfError, not_found
from .ids import id_number, key15, make_id, parse_datetime, to18
from .schema import FieldDef, ObjectDef, Schema

_STRINGS = {"string", "textarea", "email", "phone", "url", "picklist"}
_EMAIL = re.compile(
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$")
_CLOSED_WON, _CLOSED_LOST = "closed won", "closed lost"
_SYSTEM_DATES = ("CreatedDate", "LastModifiedDate", "SystemModstamp")


def _multi_add(index: dict[str, Any], key: str, value: str) -> None:
    """Index values are one key (the common case, cheap) or a set of keys."""
    current = index.get(key)
    if current is None:
        index[key] = value
    elif isinstance(current, str):
        if current != value:
            index[key] = {current, value}
    else:
        current.add(value)


def _multi_remove(index: dict[str, Any], key: str, value: str) -> None:
    current = index.get(key)
    if current == value:
        del index[key]
    elif isinstance(current, set):
        current.discard(value)
        if len(current) == 1:
            index[key] = current.pop()


def _multi_get(index: dict[str, Any], key: str) -> list[str]:
    current = index.get(key)
    return [] if current is None else [current] if isinstance(current, str) else sorted(current)


# A new org's default time zone, unless its admin picked another (Setup > Company Information).
ORG_TIME_ZONE = "America/Los_Angeles"

class Savepoint:
    def __init__(self, store: Store, log_length: int) -> None:
        self.store, self.log_length, self.undo = store, log_length, []  # (object, key, old row)

    def rollback(self) -> None:
        for obj, key, old in reversed(self.undo):
            self.store._put(obj, key, old, record=False)
        del self.store.deleted_log[self.log_length:]
        self.undo.clear()


class Store:
    """Records of every emulated object, with the indexes uniqueness and upserts need."""

    def __init__(self, schema: Schema, clock: Callable[[], datetime] | None = None) -> None:
        self.schema = schema
        self.clock = clock or (lambda: datetime.now(UTC))
        self.lock = threading.RLock()
        self.duplicate_rule = False  # the Contact email duplicate rule (DUPLICATES_DETECTED); off by default
        self.user_id = make_id("005", 1)
        self._soql_fields: dict[int, tuple[ObjectDef, dict[str, Any]]] = {}
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.tables: dict[str, dict[str, dict[str, Any]]] = {n: {} for n in self.schema.objects}
            self.index: dict[tuple[str, str], dict[str, Any]] = {}  # (object, field) -> lower value -> keys
            self.members: dict[tuple[str, str], str] = {}  # (campaign key, contact/lead key) -> member key
            self.children: dict[str, Any] = {}  # parent key -> keys of rows deleted along with it
            self.deleted_log: list[tuple[str, str, datetime]] = []  # (object, Id, deletedDate)
            self.cascaded: dict[str, list[str]] = {}  # deleted key -> keys of the rows its delete took along
            self.counters: dict[str, int] = {}
            self._savepoint: Savepoint | None = None
            self.set_org_time_zone(ORG_TIME_ZONE)

    def set_org_time_zone(self, time_zone: str) -> None:
        """The org's one Organization row, with its default time zone (a tz database name)."""
        with self.lock:
            obj = self.object("Organization")
            table = self.tables[obj.name.lower()]
            key, record_id = next(((k, r["Id"]) for k, r in table.items()), None) or self._new_id(obj)
            now = self.now()
            row = {"Id": record_id, "IsDeleted": False, "CreatedDate": now, "LastModifiedDate": now,
                   "SystemModstamp": now, "CreatedById": self.user_id, "LastModifiedById": self.user_id,
                   "Name": "Sandbox Org", "TimeZoneSidKey": time_zone, "DefaultLocaleSidKey": "en_US",
                   "IsSandbox": True, "OrganizationType": "Developer Edition"}
            self._put(obj, key, row)

    # ----------------------------------------------------------------- schema and Source protocol
    def object(self, sobject: str) -> ObjectDef:
        obj = self.schema.get(sobject)
        if obj is None:
            raise SfError("NOT_FOUND", "The requested resource does not exist", status=404)
        return obj

    def set_custom_fields(self, specs: dict[str, dict[str, Any]]) -> None:
        with self.lock:
            self.schema.set_custom_fields(specs)
            self.index.clear()
            for name, table in self.tables.items():
                obj = self.schema.objects[name]
                for key, row in table.items():
                    self._index_row(obj, key, row, _multi_add)

    def canonical_name(self, sobject: str) -> str | None:
        obj = self.schema.get(sobject)
        return obj.name if obj else None

    def fields(self, sobject: str) -> dict[str, Any] | None:
        obj = self.schema.get(sobject)
        if obj is None:
            return None
        cached = self._soql_fields.get(id(obj))
        if cached is None or cached[0] is not obj:
            from . import soql  # the query engine is only needed once something is queried

            cached = (obj, {name.lower(): soql.Field(f.name, f.type, f.reference_to, f.relationship_name,
                                                     f.filterable)
                            for name, f in obj.fields.items()})
            self._soql_fields[id(obj)] = cached
        return cached[1]

    def rows(self, sobject: str, include_deleted: bool = False) -> list[dict[str, Any]]:
        with self.lock:
            table = self.tables[sobject.lower()]
            if include_deleted:
                return list(table.values())
            return [row for row in table.values() if not row["IsDeleted"]]

    def get(self, sobject: str, record_id: str) -> dict[str, Any] | None:
        key = key15(record_id) if isinstance(record_id, str) else None
        table = self.tables.get(sobject.lower())
        return table.get(key) if key and table is not None else None

    def counts(self) -> dict[str, int]:
        with self.lock:
            return {self.schema.objects[n].name: sum(1 for r in t.values() if not r["IsDeleted"])
                    for n, t in self.tables.items()}

    # ----------------------------------------------------------------------------------- writes
    def now(self) -> datetime:
        value = self.clock()
        return value.replace(microsecond=value.microsecond // 1000 * 1000)

    def create(self, sobject: str, values: Mapping[str, Any], *, allow_save: bool = False) -> dict[str, Any]:
        with self.lock:
            obj = self.object(sobject)
            if any(k.lower() == "id" for k in values):
                raise SfError("INVALID_FIELD_FOR_INSERT_UPDATE", "cannot specify Id in an insert call", ["Id"])
            row = {f.name: f.default for f in obj.fields.values() if f.default is not None}
            row.update(self._prepare(obj, values, creating=True))
            key, record_id = self._new_id(obj)
            now = self.now()
            row.update(Id=record_id, IsDeleted=False, CreatedDate=now, LastModifiedDate=now,
                       SystemModstamp=now, CreatedById=self.user_id, LastModifiedById=self.user_id)
            return self._save(obj, key, row, allow_save)

    def update(self, sobject: str, record_id: str, values: Mapping[str, Any], *,
               allow_save: bool = False) -> dict[str, Any]:
        with self.lock:
            obj = self.object(sobject)
            key, old = self.live(obj, record_id)
            changes = self._prepare(obj, {k: v for k, v in values.items() if k.lower() != "id"}, creating=False)
            now = self.now()
            row = {**old, **changes, "LastModifiedDate": now, "SystemModstamp": now,
                   "LastModifiedById": self.user_id}
            return self._save(obj, key, row, allow_save)

    def upsert(self, sobject: str, field: str, value: Any, values: Mapping[str, Any], *,
               allow_save: bool = False) -> tuple[dict[str, Any], bool]:
        """Create or update by an external-id / idLookup field; ``(row, created)``.

        More than one match raises status 300 with the matching Ids in ``extra["matches"]``.
        """
        with self.lock:
            obj = self.object(sobject)
            fd = obj.field(field)
            if fd is None or not (fd.external_id or fd.id_lookup):
                raise SfError("NOT_FOUND", f"Provided external ID field does not exist or is not accessible: "
                              f"{field}", status=404)
            body = {k: v for k, v in values.items() if k.lower() != fd.name.lower()}
            if fd.name == "Id":
                if value in (None, ""):
                    return self.create(sobject, body, allow_save=allow_save), True
                return self.update(sobject, value, body, allow_save=allow_save), False
            typed = self._coerce(fd, value)
            matches = self.lookup(obj, fd, typed)
            if len(matches) > 1:
                raise SfError("MULTIPLE_CHOICES", f"More than one record found for {fd.name}: {value}",
                              status=300, extra={"matches": [self.tables[obj.name.lower()][k]["Id"]
                                                             for k in matches]})
            if matches:
                return self.update(sobject, matches[0], body, allow_save=allow_save), False
            return self.create(sobject, {**body, fd.name: typed}, allow_save=allow_save), True

    def delete(self, sobject: str, record_id: str, *, hard: bool = False) -> None:
        with self.lock:
            obj = self.object(sobject)
            key, row = self.live(obj, record_id)
            self._remove(obj, key, row, self.now(), hard)

    def merge(self, sobject: str, master_id: str, merged_ids: list[str],
              values: Mapping[str, Any] | None = None) -> list[str]:
        """Merge up to two records into ``master_id``, as the UI and the SOAP API's ``merge()`` do: the
        master takes ``values`` (the field values an admin picked), the records pointing at a merged
        one point at the master instead, and the merged ones go to the recycle bin with
        ``MasterRecordId`` set. Returns the Ids of the related records moved.

        Decisions on what the reference does not settle: a moved record counts as modified (its
        SystemModstamp moves, so an incremental reader sees it); a CampaignMember of a campaign the
        master is in already is deleted instead of moved (a campaign holds a person once).
        """
        with self.lock, self.savepoint() as point:
            try:
                return self._merge(self.object(sobject), master_id, merged_ids, values or {})
            except SfError:
                point.rollback()
                raise

    def _merge(self, obj: ObjectDef, master_id: str, merged_ids: list[str], values: Mapping[str, Any]) -> list[str]:
        if obj.field("MasterRecordId") is None:
            raise SfError("INVALID_TYPE", f"Cannot merge records of type {obj.name}: only Accounts, Contacts and "
                          "Leads can be merged")
        if not 1 <= len(merged_ids) <= 2:
            raise SfError("INVALID_ARGUMENT_TYPE", "A merge takes one or two records to merge into the master record")
        master_key, _ = self.live(obj, master_id)
        merged = [self.live(obj, record_id) for record_id in merged_ids]
        if any(key == master_key for key, _ in merged) or len({key for key, _ in merged}) < len(merged):
            raise SfError("INVALID_ID_FIELD", "The master record cannot be merged into itself, nor a record twice")
        self.update(obj.name, master_id, values, allow_save=True)  # a merge runs no duplicate rule
        master = self.tables[obj.name.lower()][master_key]
        now, moved = self.now(), []
        for key, row in merged:
            for child_obj, child_key, child, fd in self._pointing_at(obj, key):
                if child_obj.name == "CampaignMember" and (child["CampaignId"][:15], master_key) in self.members:
                    self._remove(child_obj, child_key, child, now, hard=False)
                    continue
                self._put(child_obj, child_key, {**child, fd.name: master["Id"], "LastModifiedDate": now,
                                                 "SystemModstamp": now})
                moved.append(child["Id"])
            self._remove(obj, key, {**row, "MasterRecordId": master["Id"]}, now, hard=False)
        return moved

    def undelete(self, record_id: str) -> None:
        """Restore a record from the recycle bin, as the SOAP API's ``undelete()`` does, with the rows
        its delete took along (a Contact's CampaignMembers). A record merged away keeps its
        ``MasterRecordId``; its related records stay with the master (a merge is not undone).

        Decision on what the reference does not settle: the restored records count as modified
        (LastModifiedDate and SystemModstamp move), so an incremental reader sees them come back.
        """
        with self.lock:
            key = key15(record_id) if isinstance(record_id, str) else None
            obj = self.schema.for_id(key) if key else None
            row = self.tables[obj.name.lower()].get(key) if obj and key else None
            if obj is None or row is None:
                raise SfError("INVALID_ID_FIELD", "invalid record id")
            if not row["IsDeleted"]:
                raise SfError("UNDELETE_FAILED", "Entity is not in the recycle bin")
            now = self.now()
            for restored_obj, restored_key in [(obj, key), *((self.schema.for_id(k), k) for k in self.cascaded.pop(key, ()))]:
                restored = self.tables[restored_obj.name.lower()].get(restored_key) if restored_obj else None
                if restored_obj is None or restored is None or not restored["IsDeleted"]:
                    continue
                self._put(restored_obj, restored_key, {**restored, "IsDeleted": False, "LastModifiedDate": now,
                                                       "SystemModstamp": now})
                self.deleted_log = [entry for entry in self.deleted_log if entry[1] != restored["Id"]]

    def _pointing_at(self, obj: ObjectDef, key: str) -> list[tuple[ObjectDef, str, dict[str, Any], FieldDef]]:
        """(object, key, row, field) of every live record whose lookup field holds the record ``key``."""
        found = []
        for other in self.schema.objects.values():
            fields = [f for f in other.fields.values() if obj.name in f.reference_to and f.name != "MasterRecordId"]
            for child_key, child in self.tables[other.name.lower()].items() if fields else ():
                for fd in fields:
                    if not child["IsDeleted"] and (child.get(fd.name) or "")[:15] == key:
                        found.append((other, child_key, child, fd))
        return found

    def lookup(self, obj: ObjectDef, fd: FieldDef, value: Any) -> list[str]:
        """Keys of live rows whose indexed field equals ``value`` (case-insensitive)."""
        if value is None:
            return []
        return _multi_get(self.index.get((obj.name, fd.name), {}), str(value).lower())

    def live(self, obj: ObjectDef, record_id: Any) -> tuple[str, dict[str, Any]]:
        key = key15(record_id) if isinstance(record_id, str) else None
        row = self.tables[obj.name.lower()].get(key) if key and key[:3] == obj.key_prefix else None
        if row is None:
            raise not_found()
        if row["IsDeleted"]:
            raise SfError("ENTITY_IS_DELETED", "entity is deleted", status=404)
        return key, row

    @contextmanager
    def savepoint(self) -> Iterator[Savepoint]:
        """Records every write made inside, so an all-or-none request can roll them back."""
        with self.lock:
            outer = self._savepoint
            self._savepoint = point = Savepoint(self, len(self.deleted_log))
            try:
                yield point
            finally:
                self._savepoint = outer
                if outer is not None:
                    outer.undo.extend(point.undo)

    def load(self, dataset: Mapping[str, Iterable[Mapping[str, Any]]]) -> dict[str, int]:
        """Trusted bulk seeding (no validation): rows carry canonical names and typed values.

        Missing Ids are assigned, system fields default to now; returns rows loaded per object.
        """
        loaded: dict[str, int] = {}
        with self.lock:
            now = self.now()
            for sobject, rows in dataset.items():
                obj = self.object(sobject)
                names = obj.fields.keys()
                table = self.tables[obj.name.lower()]
                defaults = {f.name: f.default for f in obj.fields.values() if f.default is not None}
                system = {"IsDeleted": False, "CreatedDate": now, "LastModifiedDate": now,
                          "SystemModstamp": now, "CreatedById": self.user_id, "LastModifiedById": self.user_id}
                count = 0
                for values in rows:
                    if not values.keys() <= names:
                        raise ValueError(f"unknown {obj.name} fields {sorted(set(values) - set(names))}")
                    row = {**defaults, **system}
                    row.update((k, v) for k, v in values.items() if v is not None)
                    if "Id" in row:
                        key = row["Id"][:15]
                        if key in table:
                            raise ValueError(f"{obj.name} {row['Id']} already exists; pass generate(id_base=...)")
                        self.counters[obj.key_prefix] = max(self.counters.get(obj.key_prefix, 0),
                                                            id_number(key))
                    else:
                        key, row["Id"] = self._new_id(obj)
                    self._derive(obj, row)
                    self._put(obj, key, row)
                    count += 1
                loaded[obj.name] = loaded.get(obj.name, 0) + count
        return loaded

    # ---------------------------------------------------------------------------------- internals
    def _new_id(self, obj: ObjectDef) -> tuple[str, str]:
        number = self.counters.get(obj.key_prefix, 0) + 1
        self.counters[obj.key_prefix] = number
        record_id = make_id(obj.key_prefix, number)
        return record_id[:15], record_id

    def _prepare(self, obj: ObjectDef, values: Mapping[str, Any], *, creating: bool) -> dict[str, Any]:
        """Client values -> typed values by canonical name, refusing unknown and read-only fields."""
        out: dict[str, Any] = {}
        for name, raw in values.items():
            if name == "attributes":
                continue
            fd = obj.field(name)
            if fd is None and isinstance(raw, dict):
                fd, raw = self._by_relationship(obj, name, raw)
            if fd is None:
                raise SfError("INVALID_FIELD", f"No such column '{name}' on sobject of type {obj.name}")
            if not (fd.createable if creating else fd.updateable):
                raise SfError("INVALID_FIELD_FOR_INSERT_UPDATE",
                              f"Unable to create/update fields: {fd.name}. Please check the security settings "
                              "of this field and verify that it is read/write for your profile or permission "
                              "set.", [fd.name])
            out[fd.name] = self._coerce(fd, raw)
        return out

    def _by_relationship(self, obj: ObjectDef, name: str, ref: dict[str, Any]) -> tuple[FieldDef | None, Any]:
        """``{"Account": {"Ext__c": "x"}}`` (and Bulk's ``Account.Ext__c``) -> (AccountId, parent Id)."""
        fd = next((f for f in obj.fields.values()
                   if f.relationship_name and f.relationship_name.lower() == name.lower()), None)
        if fd is None:
            return None, None
        parent = self.object(fd.reference_to[0])
        ref = {k: v for k, v in ref.items() if k != "attributes"}
        if len(ref) != 1:
            raise SfError("INVALID_FIELD", f"Invalid foreign key relationship name {name}", [fd.name])
        (ext_name, ext_value), = ref.items()
        ext = parent.field(ext_name)
        if ext is None or not (ext.external_id or ext.id_lookup):
            raise SfError("INVALID_FIELD", f"Foreign key external ID: {ext_name} not found for field "
                          f"{ext_name} in entity {parent.name}", [fd.name])
        if ext.name == "Id":
            return fd, ext_value
        matches = self.lookup(parent, ext, self._coerce(ext, ext_value))
        if len(matches) != 1:
            code = "INVALID_FIELD" if matches else "INVALID_CROSS_REFERENCE_KEY"
            raise SfError(code, f"{'More than 1' if matches else 'No'} record found for {parent.name} where "
                          f"{ext.name} = {ext_value}", [fd.name])
        return fd, self.tables[parent.name.lower()][matches[0]]["Id"]

    def _coerce(self, fd: FieldDef, raw: Any) -> Any:
        if raw is None:
            return None
        try:
            if fd.type in _STRINGS:
                if isinstance(raw, dict | list):
                    raise TypeError
                value = ("true" if raw else "false") if isinstance(raw, bool) else str(raw)
                if value == "":
                    return None
                if fd.length and len(value) > fd.length:
                    raise SfError("STRING_TOO_LONG", f"{fd.label}: data value too large: {value} "
                                  f"(max length={fd.length})", [fd.name])
                if fd.type == "email" and not _EMAIL.match(value):
                    raise SfError("INVALID_EMAIL_ADDRESS", f"{fd.label}: invalid email address: {value}",
                                  [fd.name])
                return value
            if fd.type in ("reference", "id"):
                return self._reference(fd, raw)
            if fd.type == "boolean":
                if isinstance(raw, bool):
                    return raw
                return {"true": True, "false": False, "1": True, "0": False}[str(raw).strip().lower()]
            if fd.type in ("double", "currency", "int"):
                if isinstance(raw, bool) or isinstance(raw, dict | list):
                    raise TypeError
                number = float(raw)
                return int(number) if fd.type == "int" else number
            if fd.type == "date":
                return raw if type(raw) is date else date.fromisoformat(str(raw)[:10])
            if fd.type == "datetime":
                value = raw if isinstance(raw, datetime) else parse_datetime(str(raw))
                value = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
                return value.replace(microsecond=value.microsecond // 1000 * 1000)
        except (TypeError, ValueError, KeyError):
            raise SfError("INVALID_TYPE_ON_FIELD_IN_RECORD", f"{fd.label}: value not of required type: {raw}",
                          [fd.name]) from None
        return raw

    def _reference(self, fd: FieldDef, raw: Any) -> str | None:
        if raw == "":
            return None
        key = key15(raw) if isinstance(raw, str) else None
        target = self.schema.for_id(key) if key else None
        row = self.tables[target.name.lower()].get(key) if target and target.name in fd.reference_to else None
        if row is None or row["IsDeleted"]:
            raise SfError("INVALID_CROSS_REFERENCE_KEY", f"{fd.label}: invalid cross reference id", [fd.name])
        return to18(key)

    def _derive(self, obj: ObjectDef, row: dict[str, Any]) -> None:
        """Read-only fields the platform computes from others."""
        if obj.name in ("Contact", "Lead"):
            row["Name"] = " ".join(p for p in (row.get("FirstName"), row.get("LastName")) if p) or None
        elif obj.name == "Opportunity":
            stage = (row.get("StageName") or "").lower()
            row["IsClosed"] = stage in (_CLOSED_WON, _CLOSED_LOST)
            row["IsWon"] = stage == _CLOSED_WON
        elif obj.name == "CampaignMember":
            if row.get("ContactId"):
                row.pop("LeadId", None)
            row["HasResponded"] = (row.get("Status") or "").lower() == "responded"

    def _save(self, obj: ObjectDef, key: str, row: dict[str, Any], allow_save: bool) -> dict[str, Any]:
        self._derive(obj, row)
        row = {k: v for k, v in row.items() if v is not None}
        self._validate(obj, key, row, allow_save)
        self._put(obj, key, row)
        return row

    def _validate(self, obj: ObjectDef, key: str, row: dict[str, Any], allow_save: bool) -> None:
        missing = [f.name for f in obj.fields.values() if f.required and row.get(f.name) is None]
        if obj.name == "CampaignMember" and not row.get("ContactId") and not row.get("LeadId"):
            missing += ["ContactId", "LeadId"]
        if missing:
            raise SfError("REQUIRED_FIELD_MISSING", f"Required fields are missing: [{', '.join(missing)}]", missing)
        for fd in obj.fields.values():
            if fd.unique and fd.name in row:
                other = [k for k in self.lookup(obj, fd, row[fd.name]) if k != key]
                if other:
                    raise SfError("DUPLICATE_VALUE", f"duplicate value found: {fd.name} duplicates value on "
                                  f"record with id: {to18(other[0])}", [fd.name])
        if obj.name == "CampaignMember":
            person = row.get("ContactId") or row["LeadId"]
            if self.members.get((row["CampaignId"][:15], person[:15]), key) != key:
                raise SfError("DUPLICATE_VALUE", "Already a campaign member.")
        if obj.name == "Contact" and self.duplicate_rule and not allow_save and row.get("Email"):
            other = [k for k in self.lookup(obj, obj.fields["Email"], row["Email"]) if k != key]
            if other:
                raise _duplicates_detected(obj.name, [to18(k) for k in other])

    def _remove(self, obj: ObjectDef, key: str, row: dict[str, Any], now: datetime, hard: bool) -> None:
        self._put(obj, key, None if hard else {**row, "IsDeleted": True, "LastModifiedDate": now,
                                                 "SystemModstamp": now})
        self.deleted_log.append((obj.name, row["Id"], now))
        for child_key in _multi_get(self.children, key):
            child_obj = self.schema.for_id(child_key)
            child = self.tables[child_obj.name.lower()].get(child_key) if child_obj else None
            if child is not None and not child["IsDeleted"]:
                self._remove(child_obj, child_key, child, now, hard)
                if not hard:
                    self.cascaded.setdefault(key, []).append(child_key)

    def _put(self, obj: ObjectDef, key: str, row: dict[str, Any] | None, record: bool = True) -> None:
        table = self.tables[obj.name.lower()]
        old = table.get(key)
        if record and self._savepoint is not None:
            self._savepoint.undo.append((obj, key, old))
        if old is not None:
            self._index_row(obj, key, old, _multi_remove)
        if row is None:
            table.pop(key, None)
        else:
            table[key] = row
            self._index_row(obj, key, row, _multi_add)

    def _index_row(self, obj: ObjectDef, key: str, row: dict[str, Any],
                   apply: Callable[[dict[str, Any], str, str], None]) -> None:
        if row["IsDeleted"]:
            return
        for name in obj.indexed:
            value = row.get(name)
            if value is not None:
                apply(self.index.setdefault((obj.name, name), {}), str(value).lower(), key)
        for name in obj.cascades:
            value = row.get(name)
            if value is not None:
                apply(self.children, value[:15], key)
        if obj.name == "CampaignMember":
            member = (row["CampaignId"][:15], (row.get("ContactId") or row.get("LeadId") or "")[:15])
            if apply is _multi_add:
                self.members[member] = key
            elif self.members.get(member) == key:
                del self.members[member]


def _duplicates_detected(entity: str, ids: list[str]) -> SfError:
    """The duplicate-rule block; real captures spell the key ``duplicateResut``, clients expect both."""
    result = {
        "allowSave": True, "duplicateRule": "Standard_Contact_Duplicate_Rule",
        "duplicateRuleEntityType": entity, "errorMessage": "You're creating a duplicate record. We recommend "
        "you use an existing record instead.",
        "matchResults": [{"entityType": entity, "errors": [], "matchEngine": "ExactMatchEngine",
                          "matchRecords": [{"additionalInformation": [], "fieldDiffs": [], "matchConfidence": 100.0,
                                            "record": {"attributes": {"type": entity}, "Id": i}} for i in ids],
                          "rule": "Standard_Contact_Match_Rule_v1_1", "size": len(ids), "success": True}],
    }
    return SfError("DUPLICATES_DETECTED", "Use one of these records?",
                   extra={"duplicateResut": result, "duplicateResult": result})
