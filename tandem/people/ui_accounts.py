"""Who may sign in to the web UI (name, role, password hash) and the key that signs its sessions.

Only hashes are kept: hashing and checking passwords is the web layer's (`tandem.web.ui.passwords`).
A new password or a removal ends the user's sessions at once: every request reads the user again.
The signing key is made once, on first use, and kept here so every `tandem serve` on this database
accepts the same sessions without a new setting; `TANDEM_SECRET_KEY` overrides it.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from tandem.errors import InvalidInput, NotFound
from tandem.people.database import Database, made_once
from tandem.people.ui_tables import ui_signing_key, ui_users
from tandem.people.validation import enum_member, storable

USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")


class Role(StrEnum):
    VIEWER = "viewer"
    """Sees every page; starts nothing."""
    OPERATOR = "operator"
    """Also starts actions: Sync now, pause, retries, Sync Person to SFDC, Convert Person."""


@dataclass(frozen=True)
class UiUser:
    id: int
    username: str
    role: Role
    password_hash: str
    created_at: datetime
    sessions_ended: int = 0
    """How many times this user's sessions were ended (Sign out, a new password): a session made before is void."""

    @property
    def operates(self) -> bool:
        return self.role is Role.OPERATOR


class UiAccounts:
    def __init__(self, db: Database) -> None:
        self._db = db

    def add(self, username: str, password_hash: str, role: Role | str = Role.VIEWER,
            now: datetime | None = None) -> UiUser:
        """A new user; InvalidInput naming the field when the name is malformed or taken."""
        username = check_username(username)
        role = enum_member(Role, role, "role")
        row = {"username": username, "password_hash": password_hash, "role": role.value,
               "created_at": now or datetime.now(UTC)}
        try:
            with self._db.transaction() as connection:
                user_id = connection.execute(sa.insert(ui_users).values(row)).inserted_primary_key[0]
        except IntegrityError:
            raise InvalidInput("username", f"a user named {username!r} already exists") from None
        return UiUser(user_id, username, role, password_hash, row["created_at"])

    def get(self, username: str) -> UiUser | None:
        """The user of that name; None for any other, a name no database could hold included."""
        if not storable(username):
            return None
        query = sa.select(ui_users).where(ui_users.c.username == username)
        with self._db.reading() as connection:
            row = connection.execute(query).mappings().first()
        return None if row is None else _user(row)

    def all(self) -> list[UiUser]:
        with self._db.reading() as connection:
            return [_user(row) for row in connection.execute(sa.select(ui_users).order_by(ui_users.c.username)).mappings()]

    def set_password_hash(self, username: str, password_hash: str, replacing: str) -> bool:
        """A rehash of the same password with newer parameters (done at sign-in); False, and nothing
        changed, when the hash is no longer `replacing` (the password was changed meanwhile)."""
        c = ui_users.c
        query = (sa.update(ui_users).where(c.username == username, c.password_hash == replacing)
                 .values(password_hash=password_hash))
        with self._db.transaction() as connection:
            return bool(connection.execute(query).rowcount)

    def change_password(self, username: str, password_hash: str) -> UiUser:
        """A new password for the user, which ends every session they have; NotFound naming an unknown user."""
        c = ui_users.c
        query = (sa.update(ui_users).where(c.username == username)
                 .values(password_hash=password_hash, sessions_ended=c.sessions_ended + 1))
        with self._db.transaction() as connection:
            if not storable(username) or not connection.execute(query).rowcount:
                raise unknown_user(username)
            row = connection.execute(sa.select(ui_users).where(c.username == username)).mappings().one()
        return _user(row)

    def remove(self, username: str) -> int:
        """Remove the user (their sessions end with them); how many users are left. NotFound naming an unknown user."""
        with self._db.transaction() as connection:
            if not storable(username) or not connection.execute(
                    sa.delete(ui_users).where(ui_users.c.username == username)).rowcount:
                raise unknown_user(username)
            return connection.execute(sa.select(sa.func.count()).select_from(ui_users)).scalar_one()

    def end_sessions(self, username: str, sessions_ended: int) -> bool:
        """Void every session of the user made before now (Sign out); False when another sign-out
        (a stale `sessions_ended`) did it first."""
        c = ui_users.c
        query = (sa.update(ui_users).where(c.username == username, c.sessions_ended == sessions_ended)
                 .values(sessions_ended=c.sessions_ended + 1))
        with self._db.transaction() as connection:
            return bool(connection.execute(query).rowcount)

    def signing_key(self, now: datetime | None = None) -> str:
        """The session-signing key, made on first use (two processes asking at once get the same one)."""
        return made_once(self._db, ui_signing_key.c.secret, lambda: secrets.token_urlsafe(48), now)


def check_username(username: str) -> str:
    if not isinstance(username, str) or not USERNAME.fullmatch(username):
        raise InvalidInput("username", "use 1 to 64 letters, digits, '.', '_', '@' or '-', starting with a letter or digit")
    return username


def unknown_user(username: str) -> NotFound:
    return NotFound(f"no web UI user named {username!r}")


def _user(row: sa.RowMapping) -> UiUser:
    return UiUser(row["id"], row["username"], Role(row["role"]), row["password_hash"], row["created_at"],
                  row["sessions_ended"])
