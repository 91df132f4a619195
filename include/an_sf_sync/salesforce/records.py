"""One record shape from every read path: flat dicts keyed by the selected field names.

REST query records carry ``attributes`` and nest parent fields (``{"Account": {"Name": …}}``);
Bulk API 2.0 returns CSV with ``Account.Name`` headers, every value a string, and an empty cell
for null. Both become ``{"Id": …, "Account.Name": …}``, keyed by the field names as requested, with JSON types (booleans and numbers
coerced from CSV using the object's describe), so callers never care which path ran.
Parent fields from CSV stay strings (their types would need the parent's describe).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

_NUMBER = {"double": float, "currency": float, "percent": float, "int": int, "long": int}


def flatten(record: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """A REST record without ``attributes``, parent objects flattened to dotted keys."""
    flat: dict[str, Any] = {}
    for key, value in record.items():
        if key == "attributes":
            continue
        if isinstance(value, Mapping) and "attributes" in value:
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def project(record: Mapping[str, Any], fields: list[str]) -> dict[str, Any]:
    """``record`` keyed exactly by the requested ``fields`` (matched case-insensitively; a null
    parent object leaves its dotted fields None)."""
    lower = {k.lower(): v for k, v in record.items()}
    return {f: lower.get(f.lower()) for f in fields}


def _boolean(text: str) -> bool:
    return text.lower() == "true"


def csv_converters(field_types: Mapping[str, str], columns: list[str]) -> list[Callable[[str], Any]]:
    """One converter per CSV column from describe's types (keyed by lower-case name; else ``str``)."""
    def converter(column: str) -> Callable[[str], Any]:
        kind = field_types.get(column.lower())
        if kind == "boolean":
            return _boolean
        return _NUMBER.get(kind or "", str)
    return [converter(c) for c in columns]


def from_csv_row(columns: list[str], converters: list[Callable[[str], Any]], row: list[str]) -> dict[str, Any]:
    return {c: (None if v == "" else f(v)) for c, f, v in zip(columns, converters, row, strict=True)}
