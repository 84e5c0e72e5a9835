"""A migrated `PersonStore` per test, on SQLite (a temporary file) and on PostgreSQL (a database
of its own, see `tests/postgres.py`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tandem.people.store import PersonStore


@pytest.fixture
def open_store(database_url: str) -> Iterator[Callable[[], PersonStore]]:
    """Opens more stores on the test's database (a restart, a second process)."""
    opened: list[PersonStore] = []

    def open_() -> PersonStore:
        store = PersonStore(database_url)
        opened.append(store)
        return store

    yield open_
    for store in opened:
        store.close()


@pytest.fixture
def store(open_store: Callable[[], PersonStore]) -> PersonStore:
    store = open_store()
    store.migrate()
    return store
