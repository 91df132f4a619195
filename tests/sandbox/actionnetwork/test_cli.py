"""The console script serves the emulator and announces it with one ready line."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import requests

SCRIPT = Path(sys.executable).with_name("an-sf-sync")


def test_cli_prints_ready_and_serves():
    command = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "an_sf_sync.cli"]
    process = subprocess.Popen([*command, "sandbox", "actionnetwork", "--host", "127.0.0.1", "--port", "0",
                                "--api-key", "cli-key", "--rate-limit", "0", "--seed-people", "30", "--seed", "3"],
                               stdout=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        match = re.fullmatch(r"ready (http://127\.0\.0\.1:\d+/api/v2/)\n", line)
        assert match, line
        base = match.group(1)
        page = requests.get(base + "people", headers={"OSDI-API-Token": "cli-key"}, timeout=5).json()
        assert len(page["_embedded"]["osdi:people"]) == 25
        assert requests.get(base + "people", timeout=5).status_code == 403
    finally:
        process.terminate()
        process.wait(timeout=10)
