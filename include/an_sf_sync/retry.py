"""The one retry policy of both API clients: which failures earn another try, how many, how long apart.

Each client knows what its API's answers mean and reduces a failure to a :class:`Verdict`; this
module decides the rest, the same way for both:

- A failure of the connection itself: a connect timeout never reached the server (retry); a
  dropped connection, a read timeout or a body broken off mid-stream may have come after the
  server acted (retry only a request that is safe to repeat). A TLS error is a certificate or CA
  problem that does not heal: never retried.
- HTTP 429 means the server did nothing (retry); other 5xx may have come after it acted (retry if
  safe). Each client adds what its API documents (Salesforce's error codes, its 503).
- ``attempts`` counts the first try. Waits double from ``base`` up to ``cap`` with "equal
  jitter": half the wait is fixed, half random, so parallel workers spread out while the retries
  still span a known minimum time (full jitter may spend every retry within milliseconds of a
  short outage). A ``Retry-After`` the server sends wins over the formula.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from enum import Enum

import requests


class Verdict(Enum):
    FAIL = "fail"          # not transient: raise as is
    LIMIT = "limit"        # an allowance (Salesforce's daily API limit) is used up: stop cleanly
    RELOGIN = "relogin"    # the session expired: log in again, then retry
    RETRY = "retry"        # transient, and the server surely did not act: wait, then retry
    RETRY_IF_SAFE = "retry_if_safe"  # transient, but the server may have acted: only idempotent calls


@dataclass(frozen=True)
class RetryPolicy:
    """``attempts`` tries in all; the n-th retry waits ``uniform(c / 2, c)``, ``c = min(cap, base * 2**n)``."""

    attempts: int = 6
    base: float = 0.5
    cap: float = 30.0

    def delay(self, retry: int, retry_after: float | None = None) -> float:
        """Seconds to wait before retry number ``retry`` (0 for the first), or as long as the server asked."""
        if retry_after is not None:
            return retry_after
        ceiling = min(self.cap, self.base * 2 ** retry)
        return ceiling / 2 + random.uniform(0, ceiling / 2)

    def allows(self, verdict: Verdict, tries: int, *, idempotent: bool = True) -> bool:
        """Whether a call that failed ``tries`` times, the last with ``verdict``, may be tried again."""
        if tries >= self.attempts:
            return False
        return (verdict in (Verdict.RETRY, Verdict.RELOGIN)
                or (verdict is Verdict.RETRY_IF_SAFE and idempotent))


DEFAULT_RETRY = RetryPolicy()


def transport_verdict(exc: BaseException) -> Verdict | None:
    """The verdict on a failure of the connection itself; None for any other exception."""
    if isinstance(exc, requests.exceptions.SSLError):
        return Verdict.FAIL
    if isinstance(exc, requests.ConnectTimeout):
        return Verdict.RETRY
    if isinstance(exc, requests.ConnectionError | requests.Timeout | requests.exceptions.ChunkedEncodingError):
        return Verdict.RETRY_IF_SAFE
    return None


def status_verdict(status: int) -> Verdict:
    """The verdict on an HTTP error status, by what HTTP itself says of it."""
    if status == 429:
        return Verdict.RETRY
    if status >= 500:
        return Verdict.RETRY_IF_SAFE
    return Verdict.FAIL


def retry_after(value: str | None) -> float | None:
    """A ``Retry-After`` header (seconds, or an HTTP date) as seconds to wait; None when absent or unreadable."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
