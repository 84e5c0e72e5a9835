"""The append-only activity log of each person, and the ways to read it.

Persons write their New Lead and Change Data Value rows themselves, in the transaction of the
change; the sync appends its outcomes (conflicts, rejections) here. Nothing updates or deletes
an activity (a merge moves rows to the winner; a delete keeps them in the tombstone).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from tandem.errors import NotFound
from tandem.people.activities import ActivityType, check_attributes
from tandem.people.activity_rows import ActivityEntry, activity_from_row, activity_row
from tandem.people.database import Database, insert_rows, lookup_chunks, one_of
from tandem.people.models import Activity
from tandem.people.tables import activities, person_ids
from tandem.people.tombstones import Tombstones


class ActivityLog:
    def __init__(self, db: Database, tombstones: Tombstones) -> None:
        self._db = db
        self._tombstones = tombstones

    def log(
        self,
        person_id: int,
        kind: ActivityType,
        primary_attribute_value: str | None = None,
        attributes: Mapping[str, Any] | None = None,
        primary_attribute_value_id: int | None = None,
        now: datetime | None = None,
    ) -> Activity:
        """Append one activity (a sync outcome, say); the log has no update or delete."""
        attributes = dict(attributes or {})
        check_attributes(kind, set(attributes))
        row = activity_row(
            person_id, kind, now or datetime.now(UTC), primary_attribute_value_id,
            primary_attribute_value, attributes,
        )
        with self._db.transaction() as connection:
            if not self._live(connection, [person_id]):
                raise NotFound(self._tombstones.gone_message(person_id))
            activity_id = connection.execute(sa.insert(activities).values(row)).inserted_primary_key[0]
        return activity_from_row({**row, "id": activity_id})

    def log_many(self, entries: Sequence[ActivityEntry], now: datetime | None = None,
                 existing: Collection[int] = ()) -> None:
        """Append many activities in one statement: (person id, type, primary value, attributes).

        Persons in `existing` are known to exist (locked by the caller's transaction); the others
        are looked up, and a gone one refuses the whole batch.
        """
        now = now or datetime.now(UTC)
        rows = []
        for person_id, kind, primary_value, attributes in entries:
            check_attributes(kind, set(attributes))
            rows.append(activity_row(person_id, kind, now, None, primary_value, attributes))
        if not rows:
            return
        wanted = {row["person_id"] for row in rows}.difference(existing)
        with self._db.transaction() as connection:
            missing = wanted - self._live(connection, wanted) if wanted else set()
            if missing:
                raise NotFound(f"person {min(missing)} does not exist")
            insert_rows(connection, activities, rows)

    def find(
        self,
        person_id: int | None = None,
        type_ids: Sequence[int] | None = None,
        since: datetime | None = None,
        after_id: int | None = None,
        limit: int | None = None,
    ) -> list[Activity]:
        """Activities in the order they were written, optionally filtered."""
        query = sa.select(activities).order_by(activities.c.id)
        if person_id is not None:
            query = query.where(activities.c.person_id == person_id)
        if type_ids:
            query = query.where(activities.c.activity_type_id.in_(list(type_ids)))
        if since is not None:
            query = query.where(activities.c.activity_date >= since)
        if after_id is not None:
            query = query.where(activities.c.id > after_id)
        if limit is not None:
            query = query.limit(limit)
        with self._db.reading() as connection:
            return [activity_from_row(row) for row in connection.execute(query).mappings()]

    def newest(self, person_id: int, limit: int) -> list[Activity]:
        """A person's latest `limit` activities, newest first (the UI's activity log)."""
        query = (sa.select(activities).where(activities.c.person_id == person_id)
                 .order_by(activities.c.id.desc()).limit(limit))
        with self._db.reading() as connection:
            return [activity_from_row(row) for row in connection.execute(query).mappings()]

    @staticmethod
    def _live(connection: sa.Connection, ids: Sequence[int] | set[int]) -> set[int]:
        found: set[int] = set()
        for chunk in lookup_chunks(connection, ids):
            found.update(connection.execute(
                sa.select(person_ids.c.id).where(one_of(connection, person_ids.c.id, chunk))).scalars())
        return found
