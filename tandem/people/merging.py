"""Merging persons with the native rules, in one transaction.

Merge rules (REFERENCE, "Deletes, merges, conversions"): the winner's value wins a conflict, a
loser's value fills a field that is empty on the winner, lead scores are summed (a sum past the
integer range is held at its end) and the activity logs are combined (activity rows keep their ids
and move to the winner); a field the winner cleared and has not pushed yet is its value, not an
empty one to fill. A loser's pending change lands on the winner unless the winner has its own
pending change for that field, or the field is one only the winner's record gives; then the
loser's value is written to the winner's log as a conflict, never dropped silently. Each loser
leaves a tombstone saying where its id went.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from datetime import UTC, datetime
from typing import Any

from tandem.errors import InvalidInput
from tandem.people import activities as types
from tandem.people.activity_log import ActivityLog
from tandem.people.activity_rows import ActivityEntry
from tandem.people.database import Database
from tandem.people.models import PendingChange, Person, SalesforceLink
from tandem.people.origin import ChangeOrigin
from tandem.people.outbox import Outbox
from tandem.people.persons import Persons
from tandem.people.tombstones import MERGED, Tombstones
from tandem.people.validation import INTEGER_LIMIT, to_json_value

SUMMED_FIELDS = ("leadScore",)


class Merges:
    def __init__(self, db: Database, persons: Persons, outbox: Outbox, activities: ActivityLog,
                 tombstones: Tombstones) -> None:
        self._db = db
        self._persons = persons
        self._outbox = outbox
        self._activities = activities
        self._tombstones = tombstones

    def merge(
        self,
        winner_id: int,
        loser_ids: Sequence[int],
        origin: ChangeOrigin,
        now: datetime | None = None,
        *,
        link: SalesforceLink | None = None,
        reason: str | None = None,
        own: Collection[str] = (),
    ) -> Person:
        """Fold the losers into the winner; returns the winner as it is afterwards.

        Origin `SALESFORCE` means Salesforce merged the records (an SFDC Merge Leads activity);
        any other origin is a Tandem merge (Merge Leads). Either way the values the winner gains
        are queued for push. `link`, when given, becomes the winner's Salesforce link; otherwise an
        unlinked winner takes the first live link of a loser. `own` are fields only the winner's
        record gives (a Contact's Account fields): a loser neither fills nor changes them.
        """
        origin = ChangeOrigin.of(origin)
        losers = list(dict.fromkeys(loser_ids))
        if not losers:
            raise InvalidInput("losers", "a merge needs at least one person to merge into the winner")
        if winner_id in losers:
            raise InvalidInput("losers", f"person {winner_id} cannot be merged into itself")
        now = now or datetime.now(UTC)
        with self._db.transaction():
            self._persons.lock(sorted({winner_id, *losers}))  # decided on what no other writer changes meanwhile
            winner = self._persons.get(winner_id)
            merged = [self._persons.get(pid) for pid in losers]
            pending: dict[int, dict[str, PendingChange]] = defaultdict(dict)
            for change in self._outbox.find(person_ids=[winner_id, *losers]):
                pending[change.person_id][change.field] = change
            own = frozenset(own)
            changes, conflicts = merged_values(winner, merged, pending, own)
            if link is None and (not winner.linked or winner.link.sfdc_is_deleted):
                link = next((p.link for p in merged if p.linked and not p.link.sfdc_is_deleted), None)
            self._tombstones.bury(merged, MERGED, winner_id, origin, now)
            why = reason or ("merged in Salesforce" if origin is ChangeOrigin.SALESFORCE else "merged")
            if changes:
                self._persons.apply([(winner_id, changes)], origin, why, now, queue=True)
            if link is not None and link != winner.link:
                self._persons.set_links([(winner_id, link)], reason=why, now=now)
            entries = [_merge_entry(winner, merged, origin, link)]
            entries += [_conflict_entry(winner_id, loser, change, kept, origin, own)
                        for loser, change, kept in conflicts]
            self._activities.log_many(entries, now=now)
        return self._persons.get(winner_id)


def _empty(value: Any) -> bool:
    return value is None or value == ""


def merged_values(
    winner: Person, losers: list[Person], pending: dict[int, dict[str, PendingChange]], own: frozenset[str]
) -> tuple[dict[str, Any], list[tuple[Person, PendingChange, Any]]]:
    """The winner's new values, and the losers' pending changes that lost to the winner's own."""
    changes: dict[str, Any] = {}
    conflicts: list[tuple[Person, PendingChange, Any]] = []
    for loser in losers:
        for name, change in pending.get(loser.id, {}).items():
            if name in SUMMED_FIELDS or name not in loser.fields:
                continue
            if name in own or name in pending.get(winner.id, {}) or name in changes:
                conflicts.append((loser, change, changes.get(name, winner.fields.get(name))))
            else:
                changes[name] = loser.fields[name]
    for name, value in winner.fields.items():
        if name in changes or name in SUMMED_FIELDS or name in own or not _empty(value):
            continue
        if name in pending.get(winner.id, {}):
            continue  # the winner's own pending clear is its value: no loser fills it
        filler = next((p.fields.get(name) for p in losers if not _empty(p.fields.get(name))), None)
        if filler is not None:
            changes[name] = filler
    for name in SUMMED_FIELDS:
        if name not in winner.fields:
            continue
        scores = [p.fields.get(name) for p in (winner, *losers) if p.fields.get(name) is not None]
        total = max(-INTEGER_LIMIT, min(INTEGER_LIMIT, sum(scores)))
        if scores and total != winner.fields.get(name):
            changes[name] = total
    return {k: v for k, v in changes.items() if v != winner.fields.get(k)}, conflicts


def _merge_entry(winner: Person, merged: list[Person], origin: ChangeOrigin,
                 link: SalesforceLink | None) -> ActivityEntry:
    ids = ", ".join(str(p.id) for p in merged)
    name = " ".join(v for v in (winner.fields.get("firstName"), winner.fields.get("lastName")) if v)
    primary = name or winner.fields.get("email") or f"Person {winner.id}"
    if origin is ChangeOrigin.SALESFORCE:
        master = (link or winner.link).sfdc_id
        merged_sfdc = ", ".join(p.link.sfdc_id for p in merged if p.link.sfdc_id)
        return (winner.id, types.SFDC_MERGE_LEADS, primary,
                {"Merged Lead IDs": ids, "Master SFDC Id": master, "Merged SFDC Ids": merged_sfdc})
    return (winner.id, types.MERGE_LEADS, primary,
            {"Merged Lead IDs": ids, "Merge Source": origin.value, "Source": origin.value})


def _conflict_entry(winner_id: int, loser: Person, change: PendingChange, kept: Any, origin: ChangeOrigin,
                    own: frozenset[str]) -> ActivityEntry:
    kept_why = "the winner's record gives this field" if change.field in own else "the winner's own change is kept"
    return (winner_id, types.SFDC_SYNC_CONFLICT, change.field, {
        "Field": change.field, "Salesforce Type": loser.link.sfdc_type, "Salesforce Id": loser.link.sfdc_id,
        "Source": origin.value,
        "Reason": f"merge: person {loser.id} had a pending change; {kept_why}",
        "Kept Value": to_json_value(kept), "Lost Value": to_json_value(change.value), "Winner": "merge winner",
    })
