"""Activity rows in Marketo's shape: built for writing, and read back into `Activity` records."""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping
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


def _guid() -> str:
    """A unique id that sorts by creation time (like UUIDv7), so its unique index grows at one end."""
    return f"{time.time_ns() // 1_000_000:012x}{secrets.token_hex(10)}"


def activity_row(
    person_id: int,
    kind: ActivityType,
    now: datetime,
    primary_id: int | None,
    primary_value: str | None,
    attributes: Mapping[str, Any],
) -> dict[str, Any]:
    return {
        "marketo_guid": _guid(),
        "person_id": person_id,
        "activity_date": now,
        "activity_type_id": kind.id,
        "primary_attribute_value_id": primary_id,
        "primary_attribute_value": primary_value,
        "attributes": [{"name": k, "value": to_json_value(v)} for k, v in attributes.items()],
    }


def new_lead_row(person_id: int, values: Mapping[str, Any], origin: ChangeOrigin, now: datetime) -> dict[str, Any]:
    full_name = " ".join(v for v in (values.get("firstName"), values.get("lastName")) if v)
    attributes: dict[str, Any] = {"Created Date": now.date(), "Source Type": origin.value}
    if values.get("leadSource"):
        attributes["Lead Source"] = values["leadSource"]
    if values.get("sfdcType"):
        attributes["SFDC Type"] = values["sfdcType"]
    name = full_name or values.get("email") or f"Person {person_id}"
    return activity_row(person_id, types.NEW_LEAD, now, person_id, name, attributes)


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
