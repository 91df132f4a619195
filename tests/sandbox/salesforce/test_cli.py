"""``an-sf-sync sandbox salesforce`` as a real process: ready line, CA file, verified TLS, seeded data."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import requests
from simple_salesforce import Salesforce

ROOT = Path(__file__).resolve().parents[3]


def test_cli_serves_https_with_its_ca(tmp_path):
    ca_file = tmp_path / "ca.pem"
    command = [str(ROOT / ".venv" / "bin" / "an-sf-sync"), "sandbox", "salesforce", "--host", "127.0.0.1",
               "--port", "0", "--username", "cli@example.org", "--password", "pw", "--security-token", "tk",
               "--ca-file", str(ca_file), "--seed-contacts", "20", "--custom-field", "Contact.Employer__c=textarea"]
    if not Path(command[0]).exists():
        command[:1] = [sys.executable, "-m", "an_sf_sync.cli"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline().strip()
        assert line.startswith("ready https://127.0.0.1:"), (line, process.stderr.read() if process.poll() else "")
        url = line.split(" ", 1)[1]
        assert ca_file.read_text().startswith("-----BEGIN CERTIFICATE-----")
        assert requests.get(f"{url}/services/data", verify=str(ca_file), timeout=10).status_code == 200
        session = requests.Session()
        session.verify, session.trust_env = str(ca_file), False
        host_port = url.removeprefix("https://")
        sf = Salesforce(username="cli@example.org", password="pw", security_token="tk",
                        domain=f"{host_port}/services/Soap/u/59.0?x=", session=session)
        assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 20
        assert "Employer__c" in [f["name"] for f in sf.Contact.describe()["fields"]]
        try:
            requests.get(f"{url}/services/data", timeout=10, verify=True)  # an unknown CA is refused
            raise AssertionError("TLS verification should have failed without the sandbox CA")
        except requests.exceptions.SSLError:
            pass
    finally:
        process.terminate()
        process.wait(timeout=10)
