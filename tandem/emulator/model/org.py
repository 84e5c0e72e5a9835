"""`Org`: the emulated Salesforce org behind one facade; the wire layer calls only this.

Every public call runs under one re-entrant lock, and every write call is atomic (its changes
are undone if it fails part way); `transaction()` widens that to a block of calls.
"""

from __future__ import annotations

import functools
import gc
import itertools
import threading
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from tandem.emulator.faults import FaultSettings
from tandem.emulator.model import describe as describing
from tandem.emulator.model import replication
from tandem.emulator.model.clock import StampClock, wall_clock_ms
from tandem.emulator.model.conversion import ConvertLeadRequest, ConvertLeadResult, LeadConverter
from tandem.emulator.model.definition import OrgDefinition, parse_definition, read_definition_file
from tandem.emulator.model.directory import Directory
from tandem.emulator.model.errors import NotFound
from tandem.emulator.model.ids import make_id
from tandem.emulator.model.limits import ApiCallCounter, limits_body
from tandem.emulator.model.logins import USER_TIME_ZONE, Logins, user_info
from tandem.emulator.model.merging import MergeResult, RecordMerger
from tandem.emulator.model.persistence import restore, save
from tandem.emulator.model.queries import QueryEngine, QueryPage, QueryRows
from tandem.emulator.model.query_budget import QueryBudget
from tandem.emulator.model.query_fields import no_such_column
from tandem.emulator.model.reading import render_record
from tandem.emulator.model.rule_loading import build_rules
from tandem.emulator.model.rules import AssignmentChoice, RecordSource
from tandem.emulator.model.schema import build_schema
from tandem.emulator.model.security import Profile, build_profiles
from tandem.emulator.model.seeding import FileRecords, bulk_load, seed_assignment_rules, seed_directory
from tandem.emulator.model.setup import SetupChanges
from tandem.emulator.model.sessions import SessionStore, Token, UserContext
from tandem.emulator.model.state import OrgState
from tandem.emulator.model.tooling import SetupCatalog
from tandem.emulator.model.undeleting import undelete
from tandem.emulator.model.values import render_native
from tandem.emulator.model.writes import RecordWriter

COMPACT_WHEN_STALE_OVER = 50_000
_USER_ZONE = ZoneInfo(USER_TIME_ZONE)


def _render_optional(value):
    return render_native(value) if value is not None else None


def _locked(method):
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        with self._lock:
            return method(self, *args, **kwargs)

    return wrapper


def _atomic(method):
    """Run a write under the lock as one unit: all of its changes or none."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        with self._lock:
            with self._state.undo.block():
                result = method(self, *args, **kwargs)
            self._maybe_compact()
            return result

    return wrapper


class Org:
    """One emulated org built from an org-definition file: its schema, users, rules and records.

    `now_ms` (epoch milliseconds) is the clock for stamps, sessions and the API-call window;
    tests pass a fake one.
    """

    def __init__(self, definition: OrgDefinition, *, now_ms=wall_clock_ms) -> None:
        self._lock = threading.RLock()
        self.definition = definition
        self.name = definition.name
        self.api_version = definition.apiVersion
        self.org_id = make_id("00D", zlib.crc32(definition.name.encode()) % (62**7))
        self.fault_settings = definition.faults or FaultSettings()
        self._now_ms = now_ms
        self.schema = build_schema(definition)
        self.profiles = build_profiles(definition, self.schema)
        self.directory = Directory(definition, self.schema, self.profiles)
        self.rules = build_rules(definition, self.schema, self.directory)
        self._setup = SetupChanges()
        self._catalog = SetupCatalog(self.schema, definition, StampClock(now_ms))
        self.sessions = SessionStore(self.org_id)
        self._logins = Logins(self.org_id, self.directory, self.sessions, now_ms)
        self.api_calls = ApiCallCounter(definition.limits.get("DailyApiRequests", 15000), now_ms)
        self.bulk_batches = ApiCallCounter(definition.limits.get("DailyBulkApiBatches", 15000), now_ms,
                                           "ApiBatchItems Limit exceeded.")
        self.bulk_query_jobs = ApiCallCounter(definition.limits.get("DailyBulkV2QueryJobs", 10000), now_ms,
                                              "Bulk API 2.0 query jobs Limit exceeded.")
        self.query_budget = QueryBudget()
        self.schema_modified = datetime.fromtimestamp(now_ms() // 1000, timezone.utc)
        self._load_seed_state()

    def _load_seed_state(self) -> None:
        self._state = OrgState(self.schema, StampClock(self._now_ms))
        self.rules.now = self._users_now
        self.rules.source = RecordSource(self.schema, self._stored_record)
        self._writer = RecordWriter(self._state, self.rules, self.directory.queue_objects())
        self._queries = QueryEngine(self._state, self.query_budget)
        seed_directory(self._state, self.directory, self.org_id, self.name)
        seed_assignment_rules(self._state, self.rules, self.directory.admin.id)
        FileRecords(self.definition, self._state, self.directory, self._writer).load()
        self._converter = LeadConverter(self._state, self._writer, self.schema)
        self._merger = RecordMerger(self._state, self._writer, self.schema)

    def _stored_record(self, object_name: str, record_id: str) -> dict | None:
        """A live record as stored, for formulas that read a parent or the user."""
        record = self._state.stores[object_name].get(record_id)
        return None if record is None or record.get("IsDeleted") else record

    # -- construction --------------------------------------------------------------------------

    @classmethod
    def from_definition(cls, raw: dict, **kwargs) -> Org:
        return cls(parse_definition(raw), **kwargs)

    @classmethod
    def from_file(cls, path: str | Path, **kwargs) -> Org:
        return cls.from_definition(read_definition_file(path), **kwargs)

    @classmethod
    def load_state(cls, definition_path: str | Path, directory: str | Path, **kwargs) -> Org:
        org = cls.from_file(definition_path, **kwargs)
        restore(Path(directory), org.org_id, org._state, org.sessions)
        return org

    @_locked
    def save_state(self, directory: str | Path, *, clean: bool = True) -> None:
        """Save the state (`persistence.save`); not `clean` while the server may still change it."""
        save(Path(directory), self.org_id, self._state, self.sessions, clean=clean)

    @_locked
    def changes_seen(self) -> tuple[int, ...]:
        """What moves with every write, login and revocation: a server saves again once it differs."""
        return self._state.clock.last_ms, *self.sessions.sizes()

    # -- auth and sessions ---------------------------------------------------------------------

    @_locked
    def login_password(self, client_id: str, client_secret: str, username: str, password: str) -> Token:
        return self._logins.password(client_id, client_secret, username, password)

    @_locked
    def login_client_credentials(self, client_id: str, client_secret: str) -> Token:
        return self._logins.client_credentials(client_id, client_secret)

    @_locked
    def login_refresh_token(self, client_id: str, client_secret: str | None, refresh_token: str) -> Token:
        return self._logins.refresh(client_id, client_secret, refresh_token)

    def client_secret(self, client_id: str) -> str:
        """The connected app's secret, which signs its token answers (the app must exist)."""
        return self.directory.apps[client_id].client_secret

    @_locked
    def revoke_token(self, token: str) -> None:
        """The revoke endpoint: an access token ends its session; a refresh token ends itself and its sessions."""
        self.sessions.revoke(token)

    @_locked
    def login_username_password(self, username: str, password: str) -> Token:
        return self._logins.username_password(username, password)

    @_locked
    def context(self, access_token: str) -> UserContext:
        return self._logins.context(access_token)

    @_locked
    def expire_session(self, access_token: str) -> None:
        self.sessions.expire(access_token)

    @_locked
    def expire_all_sessions(self) -> None:
        self.sessions.expire_all()

    @_locked
    def profile_id(self, ctx: UserContext) -> str:
        return self._profile(ctx).id

    @_locked
    def now(self) -> datetime:
        """The org's clock (the one its stamps use)."""
        return self._state.clock.now()

    @_locked
    def user_info(self, ctx: UserContext) -> dict:
        record = self._state.stores["User"].get(ctx.user_id) or {}
        modified = _render_optional(record.get("LastModifiedDate"))
        return user_info(self.directory.users_by_id[ctx.user_id], self.org_id, self.name, modified)

    # -- accounting ----------------------------------------------------------------------------

    @_locked
    def count_api_call(self) -> None:
        self.api_calls.count()

    @_locked
    def count_bulk_batch(self) -> None:
        """One Bulk API batch against the rolling 24-hour batch allocation (raises LimitExceeded past it)."""
        self.bulk_batches.count()

    @_locked
    def count_bulk_query_job(self) -> None:
        """One Bulk API 2.0 query job against the rolling 24-hour allocation (raises LimitExceeded past it)."""
        self.bulk_query_jobs.count()

    @_locked
    def api_usage(self) -> tuple[int, int]:
        return self.api_calls.used(), self.api_calls.limit

    @_locked
    def limits(self) -> dict:
        rows = sum(len(store) for store in self._state.stores.values())
        storage_mb = rows * 2 // 1024
        return limits_body(self.definition.limits, self.api_calls.used(), self.bulk_query_jobs.used(), storage_mb,
                           bulk_batches=self.bulk_batches.used())

    # -- metadata ------------------------------------------------------------------------------

    def _profile(self, ctx: UserContext) -> Profile:
        return self.profiles[ctx.profile]

    def _users_now(self) -> datetime:
        """Now in the users' time zone, where a query's date literals (TODAY…) count their days."""
        return self._state.clock.now().astimezone(_USER_ZONE)

    def _stamp_schema(self) -> datetime:
        """Describe's `Last-Modified` after a change: now to the second (HTTP dates carry no fraction),
        and always later than the stamp before, so a change within the same second is still seen."""
        now = datetime.fromtimestamp(self._now_ms() // 1000, timezone.utc)
        return max(now, self.schema_modified + timedelta(seconds=1))

    @_locked
    def describe_global(self, ctx: UserContext, api_version: str | None = None) -> dict:
        """Every object; its URLs in the API version asked (the org's own by default)."""
        return describing.describe_global(self.schema, api_version or self.api_version)

    @_locked
    def describe(self, ctx: UserContext, object_name: str, api_version: str | None = None) -> dict:
        obj = self._state.object(object_name)
        return describing.describe_object(obj, self._profile(ctx), self.schema, api_version or self.api_version)

    @_locked
    def sobject_basic_info(self, ctx: UserContext, object_name: str, api_version: str | None = None) -> dict:
        obj = self._state.object(object_name)
        return describing.basic_info(obj, [], api_version or self.api_version)

    # -- setup (the Tooling API's read side) ---------------------------------------------------

    @_locked
    def tooling_query(self, ctx: UserContext, soql: str, api_version: str | None = None) -> QueryPage:
        return self._catalog.query(self._profile(ctx), soql, api_version or self.api_version, ctx.user_id,
                                   self._users_now())

    @_locked
    def tooling_describe(self, ctx: UserContext, object_name: str, api_version: str | None = None) -> dict:
        return self._catalog.describe(self._profile(ctx), object_name, api_version or self.api_version)

    @_locked
    def tooling_describe_global(self, ctx: UserContext, api_version: str | None = None) -> dict:
        return self._catalog.describe_global(self._profile(ctx), api_version or self.api_version)

    # -- records -------------------------------------------------------------------------------

    @_atomic
    def create(self, ctx: UserContext, object_name: str, fields: dict, *,
               assignment_rules: AssignmentChoice = False) -> str:
        obj = self._state.object(object_name)
        return self._writer.create(obj, fields, ctx.user_id, self._profile(ctx), assignment_rules=assignment_rules)

    @_atomic
    def update(self, ctx: UserContext, object_name: str, record_id: str, fields: dict, *,
               assignment_rules: AssignmentChoice = False) -> str:
        """Returns the record's 18-character Id, whichever form `record_id` was given in."""
        obj = self._state.object(object_name)
        return self._writer.update(obj, record_id, fields, ctx.user_id, self._profile(ctx),
                                   assignment_rules=assignment_rules)

    @_atomic
    def upsert(self, ctx: UserContext, object_name: str, external_field: str, external_value, fields: dict, *,
               assignment_rules: AssignmentChoice = False, api_version: str | None = None) -> tuple[str, bool]:
        """Several matching records are a 300 whose `fields` are their URLs, in `api_version`."""
        obj = self._state.object(object_name)
        return self._writer.upsert(obj, external_field, external_value, fields, ctx.user_id, self._profile(ctx),
                                   api_version or self.api_version, assignment_rules=assignment_rules)

    @_atomic
    def delete(self, ctx: UserContext, object_name: str, record_id: str) -> str:
        """Returns the record's 18-character Id, whichever form `record_id` was given in."""
        obj = self._state.object(object_name)
        return self._writer.delete(obj, record_id, ctx.user_id)

    @_atomic
    def undelete(self, ctx: UserContext, object_name: str, record_id: str) -> str:
        """Bring a record back from the recycle bin; returns its 18-character Id."""
        return undelete(self._state, self._writer, self._state.object(object_name), record_id, ctx.user_id)

    @_locked
    def retrieve(self, ctx: UserContext, object_name: str, record_id: str, field_names: list[str] | None = None,
                 api_version: str | None = None) -> dict:
        obj = self._state.object(object_name)
        profile = self._profile(ctx)
        if field_names is None:
            fields = profile.visible_fields(obj)
        else:  # the fields are checked first: a bad name is refused whether or not the record is there
            fields = []
            for name in field_names:
                f = obj.field(name.strip())
                if f is None or not profile.access(obj, f).visible:
                    raise no_such_column("", obj, name.strip())
                fields.append(f)
        _, record = self._state.live_record(obj, record_id)
        return render_record(obj, record, fields, api_version or self.api_version)

    @contextmanager
    def late_commit(self, lag_ms: int) -> Iterator[None]:
        """Writes inside are stamped `lag_ms` in the past: a long transaction that commits late, whose
        SystemModstamp a client paging by it may already have passed."""
        with self._lock, self._state.clock.lagging(lag_ms):
            yield

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self._lock:
            with self._state.undo.block():
                yield
            self._maybe_compact()

    def _maybe_compact(self) -> None:
        if self._state.undo.depth:
            return
        for store in self._state.stores.values():
            if store.stale_entries > max(COMPACT_WHEN_STALE_OVER, len(store)):
                store.compact()

    # -- queries -------------------------------------------------------------------------------

    @_locked
    def query(self, ctx: UserContext, soql: str, *, include_deleted: bool = False, batch_size: int = 2000,
              api_version: str | None = None) -> QueryPage:
        plan = self._queries.plan(self._profile(ctx), soql, include_deleted, self._users_now())
        return self._queries.first_page(plan, batch_size, api_version or self.api_version, ctx.user_id)

    @_locked
    def query_more(self, ctx: UserContext, locator: str, *, api_version: str | None = None) -> QueryPage:
        return self._queries.next_page(locator, api_version or self.api_version, ctx.user_id)

    @_locked
    def forget_query_locator(self, locator: str) -> None:
        """Drop the cursor behind a `nextRecordsUrl`: its pages answer INVALID_QUERY_LOCATOR from now on."""
        self._queries.drop_cursor(locator)

    def query_all_rows(self, ctx: UserContext, soql: str, *, include_deleted: bool = False) -> QueryRows:
        """All result rows with native values, keyed by output name (`Id`, `Account.Name`), in SELECT order."""
        with self._lock:
            plan = self._queries.plan(self._profile(ctx), soql, include_deleted, self._users_now())
            if plan.count_only:
                return QueryRows([], iter(()))
        return QueryRows([column.output_name for column in plan.columns], self._rows_in_chunks(plan))

    def _rows_in_chunks(self, plan, chunk: int = 2000) -> Iterator[dict]:
        rows = self._queries.raw_rows(plan)
        while True:
            with self._lock:
                batch = list(itertools.islice(rows, chunk))
            if not batch:
                return
            yield from batch

    @property
    def rows_examined(self) -> int:
        """Candidate rows the last query looked at (an index-bounded query looks at few)."""
        return self._queries.last_rows_examined

    @_locked
    def updated(self, ctx: UserContext, object_name: str, start: datetime, end: datetime) -> dict:
        obj = self._state.object(object_name)
        return replication.updated(self._state, obj, start, end)

    @_locked
    def deleted(self, ctx: UserContext, object_name: str, start: datetime, end: datetime) -> dict:
        obj = self._state.object(object_name)
        return replication.deleted(self._state, obj, start, end)

    # -- SOAP operations -----------------------------------------------------------------------

    @_atomic
    def convert_lead(self, ctx: UserContext, request: ConvertLeadRequest) -> ConvertLeadResult:
        return self._converter.convert(request, ctx.user_id, self._profile(ctx))

    @_atomic
    def merge(self, ctx: UserContext, object_name: str, master_id: str, master_fields: dict,
              loser_ids: list[str]) -> MergeResult:
        obj = self._state.object(object_name)
        return self._merger.merge(obj, master_id, master_fields or {}, list(loser_ids), ctx.user_id,
                                  self._profile(ctx))

    # -- admin ---------------------------------------------------------------------------------

    @_locked
    def reset(self) -> None:
        """Back to the file: its setup (undoing run-time setup changes), its records, no API calls."""
        if self._setup.added_fields or self._setup.overridden:
            self.schema_modified = self._stamp_schema()
        self._setup.undo(self.schema, self.profiles)
        self._load_seed_state()
        self.api_calls.reset()
        self.bulk_batches.reset()
        self.bulk_query_jobs.reset()

    @_locked
    def define_custom_field(self, object_name: str, spec: dict) -> str:
        """Add a custom field as an admin would in Setup (`spec` as in the file's customFields)."""
        added = self._setup.add_custom_field(self.schema, object_name, spec)
        self.schema_modified = self._stamp_schema()
        return added

    @_locked
    def set_field_level(self, profile_name: str, object_name: str, field_name: str, level: str) -> None:
        """Change one profile's access to one field (edit, read or none), as in Setup."""
        profile = self.profiles.get(profile_name)
        if profile is None:
            raise NotFound(f"no profile named {profile_name!r}", error_code="INVALID_FIELD")
        self._setup.set_field_level(self.schema, profile, object_name, field_name, level)
        self.schema_modified = self._stamp_schema()

    @_atomic
    def seed(self, object_name: str, records: list[dict]) -> list[str]:
        obj = self._state.object(object_name)
        admin = self.directory.admin.id
        created = []
        for row in records:
            values = {k: (self.directory.resolve_owner(v) or v) if isinstance(v, str) and v.startswith("@") else v
                      for k, v in row.items()}
            created.append(self._writer.create(obj, values, admin, None, run_rules=False))
        return created

    @_locked
    def bulk_load(self, object_name: str, rows: Iterable[dict]) -> int:
        """Load many rows fast; afterwards the loaded records are exempt from cyclic garbage collection,
        whose full passes over a million long-lived dicts would otherwise stall requests."""
        obj = self._state.object(object_name)
        loaded = bulk_load(self._state, obj, rows, self.directory.admin.id)
        gc.collect()
        gc.freeze()
        return loaded

    def __repr__(self) -> str:
        return f"Org(name={self.name!r}, org_id={self.org_id!r})"
