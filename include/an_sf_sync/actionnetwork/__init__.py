"""Action Network: a paced, concurrent REST client, its records, and the Airflow hook (``.hook``).

The hook lives in its own module so that importing the client never imports Airflow.
"""

from .client import DEFAULT_BASE_URL, PAGE_SIZE, ActionNetworkClient
from .errors import (
    ActionNetworkAuthError,
    ActionNetworkError,
    ActionNetworkNotFoundError,
    ActionNetworkRequestError,
    ActionNetworkUnavailableError,
)

__all__ = [
    "DEFAULT_BASE_URL",
    "PAGE_SIZE",
    "ActionNetworkAuthError",
    "ActionNetworkClient",
    "ActionNetworkError",
    "ActionNetworkNotFoundError",
    "ActionNetworkRequestError",
    "ActionNetworkUnavailableError",
]
