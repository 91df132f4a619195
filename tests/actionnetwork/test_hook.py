"""The Airflow hook: connection from an env var, provider registration, test_connection."""

from __future__ import annotations

import json

import pytest

from an_sf_sync.actionnetwork.client import DEFAULT_BASE_URL, ActionNetworkClient
from an_sf_sync.actionnetwork.hook import ActionNetworkHook, base_url


def _connect(monkeypatch, an_sandbox, password: str, **extra) -> ActionNetworkHook:
    conn = {"conn_type": "actionnetwork", "host": an_sandbox.url, "password": password, "extra": extra}
    monkeypatch.setenv("AIRFLOW_CONN_ACTIONNETWORK_DEFAULT", json.dumps(conn))
    return ActionNetworkHook()


def test_client_from_the_default_connection(monkeypatch, an_sandbox) -> None:
    hook = _connect(monkeypatch, an_sandbox, an_sandbox.api_key,
                    requests_per_second=50, concurrency=3, timeout=7)
    client = hook.get_conn()
    try:
        assert isinstance(client, ActionNetworkClient) and client is hook.get_conn()
        assert client.base_url == an_sandbox.url and client.conn_id == "actionnetwork_default"
        assert (client._bucket.rate, client.concurrency, client.timeout) == (50.0, 3, 7.0)
        assert hook.test_connection() == (
            True, f"Connected to Action Network at {an_sandbox.url}; the API key was accepted.")
    finally:
        client.close()


def test_test_connection_reports_a_rejected_key_without_it(monkeypatch, an_sandbox) -> None:
    hook = _connect(monkeypatch, an_sandbox, "not-the-key-42")
    ok, message = hook.test_connection()
    hook.get_conn().close()
    assert not ok
    assert "rejected the API key of Airflow connection 'actionnetwork_default'" in message
    assert "not-the-key-42" not in message


def test_missing_key_is_reported(monkeypatch, an_sandbox) -> None:
    ok, message = _connect(monkeypatch, an_sandbox, "").test_connection()
    assert not ok and "has no API key" in message


@pytest.mark.parametrize(("host", "expected"), [
    (None, DEFAULT_BASE_URL),
    ("", DEFAULT_BASE_URL),
    ("actionnetwork.org", "https://actionnetwork.org/api/v2/"),
    ("https://actionnetwork.org", "https://actionnetwork.org/api/v2/"),
    ("http://127.0.0.1:8091/api/v2", "http://127.0.0.1:8091/api/v2/"),
])
def test_base_url(host, expected) -> None:
    assert base_url(host) == expected


def test_registered_with_airflow() -> None:
    from airflow.providers_manager import ProvidersManager
    from airflow.sdk.providers_manager_runtime import ProvidersManagerTaskRuntime

    hook = ProvidersManagerTaskRuntime().hooks["actionnetwork"]  # what tasks resolve conn types with
    assert hook.hook_class_name == "an_sf_sync.actionnetwork.hook.ActionNetworkHook"
    assert hook.connection_id_attribute_name == "actionnetwork_conn_id"
    manager = ProvidersManager()  # what the UI builds the connection form from
    behaviour = manager.field_behaviours["actionnetwork"]
    assert behaviour["relabeling"] == {"password": "API Key", "host": "Base URL"}
    assert set(behaviour["hidden_fields"]) == {"login", "port", "schema"}
    assert behaviour["placeholders"]["host"] == DEFAULT_BASE_URL
    fields = {name.rsplit("__", 1)[-1] for name in manager.connection_form_widgets
              if name.startswith("extra__actionnetwork__")}
    assert fields == {"requests_per_second", "concurrency", "timeout"}
