"""``an-sf-sync doctor`` against the sandboxes, a real Postgres and Airflow's metadata database."""

from __future__ import annotations

import json

import pytest
from airflow.models.pool import Pool

from an_sf_sync import doctor
from an_sf_sync.cli import main

pytestmark = pytest.mark.slow


def by_check(results: list[doctor.Result]) -> dict[str, doctor.Result]:
    return {r.check: r for r in results}


def test_a_fresh_install_is_diagnosed_with_a_fix_for_each_problem(dag, an_sandbox, sf_sandbox, monkeypatch, capsys):
    Pool.create_or_update_pool(doctor.POOL, slots=3, description="", include_deferred=False)
    sf_sandbox.app.api_calls = 96_000  # 4,000 of 100,000 left
    monkeypatch.setenv("AIRFLOW_VAR_AN_SF_SYNC_DUPLICATE_RULE", "first")
    monkeypatch.setenv("AIRFLOW_VAR_AN_SF_SYNC_CUSTOM_FIELDS", "employer")  # not JSON
    monkeypatch.setenv("AIRFLOW_VAR_AN_SF_SYNC_STAGING_DAYS", "3")  # fewer than the report's history
    results = by_check(doctor.diagnose())
    assert {name: r.status for name, r in results.items()} == {
        "Action Network API key": "PASS", "Salesforce login": "WARN", "Action Network group": "PASS",
        "Salesforce fields": "PASS", "Salesforce API allowance": "FAIL", "Staging database": "PASS",
        "Pool": "WARN", "Variables": "FAIL", "Clock skew": "PASS"}
    login = results["Salesforce login"]
    assert "security token" in login.detail and "Summer '27" in login.detail and "June 2027" in login.detail
    assert "External Client App" in login.fix
    left = int(results["Salesforce API allowance"].detail.split(" of ")[0].replace(",", ""))
    assert 3_900 < left <= 4_000 and "of 100,000 API requests left" in results["Salesforce API allowance"].detail
    assert "3 slots" in results["Pool"].detail and "airflow pools set actionnetwork_api 1" in results["Pool"].fix
    assert "oldest, newest, last_modified" in results["Variables"].fix and '["employer"]' in results["Variables"].fix
    assert "an_sf_sync_staging_days" in results["Variables"].fix and "7 is used" in results["Variables"].fix
    assert "schema at version" in results["Staging database"].detail
    assert "no run staged yet" in results["Staging database"].detail
    assert "Salesforce" in results["Clock skew"].detail and "Action Network" in results["Clock skew"].detail

    # the command prints the table and fails
    assert main(["doctor"]) == 1
    table = capsys.readouterr().out
    assert "Salesforce API allowance  FAIL" in table and "fix:" in table and "2 failed" in table


def test_a_wrong_key_and_missing_fields_fail_and_what_depends_on_them_is_not_passed(
        dag, an_sandbox, sf_sandbox, monkeypatch):
    Pool.create_or_update_pool(doctor.POOL, slots=1, description="", include_deferred=False)
    monkeypatch.setenv("AIRFLOW_CONN_ACTIONNETWORK_DEFAULT", json.dumps({
        "conn_type": "actionnetwork", "host": an_sandbox.url, "password": "not-the-key"}))
    monkeypatch.setenv("AIRFLOW_VAR_AN_SF_SYNC_CUSTOM_FIELDS", json.dumps(["employer", "shoe size"]))
    results = by_check(doctor.diagnose())
    assert results["Action Network API key"].status == "FAIL"
    assert "API & Sync" in results["Action Network API key"].fix
    assert results["Action Network group"].status == "FAIL"
    assert results["Action Network group"].detail.startswith("not checked")
    # a custom field that cannot sync is skipped (the rest keeps syncing): a warning with its fix
    assert results["Salesforce fields"].status == "WARN" and "shoe size" in results["Salesforce fields"].fix
    assert results["Pool"].status == "PASS"
