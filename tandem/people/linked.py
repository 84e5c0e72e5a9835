"""Persons linked to Salesforce records: the bulk lookups and writes a sync page needs.

A pull applies up to 2,000 records at a time, so every read here takes many ids at once and
every write is one statement per kind of row, inside the caller's transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from tandem.people.database import Database
from tandem.people.fields import PersonField
from tandem.people.models import PendingChange, PendingState, Person, SalesforceLink
from tandem.people.tables import field_bases, pending_changes
from tandem.people.validation import coerce, to_json_value

_CHUNK = 500
LinkedRecord = tuple[Mapping[str, Any], SalesforceLink]
"""A person to create from a Salesforce record: its field values and its link."""


class LinkedPersons:
    """Salesforce-link methods of `PersonStore`."""

    _db: Database
    _persons: sa.Table

    def field(self, name: str) -> PersonField:
        raise NotImplementedError

    def _person(self, row: sa.RowMapping) -> Person:
        raise NotImplementedError

    def add_persons(self, records: Sequence[Mapping[str, Any]], source: str, now: datetime | None = None) -> list[int]:
        raise NotImplementedError

    def _apply(self, updates: list[tuple[int, dict[str, Any]]], source: str, reason: str | None,
               now: datetime, queue: bool) -> list[list[str]]:
        raise NotImplementedError

    def _pending(self, row: sa.RowMapping) -> PendingChange:
        raise NotImplementedError

    # -- lookups ------------------------------------------------------------------------------

    def persons_by_sfdc_ids(self, sfdc_ids: Sequence[str]) -> dict[str, Person]:
        """The person currently linked to each of these Salesforce Ids (18 characters)."""
        found: dict[str, Person] = {}
        for chunk in _chunks(sorted(set(sfdc_ids))):
            for person in self._select(self._persons.c.sfdcId.in_(chunk)):
                found.setdefault(person.link.sfdc_id, person)
        return found

    def persons_by_account_ids(self, account_ids: Sequence[str], sfdc_type: str | None = None) -> dict[str, list[Person]]:
        """Persons per Salesforce Account Id, optionally only those linked to a Lead or Contact."""
        found: dict[str, list[Person]] = defaultdict(list)
        table = self._persons
        for chunk in _chunks(sorted(set(account_ids))):
            condition = table.c.sfdcAccountId.in_(chunk)
            if sfdc_type is not None:
                condition = condition & (table.c.sfdcType == sfdc_type)
            for person in self._select(condition):
                found[person.link.sfdc_account_id].append(person)
        return dict(found)

    def _select(self, condition: sa.ColumnElement[bool]) -> list[Person]:
        query = sa.select(self._persons).where(condition).order_by(self._persons.c.id)
        with self._db.transaction() as connection:
            return [self._person(row) for row in connection.execute(query).mappings()]

    # -- writes -------------------------------------------------------------------------------

    def add_linked_persons(self, records: Sequence[LinkedRecord], source: str, now: datetime | None = None) -> list[int]:
        """Create persons from Salesforce records with their links, in one transaction."""
        now = now or datetime.now(UTC)
        with self._db.transaction():
            ids = self.add_persons([fields for fields, _ in records], source, now)
            self.set_salesforce_links(list(zip(ids, (link for _, link in records), strict=True)), now=now)
        return ids

    def set_salesforce_links(
        self, links: Sequence[tuple[int, SalesforceLink]], reason: str | None = None, now: datetime | None = None
    ) -> None:
        """Write the read-only link fields of many persons; logged like any change, never queued."""
        from tandem.people.store import SALESFORCE  # the store imports this module

        updates = [(person_id, self._link_values(link)) for person_id, link in links]
        self._apply(updates, SALESFORCE, reason, now or datetime.now(UTC), queue=False)

    def _link_values(self, link: SalesforceLink) -> dict[str, Any]:
        from tandem.errors import InvalidInput
        from tandem.people.fields import SFDC_TYPES

        if link.sfdc_type not in (*SFDC_TYPES, None):
            raise InvalidInput("sfdcType", f"expected Lead, Contact or empty, got {link.sfdc_type!r}")
        values = {name: coerce(self.field(name), value) for name, value in link.as_fields().items()}
        values["sfdcIsDeleted"] = bool(values["sfdcIsDeleted"])
        return values

    # -- bases --------------------------------------------------------------------------------

    def bases_for(self, person_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
        """The agreed value per field, for many persons."""
        found: dict[int, dict[str, Any]] = defaultdict(dict)
        with self._db.transaction() as connection:
            for chunk in _chunks(sorted(set(person_ids))):
                query = sa.select(field_bases.c.person_id, field_bases.c.field, field_bases.c.value).where(
                    field_bases.c.person_id.in_(chunk)
                )
                for row in connection.execute(query):
                    found[row.person_id][row.field] = self._typed_base(row.field, row.value)
        return dict(found)

    def set_bases_many(self, bases: Mapping[int, Mapping[str, Any]], now: datetime | None = None) -> None:
        """Record agreed values for many persons and fields at once."""
        now = now or datetime.now(UTC)
        rows = [
            {"p": person_id, "f": name, "value": to_json_value(coerce(self.field(name), value)), "agreed_at": now}
            for person_id, values in bases.items()
            for name, value in values.items()
        ]
        if not rows:
            return
        with self._db.transaction() as connection:
            connection.execute(
                sa.delete(field_bases).where(
                    field_bases.c.person_id == sa.bindparam("p"), field_bases.c.field == sa.bindparam("f")
                ),
                rows,
            )
            connection.execute(
                sa.insert(field_bases).values(person_id=sa.bindparam("p"), field=sa.bindparam("f")), rows
            )

    def _typed_base(self, name: str, stored: Any) -> Any:
        from tandem.errors import InvalidInput

        try:
            return coerce(self.field(name), stored)
        except InvalidInput:
            return stored

    # -- outbox for the push ------------------------------------------------------------------

    def pending_for_push(
        self, sfdc_type: str, after_person_id: int = 0, max_persons: int = 200, include_failed: bool = False
    ) -> list[PendingChange]:
        """All pending changes of the next persons (by id) linked to a live record of this type.

        A person is due when it has a change not yet tried or left in flight; its failed changes
        ride along, so a person who changes again retries everything. `include_failed` makes
        failed-only persons due too (an explicit retry).
        """
        persons = self._persons
        due_states = [PendingState.PENDING.value, PendingState.IN_FLIGHT.value]
        if include_failed:
            due_states.append(PendingState.FAILED.value)
        due = (
            sa.select(pending_changes.c.person_id)
            .join(persons, persons.c.id == pending_changes.c.person_id)
            .where(
                persons.c.sfdcType == sfdc_type,
                persons.c.sfdcId.is_not(None),
                sa.func.coalesce(persons.c.sfdcIsDeleted, sa.false()) == sa.false(),
                pending_changes.c.state.in_(due_states),
                pending_changes.c.person_id > after_person_id,
            )
            .group_by(pending_changes.c.person_id)
            .order_by(pending_changes.c.person_id)
            .limit(max_persons)
        )
        with self._db.transaction() as connection:
            ids = [row.person_id for row in connection.execute(due)]
            if not ids:
                return []
            query = (
                sa.select(pending_changes)
                .where(pending_changes.c.person_id.in_(ids))
                .order_by(pending_changes.c.person_id, pending_changes.c.id)
            )
            return [self._pending(row) for row in connection.execute(query).mappings()]


def _chunks(values: Sequence[Any]) -> list[Sequence[Any]]:
    return [values[i:i + _CHUNK] for i in range(0, len(values), _CHUNK)]
