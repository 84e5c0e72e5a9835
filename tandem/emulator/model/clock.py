"""The org's clock: SystemModstamp values strictly increasing at millisecond resolution.

Two writes in the same millisecond get consecutive milliseconds, so a replication cursor on
SystemModstamp never sees two changes share a stamp. A late commit (`lagging`) is the exception:
its stamps lie in the past, as those of a long transaction that commits late, and may share a
millisecond with an earlier write.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime

from tandem.emulator.model.records import from_ms, to_ms


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


class StampClock:
    def __init__(self, now_ms: Callable[[], int] = wall_clock_ms) -> None:
        self.now_ms = now_ms
        self.last_ms = 0
        self._lag_ms = 0
        self._last_late_ms = 0

    def next_ms(self, after_ms: int | None = None) -> int:
        """A fresh stamp: now, or one millisecond after the previous stamp if that is later.

        While `lagging`, the stamp is `lag` milliseconds before now instead, yet still after
        `after_ms` (the record's previous stamp: a record's stamp never goes back) and after the
        previous stamp of the same late commit.
        """
        if self._lag_ms:
            stamp = max(self.now_ms() - self._lag_ms, self._last_late_ms + 1, (after_ms or 0) + 1)
            self._last_late_ms = stamp
        else:
            stamp = max(self.now_ms(), self.last_ms + 1)
        self.last_ms = max(self.last_ms, stamp)
        return stamp

    def next(self, after: datetime | None = None) -> datetime:
        return from_ms(self.next_ms(to_ms(after) if after is not None else None))

    @contextmanager
    def lagging(self, lag_ms: int) -> Iterator[None]:
        """Stamps issued inside lie `lag_ms` in the past (the caller holds the org's lock)."""
        self._lag_ms, self._last_late_ms = max(0, int(lag_ms)), 0
        try:
            yield
        finally:
            self._lag_ms = 0

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
