"""The sync's per-field state of each person: the outbox of pending changes and the agreed bases.

A pending change is a Tandem value not yet in Salesforce. A push marks its attempt before the
call and clears the change (by id) after success, so a value changed again in between keeps its
new pending row. The base is the last value both sides agreed on (DESIGN, "Hard parts").
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from tandem.errors import InvalidInput
from tandem.people.database import Database, in_chunks
from tandem.people.fields import PersonField
from tandem.people.models import PendingChange, PendingState
from tandem.people.tables import field_bases, pending_changes
from tandem.people.validation import coerce, to_json_value

_SQLITE_UPSERT_BASE = (
    "INSERT INTO field_bases (person_id, field, value, agreed_at) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (person_id, field) DO UPDATE SET value = excluded.value, agreed_at = excluded.agreed_at"
)


class PendingChangeLog:
    """Outbox and base methods of `PersonStore`."""

    _db: Database
    _persons: sa.Table

    def field(self, name: str) -> PersonField:
        raise NotImplementedError

    # -- pending changes --------------------------------------------------------------------

    def record_pending_changes(
        self, person_id: int, values: Mapping[str, Any], origin: str, now: datetime | None = None
    ) -> None:
        """Queue values to push (the store does this itself for marketing-side updates)."""
        typed = {(person_id, name): coerce(self.field(name), value) for name, value in values.items()}
        with self._db.transaction() as connection:
            self._write_pending(connection, typed, origin, now or datetime.now(UTC))

    def _write_pending(
        self, connection: sa.Connection, values: Mapping[tuple[int, str], Any], origin: str, now: datetime
    ) -> None:
        """Replace any earlier pending value of the same person and field (a new id, a new try).

        A replaced value that a push had sent without learning the outcome is carried along as
        `sent`, so the next pull can tell Salesforce's copy of it from a change made there.
        """
        ids = self._pending_ids(connection, values.keys())
        carried: dict[tuple[int, str], Any] = {}
        for chunk in in_chunks(ids):
            rows = connection.execute(
                sa.select(pending_changes.c.person_id, pending_changes.c.field, pending_changes.c.state,
                          pending_changes.c.value, pending_changes.c.sent).where(pending_changes.c.id.in_(chunk))
            )
            for row in rows:
                if row.state == PendingState.IN_FLIGHT.value:
                    carried[(row.person_id, row.field)] = {"value": row.value}
                elif row.sent is not None:
                    carried[(row.person_id, row.field)] = row.sent
            connection.execute(sa.delete(pending_changes).where(pending_changes.c.id.in_(chunk)))
        state = PendingState.PENDING.value
        connection.execute(
            sa.insert(pending_changes),
            [
                {
                    "person_id": person_id,
                    "field": name,
                    "value": to_json_value(value),
                    "changed_at": now,
                    "origin": origin,
                    "state": state,
                    "attempts": 0,
                    "sent": carried.get((person_id, name)),
                }
                for (person_id, name), value in values.items()
            ],
        )

    @staticmethod
    def _pending_ids(connection: sa.Connection, keys: Iterable[tuple[int, str]]) -> list[int]:
        """Ids of the pending rows for these (person, field) keys, looked up a chunk at a time."""
        wanted = set(keys)
        names = sorted({name for _, name in wanted})
        found: list[int] = []
        for chunk in in_chunks(person_id for person_id, _ in wanted):
            query = sa.select(pending_changes.c.id, pending_changes.c.person_id, pending_changes.c.field).where(
                pending_changes.c.person_id.in_(chunk),
                pending_changes.c.field.in_(names),
            )
            found.extend(row.id for row in connection.execute(query) if (row.person_id, row.field) in wanted)
        return found

    def list_pending_changes(
        self,
        person_ids: Sequence[int] | None = None,
        states: Sequence[PendingState] | None = None,
        limit: int | None = None,
    ) -> list[PendingChange]:
        """Pending changes, oldest first."""
        query = sa.select(pending_changes).order_by(pending_changes.c.id)
        if person_ids is not None:
            query = query.where(pending_changes.c.person_id.in_(list(person_ids)))
        if states is not None:
            query = query.where(pending_changes.c.state.in_([s.value for s in states]))
        if limit is not None:
            query = query.limit(limit)
        with self._db.transaction() as connection:
            return [self._pending(row) for row in connection.execute(query).mappings()]

    def pending_for_push(
        self,
        sfdc_type: str,
        after_person_id: int = 0,
        max_persons: int = 200,
        include_failed: bool = False,
    ) -> list[PendingChange]:
        """The next persons' changes to push, by person id: linked to a live `sfdc_type` record.

        Changes left in flight by a crashed push are included (replaying an update is harmless);
        failed ones wait for the person to change again, unless `include_failed` asks to retry.
        """
        persons = self._persons
        states = [PendingState.PENDING.value, PendingState.IN_FLIGHT.value]
        if include_failed:
            states.append(PendingState.FAILED.value)
        eligible = (
            sa.select(pending_changes.c.person_id)
            .join(persons, persons.c.id == pending_changes.c.person_id)
            .where(
                persons.c.sfdcType == sfdc_type,
                persons.c.sfdcId.is_not(None),
                persons.c.sfdcIsDeleted.is_(False),
                pending_changes.c.person_id > after_person_id,
                pending_changes.c.state.in_(states),
            )
            .distinct()
            .order_by(pending_changes.c.person_id)
            .limit(max_persons)
        )
        with self._db.transaction() as connection:
            person_ids = list(connection.execute(eligible).scalars())
            if not person_ids:
                return []
            query = (
                sa.select(pending_changes)
                .where(pending_changes.c.person_id.in_(person_ids), pending_changes.c.state.in_(states))
                .order_by(pending_changes.c.person_id, pending_changes.c.id)
            )
            return [self._pending(row) for row in connection.execute(query).mappings()]

    def mark_push_attempt(self, change_ids: Sequence[int], now: datetime | None = None) -> None:
        """Record, before calling Salesforce, that these changes are being pushed."""
        self._update_pending(
            change_ids,
            state=PendingState.IN_FLIGHT.value,
            attempts=pending_changes.c.attempts + 1,
            last_attempt_at=now or datetime.now(UTC),
        )

    def mark_push_failed(self, change_ids: Sequence[int], error: str) -> None:
        """Salesforce refused them: they stay queued until the person changes again or a retry."""
        self._update_pending(change_ids, state=PendingState.FAILED.value, last_error=error)

    def clear_pending_changes(self, change_ids: Sequence[int]) -> int:
        """Drop changes that reached Salesforce; returns how many were still there."""
        cleared = 0
        with self._db.transaction() as connection:
            for chunk in in_chunks(change_ids):
                cleared += connection.execute(
                    sa.delete(pending_changes).where(pending_changes.c.id.in_(chunk))
                ).rowcount
        return cleared

    def _update_pending(self, change_ids: Sequence[int], **values: Any) -> None:
        with self._db.transaction() as connection:
            for chunk in in_chunks(change_ids):
                connection.execute(
                    sa.update(pending_changes).where(pending_changes.c.id.in_(chunk)).values(**values)
                )

    def _pending(self, row: sa.RowMapping) -> PendingChange:
        return PendingChange(
            id=row["id"],
            person_id=row["person_id"],
            field=row["field"],
            value=self._typed(row["field"], row["value"]),
            changed_at=row["changed_at"],
            origin=row["origin"],
            state=PendingState(row["state"]),
            attempts=row["attempts"],
            last_attempt_at=row["last_attempt_at"],
            last_error=row["last_error"],
            sent_in_doubt=row["sent"] is not None,
            sent_value=self._typed(row["field"], row["sent"]["value"]) if row["sent"] is not None else None,
        )

    # -- bases ------------------------------------------------------------------------------

    def set_bases(
        self, person_id: int, values: Mapping[str, Any], now: datetime | None = None
    ) -> None:
        """Record the values both sides now agree on for these fields of one person."""
        self.set_bases_many({person_id: values}, now)

    def set_bases_many(
        self, values: Mapping[int, Mapping[str, Any]], now: datetime | None = None
    ) -> None:
        """`set_bases` for many persons in one upsert.

        A pull sets every synced field of every person it reads (tens of rows a person), so on
        SQLite the rows go straight to the driver, in the forms the table's types would store.
        """
        agreed_at = now or datetime.now(UTC)
        rows = {
            (person_id, name): None if value is None else to_json_value(coerce(self.field(name), value))
            for person_id, fields in values.items()
            for name, value in fields.items()
        }
        if not rows:
            return
        with self._db.transaction() as connection:
            if connection.dialect.name == "sqlite":
                stamp = agreed_at.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
                connection.exec_driver_sql(
                    _SQLITE_UPSERT_BASE,
                    [(person_id, name, "null" if value is None else json.dumps(value), stamp)
                     for (person_id, name), value in rows.items()],
                )
                return
            upsert = postgresql.insert(field_bases)
            upsert = upsert.on_conflict_do_update(
                index_elements=[field_bases.c.person_id, field_bases.c.field],
                set_={"value": upsert.excluded.value, "agreed_at": upsert.excluded.agreed_at},
            )
            connection.execute(
                upsert,
                [
                    {"person_id": person_id, "field": name, "value": value, "agreed_at": agreed_at}
                    for (person_id, name), value in rows.items()
                ],
            )

    def get_bases(self, person_id: int) -> dict[str, Any]:
        """The agreed value per field of one person (fields never agreed on are absent)."""
        return self.bases_for([person_id]).get(person_id, {})

    def bases_for(self, person_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
        """`get_bases` for many persons; persons with no agreed field are absent."""
        found: dict[int, dict[str, Any]] = {}
        with self._db.transaction() as connection:
            for chunk in in_chunks(person_ids):
                query = sa.select(field_bases).where(field_bases.c.person_id.in_(chunk))
                for row in connection.execute(query):
                    found.setdefault(row.person_id, {})[row.field] = self._typed(row.field, row.value)
        return found

    def clear_bases(self, person_id: int) -> None:
        """Forget the agreement, e.g. when the person's Salesforce link changes."""
        with self._db.transaction() as connection:
            connection.execute(sa.delete(field_bases).where(field_bases.c.person_id == person_id))

    def _typed(self, name: str, stored: Any) -> Any:
        """A stored JSON value back in its field's type; kept as is if the field is gone."""
        try:
            return coerce(self.field(name), stored)
        except InvalidInput:
            return stored
