"""The whole sync, both ways, run by Airflow (``dag.test``) against both sandboxes and a real Postgres.

One scenario walks through the spec: a first run with duplicates, bad emails, subscriptions,
actions and donations on both sides; then changes on both sides through the real APIs; then a run
with nothing new, which must write nothing (our own writes never echo back).
"""

from __future__ import annotations

import time

import pytest
import requests
from airflow.utils.state import DagRunState

from an_sf_sync.staging import runs
from tests.dags.conftest import states

pytestmark = pytest.mark.slow

ADA, SOLO, NOZIP, BAD, UNSUB, DUP, MATCH = "p-ada", "p-solo", "p-nozip", "p-bad", "p-unsub", "p-dup", "p-match"


def person(an_id: str, email: str, given: str, family: str | None = None, status: str = "subscribed",
           **address) -> dict:
    return {"id": an_id, "given_name": given, "family_name": family,
            "email_addresses": [{"address": email, "primary": True, "status": status}],
            "postal_addresses": [{"primary": True, **address}] if address else [],
            "custom_fields": {"employer": "Analytical Engines"} if an_id == ADA else {}}


def seed(an_sandbox, sf_sandbox) -> dict[str, str]:
    an_sandbox.app.store.load_records({
        "people": [person(ADA, "ada@example.org", "Ada", "Lovelace", locality="Boston", postal_code="02111"),
                   person(SOLO, "solo@example.org", "Solo"),
                   person(NOZIP, "nozip@example.org", "Nils", "Nozip", locality="Oslo"),
                   person(BAD, "not-an-email", "Bad", "Email"),
                   person(UNSUB, "unsub@example.org", "Una", "Sub", status="unsubscribed"),
                   person(DUP, "dup@example.org", "Dee", "Dup"),
                   person(MATCH, "match@example.org", "Matthew", "Match")],
        "forms": [{"id": "f-volunteer", "title": "Volunteer sign-up"}],
        "petitions": [{"id": "pet-parks", "title": "Save the parks"}],
        "events": [{"id": "ev-rally", "title": "Rally"},
                   {"id": "ev-gala", "title": "Ticketed gala", "ticketed": True}],
        "event_campaigns": [{"id": "ec-week", "title": "Week of action"}],
        "fundraising_pages": [{"id": "fp-spring", "title": "Spring appeal", "api_created": True}],
        "advocacy_campaigns": [{"id": "adv-letters", "title": "Write your senator", "api_created": True}],
        "submissions": [{"person_id": ADA, "form_id": "f-volunteer"}],
        "signatures": [{"person_id": SOLO, "petition_id": "pet-parks"}],
        "attendances": [{"person_id": ADA, "event_id": "ev-rally"}],
        "outreaches": [{"person_id": ADA, "advocacy_campaign_id": "adv-letters"}],
        "donations": [{"person_id": ADA, "fundraising_page_id": "fp-spring", "amount": "25.00", "currency": "usd",
                       "recipients": [{"display_name": "Us", "amount": "25.00"}],
                       "action_network:recurrence": {"recurring": True, "period": "Monthly"}}],
    })
    store = sf_sandbox.app.store
    return {
        "dup_old": store.create("Contact", {"LastName": "DupOld", "Email": "Dup@example.org"})["Id"],
        "dup_new": store.create("Contact", {"LastName": "DupNew", "Email": "dup@EXAMPLE.org"})["Id"],
        "match": store.create("Contact", {"FirstName": "Mat", "LastName": "Match", "Email": "match@example.org"})["Id"],
        "sfonly": store.create("Contact", {"FirstName": "Sally", "LastName": "Only", "Email": "sfonly@example.org"})["Id"],
        "noemail": store.create("Contact", {"LastName": "NoEmail"})["Id"],
    }


def query(conn, sql: str, *params):
    return conn.execute(sql, params).fetchall()


def sf_rows(sf_sandbox, sobject: str) -> list[dict]:
    return sf_sandbox.app.store.rows(sobject)


def test_two_way_sync_end_to_end(dag, an_sandbox, sf_sandbox, staging):
    ids = seed(an_sandbox, sf_sandbox)
    an_api = requests.Session()
    an_api.headers.update(an_sandbox.headers)
    sf = sf_sandbox.client()

    time.sleep(1)  # windows are whole seconds: let the seeded second end before the run starts
    first = dag.test(logical_date=None, run_conf={"dry_run": False})
    assert first.state == DagRunState.SUCCESS, states(first)
    assert states(first)["resolve_duplicates"] == "success"
    with staging.connect() as conn:
        links = dict(query(conn, "SELECT an_id, sf_id FROM sync.contact_links WHERE state = 'active'"))
        masters = dict(query(conn, "SELECT kind, record_id FROM sync.masters"))
        rejects = {(r[0], r[1]) for r in query(conn, "SELECT record_id, reason_code FROM sync.rejects"
                                                     " WHERE run_id = %s", first.run_id)}
    contacts = {c.get("Id"): c for c in sf_rows(sf_sandbox, "Contact")}

    # activists -> Contacts, with the spec's field rules
    ada = contacts[links[ADA]]
    assert (ada.get("FirstName"), ada.get("LastName"), ada.get("MailingPostalCode"), ada.get("Employer__c")) == (
        "Ada", "Lovelace", "02111", "Analytical Engines")
    assert ada.get("Action_Network_ID__c") == ADA
    assert contacts[links[SOLO]].get("LastName") == "solo@example.org"  # no last name: the email
    assert contacts[links[NOZIP]].get("MailingPostalCode") is None
    assert BAD not in links and (BAD, "MALFORMED_EMAIL") in rejects
    assert (ids["noemail"], "MISSING_EMAIL") in rejects
    # matched by email, never duplicated (the Contact, edited after the activist, wins the first name);
    # the oldest of two duplicates wins, the other is reported
    assert links[MATCH] == ids["match"] and contacts[ids["match"]].get("FirstName") == "Mat"
    assert an_api.get(f"{an_sandbox.url}people/{MATCH}").json()["given_name"] == "Mat"
    assert links[DUP] == ids["dup_old"] and (ids["dup_new"], "DUPLICATE_EMAIL") in rejects
    assert sum(1 for c in contacts.values() if (c.get("Email") or "").lower() == "dup@example.org") == 2
    assert (ids["sfonly"], "NOT_IN_SUBSCRIBERS_CAMPAIGN") in rejects
    # subscription = membership of the Subscribers campaign
    members = {m.get("ContactId") for m in sf_rows(sf_sandbox, "CampaignMember")
               if m.get("CampaignId") == masters["sf_subscribers_campaign"]}
    assert members == {links[p] for p in (ADA, SOLO, NOZIP, DUP, MATCH)}
    # actions -> Campaigns with members; never event campaigns or ticketed events
    campaigns = {c.get("Action_Network_ID__c"): c for c in sf_rows(sf_sandbox, "Campaign") if c.get("Action_Network_ID__c")}
    assert {"f-volunteer", "pet-parks", "ev-rally", "fp-spring", "adv-letters"} <= set(campaigns)
    assert not {"ec-week", "ev-gala"} & set(campaigns)
    member_pairs = {(m.get("CampaignId"), m.get("ContactId")) for m in sf_rows(sf_sandbox, "CampaignMember")}
    assert (campaigns["f-volunteer"].get("Id"), links[ADA]) in member_pairs
    assert (campaigns["pet-parks"].get("Id"), links[SOLO]) in member_pairs
    # donations -> Opportunities on the donations account, donor as contact role
    opp, = [o for o in sf_rows(sf_sandbox, "Opportunity") if o.get("AccountId") == masters["sf_donations_account"]]
    assert (float(opp.get("Amount")), opp.get("Action_Network_Recurring__c")) == (25.0, "Monthly")
    roles = {(r.get("OpportunityId"), r.get("ContactId")) for r in sf_rows(sf_sandbox, "OpportunityContactRole")}
    assert (opp.get("Id"), links[ADA]) in roles

    # -- changes on both sides, through the real APIs ---------------------------------------------
    subscribers = masters["sf_subscribers_campaign"]
    sf.CampaignMember.create({"CampaignId": subscribers, "ContactId": ids["sfonly"]})
    sf.Contact.update(links[ADA], {"MailingCity": "London"})
    sf.Contact.update(ids["match"], {"Email": "changed@example.org"})
    bank = sf.Campaign.create({"Name": "Phone bank", "ParentId": subscribers})["id"]
    sf.CampaignMember.create({"CampaignId": bank, "ContactId": links[ADA]})
    sf.CampaignMember.create({"CampaignId": bank, "ContactId": ids["sfonly"]})
    gift = sf.Opportunity.create({"Name": "Gala gift", "AccountId": masters["sf_donations_account"],
                                  "StageName": "Closed Won", "CloseDate": "2026-03-01", "Amount": 40,
                                  "Action_Network_Recurring__c": "Yearly"})["id"]
    sf.OpportunityContactRole.create({"OpportunityId": gift, "ContactId": links[ADA], "Role": "Donor",
                                      "IsPrimary": True})
    base = an_sandbox.url
    an_api.put(f"{base}people/{SOLO}", json={"email_addresses": [{"status": "unsubscribed"}]}).raise_for_status()
    an_api.post(f"{base}fundraising_pages/fp-spring/donations", json={
        "recipients": [{"display_name": "Us", "amount": "10.00"}],
        "_links": {"osdi:person": {"href": f"{base}people/{NOZIP}"}}}).raise_for_status()

    time.sleep(1)
    second = dag.test(logical_date=None, run_conf={"dry_run": False})
    assert second.state == DagRunState.SUCCESS, states(second)
    with staging.connect() as conn:
        links = dict(query(conn, "SELECT an_id, sf_id FROM sync.contact_links WHERE state = 'active'"))
        stopped = query(conn, "SELECT an_id FROM sync.contact_links WHERE state = 'stopped'")
        rejects = {(r[0], r[1]) for r in query(conn, "SELECT record_id, reason_code FROM sync.rejects"
                                                     " WHERE run_id = %s", second.run_id)}
    store = an_sandbox.app.store
    sally = next(p for p in an_api.get(f"{base}people", params={"filter": "email_address eq 'sfonly@example.org'"})
                 .json()["_embedded"]["osdi:people"])
    assert sally["email_addresses"][0]["status"] == "subscribed"  # added to the Subscribers campaign
    assert an_api.get(f"{base}people/{ADA}").json()["postal_addresses"][0]["locality"] == "London"
    assert stopped == [(MATCH,)] and (ids["match"], "EMAIL_CHANGED_IN_SALESFORCE") in rejects
    forms = an_api.get(f"{base}forms").json()["_embedded"]["osdi:forms"]
    phone_bank, = [f for f in forms if f["title"] == "Phone bank"]
    takers = an_api.get(phone_bank["_links"]["osdi:submissions"]["href"]).json()["_embedded"]["osdi:submissions"]
    assert {t["action_network:person_id"] for t in takers} == {ADA, sally["identifiers"][0].split(":")[1]}
    donations = an_api.get(f"{base}donations").json()["_embedded"]["osdi:donations"]
    from_sf = [d for d in donations if f"salesforce:{gift}" in d["identifiers"]]
    assert [(d["amount"], d["action_network:person_id"]) for d in from_sf] == [("40.00", ADA)]
    assert {m.get("ContactId") for m in sf_rows(sf_sandbox, "CampaignMember")
            if m.get("CampaignId") == subscribers} == {links[p] for p in (ADA, NOZIP, DUP)} | {ids["sfonly"], ids["match"]}
    opportunities = sf_rows(sf_sandbox, "Opportunity")
    assert any(float(o.get("Amount") or 0) == 10.0 for o in opportunities)  # the new Action Network donation
    counts = (store.counts(), {name: len(sf_rows(sf_sandbox, name)) for name in
                               ("Contact", "Campaign", "CampaignMember", "Opportunity", "OpportunityContactRole")})

    # -- nothing new: nothing is written (our own writes do not echo back) ----------------------------
    calls = sf_sandbox.app.api_calls
    third = dag.test(logical_date=None, run_conf={"dry_run": False})
    assert third.state == DagRunState.SUCCESS, states(third)
    assert sf_sandbox.app.api_calls - calls <= 8  # the extract's reads; setup checks the org once a day
    with staging.connect() as conn:
        writes = query(conn, "SELECT step, direction, action, count(*) FROM staging.plan WHERE run_id = %s"
                             " AND direction <> 'local' GROUP BY 1, 2, 3", third.run_id)
    assert writes == []
    assert counts == (store.counts(), {name: len(sf_rows(sf_sandbox, name)) for name in
                                       ("Contact", "Campaign", "CampaignMember", "Opportunity",
                                        "OpportunityContactRole")})


def test_dry_run_reports_the_plan_and_writes_to_neither_side(dag, an_sandbox, sf_sandbox, staging):
    seed(an_sandbox, sf_sandbox)
    before = an_sandbox.app.store.counts(), sf_sandbox.app.store.counts()
    time.sleep(1)
    run = dag.test(logical_date=None, run_conf={"dry_run": True})
    assert run.state == DagRunState.SUCCESS, states(run)
    assert (an_sandbox.app.store.counts(), sf_sandbox.app.store.counts()) == before
    with staging.connect() as conn:
        planned = dict(query(conn, "SELECT action, count(*) FROM staging.plan WHERE run_id = %s"
                                   " AND step = 'contacts' AND direction = 'to_salesforce' GROUP BY 1", run.run_id))
        summary, dry = query(conn, "SELECT summary, dry_run FROM sync.runs WHERE run_id = %s", run.run_id)[0]
    assert planned["create"] == 4  # Ada, Solo, Nils, Una: the activists with no Contact yet
    assert dry and summary["dry_run"] and summary["watermarks"] == {}
    assert runs.watermark(staging, "actionnetwork") is None and runs.watermark(staging, "salesforce") is None


def test_a_backfill_over_hours_already_synced_changes_nothing(dag, an_sandbox, sf_sandbox, staging):
    from datetime import UTC, datetime, timedelta

    seed(an_sandbox, sf_sandbox)
    time.sleep(1)
    assert dag.test(logical_date=None, run_conf={"dry_run": False}).state == DagRunState.SUCCESS
    watermarks = runs.watermark(staging, "actionnetwork"), runs.watermark(staging, "salesforce")
    counts = an_sandbox.app.store.counts(), sf_sandbox.app.store.counts()
    old_hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=3)
    backfill = dag.test(logical_date=old_hour, run_conf={"dry_run": False})
    assert backfill.state == DagRunState.SUCCESS, states(backfill)
    assert runs.extract_of(staging, backfill.run_id, "actionnetwork")["window_end"] == old_hour
    with staging.connect() as conn:
        assert query(conn, "SELECT count(*) FROM staging.plan WHERE run_id = %s AND direction <> 'local'",
                     backfill.run_id) == [(0,)]
    assert (an_sandbox.app.store.counts(), sf_sandbox.app.store.counts()) == counts
    assert (runs.watermark(staging, "actionnetwork"), runs.watermark(staging, "salesforce")) == watermarks
