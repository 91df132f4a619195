"""Errors of the sync itself (as opposed to either API's), importable without heavy dependencies."""


class SetupError(Exception):
    """The orgs are not ready for the sync; the message lists what an admin must fix."""


class UnknownOutcome(Exception):
    """A write that Action Network does not deduplicate got no answer: it may or may not have happened.

    Raised once everything else is done, so the task fails and Airflow retries it; its plan rows
    stay ``attempting``, and the rerun looks each write up by its identifier before sending it again.
    """
