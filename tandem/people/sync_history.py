"""The sync's history as the web UI reads it: steps and errors filtered in SQL, whether an error
has since been resolved, the records each step found waiting (throughput and backlog trend), and
the changes waiting to go to Salesforce per object.

An error is resolved when what failed later worked: a record error once its person was synced to
Salesforce after it (a *Sync Lead to SFDC* activity), a job error once a later step of the same
object and operation succeeded. Nothing is written to mark it: it is read from what happened.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from tandem.people import activities as types
from tandem.people.cycle_steps import _step
from tandem.people.database import Database
from tandem.people.models import CycleStep, ErrorLevel, PendingState, StepOperation, StepStatus, SyncError
from tandem.people.sync_errors import _error
from tandem.people.tables import activities, cycle_steps, pending_changes, sync_errors

PULLS = (StepOperation.PULL_UPDATES, StepOperation.PULL_DELETES, StepOperation.PULL_CONVERSIONS)
PUSHES = (StepOperation.PUSH_UPDATES, StepOperation.PUSH_NEW)
_persons = sa.table("persons", sa.column("id"), sa.column("sfdcType"))


@dataclass(frozen=True)
class StepFilter:
    object: str | None = None
    operation: StepOperation | None = None
    status: StepStatus | None = None
    start: datetime | None = None
    end: datetime | None = None


@dataclass(frozen=True)
class ErrorFilter:
    level: ErrorLevel | None = None
    object: str | None = None
    code: str | None = None
    resolved: bool | None = None
    person_id: int | None = None
    start: datetime | None = None
    end: datetime | None = None


@dataclass(frozen=True)
class ListedError:
    error: SyncError
    resolved: bool


@dataclass(frozen=True)
class StepRecords:
    """How many records one step handled: what was waiting on its side when it ran."""

    cycle_id: str | None
    object: str
    direction: str  # "pull" (Salesforce → Tandem) or "push" (Tandem → Salesforce)
    started_at: datetime
    ended_at: datetime | None
    records: int


@dataclass(frozen=True)
class Waiting:
    """Changes waiting to go to Salesforce for persons linked to one object (or to none yet)."""

    changes: int
    persons: int
    refused: int


class SyncHistory:
    def __init__(self, db: Database) -> None:
        self._db = db

    def steps(self, since: datetime, where: StepFilter = StepFilter(), limit: int | None = None) -> list[CycleStep]:
        """Steps started since `since`, newest first."""
        c = cycle_steps.c
        query = sa.select(cycle_steps).where(c.started_at >= since).order_by(c.id.desc())
        if where.object:
            query = query.where(c.object == where.object)
        if where.operation is not None:
            query = query.where(c.operation == where.operation.value)
        if where.status is not None:
            query = query.where(c.status == where.status.value)
        if where.start is not None:
            query = query.where(c.started_at >= where.start)
        if where.end is not None:
            query = query.where(c.started_at < where.end)
        if limit is not None:
            query = query.limit(limit)
        with self._db.reading() as connection:
            return [_step(row) for row in connection.execute(query).mappings()]

    def running(self) -> CycleStep | None:
        """The step in process now, if the newest step is one."""
        query = sa.select(cycle_steps).order_by(cycle_steps.c.id.desc()).limit(1)
        with self._db.reading() as connection:
            row = connection.execute(query).mappings().first()
        step = None if row is None else _step(row)
        return step if step is not None and step.status is StepStatus.IN_PROCESS else None

    def step_records(self, since: datetime) -> list[StepRecords]:
        """Records each pull and push step since `since` handled, oldest first."""
        c = cycle_steps.c
        records = c.new_count + c.updated_count + c.deleted_count + c.failed_count + c.skipped_count
        query = (sa.select(c.cycle_id, c.object, c.operation, c.started_at, c.ended_at, records)
                 .where(c.started_at >= since, c.operation.in_([op.value for op in PULLS + PUSHES]))
                 .order_by(c.id))
        pulls = {op.value for op in PULLS}
        with self._db.reading() as connection:
            return [StepRecords(cycle_id, object_name, "pull" if operation in pulls else "push", started, ended, int(n))
                    for cycle_id, object_name, operation, started, ended, n in connection.execute(query)]

    def errors(self, since: datetime, where: ErrorFilter = ErrorFilter(), limit: int | None = None) -> list[ListedError]:
        """Errors that occurred since `since`, newest first, each with whether it is resolved."""
        e = sync_errors.c
        resolved = _resolved().label("resolved")
        query = sa.select(sync_errors, resolved).where(e.occurred_at >= since).order_by(e.id.desc())
        if where.level is not None:
            query = query.where(e.level == where.level.value)
        if where.object:
            query = query.where(e.object == where.object)
        if where.code:
            query = query.where(e.error_code == where.code)
        if where.person_id is not None:
            query = query.where(e.person_id == where.person_id)
        if where.start is not None:
            query = query.where(e.occurred_at >= where.start)
        if where.end is not None:
            query = query.where(e.occurred_at < where.end)
        if where.resolved is not None:
            query = query.where(_resolved() if where.resolved else sa.not_(_resolved()))
        if limit is not None:
            query = query.limit(limit)
        with self._db.reading() as connection:
            return [ListedError(_error(row), bool(row["resolved"])) for row in connection.execute(query).mappings()]

    def error(self, error_id: int) -> ListedError | None:
        query = sa.select(sync_errors, _resolved().label("resolved")).where(sync_errors.c.id == error_id)
        with self._db.reading() as connection:
            row = connection.execute(query).mappings().first()
        return None if row is None else ListedError(_error(row), bool(row["resolved"]))

    def waiting(self) -> dict[str, Waiting]:
        """Pending changes per Salesforce object of their person ("Lead", "Contact", or "" when unlinked)."""
        p = pending_changes.c
        refused = sa.func.sum(sa.case((p.state == PendingState.FAILED.value, 1), else_=0))
        query = (sa.select(_persons.c.sfdcType, sa.func.count(), sa.func.count(sa.distinct(p.person_id)), refused)
                 .select_from(pending_changes.join(_persons, _persons.c.id == p.person_id))
                 .group_by(_persons.c.sfdcType))
        with self._db.reading() as connection:
            return {kind or "": Waiting(int(changes), int(persons), int(failed or 0))
                    for kind, changes, persons, failed in connection.execute(query)}


def _resolved() -> sa.ColumnElement[bool]:
    e = sync_errors.c
    later = cycle_steps.alias("later")
    failed_step = cycle_steps.alias("failed_step")
    synced_since = sa.exists().where(
        activities.c.person_id == e.person_id,
        activities.c.activity_type_id == types.SYNC_LEAD_TO_SFDC.id,
        activities.c.activity_date > e.occurred_at)
    succeeded_since = sa.exists().where(
        later.c.object == e.object,
        later.c.status == StepStatus.SUCCEEDED.value,
        later.c.started_at > e.occurred_at,
        later.c.operation == sa.select(failed_step.c.operation).where(failed_step.c.id == e.cycle_step_id)
        .scalar_subquery())
    return sa.case(
        (sa.and_(e.level == ErrorLevel.RECORD.value, e.person_id.is_not(None)), synced_since),
        (sa.and_(e.level == ErrorLevel.JOB.value, e.cycle_step_id.is_not(None)), succeeded_since),
        else_=sa.false())
