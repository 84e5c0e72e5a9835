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

Several batches are in flight at once (`PushSettings.concurrency`), each claimed, checked, sent and
settled on its own. When many persons have changes (`bulk_threshold`), batches of 2,000 go as Bulk
API 2.0 ingest jobs instead: their check queries still read 200 records each, 5 to a composite
call, while the job is opened (its data goes up only once the check has decided what to send), and
each record's outcome in the job's results is settled exactly as a collection call's. The cycle
picks the due persons by id and reads them and their changes once it holds them (`held_batch`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import AbstractContextManager, ExitStack, nullcontext, suppress
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from tandem.errors import InvalidInput, TandemError
from tandem.people import activities as types
from tandem.people.models import PendingChange, Person, StepCounts
from tandem.people.origin import ChangeOrigin
from tandem.salesforce.bulk_ingest import abort_job, open_update_job, update_job
from tandem.salesforce.client import COLLECTION_LIMIT
from tandem.salesforce.composite import MAX_QUERIES, SubRequest, SubResponse, composite, query_path
from tandem.salesforce.ids import to_18
from tandem.salesforce.results import RecordResult
from tandem.salesforce.soql import quoted
from tandem.sync.catalog import Catalog
from tandem.sync.fields import FieldRule
from tandem.sync.merge import Outcome, Winner, decide_field, keeps_salesforce_value
from tandem.sync.plan import ActivityRecord, PagePlan, Tally, conflict_activity, not_synced_activity
from tandem.sync.policy import DecidingRule, SyncPolicy, as_policy
from tandem.sync.policy_effects import FilterEffects
from tandem.sync.policy_fields import field_rules
from tandem.sync.values import from_salesforce, to_salesforce
from tandem.sync.watermark import parse_stamp
from tandem.sync.workspace import Delivery, HeldBatch, Refusal, SyncWorkspace


@dataclass
class PersonPush:
    """One person's record in a batch: what goes out, and what each pending change becomes."""

    person: Person
    record: dict[str, Any]
    sent: list[PendingChange] = field(default_factory=list)
    not_synced: list[tuple[PendingChange, FieldRule | None, str]] = field(default_factory=list)


def plan_person(catalog: Catalog, object_name: str, person: Person, changes: Sequence[PendingChange],
                rules: Mapping[str, DecidingRule] | None = None) -> PersonPush:
    """Sort a person's pending changes into the record to send and the changes that cannot go
    (with `rules`, a blank under prefer-tandem-unless-blank does not go either)."""
    pushable = catalog.pushable(object_name)
    plan = PersonPush(person=person, record={"Id": person.link.sfdc_id})
    for change in changes:
        rule = pushable.get(change.field)
        deciding = (rules or {}).get(change.field)
        if rule is not None and deciding is not None and keeps_salesforce_value(deciding.rule, change.value):
            plan.not_synced.append((change, rule, f"blank: {deciding.source} keeps Salesforce's value"))
            continue
        if rule is not None:
            plan.record[rule.sf_field] = to_salesforce(change.value)
            plan.sent.append(change)
            continue
        other = catalog.governing(object_name, change.field)
        reason = other.reason if other is not None else (
            f"no {object_name} field the sync user can see takes it (hidden by field-level security, "
            "removed, or not on the object)")
        plan.not_synced.append((change, other, reason))
    return plan


CONCURRENCY = 8
"""Batches in flight at once (each its check query, then its update call); short calls, which
Salesforce does not count among its 25 concurrent long-running requests."""
BULK_PUSH_THRESHOLD = 10_000
"""Persons with changes to push at or above which an object's push goes by Bulk API 2.0 ingest jobs."""
BULK_JOB_PERSONS = 2_000
"""Persons per ingest job: each job's persons are claimed until it is settled (as a pull page's are)."""
BULK_CONCURRENCY = 8
"""Ingest jobs in flight at once at most; fewer where the store limits how many persons claims may
hold together (PostgreSQL's lock table: `Locks.claimable`), since each job's persons stay claimed."""


@dataclass(frozen=True)
class PushSettings:
    concurrency: int = CONCURRENCY
    bulk_threshold: int = BULK_PUSH_THRESHOLD
    bulk_job_persons: int = BULK_JOB_PERSONS
    bulk_concurrency: int = BULK_CONCURRENCY


RETRIED = "the change stays pending: it goes again, whole, with the person's next change and on a back-off schedule"


def _check_query(object_name: str, plans: Sequence[PersonPush]) -> str:
    """The query reading the plans' records as they are now: every field they send, and when it last changed."""
    fields = sorted({name for p in plans for name in p.record if name not in ("Id", "SystemModstamp")})
    fields.append("SystemModstamp")
    ids = ", ".join(quoted(p.person.link.sfdc_id) for p in plans)
    return f"SELECT Id, {', '.join(fields)} FROM {object_name} WHERE Id IN ({ids})"


class Pusher:
    def __init__(self, workspace: SyncWorkspace, catalog: Catalog, *, source: ChangeOrigin = ChangeOrigin.SYNC_CYCLE,
                 policy: SyncPolicy | Mapping[str, Winner] | None = None,
                 between_batches: Callable[[int], bool] = lambda done: False,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 hold: Callable[[str, Sequence[int]], AbstractContextManager[HeldBatch]] | None = None,
                 settings: PushSettings | None = None,
                 ) -> None:
        self.workspace = workspace
        self.catalog = catalog
        self.source = source
        self.policy = as_policy(policy)
        self.filters = FilterEffects(workspace, self.policy)
        self.rules = field_rules(self.policy, catalog, "Contact"), field_rules(self.policy, catalog, "Lead")
        self.between_batches = between_batches
        self.clock = clock
        self.hold = hold or self._unclaimed
        """Held while a batch goes out: its persons no one else holds, with their changes re-read."""
        self.settings = settings or PushSettings()
        self._planning = threading.Lock()

    def push(self, object_name: str, *, retry_failed: bool = False) -> StepCounts:
        """Every due change of the object, several batches in flight (or Bulk ingest jobs when many
        persons have changes); each batch is claimed, checked, sent and settled on its own."""
        settings = self.settings
        window = max(settings.bulk_threshold, COLLECTION_LIMIT)  # persons read from the outbox at a time

        def due(after: int) -> list[int]:
            return self.workspace.due_persons(object_name, after_person_id=after, max_persons=window,
                                              include_failed=retry_failed, now=self.clock())

        first = due(0)
        bulk = settings.bulk_threshold > 0 and len(first) >= settings.bulk_threshold
        size = settings.bulk_job_persons if bulk else COLLECTION_LIMIT
        in_flight = max(1, self._jobs_at_once(size) if bulk else settings.concurrency)

        def batches() -> Iterator[list[int]]:
            read = first
            while read:
                for start in range(0, len(read), size):
                    yield read[start:start + size]
                if len(read) < window:
                    return
                read = due(read[-1])

        tally = Tally()
        running: set[Future[Tally]] = set()
        with ThreadPoolExecutor(max_workers=in_flight, thread_name_prefix="tandem-push") as pool:
            try:
                for batch in batches():
                    running.add(pool.submit(self._batch, object_name, batch, bulk))
                    if len(running) < in_flight:
                        continue
                    done, running = wait(running, return_when=FIRST_COMPLETED)
                    for future in done:
                        tally.add(future.result())
                    if self.between_batches(tally.updated + tally.failed + tally.skipped):
                        break
            finally:
                finished, _ = wait(running)
            for future in finished:
                tally.add(future.result())
        return tally.counts()

    def _unclaimed(self, object_name: str, person_ids: Sequence[int]) -> AbstractContextManager[HeldBatch]:
        """Without claims: the batch's persons and changes as they are now."""
        return nullcontext(self.workspace.held_batch(object_name, person_ids))

    def _jobs_at_once(self, persons_per_job: int) -> int:
        claimable = self.workspace.store.locks.claimable
        if claimable is None:
            return self.settings.bulk_concurrency
        return min(self.settings.bulk_concurrency, claimable // persons_per_job)

    def _batch(self, object_name: str, batch: list[int], bulk: bool) -> Tally:
        tally = Tally()
        with ExitStack() as holding:
            with self._planning:  # one batch plans at a time: the first goes out while the next plans
                held = holding.enter_context(self.hold(object_name, batch))  # until the batch is settled
                planned = [plan_person(self.catalog, object_name, held.persons[pid], changes,
                                       self.rules_of(object_name)) for pid, changes in held.changes.items()]
            plans = self.filters.push_inside(object_name, planned)
            tally.skipped += len(planned) - len(plans)
            if not bulk:
                self.push_plans(object_name, plans, tally)
                return tally
            self.settle_not_synced(object_name, plans)
            tally.skipped += sum(1 for p in plans if not p.sent)
            sent = [p for p in plans if p.sent]
            parts = [sent[start:start + COLLECTION_LIMIT] for start in range(0, len(sent), COLLECTION_LIMIT)]
            if not sent:
                return tally
            client = self.workspace.client
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="tandem-job") as opening:
                job = opening.submit(open_update_job, client, object_name)  # opened while the check reads
                try:
                    # One check query per 200 records, up to 5 of them in one composite call; then
                    # each part decided on what it read.
                    current = self.current_rows_of_parts(object_name, parts)
                    checked = [p for part, rows in zip(parts, current, strict=True)
                               for p in self.checked(object_name, part, rows)]
                except BaseException:
                    if job.exception() is None:
                        with suppress(TandemError):
                            abort_job(client, job.result())  # it would get no data
                    raise
            self.send_checked(object_name, checked, tally, job_id=job.result())
        return tally

    def rules_of(self, object_name: str) -> dict[str, DecidingRule]:
        return self.rules[0] if object_name == "Contact" else self.rules[1]

    def push_plans(self, object_name: str, plans: Sequence[PersonPush],
                   tally: Tally) -> list[tuple[PersonPush, RecordResult | None]]:
        """Send one batch (≤ 200 persons): each plan as checked against Salesforce's records (its
        `sent` is what went out: a conflict Salesforce won takes a change out), with its result,
        None where nothing was sent."""
        self.settle_not_synced(object_name, plans)
        plans = self.checked(object_name, [p for p in plans if p.sent]) + [p for p in plans if not p.sent]
        return list(zip(plans, self.send_checked(object_name, plans, tally), strict=True))

    def send_checked(self, object_name: str, plans: Sequence[PersonPush], tally: Tally, *,
                     job_id: str | None = None) -> list[RecordResult | None]:
        """Send checked plans (a collection call, or the ingest job `job_id`) and settle each outcome."""
        outgoing = [p for p in plans if p.sent]
        tally.skipped += len(plans) - len(outgoing)
        if not outgoing:
            if job_id is not None:
                abort_job(self.workspace.client, job_id)  # everything was settled by the check
            return [None] * len(plans)
        self.workspace.mark_in_flight([c for p in outgoing for c in p.sent])
        records = [p.record for p in outgoing]
        if job_id is not None:
            results = update_job(self.workspace.client, object_name, records, job_id=job_id)
            again = [i for i, r in enumerate(results) if r.retryable]  # sent again as a collection call would
            for start in range(0, len(again), COLLECTION_LIMIT):
                part = again[start:start + COLLECTION_LIMIT]
                for index, result in zip(part, self.workspace.client.update_records(
                        object_name, [records[i] for i in part]), strict=True):
                    results[index] = result
        else:
            results = self.workspace.client.update_records(object_name, records)
        by_person = {p.person.id: r for p, r in zip(outgoing, results, strict=True)}

        def settle() -> Tally:
            settled = Tally()
            live = self.workspace.lock_persons([p.person.id for p in outgoing])
            self.workspace.delivered_many([self._delivery(object_name, plan) for plan, result
                                           in zip(outgoing, results, strict=True)
                                           if result.success and plan.person.id in live])
            for plan, result in zip(outgoing, results, strict=True):
                if result.success:
                    settled.updated += 1
                elif not result.retryable and plan.person.id in live:
                    self.workspace.refuse(plan.person, Refusal(
                        object_name, "update", self.source, RETRIED, result.errors[0] if result.errors else None,
                        changes=plan.sent), now=self.clock())
                    settled.failed += 1
            return settled
        tally.add(self.workspace.atomically(settle))
        return [by_person.get(p.person.id) for p in plans]

    def current_rows(self, object_name: str, plans: Sequence[PersonPush]) -> dict[str, dict[str, Any]]:
        """The plans' records as Salesforce has them now (one query, up to 200 records)."""
        if not plans:
            return {}
        rows = self.workspace.client.query(_check_query(object_name, plans))
        return {to_18(row["Id"]): row for row in rows}

    def current_rows_of_parts(self, object_name: str, parts: Sequence[Sequence[PersonPush]]
                              ) -> list[dict[str, dict[str, Any]]]:
        """`current_rows` of each part (up to 200 records each), their queries 5 to a composite call,
        the calls at the same time. A query whose answer failed or did not fit in it is asked again
        on its own."""
        chunks = [parts[start:start + MAX_QUERIES] for start in range(0, len(parts), MAX_QUERIES)]

        def read(chunk: Sequence[Sequence[PersonPush]]) -> dict[str, SubResponse]:
            return composite(self.workspace.client, [
                SubRequest(str(i), query_path(_check_query(object_name, part))) for i, part in enumerate(chunk) if part])
        with ThreadPoolExecutor(max_workers=max(1, len(chunks)), thread_name_prefix="tandem-check") as readers:
            read_chunks = list(readers.map(read, chunks))
        found: list[dict[str, dict[str, Any]]] = []
        for chunk, answers in zip(chunks, read_chunks, strict=True):
            for i, part in enumerate(chunk):
                answer = answers.get(str(i))
                if answer is None or not answer.ok or not (answer.body or {}).get("done", False):
                    found.append(self.current_rows(object_name, part))
                else:
                    found.append({to_18(row["Id"]): row for row in answer.body.get("records", [])})
        return found

    def checked(self, object_name: str, plans: list[PersonPush],
                current: Mapping[str, Mapping[str, Any]] | None = None) -> list[PersonPush]:
        """The plans as they may go out once checked against Salesforce's records as they are now
        (`current`, when they were read already)."""
        if not plans:
            return plans
        if current is None:
            current = self.current_rows(object_name, plans)

        def decide() -> list[PersonPush]:  # on what this transaction reads, the persons locked
            settle = PagePlan()
            fresh = self.workspace.persons_by_sfdc_ids([p.person.link.sfdc_id for p in plans], lock=True)
            person_ids = [p.person.id for p in plans]
            bases = self.workspace.bases(person_ids, {c.field for p in plans for c in p.sent})
            pending = self.workspace.pending_ids(person_ids)
            checked = []
            for plan in plans:
                person = fresh.get(plan.person.link.sfdc_id)
                if person is not None and person.id == plan.person.id:
                    plan = replace(plan, person=person)
                row = current.get(plan.person.link.sfdc_id)
                checked.append(self._check(object_name, plan, row, bases.get(plan.person.id, {}),
                                           pending.get(plan.person.id, {}), settle))
            if settle.updates or settle.dropped_pending or settle.activities:
                self.workspace.apply(settle)
            return checked
        return self.workspace.atomically(decide)

    def _check(self, object_name: str, plan: PersonPush, row: Mapping[str, Any] | None, bases: Mapping[str, Any],
               pending_ids: Mapping[str, int], settle: PagePlan) -> PersonPush:
        """One plan against its record as Salesforce has it now; `bases` are the agreed values of
        the fields it sends, `pending_ids` the id of each field's pending change now."""
        pushable = self.catalog.pushable(object_name)
        keep: list[PendingChange] = []
        for change in plan.sent:
            if pending_ids.get(change.field) != change.id:
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
            base = bases.get(change.field)
            deciding = self.rules_of(object_name).get(change.field) or self.policy.rule_for(object_name, change.field)
            stamp = row.get("SystemModstamp")
            decision = decide_field(
                salesforce=value, base=base, current=plan.person.fields.get(change.field),
                pending=change.value, winner=deciding.rule,
                salesforce_changed_at=parse_stamp(stamp) if stamp else None, tandem_changed_at=change.changed_at,
                **({"sent": change.sent_value} if change.sent_in_doubt else {}),
            )
            if decision.outcome in (Outcome.UNCHANGED, Outcome.CONFLICT_TANDEM_WINS, Outcome.BLANK_IGNORED):
                keep.append(change)
            else:
                settle.dropped_pending.append(change.id)
                settle.bases[plan.person.id][change.field] = value
                if decision.changes_person:
                    settle.updates[plan.person.id][change.field] = decision.value
            if decision.outcome in (Outcome.CONFLICT_SALESFORCE_WINS, Outcome.CONFLICT_TANDEM_WINS):
                settle.activities.append(conflict_activity(plan.person, object_name, plan.person.link.sfdc_id,
                                                           change.field, decision, base, deciding.source))
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
        records = [not_synced_activity(p.person.id, change.field, object_name, p.person.link.sfdc_id, change.origin,
                                       reason, change.value)
                   for p in plans for change, _, reason in p.not_synced]
        self.workspace.not_sent(drops, records)

    def _delivery(self, object_name: str, plan: PersonPush) -> Delivery:
        return Delivery(plan.person.id, {c.field: c.value for c in plan.sent}, plan.sent, ActivityRecord(
            plan.person.id, types.SYNC_LEAD_TO_SFDC, plan.person.link.sfdc_id, {
                "Salesforce Type": object_name, "Operation": "update", "Source": self.source,
                "Reason": "fields: " + ", ".join(sorted(c.field for c in plan.sent)),
            }))
