"""Which Action Network collections a run reads, so that a quiet hour costs a few requests.

Action Network filters actions, participations, people and donations by ``modified_date``
(reference §1.5), so each run reads only what changed in its window:

* actions: each type's list filtered by ``modified_date`` (one request per type in a quiet hour).
  Every action seen is kept in ``sync.an_actions``; the ones not yet linked to a Campaign are
  staged again every run, so a Campaign that could not be created is retried.
* takers (submissions, signatures, attendances, outreaches): one collection per action, read for
  *active* actions only — taken, created or changed within ``active_days`` (default 7) of the
  window's end. Dormant actions are swept on a slower cycle (``sweep_hours``, default 24), from
  the end of the last committed sweep, so a late taker of an old action still arrives, at most a
  sweep late. UNCONFIRMED: whether a new taker changes the action's own ``modified_date`` (the
  reference does not say; the sandbox does not), so a new taker alone never marks an action active.
* donations: the global ``/donations`` feed, filtered; people: ``/people``, filtered.

Taking an action, a donation included, changes the person's ``modified_date`` ("any time a person
takes an action", reference: People). So an hour in which no person changed has no new taker or
donation, and reads neither: a quiet hour costs the people request and one per action type's list.
In case a taker or donation changes without its person, the sweep reads every action's takers, and
donations, from the end of the last sweep: nothing is later than ``sweep_hours``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from an_sf_sync.staging import known_actions, settings
from an_sf_sync.staging.store import StagingStore

ACTIVE_DAYS_VARIABLE = "an_sf_sync_active_days"
SWEEP_HOURS_VARIABLE = "an_sf_sync_sweep_hours"
ACTIVE_DAYS, SWEEP_HOURS = 7, 24
SWEPT_SETTING = "an_takers_swept_until"  # the end of the last committed sweep of dormant actions


def takers_to_read(store: StagingStore, types: Iterable[str], end: datetime, active_days: float,
                   sweep: bool) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(active, dormant) actions of ``types``; dormant ones only when ``sweep``."""
    rows = known_actions.active_since(store, types, end - timedelta(days=active_days))
    return ([r for r in rows if r["active"]], [r for r in rows if not r["active"]] if sweep else [])


def swept_until(store: StagingStore) -> datetime | None:
    value = settings.get(store, SWEPT_SETTING)
    return datetime.fromisoformat(value) if value else None


def commit_sweep(store: StagingStore, until: datetime) -> None:
    """After the run that swept dormant actions succeeded: the next sweep starts from here."""
    settings.put(store, SWEPT_SETTING, until.isoformat())
