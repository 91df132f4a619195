"""The DAG run by Airflow itself (``dag.test``) against the emulator and a real Postgres."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from airflow.utils.state import DagRunState

from an_sf_sync.staging import runs
from an_sf_sync_dev.sandbox.actionnetwork.generator import generate
from tests.dags.conftest import states

T = datetime(2026, 3, 1, 10, tzinfo=UTC)


@pytest.fixture
def seeded(dag, an_sandbox):
    an_sandbox.app.store.load(generate(people=120, seed=5, now="2026-03-01T00:00:00Z"))
    return dag


def test_hourly_runs_extract_then_commit_the_watermark(seeded, staging):
    dag = seeded
    first = dag.test(logical_date=T, run_conf={"full_refresh": False})
    assert first.state == DagRunState.SUCCESS, states(first)
    extract = runs.extract_of(staging, first.run_id, "actionnetwork")
    assert extract["window_start"] is None  # the first run is full
    assert extract["counts"]["people"] == 120
    assert extract["window_end"] == T  # the data interval [09:00, 10:00) ends at the logical date
    assert runs.watermark(staging, "actionnetwork") == T

    # a manual run with no logical date ends at its run_after, and starts at the watermark - overlap
    manual = dag.test(logical_date=None, run_conf={"full_refresh": False, "overlap_minutes": 5})
    assert manual.state == DagRunState.SUCCESS, states(manual)
    extract = runs.extract_of(staging, manual.run_id, "actionnetwork")
    assert extract["window_start"] == T - timedelta(minutes=5)
    assert extract["window_end"] == manual.run_after.replace(microsecond=0)  # whole seconds
    assert extract["counts"]["people"] == 0
    assert runs.watermark(staging, "actionnetwork") == manual.run_after.replace(microsecond=0)
