"""Actions while a cycle runs, and two actions on one person: each action claims its person, the cycle's
pages and batches claim theirs, so nothing waits for the cycle as a whole, and nothing is lost, sent
twice or made twice.

Each party has a SyncEngine and a PersonStore of its own on the same database, as separate
processes would. Where a race needs one side caught at an exact point, `paused` holds a real call
there until the other side is seen at its own point (`seen`, a wrapper that reports a call); the
waits are bounded, so a missing claim fails the test instead of hanging it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from tandem.errors import NotFound
from tandem.people import activities as types
from tandem.people.origin import ChangeOrigin
from tandem.people.store import PersonStore
from tandem.sync.actions import PersonActions
from tandem.sync.cycle import SyncEngine
from tandem.sync.fields import LINK_FIELD
from tandem.sync.lifecycle import PersonLifecycle
from tests.sync.conftest import sync_client
from tests.sync.observe import SYNCED, activities_of, person

BOUND = 20.0
"""The longest any side waits for the other to get somewhere (it gets there in well under a second)."""


class Background:
    """`work()` in a thread; `result()` joins it and returns its value or raises its error."""

    def __init__(self, work: Callable[[], Any]) -> None:
        self._value: Any = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(work,))
        self._thread.start()

    def _run(self, work: Callable[[], Any]) -> None:
        try:
            self._value = work()
        except BaseException as error:  # noqa: BLE001 - handed to the test in result()
            self._error = error

    def alive(self) -> bool:
        return self._thread.is_alive()

    def result(self) -> Any:
        self._thread.join(120)
        assert not self._thread.is_alive(), "still running after two minutes"
        if self._error is not None:
            raise self._error
        return self._value


@contextmanager
def paused(target: Any, method: str, meanwhile: Callable[[], None], *, after: bool) -> Iterator[None]:
    """The first call of `target.method` runs `meanwhile()` (before or after the real call) and only then returns."""
    real = getattr(target, method)
    done = threading.Event()

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        first = not done.is_set()
        done.set()
        if first and not after:
            meanwhile()
        result = real(*args, **kwargs)
        if first and after:
            meanwhile()
        return result

    setattr(target, method, wrapper)
    try:
        yield
    finally:
        vars(target).pop(method, None)
    assert done.is_set(), f"{method} was never called"


@contextmanager
def seen(target: Any, method: str, wanted: Callable[..., bool]) -> Iterator[threading.Event]:
    """An event set when `target.method` is called with arguments `wanted` accepts (the call then runs)."""
    real = getattr(target, method)
    event = threading.Event()

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if wanted(*args, **kwargs):
            event.set()
        return real(*args, **kwargs)

    setattr(target, method, wrapper)
    try:
        yield event
    finally:
        vars(target).pop(method, None)


def naming(person_id: int) -> Callable[..., bool]:
    return lambda keys, *args, **kwargs: person_id in set(keys)


def wait_for(event: threading.Event, what: str) -> None:
    assert event.wait(BOUND), f"never saw {what}"


@pytest.fixture
def party(base_url, ca_path, open_second_store):
    """`party()` → a SyncEngine on a store of its own over the test's database (another process)."""

    def make() -> SyncEngine:
        return SyncEngine(sync_client(base_url, ca_path), open_second_store())

    return make


def add(store: PersonStore, **fields: Any):
    return store.persons.add(fields, origin=ChangeOrigin.CLI)


def lead_creates(store: PersonStore, person_id: int) -> list:
    return [a for a in activities_of(store, person_id, SYNCED) if a.attribute("Operation") == "create"]


def leads_for(sf, email: str) -> list[str]:
    return [r["Id"] for r in sf.query(f"SELECT Id FROM Lead WHERE Email = '{email}'")["records"]]


# -- an action while a long cycle runs --------------------------------------------------------------

BIG = 8_000


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    if request.param == "postgresql":
        return request.getfixturevalue("postgres_url")
    return f"sqlite:///{tmp_path / 'big.db'}"


def test_sync_person_runs_at_once_while_a_long_cycle_runs(database_url, base_url, ca_path, http, reset_emulator, sf):
    rows = [{"FirstName": f"Bulk{i}", "LastName": "Loaded", "Email": f"bulk{i}@load.example"} for i in range(BIG)]
    http.post(f"{base_url}/_emulator/bulk-load", json={"Contact": rows}).raise_for_status()
    stores = [PersonStore(database_url) for _ in range(2)]
    stores[0].migrate()
    try:
        cycling = SyncEngine(sync_client(base_url, ca_path), stores[0])
        actions = PersonActions(SyncEngine(sync_client(base_url, ca_path), stores[1]))
        acted, pulled = threading.Event(), []
        real_apply = cycling.workspace.apply_page

        def pausing(object_name, cursor, plan):  # the pull stays in progress, between pages, until the action is done
            applied = real_apply(object_name, cursor, plan)
            pulled.append(applied.updates_counted.new)
            if sum(pulled) >= 2000:
                acted.wait(BOUND)
            return applied

        cycling.workspace.apply_page = pausing
        cycle = Background(cycling.run_cycle)
        deadline = time.monotonic() + BOUND
        while stores[1].persons.count() < 2000:  # the first pages of the big pull are in
            assert time.monotonic() < deadline and cycle.alive()
            threading.Event().wait(0.05)
        ada = add(stores[1], email="ada@example.com", firstName="Ada", lastName="Lovelace", company="Engines")

        began = time.monotonic()
        result = actions.sync_person(ada.id)
        took = time.monotonic() - began
        assert cycle.alive(), "the cycle ended before the action"
        acted.set()
        assert took < 10, f"Sync Person to SFDC took {took:.1f} s during a cycle"

        assert cycle.result().succeeded
        assert cycling.run_cycle().succeeded
        assert leads_for(sf, "ada@example.com") == [result.sfdc_id]
        linked = stores[0].persons.get(ada.id)
        assert (linked.link.sfdc_type, linked.link.sfdc_id) == ("Lead", result.sfdc_id)
        lead = sf.Lead.get(result.sfdc_id)
        assert (lead["FirstName"], lead["LastName"], lead["Company"]) == ("Ada", "Lovelace", "Engines")
        assert stores[0].outbox.find(person_ids=[ada.id]) == []
        assert len(lead_creates(stores[0], ada.id)) == 1
        assert stores[0].persons.count() == 6 + BIG + 1
    finally:
        for store in stores:
            store.close()


# -- two actions on one person ---------------------------------------------------------------------

@pytest.fixture(params=["with the external-id field", "without it"])
def org_fields(request, emulator, reset_emulator):
    """The sample org, or one whose sync user cannot see the Lead's Tandem id field."""
    if request.param == "without it":
        emulator.org.set_field_level("Marketing Sync", "Lead", LINK_FIELD, "none")
    yield request.param
    emulator.org.reset()


def test_two_actions_on_one_person_make_one_lead(org_fields, engine, store, party, sf):
    engine.run_cycle()
    ada = add(store, email="ada@example.com", lastName="Lovelace", company="Engines")
    first, second = PersonActions(party()), PersonActions(party())
    creating = "upsert_records" if org_fields == "with the external-id field" else "create_records"
    with seen(second.store.locks, "claim", naming(ada.id)) as second_claims:
        later: list[Background] = []

        def start_second() -> None:  # while the first holds the person, right before its create
            later.append(Background(lambda: second.sync_person(ada.id)))
            wait_for(second_claims, "the second action claim the person")

        with paused(first.client, creating, start_second, after=False):
            one = first.sync_person(ada.id)
        two = later[0].result()
    assert (one.created, two.created) == (True, False) and one.sfdc_id == two.sfdc_id
    assert leads_for(sf, "ada@example.com") == [one.sfdc_id]
    assert len(lead_creates(store, ada.id)) == 1
    assert store.persons.get(ada.id).link.sfdc_id == one.sfdc_id


# -- the cycle and an action on the same person at the same moment -------------------------------

def test_the_pull_reading_a_new_lead_before_the_action_links_it_waits_for_the_action(engine, store, party, sf):
    engine.run_cycle()
    ada = add(store, email="ada@example.com", lastName="Lovelace", company="Engines", title="Countess")
    actions, cycling = PersonActions(party()), party()
    persons_before = store.persons.count()
    with seen(cycling.store.locks, "claim", naming(ada.id)) as page_waits:
        cycles: list[Background] = []

        def cycle_now() -> None:  # the Lead exists in Salesforce; the person is not linked yet
            cycles.append(Background(cycling.run_cycle))
            wait_for(page_waits, "the Lead page claim the person")

        with paused(actions.client, "upsert_records", cycle_now, after=True):
            result = actions.sync_person(ada.id)
        report = cycles[0].result()
    assert report.succeeded, report.steps
    assert store.persons.count() == persons_before
    assert store.api.person_ids_by("sfdcId", [result.sfdc_id]) == {result.sfdc_id: [ada.id]}
    assert len(lead_creates(store, ada.id)) == 1
    assert store.outbox.find(person_ids=[ada.id]) == []
    assert sf.Lead.get(result.sfdc_id)["Title"] == "Countess"


def test_a_push_batch_leaves_a_person_to_the_action_at_work_on_it(engine, store, party, sf):
    engine.run_cycle()
    wile = person(store, "wile@acme.example")
    store.persons.update(wile.id, {"title": "Genius"}, origin=ChangeOrigin.CLI)
    actions, cycling = PersonActions(party()), party()
    reports = []
    with seen(cycling.store.locks, "claim_free", naming(wile.id)) as batch_tried:

        def whole_cycle_now() -> None:  # the action marked the change in flight and is about to send it
            reports.append(Background(cycling.run_cycle).result())

        with paused(actions.client, "update_records", whole_cycle_now, after=False):
            result = actions.sync_person(wile.id)
    assert batch_tried.is_set()  # the cycle's Contact batch had the person, and left it
    assert reports[0].succeeded, reports[0].steps
    [contact_push] = [s for s in reports[0].steps if s.object == "Contact" and s.operation.value == "push updates"]
    assert contact_push.counts.updated == 0
    assert result.fields == ["title"]
    assert sf.Contact.get(wile.link.sfdc_id)["Title"] == "Genius"
    assert len(activities_of(store, wile.id, SYNCED)) == 1  # sent once, by the action
    assert store.outbox.find(person_ids=[wile.id]) == []


def test_a_conversion_the_pull_sees_before_the_action_follows_it(engine, store, party, sf):
    engine.run_cycle()
    milton = person(store, "milton@initech.example")
    actions, cycling = PersonActions(party()), party()
    persons_before = newest = store.persons.count()  # ids 1 to 6 so far
    with seen(cycling.store.locks, "claim", naming(milton.id)) as page_waits:
        cycles: list[Background] = []

        def cycle_now() -> None:  # Salesforce converted the Lead; the person still points at it
            cycles.append(Background(cycling.run_cycle))
            wait_for(page_waits, "the Contact page claim the person")

        with paused(actions.client, "convert_leads", cycle_now, after=True):
            result = actions.convert_person(milton.id, create_opportunity=False)
        report = cycles[0].result()
    assert report.succeeded, report.steps
    assert store.persons.count() == persons_before  # no person of its own for the new Contact
    assert store.api.person_ids_by("sfdcId", [result.contact_id]) == {result.contact_id: [milton.id]}
    after = store.persons.get(milton.id)
    assert (after.link.sfdc_type, after.link.sfdc_lead_id) == ("Contact", result.lead_id)
    assert len(activities_of(store, milton.id, types.CONVERT_LEAD)) == 1
    assert store.tombstones.get(newest + 1) is None  # none made and merged away either


def test_a_delete_from_sfdc_the_pull_sees_is_recorded_once(engine, store, party, sf):
    engine.run_cycle()
    hank = person(store, "hank@globex.example")
    lifecycle, cycling = PersonLifecycle(party()), party()
    with seen(cycling.store.locks, "claim", naming(hank.id)) as page_waits:
        cycles: list[Background] = []

        def cycle_now() -> None:  # deleted in Salesforce; the person not flagged yet
            cycles.append(Background(cycling.run_cycle))
            wait_for(page_waits, "the Contact page claim the person")

        with paused(lifecycle.client, "delete", cycle_now, after=True):
            lifecycle.delete_from_salesforce(hank.id)
    report = cycles[0].result()
    assert report.succeeded, report.steps
    assert store.persons.get(hank.id).link.sfdc_is_deleted
    assert len(activities_of(store, hank.id, types.SFDC_RECORD_DELETED)) == 1


@pytest.fixture
def without_link_field(emulator, reset_emulator):
    """An org whose sync user cannot see the Lead's Tandem id field: a new Lead names no person."""
    emulator.org.set_field_level("Marketing Sync", "Lead", LINK_FIELD, "none")
    yield
    emulator.org.reset()


def test_without_the_tandem_id_a_person_the_pull_made_for_the_new_lead_joins_the_action_s(
        without_link_field, engine, store, party, sf):
    engine.run_cycle()
    ada = add(store, email="ada@example.com", lastName="Lovelace", company="Engines", title="Countess")
    actions, cycling = PersonActions(party()), party()
    reports = []

    def cycle_now() -> None:  # the pull sees the Lead before the action links it, and makes a person of it
        reports.append(cycling.run_cycle())

    with paused(actions.client, "create_records", cycle_now, after=True):
        result = actions.sync_person(ada.id)
    assert reports[0].succeeded
    assert store.api.person_ids_by("sfdcId", [result.sfdc_id]) == {result.sfdc_id: [ada.id]}
    assert [p.id for p in store.persons.find_by_email("ada@example.com")] == [ada.id]
    assert leads_for(sf, "ada@example.com") == [result.sfdc_id]
    assert store.persons.get(ada.id).fields["title"] == "Countess"


def test_a_person_deleted_while_sync_person_creates_its_lead_is_said_to_be_deleted(database_url, base_url, ca_path,
                                                                                   reset_emulator, sf):
    """The REST API's delete holds no claim, so it may land between Salesforce's create and the action's
    settling: the action used to answer that the person does not exist, as if it never had."""
    stores = [PersonStore(database_url) for _ in range(3)]
    try:
        store, acting, other = stores
        store.migrate()
        engine = SyncEngine(sync_client(base_url, ca_path), store)
        engine.run_cycle()
        ada = add(store, email="ada@example.com", lastName="Lovelace", company="Engines")
        actions = PersonActions(SyncEngine(sync_client(base_url, ca_path), acting))
        with paused(actions.client, "upsert_records", lambda: other.api.delete_persons([ada.id]), after=True):
            with pytest.raises(NotFound, match=f"person {ada.id} was deleted on"):
                actions.sync_person(ada.id)
        assert store.tombstones.get(ada.id).fate == "deleted"
        assert engine.run_cycle().succeeded
    finally:
        for opened in stores:
            opened.close()
