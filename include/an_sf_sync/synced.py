"""What the sync syncs, declared once: each person field and each kind of Action Network action.

Extract, reconcile, load, setup and the staging schema all read these declarations at run time,
so adding a field or an action type is an entry here and nothing else:

- a person field: its place in an Action Network (OSDI) person, its Salesforce Contact field and
  default length, and its staging columns (created by the migration runner when missing);
- an action type: its collection and takers on the Action Network API, what admins call it, and
  how Contacts added to its Campaign in Salesforce are written back.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PersonField:
    """One field synced between an Action Network person and a Salesforce Contact, both ways.

    Merging is the same for every field (see ``reconcile.contacts``): the side that changed since
    the last sync wins, a conflict goes to the later modified record, and a cleared value is
    cleared on the other side too. Two fields have rules of their own, in ``rules``: the email is
    the match key, and the LastName Salesforce requires falls back to it (``rules.sf_last_name``).
    """

    name: str  # ours: plan payloads, stored base values, conflicts
    an_path: str  # in an OSDI person: "given_name", or "<collection>.<key>" of its primary entry
    an_column: str  # staging.an_people column, and the key of the client's person records
    sf_field: str  # Salesforce Contact field
    sf_column: str  # staging.sf_contacts column
    sf_length: int  # Salesforce's default length, if the org's describe gives none (values are cut to fit)
    match_key: bool = False  # the email: people are matched by it, compared trimmed and case-folded


PERSON_FIELDS: tuple[PersonField, ...] = (
    PersonField("first_name", "given_name", "given_name", "FirstName", "first_name", 40),
    PersonField("last_name", "family_name", "family_name", "LastName", "last_name", 80),
    PersonField("email", "email_addresses.address", "email", "Email", "email", 80, match_key=True),
    PersonField("street", "postal_addresses.address_lines", "street", "MailingStreet", "mailing_street", 255),
    PersonField("city", "postal_addresses.locality", "city", "MailingCity", "mailing_city", 40),
    PersonField("state", "postal_addresses.region", "state", "MailingState", "mailing_state", 80),
    PersonField("postal_code", "postal_addresses.postal_code", "postal_code", "MailingPostalCode",
                "mailing_postal_code", 20),
)


def person_fields() -> tuple[PersonField, ...]:
    """The declared person fields, read when used (a test may declare one more)."""
    return PERSON_FIELDS


def person_field(name: str) -> PersonField:
    return next(f for f in person_fields() if f.name == name)


def email_field() -> PersonField:
    return next(f for f in person_fields() if f.match_key)


@dataclass(frozen=True)
class ActionType:
    """One kind of Action Network action, synced as a Salesforce Campaign (its takers as members)."""

    name: str  # Action Network's singular: "petition"
    collection: str  # its collection on the API ("petitions"), listed by the entry point
    rel: str  # the collection's embedded key
    takers: str | None  # the takers' collection under an action ("signatures"); None: none on the API
    takers_rel: str | None
    label: str | None  # what an admin calls it; None: never synced as a Campaign (nor read)
    joinable: bool = False  # a Contact added to its Campaign becomes a taker (record-submission helper)
    deduplicated: bool = True  # Action Network keeps one taker per person; else a write carries an identifier
    takers_from_donations: bool = False  # takers come from the global /donations feed, not per action


ACTION_TYPES: tuple[ActionType, ...] = (
    ActionType("form", "forms", "osdi:forms", "submissions", "osdi:submissions", "form", joinable=True),
    ActionType("petition", "petitions", "osdi:petitions", "signatures", "osdi:signatures", "petition",
               joinable=True),
    ActionType("event", "events", "osdi:events", "attendances", "osdi:attendances", "event", joinable=True),
    ActionType("fundraising_page", "fundraising_pages", "osdi:fundraising_pages", "donations", "osdi:donations",
               "fundraising page", deduplicated=False, takers_from_donations=True),
    ActionType("advocacy_campaign", "advocacy_campaigns", "osdi:advocacy_campaigns", "outreaches",
               "osdi:outreaches", "letter campaign", deduplicated=False),
    # Event campaigns have no takers of their own: their events are read as events.
    ActionType("event_campaign", "event_campaigns", "action_network:event_campaigns", None, None, None),
    ActionType("survey", "surveys", "action_network:surveys", "responses", "action_network:responses", "survey",
               joinable=True, deduplicated=False),  # deduplication unconfirmed: assumed not
)


def action_types() -> dict[str, ActionType]:
    """Every known action type by name, read when used (a test may declare one more)."""
    return {a.name: a for a in ACTION_TYPES}


def synced_action_types() -> dict[str, ActionType]:
    """The action types synced as Campaigns (and read by extract)."""
    return {name: a for name, a in action_types().items() if a.label}


def action_label(name: str) -> str:
    """What an admin calls an action type ("letter campaign"); one not synced goes by its name."""
    kind = synced_action_types().get(name)
    return kind.label if kind and kind.label else name


def action_type(name: str) -> ActionType:
    known = action_types()
    if name not in known:
        raise ValueError(f"unknown action type {name!r}; expected one of {sorted(known)}")
    return known[name]
