"""What users do in the Airflow UI, end to end on a real Airflow, through its REST API only.

Trigger a run, watch a task fail and read why, rerun that one step with its downstream, backfill
past hours one run at a time, run with no logical date, and read the sync report. The sandboxes
are touched only through their control paths (faults, counts, records) and their public APIs.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from an_sf_sync_dev.demo import AN_KEY, DAG_ID, SF_CONSUMER_KEY, SF_CONSUMER_SECRET, sandbox_salesforce
from tests.e2e.airflow_api import FINISHED, wait_for
from tests.e2e.conftest import ALERTS_TO, LocalAirflow

pytestmark = pytest.mark.slow

# The step the rerun scenario breaks, then reruns with its downstream.
FAILING_TASK = "load_opportunities"
# What breaks it at once: Action Network refusing the API key when the donation from Salesforce is
# recorded is an auth error, which the DAG's retry policy fails without retrying. Sent to that
# sandbox's /__sandbox__/faults.
FAULT_SANDBOX = "actionnetwork"
FAULT = {"status": 403, "body": '{"error": "API Key invalid or not present"}', "path": "/donations$",
         "method": "POST", "count": 1}
FAULT_IN_LOG = "ActionNetworkAuthError"

THIS_HOUR = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)


def hours_ago(n: int) -> str:
    return (THIS_HOUR - timedelta(hours=n)).isoformat()


def duplicates(airflow: LocalAirflow) -> dict[str, list[str]]:
    """Salesforce records that share what the sync matches on: a Contact email, an Action Network id."""
    found: dict[str, list[str]] = {}
    for sobject, key in (("Contact", "Email"), ("Contact", "Action_Network_ID__c"),
                         ("Campaign", "Action_Network_ID__c"), ("Opportunity", "Action_Network_ID__c")):
        values = [str(r.get(key) or "").strip().lower() for r in airflow.salesforce.control(
            "GET", f"records/{sobject}")["records"]]
        seen: set[str] = set()
        found[f"{sobject}.{key}"] = sorted({v for v in values if v and (v in seen or seen.add(v))})
    return found


def add_people(airflow: LocalAirflow, n: int) -> None:
    """New activists through Action Network's public API, for the next run to carry."""
    for i in range(n):
        response = requests.post(
            f"{airflow.actionnetwork.url}/api/v2/people", headers={"OSDI-API-Token": AN_KEY}, timeout=30,
            json={"person": {"given_name": "Rerun", "family_name": f"Check {i}",
                             "email_addresses": [{"address": f"e2e.rerun.{i}@example.org"}]}})
        assert response.ok, response.text


def an_records(airflow: LocalAirflow, collection: str) -> list[dict[str, Any]]:
    """Every record of an Action Network collection, through its public API (paced for its rate limit)."""
    found, page = [], 1
    while True:
        response = requests.get(f"{airflow.actionnetwork.url}/api/v2/{collection}", params={"page": page},
                                headers={"OSDI-API-Token": AN_KEY}, timeout=30)
        if response.status_code == 429:
            time.sleep(1)
            continue
        response.raise_for_status()
        batch = response.json()["_embedded"][f"osdi:{collection}"]
        found += batch
        if len(batch) < 25:
            return found
        page += 1
        time.sleep(0.3)


def salesforce(airflow: LocalAirflow) -> Any:
    """simple-salesforce logged in to the Salesforce sandbox, as any integration would."""
    return sandbox_salesforce(airflow.salesforce.url.removeprefix("https://"), airflow.salesforce.verify)


def add_salesforce_donor(airflow: LocalAirflow, name: str = "donor") -> str:
    """Through Salesforce's API: a new Contact in the Subscribers campaign with a gift on the donations account."""
    sf = salesforce(airflow)
    subscribers, = sf.query("SELECT Id FROM Campaign WHERE Name = 'Action Network Subscribers'")["records"]
    account, = sf.query("SELECT Id FROM Account WHERE Name = 'Action Network Donations'")["records"]
    contact = sf.Contact.create({"FirstName": "Rerun", "LastName": name.title(), "Email": f"e2e.{name}@example.org"})["id"]
    sf.CampaignMember.create({"CampaignId": subscribers["Id"], "ContactId": contact})
    gift = sf.Opportunity.create({"Name": f"Gift from {name}", "AccountId": account["Id"], "StageName": "Closed Won",
                                  "CloseDate": THIS_HOUR.date().isoformat(), "Amount": 75})["id"]
    sf.OpportunityContactRole.create({"OpportunityId": gift, "ContactId": contact, "IsPrimary": True})
    return gift


def test_the_dag_is_listed_documented_and_scheduled_once_unpaused(airflow: LocalAirflow):
    api = airflow.api
    assert api.get("/api/v2/importErrors")["total_entries"] == 0
    details = api.get(api.dag("/details"))
    assert "Action Network ⇄ Salesforce sync" in details["doc_md"]
    assert details["is_paused"] is False and details["max_active_runs"] == 1
    scheduled = [r for r in api.runs() if r["run_type"] == "scheduled"]
    assert len(scheduled) == 1 and scheduled[0]["state"] == "success", api.describe(scheduled[0]["dag_run_id"])
    health = api.get("/api/v2/monitor/health")
    assert {part["status"] for part in health.values()} == {"healthy"}


def test_a_triggered_run_succeeds(airflow: LocalAirflow):
    api = airflow.api
    run = api.trigger("e2e_triggered", hours_ago(2))
    assert run["data_interval_end"].startswith(hours_ago(2)[:13])
    api.wait_run("e2e_triggered", "success")
    assert {ti["state"] for ti in api.task_instances("e2e_triggered").values()} <= {"success", "skipped"}


def test_a_failed_step_is_read_then_rerun_with_its_downstream_without_duplicates(airflow: LocalAirflow):
    api = airflow.api
    api.wait_clear_of_the_hour()
    add_people(airflow, 2)
    gift = add_salesforce_donor(airflow)
    time.sleep(1)  # windows are whole seconds: let the second of these changes end before the run starts
    getattr(airflow, FAULT_SANDBOX).control("POST", "faults", FAULT)
    try:
        api.trigger("e2e_fault", None)  # no logical date: the window ends now and carries the new people
        api.wait_run("e2e_fault", "failed")
    finally:
        getattr(airflow, FAULT_SANDBOX).control("DELETE", "faults")

    # the failure alert, mailed by the DAG processor's callback, names the step and links to the run
    subject = "[an-sf-sync] Sync run e2e_fault failed"
    alert = wait_for(lambda: next((m for m in airflow.inbox.messages if m["Subject"] == subject), None), 120,
                     "the failure alert mail", lambda: str([m["Subject"] for m in airflow.inbox.messages]))
    html = alert.get_body(("html",)).get_content()
    assert alert["To"] == ALERTS_TO and f"Task {FAILING_TASK} failed (try 1)" in html
    assert f'href="{airflow.base_url}/dags/{DAG_ID}/runs/e2e_fault/plugin/sync-report-run"' in html

    # read the failure as the grid shows it: the step failed on its first try, its downstream did not run
    tis = api.task_instances("e2e_fault")
    downstream = api.downstream(FAILING_TASK)
    assert tis[FAILING_TASK]["state"] == "failed" and tis[FAILING_TASK]["try_number"] == 1, api.describe("e2e_fault")
    assert {tis[t]["state"] for t in downstream} == {"upstream_failed"}
    log = api.log_text("e2e_fault", FAILING_TASK, 1)
    assert FAULT_IN_LOG in log and "Task failed with exception" in log

    # rerun that step and its downstream only
    cleared = api.call("POST", api.dag("/clearTaskInstances"), json={
        "dry_run": False, "dag_run_id": "e2e_fault", "task_ids": [FAILING_TASK], "only_failed": False,
        "include_downstream": True})
    assert {ti["task_id"] for ti in cleared["task_instances"]} == {FAILING_TASK, *downstream}
    api.wait_run("e2e_fault", "success")
    after = api.task_instances("e2e_fault")
    assert after[FAILING_TASK]["try_number"] == 2
    untouched = set(tis) - {FAILING_TASK, *downstream}
    assert {t: after[t]["try_number"] for t in untouched} == {t: tis[t]["try_number"] for t in untouched}
    assert len(api.log_text("e2e_fault", FAILING_TASK, 2)) > 0

    # nothing doubled on either side, though the failed try had posted some donations before it stopped
    donations = [i for d in an_records(airflow, "donations") for i in d["identifiers"] if i.startswith("salesforce:")]
    assert donations.count(f"salesforce:{gift}") == 1
    assert len(donations) == len(set(donations))
    emails = [e["address"].lower() for p in an_records(airflow, "people") for e in p["email_addresses"]
              if e.get("primary")]
    assert len(emails) == len(set(emails)) and "e2e.donor@example.org" in emails
    assert not any(duplicates(airflow).values()), duplicates(airflow)


def test_a_backfill_of_three_hours_runs_one_run_at_a_time(airflow: LocalAirflow):
    api = airflow.api
    api.wait_idle()
    body: dict[str, Any] = {"dag_id": DAG_ID, "from_date": hours_ago(9), "to_date": hours_ago(7),
                            "reprocess_behavior": "none", "max_active_runs": 1, "run_backwards": False,
                            "dag_run_conf": {}}
    planned = api.call("POST", "/api/v2/backfills/dry_run", json=body)
    assert planned["total_entries"] == 3
    backfill = api.call("POST", "/api/v2/backfills", json=body)
    most_running = 0

    def done() -> bool:
        nonlocal most_running
        runs = [r for r in api.runs() if r["run_type"] == "backfill"]
        most_running = max(most_running, sum(r["state"] == "running" for r in runs))
        state = api.get(f"/api/v2/backfills/{backfill['id']}")
        return state["completed_at"] is not None and len(runs) == 3 and all(r["state"] in FINISHED for r in runs)

    wait_for(done, 240, "the backfill to complete", lambda: "\n".join(
        api.describe(r["dag_run_id"]) for r in api.runs() if r["run_type"] == "backfill"), interval=0.5)
    runs = sorted((r for r in api.runs() if r["run_type"] == "backfill"), key=lambda r: r["start_date"])
    assert [r["state"] for r in runs] == ["success"] * 3, "\n".join(api.describe(r["dag_run_id"]) for r in runs)
    assert most_running <= 1
    assert all(earlier["end_date"] <= later["start_date"] for earlier, later in zip(runs, runs[1:], strict=False))
    assert sorted(r["logical_date"] for r in runs) == sorted(entry["logical_date"] for entry in planned["backfills"])


def test_a_run_without_a_logical_date_succeeds(airflow: LocalAirflow):
    api = airflow.api
    run = api.trigger(None, None)
    assert run["logical_date"] is None and run["data_interval_start"] is None
    api.wait_run(run["dag_run_id"], "success")


def test_the_sync_report_shows_the_runs(airflow: LocalAirflow):
    api = airflow.api
    api.wait_idle()
    assert requests.get(f"{airflow.base_url}/sync-report/", timeout=30).status_code == 401
    page = api.session.get(f"{airflow.base_url}/sync-report/", timeout=30)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "e2e_triggered" in page.text and "e2e_fault" in page.text and "succeeded" in page.text
    run = api.session.get(f"{airflow.base_url}/sync-report/run", params={"run_id": "e2e_fault"}, timeout=30)
    assert run.status_code == 200 and "Run e2e_fault" in run.text and "Rejects (" in run.text
    views = {(v["name"], v["destination"]) for p in api.get("/api/v2/plugins")["plugins"] for v in p["external_views"]}
    assert {("Sync report", "nav"), ("Sync report", "dag_run")} <= views


def test_the_test_button_checks_both_connection_types(local_airflow: LocalAirflow):
    """The connection form's *Test*: our ``actionnetwork`` hook and the provider's Salesforce hook."""
    api = local_airflow.api

    def test(body: dict[str, Any]) -> dict[str, Any]:
        return api.call("POST", "/api/v2/connections/test", json=body)

    an = {"connection_id": "actionnetwork_default", "conn_type": "actionnetwork",
          "host": f"{local_airflow.actionnetwork.url}/api/v2/", "password": AN_KEY}
    assert test(an) == {"status": True, "message": f"Connected to Action Network at {an['host']}; "
                                                     "the API key was accepted."}
    refused = test({**an, "password": "not-the-key"})
    assert refused["status"] is False and "API key" in refused["message"]

    host = local_airflow.salesforce.url.removeprefix("https://")
    extra = {"consumer_key": SF_CONSUMER_KEY, "consumer_secret": SF_CONSUMER_SECRET,
             "domain": f"{host}/services/oauth2/token?x=", "ca_bundle": local_airflow.salesforce.verify}
    body = {"connection_id": "salesforce_default", "conn_type": "salesforce", "extra": json.dumps(extra)}
    assert test(body) == {"status": True, "message": "Connection successfully tested"}
    wrong = test({**body, "extra": json.dumps({**extra, "consumer_secret": "wrong"})})
    assert wrong["status"] is False and "invalid_client" in wrong["message"]
