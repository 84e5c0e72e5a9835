"""A large pull into a smaller persons table builds the persons' search indexes once, at its end,
whether it finishes, stops or fails; what a killed pull left aside the next cycle or migration builds."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from tandem.people.database import Database
from tandem.people.search_indexes import SEARCH_INDEXES
from tandem.people.store import PersonStore
from tandem.sync.cycle import SyncEngine
from tandem.sync.pull import FetchSettings
from tests.sync.conftest import sync_client
from tests.sync.test_crash import Crash, Fault, bulk_load, contact_page, crash_cycle, finish, injected

LOADED = 2500  # with the sample org's 4 contacts: three pages on SQLite (1,000 records each), two on PostgreSQL


def search_indexes(url: str) -> dict[str, str]:
    """The search indexes the database has now, each with its definition, read on a connection of its own."""
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    query = ("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'persons'"
             if engine.dialect.name == "sqlite" else
             "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'persons'")
    try:
        with engine.connect() as connection:
            return {name: sql for name, sql in connection.exec_driver_sql(query).all() if name in SEARCH_INDEXES}
    finally:
        engine.dispose()


def pages_see(engine: SyncEngine) -> list[dict[str, str]]:
    """The search indexes as each Contact page of the engine's pulls finds them (observed, not changed)."""
    seen: list[dict[str, str]] = []
    real = engine.workspace.apply_page

    def observed(object_name: str, *args: Any, **kwargs: Any) -> Any:
        if object_name == "Contact":
            seen.append(search_indexes(engine.store.url))
        return real(object_name, *args, **kwargs)

    engine.workspace.apply_page = observed  # type: ignore[method-assign]
    return seen


@pytest.fixture(params=["sqlite", "postgresql"])
def bulk_engine(request, base_url, ca_path, reset_emulator):
    """An engine that reads any window of more than 100 records by a Bulk job, on either database."""
    url = str(request.getfixturevalue("store").url if request.param == "sqlite"
              else request.getfixturevalue("postgres_url"))
    store = PersonStore(url)
    store.migrate()
    yield SyncEngine(sync_client(base_url, ca_path), store, fetch=FetchSettings(bulk_threshold=100))
    store.close()


def test_a_pull_larger_than_the_table_builds_the_search_indexes_once_at_its_end(bulk_engine, http, base_url):
    store = bulk_engine.store
    before = search_indexes(store.url)
    assert set(before) == set(SEARCH_INDEXES)
    bulk_load(http, base_url, LOADED)
    seen = pages_see(bulk_engine)
    assert bulk_engine.run_cycle().succeeded
    assert len(seen) >= 2 and all(page == {} for page in seen)  # every page written without them
    assert search_indexes(store.url) == before  # built again as they were
    [found] = store.persons.find_by_email("BULK1234@load.example")
    assert found.fields["firstName"] == "Bulk1234"

    bulk_load(http, base_url, 300)  # a window read by a Bulk job, smaller than the table now: kept
    seen.clear()
    assert bulk_engine.run_cycle().succeeded
    assert seen and all(page == before for page in seen)
    assert store.persons.count() == LOADED + 300 + 6  # the sample org has 4 contacts and 2 leads


def test_a_pull_that_fails_midway_builds_the_search_indexes_before_the_cycle_ends(engine, store, sf, http,
                                                                                   base_url):
    engine.fetch = FetchSettings(bulk_threshold=100)
    before = search_indexes(store.url)
    bulk_load(http, base_url, LOADED)
    crash_cycle(engine, Fault(engine.workspace, "apply_page", nth=2, after=True, match=contact_page))
    assert store.persons.count() == 2 * engine.pull_page_size
    assert search_indexes(store.url) == before
    finish(engine, store, sf)


def test_search_indexes_a_killed_pull_left_aside_are_built_by_the_next_cycle(engine, store, http, base_url):
    engine.run_cycle()
    before = search_indexes(store.url)
    assert store.search_indexes.set_aside()  # what a pull killed outright leaves behind
    assert search_indexes(store.url) == {}
    [found] = store.persons.find_by_email("wile@acme.example")  # searches read the table meanwhile
    assert [p.id for p in store.person_search.find("wile")] == [found.id]
    report = engine.run_cycle()
    assert report.succeeded
    assert search_indexes(store.url) == before
    assert store.persons.find_by_email("wile@acme.example") == [found]


def test_search_indexes_left_aside_are_built_by_a_migration_and_kept_by_a_downgrade(open_second_store):
    store = open_second_store()
    before = search_indexes(store.url)
    assert store.search_indexes.set_aside()
    assert not store.search_indexes.set_aside()  # nothing left to set aside
    store.migrate()
    assert search_indexes(store.url) == before
    assert store.search_indexes.set_aside()
    db = Database(store.url)
    try:
        db.downgrade("0018")
    finally:
        db.dispose()
    assert search_indexes(store.url) == before


def test_a_crash_raised_past_the_pull_is_not_hidden_by_building_the_indexes(engine, store, http, base_url):
    """The indexes are built as the failure passes; a failure building them keeps the pull's own."""
    engine.fetch = FetchSettings(bulk_threshold=100)
    bulk_load(http, base_url, LOADED)
    restoring = Fault(store.search_indexes, "restore", nth=2)  # the cycle's start restores first (nothing)
    restoring_fails = Fault(engine.workspace, "apply_page", nth=2, after=True, match=contact_page)
    with injected(restoring, restoring_fails), pytest.raises(Crash, match="after apply_page"):
        engine.run_cycle()
    assert restoring.fired and search_indexes(store.url) == {}
    assert engine.run_cycle().succeeded  # the next cycle builds them
    assert set(search_indexes(store.url)) == set(SEARCH_INDEXES)
