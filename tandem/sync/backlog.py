"""The dashboard's backlog figures, read from what the store already keeps.

Each pull or push step records how many records it handled, which is what was waiting on its side
when it ran; so the 5-day trend is, per 4-hour bucket, the most any cycle found waiting, and the
throughput is the records handled per hour. What waits to go to Salesforce now is the outbox; what
waits in Salesforce is known only to the next pull, so the last pull's figure stands for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from tandem.people.store import PersonStore
from tandem.people.sync_history import StepRecords
from tandem.sync.cycle import PULL_ORDER, PUSH_ORDER

TREND_DAYS = 5
TREND_BUCKET = timedelta(hours=4)
THROUGHPUT_HOURS = 24
GROWING_RUN = 3
"""Buckets in a row, each holding more than the one before, that make a backlog Growing."""

Series = tuple[str, str]
"""(object, direction): direction is "pull" (Salesforce → Tandem) or "push" (Tandem → Salesforce)."""
SERIES: tuple[Series, ...] = tuple((o, "pull") for o in PULL_ORDER) + tuple((o, "push") for o in PUSH_ORDER)


@dataclass(frozen=True)
class Backlog:
    object: str
    direction: str
    waiting: int
    per_hour: float
    """Records handled per hour over the last 24 hours."""
    per_second: float | None
    """Records handled per second of the steps that handled them over 5 days (None: none did)."""
    growing: bool

    @property
    def clears_in(self) -> timedelta | None:
        """At the pace the steps worked at; None when no step has handled a record yet."""
        if self.waiting == 0:
            return timedelta(0)
        if not self.per_second:
            return None
        return timedelta(seconds=self.waiting / self.per_second)


@dataclass(frozen=True)
class BacklogPicture:
    backlogs: list[Backlog]
    trend: dict[Series, list[int | None]]
    trend_starts: list[datetime]
    throughput: dict[str, list[int]]
    """Records handled per object, per hour of the last 24 (oldest first), pulls and pushes together."""
    throughput_starts: list[datetime]


def bucket_starts(now: datetime, size: timedelta, count: int) -> list[datetime]:
    """`count` buckets of `size` ending with the one holding `now`, aligned on whole sizes since midnight."""
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    current = midnight + size * ((now - midnight) // size)
    return [current - size * (count - 1 - i) for i in range(count)]


def trend(records: list[StepRecords], starts: list[datetime], size: timedelta) -> dict[Series, list[int | None]]:
    """Per series, the most records one cycle found waiting in each bucket (None: no cycle ran)."""
    per_cycle: dict[tuple[str | None, str, str], tuple[datetime, int]] = {}
    for r in records:
        key = (r.cycle_id or f"step-{r.started_at.isoformat()}", r.object, r.direction)
        began, total = per_cycle.get(key, (r.started_at, 0))
        per_cycle[key] = (min(began, r.started_at), total + r.records)
    values: dict[Series, list[int | None]] = {series: [None] * len(starts) for series in SERIES}
    for (_, object_name, direction), (began, total) in per_cycle.items():
        index = _bucket(began, starts, size)
        row = values.setdefault((object_name, direction), [None] * len(starts))
        if index is not None:
            row[index] = max(row[index] or 0, total)
    return values


def throughput(records: list[StepRecords], starts: list[datetime], size: timedelta) -> dict[str, list[int]]:
    values: dict[str, list[int]] = {name: [0] * len(starts) for name in PULL_ORDER}
    for r in records:
        index = _bucket(r.ended_at or r.started_at, starts, size)
        if index is not None:
            values.setdefault(r.object, [0] * len(starts))[index] += r.records
    return values


def growing(values: list[int | None], run: int = GROWING_RUN) -> bool:
    """Growing when the last `run` buckets a cycle ran in each hold more than the one before."""
    seen = [v for v in values if v is not None][-run:]
    return len(seen) == run and all(b > a for a, b in zip(seen, seen[1:]))


def backlog_picture(store: PersonStore, now: datetime) -> BacklogPicture:
    trend_starts = bucket_starts(now, TREND_BUCKET, TREND_DAYS * 24 // 4)
    hour_starts = bucket_starts(now, timedelta(hours=1), THROUGHPUT_HOURS)
    records = store.history.step_records(since=trend_starts[0])
    recent = [r for r in records if (r.ended_at or r.started_at) >= hour_starts[0]]
    trends = trend(records, trend_starts, TREND_BUCKET)
    waiting_out = store.history.waiting()
    last_pull: dict[str, int] = {}
    last_cycle: dict[str, str | None] = {}
    for r in records:  # oldest first: the last cycle of each object wins
        if r.direction != "pull":
            continue
        if last_cycle.get(r.object) != r.cycle_id:
            last_cycle[r.object], last_pull[r.object] = r.cycle_id, 0
        last_pull[r.object] += r.records
    backlogs = []
    for object_name, direction in SERIES:
        handled = sum(r.records for r in recent if r.object == object_name and r.direction == direction)
        working = [r for r in records if r.object == object_name and r.direction == direction and r.ended_at]
        busy_seconds = sum(max((r.ended_at - r.started_at).total_seconds(), 0.001) for r in working if r.ended_at)
        done = sum(r.records for r in working)
        waiting = (last_pull.get(object_name, 0) if direction == "pull"
                   else waiting_out[object_name].persons if object_name in waiting_out else 0)
        backlogs.append(Backlog(object_name, direction, waiting, handled / THROUGHPUT_HOURS,
                                done / busy_seconds if done else None, growing(trends[(object_name, direction)])))
    return BacklogPicture(backlogs, trends, trend_starts, throughput(recent, hour_starts, timedelta(hours=1)),
                          hour_starts)


def _bucket(moment: datetime, starts: list[datetime], size: timedelta) -> int | None:
    if not starts or moment < starts[0] or moment >= starts[-1] + size:
        return None
    return int((moment - starts[0]) // size)
