"""Reading persons: by id, by email (all matches, any case), by Salesforce or Account Id.

Reads go through the store's current `persons` table, so custom fields come back with their
types; a reference from a user (an id or an email) resolves to exactly one person or fails.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from tandem.errors import AmbiguousReference, InvalidInput, NotFound
from tandem.people.database import Database, in_chunks
from tandem.people.fields import EDITABLE_FIELDS, PersonField
from tandem.people.models import Person, SalesforceLink

_EDITABLE_NAMES = tuple(f.name for f in EDITABLE_FIELDS)


class PersonLookups:
    """Read methods of `PersonStore`."""

    _db: Database
    _persons: sa.Table
    _custom: dict[str, PersonField]

    def get_person(self, person_id: int) -> Person:
        found = self.get_persons([person_id])
        if not found:
            raise NotFound(self._gone_message(person_id))
        return found[0]

    def _gone_message(self, person_id: int) -> str:
        """Why an id names no person (the store's merge mixin tells where a merged id went)."""
        return f"person {person_id} does not exist"

    def get_persons(self, person_ids: Sequence[int]) -> list[Person]:
        """The persons that exist among `person_ids`, in id order."""
        return self._persons_where(self._persons.c.id, person_ids)

    def find_persons_by_email(self, email: str) -> list[Person]:
        """Every person with this email, ignoring case (Marketo allows duplicates)."""
        return self._select_persons(sa.func.lower(self._persons.c.email) == email.strip().lower())

    def persons_by_sfdc_ids(self, sfdc_ids: Sequence[str]) -> dict[str, Person]:
        """The linked person per Salesforce Id (the lowest person id if several share one)."""
        found: dict[str, Person] = {}
        for person in self._persons_where(self._persons.c.sfdcId, sfdc_ids):
            found.setdefault(person.link.sfdc_id or "", person)
        return found

    def persons_by_account_ids(
        self, account_ids: Sequence[str], sfdc_type: str | None = None
    ) -> dict[str, list[Person]]:
        """Persons per Salesforce Account Id, optionally only those linked to a Lead or Contact."""
        found: dict[str, list[Person]] = defaultdict(list)
        for person in self._persons_where(self._persons.c.sfdcAccountId, account_ids):
            if sfdc_type is None or person.link.sfdc_type == sfdc_type:
                found[person.link.sfdc_account_id or ""].append(person)
        return dict(found)

    def _persons_where(self, column: sa.Column[Any], values: Sequence[Any]) -> list[Person]:
        """Persons whose `column` is one of `values`, in id order, queried a chunk at a time."""
        result: list[Person] = []
        with self._db.transaction() as connection:
            for chunk in in_chunks(values):
                query = sa.select(self._persons).where(column.in_(chunk))
                result.extend(self._person(row) for row in connection.execute(query).mappings())
        return sorted(result, key=lambda person: person.id)

    def resolve_person(self, reference: str | int) -> Person:
        """A person named by id or by email; an email matching several persons is ambiguous."""
        text = str(reference).strip()
        if text.isdigit():
            return self.get_person(int(text))
        if "@" not in text:
            raise InvalidInput("reference", f"expected a person id or an email address, got {text!r}")
        matches = self.find_persons_by_email(text)
        if not matches:
            raise NotFound(f"no person has the email {text!r}")
        if len(matches) > 1:
            raise AmbiguousReference(text, [p.id for p in matches])
        return matches[0]

    def count_persons(self) -> int:
        with self._db.transaction() as connection:
            return connection.execute(sa.select(sa.func.count()).select_from(self._persons)).scalar_one()

    def _select_persons(self, condition: sa.ColumnElement[bool]) -> list[Person]:
        query = sa.select(self._persons).where(condition).order_by(self._persons.c.id)
        with self._db.transaction() as connection:
            return [self._person(row) for row in connection.execute(query).mappings()]

    def _person(self, row: sa.RowMapping) -> Person:
        link = SalesforceLink(
            sfdc_type=row["sfdcType"],
            sfdc_id=row["sfdcId"],
            sfdc_lead_id=row["sfdcLeadId"],
            sfdc_contact_id=row["sfdcContactId"],
            sfdc_account_id=row["sfdcAccountId"],
            sfdc_is_deleted=bool(row["sfdcIsDeleted"]),
            sfdc_created_date=row["sfdcCreatedDate"],
        )
        names = _EDITABLE_NAMES + tuple(self._custom)
        return Person(
            id=row["id"],
            fields={name: row[name] for name in names},
            link=link,
            created_at=row["createdAt"],
            updated_at=row["updatedAt"],
        )
