"""The standing refusal of a Salesforce login, shared by every process on this database.

Salesforce locks a user after ten failed logins; a refusal kept here stops the next process with
the same settings from trying again before the pause is over. Settings are recognised by a slow
salted fingerprint, never by the secrets themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from tandem.people.database import Database
from tandem.people.tables import refused_logins

_ONLY_ROW = 1


@dataclass(frozen=True)
class RefusedLogin:
    refused_at: datetime
    salt: str
    fingerprint: str
    error_code: str | None
    reason: str


class RefusedLogins:
    def __init__(self, db: Database) -> None:
        self._db = db

    def latest(self) -> RefusedLogin | None:
        query = sa.select(refused_logins).where(refused_logins.c.id == _ONLY_ROW)
        with self._db.reading() as connection:
            row = connection.execute(query).mappings().first()
        return None if row is None else RefusedLogin(
            row["refused_at"], row["salt"], row["fingerprint"], row["error_code"], row["reason"])

    def keep(self, refusal: RefusedLogin) -> None:
        """Keep this refusal in place of any earlier one."""
        values = {"refused_at": refusal.refused_at, "salt": refusal.salt, "fingerprint": refusal.fingerprint,
                  "error_code": refusal.error_code, "reason": refusal.reason}
        update = sa.update(refused_logins).where(refused_logins.c.id == _ONLY_ROW).values(values)
        with self._db.transaction() as connection:
            if connection.execute(update).rowcount:
                return
            try:
                with connection.begin_nested():
                    connection.execute(sa.insert(refused_logins).values(id=_ONLY_ROW, **values))
            except IntegrityError:  # kept by another process meanwhile
                connection.execute(update)

    def forget(self) -> None:
        """A login worked: nothing stands any more."""
        with self._db.transaction() as connection:
            connection.execute(sa.delete(refused_logins))
