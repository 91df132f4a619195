"""Retention: old runs' staged copies and plans go, once a later run succeeded; the last copy of each
Contact, the summaries and the rejects stay, and the report says what is gone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from psycopg.rows import dict_row

from an_sf_sync import report_pages
from an_sf_sync.plan import Action, Direction, Obj, Op, Step
from an_sf_sync.staging import plans, report, retention, runs

NOW = datetime(2026, 3, 20, 12, tzinfo=UTC)
DAY = timedelta(days=1)


def a_run(staging, run_id: str, at: datetime, contacts: dict[str, datetime], *, succeeded: bool = True,
          dry_run: bool = False) -> None:
    """A run extracted at ``at``: an activist, the given Contacts (sf_id -> SystemModstamp), one write done."""
    for source in ("actionnetwork", "salesforce"):
        runs.record_extract(staging, run_id, source, None, at, {})
    with staging.connect() as conn:
        conn.execute("UPDATE staging.extracts SET extracted_at = %s WHERE run_id = %s", (at, run_id))
        conn.execute("INSERT INTO staging.an_people (run_id, an_id, email) VALUES (%s, %s, 'ada@example.org')",
                     (run_id, f"p-{run_id}"))
        for sf_id, modstamp in contacts.items():
            conn.execute("INSERT INTO staging.sf_contacts (run_id, sf_id, is_deleted, system_modstamp, last_name)"
                         " VALUES (%s, %s, false, %s, %s)", (run_id, sf_id, modstamp, f"{sf_id} as of {run_id}"))
        plans.append(conn, run_id, Step.CONTACTS, [Op(pair_id=1, object=Obj.CONTACT, direction=Direction.TO_SALESFORCE,
                                                      action=Action.UPDATE, an_id=f"p-{run_id}", sf_id="003A",
                                                      payload={})])
        plans.mark(conn, run_id, Step.CONTACTS, [(1, "done", None, None, None)])
    if succeeded:
        runs.record_run(staging, run_id, None, at, runs.summarize(staging, run_id), dry_run=dry_run)
        with staging.connect() as conn:
            conn.execute("UPDATE sync.runs SET finished_at = %s WHERE run_id = %s", (at + timedelta(minutes=20), run_id))


def staged(staging, table: str) -> list[tuple]:
    with staging.connect() as conn:
        key = "sf_id" if table.startswith("staging.sf_") else "an_id"
        return conn.execute(f"SELECT run_id, {key} FROM {table} ORDER BY 1, 2").fetchall()  # noqa: S608


def prune(staging, keep_days: int = 14) -> dict[str, int]:
    with staging.connect() as conn:
        return retention.prune(conn, NOW, keep_days)


def test_runs_older_than_the_days_kept_lose_their_copies_and_plans_but_not_each_contacts_last_copy(staging):
    a_run(staging, "old", NOW - 30 * DAY, {"003A": NOW - 31 * DAY, "003B": NOW - 31 * DAY})
    a_run(staging, "older-copy-again", NOW - 20 * DAY, {"003A": NOW - 21 * DAY})
    a_run(staging, "recent", NOW - 2 * DAY, {"003C": NOW - 2 * DAY})
    counts = prune(staging)
    assert counts["runs"] == 2 and counts["an_people"] == 2 and counts["plan"] == 2 and counts["extracts"] == 4
    assert staged(staging, "staging.an_people") == [("recent", "p-recent")]
    # each Contact's newest copy stays, whatever run it came from: a stopped pair resumes from it
    assert staged(staging, "staging.sf_contacts") == [("old", "003B"), ("older-copy-again", "003A"),
                                                      ("recent", "003C")]
    with staging.connect() as conn:
        assert conn.execute("SELECT DISTINCT run_id FROM staging.plan").fetchall() == [("recent",)]
        assert conn.execute("SELECT count(*) FROM sync.runs").fetchone() == (3,)  # summaries stay
    assert prune(staging) == {}  # nothing left to remove: a second pass changes nothing


def test_the_newest_copy_of_a_contact_survives_when_every_run_that_staged_it_expires(staging):
    a_run(staging, "first", NOW - 40 * DAY, {"003A": NOW - 40 * DAY})
    a_run(staging, "second", NOW - 30 * DAY, {"003A": NOW - 30 * DAY})
    a_run(staging, "same-copy-again", NOW - 20 * DAY, {"003A": NOW - 30 * DAY})  # read again, unchanged
    a_run(staging, "recent", NOW - DAY, {})
    prune(staging)
    (run, sf_id), = staged(staging, "staging.sf_contacts")  # one copy: of the two alike, either
    assert sf_id == "003A" and run in ("second", "same-copy-again")


def test_nothing_is_removed_before_a_later_run_succeeded(staging):
    a_run(staging, "old", NOW - 30 * DAY, {"003A": NOW - 30 * DAY}, succeeded=False)
    a_run(staging, "dry", NOW - DAY, {}, dry_run=True)  # a dry run commits nothing: it does not count
    assert prune(staging) == {}
    a_run(staging, "failed", NOW - DAY / 2, {}, succeeded=False)
    assert prune(staging) == {}
    a_run(staging, "next", NOW - DAY / 4, {})
    assert prune(staging)["runs"] == 1
    assert [r for r, _ in staged(staging, "staging.an_people")] == ["dry", "failed", "next"]


def test_a_run_within_the_days_kept_stays(staging):
    a_run(staging, "old", NOW - 10 * DAY, {})
    a_run(staging, "next", NOW - DAY, {})
    assert prune(staging, keep_days=14) == {}
    assert prune(staging, keep_days=7)["runs"] == 1


@pytest.mark.parametrize(("value", "kept"), [("", 14), (None, 14), ("30", 30), (21, 21), ("3", 7), ("two", 14)])
def test_the_days_kept_come_from_the_variable_and_never_go_below_the_reports_history(value, kept):
    assert retention.days(value) == kept


def test_an_old_runs_report_keeps_its_summary_and_says_its_details_are_gone(staging):
    a_run(staging, "old", NOW - 30 * DAY, {})
    a_run(staging, "recent", NOW - DAY, {})
    prune(staging)
    with psycopg.connect(staging.conninfo, row_factory=dict_row) as conn:
        listed = {r.run_id: r.moved for r in report.runs(conn)}
        old, recent = report.run_detail(conn, "old"), report.run_detail(conn, "recent")
    assert listed == {"old": 1, "recent": 1}  # the old run's count, from its summary
    assert old is not None and old.pruned and recent is not None and not recent.pruned
    assert "no longer kept" in report_pages.render_run(old, "old")
    assert "no longer kept" not in report_pages.render_run(recent, "recent")
