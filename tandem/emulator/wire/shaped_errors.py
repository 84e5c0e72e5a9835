"""An error answered outside any handler (unknown path, undecodable body) in the shape of the API the
path falls under: REST's JSON list, Bulk API 1.0's `<error>`, a SOAP fault, OAuth's JSON."""

from __future__ import annotations

import json

from starlette.responses import Response

from tandem.emulator.model.errors import ApiError

from tandem.emulator.wire import async_formats
from tandem.emulator.wire.replies import error_reply, to_response
from tandem.emulator.wire.soap_xml import XML_TYPE, fault

_SOAP_CODES = {"INVALID_CONTENT_ENCODING": "INVALID_XML", "UNSUPPORTED_MEDIA_TYPE": "INVALID_XML"}
_OAUTH_ERRORS = {404: "not_found", 405: "method_not_allowed", 415: "unsupported_media_type"}


def api_of(path: str) -> str:
    """`rest`, `async`, `soap` or `oauth`: which API a path belongs to (REST for anything else)."""
    lowered = path.lower()
    if lowered.startswith("/services/async"):
        return "async"
    if lowered.startswith("/services/soap"):
        return "soap"
    if lowered.startswith("/services/oauth2"):
        return "oauth"
    return "rest"


def shaped_error(path: str, status: int, error_code: str, message: str, *, content_type: str | None = None) -> Response:
    """`error_code` is REST's (`NOT_FOUND`, ...); each API renders it in its own vocabulary."""
    api = api_of(path)
    if api == "async":
        reply = async_formats.error_reply(ApiError(message, error_code=error_code, status=status),
                                          async_formats.wants_json(content_type))
        return to_response(reply)
    if api == "soap":  # a SOAP fault: HTTP 500 but for a path that does not exist, a body never read as XML
        if status not in (404, 405):
            status, error_code = 500, _SOAP_CODES.get(error_code, error_code)
        return Response(fault(error_code, message).encode("utf-8"), status_code=status, media_type=XML_TYPE)
    if api == "oauth":
        body = {"error": _OAUTH_ERRORS.get(status, "invalid_request"), "error_description": message}
        return Response(json.dumps(body).encode("utf-8"), status_code=status, media_type="application/json")
    return to_response(error_reply(ApiError(message, error_code=error_code, status=status)))
