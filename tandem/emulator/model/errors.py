"""Errors the emulated org raises, each carrying the HTTP status and Salesforce errorCode it renders as.

The wire layers render these once per format (REST JSON list, SOAP fault, Bulk result row).
"""

from __future__ import annotations


class ApiError(Exception):
    """An error Salesforce would answer with: status, errorCode, message, fields."""

    status = 400
    error_code = "UNKNOWN_EXCEPTION"

    def __init__(
        self,
        message: str,
        *,
        error_code: str | None = None,
        fields: list[str] | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if error_code is not None:
            self.error_code = error_code
        if status is not None:
            self.status = status
        self.fields = list(fields or [])
        self.also: list[ApiError] = []
        """Further errors of the same failed save (every validation rule that fired, not only the first)."""

    def each(self) -> list[ApiError]:
        """This error and the ones reported with it, in order."""
        return [self, *self.also]

    def as_dict(self) -> dict:
        """The REST error body entry: {"message", "errorCode", "fields"}."""
        return {"message": self.message, "errorCode": self.error_code, "fields": self.fields}


class DuplicateValue(ApiError):
    """A unique field's value already on another record. Salesforce names the field only in the
    message (`fields` is empty on the wire); `field_name` keeps it for the org file's loader."""

    error_code = "DUPLICATE_VALUE"

    def __init__(self, field_name: str, other_id: str) -> None:
        super().__init__(f"duplicate value found: {field_name} duplicates value on record with id: {other_id}")
        self.field_name = field_name


class InvalidSession(ApiError):
    status = 401
    error_code = "INVALID_SESSION_ID"


class LimitExceeded(ApiError):
    status = 403
    error_code = "REQUEST_LIMIT_EXCEEDED"


class NotFound(ApiError):
    status = 404
    error_code = "NOT_FOUND"


class MalformedQuery(ApiError):
    error_code = "MALFORMED_QUERY"


class InvalidField(ApiError):
    error_code = "INVALID_FIELD"


class InvalidType(ApiError):
    error_code = "INVALID_TYPE"


class AuthError(Exception):
    """An OAuth token request refused: rendered as {"error", "error_description"} with status 400."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status
