"""The sync report against a real Postgres: empty databases, missing tables, escaping, per-run counts."""

from __future__ import annotations

import json

import psycopg
import pytest
from psycopg.rows import dict_row

from an_sf_sync import report


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
    assert "No runs recorded yet" in report.render_runs([])
    assert "recorded nothing" in report.render_run(None, "manual__<x>")
    assert "manual__&lt;x&gt;" in report.render_run(None, "manual__<x>")


def _seed(conn):
    conn.execute("INSERT INTO sync.runs (run_id, status, summary, started_at, finished_at) VALUES"
                 " ('scheduled__1', 'succeeded', %s, '2026-03-01 10:00Z', '2026-03-01 10:02Z'),"
                 " ('scheduled__2', 'succeeded', '{}', '2026-03-01 11:00Z', '2026-03-01 11:01Z')",
                 (json.dumps({"extracted": {"actionnetwork": {"people": 12, "donations": 3}},
                              "watermarks": {"actionnetwork": "2026-03-01T10:00:00+00:00"}}),))
    conn.execute("INSERT INTO staging.extracts (run_id, source, window_end, counts, extracted_at) VALUES"
                 " ('manual__3', 'actionnetwork', '2026-03-01 12:00Z', '{\"people\": 7}', '2026-03-01 12:05Z'),"
                 " ('scheduled__1', 'actionnetwork', '2026-03-01 10:00Z', '{\"people\": 12}', '2026-03-01 10:01Z')")
    conn.cursor().executemany("INSERT INTO sync.rejects (run_id, source, object, record_id, reason_code, message)"
                              " VALUES (%s, 'actionnetwork', 'person', %s, %s, %s)",
                              [("scheduled__1", "p1", "no_email", "<script>alert(1)</script>"),
                               ("scheduled__1", "p2", "no_email", "no address"),
                               ("scheduled__1", "p3", "bad_zip", "ZIP & state disagree")])
    conn.execute("INSERT INTO sync.conflicts (run_id, an_id, sf_id, field, an_value, sf_value, winner)"
                 " VALUES ('scheduled__1', 'p9', '003x', 'city', 'Lyon', 'Paris', 'salesforce')")


def test_runs_newest_first_with_their_reject_and_conflict_counts(conn):
    _seed(conn)
    runs = report.runs(conn)
    assert [(r.run_id, r.status, r.rejects, r.conflicts) for r in runs] == [
        ("manual__3", "incomplete", 0, 0), ("scheduled__2", "succeeded", 0, 0), ("scheduled__1", "succeeded", 3, 1)]
    assert runs[0].counts == {"extracted": {"actionnetwork": {"people": 7}}}
    page = report.render_runs(runs)
    assert 'href="run?run_id=scheduled__1"' in page
    assert '<span class="group">extracted · actionnetwork</span> people <b>12</b>, donations <b>3</b>' in page
    assert "watermarks" not in page  # the list shows numbers only


def test_a_run_lists_reject_reasons_rejects_and_conflicts_escaped(conn):
    _seed(conn)
    detail = report.run_detail(conn, "scheduled__1")
    assert [(r["reason_code"], r["records"]) for r in detail.reject_reasons] == [("no_email", 2), ("bad_zip", 1)]
    assert [c["field"] for c in detail.conflicts] == ["city"]
    page = report.render_run(detail, "scheduled__1")
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "ZIP &amp; state disagree" in page and "Rejects (3)" in page and "Conflicts (1)" in page
    assert '<span class="group">watermarks</span> actionnetwork <b>2026-03-01T10:00:00+00:00</b>' in page


def test_missing_reconcile_tables_read_as_empty(conn):
    _seed(conn)
    conn.execute("DROP TABLE sync.conflicts, sync.rejects")
    detail = report.run_detail(conn, "scheduled__1")
    assert (detail.run.rejects, detail.run.conflicts, detail.rejects, detail.conflicts) == (0, 0, [], [])
    page = report.render_run(detail, "scheduled__1")
    assert "Nothing was rejected." in page and "No field was changed on both sides." in page


def test_run_ids_are_quoted_in_links():
    assert report.run_link("manual__2026-03-01T10:00:00+00:00") == "run?run_id=manual__2026-03-01T10%3A00%3A00%2B00%3A00"
