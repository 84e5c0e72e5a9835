"""The day's API budget, split into lanes: real-time actions first, then the cycle, then retries and backfills.

Each lane may spend until the day's calls (every lane's, counted from Tandem's own client) reach
its limit: actions the whole budget, the cycle the budget less `actions_reserve`, retries and
backfills (`--retry-failed`, an object's first full pull) less `cycle_reserve` too. What a lane
spends inside its own reserve does not count against the lanes after it, so actions using their
reserve never stop the cycle; a flood of changes spends the cycle's lane and stops there, while
actions keep their reserve.
Days are UTC days; a spent lane opens again at the next midnight UTC.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum

from tandem.errors import TandemError
from tandem.people.store import PersonStore
from tandem.sync.policy import BudgetPolicy


class Lane(StrEnum):
    ACTIONS = "actions"
    CYCLE = "cycle"
    RETRIES = "retries"
    """Retries of refused changes and backfills (an object's first, full pull)."""


LANE_ORDER = (Lane.ACTIONS, Lane.CYCLE, Lane.RETRIES)


class BudgetSpent(TandemError):
    """The lane's share of the day's API budget is spent: the work waits until `until`."""

    def __init__(self, lane: Lane, spent: int, limit: int, until: datetime) -> None:
        self.lane = lane
        self.spent = spent
        self.limit = limit
        self.until = until
        super().__init__(f"{spent_words(lane)} ({spent} of {limit} calls today); "
                         f"it opens again at {until:%Y-%m-%d %H:%M} UTC")

    hint = "wait, or run with --ignore-budget"


def spent_words(lane: Lane) -> str:
    """How `BudgetSpent` opens its message, by which a step it stopped is known again."""
    return f"the API budget's {lane.value} lane is spent"


def next_midnight(moment: datetime) -> datetime:
    return datetime.combine(moment.astimezone(UTC).date() + timedelta(days=1), time(), tzinfo=UTC)


@dataclass(frozen=True)
class BudgetState:
    """The day so far: calls per lane, the budget (None: unlimited) and each lane's limit."""

    now: datetime
    budget: int | None
    spent: Mapping[Lane, int]
    actions_reserve: int = 0
    cycle_reserve: int = 0

    @property
    def total(self) -> int:
        return sum(self.spent.values())

    def limit(self, lane: Lane) -> int | None:
        if self.budget is None:
            return None
        return {Lane.ACTIONS: self.budget, Lane.CYCLE: self.budget - self.actions_reserve,
                Lane.RETRIES: self.budget - self.actions_reserve - self.cycle_reserve}[lane]

    def counted_against(self, lane: Lane) -> int:
        """The day's calls that count against `lane`'s limit: every lane's, except what the lanes
        before it spent inside their own reserve (actions their `actions_reserve`, the cycle its
        `cycle_reserve`), which was never the later lane's to spend."""
        actions, cycle = self.spent.get(Lane.ACTIONS, 0), self.spent.get(Lane.CYCLE, 0)
        if lane is Lane.ACTIONS:
            return self.total
        if lane is Lane.CYCLE:
            return self.total - min(actions, self.actions_reserve)
        return self.total - min(actions, self.actions_reserve) - min(cycle, self.cycle_reserve)

    def exhausted(self, lane: Lane) -> bool:
        limit = self.limit(lane)
        return limit is not None and self.counted_against(lane) >= limit

    @property
    def resets_at(self) -> datetime:
        return next_midnight(self.now)

    def forecast(self) -> dict[str, object]:
        """At today's rate so far, the calls spent by the end of the UTC day, and when the cycle's lane runs out."""
        start = datetime.combine(self.now.astimezone(UTC).date(), time(), tzinfo=UTC)
        elapsed = max((self.now - start).total_seconds(), 60.0)
        remaining = (self.resets_at - self.now).total_seconds()
        rate = self.total / elapsed
        projected = self.total + int(rate * remaining)
        cycle_limit, counted = self.limit(Lane.CYCLE), self.counted_against(Lane.CYCLE)
        runs_out = None
        if cycle_limit is not None and counted >= cycle_limit:
            runs_out = self.now.isoformat()
        elif cycle_limit is not None and rate > 0:
            at = self.now + timedelta(seconds=(cycle_limit - counted) / rate)
            runs_out = at.isoformat() if at < self.resets_at else None
        return {"callsPerHour": round(rate * 3600, 1), "projectedCalls": projected,
                "cycleLaneRunsOutAt": runs_out, "endOfDay": self.resets_at.isoformat()}

    def as_json(self) -> dict[str, object]:
        return {
            "day": self.now.astimezone(UTC).date().isoformat(),
            "budget": self.budget,
            "spent": self.total,
            "lanes": [{"lane": lane.value, "spent": self.spent.get(lane, 0), "limit": self.limit(lane),
                       "exhausted": self.exhausted(lane)} for lane in LANE_ORDER],
            "resetsAt": self.resets_at.isoformat(),
            "forecast": self.forecast(),
        }


class ApiBudget:
    """Counts Tandem's calls per lane in the store (so every process adds to one count) and says
    whether a lane may still spend."""

    def __init__(self, store: PersonStore, policy: BudgetPolicy,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.store = store
        self.policy = policy
        self.clock = clock

    def today(self) -> date:
        return self.clock().astimezone(UTC).date()

    def charge(self, lane: Lane, calls: int) -> None:
        self.store.api_usage.spend(lane.value, calls, self.today())

    def state(self) -> BudgetState:
        now = self.clock()
        spent = self.store.api_usage.spent(now.astimezone(UTC).date())
        reading = self.store.api_usage.latest()
        return BudgetState(
            now=now, budget=self.policy.daily_budget(reading.limit if reading else None),
            spent={lane: spent.get(lane.value, 0) for lane in LANE_ORDER},
            actions_reserve=self.policy.actions_reserve, cycle_reserve=self.policy.cycle_reserve,
        )

    def check(self, lane: Lane) -> None:
        """Raise `BudgetSpent` when `lane` may not spend any more today."""
        state = self.state()
        if state.exhausted(lane):
            limit = state.limit(lane)
            assert limit is not None
            raise BudgetSpent(lane, state.counted_against(lane), limit, state.resets_at)


class LaneMeter:
    """Charges a client's calls to the lane at work: the difference since the last charge."""

    def __init__(self, budget: ApiBudget, calls: Callable[[], int], lane: Lane = Lane.ACTIONS) -> None:
        self.budget = budget
        self._calls = calls
        self._charged = calls()
        self.lane = lane

    def charge(self) -> None:
        now = self._calls()
        if now > self._charged:
            self.budget.charge(self.lane, now - self._charged)
        self._charged = now

    def switch(self, lane: Lane) -> Lane:
        """Charge what was spent so far to the current lane, then count for `lane`; returns the old one."""
        self.charge()
        previous, self.lane = self.lane, lane
        return previous
