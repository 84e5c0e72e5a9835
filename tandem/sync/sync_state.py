"""What the sync is doing now, in one word and a reason: running, paused, failing or waiting."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from tandem.people.models import CycleStep, StepStatus
from tandem.people.store import PersonStore
from tandem.sync.scheduler import LIMIT_PAUSE

RUNNING, PAUSED, FAILING, WAITING = "running", "paused", "failing", "waiting"


@dataclass(frozen=True)
class SyncState:
    kind: str
    reason: str
    until: datetime | None = None
    """When the state is expected to change: the next cycle's start (None: not known)."""


def sync_state(store: PersonStore, now: datetime, interval_seconds: float) -> SyncState:
    holder = store.locks.cycle_holder()
    running = store.history.running()
    if holder is not None or running is not None:
        doing = f"{running.object}: {running.operation.value}" if running is not None else "starting"
        return SyncState(RUNNING, f"{doing} ({holder})" if holder else doing)
    pause = store.sync_pause.current()
    if pause is not None:
        return SyncState(PAUSED, f"paused by {pause.paused_by} at {pause.paused_at:%Y-%m-%d %H:%M} UTC: {pause.reason}")
    steps = store.steps.recent(limit=20)
    if not steps:
        return SyncState(WAITING, "no sync cycle has run yet")
    last = [s for s in steps if s.cycle_id == steps[0].cycle_id]
    ended = max((s.ended_at or s.started_at) for s in last)
    failed = [s for s in last if s.status is StepStatus.FAILED]
    if failed:
        wait = LIMIT_PAUSE if any(_limit(s) for s in failed) else timedelta(seconds=interval_seconds)
        step = failed[0]
        return SyncState(FAILING, f"{step.object} {step.operation.value} failed: {step.message or 'no message'}",
                         ended + max(wait, timedelta(seconds=interval_seconds)))
    due = ended + timedelta(seconds=interval_seconds)
    if due < now - timedelta(seconds=interval_seconds):
        return SyncState(WAITING, f"no cycle since {ended:%Y-%m-%d %H:%M} UTC: is `tandem run` running?")
    return SyncState(WAITING, f"last cycle ended {ended:%H:%M:%S} UTC", due)


def _limit(step: CycleStep) -> bool:
    return "API limit" in (step.message or "")
