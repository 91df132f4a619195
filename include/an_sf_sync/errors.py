"""Errors of the sync itself (as opposed to either API's), importable without heavy dependencies."""


class SetupError(Exception):
    """The orgs are not ready for the sync; the message lists what an admin must fix."""
