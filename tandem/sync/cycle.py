"""One sync cycle: sync schema → pull (Account, Contact, Lead) → push (Contact, Lead).

One cycle runs at a time: the cycle holds the store's cycle lock, which dies with its holder
(`tandem.people.locks`), so a killed cycle blocks no other. Actions never take that lock: they
claim their persons, and the cycle's pages and batches claim theirs (`tandem.sync.claims`).
Every step is recorded with its status and counts; a step that fails is logged as a job-level sync
error and the next step still runs, except when the org's API limit is spent, which ends the cycle.
The cycle's calls are counted in the API budget's lanes (`tandem.sync.budget`): with its lane spent
a cycle does not start (`BudgetSpent`, saying until when), and one running stops after its page.
The sync policy (`tandem.sync.policy`) narrows the field catalog and decides each field's conflicts.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from tandem.errors import (
    AuthenticationFailed,
    ConfigError,
    CycleBusy,
    LimitExceeded,
    SalesforceError,
    TandemError,
    TransientError,
    Unreachable,
    UnservedApiVersion,
    UntrustedCertificate,
    one_line,
)
from tandem.people.locks import CycleLock
from tandem.people.models import ErrorLevel, StepCounts, StepOperation, StepStatus
from tandem.people.origin import ChangeOrigin
from tandem.people.store import PersonStore
from tandem.people.sync_errors import LOGIN
from tandem.salesforce.client import SalesforceClient
from tandem.salesforce.composite import SubRequest, composite, query_path
from tandem.salesforce.describes import describe_changed
from tandem.sync.catalog import SYNCED_OBJECTS, Catalog, PersonFieldSpec, build_catalog
from tandem.sync.claims import CLAIM_WAIT_SECONDS, CycleClaims
from tandem.sync.collections_spaced import collections_spaced
from tandem.sync.budget import ApiBudget, BudgetSpent, Lane, LaneMeter
from tandem.sync.merge import Winner
from tandem.sync.policy import SyncPolicy, as_policy
from tandem.sync.policy_fields import applied_to
from tandem.sync.pull import PAGE_SIZE, FetchSettings, PreparedPull, Puller, drop_unread_job
from tandem.sync.push import Pusher, PushSettings
from tandem.sync.watermark import DEFAULT_COMMIT_LAG, Cursor
from tandem.sync.workspace import SyncWorkspace

HISTORY_KEPT = timedelta(days=5)
"""How long cycle steps and sync errors are kept (the status dashboard's window)."""
PULL_ORDER = ("Account", "Contact", "Lead")
RECENT_STEPS = 20
"""How far back a cycle looks for steps a killed cycle left open (a cycle has at most nine)."""
PUSH_ORDER = ("Contact", "Lead")
PULL_FOLLOW_UPS = {"Contact": (StepOperation.PULL_DELETES,),
                   "Lead": (StepOperation.PULL_DELETES, StepOperation.PULL_CONVERSIONS)}
"""Steps recorded from the same query as an object's pull updates, with counts of their own."""
SQLITE_PAGE_SIZE = 1000
"""Records a pull page applies on SQLite. SQLite has one writer at a time, so a page's transaction
is time every action waits for: 1,000 new persons hold it 25-45 ms on a 2-core machine (a page of
250 held it 7-16 ms but cost a tenth more CPU a record: every page commits, looks its records up
twice and claims them). On PostgreSQL, which locks rows, pages keep `pull.PAGE_SIZE` (fewer round
trips)."""
LOCK_LOST = "the sync cycle's lock was lost (its database connection dropped); the cycle stops here"


class LockLost(CycleBusy):
    """The cycle's lock went away while the cycle ran (its database session was lost): the cycle ends."""


@dataclass(frozen=True)
class StepReport:
    object: str
    operation: StepOperation
    status: StepStatus
    counts: StepCounts
    message: str | None = None
    api_calls: int = 0


@dataclass
class CycleReport:
    cycle_id: str
    started_at: datetime
    ended_at: datetime | None = None
    steps: list[StepReport] = field(default_factory=list)
    api_calls: int = 0
    stopped_by_limit: bool = False
    interrupted: bool = False
    budget_stop: BudgetSpent | None = None
    """The API budget's lane the cycle spent, and until when it waits; the cycle stopped after a page."""
    failure: TandemError | None = None
    """What ended the cycle before its steps were done: a refused login, an unreachable org, an
    untrusted certificate, an API version the org does not serve (nothing the next step could do
    better), or the spent API limit."""

    @property
    def failure_message(self) -> str | None:
        """The failure with what to do about it, as `sync`, `run` and `status` show it."""
        return None if self.failure is None else one_line(self.failure)

    @property
    def succeeded(self) -> bool:
        return all(s.status is StepStatus.SUCCEEDED for s in self.steps)

    def record_totals(self) -> StepCounts:
        """Records new, updated, deleted, failed and skipped over the cycle (the schema step counts fields)."""
        steps = [s.counts for s in self.steps if s.operation is not StepOperation.SYNC_SCHEMA]
        return StepCounts(*(sum(getattr(c, name) for c in steps)
                            for name in ("new", "updated", "deleted", "failed", "skipped")))


class SyncEngine:
    def __init__(
        self,
        client: SalesforceClient,
        store: PersonStore,
        *,
        policy: SyncPolicy | Mapping[str, Winner] | None = None,
        schema_max_age_seconds: float = 3600,
        commit_lag: timedelta = DEFAULT_COMMIT_LAG,
        fetch: FetchSettings | None = None,
        push: PushSettings | None = None,
        owner: str = "tandem sync",
        claim_wait_seconds: float = CLAIM_WAIT_SECONDS,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.client = client
        self.store = store
        self.policy = as_policy(policy)
        self.schema_max_age_seconds = schema_max_age_seconds
        self.owner = owner
        """Names the cycle's holder, for the message another process gets while this one runs."""
        self.clock = clock
        self.workspace = SyncWorkspace(client, store, commit_lag)
        self.budget = ApiBudget(store, self.policy.budget, clock)
        self.meter = LaneMeter(self.budget, lambda: client.calls)
        """Charges this engine's calls to a lane: the cycle's own while a cycle runs, else the actions'."""
        self.ignore_budget = False
        self._budget_stop: BudgetSpent | None = None
        self._looked_at: int | None = None
        """The client's call count when the running cycle last looked at its lane."""
        self._retry_failed = False
        self.fetch = fetch or FetchSettings()
        self.push_settings = push or PushSettings()
        self.claims = CycleClaims(self.workspace, store, claim_wait_seconds)
        self.pull_page_size = SQLITE_PAGE_SIZE if store.url.startswith("sqlite") else PAGE_SIZE
        self._lock: CycleLock | None = None
        self.catalog: Catalog | None = None
        self.org_catalog: Catalog | None = None
        """The catalog as the org and the person fields allow it, before the policy narrows it."""
        self._pulled: dict[tuple[str, StepOperation], StepCounts] = {}
        self._prepared: dict[str, PreparedPull] | None = None
        self._window_sizes: dict[str, int] = {}
        """Rows in each pull window, counted with the describes when they were read this cycle."""
        self.stop_requested: Callable[[], bool] = lambda: False
        self.progress: Callable[[int], None] = lambda done: None
        """Called between pages and batches with how many records the running step has handled."""
        self.on_step: Callable[[str, StepOperation], None] = lambda object_name, operation: None
        """Called as each step starts."""

    # -- the cycle -----------------------------------------------------------------------------

    def run_cycle(self, *, retry_failed: bool = False, ignore_budget: bool = False) -> CycleReport:
        """Run one cycle; `BudgetSpent` (before anything runs) when the cycle's lane of the API budget is spent."""
        self.meter.charge()
        self.store.refuse_newer_schema(while_running=True)
        if not ignore_budget:
            self.budget.check(Lane.CYCLE)
        lock = self.store.locks.cycle(self.owner)
        if lock is None:
            holder = self.store.locks.cycle_holder()
            raise CycleBusy("another sync cycle is running" + (f" ({holder})" if holder else ""))
        self._lock = lock
        self.ignore_budget, self._budget_stop, self._retry_failed = ignore_budget, None, retry_failed
        self._looked_at = None
        report = CycleReport(cycle_id=str(uuid.uuid4()), started_at=self.clock())
        calls_before = self.client.calls
        try:
            with collections_spaced():
                self._clean_up_dead_steps()
                self.workspace.recall_refused_login()
                self._run_steps(report, retry_failed)
                self.workspace.keep_refused_login()
        finally:
            report.api_calls = self.client.calls - calls_before
            report.budget_stop = self._budget_stop
            self.meter.switch(Lane.ACTIONS)
            report.ended_at = self.clock()
            try:
                self.workspace.record_api_usage()
                kept_since = self.clock() - HISTORY_KEPT
                self.store.steps.prune(before=kept_since)
                self.store.sync_errors.prune(before=kept_since)
            finally:  # a database gone meanwhile fails the bookkeeping, never keeps the cycle's lock
                self._lock = None
                lock.release()
        return report

    def _clean_up_dead_steps(self) -> None:
        """Close the steps a killed cycle left In Process: what they committed stays, this cycle carries on.
        Build the search indexes its pull had set aside.

        Only the cycle lock's holder runs steps, so once we hold it none of them is still running.
        """
        self.store.search_indexes.restore()
        for step in self.store.steps.recent(limit=RECENT_STEPS):
            if step.status is StepStatus.IN_PROCESS:
                self.store.steps.finish(step.id, StepStatus.CLEANED_UP, step.counts, now=self.clock(),
                                        message="the cycle stopped before this step finished")

    def _run_steps(self, report: CycleReport, retry_failed: bool) -> None:
        steps: list[tuple[str, StepOperation, Callable[[], StepCounts]]] = []
        if self.catalog is None or self.catalog.is_stale(self.clock(), self.schema_max_age_seconds):
            steps.append(("All", StepOperation.SYNC_SCHEMA, self.refresh_catalog))
        self._pulled = {}
        self._prepared = None
        self._window_sizes = {}
        for name in PULL_ORDER:
            steps.append((name, StepOperation.PULL_UPDATES, lambda name=name: self._pull(name)))
            for follow_up in PULL_FOLLOW_UPS.get(name, ()):
                steps.append((name, follow_up, lambda key=(name, follow_up): self._pulled.pop(key)))
        for name in PUSH_ORDER:
            steps.append((name, StepOperation.PUSH_UPDATES,
                          lambda name=name: self.pusher().push(name, retry_failed=retry_failed)))
        try:
            for object_name, operation, run in steps:
                if report.failure is None and not self._still_locked():
                    report.failure = LockLost(LOCK_LOST)
                if report.failure is not None or self.stop_requested() or self._budget_stop is not None:
                    report.interrupted = report.interrupted or self.stop_requested()
                    break
                if operation in PULL_FOLLOW_UPS.get(object_name, ()) and (object_name, operation) not in self._pulled:
                    continue  # its pull failed: nothing to count
                report.steps.append(self._step(report, object_name, operation, run))
        finally:
            for prepared in (self._prepared or {}).values():  # pulls the cycle stopped before
                drop_unread_job(self.client, prepared)

    def _step(self, report: CycleReport, object_name: str, operation: StepOperation,
              run: Callable[[], StepCounts]) -> StepReport:
        step = self.store.steps.start(object_name, operation, cycle_id=report.cycle_id, now=self.clock())
        self.meter.switch(self._lane_of(object_name, operation))
        self.on_step(object_name, operation)
        calls_before = self.client.calls
        if operation is StepOperation.PULL_UPDATES:
            self.workspace.counting = (threading.get_ident(), step.id)
        try:
            counts = self._counted(run)
        except LimitExceeded as error:
            report.stopped_by_limit = True
            report.failure = error
            return self._failed(step.id, object_name, operation, error, "API limit reached; the sync pauses",
                                self.client.calls - calls_before)
        except (AuthenticationFailed, UntrustedCertificate, Unreachable, UnservedApiVersion, LockLost) as error:
            report.failure = error
            return self._failed(step.id, object_name, operation, error, report.failure_message or str(error),
                                self.client.calls - calls_before)
        except TandemError as error:
            return self._failed(step.id, object_name, operation, error, one_line(error), self.client.calls - calls_before)
        self.meter.charge()
        stopped = self.stop_requested() or self._budget_stop is not None
        status = StepStatus.SUCCEEDED if counts.failed == 0 and not stopped else StepStatus.INCOMPLETE
        message = ("stopped before the step finished" if self._budget_stop is None
                   else f"stopped: {self._budget_stop}") if stopped else None
        calls = self.client.calls - calls_before
        self.store.steps.finish(step.id, status, counts, message=message, now=self.clock(), api_calls=calls)
        return StepReport(object_name, operation, status, counts, message, calls)

    def _counted(self, run: Callable[[], StepCounts]) -> StepCounts:
        try:
            return run()
        finally:
            self.workspace.counting = None

    def _failed(self, step_id: int, object_name: str, operation: StepOperation, error: TandemError,
                message: str, calls: int) -> StepReport:
        code = getattr(error, "error_code", None) or type(error).__name__
        step = self.store.steps.finish(step_id, StepStatus.FAILED, None, message=message, now=self.clock(),
                                       api_calls=calls)  # what its committed pages did stays counted
        about = LOGIN if isinstance(error, AuthenticationFailed) else object_name  # the step only met the refusal
        self.store.sync_errors.record(ErrorLevel.JOB, code, message, object=about, cycle_step_id=step_id,
                                      now=self.clock())
        return StepReport(object_name, operation, StepStatus.FAILED, step.counts, message, calls)

    # -- pieces ----------------------------------------------------------------------------------

    def refresh_catalog(self, *, add_fields: bool = True, keep_describes: bool = True) -> StepCounts:
        """The sync-schema step: describe, decide, add new custom person fields.

        The describes come from the store while they are younger than `schema_max_age_seconds`
        (another process may have fetched them); older ones are revalidated with
        `If-Modified-Since` in one composite call. Without `add_fields` (an action, which does not
        hold the cycle's lock) the store's fields stay as they are: only the cycle changes the
        person schema, so two processes never race to. Without `keep_describes` (a dry run) nothing
        read is kept.
        """
        describes, checked_at = self._describes(keep=keep_describes)
        if add_fields:
            self.store.fields.refresh()  # another process may have added fields since this one read them
        custom = {f.name: f.type.value for f in self.store.fields.all() if f.custom}
        catalog, wanted = build_catalog(describes, custom.get, now=checked_at)
        if not add_fields:
            self._settle_catalog(catalog)
            return StepCounts(skipped=len(wanted))
        for spec in wanted:
            existing = custom.get(spec.name)
            if existing is None:
                self.store.fields.ensure_custom(spec.name, spec.type, spec.length, spec.label, spec.picklist_values)
            else:
                self._follow_field(spec)
        known = {e.message for e in self.store.sync_errors.recent(since=self.clock() - timedelta(days=1),
                                                                   level=ErrorLevel.JOB)}
        for problem in catalog.problems:
            if problem not in known:
                self.store.sync_errors.record(ErrorLevel.JOB, "FIELD_TYPE_CHANGED", problem, now=self.clock())
        self._settle_catalog(catalog)
        added = {spec.name for spec in wanted if spec.name not in custom}
        self._read_again_for(added)
        return StepCounts(new=len(added), skipped=len(wanted) - len(added))

    def _follow_field(self, spec: PersonFieldSpec) -> None:
        """A custom person field takes the values its Salesforce field was opened to since it was made:
        a value added to a picklist, a longer text (what it took before stays: persons may hold it). Its
        label stays Tandem's."""
        stored = self.store.fields.get(spec.name)
        if spec.type != stored.type.value:
            return
        added = [v for v in spec.picklist_values if v not in stored.picklist_values] if stored.picklist_values else []
        longer = stored.length is not None and spec.length is not None and spec.length > stored.length
        if added or longer:
            self.store.fields.ensure_custom(stored.name, stored.type.value, spec.length if longer else stored.length,
                                            stored.label, (*stored.picklist_values, *added))
            self.workspace.forget_person_field(stored.name)

    def _read_again_for(self, added: set[str]) -> None:
        """An object whose pull now selects a person field just added is read again from its start:
        the values set in Salesforce before the field was picked up come with it (a backfill)."""
        assert self.org_catalog is not None
        for object_name, rules in self.org_catalog.rules.items():
            if (any(rule.person_field in added for rule in rules)
                    and self.workspace.cursor(object_name).floor is not None):
                self.workspace.save_cursor(object_name, Cursor())

    def _settle_catalog(self, catalog: Catalog) -> None:
        """Keep the org's catalog (the fields that exist as person fields) and the one the policy narrows."""
        self.org_catalog = catalog.limited_to({f.name for f in self.store.fields.all()})
        self.catalog = applied_to(self.policy, self.org_catalog)

    def _describes(self, keep: bool = True) -> tuple[dict[str, Mapping], datetime]:
        """Every synced object's describe, and when the oldest was last known current."""
        held = self.store.describes.all()
        now = self.clock()
        if all(name in held for name in SYNCED_OBJECTS):
            oldest = min(held[name].checked_at for name in SYNCED_OBJECTS)
            if (now - oldest).total_seconds() < self.schema_max_age_seconds:
                return {name: held[name].body for name in SYNCED_OBJECTS}, oldest
        counting = self._window_counts() if keep and self._lock is not None else None
        answers, self._window_sizes = describe_changed(self.client, {
            name: held[name].last_modified if name in held else None for name in SYNCED_OBJECTS}, counting=counting)
        changed = {name: (a.body, a.last_modified) for name, a in answers.items() if a.body is not None}
        if keep:
            self.store.describes.keep(changed, [name for name, a in answers.items() if a.body is None], now=now)
        return {name: (a.body if a.body is not None else held[name].body) for name, a in answers.items()}, now

    def _window_counts(self) -> dict[str, str]:
        """A count of each pull window as it stands (without the policy's pull filter, which is
        checked against the catalog these describes bring): how large the pulls after them will be."""
        bound = self.workspace.pull_bound()
        counts = {}
        for name in PULL_ORDER:
            cursor = self.workspace.cursor(name).reading_to(bound)
            if not cursor.empty_window:
                where = cursor.where_clause()
                counts[name] = f"SELECT COUNT() FROM {name}" + (f" WHERE {where}" if where else "")
        return counts

    def ensure_catalog(self) -> Catalog:
        if self.catalog is None or self.catalog.is_stale(self.clock(), self.schema_max_age_seconds):
            self.refresh_catalog(add_fields=self._lock is not None)
        assert self.catalog is not None
        return self.catalog

    def latest_catalog(self) -> Catalog:
        """As `ensure_catalog`, but never older than the describes the store keeps: once another
        process (a cycle's schema step, `tandem fields`) checked them since this catalog was built,
        it is built again from them, with the person fields as the store has them now (no API call)."""
        checked = self.store.describes.checked_at()
        if self.catalog is not None and checked is not None and checked > self.catalog.fetched_at:
            self.store.fields.refresh()
            self.refresh_catalog(add_fields=self._lock is not None)
        return self.ensure_catalog()

    def _between_batches(self, done: int) -> bool:
        """Report progress while a long step runs; True when the step should stop here."""
        self.progress(done)
        if not self._still_locked():
            raise LockLost(LOCK_LOST)
        return self.stop_requested() or self._over_budget()

    def _over_budget(self) -> bool:
        """Charge the calls so far; True (and the cycle stops after this page) once the lane is spent.

        Pages that cost no call since the last look (a Bulk result chunk holds many) spend nothing:
        the lane is looked at again with the next call."""
        calls = self.client.calls  # read first: a call the read-ahead makes meanwhile is looked at next time
        self.meter.charge()
        if calls == self._looked_at:
            return False
        self._looked_at = calls
        if self._lock is None or self.ignore_budget:
            return False
        try:
            self.budget.check(self.meter.lane)
        except BudgetSpent as spent:
            self._budget_stop = spent
            return True
        return False

    def _calls_left(self) -> int | None:
        """The calls the lane at work may still spend today (None: no limit, or not counted now)."""
        self.meter.charge()
        if self._lock is None or self.ignore_budget:
            return None
        state = self.budget.state()
        limit = state.limit(self.meter.lane)
        return None if limit is None else max(0, limit - state.counted_against(self.meter.lane))

    def _lane_of(self, object_name: str, operation: StepOperation) -> Lane:
        """Retries of refused changes and first, full pulls (backfills) spend the lowest lane."""
        if operation is StepOperation.PUSH_UPDATES and self._retry_failed:
            return Lane.RETRIES
        if operation is StepOperation.PULL_UPDATES and self.workspace.cursor(object_name).stamp is None:
            return Lane.RETRIES
        return Lane.CYCLE

    def charge_calls(self) -> None:
        """Count the calls made since the last count (an action's) in their lane of the budget."""
        self.meter.charge()

    def _still_locked(self) -> bool:
        return self._lock is None or self._lock.held()

    def _pull(self, object_name: str) -> StepCounts:
        """Pull one object; keep the counts of its deletes and conversions for their own steps."""
        if self._prepared is None:
            self._prepared = {}  # a failed composite call leaves each object to its own query
            self._prepared = self._prepare_pulls()
        try:
            counts = self._puller().pull(object_name, self._prepared.pop(object_name, None))
        except SalesforceError as error:
            if error.error_code == "INVALID_FIELD":  # the org's fields changed: describe afresh next time
                self.store.describes.forget()
                self.catalog = None
            raise
        self._pulled[(object_name, StepOperation.PULL_DELETES)] = counts.deletes
        self._pulled[(object_name, StepOperation.PULL_CONVERSIONS)] = counts.conversions
        return counts.updates

    def _prepare_pulls(self) -> dict[str, PreparedPull]:
        """Every object's window, and the first answer of each query, read in one composite call.

        A subrequest that failed stays with its own object: a transient failure is asked again
        by that object's pull alone, any other fails that pull's step and no other."""
        puller = self._puller()
        bound = self.workspace.pull_bound()
        prepared: dict[str, PreparedPull] = {}
        for name in PULL_ORDER:
            try:
                prepared[name] = puller.prepared(name, bound)
            except ConfigError:  # a pull filter the org cannot run: that object's pull step says so
                continue
        for name, size in self._window_sizes.items():  # counted with the describes: a large window's
            if name in prepared and not prepared[name].cursor.empty_window:  # job starts beside the composite
                prepared[name] = puller.started_early(prepared[name], size)
        asked = [SubRequest(name, query_path(p.soql, include_deleted=True))
                 for name, p in prepared.items() if not p.cursor.empty_window]
        if not self.fetch.composite or len(asked) < 2:
            return prepared
        try:
            answers = composite(self.client, asked)
        except BaseException:
            for pull in prepared.values():  # a job started beside the call goes unread
                drop_unread_job(self.client, pull)
            raise
        for name, answer in answers.items():
            if answer.ok:
                prepared[name] = replace(prepared[name], first_page=answer.body)
            elif not isinstance(error := answer.error(), TransientError):
                prepared[name] = replace(prepared[name], error=error)
        return prepared

    def _puller(self) -> Puller:
        return Puller(self.workspace, self.ensure_catalog(), self.policy, between_pages=self._between_batches,
                      hold=self.claims.page, page_size=self.pull_page_size, fetch=self.fetch,
                      calls_left=self._calls_left)

    def pusher(self, source: ChangeOrigin = ChangeOrigin.SYNC_CYCLE) -> Pusher:
        """The cycle's pusher claims each batch's persons; an action's holds its person already."""
        pusher = Pusher(self.workspace, self.ensure_catalog(), source=source, policy=self.policy,
                        between_batches=self._between_batches, clock=self.clock, settings=self.push_settings)
        if source is ChangeOrigin.SYNC_CYCLE:
            pusher.hold = self.claims.batch
        return pusher
