"""The dashboard's backlog figures from step records: buckets, trend, throughput, Growing/Normal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tandem.people.sync_history import StepRecords
from tandem.sync.backlog import Backlog, bucket_starts, growing, throughput, trend

NOW = datetime(2026, 11, 30, 13, 30, tzinfo=UTC)
FOUR_HOURS = timedelta(hours=4)


def records(cycle: str, at: datetime, object_name: str, direction: str, n: int, seconds: float = 10) -> StepRecords:
    return StepRecords(cycle, object_name, direction, at, at + timedelta(seconds=seconds), n)


def test_buckets_end_with_the_one_holding_now_aligned_on_midnight():
    starts = bucket_starts(NOW, FOUR_HOURS, 30)
    assert len(starts) == 30 and starts[-1] == datetime(2026, 11, 30, 12, tzinfo=UTC)
    assert starts[0] == starts[-1] - 29 * FOUR_HOURS


def test_the_trend_keeps_the_most_one_cycle_found_waiting_per_bucket():
    starts = bucket_starts(NOW, FOUR_HOURS, 30)
    at = starts[-1] + timedelta(minutes=5)
    steps = [records("c1", at, "Lead", "pull", 7), records("c1", at, "Lead", "pull", 3),  # updates + deletes
             records("c2", at + timedelta(minutes=5), "Lead", "pull", 4),
             records("c3", starts[-2], "Lead", "push", 2),
             records("old", starts[0] - timedelta(minutes=1), "Lead", "pull", 99)]  # before the window
    values = trend(steps, starts, FOUR_HOURS)
    assert values[("Lead", "pull")][-1] == 10 and values[("Lead", "pull")][:-1] == [None] * 29
    assert values[("Lead", "push")][-2] == 2
    assert values[("Contact", "pull")] == [None] * 30


def test_throughput_counts_records_per_hour_per_object():
    starts = bucket_starts(NOW, timedelta(hours=1), 24)
    steps = [records("c1", NOW - timedelta(minutes=20), "Contact", "pull", 5),
             records("c1", NOW - timedelta(minutes=19), "Contact", "push", 2),
             records("c0", NOW - timedelta(hours=2), "Account", "pull", 1)]
    values = throughput(steps, starts, timedelta(hours=1))
    assert values["Contact"][-1] == 7 and values["Account"][-3] == 1 and sum(values["Lead"]) == 0


def test_growing_needs_three_buckets_in_a_row_each_above_the_last():
    assert growing([1, None, 2, None, 3])
    assert not growing([1, 2, 2]) and not growing([3, 2, 4]) and not growing([None, 1, 2])


def test_the_time_to_clear_is_at_the_pace_the_steps_worked():
    assert Backlog("Lead", "push", 0, 0.0, None, False).clears_in == timedelta(0)
    assert Backlog("Lead", "push", 600, 1.0, 2.0, False).clears_in == timedelta(minutes=5)
    assert Backlog("Lead", "push", 5, 0.0, None, False).clears_in is None
