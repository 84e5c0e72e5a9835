"""PersonStore: persons, their activity log and the sync's bookkeeping, over SQLite or PostgreSQL.

The store opens one `Database` and builds a component per kind of record over it; each
component is handed the others it needs. Calls made inside `with store.transaction():` share one
commit, whichever components they go through; `store.atomically(work)` does the same and runs the
work again when another writer made the database give it up (a deadlock, a lock held too long).

    store.fields          the person field catalog (standard and custom fields)
    store.persons         add, change, link, delete and read persons
    store.activities      each person's append-only activity log
    store.outbox          pending changes: Tandem values not yet in Salesforce
    store.bases           the last value both sides agreed on, per person and field
    store.merges          merging persons with the native rules
    store.tombstones      what is left of merged and deleted person ids
    store.api             the REST API's paged lookups and deletes
    store.watermarks      each Salesforce object's pull cursor
    store.steps           cycle steps (the sync's history)
    store.sync_errors     what Salesforce refused
    store.locks           locks that die with their holder: the cycle's, and claims on persons
    store.installation    this installation's id
    store.create_markers  Salesforce creates attempted per person
    store.api_usage       the org's API usage as last reported
    store.refused_logins  a login Salesforce refused, so no process tries it again at once
    store.ui_accounts     the web UI's users and its session-signing key
    store.sync_pause      the sync's pause switch, which `tandem run` honours
    store.person_search   persons by email, name or Salesforce Id
    store.history         steps and errors filtered for the web UI, backlog and throughput
    store.describes       the Salesforce describes the field catalog is built from
    store.search_indexes  the persons' search indexes, set aside while a large pull fills the table
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from sqlalchemy.exc import IntegrityError

from tandem.people.activity_log import ActivityLog
from tandem.people.api_queries import ApiQueries
from tandem.people.api_usage import ApiUsage
from tandem.people.bases import Bases
from tandem.people.create_markers import CreateMarkers
from tandem.people.cycle_steps import CycleSteps
from tandem.errors import StoreBusy, StoreConflict, StoreError
from tandem.people.describes import Describes
from tandem.people.database import DEFAULT_DATABASE_URL, Database, backoff, is_contention
from tandem.people.field_catalog import FieldCatalog
from tandem.people.installation import Installation
from tandem.people.locks import Locks
from tandem.people.merging import Merges
from tandem.people.outbox import Outbox
from tandem.people.persons import Persons
from tandem.people.person_search import PersonSearch
from tandem.people.refused_logins import RefusedLogins
from tandem.people.search_indexes import SearchIndexes
from tandem.people.sync_errors import SyncErrors
from tandem.people.sync_history import SyncHistory
from tandem.people.sync_pause import SyncPause
from tandem.people.tombstones import Tombstones
from tandem.people.ui_accounts import UiAccounts
from tandem.people.watermarks import Watermarks

T = TypeVar("T")
ATTEMPTS = 5
log = logging.getLogger("tandem.people")


class PersonStore:
    def __init__(self, url: str = DEFAULT_DATABASE_URL) -> None:
        db = self._db = Database(url)
        self.fields = FieldCatalog(db)
        self.tombstones = Tombstones(db)
        self.activities = ActivityLog(db, self.tombstones)
        self.outbox = Outbox(db, self.fields)
        self.bases = Bases(db, self.fields)
        self.persons = Persons(db, self.fields, self.outbox, self.activities, self.tombstones)
        self.merges = Merges(db, self.persons, self.outbox, self.activities, self.tombstones)
        self.api = ApiQueries(db, self.fields, self.persons)
        self.watermarks = Watermarks(db)
        self.steps = CycleSteps(db)
        self.sync_errors = SyncErrors(db)
        self.locks = Locks(db)
        self.installation = Installation(db)
        self.create_markers = CreateMarkers(db)
        self.api_usage = ApiUsage(db)
        self.refused_logins = RefusedLogins(db)
        self.ui_accounts = UiAccounts(db)
        self.sync_pause = SyncPause(db)
        self.person_search = PersonSearch(db, self.fields)
        self.history = SyncHistory(db)
        self.describes = Describes(db)
        self.search_indexes = SearchIndexes(db)

    @property
    def url(self) -> str:
        return self._db.url

    def migrate(self) -> None:
        """Create or upgrade the schema to the newest revision; running it again changes nothing."""
        self.refuse_newer_schema()
        self._db.migrate()
        self.search_indexes.restore()
        self.fields.refresh()

    def needs_migration(self) -> bool:
        return self._db.revision() != self._db.head_revision()

    def head_revision(self) -> str:
        return self._db.head_revision()

    def schema_revision(self) -> str | None:
        """The database's schema revision (None before the first migration)."""
        return self._db.revision()

    def refuse_newer_schema(self, while_running: bool = False, named: str = "the database") -> None:
        """`StoreError` once a newer Tandem migrated the database (`named` so in the message): this
        code does not know its tables."""
        newer = self.newer_revision()
        if newer is None:
            return
        when = " while this process ran" if while_running else ""
        then = "start this process again with" if while_running else "run"
        raise StoreError(f"{named} was migrated by a newer Tandem{when} (schema revision {newer}; this one knows up "
                         f"to {self.head_revision()}): {then} that version of Tandem or a later one")

    def newer_revision(self) -> str | None:
        """The schema's revision when no migration of this Tandem made it (a newer Tandem did), else None."""
        revision = self._db.revision()
        return revision if revision is not None and revision not in self._db.known_revisions() else None

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group several store calls into one commit; an exception rolls all of them back."""
        if self._db.in_transaction():
            yield
            return
        try:
            with self._db.transaction():
                yield
        except BaseException:
            self.fields.refresh()  # a custom field added inside was rolled back too
            raise

    def atomically(self, work: Callable[[], T], attempts: int = ATTEMPTS) -> T:
        """`work()` in one transaction, run again from the start (at most `attempts` times in all)
        when another writer made the database give it up; then `StoreBusy`.

        A write the database refuses for its constraints (another process deleted a row the work
        names, or took a key it sets, between its reads and its writes) is decided again the same
        way; refused on every attempt, it is `StoreConflict`, so that the caller (a sync step, an
        API call) fails alone instead of with the database's own error.

        `work` must be safe to repeat: store calls only, decisions made on what it reads inside.
        Inside an open transaction it simply runs, and the outermost caller does the retrying.
        """
        if self._db.in_transaction():
            return work()
        for attempt in range(1, attempts + 1):
            try:
                with self.transaction():
                    return work()
            except Exception as error:
                refused = isinstance(error, IntegrityError)
                if not (refused or is_contention(error)):
                    raise
                if attempt == attempts and refused:
                    raise StoreConflict(f"the database refused the write {attempts} times: "
                                        f"{str(error.orig).strip().splitlines()[0]}") from error
                if attempt == attempts:
                    raise StoreBusy(f"other writers kept the database busy through {attempts} attempts") from error
                log.info("attempt %d gave way to another writer (%s); trying again", attempt, type(error).__name__)
                backoff(attempt)
        raise AssertionError("unreachable")

    def close(self) -> None:
        self.locks.close()
        self._db.dispose()
