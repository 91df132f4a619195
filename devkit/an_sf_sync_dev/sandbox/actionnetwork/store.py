"""The emulator's data: people, tags, actions and participations, with Action Network's write rules.

Choices where Action Network's behaviour is unconfirmed:

* Matching on the person signup helper and action helpers: by email (trimmed, case-insensitive,
  any of the person's addresses), else by phone digits. Phone numbers are never moved between
  people and phone-only records are never merged.
* Email addresses must look like ``local@domain.tld`` on writes (400 otherwise); seeded data may
  hold anything, like real lists do.
* PUT ``email_addresses`` entries: one naming an existing address updates it; one without an
  address updates the primary (so ``[{"status": "unsubscribed"}]`` unsubscribes); a new address
  flagged ``primary`` replaces the primary address, an unflagged one is added. An address held
  by another person is refused with 400.
* Email statuses accepted on writes: ``subscribed``/``unsubscribed`` on the signup helper and PUT,
  only ``subscribed`` on action helpers; anything else is 400.
* Tags are matched by name case-insensitively; a tagging or an action bumps the person's
  ``modified_date`` but not the action's.
* Donations and outreaches on a page/campaign not created through the API: 400.
* The group's owner, who creates actions POSTed without ``_links.osdi:creator``, is the dataset's
  ``owner_id`` or else the first person the store ever held; an empty store has none, so its
  actions have no creator until someone signs up.
"""

from __future__ import annotations

import bisect
import re
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from operator import attrgetter
from typing import Any

from .records import (
    ACTION_KINDS,
    EMAIL_STATUSES,
    PARENT_OF,
    SINGULAR,
    Action,
    Address,
    Dataset,
    Email,
    Participation,
    Person,
    Phone,
    Tag,
    action_defaults,
    bulk_allocation,
    parse_time,
)

_by_id = attrgetter("id")
_VALID_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_CACHE_SIZE = 32
_CACHE_FROM = 1000  # records scanned before a filtered result is worth caching
# One per person per action. Survey responses are not: whether Action Network deduplicates them is
# unconfirmed, and the conservative emulation keeps every POST, so a client that posts twice shows.
DEDUPED = {"submissions", "signatures", "attendances", "taggings"}


class NotFound(Exception):
    """404 ``{"error": "Couldn't find <thing> with id = <id>"}``."""

    def __init__(self, thing: str, id: str) -> None:
        super().__init__(f"Couldn't find {thing} with id = {id}")


class Invalid(Exception):
    """400 ``{"error": <message>}``."""


def new_id() -> str:
    return str(uuid.uuid4())


def now() -> int:
    return int(time.time())


def _digits(number: str) -> str:
    return re.sub(r"\D", "", number)


def _href_id(body: Any) -> str | None:
    """The person id at the end of ``_links.osdi:person.href``, if any."""
    try:
        href = body["_links"]["osdi:person"]["href"]
    except (KeyError, TypeError):
        return None
    return href.rstrip("/").rsplit("/", 1)[-1] if isinstance(href, str) else None


class Store:
    """Thread-safe, in-memory data with the indexes the API needs (order, email, phone, children)."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.people: dict[str, Person] = {}
            self.people_order: list[Person] = []  # by uuid: stable, not chronological
            self.email_index: dict[str, str] = {}
            self.phone_index: dict[str, str] = {}
            self.tags: dict[str, Tag] = {}
            self.tag_order: list[Tag] = []
            self.actions: dict[str, Action] = {}
            self.action_order: dict[str, list[Action]] = {kind: [] for kind in ACTION_KINDS}
            self.participations: dict[str, Participation] = {}
            self.children: dict[str, list[Any]] = {}  # action/tag/event campaign id -> records
            self.donation_order: list[Participation] = []
            self.custom_fields: dict[str, int] = {}
            self.owner_id: str | None = None
            self.ticket_purchases = 0
            self.version = 0
            self._cache: dict[tuple[str, str], tuple[int, list[Any]]] = {}

    # ---- bulk loading ------------------------------------------------------------------------

    def load(self, dataset: Dataset) -> dict[str, int]:
        """Add a generated or parsed dataset; indexes are rebuilt once, so a million people load fast."""
        with self.lock, bulk_allocation():
            people = self.people
            for person in dataset.people:
                people[person.id] = person
                self._index_person(person)
            self.people_order = sorted(people.values(), key=_by_id)
            self.owner_id = self.owner_id or dataset.owner_id or (dataset.people[0].id if dataset.people else None)
            for tag in dataset.tags:
                self.tags[tag.id] = tag
            self.tag_order = sorted(self.tags.values(), key=_by_id)
            for action in dataset.actions:
                self.actions[action.id] = action
                if action.campaign_id and not action.ticketed:
                    self.children.setdefault(action.campaign_id, []).append(action)
            for kind, order in self.action_order.items():
                order[:] = sorted((a for a in self.actions.values() if a.kind == kind and not a.ticketed),
                                  key=_by_id)
            participations, children = self.participations, self.children
            for record in dataset.participations:
                participations[record.id] = record
                children.setdefault(record.parent_id, []).append(record)
                person = people.get(record.person_id)
                if person is None:
                    raise Invalid(f"{record.kind} {record.id} names an unknown person {record.person_id}")
                if person.activity is None:
                    person.activity = [record]
                else:
                    person.activity.append(record)
            self.donation_order = sorted((r for r in participations.values() if r.kind == "donations"),
                                         key=_by_id)
            for name, created in dataset.custom_fields.items():
                self.custom_fields.setdefault(name, created)
            self.ticket_purchases += dataset.ticket_purchases
            self.version += 1
            return self.counts()

    def load_records(self, records: dict[str, Any]) -> dict[str, int]:
        """Seed explicit records given as API-shaped JSON plus ``id``/``created_date``/``modified_date``."""
        return self.load(dataset_from_json(records))

    def counts(self) -> dict[str, int]:
        with self.lock:
            counts = {"people": len(self.people), "tags": len(self.tags),
                      "ticket_purchases": self.ticket_purchases}
            for record in (*self.actions.values(), *self.participations.values()):
                counts[record.kind] = counts.get(record.kind, 0) + 1
            return counts

    def _index_person(self, person: Person) -> None:
        for email in person.emails:
            self.email_index.setdefault(email.address.strip().lower(), person.id)
        for phone in person.phones or ():
            self.phone_index.setdefault(_digits(phone.number), person.id)

    def _touch(self) -> None:
        self.version += 1

    # ---- reads -------------------------------------------------------------------------------

    def select(self, key: str, source: Callable[[], Sequence[Any]], predicate: Callable[[Any], bool] | None,
               filter_text: str) -> Sequence[Any]:
        """``source()`` narrowed by ``predicate``; scans of big sources are cached until the next write,
        so paging through a filtered million costs one scan, not one per page."""
        with self.lock:
            records = source()
            if predicate is None:
                return records
            cached = self._cache.get((key, filter_text))
            if cached and cached[0] == self.version:
                return cached[1]
            selected = [r for r in records if predicate(r)]
            if len(records) < _CACHE_FROM:
                return selected
            if len(self._cache) >= _CACHE_SIZE:
                self._cache.pop(next(iter(self._cache)))
            self._cache[(key, filter_text)] = (self.version, selected)
            return selected

    def person(self, id: str) -> Person:
        person = self.people.get(id)
        if person is None:
            raise NotFound("person", id)
        return person

    def action(self, kind: str, id: str) -> Action:
        action = self.actions.get(id)
        if action is None or action.kind != kind or action.ticketed:
            raise NotFound(ACTION_KINDS[kind].singular, id)
        return action

    def tag(self, id: str) -> Tag:
        tag = self.tags.get(id)
        if tag is None:
            raise NotFound("tag", id)
        return tag

    def participation(self, kind: str, id: str, parent_id: str | None = None) -> Participation:
        record = self.participations.get(id)
        if record is None or record.kind != kind or (parent_id and record.parent_id != parent_id):
            raise NotFound(SINGULAR[kind], id)
        return record

    def activity(self, person_id: str, kind: str) -> list[Participation]:
        return [r for r in self.person(person_id).activity or () if r.kind == kind]

    def find_by_email(self, email: str) -> Person | None:
        id = self.email_index.get(email.strip().lower())
        return self.people.get(id) if id else None

    # ---- people writes -----------------------------------------------------------------------

    def signup(self, body: Any, status_rule: str = "signup") -> tuple[Person, bool]:
        """The person signup helper: upsert by email/phone, then ``add_tags``/``remove_tags``."""
        if not isinstance(body, dict) or not isinstance(body.get("person"), dict):
            raise Invalid("You must specify a person")
        data = body["person"]
        emails = [e for e in data.get("email_addresses") or () if isinstance(e, dict) and e.get("address")]
        phones = [p for p in data.get("phone_numbers") or () if isinstance(p, dict) and p.get("number")]
        if not emails and not phones:
            raise Invalid("You must specify an email address or a phone number")
        with self.lock:
            match = None
            for entry in emails:
                match = match or self.find_by_email(entry["address"])
            for entry in phones:
                match = match or self.people.get(self.phone_index.get(_digits(entry["number"]), ""))
            at = now()
            created = match is None
            person = Person(new_id(), at, at) if created else match
            self._apply(person, data, status_rule)
            if created:
                self.people[person.id] = person
                bisect.insort(self.people_order, person, key=_by_id)
                self.owner_id = self.owner_id or person.id
            person.modified = at
            self._index_person(person)
            self._retag(person, body.get("add_tags"), body.get("remove_tags"), at)
            self._touch()
            return person, created

    def update_person(self, id: str, data: Any) -> Person:
        """PUT: upsert fields; only an explicit null removes."""
        if not isinstance(data, dict):
            raise Invalid("The request body must be a JSON object")
        with self.lock:
            person = self.person(id)
            self._apply(person, data, "signup")
            person.modified = now()
            self._index_person(person)
            self._touch()
            return person

    def _apply(self, person: Person, data: dict[str, Any], status_rule: str) -> None:
        _check_emails(data.get("email_addresses"), status_rule)
        for key, attr in (("given_name", "given_name"), ("family_name", "family_name")):
            if key in data:
                setattr(person, attr, data[key] if data[key] is None else str(data[key]))
        for entry in data.get("email_addresses") or ():
            self._apply_email(person, entry)
        if "phone_numbers" in data:
            for entry in data["phone_numbers"] or ():
                _apply_phone(person, entry)
        if "postal_addresses" in data:
            for entry in data["postal_addresses"] or ():
                _apply_address(person, entry)
        if isinstance(data.get("custom_fields"), dict):
            fields = dict(person.custom_fields or {})
            for name, value in data["custom_fields"].items():
                if value is None:
                    fields.pop(name, None)
                else:
                    fields[name] = value
                    self.custom_fields.setdefault(name, now())
            person.custom_fields = fields
        if isinstance(data.get("languages_spoken"), list):
            person.languages = tuple(map(str, data["languages_spoken"]))
        foreign = [i for i in data.get("identifiers") or () if isinstance(i, str) and ":" in i
                   and not i.startswith("action_network:")]
        if foreign:
            person.identifiers = list(dict.fromkeys([*person.all_identifiers(), *foreign]))

    def _apply_email(self, person: Person, entry: dict[str, Any]) -> None:
        status = entry.get("status")
        address = (entry.get("address") or "").strip()
        emails = person.emails
        index = next((i for i, e in enumerate(emails) if e.address.strip().lower() == address.lower()), None) \
            if address else next((i for i, e in enumerate(emails) if e.primary), None)
        if index is not None:
            old = emails[index]
            emails[index] = old._replace(status=status or old.status,
                                         primary=old.primary or bool(entry.get("primary")))
            if emails[index].primary and not old.primary:
                emails[:] = [e._replace(primary=False) if i != index else e for i, e in enumerate(emails)]
            return
        if not address:
            return
        owner = self.email_index.get(address.lower())
        if owner and owner != person.id:
            raise Invalid(f"The email address {address} belongs to another person")
        new = Email(address, status or "subscribed", True)
        primary = next((i for i, e in enumerate(emails) if e.primary), None)
        if primary is None:
            emails.append(new)
        elif entry.get("primary"):
            self.email_index.pop(emails[primary].address.strip().lower(), None)
            emails[primary] = new._replace(status=status or emails[primary].status)
        else:
            emails.append(new._replace(primary=False))

    def _retag(self, person: Person, add: Any, remove: Any, at: int) -> None:
        by_name = {t.name.lower(): t for t in self.tags.values()}
        for name in add or ():
            tag = by_name.get(str(name).lower())
            if tag is not None:
                self._tagging(tag, person, at)
        for name in remove or ():
            tag = by_name.get(str(name).lower())
            for record in [r for r in person.activity or () if r.kind == "taggings" and tag
                           and r.parent_id == tag.id]:
                self._drop(record)

    # ---- tags --------------------------------------------------------------------------------

    def create_tag(self, body: Any) -> Tag:
        name = body.get("name") if isinstance(body, dict) else None
        if not isinstance(name, str) or not name.strip():
            raise Invalid("You must specify a name for the tag")
        with self.lock:
            existing = next((t for t in self.tags.values() if t.name.lower() == name.lower()), None)
            if existing:
                return existing
            at = now()
            tag = Tag(new_id(), at, at, name)
            self.tags[tag.id] = tag
            bisect.insort(self.tag_order, tag, key=_by_id)
            self._touch()
            return tag

    def add_tagging(self, tag_id: str, body: Any) -> Participation:
        with self.lock:
            tag = self.tag(tag_id)
            person = self.people.get(_href_id(body) or "")
            if person is None:
                raise Invalid("You must specify a valid person id")
            record = self._tagging(tag, person, now())
            self._touch()
            return record

    def _tagging(self, tag: Tag, person: Person, at: int) -> Participation:
        existing = next((r for r in person.activity or () if r.kind == "taggings" and r.parent_id == tag.id),
                        None)
        person.modified = at
        if existing:
            return existing
        record = Participation(new_id(), "taggings", at, at, person.id, tag.id, _TAGGING_FIELDS)
        self._attach(record, person)
        return record

    def delete_tagging(self, tag_id: str, id: str) -> None:
        with self.lock:
            self.tag(tag_id)
            record = self.participation("taggings", id, tag_id)
            self._drop(record)
            self.people[record.person_id].modified = now()
            self._touch()

    def _attach(self, record: Participation, person: Person) -> None:
        self.participations[record.id] = record
        self.children.setdefault(record.parent_id, []).append(record)
        if person.activity is None:
            person.activity = []
        person.activity.append(record)
        if record.kind == "donations":
            bisect.insort(self.donation_order, record, key=_by_id)

    def _drop(self, record: Participation) -> None:
        del self.participations[record.id]
        self.children[record.parent_id].remove(record)
        self.people[record.person_id].activity.remove(record)

    # ---- actions -----------------------------------------------------------------------------

    def create_action(self, kind: str, body: Any, campaign_id: str | None = None) -> Action:
        """POST of an action: flagged API-created, ``origin_system`` as given."""
        if not isinstance(body, dict) or not isinstance(body.get("title"), str) or not body["title"].strip():
            raise Invalid("You must specify a title")
        with self.lock:
            if campaign_id:
                self.action("event_campaigns", campaign_id)
            creator = self._creator(body)
            at = now()
            fields = {**action_defaults(kind), **{
                k: v for k, v in body.items() if k not in ("_links", "identifiers", "created_date", "modified_date")
                and not k.startswith("total_")}}
            action = Action(new_id(), kind, at, at, fields, api_created=True, creator_id=creator,
                            campaign_id=campaign_id)
            action.identifiers = _with_foreign(action.id, body)
            self.actions[action.id] = action
            bisect.insort(self.action_order[kind], action, key=_by_id)
            if campaign_id:
                self.children.setdefault(campaign_id, []).append(action)
            self._touch()
            return action

    def update_action(self, kind: str, id: str, body: Any) -> Action:
        if not isinstance(body, dict):
            raise Invalid("The request body must be a JSON object")
        with self.lock:
            action = self.action(kind, id)
            for key, value in body.items():
                if key in ("_links", "identifiers", "created_date", "modified_date") or key.startswith("total_"):
                    continue
                if value is None:
                    action.fields.pop(key, None)
                else:
                    action.fields[key] = value
            action.modified = now()
            self._touch()
            return action

    def _creator(self, body: dict[str, Any]) -> str | None:
        links = body.get("_links")
        if not isinstance(links, dict) or "osdi:creator" not in links:
            return None
        person_id = _href_id({"_links": {"osdi:person": links["osdi:creator"]}})
        if person_id not in self.people:
            raise Invalid("You must specify a valid person id")
        return person_id

    def participate(self, kind: str, action_id: str, body: Any) -> Participation:
        """A record_*_helper POST (inline ``person``) or a plain POST (``_links.osdi:person``)."""
        parent_kind = PARENT_OF[kind]
        if not isinstance(body, dict):
            raise Invalid("The request body must be a JSON object")
        with self.lock:
            action = self.action(parent_kind, action_id)
            if ACTION_KINDS[parent_kind].api_only_children and not action.api_created:
                raise Invalid(f"You can only add {kind} to {parent_kind.replace('_', ' ')} created via the API")
            if isinstance(body.get("person"), dict):
                person, _ = self.signup(body, status_rule="action")
            else:
                person = self.people.get(_href_id(body) or "")
                if person is None:
                    raise Invalid("You must specify a valid person id")
            at = now()
            person.modified = at
            existing = next((r for r in person.activity or () if r.kind == kind and r.parent_id == action.id),
                            None) if kind in DEDUPED else None
            if existing:
                existing.modified = at
                self._touch()
                return existing
            created = body.get("created_date")
            try:
                created_at = parse_time(created) if isinstance(created, str) else at
            except ValueError:
                raise Invalid(f"Invalid created_date: {created}") from None
            record = Participation(new_id(), kind, created_at, at, person.id, action.id,
                                   _participation_fields(kind, body, action))
            record.identifiers = _with_foreign(record.id, body)
            self._attach(record, person)
            if not isinstance(body.get("person"), dict):
                self._retag(person, body.get("add_tags"), None, at)
            self._touch()
            return record


_TAGGING_FIELDS = {"item_type": "osdi:person"}


def _with_foreign(id: str, body: dict[str, Any]) -> list[str] | None:
    """A new record's identifiers: Action Network's own, then any foreign ones the POST carried."""
    foreign = [i for i in body.get("identifiers") or () if isinstance(i, str) and ":" in i
               and not i.startswith("action_network:")]
    return list(dict.fromkeys([f"action_network:{id}", *foreign])) if foreign else None


def _check_emails(entries: Any, status_rule: str) -> None:
    """Refuse the whole write up front, so a bad entry leaves the person untouched."""
    if entries is None:
        return
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise Invalid("email_addresses must be a list of objects")
    allowed = ("subscribed",) if status_rule == "action" else ("subscribed", "unsubscribed")
    for entry in entries:
        status = entry.get("status")
        if status is not None and status not in allowed:
            raise Invalid(f"'{status}' is not a valid email status here; use {' or '.join(allowed)}")
        address = (entry.get("address") or "").strip()
        if address and not _VALID_EMAIL.match(address):
            raise Invalid(f"'{address}' is not a valid email address")


def _participation_fields(kind: str, body: dict[str, Any], action: Action) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if isinstance(body.get("action_network:referrer_data"), dict):
        fields["action_network:referrer_data"] = body["action_network:referrer_data"]
    if kind == "signatures" and body.get("comments"):
        fields["comments"] = str(body["comments"])
    elif kind == "attendances":
        fields["status"] = "accepted"
    elif kind == "outreaches":
        fields.update(type=body.get("type", "email"), targets=body.get("targets") or [])
        fields.update({k: body[k] for k in ("subject", "message") if k in body})
    elif kind == "donations":
        recipients = body.get("recipients")
        if not isinstance(recipients, list) or not recipients:
            raise Invalid("You must specify at least one recipient with an amount")
        try:
            total = sum(float(r.get("amount") or 0) for r in recipients)
        except (TypeError, ValueError, AttributeError):
            raise Invalid("Recipient amounts must be decimal strings") from None
        fields.update(currency=body.get("currency") or action.fields.get("currency", "USD"),
                      amount=f"{total:.2f}", recipients=recipients,
                      payment=body.get("payment") or {"method": "EFT", "authorization_stored": False})
        fields["action_network:recurrence"] = body.get("action_network:recurrence") or {"recurring": False}
    return fields


def _apply_phone(person: Person, entry: Any) -> None:
    if not isinstance(entry, dict) or not entry.get("number"):
        return
    phones = person.phones = list(person.phones or ())
    digits = _digits(str(entry["number"]))
    index = next((i for i, p in enumerate(phones) if _digits(p.number) == digits), None)
    if index is not None:
        phones[index] = phones[index]._replace(status=entry.get("status") or phones[index].status)
    else:  # a new mobile number is unsubscribed unless told otherwise
        phones.append(Phone(str(entry["number"]), entry.get("number_type", "Mobile"),
                            entry.get("status") or "unsubscribed", not phones))


def _apply_address(person: Person, entry: Any) -> None:
    if not isinstance(entry, dict):
        return
    location = entry.get("location") if isinstance(entry.get("location"), dict) else {}
    changes: dict[str, Any] = {k: entry[k] for k in ("locality", "region", "postal_code", "country") if k in entry}
    if "address_lines" in entry:
        changes["address_lines"] = tuple(entry["address_lines"] or ())
    changes.update({k: location[k] for k in ("latitude", "longitude", "accuracy") if k in location})
    primary = next((i for i, a in enumerate(person.addresses) if a.primary), None)
    if primary is not None and entry.get("primary", True):
        person.addresses[primary] = person.addresses[primary]._replace(**changes)
    else:
        blank = Address((), None, None, None, None, None, None, None, primary is None)
        person.addresses.append(blank._replace(**changes))


# ---- explicit seed records -------------------------------------------------------------------

def _dates(record: dict[str, Any], default: int) -> tuple[int, int]:
    created = parse_time(record["created_date"]) if record.get("created_date") else default
    modified = parse_time(record["modified_date"]) if record.get("modified_date") else created
    return created, modified


def _person_from_json(data: dict[str, Any], at: int) -> Person:
    created, modified = _dates(data, at)
    emails = [Email(e["address"], e.get("status", "subscribed"), bool(e.get("primary")))
              for e in data.get("email_addresses") or ()]
    if emails and not any(e.primary for e in emails):
        emails[0] = emails[0]._replace(primary=True)
    for e in emails:
        if e.status not in EMAIL_STATUSES:
            raise Invalid(f"Unknown email status '{e.status}'")
    person = Person(data.get("id") or new_id(), created, modified, data.get("given_name"),
                    data.get("family_name"), emails, custom_fields=data.get("custom_fields"),
                    identifiers=data.get("identifiers"))
    if "phone_numbers" in data:
        person.phones = [Phone(p["number"], p.get("number_type", "Mobile"), p.get("status", "subscribed"),
                               bool(p.get("primary", i == 0))) for i, p in enumerate(data["phone_numbers"])]
    for entry in data.get("postal_addresses") or ():
        _apply_address(person, entry)
    return person


def dataset_from_json(records: dict[str, Any]) -> Dataset:
    """A :class:`Dataset` from ``{"people": [...], "tags": [...], "forms": [...], "submissions": [...], ...}``.

    Records look like API resources plus optional ``id``, ``created_date`` and ``modified_date``.
    Actions take ``api_created``/``ticketed`` flags (events also ``event_campaign_id``);
    participations name ``person_id`` and their parent as ``<singular>_id`` (``form_id``,
    ``tag_id`` ...), with or without the ``action_network:`` prefix.
    """
    at = now()
    dataset = Dataset()
    dataset.people = [_person_from_json(p, at) for p in records.get("people") or ()]
    for t in records.get("tags") or ():
        created, modified = _dates(t, at)
        dataset.tags.append(Tag(t.get("id") or new_id(), created, modified, t["name"]))
    for kind in ACTION_KINDS:
        for a in records.get(kind) or ():
            created, modified = _dates(a, at)
            fields = {**action_defaults(kind), **{
                k: v for k, v in a.items() if k not in ("id", "created_date", "modified_date", "api_created",
                                                        "ticketed", "event_campaign_id",
                                                        "action_network:event_campaign_id")}}
            dataset.actions.append(Action(
                a.get("id") or new_id(), kind, created, modified, fields, bool(a.get("api_created")),
                campaign_id=a.get("event_campaign_id") or a.get("action_network:event_campaign_id"),
                ticketed=bool(a.get("ticketed"))))
    parents = {**{k: ACTION_KINDS[v].singular for k, v in PARENT_OF.items()}, "taggings": "tag"}
    for kind, singular in parents.items():
        for r in records.get(kind) or ():
            plain = {k.removeprefix("action_network:"): v for k, v in r.items()}
            created, modified = _dates(plain, at)
            fields = {k: v for k, v in r.items() if k not in ("id", "created_date", "modified_date")
                      and not k.removeprefix("action_network:").endswith("_id")}
            if kind == "taggings":
                fields = _TAGGING_FIELDS
            dataset.participations.append(Participation(
                plain.get("id") or new_id(), kind, created, modified, plain["person_id"],
                plain[f"{singular}_id"], fields))
    dataset.custom_fields = {name: at for p in dataset.people for name in p.custom_fields or ()}
    return dataset
