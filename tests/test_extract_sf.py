"""extract_salesforce: the emulator (real HTTPS, SalesforceHook) into a real Postgres staging schema."""

from __future__ import annotations

from datetime import timedelta

import pytest

from an_sf_sync.extract import extract_salesforce, sf_objects
from an_sf_sync.staging import runs
from an_sf_sync.window import Window
from an_sf_sync_dev.sandbox.salesforce.generator import generate
from tests.salesforce.support import T0, connect

FAR = T0 + timedelta(days=3650)
TABLES = {key: table for key, table, _, _ in sf_objects()}


@pytest.fixture
def sf(sf_sandbox, monkeypatch):
    return connect(monkeypatch, sf_sandbox)


def staged(store, table, run_id, columns="*"):
    with store.connect() as conn, conn.cursor() as cur:
        cur.execute(f"SELECT {columns} FROM staging.{table} WHERE run_id = %s ORDER BY sf_id", (run_id,))
        names = [d.name for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def test_first_run_stages_everything_with_deletions(sf_sandbox, sf, staging):
    store = sf_sandbox.app.store
    store.set_custom_fields({"Contact": {"Favorite_Color__c": "textarea"}})
    store.load(generate(contacts=120, seed=3))
    contacts = store.rows("Contact")
    store.update("Contact", contacts[0]["Id"], {"Favorite_Color__c": "teal\nand \"green\""})
    store.delete("Contact", contacts[1]["Id"])

    counts = extract_salesforce(sf, staging, "run-1", Window(None, FAR), custom_fields=["Favorite_Color__c"])

    sobjects = {key: sobject for key, _, sobject, _ in sf_objects()}
    assert counts == {key: sum(1 for _ in store.rows(sobjects[key], include_deleted=True)) for key in TABLES}
    assert counts["contacts"] == 120 and counts["opportunities"] > 0
    rows = {r["sf_id"]: r for r in staged(staging, "sf_contacts", "run-1")}
    first, gone = rows[contacts[0]["Id"]], rows[contacts[1]["Id"]]
    assert first["custom_fields"] == {"Favorite_Color__c": "teal\nand \"green\""}
    assert first["last_name"] == contacts[0]["LastName"] and first["is_deleted"] is False
    assert first["system_modstamp"].tzinfo is not None
    assert gone["is_deleted"] is True
    opportunities = staged(staging, "sf_opportunities", "run-1")
    assert any(o["action_network_recurring"] for o in opportunities)
    assert all(o["amount"] is not None and o["close_date"] is not None for o in opportunities)
    roles = staged(staging, "sf_opportunity_contact_roles", "run-1")
    assert all(r["is_primary"] is True and r["role"] == "Donor" for r in roles)
    assert runs.extract_of(staging, "run-1", "salesforce") == {"window_start": None, "window_end": FAR, "counts": counts}


def load_changes(sandbox):
    """Contacts and campaigns changed T0 + i minutes (i = 0..9)."""
    sandbox.app.store.load({
        "Contact": ({"LastName": f"c{i}", "SystemModstamp": T0 + timedelta(minutes=i)} for i in range(10)),
        "Campaign": ({"Name": f"k{i}", "SystemModstamp": T0 + timedelta(minutes=i)} for i in range(10)),
    })


def test_incremental_and_backfill_windows_read_only_their_changes(sf_sandbox, sf, staging):
    load_changes(sf_sandbox)
    hour = extract_salesforce(sf, staging, "run-2", Window(T0 + timedelta(minutes=6), T0 + timedelta(minutes=60)))
    assert hour["contacts"] == 4 and hour["campaigns"] == 4
    assert {r["name"] for r in staged(staging, "sf_campaigns", "run-2")} == {"k6", "k7", "k8", "k9"}
    # a backfill of an earlier window reads its own window, newer changes do not leak in
    old = extract_salesforce(sf, staging, "backfill", Window(T0, T0 + timedelta(minutes=2)))
    assert {r["last_name"] for r in staged(staging, "sf_contacts", "backfill")} == {"c0", "c1"}
    assert old["contacts"] == 2
    assert len(staged(staging, "sf_contacts", "run-2")) == 4


def test_a_rerun_replaces_that_runs_rows(sf_sandbox, sf, staging):
    load_changes(sf_sandbox)
    extract_salesforce(sf, staging, "other", Window(None, FAR))
    extract_salesforce(sf, staging, "run-3", Window(None, FAR))
    again = extract_salesforce(sf, staging, "run-3", Window(T0 + timedelta(minutes=8), FAR))
    assert again["contacts"] == 2
    assert {r["last_name"] for r in staged(staging, "sf_contacts", "run-3")} == {"c8", "c9"}
    assert len(staged(staging, "sf_contacts", "other")) == 10
    assert runs.extract_of(staging, "run-3", "salesforce")["window_start"] == T0 + timedelta(minutes=8)


def test_large_objects_go_through_bulk_and_land_typed(sf_sandbox, sf, staging):
    sf_sandbox.app.store.load(generate(contacts=600, seed=5))  # 60 opportunities: above FAST's threshold
    counts = extract_salesforce(sf, staging, "run-4", Window(None, FAR))
    assert sf_sandbox.app.request_counts["POST bulk2 query create"] >= 3
    assert counts["contacts"] == 600
    opportunities = staged(staging, "sf_opportunities", "run-4")
    assert len(opportunities) == counts["opportunities"] > 50
    assert all(o["is_deleted"] is False and o["system_modstamp"] is not None for o in opportunities)
    expected = {r["Id"]: r["Amount"] for r in sf_sandbox.app.store.rows("Opportunity")}
    assert {o["sf_id"]: float(o["amount"]) for o in opportunities} == expected


