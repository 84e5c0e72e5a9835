"""Queries the REST API needs: persons by one lookup field with keyset paging, ids per key, deletes.

Lookups by `email` ignore case (the `lower(email)` index), like `find_persons_by_email`. Deleting a
person removes it with its pending changes and field bases in one transaction, and its activity log
leaves the log tables as Marketo makes a deleted lead's activities unavailable; the log (ending with
a Delete Lead row) is kept with the person's tombstone (`tandem.people.merging`), never dropped.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from tandem.people.activity_log import _activity
from tandem.people.database import Database, in_chunks
from tandem.people.models import Activity, Person
from tandem.people.tables import activities

LOOKUP_FIELDS = ("id", "email", "sfdcId", "sfdcLeadId", "sfdcContactId", "sfdcAccountId")
"""Fields a person can be looked up by (all indexed but the Lead and Contact ids, which are rare keys)."""


class ApiQueries:
    """REST API read and delete methods of `PersonStore`."""

    _db: Database
    _persons: sa.Table

    def _person(self, row: sa.RowMapping) -> Person:
        raise NotImplementedError

    def _lookup_column(self, field: str) -> sa.ColumnElement[Any]:
        if field not in LOOKUP_FIELDS:
            raise ValueError(f"{field} is not a lookup field")
        column = self._persons.c[field]
        return sa.func.lower(column) if field == "email" else column

    @staticmethod
    def _lookup_values(field: str, values: Sequence[Any]) -> list[Any]:
        if field == "email":
            return sorted({str(v).strip().lower() for v in values})
        return sorted(set(values))

    def persons_page(
        self, field: str, values: Sequence[Any], after_id: int = 0, limit: int = 300
    ) -> list[Person]:
        """Persons whose `field` is one of `values`, in id order, after `after_id`, at most `limit`."""
        wanted = self._lookup_values(field, values)
        if not wanted:
            return []
        column = self._lookup_column(field)
        query = (
            sa.select(self._persons)
            .where(column.in_(wanted), self._persons.c.id > after_id)
            .order_by(self._persons.c.id)
            .limit(limit)
        )
        with self._db.transaction() as connection:
            return [self._person(row) for row in connection.execute(query).mappings()]

    def count_persons_where(self, field: str, values: Sequence[Any]) -> int:
        wanted = self._lookup_values(field, values)
        if not wanted:
            return 0
        query = sa.select(sa.func.count()).select_from(self._persons).where(self._lookup_column(field).in_(wanted))
        with self._db.transaction() as connection:
            return connection.execute(query).scalar_one()

    def person_ids_by(self, field: str, values: Sequence[Any]) -> dict[Any, list[int]]:
        """Ids of the persons per key value (emails lower-cased), each list in id order."""
        found: dict[Any, list[int]] = defaultdict(list)
        raw = self._persons.c[field]
        key = sa.func.lower(raw) if field == "email" else raw
        with self._db.transaction() as connection:
            for chunk in in_chunks(self._lookup_values(field, values)):
                query = sa.select(key, self._persons.c.id).where(key.in_(chunk)).order_by(self._persons.c.id)
                for value, person_id in connection.execute(query):
                    found[value].append(person_id)
        return dict(found)

    def delete_persons(self, person_ids: Sequence[int]) -> list[int]:
        """Delete persons, each leaving a tombstone with its record and log; returns the ids that existed, in order."""
        return self.tombstone_persons(person_ids, source="api")  # type: ignore[attr-defined]

    def activities_page(
        self,
        *,
        since: Any,
        after_id: int,
        limit: int,
        type_ids: Sequence[int] | None = None,
        person_ids: Sequence[int] | None = None,
    ) -> list[Activity]:
        """Activities dated `since` or later with ids above `after_id`, in id order (keyset paging)."""
        query = (
            sa.select(activities)
            .where(activities.c.id > after_id, activities.c.activity_date >= since)
            .order_by(activities.c.id)
            .limit(limit)
        )
        if type_ids:
            query = query.where(activities.c.activity_type_id.in_(list(type_ids)))
        if person_ids:
            query = query.where(activities.c.person_id.in_(list(person_ids)))
        with self._db.transaction() as connection:
            return [_activity(row) for row in connection.execute(query).mappings()]
