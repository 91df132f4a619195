"""Reading and writing the durable sync state: mirrors, links, masters, settings, the plan, rejects.

Set-based: everything moves as frames through COPY or as parameterised SQL over arrays of ids.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd
import psycopg
from psycopg import sql

from an_sf_sync import rules
from an_sf_sync.plan import Action, Direction, Obj, Op, Reject, Step
from an_sf_sync.staging import pending
from an_sf_sync.staging.store import StagingStore


def frame(conn: psycopg.Connection, query: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> pd.DataFrame:
    """A query's rows as a frame of Python values: missing values stay None (pandas would make
    text columns NaN-backed strings), so ``x or y`` and ``isinstance`` checks mean what they say."""
    with conn.cursor() as cur:
        cur.execute(query, params)
        columns = [d.name for d in cur.description]
        return pd.DataFrame(cur.fetchall(), columns=columns, dtype=object)


def copy_rows(conn: psycopg.Connection, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    schema, name = table.split(".")
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(schema, name), sql.SQL(", ").join(map(sql.Identifier, columns)))
    count = 0
    with conn.cursor() as cur, cur.copy(statement) as cp:
        for row in rows:
            cp.write_row(row)
            count += 1
    return count


# -- settings and master records ---------------------------------------------------------------

def get_setting(store: StagingStore, key: str, default: Any = None) -> Any:
    with store.connect() as conn:
        row = conn.execute("SELECT value FROM sync.settings WHERE key = %s", (key,)).fetchone()
    return row[0] if row else default


def put_setting(store: StagingStore, key: str, value: Any) -> None:
    with store.connect() as conn:
        conn.execute("INSERT INTO sync.settings (key, value) VALUES (%s, %s) ON CONFLICT (key) DO UPDATE"
                     " SET value = EXCLUDED.value, updated_at = now()", (key, json.dumps(value)))


def masters(store: StagingStore) -> dict[str, str]:
    """kind -> record id of the master records setup ensured."""
    with store.connect() as conn:
        return dict(conn.execute("SELECT kind, record_id FROM sync.masters").fetchall())


def remember_master(store: StagingStore, kind: str, system: str, record_id: str, name: str) -> None:
    with store.connect() as conn:
        conn.execute("INSERT INTO sync.masters (kind, system, record_id, name) VALUES (%s, %s, %s, %s)"
                     " ON CONFLICT (kind) DO UPDATE SET record_id = EXCLUDED.record_id, name = EXCLUDED.name,"
                     " recorded_at = now()", (kind, system, record_id, name))


# -- mirrors ---------------------------------------------------------------------------------------

def refresh_mirrors(conn: psycopg.Connection, run_id: str, subscribers_campaign: str | None) -> None:
    """Fold this run's staged records into the identity mirrors (idempotent)."""
    an = frame(conn, "SELECT an_id, email, email_status, modified_date FROM staging.an_people WHERE run_id = %s",
               (run_id,))
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS an_mirror_in (an_id text, email_key text, email_status text,"
                 " modified_date timestamptz) ON COMMIT DROP")
    copy_rows(conn, "pg_temp.an_mirror_in", ["an_id", "email_key", "email_status", "modified_date"],
              zip(an["an_id"], an["email"].map(rules.email_key), an["email_status"], an["modified_date"],
                  strict=True))
    conn.execute("INSERT INTO sync.an_people SELECT * FROM an_mirror_in ON CONFLICT (an_id) DO UPDATE SET"
                 " email_key = EXCLUDED.email_key, email_status = EXCLUDED.email_status,"
                 " modified_date = EXCLUDED.modified_date")
    others = frame(conn, "SELECT p.an_id, e.address FROM staging.an_people p,"
                         " jsonb_array_elements_text(p.other_emails) e (address) WHERE p.run_id = %s", (run_id,))
    conn.execute("DELETE FROM sync.an_emails WHERE an_id IN (SELECT an_id FROM staging.an_people"
                 " WHERE run_id = %s)", (run_id,))
    with conn.cursor() as cur:
        cur.executemany("INSERT INTO sync.an_emails (an_id, email_key) VALUES (%s, %s) ON CONFLICT DO NOTHING",
                        [(a, k) for a, k in zip(others["an_id"], others["address"].map(rules.email_key),
                                                strict=True) if k])
    sf = frame(conn, "SELECT sf_id, email, is_deleted, created_date, last_modified_date FROM staging.sf_contacts"
                     " WHERE run_id = %s", (run_id,))
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS sf_mirror_in (sf_id text, email_key text, is_deleted boolean,"
                 " created_date timestamptz, last_modified_date timestamptz) ON COMMIT DROP")
    copy_rows(conn, "pg_temp.sf_mirror_in", ["sf_id", "email_key", "is_deleted", "created_date",
                                             "last_modified_date"],
              zip(sf["sf_id"], sf["email"].map(rules.email_key), sf["is_deleted"], sf["created_date"],
                  sf["last_modified_date"], strict=True))
    conn.execute("INSERT INTO sync.sf_contacts SELECT * FROM sf_mirror_in ON CONFLICT (sf_id) DO UPDATE SET"
                 " email_key = EXCLUDED.email_key, is_deleted = EXCLUDED.is_deleted,"
                 " created_date = EXCLUDED.created_date, last_modified_date = EXCLUDED.last_modified_date")
    if subscribers_campaign:
        conn.execute("DELETE FROM sync.sf_subscribers s USING staging.sf_campaign_members m"
                     " WHERE m.run_id = %s AND m.campaign_id = %s AND m.is_deleted AND s.member_id = m.sf_id",
                     (run_id, subscribers_campaign))
        conn.execute("INSERT INTO sync.sf_subscribers (contact_id, member_id)"
                     " SELECT DISTINCT ON (contact_id) contact_id, sf_id FROM staging.sf_campaign_members"
                     " WHERE run_id = %s AND campaign_id = %s AND NOT is_deleted AND contact_id IS NOT NULL"
                     " ORDER BY contact_id, system_modstamp DESC"
                     " ON CONFLICT (contact_id) DO UPDATE SET member_id = EXCLUDED.member_id",
                     (run_id, subscribers_campaign))


# -- plan, rejects, conflicts ---------------------------------------------------------------------

PLAN_COLUMNS = ["run_id", "step", "seq", "pair_id", "object", "direction", "action", "an_id", "sf_id", "payload"]


def replace_plan(conn: psycopg.Connection, run_id: str, step: Step, ops: Sequence[Op]) -> int:
    conn.execute("DELETE FROM staging.plan WHERE run_id = %s AND step = %s", (run_id, step))
    return append_plan(conn, run_id, step, ops)


def append_plan(conn: psycopg.Connection, run_id: str, step: Step, ops: Sequence[Op], after: int = 0) -> int:
    """Add plan rows numbered from ``after + 1`` (a plan written in parts continues the numbering)."""
    count = copy_rows(conn, "staging.plan", PLAN_COLUMNS, (
        (run_id, step, seq, op["pair_id"], op["object"], op["direction"], op["action"], op["an_id"], op["sf_id"],
         json.dumps(op["payload"], default=str))
        for seq, op in enumerate(ops, start=after + 1)))
    conn.execute("ANALYZE staging.plan")  # fresh statistics, so the loads' updates use the primary key
    return count


_PAYLOADS = {"all": "payload", "writes": "CASE WHEN direction = %(local)s THEN NULL ELSE payload END AS payload",
             "none": "NULL AS payload"}


def pending_ops(conn: psycopg.Connection, run_id: str, step: Step, *, payloads: str = "all",
                pairs: tuple[int, int] | None = None) -> pd.DataFrame:
    """The step's plan rows, with the payloads of ``all`` rows, of the ``writes`` only (not the local
    bookkeeping rows), or ``none`` (ids and outcomes only: a fraction of the memory); ``pairs`` is a
    ``[first, end)`` range of pair ids, to work through a large plan in chunks. Objects, directions
    and actions come back as their enums (one that is not a member is an error, not a silent miss)."""
    payload = _PAYLOADS[payloads]
    low, high = pairs or (None, None)
    ops = frame(conn, f"SELECT seq, pair_id, object, direction, action, an_id, sf_id, {payload}, status,"
                      " result_id FROM staging.plan WHERE run_id = %(run)s AND step = %(step)s"
                      " AND (%(low)s::bigint IS NULL OR pair_id >= %(low)s)"
                      " AND (%(high)s::bigint IS NULL OR pair_id < %(high)s) ORDER BY seq",
                {"run": run_id, "step": step, "low": low, "high": high, "local": Direction.LOCAL})
    for column, kind in (("object", Obj), ("direction", Direction), ("action", Action)):
        ops[column] = ops[column].map(kind)
    return ops


def mark(conn: psycopg.Connection, run_id: str, step: str, outcomes: Iterable[tuple]) -> None:
    """Record outcomes: (seq, status, result_id, error_code, error) tuples, in one statement."""
    latest = {int(row[0]): row for row in outcomes}  # a row recorded twice keeps its last outcome
    if not latest:
        return
    seqs, statuses, results, codes, errors = (list(column) for column in zip(*latest.values(), strict=True))
    conn.execute(
        "UPDATE staging.plan p SET status = o.status, result_id = COALESCE(o.result_id, p.result_id),"
        " error_code = o.error_code, error = o.error, updated_at = now()"
        " FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::text[], %s::text[])"
        "  AS o (seq, status, result_id, error_code, error)"
        " WHERE p.run_id = %s AND p.step = %s AND p.seq = o.seq",
        (seqs, statuses, results, codes, errors, run_id, step))


REJECT_COLUMNS = ["run_id", "source", "object", "record_id", "reason_code", "message", "payload"]


def add_rejects(conn: psycopg.Connection, run_id: str, rejects: Iterable[Reject]) -> None:
    """Record rejects; one that waits on a record (``pending``: staging table and id) is retried by
    later runs (see ``staging.pending``), one that reports a repair is resolved at once."""
    rows = []
    for r in rejects:
        kind, record = r.get("pending") or ((pending.WAITING[r["reason_code"]], r["record_id"])
                                            if r["reason_code"] in pending.WAITING else (None, None))
        rows.append((run_id, r["source"], r["object"], r["record_id"], r["reason_code"], r["message"],
                     json.dumps(r.get("payload")) if r.get("payload") is not None else None,
                     "resolved" if r["reason_code"] in pending.NOTES else "open", kind, record))
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO sync.rejects (run_id, source, object, record_id, reason_code, message, payload, status,"
            " pending_kind, pending_id) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (run_id, source, object, record_id, reason_code) DO UPDATE SET message = EXCLUDED.message,"
            " payload = EXCLUDED.payload, status = EXCLUDED.status, pending_kind = EXCLUDED.pending_kind,"
            " pending_id = EXCLUDED.pending_id", rows)


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
