"""The *push updates* step: pending Tandem changes of linked persons, 200 records a call.

Each batch marks its changes in flight before the call and settles them after, so a push killed
mid-call is simply sent again (an update repeated is harmless). A record Salesforce refuses keeps
its pending change, is logged on the person and in the sync errors, and does not hold up the rest.

A push never overwrites a Salesforce change it has not pulled: right before each update call, one
query reads the batch's records as they are now (`Checkpoint`). A field Salesforce changed since the
last agreement is settled by the conflict rule there and then: where Salesforce wins, its value
goes to the person and Tandem's is logged as lost; where Tandem wins, Tandem's value is sent and
Salesforce's is logged. What remains is the time between that query and the update (one round trip);
it costs one query per batch of up to 200 records.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from tandem.errors import InvalidInput
from tandem.people import activities as types
from tandem.people.models import PendingChange, Person, StepCounts
from tandem.people.origin import ChangeOrigin
from tandem.salesforce.client import COLLECTION_LIMIT
from tandem.salesforce.ids import to_18
from tandem.salesforce.results import RecordResult
from tandem.salesforce.soql import quoted
from tandem.sync.catalog import Catalog
from tandem.sync.fields import FieldRule
from tandem.sync.merge import DEFAULT_POLICY, Outcome, Winner, decide_field
from tandem.sync.plan import ActivityRecord, PagePlan, Tally, conflict_activity
from tandem.sync.values import from_salesforce, shown, to_salesforce
from tandem.sync.workspace import Delivery, FieldState, Refusal, SyncWorkspace


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


RETRIED = "the change stays pending: it goes again, whole, with the person's next change and on a back-off schedule"


class Pusher:
    def __init__(self, workspace: SyncWorkspace, catalog: Catalog, *, source: ChangeOrigin = ChangeOrigin.SYNC_CYCLE,
                 policy: Mapping[str, Winner] | None = None,
                 between_batches: Callable[[int], bool] = lambda done: False,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 hold: Callable[[str, dict[int, list[PendingChange]]],
                                AbstractContextManager[dict[int, list[PendingChange]]]] = lambda o, b: nullcontext(b)
                 ) -> None:
        self.workspace = workspace
        self.catalog = catalog
        self.source = source
        self.policy = dict(DEFAULT_POLICY if policy is None else policy)
        self.between_batches = between_batches
        self.clock = clock
        self.hold = hold
        """Held while a batch goes out: its persons no one else holds, with their changes re-read."""

    def push(self, object_name: str, *, retry_failed: bool = False) -> StepCounts:
        tally = Tally()
        after = 0
        while batch := self.workspace.pending_batch(object_name, after_person_id=after, max_persons=COLLECTION_LIMIT,
                                                    include_failed=retry_failed, now=self.clock()):
            after = max(batch)
            with self.hold(object_name, batch) as held:
                persons = self.workspace.persons(list(held))
                plans = [plan_person(self.catalog, object_name, persons[pid], changes) for pid, changes in held.items()]
                self.push_plans(object_name, plans, tally)
            if self.between_batches(tally.updated + tally.failed + tally.skipped):
                break
        return tally.counts()

    def push_plans(self, object_name: str, plans: Sequence[PersonPush], tally: Tally) -> list[RecordResult | None]:
        """Send one batch (≤ 200 persons); returns each person's result, None where nothing was sent."""
        self.settle_not_synced(object_name, plans)
        plans = self.checked(object_name, [p for p in plans if p.sent]) + [p for p in plans if not p.sent]
        outgoing = [p for p in plans if p.sent]
        tally.skipped += len(plans) - len(outgoing)
        if not outgoing:
            return [None] * len(plans)
        self.workspace.mark_in_flight([c for p in outgoing for c in p.sent])
        results = self.workspace.client.update_records(object_name, [p.record for p in outgoing])
        by_person = {p.person.id: r for p, r in zip(outgoing, results, strict=True)}

        def settle() -> Tally:
            settled = Tally()
            self.workspace.lock_persons([p.person.id for p in outgoing])
            self.workspace.delivered_many([self._delivery(object_name, plan) for plan, result
                                           in zip(outgoing, results, strict=True) if result.success])
            for plan, result in zip(outgoing, results, strict=True):
                if result.success:
                    settled.updated += 1
                elif not result.retryable:
                    self.workspace.refuse(plan.person, Refusal(
                        object_name, "update", self.source, RETRIED, result.errors[0] if result.errors else None,
                        changes=plan.sent), now=self.clock())
                    settled.failed += 1
            return settled
        tally.add(self.workspace.atomically(settle))
        return [by_person.get(p.person.id) for p in plans]

    def checked(self, object_name: str, plans: list[PersonPush]) -> list[PersonPush]:
        """The plans as they may go out once checked against Salesforce's records as they are now."""
        if not plans:
            return plans
        fields = sorted({name for p in plans for name in p.record if name != "Id"})
        ids = ", ".join(quoted(p.person.link.sfdc_id) for p in plans)
        rows = self.workspace.client.query(f"SELECT Id, {', '.join(fields)} FROM {object_name} WHERE Id IN ({ids})")
        current = {to_18(row["Id"]): row for row in rows}

        def decide() -> list[PersonPush]:  # on what this transaction reads, the persons locked
            settle = PagePlan()
            fresh = self.workspace.persons_by_sfdc_ids([p.person.link.sfdc_id for p in plans], lock=True)
            state = self.workspace.field_state([p.person.id for p in plans])
            checked = []
            for plan in plans:
                person = fresh.get(plan.person.link.sfdc_id)
                if person is not None and person.id == plan.person.id:
                    plan = replace(plan, person=person)
                row = current.get(plan.person.link.sfdc_id)
                checked.append(self._check(object_name, plan, row, state[plan.person.id], settle))
            if settle.updates or settle.dropped_pending or settle.activities:
                self.workspace.apply(settle)
            return checked
        return self.workspace.atomically(decide)

    def _check(self, object_name: str, plan: PersonPush, row: Mapping[str, Any] | None, state: FieldState,
               settle: PagePlan) -> PersonPush:
        pushable = self.catalog.pushable(object_name)
        keep: list[PendingChange] = []
        for change in plan.sent:
            now_pending = state.pending.get(change.field)
            if now_pending is None or now_pending.id != change.id:
                continue  # settled meanwhile, or replaced by a newer edit that goes with the next push
            if row is None:  # deleted meanwhile: the update's own answer says so
                keep.append(change)
                continue
            rule = pushable[change.field]
            try:
                value = from_salesforce(self.workspace.person_field(change.field), row.get(rule.sf_field))
            except InvalidInput:
                keep.append(change)
                continue
            base = state.bases.get(change.field)
            decision = decide_field(
                salesforce=value, base=base, current=plan.person.fields.get(change.field),
                pending=change.value, winner=self.policy.get(object_name, Winner.SALESFORCE),
                **({"sent": change.sent_value} if change.sent_in_doubt else {}),
            )
            if decision.outcome in (Outcome.UNCHANGED, Outcome.CONFLICT_TANDEM_WINS):
                keep.append(change)
            else:
                settle.dropped_pending.append(change.id)
                settle.bases[plan.person.id][change.field] = value
                if decision.changes_person:
                    settle.updates[plan.person.id][change.field] = decision.value
            if decision.outcome in (Outcome.CONFLICT_SALESFORCE_WINS, Outcome.CONFLICT_TANDEM_WINS):
                settle.activities.append(conflict_activity(plan.person, object_name, plan.person.link.sfdc_id,
                                                           change.field, decision, base))
        if len(keep) == len(plan.sent):
            return plan
        kept = {c.field for c in keep}
        record = {"Id": plan.record["Id"]} | {pushable[c].sf_field: plan.record[pushable[c].sf_field] for c in kept}
        return replace(plan, record=record, sent=keep)

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
        self.workspace.not_sent(drops, records)

    def _delivery(self, object_name: str, plan: PersonPush) -> Delivery:
        return Delivery(plan.person.id, {c.field: c.value for c in plan.sent}, plan.sent, ActivityRecord(
            plan.person.id, types.SYNC_LEAD_TO_SFDC, plan.person.link.sfdc_id, {
                "Salesforce Type": object_name, "Operation": "update", "Source": self.source,
                "Reason": "fields: " + ", ".join(sorted(c.field for c in plan.sent)),
            }))
