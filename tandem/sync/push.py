"""The *push updates* step: pending Tandem changes of linked persons, 200 records a call.

Each batch marks its changes in flight before the call and settles them after, so a push killed
mid-call is simply sent again (an update repeated is harmless). A record Salesforce refuses keeps
its pending change, is logged on the person and in the sync errors, and does not hold up the rest.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from tandem.people import activities as types
from tandem.people.models import ErrorLevel, PendingChange, Person, StepCounts
from tandem.people.origin import ChangeOrigin
from tandem.salesforce.client import COLLECTION_LIMIT
from tandem.salesforce.results import RecordResult
from tandem.sync.catalog import Catalog
from tandem.sync.fields import FieldRule
from tandem.sync.values import shown, to_salesforce
from tandem.sync.workspace import ActivityRecord, SyncWorkspace


@dataclass
class PersonPush:
    """One person's record in a batch: what goes out, and what each pending change becomes."""

    person: Person
    record: dict[str, Any]
    sent: list[PendingChange] = field(default_factory=list)
    not_synced: list[tuple[PendingChange, FieldRule | None, str]] = field(default_factory=list)


def plan_person(catalog: Catalog, object_name: str, person: Person, changes: Sequence[PendingChange]) -> PersonPush:
    """Sort a person's pending changes into the record to send and the changes that cannot go."""
    pushable = catalog.pushable(object_name)
    plan = PersonPush(person=person, record={"Id": person.link.sfdc_id})
    for change in changes:
        rule = pushable.get(change.field)
        if rule is not None:
            plan.record[rule.sf_field] = to_salesforce(change.value)
            plan.sent.append(change)
            continue
        other = catalog.for_person_field(object_name, change.field)
        if other is None and object_name == "Contact":
            other = catalog.for_person_field("Account", change.field)
        reason = other.reason if other is not None else ""
        plan.not_synced.append((change, other, reason))
    return plan


class Pusher:
    def __init__(self, workspace: SyncWorkspace, catalog: Catalog, *, source: ChangeOrigin = ChangeOrigin.SYNC_CYCLE,
                 between_batches: Callable[[int], bool] = lambda done: False) -> None:
        self.workspace = workspace
        self.catalog = catalog
        self.source = source
        self.between_batches = between_batches

    def push(self, object_name: str, *, retry_failed: bool = False) -> StepCounts:
        store = self.workspace.store
        counts = defaultdict(int)
        after = 0
        while True:
            changes = store.outbox.for_push(object_name, after_person_id=after, max_persons=COLLECTION_LIMIT,
                                            include_failed=retry_failed)
            if not changes:
                break
            by_person: dict[int, list[PendingChange]] = defaultdict(list)
            for change in changes:
                by_person[change.person_id].append(change)
            after = max(by_person)
            persons = {p.id: p for p in store.persons.get_many(list(by_person))}
            plans = [plan_person(self.catalog, object_name, persons[pid], by_person[pid]) for pid in sorted(by_person)]
            self.push_plans(object_name, plans, counts)
            if self.between_batches(sum(counts.values())):
                break
        return StepCounts(updated=counts["updated"], failed=counts["failed"], skipped=counts["skipped"])

    def push_plans(self, object_name: str, plans: Sequence[PersonPush], counts: dict[str, int]) -> list[RecordResult | None]:
        """Send one batch (≤ 200 persons); returns each person's result, None where nothing was sent."""
        store = self.workspace.store
        self.settle_not_synced(object_name, plans)
        outgoing = [p for p in plans if p.sent]
        counts["skipped"] += len(plans) - len(outgoing)
        if not outgoing:
            return [None] * len(plans)
        store.outbox.mark_attempt([c.id for p in outgoing for c in p.sent])
        results = self.workspace.client.update_records(object_name, [p.record for p in outgoing])
        by_person = {p.person.id: r for p, r in zip(outgoing, results, strict=True)}
        with store.transaction():
            for plan, result in zip(outgoing, results, strict=True):
                if result.success:
                    self._succeeded(object_name, plan)
                    counts["updated"] += 1
                elif not result.retryable:
                    self._rejected(object_name, plan, result)
                    counts["failed"] += 1
        return [by_person.get(p.person.id) for p in plans]

    def settle_not_synced(self, object_name: str, plans: Sequence[PersonPush]) -> None:
        """Changes to fields that do not go to Salesforce leave the outbox, each with its reason logged."""
        drops = [c.id for p in plans for c, _, _ in p.not_synced]
        if not drops:
            return
        records = [
            ActivityRecord(p.person.id, types.SFDC_VALUE_DROPPED, change.field, {
                "Field": change.field, "Salesforce Type": object_name, "Salesforce Id": p.person.link.sfdc_id,
                "Source": change.origin, "Reason": f"not sent to Salesforce: {reason}", "Value": shown(change.value),
            })
            for p in plans for change, rule, reason in p.not_synced if rule is not None
        ]
        with self.workspace.store.transaction():
            self.workspace.store.outbox.clear(drops)
            self.workspace.log(records)

    def _succeeded(self, object_name: str, plan: PersonPush) -> None:
        store = self.workspace.store
        store.outbox.clear([c.id for c in plan.sent])
        store.bases.set_many({plan.person.id: {c.field: c.value for c in plan.sent}})
        self.workspace.log([ActivityRecord(plan.person.id, types.SYNC_LEAD_TO_SFDC, plan.person.link.sfdc_id, {
            "Salesforce Type": object_name, "Operation": "update", "Source": self.source,
            "Reason": "fields: " + ", ".join(sorted(c.field for c in plan.sent)),
        })])

    def _rejected(self, object_name: str, plan: PersonPush, result: RecordResult) -> None:
        store = self.workspace.store
        error = result.errors[0] if result.errors else None
        code = error.code if error else "UNKNOWN_EXCEPTION"
        message = error.message if error else "Salesforce gave no reason"
        store.outbox.mark_failed([c.id for c in plan.sent], f"{code}: {message}")
        if code == "ENTITY_IS_DELETED":
            deleted = replace(plan.person.link, sfdc_is_deleted=True)
            store.persons.set_links([(plan.person.id, deleted)], reason="deleted in Salesforce")
        store.sync_errors.record(ErrorLevel.RECORD, code, message, object=object_name,
                                 sfdc_id=plan.person.link.sfdc_id, person_id=plan.person.id)
        self.workspace.log([ActivityRecord(plan.person.id, types.SFDC_SYNC_FAILED, code, {
            "Field": ", ".join(sorted(c.field for c in plan.sent)), "Salesforce Type": object_name,
            "Salesforce Id": plan.person.link.sfdc_id, "Source": self.source,
            "Reason": "the change stays pending and is retried when the person changes again",
            "Error Message": message, "Error Fields": ", ".join(error.fields) if error else "",
            "Operation": "update",
        })])
