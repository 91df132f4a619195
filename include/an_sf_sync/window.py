"""Which changes a run reads: its extract window.

A run reads ``[min(data interval start, committed watermark) - overlap, end)`` where ``end`` is the
data interval's end (or ``run_after`` for a manual run with no logical date), but never later than
the moment the extract starts: a run for an hour that has not finished yet must not commit a
watermark in the future. Consequences:

- the first run (no watermark yet) is a full extract;
- a failed, paused or skipped hour loses nothing: the window reaches back to the watermark, which
  only advances when a run finishes;
- a backfill of old hours reads its own (old) window; the watermark never moves back;
- ``overlap`` re-reads a few minutes before the window to absorb clock skew and late commits; the
  reconcile step makes reading a change twice harmless.

Bounds are whole seconds, the precision of SOQL datetimes, so both sides read the same window.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Window:
    start: datetime | None  # None: full extract
    end: datetime

    @property
    def full(self) -> bool:
        return self.start is None

    def describe(self) -> str:
        start = "the beginning" if self.start is None else self.start.isoformat()
        return f"[{start}, {self.end.isoformat()})"


def extract_window(*, interval_start: datetime | None, interval_end: datetime | None,
                   run_after: datetime, watermark: datetime | None, now: datetime,
                   overlap: timedelta = timedelta(minutes=5)) -> Window:
    end = min(interval_end or run_after, now).replace(microsecond=0)
    if watermark is None:
        return Window(None, end)
    start = watermark if interval_start is None else min(interval_start, watermark)
    return Window(min(start - overlap, end).replace(microsecond=0), end)
