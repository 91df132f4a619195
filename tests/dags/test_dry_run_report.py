"""A dry run, run by Airflow (``dag.test``): the report previews per object what it would write, with a
sample of the records, and nothing is written to either side."""

from __future__ import annotations

import time

import psycopg
from airflow.utils.state import DagRunState
from psycopg.rows import dict_row

from an_sf_sync import report_pages
from an_sf_sync.staging import report
from tests.dags.conftest import states


def person(an_id: str, address: str) -> dict:
    return {"id": an_id, "family_name": f"Family {an_id}",
            "email_addresses": [{"address": address, "primary": True, "status": "subscribed"}]}


def test_a_dry_run_previews_its_writes_and_writes_nothing(dag, an_sandbox, sf_sandbox, staging):
    an_sandbox.app.store.load_records({"people": [person(f"p{i}", f"p{i}@example.org") for i in range(7)]
                                       + [person("bad", "not-an-email")]})
    sf_sandbox.app.store.create("Contact", {"LastName": "Outside", "Email": "outside@example.org"})
    time.sleep(1)  # windows are whole seconds

    run = dag.test(logical_date=None, run_conf={"dry_run": True})
    assert run.state == DagRunState.SUCCESS, states(run)
    assert [c["LastName"] for c in sf_sandbox.app.store.rows("Contact")] == ["Outside"]  # nothing written

    with psycopg.connect(staging.conninfo, row_factory=dict_row) as conn:
        detail = report.run_detail(conn, run.run_id, sample=5)
    assert detail.run.dry_run and detail.run.moved == 0
    people = {r.direction: r.counts for r in detail.objects if r.group == "People"}
    assert (people["to_salesforce"]["created"], people["to_salesforce"]["subscribed"]) == (7, 7)
    assert people["to_salesforce"]["skipped"] == 1 and people["to_actionnetwork"]["not_in_scope"] == 1
    preview = {(p["object"], p["direction"], p["action"]): p for p in detail.preview}
    creates = preview["contact", "to_salesforce", "create"]
    assert creates["records"] == 7 and len(creates["sample"]) == 5
    assert {s["payload"]["fields"]["email"] for s in creates["sample"]} <= {f"p{i}@example.org" for i in range(7)}
    page = report_pages.render_run(detail, run.run_id)
    assert "Preview: what this dry run would write" in page and "Would create" in page
    assert "Contact: create, Action Network → Salesforce (7 records; the first 5)" in page
