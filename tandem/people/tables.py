"""SQLAlchemy Core tables of the people store, for queries (the migrations create them).

`persons` is built per store from the standard fields plus the custom fields recorded in
`person_fields`, because custom columns are added at run time and differ from one database to
the next; every other table is fixed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator

from tandem.people.fields import STANDARD_FIELDS, TEXT_LIKE, FieldType, PersonField


class UtcDateTime(TypeDecorator[datetime]):
    """Stores naive UTC and returns aware UTC, so both databases compare and round-trip alike.

    On SQLite the value is the text SQLAlchemy's own DateTime would store, formatted here in one
    C call: this type sits on every activity and pending change, the store's hottest rows.
    """

    impl = sa.DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: sa.Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(sa.String())
        return dialect.type_descriptor(sa.DateTime())

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is not None:
            value = (value if value.tzinfo is UTC else value.astimezone(UTC)).replace(tzinfo=None)
        if dialect.name == "sqlite":
            return value.isoformat(sep=" ", timespec="microseconds")
        return value

    def bind_processor(self, dialect: sa.Dialect) -> Any:
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)

        def sqlite_text(value: datetime | None) -> Any:
            if value is not None and value.tzinfo is UTC:  # the common case, without a naive copy
                text = value.isoformat(" ")  # quicker than naming `timespec`, which whole seconds need
                return text[:26] if value.microsecond else text[:19] + ".000000"
            return self.process_bind_param(value, dialect)
        return sqlite_text

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            try:  # read as UTC in one call: `replace(tzinfo=…)` on the naive value costs several times more
                read = datetime.fromisoformat(value + "+00:00")
            except ValueError:
                read = None
            if read is not None and read.tzinfo is UTC:
                return read
            value = datetime.fromisoformat(value)
        return value.replace(tzinfo=UTC)


Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def column_type(field: PersonField) -> sa.types.TypeEngine[Any]:
    """The SQL type for a person field.

    Custom text columns are unbounded so that a new length from Salesforce needs no ALTER; the
    catalog's length is enforced on write instead.
    """
    if field.custom and field.type in TEXT_LIKE:
        return sa.Text()
    match field.type:
        case FieldType.TEXT:
            return sa.Text()
        case FieldType.INTEGER:
            return sa.Integer()
        case FieldType.FLOAT | FieldType.CURRENCY:
            return sa.Double()
        case FieldType.BOOLEAN:
            return sa.Boolean()
        case FieldType.DATE:
            return sa.Date()
        case FieldType.DATETIME:
            return UtcDateTime()
        case _:
            return sa.String(field.max_length or 255)


def person_column(field: PersonField) -> sa.Column[Any]:
    if field.name == "id":
        return sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True)
    if field.name == "sfdcIsDeleted":
        return sa.Column(field.name, sa.Boolean(), nullable=False, server_default=sa.false())
    nullable = field.name not in ("createdAt", "updatedAt")
    return sa.Column(field.name, column_type(field), nullable=nullable)


def build_persons_table(custom_fields: list[PersonField]) -> sa.Table:
    """The `persons` table as this database has it: standard columns plus its custom ones."""
    columns = [person_column(f) for f in STANDARD_FIELDS + tuple(custom_fields)]
    return sa.Table("persons", sa.MetaData(), *columns)


person_ids = sa.table("persons", sa.column("id"))
"""Just the ids of `persons`, for components that never read a person's fields."""


metadata = sa.MetaData()

person_fields = sa.Table(
    "person_fields", metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(64), nullable=False, unique=True),
    sa.Column("type", sa.String(16), nullable=False),
    sa.Column("length", sa.Integer()),
    sa.Column("label", sa.String(255), nullable=False),
    sa.Column("picklist_values", sa.JSON()),
    sa.Column("created_at", UtcDateTime(), nullable=False),
)

activities = sa.Table(
    "activities", metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("marketo_guid", sa.String(36), nullable=False, unique=True),
    sa.Column("person_id", sa.Integer(), nullable=False, index=True),
    sa.Column("activity_date", UtcDateTime(), nullable=False, index=True),
    sa.Column("activity_type_id", sa.Integer(), nullable=False),
    sa.Column("primary_attribute_value_id", sa.Integer()),
    sa.Column("primary_attribute_value", sa.String(255)),
    sa.Column("attributes", sa.JSON(), nullable=False),
    sa.Column("txid", sa.BigInteger(), nullable=False),
    # the writing transaction (PostgreSQL's own id, set by the column's default; 0 on SQLite):
    # the REST API pages activities by it, then by id (`FeedPosition`)
)

pending_changes = sa.Table(
    "pending_changes", metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("person_id", sa.Integer(), nullable=False),
    sa.Column("field", sa.String(64), nullable=False),
    sa.Column("value", sa.JSON()),
    sa.Column("changed_at", UtcDateTime(), nullable=False),
    sa.Column("origin", sa.String(64), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer(), nullable=False),
    sa.Column("last_attempt_at", UtcDateTime()),
    sa.Column("last_error", sa.Text()),
    sa.Column("sent", sa.JSON()),
    sa.Column("retry_at", UtcDateTime()),  # a refused change is offered again from then on
    sa.UniqueConstraint("person_id", "field"),
)

field_bases = sa.Table(
    "field_bases", metadata,
    sa.Column("person_id", sa.Integer(), primary_key=True),
    sa.Column("field", sa.String(64), primary_key=True),
    sa.Column("value", sa.JSON()),
    sa.Column("agreed_at", UtcDateTime(), nullable=False),
)

person_bases = sa.Table(
    "person_bases", metadata,  # the bases a pull added a person with, as one JSON object (`bases.py`)
    sa.Column("person_id", sa.Integer(), primary_key=True, autoincrement=False),
    sa.Column("bases", sa.Text(), nullable=False),
    sa.Column("agreed_at", UtcDateTime(), nullable=False),
)

watermarks = sa.Table(
    "watermarks", metadata,  # the pull cursor of each Salesforce object, and nothing else
    sa.Column("object", sa.String(64), primary_key=True),
    sa.Column("stream", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text(), nullable=False),
    sa.Column("set_at", UtcDateTime(), nullable=False),
)

cycle_steps = sa.Table(
    "cycle_steps", metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("cycle_id", sa.String(64)),
    sa.Column("object", sa.String(64), nullable=False),
    sa.Column("operation", sa.String(32), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("started_at", UtcDateTime(), nullable=False, index=True),
    sa.Column("ended_at", UtcDateTime()),
    sa.Column("new_count", sa.Integer(), nullable=False),
    sa.Column("updated_count", sa.Integer(), nullable=False),
    sa.Column("deleted_count", sa.Integer(), nullable=False),
    sa.Column("failed_count", sa.Integer(), nullable=False),
    sa.Column("skipped_count", sa.Integer(), nullable=False),
    sa.Column("message", sa.Text()),
    sa.Column("api_calls", sa.Integer(), nullable=False, server_default="0"),
)

sync_errors = sa.Table(
    "sync_errors", metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("occurred_at", UtcDateTime(), nullable=False, index=True),
    sa.Column("level", sa.String(16), nullable=False),
    sa.Column("error_code", sa.String(64), nullable=False),
    sa.Column("message", sa.Text(), nullable=False),
    sa.Column("object", sa.String(64)),
    sa.Column("sfdc_id", sa.String(18)),
    sa.Column("person_id", sa.Integer()),
    sa.Column("cycle_step_id", sa.Integer()),
)

person_tombstones = sa.Table(
    "person_tombstones", metadata,
    sa.Column("person_id", sa.Integer(), primary_key=True, autoincrement=False),
    sa.Column("fate", sa.String(16), nullable=False),
    sa.Column("merged_into", sa.Integer(), index=True),
    sa.Column("ended_at", UtcDateTime(), nullable=False),
    sa.Column("source", sa.String(64), nullable=False),
    sa.Column("record", sa.JSON(), nullable=False),
    sa.Column("activities", sa.JSON()),
    sa.Column("delete_activity_id", sa.Integer(), index=True),
    # a deleted person's Delete Lead activity (in `activities`): the key the deleted leads are paged by
    sa.Column("txid", sa.BigInteger(), nullable=False),
    # the deleting transaction, as in `activities`
    sa.Column("sfdc_id", sa.String(18), index=True),
    # a deleted person's Lead or Contact then: a pull does not bring the person back from an older change
)

installation = sa.Table(
    "installation", metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),  # always 1: one row
    sa.Column("installation_id", sa.String(32), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
)

create_markers = sa.Table(
    "create_markers", metadata,
    sa.Column("person_id", sa.Integer(), primary_key=True, autoincrement=False),
    sa.Column("sfdc_type", sa.String(16), primary_key=True),
    sa.Column("attempted_at", UtcDateTime(), nullable=False),
)

api_usage = sa.Table(
    "api_usage", metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),  # always 1: the latest reading
    sa.Column("used", sa.Integer(), nullable=False),
    sa.Column("daily_limit", sa.Integer(), nullable=False),
    sa.Column("recorded_at", UtcDateTime(), nullable=False),
)

api_lane_spend = sa.Table(
    "api_lane_spend", metadata,
    sa.Column("day", sa.String(10), primary_key=True),  # the UTC day, 2026-11-30
    sa.Column("lane", sa.String(16), primary_key=True),  # actions, cycle, retries
    sa.Column("calls", sa.Integer(), nullable=False),
)

refused_logins = sa.Table(
    "refused_logins", metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),  # always 1: the standing refusal
    sa.Column("refused_at", UtcDateTime(), nullable=False),
    sa.Column("salt", sa.String(64), nullable=False),
    sa.Column("fingerprint", sa.String(128), nullable=False),
    sa.Column("error_code", sa.String(100), nullable=True),
    sa.Column("reason", sa.Text(), nullable=False),
)

salesforce_describes = sa.Table(
    "salesforce_describes", metadata,  # the field catalog's source: each synced object's describe
    sa.Column("object", sa.String(64), primary_key=True),
    sa.Column("body", sa.Text(), nullable=False),
    sa.Column("last_modified", sa.String(64), nullable=True),
    sa.Column("checked_at", UtcDateTime(), nullable=False),
)

set_aside_indexes = sa.Table(
    "set_aside_indexes", metadata,  # search indexes of `persons` a large pull builds at its end (`search_indexes.py`)
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("definition", sa.Text(), nullable=False),
    sa.Column("set_aside_at", UtcDateTime(), nullable=False),
)
