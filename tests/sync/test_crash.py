"""A cycle killed at any point, then run again, loses nothing and duplicates nothing.

A `Crash` is raised from a wrapped store or client method at a chosen call, before or after the
real call runs; it is not a TandemError, so no step of the cycle absorbs it and the cycle dies
where it stands, as a killed process would (what the dead process had committed stays, the rest
of its transaction rolls back). Then the fault is removed and cycles run again: both sides must
hold the same values, one person per Salesforce record, every Tandem edit made before the crash
in Salesforce (unless Salesforce changed the same field: then the conflict rule applies), and
no activity written twice for one change.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest

from tandem.people import activities as types
from tandem.people.models import StepStatus
from tandem.people.origin import ChangeOrigin
from tandem.sync.cycle import SyncEngine
from tests.sync.conftest import sync_client
from tests.sync.observe import CONFLICT, SYNCED, activities_of, person

CLI = ChangeOrigin.CLI
BULK = 4500  # with the sample org's 4 contacts: several pages (1,000 records each on SQLite, 2,000 on PostgreSQL), the last one short
SF_FIELDS = {"title": "Title", "phone": "Phone", "Favorite_Color__c": "Favorite_Color__c",
             "email": "Email", "lastName": "LastName"}


class Crash(Exception):
    """The process dies here (deliberately not a TandemError)."""


@dataclass
class Fault:
    """Raise `Crash` at the `nth` call of `target.method` whose arguments `match`, before or after it runs."""

    target: Any
    method: str
    nth: int = 1
    after: bool = False
    match: Callable[..., bool] = lambda *args, **kwargs: True
    seen: int = 0
    fired: bool = False


@contextmanager
def injected(*faults: Fault) -> Iterator[None]:
    for fault in faults:
        real = getattr(fault.target, fault.method)

        def wrapper(*args: Any, _fault: Fault = fault, _real: Callable = real, **kwargs: Any) -> Any:
            hit = False
            if not _fault.fired and _fault.match(*args, **kwargs):
                _fault.seen += 1
                hit = _fault.seen == _fault.nth
            if hit and not _fault.after:
                _fault.fired = True
                raise Crash(f"before {_fault.method} call {_fault.nth}")
            result = _real(*args, **kwargs)
            if hit:
                _fault.fired = True
                raise Crash(f"after {_fault.method} call {_fault.nth}")
            return result

        setattr(fault.target, fault.method, wrapper)
    try:
        yield
    finally:
        for fault in faults:
            vars(fault.target).pop(fault.method, None)


def crash_cycle(engine: SyncEngine, *faults: Fault) -> None:
    with injected(*faults), pytest.raises(Crash):
        engine.run_cycle()
    assert any(f.fired for f in faults)


def bulk_load(http, base_url: str, count: int) -> None:
    rows = [{"FirstName": f"Bulk{i}", "LastName": "Loaded", "Email": f"bulk{i}@load.example", "Title": "Clerk"}
            for i in range(count)]
    http.post(f"{base_url}/_emulator/bulk-load", json={"Contact": rows}).raise_for_status()


def salesforce_rows(sf) -> dict[str, dict[str, Any]]:
    found = {}
    for object_name in ("Contact", "Lead"):
        soql = f"SELECT Id, {', '.join(SF_FIELDS.values())} FROM {object_name}"
        for row in sf.query_all(soql)["records"]:
            found[row["Id"]] = row
    return found


def assert_converged(store, sf) -> None:
    """Both sides equal on the checked fields, one person per record, nothing left queued or in flight."""
    on_sf = salesforce_rows(sf)
    persons = store.persons.by_sfdc_ids(list(on_sf))
    assert set(persons) == set(on_sf)
    assert store.persons.count() == len(on_sf)
    for sfdc_id, row in on_sf.items():
        fields = persons[sfdc_id].fields
        for name, sf_name in SF_FIELDS.items():
            assert (fields[name] or None) == (row[sf_name] or None), f"{sfdc_id} {name}"
    assert store.outbox.find() == []
    steps = store.steps.recent()
    assert all(s.status is not StepStatus.IN_PROCESS for s in steps)


def assert_no_duplicate_activities(store) -> None:
    new_leads = Counter(a.person_id for a in store.activities.find(type_ids=[types.NEW_LEAD.id]))
    assert set(new_leads.values()) == {1} and len(new_leads) == store.persons.count()
    from_salesforce = Counter(
        (a.person_id, a.attribute("Field"), str(a.attribute("Old Value")), str(a.attribute("New Value")))
        for a in store.activities.find(type_ids=[types.CHANGE_DATA_VALUE.id])
        if a.attribute("Source") == ChangeOrigin.SALESFORCE
    )
    assert not [key for key, times in from_salesforce.items() if times > 1]
    conflicts = Counter((a.person_id, a.attribute("Field"))
                        for a in store.activities.find(type_ids=[CONFLICT.id]))
    assert not [key for key, times in conflicts.items() if times > 1]


def finish(engine: SyncEngine, store, sf) -> None:
    """Cycles after the crash: the first finishes the work, the second finds nothing to do."""
    free = store.locks.cycle("check")  # the dying cycle still let go of its lock
    assert free is not None
    free.release()
    report = engine.run_cycle()
    assert report.succeeded, report.steps
    quiet = engine.run_cycle()
    assert all(s.counts.new == s.counts.updated == 0 for s in quiet.steps), quiet.steps
    assert_converged(store, sf)
    assert_no_duplicate_activities(store)


# -- pulls ---------------------------------------------------------------------------------------

def contact_page(object_name: str, *args: Any, **kwargs: Any) -> bool:
    return object_name == "Contact"


def contact_watermark(object_name: str, stream: str, *args: Any, **kwargs: Any) -> bool:
    return object_name == "Contact" and stream == "pull"


PULL_CRASHES = {
    "after page 1 is stored": lambda e: Fault(e.workspace, "apply_page", nth=1, after=True, match=contact_page),
    "after page 2 is stored": lambda e: Fault(e.workspace, "apply_page", nth=2, after=True, match=contact_page),
    "before page 2's watermark is written": lambda e: Fault(e.store.watermarks, "set", nth=2, match=contact_watermark),
    "while page 2's persons are inserted": lambda e: Fault(e.store.persons, "add_linked", nth=2, after=True),
}


@pytest.mark.parametrize("where", list(PULL_CRASHES))
def test_initial_pull_killed_midway_resumes_without_duplicates(where, engine, store, sf, http, base_url):
    bulk_load(http, base_url, BULK)
    crash_cycle(engine, PULL_CRASHES[where](engine))
    committed = store.persons.count()
    assert committed in (engine.pull_page_size, 2 * engine.pull_page_size)  # whole pages only
    finish(engine, store, sf)
    assert store.persons.count() == BULK + 6


def test_pull_killed_while_reading_page_3_keeps_pages_1_and_2(engine, store, sf, http, base_url):
    bulk_load(http, base_url, BULK)
    client = engine.client
    real_pages = client.query_pages

    def dying_pages(soql: str, **kwargs: Any) -> Iterator[list[dict[str, Any]]]:
        rows = (row for answer in real_pages(soql, **kwargs) for row in answer)
        for number, row in enumerate(rows):
            if "FROM Contact" in soql and number == 2 * engine.pull_page_size + 100:
                raise Crash("connection lost in page 3")
            yield [row]

    client.query_pages = dying_pages
    with pytest.raises(Crash):
        engine.run_cycle()
    del client.query_pages
    assert store.persons.count() == 2 * engine.pull_page_size
    finish(engine, store, sf)


# -- between steps ---------------------------------------------------------------------------------

@pytest.mark.parametrize("step", [1, 2, 3, 4, 5])
def test_cycle_killed_between_steps(step, engine, store, sf):
    engine.run_cycle()
    edits = tandem_edits(store)
    salesforce_edit(sf)
    crash_cycle(engine, Fault(engine.store.steps, "start", nth=step))
    finish(engine, store, sf)
    assert_edits_landed(store, sf, edits)


# -- pushes ------------------------------------------------------------------------------------------

def tandem_edits(store) -> dict[str, dict[str, Any]]:
    """One Tandem edit on each sample contact and lead; returns them by email."""
    edits = {
        "wile@acme.example": {"title": "Genius", "Favorite_Color__c": "Blue"},
        "hank@globex.example": {"phone": "+1 555 0177"},
        "peter@initech.example": {"title": "Lead Programmer"},
        "samir@initech.example": {"Favorite_Color__c": "Green"},
        "lisa@springfield.example": {"title": "Student"},
        "milton@initech.example": {"title": "Collator"},
    }
    for email, changes in edits.items():
        store.persons.update(person(store, email).id, changes, origin=CLI)
    return edits


def salesforce_edit(sf) -> None:
    """A Salesforce edit of a field Tandem did not touch."""
    [row] = sf.query("SELECT Id FROM Contact WHERE Email = 'samir@initech.example'")["records"]
    sf.Contact.update(row["Id"], {"Title": "Senior Programmer"})


def assert_edits_landed(store, sf, edits: dict[str, dict[str, Any]]) -> None:
    rows = {row["Email"]: row for row in salesforce_rows(sf).values()}
    for email, changes in edits.items():
        for name, value in changes.items():
            assert rows[email][SF_FIELDS[name]] == value, (email, name)
        assert len(activities_of(store, person(store, email).id, SYNCED)) <= 1
    assert rows["samir@initech.example"]["Title"] == "Senior Programmer"


def pushing(object_name: str, *args: Any, **kwargs: Any) -> bool:
    return object_name == "Contact"


def synced_activity(entries, *args: Any, **kwargs: Any) -> bool:
    return any(kind is SYNCED for _, kind, _, _ in entries)


PUSH_CRASHES = {
    "after the attempt is marked": lambda e: Fault(e.store.outbox, "mark_attempt", after=True),
    "after Salesforce took the batch": lambda e: Fault(e.client, "update_records", after=True, match=pushing),
    "in the middle of settling": lambda e: Fault(e.store.activities, "log_many", nth=2, after=True, match=synced_activity),
    "after the Contact batch is settled": lambda e: Fault(e.store.outbox, "mark_attempt", nth=2),
}


@pytest.mark.parametrize("where", list(PUSH_CRASHES))
def test_push_killed_midway_loses_no_change(where, engine, store, sf):
    engine.run_cycle()
    edits = tandem_edits(store)
    salesforce_edit(sf)
    crash_cycle(engine, PUSH_CRASHES[where](engine))
    finish(engine, store, sf)
    assert_edits_landed(store, sf, edits)


@pytest.mark.parametrize("where", ["after the attempt is marked", "after Salesforce took the batch"])
def test_salesforce_edit_of_an_in_flight_field_follows_the_conflict_rule(where, engine, store, sf):
    engine.run_cycle()
    tandem_edits(store)
    crash_cycle(engine, PUSH_CRASHES[where](engine))
    wile = sf.query("SELECT Id FROM Contact WHERE Email = 'wile@acme.example'")["records"][0]["Id"]
    milton = sf.query("SELECT Id FROM Lead WHERE Email = 'milton@initech.example'")["records"][0]["Id"]
    sf.Contact.update(wile, {"Title": "Road Runner Hunter"})
    sf.Lead.update(milton, {"Title": "Stapler Keeper"})
    finish(engine, store, sf)
    assert sf.Contact.get(wile)["Title"] == "Road Runner Hunter"  # Contact: Salesforce wins
    assert sf.Lead.get(milton)["Title"] == "Collator"  # Lead: Tandem wins
    assert sf.Contact.get(wile)["Favorite_Color__c"] == "Blue"  # the other in-flight field still lands
    for email, lost in (("wile@acme.example", "Genius"), ("milton@initech.example", "Stapler Keeper")):
        [conflict] = activities_of(store, person(store, email).id, CONFLICT)
        assert conflict.attribute("Lost Value") == lost


def test_tandem_edit_after_the_crash_wins_over_the_in_flight_value(engine, store, sf):
    engine.run_cycle()
    tandem_edits(store)
    crash_cycle(engine, PUSH_CRASHES["after Salesforce took the batch"](engine))
    wile = person(store, "wile@acme.example")
    store.persons.update(wile.id, {"title": "Super Genius"}, origin=CLI)
    finish(engine, store, sf)
    [row] = sf.query("SELECT Title FROM Contact WHERE Email = 'wile@acme.example'")["records"]
    assert row["Title"] == "Super Genius"


def test_push_of_two_batches_killed_between_them(engine, store, sf, http, base_url):
    bulk_load(http, base_url, 300)
    engine.run_cycle()
    bulk = [p for p in store.persons.by_sfdc_ids(list(salesforce_rows(sf))).values()
            if p.fields["lastName"] == "Loaded"]
    store.persons.update_many([(p.id, {"title": f"Clerk {p.id}"}) for p in bulk], origin=CLI)
    crash_cycle(engine, Fault(engine.store.outbox, "mark_attempt", nth=2))
    finish(engine, store, sf)
    synced = Counter(a.person_id for a in store.activities.find(type_ids=[SYNCED.id]))
    assert set(synced) == {p.id for p in bulk} and set(synced.values()) == {1}


@pytest.fixture
def postgres_engine(base_url, ca_path, reset_emulator, postgres_url):
    from tandem.people.store import PersonStore

    store = PersonStore(postgres_url)
    store.migrate()
    yield SyncEngine(sync_client(base_url, ca_path), store)
    store.close()


@pytest.mark.parametrize("on", ["sqlite", "postgresql"])
def test_a_pull_killed_midway_keeps_the_counts_of_the_pages_it_applied(on, request, http, base_url, sf):
    """Before, the killed step was closed as Cleaned up with 0 new: the history hid the persons its
    committed pages had created, and the cycles' counts added up to less than the org held."""
    engine = request.getfixturevalue("engine" if on == "sqlite" else "postgres_engine")
    store = engine.store
    bulk_load(http, base_url, BULK)
    crash_cycle(engine, Fault(engine.workspace, "apply_page", nth=2, after=True, match=contact_page))
    assert store.persons.count() == 2 * engine.pull_page_size
    finish(engine, store, sf)
    pulls = [s for s in store.steps.recent() if s.object == "Contact" and s.operation.value == "pull updates"]
    killed = [s for s in pulls if s.status is StepStatus.CLEANED_UP]
    assert len(killed) == 1 and killed[0].counts.new == 2 * engine.pull_page_size
    assert sum(s.counts.new for s in pulls) == BULK + 4
