"""The dashboard's backlog figures, read from what the store already keeps.

Each pull or push step records how many records it handled, which is what was waiting on its side
when it ran; so the 5-day trend is, per 4-hour bucket, the most any cycle found waiting, and the
throughput is the records handled per hour; the time to clear a backlog is estimated at the pace
the steps of the last 24 hours worked at while they ran (records per second of step time). What waits to go to
Salesforce now is the outbox, the part of it a cycle pushes (the rest is kept in Tandem only); what
waits in Salesforce is known only to the next pull, so what the last pull left for the next (its
failed records) is the figure shown, as `/metrics` shows it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from tandem.people.store import PersonStore
from tandem.people.sync_history import KEPT_IN_TANDEM, Pace, Series, Waiting
from tandem.sync.cycle import PULL_ORDER, PUSH_ORDER

TREND_DAYS = 5
TREND_BUCKET = timedelta(hours=4)
THROUGHPUT_HOURS = 24
GROWING_RUN = 3
"""Buckets in a row, each holding more than the one before, that make a backlog Growing."""

SERIES: tuple[Series, ...] = tuple((o, "pull") for o in PULL_ORDER) + tuple((o, "push") for o in PUSH_ORDER)


@dataclass(frozen=True)
class Backlog:
    object: str
    direction: str
    waiting: int
    per_hour: float
    """Records handled per hour over the last 24 hours."""
    per_second: float | None
    """Records handled per second of the steps that handled them in 24 hours (None: none did)."""
    growing: bool
    changes: int = 0
    """Changes waiting to go to Salesforce (pushes only)."""
    refused: int = 0
    """Of `changes`, those Salesforce refused: they wait for a fix (or the person's next change)."""
    due: int | None = None
    """Of `waiting`, the records a cycle sends (not those whose every change was refused); None: all."""

    @property
    def waits_for_fix(self) -> bool:
        """Every change waiting was refused: no cycle clears it until someone fixes it."""
        return self.changes > 0 and self.refused == self.changes

    @property
    def clears_in(self) -> timedelta | None:
        """The records a cycle sends, at the pace the steps worked at; None when no step has handled a record yet."""
        sent = self.waiting if self.due is None else self.due
        if sent == 0:
            return timedelta(0)
        if not self.per_second:
            return None
        return timedelta(seconds=sent / self.per_second)


@dataclass(frozen=True)
class BacklogPicture:
    backlogs: list[Backlog]
    trend: dict[Series, list[int | None]]
    trend_starts: list[datetime]
    throughput: dict[str, list[int]]
    """Records handled per object, per hour of the last 24 (oldest first), pulls and pushes together."""
    throughput_starts: list[datetime]
    kept_in_tandem: Waiting | None = None
    """Changes no cycle pushes: of persons not in Salesforce (they go with Sync Person to SFDC)."""


def bucket_starts(now: datetime, size: timedelta, count: int) -> list[datetime]:
    """`count` buckets of `size` ending with the one holding `now`, aligned on whole sizes since midnight."""
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    current = midnight + size * ((now - midnight) // size)
    return [current - size * (count - 1 - i) for i in range(count)]


def growing(values: list[int | None], run: int = GROWING_RUN) -> bool:
    """Growing when the last `run` buckets a cycle ran in each hold more than the one before."""
    seen = [v for v in values if v is not None][-run:]
    return len(seen) == run and all(b > a for a, b in zip(seen, seen[1:]))


@dataclass(frozen=True)
class StepFigures:
    """What the steps say, summed: it changes only when a step is written or the hour turns."""

    trend: dict[Series, list[int | None]]
    trend_starts: list[datetime]
    throughput: dict[str, list[int]]
    throughput_starts: list[datetime]
    pace: dict[Series, Pace]
    left_by_last_pulls: dict[str, int]


def step_figures(store: PersonStore, now: datetime) -> StepFigures:
    trend_starts = bucket_starts(now, TREND_BUCKET, TREND_DAYS * 24 // 4)
    hour_starts = bucket_starts(now, timedelta(hours=1), THROUGHPUT_HOURS)
    history = store.history
    found = history.most_waiting(trend_starts[0], TREND_BUCKET, len(trend_starts))
    handled = history.handled(hour_starts[0], timedelta(hours=1), len(hour_starts))
    return StepFigures(
        trend={series: found.get(series, [None] * len(trend_starts)) for series in SERIES},
        trend_starts=trend_starts,
        throughput={name: handled.get(name, [0] * len(hour_starts)) for name in PULL_ORDER},
        throughput_starts=hour_starts,
        pace=history.pace(hour_starts[0]),
        left_by_last_pulls=history.left_by_last_pulls(),
    )


def backlog_picture(store: PersonStore, now: datetime, figures: StepFigures | None = None) -> BacklogPicture:
    """The backlog now: `figures` (as `step_figures` made them, maybe a little earlier) and the outbox."""
    figures = figures or step_figures(store, now)
    waiting_out = store.history.waiting()
    backlogs = []
    for object_name, direction in SERIES:
        series = (object_name, direction)
        worked = figures.pace.get(series)
        out = waiting_out.get(object_name) if direction == "push" else None
        waiting = figures.left_by_last_pulls.get(object_name, 0) if direction == "pull" else out.persons if out else 0
        per_hour = worked.records / THROUGHPUT_HOURS if worked else 0.0
        per_second = worked.records / max(worked.seconds, 0.001) if worked and worked.records else None
        backlogs.append(Backlog(object_name, direction, waiting, per_hour, per_second,
                                growing(figures.trend[series]), out.changes if out else 0, out.refused if out else 0,
                                (out.due if out else 0) if direction == "push" else None))
    return BacklogPicture(backlogs, figures.trend, figures.trend_starts, figures.throughput,
                          figures.throughput_starts, waiting_out.get(KEPT_IN_TANDEM))
