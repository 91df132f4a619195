"""Compact in-memory records of the Action Network emulator, and the kinds of actions.

Records use ``__slots__`` and tuples so a million people fit in about a gigabyte; the JSON an API
client sees is built from them on demand (see :mod:`.hal`). Dates are whole epoch seconds (UTC),
which is the precision Action Network itself serves.
"""

from __future__ import annotations

import calendar
import gc
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, NamedTuple

EMAIL_STATUSES = ("subscribed", "unsubscribed", "bouncing", "previous bounce", "spam complaint",
                  "previous spam complaint")


def format_time(seconds: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def parse_time(text: str) -> int:
    """Epoch seconds of ``2014-03-25``, ``2014-03-25T15:26:45Z`` or ``...+00:00`` (fractions dropped)."""
    text = text.strip()
    if len(text) == 10:
        return calendar.timegm(time.strptime(text, "%Y-%m-%d"))
    text = text.replace(" ", "T").removesuffix("Z").removesuffix("+00:00").split(".")[0]
    return calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%S"))


@contextmanager
def bulk_allocation() -> Iterator[None]:
    """Pause the cyclic GC: these records hold no cycles, and its passes over millions of young
    objects would otherwise take a third of the time of generating or loading a million people."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class Email(NamedTuple):
    address: str
    status: str
    primary: bool


class Phone(NamedTuple):
    number: str
    number_type: str
    status: str
    primary: bool


class Address(NamedTuple):
    address_lines: tuple[str, ...]
    locality: str | None
    region: str | None
    postal_code: str | None
    country: str | None  # real primary addresses sometimes lack it
    latitude: float | None
    longitude: float | None
    accuracy: str | None
    primary: bool


class Person:
    """An activist. ``identifiers`` is None unless foreign identifiers exist (then it holds all, in order)."""

    __slots__ = ("id", "created", "modified", "given_name", "family_name", "emails", "phones",
                 "addresses", "custom_fields", "languages", "identifiers", "activity")

    def __init__(self, id: str, created: int, modified: int, given_name: str | None = None,
                 family_name: str | None = None, emails: list[Email] | None = None,
                 phones: list[Phone] | None = None, addresses: list[Address] | None = None,
                 custom_fields: dict[str, Any] | None = None, languages: tuple[str, ...] = ("en",),
                 identifiers: list[str] | None = None) -> None:
        self.id = id
        self.created = created
        self.modified = modified
        self.given_name = given_name
        self.family_name = family_name
        self.emails = emails or []
        self.phones = phones  # None: the record has no phone_numbers key at all
        self.addresses = addresses or []
        self.custom_fields = custom_fields
        self.languages = languages
        self.identifiers = identifiers
        self.activity: list[Participation] | None = None  # everything this person did, any kind

    def all_identifiers(self) -> list[str]:
        return self.identifiers or [f"action_network:{self.id}"]

    def primary_email(self) -> Email | None:
        return next((e for e in self.emails if e.primary), None)


class Tag:
    __slots__ = ("id", "created", "modified", "name")

    def __init__(self, id: str, created: int, modified: int, name: str) -> None:
        self.id, self.created, self.modified, self.name = id, created, modified, name


class Action:
    """A form, petition, event, event campaign, fundraising page, advocacy campaign or survey."""

    __slots__ = ("id", "kind", "created", "modified", "fields", "api_created", "creator_id",
                 "campaign_id", "ticketed", "identifiers")

    def __init__(self, id: str, kind: str, created: int, modified: int, fields: dict[str, Any],
                 api_created: bool = False, creator_id: str | None = None, campaign_id: str | None = None,
                 ticketed: bool = False, identifiers: list[str] | None = None) -> None:
        self.id = id
        self.kind = kind
        self.created = created
        self.modified = modified
        self.fields = fields  # title, origin_system, description, ... as served
        self.api_created = api_created
        self.creator_id = creator_id
        self.campaign_id = campaign_id  # events: their event campaign
        self.ticketed = ticketed  # ticketed events are not represented on the REST API
        self.identifiers = identifiers


class Participation:
    """A submission, signature, attendance, donation, outreach, survey response or tagging
    (``parent_id``: action or tag)."""

    __slots__ = ("id", "kind", "created", "modified", "person_id", "parent_id", "fields", "identifiers")

    def __init__(self, id: str, kind: str, created: int, modified: int, person_id: str, parent_id: str,
                 fields: dict[str, Any] | None = None, identifiers: list[str] | None = None) -> None:
        self.id = id
        self.kind = kind
        self.created = created
        self.modified = modified
        self.person_id = person_id
        self.parent_id = parent_id
        self.fields = fields  # kind-specific fields as served; often one shared dict
        self.identifiers = identifiers  # None unless foreign identifiers were given (then all, AN's first)


@dataclass(frozen=True)
class ActionKind:
    collection: str  # URL segment, e.g. "forms"
    singular: str  # e.g. "form", used in ids ("action_network:form_id") and errors
    child: str  # participation collection, e.g. "submissions"
    child_singular: str
    helper: str  # the record_*_helper link name
    total: str  # e.g. "total_submissions"
    namespace: str = "osdi"  # of the collection's rel, and of a child's link to its action
    child_namespace: str = "osdi"  # of the children's rel and helper link
    api_only_children: bool = False  # donations/outreaches may be POSTed only to API-created actions
    filter_fields: tuple[str, ...] = ()

    @property
    def rel(self) -> str:
        return f"{self.namespace}:{self.collection}"

    @property
    def child_rel(self) -> str:
        return f"{self.child_namespace}:{self.child}"


ACTION_FILTERS = ("identifier", "created_date", "modified_date", "origin_system", "title")

ACTION_KINDS: dict[str, ActionKind] = {k.collection: k for k in (
    ActionKind("forms", "form", "submissions", "submission", "record_submission_helper",
               "total_submissions", filter_fields=ACTION_FILTERS),
    ActionKind("petitions", "petition", "signatures", "signature", "record_signature_helper",
               "total_signatures", filter_fields=ACTION_FILTERS),
    ActionKind("events", "event", "attendances", "attendance", "record_attendance_helper",
               "total_accepted", filter_fields=(*ACTION_FILTERS, "start_date", "end_date")),
    ActionKind("fundraising_pages", "fundraising_page", "donations", "donation", "record_donation_helper",
               "total_donations", api_only_children=True, filter_fields=ACTION_FILTERS),
    ActionKind("advocacy_campaigns", "advocacy_campaign", "outreaches", "outreach",
               "record_outreach_helper", "total_outreaches", api_only_children=True,
               filter_fields=ACTION_FILTERS),
    ActionKind("event_campaigns", "event_campaign", "events", "event", "", "total_events",
               namespace="action_network", filter_fields=ACTION_FILTERS),
    # Surveys (2024) and their responses live in the action_network: namespace (reference §3.12).
    ActionKind("surveys", "survey", "responses", "response", "record_response_helper", "total_responses",
               namespace="action_network", child_namespace="action_network", filter_fields=ACTION_FILTERS),
)}

# Fields every action of a kind carries unless told otherwise, generated or POSTed (docs examples;
# Parsons' fixtures). Events are public, confirmed and remind a day before, as the UI's defaults are.
ACTION_DEFAULTS: dict[str, dict[str, Any]] = {
    "events": {"status": "confirmed", "visibility": "public", "transparence": "opaque",
               "guests_can_invite_others": True, "reminders": [{"method": "email", "minutes": 1440}]},
    "fundraising_pages": {"currency": "USD"},
}


def action_defaults(kind: str) -> dict[str, Any]:
    """A fresh copy of the defaults (events' reminders are a list the caller may change)."""
    return {"action_network:hidden": False,
            **{k: list(v) if isinstance(v, list) else v for k, v in ACTION_DEFAULTS.get(kind, {}).items()}}


# participation kind -> the action kind it belongs to ("taggings" belong to tags)
PARENT_OF: dict[str, str] = {k.child: k.collection for k in ACTION_KINDS.values() if k.child != "events"}
PARTICIPATION_FILTERS = ("identifier", "created_date", "modified_date")
SINGULAR: dict[str, str] = {**{k.child: k.child_singular for k in ACTION_KINDS.values()}, "taggings": "tagging"}
# participation kind -> its collection's rel (``osdi:signatures``, ``action_network:responses`` ...)
CHILD_REL: dict[str, str] = {**{k.child: k.child_rel for k in ACTION_KINDS.values()}, "taggings": "osdi:taggings"}


@dataclass
class Dataset:
    """Everything a seed holds; :meth:`Store.load` takes it in one go."""

    people: list[Person] = field(default_factory=list)
    tags: list[Tag] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)
    participations: list[Participation] = field(default_factory=list)
    custom_fields: dict[str, int] = field(default_factory=dict)  # name -> created (epoch seconds)
    owner_id: str | None = None  # the group's owner: creator of actions POSTed without one
    ticket_purchases: int = 0  # ticketed events' purchases: recorded nowhere visible on the API

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {"people": len(self.people), "tags": len(self.tags),
                                  "ticket_purchases": self.ticket_purchases}
        for record in (*self.actions, *self.participations):
            counts[record.kind] = counts.get(record.kind, 0) + 1
        return counts
