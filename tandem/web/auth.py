"""OAuth client-credentials tokens for the REST API.

Tokens are self-validating (issue time plus an HMAC keyed from the client secret), so a token stays
good for its whole advertised lifetime across server restarts: marketorestpython does not renew a
token its own clock still trusts. While a token lives, asking again returns the same token with
its remaining lifetime. The first use after expiry answers 602, later uses 601.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from tandem.web.envelope import ApiFailure, Codes

DEFAULT_TOKEN_LIFETIME = 3600


class TokenResponse(BaseModel):
    access_token: str
    token_type: str
    expires_in: int
    scope: str


class IdentityError(BaseModel):
    error: str
    error_description: str


@dataclass(frozen=True)
class ApiCredentials:
    client_id: str
    client_secret: str
    scope: str = "tandem-api@localhost"


class TokenIssuer:
    def __init__(
        self,
        credentials: ApiCredentials,
        lifetime: int = DEFAULT_TOKEN_LIFETIME,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.credentials = credentials
        self.lifetime = lifetime
        self.clock = clock
        self._key = hmac.new(credentials.client_secret.encode(), b"tandem-rest-token", hashlib.sha256).digest()
        self._current: tuple[str, float] | None = None
        self._reported_expired: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    def credentials_match(self, client_id: str, client_secret: str) -> bool:
        id_ok = hmac.compare_digest(client_id.encode(), self.credentials.client_id.encode())
        secret_ok = hmac.compare_digest(client_secret.encode(), self.credentials.client_secret.encode())
        return id_ok and secret_ok

    def issue(self) -> TokenResponse:
        now = self.clock()
        with self._lock:
            if self._current is None or self._current[1] - now < 1:
                expires_at = now + self.lifetime
                self._current = (self._sign(expires_at), expires_at)
            token, expires_at = self._current
        return TokenResponse(
            access_token=token, token_type="bearer", expires_in=int(expires_at - now), scope=self.credentials.scope
        )

    def _sign(self, expires_at: float) -> str:
        body = f"{int(expires_at * 1000):x}.{secrets.token_hex(8)}"
        return f"{body}:{self._sign_body(body)}"

    def check(self, token: str | None) -> None:
        """Raise the 601/602 failure a Marketo client expects, or return for a live token."""
        if not token:
            raise ApiFailure(Codes.TOKEN_INVALID, "Access token invalid")
        body, _, mac = token.rpartition(":")
        expected = self._sign_body(body)
        if not body or not hmac.compare_digest(mac.encode(), expected.encode()):
            raise ApiFailure(Codes.TOKEN_INVALID, "Access token invalid")
        try:
            expires_at = int(body.split(".", 1)[0], 16) / 1000
        except ValueError:
            raise ApiFailure(Codes.TOKEN_INVALID, "Access token invalid") from None
        if self.clock() < expires_at:
            return
        with self._lock:
            if token in self._reported_expired:
                raise ApiFailure(Codes.TOKEN_INVALID, "Access token invalid")
            self._reported_expired[token] = None
            while len(self._reported_expired) > 10_000:
                self._reported_expired.popitem(last=False)
        raise ApiFailure(Codes.TOKEN_EXPIRED, "Access token expired")

    def _sign_body(self, body: str) -> str:
        mac = hmac.new(self._key, body.encode(), hashlib.sha256).digest()[:12]
        return base64.b32encode(mac).decode().rstrip("=").lower()


def token_from(request: Request, form_token: str | None = None) -> str | None:
    """The token from `Authorization: Bearer`, the `access_token` query parameter or form field."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.query_params.get("access_token") or form_token


identity = APIRouter(tags=["identity"])
_IDENTITY_RESPONSES = {
    401: {"model": IdentityError, "description": "Bad client credentials"},
    400: {"model": IdentityError, "description": "Unsupported grant type"},
}


def _token_endpoint(request: Request, grant_type: str | None, client_id: str | None,
                    client_secret: str | None) -> JSONResponse:
    issuer: TokenIssuer = request.app.state.tokens
    if grant_type != "client_credentials":
        body = IdentityError(error="unsupported_grant_type", error_description="grant_type must be client_credentials")
        return JSONResponse(body.model_dump(), status_code=400)
    if not issuer.credentials_match(client_id or "", client_secret or ""):
        body = IdentityError(error="invalid_client", error_description="Bad client credentials")
        return JSONResponse(body.model_dump(), status_code=401)
    return JSONResponse(issuer.issue().model_dump())


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
def post_token(
    request: Request,
    grant_type: str | None = Query(None),
    client_id: str | None = Query(None),
    client_secret: str | None = Query(None),
) -> JSONResponse:
    """The same exchange as POST, with the parameters in the query string."""
    return _token_endpoint(request, grant_type, client_id, client_secret)
