"""The append-only activity log: rows in Marketo's activity shape, and the ways to read them.

The store writes New Lead and Change Data Value rows itself, in the transaction of the change;
the sync appends its outcomes (conflicts, rejections) with `log_activity`. Nothing updates or
deletes an activity.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from tandem.errors import NotFound
from tandem.people import activities as types
from tandem.people.activities import ActivityType, check_attributes
from tandem.people.database import Database
from tandem.people.fields import PersonField
from tandem.people.models import Activity, Person
from tandem.people.tables import activities
from tandem.people.validation import to_json_value

ActivityEntry = tuple[int, ActivityType, str | None, Mapping[str, Any]]
"""An activity to append: person id, type, primary attribute value, attributes by name."""


class ActivityLog:
    """Activity methods of `PersonStore`."""

    _db: Database

    def get_person(self, person_id: int) -> Person:
        raise NotImplementedError

    def get_persons(self, person_ids: Sequence[int]) -> list[Person]:
        raise NotImplementedError

    def log_activity(
        self,
        person_id: int,
        kind: ActivityType,
        primary_attribute_value: str | None = None,
        attributes: Mapping[str, Any] | None = None,
        primary_attribute_value_id: int | None = None,
        now: datetime | None = None,
    ) -> Activity:
        """Append one activity (a sync outcome, say); the log has no update or delete."""
        attributes = dict(attributes or {})
        check_attributes(kind, set(attributes))
        row = activity_row(
            person_id, kind, now or datetime.now(UTC), primary_attribute_value_id,
            primary_attribute_value, attributes,
        )
        with self._db.transaction() as connection:
            self.get_person(person_id)
            activity_id = connection.execute(sa.insert(activities).values(row)).inserted_primary_key[0]
        return _activity({**row, "id": activity_id})

    def log_activities(self, entries: Sequence[ActivityEntry], now: datetime | None = None) -> None:
        """Append many activities in one statement: (person id, type, primary value, attributes)."""
        now = now or datetime.now(UTC)
        rows = []
        for person_id, kind, primary_value, attributes in entries:
            check_attributes(kind, set(attributes))
            rows.append(activity_row(person_id, kind, now, None, primary_value, attributes))
        if not rows:
            return
        wanted = {row["person_id"] for row in rows}
        with self._db.transaction() as connection:
            missing = wanted - {person.id for person in self.get_persons(sorted(wanted))}
            if missing:
                raise NotFound(f"person {min(missing)} does not exist")
            connection.execute(sa.insert(activities), rows)

    def list_activities(
        self,
        person_id: int | None = None,
        type_ids: Sequence[int] | None = None,
        since: datetime | None = None,
        after_id: int | None = None,
        limit: int | None = None,
    ) -> list[Activity]:
        """Activities in the order they were written, optionally filtered."""
        query = sa.select(activities).order_by(activities.c.id)
        if person_id is not None:
            query = query.where(activities.c.person_id == person_id)
        if type_ids:
            query = query.where(activities.c.activity_type_id.in_(list(type_ids)))
        if since is not None:
            query = query.where(activities.c.activity_date >= since)
        if after_id is not None:
            query = query.where(activities.c.id > after_id)
        if limit is not None:
            query = query.limit(limit)
        with self._db.transaction() as connection:
            return [_activity(row) for row in connection.execute(query).mappings()]


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


def new_lead_row(person_id: int, values: Mapping[str, Any], source: str, now: datetime) -> dict[str, Any]:
    full_name = " ".join(v for v in (values.get("firstName"), values.get("lastName")) if v)
    attributes: dict[str, Any] = {"Created Date": now.date(), "Source Type": source}
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
    source: str,
    reason: str | None,
    now: datetime,
) -> dict[str, Any]:
    attributes: dict[str, Any] = {"Field": field.name, "Old Value": old, "New Value": new, "Source": source}
    if reason:
        attributes["Reason"] = reason
    return activity_row(person_id, types.CHANGE_DATA_VALUE, now, field.id, field.label, attributes)


def _activity(row: Mapping[str, Any]) -> Activity:
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
