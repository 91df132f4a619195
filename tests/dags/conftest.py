"""Airflow itself, wired to the sandboxes and a real Postgres through connections in the environment."""

from __future__ import annotations

import json

import psycopg
import pytest
from airflow.dag_processing.dagbag import DagBag

from tests.dags.test_dag_integrity import DAG_FILE


@pytest.fixture(scope="module")
def airflow_db():
    from airflow.utils import db

    db.resetdb()


@pytest.fixture
def dag(airflow_db, an_sandbox, sf_sandbox, staging, monkeypatch):
    """The DAG, with its three connections pointing at the sandboxes and a fresh staging database."""
    params = psycopg.conninfo.conninfo_to_dict(staging.conninfo)
    monkeypatch.setenv("AIRFLOW_CONN_AN_SF_STAGING", json.dumps({
        "conn_type": "postgres", "host": params["host"], "port": int(params.get("port") or 5432),
        "schema": params["dbname"], "login": params.get("user")}))
    monkeypatch.setenv("AIRFLOW_CONN_ACTIONNETWORK_DEFAULT", json.dumps({
        "conn_type": "actionnetwork", "host": an_sandbox.url, "password": an_sandbox.api_key,
        "extra": {"requests_per_second": 200}}))
    monkeypatch.setenv("AIRFLOW_CONN_SALESFORCE_DEFAULT", json.dumps({
        "conn_type": "salesforce", "login": sf_sandbox.username, "password": sf_sandbox.password,
        "extra": {"security_token": sf_sandbox.security_token, "domain": sf_sandbox.domain,
                  "ca_bundle": str(sf_sandbox.ca_file)}}))
    monkeypatch.setenv("AIRFLOW_VAR_AN_SF_SYNC_CUSTOM_FIELDS", json.dumps(["employer"]))
    dag = DagBag(dag_folder=str(DAG_FILE)).dags["actionnetwork_salesforce_sync"]
    for task in dag.tasks:  # a failure should fail the test now, not after minutes of retry delays
        task.retries = 0
    return dag


def states(run) -> dict[str, str]:
    return {ti.task_id: ti.state for ti in run.get_task_instances()}
