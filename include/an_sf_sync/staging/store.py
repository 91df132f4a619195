"""Staging and sync state in Postgres: per-run frames in, watermarks and run records out.

Frames land with COPY, never row-by-row INSERTs. Writing a run's rows for a table first deletes
that run's earlier rows in the same transaction, so a retried task replaces what it wrote before
instead of adding to it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql

from an_sf_sync.staging import migrations
from an_sf_sync.staging.db import STAGING_CONN_ID, resolve_conninfo


class StagingStore:
    """A handle on the staging database; cheap to create, opens short-lived connections."""

    def __init__(self, conninfo: str) -> None:
        self.conninfo = conninfo
        self._migrated = False

    @classmethod
    def from_connection(cls, conn_id: str = STAGING_CONN_ID) -> StagingStore:
        return cls(resolve_conninfo(conn_id))

    def connect(self) -> psycopg.Connection:
        conn = psycopg.connect(self.conninfo)
        if not self._migrated:
            migrations.migrate(conn)
            conn.commit()
            self._migrated = True
        return conn

    def replace_run_rows(self, table: str, run_id: str, columns: Sequence[str],
                         chunks: Iterable[Iterable[Sequence[Any]]]) -> int:
        """Replace ``run_id``'s rows of ``staging.<table>`` with the given rows; return the count.

        ``chunks`` is consumed lazily, so a caller can stream millions of rows in bounded memory.
        Rows carry the values for ``columns`` (without ``run_id``, which is prepended here).
        """
        target = sql.Identifier("staging", table)
        copy = sql.SQL("COPY {} ({}) FROM STDIN").format(
            target, sql.SQL(", ").join(map(sql.Identifier, ["run_id", *columns])))
        count = 0
        with self.connect() as conn, conn.transaction(), conn.cursor() as cur:
            cur.execute(sql.SQL("DELETE FROM {} WHERE run_id = %s").format(target), (run_id,))
            with cur.copy(copy) as cp:
                for chunk in chunks:
                    for row in chunk:
                        cp.write_row((run_id, *row))
                        count += 1
        return count

    def record_extract(self, run_id: str, source: str, window_start: datetime | None,
                       window_end: datetime, counts: dict[str, int]) -> None:
        with self.connect() as conn:
            conn.execute(
                "INSERT INTO staging.extracts (run_id, source, window_start, window_end, counts)"
                " VALUES (%s, %s, %s, %s, %s)"
                " ON CONFLICT (run_id, source) DO UPDATE SET window_start = EXCLUDED.window_start,"
                " window_end = EXCLUDED.window_end, counts = EXCLUDED.counts, extracted_at = now()",
                (run_id, source, window_start, window_end, json.dumps(counts)),
            )

    def extract_of(self, run_id: str, source: str) -> dict[str, Any] | None:
        with self.connect() as conn, conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
            cur.execute("SELECT window_start, window_end, counts FROM staging.extracts"
                        " WHERE run_id = %s AND source = %s", (run_id, source))
            return cur.fetchone()

    def watermark(self, source: str) -> datetime | None:
        """Every change on ``source`` before this instant has been synced; None before the first run."""
        with self.connect() as conn:
            row = conn.execute("SELECT committed_until FROM sync.watermarks WHERE source = %s",
                               (source,)).fetchone()
        return row[0] if row else None

    def commit_watermark(self, source: str, until: datetime, run_id: str) -> datetime:
        """Advance the watermark to ``until``; never move it back (a backfill of old hours keeps it)."""
        with self.connect() as conn:
            row = conn.execute(
                "INSERT INTO sync.watermarks (source, committed_until, run_id) VALUES (%s, %s, %s)"
                " ON CONFLICT (source) DO UPDATE SET"
                "  run_id = CASE WHEN EXCLUDED.committed_until > sync.watermarks.committed_until"
                "               THEN EXCLUDED.run_id ELSE sync.watermarks.run_id END,"
                "  updated_at = CASE WHEN EXCLUDED.committed_until > sync.watermarks.committed_until"
                "               THEN now() ELSE sync.watermarks.updated_at END,"
                "  committed_until = GREATEST(sync.watermarks.committed_until, EXCLUDED.committed_until)"
                " RETURNING committed_until",
                (source, until, run_id),
            ).fetchone()
        return row[0]
