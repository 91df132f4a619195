"""No silent single-machine state: where tasks may run on several machines, the embedded Postgres is refused."""

from __future__ import annotations

import json

import pytest

from an_sf_sync.errors import SetupError
from an_sf_sync.staging import db


@pytest.mark.parametrize("executor", ["CeleryExecutor", "airflow.providers.cncf.kubernetes.executors."
                                      "kubernetes_executor.KubernetesExecutor", "LocalExecutor,CeleryExecutor"])
def test_a_distributed_executor_refuses_the_embedded_postgres(monkeypatch, tmp_path, executor):
    monkeypatch.setenv("AN_SF_SYNC_HOME", str(tmp_path))
    monkeypatch.setenv("AIRFLOW__CORE__EXECUTOR", executor)
    monkeypatch.setenv("AIRFLOW_CONN_AN_SF_STAGING", json.dumps({"conn_type": "postgres"}))
    with pytest.raises(SetupError, match="AIRFLOW_CONN_AN_SF_STAGING='postgres://") as refused:
        db.resolve_conninfo()
    assert "several machines" in str(refused.value) and "'an_sf_staging'" in str(refused.value)
    assert not (tmp_path / "pgdata").exists()  # nothing was started


def test_asking_refuses_it_too_and_a_named_server_is_always_used(monkeypatch, tmp_path):
    monkeypatch.setenv("AN_SF_SYNC_HOME", str(tmp_path))
    monkeypatch.setenv("AIRFLOW__CORE__EXECUTOR", "LocalExecutor")
    monkeypatch.setenv("AN_SF_SYNC_EMBEDDED_POSTGRES", "refuse")
    monkeypatch.delenv("AIRFLOW_CONN_AN_SF_STAGING", raising=False)
    with pytest.raises(SetupError, match="AN_SF_SYNC_EMBEDDED_POSTGRES=refuse"):
        db.resolve_conninfo()
    monkeypatch.setenv("AIRFLOW_CONN_AN_SF_STAGING", json.dumps({
        "conn_type": "postgres", "host": "db.internal", "port": 5433, "schema": "sync", "login": "an"}))
    monkeypatch.setenv("AIRFLOW__CORE__EXECUTOR", "CeleryExecutor")
    conninfo = db.resolve_conninfo()
    assert "host=db.internal" in conninfo and "port=5433" in conninfo and "dbname=sync" in conninfo


def test_the_local_executor_keeps_the_embedded_default(monkeypatch):
    monkeypatch.setenv("AIRFLOW__CORE__EXECUTOR", "LocalExecutor")
    monkeypatch.delenv("AN_SF_SYNC_EMBEDDED_POSTGRES", raising=False)
    assert db.embedded_refusal() is None
