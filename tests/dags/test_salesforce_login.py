"""The sync logs in the way Salesforce now requires: OAuth through an External Client App.

Each flow runs the whole DAG (``dag.test``) through ``SalesforceHook``'s own extras against an
emulated org where SOAP API ``login()`` is disabled, as in every org created since its retirement
began. The legacy username/password/token connection fails there with a message that says how to
move to OAuth.
"""

from __future__ import annotations

import json

import pytest
from airflow.utils.state import DagRunState
from simple_salesforce import Salesforce

from an_sf_sync.salesforce.client import SalesforceClient
from an_sf_sync.salesforce.errors import SalesforceAuthError
from an_sf_sync.salesforce.hook import login_flow
from an_sf_sync_dev.sandbox.actionnetwork.generator import generate
from tests.dags.conftest import states

pytestmark = pytest.mark.slow


def oauth_connection(sf_sandbox, **fields) -> str:
    domain = f"127.0.0.1:{sf_sandbox.server.port}/services/oauth2/token?x="
    extra = {"domain": domain, "ca_bundle": str(sf_sandbox.ca_file),
             "consumer_key": sf_sandbox.app.auth.credentials.consumer_key, **fields.pop("extra", {})}
    return json.dumps({"conn_type": "salesforce", "extra": extra, **fields})


@pytest.fixture
def new_org(dag, an_sandbox, sf_sandbox, app_keys):
    """An org with SOAP login() disabled and the External Client App's certificate uploaded."""
    sf_sandbox.app.auth.soap_login_enabled = False
    sf_sandbox.app.auth.jwt_certificate = app_keys.certificate
    an_sandbox.app.store.load(generate(people=25, seed=11, now="2026-03-01T00:00:00Z"))
    return dag


def synced_contacts(sf_sandbox) -> int:
    return sum(1 for c in sf_sandbox.app.store.rows("Contact") if c.get("Action_Network_ID__c"))


@pytest.mark.parametrize("flow", ["jwt", "client_credentials"])
def test_the_sync_runs_with_oauth_where_soap_login_is_disabled(new_org, sf_sandbox, app_keys, monkeypatch, flow):
    if flow == "jwt":
        connection = oauth_connection(sf_sandbox, login=sf_sandbox.username,
                                      extra={"private_key": app_keys.private_key})
    else:
        connection = oauth_connection(sf_sandbox, extra={
            "consumer_secret": sf_sandbox.app.auth.credentials.consumer_secret})
    monkeypatch.setenv("AIRFLOW_CONN_SALESFORCE_DEFAULT", connection)
    assert login_flow() == flow
    run = new_org.test(logical_date=None)
    assert run.state == DagRunState.SUCCESS, states(run)
    assert synced_contacts(sf_sandbox) >= 20
    assert sf_sandbox.app.request_counts["POST oauth token"] >= 1
    assert sf_sandbox.app.request_counts["POST soap login"] == 0


def test_the_legacy_login_fails_there_and_says_how_to_migrate(new_org, sf_sandbox):
    with pytest.raises(Exception, match="INVALID_OPERATION"):  # the org refuses SOAP login(), really
        Salesforce(username=sf_sandbox.username, password=sf_sandbox.password,
                   security_token=sf_sandbox.security_token, domain=sf_sandbox.domain, session=sf_sandbox.session())
    assert login_flow() == "soap"
    run = new_org.test(logical_date=None)
    assert run.state == DagRunState.FAILED
    assert states(run)["setup"] == "failed"
    assert synced_contacts(sf_sandbox) == 0
    with pytest.raises(SalesforceAuthError) as refused:  # what the setup task's log says
        SalesforceClient.from_connection()
    message = str(refused.value)
    assert "'salesforce_default'" in message and "SOAP API login() is disabled in this org" in message
    assert "External Client App" in message and "Summer '27" in message
