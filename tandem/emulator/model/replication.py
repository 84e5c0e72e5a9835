"""getUpdated / getDeleted: Ids changed or deleted in a time window, read from the stamp index.

Salesforce ignores seconds in both bounds, looks back at most 30 days, and reports the latest
minute it covered so the next window can start there.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from tandem.emulator.model.errors import ApiError
from tandem.emulator.model.records import to_ms
from tandem.emulator.model.schema import ObjectSchema
from tandem.emulator.model.state import OrgState
from tandem.emulator.model.values import render_native

WINDOW = timedelta(days=30)
DELETE_LOG_KEPT = timedelta(days=15)
MAX_IDS = 600_000


def _minute(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).replace(second=0, microsecond=0)


def _window(state: OrgState, obj: ObjectSchema, start: datetime, end: datetime) -> tuple[datetime, datetime]:
    if obj.name == "Organization" or not isinstance(start, datetime) or not isinstance(end, datetime):
        raise ApiError("invalid replication date range", error_code="INVALID_REPLICATION_DATE")
    now = state.clock.now()
    start, end = _minute(start), _minute(end)
    if start >= end:
        raise ApiError("startDate must chronologically precede endDate", error_code="INVALID_REPLICATION_DATE")
    if start < _minute(now - WINDOW):
        raise ApiError("startDate cannot be more than 30 days ago", error_code="INVALID_REPLICATION_DATE")
    if end - start > WINDOW:
        raise ApiError("the replication window cannot exceed 30 days", error_code="INVALID_REPLICATION_DATE")
    covered = min(end, _minute(now))
    return start, max(covered, start)


def updated(state: OrgState, obj: ObjectSchema, start: datetime, end: datetime) -> dict:
    low, covered = _window(state, obj, start, end)
    store = state.stores[obj.name]
    found = []
    for record_id in store.stamp_range(to_ms(low), to_ms(covered), high_inclusive=False):
        if not store.records[record_id].get("IsDeleted"):
            found.append(record_id)
            if len(found) > MAX_IDS:
                raise ApiError("record limit reached, use a smaller window", error_code="EXCEEDED_ID_LIMIT")
    return {"ids": found, "latestDateCovered": render_native(covered)}


def deleted(state: OrgState, obj: ObjectSchema, start: datetime, end: datetime) -> dict:
    low, covered = _window(state, obj, start, end)
    store = state.stores[obj.name]
    found = []
    for record_id in store.stamp_range(to_ms(low), to_ms(covered), high_inclusive=False):
        record = store.records[record_id]
        if record.get("IsDeleted"):
            found.append({"id": record_id, "deletedDate": render_native(record["SystemModstamp"])})
            if len(found) > MAX_IDS:
                raise ApiError("record limit reached, use a smaller window", error_code="EXCEEDED_ID_LIMIT")
    earliest = _minute(state.clock.now() - DELETE_LOG_KEPT)
    return {"deletedRecords": found, "earliestDateAvailable": render_native(earliest),
            "latestDateCovered": render_native(covered)}
