"""Logging in: the password, client-credentials and refresh-token checks, the sessions they open, who a session is.

Answers as Salesforce's token endpoint does (`invalid_client_id`, `invalid_client`,
`invalid_grant`), so the OAuth and SOAP faces only translate them to their format.
"""

from __future__ import annotations

from collections.abc import Callable

from tandem.emulator.model.directory import ConnectedApp, Directory, UserAccount
from tandem.emulator.model.errors import AuthError, InvalidSession
from tandem.emulator.model.sessions import SessionStore, Token, UserContext


class Logins:
    """The org's login checks over its directory (users, connected apps) and its session store."""

    def __init__(self, org_id: str, directory: Directory, sessions: SessionStore, now_ms: Callable[[], int]) -> None:
        self.org_id = org_id
        self.directory = directory
        self.sessions = sessions
        self._now_ms = now_ms

    def _check_password(self, username: str, password: str) -> UserAccount:
        user = self.directory.user(username)
        if user is None or not user.active or not isinstance(password, str):
            raise AuthError("invalid_grant", "authentication failure")
        accepted = {user.password}
        if user.security_token:
            accepted.add(user.password + user.security_token)
        if password not in accepted:
            raise AuthError("invalid_grant", "authentication failure")
        return user

    def _check_client(self, client_id: str, client_secret: str) -> ConnectedApp:
        app = self.directory.apps.get(client_id)
        if app is None:
            raise AuthError("invalid_client_id", "client identifier invalid")
        if client_secret != app.client_secret:
            raise AuthError("invalid_client", "invalid client credentials")
        return app

    def password(self, client_id: str, client_secret: str, username: str, password: str) -> Token:
        """The OAuth password grant: a connected app and a user's password (plus security token).

        An app whose scopes allow offline access also gets a refresh token for that user."""
        app = self._check_client(client_id, client_secret)
        user = self._check_password(username, password)
        now = self._now_ms()
        refresh = self.sessions.issue_refresh_token(user.id, client_id, now) if app.offline else None
        return self.sessions.open(user.id, now, client_id, scopes=app.scopes, refresh_token=refresh)

    def client_credentials(self, client_id: str, client_secret: str) -> Token:
        """The OAuth client-credentials grant: a session for the app's run-as user."""
        app = self._check_client(client_id, client_secret)
        user = self.directory.user(app.run_as) if app.run_as else None
        if user is None or not user.active:
            raise AuthError("invalid_grant", "no client credentials user enabled")
        return self.sessions.open(user.id, self._now_ms(), client_id, scopes=app.scopes)

    def refresh(self, client_id: str, client_secret: str | None, refresh_token: str) -> Token:
        """The OAuth refresh-token grant: a new session for the token's user; the refresh token
        itself is not rotated, so the answer carries none."""
        app = self.directory.apps.get(client_id)
        if app is None:
            raise AuthError("invalid_client_id", "client identifier invalid")
        secret_missing = client_secret is None or client_secret == ""
        if (secret_missing and app.require_secret_for_refresh) or (
                not secret_missing and client_secret != app.client_secret):
            raise AuthError("invalid_client", "invalid client credentials")
        grant = self.sessions.find_refresh_token(refresh_token)
        user = self.directory.users_by_id.get(grant.user_id) if grant is not None else None
        if grant is None or grant.client_id != client_id or user is None or not app.offline:
            raise AuthError("invalid_grant", "expired access/refresh token")
        if not user.active:
            raise AuthError("invalid_grant", "authentication failure")
        session = self.sessions.open(user.id, self._now_ms(), client_id, scopes=app.scopes,
                                     refresh_token=refresh_token)
        return Token(session.access_token, session.user_id, session.issued_at, session.scopes)

    def username_password(self, username: str, password: str) -> Token:
        """The SOAP login: a user's password alone, no connected app."""
        user = self._check_password(username, password)
        return self.sessions.open(user.id, self._now_ms())

    def context(self, access_token: str) -> UserContext:
        session = self.sessions.find(access_token)
        user = self.directory.users_by_id.get(session.user_id)
        if user is None or not user.active:
            raise InvalidSession("Session expired or invalid")
        return UserContext(user.id, user.username, user.profile, self.org_id, user.name, user.email)


USER_TIME_ZONE = "America/Los_Angeles"
"""Every user's time zone (the User records' TimeZoneSidKey): SOQL date literals count its days."""


def user_info(user: UserAccount, org_id: str, org_name: str, last_modified: str | None) -> dict:
    """The OAuth userinfo body for `user` (the SOAP login result reuses it)."""
    nickname = user.username.split("@")[0]
    return {
        "user_id": user.id, "organization_id": org_id, "username": user.username,
        "preferred_username": user.username, "nick_name": nickname,
        "nickname": nickname, "display_name": user.name, "name": user.name,
        "email": user.email, "email_verified": True, "first_name": user.first_name,
        "given_name": user.first_name, "last_name": user.last_name, "family_name": user.last_name,
        "timezone": USER_TIME_ZONE, "zoneinfo": USER_TIME_ZONE, "active": user.active,
        "user_type": "STANDARD", "language": "en_US", "locale": "en_US", "utcOffset": -28800000,
        "last_modified_date": last_modified, "updated_at": last_modified, "is_app_installed": True,
        "profile_name": user.profile, "organization_name": org_name,
    }
