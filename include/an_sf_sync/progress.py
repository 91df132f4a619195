"""Progress lines for long extracts and loads: records done, rate, and time left when the total is known."""

from __future__ import annotations

import logging
import time

log = logging.getLogger(__name__)


class Progress:
    """Call with the running count; logs at most every ``every`` seconds (and never for short jobs)."""

    def __init__(self, what: str, total: int | None = None, every: float = 30.0) -> None:
        self.what, self.total, self.every = what, total, every
        self.started = self.last = time.monotonic()

    def __call__(self, done: int) -> None:
        now = time.monotonic()
        if now - self.last < self.every:
            return
        self.last = now
        rate = done / max(now - self.started, 1e-9)
        if self.total:
            left = (self.total - done) / rate if rate else float("inf")
            log.info("%s: %d of %d done (%.0f%%), %.1f/s, about %s left", self.what, done, self.total,
                     100 * done / self.total, rate, _duration(left))
        else:
            log.info("%s: %d done, %.1f/s", self.what, done, rate)


def _duration(seconds: float) -> str:
    if seconds == float("inf"):
        return "an unknown time"
    minutes, seconds = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{seconds:02d}s"
