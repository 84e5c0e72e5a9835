"""Turn Salesforce error answers into Tandem's typed errors (see `tandem.errors` for the tree)."""

from __future__ import annotations

import json
from typing import Any

from tandem.errors import (
    LimitExceeded,
    RecordRejected,
    SalesforceError,
    SessionExpired,
    TransientError,
)

RETRYABLE_CODES = frozenset({"UNABLE_TO_LOCK_ROW", "SERVER_UNAVAILABLE", "UNKNOWN_EXCEPTION"})
NOT_RECORD_CODES = frozenset(
    {"MALFORMED_QUERY", "INVALID_TYPE", "INVALID_QUERY_LOCATOR", "INVALID_SESSION_ID", "NOT_FOUND", "JSON_PARSER_ERROR"}
)


def first_error(content: Any) -> dict[str, Any]:
    """The first `{"message","errorCode","fields"}` of an error body (bytes, str, list or dict)."""
    if isinstance(content, (bytes, str)):
        try:
            content = json.loads(content)
        except ValueError:
            text = content.decode("utf-8", "replace") if isinstance(content, bytes) else content
            return {"message": text[:500] or "no message", "errorCode": None, "fields": []}
    if isinstance(content, list) and content:
        content = content[0]
    if isinstance(content, dict):
        return {
            "message": str(content.get("message", "no message")),
            "errorCode": content.get("errorCode") or content.get("statusCode"),
            "fields": list(content.get("fields") or []),
        }
    return {"message": "no message", "errorCode": None, "fields": []}


def error_for(status: int | None, content: Any) -> SalesforceError:
    """The typed error for an HTTP status and Salesforce error body."""
    detail = first_error(content)
    code, message, fields = detail["errorCode"], detail["message"], detail["fields"]
    kwargs = {"status": status, "error_code": code, "fields": fields}
    if status == 401 or code == "INVALID_SESSION_ID":
        return SessionExpired(message, **kwargs)
    if code == "REQUEST_LIMIT_EXCEEDED":
        return LimitExceeded(message, **kwargs)
    if (status is not None and status >= 500) or code in RETRYABLE_CODES:
        return TransientError(message, **kwargs)
    if status == 400 and code and code not in NOT_RECORD_CODES:
        return RecordRejected(message, **kwargs)
    return SalesforceError(message, **kwargs)
