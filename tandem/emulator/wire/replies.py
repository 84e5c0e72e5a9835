"""What a data-API handler returns, and the one place REST errors become JSON bodies.

Handlers return a `Reply` rather than a Starlette response so that `composite` and
`composite/batch` can run them in process and embed their bodies.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from starlette.responses import Response

from tandem.emulator.model.errors import ApiError

JSON_TYPE = "application/json;charset=UTF-8"

# Salesforce leaves `fields` out of session, limit and routing errors.
_NO_FIELDS_STATUSES = {300, 401, 403, 404, 405, 409, 412, 414, 415, 500, 503}


@dataclass
class Reply:
    """A handler's answer: status, a JSON-ready body (None for no body), extra headers."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None  # a non-JSON body (Bulk CSV); `headers` then carries its content type


def error_entry(exc: ApiError) -> dict:
    """One REST error object: {"message", "errorCode"[, "fields"]}."""
    entry = {"message": exc.message, "errorCode": exc.error_code}
    if exc.status not in _NO_FIELDS_STATUSES:
        entry["fields"] = list(exc.fields)
    return entry


def error_reply(exc: ApiError) -> Reply:
    """The REST rendering of an ApiError: a JSON array (one entry per error) with the error's status."""
    return Reply(exc.status, [error_entry(each) for each in exc.each()])


def status_error(status: int, error_code: str, message: str) -> ApiError:
    """An ApiError for wire-level conditions (routing, parsing) that the model never raises."""
    return ApiError(message, error_code=error_code, status=status)


def dumps(body: Any) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def to_response(reply: Reply) -> Response:
    """Turn a Reply into a Starlette response (JSON unless the handler gave raw bytes)."""
    headers = dict(reply.headers)
    if reply.raw is not None:
        return Response(reply.raw, status_code=reply.status, headers=headers)
    if reply.body is None and reply.status in (204, 304):
        return Response(b"", status_code=reply.status, headers=headers)
    headers.setdefault("content-type", JSON_TYPE)
    content = b"" if reply.body is None else dumps(reply.body)
    return Response(content, status_code=reply.status, headers=headers)
