"""Persons: adding, changing, linking, deleting and reading them.

Every write validates all its input before writing anything, and writes its activities (and, for
a change from the marketing side, its pending changes) in the same transaction as the change.
Batch forms do the work with one statement per kind of row; the single-record forms are built on
them. A change reads the current values of its persons with their rows locked, in id order (on
PostgreSQL; a SQLite writer holds the whole database), so that concurrent writers queue instead of
deadlocking. Reads resolve a reference from a user (an id or an email) to exactly one person or
fail, and a gone id says where it went.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from itertools import chain
from typing import Any

import sqlalchemy as sa

from tandem.errors import AmbiguousReference, InvalidInput, NotFound
from tandem.people import activities as types
from tandem.people.activity_log import ActivityLog
from tandem.people.activity_rows import NEW_LEAD_COLUMNS, change_row, new_lead_columns
from tandem.people.database import (Database, Lookups, insert_columns, insert_returning_ids, insert_rows,
                                    lookup_chunks, one_of)
from tandem.people.field_catalog import LINK_NAMES, FieldCatalog
from tandem.people.models import Person, SalesforceLink
from tandem.people.origin import ChangeOrigin
from tandem.people.outbox import Outbox
from tandem.people.tables import activities
from tandem.people.tombstones import DELETED, Tombstone, Tombstones
from tandem.people.validation import storable


_NO_LINK = tuple(SalesforceLink().as_fields().values())
"""The link row of a person with no Salesforce record."""
MAX_PERSON_ID = 2**31 - 1
"""The largest id a person can have (PostgreSQL's `integer`)."""


class Persons:
    def __init__(self, db: Database, fields: FieldCatalog, outbox: Outbox, activities: ActivityLog,
                 tombstones: Tombstones) -> None:
        self._db = db
        self._fields = fields
        self._outbox = outbox
        self._activities = activities
        self._tombstones = tombstones
        self._lookups = Lookups()

    # -- adding -----------------------------------------------------------------------------

    def add(self, fields: Mapping[str, Any], origin: ChangeOrigin, now: datetime | None = None) -> Person:
        [person_id] = self.add_many([fields], origin, now)
        return self.get(person_id)

    def add_many(
        self, records: Sequence[Mapping[str, Any]], origin: ChangeOrigin, now: datetime | None = None
    ) -> list[int]:
        """Insert persons with a New Lead activity each; returns their ids in input order."""
        origin = ChangeOrigin.of(origin)
        rows = [self._fields.editable_values(fields, i, len(records)) for i, fields in enumerate(records)]
        return self._insert(rows, [_NO_LINK] * len(rows), origin, now or datetime.now(UTC))

    def add_linked(
        self,
        records: Sequence[tuple[Mapping[str, Any], SalesforceLink]],
        origin: ChangeOrigin = ChangeOrigin.SALESFORCE,
        now: datetime | None = None,
    ) -> list[int]:
        """Insert persons that already have a Salesforce record (pulled by the sync)."""
        origin = ChangeOrigin.of(origin)
        rows = [self._fields.editable_values(fields, i, len(records)) for i, (fields, _) in enumerate(records)]
        links = [self._fields.link_row(link) for _, link in records]
        return self._insert(rows, links, origin, now or datetime.now(UTC))

    def _insert(
        self, rows: list[dict[str, Any]], links: list[tuple[Any, ...]], origin: ChangeOrigin, now: datetime
    ) -> list[int]:
        """Insert persons: their values, and their links as `FieldCatalog.link_row` gives them."""
        if not rows:
            return []
        # Only columns some row sets (a column left out is NULL, as the value None would make it;
        # each value bound costs, and a page of new persons leaves most columns empty). The link's
        # sfdcIsDeleted, the one column with a default, is never None, so always set.
        names = list(rows[0])
        if all(list(row) == names for row in rows):  # a page the parser made: one field order, taken as it is
            values = zip(*(row.values() for row in rows))
        else:
            names = list(dict.fromkeys(chain.from_iterable(rows)))
            values = zip(*(map(row.get, names) for row in rows))
        if len(links) != len(rows):
            raise ValueError(f"{len(rows)} persons with {len(links)} links")
        columns = [*values, *zip(*links)]
        kept = [i for i, column in enumerate(columns) if column.count(None) < len(column)]
        every = (*names, *LINK_NAMES)
        stamps = [now] * len(rows)
        with self._db.transaction() as connection:
            ids = insert_returning_ids(connection, self._fields.table, [*(every[i] for i in kept), "createdAt", "updatedAt"],
                                       [*(columns[i] for i in kept), stamps, stamps])
            insert_columns(connection, activities, NEW_LEAD_COLUMNS,
                           new_lead_columns(ids, rows, [link[0] for link in links], origin, now))
        return ids

    # -- changing ---------------------------------------------------------------------------

    def update(
        self,
        person_id: int,
        changes: Mapping[str, Any],
        origin: ChangeOrigin,
        reason: str | None = None,
        now: datetime | None = None,
    ) -> list[str]:
        """Change some fields; returns the names of the fields whose value really changed."""
        return self.update_many([(person_id, changes)], origin, reason, now)[0]

    def update_many(
        self,
        updates: Sequence[tuple[int, Mapping[str, Any]]],
        origin: ChangeOrigin,
        reason: str | None = None,
        now: datetime | None = None,
        *,
        read: Mapping[int, Person] | None = None,
    ) -> list[list[str]]:
        """Apply changes to many persons in one transaction.

        Only values that differ are written, each with a Change Data Value activity; a change from
        the marketing side (`origin.queued_for_push`) also becomes a pending change per field, for
        whichever person is linked now or gets linked later. `read` are persons this transaction
        has already read with their rows locked: their current values are taken from there.
        """
        origin = ChangeOrigin.of(origin)
        validated = [
            (person_id, self._fields.editable_values(changes, i, len(updates)))
            for i, (person_id, changes) in enumerate(updates)
        ]
        return self.apply(validated, origin, reason, now or datetime.now(UTC), queue=origin.queued_for_push, read=read)

    def set_link(
        self, person_id: int, link: SalesforceLink, reason: str | None = None, now: datetime | None = None
    ) -> list[str]:
        return self.set_links([(person_id, link)], reason, now)[0]

    def set_links(
        self, links: Sequence[tuple[int, SalesforceLink]], reason: str | None = None, now: datetime | None = None,
        *, read: Mapping[int, Person] | None = None,
    ) -> list[list[str]]:
        """The sync's way to write the read-only link fields; logged like any change, never queued."""
        values = [(person_id, self._fields.link_values(link)) for person_id, link in links]
        return self.apply(values, ChangeOrigin.SALESFORCE, reason, now or datetime.now(UTC), queue=False, read=read)

    def apply(
        self,
        updates: Sequence[tuple[int, dict[str, Any]]],
        origin: ChangeOrigin,
        reason: str | None,
        now: datetime,
        queue: bool,
        read: Mapping[int, Person] | None = None,
    ) -> list[list[str]]:
        """Write values already typed (validated, or moved between persons by a merge).

        Persons in `read` were read in this transaction with their rows locked, and not changed
        since in the columns written here: their values are compared as read, not read again.
        """
        names = sorted({name for _, values in updates for name in values})
        table = self._fields.table
        changed_per_update: list[list[str]] = []
        writes: dict[int, dict[str, Any]] = defaultdict(dict)
        activity_rows: list[dict[str, Any]] = []
        pending: dict[tuple[int, str], Any] = {}
        with self._db.transaction() as connection:
            known: dict[int, dict[str, Any]] = {}
            for person_id, _ in updates:
                if read and person_id in read and (row := _row_of(read[person_id], names)) is not None:
                    known[person_id] = row
            current = self._current_values(connection, [pid for pid, _ in updates if pid not in known], names)
            current.update(known)
            for person_id, values in updates:
                if person_id not in current:
                    raise NotFound(f"person {person_id} does not exist")
                row = current[person_id]
                changed = [name for name, value in values.items() if not _same(row[name], value)]
                for name in changed:
                    field = self._fields.get(name)
                    activity_rows.append(change_row(person_id, field, row[name], values[name], origin, reason, now))
                    row[name] = writes[person_id][name] = values[name]
                    if queue:
                        pending[(person_id, name)] = values[name]
                changed_per_update.append(changed)
            for columns, group in _group_by_columns(writes).items():
                statement = (
                    sa.update(table)
                    .where(table.c.id == sa.bindparam("_id"))
                    .values({name: sa.bindparam(name) for name in (*columns, "updatedAt")})
                )
                connection.execute(statement, [{"_id": pid, **vals, "updatedAt": now} for pid, vals in group])
            insert_rows(connection, activities, activity_rows)
            if pending:
                self._outbox.queue(connection, pending, origin, now)
        return changed_per_update

    def _current_values(
        self, connection: sa.Connection, person_ids: list[int], names: list[str]
    ) -> dict[int, dict[str, Any]]:
        """The persons' current values, their rows locked in id order until the transaction ends."""
        table = self._fields.table
        columns = [table.c.id, *(table.c[name] for name in names)]
        found: dict[int, dict[str, Any]] = {}
        for chunk in lookup_chunks(connection, person_ids):
            query = _locking(sa.select(*columns).where(one_of(connection, table.c.id, chunk)).order_by(table.c.id))
            for person_id, *values in connection.execute(query):
                found[person_id] = dict(zip(names, values, strict=True))
        return found

    def lock(self, person_ids: Sequence[int]) -> list[int]:
        """Lock these persons' rows until the transaction ends, in id order; returns the ids that
        exist. Call it inside a transaction before deciding on what they hold."""
        table = self._fields.table
        found: list[int] = []
        with self._db.transaction() as connection:
            for chunk in lookup_chunks(connection, person_ids):
                query = _locking(sa.select(table.c.id).where(one_of(connection, table.c.id, chunk)).order_by(table.c.id))
                found.extend(connection.execute(query).scalars())
        return found

    # -- deleting ---------------------------------------------------------------------------

    def delete(
        self, person_id: int, origin: ChangeOrigin, now: datetime | None = None, *, remove_from_crm: bool = False
    ) -> Tombstone:
        """Delete a person; its record and whole activity log (ending with Delete Lead) stay in its tombstone."""
        self.get(person_id)  # a gone id says where it went
        self.delete_many([person_id], origin, now, remove_from_crm=remove_from_crm)
        found = self._tombstones.get(person_id)
        assert found is not None
        return found

    def delete_many(
        self, person_ids: Sequence[int], origin: ChangeOrigin, now: datetime | None = None, *,
        remove_from_crm: bool = False,
    ) -> list[int]:
        """`delete` for many in one transaction; returns the ids that existed, in order."""
        origin = ChangeOrigin.of(origin)
        now = now or datetime.now(UTC)
        with self._db.transaction():
            self.lock(person_ids)
            persons = self.get_many(person_ids)
            if persons:
                self._activities.log_many([(p.id, types.DELETE_LEAD, str(p.id),
                                            {"Remove from CRM": remove_from_crm, "Source": origin.value})
                                           for p in persons], now=now)
                self._tombstones.bury(persons, DELETED, None, origin, now)
        return [p.id for p in persons]

    # -- reading ----------------------------------------------------------------------------

    def get(self, person_id: int) -> Person:
        found = self.get_many([person_id])
        if not found:
            raise NotFound(self._tombstones.gone_message(person_id))
        return found[0]

    def get_many(self, person_ids: Sequence[int], *, lock: bool = False) -> list[Person]:
        """The persons that exist among `person_ids`, in id order (with `lock`, as `by_sfdc_ids`)."""
        return self._where("id", person_ids, lock=lock)

    def find_by_email(self, email: str) -> list[Person]:
        """Every person with this email, ignoring case (Marketo allows duplicates)."""
        if not storable(email):
            return []  # no stored email holds a character the store refuses
        table = self._fields.table
        same = sa.func.lower(table.c.email) == self._db.lowered(email.strip())
        query = sa.select(table).where(same).order_by(table.c.id)
        with self._db.reading() as connection:
            return self._fields.persons(connection.execute(query))

    def by_sfdc_ids(self, sfdc_ids: Sequence[str], *, lock: bool = False) -> dict[str, Person]:
        """The linked person per Salesforce Id (the lowest person id if several share one).

        With `lock`, inside a transaction, the rows stay locked until it ends (in id order, as
        `lock` takes them): another writer's change to them waits instead of landing between what
        the caller read and what it writes. SQLite's write transactions are exclusive already.
        """
        found: dict[str, Person] = {}
        for person in self._where("sfdcId", sfdc_ids, lock=lock):
            found.setdefault(person.link.sfdc_id or "", person)
        return found

    def unlinked_from(self, object_name: str, sfdc_ids: Sequence[str], *, lock: bool = False) -> dict[str, Person]:
        """Persons linked to no record now whose former Lead or Contact (as `object_name` says) is one of
        `sfdc_ids`: unlinked when the record left a sync filter (the lowest person id if several)."""
        column = "sfdcLeadId" if object_name == "Lead" else "sfdcContactId"
        found: dict[str, Person] = {}
        for person in self._where(column, sfdc_ids, lock=lock, unlinked=True):
            former = person.link.sfdc_lead_id if object_name == "Lead" else person.link.sfdc_contact_id
            if former:
                found.setdefault(former, person)
        return found

    def by_account_ids(self, account_ids: Sequence[str], sfdc_type: str | None = None, *,
                       lock: bool = False) -> dict[str, list[Person]]:
        """Persons per Salesforce Account Id, optionally only those linked to a Lead or Contact."""
        found: dict[str, list[Person]] = defaultdict(list)
        for person in self._where("sfdcAccountId", account_ids, lock=lock):
            if sfdc_type is None or person.link.sfdc_type == sfdc_type:
                found[person.link.sfdc_account_id or ""].append(person)
        return dict(found)

    def resolve(self, reference: str | int) -> Person:
        """A person named by id or by email; an email matching several persons is ambiguous."""
        text = str(reference).strip()
        if text.isascii() and text.isdigit():
            if int(text) > MAX_PERSON_ID:  # no database could hold such an id: looking it up would overflow
                raise NotFound(f"person {int(text)} does not exist")
            return self.get(int(text))
        if "@" not in text:
            raise InvalidInput("reference", f"expected a person id or an email address, got {text!r}")
        matches = self.find_by_email(text)
        if not matches:
            raise NotFound(f"no person has the email {text!r}")
        if len(matches) > 1:
            raise AmbiguousReference(text, [p.id for p in matches])
        return matches[0]

    def refresh_statistics(self) -> None:
        """Let PostgreSQL's planner see how many persons there are now: after a large load a plan
        made for an empty table turns each lookup by Salesforce Id into a scan. (SQLite's planner
        needs no statistics for these lookups.)"""
        if self._db.sqlite:
            return
        with self._db.engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                f"ANALYZE {self._fields.table.name}")

    def count(self) -> int:
        with self._db.reading() as connection:
            return connection.execute(sa.select(sa.func.count()).select_from(self._fields.table)).scalar_one()

    def _where(self, column: str, values: Sequence[Any], *, lock: bool = False, unlinked: bool = False) -> list[Person]:
        """Persons whose `column` is one of `values` (only those linked to no record if `unlinked`:
        the condition the partial indexes of their former Ids hold), in id order."""
        table = self._fields.table

        def query(condition: sa.ColumnElement[bool]) -> sa.Select[Any]:
            if unlinked:
                condition = sa.and_(condition, _UNLINKED)
            select = sa.select(table).where(condition)
            return _locking(select.order_by(table.c.id)) if lock else select
        found: list[Person] = []
        with self._db.reading() as connection:
            key = (table, column, lock, unlinked)
            for result in self._lookups.results(connection, key, table.c[column], values, query):
                found.extend(self._fields.persons(result))
        return sorted(found, key=lambda person: person.id)


_UNLINKED = sa.text("""coalesce(persons."sfdcId", '') = ''""")
"""Linked to no record: the condition of the partial indexes of former Ids (migration 0015), written as
they are. (As `"sfdcId" IS NULL`, SQLite, which keeps no statistics of NULLs, would read every
person never linked through the index of Salesforce Ids instead.)"""


def _locking(query: sa.Select[Any]) -> sa.Select[Any]:
    """`FOR NO KEY UPDATE` on PostgreSQL (nothing on SQLite): it excludes other writers of the
    rows but not the key-share lock that inserting one of their activities or bases takes, so
    those inserts never wait for it."""
    return query.with_for_update(key_share=True)


def _row_of(person: Person, names: Sequence[str]) -> dict[str, Any] | None:
    """A person's values of these columns as its row holds them (fields and link fields); None when
    the person was read without one of them (a custom field added since)."""
    fields, link = person.fields, person.link.as_fields()
    if any(name not in fields and name not in link for name in names):
        return None
    return {name: fields[name] if name in fields else link[name] for name in names}


def _same(old: Any, new: Any) -> bool:
    return old is None and new is None or (old is not None and new is not None and old == new)


def _group_by_columns(
    writes: dict[int, dict[str, Any]],
) -> dict[tuple[str, ...], list[tuple[int, dict[str, Any]]]]:
    """Rows that set the same columns share one executemany statement."""
    groups: dict[tuple[str, ...], list[tuple[int, dict[str, Any]]]] = defaultdict(list)
    for person_id, values in writes.items():
        groups[tuple(sorted(values))].append((person_id, values))
    return groups
