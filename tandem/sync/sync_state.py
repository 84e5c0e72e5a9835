"""What the sync is doing now, in one word and a reason: running, paused, failing or waiting."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from tandem.people.models import CycleStep, StepStatus
from tandem.people.store import PersonStore
from tandem.salesforce.client import REFUSED_LOGIN_PAUSE
from tandem.sync.scheduler import LIMIT_PAUSE

RUNNING, PAUSED, FAILING, WAITING = "running", "paused", "failing", "waiting"


@dataclass(frozen=True)
class SyncState:
    kind: str
    reason: str
    until: datetime | None = None
    """When the state is expected to change: the next cycle's start (None: not known)."""


def running_step(store: PersonStore) -> CycleStep | None:
    """The step a cycle is running now. A step left In Process by a cycle that was killed is not
    running: no one holds the cycle's lock (the next cycle closes that step)."""
    step = store.history.running()
    return step if step is not None and store.locks.cycle_holder() is not None else None


def sync_state(store: PersonStore, now: datetime, interval_seconds: float) -> SyncState:
    holder = store.locks.cycle_holder()
    if holder is not None:
        running = store.history.running()
        doing = f"{running.object}: {running.operation.value}" if running is not None else "starting"
        return SyncState(RUNNING, f"{doing} ({holder})")
    pause = store.sync_pause.current()
    if pause is not None:
        return SyncState(PAUSED, f"paused by {pause.paused_by} at {pause.paused_at:%Y-%m-%d %H:%M} UTC: {pause.reason}")
    steps = store.steps.recent(limit=20)
    if not steps:
        return SyncState(WAITING, "no sync cycle has run yet")
    last = [s for s in steps if s.cycle_id == steps[0].cycle_id]
    ended = max((s.ended_at or s.started_at) for s in last)
    stopped = next((s for s in last if s.status is StepStatus.IN_PROCESS), None)
    if stopped is not None:  # no one holds the cycle's lock: its process ended in the middle of the step
        return SyncState(WAITING, f"the last cycle stopped during {stopped.object}: {stopped.operation.value} "
                         f"without finishing (its process ended); the next cycle goes on from there",
                         ended + timedelta(seconds=interval_seconds))
    failed = [s for s in last if s.status is StepStatus.FAILED]
    if failed:
        wait = LIMIT_PAUSE if any(_limit(s) for s in failed) else timedelta(seconds=interval_seconds)
        refusal = store.refused_logins.latest()
        if refusal is not None and refusal.refused_at <= ended < refusal.refused_at + REFUSED_LOGIN_PAUSE:
            wait = max(wait, refusal.refused_at + REFUSED_LOGIN_PAUSE - ended)  # no login is tried before then
        step = failed[0]
        return SyncState(FAILING, f"{step.object} {step.operation.value} failed: {step.message or 'no message'}",
                         ended + max(wait, timedelta(seconds=interval_seconds)))
    due = ended + timedelta(seconds=interval_seconds)
    if due < now - timedelta(seconds=interval_seconds):
        return SyncState(WAITING, f"no cycle since {ended:%Y-%m-%d %H:%M} UTC: is `tandem run` running?")
    return SyncState(WAITING, f"last cycle ended {ended:%H:%M:%S} UTC", due)


def _limit(step: CycleStep) -> bool:
    return "API limit" in (step.message or "")
