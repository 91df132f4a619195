"""Compiling a parsed WHERE clause into one Python predicate, and ORDER BY into sort keys.

Everything that does not depend on the row (name resolution, type checks, literal conversion,
LIKE regexes, semi-join id sets) happens once per query, so filtering a million rows is a
loop of small closures.

Comparison semantics (Salesforce's, as far as documented):

* Strings compare case-insensitively; ids compare on their 15-character case-sensitive form, so
  15- and 18-character ids match each other.
* ``null`` is an ordinary value: ``X = null`` / ``X != null`` test for it, ``X != 'a'`` and
  ``X NOT IN ('a')`` include rows where X is null, and ``<``/``>``/``LIKE`` never match null.
* Relative date literals are whole UTC days, weeks starting on Sunday (the en_US locale):
  ``LAST_N_DAYS:n`` is today and the n days before it (the documented "starts 00:00:00 of the
  current day and continues for the past n days"; UNCONFIRMED whether today counts),
  ``NEXT_N_DAYS:n`` the n days after today, ``LAST_90_DAYS``/``NEXT_90_DAYS`` the same with n=90.
  ``=`` means "within the range", ``<`` "before it", ``>`` "after it".
* Semi-/anti-join subqueries read non-deleted rows only, also under queryAll (UNCONFIRMED).
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from functools import reduce
from typing import Any

from an_sf_sync_dev.sandbox.salesforce.soql_schema import Column, Schema
from an_sf_sync_dev.sandbox.salesforce.soql_syntax import (
    Comparison,
    Condition,
    Literal,
    Logical,
    Not,
    OrderKey,
    Query,
    SoqlError,
    soql_error,
)

Row = dict[str, Any]
Predicate = Callable[[Row], bool]

_KIND = {"id": "id", "reference": "id", "boolean": "boolean", "date": "date", "datetime": "datetime",
         "double": "number", "currency": "number", "percent": "number", "int": "number", "long": "number"}
_ACCEPTS = {"string": {"string", "pattern"}, "id": {"string"}, "boolean": {"boolean"}, "number": {"number"},
            "date": {"date", "relative"}, "datetime": {"datetime", "relative"}}
_TYPE_WORD = {"datetime": "dateTime", "int": "integer", "reference": "id"}
_ORDERING = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
# An ordering against a relative range [lo, hi) is one bound check: (operator, use hi?).
_RANGE_ORDERING = {"<": (operator.lt, False), "<=": (operator.lt, True), ">": (operator.ge, True),
                   ">=": (operator.ge, False)}


def id_key(value: str) -> str:
    """15- and 18-character Salesforce ids of one record share their first 15 characters."""
    return value[:15] if len(value) == 18 else value


def _lower(value: Any) -> str:
    return str(value).lower()


_NORMALIZE: dict[str, Callable[[Any], Any]] = {"string": _lower, "id": id_key, "number": float}


def kind_of(column: Column) -> str:
    """How values of the column compare: string, id, boolean, number, date or datetime."""
    return _KIND.get(column.field.type, "string")


def _month(day: date, delta: int) -> date:
    index = day.year * 12 + day.month - 1 + delta
    return date(index // 12, index % 12 + 1, 1)


def _week(day: date) -> date:
    return day - timedelta(days=(day.weekday() + 1) % 7)


def _year(day: date, delta: int) -> date:
    return date(day.year + delta, 1, 1)


_D = timedelta(days=1)
_W = timedelta(days=7)
_RANGES: dict[str, Callable[[date, int], tuple[date, date]]] = {
    "today": lambda t, n: (t, t + _D),
    "yesterday": lambda t, n: (t - _D, t),
    "tomorrow": lambda t, n: (t + _D, t + 2 * _D),
    "last_week": lambda t, n: (_week(t) - _W, _week(t)),
    "this_week": lambda t, n: (_week(t), _week(t) + _W),
    "next_week": lambda t, n: (_week(t) + _W, _week(t) + 2 * _W),
    "last_month": lambda t, n: (_month(t, -1), _month(t, 0)),
    "this_month": lambda t, n: (_month(t, 0), _month(t, 1)),
    "next_month": lambda t, n: (_month(t, 1), _month(t, 2)),
    "last_year": lambda t, n: (_year(t, -1), _year(t, 0)),
    "this_year": lambda t, n: (_year(t, 0), _year(t, 1)),
    "next_year": lambda t, n: (_year(t, 1), _year(t, 2)),
    "last_90_days": lambda t, n: (t - 90 * _D, t + _D),
    "next_90_days": lambda t, n: (t + _D, t + 91 * _D),
    "last_n_days": lambda t, n: (t - n * _D, t + _D),
    "next_n_days": lambda t, n: (t + _D, t + (n + 1) * _D),
    "n_days_ago": lambda t, n: (t - n * _D, t - (n - 1) * _D),
    "last_n_weeks": lambda t, n: (_week(t) - n * _W, _week(t)),
    "next_n_weeks": lambda t, n: (_week(t) + _W, _week(t) + (n + 1) * _W),
    "last_n_months": lambda t, n: (_month(t, -n), _month(t, 0)),
    "next_n_months": lambda t, n: (_month(t, 1), _month(t, n + 1)),
}


def date_range(name: str, n: int, today: date) -> tuple[date, date]:
    """The half-open day range [start, end) a relative date literal denotes."""
    return _RANGES[name](today, n)


def _both(a: Predicate, b: Predicate) -> Predicate:
    return lambda row: a(row) and b(row)


def _either(a: Predicate, b: Predicate) -> Predicate:
    return lambda row: a(row) or b(row)


class Compiler:
    """Turns conditions on ``sobject`` into predicates; ``now`` anchors relative dates."""

    def __init__(self, schema: Schema, sobject: str, now: datetime) -> None:
        self.schema = schema
        self.sobject = sobject
        self.now = now.astimezone(UTC)

    def error(self, code: str, pos: int, message: str) -> SoqlError:
        return soql_error(code, self.schema.text, pos, message)

    def condition(self, condition: Condition) -> Predicate:
        if isinstance(condition, Comparison):
            return self.comparison(condition)
        if isinstance(condition, Not):
            inner = self.condition(condition.item)
            return lambda row: not inner(row)
        assert isinstance(condition, Logical)
        return reduce(_both if condition.op == "and" else _either, map(self.condition, condition.items))

    def comparison(self, cmp: Comparison) -> Predicate:
        column = self.schema.resolve(self.sobject, cmp.path)
        if not column.field.filterable:
            raise self.error("INVALID_FIELD", cmp.path.pos,
                             f"field '{column.name}' can not be filtered in a query call")
        if isinstance(cmp.value, Query):
            return self.semi_join(cmp, column, cmp.value)
        kind = kind_of(column)
        literals = cmp.value if isinstance(cmp.value, tuple) else (cmp.value,)
        if cmp.op == "like" and kind != "string" or cmp.op in _ORDERING and kind == "boolean":
            raise self.error("INVALID_QUERY_FILTER_OPERATOR", cmp.pos,
                             f"invalid operator on {_TYPE_WORD.get(column.field.type, column.field.type)} field")
        for literal in literals:
            if not (literal.kind in _ACCEPTS[kind] or literal.kind == "null" and cmp.op != "like"):
                raise self.type_error(column, kind, literal)
        get = column.get
        if cmp.op == "like":
            match = re.compile(literals[0].value, re.IGNORECASE | re.DOTALL).fullmatch
            return lambda row: (v := get(row)) is not None and match(v) is not None
        if cmp.op in _ORDERING:
            test = self.ordering(cmp.op, literals[0], kind)
        else:
            test = self.membership(literals, kind)
            if cmp.op in ("!=", "not in"):
                return lambda row: not test(get(row))
        return lambda row: test(get(row))

    def type_error(self, column: Column, kind: str, literal: Literal) -> SoqlError:
        quoted = kind in ("string", "id")
        word = _TYPE_WORD.get(column.field.type, "string" if kind == "string" else column.field.type)
        return self.error("INVALID_FIELD", literal.pos,
                          f"value of filter criterion for field '{column.name}' must be of type {word} and "
                          f"should {'' if quoted else 'not '}be enclosed in quotes")

    def bounds(self, literal: Literal, kind: str) -> tuple[Any, Any]:
        start, end = date_range(*literal.value, self.now.date())
        if kind == "datetime":
            return datetime.combine(start, time(), UTC), datetime.combine(end, time(), UTC)
        return start, end

    def key(self, literal: Literal, kind: str) -> Any:
        normalize = _NORMALIZE.get(kind)
        return normalize(literal.value) if normalize else literal.value

    def ordering(self, op: str, literal: Literal, kind: str) -> Callable[[Any], bool]:
        if literal.kind == "null":
            return lambda v: False
        normalize = _NORMALIZE.get(kind)
        if literal.kind == "relative":
            compare, upper = _RANGE_ORDERING[op]
            bound = self.bounds(literal, kind)[upper]
        else:
            compare, bound = _ORDERING[op], self.key(literal, kind)
        if normalize:
            return lambda v: v is not None and compare(normalize(v), bound)
        return lambda v: v is not None and compare(v, bound)

    def membership(self, literals: tuple[Literal, ...], kind: str) -> Callable[[Any], bool]:
        """``v = a`` / ``v IN (a, b)``: equal to a value, or within a relative date range."""
        normalize = _NORMALIZE.get(kind)
        has_null = any(lit.kind == "null" for lit in literals)
        keys = frozenset(self.key(lit, kind) for lit in literals if lit.kind not in ("null", "relative"))
        ranges = [self.bounds(lit, kind) for lit in literals if lit.kind == "relative"]
        if ranges:
            return lambda v: has_null if v is None else v in keys or any(lo <= v < hi for lo, hi in ranges)
        if normalize:
            return lambda v: has_null if v is None else normalize(v) in keys
        return lambda v: has_null if v is None else v in keys

    def semi_join(self, cmp: Comparison, column: Column, sub: Query) -> Predicate:
        """``X IN (SELECT Y FROM Obj WHERE ...)``: run the subquery once into a set of ids."""
        sub_object = self.schema.sobject(sub.sobject, sub.sobject_pos)
        selected = self.schema.resolve(sub_object, sub.fields[0])
        if not self.points_to(column) & self.points_to(selected):
            raise self.error("MALFORMED_QUERY", sub.fields[0].pos,
                             f"The selected field '{selected.name}' in the subquery and the left operand field "
                             f"in the where expression in the outer query '{column.name}' should point to "
                             "the same object type")
        where = Compiler(self.schema, sub_object, self.now).condition(sub.where) if sub.where else None
        get_selected = selected.get
        ids = {id_key(v) for row in self.schema.source.rows(sub_object, False)
               if not row.get("IsDeleted") and (where is None or where(row))
               and (v := get_selected(row)) is not None}
        get = column.get
        if cmp.op == "in":
            return lambda row: (v := get(row)) is not None and id_key(v) in ids
        return lambda row: (v := get(row)) is None or id_key(v) not in ids

    def points_to(self, column: Column) -> set[str]:
        """The object types an id or reference column identifies."""
        if column.field.type == "id":
            return {column.owner}
        if column.field.type == "reference":
            return {name for ref in column.field.reference_to if (name := self.schema.source.canonical_name(ref))}
        return set()


def order_columns(schema: Schema, sobject: str, keys: tuple[OrderKey, ...]) -> list[tuple[Column, OrderKey]]:
    """Resolve and check ORDER BY fields before any row is read."""
    columns = []
    for key in keys:
        column = schema.resolve(sobject, key.path)
        if not column.field.filterable:
            raise soql_error("INVALID_FIELD", schema.text, key.path.pos,
                             f"field '{column.name}' can not be sorted in a query call")
        columns.append((column, key))
    return columns


def _sort_key(column: Column, key: OrderKey) -> Callable[[Row], tuple[int, Any]]:
    get = column.get
    kind = kind_of(column)
    normalize = _lower if kind == "string" else float if kind == "number" else None
    # Nulls sort below (0) or above (2) every value (1); ``reverse`` flips that for DESC.
    null_key = (2 if key.descending == key.nulls_first else 0, 0)
    if normalize:
        return lambda row: null_key if (v := get(row)) is None else (1, normalize(v))
    return lambda row: null_key if (v := get(row)) is None else (1, v)


def sort_rows(rows: list[Row], columns: list[tuple[Column, OrderKey]]) -> None:
    """Sort in place: one stable key-function sort per key, last key first."""
    for column, key in reversed(columns):
        rows.sort(key=_sort_key(column, key), reverse=key.descending)
