"""Quiet hours are cheap and nothing goes stale: an hour without changes reads only the collections
that can have changed (each filtered by modified_date) and the takers of actions taken lately; a
late taker of a dormant action arrives with the slower sweep.
"""

from __future__ import annotations

import pytest

from an_sf_sync.extract import an_action_types
from tests.dags.test_edge_cases import Org, person

pytestmark = pytest.mark.slow

OLD = "2025-01-02T00:00:00Z"
DORMANT = [f"f-old-{i}" for i in range(5)]
ACTION_LISTS = len(an_action_types())  # forms, petitions, events, fundraising pages, letter campaigns, surveys


@pytest.fixture
def org(dag, an_sandbox, sf_sandbox, staging) -> Org:
    an_sandbox.app.store.load_records({
        "people": [{**person("p-old", "old@example.org", "Olga", "Old"), "created_date": OLD, "modified_date": OLD},
                   person("p-new", "new@example.org", "Nina", "New")],
        "forms": [*({"id": f, "title": f"Old form {i}", "created_date": OLD, "modified_date": OLD}
                    for i, f in enumerate(DORMANT)), {"id": "f-new", "title": "New form"}],
        "submissions": [*({"person_id": "p-old", "form_id": f, "created_date": OLD, "modified_date": OLD}
                          for f in DORMANT), {"person_id": "p-new", "form_id": "f-new"}],
    })
    return Org(dag, an_sandbox, sf_sandbox, staging, 0)  # no overlap: a quiet hour's window holds nothing


def members(org, form: str) -> set[str]:
    with org.staging.connect() as conn:
        campaign = conn.execute("SELECT sf_id FROM sync.action_links WHERE an_id = %s", (form,)).fetchone()[0]
    return {m["ContactId"] for m in org.sf.query(f"SELECT ContactId FROM CampaignMember WHERE CampaignId = '{campaign}'")
            ["records"]}


def test_a_quiet_hour_reads_changes_only_and_a_late_taker_arrives_with_the_sweep(org, monkeypatch):
    org.run()  # the first sync reads everything
    assert members(org, DORMANT[0]) == {org.link("p-old")[0]}
    stats = org.an_sandbox.app.stats
    org.run()  # reads back the first sync's own writes

    stats.reset()
    sf_calls = org.sf_sandbox.app.api_calls
    run = org.run()
    assert org.writes(run) == []
    # people and each action list; nobody changed, so nobody took an action or gave: no takers or
    # donations to read, not even of the action taken lately
    assert stats.count("GET") == 1 + ACTION_LISTS, stats.snapshot()
    assert stats.count("GET", "forms/submissions") == 0
    # the five objects' window queries in one Composite call; no extra reads for members or contact
    # roles that did not change, and nothing else
    assert org.sf_sandbox.app.api_calls - sf_calls == 1
    assert org.sf_sandbox.app.request_counts["POST composite"] >= 1

    # someone takes a dormant action: the hourly runs do not read it, the sweep does
    org.an.post(f"{org.an_url}forms/{DORMANT[0]}/submissions",
                json={"_links": {"osdi:person": {"href": f"{org.an_url}people/p-new"}}}).raise_for_status()
    org.run()
    assert org.link("p-new")[0] not in members(org, DORMANT[0])
    monkeypatch.setenv("AIRFLOW_VAR_AN_SF_SYNC_SWEEP_HOURS", "0")
    stats.reset()
    org.run()
    assert stats.count("GET", "forms/submissions") == 1 + len(DORMANT)
    assert members(org, DORMANT[0]) == {org.link("p-old")[0], org.link("p-new")[0]}
    # once taken, the action is active again: read in every hour in which someone changed
    monkeypatch.delenv("AIRFLOW_VAR_AN_SF_SYNC_SWEEP_HOURS")
    org.an.put(f"{org.an_url}people/p-old", json={"family_name": "Changed"}).raise_for_status()
    stats.reset()
    org.run()
    assert stats.count("GET", "forms/submissions") == 2
    assert stats.count("GET", "donations") == 1
