"""Records that share a SystemModstamp are neither lost nor applied twice; one cycle runs at a time."""

from datetime import UTC, datetime, timedelta

import pytest

from tandem.people import activities as types
from tandem.errors import CycleBusy
from tandem.sync.cycle import LEASE_NAME, SyncEngine
from tests.sync.conftest import sync_client

# The newest stamp in the org, shared by every loaded record: ties sit right at the watermark.
TIED = (datetime.now(UTC) + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def load(http, base_url, rows):
    http.post(f"{base_url}/_emulator/bulk-load", json={"Contact": rows}).raise_for_status()


def contacts(first, count):
    return [{"LastName": f"Tied{n}", "Email": f"tied{n}@example.com", "SystemModstamp": TIED,
             "CreatedDate": TIED, "LastModifiedDate": TIED} for n in range(first, first + count)]


def test_tied_stamps_across_pages_and_cycles(engine, store, http, base_url):
    load(http, base_url, contacts(0, 2500))
    engine.run_cycle()
    assert store.persons.count() == 2506
    activities_before = len(store.activities.find())
    load(http, base_url, contacts(2500, 1))  # committed late, with the same stamp as the rest
    engine.run_cycle()
    assert store.persons.count() == 2507
    new = store.activities.find(after_id=store.activities.find()[activities_before - 1].id)
    assert [a.activity_type_id for a in new] == [types.NEW_LEAD.id]
    assert len(store.persons.by_sfdc_ids([p.link.sfdc_id for p in store.persons.find_by_email("tied2500@example.com")])) == 1


def test_a_second_engine_waits_for_the_lease(engine, store, base_url, ca_path):
    other = SyncEngine(sync_client(base_url, ca_path), store, owner="other-process")
    assert store.leases.acquire(LEASE_NAME, "other-process", timedelta(minutes=10))
    with pytest.raises(CycleBusy):
        engine.run_cycle()
    assert store.persons.count() == 0
    store.leases.release(LEASE_NAME, "other-process")
    assert engine.run_cycle().succeeded
    assert other.store.leases.get(LEASE_NAME) is None  # released after the cycle


def test_an_expired_lease_is_taken_over(store, base_url, ca_path, reset_emulator):
    later = datetime.now(UTC) + timedelta(minutes=11)
    store.leases.acquire(LEASE_NAME, "crashed-process", timedelta(minutes=10))
    engine = SyncEngine(sync_client(base_url, ca_path), store, clock=lambda: later)
    assert engine.run_cycle().succeeded
    assert store.persons.count() == 6
