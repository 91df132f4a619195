"""Reconcile donations: Action Network donations <-> Opportunities on the "Action Network Donations" account.

``reconcile_donations`` is pure: frames in, a plan out; it reads or writes no database and no API.
``plan_opportunities`` reads its frames through :mod:`an_sf_sync.staging.inputs`.

To Salesforce: every Action Network donation not yet linked becomes a "Closed Won" Opportunity on
the Donations account, upserted on ``Action_Network_ID__c``, with the donor as its primary "Donor"
Contact Role. The donor's Contact is resolved when loading (load_contacts may link them in the
same run); an activist who is not synced still gets the Opportunity, and a reject explains the
missing role. Choices where Action Network is silent:

- CloseDate is the day of the donation's ``created_date`` in the org's time zone (Salesforce's
  ``Organization.TimeZoneSidKey``, or the ``an_sf_sync_time_zone`` variable): a gift made on
  December 31 at 8 pm in New York closes on December 31, not on January 1 (its UTC day). The other
  way, an Opportunity's CloseDate becomes a donation made at noon of that day in the org's time
  zone, so every time zone Action Network may show it in keeps the day.
- A refund or return may have ``"0.00"`` (sent as 0) or no amount at all: the Opportunity is still
  created, without Amount, and its Description says why.
- An amount in another currency is sent as is (never converted); the Description names the
  currency. Missing currency means USD, Action Network's default.
- ``Action_Network_Recurring__c`` holds the period text as Action Network gives it (free text,
  maybe localized); a recurring donation without a period gets "Recurring".
- Ticketed event purchases are not on the API, so they never reach this step.
- Donations on the "Salesforce Donations" page came from Salesforce: linked ones are skipped, and
  an unlinked one is a write of ours whose link is still being committed, so it is skipped too.

To Action Network: an Opportunity on the Donations account, not linked, without
``Action_Network_ID__c``, not lost, with an Amount and at least one Contact Role becomes a donation
on the "Salesforce Donations" page. The plan lists the role contacts (primary first, then role
"Donor", then oldest); the load takes the first one that is synced and in the Subscribers campaign
(``load.opportunities.pick_donor``), and stamps the Opportunity with the donation id once it is linked. The
amount goes as is, in the page's currency (Opportunities carry no currency without multi-currency);
a Closed Lost Opportunity is not a donation.

Once linked, a donation is never edited or removed on either side: later changes are reported,
not sent (records only re-read because of the window overlap or our own writes are skipped quietly).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import pandas as pd

from an_sf_sync import rules
from an_sf_sync.plan import Action, Direction, Obj, Op, Plan, Reject
from an_sf_sync.staging import inputs, pending

if TYPE_CHECKING:
    import psycopg

NAME_MAX = 120  # Opportunity.Name
RECURRING_MAX = 255  # Action_Network_Recurring__c, a Text(255)
CLOSED_LOST = "closed lost"


@dataclass
class DonationInputs:
    donations: pd.DataFrame  # changed AN donations: an_id, fundraising_page_id, person_id, amount, currency,
    #                          recurring, period, created, modified
    opportunities: pd.DataFrame  # changed Opportunities: sf_id, is_deleted, account_id, an_id, amount,
    #                              close_date, stage_name, recurring, modified
    roles: pd.DataFrame  # their Contact Roles: sf_id, opportunity_id, contact_id, role, is_primary, is_deleted, created
    links: pd.DataFrame  # donation links of those records: an_id, sf_id, origin, linked_at
    account_id: str | None  # the "Action Network Donations" account (None before the first setup: a dry run)
    page_id: str | None  # the "Salesforce Donations" fundraising page
    page_titles: Mapping[str, str] = field(default_factory=dict)  # fundraising page id -> title
    pending_roles: frozenset[str] = frozenset()  # synced donations still waiting for their donor's Contact Role
    time_zone: str = "UTC"  # the org's: the one whose days CloseDates are


def reconcile_donations(inputs: DonationInputs) -> Plan:
    plan = Plan()
    links = inputs.links.drop_duplicates("an_id")
    by_an, by_sf = links.set_index("an_id"), links.set_index("sf_id")

    for row in inputs.donations.drop_duplicates("an_id").itertuples():
        if row.an_id in by_an.index:
            link = by_an.loc[row.an_id]
            if row.an_id in inputs.pending_roles:  # the donor was not synced yet: try the role again
                plan.add(Obj.CONTACT_ROLE, Direction.TO_SALESFORCE, Action.CREATE, row.an_id, link["sf_id"],
                         {"person_id": _py(row.person_id)}, plan.pair())
            if link["origin"] == "actionnetwork" and _after(row.modified, link["linked_at"]):
                plan.reject(
                    "actionnetwork", "donation", row.an_id, "DONATION_CHANGED_AFTER_SYNC",
                    f"Action Network donation {row.an_id} changed after it was synced to Opportunity "
                    f"{link['sf_id']}; synced donations are never updated, so the Opportunity was left as is. "
                    "Edit the Opportunity by hand if it must reflect the change.")
            continue
        if row.fundraising_page_id == inputs.page_id:
            continue  # recorded by the sync from an Opportunity: never sent back
        pair = plan.pair()
        plan.add(Obj.OPPORTUNITY, Direction.TO_SALESFORCE, Action.CREATE, row.an_id, None,
                 {"fields": opportunity_fields(row, inputs.account_id, inputs.page_titles, inputs.time_zone)}, pair)
        plan.add(Obj.CONTACT_ROLE, Direction.TO_SALESFORCE, Action.CREATE, row.an_id, None,
                 {"person_id": _py(row.person_id)}, pair)

    roles = inputs.roles[~inputs.roles["is_deleted"].fillna(False).astype(bool)]
    roles = roles.assign(secondary=~roles["is_primary"].fillna(False).astype(bool),
                         other_role=roles["role"].ne(rules.DONOR_ROLE))
    roles = roles.sort_values(["secondary", "other_role", "created", "sf_id"], na_position="last")
    contacts = roles.groupby("opportunity_id", sort=False)["contact_id"].agg(lambda c: list(dict.fromkeys(c)))

    for row in inputs.opportunities.drop_duplicates("sf_id").itertuples():
        if row.sf_id in by_sf.index:
            _report_change(plan, row, by_sf.loc[row.sf_id])
            continue
        if row.is_deleted or row.account_id != inputs.account_id or _py(row.an_id):
            continue  # not a donation, or one that came from Action Network
        problem = _opportunity_problem(row, contacts.get(row.sf_id))
        if problem:
            plan.reject("salesforce", "opportunity", row.sf_id, *problem)
            continue
        pair = plan.pair()
        plan.add(Obj.DONATION, Direction.TO_ACTIONNETWORK, Action.CREATE, None, row.sf_id, {
            "amount": f"{Decimal(str(row.amount)):.2f}", "date": _noon(row.close_date, inputs.time_zone),
            "period": _text(row.recurring), "contacts": contacts[row.sf_id]}, pair)
        plan.add(Obj.OPPORTUNITY, Direction.TO_SALESFORCE, Action.UPDATE, None, row.sf_id, {}, pair)
    return plan


def opportunity_fields(donation: Any, account_id: str | None, titles: Mapping[str, str],
                       time_zone: str = "UTC") -> dict[str, Any]:
    """The Opportunity for an Action Network donation (without the external id, which the load adds)."""
    when = _day(donation.created, time_zone) or _day(donation.modified, time_zone)
    page = titles.get(donation.fundraising_page_id) or donation.fundraising_page_id or "unknown page"
    fields: dict[str, Any] = {"AccountId": account_id, "Name": opportunity_name(page, when),
                              "StageName": "Closed Won", "CloseDate": when}
    notes = []
    amount = _py(donation.amount)
    if amount is None:
        notes.append("Action Network gave no amount for this donation (typically a refund or return).")
    else:
        fields["Amount"] = float(Decimal(str(amount)))
    currency = (_text(donation.currency) or "USD").upper()
    if currency != "USD":
        notes.append(f"The amount is in {currency}, as recorded in Action Network (not converted).")
    if notes:
        fields["Description"] = " ".join(notes)
    if donation.recurring:
        fields[rules.RECURRING_FIELD] = (_text(donation.period) or "Recurring")[:RECURRING_MAX]
    return fields


def opportunity_name(page: str, day: str | None) -> str:
    """"Action Network donation — <page> — <date>", the page title shortened to fit Name's 120 characters."""
    head, tail = "Action Network donation — ", f" — {day}" if day else ""
    room = NAME_MAX - len(head) - len(tail)
    page = page if len(page) <= room else page[:room - 1] + "…"
    return f"{head}{page}{tail}"


def _opportunity_problem(row: Any, contacts: list[str] | None) -> tuple[str, str] | None:
    if (_text(row.stage_name) or "").casefold() == CLOSED_LOST:
        return ("OPPORTUNITY_LOST", f"Opportunity {row.sf_id} is Closed Lost, so it is not a donation and was "
                "not sent to Action Network; close it as won to send it.")
    if _py(row.amount) is None:
        return ("OPPORTUNITY_WITHOUT_AMOUNT", f"Opportunity {row.sf_id} has no Amount, so it was not sent to "
                "Action Network as a donation; fill in the Amount to send it.")
    if not contacts:
        return ("NO_CONTACT_ROLE", f"Opportunity {row.sf_id} on the {rules.DONATIONS_ACCOUNT!r} account has no "
                "Contact Role, so Action Network cannot tell who gave; add the donor in its Contact Roles "
                "(and the Contact to the Subscribers campaign) to send it.")
    return None


def _report_change(plan: Plan, row: Any, link: pd.Series) -> None:
    """A linked Opportunity that changed (or was deleted) after it was synced: reported, never sent."""
    if not _after(row.modified, link["linked_at"]):
        return
    what = "was deleted" if row.is_deleted else "changed"
    plan.reject(
        "salesforce", "opportunity", row.sf_id,
        "OPPORTUNITY_DELETED_AFTER_SYNC" if row.is_deleted else "OPPORTUNITY_CHANGED_AFTER_SYNC",
        f"Opportunity {row.sf_id} {what} in Salesforce after it was synced with Action Network donation "
        f"{link['an_id']}; as in Action Network's own sync, synced donations are never edited or removed, so the "
        "donation in Action Network stays as it was.")


def _after(modified: Any, linked_at: Any) -> bool:
    return not (pd.isna(modified) or pd.isna(linked_at)) and pd.Timestamp(modified) > pd.Timestamp(linked_at)


def _day(value: Any, time_zone: str) -> str | None:
    """A donation's date: the day of its timestamp in the org's time zone."""
    if value is None or pd.isna(value):
        return None
    stamp = pd.Timestamp(value)
    return (stamp if stamp.tzinfo else stamp.tz_localize("UTC")).tz_convert(time_zone).date().isoformat()


def _noon(day: Any, time_zone: str) -> str:
    """Noon of a CloseDate in the org's time zone, as a UTC instant: the same day seen from anywhere."""
    local = datetime.combine(date.fromisoformat(str(day)[:10]), time(12), ZoneInfo(time_zone))
    return local.astimezone(UTC).isoformat()


def _text(value: Any) -> str | None:
    value = _py(value)
    return value.strip() if isinstance(value, str) and value.strip() else None


def _py(value: Any) -> Any:
    return None if value is None or (not isinstance(value, list | dict | str) and pd.isna(value)) else value


# -- I/O around the pure function ----------------------------------------------------------------

def opportunity_inputs(conn: psycopg.Connection, run_id: str, masters: Mapping[str, str], time_zone: str = "UTC") -> DonationInputs:
    """The donation reconcile's frames for ``run_id``, from staging and sync state."""
    frames = inputs.donation_frames(conn, run_id)
    titles = frames.pop("titles")
    return DonationInputs(**frames,
                          account_id=masters.get("sf_donations_account"), page_id=masters.get("an_donations_page"),
                          page_titles=dict(zip(titles["an_id"], titles["title"], strict=True)),
                          pending_roles=frozenset(pending.pending_roles(conn)), time_zone=time_zone)


def plan_opportunities(conn: psycopg.Connection, run_id: str, masters: Mapping[str, str],
                       time_zone: str = "UTC") -> tuple[list[Op], list[Reject]]:
    """(plan rows, rejects) of the "opportunities" step for ``run_id``."""
    plan = reconcile_donations(opportunity_inputs(conn, run_id, masters, time_zone))
    return plan.ops, plan.rejects
