"""Resolving SOQL names against the emulator's object metadata, and reading parent fields.

Objects, fields and relationship names are matched case-insensitively and reported back under
their canonical spelling. Child-to-parent paths (``Contact.Account.Owner.Name``) may be up to
five relationships deep. A polymorphic reference (several ``reference_to`` types) resolves the
next name on the first listed type that has it and reads the parent from whichever type holds
the id.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from an_sf_sync_dev.sandbox.salesforce.soql_syntax import Path, soql_error

MAX_PARENT_LEVELS = 5

_CUSTOM_HINT = ("Please reference your WSDL or the describe call for the appropriate names.")


@dataclass(frozen=True)
class Field:
    name: str  # canonical API name, e.g. "LastName"
    type: str  # describe type: id, string, email, textarea, reference, datetime, date, boolean, ...
    reference_to: tuple[str, ...] = ()  # for reference fields, e.g. ("Account",)
    relationship_name: str | None = None  # e.g. "Account" for AccountId
    filterable: bool = True  # False for long text areas


class Source(Protocol):
    """What the query engine needs from the emulator's store."""

    def fields(self, sobject: str) -> dict[str, Field] | None: ...  # keys lower-cased; None = unknown

    def canonical_name(self, sobject: str) -> str | None: ...

    def rows(self, sobject: str, include_deleted: bool) -> Iterable[dict[str, Any]]: ...

    def get(self, sobject: str, record_id: str) -> dict[str, Any] | None: ...


@dataclass(frozen=True)
class Hop:
    """One child-to-parent step: follow ``ref_field`` to a row of one of ``types``."""

    name: str  # canonical relationship name, e.g. "Account"
    ref_field: str  # canonical reference field, e.g. "AccountId"
    types: tuple[str, ...]


@dataclass(frozen=True)
class Column:
    """A resolved field path; ``get(row)`` reads it from a row of the queried object."""

    name: str  # canonical, dotted for parent fields: "Account.Name"
    hops: tuple[Hop, ...]
    field: Field
    owner: str  # the sObject that holds ``field``
    get: Callable[[dict[str, Any]], Any]


class Schema:
    """Name resolution for one query execution; caches describe data and parent rows."""

    def __init__(self, source: Source, text: str) -> None:
        self.source = source
        self.text = text
        self._relationships: dict[str, dict[str, Field]] = {}
        self._parents: dict[str, tuple[str, dict[str, Any]] | None] = {}

    def sobject(self, name: str, pos: int) -> str:
        canonical = self.source.canonical_name(name)
        if canonical is None or self.source.fields(canonical) is None:
            raise soql_error("INVALID_TYPE", self.text, pos,
                             f"sObject type '{name}' is not supported. If you are attempting to use a custom "
                             f"object, be sure to append the '__c' after the entity name. {_CUSTOM_HINT}")
        return canonical

    def fields(self, sobject: str) -> dict[str, Field]:
        return self.source.fields(sobject) or {}

    def _relationship(self, sobject: str, name: str) -> Field | None:
        if sobject not in self._relationships:
            self._relationships[sobject] = {
                f.relationship_name.lower(): f for f in self.fields(sobject).values()
                if f.relationship_name and f.reference_to}
        return self._relationships[sobject].get(name.lower())

    def resolve(self, sobject: str, path: Path) -> Column:
        if len(path.parts) - 1 > MAX_PARENT_LEVELS:
            raise soql_error("MALFORMED_QUERY", self.text, path.pos,
                             f"SOQL statements cannot query more than {MAX_PARENT_LEVELS} levels of "
                             "child-to-parent relationships")
        types = (sobject,)
        hops: list[Hop] = []
        names: list[str] = []
        pos = path.pos
        for part in path.parts[:-1]:
            ref = next((r for t in types if (r := self._relationship(t, part))), None)
            if ref is None:
                raise soql_error("INVALID_FIELD", self.text, pos,
                                 f"Didn't understand relationship '{part}' in field path. If you are "
                                 "attempting to use a custom relationship, be sure to append the '__r' "
                                 f"after the custom relationship name. {_CUSTOM_HINT}")
            parent_types = tuple(self.source.canonical_name(t) or t for t in ref.reference_to)
            hops.append(Hop(ref.relationship_name or part, ref.name, parent_types))
            names.append(ref.relationship_name or part)
            types = parent_types
            pos += len(part) + 1
        last = path.parts[-1]
        owner, field = next(((t, f) for t in types if (f := self.fields(t).get(last.lower()))),
                            (types[0], None))
        if field is None:
            raise soql_error("INVALID_FIELD", self.text, pos,
                             f"No such column '{last}' on entity '{owner}'. If you are attempting to use a "
                             "custom field, be sure to append the '__c' after the custom field name. "
                             f"{_CUSTOM_HINT}")
        names.append(field.name)
        return Column(".".join(names), tuple(hops), field, owner, self._getter(tuple(hops), field.name))

    def parent(self, hop: Hop, record_id: Any) -> tuple[str, dict[str, Any]] | None:
        """The (type, row) ``record_id`` points at through ``hop``, or None."""
        if record_id is None:
            return None
        if record_id not in self._parents:
            self._parents[record_id] = next(
                ((t, row) for t in hop.types if (row := self.source.get(t, record_id)) is not None), None)
        return self._parents[record_id]

    def _getter(self, hops: tuple[Hop, ...], name: str) -> Callable[[dict[str, Any]], Any]:
        if not hops:
            return lambda row: row.get(name)
        parent = self.parent

        def get(row: dict[str, Any]) -> Any:
            for hop in hops:
                found = parent(hop, row.get(hop.ref_field))
                if found is None:
                    return None
                row = found[1]
            return row.get(name)

        return get
