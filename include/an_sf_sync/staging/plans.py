"""The plan table (``staging.plan``): the rows reconcile writes for each load step, and their
outcomes as the loads mark them. Functions take the caller's connection: they are part of its
transaction."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

import pandas as pd
import psycopg

from an_sf_sync.plan import Action, Direction, Obj, Op, Step
from an_sf_sync.staging.store import copy_rows, frame

PLAN_COLUMNS = ["run_id", "step", "seq", "pair_id", "object", "direction", "action", "an_id", "sf_id", "payload"]


def replace(conn: psycopg.Connection, run_id: str, step: Step, ops: Sequence[Op]) -> int:
    conn.execute("DELETE FROM staging.plan WHERE run_id = %s AND step = %s", (run_id, step))
    return append(conn, run_id, step, ops)


def append(conn: psycopg.Connection, run_id: str, step: Step, ops: Sequence[Op], after: int = 0) -> int:
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
