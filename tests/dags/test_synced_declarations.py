"""Adding a synced field or a kind of action is one entry in ``synced``: these tests install a
declaration with one more entry and run the whole sync on both sandboxes, nothing else changed."""

from __future__ import annotations

import pytest

from an_sf_sync import synced
from an_sf_sync.staging import settings
from tests.dags.test_edge_cases import Org, person

pytestmark = pytest.mark.slow

ADA, BOB = "p-ada", "p-bob"
PHONE = synced.PersonField("phone", "phone_numbers.number", "phone", "Phone", "phone", 40)


@pytest.fixture
def org(dag, an_sandbox, sf_sandbox, staging) -> Org:
    return Org(dag, an_sandbox, sf_sandbox, staging, 5)


def columns(org: Org, table: str) -> set[str]:
    with org.staging.connect() as conn:
        return {row[0] for row in conn.execute("SELECT column_name FROM information_schema.columns"
                                               " WHERE table_schema = 'staging' AND table_name = %s", (table,))}


def test_a_declared_field_syncs_both_ways(org, monkeypatch):
    monkeypatch.setattr(synced, "PERSON_FIELDS", (*synced.PERSON_FIELDS, PHONE))
    org.an_sandbox.app.store.load_records({"people": [
        {**person(ADA, "ada@example.org", "Ada", "Lovelace"), "phone_numbers": [{"number": "+1 555 0100"}]},
        person(BOB, "bob@example.org", "Bob", "Builder")]})

    org.run()
    assert {"phone"} <= columns(org, "an_people") and {"phone"} <= columns(org, "sf_contacts")
    assert settings.get(org.staging, "contact_lengths")["phone"] == 40  # the org's Contact.Phone
    ada, bob = org.link(ADA)[0], org.link(BOB)[0]
    assert org.contact(ada)["Phone"] == "+1 555 0100"
    assert org.contact(bob)["Phone"] is None

    # Salesforce -> Action Network: a phone added to a Contact, and a new Contact with one
    org.sf.Contact.update(bob, {"Phone": "+1 555 0111"})
    new = org.sf.Contact.create({"LastName": "Carver", "Email": "cat@example.org", "Phone": "+1 555 0122"})["id"]
    org.sf.CampaignMember.create({"CampaignId": settings.masters(org.staging)["sf_subscribers_campaign"],
                                  "ContactId": new})
    org.run()
    assert [p["number"] for p in org.activist(BOB)["phone_numbers"]] == ["+1 555 0111"]
    cat = next(a for a, s in _links(org) if s == new)
    assert [p["number"] for p in org.activist(cat)["phone_numbers"]] == ["+1 555 0122"]
    assert org.writes(org.run()) == []  # read back on both sides: nothing echoes


def _links(org: Org) -> list[tuple[str, str]]:
    with org.staging.connect() as conn:
        return conn.execute("SELECT an_id, sf_id FROM sync.contact_links").fetchall()


def test_a_declared_action_type_syncs_both_ways(org, monkeypatch):
    # A release that does not know surveys: the surveys collection is unknown, and none is read.
    known = synced.ACTION_TYPES
    monkeypatch.setattr(synced, "ACTION_TYPES", tuple(a for a in known if a.name != "survey"))
    org.an_sandbox.app.store.load_records({"people": [person(ADA, "ada@example.org", "Ada", "Lovelace"),
                                                      person(BOB, "bob@example.org", "Bob", "Builder")]})
    run = org.run()
    assert ("action_network:surveys", "ACTION_TYPE_NOT_SYNCED") in org.rejects(run)

    # Declaring it is the whole change.
    monkeypatch.setattr(synced, "ACTION_TYPES", (*synced.ACTION_TYPES, synced.ActionType(
        "survey", "surveys", "action_network:surveys", "responses", "action_network:responses", "survey",
        joinable=True, deduplicated=False)))
    org.an_sandbox.app.store.load_records({"surveys": [{"id": "sv-1", "title": "What should we work on?"}],
                                           "responses": [{"person_id": ADA, "survey_id": "sv-1"}]})
    org.run()
    with org.staging.connect() as conn:
        campaign, kind = conn.execute("SELECT sf_id, an_type FROM sync.action_links WHERE an_id = 'sv-1'").fetchone()
    assert kind == "survey" and org.sf.Campaign.get(campaign)["Name"] == "What should we work on?"
    members = org.sf.query(f"SELECT ContactId FROM CampaignMember WHERE CampaignId = '{campaign}'")["records"]
    assert [m["ContactId"] for m in members] == [org.link(ADA)[0]]

    # Salesforce -> Action Network: a Contact added to the survey's Campaign responds, once
    org.sf.CampaignMember.create({"CampaignId": campaign, "ContactId": org.link(BOB)[0]})
    org.run()
    page = org.an.get(f"{org.an_url}surveys/sv-1/responses").json()
    assert sorted(r["action_network:person_id"] for r in page["_embedded"]["action_network:responses"]) == [ADA, BOB]
    assert org.writes(org.run()) == []
