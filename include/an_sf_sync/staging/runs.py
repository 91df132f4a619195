"""A run's record: what each extract read (``staging.extracts``), how far each source is synced
(``sync.watermarks``) and how the run ended (``sync.runs``)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from psycopg.rows import dict_row

from an_sf_sync.plan import Direction, Step
from an_sf_sync.staging.report import MOVED
from an_sf_sync.staging.store import StagingStore, scalar


def record_extract(store: StagingStore, run_id: str, source: str, window_start: datetime | None,
                   window_end: datetime, counts: dict[str, Any]) -> None:
    with store.connect() as conn:
        conn.execute(
            "INSERT INTO staging.extracts (run_id, source, window_start, window_end, counts)"
            " VALUES (%s, %s, %s, %s, %s)"
            " ON CONFLICT (run_id, source) DO UPDATE SET window_start = EXCLUDED.window_start,"
            " window_end = EXCLUDED.window_end, counts = EXCLUDED.counts, extracted_at = now()",
            (run_id, source, window_start, window_end, json.dumps(counts)),
        )


def extract_of(store: StagingStore, run_id: str, source: str) -> dict[str, Any] | None:
    """The window and counts of ``source``'s extract in ``run_id``; None if it has not run."""
    with store.connect() as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute("SELECT window_start, window_end, counts FROM staging.extracts"
                    " WHERE run_id = %s AND source = %s", (run_id, source))
        return cur.fetchone()


def superseded_by(store: StagingStore, run_id: str) -> str | None:
    """A later run that has written to either side since ``run_id`` was extracted, if any: then
    ``run_id``'s staged copies and plan are older than what that run wrote. A run with no extract on
    record (its staging removed by ``retention``) is older than any run that has one."""
    with store.connect() as conn:
        row = conn.execute(
            "SELECT e.run_id FROM staging.extracts e WHERE e.run_id <> %(run)s AND e.extracted_at >"
            " coalesce((SELECT max(extracted_at) FROM staging.extracts WHERE run_id = %(run)s), '-infinity')"
            " AND EXISTS (SELECT 1 FROM staging.plan p WHERE p.run_id = e.run_id AND p.step = ANY(%(steps)s)"
            "  AND p.status = ANY(%(written)s))"
            " ORDER BY e.extracted_at DESC LIMIT 1",
            {"run": run_id, "steps": list(Step), "written": ["attempting", "done", "failed"]}).fetchone()
    return row[0] if row else None


def watermark(store: StagingStore, source: str) -> datetime | None:
    """Every change on ``source`` before this instant has been synced; None before the first run."""
    with store.connect() as conn:
        row = conn.execute("SELECT committed_until FROM sync.watermarks WHERE source = %s", (source,)).fetchone()
    return row[0] if row else None


def commit_watermark(store: StagingStore, source: str, until: datetime, run_id: str) -> datetime:
    """Advance the watermark to ``until``; never move it back (a backfill of old hours keeps it)."""
    with store.connect() as conn:
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
    assert row is not None  # an upsert with RETURNING always returns its row
    return row[0]


def any_linked(store: StagingStore) -> bool:
    """Whether any activist and Contact are paired yet (the first run has not happened if not)."""
    with store.connect() as conn:
        return bool(scalar(conn, "SELECT EXISTS (SELECT 1 FROM sync.contact_links)"))


def summarize(store: StagingStore, run_id: str) -> dict[str, Any]:
    """Counts per object, direction and outcome; records moved (kept when retention removes the plan);
    rejects per reason; conflicts."""
    with store.connect() as conn:
        moved = conn.execute(MOVED, {"ids": [run_id], "local": Direction.LOCAL}).fetchone()
        plan = conn.execute("SELECT step, direction, action, status, count(*) FROM staging.plan WHERE run_id = %s"
                            " GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4", (run_id,)).fetchall()
        rejects = conn.execute("SELECT source, object, reason_code, count(*) FROM sync.rejects WHERE run_id = %s"
                               " GROUP BY 1, 2, 3 ORDER BY 1, 2, 3", (run_id,)).fetchall()
        conflicts = scalar(conn, "SELECT count(*) FROM sync.conflicts WHERE run_id = %s", (run_id,))
        extracts: dict[str, Any] = dict(conn.execute("SELECT source, counts FROM staging.extracts WHERE run_id = %s",
                                                     (run_id,)).fetchall())
    return {
        "extracted": extracts,
        "moved": moved[1] if moved else 0,
        "writes": [{"step": s, "direction": d, "action": a, "status": st, "count": n} for s, d, a, st, n in plan],
        "rejects": [{"source": s, "object": o, "reason_code": r, "count": n} for s, o, r, n in rejects],
        "conflicts": conflicts,
    }


def record_run(store: StagingStore, run_id: str, window_start: datetime | None, window_end: datetime,
               summary: dict[str, Any], *, dry_run: bool) -> None:
    """Record ``run_id`` as succeeded with its summary (a rerun of the run replaces it)."""
    with store.connect() as conn:
        conn.execute(
            "INSERT INTO sync.runs (run_id, window_start, window_end, status, summary, finished_at, dry_run)"
            " VALUES (%s, %s, %s, 'succeeded', %s, now(), %s) ON CONFLICT (run_id) DO UPDATE SET"
            " window_start = EXCLUDED.window_start, window_end = EXCLUDED.window_end, status = 'succeeded',"
            " summary = EXCLUDED.summary, finished_at = now(), dry_run = EXCLUDED.dry_run",
            (run_id, window_start, window_end, json.dumps(summary, default=str), dry_run))
