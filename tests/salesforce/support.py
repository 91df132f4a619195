"""Shared set-up for tests against the Salesforce emulator: the Airflow connection and fast options."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
import requests

from an_sf_sync.retry import RetryPolicy
from an_sf_sync.salesforce.bulk import Polling
from an_sf_sync.salesforce.client import SalesforceClient

# Small thresholds so a few dozen rows exercise the Bulk paths; quick polls and retries.
FAST: dict[str, Any] = {"bulk_threshold": 50, "write_bulk_threshold": 50, "chunk_size": 40,
                        "polling": Polling(first=0.01, growth=1.5, cap=0.1, timeout=30),
                        "retry": RetryPolicy(attempts=4, base=0.01, cap=0.05)}
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def use_connection(monkeypatch: pytest.MonkeyPatch, sandbox: Any, conn_id: str = "salesforce_default",
                   **changes: Any) -> str:
    """Point Airflow connection ``conn_id`` (an env var, as in a deployment) at the emulator."""
    conn = {"conn_type": "salesforce", "login": sandbox.username, "password": sandbox.password,
            "extra": {"security_token": sandbox.security_token, "domain": sandbox.domain,
                      "ca_bundle": str(sandbox.ca_file)}}
    for key, value in changes.items():
        target = conn["extra"] if key in ("security_token", "domain", "ca_bundle") else conn
        if value is None:
            target.pop(key, None)
        else:
            target[key] = value
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))
    return conn_id


def connect(monkeypatch: pytest.MonkeyPatch, sandbox: Any, **options: Any) -> SalesforceClient:
    return SalesforceClient.from_connection(use_connection(monkeypatch, sandbox), **{**FAST, **options})


def control(sandbox: Any, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    """POST to the emulator's test knobs (over its own HTTPS, trusting its CA)."""
    response = requests.post(f"{sandbox.url}/__sandbox__/{path}", json=body or {}, verify=str(sandbox.ca_file))
    response.raise_for_status()
    return response.json()


def requests_to(sandbox: Any, endpoint: str) -> int:
    """How many requests the emulator routed to ``endpoint`` ("METHOD route-name")."""
    return sandbox.app.request_counts[endpoint]
