"""The seed-data generator: deterministic, realistic defects, linked Ids, fast enough for 1M contacts."""

from __future__ import annotations

import time

import pytest

from an_sf_sync_dev.sandbox.salesforce.generator import DONATIONS_ACCOUNT, SUBSCRIBERS_CAMPAIGN, generate
from an_sf_sync_dev.sandbox.salesforce.ids import checksum, make_id
from an_sf_sync_dev.sandbox.salesforce.schema import Schema
from an_sf_sync_dev.sandbox.salesforce.store import Store


def _materialise(**options) -> dict[str, list[dict]]:
    return {name: list(rows) for name, rows in generate(**options).items()}


def test_same_seed_same_data_other_seed_other_data():
    assert _materialise(contacts=300, seed=7) == _materialise(contacts=300, seed=7)
    assert _materialise(contacts=300, seed=7)["Contact"] != _materialise(contacts=300, seed=8)["Contact"]


def test_contacts_carry_the_defects_a_sync_must_handle():
    contacts = list(generate(contacts=5000, seed=1)["Contact"])
    emails = [c.get("Email") for c in contacts]
    assert 50 < sum(e is None for e in emails) < 200
    malformed = [e for e in emails if e and (e.count("@") != 1 or " " in e or "." not in e.split("@")[-1])]
    assert 20 < len(malformed) < 100
    lowered = [e.lower() for e in emails if e]
    case_duplicates = {e for e in emails if e and e != e.lower() and lowered.count(e.lower()) > 1}
    assert len(case_duplicates) > 30
    assert any(not c["LastName"].isascii() or not c["FirstName"].isascii() for c in contacts)
    assert all(c["LastName"] for c in contacts)
    assert any("MailingPostalCode" not in c for c in contacts)


def test_load_links_campaigns_members_and_donations():
    store = Store(Schema())
    loaded = store.load(generate(contacts=2000, seed=2))
    assert loaded["Contact"] == 2000 and loaded["CampaignMember"] > 1000 and loaded["Opportunity"] == 200
    campaigns = store.rows("Campaign")
    subscribers = next(c for c in campaigns if c["Name"] == SUBSCRIBERS_CAMPAIGN)
    assert any(c.get("ParentId") == subscribers["Id"] for c in campaigns)
    members = store.rows("CampaignMember")
    assert all(store.get("Contact", m["ContactId"]) for m in members)
    assert sum(m["CampaignId"] == subscribers["Id"] for m in members) > 1000
    donations = next(a for a in store.rows("Account") if a["Name"] == DONATIONS_ACCOUNT)
    opportunities = store.rows("Opportunity")
    assert sum(o["AccountId"] == donations["Id"] for o in opportunities) > 100
    assert any(o.get("Action_Network_Recurring__c") == "Monthly" for o in opportunities)
    roles = store.rows("OpportunityContactRole")
    assert all(store.get("Opportunity", r["OpportunityId"]) and store.get("Contact", r["ContactId"]) for r in roles)
    created = store.create("Contact", {"LastName": "After seeding"})  # new Ids continue after the seeded ones
    assert created["Id"] == make_id("003", 2001)
    with pytest.raises(ValueError, match="id_base"):
        store.load(generate(contacts=10, seed=2))
    store.load(generate(contacts=10, seed=2, id_base=10_000))


def test_ids_have_prefix_and_checksum():
    record_id = make_id("003", 123_456)
    assert len(record_id) == 18 and record_id.startswith("003") and checksum(record_id[:15]) == record_id[15:]


def test_generation_rate():
    started = time.perf_counter()
    count = sum(1 for rows in generate(contacts=50_000, seed=0).values() for _ in rows)
    elapsed = time.perf_counter() - started
    assert count > 100_000
    assert elapsed < 4.0, f"{count} rows took {elapsed:.1f}s; 1M contacts must stay well under a minute"


@pytest.mark.slow
def test_one_million_contacts_load_under_a_minute():
    started = time.perf_counter()
    loaded = Store(Schema()).load(generate(contacts=1_000_000, seed=0))
    assert loaded["Contact"] == 1_000_000
    assert time.perf_counter() - started < 60
