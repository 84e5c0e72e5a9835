"""The store's locks: one cycle at a time, claims on persons, and a holder killed outright blocks nothing.

Each test runs on a SQLite file, an in-memory SQLite database (one process: a second store object
on it is the same database) and PostgreSQL. A second `PersonStore` on the same database stands for
another process; the kill tests use a real one.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from tandem.errors import PersonBusy
from tandem.people.locks import PAGE
from tandem.people.store import PersonStore

HOLDER = """
import sys
from tandem.people.store import PersonStore
store = PersonStore(sys.argv[1])
cycle = store.locks.cycle("killed holder")
claim = store.locks.claim([5, 7], wait=5)
print("held" if cycle is not None else "refused", flush=True)
sys.stdin.read()
"""


@pytest.fixture(params=["sqlite", "memory", "postgresql"])
def stores(request, tmp_path):
    """`stores()` → a store on the test's database; each call another one on the same database."""
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres_url")
    else:
        url = f"sqlite:///{tmp_path / 'tandem.db'}"
    opened: list[PersonStore] = []
    shared = PersonStore("sqlite://") if request.param == "memory" else None

    def open_() -> PersonStore:
        if shared is not None:
            return shared
        opened.append(PersonStore(url))
        return opened[-1]

    open_.url = url if shared is None else None  # type: ignore[attr-defined]
    yield open_
    for store in opened + ([shared] if shared else []):
        store.close()


def test_one_cycle_lock_at_a_time_naming_its_holder(stores):
    first, second = stores(), stores()
    held = first.locks.cycle("tandem run")
    assert held is not None and held.held()
    assert second.locks.cycle("tandem sync") is None
    assert second.locks.cycle_holder().startswith(f"tandem run, pid {os.getpid()} on ")
    held.release()
    assert not held.held()
    again = second.locks.cycle("tandem sync")
    assert again is not None
    again.release()


def test_a_claim_waits_for_its_holder_and_gives_up_after_the_wait(stores):
    first, second = stores(), stores()
    claim = first.locks.claim([3, 1], wait=1)
    assert claim.keys == {1, 3}
    began = time.monotonic()
    with pytest.raises(PersonBusy, match="person 1, 2"):
        second.locks.claim([2, 1], wait=0.2)
    assert 0.2 <= time.monotonic() - began < 5
    assert second.locks.claim_free([2]).keys == {2}  # the failed claim kept nothing
    threading.Thread(target=claim.release).start()
    with second.locks.claim([1, 3, PAGE], wait=10) as taken:
        assert taken.keys == {1, 3, PAGE}
        assert first.locks.claim_free([1, 4, PAGE]).keys == {4}


def test_claim_free_takes_only_what_no_one_holds(stores):
    first, second = stores(), stores()
    with first.locks.claim([2], wait=1):
        free = second.locks.claim_free([1, 2, 3])
        assert free.keys == {1, 3}
        free.release()
        assert second.locks.claim_free([]).keys == frozenset()


@pytest.mark.parametrize("stores", ["sqlite", "postgresql"], indirect=True)  # in memory, it dies with its process
def test_a_holder_killed_outright_blocks_nothing(stores):
    url = stores.url
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, url], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True, env={**os.environ})
    try:
        assert holder.stdout.readline().strip() == "held"
        store = stores()
        assert store.locks.cycle("next") is None
        assert store.locks.cycle_holder().startswith("killed holder, pid ")
        assert store.locks.claim_free([5, 6, 7]).keys == {6}
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=10)
        # what the dead holder wrote names no one; PostgreSQL lets a dead client's locks go once its
        # server process has seen the connection close, a moment after the kill
        deadline = time.monotonic() + 10
        while store.locks.cycle_holder() is not None:
            assert time.monotonic() < deadline, "the killed holder's lock was never let go"
            threading.Event().wait(0.02)
        began = time.monotonic()
        with store.locks.claim([5, 7], wait=5) as claim:
            assert claim.keys == {5, 7}
        cycle = store.locks.cycle("next")
        assert cycle is not None and cycle.held()
        cycle.release()
        assert time.monotonic() - began < 2
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()


def test_looking_at_the_cycle_lock_never_keeps_a_cycle_from_taking_it(stores):
    """Dashboards ask who holds the cycle's lock all the time; a cycle starting meanwhile still gets it."""
    first, second = stores(), stores()
    looking, seen = threading.Event(), []

    def look() -> None:
        while not looking.is_set():
            seen.append(second.locks.cycle_holder())

    watcher = threading.Thread(target=look)
    watcher.start()
    try:
        taken, deadline = 0, time.monotonic() + 30
        # at least 200 times, and on until the watcher has looked meanwhile (a busy machine may
        # schedule it late)
        while taken < 200 or len(seen) <= 10 and time.monotonic() < deadline:
            held = first.locks.cycle("tandem run")
            assert held is not None
            held.release()
            taken += 1
    finally:
        looking.set()
        watcher.join()
    assert len(seen) > 10  # it looked while the cycle was taken and let go


def test_a_cycle_in_another_database_on_the_same_server_is_not_this_ones(tmp_path):
    """Two installations on one PostgreSQL server: each database has its own cycle lock and holder."""
    from tests.postgres import postgres_database

    first_db, second_db = postgres_database(), postgres_database()
    first, second = PersonStore(next(first_db)), PersonStore(next(second_db))
    try:
        held = first.locks.cycle("tandem run elsewhere")
        assert held is not None
        assert second.locks.cycle_holder() is None
        ours = second.locks.cycle("tandem sync")
        assert ours is not None
        assert second.locks.cycle_holder().startswith(f"tandem sync, pid {os.getpid()} on ")
        ours.release()
        held.release()
    finally:
        first.close()
        second.close()
        for database in (first_db, second_db):
            next(database, None)


def test_holding_many_claims_keeps_each_new_one_cheap(tmp_path):
    """A push holds thousands of persons at once. With every claimed key in one lock file, each new key
    walked the kernel's list of the keys held before it: 20,000 keys took about 5 s of CPU; spread over
    the claim files they take a tenth of that (the bound leaves room for a busy machine)."""
    store = PersonStore(f"sqlite:///{tmp_path / 'tandem.db'}")
    try:
        keys = list(range(7, 7 + 5 * 20_000, 5))  # scattered ids, as a push's due persons are
        started = time.process_time()
        claim = store.locks.claim_free(keys)
        took = time.process_time() - started
        assert claim.keys == set(keys)
        claim.release()
        assert store.locks.claim_free(keys[:3]).keys == set(keys[:3])
    finally:
        store.close()
    assert took < 2.0, f"claiming 20,000 keys took {took:.1f} s of CPU"
