"""Extract: pull each side's changes in a run's window into staging tables tagged with the run id.

Records stream from the API clients in chunks; each chunk becomes a pandas frame and goes to
Postgres with COPY, so memory stays bounded however large the window. Rerunning an extract for the
same run replaces that run's rows.
"""

from __future__ import annotations

import itertools
import json
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pandas as pd

from an_sf_sync.staging.store import StagingStore
from an_sf_sync.window import Window

log = logging.getLogger(__name__)

CHUNK_ROWS = 5_000

AN_PEOPLE_COLUMNS = ("an_id", "email", "email_status", "given_name", "family_name", "street", "city",
                     "state", "postal_code", "country", "custom_fields", "created_date", "modified_date")
AN_ACTION_COLUMNS = ("an_id", "action_type", "title", "origin_system", "event_campaign_id",
                     "created_date", "modified_date")
AN_PARTICIPATION_COLUMNS = ("an_id", "action_type", "action_id", "person_id", "status",
                            "created_date", "modified_date")
AN_DONATION_COLUMNS = ("an_id", "fundraising_page_id", "person_id", "amount", "currency", "recurring",
                       "period", "created_date", "modified_date")

# Action types read from Action Network. Fundraising pages' donations come from the global
# /donations feed (one filtered read instead of one per page); event campaigns have no takers of
# their own (their events do).
AN_ACTION_TYPES = ("form", "petition", "event", "fundraising_page", "advocacy_campaign", "event_campaign")
AN_PARTICIPATION_TYPES = ("form", "petition", "event", "advocacy_campaign")


def _frames(records: Iterable[dict[str, Any]], columns: Sequence[str],
            progress: Callable[[int], None] | None = None) -> Iterator[pd.DataFrame]:
    """Chunk records into frames with exactly ``columns``; dict columns become JSON text."""
    it = iter(records)
    done = 0
    while chunk := list(itertools.islice(it, CHUNK_ROWS)):
        frame = pd.DataFrame.from_records(chunk, columns=list(columns))
        if "custom_fields" in frame:
            frame["custom_fields"] = [None if v is None else json.dumps(v, ensure_ascii=False)
                                      for v in frame["custom_fields"]]
        done += len(frame)
        if progress:
            progress(done)
        yield frame


def _rows(frames: Iterable[pd.DataFrame]) -> Iterator[Iterable[tuple]]:
    for frame in frames:
        yield frame.astype(object).where(frame.notna(), None).itertuples(index=False, name=None)


class _Progress:
    """Logs records done, rate and (when a total is known) time left, at most every ``every`` s."""

    def __init__(self, what: str, every: float = 30.0) -> None:
        self.what, self.every = what, every
        self.started = self.last = time.monotonic()

    def __call__(self, done: int) -> None:
        now = time.monotonic()
        if now - self.last >= self.every:
            self.last = now
            log.info("%s: %d records so far (%.0f/s)", self.what, done, done / max(now - self.started, 1e-9))


def _stage(store: StagingStore, table: str, run_id: str, columns: Sequence[str],
           records: Iterable[dict[str, Any]]) -> int:
    count = store.replace_run_rows(table, run_id, columns, _rows(_frames(records, columns, _Progress(table))))
    log.info("staged %d rows in staging.%s for run %s", count, table, run_id)
    return count


def extract_actionnetwork(client: Any, store: StagingStore, run_id: str, window: Window) -> dict[str, int]:
    """Stage Action Network people, actions, participations and donations changed in ``window``.

    Actions are read in full every run (they are few, and each one's takers are read by its id);
    people, participations and donations are read by ``modified_date`` within the window.
    """
    since, before = window.start, window.end
    log.info("extracting Action Network changes in %s for run %s", window.describe(), run_id)
    counts = {"people": _stage(store, "an_people", run_id, AN_PEOPLE_COLUMNS,
                               client.people(modified_since=since, modified_before=before))}

    actions = [a for kind in AN_ACTION_TYPES for a in client.actions(kind, modified_before=before)]
    counts["actions"] = _stage(store, "an_actions", run_id, AN_ACTION_COLUMNS, actions)

    takers = [a for a in actions if a["action_type"] in AN_PARTICIPATION_TYPES]

    def read(action: dict[str, Any]) -> list[dict[str, Any]]:
        return list(client.participations(action["action_type"], action["an_id"],
                                          modified_since=since, modified_before=before))

    # One collection per action: read them side by side under the client's shared rate limit.
    with ThreadPoolExecutor(max_workers=max(1, getattr(client, "concurrency", 4))) as pool:
        participations = itertools.chain.from_iterable(pool.map(read, takers))
        counts["participations"] = _stage(store, "an_participations", run_id,
                                          AN_PARTICIPATION_COLUMNS, participations)

    counts["donations"] = _stage(store, "an_donations", run_id, AN_DONATION_COLUMNS,
                                 client.donations(modified_since=since, modified_before=before))
    store.record_extract(run_id, "actionnetwork", window.start, window.end, counts)
    return counts
