"""Sessions and refresh tokens: opaque random tokens mapped to the user they act as.

A token is never logged or shown in a repr; `UserContext` is what every facade call runs as.
A refresh token belongs to one connected app and one user; revoking it ends the sessions
opened with it, as Salesforce does.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from tandem.emulator.model.errors import InvalidSession


@dataclass(frozen=True)
class UserContext:
    """The caller of a facade method: which user, with which profile, in which org."""

    user_id: str
    username: str
    profile: str
    org_id: str
    name: str = ""
    email: str = ""


@dataclass(frozen=True)
class Token:
    access_token: str = field(repr=False)
    user_id: str
    issued_at: int
    """Epoch milliseconds."""
    scopes: tuple[str, ...] = ("api",)
    refresh_token: str | None = field(default=None, repr=False)
    """Set when the grant hands the client a refresh token (an offline app's password login)."""


@dataclass
class Session:
    user_id: str
    issued_at: int
    client_id: str | None = None
    refresh_token: str | None = None
    """The refresh token this session was opened with or issued beside, if any."""


@dataclass(frozen=True)
class RefreshGrant:
    user_id: str
    client_id: str
    issued_at: int


class SessionStore:
    def __init__(self, org_id: str) -> None:
        self.org_id = org_id
        self._sessions: dict[str, Session] = {}
        self._refresh: dict[str, RefreshGrant] = {}

    def open(self, user_id: str, issued_at: int, client_id: str | None = None, *,
             scopes: tuple[str, ...] = ("api",), refresh_token: str | None = None) -> Token:
        token = f"{self.org_id[:15]}!{secrets.token_urlsafe(48)}"
        self._sessions[token] = Session(user_id, issued_at, client_id, refresh_token)
        return Token(token, user_id, issued_at, scopes, refresh_token)

    def issue_refresh_token(self, user_id: str, client_id: str, issued_at: int) -> str:
        token = f"5Aep{secrets.token_urlsafe(64)}"
        self._refresh[token] = RefreshGrant(user_id, client_id, issued_at)
        return token

    def sizes(self) -> tuple[int, int]:
        """How many sessions and refresh tokens are held (they change with each login and revocation)."""
        return len(self._sessions), len(self._refresh)

    def find_refresh_token(self, token: str) -> RefreshGrant | None:
        return self._refresh.get(token) if isinstance(token, str) else None

    def revoke(self, token: str) -> None:
        """Revoke an access token, or a refresh token together with every session opened with it."""
        if self._refresh.pop(token, None) is not None:
            self._sessions = {t: s for t, s in self._sessions.items() if s.refresh_token != token}
        else:
            self._sessions.pop(token, None)

    def find(self, token: str) -> Session:
        session = self._sessions.get(token) if isinstance(token, str) else None
        if session is None:
            raise InvalidSession("Session expired or invalid")
        return session

    def expire(self, token: str) -> None:
        self._sessions.pop(token, None)

    def expire_all(self) -> None:
        """End every session; refresh tokens stay valid, so their holders can open new ones."""
        self._sessions.clear()

    def __len__(self) -> int:
        return len(self._sessions)

    def export(self) -> dict[str, tuple]:
        return {t: (s.user_id, s.issued_at, s.client_id, s.refresh_token) for t, s in self._sessions.items()}

    def import_(self, saved: dict[str, tuple]) -> None:
        self._sessions = {t: Session(*values) for t, values in saved.items()}

    def export_refresh_tokens(self) -> dict[str, tuple[str, str, int]]:
        return {t: (g.user_id, g.client_id, g.issued_at) for t, g in self._refresh.items()}

    def import_refresh_tokens(self, saved: dict[str, tuple[str, str, int]]) -> None:
        self._refresh = {t: RefreshGrant(*values) for t, values in saved.items()}
