"""PersonStore: persons, their activity log and the sync's bookkeeping, over SQLite or PostgreSQL.

Every mutation writes its activities (and, for marketing-side changes, its pending changes) in the
same transaction as the change itself, and validates all input before writing anything. Batch
forms do the work with one statement per kind of row; the single-record forms are built on them.
Calls made inside `with store.transaction():` share that one commit.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from tandem.errors import InvalidInput, NotFound
from tandem.people.activity_log import ActivityLog, change_row, new_lead_row
from tandem.people.api_queries import ApiQueries
from tandem.people.custom_fields import (
    define_custom_field,
    load_custom_fields,
    store_custom_field,
    update_custom_field,
)
from tandem.people.database import DEFAULT_DATABASE_URL, Database, in_chunks
from tandem.people.fields import (
    LINK_FIELDS,
    SFDC_TYPES,
    STANDARD_BY_NAME,
    FieldAccess,
    PersonField,
)
from tandem.people.lookups import PersonLookups
from tandem.people.merging import PersonMerging
from tandem.people.models import Person, SalesforceLink
from tandem.people.outbox import PendingChangeLog
from tandem.people.sync_log import SyncRunLog
from tandem.people.tables import activities, build_persons_table
from tandem.people.validation import coerce

SALESFORCE = "salesforce"
"""The `source` of changes pulled from Salesforce: they are not queued to be pushed back."""


def utcnow() -> datetime:
    return datetime.now(UTC)


class PersonStore(PersonMerging, PersonLookups, ActivityLog, PendingChangeLog, SyncRunLog, ApiQueries):
    def __init__(self, url: str = DEFAULT_DATABASE_URL) -> None:
        self._db = Database(url)
        self._custom: dict[str, PersonField] = {}
        self._persons = build_persons_table([])
        self.refresh_fields()

    # -- database ---------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return self._db.url

    def migrate(self) -> None:
        """Create or upgrade the schema to the newest revision; running it again changes nothing."""
        self._db.migrate()
        self.refresh_fields()

    def needs_migration(self) -> bool:
        return self._db.revision() != self._db.head_revision()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group several store calls into one commit; an exception rolls all of them back."""
        if self._db.in_transaction():
            yield
            return
        try:
            with self._db.transaction():
                yield
        except BaseException:
            self.refresh_fields()  # a custom field added inside was rolled back too
            raise

    def close(self) -> None:
        self._db.dispose()

    # -- fields -----------------------------------------------------------------------------

    def refresh_fields(self) -> None:
        """Re-read the custom-field catalog (another process may have added fields)."""
        try:
            with self._db.transaction() as connection:
                custom = load_custom_fields(connection)
        except (sa.exc.OperationalError, sa.exc.ProgrammingError):
            custom = []  # not migrated yet
        self._use_custom_fields(custom)

    def _use_custom_fields(self, custom: list[PersonField]) -> None:
        self._custom = {f.name: f for f in custom}
        self._persons = build_persons_table(custom)

    def fields(self) -> list[PersonField]:
        """Every person field: system, standard, Salesforce link, then custom fields."""
        return list(STANDARD_BY_NAME.values()) + list(self._custom.values())

    def field(self, name: str) -> PersonField:
        found = STANDARD_BY_NAME.get(name) or self._custom.get(name)
        if found is None:
            self.refresh_fields()
            found = self._custom.get(name)
        if found is None:
            raise InvalidInput(name, "unknown field")
        return found

    def ensure_custom_field(
        self,
        name: str,
        type: str,
        length: int | None = None,
        label: str | None = None,
        picklist_values: Sequence[str] | None = None,
        now: datetime | None = None,
    ) -> PersonField:
        """Add a custom field (a real column) or bring its label, length and picklist up to date."""
        wanted = define_custom_field(name, type, length, label, picklist_values)
        try:
            with self._db.transaction() as connection:
                stored = {f.name: f for f in load_custom_fields(connection)}
                if name in stored:
                    result = update_custom_field(connection, stored[name], wanted)
                else:
                    result = store_custom_field(connection, wanted, now or utcnow())
                stored[name] = result
        except IntegrityError:  # another process added it first
            self.refresh_fields()
            if name not in self._custom:
                raise
            return self.ensure_custom_field(name, type, length, label, picklist_values, now)
        self._use_custom_fields(list(stored.values()))
        return result

    # -- writing persons --------------------------------------------------------------------

    def add_person(self, fields: Mapping[str, Any], source: str, now: datetime | None = None) -> Person:
        [person_id] = self.add_persons([fields], source, now)
        return self.get_person(person_id)

    def add_persons(
        self, records: Sequence[Mapping[str, Any]], source: str, now: datetime | None = None
    ) -> list[int]:
        """Insert persons with a New Lead activity each; returns their ids in input order."""
        rows = [self._validated(fields, i, len(records)) for i, fields in enumerate(records)]
        return self._insert(rows, [None] * len(rows), source, now or utcnow())

    def add_linked_persons(
        self,
        records: Sequence[tuple[Mapping[str, Any], SalesforceLink]],
        source: str = SALESFORCE,
        now: datetime | None = None,
    ) -> list[int]:
        """Insert persons that already have a Salesforce record (pulled by the sync)."""
        rows = [self._validated(fields, i, len(records)) for i, (fields, _) in enumerate(records)]
        links = [self._link_values(link) for _, link in records]
        return self._insert(rows, links, source, now or utcnow())

    def _insert(
        self,
        rows: list[dict[str, Any]],
        links: list[dict[str, Any] | None],
        source: str,
        now: datetime,
    ) -> list[int]:
        if not rows:
            return []
        columns = sorted({name for row in rows for name in row})
        if any(links):
            columns += [f.name for f in LINK_FIELDS]
        params = [
            {name: None for name in columns} | row | (link or {}) | {"createdAt": now, "updatedAt": now}
            for row, link in zip(rows, links, strict=True)
        ]
        for values in params:
            values["sfdcIsDeleted"] = bool(values.get("sfdcIsDeleted"))
        table = self._persons
        with self._db.transaction() as connection:
            inserted = connection.execute(
                sa.insert(table).returning(table.c.id, sort_by_parameter_order=True), params
            )
            ids = list(inserted.scalars())
            connection.execute(
                sa.insert(activities),
                [new_lead_row(pid, values, source, now) for pid, values in zip(ids, params, strict=True)],
            )
        return ids

    def update_person(
        self,
        person_id: int,
        changes: Mapping[str, Any],
        source: str,
        reason: str | None = None,
        now: datetime | None = None,
    ) -> list[str]:
        """Change some fields; returns the names of the fields whose value really changed."""
        return self.update_persons([(person_id, changes)], source, reason, now)[0]

    def update_persons(
        self,
        updates: Sequence[tuple[int, Mapping[str, Any]]],
        source: str,
        reason: str | None = None,
        now: datetime | None = None,
    ) -> list[list[str]]:
        """Apply changes to many persons in one transaction.

        Only values that differ are written, each with a Change Data Value activity; a change from
        the marketing side (any source but `salesforce`) also becomes a pending change per field,
        for whichever person is linked now or gets linked later.
        """
        validated = [
            (person_id, self._validated(changes, i, len(updates)))
            for i, (person_id, changes) in enumerate(updates)
        ]
        return self._apply(validated, source, reason, now or utcnow(), queue=source != SALESFORCE)

    def set_salesforce_link(
        self,
        person_id: int,
        link: SalesforceLink,
        reason: str | None = None,
        now: datetime | None = None,
    ) -> list[str]:
        return self.set_salesforce_links([(person_id, link)], reason, now)[0]

    def set_salesforce_links(
        self,
        links: Sequence[tuple[int, SalesforceLink]],
        reason: str | None = None,
        now: datetime | None = None,
    ) -> list[list[str]]:
        """The sync's way to write the read-only link fields; logged like any change, never queued."""
        values = [(person_id, self._link_values(link)) for person_id, link in links]
        return self._apply(values, SALESFORCE, reason, now or utcnow(), queue=False)

    def _link_values(self, link: SalesforceLink) -> dict[str, Any]:
        if link.sfdc_type not in (*SFDC_TYPES, None):
            raise InvalidInput("sfdcType", f"expected Lead, Contact or empty, got {link.sfdc_type!r}")
        values = {name: coerce(self.field(name), value) for name, value in link.as_fields().items()}
        values["sfdcIsDeleted"] = bool(values["sfdcIsDeleted"])
        return values

    def _validated(self, changes: Mapping[str, Any], position: int, total: int) -> dict[str, Any]:
        """Typed values for user-writable fields; any bad name or value raises before a write."""
        result = {}
        for name, raw in changes.items():
            field = self.field(name)
            try:
                if field.access is not FieldAccess.EDITABLE:
                    raise InvalidInput(name, "is read-only")
                result[name] = coerce(field, raw)
            except InvalidInput as error:
                if total > 1:
                    raise InvalidInput(name, f"{error.reason} (record {position + 1})") from None
                raise
        return result

    def _apply(
        self,
        updates: list[tuple[int, dict[str, Any]]],
        source: str,
        reason: str | None,
        now: datetime,
        queue: bool,
    ) -> list[list[str]]:
        names = sorted({name for _, values in updates for name in values})
        table = self._persons
        changed_per_update: list[list[str]] = []
        writes: dict[int, dict[str, Any]] = defaultdict(dict)
        activity_rows: list[dict[str, Any]] = []
        pending: dict[tuple[int, str], Any] = {}
        with self._db.transaction() as connection:
            current = self._current_values(connection, [pid for pid, _ in updates], names)
            for person_id, values in updates:
                if person_id not in current:
                    raise NotFound(f"person {person_id} does not exist")
                row = current[person_id]
                changed = [name for name, value in values.items() if not _same(row[name], value)]
                for name in changed:
                    field = self.field(name)
                    activity_rows.append(
                        change_row(person_id, field, row[name], values[name], source, reason, now)
                    )
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
            if activity_rows:
                connection.execute(sa.insert(activities), activity_rows)
            if pending:
                self._write_pending(connection, pending, origin=source, now=now)
        return changed_per_update

    def _current_values(
        self, connection: sa.Connection, person_ids: list[int], names: list[str]
    ) -> dict[int, dict[str, Any]]:
        table = self._persons
        columns = [table.c.id, *(table.c[name] for name in names)]
        found: dict[int, dict[str, Any]] = {}
        for chunk in in_chunks(person_ids):
            for person_id, *values in connection.execute(sa.select(*columns).where(table.c.id.in_(chunk))):
                found[person_id] = dict(zip(names, values, strict=True))
        return found


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
