"""The sync's history as the web UI reads it: steps and errors filtered in SQL, whether an error
has since been resolved, the records steps found waiting (throughput, backlog trend, pace; summed
and bucketed in SQL, so 5 days of cycles cost the page a few hundred rows), and the changes
waiting to go to Salesforce per object.

An error is resolved once there is nothing left to fix: an error on a person once none of that
person's changes waits refused any more (the fix was delivered, or the change was replaced or
dropped) and the person has a Salesforce record (a refused create leaves none), any other error
once a later cycle ran without a failed step. A person flagged outside a sync filter
(`OUTSIDE_SYNC_FILTER`) is resolved once a later *SFDC Sync Filter* activity about the same filter
is logged on it (its `Rule` names it: the record came back inside the filter, or left it again,
which flags it anew) or it is no longer linked to that record; a person can stand outside the pull
filter and the push filter at once, and one filter's activity never resolves the other's flag. A
flag names its filter in its message (`_flag_rule`). An *SFDC Sync Filter* activity with no `Rule`
(Tandem has always written one) resolves no flag: a flag left standing by mistake goes with the next
activity its filter logs, one shown resolved by mistake would hide its record for good. Nothing else
is written to mark it: it is read from what is there (`resolved_ids` for `tandem status`, the
listings for the UI).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from tandem.people.activities import SFDC_SYNC_FILTER
from tandem.people.cycle_steps import _step
from tandem.people.database import Database
from tandem.people.models import CycleStep, ErrorLevel, PendingState, StepOperation, StepStatus, SyncError
from tandem.people.sync_errors import _error
from tandem.people.tables import UtcDateTime, activities, cycle_steps, pending_changes, sync_errors

OUTSIDE_FILTER = "OUTSIDE_SYNC_FILTER"
"""The error code of a person flagged outside a sync filter (`leaving = "flagged"`)."""
PUSH_FILTER = "sync.filter.push"
"""The push filter's rule; a pull filter's is `sync.filter.<object>`, the object its flag is on."""
OUTSIDE_PUSH_FILTER = f"the person is outside {PUSH_FILTER}"
"""How the push filter's flag opens (a pull filter's tells of the record): what tells the two apart."""
KEPT_IN_TANDEM = ""
"""`SyncHistory.waiting`'s key for the changes no cycle pushes."""
PULLS = (StepOperation.PULL_UPDATES, StepOperation.PULL_DELETES, StepOperation.PULL_CONVERSIONS)
PUSHES = (StepOperation.PUSH_UPDATES, StepOperation.PUSH_NEW)
_persons = sa.table("persons", sa.column("id"), sa.column("sfdcType"), sa.column("sfdcId"),
                    sa.column("sfdcIsDeleted", sa.Boolean))


@dataclass(frozen=True)
class StepFilter:
    object: str | None = None
    operation: StepOperation | None = None
    status: StepStatus | None = None
    start: datetime | None = None
    end: datetime | None = None
    before_id: int | None = None
    """Only steps written before this one (the next page of a listing, newest first)."""


@dataclass(frozen=True)
class ErrorFilter:
    level: ErrorLevel | None = None
    object: str | None = None
    code: str | None = None
    resolved: bool | None = None
    person_id: int | None = None
    start: datetime | None = None
    end: datetime | None = None
    before_id: int | None = None
    """Only errors recorded before this one (the next page of a listing, newest first)."""


@dataclass(frozen=True)
class ListedError:
    error: SyncError
    resolved: bool


Series = tuple[str, str]
"""(object, direction): direction is "pull" (Salesforce → Tandem) or "push" (Tandem → Salesforce)."""


@dataclass(frozen=True)
class Pace:
    """Records handled by finished steps, and the seconds those steps took."""

    records: int
    seconds: float
    steps: int


@dataclass(frozen=True)
class Waiting:
    """Changes waiting to go to Salesforce for persons linked to one object, or kept in Tandem only for
    persons no cycle sends (not in Salesforce, or their record deleted there)."""

    changes: int
    persons: int
    refused: int
    due: int = 0
    """Persons with a change Salesforce has not refused, that a cycle sends next (0 for those kept in Tandem)."""


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
        if where.before_id is not None:
            query = query.where(c.id < where.before_id)
        if limit is not None:
            query = query.limit(limit)
        with self._db.reading() as connection:
            return [_step(row) for row in connection.execute(query).mappings()]

    def newest(self) -> tuple[int, str, datetime | None] | None:
        """The newest step's id, status and end: these change whenever any step is written."""
        c = cycle_steps.c
        query = sa.select(c.id, c.status, c.ended_at).order_by(c.id.desc()).limit(1)
        with self._db.reading() as connection:
            row = connection.execute(query).first()
        return None if row is None else (row[0], row[1], row[2])

    def running(self) -> CycleStep | None:
        """The step in process now, if the newest step is one."""
        query = sa.select(cycle_steps).order_by(cycle_steps.c.id.desc()).limit(1)
        with self._db.reading() as connection:
            row = connection.execute(query).mappings().first()
        step = None if row is None else _step(row)
        return step if step is not None and step.status is StepStatus.IN_PROCESS else None

    def most_waiting(self, start: datetime, bucket: timedelta, buckets: int) -> dict[Series, list[int | None]]:
        """Per (object, direction), the most records one cycle's steps handled in each bucket from
        `start` (None where no cycle ran): what was waiting on that side when the cycle came."""
        c = cycle_steps.c
        index = self._bucket_index(c.started_at, start, bucket).label("bucket")
        direction = _direction().label("direction")
        per_cycle = (sa.select(index, c.object, direction, sa.func.sum(_records()).label("records"))
                     .where(c.started_at >= start, c.operation.in_(_SYNCING))
                     .group_by(index, c.cycle_id, c.object, direction).subquery())
        query = (sa.select(per_cycle.c.bucket, per_cycle.c.object, per_cycle.c.direction,
                           sa.func.max(per_cycle.c.records))
                 .group_by(per_cycle.c.bucket, per_cycle.c.object, per_cycle.c.direction))
        values: dict[Series, list[int | None]] = {}
        with self._db.reading() as connection:
            for at, object_name, way, most in connection.execute(query):
                if 0 <= int(at) < buckets:
                    values.setdefault((object_name, way), [None] * buckets)[int(at)] = int(most)
        return values

    def handled(self, start: datetime, bucket: timedelta, buckets: int) -> dict[str, list[int]]:
        """Records pull and push steps handled per object in each bucket from `start` (by when they ended)."""
        c = cycle_steps.c
        ended = sa.func.coalesce(c.ended_at, c.started_at)
        index = self._bucket_index(ended, start, bucket).label("bucket")
        query = (sa.select(index, c.object, sa.func.sum(_records()))
                 .where(ended >= start, c.operation.in_(_SYNCING)).group_by(index, c.object))
        values: dict[str, list[int]] = {}
        with self._db.reading() as connection:
            for at, object_name, total in connection.execute(query):
                if 0 <= int(at) < buckets:
                    values.setdefault(object_name, [0] * buckets)[int(at)] += int(total)
        return values

    def pace(self, since: datetime) -> dict[Series, Pace]:
        """Per (object, direction), the records finished steps handled since `since` and the seconds they took."""
        c = cycle_steps.c
        direction = _direction().label("direction")
        busy = sa.func.sum(self._seconds(c.ended_at, c.started_at))
        query = (sa.select(c.object, direction, sa.func.sum(_records()), busy, sa.func.count())
                 .where(c.started_at >= since, c.ended_at.is_not(None), c.operation.in_(_SYNCING))
                 .group_by(c.object, direction))
        with self._db.reading() as connection:
            return {(object_name, way): Pace(int(records or 0), float(seconds or 0), int(steps))
                    for object_name, way, records, seconds, steps in connection.execute(query)}

    def left_by_last_pulls(self, look_back: int = 40) -> dict[str, int]:
        """Per object, the records its latest cycle's pull steps left for the next cycle (failed; a record
        read and found unchanged is not left), among the last `look_back` steps: what the dashboard and
        `/metrics` show as waiting in Salesforce, the rest being known only to the next pull."""
        c = cycle_steps.c
        query = (sa.select(c.cycle_id, c.object, c.operation, c.failed_count).order_by(c.id.desc()).limit(look_back))
        pulls = {op.value for op in PULLS}
        found: dict[str, int] = {}
        cycle_of: dict[str, str | None] = {}
        with self._db.reading() as connection:
            for cycle_id, object_name, operation, records in connection.execute(query):
                if operation not in pulls or cycle_of.setdefault(object_name, cycle_id) != cycle_id:
                    continue
                found[object_name] = found.get(object_name, 0) + int(records)
        return found

    def api_calls_since(self, since: datetime) -> int:
        query = sa.select(sa.func.coalesce(sa.func.sum(cycle_steps.c.api_calls), 0)).where(
            cycle_steps.c.started_at >= since)
        with self._db.reading() as connection:
            return int(connection.execute(query).scalar_one())

    def _seconds(self, later: Any, earlier: Any) -> sa.ColumnElement[float]:
        if self._db.sqlite:
            return (sa.func.julianday(later) - sa.func.julianday(earlier)) * 86400.0
        return sa.func.extract("epoch", later - earlier)

    def _bucket_index(self, moment: Any, start: datetime, bucket: timedelta) -> sa.ColumnElement[int]:
        offset = self._seconds(moment, sa.literal(start, UtcDateTime())) / bucket.total_seconds()
        if self._db.sqlite:
            return sa.cast(offset, sa.Integer)  # never negative here: truncation is the floor
        return sa.cast(sa.func.floor(offset), sa.Integer)

    def errors(self, since: datetime, where: ErrorFilter = ErrorFilter(), limit: int | None = None) -> list[ListedError]:
        """Errors that occurred since `since`, newest first, each with whether it is resolved."""
        e = sync_errors.c
        joined, resolved = _listing(self._db.sqlite)
        query = (sa.select(sync_errors, resolved.label("resolved")).select_from(joined)
                 .where(e.occurred_at >= since).order_by(e.id.desc()))
        if where.level is not None:
            query = query.where(e.level == where.level.value)
        if where.object:
            query = query.where(e.object == where.object)
        if where.code:
            query = query.where(sa.func.upper(e.error_code) == where.code.upper())  # codes are ASCII: any case
        if where.person_id is not None:
            query = query.where(e.person_id == where.person_id)
        if where.start is not None:
            query = query.where(e.occurred_at >= where.start)
        if where.end is not None:
            query = query.where(e.occurred_at < where.end)
        if where.before_id is not None:
            query = query.where(e.id < where.before_id)
        if where.resolved is not None:
            query = query.where(resolved if where.resolved else sa.not_(resolved))
        if limit is not None:
            query = query.limit(limit)
        with self._db.reading() as connection:
            return [ListedError(_error(row), bool(row["resolved"])) for row in connection.execute(query).mappings()]

    def error(self, error_id: int) -> ListedError | None:
        joined, resolved = _listing(self._db.sqlite)
        query = (sa.select(sync_errors, resolved.label("resolved")).select_from(joined)
                 .where(sync_errors.c.id == error_id))
        with self._db.reading() as connection:
            row = connection.execute(query).mappings().first()
        return None if row is None else ListedError(_error(row), bool(row["resolved"]))

    def resolved_ids(self, error_ids: Sequence[int]) -> set[int]:
        """Which of these errors are resolved."""
        listed, resolved = _listing(self._db.sqlite)
        query = sa.select(sync_errors.c.id).select_from(listed).where(sync_errors.c.id.in_(error_ids), resolved)
        with self._db.reading() as connection:
            return {row[0] for row in connection.execute(query)} if error_ids else set()

    def flagged_outside_filter(self, person_ids: Sequence[int], rule: str) -> set[int]:
        """Those of these persons whose flag outside the filter `rule` names (`sync.filter.Contact`,
        `sync.filter.push`) still stands."""
        if not person_ids:
            return set()
        listed, resolved = _listing(self._db.sqlite)
        e = sync_errors.c
        query = (sa.select(e.person_id).select_from(listed)
                 .where(e.error_code == OUTSIDE_FILTER, e.person_id.in_(sorted(set(person_ids))),
                        _flag_rule() == rule, sa.not_(resolved)))
        with self._db.reading() as connection:
            return {row[0] for row in connection.execute(query)}

    def waiting(self) -> dict[str, Waiting]:
        """Pending changes per Salesforce object a cycle pushes them to ("Lead", "Contact"), and under
        `KEPT_IN_TANDEM` those of persons not linked to a live record, which no cycle pushes (Sync
        Person to SFDC sends them): the one count every status output shows."""
        p = pending_changes.c
        pushed = _persons.c.sfdcId.is_not(None) & _persons.c.sfdcIsDeleted.is_(False)
        kind = sa.case((pushed, _persons.c.sfdcType), else_=sa.literal(KEPT_IN_TANDEM)).label("kind")
        refused = sa.func.sum(sa.case((p.state == PendingState.FAILED.value, 1), else_=0))
        due = sa.func.count(sa.distinct(sa.case((pushed & (p.state != PendingState.FAILED.value), p.person_id))))
        query = (sa.select(kind, sa.func.count(), sa.func.count(sa.distinct(p.person_id)), refused, due)
                 .select_from(pending_changes.join(_persons, _persons.c.id == p.person_id))
                 .group_by(kind))
        with self._db.reading() as connection:
            return {kind or "": Waiting(int(changes), int(persons), int(failed or 0), int(due))
                    for kind, changes, persons, failed, due in connection.execute(query)}


_SYNCING = [op.value for op in PULLS + PUSHES]


def _records() -> sa.ColumnElement[int]:
    c = cycle_steps.c
    return c.new_count + c.updated_count + c.deleted_count + c.failed_count + c.skipped_count


def _direction() -> sa.ColumnElement[str]:
    return sa.case((cycle_steps.c.operation.in_([op.value for op in PULLS]), "pull"), else_="push")


def _flag_rule() -> sa.ColumnElement[str]:
    """The filter a flag (`OUTSIDE_SYNC_FILTER`) is about, as its message names it: the push filter,
    or the pull filter of the object it is on."""
    e = sync_errors.c
    return sa.case((e.message.startswith(f"{OUTSIDE_PUSH_FILTER} (", autoescape=True), PUSH_FILTER),
                   else_=sa.literal("sync.filter.") + e.object)


def _rule_is(rule: sa.ColumnElement[str], sqlite: bool) -> sa.ColumnElement[bool]:
    """Whether an activity's `Rule` attribute is `rule` (its attributes are a JSON list of name and value)."""
    attributes = activities.c.attributes
    if sqlite:
        each = sa.func.json_each(attributes).table_valued("value").alias("attribute")
        return (sa.select(each.c.value).where(sa.func.json_extract(each.c.value, "$.name") == "Rule",
                                              sa.func.json_extract(each.c.value, "$.value") == rule)
                .correlate_except(each).exists())
    wanted = sa.func.jsonb_build_array(sa.func.jsonb_build_object(
        sa.literal_column("'name'"), sa.literal_column("'Rule'"), sa.literal_column("'value'"), rule))
    return sa.cast(attributes, JSONB).op("@>")(wanted)


def _listing(sqlite: bool) -> tuple[sa.FromClause, sa.ColumnElement[bool]]:
    """`sync_errors` and whether each is resolved: the one rule `tandem status`, `tandem person
    show` and the web UI all use (see the module's docstring).

    An error on a person asks whether a change of that person still waits refused (by the person's
    index) or the person has no record yet; any other error the start of the latest cycle none of
    whose steps failed, found once per query.
    """
    e = sync_errors.c
    p = pending_changes.c
    steps = cycle_steps.c
    refused_left = (sa.select(p.person_id).where(p.person_id == e.person_id, p.state == PendingState.FAILED.value)
                    .correlate(sync_errors).exists())
    not_created = (sa.select(_persons.c.id).where(_persons.c.id == e.person_id, _persons.c.sfdcId.is_(None))
                   .correlate(sync_errors).exists())  # a create Salesforce refused: no change waits, no record
    clean = (sa.select(sa.func.min(steps.started_at).label("began")).group_by(steps.cycle_id)
             .having(sa.func.sum(sa.case((steps.status == StepStatus.FAILED.value, 1), else_=0)) == 0)
             .subquery("clean"))
    last_clean = sa.select(sa.func.max(clean.c.began)).scalar_subquery()
    a = activities.c
    filter_event_since = (sa.select(a.id).where(a.person_id == e.person_id, a.activity_type_id == SFDC_SYNC_FILTER.id,
                                                a.activity_date > e.occurred_at, _rule_is(_flag_rule(), sqlite))
                          .correlate(sync_errors).exists())
    still_linked = (sa.select(_persons.c.id).where(_persons.c.id == e.person_id, _persons.c.sfdcId == e.sfdc_id)
                    .correlate(sync_errors).exists())
    resolved = sa.case(
        (e.error_code == OUTSIDE_FILTER, sa.or_(filter_event_since, sa.not_(still_linked))),
        (e.person_id.is_not(None), sa.not_(sa.or_(refused_left, not_created))),
        else_=sa.func.coalesce(last_clean > e.occurred_at, sa.false()))
    return sync_errors, resolved
