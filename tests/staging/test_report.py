"""The sync report against a real Postgres: per-object counts, rejects an admin can act on, CSV, chart."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

import psycopg
import pytest
from psycopg.rows import dict_row

from an_sf_sync import report_pages
from an_sf_sync.staging import report
from an_sf_sync.staging.report import RejectFilter

NOW = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
SF = "https://acme.my.salesforce.com"


@pytest.fixture
def conn(staging):
    with staging.connect():  # applies the migrations
        pass
    with psycopg.connect(staging.conninfo, row_factory=dict_row, autocommit=True) as conn:
        yield conn


def test_a_database_without_the_schema_renders_an_empty_report(staging_conninfo):
    with psycopg.connect(staging_conninfo, row_factory=dict_row) as conn:
        assert report.existing_tables(conn) == set()
        assert report.runs(conn) == []
        assert report.run_detail(conn, "manual__x") is None
        assert list(report.iter_rejects(conn, "manual__x", report.PROBLEMS)) == []
    assert "No runs recorded yet" in report_pages.render_runs([])
    assert "recorded nothing" in report_pages.render_run(None, "manual__<x>")
    assert "manual__&lt;x&gt;" in report_pages.render_run(None, "manual__<x>")


def _rejects(conn, run_id, rows):
    conn.cursor().executemany(
        "INSERT INTO sync.rejects (run_id, source, object, record_id, reason_code, message, payload, created_at)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
        [(run_id, source, obj, record, code, message, json.dumps({"step": step}), created)
         for source, obj, record, code, message, step, created in rows])


def _plan(conn, run_id, rows, status="done"):
    conn.cursor().executemany(
        "INSERT INTO staging.plan (run_id, step, seq, object, direction, action, an_id, sf_id, payload, status)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        [(run_id, step, seq, obj, direction, action, an_id, sf_id, json.dumps(payload), status)
         for seq, (step, obj, direction, action, an_id, sf_id, payload) in enumerate(rows)])


def _seed(conn):
    conn.execute("INSERT INTO sync.runs (run_id, status, summary, started_at, finished_at) VALUES"
                 " ('scheduled__1', 'succeeded', %s, '2026-03-01 10:00Z', '2026-03-01 10:02Z'),"
                 " ('scheduled__2', 'succeeded', '{}', '2026-03-01 11:00Z', '2026-03-01 11:01Z')",
                 (json.dumps({"extracted": {"actionnetwork": {"people": 12, "donations": 3},
                                            "salesforce": {"contacts": 20, "opportunity_contact_roles": 4}},
                              "writes": [{"step": "contacts", "count": 2}]}),))
    conn.execute("INSERT INTO staging.extracts (run_id, source, window_end, counts, extracted_at) VALUES"
                 " ('manual__3', 'actionnetwork', '2026-03-01 12:00Z', '{\"people\": 7}', '2026-03-01 12:05Z'),"
                 " ('scheduled__1', 'actionnetwork', '2026-03-01 10:00Z', '{\"people\": 12, \"donations\": 3}',"
                 "  '2026-03-01 10:01Z'),"
                 " ('scheduled__1', 'salesforce', '2026-03-01 10:00Z', '{\"contacts\": 20}', '2026-03-01 10:01Z')")
    _plan(conn, "scheduled__1", [
        ("contacts", "contact", "to_salesforce", "create", "p1", None, {"fields": {"email": "a@x.org"}}),
        ("contacts", "contact", "to_salesforce", "create", "p2", None, {"fields": {"email": "b@x.org"}}),
        ("contacts", "contact", "to_salesforce", "subscribe", "p1", None, {}),
        ("contacts", "contact", "local", "link", "p1", None, {}),
        ("contacts", "contact", "local", "link", "p5", "0035g00000AbCdEAAZ", {}),  # linked by an earlier run
        ("contacts", "contact", "to_actionnetwork", "update", "p5", "0035g00000AbCdEAAZ", {"fields": {}}),
        ("campaigns", "campaign", "to_salesforce", "create", "f1", None, {"name": "Petition"}),
    ])
    _plan(conn, "scheduled__1", [("opportunities", "opportunity", "to_salesforce", "create", "d1", None, {})],
          status="pending")
    _rejects(conn, "scheduled__1", [
        ("actionnetwork", "person", "p3", "MALFORMED_EMAIL", "<script>alert(1)</script>", "reconcile", NOW),
        ("actionnetwork", "person", "p4", "MISSING_EMAIL", "no address", "reconcile", NOW),
        ("salesforce", "contact", "0035g00000XyZaBAAV", "DUPLICATE_EMAIL", "shares a@x.org", "reconcile", NOW),
        ("salesforce", "contact", "0035g00000QqQqQAAV", "NOT_IN_SUBSCRIBERS_CAMPAIGN", "outside", "reconcile", NOW),
        ("salesforce", "contact", "0035g00000RrRrRAAV", "NOT_IN_SUBSCRIBERS_CAMPAIGN", "outside", "reconcile", NOW),
        ("actionnetwork", "participation", "s1", "ACTION_NOT_SYNCED", "an upload", "reconcile", NOW),
        ("actionnetwork", "campaign member", "p2", "STRING_TOO_LONG", "=HYPERLINK(\"x\")", "campaigns", NOW),
        ("actionnetwork", "person", "p1", "VALUE_TRUNCATED", "city shortened", "reconcile", NOW),  # a note
    ])
    conn.execute("UPDATE sync.rejects SET status = 'resolved' WHERE record_id = 'p4'")
    conn.execute("INSERT INTO sync.contact_links (an_id, sf_id, email_key, linked_run, updated_run)"
                 " VALUES ('p5', '0035g00000AbCdEAAZ', 'e@x.org', 'scheduled__0', 'scheduled__1')")
    conn.execute("INSERT INTO sync.conflicts (run_id, an_id, sf_id, field, an_value, sf_value, winner)"
                 " VALUES ('scheduled__1', 'p9', '003x', 'city', 'Lyon', 'Paris', 'salesforce')")
    conn.execute("INSERT INTO sync.settings (key, value) VALUES ('salesforce_instance_url', %s),"
                 " ('actionnetwork_api_url', '\"https://actionnetwork.org/api/v2/\"')", (json.dumps(SF),))


def test_runs_list_open_problems_apart_from_records_not_in_scope(conn):
    _seed(conn)
    runs = report.runs(conn)
    assert [(r.run_id, r.status, r.rejects, r.not_in_scope, r.conflicts, r.moved) for r in runs] == [
        ("manual__3", "incomplete", 0, 0, 0, 0), ("scheduled__2", "succeeded", 0, 0, 0, 0),
        ("scheduled__1", "succeeded", 3, 3, 1, 4)]  # p4 resolved; p1 created and subscribed is one record
    assert runs[-1].read == 35  # people, donations, contacts; contact roles are not records of their own
    page = report_pages.render_runs(runs, report.history(conn, NOW))
    assert 'href="run?run_id=scheduled__1"' in page
    assert "{'" not in page and "[{" not in page  # no raw Python structures
    assert page.count("<svg") == 2 and 'role="img"' in page
    assert "Records moved per run: 3 runs, 4 in all, at most 4 in one run" in page
    assert "Open rejects per run (problems to fix): 3 runs, 3 in all" in page


def test_history_keeps_the_last_days_oldest_first(conn):
    _seed(conn)
    assert [r.run_id for r in report.history(conn, NOW)] == ["scheduled__1", "scheduled__2", "manual__3"]
    assert report.history(conn, datetime(2026, 3, 20, tzinfo=UTC)) == []


def test_a_run_reads_as_a_table_per_object_and_direction(conn):
    _seed(conn)
    detail = report.run_detail(conn, "scheduled__1")
    table = {(r.group, r.direction): {k: v for k, v in r.counts.items() if v} for r in detail.objects}
    assert table == {
        ("People", "to_salesforce"): {"read": 12, "created": 2, "subscribed": 1, "skipped": 2, "noted": 1},
        ("People", "to_actionnetwork"): {"read": 20, "updated": 1, "skipped": 1, "not_in_scope": 2},
        ("People", "local"): {"linked": 1},
        ("Campaigns", "to_salesforce"): {"created": 1},
        ("Campaign members", "to_salesforce"): {"not_in_scope": 1, "failed": 1},
        ("Donations", "to_salesforce"): {"read": 3, "waiting": 1},
    }
    page = report_pages.render_run(detail, "scheduled__1")
    assert "{'" not in page and "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "Rejects (6)" in page and "Conflicts (1)" in page and "Note (nothing to do)" in page
    assert '<th scope="col" class="n">Not in scope</th>' in page and "Salesforce → Action Network" in page


def test_open_rejects_say_why_what_to_do_and_link_the_record(conn):
    _seed(conn)
    detail = report.run_detail(conn, "scheduled__1")
    assert [r["record_id"] for r in detail.rejects] == ["p3", "0035g00000XyZaBAAV", "p2"]  # problems, open
    page = report_pages.render_run(detail, "scheduled__1")
    assert f'href="{SF}/0035g00000XyZaBAAV"' in page
    assert "Another Contact has the same email" in page and "Merge the duplicate Contacts in Salesforce." in page
    assert 'for="f-reason"' in page and 'id="f-reason"' in page  # labelled filters
    assert 'href="rejects.csv?run_id=scheduled__1&amp;scope=problems" download' in page


@pytest.mark.parametrize(("rejects", "expected"), [
    (RejectFilter(reason="MALFORMED_EMAIL"), ["p3"]),
    (RejectFilter(object="contact"), ["0035g00000XyZaBAAV"]),
    (RejectFilter(scope="not_in_scope"), ["0035g00000QqQqQAAV", "0035g00000RrRrRAAV", "s1"]),
    (RejectFilter(scope="all", object="person"), ["p3", "p1"]),  # p4 was resolved
])
def test_rejects_filter_by_reason_object_and_scope(conn, rejects, expected):
    _seed(conn)
    detail = report.run_detail(conn, "scheduled__1", rejects)
    assert [r["record_id"] for r in detail.rejects] == expected and detail.matching == len(expected)
    assert [r["record_id"] for r in report.iter_rejects(conn, "scheduled__1", rejects)] == expected


def test_the_csv_holds_every_matching_reject_safely(conn):
    _seed(conn)
    with psycopg.connect(conn.info.dsn, row_factory=dict_row) as reader:
        links = report.record_links(reader, report.existing_tables(reader))
        text = "".join(report_pages.rejects_csv(
            "scheduled__1", report.iter_rejects(reader, "scheduled__1", report.PROBLEMS, batch=1), links))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["record_id"] for r in rows] == ["p3", "0035g00000XyZaBAAV", "p2"]
    assert rows[1]["record_url"] == f"{SF}/0035g00000XyZaBAAV"
    assert rows[0]["record_url"] == "https://actionnetwork.org/api/v2/people/p3"
    assert rows[0]["reason"] == "Email address is malformed" and rows[0]["message"] == "<script>alert(1)</script>"
    assert rows[2]["message"] == "'=HYPERLINK(\"x\")"  # a spreadsheet shows it, never runs it


def test_a_dry_run_previews_what_it_would_write(conn):
    conn.execute("INSERT INTO sync.runs (run_id, status, summary, started_at, finished_at, dry_run) VALUES"
                 " ('manual__dry', 'succeeded', '{}', '2026-03-01 10:00Z', '2026-03-01 10:01Z', true)")
    _plan(conn, "manual__dry", [("contacts", "contact", "to_salesforce", "create", f"p{i}", None,
                                 {"fields": {"email": f"p{i}@x.org", "family_name": "Doe"}}) for i in range(8)]
          + [("contacts", "contact", "local", "link", "p0", None, {})], status="pending")
    detail = report.run_detail(conn, "manual__dry", sample=3)
    [preview] = detail.preview
    assert (preview["object"], preview["action"], preview["records"]) == ("contact", "create", 8)
    assert [s["an_id"] for s in preview["sample"]] == ["p0", "p1", "p2"]
    [people, pairs] = detail.objects
    assert people.counts["created"] == 8 and people.counts["waiting"] == 0 and pairs.counts["linked"] == 1
    page = report_pages.render_run(detail, "manual__dry")
    assert "Preview: what this dry run would write" in page and "Would create" in page
    assert "email: p2@x.org, family_name: Doe" in page and "p3@x.org" not in page
    assert detail.run.moved == 0


def test_missing_tables_and_columns_read_as_empty(conn):
    _seed(conn)
    conn.execute("ALTER TABLE sync.rejects DROP COLUMN status")
    assert report.run_detail(conn, "scheduled__1").run.rejects == 4  # every reject open
    conn.execute("DROP TABLE sync.conflicts, sync.rejects, staging.plan, sync.settings")
    detail = report.run_detail(conn, "scheduled__1")
    assert (detail.run.rejects, detail.run.conflicts, detail.rejects, detail.conflicts, detail.links) == (
        0, 0, [], [], {})
    page = report_pages.render_run(detail, "scheduled__1")
    assert "Nothing was rejected." in page and "No field was changed on both sides." in page


def test_new_rejects_are_those_no_earlier_run_had(conn):
    _seed(conn)
    _rejects(conn, "scheduled__2", [
        ("actionnetwork", "person", "p3", "MALFORMED_EMAIL", "again", "reconcile", datetime(2026, 3, 1, 13, tzinfo=UTC)),
        ("actionnetwork", "person", "p8", "MISSING_EMAIL", "new", "reconcile", datetime(2026, 3, 1, 13, tzinfo=UTC)),
        ("salesforce", "contact", "0035g00000ZzZzZAAV", "NOT_IN_SUBSCRIBERS_CAMPAIGN", "x", "reconcile",
         datetime(2026, 3, 1, 13, tzinfo=UTC)),
    ])
    assert report.new_problem_rejects(conn, "scheduled__1") == (35, 4)
    assert report.new_problem_rejects(conn, "scheduled__2") == (0, 1)
    # a problem seen again is one row moved to the newest run, which remembers the run it began in
    conn.execute("UPDATE sync.rejects SET run_id = 'scheduled__2', first_run = 'scheduled__1'"
                 " WHERE run_id = 'scheduled__1' AND record_id = 'p4'")
    assert report.new_problem_rejects(conn, "scheduled__2") == (0, 1)


def test_run_ids_are_quoted_in_links():
    assert report_pages.run_link("manual__2026-03-01T10:00:00+00:00") == (
        "run?run_id=manual__2026-03-01T10%3A00%3A00%2B00%3A00")
