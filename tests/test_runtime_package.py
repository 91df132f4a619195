"""The runtime package alone: built as a wheel, installed in a fresh virtualenv with only the runtime
requirements (no development kit, no pgserver), it runs the DAG against the sandboxes and a Postgres server.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import psycopg
import pytest

from an_sf_sync_dev.sandbox.actionnetwork.generator import generate
from tests.test_deployment_files import pins

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
DAG_ID = "actionnetwork_salesforce_sync"


def run(*cmd: str | Path, timeout: float = 900, **kwargs) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=timeout,
                            stdin=subprocess.DEVNULL, **kwargs)
    assert result.returncode == 0, f"{' '.join(map(str, cmd))}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


def test_the_wheel_runs_the_dag_from_a_fresh_virtualenv(tmp_path, an_sandbox, sf_sandbox, staging):
    dist = tmp_path / "dist"
    run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", ROOT, "-w", dist)
    wheel, = dist.glob("an_sf_sync-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert {n.split("/")[0] for n in names} == {"an_sf_sync", wheel.name.split("-py")[0] + ".dist-info"}
    assert not [n for n in names if "sandbox" in n or n.rsplit("/", 1)[-1] in ("demo.py", "airflow_local.py")]
    assert any(n.startswith("an_sf_sync/staging/migrations/") and n.endswith(".sql") for n in names)

    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", venv)
    python, airflow = venv / "bin" / "python", venv / "bin" / "airflow"
    run(python, "-m", "pip", "install", "--quiet", "-r", ROOT / "requirements.txt",
        f"apache-airflow=={pins(ROOT / 'constraints.txt')['apache-airflow']}", "-c", ROOT / "constraints.txt")
    run(python, "-m", "pip", "install", "--quiet", "--no-deps", wheel)
    run(python, "-m", "pip", "check")
    probe = run(python, "-c", "import importlib.util as u; print([m for m in ('an_sf_sync_dev', 'pgserver') "
                              "if u.find_spec(m)])", cwd=tmp_path)
    assert probe.stdout.strip() == "[]"  # the test rig and the embedded Postgres are not there

    an_sandbox.app.store.load(generate(people=30, seed=21, now="2026-03-01T00:00:00Z"))
    dags = tmp_path / "dags"
    dags.mkdir()
    shutil.copy(ROOT / "dags" / f"{DAG_ID}.py", dags)
    params = psycopg.conninfo.conninfo_to_dict(staging.conninfo)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "AN_SF_SYNC", "PYTHON"))}
    env.update({
        "AIRFLOW_HOME": str(tmp_path / "airflow"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{tmp_path / 'airflow.db'}",
        "AN_SF_SYNC_EMBEDDED_POSTGRES": "refuse",
        "AIRFLOW_CONN_AN_SF_STAGING": json.dumps({
            "conn_type": "postgres", "host": params["host"], "port": int(params.get("port") or 5432),
            "schema": params["dbname"], "login": params.get("user")}),
        "AIRFLOW_CONN_ACTIONNETWORK_DEFAULT": json.dumps({
            "conn_type": "actionnetwork", "host": an_sandbox.url, "password": an_sandbox.api_key}),
        "AIRFLOW_CONN_SALESFORCE_DEFAULT": json.dumps({
            "conn_type": "salesforce", "extra": {
                "consumer_key": sf_sandbox.app.auth.credentials.consumer_key,
                "consumer_secret": sf_sandbox.app.auth.credentials.consumer_secret,
                "domain": f"127.0.0.1:{sf_sandbox.server.port}/services/oauth2/token?x=",
                "ca_bundle": str(sf_sandbox.ca_file)}}),
    })
    run(airflow, "db", "migrate", env=env, cwd=tmp_path)
    unnamed = {k: v for k, v in env.items() if k not in ("AIRFLOW_CONN_AN_SF_STAGING", "AN_SF_SYNC_EMBEDDED_POSTGRES")}
    refused = subprocess.run([str(python), "-c", "from an_sf_sync.staging.db import resolve_conninfo; resolve_conninfo()"],
                             env=unnamed, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert refused.returncode != 0 and "pip install 'an-sf-sync[embedded]'" in refused.stderr
    assert "AIRFLOW_CONN_AN_SF_STAGING='postgres://" in refused.stderr
    run(airflow, "dags", "test", DAG_ID, "2026-03-01T10:00:00+00:00", env=env, cwd=tmp_path)
    with staging.connect() as conn:
        status, summary = conn.execute("SELECT status, summary FROM sync.runs").fetchone()
    assert status == "succeeded" and summary["extracted"]["actionnetwork"]["people"] == 30
    assert sum(1 for c in sf_sandbox.app.store.rows("Contact") if c.get("Action_Network_ID__c")) >= 25
