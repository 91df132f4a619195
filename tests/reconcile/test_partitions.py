"""Reconciling contacts in partitions plans exactly what reconciling them at once plans: a first sync
with shared and duplicate emails, then an hour with field edits, email changes on both sides and
Contacts merged in Salesforce; saving the mirrors in bulk changes nothing either."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import psycopg
import pytest

import an_sf_sync.reconcile as reconcile
from an_sf_sync.actionnetwork.client import ActionNetworkClient
from an_sf_sync.extract import extract_actionnetwork, extract_salesforce
from an_sf_sync.load import budget
from an_sf_sync.load.contacts import load_contacts
from an_sf_sync.plan import Step
from an_sf_sync.reconcile import reconcile_run
from an_sf_sync.setup import ensure_masters
from an_sf_sync.staging import pending, store
from an_sf_sync.window import Window
from tests.load.test_contacts import sf_client


def plan_of(staging, run_id: str) -> tuple:
    """The run's contact plan, rejects and conflicts, independent of how rows and pairs are numbered."""
    with staging.connect() as conn:
        rows = conn.execute("SELECT pair_id, direction, action, an_id, sf_id, payload FROM staging.plan"
                            " WHERE run_id = %s AND step = 'contacts'", (run_id,)).fetchall()
        rejects = conn.execute("SELECT source, object, record_id, reason_code, message FROM sync.rejects"
                               " WHERE run_id = %s ORDER BY 1, 2, 3, 4, 5", (run_id,)).fetchall()
        conflicts = conn.execute("SELECT an_id, sf_id, field, winner FROM sync.conflicts WHERE run_id = %s"
                                 " ORDER BY 1, 2, 3", (run_id,)).fetchall()
    pairs: dict[int, list] = {}
    for pair, *op, payload in rows:
        pairs.setdefault(pair, []).append(json.dumps([*op, payload], sort_keys=True))
    return sorted(tuple(sorted(ops)) for ops in pairs.values()), rejects, conflicts


def both_ways(staging, run_id: str, monkeypatch) -> None:
    def plan(rows: int, bulk: int) -> tuple:
        with staging.connect() as conn:  # the duplicates a run finds are reported by that run only once
            conn.execute("DELETE FROM sync.duplicates WHERE run_id = %s", (run_id,))
        monkeypatch.setattr(reconcile, "PARTITION_ROWS", rows)
        monkeypatch.setattr(store, "BULK_ROWS", bulk)
        parts = reconcile_run(staging, run_id, duplicate_rule="oldest")["partitions"]
        return parts, plan_of(staging, run_id)

    # in parts, the mirrors are saved the bulk way too (indexes rebuilt)
    (one, whole), (many, parted) = plan(10**9, 10**9), plan(40, 5)
    assert one == 1 and many > 3 and whole[0] and whole[1]
    assert parted[0] == whole[0]
    assert parted[1] == whole[1]
    assert parted[2] == whole[2]


def seed(an_sandbox, sf_sandbox, masters: dict) -> None:
    """120 activists and 120 Contacts, 40 of them shared, some twice (another letter case)."""
    an_sandbox.app.store.load_records({"people": [
        {"given_name": "Act", "family_name": f"Ivist {i}", "email_addresses": [{"address": f"p{i}@example.org"}]}
        for i in range(120)]})
    for i in range(80, 200):
        for email in [f"p{i}@example.org"] + ([f"P{i}@Example.org"] if i % 15 == 0 else []):
            contact = sf_sandbox.app.store.create("Contact", {"LastName": f"Sf {i}", "Email": email})["Id"]
            if i % 2:
                sf_sandbox.app.store.create("CampaignMember", {"CampaignId": masters["sf_subscribers_campaign"],
                                                               "ContactId": contact})


def seeded_org(staging, an_sandbox, sf_sandbox, monkeypatch):
    """The seeded org's clients, masters, and ``run(run_id, since)``: extract a window and reconcile
    it both ways (see ``both_ways``); returns the window's end."""
    an = ActionNetworkClient(an_sandbox.url, an_sandbox.api_key, requests_per_second=500)
    sf = sf_client(sf_sandbox)
    masters = ensure_masters(staging, an, sf)
    seed(an_sandbox, sf_sandbox, masters)

    def run(run_id: str, since: datetime | None) -> datetime:
        time.sleep(1)
        window = Window(since, datetime.now(UTC).replace(microsecond=0))
        extract_actionnetwork(an, staging, run_id, window)
        extract_salesforce(sf, staging, run_id, window, subscribers_campaign=masters["sf_subscribers_campaign"])
        both_ways(staging, run_id, monkeypatch)
        return window.end

    return an, sf, masters, run


@pytest.mark.slow
def test_partitions_plan_what_one_pass_plans(staging, an_sandbox, sf_sandbox, monkeypatch):
    an, sf, masters, run = seeded_org(staging, an_sandbox, sf_sandbox, monkeypatch)
    store = sf_sandbox.app.store
    since = run("first", None)
    load_contacts(staging, "first", an, sf, masters=masters, custom={})
    with staging.connect() as conn:
        links = conn.execute("SELECT an_id, sf_id FROM sync.contact_links ORDER BY 1").fetchall()
    for i, (an_id, sf_id) in enumerate(links[:60]):
        if i % 3 == 0:  # a new email in Action Network, sometimes one an unlinked Contact holds
            address = f"moved{i}@example.org" if i % 2 else f"p{120 + 2 * (i // 6)}@example.org"
            an_sandbox.app.store.update_person(an_id, {"email_addresses": [{"address": address, "primary": True}]})
        elif i % 3 == 1:
            store.update("Contact", sf_id, {"MailingCity": f"City {i}"})
        else:
            store.update("Contact", sf_id, {"Email": f"changed{i}@example.org"})
    # merges in Salesforce: into an unsynced Contact (another email: its key is another partition's),
    # and into a Contact synced with another activist
    unlinked = [row["Id"] for row in store.rows("Contact") if row["Id"] not in {sf_id for _, sf_id in links}]
    for (_, sf_id), kept in zip(links[60:66], unlinked, strict=False):
        store.merge("Contact", kept, [sf_id])
    store.merge("Contact", links[66][1], [links[67][1]])
    run("hourly", since)
    with staging.connect() as conn:
        assert conn.execute("SELECT count(*) FROM staging.plan WHERE run_id = 'hourly' AND action = 'move'"
                            ).fetchone()[0] == 6
        assert conn.execute("SELECT count(*) FROM sync.rejects WHERE run_id = 'hourly'"
                            " AND reason_code = 'CONTACT_MERGED_INTO_SYNCED_CONTACT'").fetchone()[0] == 1


@pytest.mark.slow
def test_partitions_plan_what_one_pass_plans_for_first_matches_whose_sides_moved_apart_while_they_waited(
        staging, an_sandbox, sf_sandbox, monkeypatch):
    """First matches the write budget deferred, then an activist moved to a new address (their
    Contact follows) or a Contact was given another email (the match stops): each side's key is now
    another partition's, and the two are still planned together."""
    an, sf, masters, run = seeded_org(staging, an_sandbox, sf_sandbox, monkeypatch)
    since = run("first", None)
    with staging.connect() as conn:
        budget.defer_over_budget(conn, "first", Step.CONTACTS, 5)
    load_contacts(staging, "first", an, sf, masters=masters, custom={})
    with staging.connect() as conn:
        pending.settle(conn, "first")
        waiting = conn.execute("SELECT an_id, sf_id FROM sync.first_matches ORDER BY 1").fetchall()
    assert len(waiting) >= 12
    for i, (an_id, sf_id) in enumerate(waiting[:12]):
        if i % 2:
            an_sandbox.app.store.update_person(an_id, {"email_addresses": [{"address": f"moved{i}@example.org",
                                                                            "primary": True}]})
        else:
            sf_sandbox.app.store.update("Contact", sf_id, {"Email": f"changed{i}@example.org"})
    run("hourly", since)
    with staging.connect() as conn:
        followed = conn.execute("SELECT an_id, sf_id FROM staging.plan WHERE run_id = 'hourly' AND action = 'link'"
                                " AND an_id = ANY(%s)", ([a for a, _ in waiting[1:12:2]],)).fetchall()
        stopped = conn.execute("SELECT record_id FROM sync.rejects WHERE run_id = 'hourly'"
                               " AND reason_code = 'EMAIL_CHANGED_IN_SALESFORCE'").fetchall()
        assert conn.execute("SELECT count(*) FROM staging.plan WHERE run_id = 'hourly' AND action = 'create'"
                            " AND (an_id = ANY(%(ids)s) OR sf_id = ANY(%(ids)s))",
                            {"ids": [i for pair in waiting[:12] for i in pair]}).fetchone()[0] == 0
    assert sorted(followed) == sorted(waiting[1:12:2])
    assert sorted(r[0] for r in stopped) == sorted(s for _, s in waiting[0:12:2])


def test_a_partition_that_cannot_be_saved_stops_reconcile_and_nothing_is_saved(staging, an_sandbox, sf_sandbox,
                                                                               monkeypatch):
    """Reconcile saves its plan a partition at a time, in one transaction: all of it or nothing."""
    an = ActionNetworkClient(an_sandbox.url, an_sandbox.api_key, requests_per_second=500)
    sf = sf_client(sf_sandbox)
    masters = ensure_masters(staging, an, sf)
    seed(an_sandbox, sf_sandbox, masters)
    time.sleep(1)  # the window ends after the second the records were made in
    window = Window(None, datetime.now(UTC).replace(microsecond=0))
    extract_actionnetwork(an, staging, "first", window)
    extract_salesforce(sf, staging, "first", window, subscribers_campaign=masters["sf_subscribers_campaign"])
    with staging.connect() as conn:  # once 60 pairs are saved, the database refuses a later partition's rows
        conn.execute("CREATE FUNCTION staging.refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                     " IF NEW.pair_id > (SELECT min(pair_id) + 60 FROM staging.plan) THEN"
                     "  RAISE EXCEPTION 'could not extend file: No space left on device'; END IF; RETURN NEW; END $$")
        conn.execute("CREATE TRIGGER refuse BEFORE INSERT ON staging.plan FOR EACH ROW EXECUTE FUNCTION staging.refuse()")
    monkeypatch.setattr(reconcile, "PARTITION_ROWS", 40)
    with pytest.raises(psycopg.errors.RaiseException, match="No space left"):
        reconcile_run(staging, "first", duplicate_rule="oldest")
    with staging.connect() as conn:
        assert conn.execute("SELECT count(*) FROM staging.plan").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM sync.rejects").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM sync.duplicates").fetchone()[0] == 0
        conn.execute("DROP TRIGGER refuse ON staging.plan")
    parts = reconcile_run(staging, "first", duplicate_rule="oldest")["partitions"]  # the rerun plans it all
    with staging.connect() as conn:
        assert parts > 3 and conn.execute("SELECT count(DISTINCT pair_id) FROM staging.plan").fetchone()[0] > 60
