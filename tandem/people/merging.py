"""Merging and deleting persons, with the native rules, each in one transaction.

Merge rules (REFERENCE, "Deletes, merges, conversions"): the winner's value wins a conflict, a
loser's value fills a field that is empty on the winner, lead scores are summed and the activity
logs are combined (activity rows keep their ids and move to the winner). A loser's pending change
lands on the winner unless the winner has its own pending change for that field; then the loser's
value is written to the winner's log as a conflict, never dropped silently.

A merged or deleted person leaves a tombstone row (`person_tombstones`) rather than a row in
`persons`, so that every query of live persons stays as it is. The tombstone says where a merged
id went, and a deleted person's tombstone keeps its record and its whole activity log as JSON:
reading a gone id raises `NotFound` with that story ("person 7 was merged into person 3").
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from tandem.errors import InvalidInput
from tandem.people import activities as types
from tandem.people.activity_log import _activity
from tandem.people.models import Activity, PendingChange, Person, SalesforceLink
from tandem.people.tables import activities, field_bases, pending_changes, person_tombstones
from tandem.people.validation import to_json_value

if TYPE_CHECKING:
    from tandem.people.store import PersonStore

SALESFORCE = "salesforce"
MERGED = "merged"
DELETED = "deleted"
SUMMED_FIELDS = ("leadScore",)
_MAX_HOPS = 50


@dataclass(frozen=True)
class Tombstone:
    """What is left of a person id: merged into another person, or deleted (with its log)."""

    person_id: int
    fate: str
    merged_into: int | None
    ended_at: datetime
    source: str
    record: dict[str, Any]
    activities: list[Activity] | None


def _empty(value: Any) -> bool:
    return value is None or value == ""


class PersonMerging:
    """Merge and delete methods of `PersonStore` (first among its bases: it explains gone ids)."""

    # -- merging --------------------------------------------------------------------------------

    def merge_persons(
        self: PersonStore,
        winner_id: int,
        loser_ids: Sequence[int],
        source: str,
        now: datetime | None = None,
        *,
        link: SalesforceLink | None = None,
        reason: str | None = None,
    ) -> Person:
        """Fold the losers into the winner; returns the winner as it is afterwards.

        `source` `salesforce` means Salesforce merged the records (an SFDC Merge Leads activity);
        any other source is a Tandem merge (Merge Leads). `link`, when given, becomes the winner's
        Salesforce link; otherwise an unlinked winner takes the first live link of a loser.
        """
        losers = list(dict.fromkeys(loser_ids))
        if not losers:
            raise InvalidInput("losers", "a merge needs at least one person to merge into the winner")
        if winner_id in losers:
            raise InvalidInput("losers", f"person {winner_id} cannot be merged into itself")
        now = now or datetime.now(UTC)
        with self.transaction():
            winner = self.get_person(winner_id)
            merged = [self.get_person(pid) for pid in losers]
            pending: dict[int, dict[str, PendingChange]] = defaultdict(dict)
            for change in self.list_pending_changes(person_ids=[winner_id, *losers]):
                pending[change.person_id][change.field] = change
            changes, conflicts = _merged_values(winner, merged, pending)
            if link is None and (not winner.linked or winner.link.sfdc_is_deleted):
                link = next((p.link for p in merged if p.linked and not p.link.sfdc_is_deleted), None)
            self._retire(merged, MERGED, winner_id, source, now, keep_log=False)
            why = reason or ("merged in Salesforce" if source == SALESFORCE else "merged")
            if changes:
                self._apply([(winner_id, changes)], source, why, now, queue=True)
            if link is not None and link != winner.link:
                self.set_salesforce_links([(winner_id, link)], reason=why, now=now)
            entries = [self._merge_entry(winner, merged, source, link)]
            entries += [_conflict_entry(winner_id, loser, change, kept, source) for loser, change, kept in conflicts]
            self.log_activities(entries, now=now)
        return self.get_person(winner_id)

    @staticmethod
    def _merge_entry(winner: Person, merged: list[Person], source: str, link: SalesforceLink | None):
        ids = ", ".join(str(p.id) for p in merged)
        name = " ".join(v for v in (winner.fields.get("firstName"), winner.fields.get("lastName")) if v)
        primary = name or winner.fields.get("email") or f"Person {winner.id}"
        if source == SALESFORCE:
            master = (link or winner.link).sfdc_id
            merged_sfdc = ", ".join(p.link.sfdc_id for p in merged if p.link.sfdc_id)
            return (winner.id, types.SFDC_MERGE_LEADS, primary,
                    {"Merged Lead IDs": ids, "Master SFDC Id": master, "Merged SFDC Ids": merged_sfdc})
        return (winner.id, types.MERGE_LEADS, primary, {"Merged Lead IDs": ids, "Merge Source": source, "Source": source})

    # -- deleting -------------------------------------------------------------------------------

    def delete_person(
        self: PersonStore, person_id: int, source: str, now: datetime | None = None, *, remove_from_crm: bool = False
    ) -> Tombstone:
        """Delete a person; its record and whole activity log (ending with Delete Lead) stay in its tombstone."""
        self.get_person(person_id)  # a gone id says where it went
        self.tombstone_persons([person_id], source, now, remove_from_crm=remove_from_crm)
        found = self.tombstone(person_id)
        assert found is not None
        return found

    def tombstone_persons(
        self: PersonStore, person_ids: Sequence[int], source: str, now: datetime | None = None, *,
        remove_from_crm: bool = False,
    ) -> list[int]:
        """`delete_person` for many in one transaction; returns the ids that existed, in order."""
        now = now or datetime.now(UTC)
        with self.transaction():
            persons = self.get_persons(person_ids)
            if persons:
                self.log_activities([(p.id, types.DELETE_LEAD, str(p.id),
                                      {"Remove from CRM": remove_from_crm, "Source": source}) for p in persons], now=now)
                self._retire(persons, DELETED, None, source, now, keep_log=True)
        return [p.id for p in persons]

    def _retire(self: PersonStore, persons: list[Person], fate: str, merged_into: int | None, source: str,
                now: datetime, keep_log: bool) -> None:
        """Replace person rows by tombstones: their log kept (deleted) or moved to the winner (merged)."""
        ids = [p.id for p in persons]
        with self._db.transaction() as connection:
            logs: dict[int, list[dict[str, Any]]] = defaultdict(list)
            if keep_log:
                query = sa.select(activities).where(activities.c.person_id.in_(ids)).order_by(activities.c.id)
                for row in connection.execute(query).mappings():
                    logs[row["person_id"]].append(_activity(row).as_json())
                connection.execute(sa.delete(activities).where(activities.c.person_id.in_(ids)))
            else:
                connection.execute(sa.update(activities).where(activities.c.person_id.in_(ids))
                                   .values(person_id=merged_into))
            connection.execute(sa.delete(pending_changes).where(pending_changes.c.person_id.in_(ids)))
            connection.execute(sa.delete(field_bases).where(field_bases.c.person_id.in_(ids)))
            if merged_into is not None:  # ids merged into a loser earlier now point at the winner
                connection.execute(sa.update(person_tombstones).where(person_tombstones.c.merged_into.in_(ids))
                                   .values(merged_into=merged_into))
            connection.execute(sa.insert(person_tombstones), [{
                "person_id": p.id, "fate": fate, "merged_into": merged_into, "ended_at": now, "source": source,
                "record": p.as_json(), "activities": logs.get(p.id, []) if keep_log else None,
            } for p in persons])
            connection.execute(sa.delete(self._persons).where(self._persons.c.id.in_(ids)))

    # -- what is left of a gone id ------------------------------------------------------------

    def tombstone(self: PersonStore, person_id: int) -> Tombstone | None:
        with self._db.transaction() as connection:
            row = connection.execute(
                sa.select(person_tombstones).where(person_tombstones.c.person_id == person_id)
            ).mappings().first()
        if row is None:
            return None
        log = row["activities"]
        return Tombstone(row["person_id"], row["fate"], row["merged_into"], row["ended_at"], row["source"],
                         dict(row["record"]), None if log is None else [_from_json(a) for a in log])

    def merged_into(self: PersonStore, person_id: int) -> int | None:
        """The live person a merged id ended up in (following later merges), else None."""
        current = person_id
        for _ in range(_MAX_HOPS):
            stone = self.tombstone(current)
            if stone is None:
                return current if current != person_id else None
            if stone.fate != MERGED or stone.merged_into is None:
                return None
            current = stone.merged_into
        return None

    def _gone_message(self: PersonStore, person_id: int) -> str:
        stone = self.tombstone(person_id)
        if stone is None:
            return f"person {person_id} does not exist"
        if stone.fate == DELETED:
            return (f"person {person_id} was deleted on {stone.ended_at:%Y-%m-%d %H:%M} UTC ({stone.source}); "
                    f"its record and activity log are kept with its tombstone")
        target = self.merged_into(person_id)
        if target is None:
            return f"person {person_id} was merged into person {stone.merged_into}, which no longer exists"
        return f"person {person_id} was merged into person {target}"


def _merged_values(
    winner: Person, losers: list[Person], pending: dict[int, dict[str, PendingChange]]
) -> tuple[dict[str, Any], list[tuple[Person, PendingChange, Any]]]:
    """The winner's new values, and the losers' pending changes that lost to the winner's own."""
    changes: dict[str, Any] = {}
    conflicts: list[tuple[Person, PendingChange, Any]] = []
    for loser in losers:
        for name, change in pending.get(loser.id, {}).items():
            if name in SUMMED_FIELDS or name not in loser.fields:
                continue
            if name in pending.get(winner.id, {}) or name in changes:
                conflicts.append((loser, change, changes.get(name, winner.fields.get(name))))
            else:
                changes[name] = loser.fields[name]
    for name, value in winner.fields.items():
        if name in changes or name in SUMMED_FIELDS or not _empty(value):
            continue
        filler = next((p.fields.get(name) for p in losers if not _empty(p.fields.get(name))), None)
        if filler is not None:
            changes[name] = filler
    for name in SUMMED_FIELDS:
        if name not in winner.fields:
            continue
        scores = [p.fields.get(name) for p in (winner, *losers) if p.fields.get(name) is not None]
        if scores and sum(scores) != winner.fields.get(name):
            changes[name] = sum(scores)
    return {k: v for k, v in changes.items() if v != winner.fields.get(k)}, conflicts


def _conflict_entry(winner_id: int, loser: Person, change: PendingChange, kept: Any, source: str):
    return (winner_id, types.SFDC_SYNC_CONFLICT, change.field, {
        "Field": change.field, "Salesforce Type": loser.link.sfdc_type, "Salesforce Id": loser.link.sfdc_id,
        "Source": source, "Reason": f"merge: person {loser.id} had a pending change; the winner's own change is kept",
        "Kept Value": to_json_value(kept), "Lost Value": to_json_value(change.value), "Winner": "merge winner",
    })


def _from_json(record: dict[str, Any]) -> Activity:
    return Activity(
        id=record["id"], marketo_guid=record["marketoGUID"], person_id=record["leadId"],
        activity_date=datetime.fromisoformat(record["activityDate"].replace("Z", "+00:00")),
        activity_type_id=record["activityTypeId"], primary_attribute_value_id=record["primaryAttributeValueId"],
        primary_attribute_value=record["primaryAttributeValue"], attributes=list(record["attributes"]),
    )

