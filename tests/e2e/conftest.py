"""One real Airflow for the end-to-end tests: ``an-sf-sync airflow`` as a subprocess.

It runs on free ports with a temporary AIRFLOW_HOME and AN_SF_SYNC_HOME, its staging and Airflow's
metadata in the embedded Postgres it starts (the default), its alerts mailed to a real SMTP server on loopback, and
is stopped at the end with SIGINT, as Ctrl-C would, which must stop every process it started, the
embedded Postgres included.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from an_sf_sync.staging import embedded
from tests.e2e.airflow_api import AirflowAPI, wait_for
from tests.fixtures.smtp import Inbox

ALERTS_TO = "crm-admin@example.org"

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 240
STOP_TIMEOUT = 60


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class Sandbox:
    """A sandbox's control path (``/__sandbox__``), which the sync never touches."""

    url: str
    verify: str | bool = True

    def control(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = requests.request(method, f"{self.url}/__sandbox__/{path}", json=body, verify=self.verify,
                                    timeout=30)
        assert response.ok, f"{method} {path}: {response.status_code} {response.text[:500]}"
        return response.json()


@dataclass
class LocalAirflow:
    base_url: str
    api: AirflowAPI
    actionnetwork: Sandbox
    salesforce: Sandbox
    airflow_home: Path
    staging_conninfo: str
    password: str
    inbox: Inbox  # the alerts it mailed


@pytest.fixture(scope="session")
def local_airflow(tmp_path_factory: pytest.TempPathFactory, smtp_server: Inbox) -> Iterator[LocalAirflow]:
    tmp = tmp_path_factory.mktemp("local-airflow")
    home = Path(tempfile.mkdtemp(prefix="an-sf-sync-e2e-"))  # the embedded Postgres's user must reach it
    home.chmod(0o755)
    ports = {"api": free_port(), "an": free_port(), "sf": free_port()}
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "AN_SF_SYNC"))}
    env.update(AIRFLOW_HOME=str(tmp / "airflow"), AN_SF_SYNC_HOME=str(home), PYTHONUNBUFFERED="1",
               AIRFLOW_CONN_SMTP_DEFAULT=smtp_server.connection(),
               AIRFLOW_VAR_AN_SF_SYNC_ALERTS=json.dumps({"notifiers": [{"class": "smtp", "to": ALERTS_TO}]}))
    output = tmp / "an-sf-sync-airflow.log"
    with output.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "an_sf_sync.cli", "airflow", "--port", str(ports["api"]),
             "--an-port", str(ports["an"]), "--sf-port", str(ports["sf"]), "--people", "40", "--contacts", "40"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    def explain() -> str:
        text = output.read_text(errors="replace")
        logs = tmp / "airflow" / "logs" / "local"
        for log in sorted(logs.glob("*.log")) if logs.exists() else []:
            text += f"\n--- {log.name} (last 30 lines)\n" + "\n".join(log.read_text(errors="replace").splitlines()[-30:])
        return text

    try:
        wait_for(lambda: proc.poll() is not None or "Airflow is running at" in output.read_text(errors="replace"),
                 START_TIMEOUT, "`an-sf-sync airflow` to start", explain)
        assert proc.poll() is None, f"`an-sf-sync airflow` exited {proc.returncode}\n{explain()}"
        password = json.loads((tmp / "airflow" / "passwords.json").read_text())["admin"]
        base_url = f"http://127.0.0.1:{ports['api']}"
        staging = re.search(r"embedded Postgres \((\S+)\)", output.read_text())
        assert staging, f"`an-sf-sync airflow` did not start the embedded Postgres\n{explain()}"
        assert "metadata                embedded Postgres, database airflow" in output.read_text(), explain()
        yield LocalAirflow(base_url, AirflowAPI(base_url, "admin", password),
                           Sandbox(f"http://127.0.0.1:{ports['an']}"),
                           Sandbox(f"https://127.0.0.1:{ports['sf']}", str(home / "sandbox-salesforce-ca.pem")),
                           tmp / "airflow", staging.group(1), password, smtp_server)
    finally:
        proc.send_signal(signal.SIGINT)  # what Ctrl-C sends
        try:
            code = proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise AssertionError(f"`an-sf-sync airflow` did not stop within {STOP_TIMEOUT} s\n{explain()}") from None
    assert code == 0, f"`an-sf-sync airflow` exited {code} on Ctrl-C\n{explain()}"
    still = [name for name, port in ports.items() if listening(port)]
    assert not still, f"still listening after Ctrl-C: {still}"
    assert not embedded.running(home / "pgdata"), "the embedded Postgres still runs after Ctrl-C"
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="session")
def airflow(local_airflow: LocalAirflow) -> LocalAirflow:
    """The DAG unpaused, and the first (scheduled, full) run that unpausing starts, finished."""
    api = local_airflow.api
    dag = api.call("PATCH", api.dag(), json={"is_paused": False})
    assert dag["is_paused"] is False
    wait_for(lambda: any(r["run_type"] == "scheduled" for r in api.runs()), 60,
             "the scheduler to start the latest hour's run")
    api.wait_idle()
    return local_airflow
