"""Which Salesforce failures are worth another try, and how long to wait before it.

- ``REQUEST_LIMIT_EXCEEDED`` for the daily allowance: stop (:class:`.SalesforceApiLimitError`), no
  retry. The concurrency flavour of the same code (``ConcurrentPerOrgLongTxn``) clears in seconds,
  so it is retried like any transient error.
- An expired session (401 ``INVALID_SESSION_ID``, or Bulk 1.0's ``InvalidSessionId``): log in
  again, then retry. simple-salesforce refreshes REST calls itself after a password login, but
  never on the Bulk paths, nor for a session it was handed.
- ``UNABLE_TO_LOCK_ROW``, ``API_TEMPORARILY_UNAVAILABLE`` (400 or 500, both are seen), any 5xx,
  timeouts and dropped connections: retry.
- A failed login is a refusal of the credentials only when Salesforce says so with a fault code
  (SOAP ``INVALID_LOGIN``, OAuth ``invalid_grant`` …; real Salesforce sends SOAP faults with HTTP
  500). An answer without one (an HTML 502, a 503 while the login servers are down, whose HTTP
  status simple-salesforce then passes as the code) or with an outage code is an outage: retried.

Waits grow exponentially with full jitter (so parallel workers do not retry in lock-step) up to a
cap, for a bounded number of attempts. A request that is not safe to repeat (a record insert) is
retried only when Salesforce surely did not act on it: a lock timeout, an expired session, 503,
or a connection that was never made.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import Enum

import requests
from simple_salesforce.exceptions import SalesforceAuthenticationFailed, SalesforceError

TRANSIENT_CODES = frozenset({"UNABLE_TO_LOCK_ROW", "API_TEMPORARILY_UNAVAILABLE", "SERVER_UNAVAILABLE"})
_SESSION_CODES = frozenset({"INVALID_SESSION_ID", "InvalidSessionId"})
_DAILY_LIMIT_CODE = "REQUEST_LIMIT_EXCEEDED"
# Login answers that mean "try later", not "wrong credentials" (SOAP fault codes, OAuth error codes)
_LOGIN_OUTAGE_CODES = frozenset({"SERVER_UNAVAILABLE", "API_TEMPORARILY_UNAVAILABLE", "UNKNOWN_EXCEPTION",
                                 "server_error", "temporarily_unavailable"})


class Verdict(Enum):
    FAIL = "fail"          # not transient: raise as is
    LIMIT = "limit"        # daily API allowance used up: stop cleanly
    RELOGIN = "relogin"    # session expired: log in again, then retry
    RETRY = "retry"        # transient: wait, then retry
    RETRY_IF_SAFE = "retry_if_safe"  # transient, but the server may have acted: only idempotent calls


@dataclass(frozen=True)
class RetryPolicy:
    """``attempts`` counts the first try; delays are ``uniform(0, min(cap, base * 2**n))``."""

    attempts: int = 5
    base: float = 0.5
    cap: float = 30.0

    def delay(self, retry: int) -> float:
        return random.uniform(0, min(self.cap, self.base * 2 ** retry))


def error_codes(exc: SalesforceError) -> list[str]:
    """The ``errorCode``/``exceptionCode`` values in a simple-salesforce error's parsed body."""
    content = exc.content
    items = content if isinstance(content, list) else [content]
    return [str(item.get("errorCode") or item.get("exceptionCode") or item.get("statusCode"))
            for item in items if isinstance(item, dict)]


def _message(exc: SalesforceError) -> str:
    content = exc.content
    items = content if isinstance(content, list) else [content]
    return " ".join(str(item.get("message", "")) for item in items if isinstance(item, dict))


def login_refused(exc: SalesforceAuthenticationFailed) -> bool:
    """Whether a failed login refused the credentials (as opposed to Salesforce being unavailable)."""
    return isinstance(exc.code, str) and bool(exc.code) and exc.code not in _LOGIN_OUTAGE_CODES


def classify(exc: BaseException) -> Verdict:
    if isinstance(exc, requests.ConnectionError) and not isinstance(exc, requests.ReadTimeout):
        # ConnectTimeout and refused connections never reached Salesforce; a dropped connection
        # may have, which RETRY_IF_SAFE expresses.
        return Verdict.RETRY if isinstance(exc, requests.ConnectTimeout) else Verdict.RETRY_IF_SAFE
    if isinstance(exc, requests.Timeout):
        return Verdict.RETRY_IF_SAFE
    if not isinstance(exc, SalesforceError):
        return Verdict.FAIL
    if isinstance(exc, SalesforceAuthenticationFailed):  # simple-salesforce's own re-login failed
        return Verdict.RELOGIN if login_refused(exc) else Verdict.RETRY
    codes = set(error_codes(exc))
    if _DAILY_LIMIT_CODE in codes:
        return Verdict.RETRY if "Concurrent" in _message(exc) else Verdict.LIMIT
    if exc.status == 401 or codes & _SESSION_CODES:
        return Verdict.RELOGIN
    if codes & TRANSIENT_CODES or exc.status == 503:
        return Verdict.RETRY
    if exc.status >= 500:
        return Verdict.RETRY_IF_SAFE
    return Verdict.FAIL
