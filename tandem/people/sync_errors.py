"""Sync errors: what Salesforce refused, per record or per job, for the sync-errors view."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from tandem.people.database import Database
from tandem.people.models import ErrorLevel, SyncError
from tandem.people.tables import sync_errors
from tandem.people.validation import enum_member

LOGIN = "login"
"""The object of a job-level error that is the sync user's refused login, not any object's step
(a login is no Salesforce object, so it is lower case beside `Account` and the schema step's `All`)."""


class SyncErrors:
    def __init__(self, db: Database) -> None:
        self._db = db

    def record(
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
        level = enum_member(ErrorLevel, level, "level")
        row = {
            "occurred_at": now or datetime.now(UTC), "level": level.value, "error_code": error_code,
            "message": message, "object": object, "sfdc_id": sfdc_id, "person_id": person_id,
            "cycle_step_id": cycle_step_id,
        }
        with self._db.transaction() as connection:
            error_id = connection.execute(sa.insert(sync_errors).values(row)).inserted_primary_key[0]
        return _error({**row, "id": error_id})

    def recent(
        self,
        since: datetime | None = None,
        level: ErrorLevel | None = None,
        person_id: int | None = None,
        limit: int | None = None,
        cycle_step_id: int | None = None,
    ) -> list[SyncError]:
        """Errors, newest first, filtered by time, level, person or the cycle step they were met in."""
        query = sa.select(sync_errors).order_by(sync_errors.c.id.desc())
        if since is not None:
            query = query.where(sync_errors.c.occurred_at >= since)
        if level is not None:
            query = query.where(sync_errors.c.level == enum_member(ErrorLevel, level, "level").value)
        if person_id is not None:
            query = query.where(sync_errors.c.person_id == person_id)
        if cycle_step_id is not None:
            query = query.where(sync_errors.c.cycle_step_id == cycle_step_id)
        if limit is not None:
            query = query.limit(limit)
        with self._db.reading() as connection:
            return [_error(row) for row in connection.execute(query).mappings()]

    def prune(self, before: datetime) -> None:
        """Drop errors that occurred before `before` (the dashboard keeps 5 days)."""
        with self._db.transaction() as connection:
            connection.execute(sa.delete(sync_errors).where(sync_errors.c.occurred_at < before))


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
