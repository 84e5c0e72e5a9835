"""A PostgreSQL database of its own for a test: created on the server, dropped afterwards.

PostgreSQL must be reachable: a test that cannot reach it fails, unless TANDEM_TEST_SKIP_POSTGRES=1
says this run is SQLite-only.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

POSTGRES_ADMIN_URL = os.environ.get(
    "TANDEM_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def postgres_database() -> Iterator[str]:
    """Yields the URL of a new, empty database; drops it when resumed."""
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
    """An empty database (no tables) of each kind: a SQLite file, then a new PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'tandem.db'}"
    else:
        yield from postgres_database()
