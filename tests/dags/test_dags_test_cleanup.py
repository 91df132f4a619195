"""``airflow dags test`` on the embedded Postgres: the run succeeds and no Postgres is left running."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from an_sf_sync.staging import embedded
from an_sf_sync_dev.sandbox.actionnetwork.generator import generate

pytestmark = pytest.mark.slow

DAG_ID = "actionnetwork_salesforce_sync"


def test_dags_test_leaves_no_embedded_postgres_running(airflow_db, an_sandbox, sf_sandbox, pg_home):
    an_sandbox.app.store.load(generate(people=30, seed=3, now="2026-03-01T00:00:00Z"))
    env = {**os.environ,
           "AN_SF_SYNC_HOME": str(pg_home),
           "AIRFLOW_CONN_AN_SF_STAGING": json.dumps({"conn_type": "postgres"}),  # no host: embedded
           "AIRFLOW_CONN_ACTIONNETWORK_DEFAULT": json.dumps({
               "conn_type": "actionnetwork", "host": an_sandbox.url, "password": an_sandbox.api_key}),
           "AIRFLOW_CONN_SALESFORCE_DEFAULT": json.dumps({
               "conn_type": "salesforce", "login": sf_sandbox.username, "password": sf_sandbox.password,
               "extra": {"security_token": sf_sandbox.security_token, "domain": sf_sandbox.domain,
                         "ca_bundle": str(sf_sandbox.ca_file)}})}
    airflow = Path(sys.executable).parent / "airflow"
    result = subprocess.run([str(airflow), "dags", "test", DAG_ID, "2026-03-01T10:00:00+00:00"], env=env,
                            capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    data_dir = pg_home / "pgdata"
    assert (data_dir / "PG_VERSION").exists(), "the run did not use the embedded Postgres"
    assert not embedded.running(data_dir), "`airflow dags test` left the embedded Postgres running"

    try:  # the run's work is in that database
        with psycopg.connect(embedded.conninfo(data_dir)) as conn:
            people = conn.execute("SELECT counts->>'people' FROM staging.extracts"
                                  " WHERE source = 'actionnetwork'").fetchone()[0]
            status = conn.execute("SELECT status FROM sync.runs").fetchone()[0]
        assert (int(people), status) == (30, "succeeded")
    finally:
        embedded.leave(data_dir)
    assert not embedded.running(data_dir)
