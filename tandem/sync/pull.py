"""The *pull* steps: Salesforce records changed since the watermark, merged into persons.

One query per object (`queryAll`, so deletes and conversions arrive with the updates), read
page by page; each row is parsed once into a typed record (`records.py`) and each page planned
(here, and in `fates.py` for deletes, merges and conversions) into a `PagePlan`. Each page is
planned and applied in one store transaction, on the persons, bases and pending changes that
transaction reads (their rows locked), together with the watermark that covers it: a Tandem edit
landing meanwhile is either seen by the plan or lands after it, never between the two. A pull
killed at any point resumes where its last committed page ended. A pull filter of the sync policy
is part of the query; what leaves it is handled by `tandem.sync.policy_effects`.

The query reads one window of `SystemModstamp` (`watermark.py`). Its answers are read ahead while
the pages before them are written (`prefetch.py`); a window larger than `FetchSettings.bulk_threshold`
records is read by a Bulk API 2.0 query job instead, its CSV rows typed back to the REST shape (REST
answers go on being read and written until the job is ready, and its rows behind them are skipped). The
cycle may hand a pull its first answer, read with the other objects' in one composite call.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, replace
from datetime import datetime
from functools import cached_property
from itertools import islice
from operator import itemgetter
from typing import Any, NamedTuple, TypeVar

from tandem.errors import TandemError
from tandem.people import activities as types
from tandem.people.checked import Checked
from tandem.people.models import Person
from tandem.people.origin import ChangeOrigin
from tandem.salesforce.bulk import (RESULT_CHUNK, abort_query_job, bulk_job_calls, query_job, query_job_done,
                                    result_rows, results_answer, start_query_job)
from tandem.salesforce.client import SalesforceClient
from tandem.salesforce.soql import quoted
from tandem.sync.catalog import Catalog
from tandem.sync.fates import RecordFates, adopt_masters, related_ids
from tandem.sync.fields import LINK_FIELD, Direction
from tandem.sync.merge import Outcome, Rule, Winner, decide_field, same_value
from tandem.sync.plan import ActivityRecord, PagePlan, PullCounts, Tally, blank_ignored_activity, conflict_activity
from tandem.sync.policy import DecidingRule, Leaving, SyncPolicy, as_policy
from tandem.sync.policy_effects import FilterEffects
from tandem.sync.policy_fields import field_rules
from tandem.sync.prefetch import prefetched
from tandem.sync.records import PulledRecord, RecordParser, link_for, unique_by_id
from tandem.sync.values import shown
from tandem.sync.watermark import Cursor, parse_stamp
from tandem.sync.workspace import FieldState, SyncWorkspace

log = logging.getLogger("tandem.sync")
T = TypeVar("T")
PAGE_SIZE = 2000
BULK_PULL_THRESHOLD = 20_000
"""Records a pull window holds before it is read with a Bulk API 2.0 query job instead of REST pages."""
READ_AHEAD = 2
"""Answers read ahead while the pages before them are written (REST answers of 2,000 rows, or Bulk
result chunks): the network and the database work at the same time, memory stays bounded."""
ANALYZE_AFTER = 2000
"""Persons a pull adds before it refreshes the database's statistics (then each time the table doubles)."""
_SYSTEM_FIELDS = {
    "Contact": ("Id", "SystemModstamp", "IsDeleted", "CreatedDate", "MasterRecordId", "AccountId"),
    "Lead": ("Id", "SystemModstamp", "IsDeleted", "CreatedDate", "MasterRecordId", "IsConverted",
             "ConvertedContactId", "ConvertedAccountId", "ConvertedOpportunityId"),
    "Account": ("Id", "SystemModstamp", "IsDeleted"),
}


def _pulled_fields(object_name: str, catalog: Catalog) -> list[str]:
    """What the object's pull selects: system fields, the link field, and the catalog's pulled fields."""
    wanted: list[str] = list(_SYSTEM_FIELDS[object_name])
    if object_name != "Account" and catalog.described(object_name, LINK_FIELD):
        wanted.append(LINK_FIELD)
    wanted += [r.sf_field for r in catalog.syncing(object_name)]
    if object_name == "Contact":
        wanted += [f"Account.{r.sf_field}" for r in catalog.syncing("Account")]
    fields: dict[str, str] = {}
    for name in wanted:
        fields.setdefault(name.lower(), name)
    return list(fields.values())


def pull_query(object_name: str, catalog: Catalog, cursor: Cursor, condition: str | None = None) -> str:
    """The object's pull: the catalog's pulled fields (never an `off` one) changed in the cursor's window,
    within the policy's filter `condition` when there is one (deleted and merged records too, and for
    Leads converted ones)."""
    fields = _pulled_fields(object_name, catalog)
    if condition and object_name == "Lead":
        # converted Leads are read whatever the filter says (`IsConverted = false` would hide the
        # conversion: the person would stay on the converted Lead and the Contact become a second
        # person); the pull follows each to its Contact and makes no person of one
        condition = f"({condition}) OR IsConverted = true"
    if condition and object_name != "Account":
        # so are deleted and merged ones: a record outside the filter, its person kept, is deleted or
        # merged away all the same (else its person is pushed to a deleted record for ever); the pull
        # makes no person of one
        condition = f"({condition}) OR IsDeleted = true"
    where = " AND ".join(part for part in (cursor.where_clause(), f"({condition})" if condition else "") if part)
    return (
        f"SELECT {', '.join(fields)} FROM {object_name}"
        + (f" WHERE {where}" if where else "")
        + " ORDER BY SystemModstamp, Id"
    )


def pages(rows: Iterable[dict[str, Any]], size: int = PAGE_SIZE) -> Iterator[list[dict[str, Any]]]:
    iterator = iter(rows)
    while page := list(islice(iterator, size)):
        yield page


def repaged(answers: Iterable[list[dict[str, Any]]], size: int) -> Iterator[list[dict[str, Any]]]:
    """Answers of any size cut into pages of `size` rows (the last one may be shorter)."""
    held: list[dict[str, Any]] = []
    for answer in answers:
        held.extend(answer)
        whole = len(held) - len(held) % size
        for start in range(0, whole, size):
            yield held[start:start + size]
        del held[:whole]
    if held:
        yield held


_STAMP_OF = itemgetter("SystemModstamp")


def with_next(items: Iterable[T]) -> Iterator[tuple[T, T | None]]:
    """Each item with the one after it (None after the last). When the next one cannot be had, the
    item comes with itself, then the error is raised."""
    iterator = iter(items)
    current = next(iterator, None)
    while current is not None:
        try:
            following = next(iterator, None)
        except Exception as error:
            yield current, current
            raise error
        yield current, following
        current = following


def lowest(rows: Sequence[Mapping[str, Any]] | None, bound: datetime | None = None) -> datetime | None:
    """The lowest `SystemModstamp` of these rows, or `bound` when that is lower (None: neither)."""
    stamp = parse_stamp(min(map(_STAMP_OF, rows))) if rows else None
    return min(stamp, bound) if stamp is not None and bound is not None else stamp or bound


@dataclass(frozen=True)
class FetchSettings:
    """How a pull reads: REST pages below `bulk_threshold` records, a Bulk query job above it."""

    bulk_threshold: int = BULK_PULL_THRESHOLD
    rest_while_bulk: bool = True
    """Whether REST answers go on being read and written while the Bulk job runs (one look at the
    job after each, two calls per answer), or the pull waits for the job (fewer calls)."""
    read_ahead: int = READ_AHEAD
    bulk_chunk: int = RESULT_CHUNK
    composite: bool = True
    """Whether a cycle reads its objects' first answers in one composite call (else a call each)."""


@dataclass(frozen=True)
class PreparedPull:
    """A pull's window and query, with its first answer when that was read already (in the
    cycle's composite call), or the error that answer was."""

    cursor: Cursor
    soql: str
    first_page: Mapping[str, Any] | None = None
    error: TandemError | None = None
    condition: str | None = None
    """The sync policy's pull filter, part of `soql`."""
    job: Future[str] | None = None
    """A Bulk query job over `soql` started before the first answer came (its Id once started)."""


def prepare_pull(object_name: str, catalog: Catalog, cursor: Cursor, condition: str | None = None) -> PreparedPull:
    return PreparedPull(cursor, pull_query(object_name, catalog, cursor, condition), condition=condition)


def bulk_types(object_name: str, catalog: Catalog) -> dict[str, str]:
    """Column (lower case) → describe type, for the pull query's columns that are not text."""
    types = {"isdeleted": "boolean", "isconverted": "boolean"}
    for rule in catalog.rules.get(object_name, ()):
        if rule.sf_type:
            types[rule.sf_field.lower()] = rule.sf_type
    if object_name == "Contact":
        for rule in catalog.rules.get("Account", ()):
            if rule.sf_type:
                types[f"account.{rule.sf_field.lower()}"] = rule.sf_type
    return types


class _JobLook(NamedTuple):
    job_id: str
    results: Any
    """The first results request's answer (its body unread) once the job is done, else None."""


def _look_at_job(client: SalesforceClient, soql: str, job: str | Future[str] | None, chunk: int) -> _JobLook:
    """Start the pull's query job (when `job` is None; when it is being started, wait for that) and
    look at it once; a job that is done has its first results asked at once."""
    if job is None:
        job_id = start_query_job(client, soql, include_deleted=True)
    else:
        job_id = job if isinstance(job, str) else job.result()
    if not query_job_done(client, job_id):
        return _JobLook(job_id, None)
    return _JobLook(job_id, results_answer(client, job_id, chunk))


def _in_background(work: Callable[..., T], *args: Any, **kwargs: Any) -> Future[T]:
    """`work(*args, **kwargs)` in a thread of its own."""
    runner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tandem-bulk-start")
    try:
        return runner.submit(work, *args, **kwargs)
    finally:
        runner.shutdown(wait=False)


def _drop_job(client: SalesforceClient, job: Future[str] | Future[_JobLook]) -> None:
    """A query job the pull will not read (REST read its window first, the window proved small, or
    the pull stopped): once started, its first results answer is closed and the job aborted, in
    the background."""

    def drop() -> None:
        found = job.result()  # a job that never started leaves its error here, unread
        job_id = found if isinstance(found, str) else found.job_id
        if isinstance(found, _JobLook) and found.results is not None:
            found.results.close()
        try:
            abort_query_job(client, job_id)
        except TandemError as error:  # an unread job only costs Salesforce; the pull goes on without it
            log.warning("could not abort the unneeded Bulk query job %s: %s", job_id, error)

    _in_background(drop)


def drop_unread_job(client: SalesforceClient, prepared: PreparedPull) -> None:
    """Abort the query job started early for a pull that will not read it (`_drop_job`)."""
    if prepared.job is not None:
        _drop_job(client, prepared.job)


class Puller:
    """Applies pulled records of one object to persons, under the object's conflict policy."""

    def __init__(self, workspace: SyncWorkspace, catalog: Catalog, policy: SyncPolicy | Mapping[str, Winner] | None,
                 between_pages: Callable[[int], bool] = lambda done: False,
                 hold: Callable[[str, list[PulledRecord]], AbstractContextManager[object]] = lambda o, r: nullcontext(),
                 page_size: int = PAGE_SIZE, fetch: FetchSettings | None = None,
                 calls_left: Callable[[], int | None] = lambda: None) -> None:
        self.workspace = workspace
        self.fetch = fetch or FetchSettings()
        self.catalog = catalog
        self.policy = as_policy(policy)
        self.filters = FilterEffects(workspace, self.policy)
        self._rules: dict[str, dict[str, DecidingRule]] = {}
        self.between_pages = between_pages
        self.calls_left = calls_left
        """The calls the budget's lane still allows today (None: no limit)."""
        self.hold = hold
        """Held while a page is planned and applied: the persons it names (`tandem.sync.claims`)."""
        self.page_size = page_size
        self.fates = RecordFates()

    def prepared(self, object_name: str, bound: datetime | None = None) -> PreparedPull:
        """The object's window as of now (up to `bound` when given), and its query within the pull filter."""
        cursor = self.workspace.cursor(object_name).reading_to(bound or self.workspace.pull_bound())
        return prepare_pull(object_name, self.catalog, cursor, self.filters.pull_condition(object_name, self.catalog))

    def pull(self, object_name: str, prepared: PreparedPull | None = None) -> PullCounts:
        parser = self._parser(object_name)
        pull_only = self._pull_only(object_name)
        prepared = prepared or self.prepared(object_name)
        if prepared.error is not None:
            drop_unread_job(self.workspace.client, prepared)
            raise prepared.error
        cursor = window = prepared.cursor
        condition = prepared.condition
        if cursor.empty_window:
            return PullCounts(Tally().counts(), Tally().counts(), Tally().counts())
        answers, size = self.answers(object_name, prepared)
        updates, deletes, conversions = Tally(), Tally(), Tally()  # the pull's counts so far
        known, added = 0, 0  # persons added since the database's statistics were refreshed
        read = 0
        with self.workspace.loading(size if object_name != "Account" else 0):
            for page, following in with_next(repaged(answers, self.page_size)):
                read += len(page)
                if cursor.stamp is not None and parse_stamp(page[0]["SystemModstamp"]) < cursor.stamp:
                    # rows a Bulk job reads again behind the cursor: dropped before they are parsed
                    page = [row for row in page if parse_stamp(row["SystemModstamp"]) >= cursor.stamp]
                records = [parser.parse(row) for row in page]
                fresh = [r for r in unique_by_id(records) if not cursor.already_applied(r.id, r.stamp)
                         and not (cursor.stamp is not None and r.stamp < cursor.stamp)]  # read again by a Bulk job
                # A record changed since the query began comes with its new stamp, ahead of the rows
                # after it: the cursor goes no further than the next page's lowest stamp and the bound
                # (this page's own lowest when the next could not be read).
                cursor = cursor.advance(((r.id, r.stamp) for r in records), up_to=lowest(following, cursor.bound))
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
            else:  # read to the end: the whole window is applied, the next pull starts at its bound
                finished = cursor.completed()
                if finished.dump() != cursor.dump():
                    self.workspace.save_cursor(object_name, finished)
                if condition:
                    self.filters.pull_leavers(object_name, window, finished)
        return PullCounts(updates.counts(), deletes.counts(), conversions.counts())

    def answers(self, object_name: str, prepared: PreparedPull) -> tuple[Iterator[list[dict[str, Any]]], int]:
        """The window's rows in `(SystemModstamp, Id)` order, answer by answer, read ahead, and the
        window's size when a Bulk job reads it (else 0).

        A window larger than the Bulk threshold (as its first REST answer's `totalSize` tells) is
        read by a Bulk query job over the same query instead."""
        client = self.workspace.client
        first = prepared.first_page
        if first is None:
            first = client.query_page(prepared.soql, include_deleted=True)
        size = int(first.get("totalSize") or 0)
        bulk, overlap = self._bulk_pays(size)
        if bulk:
            return prefetched(self._rest_until_bulk(object_name, prepared.soql, first, overlap, prepared.job),
                              self.fetch.read_ahead), size
        drop_unread_job(client, prepared)
        return prefetched(client.query_pages(prepared.soql, include_deleted=True, first_page=first),
                          self.fetch.read_ahead), 0

    def _bulk_pays(self, total: int) -> tuple[bool, bool]:
        """Whether a window this large is read by a Bulk query job, and whether REST answers are
        read while it runs.

        A job: above the threshold, and only when the budget's lane can pay for the whole job. A job
        the lane cannot finish today would keep Salesforce busy for rows never read; REST pages read
        what the lane affords instead. REST answers meanwhile: when set to, and when the lane could
        pay for the job and for reading the whole window that way too (two calls an answer: the
        answer and a look at the job), so the job's rows are never left unread for want of calls."""
        if total <= self.fetch.bulk_threshold:
            return False, False
        left = self.calls_left()
        job = bulk_job_calls(total, self.fetch.bulk_chunk)
        if left is not None and left < job:
            return False, False
        return True, self.fetch.rest_while_bulk and (left is None or left >= job + 2 * -(-total // PAGE_SIZE))

    def started_early(self, prepared: PreparedPull, size: int) -> PreparedPull:
        """The pull with its Bulk query job starting now, when a window of `size` rows (counted
        before its first answer) will be read by one with REST answers beside it."""
        if self._bulk_pays(size) != (True, True):
            return prepared
        client = self.workspace.client
        return replace(prepared, job=_in_background(start_query_job, client, prepared.soql, include_deleted=True))

    def _rest_until_bulk(self, object_name: str, soql: str, first: Mapping[str, Any],
                         overlap: bool, started: Future[str] | None = None) -> Iterator[list[dict[str, Any]]]:
        """REST answers while a Bulk query job over the same query runs, then the job's rows.

        Nothing waits for the job: the answers read meanwhile are written, one look at the job
        after each once it has started, and the job's rows stamped before the last row they
        answered are passed over as they download (they are behind the pull's cursor). When REST
        reads the whole window first, the job's rows are not read and the job is aborted. Without
        `overlap`, the first answer is written while the job runs to its end."""
        client = self.workspace.client
        job_id: str | None = None
        first_results: Any = None
        read_to: datetime | None = None  # the stamp of the last row REST answered
        if not overlap:
            yield first["records"]
            if first["records"]:
                read_to = lowest(first["records"])
            job_id = query_job(client, soql, include_deleted=True, started=started and started.result())
        else:
            # The job is started, looked at and its first results asked beside the REST answers
            # (some servers answer a job's start only once it is ready), a look after each answer.
            looked: _JobLook | None = None
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="tandem-bulk-start") as starter:
                looking: Future[_JobLook] | None = None
                try:
                    for answer in client.query_pages(soql, include_deleted=True, first_page=first):
                        yield answer
                        read_to = lowest(answer)  # its last row may be one changed since the query began
                        if looking is None or looking.done():
                            looked = looking.result() if looking is not None else None
                            if looked is not None and looked.results is not None:
                                break
                            looking = starter.submit(_look_at_job, client, soql, looked.job_id if looked else started,
                                                     self.fetch.bulk_chunk)
                    else:
                        return
                finally:
                    unread = looking or started
                    if unread is not None and (looked is None or looked.results is None):
                        _drop_job(client, unread)
            assert looked is not None
            job_id, first_results = looked
        assert job_id is not None
        types = bulk_types(object_name, self.catalog)
        yield from result_rows(client, job_id, types, PAGE_SIZE, chunk=self.fetch.bulk_chunk, stamped_from=read_to,
                               first=first_results)

    def read_again(self, object_name: str, record_ids: Sequence[str]) -> None:
        """Apply what these records hold now, as a pull page would (conflicts settled by the policy,
        logged), in one query and with no watermark moved: for an action about to merge them away in
        Salesforce, which drops whatever changed on them there since the last pull."""
        if not record_ids:
            return
        soql = (f"SELECT {', '.join(_pulled_fields(object_name, self.catalog))} FROM {object_name} "
                f"WHERE Id IN ({', '.join(map(quoted, record_ids))})")
        parser = self._parser(object_name)
        records = [parser.parse(row) for row in self.workspace.client.query(soql)]
        if records:
            pull_only = self._pull_only(object_name)
            self.workspace.atomically(lambda: self.workspace.apply(self.plan(object_name, records, pull_only)))

    def _parser(self, object_name: str) -> RecordParser:
        account_rules = self.catalog.syncing("Account") if object_name == "Contact" else []
        return RecordParser(object_name, self.catalog.syncing(object_name), account_rules,
                            self.workspace.person_field)

    def rules(self, object_name: str) -> dict[str, DecidingRule]:
        """Person field → the policy's rule for it on this object (looked up once per pull)."""
        if object_name not in self._rules:
            self._rules[object_name] = field_rules(self.policy, self.catalog, object_name)
        return self._rules[object_name]

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
        if self.policy.leaving is Leaving.UNLINKED:
            self._returning(object_name, records, persons, plan)
        if self.policy.leaving is Leaving.FLAGGED and object_name in self.policy.pull_filters:
            # a flagged person whose record is back inside
            back = [p for r in records if not r.is_deleted and not (object_name == "Lead" and r.is_converted)
                    and (p := persons.get(r.id)) is not None and p.link.sfdc_id == r.id]
            self.filters.returned(object_name, back, f"sync.filter.{object_name}", plan)
        adopt_masters(records, persons)
        state = self.workspace.field_state(sorted({p.id for p in persons.values()}))
        left = self._left_deleted(records, persons)
        for record in records:
            person = persons.get(record.id)
            if person is None and record.id in left:
                plan.updates_counted.skipped += 1
            elif person is None and (converted := self._converted_by_tandem(record, persons)) is not None:
                self._plan_lead_only(converted, record, state.get(converted.id, FieldState()), pull_only, plan)
                plan.conversions_counted.skipped += 1
            elif person is None:
                self._plan_new(record, plan)
            elif record.is_deleted:
                self.fates.deleted(person, record, persons, plan)
            elif object_name == "Lead" and record.is_converted:
                self._plan_lead_only(person, record, state.get(person.id, FieldState()), pull_only, plan)
                self.fates.converted(person, record, persons, plan, self.catalog.account_fields())
            else:
                if person.link.sfdc_is_deleted and person.link.sfdc_id == record.id:
                    self.fates.undeleted(person, record, plan)
                self._plan_merge(person, record, state.get(person.id, FieldState()), pull_only, plan)
        if object_name == "Contact":  # a merged Contact keeps its own Account: no loser's fills its fields
            for order in plan.merges:
                order.own = self.catalog.account_fields()
        return plan

    def _claim_made_for(self, records: list[PulledRecord], persons: dict[str, Person], plan: PagePlan) -> None:
        """A record Tandem made for a person it has not linked yet (an action killed after Salesforce
        committed) belongs to that person, known by the Tandem id the record carries, or to the person
        it was merged into since."""
        made_for = {r.id: pid for r in records if r.id not in persons
                    and (pid := self.workspace.made_for(r.tandem_person_id)) is not None}
        if not made_for:
            return
        found = self.workspace.persons(list(made_for.values()), lock=True)
        plan.read.update(found)
        for record_id, pid in made_for.items():
            person = found.get(pid)
            if person is not None and (not person.linked or person.link.sfdc_is_deleted):
                persons[record_id] = person

    def _left_deleted(self, records: list[PulledRecord], persons: dict[str, Person]) -> set[str]:
        """Records without a person whose person was deleted in Tandem after their last change (Tandem's
        own push read back, say): they do not bring the person back; a later change in Salesforce does.
        The comparison is of Tandem's clock with Salesforce's stamp, as for conversions."""
        alone = [r for r in records if r.id not in persons and not r.is_deleted
                 and not (r.object_name == "Lead" and r.is_converted)]
        deleted = self.workspace.deleted_since([r.id for r in alone]) if alone else {}
        return {r.id for r in alone if r.id in deleted and r.stamp <= deleted[r.id]}

    def _returning(self, object_name: str, records: list[PulledRecord], persons: dict[str, Person],
                   plan: PagePlan) -> None:
        """A record back in the sync filter it left takes back the person that was unlinked from it."""
        missing = [r.id for r in records if r.id not in persons and not r.is_deleted]
        if not missing:
            return
        found = self.workspace.persons_unlinked_from(object_name, missing, lock=True)
        plan.read.update((p.id, p) for p in found.values())
        persons.update(found)

    def _plan_new(self, record: PulledRecord, plan: PagePlan) -> None:
        if record.is_deleted or (record.object_name == "Lead" and record.is_converted):
            # nothing of ours to update; a converted lead arrives as its contact
            (plan.deletes_counted if record.is_deleted else plan.conversions_counted).skipped += 1
            return
        if record.dropped:
            plan.activities.extend(_dropped(record, None, len(plan.new_persons)))
        values = record.values
        plan.new_persons.append((values if isinstance(values, Checked) else Checked(values), link_for(record)))
        plan.updates_counted.new += 1

    def _plan_merge(self, person: Person, record: PulledRecord, state: FieldState, pull_only: frozenset[str],
                    plan: PagePlan) -> None:
        plan.activities.extend(_dropped(record, person.id))
        changed = self._plan_fields(person, record, record.values, state, pull_only, plan)
        link = link_for(record, person.link)
        if link != person.link:
            plan.links[person.id] = link
            changed = True
        if changed:
            plan.updates_counted.updated += 1
        else:
            plan.updates_counted.skipped += 1

    @staticmethod
    def _converted_by_tandem(record: PulledRecord, persons: dict[str, Person]) -> Person | None:
        """The person a Convert Person took from this converted Lead to its Contact already."""
        if record.object_name != "Lead" or not record.is_converted or record.converted_contact_id is None:
            return None
        person = persons.get(record.converted_contact_id)
        return person if person is not None and person.link.sfdc_lead_id == record.id else None

    @cached_property
    def _contact_fields(self) -> frozenset[str]:
        """Person fields a Contact brings (its own and its Account's), worked out once per pull, not
        once per converted Lead."""
        return frozenset({r.person_field for r in self.catalog.syncing("Contact")} | self.catalog.account_fields())

    def _plan_lead_only(self, person: Person, record: PulledRecord, state: FieldState, pull_only: frozenset[str],
                        plan: PagePlan) -> None:
        """A converted Lead's last values of the fields its Contact does not have (rating, status): a
        change made in Salesforce before the conversion reaches the person, which nothing else brings.
        The fields the Contact has come with the Contact."""
        values = {name: value for name, value in record.values.items() if name not in self._contact_fields}
        if values:
            self._plan_fields(person, record, values, state, pull_only, plan)

    def _plan_fields(self, person: Person, record: PulledRecord, values: Mapping[str, Any], state: FieldState,
                     pull_only: frozenset[str], plan: PagePlan) -> bool:
        """Plans the record's `values` onto the person by the field rules; whether the person changes."""
        object_name = record.object_name
        rules = self.rules(object_name)
        changed = False
        for name, value in values.items():
            change = state.pending.get(name)
            base = state.bases.get(name)  # no stored base: the value both sides agreed on was empty
            deciding = rules.get(name) or self.policy.rule_for(object_name, name)
            decision = decide_field(
                salesforce=value,
                base=base,
                current=person.fields.get(name),
                winner=Rule.FROM_SALESFORCE_ONLY if name in pull_only else deciding.rule,
                salesforce_changed_at=record.stamp,
                tandem_changed_at=change.changed_at if change is not None else None,
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
                plan.activities.append(conflict_activity(person, object_name, record.id, name, decision, base,
                                                         deciding.source))
            elif decision.outcome is Outcome.BLANK_IGNORED:
                plan.activities.append(blank_ignored_activity(person, object_name, record.id, name, decision,
                                                              deciding.source))
        return changed

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

