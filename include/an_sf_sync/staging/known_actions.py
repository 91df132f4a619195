"""Every Action Network action the sync has read (``sync.an_actions``), with when it was last taken:
what decides whose takers a run reads (see ``activity``). Each call is its own short transaction."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from an_sf_sync.staging.store import StagingStore, frame

COLUMNS = ("an_id", "action_type", "title", "origin_system", "event_campaign_id", "created_date", "modified_date")


def remember(store: StagingStore, actions: Iterable[dict[str, Any]]) -> None:
    """Keep the latest copy of each action read."""
    with store.connect() as conn, conn.cursor() as cur:
        cur.executemany(
            f"INSERT INTO sync.an_actions ({', '.join(COLUMNS)}) VALUES ({', '.join(['%s'] * len(COLUMNS))})"
            " ON CONFLICT (an_id) DO UPDATE SET " + ", ".join(f"{c} = EXCLUDED.{c}" for c in COLUMNS[1:]),
            [tuple(a.get(c) for c in COLUMNS) for a in actions])


def unlinked(store: StagingStore) -> list[dict[str, Any]]:
    """Known actions without a Campaign link yet (new, or their Campaign could not be created)."""
    with store.connect() as conn:
        return frame(conn, f"SELECT {', '.join(COLUMNS)} FROM sync.an_actions a WHERE NOT EXISTS"
                           " (SELECT 1 FROM sync.action_links l WHERE l.an_id = a.an_id)").to_dict("records")


def active_since(store: StagingStore, types: Iterable[str], since: datetime) -> list[dict[str, Any]]:
    """``{an_id, action_type, active}`` of every known action of ``types``: active when taken, created or
    changed at or after ``since``."""
    with store.connect() as conn:
        return frame(conn, "SELECT an_id, action_type, greatest(last_taken_at, modified_date, created_date)"
                           " >= %s AS active FROM sync.an_actions WHERE action_type = ANY(%s) ORDER BY an_id",
                     (since, list(types))).to_dict("records")


def note_takers(store: StagingStore, run_id: str) -> None:
    """Record when each action was last taken, from the run's staged takers."""
    with store.connect() as conn:
        conn.execute("UPDATE sync.an_actions a SET last_taken_at = greatest(a.last_taken_at, t.at)"
                     " FROM (SELECT action_id, max(coalesce(modified_date, created_date)) AS at"
                     "       FROM staging.an_participations WHERE run_id = %s GROUP BY 1) t"
                     " WHERE t.action_id = a.an_id", (run_id,))
