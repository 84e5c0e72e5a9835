"""What is left of a merged or deleted person: a tombstone row, never a row in `persons`.

Every query of live persons stays as it is. The tombstone says where a merged id went, and a
deleted person's tombstone keeps its record and its whole activity log as JSON: reading a gone id
raises `NotFound` with that story ("person 7 was merged into person 3").
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from tandem.people.activities import DELETE_LEAD
from tandem.people.activity_rows import activity_from_json, activity_from_row
from tandem.people.database import Database, Lookups, finished_writers
from tandem.people.models import Activity, FeedPosition, Person
from tandem.people.origin import ChangeOrigin
from tandem.people.tables import (activities, field_bases, pending_changes, person_bases, person_ids,
                                  person_tombstones)

_ANY_RECORD_NAMED = sa.select(sa.literal(1)).where(person_tombstones.c.sfdc_id.is_not(None)).limit(1)
MERGED = "merged"
DELETED = "deleted"
_MAX_HOPS = 50


@dataclass(frozen=True)
class Tombstone:
    """What is left of a person id: merged into another person, or deleted (with its log)."""

    person_id: int
    fate: str
    merged_into: int | None
    ended_at: datetime
    origin: ChangeOrigin
    record: dict[str, Any]
    activities: list[Activity] | None


def delete_activity_id(log: list[dict[str, Any]]) -> int | None:
    """The id of the last Delete Lead activity in a deleted person's log (JSON, as kept)."""
    return next((a["id"] for a in reversed(log) if a["activityTypeId"] == DELETE_LEAD.id), None)


def _as_listed(deletion: Activity, record: dict[str, Any]) -> Activity:
    """A Delete Lead activity as the deleted leads list it: its primary attribute is the lead, by id
    and by name (MARKETO-API §6.5)."""
    name = " ".join(str(record[k]) for k in ("firstName", "lastName") if record.get(k)) or record.get("email")
    return replace(deletion, primary_attribute_value_id=deletion.person_id,
                   primary_attribute_value=name or deletion.primary_attribute_value)


class Tombstones:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._lookups = Lookups()

    def get(self, person_id: int) -> Tombstone | None:
        with self._db.reading() as connection:
            row = connection.execute(
                sa.select(person_tombstones).where(person_tombstones.c.person_id == person_id)
            ).mappings().first()
        if row is None:
            return None
        log = row["activities"]
        return Tombstone(row["person_id"], row["fate"], row["merged_into"], row["ended_at"],
                         ChangeOrigin.stored(row["source"]), dict(row["record"]),
                         None if log is None else [activity_from_json(a) for a in log])

    def merged_into(self, person_id: int) -> int | None:
        """The live person a merged id ended up in (following later merges), else None."""
        current = person_id
        for _ in range(_MAX_HOPS):
            stone = self.get(current)
            if stone is None:
                return current if current != person_id else None
            if stone.fate != MERGED or stone.merged_into is None:
                return None
            current = stone.merged_into
        return None

    def merged_from(self, person_id: int) -> list[int]:
        """The ids merged into this person, directly or into one merged into it, in id order."""
        found: set[int] = set()
        frontier = [person_id]
        with self._db.reading() as connection:
            for _ in range(_MAX_HOPS):
                if not frontier:
                    break
                frontier = [pid for pid in connection.execute(
                    sa.select(person_tombstones.c.person_id).where(
                        person_tombstones.c.fate == MERGED, person_tombstones.c.merged_into.in_(frontier))
                ).scalars() if pid not in found]
                found.update(frontier)
        return sorted(found)

    def deletions(self, since: datetime, after: FeedPosition, limit: int) -> list[tuple[FeedPosition, Activity]]:
        """The Delete Lead activities of deleted persons, dated `since` or later, past `after`, in
        feed order, at most `limit`, each with its position (the keyset paging of the live
        activities, over the deleting transactions and the activities' ids)."""
        stones = person_tombstones.c
        query = (sa.select(stones.txid, stones.delete_activity_id, stones.activities, stones.record)
                 .where(sa.tuple_(stones.txid, stones.delete_activity_id) > sa.tuple_(after.txid, after.id),
                        stones.ended_at >= since)
                 .order_by(stones.txid, stones.delete_activity_id).limit(limit))
        with self._db.reading() as connection:
            rows = connection.execute(query.where(finished_writers(connection, stones.txid))).all()
        return [(FeedPosition(txid, wanted),
                 _as_listed(activity_from_json(next(a for a in log if a["id"] == wanted)), record))
                for txid, wanted, log, record in rows]

    def deleted_since(self, sfdc_ids: Sequence[str]) -> dict[str, datetime]:
        """Per Salesforce Id among `sfdc_ids`: when the last person linked to it was deleted in Tandem.
        (A pull asks it for every record no person is linked to: first whether any tombstone names a
        record at all, which an initial pull's never do, then one statement built once.)"""
        stones = person_tombstones

        def query(condition: sa.ColumnElement[bool]) -> sa.Select[Any]:
            return sa.select(stones.c.sfdc_id, sa.func.max(stones.c.ended_at)).where(condition).group_by(stones.c.sfdc_id)
        found: dict[str, datetime] = {}
        with self._db.reading() as connection:
            if connection.execute(_ANY_RECORD_NAMED).first() is None:
                return found
            for result in self._lookups.results(connection, ("deleted since",), stones.c.sfdc_id, sfdc_ids, query):
                for sfdc_id, ended_at in result:
                    found[sfdc_id] = max(ended_at, found.get(sfdc_id, ended_at))
        return found

    def gone_message(self, person_id: int) -> str:
        """Why an id names no live person, for the `NotFound` a read raises."""
        stone = self.get(person_id)
        if stone is None:
            return f"person {person_id} does not exist"
        if stone.fate == DELETED:
            return (f"person {person_id} was deleted on {stone.ended_at:%Y-%m-%d %H:%M} UTC ({stone.origin}); "
                    f"its record and activity log are kept with its tombstone")
        target = self.merged_into(person_id)
        if target is None:
            return f"person {person_id} was merged into person {stone.merged_into}, which no longer exists"
        return f"person {person_id} was merged into person {target}"

    def bury(self, persons: list[Person], fate: str, merged_into: int | None, origin: ChangeOrigin,
             now: datetime) -> None:
        """Replace person rows by tombstones: a deleted person keeps its log, a merged one's moves to the winner."""
        ids = [p.id for p in persons]
        keep_log = fate == DELETED
        with self._db.transaction() as connection:
            logs: dict[int, list[dict[str, Any]]] = defaultdict(list)
            if keep_log:
                query = sa.select(activities).where(activities.c.person_id.in_(ids)).order_by(activities.c.id)
                for row in connection.execute(query).mappings():
                    logs[row["person_id"]].append(activity_from_row(row).as_json())
                connection.execute(sa.delete(activities).where(activities.c.person_id.in_(ids)))
            else:
                connection.execute(sa.update(activities).where(activities.c.person_id.in_(ids))
                                   .values(person_id=merged_into))
            connection.execute(sa.delete(pending_changes).where(pending_changes.c.person_id.in_(ids)))
            connection.execute(sa.delete(field_bases).where(field_bases.c.person_id.in_(ids)))
            connection.execute(sa.delete(person_bases).where(person_bases.c.person_id.in_(ids)))
            if merged_into is not None:  # ids merged into a loser earlier now point at the winner
                connection.execute(sa.update(person_tombstones).where(person_tombstones.c.merged_into.in_(ids))
                                   .values(merged_into=merged_into))
            connection.execute(sa.insert(person_tombstones), [{
                "person_id": p.id, "fate": fate, "merged_into": merged_into, "ended_at": now,
                "source": origin.value, "record": p.as_json(), "activities": logs.get(p.id, []) if keep_log else None,
                "delete_activity_id": delete_activity_id(logs.get(p.id, [])) if keep_log else None,
                "sfdc_id": p.link.sfdc_id if keep_log else None,
            } for p in persons])
            connection.execute(sa.delete(person_ids).where(person_ids.c.id.in_(ids)))
