"""Sessions: opaque random access tokens mapped to the user they act as.

A token is never logged or shown in a repr; `UserContext` is what every facade call runs as.
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


@dataclass
class Session:
    user_id: str
    issued_at: int
    client_id: str | None = None


class SessionStore:
    def __init__(self, org_id: str) -> None:
        self.org_id = org_id
        self._sessions: dict[str, Session] = {}

    def open(self, user_id: str, issued_at: int, client_id: str | None = None) -> Token:
        token = f"{self.org_id[:15]}!{secrets.token_urlsafe(48)}"
        self._sessions[token] = Session(user_id, issued_at, client_id)
        return Token(token, user_id, issued_at)

    def find(self, token: str) -> Session:
        session = self._sessions.get(token) if isinstance(token, str) else None
        if session is None:
            raise InvalidSession("Session expired or invalid")
        return session

    def expire(self, token: str) -> None:
        self._sessions.pop(token, None)

    def expire_all(self) -> None:
        self._sessions.clear()

    def __len__(self) -> int:
        return len(self._sessions)

    def export(self) -> dict[str, tuple[str, int, str | None]]:
        return {t: (s.user_id, s.issued_at, s.client_id) for t, s in self._sessions.items()}

    def import_(self, saved: dict[str, tuple[str, int, str | None]]) -> None:
        self._sessions = {t: Session(*values) for t, values in saved.items()}
