"""Queries the REST API needs: persons by one lookup field with keyset paging, ids per key, deletes.

Lookups by `email` ignore case as the database's `lower(email)` index does (`Database.lowered`), like
`Persons.find_by_email`. A person deleted through the API leaves a tombstone with its record and
log, as any deleted person does.

A create-or-update decides on what `claim` finds: the keys are locked first (a PostgreSQL advisory
lock per key, in sorted order; on SQLite the writer holds the whole database), so a concurrent
caller with the same key waits and then finds the person the first one created. On PostgreSQL it
also waits for a pull page in progress, which may be adding the person a key names: the page's
persons are not visible until it commits, and a caller deciding before that would make a second one.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from tandem.people.activity_rows import activity_from_row
from tandem.people.advisory_locks import share_claim_key
from tandem.people.database import Database, Lookups, finished_writers
from tandem.people.field_catalog import FieldCatalog
from tandem.people.fields import FieldType
from tandem.people.locks import PAGE
from tandem.people.models import Activity, FeedPosition, Person
from tandem.people.origin import ChangeOrigin
from tandem.people.persons import Persons
from tandem.people.tables import activities
from tandem.people.validation import storable

LOOKUP_FIELDS = ("id", "email", "sfdcId", "sfdcLeadId", "sfdcContactId", "sfdcAccountId")
"""Fields a person can be looked up by (all indexed but the Lead and Contact ids, which are rare keys)."""
SEARCHABLE_CUSTOM_TYPES = frozenset({FieldType.STRING, FieldType.EMAIL, FieldType.PICKLIST, FieldType.INTEGER})
"""Custom fields of these types are filter types too, as at Marketo (MARKETO-API §5.1); not indexed."""

KEY_LOCK_SPACE = 0x54414E44
"""The first argument of `pg_advisory_xact_lock(int, int)` for lookup keys (its own key space)."""


class ApiQueries:
    def __init__(self, db: Database, fields: FieldCatalog, persons: Persons) -> None:
        self._db = db
        self._fields = fields
        self._persons = persons
        self._lookups = Lookups()

    def searchable_fields(self) -> list[str]:
        """The fields persons can be found by: the lookup fields, then the custom fields of a
        searchable type (describe2's `searchableFields`)."""
        return [*LOOKUP_FIELDS, *(f.name for f in self._fields.all()
                                  if f.custom and f.type in SEARCHABLE_CUSTOM_TYPES)]

    def lookup_key(self, field: str, value: str) -> str:
        """A lookup value as the lookups compare it: an email trimmed and lower-cased as the database
        does it; any other value as it is."""
        return self._db.lowered(value.strip()) if field == "email" else value

    def persons_page(
        self, field: str, values: Sequence[Any], after_id: int = 0, limit: int = 300
    ) -> list[Person]:
        """Persons whose `field` is one of `values`, in id order, after `after_id`, at most `limit`."""
        wanted = self._lookup_values(field, values)
        if not wanted:
            return []
        table = self._fields.table
        query = (
            sa.select(table)
            .where(_lookup_column(table, field).in_(wanted), table.c.id > after_id)
            .order_by(table.c.id)
            .limit(limit)
        )
        with self._db.reading() as connection:
            return self._fields.persons(connection.execute(query))

    def count_persons_where(self, field: str, values: Sequence[Any]) -> int:
        wanted = self._lookup_values(field, values)
        if not wanted:
            return 0
        table = self._fields.table
        query = sa.select(sa.func.count()).select_from(table).where(_lookup_column(table, field).in_(wanted))
        with self._db.reading() as connection:
            return connection.execute(query).scalar_one()

    def person_ids_by(self, field: str, values: Sequence[Any]) -> dict[Any, list[int]]:
        """Ids of the persons per key value (emails lower-cased), each list in id order."""
        with self._db.reading() as connection:
            return self._matches(connection, field, self._lookup_values(field, values), lock=False)

    def claim(self, field: str, values: Sequence[Any]) -> dict[Any, list[int]]:
        """`person_ids_by` for a writer: the keys and the persons they match stay locked until the
        transaction ends, so what it decides on them (create, update) no one else decides meanwhile."""
        wanted = self._lookup_values(field, values)
        with self._db.transaction() as connection:
            if connection.dialect.name == "postgresql" and wanted:
                if field != "id":  # a page may be adding the person a key names (never one an id names)
                    share_claim_key(connection, PAGE)  # first: a page waited for holds no key or row of ours
                hashes = sorted({_key_hash(field, value) for value in wanted})
                connection.execute(
                    sa.text("SELECT pg_advisory_xact_lock(:space, key) FROM unnest(CAST(:keys AS integer[])) AS key"),
                    {"space": KEY_LOCK_SPACE, "keys": hashes},
                )
            return self._matches(connection, field, wanted, lock=True)

    def _matches(self, connection: sa.Connection, field: str, wanted: list[Any], lock: bool) -> dict[Any, list[int]]:
        found: dict[Any, list[int]] = defaultdict(list)
        table = self._fields.table
        key = _lookup_column(table, field)

        def query(condition: sa.ColumnElement[bool]) -> sa.Select[Any]:
            matching = sa.select(key, table.c.id).where(condition).order_by(table.c.id)
            # as Persons locks them: see persons._locking
            return matching.with_for_update(key_share=True) if lock else matching
        for result in self._lookups.results(connection, (table, field, lock), key, wanted, query):
            for value, person_id in result:
                found[value].append(person_id)
        return dict(found)

    def _lookup_values(self, field: str, values: Sequence[Any]) -> list[Any]:
        """The distinct keys, sorted; text no database stores (NUL, a lone surrogate) matches nothing."""
        if field == "email":
            return sorted({text for text in (self.lookup_key(field, str(v)) for v in values) if storable(text)})
        if all(type(v) is str for v in values) and storable("".join(values)):  # one check for a page of Ids
            return sorted(set(values))
        return sorted({v for v in values if not isinstance(v, str) or storable(v)})

    def delete_persons(self, person_ids: Sequence[int]) -> list[int]:
        """Delete persons, each leaving a tombstone with its record and log; returns the ids that existed, in order."""
        return self._persons.delete_many(person_ids, ChangeOrigin.API)

    def activities_page(
        self,
        *,
        since: Any,
        after: FeedPosition,
        limit: int,
        type_ids: Sequence[int] | None = None,
        person_ids: Sequence[int] | None = None,
        asset_ids: Sequence[int] | None = None,
    ) -> list[tuple[FeedPosition, Activity]]:
        """Activities dated `since` or later past `after`, in feed order (keyset paging), each with
        its position; only those of finished transactions (`finished_writers`), so a page never
        passes an activity that a transaction still running will commit."""
        rows = activities.c
        query = (
            sa.select(activities)
            .where(sa.tuple_(rows.txid, rows.id) > sa.tuple_(after.txid, after.id), rows.activity_date >= since)
            .order_by(rows.txid, rows.id)
            .limit(limit)
        )
        if type_ids:
            query = query.where(rows.activity_type_id.in_(list(type_ids)))
        if person_ids:
            query = query.where(rows.person_id.in_(list(person_ids)))
        if asset_ids:
            query = query.where(rows.primary_attribute_value_id.in_(list(asset_ids)))
        with self._db.reading() as connection:
            query = query.where(finished_writers(connection, rows.txid))
            return [(FeedPosition(row["txid"], row["id"]), activity_from_row(row))
                    for row in connection.execute(query).mappings()]


def _lookup_column(table: sa.Table, field: str) -> sa.ColumnElement[Any]:
    if field not in LOOKUP_FIELDS and not field.endswith("__c"):
        raise ValueError(f"{field} is not a lookup field")
    column = table.c[field]
    return sa.func.lower(column) if field == "email" else column


def _key_hash(field: str, value: Any) -> int:
    """A lookup key as a signed 32-bit number (two keys sharing one only wait for each other)."""
    digest = hashlib.blake2b(f"{field}\x1f{value}".encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big", signed=True)
