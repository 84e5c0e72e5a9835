"""What a sync step works with: the Salesforce client, and the engine's one door to the people store.

The steps decide (pure plans); the workspace reads what they need in bulk and writes a plan, its
activities and its watermark in one store transaction. Every write the engine makes to the store
goes through here, so what a sync decision writes is found in one place.
"""

from __future__ import annotations

import os
import threading
from collections import defaultdict
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, TypeVar

from tandem.errors import AuthenticationFailed, NotFound, RecordRejected
from tandem.people import activities as types
from tandem.people.fields import PersonField
from tandem.people.models import ErrorLevel, PendingChange, PendingState, Person, SalesforceLink
from tandem.people.origin import ChangeOrigin
from tandem.people.refused_logins import RefusedLogin
from tandem.people.store import PersonStore
from tandem.salesforce.client import SalesforceClient
from tandem.salesforce.results import RecordError
from tandem.sync.plan import ActivityRecord, PagePlan
from tandem.sync.watermark import DEFAULT_COMMIT_LAG, Cursor

PULL_STREAM = "pull"


@dataclass(frozen=True)
class FieldState:
    """One person's agreed bases and pending change, by field."""

    bases: Mapping[str, Any] = field(default_factory=dict)
    pending: Mapping[str, PendingChange] = field(default_factory=dict)


@dataclass(frozen=True)
class Refusal:
    """Salesforce refused a person's record: what was being done, and Salesforce's first error."""

    object_name: str
    operation: str
    source: str
    reason: str
    error: RecordError | None
    sfdc_id: str | None = None
    changes: Sequence[PendingChange] = ()

    @property
    def code(self) -> str:
        return self.error.code if self.error else "UNKNOWN_EXCEPTION"

    @property
    def message(self) -> str:
        return self.error.message if self.error else "Salesforce refused the record"

    def as_error(self) -> RecordRejected:
        return rejected(self.error, self.message)


def rejected(error: RecordError | None, message: str) -> RecordRejected:
    """The typed error for a refused record, carrying Salesforce's code and fields."""
    return RecordRejected(message, error_code=error.code if error else None,
                          fields=list(error.fields) if error else [])


@dataclass(frozen=True)
class Delivery:
    """Salesforce took `values` for a person: `changes` leave the outbox, `activity` says so."""

    person_id: int
    values: Mapping[str, Any]
    changes: Sequence[PendingChange]
    activity: ActivityRecord


T = TypeVar("T")


@dataclass(frozen=True)
class HeldBatch:
    """A push batch once its persons are held: each person as read then, with the changes it has now."""

    persons: Mapping[int, Person]
    changes: Mapping[int, Sequence[PendingChange]]


class SyncWorkspace:
    def __init__(self, client: SalesforceClient, store: PersonStore,
                 commit_lag: timedelta = DEFAULT_COMMIT_LAG) -> None:
        self.client = client
        self.store = store
        self.commit_lag = commit_lag
        """How late Salesforce may commit a write after stamping it (`tandem.sync.watermark`)."""
        self._person_fields: dict[str, PersonField] = {}
        self._installation: str | None = None
        self.counting: tuple[int, int] | None = None
        """(thread, step id): the pull step whose pages that thread applies counts them as they commit."""

    def atomically(self, work: Callable[[], T]) -> T:
        """`work()` in one transaction, run again from the start if another writer made the
        database give it up (so `work` decides only on what it reads inside)."""
        return self.store.atomically(work)

    def lock_persons(self, person_ids: Sequence[int]) -> set[int]:
        """Lock these persons until the transaction ends, in id order, as every writer does; returns
        those that still exist (another process may have deleted or merged one away meanwhile)."""
        return set(self.store.persons.lock(sorted(person_ids)))

    # -- reads ---------------------------------------------------------------------------------

    def cursor(self, object_name: str) -> Cursor:
        mark = self.store.watermarks.get(object_name, PULL_STREAM)
        return Cursor.load(mark.value if mark else None)

    def pull_bound(self) -> datetime | None:
        """Where a pull starting now reads to: Salesforce's clock less the commit lag (None: to the end)."""
        if not self.commit_lag:
            return None
        now = self.client.server_now()
        return None if now is None else now - self.commit_lag

    def person_field(self, name: str) -> PersonField:
        """The person field (kept: a pull asks for the same few dozen on every row)."""
        found = self._person_fields.get(name)
        if found is None:
            found = self._person_fields[name] = self.store.fields.get(name)
        return found

    def forget_person_field(self, name: str) -> None:
        """The sync-schema step changed this person field (a picklist value added): read it again."""
        self._person_fields.pop(name, None)

    def person(self, person_id: int) -> Person:
        return self.store.persons.get(person_id)

    def persons(self, person_ids: Sequence[int], *, lock: bool = False) -> dict[int, Person]:
        """Persons by id; with `lock`, held until the transaction ends."""
        return {p.id: p for p in self.store.persons.get_many(list(person_ids), lock=lock)}

    def persons_by_sfdc_ids(self, sfdc_ids: Sequence[str], *, lock: bool = False) -> dict[str, Person]:
        """Persons by their record's Id; with `lock`, held until the transaction ends (plan, then write)."""
        return self.store.persons.by_sfdc_ids(sfdc_ids, lock=lock)

    def flagged_outside_filter(self, person_ids: Sequence[int], rule: str) -> set[int]:
        """Those of these persons still flagged outside `rule`'s filter (`SyncHistory.flagged_outside_filter`)."""
        return self.store.history.flagged_outside_filter(person_ids, rule)

    def persons_unlinked_from(self, object_name: str, sfdc_ids: Sequence[str], *,
                              lock: bool = False) -> dict[str, Person]:
        """Persons a filter unlinked from these records (`Persons.unlinked_from`)."""
        return self.store.persons.unlinked_from(object_name, sfdc_ids, lock=lock)

    def contacts_by_account_ids(self, account_ids: Sequence[str], *, lock: bool = False) -> dict[str, list[Person]]:
        return self.store.persons.by_account_ids(account_ids, sfdc_type="Contact", lock=lock)

    def installation_id(self) -> str:
        """This database's id, the first part of the Tandem id a record made for a person carries."""
        return self.store.installation.id()

    def external_id(self, person_id: int) -> str:
        """Tandem's id for a person across databases: the installation id plus the person id."""
        return f"{self.installation_id()}-{person_id}"

    def own_person_id(self, external_id: str | None) -> int | None:
        """The person id in a Tandem id of this database; None for another database's or none."""
        prefix, dash, number = (external_id or "").rpartition("-")
        if not dash or not number.isdigit():
            return None
        if self._installation is None:
            self._installation = self.installation_id()
        return int(number) if prefix == self._installation else None

    def made_for(self, external_id: str | None) -> int | None:
        """The live person a record carrying this Tandem id belongs to: the person it names, or the one
        that person was merged into since (a merge in Tandem leaves the record naming the loser)."""
        person_id = self.own_person_id(external_id)
        if person_id is None:
            return None
        return self.store.tombstones.merged_into(person_id) or person_id

    def deleted_since(self, sfdc_ids: Sequence[str]) -> dict[str, datetime]:
        """Per record Id: when the person last linked to it was deleted in Tandem (none if never)."""
        return self.store.tombstones.deleted_since(sfdc_ids)

    def field_state(self, person_ids: Sequence[int]) -> dict[int, FieldState]:
        """Per person: the agreed bases and the pending change of each field."""
        if not person_ids:
            return {}
        bases = self.store.bases.for_persons(person_ids)
        pending = self.pending_changes(person_ids)
        return {pid: FieldState(bases.get(pid, {}), pending.get(pid, {})) for pid in person_ids}

    def bases(self, person_ids: Sequence[int], fields: Collection[str]) -> dict[int, dict[str, Any]]:
        """Per person with any: the agreed bases of these fields."""
        return self.store.bases.for_persons(person_ids, fields)

    def pending_ids(self, person_ids: Sequence[int]) -> dict[int, dict[str, int]]:
        """Per person with any: the id of each field's pending change."""
        return self.store.outbox.current_ids(person_ids)

    def pending_changes(self, person_ids: Sequence[int]) -> dict[int, dict[str, PendingChange]]:
        """Per person with any: the pending change of each field."""
        pending: dict[int, dict[str, PendingChange]] = defaultdict(dict)
        for change in self.store.outbox.find(person_ids=person_ids):
            pending[change.person_id][change.field] = change
        return pending

    def pending(self, person_id: int) -> list[PendingChange]:
        return self.store.outbox.find(person_ids=[person_id])

    def due_persons(self, object_name: str, *, after_person_id: int, max_persons: int, include_failed: bool,
                    now: datetime | None = None) -> list[int]:
        """The next persons with changes to push, in ascending id order."""
        return self.store.outbox.due_persons(object_name, after_person_id=after_person_id, max_persons=max_persons,
                                             include_failed=include_failed, now=now)

    def held_batch(self, object_name: str, person_ids: Sequence[int]) -> HeldBatch:
        """Persons chosen for a push, as they are now: those still linked to a live record of the
        object, each with every change it holds (refused ones too: a refused record is retried whole)."""
        if not person_ids:
            return HeldBatch({}, {})
        states = {PendingState.PENDING, PendingState.IN_FLIGHT, PendingState.FAILED}
        persons = self.persons(person_ids)
        live = [pid for pid, p in persons.items()
                if p.link.sfdc_type == object_name and p.link.sfdc_id and not p.link.sfdc_is_deleted]
        pending = self.pending_changes(live)
        changes: dict[int, list[PendingChange]] = {}
        for pid in live:
            held = sorted((c for c in pending.get(pid, {}).values() if c.state in states), key=lambda c: c.id)
            if held:
                changes[pid] = held
        return HeldBatch({pid: persons[pid] for pid in changes}, changes)

    # -- the pull's writes ---------------------------------------------------------------------

    @contextmanager
    def loading(self, size: int) -> Iterator[None]:
        """A pull writing a window of `size` new or changed persons (0: a window read page by page).

        When the window is at least as large as the persons table (a first pull of an org, say),
        the persons' search indexes are set aside while it is written and built once at its end,
        or where the pull stops or fails; one killed outright leaves them to the next cycle."""
        set_aside = size > 0 and size >= self.store.persons.count() and self.store.search_indexes.set_aside()
        try:
            yield
        except BaseException:
            if set_aside:
                with suppress(Exception):  # the database gone, say: the next cycle builds them
                    self.store.search_indexes.restore()
            raise
        if set_aside:
            self.store.search_indexes.restore()

    def refresh_statistics(self) -> None:
        """After many persons were added: the database's planner learns the table's new size."""
        self.store.persons.refresh_statistics()

    def save_cursor(self, object_name: str, cursor: Cursor) -> None:
        self.store.watermarks.set(object_name, PULL_STREAM, cursor.dump())

    def apply_page(self, object_name: str, cursor: Cursor, plan_page: Callable[[], PagePlan]) -> PagePlan:
        """Plan a page on what one transaction reads and write it there, with the watermark past it.

        The planner's reads (persons locked, bases, pending changes) and the writes share the
        transaction, so no edit can land between the decision and what it writes. When another
        writer makes the database give the transaction up, the page is planned and written again.
        """
        def page() -> PagePlan:
            plan = plan_page()
            self.apply(plan, object_name, cursor)
            if self.counting is not None and self.counting[0] == threading.get_ident():
                self.store.steps.count_so_far(self.counting[1], plan.updates_counted.counts())
            return plan
        return self.store.atomically(page)

    def apply(self, plan: PagePlan, object_name: str | None = None, cursor: Cursor | None = None) -> None:
        """Write one page's plan and move the object's watermark past it (if given), in one transaction.

        The persons the plan read in this transaction (`plan.read`, locked) are neither locked nor
        read again; any other person it touches is locked first.
        """
        store = self.store
        read = plan.read
        with store.transaction():
            touched = {*plan.updates, *plan.links, *plan.bases, *plan.forget_bases,
                       *(a.person_id for a in plan.activities if a.person_id is not None)}
            unread = sorted(touched - read.keys())
            existing = {*(touched & read.keys()), *(store.persons.lock(unread) if unread else ())}
            new_ids: list[int] = []
            if plan.new_persons:
                new_ids = store.persons.add_linked(plan.new_persons, origin=ChangeOrigin.SALESFORCE)
                store.bases.set_many({pid: fields for pid, (fields, _) in zip(new_ids, plan.new_persons, strict=True)},
                                     new_persons=True)
            if plan.dropped_pending:
                store.outbox.clear_settled(plan.dropped_pending)
            if plan.refused_due:
                store.outbox.refused_due_now(plan.refused_due)
            updates = [(pid, values) for pid, values in plan.updates.items() if values]
            if updates:
                store.persons.update_many(updates, origin=ChangeOrigin.SALESFORCE, reason="changed in Salesforce",
                                          read=read)
            if plan.links:
                store.persons.set_links(list(plan.links.items()), reason="changed in Salesforce", read=read)
            if plan.forget_bases:
                store.bases.clear_many(plan.forget_bases)
            if plan.bases:
                forgotten = set(plan.forget_bases)
                store.bases.set_many({pid: b for pid, b in plan.bases.items() if pid not in forgotten})
            self.log(plan.activities, new_ids, existing=existing)
            for order in plan.merges:  # last: what the page wrote about a loser moves to its winner
                store.merges.merge(order.winner_id, order.loser_ids, origin=ChangeOrigin.SALESFORCE, link=order.link,
                                   own=order.own)
            if object_name is not None and cursor is not None:
                store.watermarks.set(object_name, PULL_STREAM, cursor.dump())

    # -- the push's and the actions' writes ----------------------------------------------------

    def mark_in_flight(self, changes: Sequence[PendingChange]) -> None:
        """Before the call: these changes are being sent (a crash after it sends them again)."""
        with self.store.transaction():
            self.store.persons.lock(sorted({c.person_id for c in changes}))
            self.store.outbox.mark_attempt([c.id for c in changes])

    def delivered(self, person_id: int, values: Mapping[str, Any], changes: Sequence[PendingChange],
                  activity: ActivityRecord, *, link: SalesforceLink | None = None, reason: str = "",
                  keep_bases: bool = False) -> None:
        """Salesforce took `values`: they become the agreed bases and `changes` leave the outbox.

        With `link` (a record just created) the person is relinked first and the bases of the old
        record are forgotten, unless `keep_bases` (the new record holds the old one's values).
        """
        with self.store.transaction():
            if not self.store.persons.lock([person_id]):  # deleted or merged away meanwhile
                raise NotFound(self.store.tombstones.gone_message(person_id))
            if link is not None:
                self.store.persons.set_links([(person_id, link)], reason=reason)
                if not keep_bases:
                    self.store.bases.clear(person_id)
            self.delivered_many([Delivery(person_id, values, changes, activity)])

    def delivered_many(self, deliveries: Sequence[Delivery]) -> None:
        """`delivered` for many persons of one push batch: their rows locked in one statement,
        then one statement per kind of row written."""
        if not deliveries:
            return
        with self.store.transaction():
            person_ids = sorted({d.person_id for d in deliveries})
            existing = self.store.persons.lock(person_ids)
            cleared = [c.id for d in deliveries for c in d.changes]
            if cleared:
                self.store.outbox.clear(cleared)
            bases = {d.person_id: d.values for d in deliveries if d.values}
            if bases:
                self.store.bases.set_many(bases)
            self.log([d.activity for d in deliveries], existing=existing)

    def relinked(self, person_id: int, link: SalesforceLink, activity: ActivityRecord, *, reason: str) -> None:
        """The person follows its Lead to the Contact it was converted into, logged. The bases stay:
        the conversion copied the Lead's values to the Contact, so what both sides agreed on still
        is, and a change waiting to go is pushed to the Contact instead of lost to a false conflict."""
        self.delivered(person_id, {}, (), activity, link=link, reason=reason, keep_bases=True)

    def not_sent(self, drops: Sequence[int], records: Sequence[ActivityRecord]) -> None:
        """Changes to fields that do not go to Salesforce leave the outbox, each with its reason logged."""
        with self.store.transaction():
            self.store.outbox.clear(drops)
            self.log(records)

    def refuse(self, person: Person, refusal: Refusal, now: datetime | None = None) -> RecordRejected:
        """Salesforce refused the person's record: the one way a refusal is recorded.

        The refused changes stay pending (marked failed, retried with the person's next change or
        an explicit retry), a record-level sync error and an *SFDC Sync Failed* activity are written
        in one transaction; a record Salesforce says is deleted flags the person's link. Returns the
        typed error for callers that raise it.
        """
        error = refusal.error
        sfdc_id = refusal.sfdc_id or person.link.sfdc_id
        with self.store.transaction():
            if refusal.changes:
                self.store.outbox.mark_failed([c.id for c in refusal.changes], f"{refusal.code}: {refusal.message}",
                                              now=now)
            if refusal.code == "ENTITY_IS_DELETED" and person.linked:
                self.store.persons.set_links([(person.id, replace(person.link, sfdc_is_deleted=True))],
                                             reason="deleted in Salesforce")
            self.store.sync_errors.record(ErrorLevel.RECORD, refusal.code, refusal.message,
                                          object=refusal.object_name, sfdc_id=sfdc_id, person_id=person.id)
            self.log([ActivityRecord(person.id, types.SFDC_SYNC_FAILED, refusal.code, {
                "Field": ", ".join(sorted(c.field for c in refusal.changes)),
                "Salesforce Type": refusal.object_name, "Salesforce Id": sfdc_id, "Source": refusal.source,
                "Operation": refusal.operation, "Reason": refusal.reason, "Error Message": refusal.message,
                "Error Fields": ", ".join(error.fields) if error else "",
            })])
        return refusal.as_error()

    # -- bookkeeping ---------------------------------------------------------------------------

    def recall_refused_login(self) -> None:
        """Tell the client about a login another process had refused with the same settings."""
        kept = self.store.refused_logins.latest()
        if kept is None or self.client.refused is not None:
            return
        if kept.fingerprint == self.client.credentials.fingerprint(bytes.fromhex(kept.salt)):
            self.client.remember_refusal(kept.refused_at, AuthenticationFailed(kept.reason, error_code=kept.error_code))

    def keep_refused_login(self) -> None:
        """Keep the client's standing refusal for other processes (or forget it once a login worked)."""
        refused = self.client.refused
        if refused is None:
            if self.client.logins:
                self.store.refused_logins.forget()
            return
        at, error = refused
        kept = self.store.refused_logins.latest()
        if kept is not None and kept.refused_at >= at:
            return
        salt = os.urandom(16)
        self.store.refused_logins.keep(RefusedLogin(at, salt.hex(), self.client.credentials.fingerprint(salt),
                                                    error.error_code, error.message))

    def record_api_usage(self) -> None:
        """Keep the org's API usage from the last answer, for `tandem status`."""
        usage = self.client.api_usage
        if usage is not None:
            self.store.api_usage.record(*usage)

    def log(self, records: Sequence[ActivityRecord], created: Sequence[int] = (),
            existing: Collection[int] = ()) -> None:
        """Append the records' activities; `created` are the ids of the persons the page added
        (`new_index`), `existing` persons known to exist (locked in this transaction)."""
        rows = []
        for record in records:
            person_id = record.person_id if record.new_index is None else created[record.new_index]
            if person_id is None:
                continue
            rows.append((person_id, record.kind, record.primary_value, dict(record.attributes)))
        if rows:
            self.store.activities.log_many(rows, existing={*existing, *created})
