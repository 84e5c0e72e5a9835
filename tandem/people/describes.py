"""Describes: the answers the field catalog is built from, kept with when they were last checked.

Any process (a one-shot `tandem sync` too) builds its catalog from these rather than asking
Salesforce; the sync revalidates them with `If-Modified-Since` once they are an hour old, and a
304 only moves `checked_at`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from tandem.people.database import Database
from tandem.people.tables import salesforce_describes


@dataclass(frozen=True)
class CachedDescribe:
    object: str
    body: Mapping[str, Any]
    last_modified: str | None
    """The describe's `Last-Modified` (or the answer's `Date`), sent back as `If-Modified-Since`."""
    checked_at: datetime


class Describes:
    def __init__(self, db: Database) -> None:
        self._db = db

    def all(self) -> dict[str, CachedDescribe]:
        with self._db.reading() as connection:
            rows = connection.execute(sa.select(salesforce_describes)).mappings().all()
        return {row["object"]: CachedDescribe(row["object"], json.loads(row["body"]), row["last_modified"],
                                              row["checked_at"]) for row in rows}

    def checked_at(self) -> datetime | None:
        """When the least recently checked describe kept was last known current (None: none kept)."""
        with self._db.reading() as connection:
            return connection.execute(sa.select(sa.func.min(salesforce_describes.c.checked_at))).scalar()

    def keep(self, found: Mapping[str, tuple[Mapping[str, Any], str | None]], checked: list[str],
             now: datetime | None = None) -> None:
        """Store new describes (object → (body, last modified)) and mark `checked` ones as still current."""
        now = now or datetime.now(UTC)
        table = salesforce_describes
        with self._db.transaction() as connection:
            for name, (body, last_modified) in found.items():
                connection.execute(sa.delete(table).where(table.c.object == name))
                connection.execute(sa.insert(table).values(object=name, body=json.dumps(body),
                                                           last_modified=last_modified, checked_at=now))
            if checked:
                connection.execute(sa.update(table).where(table.c.object.in_(checked)).values(checked_at=now))

    def forget(self) -> None:
        """Drop every kept describe: the next catalog is described afresh."""
        with self._db.transaction() as connection:
            connection.execute(sa.delete(salesforce_describes))
