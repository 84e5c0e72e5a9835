"""A Tandem edit landing while the pull decides a page is never swapped with Salesforce's value.

The pull used to plan a page on persons, bases and pending changes read outside the transaction
that wrote it: an edit landing in between was overwritten on the person by Salesforce's value,
yet stayed pending and was pushed, so each side ended with the other's value, with no conflict
logged. Here another writer (a second store, as another process) edits the person right after
the planner has read it; both sides must end with the same value.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

import tandem.sync.pull as pulling
from tandem.people.origin import ChangeOrigin
from tandem.people.store import PersonStore
from tandem.sync.cycle import SyncEngine
from tandem.sync.policy import parse_policy
from tandem.sync.pull import FetchSettings
from tests.sync.conftest import sync_client
from tests.sync.observe import person
from tests.sync.test_network import _Inline


@pytest.fixture
def shared_store(database_url) -> Iterator[PersonStore]:
    store = PersonStore(database_url)
    store.migrate()
    yield store
    store.close()


@pytest.fixture
def shared_engine(base_url, ca_path, reset_emulator, shared_store) -> SyncEngine:
    return SyncEngine(sync_client(base_url, ca_path), shared_store)


def _edit_after_the_planner_reads(engine: SyncEngine, edit) -> list[threading.Thread]:
    """Run `edit` on another thread as soon as the pull has read a page's state, and give it a moment
    to land (it may wait for the page's transaction instead, which is the point)."""
    workspace = engine.workspace
    real = workspace.field_state
    started: list[threading.Thread] = []

    def field_state(*args, **kwargs):
        state = real(*args, **kwargs)
        if not started:
            thread = threading.Thread(target=edit)
            started.append(thread)
            thread.start()
            thread.join(timeout=1.0)
        return state

    workspace.field_state = field_state
    return started


def _cycles_with_an_edit_meanwhile(engine: SyncEngine, database_url: str, person_id: int) -> None:
    """A cycle during whose first page another process's store edits the person's title, then two more
    cycles to carry whatever each side still owes the other."""
    other = PersonStore(database_url)
    try:
        threads = _edit_after_the_planner_reads(engine, lambda: other.persons.update(
            person_id, {"title": "Marketing Title"}, origin=ChangeOrigin.API))
        assert engine.run_cycle().succeeded
        for thread in threads:
            thread.join()
        vars(engine.workspace).pop("field_state")
        assert threads, "the pull never planned a page"
        engine.run_cycle()
        engine.run_cycle()
    finally:
        other.close()


@pytest.mark.parametrize("object_name, email", [("Contact", "wile@acme.example"),
                                                ("Lead", "lisa@springfield.example")])
def test_an_edit_during_the_pull_ends_the_same_on_both_sides(object_name, email, shared_engine, shared_store,
                                                             database_url, sf):
    engine, store = shared_engine, shared_store
    engine.run_cycle()
    target = person(store, email)
    getattr(sf, object_name).update(target.link.sfdc_id, {"Title": "Rep Title"})
    _cycles_with_an_edit_meanwhile(engine, database_url, target.id)
    in_salesforce = getattr(sf, object_name).get(target.link.sfdc_id)["Title"]
    in_tandem = store.persons.get(target.id).fields["title"]
    assert in_tandem == in_salesforce
    assert store.outbox.find(person_ids=[target.id]) == []


def test_an_edit_while_a_record_back_in_the_filter_takes_back_its_person_ends_the_same_on_both_sides(
        base_url, ca_path, reset_emulator, shared_store, database_url, sf):
    """The pull links a person again when its record comes back into the filter (`leaving = unlinked`):
    that read must hold the person like the page's own read does, so that an edit landing meanwhile
    does not leave each side with the other's value."""
    store = shared_store
    policy = parse_policy({"filter": {"Contact": "Title != 'Retired'", "leaving": "unlinked"}})
    engine = SyncEngine(sync_client(base_url, ca_path), store, policy=policy)
    assert engine.run_cycle().succeeded
    wile = person(store, "wile@acme.example")
    sf.Contact.update(wile.link.sfdc_id, {"Title": "Retired"})
    assert engine.run_cycle().succeeded
    assert not store.persons.get(wile.id).linked
    sf.Contact.update(wile.link.sfdc_id, {"Title": "Consultant"})
    _cycles_with_an_edit_meanwhile(engine, database_url, wile.id)
    back = store.persons.get(wile.id)
    assert back.linked and back.link.sfdc_id == wile.link.sfdc_id
    assert back.fields["title"] == sf.Contact.get(wile.link.sfdc_id)["Title"]
    assert store.outbox.find(person_ids=[wile.id]) == []


def test_a_person_deleted_while_its_change_is_pushed_leaves_the_rest_of_the_batch_settled(
        shared_engine, shared_store, database_url, sf):
    """A person deleted in Tandem (REST API, CLI) between the push's send and its settling used to fail
    the settling of the whole batch (on PostgreSQL the bases' foreign key stopped `tandem run` itself):
    the others' changes stayed pending although Salesforce had them."""
    engine, store = shared_engine, shared_store
    assert engine.run_cycle().succeeded
    wile, peter = person(store, "wile@acme.example"), person(store, "peter@initech.example")
    store.persons.update(wile.id, {"title": "Gone Soon"}, origin=ChangeOrigin.API)
    store.persons.update(peter.id, {"title": "Stays"}, origin=ChangeOrigin.API)
    other = PersonStore(database_url)
    workspace = engine.workspace
    real = workspace.mark_in_flight

    def mark_in_flight(changes):
        real(changes)
        other.persons.delete(wile.id, origin=ChangeOrigin.API)

    workspace.mark_in_flight = mark_in_flight
    try:
        report = engine.run_cycle()
    finally:
        vars(workspace).pop("mark_in_flight")
        other.close()
    assert report.succeeded, report.steps
    assert sf.Contact.get(peter.link.sfdc_id)["Title"] == "Stays"
    assert store.outbox.find(person_ids=[peter.id]) == []
    assert store.tombstones.get(wile.id).fate == "deleted"
    assert engine.run_cycle().succeeded


@pytest.mark.parametrize("fetch", [None, FetchSettings(bulk_threshold=1000, rest_while_bulk=True)],
                         ids=["rest", "bulk-beside-rest"])
def test_a_record_edited_in_salesforce_while_the_pull_pages_through_its_window_loses_no_other_record(
        fetch, store, sf, http, base_url, ca_path, reset_emulator, monkeypatch):
    """The pull's query keeps its rows' order, but a later answer gives a record edited since the
    query began with its new, newest stamp. Before: the cursor jumped to that stamp, the pages after
    it were dropped as read already, and the window's remaining records never reached Tandem; and a
    Bulk job's row of the record, as it was before the edit, was applied over the edit."""
    engine = SyncEngine(sync_client(base_url, ca_path), store, fetch=fetch)
    rows = [{"LastName": f"Paged {n}", "Email": f"paged{n}@window.example"} for n in range(5000)]
    http.post(f"{base_url}/_emulator/bulk-load", json={"Contact": rows}).raise_for_status()
    [edited] = sf.query("SELECT Id FROM Contact WHERE Email = 'paged3500@window.example'")["records"]
    client = engine.workspace.client
    real_pages = client.query_pages

    def pages_with_an_edit_after_the_first(soql, **options):  # the rep edits once the first answer is in
        for number, answer in enumerate(real_pages(soql, **options)):
            if number == 0 and "FROM Contact" in soql:
                sf.Contact.update(edited["Id"], {"Title": "Edited meanwhile"})
            yield answer

    client.query_pages = pages_with_an_edit_after_the_first
    real_look, looks = pulling._look_at_job, []

    def look(*args, **kwargs):
        looks.append(args)
        return real_look(*args, **kwargs)

    monkeypatch.setattr(pulling, "_look_at_job", look)
    # the job's rows (the records as they were when it started) take over after the second answer
    monkeypatch.setattr(pulling, "ThreadPoolExecutor", _Inline)
    assert engine.run_cycle().succeeded
    del client.query_pages
    engine.run_cycle()
    emails = [f"paged{n}@window.example" for n in range(5000)]
    assert sorted(store.api.person_ids_by("email", emails)) == sorted(emails)
    assert person(store, "paged3500@window.example").fields["title"] == "Edited meanwhile"
    assert bool(looks) == (fetch is not None)
