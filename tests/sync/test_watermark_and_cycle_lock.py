"""Records that share a SystemModstamp are neither lost nor applied twice; one cycle runs at a time."""

from datetime import UTC, datetime, timedelta

import pytest

from tandem.people import activities as types
from tandem.errors import CycleBusy

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
