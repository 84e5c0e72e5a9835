"""The org's API usage as Salesforce last reported it, for `tandem status`."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from tandem.people.database import Database
from tandem.people.models import ApiUsageReading
from tandem.people.tables import api_usage

_ONLY_ROW = 1


class ApiUsage:
    def __init__(self, db: Database) -> None:
        self._db = db

    def record(self, used: int, limit: int, now: datetime | None = None) -> ApiUsageReading:
        """Keep this reading in place of the last one."""
        reading = ApiUsageReading(used=used, limit=limit, recorded_at=now or datetime.now(UTC))
        values = {"used": used, "daily_limit": limit, "recorded_at": reading.recorded_at}
        update = sa.update(api_usage).where(api_usage.c.id == _ONLY_ROW).values(values)
        with self._db.transaction() as connection:
            if connection.execute(update).rowcount:
                return reading
            try:
                with connection.begin_nested():
                    connection.execute(sa.insert(api_usage).values(id=_ONLY_ROW, **values))
            except IntegrityError:  # recorded by another process meanwhile
                connection.execute(update)
        return reading

    def latest(self) -> ApiUsageReading | None:
        with self._db.reading() as connection:
            row = connection.execute(sa.select(api_usage).where(api_usage.c.id == _ONLY_ROW)).mappings().first()
        return None if row is None else ApiUsageReading(row["used"], row["daily_limit"], row["recorded_at"])
