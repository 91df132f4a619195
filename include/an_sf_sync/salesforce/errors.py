"""Errors the Salesforce client raises.

Messages name the Airflow connection and say what to fix; they never contain the password or
security token (simple-salesforce's own login errors do not either, but ours are built from the
error code and Salesforce's message only, to be sure).
"""

from __future__ import annotations


class SalesforceSyncError(Exception):
    """Any failure of the sync's Salesforce client that is not a plain simple-salesforce error."""


class SalesforceAuthError(SalesforceSyncError):
    """Salesforce refused the login. Never retried: wrong credentials do not heal."""


class SalesforceLoginUnavailableError(SalesforceSyncError):
    """Salesforce could not answer a login (an outage, not a refusal); retried like any transient error."""


class SalesforceApiLimitError(SalesforceSyncError):
    """The org's daily API request limit is used up (``REQUEST_LIMIT_EXCEEDED``).

    Retrying would only burn more of the allowance, so the run stops here. Nothing is lost: the
    watermark has not moved, so the next run (once the rolling 24-hour allowance frees up)
    re-reads the same window.
    """


class SalesforceBulkJobError(SalesforceSyncError):
    """A Bulk API 2.0 job ended ``Failed`` or ``Aborted`` (a job-level failure, not a row's)."""

    def __init__(self, message: str, *, job_id: str, state: str) -> None:
        super().__init__(message)
        self.job_id, self.state = job_id, state
