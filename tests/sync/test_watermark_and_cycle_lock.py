"""Records that share a SystemModstamp are neither lost nor applied twice; one cycle runs at a time."""

import os
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from tandem.errors import CycleBusy
from tandem.people import activities as types
from tandem.people.models import StepStatus
from tandem.people.store import PersonStore
from tandem.sync.cycle import LockLost, SyncEngine
from tests.sync.conftest import sync_client

def newest_stamp() -> str:
    """A stamp newer than any in the org, to share between loaded records: ties sit right at the watermark."""
    return (datetime.now(UTC) + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def load(http, base_url, rows):
    http.post(f"{base_url}/_emulator/bulk-load", json={"Contact": rows}).raise_for_status()


def contacts(first, count, stamp):
    return [{"LastName": f"Tied{n}", "Email": f"tied{n}@example.com", "SystemModstamp": stamp,
             "CreatedDate": stamp, "LastModifiedDate": stamp} for n in range(first, first + count)]


def test_tied_stamps_across_pages_and_cycles(engine, store, http, base_url):
    tied = newest_stamp()
    load(http, base_url, contacts(0, 2500, tied))
    engine.run_cycle()
    assert store.persons.count() == 2506
    activities_before = len(store.activities.find())
    load(http, base_url, contacts(2500, 1, tied))  # committed late, with the same stamp as the rest
    engine.run_cycle()
    assert store.persons.count() == 2507
    new = store.activities.find(after_id=store.activities.find()[activities_before - 1].id)
    assert [a.activity_type_id for a in new] == [types.NEW_LEAD.id]
    assert len(store.persons.by_sfdc_ids([p.link.sfdc_id for p in store.persons.find_by_email("tied2500@example.com")])) == 1


def test_a_second_engine_is_refused_while_a_live_cycle_holds_the_lock(engine, store, open_second_store):
    other = open_second_store()  # another process, as far as the lock can tell
    held = other.locks.cycle("tandem run")
    with pytest.raises(CycleBusy, match=r"another sync cycle is running \(tandem run, pid \d+ on "):
        engine.run_cycle()
    assert store.persons.count() == 0
    held.release()
    assert engine.run_cycle().succeeded
    released = other.locks.cycle("check")  # the engine let go of it after the cycle
    assert released is not None
    released.release()


def _take_the_lock_away(store):
    """What a lost database session (or a removed lock file) does to a running cycle's lock."""
    if store.url.startswith("sqlite"):
        os.remove(store.url.removeprefix("sqlite:///") + "-cycle.lock")
        return
    engine = sa.create_engine(store.url)
    with engine.begin() as connection:
        connection.exec_driver_sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                                   " WHERE application_name LIKE 'tandem sync, pid %%'"
                                   " AND datname = current_database()")  # this test's own database only
    engine.dispose()


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_a_cycle_that_loses_its_lock_stops_after_the_page_it_is_on(database, request, tmp_path, base_url, ca_path,
                                                                   reset_emulator):
    url = request.getfixturevalue("postgres_url") if database == "postgresql" else f"sqlite:///{tmp_path / 't.db'}"
    store = PersonStore(url)
    store.migrate()
    try:
        engine = SyncEngine(sync_client(base_url, ca_path), store)
        engine.progress = lambda done: _take_the_lock_away(store)
        report = engine.run_cycle()
        assert isinstance(report.failure, LockLost)
        assert [(s.object, s.status) for s in report.steps] == [("All", StepStatus.SUCCEEDED),
                                                                ("Account", StepStatus.FAILED)]
        engine.progress = lambda done: None
        assert engine.run_cycle().succeeded  # the next cycle takes a new lock
    finally:
        store.close()
