"""Which Salesforce failures are worth another try, by what Salesforce's answers mean.

How many tries and how long between them is the sync's one policy (:mod:`an_sf_sync.retry`);
this module reduces a failure to its :class:`~an_sf_sync.retry.Verdict`:

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

A request that is not safe to repeat (a record insert) is retried only when Salesforce surely did
not act on it: a lock timeout, an expired session, 503, or a connection that was never made.
"""

from __future__ import annotations

from typing import Any

from simple_salesforce.exceptions import SalesforceAuthenticationFailed, SalesforceError

from an_sf_sync.retry import Verdict, status_verdict, transport_verdict

TRANSIENT_CODES = frozenset({"UNABLE_TO_LOCK_ROW", "API_TEMPORARILY_UNAVAILABLE", "SERVER_UNAVAILABLE"})
_SESSION_CODES = frozenset({"INVALID_SESSION_ID", "InvalidSessionId"})
_DAILY_LIMIT_CODE = "REQUEST_LIMIT_EXCEEDED"
# Login answers that mean "try later", not "wrong credentials" (SOAP fault codes, OAuth error codes)
_LOGIN_OUTAGE_CODES = frozenset({"SERVER_UNAVAILABLE", "API_TEMPORARILY_UNAVAILABLE", "UNKNOWN_EXCEPTION",
                                 "server_error", "temporarily_unavailable"})


def error_codes(exc: SalesforceError) -> list[str]:
    """The ``errorCode``/``exceptionCode`` values in a simple-salesforce error's parsed body."""
    content = exc.content
    items: list[Any] = content if isinstance(content, list) else [content]
    return [str(item.get("errorCode") or item.get("exceptionCode") or item.get("statusCode"))
            for item in items if isinstance(item, dict)]


def _message(exc: SalesforceError) -> str:
    content = exc.content
    items: list[Any] = content if isinstance(content, list) else [content]
    return " ".join(str(item.get("message", "")) for item in items if isinstance(item, dict))


def login_refused(exc: SalesforceAuthenticationFailed) -> bool:
    """Whether a failed login refused the credentials (as opposed to Salesforce being unavailable)."""
    return isinstance(exc.code, str) and bool(exc.code) and exc.code not in _LOGIN_OUTAGE_CODES


def classify(exc: BaseException) -> Verdict:
    """The verdict on one failed call to Salesforce (REST, Bulk or a re-login)."""
    transport = transport_verdict(exc)
    if transport is not None:
        return transport
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
    return status_verdict(exc.status)
