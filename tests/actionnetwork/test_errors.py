"""Failures over real HTTP: auth, retries with backoff, timeouts, 404 and 400 messages."""

from __future__ import annotations

import logging
import time

import pytest

from an_sf_sync.actionnetwork.errors import (
    ActionNetworkAuthError,
    ActionNetworkNotFoundError,
    ActionNetworkRequestError,
    ActionNetworkUnavailableError,
)
from an_sf_sync.retry import RetryPolicy
from an_sf_sync_dev.sandbox.actionnetwork.server import html_404_fault
from an_sf_sync_dev.sandbox.http import Fault

WRONG_KEY = "wrong-key-0123456789"


def test_rejected_key_fails_fast_with_a_clear_message(make_client, load_people) -> None:
    load_people(10)
    client = make_client(api_key=WRONG_KEY, conn_id="an_prod", retry=RetryPolicy(base=1.0))
    started = time.monotonic()
    with pytest.raises(ActionNetworkAuthError) as caught:
        list(client.people())
    assert time.monotonic() - started < 1.0
    assert client.requests_made == 1  # never retried
    message = str(caught.value)
    assert "rejected the API key" in message and "'an_prod'" in message and "password" in message
    assert "API Key invalid or not present" in message and "GET people" in message
    assert WRONG_KEY not in message and WRONG_KEY not in repr(client)
    assert caught.value.status == 403


def test_check_auth(make_client) -> None:
    make_client().check_auth()
    with pytest.raises(ActionNetworkAuthError):
        make_client(api_key=WRONG_KEY).check_auth()


@pytest.mark.parametrize("status", [429, 500, 502, 503])
def test_transient_errors_are_retried(client, load_people, an_sandbox, status: int) -> None:
    load_people(30)
    an_sandbox.app.knobs.add_fault(Fault(status=status, count=2))
    assert len(list(client.people())) == 30
    assert client.requests_made == 2 + 2  # two pages, two failed attempts
    assert client.throttled == (2 if status == 429 else 0)


def test_retries_are_bounded_and_logged_without_the_key(make_client, load_people, an_sandbox, caplog) -> None:
    load_people(5)
    an_sandbox.app.knobs.add_fault(Fault(status=503, count=10))
    client = make_client(retry=RetryPolicy(attempts=3, base=0.01))
    with caplog.at_level(logging.DEBUG), pytest.raises(
            ActionNetworkUnavailableError, match=r"after 3 attempts \(last: HTTP 503"):
        list(client.people())
    assert client.requests_made == 3
    assert "GET people?page=1: HTTP 503: Internal Server Error; retry 2/2" in caplog.text
    assert an_sandbox.api_key not in caplog.text


def test_timeouts_are_retried(make_client, load_people, an_sandbox) -> None:
    load_people(3)
    an_sandbox.app.knobs.add_fault(Fault(status=200, timeout=1.0, count=1))
    client = make_client(timeout=0.3)
    assert len(list(client.people())) == 3
    assert client.requests_made == 2


def test_html_404_is_reported_clearly(client, an_sandbox) -> None:
    an_sandbox.app.knobs.add_fault(html_404_fault(path="/people/"))
    with pytest.raises(ActionNetworkNotFoundError, match="HTML page") as caught:
        client.get_person("no-such-person")
    assert "people/no-such-person" in str(caught.value)
    assert client.requests_made == 1


def test_json_404_carries_action_network_text(client) -> None:
    with pytest.raises(ActionNetworkNotFoundError, match="Couldn't find"):
        client.get_action("form", "00000000-0000-0000-0000-000000000000")


def test_400_names_the_endpoint_and_the_reason_never_the_key(client, an_sandbox) -> None:
    form = client.create_form("Not a fundraiser")
    person = client.upsert_person({"email": "donor@example.org"})
    page = client.create_fundraising_page("API page")
    with pytest.raises(ActionNetworkRequestError) as caught:
        client.record_donation(page["an_id"], "10.00", person_id="not-a-person")
    message = str(caught.value)
    assert f"fundraising_pages/{page['an_id']}/donations" in message and "400" in message
    assert "valid person id" in message and an_sandbox.api_key not in message
    assert caught.value.status == 400
    with pytest.raises(ActionNetworkNotFoundError):
        client.record_donation(form["an_id"], "10.00", person_id=person["an_id"])


def test_non_idempotent_writes_are_not_retried_after_a_server_error(client, an_sandbox) -> None:
    page = client.create_fundraising_page("Salesforce Donations")
    person = client.upsert_person({"email": "once@example.org"})
    an_sandbox.app.knobs.add_fault(Fault(status=500, count=1, method="POST"))
    with pytest.raises(ActionNetworkUnavailableError, match="500.*not retried"):
        client.record_donation(page["an_id"], "5.00", person_id=person["an_id"])
    an_sandbox.app.knobs.add_fault(Fault(status=429, count=1, method="POST"))
    client.record_donation(page["an_id"], "5.00", person_id=person["an_id"])  # a 429 did nothing: retried
    assert len(list(client.participations("fundraising_page", page["an_id"]))) == 1
