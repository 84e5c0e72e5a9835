"""What the sync is doing now, in one word and a reason: running, paused, failing or waiting."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import groupby
from datetime import datetime, timedelta

from tandem.people.models import CycleStep, StepOperation, StepStatus
from tandem.people.store import PersonStore
from tandem.people.sync_errors import LOGIN
from tandem.salesforce.client import REFUSED_LOGIN_PAUSE
from tandem.sync.budget import ApiBudget, BudgetSpent, Lane, next_midnight, spent_words
from tandem.sync.policy import SyncPolicy
from tandem.sync.scheduler import LIMIT_PAUSE, idle_interval

RUNNING, PAUSED, FAILING, WAITING = "running", "paused", "failing", "waiting"
RECENT_STEPS = 100
"""Steps looked at: enough cycles to see how long `tandem run` rests while the org is quiet."""


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


def sync_state(store: PersonStore, now: datetime, interval_seconds: float,
               idle_interval_max_seconds: float | None = None, policy: SyncPolicy | None = None) -> SyncState:
    """`idle_interval_max_seconds`: the longest rest `tandem run` takes while the org is quiet (the
    policy's; 8 intervals when not given, its default). With the `policy` in force, its quiet hours
    and a spent cycle lane of its API budget hold the next cycle back, as they hold `tandem run`."""
    holder = store.locks.cycle_holder()
    if holder is not None:
        running = store.history.running()
        doing = f"{running.object}: {running.operation.value}" if running is not None else "starting"
        return SyncState(RUNNING, f"{doing} ({holder})")
    pause = store.sync_pause.current()
    if pause is not None:
        return SyncState(PAUSED, pause.said())
    held = held_back(store, now, policy) if policy is not None else None
    if held is not None:
        return held
    steps = store.steps.recent(limit=RECENT_STEPS)
    if not steps:
        return SyncState(WAITING, "no sync cycle has run yet")
    last = [s for s in steps if s.cycle_id == steps[0].cycle_id]
    ended = max((s.ended_at or s.started_at) for s in last)
    stopped = next((s for s in last if s.status is StepStatus.IN_PROCESS), None)
    if stopped is not None:  # no one holds the cycle's lock: its process ended or lost the database mid-step
        return SyncState(WAITING, f"the last cycle stopped during {stopped.object}: {stopped.operation.value} "
                         "without finishing (its process ended or lost the database); "
                         "the next cycle goes on from there",
                         ended + timedelta(seconds=interval_seconds))
    failed = [s for s in last if s.status is StepStatus.FAILED]
    if failed:
        wait = LIMIT_PAUSE if any(_limit(s) for s in failed) else timedelta(seconds=interval_seconds)
        refusal = store.refused_logins.latest()
        if refusal is not None and refusal.refused_at <= ended < refusal.refused_at + REFUSED_LOGIN_PAUSE:
            wait = max(wait, refusal.refused_at + REFUSED_LOGIN_PAUSE - ended)  # no login is tried before then
        step = failed[0]
        return SyncState(FAILING, f"{failed_on(store, step)} failed: {step.message or 'no message'}",
                         ended + max(wait, timedelta(seconds=interval_seconds)))
    spent = lane_spent(last, now)
    if spent is not None:  # `tandem run` starts no cycle before the lane opens
        return SyncState(WAITING, spent, next_midnight(ended))
    due = ended + timedelta(seconds=expected_rest(steps, interval_seconds, idle_interval_max_seconds))
    if due < now - timedelta(seconds=interval_seconds):
        return SyncState(WAITING, f"no cycle since {ended:%Y-%m-%d %H:%M} UTC: is `tandem run` running?")
    return SyncState(WAITING, f"last cycle ended {ended:%H:%M:%S} UTC", due)


def failed_on(store: PersonStore, step: CycleStep) -> str:
    """What a failed step failed on, as its sync error names it: `login` when the step only met the sync
    user's refused login (`tandem status` and the errors name it so), else the step itself."""
    if any(error.object == LOGIN for error in store.sync_errors.recent(cycle_step_id=step.id)):
        return LOGIN
    return f"{step.object} {step.operation.value}"


def held_back(store: PersonStore, now: datetime, policy: SyncPolicy) -> SyncState | None:
    """Waiting, and until when, while `tandem run` starts no cycle for the policy: inside its quiet
    hours, or with its budget's cycle lane spent for the day (by actions too, before any cycle)."""
    if policy.quiet_hours is not None and policy.quiet_hours.contains(now):
        until = policy.quiet_hours.ends_after(now)
        return SyncState(WAITING, f"quiet hours: the next cycle starts at {until:%H:%M} UTC", until)
    state = ApiBudget(store, policy.budget, lambda: now).state()
    limit = state.limit(Lane.CYCLE)
    if limit is not None and state.exhausted(Lane.CYCLE):
        spent = BudgetSpent(Lane.CYCLE, state.counted_against(Lane.CYCLE), limit, state.resets_at)
        return SyncState(WAITING, f"{spent}; actions still run", spent.until)
    return None


def expected_rest(steps: list[CycleStep], interval_seconds: float, idle_interval_max_seconds: float | None) -> float:
    """How long `tandem run` rests after the newest of these steps' cycles (`scheduler.idle_interval`):
    longer after each quiet cycle, up to `idle_interval_max_seconds` (8 intervals when not given, the
    policy's default)."""
    longest = 8 * interval_seconds if idle_interval_max_seconds is None else idle_interval_max_seconds
    return idle_interval(interval_seconds, quiet_cycles(steps), longest)


def quiet_cycles(steps: list[CycleStep]) -> int:
    """Cycles in a row, newest first, that ran whole and moved nothing: `tandem run` rests longer
    after each (`scheduler.idle_interval`)."""
    count = 0
    for _, cycle in groupby(steps, key=lambda step: step.cycle_id):
        if not _quiet(list(cycle)):
            break
        count += 1
    return count


def _quiet(cycle: list[CycleStep]) -> bool:
    return all(s.status is StepStatus.SUCCEEDED and (s.operation is StepOperation.SYNC_SCHEMA or
                                                     s.counts.new + s.counts.updated + s.counts.deleted
                                                     + s.counts.failed == 0) for s in cycle)


def lane_spent(cycle: list[CycleStep], now: datetime) -> str | None:
    """Why no cycle starts before midnight UTC, when one of the cycle's steps stopped because the API
    budget's cycle lane was spent (`BudgetSpent`) that same UTC day; else None."""
    for step in cycle:
        if (step.status is StepStatus.INCOMPLETE and spent_words(Lane.CYCLE) in (step.message or "")
                and now < next_midnight(step.ended_at or step.started_at)):
            return (step.message or "").removeprefix("stopped: ")
    return None


def _limit(step: CycleStep) -> bool:
    return "API limit" in (step.message or "")
