"""Clients wired to the Action Network emulator of the ``an_sandbox`` fixture."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from an_sf_sync.actionnetwork.client import ActionNetworkClient
from an_sf_sync.retry import RetryPolicy
from an_sf_sync_dev.sandbox.actionnetwork.generator import generate

# Fast pacing for tests where the emulator's rate limit is off; tests of pacing set their own.
FAST = {"requests_per_second": 500.0, "retry": RetryPolicy(base=0.01), "timeout": 5.0}


@pytest.fixture
def make_client(an_sandbox: Any) -> Iterator[Callable[..., ActionNetworkClient]]:
    clients: list[ActionNetworkClient] = []

    def make(**options: Any) -> ActionNetworkClient:
        api_key = options.pop("api_key", an_sandbox.api_key)
        client = ActionNetworkClient(an_sandbox.url, api_key, **{**FAST, **options})
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def client(make_client: Callable[..., ActionNetworkClient]) -> ActionNetworkClient:
    return make_client()


@pytest.fixture
def load_people(an_sandbox: Any) -> Callable[[int], None]:
    """Replace the emulator's data with ``n`` generated people."""
    def load(n: int, seed: int = 1) -> None:
        an_sandbox.app.store.reset()
        an_sandbox.app.store.load(generate(people=n, seed=seed))
    return load
