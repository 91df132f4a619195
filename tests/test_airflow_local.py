"""``an-sf-sync airflow``'s settings: the sandbox connections follow the ports the sandboxes got, and
Airflow's metadata goes to the embedded Postgres.

The command itself (processes, Ctrl-C) is exercised end to end by tests/e2e.
"""

from __future__ import annotations

import os
from pathlib import Path

import sqlalchemy

from an_sf_sync import settings
from an_sf_sync.staging import embedded
from an_sf_sync_dev import airflow_local

ROOT = Path(__file__).resolve().parents[1]


def test_sandbox_connections_point_at_the_started_sandboxes():
    declared = settings.load(ROOT / "airflow_settings.yaml")
    moved = airflow_local.sandbox_settings(declared, "http://127.0.0.1:9001/api/v2/", "https://127.0.0.1:9002",
                                           Path("/tmp/ca.pem"))
    conns = {c["conn_id"]: c for c in moved["connections"]}
    assert conns["actionnetwork_default"]["conn_host"] == "http://127.0.0.1:9001/api/v2/"
    extra = conns["salesforce_default"]["conn_extra"]
    assert extra["domain"] == "127.0.0.1:9002/services/oauth2/token?x="
    assert extra["ca_bundle"] == "/tmp/ca.pem" and extra["consumer_key"] == "an-sf-sync-sandbox"
    assert conns["an_sf_staging"] == next(c for c in declared["connections"] if c["conn_id"] == "an_sf_staging")
    assert "ca_bundle" not in next(c for c in declared["connections"]
                                   if c["conn_id"] == "salesforce_default")["conn_extra"]  # input untouched
    assert moved["pools"] == declared["pools"]


def test_the_served_airflow_follows_the_port_and_the_given_home(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    # configure() sets this process's environment: give it a copy, restored after the test
    monkeypatch.setattr("os.environ", {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")})
    os.environ["AIRFLOW_HOME"] = str(tmp_path)
    env = airflow_local.configure(ROOT, 18123)
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://127.0.0.1:18123/execution/"
    assert env["AIRFLOW__API__BASE_URL"] == "http://127.0.0.1:18123"
    assert "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN" not in env  # the embedded Postgres's, set once it runs
    assert airflow_local.admin_password() == "admin"
    assert (tmp_path / "passwords.json").read_text().strip() == '{"admin": "admin"}'


def test_the_metadata_database_is_created_once_in_the_embedded_postgres(pg_home, monkeypatch):
    monkeypatch.setenv("AN_SF_SYNC_HOME", str(pg_home))
    for attempt in range(2):  # the second start finds the database the first created
        with airflow_local.metadata_database() as url:
            engine = sqlalchemy.create_engine(url)
            with engine.begin() as conn:
                assert conn.execute(sqlalchemy.text("SELECT current_database()")).scalar() == "airflow"
                conn.execute(sqlalchemy.text("CREATE TABLE IF NOT EXISTS kept (n int)"))
                conn.execute(sqlalchemy.text("INSERT INTO kept VALUES (:n)"), {"n": attempt})
                assert conn.execute(sqlalchemy.text("SELECT count(*) FROM kept")).scalar() == attempt + 1
            engine.dispose()
        assert not embedded.running(pg_home / "pgdata")  # leaving stops the server
