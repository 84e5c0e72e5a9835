"""Which faults a request gets: seeded draws, the concurrency limit, and the counts of what was injected.

Every active rate draws from one `random.Random(seed)` in a fixed order (`slow`, the keys of
`_BEFORE`, those of `_AFTER`, then `lateCommit` twice: whether, and how late), whether or not its
fault applies to the request, so the same seed and the same sequence of requests give the same
faults; the keys of the first version keep their draws. A collection call draws again for each
record it writes (`draw_record`). Only faults that apply are counted.
"""

from __future__ import annotations

import itertools
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from tandem.emulator.faults import FAULT_KINDS, FaultSettings

_WRITE_METHODS = {"POST", "PATCH", "PUT", "DELETE"}
_READ_ONLY_POSTS = ("/query", "/composite/batch")
SOAP_WRITES = frozenset({"convertLead", "merge", "undelete", "create", "update", "upsert", "delete"})


@dataclass(frozen=True)
class Target:
    """What a request is, as far as faults care."""

    api: bool = False
    """A data-API or SOAP call (not login): counted against the org's limits."""
    write: bool = False
    """May change records: a REST write, or SOAP convertLead, merge or undelete."""
    token: bool = False
    """An OAuth token request."""
    query: str | None = None
    """`first` for `query`/`queryAll`, `more` for the pages their `nextRecordsUrl` names."""
    locator: str | None = None
    session: str | None = None
    """The caller's access token (bearer header, or the SOAP SessionHeader)."""
    soap: bool = False


def classify(method: str, path: str, session: str | None = None, soap_operation: str | None = None) -> Target:
    path = path.rstrip("/")
    if path.startswith("/services/Soap/"):
        api = soap_operation is not None and soap_operation != "login"
        return Target(api=api, write=soap_operation in SOAP_WRITES, session=session, soap=True)
    if path.startswith("/services/oauth2/token"):
        return Target(token=True)
    if not path.startswith("/services/data/v"):
        return Target(session=session)
    rest = path.split("/")[4:]
    query = locator = None
    if method == "GET" and rest and rest[0].lower() in ("query", "queryall"):
        if len(rest) == 1:
            query = "first"
        elif len(rest) == 2:
            query, locator = "more", rest[1]
    write = method in _WRITE_METHODS and not path.endswith(_READ_ONLY_POSTS)
    return Target(api=True, write=write, query=query, locator=locator, session=session)


_BEFORE: tuple[tuple[str, Callable[[Target], bool]], ...] = (
    ("sessionExpiry", lambda t: t.session is not None),
    ("drop", lambda t: True),
    ("http503", lambda t: True),
    ("http500", lambda t: True),
    ("unableToLockRow", lambda t: t.write),
    ("requestLimitExceeded", lambda t: t.api),
    ("gateway502", lambda t: True),
    ("gateway504", lambda t: True),
    ("queryTimeout", lambda t: t.query == "first"),
    ("queryOutage", lambda t: t.query is not None),
    ("invalidQueryLocator", lambda t: t.query == "more"),
    ("loginAuthFailure", lambda t: t.token),
    ("loginRateExceeded", lambda t: t.token),
)
"""Faults that act before the call runs, in draw order; the first that hits and applies wins."""
_AFTER = ("dropAfterCommit", "http502AfterCommit")
_RECORD_KINDS: tuple[tuple[str, frozenset[str]], ...] = (
    ("recordUnableToLockRow", frozenset({"create", "update", "upsert", "delete"})),
    ("recordEntityIsLocked", frozenset({"update", "upsert", "delete"})),
    ("recordDuplicatesDetected", frozenset({"create", "update", "upsert"})),
    ("recordTriggerRefusal", frozenset({"create", "update", "upsert", "delete"})),
)
"""Per-record faults of sObject Collections and the operations each can hit (a new record cannot
be locked; duplicate rules run on save, not on delete)."""


@dataclass(frozen=True)
class FaultPlan:
    """What to do to one request: an optional delay, at most one fault before the call runs
    (`before`), or else a lost answer after it ran (`after`), and a late commit (`late_ms`)."""

    delay: float = 0.0
    before: str | None = None
    after: str | None = None
    late_ms: int = 0


STATE_KEY = "injected_faults"
"""Where the middleware leaves a request's `RequestFaults` in its ASGI scope state."""


@dataclass(frozen=True)
class RequestFaults:
    """What the request handlers apply themselves: the late commit and the per-record draws."""

    late_ms: int = 0
    records: Callable[[str], str | None] | None = None


class FaultInjector:
    """The current settings, the seeded generator, the counts and the calls in flight; thread-safe."""

    def __init__(self, settings: FaultSettings | None = None) -> None:
        self._lock = threading.Lock()
        self._in_flight: dict[int, float] = {}
        self._tickets = itertools.count(1)
        self.configure(settings or FaultSettings())

    def configure(self, settings: FaultSettings) -> None:
        """New settings: the generator restarts from their seed and the counts from zero."""
        with self._lock:
            self.settings = settings
            self._rng = random.Random(settings.seed)
            self._counts: Counter[str] = Counter()

    def forget_calls_in_flight(self) -> None:
        """Calls still running count no more against `concurrentRequestLimit` (the org was reset
        under them: a call a killed client left sleeping in a `slow` fault holds no later test up)."""
        with self._lock:
            self._in_flight.clear()

    def report(self) -> dict:
        """The settings, the faults injected since they were set (by kind), and the API calls in flight."""
        with self._lock:
            body = self.settings.model_dump()
            body["injected"] = {kind: self._counts[kind] for kind in FAULT_KINDS}
            body["inFlight"] = len(self._in_flight)
        return body

    # -- the concurrency limit -----------------------------------------------------------------

    def enter(self, target: Target) -> int | None:
        """Admit a call: a ticket for `leave`, or None when the long-running calls already in flight
        reach `concurrentRequestLimit` (Salesforce refuses the call then). Only API calls are
        tracked; others get ticket 0."""
        if not target.api:
            return 0
        now = time.monotonic()
        with self._lock:
            limit = self.settings.concurrentRequestLimit
            if limit:
                threshold = self.settings.longRunningSeconds
                long_running = sum(1 for started in self._in_flight.values() if now - started >= threshold)
                if long_running >= limit:
                    self._counts["concurrentRequestLimit"] += 1
                    return None
            ticket = next(self._tickets)
            self._in_flight[ticket] = now
            return ticket

    def leave(self, ticket: int) -> None:
        with self._lock:
            self._in_flight.pop(ticket, None)

    # -- draws ---------------------------------------------------------------------------------

    def plan(self, target: Target) -> FaultPlan:
        with self._lock:
            s, rng = self.settings, self._rng
            if not s.any_active:
                return FaultPlan()
            slow = bool(s.slow) and rng.random() < s.slow
            before = after = None
            for name, applies in _BEFORE:
                rate = getattr(s, name)
                if rate and rng.random() < rate and before is None and applies(target):
                    before = name
            for name in _AFTER:
                rate = getattr(s, name)
                if rate and rng.random() < rate and before is None and after is None and target.write:
                    after = name
            late_ms = 0
            if s.lateCommit:
                hit, share = rng.random() < s.lateCommit, rng.random()
                if hit and before is None and target.write:
                    late_ms = max(1, round(share * s.lateCommitSeconds * 1000))
            for kind, applied in (("slow", slow), (before, before), (after, after), ("lateCommit", late_ms)):
                if applied:
                    self._counts[kind] += 1
            return FaultPlan(s.slowSeconds if slow else 0.0, before, after, late_ms)

    def draw_record(self, operation: str) -> str | None:
        """The per-record fault for one record of a collection call (`create`, `update`, `upsert`,
        `delete`), or None."""
        with self._lock:
            s, rng = self.settings, self._rng
            chosen = None
            for name, operations in _RECORD_KINDS:
                rate = getattr(s, name)
                if rate and rng.random() < rate and chosen is None and operation in operations:
                    chosen = name
            if chosen:
                self._counts[chosen] += 1
            return chosen
