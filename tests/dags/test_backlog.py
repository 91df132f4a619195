"""A big first sync spread over several hourly runs: each run spends its Action Network write budget,
the rest waits in a backlog that later runs drain, fresh edits go first, no run fails, and nothing is
written twice or lost. Action Network is at its real 4 requests/s.
"""

from __future__ import annotations

import json
import time

import pytest
from simple_salesforce import format_soql

from an_sf_sync.load.budget import BATCH
from an_sf_sync.plan import Direction, Step
from tests.dags.test_edge_cases import ADA, BOB, SOLO, Org, person, subscribers_campaign

pytestmark = pytest.mark.slow

NEW = 10  # Contacts added to the Subscribers campaign at once
BUDGET = 4


@pytest.fixture
def org(dag, an_sandbox, sf_sandbox, staging, monkeypatch) -> Org:
    an_sandbox.app.store.load_records({"people": [
        person(ADA, "ada@example.org", "Ada", "Lovelace"), person(SOLO, "solo@example.org", "Solo"),
        person(BOB, "bob@example.org", "Bob", "Builder")]})
    an_sandbox.app.rate_limit = 4.0
    monkeypatch.setenv("AIRFLOW_CONN_ACTIONNETWORK_DEFAULT", json.dumps({
        "conn_type": "actionnetwork", "host": an_sandbox.url, "password": an_sandbox.api_key,
        "extra": {"requests_per_second": 4}}))
    monkeypatch.setenv("AIRFLOW_VAR_AN_SF_SYNC_WRITE_BUDGET", str(BUDGET))
    return Org(dag, an_sandbox, sf_sandbox, staging, 5)


def backlog(org, run) -> dict:
    with org.staging.connect() as conn:
        return conn.execute("SELECT summary->'backlog' FROM sync.runs WHERE run_id = %s", (run.run_id,)).fetchone()[0]


def test_runs_drain_the_backlog_within_their_budget_fresh_edits_first(org):
    org.run()
    stats = org.an_sandbox.app.stats
    subscribers = subscribers_campaign(org)
    contacts = [org.sf.Contact.create({"LastName": f"New {i}", "Email": f"new{i}@example.org"})["id"]
                for i in range(NEW)]
    for contact in contacts:
        org.sf.CampaignMember.create({"CampaignId": subscribers, "ContactId": contact})
    stats.reset()

    run = org.run()
    assert backlog(org, run)["writes_left"] == NEW - BUDGET and backlog(org, run)["eta_hours"] == 2
    assert stats.count("POST", "forms/submissions") == BUDGET

    # a fresh edit while the backlog waits: it goes out in the next run, ahead of the backlog
    ada = org.link(ADA)[0]
    org.sf.Contact.update(ada, {"MailingCity": "London"})
    run = org.run()
    assert org.activist(ADA)["postal_addresses"][0]["locality"] == "London"
    assert backlog(org, run)["writes_left"] == NEW - 2 * BUDGET + 1
    assert stats.count("PUT", "people") == 1 and stats.count("POST", "forms/submissions") == 2 * BUDGET - 1

    run = org.run()
    assert backlog(org, run)["writes_left"] == 0
    # every Contact reached Action Network exactly once, linked, subscribed and taking the action
    assert stats.count("POST", "forms/submissions") == NEW and stats.count("POST", "people") == 0
    people = org.an.get(f"{org.an_url}people", params={"per_page": 100}).json()["_embedded"]["osdi:people"]
    emails = [p["email_addresses"][0]["address"] for p in people]
    assert sorted(emails) == sorted({*emails}) and {f"new{i}@example.org" for i in range(NEW)} <= {*emails}
    with org.staging.connect() as conn:
        linked = {r[0] for r in conn.execute("SELECT sf_id FROM sync.contact_links WHERE state = 'active'")}
        waiting = conn.execute("SELECT count(*) FROM sync.pending").fetchone()[0]
        failed = conn.execute("SELECT count(*) FROM staging.plan WHERE status = 'failed'").fetchone()[0]
    assert set(contacts) <= linked and len(linked) == NEW + 3
    assert waiting == 0 and failed == 0
    # a quiet hour afterwards writes nothing
    stats.reset()
    run = org.run()
    assert org.writes(run) == [] and stats.count("POST") == 0


@pytest.mark.parametrize(("budget", "overlap"), [(BUDGET, 5), (2, 0)])
def test_what_people_in_the_backlog_did_waits_with_them_and_is_never_rejected(org, monkeypatch, budget, overlap):
    """A first match that needs an Action Network write waits in the backlog; the actions its activist
    took (a CampaignMember) and the members its Contact got in Salesforce (a participation) wait with
    it, instead of failing as "not synced", and go through when it does. With a budget of 2 a run
    and no overlap (nothing read again), a run re-stages only the next batch of the backlog: the rest,
    and what its people do meanwhile, stay queued."""
    monkeypatch.setenv("AIRFLOW_VAR_AN_SF_SYNC_WRITE_BUDGET", str(budget))
    org.overlap = overlap
    people = [f"m{i}" for i in range(NEW)]
    org.an_sandbox.app.store.load_records({
        "people": [person(p, f"{p}@example.org", "Member", p.upper()) for p in people],
        "forms": [{"id": "f-vol", "title": "Volunteer"}],
        "submissions": [{"person_id": p, "form_id": "f-vol"} for p in people]})
    contacts = {p: org.sf.Contact.create({"LastName": p.upper(), "Email": f"{p}@example.org",
                                          "MailingCity": "Leeds"})["id"] for p in people}
    org.run()  # the Volunteer form becomes a Campaign; each pair owes Action Network its city
    with org.staging.connect() as conn:
        campaign = conn.execute("SELECT sf_id FROM sync.action_links WHERE an_id = 'f-vol'").fetchone()[0]
    members = org.sf.query_all(f"SELECT ContactId FROM CampaignMember WHERE CampaignId = '{campaign}'")["records"]
    assert len(members) < NEW  # the pairs still in the backlog: their members wait
    for contact in set(contacts.values()) - {m["ContactId"] for m in members}:
        # joined in Salesforce too (a form is joinable): becomes a participation once the pair is synced
        org.sf.CampaignMember.create({"CampaignId": campaign, "ContactId": contact})
    runs = [org.run() for _ in range(NEW // budget + 2)]
    with org.staging.connect() as conn:  # the run after the first planned a batch of the backlog, not all of it
        planned = conn.execute("SELECT count(DISTINCT pair_id) FROM staging.plan WHERE run_id = %s AND step = %s"
                               " AND direction = %s", (runs[0].run_id, Step.CONTACTS, Direction.TO_ACTIONNETWORK)
                               ).fetchone()[0]
    assert planned == (BATCH * budget // 2 if not overlap else NEW - budget)  # two records a pair
    # what is left counts the queue too: the pairs' writes, and the participations of those the first run held
    assert backlog(org, runs[0])["writes_left"] == (NEW - 2 * budget) + (NEW - budget)
    left = [backlog(org, run)["writes_left"] for run in runs]
    assert left == sorted(left, reverse=True) and left[-1] == 0

    with org.staging.connect() as conn:
        codes = {r[0] for r in conn.execute("SELECT DISTINCT reason_code FROM sync.rejects")}
        failed = conn.execute("SELECT count(*) FROM staging.plan WHERE status = 'failed'").fetchone()[0]
        waiting = conn.execute("SELECT count(*) FROM sync.pending").fetchone()[0]
    assert not codes & {"PERSON_NOT_SYNCED", "CONTACT_NOT_SYNCED"} and failed == 0 and waiting == 0
    assert backlog(org, runs[-1])["writes_left"] == 0
    members = org.sf.query_all(f"SELECT ContactId FROM CampaignMember WHERE CampaignId = '{campaign}'")["records"]
    assert sorted(m["ContactId"] for m in members) == sorted(contacts.values())
    org.an_sandbox.app.rate_limit = 0  # the checks' own reads
    takes = org.an.get(f"{org.an_url}forms/f-vol/submissions", params={"per_page": 100}).json()
    for p in people:
        assert org.activist(p)["postal_addresses"][0]["locality"] == "Leeds"
        assert sum(s["action_network:person_id"] == p for s in takes["_embedded"]["osdi:submissions"]) == 1


def test_writes_waiting_for_their_person_take_none_of_the_budget_and_never_hold_the_backlog_back(org):
    """Donations whose donor Contact is not synced are refused before anything is sent, and tried
    again every run in case the donor is synced meanwhile. They cost no request, so they take no room
    in the budget: a budget's worth of them, planned first run after run, never holds back the
    donations behind them."""
    org.run()
    with org.staging.connect() as conn:
        account = conn.execute("SELECT record_id FROM sync.masters WHERE kind = 'sf_donations_account'").fetchone()[0]
    stranger = org.sf.Contact.create({"LastName": "Stranger", "Email": "stranger@example.org"})["id"]  # never synced
    ada = org.link(ADA)[0]

    def gift(contact: str, amount: int) -> str:
        made = org.sf.Opportunity.create({"Name": f"Gift {amount}", "AccountId": account, "StageName": "Closed Won",
                                          "CloseDate": "2026-12-01", "Amount": amount})["id"]
        org.sf.OpportunityContactRole.create({"OpportunityId": made, "ContactId": contact, "Role": "Donor",
                                              "IsPrimary": True})
        return made

    waiting = [gift(stranger, 10 + i) for i in range(BUDGET)]  # made first: planned first
    sent = [gift(ada, 50 + i) for i in range(BUDGET - 1)]
    stats = org.an_sandbox.app.stats
    posts = []
    for _ in range(2):
        stats.reset()
        run = org.run()
        posts.append(stats.count("POST"))
    assert posts[0] == len(sent) and posts[1] == 0
    recorded = {i.removeprefix("salesforce:") for d in org.an.get(f"{org.an_url}donations").json()
                ["_embedded"]["osdi:donations"] for i in d["identifiers"]}
    assert set(sent) <= recorded and not set(waiting) & recorded
    assert backlog(org, run)["writes_left"] == 0 and backlog(org, run)["spent"] == 0
    with org.staging.connect() as conn:
        queued = {r[0] for r in conn.execute("SELECT record_id FROM sync.pending")}
    assert queued == set(waiting)  # tried again next run


def test_a_contact_removed_from_the_subscribers_campaign_waits_in_the_backlog_and_is_unsubscribed(org, monkeypatch):
    """Removing Contacts from the Subscribers campaign changes the memberships, not the Contacts,
    which are then not read: with a budget of one write a run, the unsubscribe that waits goes out in
    the next run all the same (the deleted membership waits in the Contact's place)."""
    monkeypatch.setenv("AIRFLOW_VAR_AN_SF_SYNC_WRITE_BUDGET", "1")
    org.overlap = 0  # nothing read again: the Contacts are in no later window
    org.run()
    org.run()  # reads back the Contacts the first run made
    contacts = [org.link(ADA)[0], org.link(BOB)[0]]
    members = org.sf.query_all(format_soql("SELECT Id FROM CampaignMember WHERE CampaignId = {} AND ContactId IN {}",
                                           subscribers_campaign(org), contacts))["records"]
    for member in members:
        org.sf.CampaignMember.delete(member["Id"])
    stats = org.an_sandbox.app.stats
    statuses = []
    for _ in range(3):
        stats.reset()
        org.run()
        statuses.append(sorted(org.activist(a)["email_addresses"][0]["status"] for a in (ADA, BOB)))
        assert stats.count("PUT") <= 1
    assert statuses == [["subscribed", "unsubscribed"]] + [["unsubscribed", "unsubscribed"]] * 2
    with org.staging.connect() as conn:
        assert conn.execute("SELECT count(*) FROM sync.pending").fetchone()[0] == 0


def deferred_first_match(org, monkeypatch, overlap: int) -> tuple[str, str]:
    """Ada and Bob, in Action Network, entered as Contacts a second later with other values (which
    win their first match); a budget of one write a run defers one of the two pairs: its ids."""
    monkeypatch.setenv("AIRFLOW_VAR_AN_SF_SYNC_WRITE_BUDGET", "1")
    org.overlap = overlap
    time.sleep(1.1)
    contacts = {an_id: org.sf.Contact.create({"Email": email, "FirstName": first, "LastName": last,
                                              "MailingCity": "Lyon", "MailingState": "RH"})["id"]
                for an_id, email, first, last in ((ADA, "ada@example.org", "Ada", "Lovelace"),
                                                  (BOB, "bob@example.org", "Bob", "Builder"))}
    org.run()
    with org.staging.connect() as conn:
        waiting = {r[0] for r in conn.execute("SELECT an_id FROM staging.plan WHERE step = %s AND status = 'deferred'"
                                              " AND direction = %s", (Step.CONTACTS, Direction.TO_ACTIONNETWORK))}
    assert len(waiting) == 1  # one of the two pairs waits for the next run's budget
    (an_id,) = waiting
    return an_id, contacts[an_id]


@pytest.mark.parametrize("overlap", [5, 0])
def test_a_first_match_the_budget_defers_keeps_the_edits_both_sides_make_while_it_waits(org, monkeypatch, overlap):
    """People already on both sides, matched by the first sync but deferred by the budget: what each
    side edits while they wait is kept, however the two edits are ordered. Before, the pair was matched
    afresh when its turn came: the later record won every field, and an activist's edit was lost to
    the Contact's older value as soon as anything else of the Contact changed later."""
    an_id, sf_id = deferred_first_match(org, monkeypatch, overlap)
    org.put(an_id, {"given_name": "Edited in Action Network"})
    time.sleep(1.1)
    org.sf.Contact.update(sf_id, {"MailingState": "IDF"})  # the Contact is the later record now
    org.run()
    org.run()
    activist, contact = org.activist(an_id), org.contact(sf_id)
    address = activist["postal_addresses"][0]
    assert (activist["given_name"], address["locality"], address["region"]) == (
        "Edited in Action Network", "Lyon", "IDF")
    assert (contact["FirstName"], contact["MailingCity"], contact["MailingState"]) == (
        "Edited in Action Network", "Lyon", "IDF")
    assert org.writes(org.run()) == []


def test_a_first_match_the_budget_defers_follows_the_activist_to_a_new_email(org, monkeypatch):
    """An activist whose first match waits moves to a new address: their Contact takes it (and the
    match's values), instead of a second Contact entering them twice."""
    an_id, sf_id = deferred_first_match(org, monkeypatch, 0)
    org.put(an_id, {"email_addresses": [{"address": "moved@example.org", "primary": True}]})
    org.run()
    org.run()
    found = org.sf.query(format_soql("SELECT Id FROM Contact WHERE Email = {} OR Id = {}", "moved@example.org", sf_id))
    assert [r["Id"] for r in found["records"]] == [sf_id]
    assert org.contact(sf_id)["Email"] == "moved@example.org" and org.link(an_id) == (sf_id, "active")
    assert org.activist(an_id)["postal_addresses"][0]["locality"] == "Lyon"
    assert org.writes(org.run()) == []


def test_a_first_match_the_budget_defers_stops_when_its_contact_gets_another_email_and_resumes_when_changed_back(
        org, monkeypatch):
    """A Contact whose first match waits is given another email in Salesforce (and joins the
    Subscribers campaign): as for a synced pair, the two stop syncing and are reported, and neither is
    entered in the other a second time. Before, the activist got a second Contact, and the Contact a
    second activist. Given its address back, the Contact resumes the match."""
    an_id, sf_id = deferred_first_match(org, monkeypatch, 0)
    email = org.contact(sf_id)["Email"]
    org.sf.Contact.update(sf_id, {"Email": "elsewhere@example.org"})
    org.sf.CampaignMember.create({"CampaignId": subscribers_campaign(org), "ContactId": sf_id})
    org.run()
    org.run()
    found = org.sf.query(format_soql("SELECT Id FROM Contact WHERE Email = {}", email))["records"]
    assert found == [] and org.link(an_id) is None
    signups = org.an.get(f"{org.an_url}people", params={"filter": "email_address eq 'elsewhere@example.org'"}).json()
    assert signups["_embedded"]["osdi:people"] == []
    with org.staging.connect() as conn:
        open_rejects = set(conn.execute("SELECT record_id, reason_code FROM sync.rejects WHERE status = 'open'"))
    assert {(an_id, "SYNC_STOPPED"), (sf_id, "EMAIL_CHANGED_IN_SALESFORCE")} <= open_rejects
    time.sleep(1.1)
    org.sf.Contact.update(sf_id, {"Email": email})
    org.run()
    org.run()
    assert org.link(an_id) == (sf_id, "active")
    assert org.activist(an_id)["postal_addresses"][0]["locality"] == "Lyon"
    with org.staging.connect() as conn:
        assert conn.execute("SELECT record_id FROM sync.rejects WHERE status = 'open' AND record_id = ANY(%s)",
                            ([an_id, sf_id],)).fetchall() == []
    assert org.writes(org.run()) == []
