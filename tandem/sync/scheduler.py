"""Continuous sync: a cycle, a pause, another cycle, until stopped.

The pause is the policy's interval, longer when there is a reason: the org is quiet (each cycle
that found nothing to do doubles it, up to `idle_interval_max_seconds`; a Tandem change queued
meanwhile, or the first cycle that finds one, brings it back to the interval), quiet hours (no
cycle starts inside them), the API budget's cycle lane spent (until it opens again at midnight
UTC; actions keep running in their own lane), the org's own limit spent or a refused login (an
hour), transient failures (doubling, up to half an hour). A database that goes away (its server
restarted, a SQLite file locked by another program past the busy timeout) stops no one: the loop
says so and looks again, doubling the wait up to five minutes, and the cycle that finds it back
closes the step the outage left open.

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
from tandem.people.database import is_outage, outage_reason
from tandem.salesforce.client import REFUSED_LOGIN_PAUSE
from tandem.sync.budget import BudgetSpent
from tandem.sync.cycle import CycleReport, SyncEngine
from tandem.sync.policy import PERSON_OBJECTS

LIMIT_PAUSE = timedelta(hours=1)
LONGEST_BACKOFF = timedelta(minutes=30)
PAUSE_CHECK_SECONDS = 5.0
OUTAGE_LONGEST = timedelta(minutes=5)
"""The longest wait between looks at a database that went away (a look costs no API call)."""


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


def quiet(report: CycleReport | None) -> bool:
    """A cycle that ran whole and moved nothing either way."""
    if report is None or report.failure is not None or report.budget_stop is not None or report.interrupted:
        return False
    totals = report.record_totals()
    return totals.new + totals.updated + totals.deleted + totals.failed == 0


def idle_interval(interval_seconds: float, quiet_cycles: int, longest_seconds: float) -> float:
    """The polling interval after `quiet_cycles` quiet cycles in a row: doubled each, up to `longest_seconds`."""
    return min(interval_seconds * 2 ** min(quiet_cycles, 30), max(longest_seconds, interval_seconds))


def run_forever(
    engine: SyncEngine,
    interval_seconds: float,
    stop: threading.Event,
    on_report: Callable[[CycleReport | None], None] = lambda report: None,
    limit_pause: timedelta = LIMIT_PAUSE,
    on_wait: Callable[[str], None] = lambda message: None,
    on_paused: Callable[[str], None] = lambda reason: None,
) -> int:
    """Run cycles until `stop` is set; returns how many ran. `on_wait` hears why a longer pause is taken."""
    engine.stop_requested = stop.is_set
    policy = engine.policy
    cycles = 0
    failures_in_a_row = 0
    quiet_cycles = 0
    outages = 0  # database outages in a row
    while not stop.is_set():
        try:
            pause = engine.store.sync_pause.current()
            if pause is not None:
                on_paused(pause.said())
                stop.wait(min(interval_seconds, PAUSE_CHECK_SECONDS))
                continue
            now = engine.clock()
            if policy.quiet_hours is not None and policy.quiet_hours.contains(now):
                until = policy.quiet_hours.ends_after(now)
                on_wait(f"quiet hours: the next cycle starts at {until:%H:%M} UTC")
                stop.wait((until - now).total_seconds())
                continue
            try:
                report: CycleReport | None = engine.run_cycle()
                cycles += 1
                outages = 0
            except CycleBusy:
                report = None
            except BudgetSpent as spent:
                on_wait(f"waiting: {spent}; actions still run")
                stop.wait(max((spent.until - engine.clock()).total_seconds(), 1.0))
                continue
            on_report(report)
            if report is not None and report.budget_stop is not None:
                on_wait(f"waiting: {report.budget_stop}; actions still run")
                stop.wait(max((report.budget_stop.until - engine.clock()).total_seconds(), 1.0))
                continue
            failures_in_a_row = failures_in_a_row + 1 if report is not None and report.failure is not None else 0
            quiet_cycles = quiet_cycles + 1 if quiet(report) else 0
            interval = idle_interval(interval_seconds, quiet_cycles, policy.idle_interval_max_seconds)
            pause = pause_after(report, interval, failures_in_a_row, limit_pause)
            if quiet_cycles and pause == interval and interval > interval_seconds:
                on_wait(f"the org is quiet: next cycle in {interval:g} s (sooner if a change is queued)")
                _rest_until_change(engine, stop, pause, interval_seconds)
            else:
                stop.wait(pause)
        except Exception as error:  # the database went away: wait for it, as for Salesforce
            if not is_outage(error):
                raise
            outages += 1
            wait = min(interval_seconds * 2 ** (outages - 1), max(interval_seconds, OUTAGE_LONGEST.total_seconds()))
            on_wait(f"the database is unavailable ({outage_reason(error)}); trying again in {wait:g} s")
            stop.wait(wait)
    return cycles


def _rest_until_change(engine: SyncEngine, stop: threading.Event, pause: float, interval_seconds: float) -> None:
    """Rest `pause` seconds, looking every interval for a Tandem change a cycle would push (no API
    call): a change of a person in no Salesforce record waits for Sync Person to SFDC, not for a cycle."""
    waited = 0.0
    while waited < pause and not stop.is_set():
        step = min(interval_seconds, pause - waited)
        if stop.wait(step):
            return
        waited += step
        if any(engine.store.outbox.due_persons(kind, max_persons=1) for kind in PERSON_OBJECTS):
            return
