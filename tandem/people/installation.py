"""This installation's id, made once: a person's id across databases is `<installation id>-<person id>`.

It is what Tandem writes to Salesforce's external-id field, so it must never change once made.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa

from tandem.people.database import Database, made_once
from tandem.people.tables import installation

_ONLY_ROW = 1


class Installation:
    def __init__(self, db: Database) -> None:
        self._db = db

    def existing(self) -> str | None:
        """The installation id if one was made, without making one."""
        query = sa.select(installation.c.installation_id).where(installation.c.id == _ONLY_ROW)
        with self._db.reading() as connection:
            return connection.execute(query).scalar()

    def id(self, now: datetime | None = None) -> str:
        """The installation id, made on first use (two processes asking at once get the same one)."""
        return made_once(self._db, installation.c.installation_id, lambda: uuid.uuid4().hex[:16], now)
