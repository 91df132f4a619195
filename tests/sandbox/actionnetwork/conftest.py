"""Helpers for talking to the emulator exactly as a client would: requests over loopback."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from an_sf_sync_dev.sandbox.actionnetwork.server import ActionNetworkApp
from tests.fixtures.actionnetwork import AN_API_KEY, ANSandbox, serve


class Client:
    """requests against one emulator, with its key; ``control`` reaches ``/__sandbox__/``."""

    def __init__(self, sandbox: Any) -> None:
        self.sandbox = sandbox
        self.base = sandbox.url
        self.http = requests.Session()
        self.http.headers.update({"OSDI-API-Token": sandbox.api_key})

    def url(self, path: str) -> str:
        return path if path.startswith("http") else self.base + path.lstrip("/")

    def get(self, path: str, **kw: Any) -> requests.Response:
        return self.http.get(self.url(path), timeout=10, **kw)

    def post(self, path: str, body: Any, **kw: Any) -> requests.Response:
        return self.http.post(self.url(path), json=body, timeout=10, **kw)

    def put(self, path: str, body: Any, **kw: Any) -> requests.Response:
        return self.http.put(self.url(path), json=body, timeout=10, **kw)

    def delete(self, path: str, **kw: Any) -> requests.Response:
        return self.http.delete(self.url(path), timeout=10, **kw)

    def control(self, method: str, path: str, body: Any = None) -> Any:
        response = requests.request(method, f"{self.sandbox.server.url}/__sandbox__/{path}", json=body, timeout=30)
        assert response.status_code == 200, response.text
        return response.json()

    def seed(self, **records: Any) -> dict[str, int]:
        return self.control("POST", "seed", {"records": records})

    def signup(self, email: str, status: str | None = None, **person: Any) -> requests.Response:
        entry = {"address": email, **({"status": status} if status else {})}
        return self.post("people", {"person": {"email_addresses": [entry], **person}})


@pytest.fixture(scope="module")
def shared_sandbox() -> Iterator[ANSandbox]:
    """One server per module (stopping a server costs half a second); each test resets it."""
    yield from serve(ActionNetworkApp(api_key=AN_API_KEY, rate_limit=0))


@pytest.fixture
def an(shared_sandbox: ANSandbox) -> Client:
    shared_sandbox.app.reset()
    shared_sandbox.app.rate_limit = 0
    return Client(shared_sandbox)


def an_id(resource: dict[str, Any]) -> str:
    return next(i for i in resource["identifiers"] if i.startswith("action_network:")).split(":", 1)[1]


def people(n: int, **extra: Any) -> list[dict[str, Any]]:
    return [{"email_addresses": [{"address": f"p{i:03d}@example.org"}], "given_name": f"P{i}", **extra}
            for i in range(n)]
