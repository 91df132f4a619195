"""OData ``filter`` expressions as Action Network accepts them: ``field eq|gt|lt 'value'``.

Choices where Action Network's behaviour is unconfirmed (each answers 400 ``{"error": ...}``
rather than silently ignoring the filter, so a client bug shows up instead of a full extract):

* a field not filterable on that resource (or any filter on tags/taggings);
* ``and`` / ``or`` combinations, and operators other than ``eq``, ``gt``, ``lt``;
* a date value that is neither ``YYYY-MM-DD`` nor an ISO timestamp.

Values may be quoted (``'...'``, with ``''`` for a quote) or bare (some clients send bare
timestamps). ``email_address`` matches case-insensitively, any of the person's addresses; other
text fields match exactly. On dates, ``eq`` with a date-only value matches that whole UTC day;
``gt``/``lt`` compare with the instant (midnight for a date-only value).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .records import Action, Participation, Person, parse_time

Predicate = Callable[[Any], bool]

_EXPR = re.compile(r"^\s*(\w+)\s+(\w+)\s+(?:'((?:[^']|'')*)'|(\S+))\s*$")
_DATE_FIELDS = {"created_date", "modified_date", "start_date", "end_date"}


class FilterError(ValueError):
    """A filter Action Network would refuse; the message is the 400 body's ``error``."""


def _identifiers(record: Any) -> list[str]:
    if isinstance(record, Person):
        return record.all_identifiers()
    return record.identifiers or [f"action_network:{record.id}"]


def _primary_address(person: Person) -> Any:
    return next((a for a in person.addresses if a.primary), person.addresses[0] if person.addresses else None)


def _action_date(name: str) -> Callable[[Action], int | None]:
    def get(action: Action) -> int | None:
        value = action.fields.get(name)
        return parse_time(value) if value else None
    return get


# field -> getter returning one value or a list of values (any may match)
_PEOPLE: dict[str, Callable[[Person], Any]] = {
    "identifier": _identifiers,
    "created_date": lambda p: p.created,
    "modified_date": lambda p: p.modified,
    "family_name": lambda p: p.family_name,
    "given_name": lambda p: p.given_name,
    "email_address": lambda p: [e.address.strip().lower() for e in p.emails],
    "phone_number": lambda p: [re.sub(r"\D", "", n.number) for n in p.phones or ()],
    "region": lambda p: getattr(_primary_address(p), "region", None),
    "postal_code": lambda p: getattr(_primary_address(p), "postal_code", None),
}
_COMMON: dict[str, Callable[[Any], Any]] = {
    "identifier": _identifiers,
    "created_date": lambda r: r.created,
    "modified_date": lambda r: r.modified,
}
_ACTIONS: dict[str, Callable[[Action], Any]] = {
    **_COMMON,
    "origin_system": lambda a: a.fields.get("origin_system"),
    "title": lambda a: a.fields.get("title"),
    "start_date": _action_date("start_date"),
    "end_date": _action_date("end_date"),
}
_PARTICIPATIONS: dict[str, Callable[[Participation], Any]] = _COMMON


def getters_for(allowed: tuple[str, ...], people: bool = False, actions: bool = False
                ) -> dict[str, Callable[[Any], Any]]:
    table = _PEOPLE if people else _ACTIONS if actions else _PARTICIPATIONS
    return {name: table[name] for name in allowed}


def parse(expression: str, getters: dict[str, Callable[[Any], Any]]) -> Predicate:
    """A predicate over records for ``expression``; raises :class:`FilterError` when AN would refuse it."""
    m = _EXPR.match(expression)
    if not m:
        if re.search(r"\s(and|or)\s", expression, re.IGNORECASE):
            raise FilterError("Combining filters with 'and' or 'or' is not supported")
        raise FilterError(f"Invalid filter: {expression}")
    name, op, quoted, bare = m.groups()
    op = op.lower()
    if name not in getters:
        raise FilterError(f"Filtering on '{name}' is not supported for this resource")
    if op not in ("eq", "gt", "lt"):
        raise FilterError(f"Unsupported filter operator '{op}'")
    raw = quoted.replace("''", "'") if quoted is not None else bare
    get = getters[name]
    if name in _DATE_FIELDS:
        return _date_predicate(get, op, raw)
    if name == "email_address":
        raw = raw.strip().lower()
    elif name == "phone_number":
        raw = re.sub(r"\D", "", raw)
    return _value_predicate(get, op, raw)


def email_lookup(expression: str) -> str | None:
    """The address of an ``email_address eq '...'`` filter, so callers can use an index instead of a scan."""
    m = _EXPR.match(expression)
    if m and m.group(1) == "email_address" and m.group(2).lower() == "eq":
        raw = m.group(3).replace("''", "'") if m.group(3) is not None else m.group(4)
        return raw.strip().lower()
    return None


def _date_predicate(get: Callable[[Any], Any], op: str, raw: str) -> Predicate:
    try:
        instant = parse_time(raw)
    except ValueError:
        raise FilterError(f"Invalid date in filter: {raw}") from None
    if op == "gt":
        return lambda r: (v := get(r)) is not None and v > instant
    if op == "lt":
        return lambda r: (v := get(r)) is not None and v < instant
    end = instant + (86400 if len(raw.strip()) == 10 else 1)
    return lambda r: (v := get(r)) is not None and instant <= v < end


def _value_predicate(get: Callable[[Any], Any], op: str, raw: str) -> Predicate:
    test: Callable[[Any], bool] = {
        "eq": lambda v: v == raw,
        "gt": lambda v: v > raw,
        "lt": lambda v: v < raw,
    }[op]

    def predicate(record: Any) -> bool:
        value = get(record)
        values = value if isinstance(value, list) else [value]
        return any(v is not None and test(v) for v in values)
    return predicate
