"""Persons and activities in Marketo's wire shapes: whole-second `Z` datetimes (marketorestpython
parses `activityDate` with `%Y-%m-%dT%H:%M:%SZ`), requested fields always present, null if empty.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from tandem.people.fields import FieldType, PersonField
from tandem.people.models import Activity, Person

DEFAULT_LEAD_FIELDS = ("id", "email", "updatedAt", "createdAt", "firstName", "lastName")


def wire_value(value: Any) -> Any:
    if isinstance(value, datetime):
        # not strftime: its `%Y` writes year 1 as `1`
        return value.astimezone(UTC).replace(tzinfo=None, microsecond=0).isoformat() + "Z"
    if isinstance(value, date):
        return value.isoformat()
    return value


def lead_record(person: Person, fields: tuple[str, ...] | list[str]) -> dict[str, Any]:
    values: dict[str, Any] = {"id": person.id, "createdAt": person.created_at, "updatedAt": person.updated_at}
    values.update(person.fields)
    values.update(person.link.as_fields())
    return {name: wire_value(values.get(name)) for name in fields}


def activity_record(activity: Activity) -> dict[str, Any]:
    return {
        "id": activity.id,
        "marketoGUID": activity.marketo_guid,
        "leadId": activity.person_id,
        "activityDate": wire_value(activity.activity_date),
        "activityTypeId": activity.activity_type_id,
        "primaryAttributeValueId": activity.primary_attribute_value_id,
        "primaryAttributeValue": activity.primary_attribute_value,
        "attributes": [a for a in activity.attributes if a.get("value") not in (None, "")],
    }


def lead_change_record(activity: Activity, field: PersonField | None) -> dict[str, Any]:
    record = activity_record(activity)
    if field is None:
        record["fields"] = []
        return record
    change: dict[str, Any] = {"id": field.id, "name": field.name, "newValue": activity.attribute("New Value")}
    old = activity.attribute("Old Value")
    if old is not None:
        change["oldValue"] = old
    record["fields"] = [change]
    record["attributes"] = [a for a in record["attributes"] if a["name"] in ("Source", "Reason")]
    return record


def data_type(field: PersonField) -> str:
    return "string" if field.type is FieldType.PICKLIST else field.type.value


def describe_entry(field: PersonField) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": field.id, "displayName": field.label, "dataType": data_type(field)}
    if field.max_length is not None:
        entry["length"] = field.max_length
    entry["rest"] = {"name": field.name, "readOnly": field.read_only}
    return entry


def describe2_entry(field: PersonField) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": field.name, "displayName": field.label, "dataType": data_type(field)}
    if field.max_length is not None:
        entry["length"] = field.max_length
    entry["updateable"] = not field.read_only
    entry["crmManaged"] = field.name.startswith("sfdc") or field.custom
    return entry
