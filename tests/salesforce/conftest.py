"""A client logged in to the ``sf_sandbox`` emulator through Airflow's connection and SalesforceHook."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from an_sf_sync.salesforce.client import SalesforceClient

from .support import connect


@pytest.fixture
def make_client(sf_sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> Callable[..., SalesforceClient]:
    return lambda **options: connect(monkeypatch, sf_sandbox, **options)


@pytest.fixture
def client(make_client: Callable[..., SalesforceClient]) -> SalesforceClient:
    return make_client()
