from datetime import UTC, datetime

import psycopg

from an_sf_sync.staging import migrations, runs


def test_migrations_apply_once_and_are_recorded(staging_conninfo):
    with psycopg.connect(staging_conninfo) as conn:
        first = migrations.migrate(conn)
        again = migrations.migrate(conn)
        tables = {r[0] for r in conn.execute(
            "SELECT table_schema || '.' || table_name FROM information_schema.tables"
            " WHERE table_schema IN ('staging', 'sync')")}
    assert first == [v for v, _, _ in migrations.available()]
    assert again == []
    assert {"staging.an_people", "sync.watermarks", "sync.rejects", "sync.schema_migrations"} <= tables


def test_replace_run_rows_replaces_only_that_run(staging):
    cols = ("an_id", "email")
    assert staging.replace_run_rows("an_people", "run-1", cols, [[("a", "a@example.org"), ("b", None)]]) == 2
    staging.replace_run_rows("an_people", "run-2", cols, [[("c", "c@example.org")]])
    # a retry of run-1 writes a different set: the old rows are gone, run-2 untouched
    assert staging.replace_run_rows("an_people", "run-1", cols, iter([[("a", "A@example.org")]])) == 1
    with staging.connect() as conn:
        rows = conn.execute("SELECT run_id, an_id, email FROM staging.an_people ORDER BY run_id, an_id").fetchall()
    assert rows == [("run-1", "a", "A@example.org"), ("run-2", "c", "c@example.org")]


def test_watermark_only_moves_forward(staging):
    t1, t2 = datetime(2026, 3, 1, 10, tzinfo=UTC), datetime(2026, 3, 1, 12, tzinfo=UTC)
    assert runs.watermark(staging, "actionnetwork") is None
    assert runs.commit_watermark(staging, "actionnetwork", t2, "run-b") == t2
    # a backfill of an older hour finishing later does not move it back
    assert runs.commit_watermark(staging, "actionnetwork", t1, "backfill-a") == t2
    assert runs.watermark(staging, "actionnetwork") == t2
    assert runs.watermark(staging, "salesforce") is None
