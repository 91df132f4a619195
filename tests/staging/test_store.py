from datetime import UTC, datetime

import psycopg
import pytest

from an_sf_sync.staging import migrations, runs, store


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


def _indexes(conn, table: str) -> list[tuple]:
    return conn.execute("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname || '.' || tablename = %s"
                        " ORDER BY 1", (table,)).fetchall()


def test_a_bulk_insert_rebuilds_the_indexes_it_dropped(staging, monkeypatch):
    monkeypatch.setattr(store, "BULK_ROWS", 3)
    rows = [(f"a{n}", f"a{n}@example.org", "subscribed") for n in range(5)]
    with staging.connect() as conn:
        before = _indexes(conn, "sync.an_people")
        conn.execute("CREATE TEMP TABLE incoming (an_id text, email_key text, email_status text)")
        store.copy_rows(conn, "pg_temp.incoming", ["an_id", "email_key", "email_status"], rows)
        store.bulk_insert(conn, "sync.an_people", "(an_id, email_key, email_status) SELECT * FROM incoming",
                          rows=len(rows))
        assert _indexes(conn, "sync.an_people") == before
        assert conn.execute("SELECT count(*) FROM sync.an_people").fetchone() == (5,)
        # the primary key is one again: a clashing row fails, an upsert finds its conflict target
        conn.execute("INSERT INTO sync.an_people (an_id, email_key) VALUES ('a1', 'new@example.org')"
                     " ON CONFLICT (an_id) DO UPDATE SET email_key = EXCLUDED.email_key")
        assert conn.execute("SELECT email_key FROM sync.an_people WHERE an_id = 'a1'").fetchone() == ("new@example.org",)
        with pytest.raises(psycopg.errors.UniqueViolation):
            conn.execute("INSERT INTO sync.an_people (an_id) VALUES ('a2')")


def test_a_bulk_insert_of_rows_that_clash_fails_whole(staging, monkeypatch):
    monkeypatch.setattr(store, "BULK_ROWS", 3)
    with staging.connect() as conn:
        conn.execute("CREATE TEMP TABLE incoming (an_id text)")
        store.copy_rows(conn, "pg_temp.incoming", ["an_id"], [("a1",), ("a2",), ("a1",)])
        with pytest.raises(psycopg.errors.UniqueViolation):
            store.bulk_insert(conn, "sync.an_people", "(an_id) SELECT * FROM incoming", rows=3)
        conn.rollback()
        assert conn.execute("SELECT count(*) FROM sync.an_people").fetchone() == (0,)
        assert len(_indexes(conn, "sync.an_people")) == 2
