"""Continuous sync: a cycle, a pause of the configured interval, another cycle, until stopped.

Stopping is cooperative: a stop request ends the running cycle after its current page or batch
(each is committed whole), so SIGTERM never leaves half a page applied.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

from tandem.errors import CycleBusy
from tandem.sync.cycle import CycleReport, SyncEngine

LIMIT_PAUSE = timedelta(hours=1)


def run_forever(
    engine: SyncEngine,
    interval_seconds: float,
    stop: threading.Event,
    on_report: Callable[[CycleReport | None], None] = lambda report: None,
    limit_pause: timedelta = LIMIT_PAUSE,
) -> int:
    """Run cycles until `stop` is set; returns how many ran. A spent API limit pauses longer."""
    engine.stop_requested = stop.is_set
    cycles = 0
    while not stop.is_set():
        try:
            report: CycleReport | None = engine.run_cycle()
            cycles += 1
        except CycleBusy:
            report = None
        on_report(report)
        pause = interval_seconds
        if report is not None and report.stopped_by_limit:
            pause = max(interval_seconds, limit_pause.total_seconds())
        stop.wait(pause)
    return cycles
