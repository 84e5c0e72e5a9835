"""Reading records: field values with their defaults and computed names, and JSON-ready bodies."""

from __future__ import annotations

from tandem.emulator.model.fields import FieldDef
from tandem.emulator.model.schema import ObjectSchema
from tandem.emulator.model.values import render

_NAME_PARTS = ("FirstName", "MiddleName", "LastName", "Suffix")


def person_name(record: dict) -> str | None:
    parts = [record[p] for p in _NAME_PARTS if record.get(p)]
    return " ".join(parts) if parts else None


def field_value(obj: ObjectSchema, record: dict, f: FieldDef) -> object:
    """The native value of `f` on a stored record (stored dicts omit nulls and false booleans)."""
    value = record.get(f.name)
    if value is None:
        if f.type == "boolean":
            return False
        if f.name == "Name" and obj.has_person_name:
            return person_name(record)
    return value


def record_url(api_version: str, object_name: str, record_id: str) -> str:
    return f"/services/data/v{api_version}/sobjects/{object_name}/{record_id}"


def attributes(api_version: str, object_name: str, record_id: str) -> dict:
    return {"type": object_name, "url": record_url(api_version, object_name, record_id)}


def render_record(obj: ObjectSchema, record: dict, fields: list[FieldDef], api_version: str) -> dict:
    body: dict = {"attributes": attributes(api_version, obj.name, record["Id"])}
    for f in fields:
        body[f.name] = render(f, field_value(obj, record, f))
    return body
