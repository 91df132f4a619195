"""The Airflow SalesforceHook and SalesforceBulkOperator, unchanged, against the emulator."""

from __future__ import annotations

import json

import pytest


@pytest.fixture
def hook(sf_sandbox, monkeypatch):
    from airflow.providers.salesforce.hooks.salesforce import SalesforceHook

    monkeypatch.setenv("AIRFLOW_CONN_SALESFORCE_DEFAULT", json.dumps({
        "conn_type": "salesforce", "login": sf_sandbox.username, "password": sf_sandbox.password,
        "extra": {"security_token": sf_sandbox.security_token, "domain": sf_sandbox.domain},
    }))
    return SalesforceHook(session=sf_sandbox.session())


def test_hook_queries_describes_and_builds_frames(hook, sf_sandbox):
    from an_sf_sync_dev.sandbox.salesforce.generator import generate

    sf_sandbox.app.store.load(generate(contacts=30, seed=3))
    result = hook.make_query("SELECT Id, Email, CreatedDate FROM Contact")
    assert result["totalSize"] == 30 and result["done"] is True
    deleted_too = hook.make_query("SELECT Id FROM Contact", include_deleted=True)
    assert deleted_too["totalSize"] == 30
    fields = hook.get_available_fields("Contact")
    assert {"Email", "Employer__c", "Action_Network_ID__c", "SystemModstamp"} <= set(fields)
    frame = hook.object_to_df(result["records"], coerce_to_timestamp=True)
    assert list(frame.columns) == ["id", "email", "createddate"] and len(frame) == 30
    assert frame["createddate"].dtype.kind in "if"  # coerced to epoch seconds
    assert hook.test_connection()[0] is True
    assert sf_sandbox.app.request_counts["POST soap login"] == 1


def test_bulk_operator_inserts_through_bulk_api_1(hook, sf_sandbox, monkeypatch):
    from airflow.providers.salesforce.operators.bulk import SalesforceBulkOperator

    # the operator builds its own hook (no session argument): trust the sandbox CA the requests way
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(sf_sandbox.ca_file))
    operator = SalesforceBulkOperator(task_id="load", operation="insert", object_name="Contact",
                                      payload=[{"LastName": "Op", "Email": "op@example.org"}, {"FirstName": "x"}])
    result = operator.execute(context={})
    assert [r["success"] for r in result] == [True, False]
    assert result[1]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    assert sf_sandbox.app.store.counts()["Contact"] == 1
    assert sf_sandbox.app.request_counts["POST bulk1 job create"] == 1
