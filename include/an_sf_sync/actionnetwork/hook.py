"""Airflow hook for the ``actionnetwork`` connection type.

The connection stores the API key as its password and, optionally, a base URL as its host (default
``https://actionnetwork.org/api/v2/``; a bare host gets ``https://`` and ``/api/v2/``). Extra
fields tune pacing: ``requests_per_second`` (default 4), ``concurrency`` and ``timeout``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from airflow.sdk import BaseHook

from .client import DEFAULT_BASE_URL, ActionNetworkClient
from .errors import ActionNetworkError


class ActionNetworkHook(BaseHook):
    """Builds an :class:`ActionNetworkClient` from an Airflow connection."""

    conn_name_attr = "actionnetwork_conn_id"
    default_conn_name = "actionnetwork_default"
    conn_type = "actionnetwork"
    hook_name = "Action Network"

    def __init__(self, actionnetwork_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.actionnetwork_conn_id = actionnetwork_conn_id
        self._client: ActionNetworkClient | None = None

    def get_conn(self) -> ActionNetworkClient:
        """The client for this connection (built once per hook)."""
        if self._client is None:
            conn = self.get_connection(self.actionnetwork_conn_id)
            extra = conn.extra_dejson
            options: dict[str, Any] = {
                name: cast(extra[name]) for name, cast in
                (("requests_per_second", float), ("concurrency", int), ("timeout", float))
                if extra.get(name) not in (None, "")}
            if not conn.password:
                raise ActionNetworkError(
                    f"Airflow connection {self.actionnetwork_conn_id!r} has no API key: store the "
                    "Action Network API key as its password")
            self._client = ActionNetworkClient(base_url(conn.host), conn.password,
                                               conn_id=self.actionnetwork_conn_id, **options)
        return self._client

    def test_connection(self) -> tuple[bool, str]:
        """Ask a protected collection with the stored key (the UI's "Test" button)."""
        try:
            client = self.get_conn()
            client.check_auth()
        except ActionNetworkError as exc:
            return False, str(exc)
        return True, f"Connected to Action Network at {client.base_url}; the API key was accepted."


def base_url(host: str | None) -> str:
    """The connection host as an API base URL ending in ``/``."""
    if not host:
        return DEFAULT_BASE_URL
    url = host if "://" in host else f"https://{host}"
    if urlsplit(url).path in ("", "/"):
        url = url.rstrip("/") + "/api/v2"
    return url.rstrip("/") + "/"
