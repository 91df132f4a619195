"""The run's Action Network write budget: a big org's first sync is spread over many hourly runs.

Action Network takes at most 4 requests a second (about 14,000 an hour), so a first sync that adds
hundreds of thousands of activists takes days. Each run attempts at most ``budget`` Action Network
writes (one request each) and defers the rest: a deferred plan row is never attempted. Its records
join the pending queue with the reason ``BACKLOG`` and are re-staged into later runs, which plan
them afresh from the stored state, so nothing is lost and nothing is written twice. Each run takes
the next batch of the queue (``BATCH`` budgets' worth of records, oldest first, whole pairs), so an
hourly run's work follows its budget, not the size of the backlog. Deferring never fails a task,
and the watermarks advance as usual: the queue, not the window, carries the backlog.

Fresh edits go first: writes for records that only came back from the backlog (their staged copy
is the queued one) wait until the run's own changes are planned, and among them the pairs planned
first go first. A pair is deferred whole, its Salesforce writes and its link included, so it is
never half-written (what both sides hold alike already is its base all the same:
``links.note_agreed``; a pair matched for the first time keeps what the match decided:
``links.note_first_matches``). What concerns a person who waits in the backlog (their action's CampaignMember,
their donation's Contact Role) waits with them, instead of failing for want of a synced Contact.
A write its load will refuse before sending anything (its person is not synced at all) costs no
request, so it takes no room in the budget: otherwise a few such writes, retried every run, would
take all of a small budget and hold the backlog behind them back for good.
"""

from __future__ import annotations

import math
from typing import Any

import psycopg

from an_sf_sync.plan import Step
from an_sf_sync.staging import links, pending, plans

VARIABLE = "an_sf_sync_write_budget"
NO_LIMIT = 2**62  # a budget of 0 or less: every write in one run
DEFAULT = 9_000  # per run: 37.5 minutes at 4 requests/s, leaving the rest of the hour to the reads
DEFERRED = "deferred"
REASON = pending.BACKLOG
BATCH = 2  # backlog records re-staged per run, in budgets: room for pairs that need fewer writes


def defer_over_budget(conn: psycopg.Connection, run_id: str, step: Step, budget: int) -> int:
    """Defer the step's pending Action Network writes that do not fit what is left of the run's
    budget (whole pairs, fresh edits first), and the writes that concern people the contacts step
    deferred; returns how many Action Network writes wait for later runs."""
    waiting = 0
    if step != Step.CONTACTS:
        pairs, seqs = plans.behind_backlog(conn, run_id, step)
        before = plans.an_writes_with(conn, run_id, DEFERRED)
        plans.defer(conn, run_id, step, pairs, seqs, DEFERRED, REASON)
        waiting = plans.an_writes_with(conn, run_id, DEFERRED) - before
    left = budget - plans.an_writes_spent(conn, run_id)
    unsendable = plans.an_writes_unsendable(conn, run_id, step)
    writes = [op for op in plans.an_writes_pending(conn, run_id, step) if op.seq not in unsendable]
    if len(writes) <= left:
        return waiting
    queued = pending.restaged(conn, run_id, REASON)
    groups: dict[Any, list[Any]] = {}
    for op in writes:
        groups.setdefault(("pair", op.pair_id) if op.pair_id is not None else ("seq", op.seq), []).append(op)
    order = sorted(groups.items(), key=lambda g: (all(pending.load_record(step, op) in queued for op in g[1]),
                                                 g[1][0].seq))
    deferred_pairs: list[int] = []
    deferred_seqs: list[int] = []
    deferred = 0
    for (kind, key), ops in order:
        if deferred or len(ops) > left:
            (deferred_pairs if kind == "pair" else deferred_seqs).append(key)
            deferred += len(ops)
        else:
            left -= len(ops)
    plans.defer(conn, run_id, step, deferred_pairs, deferred_seqs, DEFERRED, REASON)
    if step == Step.CONTACTS:
        links.note_agreed(conn, run_id, DEFERRED)
        links.note_first_matches(conn, run_id, DEFERRED)
    return waiting + deferred


def restage_batch(budget: int) -> int | None:
    """How many backlog records a run with ``budget`` re-stages (None: all of them, no budget)."""
    return BATCH * budget if budget < NO_LIMIT else None


def backlog(conn: psycopg.Connection, run_id: str, budget: int) -> dict[str, Any]:
    """The run's deferred Action Network writes and those of the backlog still queued, and roughly
    how many more runs they need."""
    left = plans.an_writes_with(conn, run_id, DEFERRED) + pending.waiting_writes(conn, run_id)
    return {"writes_left": left, "budget_per_run": budget, "spent": plans.an_writes_spent(conn, run_id),
            "eta_hours": math.ceil(left / budget) if budget > 0 else None}
