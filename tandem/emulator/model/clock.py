"""The org's clock: SystemModstamp values strictly increasing at millisecond resolution.

Two writes in the same millisecond get consecutive milliseconds, so a replication cursor on
SystemModstamp never sees two changes share a stamp.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

from tandem.emulator.model.records import from_ms


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


class StampClock:
    def __init__(self, now_ms: Callable[[], int] = wall_clock_ms) -> None:
        self.now_ms = now_ms
        self.last_ms = 0

    def next_ms(self) -> int:
        """A fresh stamp: now, or one millisecond after the previous stamp if that is later."""
        stamp = max(self.now_ms(), self.last_ms + 1)
        self.last_ms = stamp
        return stamp

    def next(self) -> datetime:
        return from_ms(self.next_ms())

    def reserve(self, count: int) -> int:
        """First of `count` consecutive stamps ending no later than now when possible (bulk loads)."""
        first = max(self.last_ms + 1, self.now_ms() - count + 1)
        self.last_ms = first + count - 1
        return first

    def observe(self, stamp_ms: int) -> None:
        """Keep later stamps after one that came from outside (seeded or restored records)."""
        self.last_ms = max(self.last_ms, stamp_ms)

    def now(self) -> datetime:
        return from_ms(self.now_ms())
