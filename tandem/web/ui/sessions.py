"""The UI's session: a cookie signed with the installation's key, holding the user's name, when
they signed in, how many times their sessions had been ended then (Sign out and a new password end
them all, see `UiAccounts.end_sessions`), when the user was added (a user removed and added again
under the same name is someone else), the CSRF token every form must send back, and a one-time notice.

Nothing secret is in it (it is signed, not encrypted); a changed cookie is ignored, and a signed-in
session ends 12 hours after sign-in however often it is used (the cookie is re-signed on every
page, so the signature's own age cannot tell).
"""

from __future__ import annotations

import hmac
import secrets
import time
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
    signed_in_at: float | None = None
    """Seconds since the epoch (None without a user)."""
    sessions_ended: int = 0
    """The user's count of ended sessions when this one began: a sign-out since makes it void."""
    user_since: float | None = None
    """When the user was added (seconds since the epoch): another user of the same name makes it void."""

    def signed_in(self, username: str, sessions_ended: int, user_since: float) -> UiSession:
        """A fresh session (new CSRF token) for the user who just signed in."""
        return UiSession(username, secrets.token_urlsafe(32), signed_in_at=time.time(), sessions_ended=sessions_ended,
                         user_since=user_since)

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
        notice = data.get("n") if isinstance(data.get("n"), str) else None
        username, began, ended, since = data.get("u"), data.get("t"), data.get("e"), data.get("a")
        if not (isinstance(username, str) and isinstance(began, (int, float)) and isinstance(ended, int)
                and isinstance(since, (int, float)) and 0 <= time.time() - began <= self.max_age):
            return UiSession(None, data["c"], notice)
        return UiSession(username, data["c"], notice, began, ended, since)

    def dumps(self, session: UiSession) -> str:
        """The cookie's value."""
        return self._serializer.dumps({"u": session.username, "c": session.csrf, "n": session.notice,
                                       "t": session.signed_in_at, "e": session.sessions_ended,
                                       "a": session.user_since})

    def write(self, request: Request, response: Response, session: UiSession) -> None:
        value = self.dumps(session)
        left = self.max_age if session.signed_in_at is None else int(session.signed_in_at + self.max_age - time.time())
        response.set_cookie(COOKIE, value, max_age=max(left, 0), path="/ui", httponly=True, samesite="strict",
                            secure=request.url.scheme == "https")

    def clear(self, response: Response) -> None:
        response.delete_cookie(COOKIE, path="/ui")
