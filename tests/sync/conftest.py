"""A sync engine between a fresh SQLite people store and the emulator's sample org, as the sync user;
more stores on the same database (another process, as far as the store's locks can tell), and an
empty PostgreSQL database for what must hold on both."""

from __future__ import annotations


import pytest

from tandem.people.store import PersonStore
from tandem.cli.wiring import emulator_client
from tandem.salesforce.client import SalesforceClient
from tandem.sync.cycle import SyncEngine
from tests.postgres import postgres_database


def sync_client(base_url, ca_path) -> SalesforceClient:
    """The sample org's sync user, with short retry pauses."""
    return emulator_client(base_url, ca_path, backoff_seconds=0.01)


@pytest.fixture
def store(tmp_path):
    store = PersonStore(f"sqlite:///{tmp_path / 'tandem.db'}")
    store.migrate()
    yield store
    store.close()


@pytest.fixture
def engine(base_url, ca_path, reset_emulator, store):
    return SyncEngine(sync_client(base_url, ca_path), store)


@pytest.fixture
def open_second_store(store):
    """`open_second_store()` → another PersonStore on the test's database, closed after the test."""
    opened: list[PersonStore] = []

    def open_() -> PersonStore:
        opened.append(PersonStore(store.url))
        return opened[-1]

    yield open_
    for other in opened:
        other.close()


@pytest.fixture
def postgres_url():
    """A PostgreSQL database of the test's own (dropped afterwards)."""
    yield from postgres_database()
