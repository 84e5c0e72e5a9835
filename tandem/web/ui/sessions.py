"""The UI's session: a cookie signed with the installation's key, holding the user's name, the
CSRF token every form must send back, and a one-time notice for the next page.

Nothing secret is in it (it is signed, not encrypted); a changed or expired cookie is ignored.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response

COOKIE = "tandem_ui"
MAX_AGE_SECONDS = 12 * 3600
CSRF_FIELD = "csrf_token"


@dataclass(frozen=True)
class UiSession:
    username: str | None
    csrf: str
    notice: str | None = None

    def signed_in(self, username: str) -> UiSession:
        """A fresh session (new CSRF token) for the user who just signed in."""
        return UiSession(username, secrets.token_urlsafe(32))

    def with_notice(self, notice: str | None) -> UiSession:
        return replace(self, notice=notice)

    def accepts(self, token: object) -> bool:
        return isinstance(token, str) and hmac.compare_digest(token.encode(), self.csrf.encode())


def anonymous() -> UiSession:
    return UiSession(None, secrets.token_urlsafe(32))


class SessionSigner:
    """Signs with the key `secret()` gives, asked once on first use (the store's key is made then)."""

    def __init__(self, secret: Callable[[], str], max_age: int = MAX_AGE_SECONDS) -> None:
        self._secret = secret
        self._signer: URLSafeTimedSerializer | None = None
        self.max_age = max_age

    @property
    def _serializer(self) -> URLSafeTimedSerializer:
        if self._signer is None:
            self._signer = URLSafeTimedSerializer(self._secret(), salt="tandem-ui-session")
        return self._signer

    def read(self, request: Request) -> UiSession | None:
        raw = request.cookies.get(COOKIE)
        if not raw:
            return None
        try:
            data = self._serializer.loads(raw, max_age=self.max_age)
        except BadSignature:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("c"), str):
            return None
        username = data.get("u") if isinstance(data.get("u"), str) else None
        notice = data.get("n") if isinstance(data.get("n"), str) else None
        return UiSession(username, data["c"], notice)

    def write(self, request: Request, response: Response, session: UiSession) -> None:
        value = self._serializer.dumps({"u": session.username, "c": session.csrf, "n": session.notice})
        response.set_cookie(COOKIE, value, max_age=self.max_age, path="/ui", httponly=True, samesite="strict",
                            secure=request.url.scheme == "https")

    def clear(self, response: Response) -> None:
        response.delete_cookie(COOKIE, path="/ui")
