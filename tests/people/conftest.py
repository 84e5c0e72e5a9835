"""A migrated `PersonStore` per test, on SQLite (a temporary file) and on PostgreSQL.

Each PostgreSQL test gets a database of its own, created on the server and dropped afterwards.
PostgreSQL must be reachable: a test that cannot reach it fails, unless
TANDEM_TEST_SKIP_POSTGRES=1 says this run is SQLite-only.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa

from tandem.people.store import PersonStore

POSTGRES_ADMIN_URL = os.environ.get(
    "TANDEM_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _postgres_database() -> Iterator[str]:
    if os.environ.get("TANDEM_TEST_SKIP_POSTGRES") == "1":
        pytest.skip("TANDEM_TEST_SKIP_POSTGRES=1")
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"tandem_t_{uuid.uuid4().hex[:16]}"
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sa.exc.OperationalError as error:
        admin.dispose()
        pytest.fail(f"PostgreSQL at {POSTGRES_ADMIN_URL} is unreachable ({error.orig}); "
                    "set TANDEM_TEST_SKIP_POSTGRES=1 to run without it")
    try:
        yield admin.url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """An empty database (no tables) of each kind."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'tandem.db'}"
    else:
        yield from _postgres_database()


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
