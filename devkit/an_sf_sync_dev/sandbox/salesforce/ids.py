"""Salesforce record Ids: key prefix + body, 15 case-sensitive characters plus the 3-character checksum."""

from __future__ import annotations

import re
from datetime import UTC, datetime

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_ID = re.compile(r"^[0-9A-Za-z]{15}(?:[0-9A-Za-z]{3})?$")
POD = "8d0"  # fixed instance/reserved characters after the key prefix


def checksum(id15: str) -> str:
    """The 18-character form's suffix: one character per 5-character chunk, encoding its upper case."""
    out = []
    for start in (0, 5, 10):
        flags = sum(1 << i for i, ch in enumerate(id15[start:start + 5]) if "A" <= ch <= "Z")
        out.append(_SUFFIX[flags])
    return "".join(out)


# Two-character base-62 digits and their upper-case bits: make_id runs once per seeded row.
_PAIRS = [a + b for a in _ALPHABET for b in _ALPHABET]
_PAIR_FLAGS = [("A" <= p[0] <= "Z") | ("A" <= p[1] <= "Z") << 1 for p in _PAIRS]
_CHAR_FLAGS = [int("A" <= c <= "Z") for c in _ALPHABET]
_HEADS: dict[str, tuple[str, str]] = {}  # prefix -> (prefix + pod, checksum character of the first chunk)


def make_id(prefix: str, number: int) -> str:
    """The ``number``-th 18-character Id for a key prefix (deterministic; 9 base-62 digits after the pod)."""
    number, d4 = divmod(number, 62)
    number, d3 = divmod(number, 3844)
    number, d2 = divmod(number, 3844)
    d0, d1 = divmod(number % 14776336, 3844)
    if prefix not in _HEADS:
        _HEADS[prefix] = (prefix + POD, checksum(prefix + POD + "0" * 9)[0])
    head, first = _HEADS[prefix]
    # chunks: head[0:5] | head[5] + digits[0:4] | digits[4:9]; the pod's last character is a digit
    suffix = (first + _SUFFIX[(_PAIR_FLAGS[d0] << 1) | (_PAIR_FLAGS[d1] << 3)]
              + _SUFFIX[_PAIR_FLAGS[d2] | (_PAIR_FLAGS[d3] << 2) | (_CHAR_FLAGS[d4] << 4)])
    return head + _PAIRS[d0] + _PAIRS[d1] + _PAIRS[d2] + _PAIRS[d3] + _ALPHABET[d4] + suffix


def id_number(record_id: str) -> int:
    number = 0
    for ch in record_id[6:15]:
        number = number * 62 + _ALPHABET.index(ch)
    return number


def key15(value: str) -> str | None:
    """The case-sensitive 15-character key of a well-formed Id (15 or 18 chars), else None."""
    return value[:15] if isinstance(value, str) and _ID.match(value) else None


def well_formed(value: str) -> bool:
    """15 or 18 alphanumerics, and an 18-character Id's checksum matches, in any case (else MALFORMED_ID)."""
    return key15(value) is not None and (len(value) == 15 or value[15:].upper() == checksum(value[:15]))


def to18(value: str) -> str:
    return value[:15] + checksum(value[:15])


def sf_datetime(value: datetime) -> str:
    """REST datetime format: ``2013-05-07T22:07:19.000+0000`` (always UTC)."""
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}+0000"


def parse_datetime(text: str) -> datetime:
    """ISO 8601 from clients (``Z``, ``+00:00``, ``+0000``) -> aware UTC; naive means UTC.

    A ``+`` turned into a space by form decoding is put back.
    """
    value = datetime.fromisoformat(re.sub(r" (\d\d:?\d\d)$", r"+\1", text.strip()))
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
