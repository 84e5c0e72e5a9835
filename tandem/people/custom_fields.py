"""Custom person fields: a row in `person_fields` plus a real column on `persons`, added together.

They come from Salesforce at run time (the sync's schema step), so they are data, not migrations:
the catalog row and the `ALTER TABLE` commit in one transaction and a new store reads them back.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa

from tandem.errors import InvalidInput
from tandem.people.fields import (
    CUSTOM_FIELD_ID_OFFSET,
    TEXT_LIKE,
    FieldType,
    PersonField,
    check_custom_field_name,
)
from tandem.people.tables import person_column, person_fields

_MAX_TEXT_LENGTH = 131_072


def define_custom_field(
    name: str,
    type: str,
    length: int | None,
    label: str | None,
    picklist_values: Sequence[str] | None,
) -> PersonField:
    """Check a custom field's definition and build it (its id is set once it is stored)."""
    check_custom_field_name(name)
    try:
        field_type = FieldType(type)
    except ValueError:
        allowed = ", ".join(t.value for t in FieldType)
        raise InvalidInput(name, f"unknown field type {type!r} (one of {allowed})") from None
    if length is not None:
        if field_type not in TEXT_LIKE | {FieldType.TEXT}:
            raise InvalidInput(name, f"a {field_type} field has no length")
        if not 1 <= length <= _MAX_TEXT_LENGTH:
            raise InvalidInput(name, f"length must be between 1 and {_MAX_TEXT_LENGTH}, got {length}")
    values = tuple(picklist_values or ())
    if values and field_type is not FieldType.PICKLIST:
        raise InvalidInput(name, "only picklist fields have picklist values")
    return PersonField(
        id=0,
        name=name,
        type=field_type,
        label=label or name.removesuffix("__c").replace("_", " "),
        length=length,
        custom=True,
        picklist_values=values,
    )


def load_custom_fields(connection: sa.Connection) -> list[PersonField]:
    rows = connection.execute(sa.select(person_fields).order_by(person_fields.c.id)).mappings()
    return [_from_row(row) for row in rows]


def store_custom_field(connection: sa.Connection, field: PersonField, now: datetime) -> PersonField:
    """Insert the catalog row, then add the column, in the caller's transaction."""
    row_id = connection.execute(
        sa.insert(person_fields).values(
            name=field.name,
            type=field.type.value,
            length=field.length,
            label=field.label,
            picklist_values=list(field.picklist_values) or None,
            created_at=now,
        )
    ).inserted_primary_key[0]
    column = sa.schema.CreateColumn(person_column(field)).compile(dialect=connection.dialect)
    connection.exec_driver_sql(f"ALTER TABLE persons ADD COLUMN {column}")
    return _with_id(field, row_id)


def update_custom_field(connection: sa.Connection, stored: PersonField, wanted: PersonField) -> PersonField:
    """Apply a new label, length or picklist; a type change is refused (values would not fit)."""
    if stored.type is not wanted.type:
        raise InvalidInput(
            wanted.name, f"is already a {stored.type} field; changing its type to {wanted.type} is not supported"
        )
    connection.execute(
        sa.update(person_fields)
        .where(person_fields.c.name == wanted.name)
        .values(
            label=wanted.label,
            length=wanted.length,
            picklist_values=list(wanted.picklist_values) or None,
        )
    )
    return _with_id(wanted, stored.id - CUSTOM_FIELD_ID_OFFSET)


def _with_id(field: PersonField, row_id: int) -> PersonField:
    return PersonField(
        id=CUSTOM_FIELD_ID_OFFSET + row_id,
        name=field.name,
        type=field.type,
        label=field.label,
        length=field.length,
        custom=True,
        picklist_values=field.picklist_values,
    )


def _from_row(row: sa.RowMapping) -> PersonField:
    return PersonField(
        id=CUSTOM_FIELD_ID_OFFSET + row["id"],
        name=row["name"],
        type=FieldType(row["type"]),
        label=row["label"],
        length=row["length"],
        custom=True,
        picklist_values=tuple(row["picklist_values"] or ()),
    )
