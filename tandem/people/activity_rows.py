"""Activity rows in Marketo's shape: built for writing, and read back into `Activity` records."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from tandem.people import activities as types
from tandem.people.activities import ActivityType
from tandem.people.fields import PersonField
from tandem.people.models import Activity
from tandem.people.origin import ChangeOrigin
from tandem.people.validation import to_json_value

ActivityEntry = tuple[int, ActivityType, str | None, Mapping[str, Any]]
"""An activity to append: person id, type, primary attribute value, attributes by name."""


class _Noise(threading.local):
    """Random hex digits read from the system's generator a few thousand at a time, per thread."""

    digits = ""
    used = 0

    def take(self, count: int) -> str:
        if self.used + count > len(self.digits):
            self.digits, self.used = os.urandom(2048).hex(), 0
        start = self.used
        self.used += count
        return self.digits[start:self.used]


_noise = _Noise()


def _fresh_noise() -> None:
    global _noise
    _noise = _Noise()  # a forked child must not draw the digits its parent will draw


os.register_at_fork(after_in_child=_fresh_noise)


def _millisecond() -> str:
    """The clock's millisecond as 12 hex digits, the leading part of an activity's id."""
    return f"{time.time_ns() // 1_000_000:012x}"


def _guid() -> str:
    """A unique id that sorts by creation time (like UUIDv7), so its unique index grows at one end:
    the millisecond, then 80 random bits."""
    return _millisecond() + _noise.take(20)


def _guids(count: int) -> list[str]:
    """`count` ids in `_guid`'s form, the clock read once (a page's New Lead activities)."""
    now = _millisecond()
    digits = os.urandom(10 * count).hex()
    return [now + digits[i:i + 20] for i in range(0, 20 * count, 20)]


def activity_row(
    person_id: int,
    kind: ActivityType,
    now: datetime,
    primary_id: int | None,
    primary_value: str | None,
    attributes: Mapping[str, Any],
) -> dict[str, Any]:
    return _row(person_id, kind, now, primary_id, primary_value,
                [{"name": k, "value": to_json_value(v)} for k, v in attributes.items()])


def _row(person_id: int, kind: ActivityType, now: datetime, primary_id: int | None, primary_value: str | None,
         attributes: list[dict[str, Any]]) -> dict[str, Any]:
    """An activity row with its attributes already in stored form (rows may share one list)."""
    return {
        "marketo_guid": _guid(),
        "person_id": person_id,
        "activity_date": now,
        "activity_type_id": kind.id,
        "primary_attribute_value_id": primary_id,
        "primary_attribute_value": primary_value,
        "attributes": attributes,
    }


NEW_LEAD_COLUMNS = ("marketo_guid", "person_id", "activity_date", "activity_type_id",
                    "primary_attribute_value_id", "primary_attribute_value", "attributes")
"""The columns of `new_lead_columns`, in order."""


def new_lead_columns(person_ids: Sequence[int], values: Sequence[Mapping[str, Any]], sfdc_types: Sequence[str | None],
                     origin: ChangeOrigin, now: datetime) -> list[Sequence[Any]]:
    """The New Lead activity of each person just added, with the values it was added with, a
    column of `NEW_LEAD_COLUMNS` at a time (a pull writes them by the hundred thousand)."""
    made: dict[tuple[Any, Any], list[dict[str, Any]]] = {}  # persons added together share their attributes
    created = now.date().isoformat()
    names, shared = [], []
    for person_id, fields, sfdc_type in zip(person_ids, values, sfdc_types, strict=True):
        get = fields.get
        lead_source = get("leadSource")
        attributes = made.get((lead_source, sfdc_type))
        if attributes is None:
            shown = {"Created Date": created, "Source Type": origin.value}
            if lead_source:
                shown["Lead Source"] = lead_source
            if sfdc_type:
                shown["SFDC Type"] = sfdc_type
            attributes = made[(lead_source, sfdc_type)] = [{"name": k, "value": v} for k, v in shown.items()]
        first, last = get("firstName"), get("lastName")
        names.append((f"{first} {last}" if first and last else first or last) or get("email") or f"Person {person_id}")
        shared.append(attributes)
    count = len(names)
    return [_guids(count), person_ids, [now] * count, [types.NEW_LEAD.id] * count, person_ids, names, shared]


def change_row(
    person_id: int,
    field: PersonField,
    old: Any,
    new: Any,
    origin: ChangeOrigin,
    reason: str | None,
    now: datetime,
) -> dict[str, Any]:
    attributes: dict[str, Any] = {"Field": field.name, "Old Value": old, "New Value": new, "Source": origin.value}
    if reason:
        attributes["Reason"] = reason
    return activity_row(person_id, types.CHANGE_DATA_VALUE, now, field.id, field.label, attributes)


def activity_from_row(row: Mapping[str, Any]) -> Activity:
    return Activity(
        id=row["id"],
        marketo_guid=row["marketo_guid"],
        person_id=row["person_id"],
        activity_date=row["activity_date"],
        activity_type_id=row["activity_type_id"],
        primary_attribute_value_id=row["primary_attribute_value_id"],
        primary_attribute_value=row["primary_attribute_value"],
        attributes=list(row["attributes"]),
    )


def activity_from_json(record: Mapping[str, Any]) -> Activity:
    """The inverse of `Activity.as_json` (a deleted person's log is kept that way in its tombstone)."""
    return Activity(
        id=record["id"], marketo_guid=record["marketoGUID"], person_id=record["leadId"],
        activity_date=datetime.fromisoformat(record["activityDate"].replace("Z", "+00:00")),
        activity_type_id=record["activityTypeId"], primary_attribute_value_id=record["primaryAttributeValueId"],
        primary_attribute_value=record["primaryAttributeValue"], attributes=list(record["attributes"]),
    )
