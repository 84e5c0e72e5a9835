"""The *pull* steps: Salesforce records changed since the watermark, merged into persons.

One query per object (`queryAll`, so deletes and conversions arrive with the updates), read
page by page; each row is parsed once into a typed record (`records.py`) and each page planned
(here, and in `fates.py` for deletes, merges and conversions) into a `PagePlan`. Each page is
planned and applied in one store transaction, on the persons, bases and pending changes that
transaction reads (their rows locked), together with the watermark that covers it: a Tandem edit
landing meanwhile is either seen by the plan or lands after it, never between the two. A pull
killed at any point resumes where its last committed page ended.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, nullcontext
from itertools import islice
from typing import Any

from tandem.people import activities as types
from tandem.people.checked import Checked
from tandem.people.models import Person
from tandem.people.origin import ChangeOrigin
from tandem.sync.catalog import Catalog
from tandem.sync.fates import RecordFates, adopt_masters, related_ids
from tandem.sync.fields import LINK_FIELD, Direction
from tandem.sync.merge import Outcome, Winner, decide_field, same_value
from tandem.sync.plan import ActivityRecord, PagePlan, PullCounts, Tally, conflict_activity
from tandem.sync.records import PulledRecord, RecordParser, link_for, unique_by_id
from tandem.sync.values import shown
from tandem.sync.watermark import Cursor
from tandem.sync.workspace import FieldState, SyncWorkspace

PAGE_SIZE = 2000
ANALYZE_AFTER = 2000
"""Persons a pull adds before it refreshes the database's statistics (then each time the table doubles)."""
_SYSTEM_FIELDS = {
    "Contact": ("Id", "SystemModstamp", "IsDeleted", "CreatedDate", "MasterRecordId", "AccountId"),
    "Lead": ("Id", "SystemModstamp", "IsDeleted", "CreatedDate", "MasterRecordId", "IsConverted",
             "ConvertedContactId", "ConvertedAccountId", "ConvertedOpportunityId"),
    "Account": ("Id", "SystemModstamp", "IsDeleted"),
}


def pull_query(object_name: str, catalog: Catalog, cursor: Cursor) -> str:
    wanted: list[str] = list(_SYSTEM_FIELDS[object_name])
    if object_name != "Account" and catalog.described(object_name, LINK_FIELD):
        wanted.append(LINK_FIELD)
    wanted += [r.sf_field for r in catalog.syncing(object_name)]
    if object_name == "Contact":
        wanted += [f"Account.{r.sf_field}" for r in catalog.syncing("Account")]
    fields: dict[str, str] = {}
    for name in wanted:
        fields.setdefault(name.lower(), name)
    where = cursor.where_clause()
    return (
        f"SELECT {', '.join(fields.values())} FROM {object_name}"
        + (f" WHERE {where}" if where else "")
        + " ORDER BY SystemModstamp, Id"
    )


def pages(rows: Iterable[dict[str, Any]], size: int = PAGE_SIZE) -> Iterator[list[dict[str, Any]]]:
    iterator = iter(rows)
    while page := list(islice(iterator, size)):
        yield page


class Puller:
    """Applies pulled records of one object to persons, under the object's conflict policy."""

    def __init__(self, workspace: SyncWorkspace, catalog: Catalog, policy: Mapping[str, Winner],
                 between_pages: Callable[[int], bool] = lambda done: False,
                 hold: Callable[[str, list[PulledRecord]], AbstractContextManager[object]] = lambda o, r: nullcontext(),
                 page_size: int = PAGE_SIZE) -> None:
        self.workspace = workspace
        self.catalog = catalog
        self.policy = policy
        self.between_pages = between_pages
        self.hold = hold
        """Held while a page is planned and applied: the persons it names (`tandem.sync.claims`)."""
        self.page_size = page_size
        self.fates = RecordFates()

    def pull(self, object_name: str) -> PullCounts:
        parser = self._parser(object_name)
        pull_only = self._pull_only(object_name)
        cursor = self.workspace.cursor(object_name)
        rows = self.workspace.client.query(pull_query(object_name, self.catalog, cursor), include_deleted=True)
        updates, deletes, conversions = Tally(), Tally(), Tally()  # the pull's counts so far
        known, added = 0, 0  # persons added since the database's statistics were refreshed
        read = 0
        read_at = None
        for page in pages(rows, self.page_size):
            read_at = read_at or self.workspace.client.server_time
            read += len(page)
            records = [parser.parse(row) for row in page]
            fresh = [r for r in unique_by_id(records) if not cursor.already_applied(r.id, r.stamp)]
            cursor = cursor.advance((r.id, r.stamp) for r in records)
            with self.hold(object_name, fresh):
                if object_name == "Account":
                    plan = self.workspace.apply_page(object_name, cursor, lambda: self.plan_accounts(fresh))
                else:
                    plan = self.workspace.apply_page(object_name, cursor,
                                                     lambda: self.plan(object_name, fresh, pull_only))
            updates.add(plan.updates_counted)
            added += plan.updates_counted.new
            if added >= max(ANALYZE_AFTER, known):  # the table at least doubled: plans made for it go stale
                self.workspace.refresh_statistics()
                known, added = known + added, 0
            deletes.add(plan.deletes_counted)
            conversions.add(plan.conversions_counted)
            if self.between_pages(read):
                break  # stopped: the cursor stays where the last applied page left it
        else:  # read to the end: the window Salesforce had when the read began is done
            finished = cursor.completed(read_at or self.workspace.client.server_time)
            if finished != cursor:
                self.workspace.save_cursor(object_name, finished)
        return PullCounts(updates.counts(), deletes.counts(), conversions.counts())

    def _parser(self, object_name: str) -> RecordParser:
        account_rules = self.catalog.syncing("Account") if object_name == "Contact" else []
        return RecordParser(object_name, self.catalog.syncing(object_name), account_rules,
                            self.workspace.person_field)

    def _pull_only(self, object_name: str) -> frozenset[str]:
        """Person fields that sync into Tandem only: Salesforce's value always wins them."""
        rules = [r for r in self.catalog.syncing(object_name) if r.direction is Direction.PULL]
        if object_name == "Contact":
            rules += self.catalog.syncing("Account")
        return frozenset(r.person_field for r in rules if r.person_field)

    # -- Leads and Contacts -------------------------------------------------------------------

    def plan(self, object_name: str, records: list[PulledRecord], pull_only: frozenset[str] = frozenset()) -> PagePlan:
        plan = PagePlan()
        persons = self.workspace.persons_by_sfdc_ids(related_ids(records), lock=True)
        plan.read.update((p.id, p) for p in persons.values())
        self._claim_made_for(records, persons, plan)
        adopt_masters(records, persons)
        state = self.workspace.field_state(sorted({p.id for p in persons.values()}))
        for record in records:
            person = persons.get(record.id)
            if person is None:
                self._plan_new(record, plan)
            elif record.is_deleted:
                self.fates.deleted(person, record, persons, plan)
            elif object_name == "Lead" and record.is_converted:
                self.fates.converted(person, record, persons, plan)
            else:
                if person.link.sfdc_is_deleted and person.link.sfdc_id == record.id:
                    self.fates.undeleted(person, record, plan)
                self._plan_merge(person, record, state.get(person.id, FieldState()), pull_only, plan)
        return plan

    def _claim_made_for(self, records: list[PulledRecord], persons: dict[str, Person], plan: PagePlan) -> None:
        """A record Tandem made for a person it has not linked yet (an action killed after Salesforce
        committed) belongs to that person, known by the Tandem id the record carries."""
        made_for = {r.id: pid for r in records if r.id not in persons
                    and (pid := self.workspace.own_person_id(r.tandem_person_id)) is not None}
        if not made_for:
            return
        found = self.workspace.persons(list(made_for.values()), lock=True)
        plan.read.update(found)
        for record_id, pid in made_for.items():
            person = found.get(pid)
            if person is not None and (not person.linked or person.link.sfdc_is_deleted):
                persons[record_id] = person

    def _plan_new(self, record: PulledRecord, plan: PagePlan) -> None:
        if record.is_deleted or (record.object_name == "Lead" and record.is_converted):
            # nothing of ours to update; a converted lead arrives as its contact
            (plan.deletes_counted if record.is_deleted else plan.conversions_counted).skipped += 1
            return
        index = len(plan.new_persons)
        plan.activities.extend(_dropped(record, None, index))
        plan.new_persons.append((Checked(record.values), link_for(record)))
        plan.updates_counted.new += 1

    def _plan_merge(self, person: Person, record: PulledRecord, state: FieldState, pull_only: frozenset[str],
                    plan: PagePlan) -> None:
        object_name = record.object_name
        plan.activities.extend(_dropped(record, person.id))
        policy = self.policy.get(object_name, Winner.SALESFORCE)
        changed = False
        for name, value in record.values.items():
            change = state.pending.get(name)
            base = state.bases.get(name)  # no stored base: the value both sides agreed on was empty
            decision = decide_field(
                salesforce=value,
                base=base,
                current=person.fields.get(name),
                winner=Winner.SALESFORCE if name in pull_only else policy,
                **({"pending": change.value} if change is not None else {}),
                **({"sent": change.sent_value} if change is not None and change.sent_in_doubt else {}),
            )
            if not same_value(value, base):
                plan.bases[person.id][name] = value
            if decision.changes_person:
                plan.updates[person.id][name] = decision.value
                changed = True
            if decision.drops_pending and change is not None:
                plan.dropped_pending.append(change.id)
            if decision.outcome in (Outcome.CONFLICT_SALESFORCE_WINS, Outcome.CONFLICT_TANDEM_WINS):
                plan.activities.append(conflict_activity(person, object_name, record.id, name, decision, base))
        link = link_for(record, person.link)
        if link != person.link:
            plan.links[person.id] = link
            changed = True
        if changed:
            plan.updates_counted.updated += 1
        else:
            plan.updates_counted.skipped += 1

    # -- Accounts ------------------------------------------------------------------------------

    def plan_accounts(self, records: list[PulledRecord]) -> PagePlan:
        """Account changes feed the company fields of every person linked to one of its contacts."""
        plan = PagePlan()
        tally = plan.updates_counted
        by_account = self.workspace.contacts_by_account_ids([r.id for r in records], lock=True)
        for record in records:
            persons = by_account.get(record.id, [])
            if record.is_deleted or not persons:
                tally.skipped += 1
                continue
            plan.activities.extend(_dropped(record, persons[0].id))
            touched = False
            for person in persons:
                for name, value in record.values.items():
                    plan.bases[person.id][name] = value
                    if decide_field(salesforce=value, current=person.fields.get(name),
                                    winner=Winner.SALESFORCE).changes_person:
                        plan.updates[person.id][name] = value
                        touched = True
            if touched:
                tally.updated += 1
            else:
                tally.skipped += 1
        return plan


def _dropped(record: PulledRecord, person_id: int | None, new_index: int | None = None) -> list[ActivityRecord]:
    """The activities for a record's values that do not fit their person fields."""
    return [ActivityRecord(person_id, types.SFDC_VALUE_DROPPED, d.person_field, {
        "Field": d.person_field, "Salesforce Type": record.object_name, "Salesforce Id": record.id,
        "Source": ChangeOrigin.SALESFORCE, "Reason": d.reason, "Value": shown(d.raw),
    }, new_index=new_index) for d in record.dropped]

