"""Incremental reads: the server-side ``modified_date gt`` filter plus the client-side upper bound."""

from __future__ import annotations

import pytest

from an_sf_sync.actionnetwork.client import PAGE_SIZE
from an_sf_sync_dev.sandbox.actionnetwork.generator import generate


@pytest.fixture
def seeded(an_sandbox):
    an_sandbox.app.store.load(generate(people=400, seed=3, now="2026-01-01T00:00:00Z"))
    return an_sandbox


def _window(records, since, before):
    return {r["an_id"] for r in records if since <= r["modified_date"] < before}


def test_people_window_is_half_open_and_filtered_server_side(make_client, seeded) -> None:
    everyone = list(make_client().people())
    dates = sorted(p["modified_date"] for p in everyone)
    since, before = dates[100], dates[160]  # both bounds are real modified dates: boundaries are tested
    client = make_client()
    found = list(client.people(modified_since=since, modified_before=before))
    assert {p["an_id"] for p in found} == _window(everyone, since, before)
    assert len(found) == len({p["an_id"] for p in found})
    newer = sum(1 for d in dates if d >= since)  # what the server sends back
    assert newer < len(dates)
    pages = newer // PAGE_SIZE + 1  # the last of them is short or empty: the end
    # at most one page fetched ahead per ten known to be needed (how far ahead depends on timing)
    assert pages <= client.requests_made <= pages + pages // 10


def test_small_hourly_increment_costs_the_minimum(make_client, seeded) -> None:
    everyone = list(make_client().people())
    latest = max(p["modified_date"] for p in everyone)
    client = make_client()
    found = list(client.people(modified_since=latest))
    assert [p["modified_date"] for p in found] == [latest] * len(found) and found
    assert client.requests_made == 1


@pytest.mark.parametrize("action_type", ["form", "petition", "event", "fundraising_page", "advocacy_campaign"])
def test_actions_and_participations_windows(make_client, seeded, action_type: str) -> None:
    client = make_client()
    actions = list(client.actions(action_type))
    assert actions and all(a["action_type"] == action_type for a in actions)
    action = max(actions, key=lambda a: len(list(client.participations(action_type, a["an_id"]))))
    taken = list(client.participations(action_type, action["an_id"]))
    dates = sorted(p["modified_date"] for p in taken)
    since, before = dates[len(dates) // 3], dates[2 * len(dates) // 3]
    window = list(client.participations(action_type, action["an_id"], since, before))
    assert {p["an_id"] for p in window} == _window(taken, since, before)
    action_dates = sorted(a["modified_date"] for a in actions)
    assert {a["an_id"] for a in client.actions(action_type, modified_since=action_dates[-1])} == {
        a["an_id"] for a in actions if a["modified_date"] == action_dates[-1]}


def test_donations_window(make_client, seeded) -> None:
    client = make_client()
    donations = list(client.donations())
    assert donations and all(d["fundraising_page_id"] and d["person_id"] for d in donations)
    dates = sorted(d["modified_date"] for d in donations)
    since, before = dates[len(dates) // 4], dates[-1]
    assert {d["an_id"] for d in client.donations(since, before)} == _window(donations, since, before)
