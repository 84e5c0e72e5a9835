"""How long one query may examine rows while it holds the org's lock.

Every call runs under the org's one lock, so a query that scans for long would stall every other
caller. Past its budget a query stops with QUERY_TIMEOUT, as Salesforce stops a query that runs
too long, and the lock is free again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from tandem.emulator.model.errors import ApiError

DEFAULT_SECONDS = 10.0
CHECK_EVERY = 256
"""Rows examined between two looks at the clock."""


class QueryTimeout(ApiError):
    error_code = "QUERY_TIMEOUT"

    def __init__(self) -> None:
        super().__init__("Your query request was running for too long.")


@dataclass
class QueryBudget:
    seconds: float = DEFAULT_SECONDS
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)

    def deadline(self) -> Deadline:
        return Deadline(self.clock() + self.seconds, self.clock)


class Deadline:
    def __init__(self, at: float, clock: Callable[[], float]) -> None:
        self.at, self.clock = at, clock

    def check(self) -> None:
        if self.clock() > self.at:
            raise QueryTimeout()
