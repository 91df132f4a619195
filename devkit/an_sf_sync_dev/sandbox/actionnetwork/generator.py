"""Realistic, deterministic Action Network data at any size (a million people in seconds, ~1 GB).

``generate(people=N, seed=S, now=..., days=90)`` returns a :class:`Dataset` holding the quirks
real lists have: unicode names, people without a last name, several or duplicate emails (one
primary), malformed and mixed-case emails, phone-only people, missing ``phone_numbers``,
addresses without ZIP, with ZIP+4 or without country, non-string custom field values and names
with spaces, every email status, foreign identifiers before the Action Network one; actions of
each kind (some API-created, events in event campaigns, ticketed events whose purchases the API
never shows) with participations; surveys with their responses; one-off and recurring donations
with free-text periods, lowercase currency and refunds. Emails stay on reserved domains (example.org/.com/.net).

Dates spread over ``days`` before ``now`` (default: today's midnight UTC, so one seed gives the
same data all day; pass ``now`` for byte-identical data across days).
"""

from __future__ import annotations

import calendar
import random
import time
import unicodedata
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from .records import (
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
    format_time,
)

T = TypeVar("T")
GIVEN = ("Ana", "José", "Zoë", "François", "Søren", "Małgorzata", "Björk", "Renée", "Chloé", "Maria",
         "James", "Mohammed", "Aisha", "Wei", "Yuki", "Siobhán", "Dmitrii", "Ngọc", "Oluwaseun", "Ingrid",
         "Priya", "Mateo", "Léa", "Jürgen", "Fatima", "Kwame", "Sofía", "Emma", "Liam", "Noah",
         "美咲", "伟", "지훈", "Αλέξανδρος", "Ólafur", "Ayşe", "Nuño", "Žofie", "Łukasz", "Tomás")
FAMILY = ("García", "Müller", "O'Brien", "Østergaard", "Nguyễn", "王", "佐藤", "Smith", "Johnson",
          "Kowalski", "Đặng", "Ferreira", "Çelik", "Lefèvre", "Dubois", "Brown", "Williams", "Núñez",
          "Håkansson", "van der Berg", "Papadopoulos", "Kim", "Okafor", "Rossi", "Schröder", "Ivanova",
          "De la Cruz", "MacDonald", "Al-Sayed", "Jones")
PLACES = (("Springfield", "IL"), ("San José", "CA"), ("Coeur d'Alene", "ID"), ("Española", "NM"),
          ("Brooklyn", "NY"), ("Boston", "MA"), ("Austin", "TX"), ("Seattle", "WA"), ("Miami", "FL"),
          ("Anchorage", "AK"), ("Honolulu", "HI"), ("Washington", "DC"), ("Detroit", "MI"), ("Denver", "CO"))
STREETS = ("Main St", "Calle Ñandú", "Elm Ave", "Rue Saint-Honoré", "Oak Blvd", "Pennsylvania Ave NW",
           "Martin Luther King Jr Way", "Broadway")
DOMAINS = ("example.org", "example.com", "example.net")
STATUSES = (("subscribed", 0.80), ("unsubscribed", 0.92), ("bouncing", 0.95), ("previous bounce", 0.97),
            ("spam complaint", 0.985), ("previous spam complaint", 1.0))
PERIODS = ("Monthly", "Monthly", "Weekly", "Every 3 Months", "Yearly", "", "monatlich", "elke maand")
TAG_NAMES = ("volunteer", "member", "Donor 2024", "phone bank", "état: actif", "board", "press", "youth")
REFERRER = {"source": "none", "referrer": "group-sandbox", "website": "none"}


def _slug(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return "".join(c for c in ascii_name.lower() if c.isalnum()) or "user"


def _epoch(now: datetime | str | int | float | None) -> int:
    if now is None:
        return int(time.time()) // 86400 * 86400
    if isinstance(now, int | float):
        return int(now)
    if isinstance(now, str):
        now = datetime.fromisoformat(now.replace("Z", "+00:00"))
    return calendar.timegm(now.utctimetuple())


class _Ids:
    """Version-4-shaped UUIDs from the seeded generator (``uuid.uuid4`` would not be reproducible)."""

    def __init__(self, rng: random.Random) -> None:
        self._bits = rng.getrandbits

    def __call__(self) -> str:
        h = f"{self._bits(128):032x}"
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"


def generate(people: int = 1000, seed: int = 0, now: datetime | str | int | None = None, days: int = 90,
             forms: int | None = None, petitions: int | None = None, events: int | None = None,
             event_campaigns: int | None = None, fundraising_pages: int | None = None,
             advocacy_campaigns: int | None = None, tags: int | None = None,
             actions_per_person: float = 1.2, surveys: int | None = None) -> Dataset:
    """A dataset of ``people`` activists and their actions; the same arguments give the same data.

    Action counts default to a size that grows slowly with ``people``; ``actions_per_person`` is
    the mean number of participations (submissions, signatures, ...) per person.
    """
    with bulk_allocation():
        data = _generate(random.Random(seed), people, _epoch(now), days, forms, petitions, events,
                         event_campaigns, fundraising_pages, advocacy_campaigns, tags, actions_per_person)
        # Surveys draw from their own generator, so adding them left every other record as it was.
        _add_surveys(random.Random(f"surveys:{seed}"), data, _epoch(now), days,
                     1 + people // 100000 if surveys is None else surveys)
        return data


def _generate(rng: random.Random, people: int, end: int, days: int, forms: int | None, petitions: int | None,
              events: int | None, event_campaigns: int | None, fundraising_pages: int | None,
              advocacy_campaigns: int | None, tags: int | None, actions_per_person: float) -> Dataset:
    new_id = _Ids(rng)
    start = end - days * 86400
    scale = people // 20000
    counts = {"forms": forms if forms is not None else 3 + scale,
              "petitions": petitions if petitions is not None else 3 + scale,
              "events": events if events is not None else 4 + scale,
              "event_campaigns": event_campaigns if event_campaigns is not None else 1 + scale // 5,
              "fundraising_pages": fundraising_pages if fundraising_pages is not None else 2 + scale // 2,
              "advocacy_campaigns": advocacy_campaigns if advocacy_campaigns is not None else 2 + scale // 2}
    data = Dataset()
    data.tags = [Tag(new_id(), start, start, _tag_name(i)) for i in range(len(TAG_NAMES) if tags is None else tags)]
    data.actions = _actions(rng, new_id, counts, start, end)
    data.custom_fields = {name: start for name in ("employer", "Join Date", "member_number", "is_volunteer",
                                                   "checkbox value", "I am a parent")}
    people_gen = _People(rng, new_id, start, end)
    data.people = [people_gen.make(i) for i in range(people)]
    data.owner_id = data.people[0].id if data.people else None  # the staffer who made every action
    data.participations, data.ticket_purchases = _participations(
        rng, new_id, data.people, data.actions, data.tags, end, actions_per_person)
    return data


class _People:
    def __init__(self, rng: random.Random, new_id: _Ids, start: int, end: int) -> None:
        self.rng, self.new_id, self.start, self.end = rng, new_id, start, end
        self.given = [(g, _slug(g)) for g in GIVEN]
        self.family = [(f, _slug(f)) for f in FAMILY]

    def make(self, i: int) -> Person:
        r = self.rng.random
        given, gslug = _choice(r, self.given)
        family, fslug = _choice(r, self.family)
        created = _between(r, self.start, self.end)
        modified = created if r() < 0.5 else _between(r, created, self.end)
        person = Person(self.new_id(), created, modified, given, None if r() < 0.08 else family)
        status = _pick(STATUSES, r())
        domain = DOMAINS[i % 3]
        address = f"{gslug}.{fslug}.{i}@{domain}"
        quirk = r()
        if quirk < 0.01:  # phone-only activist
            person.phones = [Phone(f"1202{i:07d}"[-11:], "Mobile", "subscribed", True)]
        else:
            if quirk < 0.015:
                address = f"no-at-sign-{i}.{domain}"
            elif quirk < 0.02:
                address = f"p{i}@b"
            elif quirk < 0.025:
                address += "  "
            elif quirk < 0.04:
                address = f"{gslug.title()}.{fslug.upper()}.{i}@{domain.title()}"
            emails = [Email(address, status, True)]
            if quirk > 0.97:  # a second, older address
                emails.append(Email(f"{fslug}{i}@{DOMAINS[(i + 1) % 3]}", "unsubscribed", False))
            elif quirk > 0.955:  # the same address listed three times, all bouncing
                emails = [Email(address, "bouncing", n == 1) for n in range(3)]
            person.emails = emails
            if r() < 0.4:
                person.phones = [Phone(f"1{_between(r, 2012000000, 9899999999)}", "Mobile",
                                       "subscribed" if r() < 0.5 else "unsubscribed", True)]
            elif r() < 0.1:
                person.phones = []
        if r() < 0.85:
            person.addresses = [self._address()]
        if r() < 0.3:
            person.custom_fields = {"employer": _choice(r, ("Acme Coöperative", "City of Springfield", "")),
                                    "Join Date": format_time(created)[:10], "member_number": i,
                                    "is_volunteer": r() < 0.5, "checkbox value": 1, "I am a parent": r() < 0.3}
        if r() < 0.05:
            an = f"action_network:{person.id}"
            person.identifiers = [f"salsa:{i}", an] if r() < 0.6 else [an, f"mobilize:{i}"]
        if r() < 0.1:
            person.languages = ("es",)
        return person

    def _address(self) -> Address:
        r = self.rng.random
        u = r()
        locality, region = _choice(r, PLACES)
        zip_code = f"{_between(r, 601, 99950):05d}"
        postal = zip_code if u < 0.7 else f"{zip_code}-{_between(r, 0, 10000):04d}" if u < 0.8 else None
        located = r() < 0.7
        return Address((f"{_between(r, 1, 9999)} {_choice(r, STREETS)}",), locality, region, postal,
                       "US" if r() < 0.8 else None,
                       round(25 + 23 * r(), 4) if located else None,
                       round(-123 + 53 * r(), 4) if located else None,
                       "Approximate" if located else None, True)


# random.choice/randrange are several times slower than scaling one random(); at a million people it shows
def _choice(r: Callable[[], float], items: Sequence[T]) -> T:
    return items[int(r() * len(items))]


def _between(r: Callable[[], float], low: int, high: int) -> int:
    return low + int(r() * (high - low))


def _tag_name(i: int) -> str:
    name = TAG_NAMES[i % len(TAG_NAMES)]
    return name if i < len(TAG_NAMES) else f"{name} {i // len(TAG_NAMES)}"


def _pick(table: tuple[tuple[str, float], ...], u: float) -> str:
    for value, upto in table:
        if u < upto:
            return value
    return table[-1][0]


def _actions(rng: random.Random, new_id: _Ids, counts: dict[str, int], start: int, end: int) -> list[Action]:
    titles = {"forms": "Formulaire d'inscription", "petitions": "Pétition: clean water for all",
              "events": "Town hall — Ciudad", "event_campaigns": "Day of action",
              "fundraising_pages": "Spring fund drive", "advocacy_campaigns": "Letter to the council"}
    actions: list[Action] = []
    campaigns: list[Action] = []
    for kind in ("event_campaigns", "forms", "petitions", "events", "fundraising_pages", "advocacy_campaigns"):
        for n in range(counts[kind]):
            created = rng.randrange(start, start + (end - start) // 3)
            api_created = n == 0 and kind in ("fundraising_pages", "advocacy_campaigns") or rng.random() < 0.1
            fields: dict[str, Any] = {"title": f"{titles[kind]} #{n + 1}",
                                      "origin_system": "Partner CRM" if api_created else "Action Network",
                                      "description": f"<p>{titles[kind]}</p>", **action_defaults(kind)}
            action = Action(new_id(), kind, created, created, fields, api_created=api_created)
            if not api_created:  # only pages made in the UI have a public page
                fields["browser_url"] = f"https://actionnetwork.org/{kind}/{_slug(titles[kind])}-{n + 1}"
            if kind == "events":
                begins = rng.randrange(created, end + 30 * 86400)
                locality, region = _choice(rng.random, PLACES)
                fields.update(start_date=format_time(begins), end_date=format_time(begins + 7200),
                              instructions="<p>Bring a friend.</p>",
                              location={"venue": "Community Center", "address_lines": [f"{n + 100} Main St"],
                                        "locality": locality, "region": region, "postal_code": f"{10001 + n:05d}",
                                        "country": "US", "language": "en",
                                        "location": {"latitude": round(25 + 23 * rng.random(), 4),
                                                     "longitude": round(-123 + 53 * rng.random(), 4),
                                                     "accuracy": "Rooftop"}})
                if n % 2:
                    fields["capacity"] = 50
                action.campaign_id = campaigns[n % len(campaigns)].id if campaigns and n % 3 == 0 else None
                action.ticketed = n % 4 == 3
            elif kind == "fundraising_pages":
                if n == 1:
                    fields["origin_system"] = "ActBlue"
            elif kind == "event_campaigns" and not api_created:
                fields.update(host_pitch="Hosting is easy: we send you everything you need.",
                              host_instructions="<p>Download the host toolkit.</p>",
                              host_url=f"{fields['browser_url']}/host")
            elif kind == "advocacy_campaigns":
                fields.update(type="email", targets="City Council")
            if kind == "event_campaigns":
                campaigns.append(action)
            actions.append(action)
    return actions


def _participations(rng: random.Random, new_id: _Ids, people: list[Person], actions: list[Action],
                    tags: list[Tag], end: int, mean: float) -> tuple[list[Participation], int]:
    child = {"forms": "submissions", "petitions": "signatures", "events": "attendances",
             "fundraising_pages": "donations", "advocacy_campaigns": "outreaches"}
    takeable = [a for a in actions if a.kind in child and not a.ticketed]
    ticketed = [a for a in actions if a.ticketed]
    shared = {"submissions": [{"action_network:referrer_data": REFERRER}],
              "signatures": [{"action_network:referrer_data": REFERRER},
                             {"comments": "Ça suffit ! 我们需要干净的水。", "action_network:referrer_data": REFERRER}],
              "attendances": [{"status": "accepted"}, {"status": "accepted"}, {"status": "tentative"}],
              "outreaches": [{"type": "email", "subject": "Please act", "targets": [
                  {"title": "Councilmember", "given_name": "Jill", "family_name": "Black"}]}]}
    records: list[Participation] = []
    purchases = 0
    r = rng.random
    rate = 1 / mean if mean > 0 else 0
    for person in people:
        taken = int(rng.expovariate(rate)) if rate else 0
        seen: set[str] = set()
        latest = person.modified
        for _ in range(taken):
            action = takeable[int(r() * len(takeable))] if takeable else None
            if action is None or action.id in seen:
                continue
            kind = child[action.kind]
            if kind != "donations":
                seen.add(action.id)
            created = _between(r, max(person.created, action.created), end + 1)
            latest = max(latest, created)
            fields = _donation(rng, action) if kind == "donations" else _choice(r, shared[kind])
            records.append(Participation(new_id(), kind, created, created, person.id, action.id, fields))
        if tags and r() < 0.2:
            tag = tags[int(r() * len(tags))]
            records.append(Participation(new_id(), "taggings", person.created, person.created, person.id, tag.id,
                                         {"item_type": "osdi:person"}))
        if ticketed and r() < 0.01:
            purchases += 1  # ticket purchases are not represented on the API
        person.modified = latest
    return records, purchases


def _add_surveys(rng: random.Random, data: Dataset, end: int, days: int, count: int) -> None:
    """Surveys, and responses from about one person in twenty (at most one each per survey).

    Responses carry no answers: the reference's samples show none (their fields are unconfirmed).
    """
    new_id, start, r = _Ids(rng), end - days * 86400, rng.random
    surveys = []
    for n in range(count):
        created = rng.randrange(start, start + (end - start) // 3)
        api_created = r() < 0.1
        fields: dict[str, Any] = {"title": f"Member survey {n + 1}: what matters to you?",
                                  "origin_system": "Partner CRM" if api_created else "Action Network",
                                  "description": "<p>Tell us what to work on next.</p>",
                                  "call_to_action": "Take the survey", **action_defaults("surveys")}
        if not api_created:
            fields["browser_url"] = f"https://actionnetwork.org/surveys/member-survey-{n + 1}"
        surveys.append(Action(new_id(), "surveys", created, created, fields, api_created=api_created))
    data.actions.extend(surveys)
    for person in data.people if surveys else ():
        if r() < 0.05:
            survey = surveys[int(r() * len(surveys))]
            created = _between(r, max(person.created, survey.created), end + 1)
            data.participations.append(Participation(new_id(), "responses", created, created, person.id, survey.id))
            person.modified = max(person.modified, created)


def _donation(rng: random.Random, page: Action) -> dict[str, Any]:
    amount = rng.choice((5, 10, 10, 25, 25, 50, 100, 250)) + (rng.randrange(100) / 100 if rng.random() < 0.2 else 0)
    text = f"{amount:.2f}"
    fields: dict[str, Any] = {"currency": "usd" if rng.random() < 0.05 else "USD", "amount": text,
                              "recipients": [{"display_name": page.fields["title"], "amount": text}],
                              "payment": {"method": "Credit Card", "authorization_stored": False},
                              "action_network:referrer_data": REFERRER}
    u = rng.random()
    if u < 0.01:  # a refund without an amount
        del fields["amount"]
    elif u < 0.03:  # a refund
        fields["amount"] = "0.00"
    recurring = rng.random() < 0.25
    fields["action_network:recurrence"] = ({"recurring": True, "period": rng.choice(PERIODS)} if recurring
                                           else {"recurring": False})
    return fields

