"""The run's Action Network write budget: a big org's first sync is spread over many hourly runs.

Action Network takes at most 4 requests a second (about 14,000 an hour), so a first sync that adds
hundreds of thousands of activists takes days. Each run attempts at most ``budget`` Action Network
writes (one request each) and defers the rest: a deferred plan row is never attempted. Its records
join the pending queue with the reason ``BACKLOG`` and are re-staged into the next run, which plans
them afresh from the stored state, so nothing is lost and nothing is written twice. Deferring never
fails a task, and the watermarks advance as usual: the queue, not the window, carries the backlog.

Fresh edits go first: writes for records that only came back from the backlog (their staged copy
is the queued one) wait until the run's own changes are planned, and among them the pairs planned
first go first. A pair is deferred whole, its Salesforce writes and its link included, so it is
never half-written.
"""

from __future__ import annotations

import math
from typing import Any

import psycopg
from psycopg import sql

from an_sf_sync.plan import Direction, Step
from an_sf_sync.staging import pending

VARIABLE = "an_sf_sync_write_budget"
DEFAULT = 9_000  # per run: 37.5 minutes at 4 requests/s, leaving the rest of the hour to the reads
DEFERRED = "deferred"
REASON = "BACKLOG"


def spent(conn: psycopg.Connection, run_id: str) -> int:
    """Action Network writes this run has attempted so far, in every load step."""
    return conn.execute("SELECT count(*) FROM staging.plan WHERE run_id = %s AND direction = %s"
                        " AND status IN ('attempting', 'done', 'failed')", (run_id, Direction.TO_ACTIONNETWORK)).fetchone()[0]


def defer_over_budget(conn: psycopg.Connection, run_id: str, step: Step, budget: int) -> int:
    """Defer the step's pending Action Network writes that do not fit what is left of the run's
    budget (whole pairs, fresh edits first); returns how many Action Network writes were deferred."""
    left = budget - spent(conn, run_id)
    with conn.cursor(row_factory=psycopg.rows.namedtuple_row) as cur:
        writes = cur.execute("SELECT seq, pair_id, object, direction, action, an_id, sf_id, NULL AS payload"
                             " FROM staging.plan WHERE run_id = %s AND step = %s AND direction = %s"
                             " AND status = 'pending' ORDER BY seq", (run_id, step, Direction.TO_ACTIONNETWORK)).fetchall()
    if len(writes) <= left:
        return 0
    queued = _from_backlog(conn, run_id)
    groups: dict[Any, list[Any]] = {}
    for op in writes:
        groups.setdefault(("pair", op.pair_id) if op.pair_id is not None else ("seq", op.seq), []).append(op)
    order = sorted(groups.items(), key=lambda g: (all(pending.load_record(step, op) in queued for op in g[1]),
                                                 g[1][0].seq))
    deferred_pairs, deferred_seqs, deferred = [], [], 0
    for (kind, key), ops in order:
        if deferred or len(ops) > left:
            (deferred_pairs if kind == "pair" else deferred_seqs).append(key)
            deferred += len(ops)
        else:
            left -= len(ops)
    conn.execute("UPDATE staging.plan SET status = %s, error_code = %s, updated_at = now() WHERE run_id = %s"
                 " AND step = %s AND status = 'pending' AND (pair_id = ANY(%s) OR seq = ANY(%s))",
                 (DEFERRED, REASON, run_id, step, deferred_pairs, deferred_seqs))
    return deferred


def backlog(conn: psycopg.Connection, run_id: str, budget: int) -> dict[str, Any]:
    """The run's deferred Action Network writes, and roughly how many more runs they need."""
    left = conn.execute("SELECT count(*) FROM staging.plan WHERE run_id = %s AND direction = %s"
                        " AND status = %s", (run_id, Direction.TO_ACTIONNETWORK, DEFERRED)).fetchone()[0]
    return {"writes_left": left, "budget_per_run": budget, "spent": spent(conn, run_id),
            "eta_hours": math.ceil(left / budget) if budget > 0 else None}


def _from_backlog(conn: psycopg.Connection, run_id: str) -> set[tuple[str, str]]:
    """(kind, id) of the records staged in this run only because the backlog re-staged them."""
    found: set[tuple[str, str]] = set()
    for kind, id_column in pending.KINDS.items():
        found.update(conn.execute(sql.SQL(
            "SELECT p.kind, p.record_id FROM sync.pending p JOIN {table} s ON s.run_id = %s AND s.{id} = p.record_id"
            " WHERE p.kind = %s AND p.reason_code = %s AND to_jsonb(s) - 'run_id' = p.row"
        ).format(table=sql.Identifier("staging", kind), id=sql.Identifier(id_column)), (run_id, kind, REASON)).fetchall())
    return found
