"""The response envelope every `/rest` call answers with, and the error that renders as one.

Response-level errors are HTTP 200 with `success: false` and string codes (marketorestpython
compares codes as strings); record-level errors travel inside `result[].reasons`.
"""

from __future__ import annotations

import itertools
import json
import os
import time
from typing import Any

from pydantic import BaseModel, Field
from starlette.responses import Response
from starlette.types import Receive, Scope, Send


class ApiError(BaseModel):
    code: str = Field(description="Marketo error code, a quoted integer such as \"601\"")
    message: str


class Envelope(BaseModel):
    """Marketo's REST envelope; `errors` is non-empty exactly when `success` is false."""

    requestId: str
    success: bool
    result: list[dict[str, Any]] = Field(default_factory=list)
    errors: list[ApiError] = Field(default_factory=list)
    warnings: list[Any] = Field(default_factory=list)
    nextPageToken: str | None = None
    moreResult: bool | None = None


class ApiFailure(Exception):
    """A response-level error: the whole request failed and nothing was written."""

    def __init__(self, code: str, message: str, http_status: int = 200) -> None:
        super().__init__(f"{code} {message}")
        self.code = code
        self.message = message
        self.http_status = http_status


class Codes:
    """The Marketo codes Tandem answers with (MARKETO-API §4)."""

    TOKEN_INVALID = "601"
    TOKEN_EXPIRED = "602"
    METHOD_NOT_SUPPORTED = "605"
    RATE_LIMIT = "606"
    DAILY_QUOTA = "607"
    INVALID_JSON = "609"
    NOT_FOUND = "610"
    SYSTEM_ERROR = "611"
    CONTENT_TYPE = "612"
    CONCURRENCY_LIMIT = "615"
    TRANSIENT = "713"
    BLANK = "701"
    INVALID_VALUE = "1001"
    MISSING_VALUE = "1002"
    INVALID_DATA = "1003"
    LEAD_NOT_FOUND = "1004"
    LEAD_EXISTS = "1005"
    FIELD_NOT_FOUND = "1006"
    MULTIPLE_MATCHES = "1007"
    FIELD_NOT_SUPPORTED = "1011"
    DUPLICATE_IN_INPUT = "1036"
    MERGE_LIMIT = "1080"


_PREFIX = os.urandom(2).hex()
_SEQUENCE = itertools.count()


def request_id() -> str:
    """Shaped like Marketo's: a short hex token, `#`, a hex millisecond clock plus a sequence."""
    return f"{_PREFIX}{next(_SEQUENCE) % 4096:03x}#{int(time.time() * 1000):x}"


def _dumps(body: dict[str, Any]) -> bytes:
    """UTF-8 JSON; text holding a lone surrogate (echoed from a request) goes out `\\u`-escaped."""
    try:
        return json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
    except UnicodeEncodeError:
        return json.dumps(body, ensure_ascii=True, separators=(",", ":"), allow_nan=False).encode()


def success(
    result: list[dict[str, Any]] | None = None,
    *,
    next_page_token: str | None = None,
    more_result: bool | None = None,
    include_result: bool = True,
) -> Response:
    body: dict[str, Any] = {"requestId": request_id(), "success": True}
    if include_result:
        body["result"] = result or []
    body["errors"] = []
    body["warnings"] = []
    if next_page_token is not None:
        body["nextPageToken"] = next_page_token
    if more_result is not None:
        body["moreResult"] = more_result
    return Response(_dumps(body), media_type="application/json")


RESPONSE_LEVEL_ERROR = "response_level_error"
"""The key under the request's `state` set once a call is answered with a response-level error."""


class FailureResponse(Response):
    """A response-level error; it marks the request so that the call does not count against the
    client's rate window (MARKETO-API §7)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope.setdefault("state", {})[RESPONSE_LEVEL_ERROR] = True
        await super().__call__(scope, receive, send)


def failure(code: str, message: str, http_status: int = 200) -> Response:
    body = {
        "requestId": request_id(),
        "success": False,
        "result": [],
        "errors": [{"code": code, "message": message}],
        "warnings": [],
    }
    return FailureResponse(_dumps(body), status_code=http_status, media_type="application/json")


def reason(code: str, message: str) -> dict[str, str]:
    return {"code": code, "message": message}
