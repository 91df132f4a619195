"""SOQL statements for the sync, every one built with :func:`simple_salesforce.format_soql`.

Values are always quoted by ``format_soql``; object and field names, which SOQL cannot quote,
are checked against the API-name grammar before they are inserted, so neither can smuggle SOQL.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from simple_salesforce import format_soql

from an_sf_sync.window import Window

_API_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z][A-Za-z0-9_]*){0,5}")


def api_name(name: object) -> str:
    """``name`` if it is a valid (optionally dotted) Salesforce API name, else ValueError."""
    if not isinstance(name, str) or not _API_NAME.fullmatch(name):
        raise ValueError(f"not a Salesforce API name: {name!r}")
    return name


def _instant(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: pass a timezone-aware one")
    return value


def conditions(window: Window | None = None, where: str | None = None,
               params: Mapping[str, Any] | None = None) -> str:
    """A ``WHERE`` clause (with a leading space) or ``""``.

    ``window`` reads ``[start, end)`` on SystemModstamp (``start`` None: everything before
    ``end``). ``where`` is a ``format_soql`` template whose ``{name}`` fields come from ``params``.
    """
    parts = []
    if window is not None:
        if window.start is not None:
            parts.append(format_soql("SystemModstamp >= {}", _instant(window.start)))
        parts.append(format_soql("SystemModstamp < {}", _instant(window.end)))
    if where:
        parts.append(format_soql("({:literal})", format_soql(where, **(params or {}))))
    return format_soql(" WHERE {:literal}", " AND ".join(parts)) if parts else ""


def select(sobject: str, fields: Sequence[str], clause: str = "") -> str:
    names = ", ".join(api_name(f) for f in fields)
    return format_soql("SELECT {:literal} FROM {:literal}{:literal}", names, api_name(sobject), clause)


def count(sobject: str, clause: str = "") -> str:
    return format_soql("SELECT COUNT() FROM {:literal}{:literal}", api_name(sobject), clause)
