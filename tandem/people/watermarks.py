"""Watermarks: how far the pull of each Salesforce object got (its cursor, as text).

A watermark set inside `store.transaction()` commits with the records it covers, so it never
moves past what was stored (DESIGN, "Crash safety").
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from tandem.people.database import Database
from tandem.people.models import Watermark
from tandem.people.tables import watermarks


@cache
def _upsert(dialect: str) -> sa.Insert:
    """Insert a watermark or move the one there (built once per database kind: a pull sets one a page)."""
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(watermarks)
    return insert.values({name: sa.bindparam(name) for name in ("object", "stream", "value", "set_at")}) \
        .on_conflict_do_update(index_elements=[watermarks.c.object, watermarks.c.stream],
                               set_={"value": insert.excluded.value, "set_at": insert.excluded.set_at})


class Watermarks:
    def __init__(self, db: Database) -> None:
        self._db = db

    def get(self, object: str, stream: str) -> Watermark | None:
        query = sa.select(watermarks).where(watermarks.c.object == object, watermarks.c.stream == stream)
        with self._db.reading() as connection:
            row = connection.execute(query).mappings().first()
        return None if row is None else Watermark(**row)

    def set(self, object: str, stream: str, value: str, now: datetime | None = None) -> Watermark:
        mark = Watermark(object=object, stream=stream, value=value, set_at=now or datetime.now(UTC))
        with self._db.transaction() as connection:
            connection.execute(_upsert(connection.dialect.name), vars(mark))
        return mark

    def all(self) -> list[Watermark]:
        query = sa.select(watermarks).order_by(watermarks.c.object, watermarks.c.stream)
        with self._db.reading() as connection:
            return [Watermark(**row) for row in connection.execute(query).mappings()]
