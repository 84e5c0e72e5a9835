"""Continuous sync: a cycle, a pause of the configured interval, another cycle, until stopped.

While the store's pause switch is on (the web UI's Pause sync), no cycle starts; the switch is
looked at again every `PAUSE_CHECK_SECONDS` at most, so Resume sync takes effect soon.

Stopping is cooperative: a stop request ends the running cycle after its current page or batch
(each is committed whole), so SIGTERM never leaves half a page applied.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

from tandem.errors import AuthenticationFailed, CycleBusy, TransientError
from tandem.salesforce.client import REFUSED_LOGIN_PAUSE
from tandem.sync.cycle import CycleReport, SyncEngine

LIMIT_PAUSE = timedelta(hours=1)
LONGEST_BACKOFF = timedelta(minutes=30)
PAUSE_CHECK_SECONDS = 5.0


def pause_after(report: CycleReport | None, interval_seconds: float, failures_in_a_row: int,
                limit_pause: timedelta = LIMIT_PAUSE) -> float:
    """Seconds to rest after a cycle: the interval; an hour after a spent limit or a refused login
    (the client would not log in again before that anyway); after transient failures (unreachable,
    5xx) the interval doubled for each failed cycle in a row, up to half an hour."""
    failure = report.failure if report is not None else None
    if report is not None and report.stopped_by_limit:
        return max(interval_seconds, limit_pause.total_seconds())
    if isinstance(failure, AuthenticationFailed):
        return max(interval_seconds, REFUSED_LOGIN_PAUSE.total_seconds())
    if isinstance(failure, TransientError) and failures_in_a_row > 0:
        longest = max(interval_seconds, LONGEST_BACKOFF.total_seconds())
        return min(interval_seconds * 2 ** failures_in_a_row, longest)
    return interval_seconds


def run_forever(
    engine: SyncEngine,
    interval_seconds: float,
    stop: threading.Event,
    on_report: Callable[[CycleReport | None], None] = lambda report: None,
    limit_pause: timedelta = LIMIT_PAUSE,
    on_paused: Callable[[str], None] = lambda reason: None,
) -> int:
    """Run cycles until `stop` is set; returns how many ran. A spent API limit pauses longer."""
    engine.stop_requested = stop.is_set
    cycles = 0
    failures_in_a_row = 0
    while not stop.is_set():
        pause = engine.store.sync_pause.current()
        if pause is not None:
            on_paused(f"paused by {pause.paused_by} at {pause.paused_at:%Y-%m-%d %H:%M} UTC: {pause.reason}")
            stop.wait(min(interval_seconds, PAUSE_CHECK_SECONDS))
            continue
        try:
            report: CycleReport | None = engine.run_cycle()
            cycles += 1
        except CycleBusy:
            report = None
        on_report(report)
        failures_in_a_row = failures_in_a_row + 1 if report is not None and report.failure is not None else 0
        stop.wait(pause_after(report, interval_seconds, failures_in_a_row, limit_pause))
    return cycles
