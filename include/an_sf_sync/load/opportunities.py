"""Load donations: apply the run's "opportunities" plan to both sides, and link each pair.

Runs after load_contacts, so donors are resolved to Contacts (and Contacts to activists) from the
contact links as they are now, including pairs linked earlier in this run.

Idempotent, so a load killed half-way and rerun duplicates nothing:

- Opportunities are upserted on ``Action_Network_ID__c``.
- Contact Roles: the roles already on the run's Opportunities are read first (one query per 500
  Opportunities), and only missing (Opportunity, Contact) pairs are inserted.
- Action Network does not deduplicate donations. Each row is marked ``attempting`` (committed)
  before its POST, and every donation is first looked up by its ``salesforce:<Opportunity Id>``
  identifier, so a POST whose answer was lost (or a plan recomputed after one) is found, never
  sent twice. A POST whose outcome is unknown leaves its row ``attempting`` and fails the task
  once everything else is done, so that a retry resolves it.
- Links are committed from the plan rows that are done (so a rerun links what a killed load had
  not), after the Contact Roles and before the Opportunities are stamped with their donation ids:
  a synced pair that changes after its link was made is reported as edited, and our own writes
  must not count as edits.
"""

from __future__ import annotations

import logging
from collections.abc import Container, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pandas as pd

from an_sf_sync import rules
from an_sf_sync.actionnetwork.errors import ActionNetworkUnavailableError
from an_sf_sync.errors import UnknownOutcome
from an_sf_sync.load.outcomes import Outcomes, an_error
from an_sf_sync.load.writes import each_write
from an_sf_sync.plan import Action, Direction, Obj, Step
from an_sf_sync.staging import links, plans

if TYPE_CHECKING:
    from an_sf_sync.actionnetwork.client import ActionNetworkClient
    from an_sf_sync.salesforce.client import SalesforceClient
    from an_sf_sync.staging.store import StagingStore

log = logging.getLogger(__name__)
STEP = Step.OPPORTUNITIES
ROLE_QUERY_CHUNK = 500  # Opportunity ids per Contact Role query, well within SOQL's length limit


def load_opportunities(store: StagingStore, run_id: str, an: ActionNetworkClient, sf: SalesforceClient, *, masters: Mapping[str, str]) -> dict[str, int]:
    with store.connect() as conn:
        ops = plans.pending_ops(conn, run_id, STEP)
    todo = ops[ops["status"].isin(["pending", "attempting"])]
    out = Outcomes(store, run_id, STEP)
    results = dict(zip(ops["seq"], ops["result_id"], strict=True))

    def rows(obj: Obj, direction: Direction, action: Action) -> pd.DataFrame:
        return todo[(todo["object"] == obj) & (todo["direction"] == direction) & (todo["action"] == action)]

    # 1. Action Network donations -> Opportunities, then their donors' Contact Roles.
    creates = rows(Obj.OPPORTUNITY, Direction.TO_SALESFORCE, Action.CREATE)
    if not creates.empty:
        out.salesforce(creates, sf.write("Opportunity", [
            {**p["fields"], rules.EXTERNAL_ID_FIELD: a} for p, a in zip(creates["payload"], creates["an_id"], strict=True)],
            operation="upsert", external_id_field=rules.EXTERNAL_ID_FIELD), "opportunity", results)
    _contact_roles(store, out, rows(Obj.CONTACT_ROLE, Direction.TO_SALESFORCE, Action.CREATE),
                   _by_pair(ops, results, Obj.OPPORTUNITY), sf)

    # 2. Opportunities -> Action Network donations, then the Opportunities stamped with their donation ids.
    unconfirmed = _donations(store, run_id, out, rows(Obj.DONATION, Direction.TO_ACTIONNETWORK, Action.CREATE),
                             results, an, masters["an_donations_page"])
    _commit_links(store, run_id)
    _stamp(store, out, rows(Obj.OPPORTUNITY, Direction.TO_SALESFORCE, Action.UPDATE), ops, results, sf)

    with store.connect() as conn:
        final = plans.pending_ops(conn, run_id, STEP, payloads="none")
    if unconfirmed:
        raise UnknownOutcome(
            f"{unconfirmed} donation(s) sent to Action Network got no answer, so it is not known whether they "
            "were recorded; rerun this task: it looks them up by identifier before sending anything again")
    return out.counts(final)


def _contact_roles(store: StagingStore, out: Outcomes, todo: pd.DataFrame, opportunity_of: dict[int, str], sf: SalesforceClient) -> None:
    """Add each donor as the primary "Donor" Contact Role of its Opportunity, unless already there."""
    if todo.empty:
        return
    people = [p["person_id"] for p in todo["payload"] if p.get("person_id")]
    with store.connect() as conn:
        contact_of = links.synced_contacts(conn, people)
    wanted = []
    for op in todo.itertuples():
        opportunity, person = opportunity_of.get(op.pair_id, _text_id(op.sf_id)), op.payload.get("person_id")
        if opportunity is None:
            out.record(op.seq, "failed", None, "BLOCKED", "the Opportunity could not be created")
        elif person not in contact_of:
            who = f"the donor, activist {person}," if person else "the donation names no activist, so its donor"
            out.fail(op, "contact role", "salesforce", "DONOR_NOT_SYNCED",
                     f"{who} is not synced with a Salesforce Contact yet, so Opportunity {opportunity} has no "
                     f"Contact Role; the sync adds the donor (role {rules.DONOR_ROLE!r}) on its own once the activist is "
                     "synced (see the activist's own reject, e.g. a missing or malformed email).")
        else:
            wanted.append((op, opportunity, contact_of[person]))
    existing = _existing_roles(sf, {o for _, o, _ in wanted})
    new = {}
    for op, opportunity, contact in wanted:
        found = existing.get((opportunity[:15], contact[:15]))
        if found:
            out.record(op.seq, "done", found)
        else:
            new[op.seq] = {"OpportunityId": opportunity, "ContactId": contact, "Role": rules.DONOR_ROLE, "IsPrimary": True}
    out.flush()
    if new:
        inserts = todo[todo["seq"].isin(new)]
        out.salesforce(inserts, sf.write("OpportunityContactRole", [new[s] for s in inserts["seq"]],
                                         operation="insert"), "contact role", {})


def _existing_roles(sf: SalesforceClient, opportunities: Iterable[str]) -> dict[tuple[str, str], str]:
    """(Opportunity, Contact) 15-character id pairs -> role id, for roles already on ``opportunities``."""
    ids = sorted(opportunities)
    found: dict[tuple[str, str], str] = {}
    for start in range(0, len(ids), ROLE_QUERY_CHUNK):
        for chunk in sf.read("OpportunityContactRole", ["Id", "OpportunityId", "ContactId"],
                             where="OpportunityId IN {ids}", params={"ids": ids[start:start + ROLE_QUERY_CHUNK]}):
            for role in chunk:
                if role.get("ContactId"):
                    found[(role["OpportunityId"][:15], role["ContactId"][:15])] = role["Id"]
    return found


def pick_donor(contact_ids: Sequence[str], people: Mapping[str, str],
               subscribed: Container[str]) -> tuple[str | None, tuple[str, str] | None]:
    """The activist to record an Opportunity's donation for, or (reason code, why not) for an admin.

    ``contact_ids`` are the Opportunity's role contacts in order of preference; ``people`` maps
    synced Contacts to their activists; ``subscribed`` holds the Subscribers campaign's Contacts.
    """
    for contact in contact_ids:
        if contact in people and contact in subscribed:
            return people[contact], None
    names = ", ".join(contact_ids)
    again = "then save the Opportunity again so the next run sends it."
    if not any(c in people for c in contact_ids):
        return None, ("DONOR_NOT_SYNCED",
                      f"its donor Contact ({names}) is not synced with Action Network. Add the Contact to the "
                      f"{rules.SUBSCRIBERS_CAMPAIGN!r} campaign (it needs a valid email address), {again}")
    return None, ("DONOR_NOT_SUBSCRIBED",
                  f"its donor Contact ({names}) is not in the {rules.SUBSCRIBERS_CAMPAIGN!r} campaign. Add the "
                  f"Contact to that campaign, {again}")



def _donations(store: StagingStore, run_id: str, out: Outcomes, todo: pd.DataFrame, results: dict, an: ActionNetworkClient,
               page_id: str) -> int:
    """Record each Opportunity's donation in Action Network at most once; returns how many stay unconfirmed."""
    if todo.empty:
        return 0
    contacts = sorted({c for p in todo["payload"] for c in p["contacts"]})
    with store.connect() as conn:
        people = links.synced_people(conn, contacts)
        subscribed = links.subscribed(conn, contacts)
    ready = []
    for op in todo.itertuples():
        person, problem = pick_donor(op.payload["contacts"], people, subscribed)
        if problem:
            out.fail(op, "donation", "actionnetwork", *problem)
        else:
            ready.append((op, person))
    out.flush()
    with store.connect() as conn:  # committed before any POST: a lost answer is then looked up, never resent
        plans.mark(conn, run_id, STEP, [(op.seq, "attempting", None, None, None) for op, _ in ready])

    def send(item: tuple[Any, str]) -> str:
        op, person = item
        identifier = f"salesforce:{op.sf_id}"
        found = an.find_donation(identifier)
        if found is None:
            found = an.record_donation(
                page_id, op.payload["amount"], person_id=person, recurring_period=op.payload.get("period"),
                created_date=_instant(op.payload["date"]),
                identifiers=[identifier])
        return found["an_id"]

    unconfirmed = 0
    for (op, _), donation_id, exc in each_write(an, ready, send, "Action Network donations"):
        if exc is None:
            results[op.seq] = donation_id
            out.record(op.seq, "done", donation_id)
        elif isinstance(exc, ActionNetworkUnavailableError):
            log.warning("donation for Opportunity %s left unconfirmed: %s", op.sf_id, exc)
            unconfirmed += 1
        else:
            out.fail(op, "donation", "actionnetwork", *an_error(exc))
    out.flush()
    return unconfirmed


def _stamp(store: StagingStore, out: Outcomes, todo: pd.DataFrame, ops: pd.DataFrame, results: dict, sf: SalesforceClient) -> None:
    """Write each new donation's id into its Opportunity's Action_Network_ID__c."""
    donation_of = _by_pair(ops, results, Obj.DONATION)
    with store.connect() as conn:
        status = plans.status_by_pair(conn, out.run_id, STEP, Obj.DONATION)
    blocked = todo[todo["pair_id"].map(status).eq("failed")]
    for seq in blocked["seq"]:
        out.record(seq, "failed", None, "BLOCKED", "the donation was not recorded in Action Network")
    out.flush()
    ready = todo[todo["pair_id"].map(donation_of).notna()]
    if ready.empty:
        return
    out.salesforce(ready, sf.write("Opportunity", [
        {"Id": s, rules.EXTERNAL_ID_FIELD: donation_of[p]} for s, p in zip(ready["sf_id"], ready["pair_id"], strict=True)],
        operation="update"), "opportunity", {})
    with store.connect() as conn:  # the stamp is our own change: synced as of now
        links.touch_donations(conn, list(ready["sf_id"]))


def _by_pair(ops: pd.DataFrame, results: dict, obj: Obj) -> dict[int, str]:
    """pair -> id of the record a create of ``obj`` made (once it is known)."""
    creates = ops[(ops["object"] == obj) & (ops["action"] == Action.CREATE)]
    return {int(p): results[s] for p, s in zip(creates["pair_id"], creates["seq"], strict=True)
            if isinstance(results.get(s), str)}


def _commit_links(store: StagingStore, run_id: str) -> None:
    """Link every pair whose create is done."""
    with store.connect() as conn:
        links.link_donations(conn, run_id, STEP)


def _text_id(value: Any) -> str | None:
    """A plan row's record id (missing ids come back from pandas as None or NaN)."""
    return value if isinstance(value, str) else None


def _instant(text: str) -> datetime:
    """A planned donation date: an instant (naive ones, from plans made before time zones, are UTC)."""
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=UTC)
