"""What every authenticated API request does first: find the session, check the version, count the call.

An `ApiCall` is what data-API handlers receive instead of a Starlette request, so the same
handlers serve direct requests and the subrequests of `composite` and `composite/batch`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Mapping

from tandem.emulator.model.errors import ApiError, InvalidSession

from tandem.emulator.wire.replies import status_error

if TYPE_CHECKING:
    from tandem.emulator.model import Org, UserContext

_VERSION_RE = re.compile(r"^v(\d+)\.(\d+)$")
MIN_VERSION = (20, 0)


@dataclass
class ApiCall:
    """One authenticated request: the org, the caller's user context and the API version asked for."""

    org: "Org"
    ctx: "UserContext"
    token: str
    version: str  # without the leading "v", e.g. "62.0"
    headers: Mapping[str, str] = field(default_factory=dict)
    base_url: str = ""  # https://host:port, for absolute URLs such as the identity URL
    record_faults: Callable[[str], str | None] | None = None
    """Draws an injected failure for one record of a collection call (`fault_plans.py`), if any."""

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name.lower(), default)


def bearer_token(headers: Mapping[str, str]) -> str:
    """The access token from `Authorization: Bearer ...` (also `OAuth ...`), or raise INVALID_SESSION_ID."""
    value = headers.get("authorization", "")
    scheme, _, token = value.partition(" ")
    if scheme.lower() not in ("bearer", "oauth") or not token.strip():
        raise InvalidSession("Session expired or invalid")
    return token.strip()


def parse_version(org: "Org", segment: str) -> str:
    """The API version in a `vNN.N` path segment; unknown or newer than the org → 404 NOT_FOUND."""
    if segment.lower() == "latest":
        return org.api_version
    match = _VERSION_RE.match(segment)
    if not match:
        raise status_error(404, "NOT_FOUND", "The requested resource does not exist")
    wanted = (int(match.group(1)), int(match.group(2)))
    newest = tuple(int(part) for part in org.api_version.split("."))
    if wanted < MIN_VERSION or wanted > newest:
        raise status_error(404, "NOT_FOUND", "The requested resource does not exist")
    return f"{wanted[0]}.{wanted[1]}"


def open_call(org: "Org", headers: Mapping[str, str], version: str, base_url: str) -> ApiCall:
    """Authenticate, then count the call against the daily limit (both raise ApiError)."""
    token = bearer_token(headers)
    ctx = org.context(token)
    org.count_api_call()
    return ApiCall(org=org, ctx=ctx, token=token, version=version, headers=headers, base_url=base_url)


def require_json_object(body: Any, what: str = "request body") -> dict:
    if not isinstance(body, dict):
        raise ApiError(f"The {what} must be a JSON object", error_code="JSON_PARSER_ERROR")
    return body
