"""Concurrent writers: they wait for each other, never race a lookup into two persons, and a
deadlock is run again; reads do not queue behind writers. Each store is opened apart, as another
process would open it."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
import sqlalchemy as sa

from tandem.errors import StoreConflict, StoreError
from tandem.people import activities as types
from tandem.people.field_catalog import FieldCatalog
from tandem.people.models import SalesforceLink
from tandem.people.origin import ChangeOrigin
from tandem.people.store import PersonStore
from tandem.people.tables import build_persons_table

API = ChangeOrigin.API
EMAILS = [f"p{n}@example.com" for n in range(10)]


def _in_threads(count: int, work: Callable[[int], None]) -> list[BaseException]:
    """Runs `work(n)` in `count` threads started together; returns what they raised."""
    start = threading.Barrier(count)
    failures: list[BaseException] = []

    def run(n: int) -> None:
        start.wait()
        try:
            work(n)
        except BaseException as error:  # noqa: BLE001 - reported by the test
            failures.append(error)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not any(t.is_alive() for t in threads), "a writer never finished"
    return failures


def _upsert(store: PersonStore, title: str) -> None:
    """createOrUpdate by email, as Sync Leads does it: decided on what the claim finds."""
    def work() -> None:
        found = store.api.claim("email", EMAILS)
        missing = [email for email in EMAILS if email not in found]
        store.persons.add_many([{"email": email, "title": title} for email in missing], API)
        store.persons.update_many([(ids[0], {"title": title}) for ids in found.values()], API)

    store.atomically(work)


def test_concurrent_upserts_by_email_make_one_person_per_email(store: PersonStore, open_store) -> None:
    stores = [open_store() for _ in range(6)]
    failures = _in_threads(6, lambda n: [_upsert(stores[n], f"writer {n} round {r}") for r in range(8)])
    assert failures == []
    found = store.api.person_ids_by("email", EMAILS)
    assert sorted(found) == EMAILS and all(len(ids) == 1 for ids in found.values())
    assert store.persons.count() == len(EMAILS)


def test_pages_of_new_persons_written_at_once_by_several_writers_each_get_their_own_ids(
        store: PersonStore, open_store) -> None:
    stores = [open_store() for _ in range(4)]
    returned: dict[str, int] = {}

    def write(n: int) -> None:
        for page in range(5):
            names = [f"w{n}-p{page}-{i}" for i in range(40)]
            ids = stores[n].persons.add_many([{"lastName": name} for name in names], API)
            returned.update(zip(names, ids, strict=True))

    assert _in_threads(4, write) == []
    assert len(returned) == 4 * 5 * 40 == len(set(returned.values())) == store.persons.count()
    for name, person_id in returned.items():
        assert store.persons.get(person_id).fields["lastName"] == name


def test_every_statement_takes_the_persons_table_once(store: PersonStore, monkeypatch) -> None:
    """A refresh may put a new `persons` table in place at any moment; a statement built from the
    old one and the new one read `FROM persons, persons` ("ambiguous column name", a 611)."""
    store.fields.ensure_custom("Seats__c", "integer")
    [pid] = store.persons.add_many([{"email": "ann@example.com", "Seats__c": 3}], API)
    monkeypatch.setattr(FieldCatalog, "table",
                        property(lambda catalog: build_persons_table(list(catalog._now.custom.values()))))

    assert [p.id for p in store.persons.get_many([pid])] == [pid]
    assert store.persons.by_sfdc_ids(["003000000000001AAA"]) == {}
    assert store.persons.by_account_ids(["001000000000001AAA"]) == {}
    assert [p.id for p in store.persons.find_by_email("ANN@example.com")] == [pid]
    assert [p.id for p in store.api.persons_page("email", ["ann@example.com"])] == [pid]
    assert store.api.count_persons_where("email", ["ann@example.com"]) == 1
    assert store.api.person_ids_by("email", ["ann@example.com"]) == {"ann@example.com": [pid]}
    assert store.atomically(lambda: store.api.claim("email", ["ann@example.com"])) == {"ann@example.com": [pid]}
    assert store.persons.update(pid, {"Seats__c": 4}, API) == ["Seats__c"]
    assert store.persons.count() == 1


def test_the_table_stays_when_a_refresh_or_a_rollback_changes_no_field(store: PersonStore) -> None:
    """Every failed transaction refreshes the catalog; it must not swap the table for an equal one."""
    store.fields.ensure_custom("Seats__c", "integer")
    table = store.fields.table
    store.fields.refresh()
    with pytest.raises(ZeroDivisionError), store.transaction():
        store.persons.add({"email": "a@example.com"}, API)
        1 / 0
    assert store.fields.table is table
    store.fields.ensure_custom("Rank__c", "integer")
    assert store.fields.table is not table and "Rank__c" in store.fields.table.c


def test_a_row_read_before_a_custom_field_was_added_still_makes_a_person(store: PersonStore, open_store) -> None:
    """Another thread's refresh may add a field between a query and the reading of its rows."""
    [pid] = store.persons.add_many([{"email": "ann@example.com"}], API)
    table = store.fields.table
    with store._db.reading() as connection:
        read = connection.execute(sa.select(table)).freeze()
    open_store().fields.ensure_custom("Seats__c", "integer")
    store.fields.refresh()
    [person] = store.fields.persons(read())
    assert person.id == pid and person.fields["email"] == "ann@example.com" and "Seats__c" not in person.fields


def test_a_write_inside_a_read_only_transaction_is_refused(store: PersonStore) -> None:
    db = store._db
    with db.reading(), pytest.raises(StoreError, match="read-only"):
        store.persons.add({"email": "a@example.com"}, API)
    assert store.persons.count() == 0


def test_an_atomic_write_inside_an_open_transaction_is_left_to_the_outer_one(store: PersonStore) -> None:
    with pytest.raises(ZeroDivisionError), store.transaction():
        store.atomically(lambda: store.persons.add({"email": "a@example.com"}, API))
        1 / 0
    assert store.persons.count() == 0


ON_SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
ON_POSTGRESQL = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


@ON_SQLITE
def test_sqlite_writer_waits_for_another_instead_of_failing(store: PersonStore, open_store) -> None:
    """Before, the first writer's transaction read, the second committed meanwhile, and the first's
    write then failed at once with "database is locked" (a read cannot be upgraded past a commit)."""
    other = open_store()
    person = store.persons.add({"email": "a@example.com", "title": "first"}, API)
    failures: list[BaseException] = []

    def second_writer() -> None:
        try:
            other.persons.update(person.id, {"title": "second"}, API)
        except BaseException as error:  # noqa: BLE001 - reported below
            failures.append(error)

    with store.transaction():
        assert store.persons.get(person.id).fields["title"] == "first"
        writer = threading.Thread(target=second_writer)
        writer.start()
        writer.join(0.5)
        assert writer.is_alive(), "the second writer did not wait for the first one's transaction"
        store.persons.update(person.id, {"title": "changed by the first"}, API)
    writer.join(30)
    assert failures == []
    assert store.persons.get(person.id).fields["title"] == "second"


@ON_SQLITE
def test_sqlite_reads_do_not_wait_for_a_writer(store: PersonStore, open_store) -> None:
    reader = open_store()
    person = store.persons.add({"email": "a@example.com", "title": "before"}, API)
    seen: list[str] = []
    with store.transaction():
        store.persons.update(person.id, {"title": "uncommitted"}, API)
        thread = threading.Thread(target=lambda: seen.append(reader.persons.get(person.id).fields["title"]))
        thread.start()
        thread.join(10)
        assert seen == ["before"], "a read queued behind the open write transaction"


@ON_POSTGRESQL
def test_postgresql_deadlock_is_run_again(store: PersonStore, open_store) -> None:
    """Two writers lock two persons in opposite orders: PostgreSQL aborts one, which runs again."""
    first, second = (store.persons.add({"email": f"{n}@example.com"}, API).id for n in ("a", "b"))
    stores = [open_store(), open_store()]
    both_hold_one = threading.Barrier(2, timeout=30)
    attempts = [0, 0]

    def crosswise(n: int) -> None:
        mine, theirs = (first, second) if n == 0 else (second, first)

        def work() -> None:
            attempts[n] += 1
            stores[n].persons.update(mine, {"title": f"writer {n}"}, API)
            if attempts[n] == 1:
                both_hold_one.wait()
            stores[n].persons.update(theirs, {"title": f"writer {n}"}, API)

        stores[n].atomically(work)

    assert _in_threads(2, crosswise) == []
    assert sorted(attempts) == [1, 2]
    titles = {store.persons.get(pid).fields["title"] for pid in (first, second)}
    assert len(titles) == 1  # both rows from the writer that committed last


@ON_POSTGRESQL
def test_postgresql_a_locked_person_still_takes_activities_from_another_writer(
    store: PersonStore, open_store
) -> None:
    """A writer's row lock (FOR NO KEY UPDATE) leaves the key-share lock an activity's foreign key
    takes alone; with FOR UPDATE the sync's activity rows waited on every API caller's lock, the
    waits that closed deadlocks."""
    other = open_store()
    person = store.persons.add({"email": "a@example.com"}, API)
    logged = threading.Event()
    with store.transaction():
        assert store.persons.lock([person.id, 999]) == [person.id]
        writer = threading.Thread(target=lambda: (other.activities.log(person.id, types.SFDC_SYNC_FAILED, "x"),
                                                  logged.set()))
        writer.start()
        assert logged.wait(10), "the activity waited for the person's row lock"
    writer.join(10)


@ON_POSTGRESQL
@pytest.mark.parametrize("lookup", ["plan", "claim"])
def test_postgresql_a_lookup_built_once_still_locks_what_it_finds(store: PersonStore, open_store, lookup: str) -> None:
    """The pull page's lookups by Salesforce Id are built once and run again with each page's Ids: the
    locked form (the plan's read, an API upsert's claim) must hold the rows it finds on every run, so
    another writer's change to them waits for the transaction instead of landing under its decision."""
    other = open_store()
    sfdc_ids = ["003000000000001AAA", "003000000000002AAA"]
    persons = [store.persons.add({"email": f"{n}@example.com", "title": "before"}, API) for n in range(2)]
    for person, sfdc_id in zip(persons, sfdc_ids, strict=True):
        store.persons.set_link(person.id, SalesforceLink("Contact", sfdc_id, sfdc_contact_id=sfdc_id), reason="test")
    for run, (person, sfdc_id) in enumerate(zip(persons, sfdc_ids, strict=True)):  # the second run reuses the statement
        landed = threading.Event()
        writer = threading.Thread(target=lambda pid=person.id: (other.persons.update(pid, {"title": "other"}, API),
                                                               landed.set()))
        with store.transaction():
            if lookup == "plan":
                assert store.persons.by_sfdc_ids([sfdc_id], lock=True)[sfdc_id].id == person.id
            else:
                assert store.api.claim("sfdcId", [sfdc_id]) == {sfdc_id: [person.id]}
            writer.start()
            assert not landed.wait(0.5), f"run {run + 1}: another writer changed a person the lookup had locked"
            store.persons.update(person.id, {"title": f"decided in run {run + 1}"}, API)
        writer.join(30)
        assert landed.is_set()
        assert store.persons.get(person.id).fields["title"] == "other"



def test_a_write_the_database_refuses_every_time_is_a_store_conflict_and_leaves_nothing(store: PersonStore) -> None:
    """Before, the database's own IntegrityError came out of the store: `tandem run` stopped on it."""
    person = store.persons.add({"email": "a@example.com"}, API)
    tries: list[int] = []

    def work() -> None:
        tries.append(1)
        store.persons.update(person.id, {"title": "written"}, API)
        gone = 10**9  # told to exist: its foreign key is refused
        store.activities.log_many([(gone, types.SFDC_SYNC_FAILED, "x", {})], existing=[gone])

    with pytest.raises(StoreConflict, match="refused the write 3 times"):
        store.atomically(work, attempts=3)
    assert len(tries) == 3
    assert store.persons.get(person.id).fields["title"] is None


@ON_POSTGRESQL
def test_a_write_refused_as_another_writer_deleted_its_row_meanwhile_is_decided_again(
        store: PersonStore, open_store) -> None:
    """The work read its persons without locking them, and another process deleted one before the
    work wrote its activities. Decided again, the work sees the person gone and writes for the others."""
    other = open_store()
    emails = [f"p{n}@example.com" for n in range(3)]
    persons = [store.persons.add({"email": email}, API) for email in emails]
    tries: list[int] = []

    def work() -> None:
        tries.append(1)
        ids = [pid for found in store.api.person_ids_by("email", emails).values() for pid in found]
        if len(tries) == 1:
            other.persons.delete(persons[1].id, API)
        store.activities.log_many([(pid, types.SFDC_SYNC_FAILED, "seen", {}) for pid in ids], existing=ids)

    store.atomically(work)
    assert len(tries) == 2
    logged = [a.person_id for a in store.activities.find(type_ids=[types.SFDC_SYNC_FAILED.id])]
    assert sorted(logged) == [persons[0].id, persons[2].id]
