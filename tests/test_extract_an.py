"""extract_an against the Action Network emulator (real HTTP) and a real Postgres."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from an_sf_sync.actionnetwork.client import ActionNetworkClient
from an_sf_sync.extract import extract_actionnetwork
from an_sf_sync.staging import runs
from an_sf_sync.window import Window, extract_window
from an_sf_sync_dev.sandbox.actionnetwork.generator import generate

T = datetime(2026, 3, 1, 10, tzinfo=UTC)
H = timedelta(hours=1)


@pytest.fixture
def client(an_sandbox):
    with ActionNetworkClient(an_sandbox.url, an_sandbox.api_key, requests_per_second=500) as c:
        yield c


def person(email: str, modified: datetime) -> dict:
    return {"given_name": "Ada", "family_name": email.split("@")[0], "created_date": modified.isoformat(),
            "modified_date": modified.isoformat(), "email_addresses": [{"address": email, "primary": True}]}


def staged(staging, table: str, run_id: str, column: str = "an_id") -> list:
    with staging.connect() as conn:
        return [r[0] for r in conn.execute(
            f"SELECT {column} FROM staging.{table} WHERE run_id = %s ORDER BY 1", (run_id,))]


def test_full_extract_lands_everything_and_a_rerun_replaces_it(an_sandbox, client, staging):
    an_sandbox.app.store.load(generate(people=180, seed=3, now="2026-03-01T00:00:00Z"))
    expected = an_sandbox.app.store.counts()
    window = Window(None, T)

    counts = extract_actionnetwork(client, staging, "run-full", window)

    assert counts["people"] == expected["people"] == len(staged(staging, "an_people", "run-full"))
    assert counts["donations"] == expected.get("donations", 0) > 0
    visible_takers = sum(expected.get(k, 0) for k in ("submissions", "signatures", "attendances", "outreaches",
                                                      "responses"))
    assert expected.get("responses", 0) > 0
    assert 0 < counts["participations"] <= visible_takers  # ticketed events' buyers stay invisible
    assert set(staged(staging, "an_actions", "run-full", "action_type")) >= {
        "form", "petition", "event", "fundraising_page", "advocacy_campaign", "survey"}
    first = runs.extract_of(staging, "run-full", "actionnetwork")
    assert first["window_start"] is None and first["counts"] == counts

    again = extract_actionnetwork(client, staging, "run-full", window)
    assert again == counts
    assert len(staged(staging, "an_people", "run-full")) == counts["people"]  # replaced, not doubled


def test_incremental_window_reads_only_changes_in_it(an_sandbox, client, staging):
    an_sandbox.app.store.load_records({"people": [
        person("before@example.org", T - 3 * H),
        person("in-window@example.org", T - H + timedelta(minutes=10)),
        person("in-overlap@example.org", T - H - timedelta(minutes=2)),
        person("after-end@example.org", T + timedelta(minutes=1)),
    ]})
    window = extract_window(interval_start=T - H, interval_end=T, run_after=T, watermark=T - H, now=T)
    extract_actionnetwork(client, staging, "run-hourly", window)
    assert staged(staging, "an_people", "run-hourly", "email") == [
        "in-overlap@example.org", "in-window@example.org"]

    # the DAG was paused since T-4h: the next run reaches back to the watermark
    paused = extract_window(interval_start=T - H, interval_end=T, run_after=T, watermark=T - 4 * H, now=T)
    extract_actionnetwork(client, staging, "run-after-pause", paused)
    assert staged(staging, "an_people", "run-after-pause", "email") == [
        "before@example.org", "in-overlap@example.org", "in-window@example.org"]

    # a backfill of an old hour reads that hour only, however far the watermark is
    backfill = extract_window(interval_start=T - 4 * H, interval_end=T - 3 * H + timedelta(minutes=1),
                              run_after=T + 5 * H, watermark=T, now=T + 5 * H)
    extract_actionnetwork(client, staging, "run-backfill", backfill)
    assert staged(staging, "an_people", "run-backfill", "email") == ["before@example.org"]
