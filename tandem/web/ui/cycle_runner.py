"""*Sync now* from `tandem serve`: one cycle in a background thread, under the same cycle lock as
`tandem run`, so it never runs beside another process's cycle; its progress for the dashboard.

The runner keeps one engine (and its Salesforce client) for the server's life, so the field catalog
is described once an hour, not once per click.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from tandem.errors import CycleBusy, TandemError
from tandem.people.models import StepOperation, StepStatus
from tandem.people.store import PersonStore
from tandem.sync.budget import ApiBudget, BudgetSpent, Lane
from tandem.sync.cycle import PULL_FOLLOW_UPS, PULL_ORDER, PUSH_ORDER, SyncEngine
from tandem.sync.policy import BudgetPolicy
from tandem.web.sync_actions import ClientFactory

EngineMaker = Callable[[Any, PersonStore, str], SyncEngine]
"""`(client, store, owner) → SyncEngine`: how `tandem serve` makes the engine of its Sync now."""

log = logging.getLogger("tandem.web.ui")
STEPS_IN_A_CYCLE = 1 + len(PULL_ORDER) + sum(len(v) for v in PULL_FOLLOW_UPS.values()) + len(PUSH_ORDER)


@dataclass(frozen=True)
class Progress:
    running: bool = False
    step: str | None = None
    steps_started: int = 0
    records: int = 0
    started_at: datetime | None = None
    outcome: str | None = None
    """How the last cycle this server ran ended."""
    ended_at: datetime | None = None
    """When it ended."""

    @property
    def percent(self) -> int:
        return min(100, round(100 * max(self.steps_started - 1, 0) / STEPS_IN_A_CYCLE))


class CycleRunner:
    def __init__(self, store: PersonStore, client_factory: ClientFactory, make_engine: EngineMaker,
                 budget: BudgetPolicy | None = None) -> None:
        self.store = store
        self.budget = budget
        """The policy's API budget: no cycle starts while its cycle lane is spent (as in `tandem run`)."""
        self.client_factory = client_factory
        self.make_engine = make_engine
        self._stack = ExitStack()
        self._engine: SyncEngine | None = None
        self._lock = threading.Lock()
        self._progress = Progress()
        self._thread: threading.Thread | None = None

    def progress(self) -> Progress:
        return self._progress

    def start(self, *, retry_failed: bool = False, by: str = "") -> str | None:
        """Start a cycle in the background; the reason it cannot start (a cycle is running), else None."""
        with self._lock:
            if self._progress.running:
                return "a sync cycle started from this server is already running"
            holder = self.store.locks.cycle_holder()
            if holder is not None:
                return f"a sync cycle is already running ({holder})"
            spent = self._lane_spent()
            if spent is not None:
                return spent
            self._progress = Progress(running=True, started_at=datetime.now(UTC), step="starting")
            self._thread = threading.Thread(target=self._run, args=(retry_failed, by), name="tandem-ui-cycle",
                                            daemon=True)
            self._thread.start()
        return None

    def _run(self, retry_failed: bool, by: str) -> None:
        outcome = "finished"
        try:
            engine = self._engine_now()
            report = engine.run_cycle(retry_failed=retry_failed)
            totals = report.record_totals()
            failed = [s for s in report.steps if s.status is StepStatus.FAILED]
            outcome = (f"cycle FAILED: {report.failure_message}" if report.failure is not None else
                       f"cycle finished: {totals.new} new, {totals.updated} updated, {totals.deleted} deleted, "
                       f"{totals.failed} failed, {report.api_calls} API calls")
            if report.failure is None and failed:
                outcome += "; FAILED steps: " + "; ".join(
                    f"{s.object} {s.operation.value}: {s.message}" for s in failed)
        except (CycleBusy, BudgetSpent) as error:
            outcome = f"not started: {error}"
        except TandemError as error:
            outcome = f"cycle FAILED: {error}"
        except Exception:  # noqa: BLE001 - the thread must end with a visible outcome
            log.exception("the cycle started from the web UI failed")
            outcome = "cycle FAILED: unexpected error (see the server's log)"
        finally:
            self._progress = replace(self._progress, running=False, outcome=outcome, ended_at=datetime.now(UTC))
            log.info("Sync now by %s: %s", by or "?", outcome)

    def _lane_spent(self) -> str | None:
        if self.budget is None:
            return None
        try:
            ApiBudget(self.store, self.budget).check(Lane.CYCLE)
        except BudgetSpent as spent:
            return f"no cycle started: {spent}; actions still run"
        return None

    def _engine_now(self) -> SyncEngine:
        if self._engine is None:
            client: Any = self._stack.enter_context(self.client_factory())
            engine = self.make_engine(client, self.store, "tandem serve (Sync now)")
            engine.on_step = self._on_step
            engine.progress = self._on_records
            self._engine = engine
        return self._engine

    def _on_step(self, object_name: str, operation: StepOperation) -> None:
        p = self._progress
        self._progress = replace(p, step=f"{object_name}: {operation.value}", steps_started=p.steps_started + 1,
                                 records=0)

    def _on_records(self, done: int) -> None:
        self._progress = replace(self._progress, records=done)

    def wait(self, timeout: float | None = None) -> None:
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def close(self) -> None:
        if self._engine is not None:
            self._engine.stop_requested = lambda: True
        self.wait(30)
        self._stack.close()
