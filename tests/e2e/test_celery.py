"""The sync on a distributed Airflow: CeleryExecutor, Redis broker, metadata and staging on a Postgres server.

Airflow's metadata and the staging data live in two databases this test creates on the machine's
PostgreSQL (127.0.0.1:5432) and drops at the end; Celery's broker is the machine's Redis
(127.0.0.1:6379), on a queue of the test's own, removed at the end. Where either server is missing
the test is skipped and says which. It takes about two minutes. Two Celery workers start from two different working
folders with two different ``AN_SF_SYNC_HOME``\\ s: the first run happens on one, the next on the
other, so a task that relied on a file written on its own machine would fail there. The sync is
driven and checked through the REST APIs only (Airflow's, the sandboxes').
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
import redis
import requests

from an_sf_sync_dev.airflow_local import PROCESSES, Children
from an_sf_sync_dev.demo import (
    AN_KEY,
    SF_CONSUMER_KEY,
    SF_CONSUMER_SECRET,
    salesforce_sandbox_args,
    sandbox_salesforce,
)
from tests.e2e.airflow_api import AirflowAPI, wait_for
from tests.e2e.conftest import ROOT, Sandbox, free_port

pytestmark = pytest.mark.slow

PG = "postgresql://postgres@127.0.0.1:5432/postgres"
REDIS = ("127.0.0.1", 6379)
START_TIMEOUT = 240


def _postgres_missing() -> str | None:
    try:
        with psycopg.connect(PG, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        return f"no PostgreSQL server at 127.0.0.1:5432 for user postgres ({str(exc).strip().splitlines()[0]})"
    return None


def _redis_missing() -> str | None:
    try:
        with socket.create_connection(REDIS, timeout=3) as sock:
            sock.sendall(b"PING\r\n")
            if not sock.recv(16).startswith(b"+PONG"):
                return "the server at 127.0.0.1:6379 does not answer Redis PING"
    except OSError as exc:
        return f"no Redis at 127.0.0.1:6379 ({exc})"
    return None


@dataclass
class CeleryAirflow:
    api: AirflowAPI
    actionnetwork: Sandbox
    salesforce: Sandbox
    staging: str
    children: Children
    env: dict[str, str]
    workers: dict[str, Path]

    def start_worker(self, name: str) -> None:
        folder = self.workers[name]
        env = {**self.env, "AN_SF_SYNC_HOME": str(folder / ".an_sf_sync")}
        self.children.start(name, [str(Path(sys.executable).parent / "airflow"), "celery", "worker",
                                   "--queues", env["AIRFLOW__OPERATORS__DEFAULT_QUEUE"], "--concurrency", "2",
                                   "--celery-hostname", f"{name}@%h", "--skip-serve-logs"],
                            env=env, cwd=folder)

    def stop_worker(self, name: str) -> None:
        self.children.stop(name)

    def worker_log(self, name: str) -> str:
        return self.children.logs[name].read_text(errors="replace")


def _database(admin: str, name: str) -> str:
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return psycopg.conninfo.make_conninfo(admin, dbname=name)


def _drop(admin: str, name: str) -> None:
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def celery_airflow() -> Iterator[CeleryAirflow]:
    if reason := _postgres_missing() or _redis_missing():
        pytest.skip(f"the CeleryExecutor test needs PostgreSQL and Redis on 127.0.0.1: {reason}")
    tag = uuid.uuid4().hex[:10]
    meta_db, staging_db = f"an_sf_celery_meta_{tag}", f"an_sf_celery_staging_{tag}"
    tmp = Path(tempfile.mkdtemp(prefix="an-sf-sync-celery-"))
    children = Children(tmp / "logs")
    children.log_dir.mkdir()
    try:
        _database(PG, meta_db)
        staging = _database(PG, staging_db)
        yield _start(tmp, tag, meta_db, staging, children)
    finally:
        children.stop()
        for name in (meta_db, staging_db):
            _drop(PG, name)
        redis.Redis(*REDIS).delete(f"_kombu.binding.an_sf_{tag}", f"an_sf_{tag}")  # our queue's leftovers
        shutil.rmtree(tmp, ignore_errors=True)


def _start(tmp: Path, tag: str, meta_db: str, staging: str, children: Children) -> CeleryAirflow:
    port, an_port, sf_port = free_port(), free_port(), free_port()
    ca_file = tmp / "sandbox-ca.pem"
    cli = [sys.executable, "-m", "an_sf_sync.cli", "sandbox"]
    an_url = children.start("sandbox-actionnetwork", [*cli, "actionnetwork", "--port", str(an_port), "--api-key",
                                                      AN_KEY, "--seed-people", "40", "--rate-limit", "0"],
                            ready_line=True)
    sf_url = children.start("sandbox-salesforce", [*cli, "salesforce", "--port", str(sf_port), *salesforce_sandbox_args(),
                                                   "--ca-file", str(ca_file), "--seed-contacts", "30"], ready_line=True)
    base_url = f"http://127.0.0.1:{port}"
    staging_params = psycopg.conninfo.conninfo_to_dict(staging)
    home = tmp / "airflow"
    home.mkdir()
    (home / "passwords.json").write_text(json.dumps({"admin": "admin"}))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "AN_SF_SYNC"))}
    env.update({
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"postgresql+psycopg2://postgres@127.0.0.1:5432/{meta_db}",
        "AIRFLOW__CELERY__BROKER_URL": "redis://127.0.0.1:6379/0",
        "AIRFLOW__CELERY__RESULT_BACKEND": f"db+postgresql+psycopg2://postgres@127.0.0.1:5432/{meta_db}",
        "AIRFLOW__CELERY__WORKER_PREFETCH_MULTIPLIER": "1",
        "AIRFLOW__OPERATORS__DEFAULT_QUEUE": f"an_sf_{tag}",  # other runs on this Redis never take our tasks
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "30",
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__BASE_URL": base_url,
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{base_url}/execution/",
        "AIRFLOW__CORE__AUTH_MANAGER": "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
        "AIRFLOW_CONN_AN_SF_STAGING": json.dumps({
            "conn_type": "postgres", "host": staging_params["host"], "port": int(staging_params.get("port", 5432)),
            "schema": staging_params["dbname"], "login": staging_params.get("user")}),
        "AIRFLOW_CONN_ACTIONNETWORK_DEFAULT": json.dumps({"conn_type": "actionnetwork", "host": an_url,
                                                          "password": AN_KEY}),
        "AIRFLOW_CONN_SALESFORCE_DEFAULT": json.dumps({"conn_type": "salesforce", "extra": {
            "consumer_key": SF_CONSUMER_KEY, "consumer_secret": SF_CONSUMER_SECRET, "ca_bundle": str(ca_file),
            "domain": f"{sf_url.removeprefix('https://')}/services/oauth2/token?x="}}),
        "AIRFLOW_VAR_AN_SF_SYNC_CUSTOM_FIELDS": "[]",
        "AN_SF_SYNC_EMBEDDED_POSTGRES": "refuse",
        "PYTHONUNBUFFERED": "1",
    })
    airflow = str(Path(sys.executable).parent / "airflow")
    for args in (["db", "migrate"], ["pools", "set", "actionnetwork_api", "1", "Action Network rate limit"]):
        done = subprocess.run([airflow, *args], env=env, cwd=tmp, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, f"airflow {' '.join(args)}: {done.stdout[-2000:]}{done.stderr[-2000:]}"
    for name in PROCESSES:
        children.start(name, [airflow, name], env={**env, "AN_SF_SYNC_HOME": str(tmp / name)}, cwd=tmp)
    wait_for(lambda: children.dead() or _healthy(base_url), START_TIMEOUT, "Airflow to become healthy",
             lambda: "\n".join(f"--- {n}\n{children.tail(n, 20)}" for n in children.procs))
    assert children.dead() is None, children.tail(children.dead() or "", 40)
    workers = {name: tmp / name for name in ("worker-a", "worker-b")}
    for folder in workers.values():
        folder.mkdir()
    return CeleryAirflow(AirflowAPI(base_url, "admin", "admin"), Sandbox(an_url.removesuffix("/api/v2/")),
                         Sandbox(sf_url, str(ca_file)), staging, children, env, workers)


def _healthy(base_url: str) -> bool:
    try:
        health = requests.get(f"{base_url}/api/v2/monitor/health", timeout=5).json()
    except (requests.RequestException, ValueError):
        return False
    return all(part.get("status") == "healthy" for part in health.values())


def _synced_contacts(airflow: CeleryAirflow) -> list[dict[str, Any]]:
    return [r for r in airflow.salesforce.control("GET", "records/Contact")["records"] if r.get("Action_Network_ID__c")]


def test_the_sync_runs_on_celery_workers_on_different_folders(celery_airflow: CeleryAirflow):
    airflow, api = celery_airflow, celery_airflow.api
    wait_for(lambda: api.get(api.dag()).get("is_paused") is not None, 120, "the DAG to be parsed")

    # unpaused: the scheduler starts the latest hour's (first, full) run, on worker a only
    airflow.start_worker("worker-a")
    assert api.call("PATCH", api.dag(), json={"is_paused": False})["is_paused"] is False
    first = wait_for(lambda: next((r["dag_run_id"] for r in api.runs() if r["run_type"] == "scheduled"), None), 120,
                     "the scheduler to start the latest hour's run")
    api.wait_run(first, "success", timeout=300)
    assert first in airflow.worker_log("worker-a")
    contacts = _synced_contacts(airflow)
    assert len(contacts) >= 30  # the activists with an email, created as Contacts

    # changes on both sides, through the public APIs
    sf = sandbox_salesforce(airflow.salesforce.url.removeprefix("https://"), Path(airflow.salesforce.verify))
    sf.Contact.update(contacts[0]["Id"], {"MailingCity": "Celeryville"})
    response = requests.post(f"{airflow.actionnetwork.url}/api/v2/people", headers={"OSDI-API-Token": AN_KEY},
                             json={"person": {"given_name": "Wendy", "family_name": "Worker",
                                              "email_addresses": [{"address": "wendy.worker@example.org"}]}},
                             timeout=30)
    assert response.ok, response.text

    # the next run on worker b, started from another folder that never saw the first run
    airflow.stop_worker("worker-a")
    airflow.start_worker("worker-b")
    second = api.trigger(None, None)["dag_run_id"]
    api.wait_run(second, "success", timeout=300)
    assert second in airflow.worker_log("worker-b") and second not in airflow.worker_log("worker-a")
    assert any(c.get("Email") == "wendy.worker@example.org" for c in _synced_contacts(airflow))
    person = requests.get(f"{airflow.actionnetwork.url}/api/v2/people/{contacts[0]['Action_Network_ID__c']}",
                          headers={"OSDI-API-Token": AN_KEY}, timeout=30).json()
    assert person["postal_addresses"][0]["locality"] == "Celeryville"
    finalize = api.task_instances(second)["finalize"]
    assert finalize["state"] == "success"

    # the staging data is on the server, and no worker folder holds a database
    with psycopg.connect(airflow.staging) as conn:
        runs = dict(conn.execute("SELECT run_id, status FROM sync.runs").fetchall())
    # (crossing an hour boundary, the scheduler may have added its own run meanwhile: it succeeds too)
    assert runs[first] == runs[second] == "succeeded" and set(runs.values()) == {"succeeded"}
    assert not any((folder / ".an_sf_sync" / "pgdata").exists() for folder in airflow.workers.values())
