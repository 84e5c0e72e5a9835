"""Queries the REST API needs: persons by one lookup field with keyset paging, ids per key, deletes.

Lookups by `email` ignore case (the `lower(email)` index), like `Persons.find_by_email`. A person
deleted through the API leaves a tombstone with its record and log, as any deleted person does.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from tandem.people.activity_rows import activity_from_row
from tandem.people.database import Database, in_chunks
from tandem.people.field_catalog import FieldCatalog
from tandem.people.models import Activity, Person
from tandem.people.origin import ChangeOrigin
from tandem.people.persons import Persons
from tandem.people.tables import activities

LOOKUP_FIELDS = ("id", "email", "sfdcId", "sfdcLeadId", "sfdcContactId", "sfdcAccountId")
"""Fields a person can be looked up by (all indexed but the Lead and Contact ids, which are rare keys)."""


class ApiQueries:
    def __init__(self, db: Database, fields: FieldCatalog, persons: Persons) -> None:
        self._db = db
        self._fields = fields
        self._persons = persons

    def persons_page(
        self, field: str, values: Sequence[Any], after_id: int = 0, limit: int = 300
    ) -> list[Person]:
        """Persons whose `field` is one of `values`, in id order, after `after_id`, at most `limit`."""
        wanted = _lookup_values(field, values)
        if not wanted:
            return []
        table = self._fields.table
        query = (
            sa.select(table)
            .where(self._lookup_column(field).in_(wanted), table.c.id > after_id)
            .order_by(table.c.id)
            .limit(limit)
        )
        with self._db.transaction() as connection:
            return [self._fields.person(row) for row in connection.execute(query).mappings()]

    def count_persons_where(self, field: str, values: Sequence[Any]) -> int:
        wanted = _lookup_values(field, values)
        if not wanted:
            return 0
        query = (
            sa.select(sa.func.count()).select_from(self._fields.table).where(self._lookup_column(field).in_(wanted))
        )
        with self._db.transaction() as connection:
            return connection.execute(query).scalar_one()

    def person_ids_by(self, field: str, values: Sequence[Any]) -> dict[Any, list[int]]:
        """Ids of the persons per key value (emails lower-cased), each list in id order."""
        found: dict[Any, list[int]] = defaultdict(list)
        table = self._fields.table
        raw = table.c[field]
        key = sa.func.lower(raw) if field == "email" else raw
        with self._db.transaction() as connection:
            for chunk in in_chunks(_lookup_values(field, values)):
                query = sa.select(key, table.c.id).where(key.in_(chunk)).order_by(table.c.id)
                for value, person_id in connection.execute(query):
                    found[value].append(person_id)
        return dict(found)

    def delete_persons(self, person_ids: Sequence[int]) -> list[int]:
        """Delete persons, each leaving a tombstone with its record and log; returns the ids that existed, in order."""
        return self._persons.delete_many(person_ids, ChangeOrigin.API)

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
            return [activity_from_row(row) for row in connection.execute(query).mappings()]

    def _lookup_column(self, field: str) -> sa.ColumnElement[Any]:
        if field not in LOOKUP_FIELDS:
            raise ValueError(f"{field} is not a lookup field")
        column = self._fields.table.c[field]
        return sa.func.lower(column) if field == "email" else column


def _lookup_values(field: str, values: Sequence[Any]) -> list[Any]:
    if field == "email":
        return sorted({str(v).strip().lower() for v in values})
    return sorted(set(values))
