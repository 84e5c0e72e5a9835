"""The sync's run records: watermarks, cycle steps, sync errors and the one-cycle-at-a-time lease.

Callers pass `now` where time matters (lease expiry), so the rules are testable without waiting.
A watermark set inside `store.transaction()` commits with the records it covers.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from tandem.errors import InvalidInput, NotFound
from tandem.people.database import Database
from tandem.people.models import (
    CycleStep,
    ErrorLevel,
    Lease,
    StepCounts,
    StepOperation,
    StepStatus,
    SyncError,
    Watermark,
)
from tandem.people.tables import cycle_steps, leases, sync_errors, watermarks

E = TypeVar("E", StepOperation, StepStatus, ErrorLevel)


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


class SyncRunLog:
    """Watermark, cycle-step, sync-error and lease methods of `PersonStore`."""

    _db: Database

    # -- watermarks -------------------------------------------------------------------------

    def get_watermark(self, object: str, stream: str) -> Watermark | None:
        query = sa.select(watermarks).where(watermarks.c.object == object, watermarks.c.stream == stream)
        with self._db.transaction() as connection:
            row = connection.execute(query).mappings().first()
        return None if row is None else Watermark(**row)

    def set_watermark(self, object: str, stream: str, value: str, now: datetime | None = None) -> Watermark:
        key = (watermarks.c.object == object) & (watermarks.c.stream == stream)
        mark = Watermark(object=object, stream=stream, value=value, set_at=_now(now))
        with self._db.transaction() as connection:
            connection.execute(sa.delete(watermarks).where(key))
            connection.execute(sa.insert(watermarks).values(**vars(mark)))
        return mark

    def list_watermarks(self) -> list[Watermark]:
        query = sa.select(watermarks).order_by(watermarks.c.object, watermarks.c.stream)
        with self._db.transaction() as connection:
            return [Watermark(**row) for row in connection.execute(query).mappings()]

    # -- cycle steps ------------------------------------------------------------------------

    def start_cycle_step(
        self,
        object: str,
        operation: StepOperation,
        cycle_id: str | None = None,
        now: datetime | None = None,
    ) -> CycleStep:
        """Open a step in status In Process; `finish_cycle_step` closes it."""
        operation = _enum(StepOperation, operation, "operation")
        row = {
            "cycle_id": cycle_id, "object": object, "operation": operation.value,
            "status": StepStatus.IN_PROCESS.value, "started_at": _now(now), "ended_at": None,
            "new_count": 0, "updated_count": 0, "deleted_count": 0, "failed_count": 0,
            "skipped_count": 0, "message": None, "api_calls": 0,
        }
        with self._db.transaction() as connection:
            step_id = connection.execute(sa.insert(cycle_steps).values(row)).inserted_primary_key[0]
        return _step({**row, "id": step_id})

    def finish_cycle_step(
        self,
        step_id: int,
        status: StepStatus,
        counts: StepCounts = StepCounts(),
        message: str | None = None,
        now: datetime | None = None,
        api_calls: int = 0,
    ) -> CycleStep:
        status = _enum(StepStatus, status, "status")
        if status is StepStatus.IN_PROCESS:
            raise InvalidInput("status", "a finished step cannot be In Process")
        values = {
            "status": status.value, "ended_at": _now(now), "message": message,
            "new_count": counts.new, "updated_count": counts.updated, "deleted_count": counts.deleted,
            "failed_count": counts.failed, "skipped_count": counts.skipped, "api_calls": api_calls,
        }
        with self._db.transaction() as connection:
            connection.execute(sa.update(cycle_steps).where(cycle_steps.c.id == step_id).values(values))
            row = connection.execute(sa.select(cycle_steps).where(cycle_steps.c.id == step_id)).mappings().first()
        if row is None:
            raise NotFound(f"cycle step {step_id} does not exist")
        return _step(row)

    def list_cycle_steps(self, since: datetime | None = None, limit: int | None = None) -> list[CycleStep]:
        """Steps, newest first."""
        query = sa.select(cycle_steps).order_by(cycle_steps.c.id.desc())
        if since is not None:
            query = query.where(cycle_steps.c.started_at >= since)
        if limit is not None:
            query = query.limit(limit)
        with self._db.transaction() as connection:
            return [_step(row) for row in connection.execute(query).mappings()]

    # -- sync errors ------------------------------------------------------------------------

    def record_sync_error(
        self,
        level: ErrorLevel,
        error_code: str,
        message: str,
        object: str | None = None,
        sfdc_id: str | None = None,
        person_id: int | None = None,
        cycle_step_id: int | None = None,
        now: datetime | None = None,
    ) -> SyncError:
        level = _enum(ErrorLevel, level, "level")
        row = {
            "occurred_at": _now(now), "level": level.value, "error_code": error_code, "message": message,
            "object": object, "sfdc_id": sfdc_id, "person_id": person_id, "cycle_step_id": cycle_step_id,
        }
        with self._db.transaction() as connection:
            error_id = connection.execute(sa.insert(sync_errors).values(row)).inserted_primary_key[0]
        return _error({**row, "id": error_id})

    def list_sync_errors(
        self,
        since: datetime | None = None,
        level: ErrorLevel | None = None,
        person_id: int | None = None,
        limit: int | None = None,
    ) -> list[SyncError]:
        """Errors, newest first, filtered by time, level or person."""
        query = sa.select(sync_errors).order_by(sync_errors.c.id.desc())
        if since is not None:
            query = query.where(sync_errors.c.occurred_at >= since)
        if level is not None:
            query = query.where(sync_errors.c.level == _enum(ErrorLevel, level, "level").value)
        if person_id is not None:
            query = query.where(sync_errors.c.person_id == person_id)
        if limit is not None:
            query = query.limit(limit)
        with self._db.transaction() as connection:
            return [_error(row) for row in connection.execute(query).mappings()]

    def prune_sync_history(self, before: datetime) -> None:
        """Drop cycle steps and sync errors older than `before` (the dashboard keeps 5 days)."""
        with self._db.transaction() as connection:
            connection.execute(sa.delete(cycle_steps).where(cycle_steps.c.started_at < before))
            connection.execute(sa.delete(sync_errors).where(sync_errors.c.occurred_at < before))

    # -- lease ------------------------------------------------------------------------------

    def acquire_lease(self, name: str, owner: str, ttl: timedelta, now: datetime | None = None) -> bool:
        """Take the lease if it is free, expired, or already ours; False if someone else holds it."""
        now = _now(now)
        claim = {"owner": owner, "acquired_at": now, "expires_at": now + ttl}
        with self._db.transaction() as connection:
            taken = connection.execute(
                sa.update(leases)
                .where(leases.c.name == name, (leases.c.owner == owner) | (leases.c.expires_at <= now))
                .values(claim)
            )
            if taken.rowcount == 1:
                return True
            try:
                with connection.begin_nested():  # a lost race must not spoil the caller's transaction
                    connection.execute(sa.insert(leases).values(name=name, **claim))
            except IntegrityError:
                return False
            return True

    def renew_lease(self, name: str, owner: str, ttl: timedelta, now: datetime | None = None) -> bool:
        """Extend a lease we still hold; False once it expired or was taken over."""
        now = _now(now)
        with self._db.transaction() as connection:
            renewed = connection.execute(
                sa.update(leases)
                .where(leases.c.name == name, leases.c.owner == owner, leases.c.expires_at > now)
                .values(expires_at=now + ttl)
            )
            return renewed.rowcount == 1

    def release_lease(self, name: str, owner: str) -> None:
        with self._db.transaction() as connection:
            connection.execute(sa.delete(leases).where(leases.c.name == name, leases.c.owner == owner))

    def get_lease(self, name: str) -> Lease | None:
        with self._db.transaction() as connection:
            row = connection.execute(sa.select(leases).where(leases.c.name == name)).mappings().first()
        return None if row is None else Lease(**row)


def _enum(kind: type[E], value: object, name: str) -> E:
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(member.value for member in kind)
        raise InvalidInput(name, f"expected one of {allowed}, got {value!r}") from None


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


def _error(row: sa.RowMapping | dict) -> SyncError:
    return SyncError(
        id=row["id"],
        occurred_at=row["occurred_at"],
        level=ErrorLevel(row["level"]),
        error_code=row["error_code"],
        message=row["message"],
        object=row["object"],
        sfdc_id=row["sfdc_id"],
        person_id=row["person_id"],
        cycle_step_id=row["cycle_step_id"],
    )
