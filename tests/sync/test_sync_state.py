"""What the sync is doing now, as the dashboard tells it: a cycle killed outright is not running."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta

from tandem.people.models import StepCounts, StepOperation, StepStatus
from tandem.people.refused_logins import RefusedLogin
from tandem.people.store import PersonStore
from tandem.salesforce.client import REFUSED_LOGIN_PAUSE
from tandem.sync.sync_state import FAILING, RUNNING, WAITING, running_step, sync_state

CYCLE = """
import sys
from tandem.people.models import StepOperation
from tandem.people.store import PersonStore
store = PersonStore(sys.argv[1])
cycle = store.locks.cycle("tandem sync")
store.steps.start("Contact", StepOperation.PULL_UPDATES, cycle_id="killed")
print("running" if cycle is not None else "refused", flush=True)
sys.stdin.read()
"""


def test_a_cycle_killed_in_a_step_is_not_shown_running(database_url):
    store = PersonStore(database_url)
    store.migrate()
    cycle = subprocess.Popen([sys.executable, "-c", CYCLE, database_url], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             text=True, env={**os.environ})
    try:
        assert cycle.stdout.readline().strip() == "running"
        now = datetime.now(UTC)
        state = sync_state(store, now, 300)
        assert state.kind == RUNNING and state.reason.startswith("Contact: pull updates (tandem sync, pid ")
        assert running_step(store).object == "Contact"
        cycle.send_signal(signal.SIGKILL)
        cycle.wait(timeout=10)
        state = sync_state(store, now, 300)
        assert state.kind == WAITING
        assert "stopped during Contact: pull updates without finishing" in state.reason
        assert running_step(store) is None
        assert store.history.running() is not None  # the step stays as it was until the next cycle closes it
    finally:
        if cycle.poll() is None:
            cycle.kill()
            cycle.wait()
        store.close()


def test_a_refused_login_is_shown_failing_until_it_may_be_tried_again(database_url):
    store = PersonStore(database_url)
    store.migrate()
    try:
        began = datetime.now(UTC) - timedelta(minutes=3)
        step = store.steps.start("All", StepOperation.SYNC_SCHEMA, cycle_id="refused", now=began)
        store.steps.finish(step.id, StepStatus.FAILED, StepCounts(), message="login refused",
                           now=began + timedelta(seconds=1))
        store.refused_logins.keep(RefusedLogin(began, "00", "ff", "invalid_grant", "authentication failure"))
        state = sync_state(store, began + timedelta(minutes=3), 300)
        assert state.kind == FAILING
        assert state.until == began + REFUSED_LOGIN_PAUSE
        store.refused_logins.forget()  # a login that worked since: the cycle interval again
        assert sync_state(store, began + timedelta(minutes=3), 300).until == began + timedelta(seconds=301)
    finally:
        store.close()


def _cycle(store: PersonStore, cycle_id: str, ended: datetime, updated: int = 0) -> None:
    for object_name, operation, counts in (("All", StepOperation.SYNC_SCHEMA, StepCounts(new=5)),
                                           ("Contact", StepOperation.PULL_UPDATES, StepCounts(updated=updated)),
                                           ("Contact", StepOperation.PUSH_UPDATES, StepCounts())):
        step = store.steps.start(object_name, operation, cycle_id=cycle_id, now=ended - timedelta(seconds=5))
        store.steps.finish(step.id, StepStatus.SUCCEEDED, counts, now=ended)


def test_a_quiet_org_is_waited_for_as_long_as_tandem_run_rests_not_reported_missing(database_url):
    store = PersonStore(database_url)
    store.migrate()
    try:
        now = datetime.now(UTC)
        ended = now - timedelta(minutes=15)
        _cycle(store, "busy", ended - timedelta(minutes=25), updated=3)
        for number, back in enumerate((15, 5, 0)):  # quiet cycles: run rests 600 s, 1200 s, then 2400 s
            _cycle(store, f"quiet-{number}", ended - timedelta(minutes=back))
        state = sync_state(store, now, 300)  # the policy's default longest rest: 8 intervals
        assert state.kind == WAITING and "is `tandem run` running?" not in state.reason
        assert state.until == ended + timedelta(seconds=2400)
        assert sync_state(store, now, 300, 1200).until == ended + timedelta(seconds=1200)
        assert "is `tandem run` running?" in sync_state(store, now + timedelta(minutes=40), 300, 2400).reason

        _cycle(store, "busy-again", now - timedelta(minutes=1), updated=1)
        assert sync_state(store, now, 300, 2400).until == now - timedelta(minutes=1) + timedelta(seconds=300)
    finally:
        store.close()
