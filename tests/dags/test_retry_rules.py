"""The DAG's fail-fast rules name real exception classes, and real failures match them.

``RetryRule`` names classes by dotted path and only logs a warning for a path that does not
import, after which the rule silently matches nothing: a moved or renamed class would turn a
wrong password into an hour of retries. So every path is imported here, and for each one the
code that raises it is made to, against the sandboxes, and the task's own policy is asked.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from airflow.dag_processing.dagbag import DagBag
from airflow.sdk import ExceptionRetryPolicy, RetryAction
from airflow.sdk.module_loading import import_string

from an_sf_sync.actionnetwork.client import ActionNetworkClient
from an_sf_sync.actionnetwork.errors import ActionNetworkUnavailableError
from an_sf_sync.errors import UnknownOutcome
from an_sf_sync.retry import RetryPolicy
from an_sf_sync.salesforce.client import SalesforceClient
from an_sf_sync.salesforce.errors import SalesforceLoginUnavailableError
from an_sf_sync.setup import check_fields
from an_sf_sync_dev.sandbox.http import Fault
from tests.dags.test_dag_integrity import DAG_FILE
from tests.salesforce.support import FAST as SF_FAST
from tests.salesforce.support import connect, control, use_connection

QUICK = RetryPolicy(attempts=2, base=0.01, cap=0.02)


@pytest.fixture(scope="module")
def tasks():
    bag = DagBag(dag_folder=str(DAG_FILE))
    assert bag.import_errors == {}
    return bag.dags["actionnetwork_salesforce_sync"].tasks


def fail_fast_paths(tasks) -> set[str]:
    return {spec for task in tasks for rule in task.retry_policy.rules if rule.action is RetryAction.FAIL
            for spec in (rule.exception if isinstance(rule.exception, list) else [rule.exception])}


def decision(tasks, exc: BaseException) -> set[RetryAction]:
    """What every task's retry policy decides for ``exc`` (one action when all agree)."""
    return {task.retry_policy.evaluate(exc, try_number=1, max_tries=4).action for task in tasks}


def test_every_task_has_the_fail_fast_policy_and_its_paths_import(tasks):
    assert all(isinstance(task.retry_policy, ExceptionRetryPolicy) for task in tasks)
    paths = fail_fast_paths(tasks)
    assert paths
    for path in paths:
        cls = import_string(path)
        assert isinstance(cls, type) and issubclass(cls, Exception), path


# One way per fail-fast class to make the real code raise it.

def wrong_action_network_key(an_sandbox, sf_sandbox, monkeypatch) -> None:
    with ActionNetworkClient(an_sandbox.url, "wrong-key-0123", requests_per_second=500, retry=QUICK) as an:
        an.check_auth()


def wrong_salesforce_password(an_sandbox, sf_sandbox, monkeypatch) -> None:
    SalesforceClient.from_connection(use_connection(monkeypatch, sf_sandbox, password="wrong"), **SF_FAST)


def daily_api_limit_used_up(an_sandbox, sf_sandbox, monkeypatch) -> None:
    sf = connect(monkeypatch, sf_sandbox)
    control(sf_sandbox, "limits", {"daily_api_limit": sf_sandbox.app.api_calls})
    sf.count("Contact")


def org_missing_a_field_the_sync_needs(an_sandbox, sf_sandbox, monkeypatch) -> None:
    sf_sandbox.app.store.set_custom_fields({"Opportunity": {"Action_Network_Recurring__c": None}})
    check_fields(connect(monkeypatch, sf_sandbox).describe, [])


RAISERS: dict[str, Callable[..., None]] = {
    "an_sf_sync.actionnetwork.errors.ActionNetworkAuthError": wrong_action_network_key,
    "an_sf_sync.salesforce.errors.SalesforceAuthError": wrong_salesforce_password,
    "an_sf_sync.salesforce.errors.SalesforceApiLimitError": daily_api_limit_used_up,
    "an_sf_sync.errors.SetupError": org_missing_a_field_the_sync_needs,
}


def test_every_fail_fast_path_has_a_failure_that_raises_it(tasks):
    assert fail_fast_paths(tasks) == set(RAISERS)


@pytest.mark.parametrize("path", sorted(RAISERS))
def test_the_real_failure_fails_the_task_at_once(tasks, path, an_sandbox, sf_sandbox, monkeypatch):
    with pytest.raises(import_string(path)) as raised:
        RAISERS[path](an_sandbox, sf_sandbox, monkeypatch)
    assert type(raised.value) is import_string(path)  # not some other subclass that happens to match
    assert decision(tasks, raised.value) == {RetryAction.FAIL}


# Failures that heal: the tasks retry them (the rerun of an unknown outcome looks it up first).

def action_network_down(an_sandbox, sf_sandbox, monkeypatch) -> None:
    an_sandbox.app.knobs.add_fault(Fault(status=503, count=10))
    with ActionNetworkClient(an_sandbox.url, an_sandbox.api_key, requests_per_second=500, retry=QUICK) as an:
        an.check_auth()


def salesforce_login_down(an_sandbox, sf_sandbox, monkeypatch) -> None:
    control(sf_sandbox, "faults", {"kind": "SERVER_UNAVAILABLE", "count": 10, "path": "/services/Soap"})
    SalesforceClient.from_connection(use_connection(monkeypatch, sf_sandbox), **SF_FAST)


def an_unknown_outcome(an_sandbox, sf_sandbox, monkeypatch) -> None:
    raise UnknownOutcome("a donation POST got no answer")


@pytest.mark.parametrize("cause,expected", [(action_network_down, ActionNetworkUnavailableError),
                                            (salesforce_login_down, SalesforceLoginUnavailableError),
                                            (an_unknown_outcome, UnknownOutcome)],
                         ids=["action_network_down", "salesforce_login_down", "unknown_outcome"])
def test_failures_that_heal_are_retried(tasks, cause: Callable[..., Any], expected: type[Exception],
                                        an_sandbox, sf_sandbox, monkeypatch):
    with pytest.raises(expected) as raised:
        cause(an_sandbox, sf_sandbox, monkeypatch)
    assert decision(tasks, raised.value) == {RetryAction.DEFAULT}
