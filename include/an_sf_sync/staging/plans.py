"""The plan table (``staging.plan``): the rows reconcile writes for each load step, and their
outcomes as the loads mark them. Functions take the caller's connection: they are part of its
transaction."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import msgspec
import pandas as pd
import psycopg
from psycopg import sql
from psycopg.rows import namedtuple_row

from an_sf_sync.plan import Action, Direction, Obj, Op, Step
from an_sf_sync.staging import pending
from an_sf_sync.staging.store import copy_rows, frame, scalar

PLAN_COLUMNS = ["run_id", "step", "seq", "pair_id", "object", "direction", "action", "an_id", "sf_id", "payload"]


def replace(conn: psycopg.Connection, run_id: str, step: Step, ops: Sequence[Op]) -> int:
    conn.execute("DELETE FROM staging.plan WHERE run_id = %s AND step = %s", (run_id, step))
    return append(conn, run_id, step, ops)


# Payloads as JSON text, ten times faster than json.dumps: a million activists' first sync plans millions
# of rows. Values JSON has no type for (dates, decimals) go as text; NaN goes as null.
_payload = msgspec.json.Encoder(enc_hook=str, decimal_format="string").encode


def append(conn: psycopg.Connection, run_id: str, step: Step, ops: Sequence[Op], after: int = 0) -> int:
    """Add plan rows numbered from ``after + 1`` (a plan written in parts continues the numbering)."""
    count = copy_rows(conn, "staging.plan", PLAN_COLUMNS, (
        (run_id, step, seq, op["pair_id"], op["object"], op["direction"], op["action"], op["an_id"], op["sf_id"],
         _payload(op["payload"]).decode())
        for seq, op in enumerate(ops, start=after + 1)))
    return count


def analyze(conn: psycopg.Connection) -> None:
    """Fresh statistics once a run's plan is written, so the loads' updates use the primary key."""
    conn.execute("ANALYZE staging.plan")


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
    return _typed(ops)


def open_ops(conn: psycopg.Connection, run_id: str, step: Step, obj: Obj, direction: Direction,
             actions: Sequence[Action], *, after: int, limit: int) -> pd.DataFrame:
    """Up to ``limit`` rows of one kind still to apply (pending or attempting), with their payloads,
    the first after plan row ``after``: a large step worked through in bounded chunks."""
    ops = frame(conn, "SELECT seq, pair_id, object, direction, action, an_id, sf_id, payload, status, result_id"
                      " FROM staging.plan WHERE run_id = %s AND step = %s AND object = %s AND direction = %s"
                      " AND action = ANY(%s) AND status IN ('pending', 'attempting') AND seq > %s"
                      " ORDER BY seq LIMIT %s", (run_id, step, obj, direction, list(actions), after, limit))
    return _typed(ops)


def _typed(ops: pd.DataFrame) -> pd.DataFrame:
    """Objects, directions and actions as their enums (one that is not a member is an error)."""
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


def open_pairs(conn: psycopg.Connection, run_id: str, step: Step) -> tuple[int | None, int | None]:
    """The lowest and highest pair with rows still to apply (None, None: nothing left)."""
    row = conn.execute("SELECT min(pair_id), max(pair_id) FROM staging.plan WHERE run_id = %s AND step = %s"
                       " AND status IN ('pending', 'attempting')", (run_id, step)).fetchone()
    return (row[0], row[1]) if row else (None, None)


def local_payloads(conn: psycopg.Connection, run_id: str, step: Step, pairs: tuple[int, int]) -> dict[int, Any]:
    """seq -> payload of the bookkeeping rows (links) still to commit among ``[first, end)`` pairs."""
    return dict(conn.execute("SELECT seq, payload FROM staging.plan WHERE run_id = %s AND step = %s"
                             " AND direction = %s AND status NOT IN ('done', 'deferred') AND pair_id >= %s"
                             " AND pair_id < %s", (run_id, step, Direction.LOCAL, *pairs)).fetchall())


def status_by_pair(conn: psycopg.Connection, run_id: str, step: Step, obj: Obj) -> dict[int, str]:
    """pair -> the status of its ``obj`` row."""
    return dict(conn.execute("SELECT pair_id, status FROM staging.plan WHERE run_id = %s AND step = %s"
                             " AND object = %s", (run_id, step, obj)).fetchall())


def step_counts(conn: psycopg.Connection, run_id: str, step: Step) -> dict[str, int]:
    """'direction.action.status' -> rows of the step, counted by Postgres (a first sync's plan is too
    large to read back whole)."""
    rows = conn.execute("SELECT direction, action, status, count(*) FROM staging.plan WHERE run_id = %s"
                        " AND step = %s GROUP BY 1, 2, 3 ORDER BY 1, 2, 3", (run_id, step)).fetchall()
    return {f"{direction}.{action}.{status}": n for direction, action, status, n in rows}


# -- the write budget (see load.budget) -------------------------------------------------------------

def an_writes_spent(conn: psycopg.Connection, run_id: str) -> int:
    """Action Network writes this run has attempted so far, in every load step. A write that failed
    waiting on another record (its person not synced, its action not made) was refused before it was
    sent: it cost no request."""
    return int(scalar(conn, "SELECT count(*) FROM staging.plan WHERE run_id = %s AND direction = %s"
                            " AND (status IN ('attempting', 'done') OR status = 'failed'"
                            " AND coalesce(error_code, '') <> ALL(%s))",
                      (run_id, Direction.TO_ACTIONNETWORK, sorted(pending.DEPENDENCIES))))


def an_writes_unsendable(conn: psycopg.Connection, run_id: str, step: Step) -> set[int]:
    """The step's pending Action Network writes that its load will refuse before sending anything,
    as it checks them (see ``load.opportunities.pick_donor`` and ``load.campaigns``): donations none
    of whose Contacts is synced and subscribed, and takers of a synced Campaign whose Contact is not
    synced (or not subscribed, for a Campaign's member; a taker of a Campaign whose form is not made
    yet waits for the form, in the budget). They wait for their person, not for the budget: left out
    of it, a few of them retried run after run can never hold the writes behind them back."""
    return {row[0] for row in conn.execute(
        "SELECT p.seq FROM staging.plan p WHERE p.run_id = %(run)s AND p.step = %(step)s AND p.status = 'pending'"
        " AND p.direction = %(to_an)s AND CASE"
        "  WHEN p.object = %(donation)s THEN jsonb_typeof(p.payload->'contacts') = 'array' AND NOT EXISTS ("
        "   SELECT 1 FROM jsonb_array_elements_text(p.payload->'contacts') c (id)"
        "   JOIN sync.contact_links l ON l.sf_id = c.id AND l.state = 'active'"
        "   JOIN sync.sf_subscribers s ON s.contact_id = c.id)"
        "  WHEN p.object = %(member)s AND p.payload ? 'contact_id' THEN EXISTS (SELECT 1 FROM sync.action_links a"
        "   WHERE a.sf_id = p.payload->>'campaign_id' AND a.state = 'active') AND (NOT EXISTS ("
        "   SELECT 1 FROM sync.contact_links l WHERE l.sf_id = p.payload->>'contact_id' AND l.state = 'active')"
        "   OR coalesce((p.payload->>'subscribers_only')::boolean, false) AND NOT EXISTS ("
        "   SELECT 1 FROM sync.sf_subscribers s WHERE s.contact_id = p.payload->>'contact_id'))"
        "  ELSE false END",
        {"run": run_id, "step": step, "to_an": Direction.TO_ACTIONNETWORK, "donation": Obj.DONATION,
         "member": Obj.MEMBER})}


def an_writes_pending(conn: psycopg.Connection, run_id: str, step: Step) -> list[Any]:
    """The step's Action Network writes not attempted yet (ids, no payloads), in plan order."""
    with conn.cursor(row_factory=namedtuple_row) as cur:
        return cur.execute("SELECT seq, pair_id, object, direction, action, an_id, sf_id, NULL AS payload"
                           " FROM staging.plan WHERE run_id = %s AND step = %s AND direction = %s"
                           " AND status = 'pending' ORDER BY seq", (run_id, step, Direction.TO_ACTIONNETWORK)).fetchall()


def behind_backlog(conn: psycopg.Connection, run_id: str, step: Step) -> tuple[list[int], list[int]]:
    """(pair ids, single row seqs) of the step's pending writes that concern a person whose pair the
    contacts step of this run deferred, or whose pair waits in the queue's backlog (not re-staged
    this run: see ``pending.restage``), and who is not synced yet: a CampaignMember, Contact Role,
    participation or donation that would fail only because its person waits in the backlog."""
    rows = conn.execute(
        "WITH waiting AS ("
        "  SELECT d.an_id AS id FROM staging.plan d WHERE d.run_id = %(run)s AND d.step = %(contacts)s"
        "   AND d.status = 'deferred' AND d.an_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM sync.contact_links l"
        "   WHERE l.an_id = d.an_id AND l.state = 'active')"
        "  UNION SELECT d.sf_id FROM staging.plan d WHERE d.run_id = %(run)s AND d.step = %(contacts)s"
        "   AND d.status = 'deferred' AND d.sf_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM sync.contact_links l"
        "   WHERE l.sf_id = d.sf_id AND l.state = 'active')"
        "  UNION SELECT u.id FROM sync.pending q, unnest(q.people) u (id) WHERE q.reason_code = %(backlog)s"
        "   AND q.kind = ANY(%(people)s) AND NOT EXISTS (SELECT 1 FROM staging.an_people s WHERE s.run_id = %(run)s"
        "   AND s.an_id = q.record_id) AND NOT EXISTS (SELECT 1 FROM staging.sf_contacts s WHERE s.run_id = %(run)s"
        "   AND s.sf_id = q.record_id) AND NOT EXISTS (SELECT 1 FROM sync.contact_links l WHERE l.an_id = u.id"
        "   AND l.state = 'active') AND NOT EXISTS (SELECT 1 FROM sync.contact_links l WHERE l.sf_id = u.id"
        "   AND l.state = 'active'))"
        " SELECT DISTINCT p.pair_id, CASE WHEN p.pair_id IS NULL THEN p.seq END FROM staging.plan p,"
        "  LATERAL (SELECT CASE WHEN p.object = %(member)s AND p.direction = %(to_sf)s THEN p.an_id"
        "   ELSE coalesce(p.payload->>'person_id', p.payload->>'contact_id') END AS id"
        "   UNION ALL SELECT jsonb_array_elements_text(CASE WHEN jsonb_typeof(p.payload->'contacts') = 'array'"
        "   THEN p.payload->'contacts' END)) person"
        " WHERE p.run_id = %(run)s AND p.step = %(step)s AND p.status = 'pending' AND p.direction <> %(local)s"
        "  AND person.id IN (SELECT id FROM waiting)",
        {"run": run_id, "step": step, "contacts": Step.CONTACTS, "member": Obj.MEMBER, "to_sf": Direction.TO_SALESFORCE,
         "local": Direction.LOCAL, "backlog": pending.BACKLOG, "people": list(pending.PEOPLE)}).fetchall()
    return [pair for pair, _ in rows if pair is not None], [seq for _, seq in rows if seq is not None]


def defer(conn: psycopg.Connection, run_id: str, step: Step, pairs: Sequence[int], seqs: Sequence[int],
          status: str, reason: str) -> None:
    """Set aside the pending rows of these whole pairs and single rows, with ``status`` and ``reason``."""
    # Joined to the id lists as bigint sets: "pair_id = ANY(list) OR seq = ANY(list)" is checked row by
    # row against whole lists, which takes minutes once a first sync defers hundreds of thousands.
    for column, ids in (("pair_id", pairs), ("seq", seqs)):
        if ids:
            conn.execute(sql.SQL(
                "UPDATE staging.plan p SET status = %s, error_code = %s, updated_at = now()"
                " FROM unnest(%s::bigint[]) AS d (id) WHERE p.run_id = %s AND p.step = %s"
                " AND p.status = 'pending' AND p.{} = d.id").format(sql.Identifier(column)),
                (status, reason, list(ids), run_id, step))


def an_writes_with(conn: psycopg.Connection, run_id: str, status: str) -> int:
    """The run's Action Network writes with ``status``."""
    return int(scalar(conn, "SELECT count(*) FROM staging.plan WHERE run_id = %s AND direction = %s"
                            " AND status = %s", (run_id, Direction.TO_ACTIONNETWORK, status)))
