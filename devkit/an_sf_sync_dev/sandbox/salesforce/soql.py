"""The Salesforce emulator's SOQL engine: parse, run against a :class:`Source`, render rows.

The emulator server calls :func:`parse` then :func:`execute`, and renders each returned row with
:func:`json_record` (REST query/queryAll) or :func:`csv_row` (Bulk API query results). The
supported subset and its deliberate strictness are described in ``soql_syntax`` (grammar) and
``soql_filter`` (comparison and date semantics). Errors are :class:`SoqlError` with Salesforce's
codes: ``MALFORMED_QUERY``, ``INVALID_TYPE``, ``INVALID_FIELD``, and also
``INVALID_QUERY_FILTER_OPERATOR`` (LIKE on a non-text field, ``<`` on a boolean) and
``NUMBER_OUTSIDE_VALID_RANGE`` (OFFSET above 2,000, as on a real org).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from an_sf_sync_dev.sandbox.salesforce.soql_filter import Compiler, order_columns, sort_rows
from an_sf_sync_dev.sandbox.salesforce.soql_schema import Column, Field, Schema, Source
from an_sf_sync_dev.sandbox.salesforce.soql_syntax import Query, SoqlError, parse, soql_error

__all__ = ["Field", "Query", "Result", "SoqlError", "Source", "csv_row", "execute", "json_record", "parse"]

MAX_OFFSET = 2000

Row = dict[str, Any]


@dataclass
class Result:
    sobject: str  # canonical
    columns: list[str]  # SELECT order, canonical, dotted for parent fields ("Account.Name")
    rows: list[Row]  # the matching stored rows, ordered, offset and limited
    count: int | None = None  # set for SELECT COUNT()
    total_size: int = 0  # number of rows (or the count for COUNT())
    plan: tuple[Column, ...] = field(default=(), repr=False, compare=False)


def execute(query: Query, source: Source, *, include_deleted: bool = False,
            now: datetime | None = None) -> Result:
    """Validate names against ``source``, then filter, order, offset and limit its rows.

    ``include_deleted`` is queryAll: rows with ``IsDeleted`` true are kept. ``now`` anchors
    TODAY, LAST_N_DAYS:n and the other relative date literals (default: the current time).
    """
    schema = Schema(source, query.text)
    sobject = schema.sobject(query.sobject, query.sobject_pos)
    plan = tuple(schema.resolve(sobject, path) for path in query.fields)
    seen: set[str] = set()
    for path, column in zip(query.fields, plan, strict=True):
        if column.name.lower() in seen:
            raise soql_error("INVALID_FIELD", query.text, path.pos, f"duplicate field selected: {column.name}")
        seen.add(column.name.lower())
    ordering = order_columns(schema, sobject, query.order_by)
    if query.offset is not None and query.offset > MAX_OFFSET:
        raise soql_error("NUMBER_OUTSIDE_VALID_RANGE", query.text, query.offset_pos,
                         f"Maximum SOQL offset allowed is {MAX_OFFSET}")
    where = Compiler(schema, sobject, now or datetime.now(UTC)).condition(query.where) if query.where else None

    rows = source.rows(sobject, include_deleted)
    if where is not None and include_deleted:
        matched = [row for row in rows if where(row)]
    elif where is not None:
        matched = [row for row in rows if not row.get("IsDeleted") and where(row)]
    else:
        matched = [row for row in rows if include_deleted or not row.get("IsDeleted")]
    sort_rows(matched, ordering)
    start = query.offset or 0
    matched = matched[start:] if query.limit is None else matched[start:start + query.limit]
    if query.is_count:
        return Result(sobject, [], [], count=len(matched), total_size=len(matched))
    return Result(sobject, [c.name for c in plan], matched, total_size=len(matched), plan=plan)


def _lineage(result: Result, row: Row, source: Source) -> dict[tuple[str, ...], tuple[str, Row] | None]:
    """Each relationship prefix the columns use -> the (type, row) it reaches, or None."""
    schema = Schema(source, "")
    nodes: dict[tuple[str, ...], tuple[str, Row] | None] = {(): (result.sobject, row)}
    for column in result.plan:
        key: tuple[str, ...] = ()
        for hop in column.hops:
            up = nodes[key]
            key += (hop.name,)
            if key not in nodes:
                nodes[key] = None if up is None else schema.parent(hop, up[1].get(hop.ref_field))
    return nodes


def _prefix(column: Column) -> tuple[str, ...]:
    return tuple(hop.name for hop in column.hops)


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        value = value.astimezone(UTC)
        return f"{value:%Y-%m-%dT%H:%M:%S}.{value.microsecond // 1000:03d}+0000"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        value = value.astimezone(UTC)
        return f"{value:%Y-%m-%dT%H:%M:%S}.{value.microsecond // 1000:03d}Z"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def json_record(result: Result, row: Row, source: Source, record_url: Callable[[str, str], str]) -> dict:
    """REST shape of one row: ``attributes``, then the columns in SELECT order, parent fields nested
    under their relationship name (``None`` when the reference is empty)."""
    nodes = _lineage(result, row, source)
    record: dict[str, Any] = {"attributes": {"type": result.sobject, "url": record_url(result.sobject, row["Id"])}}
    objects: dict[tuple[str, ...], dict[str, Any] | None] = {(): record}
    for column in result.plan:
        key: tuple[str, ...] = ()
        for hop in column.hops:
            up = objects[key]
            key += (hop.name,)
            if key not in objects:
                found = nodes[key]
                child = None if found is None else {
                    "attributes": {"type": found[0], "url": record_url(found[0], found[1]["Id"])}}
                if up is not None:
                    up[hop.name] = child
                objects[key] = child
        target, found = objects[key], nodes[key]
        if target is not None and found is not None:
            target[column.field.name] = _json_value(found[1].get(column.field.name))
    return record


def csv_row(result: Result, row: Row, source: Source) -> list[str]:
    """Bulk API 2.0 query CSV cells in ``result.columns`` order (parent fields flattened)."""
    nodes = _lineage(result, row, source)
    return [_csv_value(found[1].get(column.field.name)) if (found := nodes[_prefix(column)]) else ""
            for column in result.plan]
