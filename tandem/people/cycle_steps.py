"""Cycle steps: what each step of a sync cycle did (the dashboard's history).

Callers pass `now` where time matters, so the rules are testable without waiting.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from tandem.errors import InvalidInput, NotFound
from tandem.people.database import Database
from tandem.people.models import CycleStep, StepCounts, StepOperation, StepStatus
from tandem.people.tables import cycle_steps
from tandem.people.validation import enum_member

_COUNTS = ("new", "updated", "deleted", "failed", "skipped")
_ADD_COUNTS = sa.update(cycle_steps).where(cycle_steps.c.id == sa.bindparam("step_id")).values({
    f"{name}_count": cycle_steps.c[f"{name}_count"] + sa.bindparam(name, type_=sa.Integer()) for name in _COUNTS})
"""A page's counts added to its step's: built once, as a pull runs it for every page."""


class CycleSteps:
    def __init__(self, db: Database) -> None:
        self._db = db

    def start(
        self,
        object: str,
        operation: StepOperation,
        cycle_id: str | None = None,
        now: datetime | None = None,
    ) -> CycleStep:
        """Open a step in status In Process; `finish` closes it."""
        operation = enum_member(StepOperation, operation, "operation")
        row = {
            "cycle_id": cycle_id, "object": object, "operation": operation.value,
            "status": StepStatus.IN_PROCESS.value, "started_at": now or datetime.now(UTC), "ended_at": None,
            "new_count": 0, "updated_count": 0, "deleted_count": 0, "failed_count": 0,
            "skipped_count": 0, "message": None, "api_calls": 0,
        }
        with self._db.transaction() as connection:
            step_id = connection.execute(sa.insert(cycle_steps).values(row)).inserted_primary_key[0]
        return _step({**row, "id": step_id})

    def finish(
        self,
        step_id: int,
        status: StepStatus,
        counts: StepCounts | None = StepCounts(),
        message: str | None = None,
        now: datetime | None = None,
        api_calls: int = 0,
    ) -> CycleStep:
        status = enum_member(StepStatus, status, "status")
        if status is StepStatus.IN_PROCESS:
            raise InvalidInput("status", "a finished step cannot be In Process")
        values: dict[str, object] = {
            "status": status.value, "ended_at": now or datetime.now(UTC), "message": message, "api_calls": api_calls,
        }
        if counts is not None:  # None: the counts its pages kept as they committed
            values |= {"new_count": counts.new, "updated_count": counts.updated, "deleted_count": counts.deleted,
                       "failed_count": counts.failed, "skipped_count": counts.skipped}
        with self._db.transaction() as connection:
            connection.execute(sa.update(cycle_steps).where(cycle_steps.c.id == step_id).values(values))
            row = connection.execute(sa.select(cycle_steps).where(cycle_steps.c.id == step_id)).mappings().first()
        if row is None:
            raise NotFound(f"cycle step {step_id} does not exist")
        return _step(row)

    def count_so_far(self, step_id: int, counts: StepCounts) -> None:
        """Add what a page did to a running step, in the page's own transaction: a step whose process
        dies keeps the counts of every page it committed."""
        with self._db.transaction() as connection:
            connection.execute(_ADD_COUNTS, {"step_id": step_id, **{name: getattr(counts, name) for name in _COUNTS}})

    def recent(self, since: datetime | None = None, limit: int | None = None) -> list[CycleStep]:
        """Steps, newest first."""
        query = sa.select(cycle_steps).order_by(cycle_steps.c.id.desc())
        if since is not None:
            query = query.where(cycle_steps.c.started_at >= since)
        if limit is not None:
            query = query.limit(limit)
        with self._db.reading() as connection:
            return [_step(row) for row in connection.execute(query).mappings()]

    def prune(self, before: datetime) -> None:
        """Drop steps that started before `before` (the dashboard keeps 5 days)."""
        with self._db.transaction() as connection:
            connection.execute(sa.delete(cycle_steps).where(cycle_steps.c.started_at < before))


def _step(row: sa.RowMapping | dict) -> CycleStep:
    return CycleStep(
        id=row["id"],
        cycle_id=row["cycle_id"],
        object=row["object"],
        operation=StepOperation(row["operation"]),
        status=StepStatus(row["status"]),
        started_at=row["started_at"],
        ended_at=row["ended_at"],
        counts=StepCounts(
            new=row["new_count"], updated=row["updated_count"], deleted=row["deleted_count"],
            failed=row["failed_count"], skipped=row["skipped_count"],
        ),
        message=row["message"],
        api_calls=row.get("api_calls") or 0,
    )
