"""The org's API usage as Salesforce last reported it, and Tandem's own calls per budget lane and day."""

from __future__ import annotations

from datetime import UTC, date, datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from tandem.people.database import Database
from tandem.people.models import ApiUsageReading
from tandem.people.tables import api_lane_spend, api_usage

_ONLY_ROW = 1


class ApiUsage:
    def __init__(self, db: Database) -> None:
        self._db = db

    def record(self, used: int, limit: int, now: datetime | None = None) -> ApiUsageReading:
        """Keep this reading in place of the last one."""
        reading = ApiUsageReading(used=used, limit=limit, recorded_at=now or datetime.now(UTC))
        values = {"used": used, "daily_limit": limit, "recorded_at": reading.recorded_at}
        with self._db.transaction() as connection:
            _update_else_insert(connection, sa.update(api_usage).where(api_usage.c.id == _ONLY_ROW).values(values),
                                sa.insert(api_usage).values(id=_ONLY_ROW, **values))
        return reading

    def latest(self) -> ApiUsageReading | None:
        with self._db.reading() as connection:
            row = connection.execute(sa.select(api_usage).where(api_usage.c.id == _ONLY_ROW)).mappings().first()
        return None if row is None else ApiUsageReading(row["used"], row["daily_limit"], row["recorded_at"])

    # -- Tandem's own calls, per lane (`tandem.sync.budget`) ---------------------------------------

    def spend(self, lane: str, calls: int, day: date) -> None:
        """Add `calls` to the lane's count for `day` (an increment: processes counting at once add up)."""
        if calls <= 0:
            return
        key = (api_lane_spend.c.day == day.isoformat()) & (api_lane_spend.c.lane == lane)
        update = sa.update(api_lane_spend).where(key).values(calls=api_lane_spend.c.calls + calls)
        with self._db.transaction() as connection:
            _update_else_insert(connection, update,
                                sa.insert(api_lane_spend).values(day=day.isoformat(), lane=lane, calls=calls))

    def spent(self, day: date) -> dict[str, int]:
        """Lane → calls Tandem spent on `day`."""
        query = sa.select(api_lane_spend.c.lane, api_lane_spend.c.calls).where(api_lane_spend.c.day == day.isoformat())
        with self._db.reading() as connection:
            return {row.lane: int(row.calls) for row in connection.execute(query)}

    def prune_spend(self, before: date) -> None:
        with self._db.transaction() as connection:
            connection.execute(sa.delete(api_lane_spend).where(api_lane_spend.c.day < before.isoformat()))


def _update_else_insert(connection: sa.Connection, update: sa.Update, insert: sa.Insert) -> None:
    """Update the row; insert it when there is none, and update after all when another process
    inserted it meanwhile."""
    if connection.execute(update).rowcount:
        return
    try:
        with connection.begin_nested():
            connection.execute(insert)
    except IntegrityError:
        connection.execute(update)
