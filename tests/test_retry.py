"""The one retry policy: its waits and bounds, and both clients retrying by it over real HTTP."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
import requests
from simple_salesforce.exceptions import SalesforceGeneralError

from an_sf_sync.actionnetwork.client import ActionNetworkClient
from an_sf_sync.actionnetwork.errors import ActionNetworkUnavailableError
from an_sf_sync.retry import RetryPolicy, Verdict, retry_after, status_verdict, transport_verdict
from an_sf_sync.salesforce.client import SalesforceClient
from an_sf_sync_dev.sandbox.http import Fault
from tests.salesforce.support import control

QUICK = RetryPolicy(attempts=3, base=0.01, cap=0.05)


def test_waits_double_with_equal_jitter_up_to_the_cap():
    policy = RetryPolicy(base=0.5, cap=3.0)
    samples = [[policy.delay(retry) for retry in range(6)] for _ in range(200)]
    for retry, ceiling in enumerate([0.5, 1.0, 2.0, 3.0, 3.0, 3.0]):
        waits = [row[retry] for row in samples]
        assert all(ceiling / 2 <= wait <= ceiling for wait in waits)  # half fixed, never past the cap
        assert len(set(waits)) > 100  # jittered, so parallel workers spread out
    assert min(sum(row) for row in samples) >= (0.5 + 1.0 + 2.0 + 3.0 + 3.0 + 3.0) / 2


def test_a_retry_after_the_server_sends_wins_over_the_formula():
    policy = RetryPolicy(base=0.01, cap=0.05)
    assert policy.delay(0, retry_after=7.0) == 7.0
    assert policy.delay(4, retry_after=0.0) == 0.0
    assert retry_after("3") == 3.0 and retry_after("1.5") == 1.5 and retry_after("-4") == 0.0
    in_a_minute = format_datetime(datetime.now(UTC) + timedelta(seconds=60), usegmt=True)
    assert 55 <= retry_after(in_a_minute) <= 60
    assert retry_after(format_datetime(datetime(2020, 1, 1, tzinfo=UTC), usegmt=True)) == 0.0
    assert retry_after(None) is None and retry_after("") is None and retry_after("soon") is None


def test_attempts_count_the_first_try_and_unsafe_repeats_are_refused():
    policy = RetryPolicy(attempts=3)
    assert [policy.allows(Verdict.RETRY, tries) for tries in (1, 2, 3)] == [True, True, False]
    assert policy.allows(Verdict.RELOGIN, 1)
    assert policy.allows(Verdict.RETRY_IF_SAFE, 1) and not policy.allows(Verdict.RETRY_IF_SAFE, 1, idempotent=False)
    assert policy.allows(Verdict.RETRY, 1, idempotent=False)  # the server surely did nothing
    assert not policy.allows(Verdict.FAIL, 1) and not policy.allows(Verdict.LIMIT, 1)


def test_connection_failures_are_judged_by_whether_the_server_may_have_acted():
    assert transport_verdict(requests.ConnectTimeout()) is Verdict.RETRY
    for maybe_acted in (requests.ReadTimeout(), requests.ConnectionError(), requests.exceptions.ChunkedEncodingError()):
        assert transport_verdict(maybe_acted) is Verdict.RETRY_IF_SAFE
    assert transport_verdict(requests.exceptions.SSLError()) is Verdict.FAIL  # a certificate does not heal
    assert transport_verdict(ValueError()) is None
    assert [status_verdict(s) for s in (429, 500, 503, 400, 404)] == [
        Verdict.RETRY, Verdict.RETRY_IF_SAFE, Verdict.RETRY_IF_SAFE, Verdict.FAIL, Verdict.FAIL]


def test_both_clients_try_as_often_as_one_policy_says(an_sandbox, sf_sandbox):
    an_sandbox.app.knobs.add_fault(Fault(status=503, count=10))
    with ActionNetworkClient(an_sandbox.url, an_sandbox.api_key, requests_per_second=500, retry=QUICK) as an:
        with pytest.raises(ActionNetworkUnavailableError, match="after 3 attempts"):
            an.check_auth()
        assert an.requests_made == QUICK.attempts
    sf = SalesforceClient(sf_sandbox.client(), retry=QUICK)
    control(sf_sandbox, "faults", {"kind": "SERVER_UNAVAILABLE", "count": 10, "path": "/query"})
    with pytest.raises(SalesforceGeneralError):
        sf.count("Contact")
    assert sf.calls_made == QUICK.attempts


def test_transient_faults_are_retried_by_both_clients(an_sandbox, sf_sandbox):
    an_sandbox.app.knobs.add_fault(Fault(status=503, count=2))
    with ActionNetworkClient(an_sandbox.url, an_sandbox.api_key, requests_per_second=500, retry=QUICK) as an:
        an.check_auth()
        assert an.requests_made == 3
    sf = SalesforceClient(sf_sandbox.client(), retry=QUICK)
    control(sf_sandbox, "faults", {"kind": "SERVER_UNAVAILABLE", "count": 2, "path": "/query"})
    assert sf.count("Contact") == 0
    assert sf.calls_made == 3


def test_action_network_waits_as_long_as_its_retry_after_asks(an_sandbox):
    an_sandbox.app.knobs.add_fault(Fault(status=429, count=1, headers={"Retry-After": "1"}))
    with ActionNetworkClient(an_sandbox.url, an_sandbox.api_key, requests_per_second=500, retry=QUICK) as an:
        started = time.monotonic()
        an.check_auth()
        assert time.monotonic() - started >= 1.0  # not the policy's 10 ms
        assert (an.requests_made, an.throttled) == (2, 1)


def test_a_tls_failure_is_not_retried(sf_sandbox):
    sf = SalesforceClient(sf_sandbox.client(), retry=RetryPolicy(attempts=3, base=2.0))
    sf.sf.session.verify = requests.certs.where()  # the public CAs, which never signed the sandbox's certificate
    started = time.monotonic()
    with pytest.raises(requests.exceptions.SSLError):
        sf.count("Contact")
    assert time.monotonic() - started < 1.0  # a retry would first wait at least a second
