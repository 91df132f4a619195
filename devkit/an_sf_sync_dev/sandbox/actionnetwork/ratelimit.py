"""Action Network's request limit and the emulator's request counters."""

from __future__ import annotations

import threading
import time
from collections import Counter, deque
from typing import Any


class RateLimiter:
    """At most ``rate`` requests per API key whose arrival falls in any rolling 1.0 s window.

    Refused requests do not consume quota, so a client that backs off is never starved.
    ``rate`` 0 turns the limit off.
    """

    window = 1.0

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self._arrivals: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str, arrival: float | None = None) -> bool:
        if self.rate <= 0:
            return True
        at = time.monotonic() if arrival is None else arrival
        with self._lock:
            arrivals = self._arrivals.setdefault(key, deque())
            while arrivals and arrivals[0] <= at - self.window:
                arrivals.popleft()
            if len(arrivals) >= self.rate:
                return False
            arrivals.append(at)
            return True

    def reset(self) -> None:
        with self._lock:
            self._arrivals.clear()


class Stats:
    """Requests served, by ``"<METHOD> <resource family>"`` (e.g. ``"GET people/submissions"``), and 429s."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: Counter[str] = Counter()
        self.throttled = 0

    def record(self, method: str, family: str, status: int) -> None:
        with self._lock:
            self.requests[f"{method} {family}"] += 1
            if status == 429:
                self.throttled += 1

    @property
    def total(self) -> int:
        return sum(self.requests.values())

    def count(self, method: str | None = None, family: str | None = None) -> int:
        """Requests matching the method and/or family (None: any)."""
        with self._lock:
            return sum(n for key, n in self.requests.items()
                       if (method is None or key.split(" ", 1)[0] == method)
                       and (family is None or key.split(" ", 1)[1] == family))

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {"requests": dict(self.requests), "total": sum(self.requests.values()),
                    "throttled": self.throttled}

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self.throttled = 0
