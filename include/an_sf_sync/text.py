"""Text that every system on the way can store.

Postgres text cannot hold NUL, UTF-8 cannot encode a lone surrogate, and control characters break
CSV files and Salesforce's XML. Real records carry all of these (pasted from spreadsheets, typed
through old forms), and one such value must never stop a task: it is cleaned where it enters, once,
so every later stage (staging, reconcile, load, report) sees storable text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Sequence
from typing import Any

# C0 controls but tab, newline and carriage return; DEL and the C1 controls; lone surrogates.
_UNSTORABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]|[\ud800-\udfff]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def clean(value: str, *, mark: bool = False) -> str:
    """``value`` without control characters; a lone surrogate becomes U+FFFD (the replacement mark).
    With ``mark``, every such character becomes U+FFFD: removing one from an email address could
    make it another person's, whereas the mark makes it malformed, and reported."""
    return _UNSTORABLE.sub(lambda m: "\ufffd" if mark or _SURROGATE.match(m.group()) else "", value)


def clean_value(value: Any, *, mark: bool = False) -> Any:
    """Clean strings, also inside dicts and lists (keys too); other values pass through."""
    if isinstance(value, str):
        return clean(value, mark=mark) if _UNSTORABLE.search(value) else value
    if isinstance(value, dict):
        return {clean_value(k, mark=mark): clean_value(v, mark=mark) for k, v in value.items()}
    if isinstance(value, list):
        return [clean_value(v, mark=mark) for v in value]
    return value


# JSON text: json.dumps escapes the C0 controls; with ensure_ascii=False, DEL, the C1 controls and
# lone surrogates stay raw
_UNSTORABLE_JSON = re.compile(r"\\u00(?:0[0-8bcef]|1[0-9a-f]|7f|[89][0-9a-f])|[\x7f-\x9f\ud800-\udfff]",
                              re.IGNORECASE)


def clean_rows(rows: list[list[Any]], columns: Sequence[str], json_columns: Collection[str] = (),
               address_columns: Collection[str] = ()) -> list[int]:
    """Clean every text value of ``rows`` (lists of values for ``columns``) in place; return the
    positions of the rows changed.

    ``json_columns`` hold JSON text, whose escaped control characters are cleaned too;
    ``address_columns`` hold email addresses, cleaned with ``mark``. A column is first searched as
    one joined string (one regex pass in C), so the common case, a chunk with nothing to clean,
    costs no Python call per value.
    """
    changed: set[int] = set()
    for at, column in enumerate(columns):
        is_json, mark = column in json_columns, column in address_columns
        joined = "\n".join([v for row in rows if isinstance(v := row[at], str)])  # a list joins faster
        if not (_UNSTORABLE_JSON if is_json else _UNSTORABLE).search(joined):
            continue
        for i, row in enumerate(rows):
            old = row[at]
            new = _clean_json(old, mark) if is_json else clean_value(old, mark=mark)
            if new is not old and new != old:
                row[at] = new
                changed.add(i)
    return sorted(changed)


def _clean_json(text: Any, mark: bool) -> Any:
    if not isinstance(text, str) or not _UNSTORABLE_JSON.search(text):
        return text
    return json.dumps(clean_value(json.loads(text), mark=mark), ensure_ascii=False)
