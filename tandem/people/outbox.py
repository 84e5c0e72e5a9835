"""The outbox: Tandem values not yet in Salesforce, one pending change per person and field.

A push marks its attempt before the call and clears the change (by id) after success, so a value
changed again in between keeps its new pending row.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from tandem.people.database import Database, in_chunks, lookup_chunks, one_of
from tandem.people.field_catalog import FieldCatalog
from tandem.people.models import PendingChange, PendingState
from tandem.people.origin import ChangeOrigin
from tandem.people.tables import pending_changes
from tandem.people.validation import to_json_value


class Outbox:
    def __init__(self, db: Database, fields: FieldCatalog) -> None:
        self._db = db
        self._fields = fields

    def record(
        self, person_id: int, values: Mapping[str, Any], origin: ChangeOrigin, now: datetime | None = None
    ) -> None:
        """Queue values to push (persons queue marketing-side updates themselves)."""
        origin = ChangeOrigin.of(origin)
        typed = {(person_id, name): self._fields.coerce(name, value) for name, value in values.items()}
        with self._db.transaction() as connection:
            self.queue(connection, typed, origin, now or datetime.now(UTC))

    def queue(
        self, connection: sa.Connection, values: Mapping[tuple[int, str], Any], origin: ChangeOrigin, now: datetime
    ) -> None:
        """Write typed values in the caller's transaction, replacing any earlier pending value of
        the same person and field (a new id, a new try).

        A replaced value that a push had sent without learning the outcome is carried along as
        `sent`, so the next pull can tell Salesforce's copy of it from a change made there.
        """
        ids = _pending_ids(connection, values.keys())
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
                    "origin": origin.value,
                    "state": state,
                    "attempts": 0,
                    "sent": carried.get((person_id, name)),
                }
                for (person_id, name), value in values.items()
            ],
        )

    def find(
        self,
        person_ids: Sequence[int] | None = None,
        states: Sequence[PendingState] | None = None,
        limit: int | None = None,
    ) -> list[PendingChange]:
        """Pending changes, oldest first."""
        query = sa.select(pending_changes).order_by(pending_changes.c.id)
        if states is not None:
            query = query.where(pending_changes.c.state.in_([s.value for s in states]))
        if limit is not None:
            query = query.limit(limit)
        with self._db.reading() as connection:
            if person_ids is not None:
                query = query.where(one_of(connection, pending_changes.c.person_id, list(person_ids)))
            return [self._pending(row) for row in connection.execute(query).mappings()]

    def current_ids(self, person_ids: Sequence[int]) -> dict[int, dict[str, int]]:
        """Per person with any: the id of each field's pending change (a change replaced has a new id)."""
        found: dict[int, dict[str, int]] = {}
        query = sa.select(pending_changes.c.person_id, pending_changes.c.field, pending_changes.c.id)
        with self._db.reading() as connection:
            for chunk in lookup_chunks(connection, person_ids):
                for person_id, name, change_id in connection.execute(
                        query.where(one_of(connection, pending_changes.c.person_id, chunk))):
                    found.setdefault(person_id, {})[name] = change_id
        return found

    def due_persons(
        self,
        sfdc_type: str,
        after_person_id: int = 0,
        max_persons: int = 200,
        include_failed: bool = False,
        now: datetime | None = None,
    ) -> list[int]:
        """The next persons with changes to push, in id order: linked to a live `sfdc_type` record.

        Changes left in flight by a crashed push are due (replaying an update is harmless). A
        refused change is due again with the person's next change (the record is retried whole:
        valid values refused together with a bad one are not left behind), once the pull settled
        another of its refused changes, when its back-off has run out, or always with `include_failed`.
        """
        persons = self._fields.table
        due = pending_changes.c.state.in_([PendingState.PENDING.value, PendingState.IN_FLIGHT.value])
        if include_failed:
            due = due | (pending_changes.c.state == PendingState.FAILED.value)
        else:
            retry_at = pending_changes.c.retry_at
            due = due | ((pending_changes.c.state == PendingState.FAILED.value)
                         & (retry_at.is_(None) | (retry_at <= (now or datetime.now(UTC)))))
        eligible = (
            sa.select(pending_changes.c.person_id)
            .join(persons, persons.c.id == pending_changes.c.person_id)
            .where(
                persons.c.sfdcType == sfdc_type,
                persons.c.sfdcId.is_not(None),
                persons.c.sfdcIsDeleted.is_(False),
                pending_changes.c.person_id > after_person_id,
                due,
            )
            .distinct()
            .order_by(pending_changes.c.person_id)
            .limit(max_persons)
        )
        with self._db.reading() as connection:
            return list(connection.execute(eligible).scalars())

    def mark_attempt(self, change_ids: Sequence[int], now: datetime | None = None) -> None:
        """Record, before calling Salesforce, that these changes are being pushed."""
        self._update(
            change_ids,
            state=PendingState.IN_FLIGHT.value,
            attempts=pending_changes.c.attempts + 1,
            last_attempt_at=now or datetime.now(UTC),
        )

    def mark_failed(self, change_ids: Sequence[int], error: str, now: datetime | None = None) -> None:
        """Salesforce refused them: they stay queued, offered again with the person's next change or
        once their back-off (`retry_delay` of their attempts so far) has run out."""
        now = now or datetime.now(UTC)
        attempts = sa.select(pending_changes.c.id, pending_changes.c.attempts)
        with self._db.transaction() as connection:
            by_attempts: dict[int, list[int]] = {}
            for chunk in in_chunks(change_ids):
                for change_id, tried in connection.execute(attempts.where(pending_changes.c.id.in_(chunk))):
                    by_attempts.setdefault(tried, []).append(change_id)
            for tried, ids in by_attempts.items():
                self._update(ids, state=PendingState.FAILED.value, last_error=error,
                             retry_at=now + retry_delay(tried))

    def clear_settled(self, change_ids: Sequence[int]) -> int:
        """Drop changes the pull settled (Salesforce's value kept); a person one of whose refused
        changes goes is no longer the record Salesforce refused, so its other refused changes are due
        again now, as with a change made in Tandem, not once their back-off runs out. Returns how many
        were still there."""
        refused = pending_changes.c.state == PendingState.FAILED.value
        with self._db.transaction() as connection:
            persons: set[int] = set()
            for chunk in in_chunks(change_ids):
                persons.update(connection.execute(
                    sa.select(pending_changes.c.person_id).where(pending_changes.c.id.in_(chunk), refused)).scalars())
            cleared = self.clear(change_ids)
            self.refused_due_now(sorted(persons))
        return cleared

    def refused_due_now(self, person_ids: Sequence[int]) -> None:
        """These persons' refused changes are due with the next push, their back-off forgotten (the
        record Salesforce refused them for has changed)."""
        refused = pending_changes.c.state == PendingState.FAILED.value
        with self._db.transaction() as connection:
            for chunk in in_chunks(person_ids):
                connection.execute(sa.update(pending_changes)
                                   .where(pending_changes.c.person_id.in_(chunk), refused).values(retry_at=None))

    def clear(self, change_ids: Sequence[int]) -> int:
        """Drop changes that reached Salesforce; returns how many were still there."""
        cleared = 0
        with self._db.transaction() as connection:
            for chunk in in_chunks(change_ids):
                cleared += connection.execute(
                    sa.delete(pending_changes).where(pending_changes.c.id.in_(chunk))
                ).rowcount
        return cleared

    def _update(self, change_ids: Sequence[int], **values: Any) -> None:
        with self._db.transaction() as connection:
            for chunk in in_chunks(change_ids):
                connection.execute(
                    sa.update(pending_changes).where(pending_changes.c.id.in_(chunk)).values(**values)
                )

    def _pending(self, row: sa.RowMapping) -> PendingChange:
        typed = self._fields.typed
        return PendingChange(
            id=row["id"],
            person_id=row["person_id"],
            field=row["field"],
            value=typed(row["field"], row["value"]),
            changed_at=row["changed_at"],
            origin=ChangeOrigin.stored(row["origin"]),
            state=PendingState(row["state"]),
            attempts=row["attempts"],
            last_attempt_at=row["last_attempt_at"],
            last_error=row["last_error"],
            sent_in_doubt=row["sent"] is not None,
            sent_value=typed(row["field"], row["sent"]["value"]) if row["sent"] is not None else None,
        )


RETRY_FIRST = timedelta(minutes=15)
RETRY_LONGEST = timedelta(hours=24)


def retry_delay(attempts: int) -> timedelta:
    """How long a refused change waits before it is offered again: 15 minutes, doubling with each
    attempt, at most a day."""
    return min(RETRY_FIRST * 2 ** max(attempts - 1, 0), RETRY_LONGEST)


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
