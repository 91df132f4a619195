"""What a run reports about records: rejects (``sync.rejects``), field conflicts (``sync.conflicts``)
and Salesforce contacts that lost to a duplicate (``sync.duplicates``)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd
import psycopg

from an_sf_sync.plan import Reject
from an_sf_sync.reasons import NOTES
from an_sf_sync.staging import pending
from an_sf_sync.staging.store import copy_rows

REJECT_COLUMNS = ["source", "object", "record_id", "reason_code", "message", "payload", "status", "pending_kind",
                  "pending_id"]


def add_rejects(conn: psycopg.Connection, run_id: str, rejects: Iterable[Reject]) -> None:
    """Record rejects; one that waits on a record (``pending``: staging table and id) is retried by
    later runs (see ``staging.pending``), one that reports a repair is resolved at once. A record
    rejected again for the same reason in the run keeps its latest message, in its first place."""
    if gather_rejects(conn, rejects):
        save_rejects(conn, run_id)


def gather_rejects(conn: psycopg.Connection, rejects: Iterable[Reject]) -> int:
    """Hold rejects in the session until ``save_rejects`` (returns how many): a first sync rejects
    hundreds of thousands of records in dozens of partitions, saved at once."""
    rows: dict[Any, tuple] = {}
    for n, r in enumerate(rejects):
        kind, record = r.get("pending") or ((pending.WAITING[r["reason_code"]], r["record_id"])
                                            if r["reason_code"] in pending.WAITING else (None, None))
        key = (r["source"], r["object"], r["record_id"], r["reason_code"]) if r["record_id"] is not None else n
        rows[key] = (r["source"], r["object"], r["record_id"], r["reason_code"], r["message"],
                     json.dumps(r.get("payload")) if r.get("payload") is not None else None,
                     "resolved" if r["reason_code"] in NOTES else "open", kind, record)
    _gathered(conn)
    return copy_rows(conn, "pg_temp.new_rejects", REJECT_COLUMNS, rows.values())


def save_rejects(conn: psycopg.Connection, run_id: str) -> None:
    """Save the gathered rejects in ``sync.rejects``: one row per record and reason in the run, with
    the latest message, in the place of the first (rejects without a record id stay apart)."""
    _gathered(conn)
    conn.execute("CREATE TEMP TABLE latest_rejects ON COMMIT DROP AS SELECT r.*, k.first FROM new_rejects r"
                 " JOIN (SELECT min(n) AS first, max(n) AS last FROM new_rejects GROUP BY source, object, record_id,"
                 " reason_code, CASE WHEN record_id IS NULL THEN n END) k ON r.n = k.last")
    conn.execute("TRUNCATE pg_temp.new_rejects")
    conn.execute(
        "INSERT INTO sync.rejects (run_id, source, object, record_id, reason_code, message, payload, status,"
        " pending_kind, pending_id) SELECT %s, source, object, record_id, reason_code, message, payload, status,"
        " pending_kind, pending_id FROM latest_rejects ORDER BY first"
        " ON CONFLICT (run_id, source, object, record_id, reason_code) DO UPDATE SET message = EXCLUDED.message,"
        " payload = EXCLUDED.payload, status = EXCLUDED.status, pending_kind = EXCLUDED.pending_kind,"
        " pending_id = EXCLUDED.pending_id", (run_id,))
    conn.execute("DROP TABLE latest_rejects")


def _gathered(conn: psycopg.Connection) -> None:
    """The session's table of rejects gathered and not yet saved."""
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS new_rejects (n bigint GENERATED ALWAYS AS IDENTITY, source text,"
                 " object text, record_id text, reason_code text, message text, payload jsonb, status text,"
                 " pending_kind text, pending_id text)")


def add_conflicts(conn: psycopg.Connection, run_id: str, conflicts: Sequence[dict]) -> None:
    copy_rows(conn, "sync.conflicts", ["run_id", "an_id", "sf_id", "field", "an_value", "sf_value", "winner",
                                       "an_modified", "sf_modified"],
              ((run_id, c["an_id"], c["sf_id"], c["field"], c["an_value"], c["sf_value"], c["winner"],
                _ts(c["an_modified"]), _ts(c["sf_modified"])) for c in conflicts))


def add_duplicates(conn: psycopg.Connection, run_id: str, duplicates: pd.DataFrame) -> None:
    """Record losing contacts (a contact reported once stays reported under its first winner)."""
    with conn.cursor() as cur:
        cur.executemany("INSERT INTO sync.duplicates (sf_id, email_key, winner_sf_id, rule, run_id)"
                        " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (sf_id) DO NOTHING",
                        [(r.sf_id, r.email_key, r.winner_sf_id, r.rule, run_id) for r in duplicates.itertuples()])


def _ts(value: Any) -> Any:
    return None if value is None or pd.isna(value) else value
