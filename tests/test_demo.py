"""``an-sf-sync demo`` end to end (sandboxes on free ports, rate limit lifted): it syncs, and leaves nothing running."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from an_sf_sync.staging import embedded
from tests.e2e.conftest import listening

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]


def test_the_demo_syncs_and_stops_its_embedded_postgres(tmp_path, pg_home):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "AN_SF_SYNC"))}
    env.update(AIRFLOW_HOME=str(tmp_path / "airflow"), AN_SF_SYNC_HOME=str(pg_home), PYTHONUNBUFFERED="1")
    result = subprocess.run([sys.executable, "-m", "an_sf_sync.cli", "demo", "--fast", "--people", "40",
                             "--contacts", "30", "--an-port", "0", "--sf-port", "0"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=900, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    out = result.stdout
    assert "== first run" in out and "== second run" in out
    assert "to_salesforce     create       done" in out  # activists became Contacts
    data_dir = pg_home / "demo" / "pgdata"
    assert (data_dir / "PG_VERSION").exists()
    assert not embedded.running(data_dir), "the demo left its embedded Postgres running"
    ports = [int(port) for port in re.findall(r"(?:Action Network|Salesforce) API:\s+https?://127\.0\.0\.1:(\d+)", out)]
    assert len(ports) == 2 and not any(listening(port) for port in ports)
