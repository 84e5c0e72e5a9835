"""`tandem sync` and `tandem person sync` killed with SIGKILL in the middle of their work: the next cycle
and the next action run at once, and the killed cycle's step is closed as Cleaned up. `tandem sync`
asked to stop (SIGTERM, Ctrl-C) finishes its page, says so and exits 0.

The commands talk to the test session's emulator (as a real org, by its login URL), slowed with its
`slow` fault so that they are caught mid-work; the test sees that from the database they share.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable

import pytest

from tandem.emulator.sample_org import CONNECTED_APP, SYNC_USER
from tandem.people.models import StepOperation, StepStatus
from tandem.people.store import PersonStore
from tandem.sync.cycle import SQLITE_PAGE_SIZE

PROMPT_SECONDS = 45.0
"""Far below the wait the old ten-minute lease imposed (60 s, then refused), far above a normal run."""


@pytest.fixture
def cli(tmp_path, base_url, ca_path):
    """`cli(*args)` runs a command to its end; `cli.start(*args)` starts one in the background."""
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": os.environ.get("PYTHONPATH", ""), "COLUMNS": "200", "TANDEM_SF_LOGIN_URL": base_url,
           "TANDEM_SF_CA_BUNDLE": str(ca_path), "TANDEM_SF_CLIENT_ID": CONNECTED_APP.client_id,
           "TANDEM_SF_CLIENT_SECRET": CONNECTED_APP.client_secret, "TANDEM_SF_USERNAME": SYNC_USER.username,
           "TANDEM_SF_PASSWORD": SYNC_USER.password}
    if "PYTHONPATH" in os.environ:
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    command = [sys.executable, "-m", "tandem"]
    started: list[subprocess.Popen] = []

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([*command, *args], cwd=tmp_path, env=env, capture_output=True, text=True,
                              timeout=PROMPT_SECONDS)

    def start(*args: str, output: bool = False) -> subprocess.Popen:
        """The command in the background; with `output`, its stdout and stderr kept for `communicate`."""
        kept = subprocess.PIPE if output else subprocess.DEVNULL
        started.append(subprocess.Popen([*command, *args], cwd=tmp_path, env=env, stdout=kept, stderr=kept,
                                        text=True))
        return started[-1]

    run.start = start  # type: ignore[attr-defined]
    run.env = env  # type: ignore[attr-defined]
    yield run
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.fixture
def faults(http, base_url, reset_emulator):
    """`faults(**settings)` sets the emulator's faults; none are left on after the test."""

    def configure(**settings: float) -> None:
        http.put(f"{base_url}/_emulator/faults", json=settings).raise_for_status()

    yield configure
    configure()


@pytest.fixture
def store(tmp_path):
    """The commands' database, as the test reads it."""
    opened: list[PersonStore] = []

    def open_() -> PersonStore:
        opened.append(PersonStore(f"sqlite:///{tmp_path / 'tandem.db'}"))
        return opened[-1]

    yield open_
    for store in opened:
        store.close()


def wait_until(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the command never got there"
        threading.Event().wait(0.05)


def killed(process: subprocess.Popen) -> None:
    process.kill()  # SIGKILL: no finally, no atexit, nothing let go of by the process itself
    assert process.wait(timeout=10) == -9


def held_elsewhere(store: PersonStore, person_id: int) -> bool:
    with store.locks.claim_free([person_id]) as claim:
        return person_id not in claim.keys


def _cycle_killed_in_a_step(cli, faults, store):
    """A `tandem sync` killed outright while a step is In Process (its calls slowed to hold it there);
    returns the store to look at what it left."""
    db = store()
    faults(slow=1.0, slowSeconds=60)
    cycle = cli.start("sync")
    wait_until(lambda: any(s.status is StepStatus.IN_PROCESS for s in db.steps.recent()))
    killed(cycle)
    faults()
    return db


def test_a_killed_cycle_blocks_neither_an_action_nor_the_next_cycle(cli, faults, store, sf):
    assert cli("init").returncode == 0
    assert cli("person", "add", "email=ada@example.com", "lastName=Lovelace", "company=Engines").returncode == 0
    db = _cycle_killed_in_a_step(cli, faults, store)

    began = time.monotonic()
    action = cli("person", "sync", "ada@example.com", "--json")
    assert action.returncode == 0, action.stderr
    lead_id = json.loads(action.stdout)["sfdcId"]
    after = cli("sync", "--json")
    assert after.returncode == 0, after.stderr
    assert "another sync cycle is running" not in after.stderr
    assert time.monotonic() - began < PROMPT_SECONDS
    assert [r["Id"] for r in sf.query("SELECT Id FROM Lead WHERE Email = 'ada@example.com'")["records"]] == [lead_id]
    statuses = [s.status for s in db.steps.recent()]
    assert StepStatus.IN_PROCESS not in statuses
    assert statuses.count(StepStatus.CLEANED_UP) == 1  # the step the killed cycle left open


def test_status_after_a_killed_cycle_says_it_stopped_not_that_it_runs(cli, faults, store):
    """Before, `tandem status` and its JSON showed the dead cycle's step In Process, as if it still ran."""
    assert cli("init").returncode == 0
    db = _cycle_killed_in_a_step(cli, faults, store)

    status = cli("status", "--json")
    assert status.returncode == 0, status.stderr
    last = json.loads(status.stdout)["lastCycle"]
    assert last["running"] is False
    assert "Stopped" in {s["status"] for s in last["steps"]} and "In Process" not in {s["status"] for s in last["steps"]}
    shown = cli("status")
    assert shown.returncode == 0, shown.stderr
    assert "In Process" not in shown.stdout
    assert "STOPPED: " in shown.stdout and "process ended" in shown.stdout


def test_a_killed_action_blocks_neither_the_next_cycle_nor_a_retry(cli, faults, store, sf):
    assert cli("init").returncode == 0
    assert cli("sync").returncode == 0
    assert cli("person", "add", "email=ada@example.com", "lastName=Lovelace", "company=Engines").returncode == 0
    db = store()
    [ada] = db.persons.find_by_email("ada@example.com")
    faults(slow=1.0, slowSeconds=60)
    action = cli.start("person", "sync", "ada@example.com")
    wait_until(lambda: held_elsewhere(db, ada.id))  # the action holds its person
    killed(action)
    faults()

    began = time.monotonic()
    cycle = cli("sync", "--json")
    assert cycle.returncode == 0, cycle.stderr
    assert "another sync cycle is running" not in cycle.stderr
    retry = cli("person", "sync", "ada@example.com", "--json")
    assert retry.returncode == 0, retry.stderr
    assert time.monotonic() - began < PROMPT_SECONDS
    leads = sf.query("SELECT Id FROM Lead WHERE Email = 'ada@example.com'")["records"]
    assert [r["Id"] for r in leads] == [json.loads(retry.stdout)["sfdcId"]]
    assert db.persons.get(ada.id).link.sfdc_id == leads[0]["Id"]


LOADED_CONTACTS = 24 * SQLITE_PAGE_SIZE
"""24 pages of a pull on SQLite: far more than are applied between a page's commit and the signal."""


def _pulling_contacts(db: PersonStore) -> bool:
    """The Contact pull runs and has committed a page at least."""
    running = any(s.object == "Contact" and s.operation is StepOperation.PULL_UPDATES
                  and s.status is StepStatus.IN_PROCESS for s in db.steps.recent())
    return running and db.persons.count() >= SQLITE_PAGE_SIZE


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_a_cycle_asked_to_stop_finishes_its_page_says_so_and_exits_0(cli, faults, store, http, base_url,
                                                                     stop_signal):
    """Before, SIGTERM ended `tandem sync` in the middle of a page: exit 143, its step left In Process."""
    cli.env["TANDEM_SYNC_COMMIT_LAG_SECONDS"] = "0"  # the test org commits its writes in stamp order
    assert cli("init").returncode == 0
    rows = [{"LastName": f"Stop{i:05d}", "Email": f"stop{i}@stop.example"} for i in range(LOADED_CONTACTS)]
    http.post(f"{base_url}/_emulator/bulk-load", json={"Contact": rows}).raise_for_status()
    db = store()
    faults(slow=1.0, slowSeconds=0.5)
    cycle = cli.start("sync", output=True)
    wait_until(lambda: _pulling_contacts(db))
    cycle.send_signal(stop_signal)
    out, err = cycle.communicate(timeout=PROMPT_SECONDS)
    faults()

    assert cycle.returncode == 0, err
    assert f"STOPPED: {stop_signal.name}: the cycle stopped after the page or batch it was on" in err
    assert "Traceback" not in err
    steps = db.steps.recent()
    assert StepStatus.IN_PROCESS not in {s.status for s in steps}
    [contacts] = [s for s in steps if s.object == "Contact" and s.operation is StepOperation.PULL_UPDATES]
    assert contacts.status is StepStatus.INCOMPLETE and contacts.message == "stopped before the step finished"
    assert "Lead" not in {s.object for s in steps}  # no step starts after the stop
    assert "Incomplete" in out and "stopped before the step finished" in out
    assert db.persons.count() < LOADED_CONTACTS

    after = cli("sync", "--json")  # the next cycle goes on from the last whole page: nothing lost
    assert after.returncode == 0, after.stderr
    assert json.loads(after.stdout)["stoppedBy"] is None
    assert db.persons.count() >= LOADED_CONTACTS
    assert all(len(db.persons.find_by_email(f"stop{i}@stop.example")) == 1 for i in (0, LOADED_CONTACTS - 1))


def test_a_sync_refused_while_tandem_run_cycles_names_tandem_run(cli, faults, store):
    """Before, every command's cycle held the lock as `tandem sync`, so a refused `tandem sync` named
    itself as the one in the way of a `tandem run` the operator had started."""
    assert cli("init").returncode == 0
    db = store()
    faults(slow=1.0, slowSeconds=60)
    run = cli.start("run")
    wait_until(lambda: any(s.status is StepStatus.IN_PROCESS for s in db.steps.recent()))
    refused = cli("sync")
    assert refused.returncode == 1
    assert f"another sync cycle is running (tandem run, pid {run.pid} " in refused.stderr
    killed(run)


def test_a_cycle_killed_while_loading_leaves_the_search_indexes_to_the_next_one(cli, faults, store, http, base_url):
    """A large first pull writes without the persons' search indexes and builds them at its end; killed
    before that end, it leaves them set aside, and the next cycle builds them before it runs."""
    assert cli("init").returncode == 0
    db = store()
    rows = [{"FirstName": f"Load{i}", "LastName": "Killed", "Email": f"load{i}@kill.example"} for i in range(3000)]
    http.post(f"{base_url}/_emulator/bulk-load", json={"Contact": rows}).raise_for_status()
    cli.env.update(TANDEM_SYNC_PULL_BULK_THRESHOLD="100", TANDEM_SYNC_COMMIT_LAG_SECONDS="0")
    faults(slow=1.0, slowSeconds=2)  # every call slowed: the load's answers come seconds apart
    cycle = cli.start("sync")
    wait_until(lambda: db.search_indexes.aside() != [])
    killed(cycle)
    faults()
    assert len(db.search_indexes.aside()) == 3

    after = cli("sync", "--json")
    assert after.returncode == 0, after.stderr
    assert db.search_indexes.aside() == []
    assert db.persons.count() == 3000 + 6
    [found] = db.persons.find_by_email("LOAD2999@kill.example")
    assert found.fields["lastName"] == "Killed"
