"""The DAG run by Airflow itself (``dag.test``) against the emulator and a real Postgres."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from airflow.dag_processing.dagbag import DagBag
from airflow.utils.state import DagRunState

from an_sf_sync.sandbox.actionnetwork.generator import generate
from tests.dags.test_dag_integrity import DAG_FILE

T = datetime(2026, 3, 1, 10, tzinfo=UTC)


@pytest.fixture(scope="module")
def airflow_db():
    from airflow.utils import db

    db.resetdb()


@pytest.fixture
def dag(airflow_db, an_sandbox, staging, monkeypatch):
    params = psycopg.conninfo.conninfo_to_dict(staging.conninfo)
    monkeypatch.setenv("AIRFLOW_CONN_AN_SF_STAGING", json.dumps({
        "conn_type": "postgres", "host": params["host"], "port": int(params.get("port") or 5432),
        "schema": params["dbname"], "login": params.get("user")}))
    monkeypatch.setenv("AIRFLOW_CONN_ACTIONNETWORK_DEFAULT", json.dumps({
        "conn_type": "actionnetwork", "host": an_sandbox.url, "password": an_sandbox.api_key,
        "extra": {"requests_per_second": 200}}))
    an_sandbox.app.store.load(generate(people=120, seed=5, now="2026-03-01T00:00:00Z"))
    return DagBag(dag_folder=str(DAG_FILE)).dags["actionnetwork_salesforce_sync"]


def states(run) -> dict[str, str]:
    return {ti.task_id: ti.state for ti in run.get_task_instances()}


def test_hourly_runs_extract_then_commit_the_watermark(dag, an_sandbox, staging):
    first = dag.test(logical_date=T, run_conf={"full_refresh": False})
    assert first.state == DagRunState.SUCCESS, states(first)
    extract = staging.extract_of(first.run_id, "actionnetwork")
    assert extract["window_start"] is None  # the first run is full
    assert extract["counts"]["people"] == 120
    assert extract["window_end"] == T  # the data interval [09:00, 10:00) ends at the logical date
    assert staging.watermark("actionnetwork") == T

    # a manual run with no logical date ends at its run_after, and starts at the watermark - overlap
    manual = dag.test(logical_date=None, run_conf={"full_refresh": False, "overlap_minutes": 5})
    assert manual.state == DagRunState.SUCCESS, states(manual)
    extract = staging.extract_of(manual.run_id, "actionnetwork")
    assert extract["window_start"] == T - timedelta(minutes=5)
    assert extract["window_end"] == manual.run_after
    assert extract["counts"]["people"] == 0
    assert staging.watermark("actionnetwork") == manual.run_after
