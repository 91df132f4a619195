"""Error shapes of the emulated API, and the bodies the fault knobs send."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..http import Response

INVALID_SESSION = [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
LIMIT_EXCEEDED = [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]

# fault kind -> (default status, JSON body)
FAULT_BODIES: dict[str, tuple[int, Any]] = {
    "UNABLE_TO_LOCK_ROW": (400, [{"message": "unable to obtain exclusive access to this record or 1 records",
                                  "errorCode": "UNABLE_TO_LOCK_ROW", "fields": []}]),
    "REQUEST_LIMIT_EXCEEDED": (403, LIMIT_EXCEEDED),
    "SERVER_ERROR": (500, [{"message": "An unexpected error occurred. Please include this ErrorId if you "
                                       "contact support: 1234567890-12345 (-1234567890)",
                            "errorCode": "UNKNOWN_EXCEPTION"}]),
    "SERVER_UNAVAILABLE": (503, [{"message": "Server temporarily unavailable", "errorCode": "SERVER_UNAVAILABLE"}]),
    "INVALID_SESSION_ID": (401, INVALID_SESSION),
}


class SfError(Exception):
    """A Salesforce error: REST list item, SaveResult error and Bulk 2.0 error cell from one place."""

    def __init__(self, code: str, message: str, fields: Iterable[str] = (), status: int = 400,
                 extra: dict[str, Any] | None = None, about_record: bool = True) -> None:
        super().__init__(f"{code}: {message}")
        self.code, self.message, self.fields = code, message, list(fields)
        self.status, self.extra = status, extra or {}
        self.about_record = about_record  # False: a request-level error, whose REST body names no fields

    def rest(self) -> dict[str, Any]:
        fields = {"fields": self.fields} if self.about_record else {}
        return {"message": self.message, "errorCode": self.code, **fields, **self.extra}

    def save_error(self) -> dict[str, Any]:
        return {"statusCode": self.code, "message": self.message, "fields": self.fields, **self.extra}

    def bulk_cell(self) -> str:
        return f"{self.code}:{self.message}:{','.join(self.fields) or '--'}"


def not_found() -> SfError:
    return SfError("NOT_FOUND", "The requested resource does not exist", status=404, about_record=False)




def sf_error_response(error: SfError) -> Response:
    return Response.json([error.rest()], error.status)
