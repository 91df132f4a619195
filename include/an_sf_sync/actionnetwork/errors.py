"""Errors the Action Network client raises.

Every message names the request (method and endpoint, relative to the base URL) and Action
Network's own error text, and never the API key: the key travels in a header, never in a URL.
"""

from __future__ import annotations


class ActionNetworkError(Exception):
    """Any failure talking to Action Network."""

    def __init__(self, message: str, *, status: int | None = None, endpoint: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.endpoint = endpoint


class ActionNetworkAuthError(ActionNetworkError):
    """The API key was rejected (401/403). Never retried: a bad key does not heal."""


class ActionNetworkNotFoundError(ActionNetworkError):
    """404, whether Action Network answered it in JSON or as an HTML page."""


class ActionNetworkRequestError(ActionNetworkError):
    """400 and other 4xx: Action Network refused the request as sent."""


class ActionNetworkUnavailableError(ActionNetworkError):
    """429, 5xx, timeouts or connection failures that outlasted every retry."""
