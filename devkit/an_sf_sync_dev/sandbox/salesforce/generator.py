"""Seed data for the emulated org: contacts with the defects a real org has, campaigns, members, donations.

Deterministic by ``seed`` and lazy: :func:`generate` returns one row iterator per object (in load
order) and every value is derived from ``(seed, row number)`` by a hash, not from a shared random
stream, so a row can refer to another (a duplicate email, a member's contact) without keeping
anything in memory. Ids are the store's own (``make_id(prefix, id_base + n)``), so
``store.load(generate(...))`` links everything; ``id_base`` keeps a second load clear of the first.

Contacts include emails repeated from another contact in differing case, missing and malformed
emails, unicode names, and missing ZIP codes (every contact has a last name, as Salesforce requires).
Campaigns include "Action Network Subscribers" and children whose ParentId is it; the account
"Action Network Donations" holds most opportunities, each with a donor contact role.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

from .ids import make_id

SUBSCRIBERS_CAMPAIGN = "Action Network Subscribers"
DONATIONS_ACCOUNT = "Action Network Donations"
_MASK = (1 << 64) - 1

_FIRST = ("James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David", "Elizabeth",
          "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Charles", "Karen",
          "Christopher", "Lisa", "Daniel", "Nancy", "Matthew", "Betty", "Anthony", "Sandra", "Mark", "Ashley",
          "Maria", "Carlos", "Aisha", "Wei", "Priya", "Kwame", "Sofia", "Mateo", "Yuki", "Omar")
_LAST = ("Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
         "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin",
         "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson",
         "Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores")
# (name, ASCII form for the email's local part)
_UNICODE_FIRST = (("José", "jose"), ("Zoë", "zoe"), ("Łukasz", "lukasz"), ("Ngọc", "ngoc"), ("Søren", "soren"),
                  ("Anaïs", "anais"), ("Çağrı", "cagri"), ("明", "ming"), ("Дмитрий", "dmitriy"), ("Björk", "bjork"))
_UNICODE_LAST = (("Muñoz", "munoz"), ("Nguyễn", "nguyen"), ("Müller", "muller"), ("Østergård", "ostergard"),
                 ("Śliwiński", "sliwinski"), ("O'Brien", "obrien"), ("李", "li"), ("Иванова", "ivanova"),
                 ("García-Márquez", "garciamarquez"), ("Žižek", "zizek"))
_DOMAINS = ("example.org", "example.com", "mail.example.net", "example.co.uk")
_CITIES = (("Springfield", "IL", "62701"), ("Portland", "OR", "97201"), ("Austin", "TX", "73301"),
           ("Burlington", "VT", "05401"), ("Madison", "WI", "53703"), ("Oakland", "CA", "94612"),
           ("Durham", "NC", "27701"), ("Tucson", "AZ", "85701"))
_STREETS = ("Main St", "Oak Ave", "Maple Dr", "Cedar Ln", "Elm St", "Park Blvd", "Lake Rd", "Hill St")
_TOPICS = ("Climate Petition", "Town Hall", "Phone Bank", "Housing Letter", "Voter Drive", "Rally",
           "Fundraiser", "Canvass")
_RECURRING = ("Monthly", "Weekly", "Yearly")


def _mix(seed: int, n: int, salt: int) -> int:
    """A 64-bit hash of (seed, n, salt) (splitmix64 finaliser): cheap, uniform, random-access."""
    x = (n * 0x9E3779B97F4A7C15 + seed * 0xBF58476D1CE4E5B9 + salt * 0x94D049BB133111EB) & _MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


class _Plan:
    def __init__(self, contacts: int, seed: int, id_base: int, campaigns: int, accounts: int,
                 opportunities: int, shares: dict[str, float]) -> None:
        self.contacts, self.seed, self.base = contacts, seed, id_base
        self.campaigns, self.accounts, self.opportunities = campaigns, accounts, opportunities
        self.share = {k: int(v * 10_000) for k, v in shares.items()}

    def id(self, prefix: str, n: int) -> str:
        return make_id(prefix, self.base + n + 1)

    def chance(self, n: int, salt: int, share: str) -> bool:
        return _mix(self.seed, n, salt) % 10_000 < self.share[share]

    def names(self, n: int) -> tuple[str, str, str, str]:
        """(first, last, ascii first, ascii last) of contact ``n``."""
        h = _mix(self.seed, n, 1)
        if h % 10_000 < self.share["unicode"]:
            first, ascii_first = _UNICODE_FIRST[(h >> 16) % len(_UNICODE_FIRST)]
            last, ascii_last = _UNICODE_LAST[(h >> 24) % len(_UNICODE_LAST)]
        else:
            first, last = _FIRST[(h >> 16) % len(_FIRST)], _LAST[(h >> 24) % len(_LAST)]
            ascii_first, ascii_last = first.lower(), last.lower()
        return first, last, ascii_first, ascii_last

    def base_email(self, n: int) -> str:
        _, _, first, last = self.names(n)
        return f"{first}.{last}{n}@{_DOMAINS[_mix(self.seed, n, 2) % len(_DOMAINS)]}"

    def email(self, n: int) -> str | None:
        h = _mix(self.seed, n, 3)
        roll = h % 10_000
        missing, malformed = self.share["missing_email"], self.share["malformed_email"]
        if roll < missing:
            return None
        if roll < missing + malformed:
            local, _, domain = self.base_email(n).partition("@")
            return (f"{local}@{domain.split('.')[0]}", f"{local}.{domain}", f"{local}@@{domain}",
                    f"{local} @{domain}")[(h >> 20) % 4]
        if roll < missing + malformed + self.share["duplicate_email"] and n > 0:
            original = self.base_email((h >> 20) % n)
            return (original.upper(), original.title(), original.swapcase())[(h >> 40) % 3]
        return self.base_email(n)


def generate(contacts: int = 1000, seed: int = 0, *, campaigns: int | None = None, accounts: int | None = None,
             opportunities: int | None = None, id_base: int = 0, subscriber_share: float = 0.6,
             member_share: float = 0.5, duplicate_email_share: float = 0.02, missing_email_share: float = 0.02,
             malformed_email_share: float = 0.01, unicode_share: float = 0.05, recurring_share: float = 0.2
             ) -> dict[str, Iterator[dict[str, Any]]]:
    """Rows per object for :meth:`Store.load`, in load order; sizes default from ``contacts``."""
    plan = _Plan(contacts, seed, id_base,
                 campaigns if campaigns is not None else min(max(3, contacts // 1000), 500),
                 accounts if accounts is not None else max(1, contacts // 100),
                 opportunities if opportunities is not None else contacts // 10,
                 {"subscriber": subscriber_share, "member": member_share, "duplicate_email": duplicate_email_share,
                  "missing_email": missing_email_share, "malformed_email": malformed_email_share,
                  "unicode": unicode_share, "recurring": recurring_share})
    return {
        "Account": _accounts(plan),
        "Campaign": _campaigns(plan),
        "Contact": _contacts(plan),
        "CampaignMember": _members(plan),
        "Opportunity": _opportunities(plan),
        "OpportunityContactRole": _contact_roles(plan),
    }


def _accounts(plan: _Plan) -> Iterator[dict[str, Any]]:
    yield {"Id": plan.id("001", 0), "Name": DONATIONS_ACCOUNT}
    for n in range(1, plan.accounts + 1):
        city, state, postal = _CITIES[_mix(plan.seed, n, 10) % len(_CITIES)]
        yield {"Id": plan.id("001", n), "Name": f"{_LAST[n % len(_LAST)]} {('Co-op', 'Union', 'Fund', 'LLC')[n % 4]} "
               f"{n}", "BillingCity": city, "BillingState": state, "BillingPostalCode": postal}


def _campaigns(plan: _Plan) -> Iterator[dict[str, Any]]:
    subscribers = plan.id("701", 0)
    yield {"Id": subscribers, "Name": SUBSCRIBERS_CAMPAIGN, "IsActive": True}
    for n in range(1, plan.campaigns + 1):
        row = {"Id": plan.id("701", n), "Name": f"{_TOPICS[n % len(_TOPICS)]} {n}", "IsActive": n % 5 != 0,
               "StartDate": date(2024, 1, 1) + timedelta(days=_mix(plan.seed, n, 11) % 700)}
        if n % 3 == 1:  # a third are actions created in Salesforce for Action Network
            row["ParentId"] = subscribers
        yield row


def _contacts(plan: _Plan) -> Iterator[dict[str, Any]]:
    for n in range(plan.contacts):
        first, last, _, _ = plan.names(n)
        h = _mix(plan.seed, n, 4)
        city, state, postal = _CITIES[h % len(_CITIES)]
        row = {"Id": plan.id("003", n), "FirstName": first, "LastName": last, "Email": plan.email(n),
               "MailingStreet": f"{(h >> 8) % 9000 + 100} {_STREETS[(h >> 24) % len(_STREETS)]}",
               "MailingCity": city, "MailingState": state, "MailingCountry": "US",
               "AccountId": plan.id("001", 1 + (h >> 32) % plan.accounts) if (h >> 48) % 4 == 0 else None}
        if (h >> 56) % 10:  # one in ten has no ZIP
            row["MailingPostalCode"] = postal
        yield row


def _members(plan: _Plan) -> Iterator[dict[str, Any]]:
    n = 0
    for contact in range(plan.contacts):
        contact_id = plan.id("003", contact)
        if plan.chance(contact, 5, "subscriber"):
            yield {"Id": plan.id("00v", n), "CampaignId": plan.id("701", 0), "ContactId": contact_id,
                   "Status": "Responded"}
            n += 1
        if plan.campaigns and plan.chance(contact, 6, "member"):
            campaign = 1 + _mix(plan.seed, contact, 7) % plan.campaigns
            yield {"Id": plan.id("00v", n), "CampaignId": plan.id("701", campaign), "ContactId": contact_id,
                   "Status": ("Sent", "Responded")[campaign % 2]}
            n += 1


def _opportunities(plan: _Plan) -> Iterator[dict[str, Any]]:
    for n in range(plan.opportunities):
        h = _mix(plan.seed, n, 8)
        row = {"Id": plan.id("006", n), "Name": f"Donation {n + 1}", "StageName": "Closed Won",
               "CloseDate": date(2024, 1, 1) + timedelta(days=h % 700), "Amount": float(5 + (h >> 12) % 500),
               "AccountId": plan.id("001", 0 if (h >> 24) % 10 < 7 else 1 + (h >> 32) % plan.accounts)}
        if plan.chance(n, 9, "recurring"):
            row["Action_Network_Recurring__c"] = _RECURRING[(h >> 40) % 3]
        yield row


def _contact_roles(plan: _Plan) -> Iterator[dict[str, Any]]:
    if not plan.contacts:
        return
    for n in range(plan.opportunities):
        contact = _mix(plan.seed, n, 12) % plan.contacts
        yield {"Id": plan.id("00K", n), "OpportunityId": plan.id("006", n), "ContactId": plan.id("003", contact),
               "Role": "Donor", "IsPrimary": True}
