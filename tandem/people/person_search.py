"""Finding persons by what a marketer types: an email, a name, or a Salesforce Id."""

from __future__ import annotations

import re

import sqlalchemy as sa

from tandem.people.database import Database
from tandem.people.field_catalog import FieldCatalog
from tandem.people.models import Person
from tandem.people.validation import storable

SALESFORCE_ID = re.compile(r"[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?")
_ABOVE = "\uffff"
"""Appended to a prefix for an indexable range instead of LIKE (which SQLite will not index here)."""


class PersonSearch:
    def __init__(self, db: Database, fields: FieldCatalog) -> None:
        self._db = db
        self._fields = fields

    def find(self, text: str, limit: int = 50) -> list[Person]:
        """Persons whose email, first name, last name or "first last" starts with `text` (any case),
        or linked to the Salesforce Id `text` (15 or 18 characters: the current record, else the
        Lead or Contact it was); at most `limit` of them, in id order. Each condition is an index range,
        except the look-up by a former Lead or Contact Id, made only when nothing else matched."""
        text = " ".join((text or "").split())
        if not text or not storable(text):
            return []
        table = self._fields.table
        keys = self._keys(text)
        conditions: list[sa.ColumnElement[bool]] = [_starts(sa.func.lower(table.c.email), key) for key in keys]
        salesforce_id = SALESFORCE_ID.fullmatch(text) is not None
        if salesforce_id:
            conditions.append(_id_range(table.c.sfdcId, text))
        elif "@" not in text:
            first, last = sa.func.lower(table.c.firstName), sa.func.lower(table.c.lastName)
            for key in keys:
                conditions += [_starts(first, key), _starts(last, key)]
                given, _, family = key.partition(" ")
                if family:
                    conditions.append(sa.and_(first == given, _starts(last, family)))
        found = self._persons(sa.or_(*conditions), limit)
        if not found and salesforce_id:
            found = self._persons(sa.or_(_id_range(table.c.sfdcLeadId, text), _id_range(table.c.sfdcContactId, text)),
                                  limit)
        return found

    def _keys(self, text: str) -> list[str]:
        """`text` as the database's `lower()` writes the values it may start: one key where that
        lower-cases every letter (PostgreSQL); on SQLite, whose `lower()` leaves letters outside ASCII
        as they were written, one for each way a name writes them (émile, Émile, ÉMILE), so that any
        case typed finds it."""
        if not self._db.sqlite:
            return [self._db.lowered(text)]
        shapes = (text, text.lower(), text.title(), text.upper())
        return list(dict.fromkeys(self._db.lowered(shape) for shape in shapes if len(shape) == len(text)))

    def _persons(self, where: sa.ColumnElement[bool], limit: int) -> list[Person]:
        table = self._fields.table
        query = sa.select(table).where(where).limit(limit)  # no ORDER BY: it would make SQLite walk every id
        with self._db.reading() as connection:
            found = self._fields.persons(connection.execute(query))
        return sorted(found, key=lambda person: person.id)

    def newest(self, limit: int = 50, before: int | None = None) -> list[Person]:
        """The persons added last (before the person `before`, for the next page), newest first."""
        table = self._fields.table
        query = sa.select(table).order_by(table.c.id.desc()).limit(limit)
        if before is not None:
            query = query.where(table.c.id < before)
        with self._db.reading() as connection:
            return self._fields.persons(connection.execute(query))


def _id_range(column: sa.ColumnElement[str], text: str) -> sa.ColumnElement[bool]:
    """The 18-character Ids whose first 15 are `text`'s (the last three are a checksum of them)."""
    prefix = text[:15]
    return column.between(prefix, prefix + "ZZZ")


def _starts(column: sa.ColumnElement[str], prefix: str) -> sa.ColumnElement[bool]:
    return sa.and_(column >= prefix, column < prefix + _ABOVE)
