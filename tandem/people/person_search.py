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
        """Persons whose email or name starts with `text` (any case), or linked to the Salesforce Id
        `text` (15 or 18 characters) as Lead, Contact or their current record; lowest ids first."""
        text = " ".join((text or "").split())
        if not text or not storable(text):
            return []
        table = self._fields.table
        lowered = text.lower()
        conditions: list[sa.ColumnElement[bool]] = [_starts(sa.func.lower(table.c.email), lowered)]
        if SALESFORCE_ID.fullmatch(text):
            prefix = text[:15]
            conditions += [table.c[name].between(prefix, prefix + "ZZZ")
                           for name in ("sfdcId", "sfdcLeadId", "sfdcContactId")]
        if "@" not in text:
            first, last = sa.func.lower(table.c.firstName), sa.func.lower(table.c.lastName)
            conditions += [_starts(first, lowered), _starts(last, lowered),
                           _starts(first + " " + last, lowered)]
        query = sa.select(table).where(sa.or_(*conditions)).order_by(table.c.id).limit(limit)
        with self._db.reading() as connection:
            return [self._fields.person(row) for row in connection.execute(query).mappings()]

    def newest(self, limit: int = 50) -> list[Person]:
        """The persons added last, newest first."""
        table = self._fields.table
        query = sa.select(table).order_by(table.c.id.desc()).limit(limit)
        with self._db.reading() as connection:
            return [self._fields.person(row) for row in connection.execute(query).mappings()]


def _starts(column: sa.ColumnElement[str], prefix: str) -> sa.ColumnElement[bool]:
    return sa.and_(column >= prefix, column < prefix + _ABOVE)
