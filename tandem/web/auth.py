"""The identity endpoint (OAuth client-credentials grant) and where a call's token travels.

While a client's token lives, asking again returns the same token with its remaining lifetime.
Failed token requests are throttled per remote address and per client id (HTTP 429 with
Retry-After), and each refusal leaves one log line naming the client id and address, never the
secret.
"""

from __future__ import annotations

import logging
import math

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from tandem.web.envelope import ApiFailure
from tandem.web.parameters import form_params, media_type
from tandem.web.throttle import TokenGuard
from tandem.web.tokens import (
    DEFAULT_TOKEN_LIFETIME,
    ApiCredentials,
    TokenIssuer,
    TokenResponse,
)

__all__ = ["DEFAULT_TOKEN_LIFETIME", "ApiCredentials", "TokenIssuer", "TokenResponse", "identity", "token_from"]

log = logging.getLogger("tandem.web.auth")


class IdentityError(BaseModel):
    error: str
    error_description: str


def token_from(request: Request, form_token: str | None = None) -> str | None:
    """The token from `Authorization: Bearer`, the `access_token` query parameter or form field."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.query_params.get("access_token") or form_token


def remote_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def shown(text: str | None) -> str:
    """A caller-supplied name made safe for one log line."""
    if text is None:
        return "(none)"
    printable = "".join(c if c.isprintable() else "?" for c in text[:64])
    return repr(printable + ("..." if len(text) > 64 else ""))


def _client_named(client_id: str | None, known: bool) -> str:
    """A client id for the log: in full when it is one of ours; else only its start and length, as
    what a caller sent there may be its secret (id and secret swapped)."""
    if known or not client_id:
        return shown(client_id)
    return f"{shown(client_id[:4])}... ({len(client_id)} characters, unknown)"


identity = APIRouter(tags=["identity"])
_IDENTITY_RESPONSES = {
    401: {"model": IdentityError, "description": "Bad client credentials"},
    400: {"model": IdentityError, "description": "Unsupported grant type"},
    429: {"model": IdentityError, "description": "Too many failed token requests from this address or for this "
                                                 "client; retry after the seconds in Retry-After"},
}


def _refusal(status: int, error: str, description: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(IdentityError(error=error, error_description=description).model_dump(),
                        status_code=status, headers=headers)


def _token_endpoint(request: Request, grant_type: str | None, client_id: str | None,
                    client_secret: str | None) -> JSONResponse:
    issuer: TokenIssuer = request.app.state.tokens
    guard: TokenGuard = request.app.state.token_guard
    address = remote_address(request)
    known_id = client_id if client_id and issuer.knows(client_id) else None
    wait = guard.blocked(known_id, address)
    if wait is not None:
        log.warning("token request throttled: client id %s from %s", _client_named(client_id, known_id is not None),
                    address)
        seconds = max(1, math.ceil(wait))
        # `unauthorized` (not `too_many_requests`): Marketo clients only read the description of
        # `invalid_client` or `unauthorized`, and fail on a missing access_token otherwise
        return _refusal(429, "unauthorized",
                        "Too many failed token requests from this address or for this client id; "
                        f"try again in {seconds} s", headers={"Retry-After": str(seconds)})
    if grant_type != "client_credentials":
        return _refusal(400, "unsupported_grant_type", "grant_type must be client_credentials")
    credentials = issuer.authenticate(client_id or "", client_secret or "")
    if credentials is None:
        guard.failed(known_id, address)
        reason = "wrong secret" if known_id else "unknown client id"
        log.warning("token request refused (%s): client id %s from %s", reason,
                    _client_named(client_id, known_id is not None), address)
        return _refusal(401, "invalid_client", "Bad client credentials")
    return JSONResponse(issuer.issue(credentials).model_dump())


@identity.get("/identity/oauth/token", response_model=TokenResponse, responses=_IDENTITY_RESPONSES)
def get_token(
    request: Request,
    grant_type: str | None = Query(None),
    client_id: str | None = Query(None),
    client_secret: str | None = Query(None),
) -> JSONResponse:
    """Exchange client credentials for an access token (OAuth 2 client-credentials grant)."""
    return _token_endpoint(request, grant_type, client_id, client_secret)


@identity.post("/identity/oauth/token", response_model=TokenResponse, responses=_IDENTITY_RESPONSES)
async def post_token(
    request: Request,
    grant_type: str | None = Query(None),
    client_id: str | None = Query(None),
    client_secret: str | None = Query(None),
) -> JSONResponse:
    """The same exchange as POST, with the parameters in the query string or, as OAuth clients send
    them, in a url-encoded form body."""
    if media_type(request) == "application/x-www-form-urlencoded":
        try:
            form = await form_params(request)
        except ApiFailure:
            return _refusal(400, "invalid_request", "the form body is not UTF-8")
        grant_type = grant_type or next(iter(form.get("grant_type", [])), None)
        client_id = client_id or next(iter(form.get("client_id", [])), None)
        client_secret = client_secret or next(iter(form.get("client_secret", [])), None)
    return await run_in_threadpool(_token_endpoint, request, grant_type, client_id, client_secret)
