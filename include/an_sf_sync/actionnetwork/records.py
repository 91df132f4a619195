"""Action Network resources flattened into the plain records the extract stage stores.

Real records are untidy (reference §5.15): the ``action_network:`` identifier is not always
first, people carry several (even duplicate) email entries, addresses lack fields, custom field
values are numbers or booleans, currencies come lower-cased, refunds lack amounts, and the docs'
typo ``action:person_id`` appears in submissions. Each function here tolerates all of that and
returns a dict of JSON-able values, except dates, which are tz-aware UTC ``datetime`` objects.
Empty strings count as missing and become ``None``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from an_sf_sync import synced

AN_PREFIX = "action_network:"

Record = dict[str, Any]


def an_id(resource: Mapping[str, Any]) -> str | None:
    """The uuid of the ``action_network:`` identifier, wherever it sits; else the self link's tail."""
    for identifier in resource.get("identifiers") or ():
        if isinstance(identifier, str) and identifier.startswith(AN_PREFIX):
            return identifier[len(AN_PREFIX):]
    return _link_id(resource, "self")


def parse_date(value: Any) -> datetime | None:
    """ISO-8601 (``Z`` or an offset; naive means UTC) -> tz-aware UTC datetime."""
    if not value:
        return None
    parsed = datetime.fromisoformat(str(value))
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def format_date(value: datetime) -> str:
    """A datetime as Action Network writes them: UTC, whole seconds, ``Z``."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def person(raw: Mapping[str, Any]) -> Record:
    email = _primary(raw.get("email_addresses"))
    others = [_text(e.get("address"), strip=True) for e in raw.get("email_addresses") or ()
              if isinstance(e, Mapping) and e is not email]
    return {
        "an_id": an_id(raw),
        **{f.an_column: _person_value(raw, f.an_path, strip=f.match_key) for f in synced.person_fields()},
        "email_status": _text(email.get("status")),
        "other_emails": [e for e in dict.fromkeys(others) if e],  # the person's other addresses
        "country": _text(_primary(raw.get("postal_addresses")).get("country")),
        "custom_fields": dict(raw.get("custom_fields") or {}),
        **_dates(raw),
    }


def _person_value(raw: Mapping[str, Any], path: str, *, strip: bool = False) -> str | None:
    """The value at a declared path: a top-level key, or a key of the primary entry of a
    collection (``postal_addresses.locality``); lists of lines (``address_lines``) are joined, blank
    lines kept: the street we write is split on its line breaks, and must read back the same."""
    collection, _, key = path.rpartition(".")
    value = _primary(raw.get(collection)).get(key) if collection else raw.get(key)
    if isinstance(value, list):
        return _text("\n".join("" if line is None else str(line) for line in value))
    return _text(value, strip=strip)


def action(raw: Mapping[str, Any], action_type: str) -> Record:
    synced.action_type(action_type)  # a known one
    return {
        "an_id": an_id(raw),
        "action_type": action_type,
        "title": _text(raw.get("title")) or _text(raw.get("name")),
        "origin_system": _text(raw.get("origin_system")),
        "event_campaign_id": (_text(raw.get("action_network:event_campaign_id"))
                              or _link_id(raw, "action_network:event_campaign"))
        if action_type == "event" else None,
        **_dates(raw),
    }


def participation(raw: Mapping[str, Any], action_type: str, action_id: str | None = None) -> Record:
    synced.action_type(action_type)  # a known one
    return {
        "an_id": an_id(raw),
        "action_type": action_type,
        "action_id": (action_id or _text(raw.get(f"action_network:{action_type}_id"))
                      or _link_id(raw, f"osdi:{action_type}") or _link_id(raw, f"action_network:{action_type}")),
        "person_id": _person_id(raw),
        "status": _text(raw.get("status")) if action_type == "event" else None,
        **_dates(raw),
    }


def donation(raw: Mapping[str, Any]) -> Record:
    recurrence = raw.get("action_network:recurrence") or {}
    return {
        "an_id": an_id(raw),
        "fundraising_page_id": (_text(raw.get("action_network:fundraising_page_id"))
                                or _link_id(raw, "osdi:fundraising_page")),
        "person_id": _person_id(raw),
        "amount": _amount(raw),
        "currency": (_text(raw.get("currency")) or "").upper() or None,
        "recurring": bool(recurrence.get("recurring")),
        "period": _text(recurrence.get("period")),
        **_dates(raw),
    }


def _dates(raw: Mapping[str, Any]) -> Record:
    return {"created_date": parse_date(raw.get("created_date")),
            "modified_date": parse_date(raw.get("modified_date"))}


def _text(value: Any, *, strip: bool = False) -> str | None:
    if value is None:
        return None
    text = str(value)
    if strip:
        text = text.strip()
    return text if text.strip() else None


def _primary(entries: Any) -> Mapping[str, Any]:
    """The entry flagged primary, else the first; an empty mapping when there is none."""
    entries = [e for e in entries or () if isinstance(e, Mapping)]
    return next((e for e in entries if e.get("primary")), entries[0] if entries else {})


def _link_id(raw: Mapping[str, Any], rel: str) -> str | None:
    link = (raw.get("_links") or {}).get(rel)
    if isinstance(link, list):
        link = link[0] if link else None
    href = link.get("href") if isinstance(link, Mapping) else None
    if not href:
        return None
    return href.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1] or None


def _person_id(raw: Mapping[str, Any]) -> str | None:
    return (_text(raw.get("action_network:person_id")) or _text(raw.get("action:person_id"))
            or _link_id(raw, "osdi:person"))


def _amount(raw: Mapping[str, Any]) -> str | None:
    """The donation amount; when absent, the sum of the recipients' shares, if any."""
    if _text(raw.get("amount")) is not None:
        return str(raw["amount"]).strip()
    shares = [r["amount"] for r in raw.get("recipients") or ()
              if isinstance(r, Mapping) and r.get("amount") is not None]
    if not shares:
        return None
    try:
        return str(sum(Decimal(str(share)) for share in shares))
    except InvalidOperation:
        return None
