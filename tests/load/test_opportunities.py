"""Loading the "opportunities" plan over both emulators and a real Postgres: both directions, links, no echo,
and a load killed half-way (lost answers) rerun without duplicating anything on either side."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from simple_salesforce.exceptions import SalesforceGeneralError

from an_sf_sync.actionnetwork.client import ActionNetworkClient
from an_sf_sync.errors import UnknownOutcome
from an_sf_sync.load.opportunities import load_opportunities, pick_donor
from an_sf_sync.plan import Step
from an_sf_sync.reconcile.donations import plan_opportunities
from an_sf_sync.retry import RetryPolicy
from an_sf_sync.salesforce.client import SalesforceClient
from an_sf_sync.staging import plans
from an_sf_sync.staging.rejects import add_rejects
from an_sf_sync_dev.sandbox.http import Fault

RUN = "scheduled__2026-03-01T10:00:00+00:00"
PAGE, OTHER_PAGE = "sf-donations-page", "spring-page"


@dataclass
class World:
    store: Any
    an: ActionNetworkClient
    sf: SalesforceClient
    an_app: Any
    sf_app: Any
    masters: dict[str, str]
    ids: dict[str, str]

    def stage_and_plan(self, run_id: str = RUN) -> list[dict]:
        with self.store.connect() as conn:
            ops, rejects = plan_opportunities(conn, run_id, self.masters)
            plans.replace(conn, run_id, Step.OPPORTUNITIES, ops)
            add_rejects(conn, run_id, rejects)
        return ops

    def load(self, run_id: str = RUN) -> dict[str, int]:
        return load_opportunities(self.store, run_id, self.an, self.sf, masters=self.masters)

    def rejects(self) -> dict[str, str]:
        with self.store.connect() as conn:
            return dict(conn.execute("SELECT record_id, reason_code FROM sync.rejects").fetchall())

    def links(self) -> set[tuple[str, str, str]]:
        with self.store.connect() as conn:
            return set(conn.execute("SELECT an_id, sf_id, origin FROM sync.donation_links").fetchall())

    def donations_on_page(self) -> list[dict]:
        return [d for d in self.an.donations() if d["fundraising_page_id"] == PAGE]


@pytest.fixture
def world(staging: Any, an_sandbox: Any, sf_sandbox: Any) -> Iterator[World]:
    """Both sides and the sync state as a previous run left them, plus this run's staged changes.

    Activist p1 is synced with Contact c1 (subscribed), p3 with c3 (not subscribed); p2 is not synced.
    Action Network has donations d1 (p1) and d2 (p2, a refund without amount); Salesforce has
    Opportunities oA (donor c1), oB (donor c3) and oC (no Contact Role) on the Donations account.
    """
    sf_store = sf_sandbox.app.store
    account = sf_store.create("Account", {"Name": "Action Network Donations"})["Id"]
    c1, c3 = (sf_store.create("Contact", {"LastName": n, "Email": f"{n}@example.org"})["Id"] for n in ("one", "three"))
    opp = {"AccountId": account, "StageName": "Closed Won", "CloseDate": "2026-02-14"}
    oA = sf_store.create("Opportunity", {**opp, "Name": "Gala pledge", "Amount": 40, "Action_Network_Recurring__c": "Monthly"})
    oB = sf_store.create("Opportunity", {**opp, "Name": "Unsubscribed donor", "Amount": 15})
    oC = sf_store.create("Opportunity", {**opp, "Name": "No role", "Amount": 5})
    rA = sf_store.create("OpportunityContactRole", {"OpportunityId": oA["Id"], "ContactId": c1, "IsPrimary": True})
    rB = sf_store.create("OpportunityContactRole", {"OpportunityId": oB["Id"], "ContactId": c3})
    an_sandbox.app.store.load_records({
        "people": [{"id": p, "email_addresses": [{"address": f"{p}@example.org"}]} for p in ("p1", "p2", "p3")],
        "fundraising_pages": [{"id": PAGE, "title": "Salesforce Donations", "api_created": True},
                              {"id": OTHER_PAGE, "title": "Spring appeal"}]})
    masters = {"sf_donations_account": account, "an_donations_page": PAGE}
    with staging.connect() as conn:
        for kind, record in masters.items():
            conn.execute("INSERT INTO sync.masters (kind, system, record_id, name) VALUES (%s, %s, %s, %s)",
                         (kind, "salesforce" if kind.startswith("sf") else "actionnetwork", record, kind))
        for an_id, sf_id in (("p1", c1), ("p3", c3)):
            conn.execute("INSERT INTO sync.contact_links (an_id, sf_id, email_key, linked_run, updated_run)"
                         " VALUES (%s, %s, %s, 'earlier', 'earlier')", (an_id, sf_id, f"{an_id}@example.org"))
        conn.execute("INSERT INTO sync.sf_subscribers (contact_id, member_id) VALUES (%s, '00v000000000001AAA')", (c1,))
        conn.execute("INSERT INTO staging.an_actions (run_id, an_id, action_type, title) VALUES"
                     " (%s, %s, 'fundraising_page', 'Spring appeal')", (RUN, OTHER_PAGE))
        for an_id, person, amount in (("d1", "p1", Decimal("25.00")), ("d2", "p2", None)):
            conn.execute("INSERT INTO staging.an_donations (run_id, an_id, fundraising_page_id, person_id, amount,"
                         " currency, created_date, modified_date) VALUES (%s, %s, %s, %s, %s, 'USD',"
                         " '2026-03-01T09:00:00Z', '2026-03-01T09:00:00Z')", (RUN, an_id, OTHER_PAGE, person, amount))
        for o in (oA, oB, oC):
            stage_opportunity(conn, RUN, sf_store.get("Opportunity", o["Id"]))
        for r in (rA, rB):
            stage_role(conn, RUN, r)
    an = ActionNetworkClient(an_sandbox.url, an_sandbox.api_key, requests_per_second=500.0,
                              retry=RetryPolicy(base=0.01), timeout=5.0)
    try:
        yield World(staging, an, SalesforceClient(sf_sandbox.client()), an_sandbox.app, sf_sandbox.app, masters,
                    {"c1": c1, "c3": c3, "oA": oA["Id"], "oB": oB["Id"], "oC": oC["Id"]})
    finally:
        an.close()


def stage_opportunity(conn: Any, run_id: str, row: dict) -> None:
    """Stage an Opportunity as extract_sf does (Action_Network_ID__c in ``an_id``)."""
    conn.execute("INSERT INTO staging.sf_opportunities (run_id, sf_id, is_deleted, last_modified_date, account_id,"
                 " an_id, name, amount, close_date, stage_name, action_network_recurring)"
                 " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                 (run_id, row["Id"], row["IsDeleted"], row["LastModifiedDate"], row.get("AccountId"),
                  row.get("Action_Network_ID__c"), row["Name"], row.get("Amount"), row["CloseDate"],
                  row["StageName"], row.get("Action_Network_Recurring__c")))


def stage_role(conn: Any, run_id: str, row: dict) -> None:
    conn.execute("INSERT INTO staging.sf_opportunity_contact_roles (run_id, sf_id, opportunity_id, contact_id, role,"
                 " is_primary, created_date) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                 (run_id, row["Id"], row["OpportunityId"], row["ContactId"], row.get("Role"),
                  row.get("IsPrimary", False), row["CreatedDate"]))


def opportunities_of(world: World, an_id: str) -> list[dict]:
    return [o for o in world.sf_app.store.rows("Opportunity") if o.get("Action_Network_ID__c") == an_id]


def roles_of(world: World, opportunity_id: str) -> list[dict]:
    return [r for r in world.sf_app.store.rows("OpportunityContactRole") if r["OpportunityId"] == opportunity_id]


def test_load_syncs_donations_both_ways_links_them_and_explains_what_it_skipped(world: World) -> None:
    world.stage_and_plan()
    counts = world.load()
    assert counts["to_actionnetwork.create.done"] == 1 and counts["to_salesforce.create.done"] == 3

    # Action Network -> Salesforce: d1 with its donor as role; d2 (refund, donor not synced) without one.
    (o1,), (o2,) = opportunities_of(world, "d1"), opportunities_of(world, "d2")
    assert (o1["AccountId"], o1["StageName"], o1["Amount"]) == (world.masters["sf_donations_account"], "Closed Won", 25)
    assert o1["Name"] == "Action Network donation — Spring appeal — 2026-03-01" and str(o1["CloseDate"]) == "2026-03-01"
    role, = roles_of(world, o1["Id"])
    assert (role["ContactId"], role["Role"], role["IsPrimary"]) == (world.ids["c1"], "Donor", True)
    assert o2.get("Amount") is None and "refund" in o2["Description"] and roles_of(world, o2["Id"]) == []

    # Salesforce -> Action Network: oA on the "Salesforce Donations" page, stamped with the donation id.
    donation, = world.donations_on_page()
    assert (donation["person_id"], donation["amount"], donation["recurring"], donation["period"]) == (
        "p1", "40.00", True, "Monthly")
    assert world.sf_app.store.get("Opportunity", world.ids["oA"])["Action_Network_ID__c"] == donation["an_id"]

    assert world.links() == {("d1", o1["Id"], "actionnetwork"), ("d2", o2["Id"], "actionnetwork"),
                             (donation["an_id"], world.ids["oA"], "salesforce")}
    rejects = world.rejects()
    assert rejects == {"d2": "DONOR_NOT_SYNCED", world.ids["oB"]: "DONOR_NOT_SUBSCRIBED",
                       world.ids["oC"]: "NO_CONTACT_ROLE"}

    # Rerunning the finished load writes nothing again, and commits links a killed load had not.
    with world.store.connect() as conn:
        conn.execute("DELETE FROM sync.donation_links WHERE origin = 'actionnetwork'")
    assert world.load() == counts
    assert len(world.donations_on_page()) == 1 and len(world.sf_app.store.rows("Opportunity")) == 5
    assert len(world.sf_app.store.rows("OpportunityContactRole")) == 3 and len(world.links()) == 3


def test_the_next_run_sees_our_own_writes_and_sends_nothing_back(world: World) -> None:
    world.stage_and_plan()
    world.load()
    nxt = "scheduled__2026-03-01T11:00:00+00:00"
    with world.store.connect() as conn:  # what the next extracts bring back: every record this load touched
        for o in world.sf_app.store.rows("Opportunity"):
            stage_opportunity(conn, nxt, o)
        for r in world.sf_app.store.rows("OpportunityContactRole"):
            stage_role(conn, nxt, r)
        for d in world.an.donations():
            conn.execute("INSERT INTO staging.an_donations (run_id, an_id, fundraising_page_id, person_id, amount,"
                         " created_date, modified_date) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                         (nxt, d["an_id"], d["fundraising_page_id"], d["person_id"], d["amount"],
                          d["created_date"], d["modified_date"]))
    with world.store.connect() as conn:
        ops, rejects = plan_opportunities(conn, nxt, world.masters)
    # Only the Opportunity whose donor was not subscribed is tried again; nothing echoes, nothing is reported
    # as changed after sync.
    assert [(o["object"], o["sf_id"]) for o in ops] == [("donation", world.ids["oB"]), ("opportunity", world.ids["oB"])]
    assert {r["reason_code"] for r in rejects} == {"NO_CONTACT_ROLE"}


def test_a_load_killed_half_way_and_rerun_duplicates_nothing(world: World) -> None:
    world.stage_and_plan()
    # Salesforce saves the Contact Role but the answer is lost; so does Action Network with the donation.
    world.sf_app.knobs.add_fault(Fault(status=500, path=r"/composite/sobjects$", method="POST", after=True))
    world.an_app.knobs.add_fault(Fault(status=500, path=r"/fundraising_pages/.+/donations$", method="POST",
                                       after=True))
    with pytest.raises(SalesforceGeneralError):  # an insert is not retried once Salesforce may have saved it
        world.load()
    with pytest.raises(UnknownOutcome):
        world.load()
    with world.store.connect() as conn:
        status, = conn.execute("SELECT status FROM staging.plan WHERE run_id = %s AND step = %s"
                               " AND object = 'donation' AND sf_id = %s", (RUN, Step.OPPORTUNITIES, world.ids["oA"])).fetchone()
    assert status == "attempting"
    counts = world.load()

    assert counts["to_actionnetwork.create.done"] == 1
    donation, = world.donations_on_page()  # one donation, although it was sent before the answer was lost
    assert world.sf_app.store.get("Opportunity", world.ids["oA"])["Action_Network_ID__c"] == donation["an_id"]
    (o1,) = opportunities_of(world, "d1")
    assert len(roles_of(world, o1["Id"])) == 1  # one role, although its insert answer was lost
    assert len(world.sf_app.store.rows("Opportunity")) == 5
    assert (donation["an_id"], world.ids["oA"], "salesforce") in world.links()


def test_pick_donor_takes_the_first_synced_subscribed_contact_or_says_why_not():
    people = {"003A": "pA", "003B": "pB"}
    assert pick_donor(["003X", "003A", "003B"], people, {"003B", "003A"}) == ("pA", None)
    assert pick_donor(["003A", "003B"], people, {"003B"}) == ("pB", None)
    person, (code, message) = pick_donor(["003A"], people, set())
    assert person is None and code == "DONOR_NOT_SUBSCRIBED" and "Subscribers" in message
    person, (code, message) = pick_donor(["003X"], people, {"003X"})
    assert person is None and code == "DONOR_NOT_SYNCED" and "003X" in message
