"""The last line of error handling: an exception no route rendered answers as Salesforce answers one.

REST and identity calls get UNKNOWN_EXCEPTION with an ErrorId, SOAP calls a fault, the OAuth token
endpoint `unknown_error`, the control routes a plain JSON error; the same ErrorId goes to the log.
Starlette's own server-error middleware would answer plain text and then re-raise, which makes
uvicorn drop the connection; this one sits inside it and does neither.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
from typing import Any

from starlette.requests import ClientDisconnect

from tandem.emulator.wire.soap_xml import XML_TYPE, fault

log = logging.getLogger("tandem.emulator")
_ERROR_IDS = itertools.count(1)
_PREFIX = int.from_bytes(os.urandom(4), "big") % 10**9


def error_id() -> str:
    """Shaped like Salesforce's: `1234567890-12345 (-1234567890)`."""
    number = next(_ERROR_IDS)
    return f"{_PREFIX}-{number} ({-(_PREFIX + number)})"


def unknown_exception_message(reference: str) -> str:
    return f"An unexpected error occurred. Please include this ErrorId if you contact support: {reference}"


def _rendered(path: str, reference: str) -> tuple[int, bytes, str]:
    if path.startswith("/services/Soap/"):
        return 500, fault("UNKNOWN_EXCEPTION", unknown_exception_message(reference)).encode(), XML_TYPE
    if path.startswith("/services/oauth2/token"):
        body: Any = {"error": "unknown_error", "error_description": "retry your request"}
    elif path.startswith("/_emulator/"):
        body = {"error": f"internal error {reference}"}
    else:
        body = [{"message": unknown_exception_message(reference), "errorCode": "UNKNOWN_EXCEPTION"}]
    return 500, json.dumps(body).encode(), "application/json;charset=UTF-8"


class InternalErrorMiddleware:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: dict) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except ClientDisconnect:
            return  # the caller hung up before its body arrived: no one to answer, nothing went wrong here
        except Exception:
            if started:
                raise
            reference = error_id()
            log.exception("unexpected error %s serving %s %s", reference, scope.get("method"), scope.get("path"))
            status, body, content_type = _rendered(scope.get("path", ""), reference)
            await send({"type": "http.response.start", "status": status, "headers": [
                (b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})
