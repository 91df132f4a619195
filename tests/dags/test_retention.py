"""Weeks of hourly runs: runs older than ``an_sf_sync_staging_days`` lose their staged copies and plans
at the end of a later run, and nothing that later runs need goes with them."""

from __future__ import annotations

import psycopg
import pytest
from psycopg.rows import dict_row

from an_sf_sync import report_pages
from an_sf_sync.staging import report
from tests.dags.test_edge_cases import Org, person

pytestmark = pytest.mark.slow

ADA, BOB = "p-ada", "p-bob"


@pytest.fixture(params=[5, 0], ids=["overlap5", "overlap0"])
def org(request, dag, an_sandbox, sf_sandbox, staging) -> Org:
    an_sandbox.app.store.load_records({"people": [person(ADA, "ada@example.org", "Ada", "Lovelace"),
                                                  person(BOB, "bob@example.org", "Bob", "Builder")]})
    return Org(dag, an_sandbox, sf_sandbox, staging, request.param)


def age(org: Org, days: int) -> list[str]:
    """Move every run so far ``days`` days into the past; return their ids."""
    with org.staging.connect() as conn:
        conn.execute("UPDATE staging.extracts SET extracted_at = extracted_at - make_interval(days => %s)", (days,))
        conn.execute("UPDATE sync.runs SET started_at = started_at - make_interval(days => %(d)s),"
                     " finished_at = finished_at - make_interval(days => %(d)s)", {"d": days})
        return [r[0] for r in conn.execute("SELECT run_id FROM sync.runs ORDER BY finished_at")]


def staged_runs(org: Org, table: str) -> set[str]:
    with org.staging.connect() as conn:
        return {r[0] for r in conn.execute(f"SELECT DISTINCT run_id FROM staging.{table}")}  # noqa: S608


def test_a_pair_stopped_weeks_ago_resumes_after_its_runs_were_pruned(org, monkeypatch):
    org.run()
    ada = org.link(ADA)[0]
    org.sf.Contact.update(ada, {"Email": "ada@elsewhere.org", "MailingCity": "Leeds"})
    org.run()
    assert org.link(ADA) == (ada, "stopped")
    old = age(org, 30)

    monkeypatch.setenv("AIRFLOW_VAR_AN_SF_SYNC_STAGING_DAYS", "21")
    org.put(BOB, {"family_name": "Mason"})
    run = org.run()  # its finalize removes the three-week-old runs
    assert org.contact(org.link(BOB)[0])["LastName"] == "Mason"
    assert staged_runs(org, "an_people") == {run.run_id} and staged_runs(org, "plan") == {run.run_id}
    assert staged_runs(org, "extracts") == {run.run_id}
    with org.staging.connect() as conn:  # each Contact's last copy stays (an old run's, with no overlap)
        assert conn.execute("SELECT count(*) FROM staging.sf_contacts WHERE sf_id = %s", (ada,)).fetchone() == (1,)

    # weeks later, the admin gives the activist the Contact's new email: the pair resumes from that copy
    org.put(ADA, {"email_addresses": [{"address": "ada@elsewhere.org", "primary": True}]})
    org.run()
    assert org.link(ADA) == (ada, "active")
    assert org.activist(ADA)["postal_addresses"][0]["locality"] == "Leeds"
    assert [w for w in org.writes(org.run()) if ADA in (w[3], w[4].get("person_id"))] == []

    with psycopg.connect(org.staging.conninfo, row_factory=dict_row) as conn:
        first = report.run_detail(conn, old[0])
    assert first is not None and first.pruned and first.run.moved == 2  # both people created in Salesforce
    assert "no longer kept" in report_pages.render_run(first, old[0])


def test_runs_younger_than_the_days_kept_stay(org):
    org.run()
    first = age(org, 10)  # the default keeps 14 days
    run = org.run()
    assert staged_runs(org, "extracts") == {*first, run.run_id}
