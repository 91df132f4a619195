"""Random edits on both sides through the public APIs, and the ground truth of what each one meant.

Action Network is edited with plain ``requests`` against its REST API, Salesforce with an unchanged
simple-salesforce client: the same calls an organizer's tools or a CRM admin's integrations make.
Every edit is logged (:class:`Edit`) and folded into the expected end state (:class:`Person` and
friends) that :mod:`tests.soak.verify` compares both sides with.

Identity is the email: every person the soak makes gets a fresh address, never reused, so "the
same person" on both sides is unambiguous. An activist may move to another fresh address in Action
Network (the Contact's email follows) or add another one (which does not sync); a Contact's email
may be retyped in another letter case in Salesforce (the same address: nothing stops), or changed
to another address, which stops its pair until it is set back. A person is known by the address it
was made with (:attr:`Person.email`) and found by the one it has now (:attr:`Person.address`; its
Contact by :attr:`Person.sf_moved` while that is changed). The expected value of a field is its
latest edit on either side: the sync's rule (the later change wins) once edits are seconds apart,
which :meth:`World._spaced` guarantees for the same field of the same person. Action Network edits
may carry what real records do: control characters (NUL included), emoji, values too long for the
Salesforce field (which gets them cleaned and cut to fit: :func:`in_salesforce`); its custom field
may hold a number or a boolean. Some Salesforce edits must change nothing on either side: a synced
Opportunity edited or deleted, a member removed from an action's Campaign (the spec: synced history
is neither removed from Action Network nor written again).
"""

from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import requests
from simple_salesforce import format_soql
from simple_salesforce.exceptions import SalesforceMalformedRequest

from an_sf_sync import rules, synced, text
from tests.fixtures.salesforce import merge, undelete

AN, SF = "actionnetwork", "salesforce"
# our field -> (Action Network PUT body for a value, Salesforce Contact field)
FIELDS: dict[str, tuple[Any, str]] = {
    "first_name": (lambda v: {"given_name": v}, "FirstName"),
    "last_name": (lambda v: {"family_name": v}, "LastName"),
    "street": (lambda v: {"postal_addresses": [{"address_lines": [v]}]}, "MailingStreet"),
    "city": (lambda v: {"postal_addresses": [{"locality": v}]}, "MailingCity"),
    "state": (lambda v: {"postal_addresses": [{"region": v}]}, "MailingState"),
    "postal_code": (lambda v: {"postal_addresses": [{"postal_code": v}]}, "MailingPostalCode"),
    "employer": (lambda v: {"custom_fields": {"employer": v}}, "Employer__c"),  # a custom field (Text Area (Long))
}
WORDS = ("Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Radia", "Tim")
CITIES = ("Boston", "Oslo", "Lagos", "Lima", "Pune", "Perth", "Quito", "Turin")
SPACING = 1.2  # seconds between edits of one field on both sides: modification times are whole seconds
LENGTHS = {f.name: f.sf_length for f in synced.person_fields()} | {"employer": 131072}
Value = str | int | bool | None  # a custom field's value in Action Network may be a number or a boolean
EMPLOYERS = ("Acme", "Globex", "Initech", "Umbrella", "Hooli")


def in_salesforce(name: str, value: Value) -> Value:
    """What Salesforce holds of a value edited in Action Network: cleaned of what no database
    stores, and cut to the field's length (Action Network keeps it whole)."""
    return rules.fit(text.clean(value), LENGTHS[name]) if isinstance(value, str) else value


def hostile(rng: random.Random, name: str, value: str) -> str:
    """``value`` as real records carry it now and then: with a control character, an emoji, or too
    long for its Salesforce field (emoji count two UTF-16 units there)."""
    kind = rng.choice(("control", "emoji", "long", "long_emoji"))
    if kind == "control":
        return value[:1] + rng.choice(("\x00", "\x07", "\x1b", "\x7f")) + value[1:]
    if kind == "emoji":
        return value + " \U0001f600"
    filler, units = ("\U0001f30d", 2) if kind == "long_emoji" else ("x", 1)
    return value + " " + filler * (LENGTHS[name] // units + 5)


@dataclass
class Edit:
    hour: int
    side: str
    kind: str
    key: str  # the person's email, or the action/donation key
    detail: dict[str, Any]
    at: float


@dataclass
class Person:
    email: str  # the address it was made with: its key in the soak's records
    origin: str
    an_id: str | None = None
    sf_id: str | None = None
    fields: dict[str, tuple[Value, float, str]] = field(default_factory=dict)  # value, when, side
    subscribed: tuple[bool, float, str] = (True, 0.0, AN)
    synced: bool = False  # whether both sides must hold it (Salesforce Contacts: once subscribers)
    sub_hour: int = -1  # the hour its subscription last changed (one side per hour: no conflicts)
    moved_to: str | None = None  # the address it moved to in Action Network, if it did
    sf_moved: str | None = None  # another address its Contact was given in Salesforce: the pair stops
    stopped_hour: int = -1  # the hour its Contact's email was last changed, or it was deleted, in Salesforce
    sf_deleted: bool = False  # its Contact is in Salesforce's recycle bin: the pair stops until it is restored
    stopped_waiting: bool = False  # stopped so while its first match waited: neither side holds the match's values
    duplicate: str | None = None  # a second Contact entered with its email (never synced: it lost to the first)
    duplicate_hour: int = -1

    @property
    def address(self) -> str:
        """The email it has now."""
        return self.moved_to or self.email

    def expected(self, name: str) -> Value:
        return self.fields.get(name, (None, 0.0, ""))[0]


@dataclass
class Action:
    key: str
    origin: str
    title: str
    action_type: str = "form"  # on the Action Network side
    an_id: str | None = None
    sf_id: str | None = None


@dataclass
class Donation:
    key: str
    origin: str
    donor: str  # email
    amount: str
    an_id: str | None = None
    sf_id: str | None = None
    sf_changed: str | None = None  # "amount" or "deleted": its Opportunity edited in Salesforce after it synced
    sf_amount: str | None = None  # the Opportunity's amount after that edit


class World:
    """Both sides as the soak has edited them, and the log of every edit."""

    def __init__(self, rng: random.Random, an_url: str, an_key: str, sf: Any, masters: dict[str, str],
                 page_id: str, *, switches: dict[str, bool]) -> None:
        self.rng, self.sf, self.masters, self.page_id = rng, sf, masters, page_id
        self.switches = switches
        self.an_url = an_url
        self.an = requests.Session()
        self.an.headers.update({"OSDI-API-Token": an_key, "Content-Type": "application/json"})
        self.people: dict[str, Person] = {}
        self.actions: dict[str, Action] = {}
        self.members: list[tuple[str, str, str, str | None]] = []  # (side, action key, email, taker/member id)
        self.donations: dict[str, Donation] = {}
        self.removed: set[tuple[str, str]] = set()  # (action key, email): Campaign members removed after they synced
        self.log: list[Edit] = []
        self.hour = 0
        self.last_success = 0.0  # when the last successful run started: edits before it are read
        self.waiting: set[str] = set()  # ids of the records whose change was read but waits to be written
        self.linked: set[str] = set()  # activists whose pair is linked
        self.first_matches: dict[str, str] = {}  # activist -> Contact: first matches not written yet
        self._serial = 0

    # -- plumbing ------------------------------------------------------------------------------

    def _next(self) -> int:
        self._serial += 1
        return self._serial

    def _an(self, method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self.an.request(method, self.an_url + path, json=body, timeout=30)
        response.raise_for_status()
        return response.json()

    def _an_create(self, path: str, body: dict[str, Any]) -> str:
        """POST a new resource; its Action Network id."""
        identifiers = self._an("POST", path, body)["identifiers"]
        return next(i for i in identifiers if i.startswith("action_network:")).split(":", 1)[1]

    def _add_member(self, campaign_id: str, contact_id: str) -> str | None:
        """Add a Campaign member, its Id; None if it already was one (the edit then changes nothing)."""
        try:
            return self.sf.CampaignMember.create({"CampaignId": campaign_id, "ContactId": contact_id})["id"]
        except SalesforceMalformedRequest as exc:
            if "DUPLICATE_VALUE" not in str(exc.content):
                raise
            return None

    def _record(self, side: str, kind: str, key: str, **detail: Any) -> float:
        at = time.time()
        self.log.append(Edit(self.hour, side, kind, key, detail, at))
        return at

    def _spaced(self, person: Person, name: str, side: str) -> None:
        """Wait until a change of ``name`` on ``side`` is surely later than the last one on the other side."""
        value, at, last_side = person.fields.get(name, (None, 0.0, side))
        if last_side != side:
            time.sleep(max(0.0, at + SPACING - time.time()))

    def _waits(self, person: Person) -> bool:
        """Whether a change of ``person`` was read but waits to be written (the backlog, a retry)."""
        return person.an_id in self.waiting or person.sf_id in self.waiting

    def _unsynced_side(self, person: Person, name: str) -> str | None:
        """The side whose edit of ``name`` is not synced yet (not read, or waiting), if any."""
        _, at, side = person.fields.get(name, (None, 0.0, ""))
        return side if at >= self.last_success or self._waits(person) else None

    def link_ids(self, links: dict[str, str], back: dict[str, str]) -> None:
        """Learn each person's other-side id from the sync's active links (an_id -> sf_id and back)."""
        self.linked = set(links)
        for person in self.people.values():
            if person.an_id and not person.sf_id:
                person.sf_id = links.get(person.an_id)
            elif person.sf_id and not person.an_id:
                person.an_id = back.get(person.sf_id)

    def counts(self) -> Counter:
        return Counter(f"{e.side}:{e.kind}" for e in self.log)

    # -- people ----------------------------------------------------------------------------------

    def _new_values(self) -> dict[str, str | None]:
        n = self._next()
        values = {"first_name": self.rng.choice(WORDS), "last_name": f"Soak{n}",
                  "street": f"{n} Main St", "city": self.rng.choice(CITIES), "state": "MA",
                  "postal_code": f"{self.rng.randrange(10000, 99999)}",
                  "employer": self.rng.choice(EMPLOYERS) if self.rng.random() < 0.7 else None}
        if self.switches["missing_last_names"] and self.rng.random() < 0.2:
            values["last_name"] = None
        return values

    def create_an_person(self) -> None:
        email = f"an{self._next()}.{self.rng.randrange(10**6)}@soak.example.org"
        values = self._new_values()
        subscribed = self.rng.random() < 0.9
        an_id = self._an_person(email, values, subscribed)
        at = self._record(AN, "create_person", email, an_id=an_id)
        self.people[email] = Person(email, AN, an_id=an_id, fields={k: (v, at, AN) for k, v in values.items()},
                                    subscribed=(subscribed, at, AN), synced=True, sub_hour=self.hour)

    def _an_person(self, email: str, values: dict[str, Value], subscribed: bool) -> str:
        body = {"person": {"given_name": values["first_name"], "family_name": values["last_name"],
                           "email_addresses": [{"address": email,
                                                "status": "subscribed" if subscribed else "unsubscribed"}],
                           "postal_addresses": [{"address_lines": [values["street"]], "locality": values["city"],
                                                 "region": values["state"], "postal_code": values["postal_code"]}]}}
        if values["last_name"] is None:
            del body["person"]["family_name"]
        if values["employer"] is not None:
            body["person"]["custom_fields"] = {"employer": values["employer"]}
        return self._an_create("people", body)

    def create_sf_contact(self) -> None:
        email = f"sf{self._next()}.{self.rng.randrange(10**6)}@soak.example.org"
        values = self._new_values()
        values["last_name"] = values["last_name"] or f"Soak{self._next()}"  # Salesforce requires one
        sf_id = self.sf.Contact.create({"Email": email, **{FIELDS[k][1]: v for k, v in values.items()}})["id"]
        subscribed = self.rng.random() < 0.85
        if subscribed:
            self.sf.CampaignMember.create({"CampaignId": self.masters["sf_subscribers_campaign"], "ContactId": sf_id})
        at = self._record(SF, "create_contact", email, sf_id=sf_id, subscribed=subscribed)
        self.people[email] = Person(email, SF, sf_id=sf_id, fields={k: (v, at, SF) for k, v in values.items()},
                                    subscribed=(subscribed, at, SF), synced=subscribed, sub_hour=self.hour)

    def seed(self, count: int) -> None:
        """The org before its first sync: ``count`` people on both sides (matched by email, with other
        values on each side here and there, a few entered twice in Salesforce), only in Action Network,
        or only in Salesforce (not subscribers: they stay there). Contacts are entered a second before
        or after their activists: the first match takes an empty value from the other side, and
        otherwise the later record's (a first sync of a big org waits in the backlog, edited meanwhile)."""
        people = []
        for _ in range(count):
            kind = self.rng.choice(("both", "both", "both", "an", "sf"))
            email = f"seed{self._next()}.{self.rng.randrange(10**6)}@soak.example.org"
            an_values = None if kind == "sf" else self._new_values()
            sf_values = None if kind == "an" else self._new_values()
            if an_values and sf_values:
                sf_values |= {k: v for k, v in an_values.items() if self.rng.random() < 0.4}
            if sf_values:
                sf_values["last_name"] = sf_values["last_name"] or f"Soak{self._next()}"  # Salesforce requires one
            people.append((email, an_values, sf_values, self.rng.random() < 0.9, self.rng.random() < 0.5))
        made: dict[str, dict[str, tuple[str, float]]] = {}
        for wave in ("contacts first", "activists", "contacts after"):  # a second apart: whole-second times
            for email, an_values, sf_values, subscribed, contact_first in people:
                if wave == "activists" and an_values:
                    made.setdefault(email, {})[AN] = (self._an_person(email, an_values, subscribed), time.time())
                elif wave != "activists" and sf_values and contact_first == (wave == "contacts first"):
                    made.setdefault(email, {})[SF] = (self.sf.Contact.create(
                        {"Email": email.upper() if self.rng.random() < 0.2 else email,
                         **{FIELDS[k][1]: v for k, v in sf_values.items()}})["id"], time.time())
            time.sleep(1.1)
        for email, an_values, sf_values, subscribed, _ in people:
            (an_id, an_at), (sf_id, sf_at) = made[email].get(AN, (None, 0.0)), made[email].get(SF, (None, 0.0))
            fields = {}
            for name in FIELDS:  # the first match: an empty value takes the other side's, else the later record's
                an_value, sf_value = (an_values or {}).get(name), (sf_values or {}).get(name)
                take_sf = an_value is None or (sf_value is not None and sf_at > an_at)
                fields[name] = (sf_value, sf_at, SF) if take_sf else (an_value, an_at, AN)
            person = self.people[email] = Person(email, AN if an_values else SF, an_id=an_id, sf_id=sf_id,
                                                 fields=fields, synced=bool(an_values),
                                                 subscribed=(subscribed, an_at, AN) if an_values else (False, sf_at, SF))
            if an_values and sf_values and self.rng.random() < 0.15:  # entered twice: the later Contact loses
                person.duplicate = self.sf.Contact.create({"Email": email.upper(), "LastName": f"Twin{self._next()}"})["id"]
            self._record(AN if an_values else SF, "seed", email, an_id=an_id, sf_id=sf_id, duplicate=person.duplicate)

    def _synced_people(self) -> list[Person]:
        return [p for p in self.people.values() if p.synced and p.an_id and p.sf_id and not p.sf_moved
                and not p.sf_deleted]

    def edit_field(self, side: str) -> None:
        people = self._synced_people()
        if not people:
            return
        person = self.rng.choice(people)
        names = [n for n in FIELDS if (n != "last_name" or side == SF or self.switches["an_last_name_edits"])
                 and (self.switches["same_field_conflicts"] or self._unsynced_side(person, n) in (None, side))]
        if not names:
            return
        name = self.rng.choice(names)
        n = self._next()
        # every value new: an edit that writes the value already there is no change to sync
        text = {"first_name": f"{self.rng.choice(WORDS)}{n}", "last_name": f"Soak{n}", "street": f"{n} Elm St",
                "city": self.rng.choice(CITIES) + str(n), "state": f"ST{n}", "postal_code": f"{n:05d}",
                "employer": f"{self.rng.choice(EMPLOYERS)} {n}"}[name]
        value: Value = text
        clearable = ("street", "city", "first_name", "employer")
        if self.switches["clear_fields"] and name in clearable and self.rng.random() < 0.25:
            value = None
        elif side == AN and name == "employer" and self.switches["hostile_values"] and self.rng.random() < 0.2:
            value = self.rng.choice((n, n % 2 == 0))  # custom field values in real data: numbers and booleans too
            self._record(AN, "typed_value", person.email, field=name)
        elif side == AN and self.switches["hostile_values"] and self.rng.random() < 0.3:
            value = hostile(self.rng, name, text)
            self._record(AN, "hostile_value", person.email, field=name)
        self._spaced(person, name, side)
        if side == AN:
            body = FIELDS[name][0](value)
            self._an("PUT", f"people/{person.an_id}", body)
        else:
            self.sf.Contact.update(person.sf_id, {FIELDS[name][1]: value})
        person.fields[name] = (value, self._record(side, f"edit_{name}", person.email, value=value), side)

    def edit_subscription(self, side: str) -> None:
        """Never both sides within one sync window (unsubscribing would win that conflict, not the later edit)."""
        people = [p for p in self._synced_people() if p.sub_hour < self.hour
                  and (p.subscribed[2] == side or (p.subscribed[1] < self.last_success and not self._waits(p)))]
        if not people:
            return
        person = self.rng.choice(people)
        subscribe = not person.subscribed[0]
        if side == AN:
            self._an("PUT", f"people/{person.an_id}", {"email_addresses": [
                {"address": person.address, "status": "subscribed" if subscribe else "unsubscribed"}]})
        elif subscribe:
            if not self._add_member(self.masters["sf_subscribers_campaign"], person.sf_id):
                return
        else:
            found = self.sf.query(format_soql("SELECT Id FROM CampaignMember WHERE CampaignId = {} AND ContactId = {}",
                                              self.masters["sf_subscribers_campaign"], person.sf_id))["records"]
            for member in found:
                self.sf.CampaignMember.delete(member["Id"])
            if not found:
                return
        at = self._record(side, "subscribe" if subscribe else "unsubscribe", person.email,
                          members=[m["Id"] for m in found] if side == SF and not subscribe else None)
        person.subscribed, person.sub_hour = (subscribe, at, side), self.hour

    def move_an_email(self) -> None:
        """An activist changes their primary email in Action Network: their Contact's email follows."""
        people = [p for p in self._synced_people() if not p.duplicate]
        if not people:
            return
        person = self.rng.choice(people)
        address = f"moved{self._next()}.{self.rng.randrange(10**6)}@soak.example.org"
        self._an("PUT", f"people/{person.an_id}", {"email_addresses": [{"address": address, "primary": True}]})
        person.moved_to = address
        self._record(AN, "move_email", person.email, address=address)

    def add_an_address(self) -> None:
        """An activist adds another (not primary) address in Action Network: only the primary one
        syncs, so nothing changes."""
        people = self._synced_people()
        if not people:
            return
        person = self.rng.choice(people)
        address = f"other{self._next()}.{self.rng.randrange(10**6)}@soak.example.org"
        self._an("PUT", f"people/{person.an_id}", {"email_addresses": [{"address": address}]})
        self._record(AN, "add_address", person.email, address=address)

    def recase_sf_email(self) -> None:
        """A Contact's email is retyped in Salesforce in other letters' case: the same address, so
        nothing stops and nothing is written."""
        people = self._synced_people()
        if not people:
            return
        person = self.rng.choice(people)
        email = self.sf.Contact.get(person.sf_id)["Email"]
        retyped = email.swapcase() if self.rng.random() < 0.5 else email.upper()
        if retyped == email:
            return
        self.sf.Contact.update(person.sf_id, {"Email": retyped})
        self._record(SF, "recase_email", person.email, address=retyped)

    def _settled(self, person: Person) -> bool:
        """Whether no edit of or by ``person`` waits for a run (a change that stops its pair would
        hold it back: reported, but not what the soak checks)."""
        return not self._waits(person) and not any(
            e.at >= self.last_success and person.email in (e.key, e.detail.get("email")) for e in self.log)

    def _stoppable(self) -> list[Person]:
        """The people whose pair an edit in Salesforce may stop: synced and settled, or a first match
        not written yet."""
        return [p for p in self._synced_people() if not p.duplicate and (
            (p.an_id in self.linked and self._settled(p)) or self.first_matches.get(p.an_id or "") == p.sf_id)]

    def _stop(self, person: Person, kind: str) -> None:
        person.stopped_hour, person.stopped_waiting = self.hour, person.an_id not in self.linked
        self._record(SF, f"{kind}_of_waiting_match" if person.stopped_waiting else kind, person.email,
                     sf_id=person.sf_id, address=person.sf_moved)

    def move_sf_email(self) -> None:
        """A Contact's email is changed in Salesforce: as in Action Network's own sync, its pair stops
        (reported) until the email is set back, also a first match that waits; nobody edits the
        person meanwhile."""
        people = self._stoppable()
        if not people:
            return
        person = self.rng.choice(people)
        person.sf_moved = f"elsewhere{self._next()}.{self.rng.randrange(10**6)}@soak.example.org"
        self.sf.Contact.update(person.sf_id, {"Email": person.sf_moved})
        self._stop(person, "move_email")

    def restore_sf_email(self) -> None:
        """A Contact's changed email is set back in Salesforce, hours later: its pair resumes."""
        people = [p for p in self.people.values() if p.sf_moved and p.stopped_hour < self.hour]
        if not people:
            return
        person = self.rng.choice(people)
        self.sf.Contact.update(person.sf_id, {"Email": person.address})
        person.sf_moved, person.stopped_waiting = None, False
        self._record(SF, "restore_email", person.email, address=person.address)

    def delete_sf_contact(self) -> None:
        """A synced Contact, or one whose first match waits, is deleted in Salesforce (its memberships
        and Contact Roles go with it): the pair stops (reported) and the activist stays as they are;
        nobody edits them meanwhile."""
        people = self._stoppable()
        if not people:
            return
        person = self.rng.choice(people)
        self.sf.Contact.delete(person.sf_id)
        person.sf_deleted = True
        self._stop(person, "delete_contact")

    def undelete_sf_contact(self) -> None:
        """A deleted Contact is restored from the Recycle Bin, hours later, with what its delete took
        along: the pair resumes, and nothing changed on either side."""
        people = [p for p in self.people.values() if p.sf_deleted and p.stopped_hour < self.hour]
        if not people:
            return
        person = self.rng.choice(people)
        answer = undelete(self.sf, person.sf_id)
        assert "<success>true</success>" in answer, answer
        person.sf_deleted, person.stopped_waiting = False, False
        self._record(SF, "undelete_contact", person.email, sf_id=person.sf_id)

    def duplicate_sf_contact(self) -> None:
        """Someone enters a synced person in Salesforce again: a second Contact with their email (typed
        in other letters' case) and another first name. The first Contact keeps syncing; the new one
        is reported as a duplicate and never synced."""
        people = [p for p in self._synced_people() if self._settled(p) and not p.duplicate and p.an_id in self.linked]
        if not people:
            return
        person = self.rng.choice(people)
        n = self._next()
        person.duplicate = self.sf.Contact.create({"Email": person.address.upper(), "FirstName": f"Twin{n}",
                                                   "LastName": f"Soak{n}"})["id"]
        person.duplicate_hour = self.hour
        self._record(SF, "duplicate_contact", person.email, sf_id=person.duplicate)

    def resolve_duplicate(self) -> None:
        """An admin cleans a duplicate up, hours later: deletes it, merges it into the synced Contact,
        or merges the synced Contact into it keeping the synced one's values (the pair moves to it,
        with the memberships and Contact Roles). Nothing else changes."""
        people = [p for p in self._synced_people() if p.duplicate and p.duplicate_hour < self.hour and self._settled(p)
                  and p.an_id in self.linked]
        if not people:
            return
        person = self.rng.choice(people)
        held = {sf_field: in_salesforce(name, rules.sf_last_name(person.expected(name), person.address)
                                        if name == "last_name" else person.expected(name))
                for name, (_, sf_field) in FIELDS.items()}
        values = {sf_field: value for sf_field, value in held.items() if value is not None}
        how = self.rng.choice(("delete", "merge_into_synced", "merge_into_duplicate"))
        if how == "merge_into_duplicate" and len(values) < len(held):
            how = "merge_into_synced"  # a merge's values cannot clear a field
        if how == "delete":
            self.sf.Contact.delete(person.duplicate)
        else:
            master, merged = ((person.sf_id, person.duplicate) if how == "merge_into_synced"
                              else (person.duplicate, person.sf_id))
            answer = merge(self.sf, "Contact", master, [merged], values if master == person.duplicate else None)
            assert "<success>true</success>" in answer, answer
            person.sf_id = master
        self._record(SF, f"duplicate_{how}", person.email, sf_id=person.duplicate)
        person.duplicate = None

    def subscribe_sf_only(self) -> None:
        """A Salesforce Contact that was never synced is added to the Subscribers campaign: it crosses now."""
        waiting = [p for p in self.people.values() if not p.synced and p.sub_hour < self.hour]
        if not waiting:
            return
        person = self.rng.choice(waiting)
        if not self._add_member(self.masters["sf_subscribers_campaign"], person.sf_id):
            return
        person.subscribed = (True, self._record(SF, "subscribe_new", person.email), SF)
        person.synced, person.sub_hour = True, self.hour

    # -- actions, members, donations ------------------------------------------------------------

    def create_an_action(self) -> None:
        action_type = self.rng.choice(("form", "petition"))
        key, title = f"an-action-{self._next()}", f"Soak {action_type} {self._next()}"
        an_id = self._an_create(f"{action_type}s", {"title": title, "origin_system": "Soak"})
        self._record(AN, f"create_{action_type}", key, an_id=an_id)
        self.actions[key] = Action(key, AN, title, action_type, an_id=an_id)

    def create_sf_campaign(self) -> None:
        key, title = f"sf-campaign-{self._next()}", f"Soak campaign {self._next()}"
        sf_id = self.sf.Campaign.create({"Name": title, "ParentId": self.masters["sf_subscribers_campaign"],
                                         "IsActive": True})["id"]
        self._record(SF, "create_campaign", key, sf_id=sf_id)
        self.actions[key] = Action(key, SF, title, sf_id=sf_id)

    def take_action(self, side: str) -> None:
        """A synced, subscribed person takes a synced action (added as a Campaign member in Salesforce)."""
        actions = [a for a in self.actions.values() if a.an_id and a.sf_id]
        people = [p for p in self._synced_people() if p.subscribed[0] and p.sub_hour < self.hour]
        if not actions or not people:
            return
        action, person = self.rng.choice(actions), self.rng.choice(people)
        if any(m[:3] == (side, action.key, person.email) for m in self.members):
            return
        if side == AN:
            child = "submissions" if action.action_type == "form" else "signatures"
            made = self._an_create(f"{action.action_type}s/{action.an_id}/{child}",
                                   {"_links": {"osdi:person": {"href": f"{self.an_url}people/{person.an_id}"}}})
        else:
            made = self._add_member(action.sf_id, person.sf_id)
            if made is None:
                return
        self._record(side, "take_action", action.key, email=person.email, id=made)
        self.members.append((side, action.key, person.email, made))
        person.sub_hour = self.hour  # no unsubscribe in the same hour: "in both campaigns" must hold at the run

    def donate(self, side: str) -> None:
        people = [p for p in self._synced_people() if p.subscribed[0] and p.sub_hour < self.hour]
        if not people:
            return
        person = self.rng.choice(people)
        key, amount = f"{side}-donation-{self._next()}", f"{self.rng.randrange(5, 200)}.00"
        donation = Donation(key, side, person.email, amount)
        if side == AN:
            donation.an_id = self._an_create(f"fundraising_pages/{self.page_id}/donations", {
                "recipients": [{"display_name": "Soak", "amount": amount}],
                "_links": {"osdi:person": {"href": f"{self.an_url}people/{person.an_id}"}}})
        else:
            donation.sf_id = self.sf.Opportunity.create({
                "Name": f"Soak gift {key}", "AccountId": self.masters["sf_donations_account"], "Amount": float(amount),
                "StageName": "Closed Won", "CloseDate": datetime.now(UTC).date().isoformat()})["id"]
            self.sf.OpportunityContactRole.create({"OpportunityId": donation.sf_id, "ContactId": person.sf_id,
                                                   "Role": "Donor", "IsPrimary": True})
        self._record(side, "donate", key, email=person.email, amount=amount)
        self.donations[key] = donation
        person.sub_hour = self.hour

    # -- history edited in Salesforce after it synced -------------------------------------------------

    def _opportunity(self, donation: Donation) -> str | None:
        """The Id of a donation's Opportunity, once it has synced both ways."""
        if donation.origin == AN:
            found = self.sf.query(format_soql("SELECT Id FROM Opportunity WHERE {:literal} = {}",
                                              rules.EXTERNAL_ID_FIELD, donation.an_id))["records"]
            return found[0]["Id"] if found else None
        response = self.an.get(self.an_url + "donations", timeout=30,
                               params={"filter": f"identifier eq 'salesforce:{donation.sf_id}'"})
        response.raise_for_status()
        return donation.sf_id if (response.json().get("_embedded") or {}).get("osdi:donations") else None

    def edit_sf_donation(self) -> None:
        """A synced donation's Opportunity is edited or deleted in Salesforce: as the spec says, the
        Action Network donation stays as it was, and the sync neither writes it again nor undoes the edit."""
        given = {e.key: e.at for e in self.log if e.kind == "donate"}
        donations = [d for d in self.donations.values() if not d.sf_changed and given[d.key] < self.last_success
                     and not self._waits(self.people[d.donor])]
        if not donations:
            return
        donation = self.rng.choice(donations)
        opportunity = self._opportunity(donation)
        if opportunity is None:
            return  # not synced (its donor unsubscribed, or it waits): nothing to edit yet
        if self.rng.random() < 0.5:
            donation.sf_changed, donation.sf_amount = "amount", f"{float(donation.amount) + 1:.2f}"
            self.sf.Opportunity.update(opportunity, {"Amount": float(donation.sf_amount)})
        else:
            donation.sf_changed = "deleted"
            self.sf.Opportunity.delete(opportunity)
        self._record(SF, f"opportunity_{donation.sf_changed}", donation.key, sf_id=opportunity)

    def remove_sf_member(self) -> None:
        """A Contact that took a synced action is removed from its Campaign in Salesforce: the Action
        Network taker stays (the spec), and the sync does not add the member back."""
        taken = [(key, email) for side, key, email, made in self.members if (key, email) not in self.removed
                 and next(e.at for e in self.log if e.kind == "take_action" and e.detail.get("id") == made)
                 < self.last_success and not self._waits(self.people[email])]
        if not taken:
            return
        key, email = self.rng.choice(taken)
        action, person = self.actions[key], self.people[email]
        if not person.sf_id or person.sf_deleted:
            return
        found = self.sf.query(format_soql("SELECT Id FROM CampaignMember WHERE CampaignId = {} AND ContactId = {}",
                                          action.sf_id, person.sf_id))["records"]
        if not found:
            return  # not synced yet
        self.sf.CampaignMember.delete(found[0]["Id"])
        self.removed.add((key, email))
        self._record(SF, "remove_member", key, email=email, id=found[0]["Id"])

    # -- one hour of edits --------------------------------------------------------------------------

    def edit(self, hour: int, count: int) -> None:
        """``count`` random edits, both sides mixed, the way a busy hour looks."""
        self.hour = hour
        kinds = [(self.create_an_person, 6), (self.create_sf_contact, 4), (lambda: self.edit_field(AN), 6),
                 (lambda: self.edit_field(SF), 6), (lambda: self.edit_subscription(AN), 2),
                 (lambda: self.edit_subscription(SF), 2), (self.subscribe_sf_only, 1), (self.create_an_action, 1),
                 (self.create_sf_campaign, 1), (lambda: self.take_action(AN), 3), (lambda: self.take_action(SF), 3),
                 (lambda: self.donate(AN), 2), (lambda: self.donate(SF), 2)]
        if self.switches["email_changes"]:
            kinds += [(self.move_an_email, 1), (self.add_an_address, 1), (self.recase_sf_email, 1),
                      (self.move_sf_email, 1), (self.restore_sf_email, 1)]
        if self.switches["sf_cleanup"]:
            kinds += [(self.delete_sf_contact, 1), (self.undelete_sf_contact, 1), (self.duplicate_sf_contact, 1),
                      (self.resolve_duplicate, 1)]
        if self.switches["sf_history_edits"]:
            kinds += [(self.edit_sf_donation, 1), (self.remove_sf_member, 1)]
        makers, weights = zip(*kinds, strict=True)
        for maker in self.rng.choices(makers, weights, k=count):
            maker()
