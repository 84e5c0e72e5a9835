"""A seeded chaos run: the real engine, both actions and writers on both sides, under injected faults.

One run loads an org into the emulator, syncs it, then for a number of rounds has a marketer edit
persons in Tandem (from another store, as another process would, while a cycle runs), a sales rep
edit the same records in Salesforce, Sync Person to SFDC push new persons, and a cycle run, while
the emulator injects faults and the harness kills cycles and actions at random points (an
exception from a wrapped call, so the dead call's transaction rolls back and what it committed
stays, as after `kill -9`). Then the faults stop, the sync settles, and the end state is checked:

- converged: every synced field of every linked person equals its record, or a refused change
  still pending explains the difference;
- no value lost silently: each side's last write either is the final value, or reached the other
  side (a change activity shows it arriving or leaving), or is the losing value of a conflict;
- no duplicate person for a record, no duplicate Lead for a person, no person lost;
- every person's field holds the value its last change activity says.
"""

from __future__ import annotations

import random
import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from tandem.cli.wiring import emulator_client
from tandem.emulator.sample_org import ADMIN, CONNECTED_APP
from tandem.errors import TandemError
from tandem.people import activities as types
from tandem.people.models import PendingState
from tandem.people.origin import ChangeOrigin
from tandem.people.store import PersonStore
from tandem.salesforce.http import PinnedSession
from tandem.sync.actions import PersonActions
from tandem.sync.cycle import SyncEngine
from tandem.sync.pull import FetchSettings
from tandem.sync.push import PushSettings

FIELDS = {"title": "Title", "fax": "Fax"}
"""The fields both sides write: person field → Salesforce field (on Contacts and Leads alike)."""
DEFAULT_FAULTS = {
    "http503": 0.03, "http500": 0.02, "drop": 0.02, "unableToLockRow": 0.03, "sessionExpiry": 0.02,
    "slow": 0.02, "slowSeconds": 1.5, "dropAfterCommit": 0.02, "http502AfterCommit": 0.02,
    "recordUnableToLockRow": 0.03, "recordEntityIsLocked": 0.02, "recordDuplicatesDetected": 0.01,
    "recordTriggerRefusal": 0.01, "requestLimitExceeded": 0.01, "queryTimeout": 0.03,
    "invalidQueryLocator": 0.05, "queryOutage": 0.02, "loginRateExceeded": 0.05, "loginAuthFailure": 0.02,
    "gateway502": 0.01, "gateway504": 0.01, "lateCommit": 0.05, "lateCommitSeconds": 20,
}
CLIENT_TIMEOUT = 1.0
"""The sync client's read timeout: shorter than a slow answer, so some writes land unanswered."""


class Killed(Exception):
    """The process dies here (not a TandemError: nothing absorbs it)."""


@dataclass(frozen=True)
class ChaosConfig:
    seed: int
    contacts: int = 120
    leads: int = 40
    rounds: int = 8
    edits_per_round: int = 12
    new_persons_per_round: int = 2
    kill_rate: float = 0.35
    faults: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_FAULTS))
    bulk: bool = False
    """Every pull window and every push by Bulk API 2.0 jobs (small thresholds, jobs and result requests).
    With an odd seed REST answers are read beside the pull's jobs (and a window counted with the
    describes starts its job early), so faults land on jobs started, looked at and dropped meanwhile."""


@dataclass
class ChaosResult:
    seed: int
    violations: list[tuple[str, str]] = field(default_factory=list)
    kills: int = 0
    cycles: int = 0
    actions: int = 0
    faults: dict[str, Any] = field(default_factory=dict)

    def by_kind(self) -> dict[str, int]:
        return dict(Counter(kind for kind, _ in self.violations))


@dataclass
class _Writes:
    tandem: dict[tuple[int, str], str] = field(default_factory=dict)
    salesforce: dict[tuple[str, str], str] = field(default_factory=dict)


class ChaosRun:
    def __init__(self, config: ChaosConfig, database_url: str, emulator: Any) -> None:
        self.config = config
        self.rng = random.Random(config.seed)
        self.database_url = database_url
        self.emulator = emulator
        self.http = PinnedSession(emulator.ca_path)
        self.writes = _Writes()
        self.result = ChaosResult(config.seed)

    # -- the run -------------------------------------------------------------------------------

    def run(self) -> ChaosResult:
        self._control("POST", "/reset")
        self._load_org()
        store = PersonStore(self.database_url)
        marketer = PersonStore(self.database_url)  # another process's store
        try:
            store.migrate()
            engine = self._engine(store)
            self._settle(engine)
            self._control("PUT", "/faults", json={"seed": self.config.seed, **self.config.faults})
            for number in range(self.config.rounds):
                self._round(number, engine, store, marketer)
            self.result.faults = self._control("GET", "/faults").get("injected", {})
            self._control("PUT", "/faults", json={})
            self._settle(self._engine(store, hours_later=1))  # a refused login is tried again after an hour
            self._check(store)
        finally:
            marketer.close()
            store.close()
        return self.result

    def _engine(self, store: PersonStore, hours_later: int = 0) -> SyncEngine:
        def clock() -> datetime:
            return datetime.now(UTC) + timedelta(hours=hours_later)
        client = emulator_client(self.emulator.base_url, self.emulator.ca_path, backoff_seconds=0.01, max_attempts=4,
                                 clock=clock)
        client.session.timeout = (CLIENT_TIMEOUT, CLIENT_TIMEOUT)
        if not self.config.bulk:
            return SyncEngine(client, store)
        return SyncEngine(client, store, push=PushSettings(bulk_threshold=1, bulk_job_persons=25),
                          fetch=FetchSettings(bulk_threshold=10, bulk_chunk=40,
                                              rest_while_bulk=self.config.seed % 2 == 1))

    def _round(self, number: int, engine: SyncEngine, store: PersonStore, marketer: PersonStore) -> None:
        linked = [p for p in self._persons(store) if p.linked and not p.link.sfdc_is_deleted]
        edits = [(self.rng.choice(linked), self.rng.choice(list(FIELDS))) for _ in range(self.config.edits_per_round)]
        rep_edits = [(p.link.sfdc_type, p.link.sfdc_id, name, f"S{number}-{i}") for i, (p, name) in enumerate(edits[::2])]
        marketer_edits = [(p.id, name, f"T{number}-{i}") for i, (p, name) in enumerate(edits[1::2])]
        # Some edits land as a step of the cycle starts (between its pulls and its pushes too), the
        # marketer's others from another thread while the cycle runs.
        at_step: dict[int, list[Callable[[], None]]] = defaultdict(list)
        for edit in rep_edits:
            at_step[self.rng.randrange(9)].append(lambda edit=edit: self._salesforce_write(*edit))
        concurrent = []
        for edit in marketer_edits:
            if self.rng.random() < 0.5:
                at_step[self.rng.randrange(9)].append(lambda edit=edit: self._tandem_writes(marketer, [edit]))
            else:
                concurrent.append(edit)
        steps = iter(range(100))
        engine.on_step = lambda *_: [write() for write in at_step.pop(next(steps), [])]
        writer = threading.Thread(target=self._tandem_writes, args=(marketer, concurrent))
        writer.start()
        self._cycle(engine)
        writer.join()
        engine.on_step = lambda *_: None
        for writes in at_step.values():  # steps the cycle did not reach
            for write in writes:
                write()
        for index in range(self.config.new_persons_per_round):
            self._new_person_synced(engine, store, f"chaos{self.config.seed}-{number}-{index}@new.example")

    def _tandem_writes(self, marketer: PersonStore, edits: list[tuple[int, str, str]]) -> None:
        for person_id, name, value in edits:
            changed = marketer.persons.update(person_id, {name: value}, origin=ChangeOrigin.API)
            if changed:
                self.writes.tandem[(person_id, name)] = value

    def _salesforce_write(self, object_name: str, record_id: str, name: str, value: str) -> None:
        """The sales rep's edit, made in the org directly (the faults are for the sync's calls)."""
        org = self.emulator.org
        token = org.login_password(CONNECTED_APP.client_id, CONNECTED_APP.client_secret, *ADMIN)
        org.update(org.context(token.access_token), object_name, record_id, {FIELDS[name]: value})
        self.writes.salesforce[(record_id, name)] = value

    def _cycle(self, engine: SyncEngine) -> None:
        self.result.cycles += 1
        with self._maybe_killed(engine):
            engine.run_cycle()

    def _new_person_synced(self, engine: SyncEngine, store: PersonStore, email: str) -> None:
        person = store.persons.add({"email": email, "lastName": "Chaos", "company": "Chaos Inc",
                                    "title": "New"}, origin=ChangeOrigin.API)
        self.result.actions += 1
        with self._maybe_killed(engine):
            PersonActions(engine).sync_person(person.id)

    @contextmanager
    def _maybe_killed(self, engine: SyncEngine) -> Iterator[None]:
        """Run the block, perhaps dying at a random call; Salesforce's and the store's errors end it too."""
        faults = self._kill_points(engine) if self.rng.random() < self.config.kill_rate else []
        restore = [_fail_at(*fault) for fault in faults]
        try:
            yield
        except Killed:
            self.result.kills += 1
        except TandemError:
            pass
        finally:
            for undo in restore:
                undo()

    def _kill_points(self, engine: SyncEngine) -> list[tuple[Any, str, int, bool]]:
        targets = [(engine.workspace, "apply_page"), (engine.workspace, "delivered"), (engine.workspace, "refuse"),
                   (engine.client, "update_records"), (engine.client, "upsert_records"),
                   (engine.workspace, "mark_in_flight"), (engine.store.persons, "set_links")]
        target, method = self.rng.choice(targets)
        return [(target, method, self.rng.randint(1, 3), self.rng.random() < 0.5)]

    def _settle(self, engine: SyncEngine, most: int = 12) -> None:
        """Cycles until two in a row change nothing (refused changes offered again each time)."""
        quiet = 0
        for _ in range(most):
            report = engine.run_cycle(retry_failed=True)
            totals = report.record_totals()
            quiet = quiet + 1 if report.succeeded and totals.new == totals.updated == 0 else 0
            if quiet == 2:
                return
        self.result.violations.append(("unsettled", f"still changing after {most} cycles"))

    # -- the checks ----------------------------------------------------------------------------

    def _check(self, store: PersonStore) -> None:
        if aside := store.search_indexes.aside():  # a pull killed while loading leaves them to the next cycle
            self._violation("search indexes left aside", ", ".join(aside))
        persons = self._persons(store)
        records = self._records()
        by_record: dict[str, list[int]] = defaultdict(list)
        for person in persons:
            if person.linked:
                by_record[person.link.sfdc_id].append(person.id)
        for record_id, ids in by_record.items():
            if len(ids) > 1:
                self._violation("duplicate person", f"{record_id}: persons {ids}")
        emails = Counter(r["Email"].lower() for r in records.values() if r.get("Email"))
        for email, times in emails.items():
            if times > 1 and email.endswith("@new.example"):
                self._violation("duplicate record", f"{email}: {times} records")
        for email in (f"chaos{self.config.seed}-{n}-{i}@new.example" for n in range(self.config.rounds)
                      for i in range(self.config.new_persons_per_round)):
            if len(store.persons.find_by_email(email)) != 1:
                self._violation("person lost or doubled", email)
        activities = self._activities(store)
        for person in persons:
            record = records.get(person.link.sfdc_id) if person.linked and not person.link.sfdc_is_deleted else None
            pending = {c.field: c for c in store.outbox.find(person_ids=[person.id])}
            for name, sf_name in FIELDS.items():
                mine = person.fields.get(name)
                if record is not None and (mine or None) != (record.get(sf_name) or None):
                    change = pending.get(name)
                    if change is None or change.state is not PendingState.FAILED:
                        self._violation("diverged", f"person {person.id} {name}: {mine!r} vs {record.get(sf_name)!r}")
                self._check_last_change(person.id, name, mine, activities[person.id])
            if record is not None:
                self._check_writes(person, record, activities[person.id])

    def _check_writes(self, person: Any, record: dict[str, Any], log: list[Any]) -> None:
        for name, sf_name in FIELDS.items():
            final = person.fields.get(name)
            written = self.writes.tandem.get((person.id, name))
            if written is not None and final != written and not (
                    _lost(log, name, written) or _left(log, name, written)):
                self._violation("tandem write lost", f"person {person.id} {name}: {written!r}, ends {final!r}")
            sold = self.writes.salesforce.get((person.link.sfdc_id, name))
            if sold is not None and final != sold and not (_lost(log, name, sold) or _arrived(log, name, sold)):
                self._violation("salesforce write lost", f"{person.link.sfdc_id} {name}: {sold!r}, ends {final!r}")

    def _check_last_change(self, person_id: int, name: str, value: Any, log: list[Any]) -> None:
        changes = [a for a in log if a.activity_type_id == types.CHANGE_DATA_VALUE.id and a.attribute("Field") == name]
        if changes and (changes[-1].attribute("New Value") or None) != (value or None):
            self._violation("change without activity",
                            f"person {person_id} {name}: {value!r}, last change {changes[-1].attribute('New Value')!r}")

    def _violation(self, kind: str, detail: str) -> None:
        self.result.violations.append((kind, detail))

    # -- reading both sides ----------------------------------------------------------------------

    def _persons(self, store: PersonStore) -> list[Any]:
        """Every person of the run: those of the org's records and those the run added."""
        emails = {r["Email"].lower() for r in self._records().values() if r.get("Email")}
        emails |= {f"chaos{self.config.seed}-{n}-{i}@new.example" for n in range(self.config.rounds)
                   for i in range(self.config.new_persons_per_round)}
        found, after = [], 0
        while page := store.api.persons_page("email", sorted(emails), after_id=after, limit=1000):
            found += page
            after = page[-1].id
        return found

    def _records(self) -> dict[str, dict[str, Any]]:
        org = self.emulator.org
        token = org.login_password(CONNECTED_APP.client_id, CONNECTED_APP.client_secret, *ADMIN)
        context = org.context(token.access_token)
        found = {}
        for object_name in ("Contact", "Lead"):
            soql = f"SELECT Id, Email, {', '.join(FIELDS.values())} FROM {object_name}"
            for row in org.query_all_rows(context, soql):
                found[row["Id"]] = row
        return found

    def _activities(self, store: PersonStore) -> dict[int, list[Any]]:
        log: dict[int, list[Any]] = defaultdict(list)
        for activity in store.activities.find():
            log[activity.person_id].append(activity)
        return log

    def _load_org(self) -> None:
        seed = self.config.seed
        rows = {
            "Contact": [{"FirstName": f"C{i}", "LastName": "Chaos", "Email": f"c{seed}-{i}@chaos.example",
                         "Title": "Clerk"} for i in range(self.config.contacts)],
            "Lead": [{"FirstName": f"L{i}", "LastName": "Chaos", "Company": "Chaos Leads",
                      "Email": f"l{seed}-{i}@chaos.example", "Title": "Prospect"} for i in range(self.config.leads)],
        }
        self._control("POST", "/bulk-load", json=rows)

    def _control(self, method: str, path: str, **kwargs: Any) -> Any:
        answer = self.http.request(method, f"{self.emulator.base_url}/_emulator{path}", timeout=60, **kwargs)
        answer.raise_for_status()
        return answer.json()


def _fail_at(target: Any, method: str, nth: int, after: bool) -> Callable[[], None]:
    """Make the `nth` call of `target.method` die, before or after it runs; returns the undo."""
    real = getattr(target, method)
    calls = 0

    def dying(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == nth and not after:
            raise Killed(f"before {method} call {nth}")
        result = real(*args, **kwargs)
        if calls == nth:
            raise Killed(f"after {method} call {nth}")
        return result

    setattr(target, method, dying)
    return lambda: vars(target).pop(method, None)


def _lost(log: list[Any], name: str, value: str) -> bool:
    return any(a.activity_type_id == types.SFDC_SYNC_CONFLICT.id and a.attribute("Field") == name
               and a.attribute("Lost Value") == value for a in log)


def _arrived(log: list[Any], name: str, value: str) -> bool:
    """A Salesforce value that reached the person (a change activity from the pull)."""
    return any(a.activity_type_id == types.CHANGE_DATA_VALUE.id and a.attribute("Field") == name
               and a.attribute("New Value") == value and a.attribute("Source") == ChangeOrigin.SALESFORCE
               for a in log)


def _left(log: list[Any], name: str, value: str) -> bool:
    """A Tandem value that reached Salesforce and was replaced there later (the pull brought the new one)."""
    return any(a.activity_type_id == types.CHANGE_DATA_VALUE.id and a.attribute("Field") == name
               and a.attribute("Old Value") == value and a.attribute("Source") == ChangeOrigin.SALESFORCE
               for a in log)
