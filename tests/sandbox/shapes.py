"""Structural comparison of a sandbox response with a recorded or documented one.

Values are not compared; shapes are: key sets, JSON types, string formats (dates, ids, decimal
strings, link routes) and, for lists, every actual item against the recorded item(s). A recorded
file (``tests/sandbox/recorded/**.json``) holds the payload under ``body`` and says where it came
from under ``_source``; its ``_shape`` lists the paths real data leaves out at times
(``optional``), keys the sandbox may add (``extra``, each with a reason in ``_notes``), paths that
may be null (``nullable``), maps whose keys are data (``opaque``: only the type is compared) and
the few values that are the point of the exchange (``values``, e.g. a job's ``state``).
Paths read like ``_embedded.osdi:forms[]._links.self`` (``[]``: any list item).
"""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

RECORDED = Path(__file__).parent / "recorded"

_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_SF_ID = r"(?=[A-Za-z0-9]*\d)[A-Za-z0-9]{3}[A-Za-z0-9]{12}(?:[A-Za-z0-9]{3})?"
# checked in order: the first that matches the recorded string is the format the actual one must have
FORMATS: tuple[tuple[str, re.Pattern[str]], ...] = tuple((name, re.compile(pattern)) for name, pattern in (
    ("iso-datetime-z", r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$"),
    ("sf-datetime", r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$"),
    ("iso-date", r"^\d{4}-\d\d-\d\d$"),
    ("url", r"^https?://\S+$"),
    ("an-identifier", rf"^action_network:{_UUID}$"),
    ("foreign-identifier", r"^[a-z][a-z0-9_]*:\S+$"),
    ("uuid", rf"^{_UUID}$"),
    ("decimal-string", r"^-?\d+\.\d\d$"),
    ("sf-id", rf"^{_SF_ID}$"),
))


def string_format(value: str) -> str | None:
    return next((name for name, pattern in FORMATS if pattern.match(value)), None)


def route(url: str) -> str:
    """A URL's path with ids and versions generalised: ``/api/v2/forms/{id}/submissions``."""
    parts = urlsplit(url)
    path = re.sub(rf"/{_UUID}", "/{id}", parts.path)
    path = re.sub(rf"/{_SF_ID}(?=/|$)", "/{id}", path)
    path = re.sub(r"/v?\d+\.\d+(?=/|$)", "/{version}", path)
    return path.rstrip("/")


@dataclass
class Shape:
    """Where real payloads vary, by path (see the module docstring)."""

    optional: set[str] = field(default_factory=set)
    extra: set[str] = field(default_factory=set)
    nullable: set[str] = field(default_factory=set)
    opaque: set[str] = field(default_factory=set)
    values: set[str] = field(default_factory=set)  # paths whose value itself must be the recorded one

    @classmethod
    def of(cls, spec: dict[str, Any] | None) -> Shape:
        spec = spec or {}
        return cls(*(set(spec.get(k, ())) for k in ("optional", "extra", "nullable", "opaque", "values")))


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return {str: "string", list: "array", dict: "object"}[type(value)]


def differences(recorded: Any, actual: Any, shape: Shape | None = None, path: str = "") -> list[str]:
    """Every structural difference of ``actual`` from ``recorded``, as ``path: what`` lines."""
    shape = shape or Shape()
    where = path or "$"
    if recorded is None:  # real data shows null here: any scalar (or null) will do
        return [] if _kind(actual) not in ("array", "object") else [f"{where}: {_kind(actual)} where null was recorded"]
    if actual is None:
        return [] if path in shape.nullable else [f"{where}: null where {_kind(recorded)} was recorded"]
    if _kind(recorded) != _kind(actual):
        return [f"{where}: {_kind(actual)} where {_kind(recorded)} was recorded"]
    if path in shape.values and recorded != actual:
        return [f"{where}: {actual!r} where {recorded!r} was recorded"]
    if isinstance(recorded, dict):
        if path in shape.opaque:
            return []
        return _object_differences(recorded, actual, shape, path)
    if isinstance(recorded, list):
        return _list_differences(recorded, actual, shape, path)
    if isinstance(recorded, str):
        return _string_differences(recorded, actual, where)
    return []


def _object_differences(recorded: dict[str, Any], actual: dict[str, Any], shape: Shape, path: str) -> list[str]:
    out: list[str] = []
    prefix = f"{path}." if path else ""
    for key, value in recorded.items():
        if key.startswith("_") and key not in ("_links", "_embedded"):
            continue  # notes of the recorded file, not payload
        if key not in actual:
            if f"{prefix}{key}" not in shape.optional:
                out.append(f"{prefix}{key}: missing")
            continue
        out.extend(differences(value, actual[key], shape, f"{prefix}{key}"))
    out.extend(f"{prefix}{key}: not in the recorded payload" for key in actual
               if key not in recorded and f"{prefix}{key}" not in shape.extra)
    return out


def _list_differences(recorded: list[Any], actual: list[Any], shape: Shape, path: str) -> list[str]:
    if not recorded or path in shape.opaque:
        return []
    item_path = f"{path}[]"
    out: list[str] = []
    for item in actual:
        # an item must match one of the recorded items (real lists mix shapes, e.g. identifiers)
        tries = [differences(r, item, shape, item_path) for r in recorded]
        best = min(tries, key=len)
        out.extend(best)
    return sorted(set(out))


def _string_differences(recorded: str, actual: str, where: str) -> list[str]:
    expected = string_format(recorded)
    if expected is None:
        return []
    if expected == "url":  # an API link must lead to the same route; a web page only be a URL
        api = any(part in recorded for part in ("/api/", "/services/"))
        if string_format(actual) != "url" or (api and route(actual) != route(recorded)):
            return [f"{where}: {actual!r} does not have the recorded route {route(recorded)!r}"]
        return []
    if string_format(actual) != expected:
        return [f"{where}: {actual!r} is not a {expected} like {recorded!r}"]
    return []


@dataclass
class Recorded:
    """One recorded or documented exchange: request, status and body, with its sources."""

    name: str
    source: list[str]
    request: dict[str, Any]
    status: int
    body: Any
    shape: Shape
    content_type: str | None = None
    headers: list[str] = field(default_factory=list)

    def compare(self, actual: Any) -> list[str]:
        return differences(self.body, actual, self.shape)


def xml_shape(text: str | bytes) -> dict[str, Any]:
    """An XML document as nested dicts of local element names; a leaf is its text, None when ``xsi:nil``."""
    def convert(element: ET.Element) -> Any:
        children = list(element)
        if not children:
            nil = any(k.endswith("}nil") and v == "true" for k, v in element.attrib.items())
            return None if nil else (element.text or "")
        out: dict[str, Any] = {}
        for child in children:
            name = child.tag.rsplit("}", 1)[-1]
            value = convert(child)
            if name in out:
                out[name] = [*out[name], value] if isinstance(out[name], list) else [out[name], value]
            else:
                out[name] = value
        return out
    root = ET.fromstring(text.strip() if isinstance(text, str) else text)
    return {root.tag.rsplit("}", 1)[-1]: convert(root)}


def csv_shape(text: str) -> dict[str, Any]:
    """A CSV body as its header: what a structural comparison can say about rows of data."""
    rows = list(csv.reader(io.StringIO(text, newline="")))
    return {"header": rows[0] if rows else []}


def body_shape(content_type: str, text: str) -> Any:
    """The comparable form of a response body, by its content type."""
    if "xml" in content_type:
        return xml_shape(text)
    if "csv" in content_type:
        return csv_shape(text)
    return json.loads(text) if text else None


def load(folder: str) -> list[Recorded]:
    out = []
    for file in sorted((RECORDED / folder).glob("*.json")):
        data = json.loads(file.read_text(encoding="utf-8"))
        source = data["_source"]
        assert source, f"{file.name} names no source"
        body = data.get("body")
        if "body_xml" in data:
            body = xml_shape(data["body_xml"])
        elif "body_csv" in data:
            body = csv_shape(data["body_csv"])
        out.append(Recorded(file.stem, source if isinstance(source, list) else [source], data["request"],
                            data["status"], body, Shape.of(data.get("_shape")),
                            data.get("content_type"), data.get("headers", [])))
    return out


def ids(records: Iterable[Recorded]) -> list[str]:
    return [r.name for r in records]
