"""Opening the store's database: URL rules, SQLite settings, shared transactions, migrations.

SQLite runs in WAL mode with `synchronous=NORMAL` (durable at checkpoints, fast commits) and real
`BEGIN` transactions, so that DDL for custom fields commits or rolls back with the rest.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.pool import StaticPool

from tandem.errors import InvalidInput

DEFAULT_DATABASE_URL = "sqlite:///tandem.db"
_IN_CHUNK = 500
T = TypeVar("T", int, str)
MIGRATIONS = Path(__file__).parent / "migrations"


def in_chunks(values: Iterable[T]) -> Iterator[list[T]]:
    """Distinct values, sorted, in lists short enough for one `IN (...)` (SQLite caps parameters)."""
    unique = sorted(set(values))
    for start in range(0, len(unique), _IN_CHUNK):
        yield unique[start:start + _IN_CHUNK]


def normalize_url(url: str) -> str:
    """Accept `postgresql://` and `postgres://` and use the psycopg 3 driver for them."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    if url.startswith(("sqlite:", "postgresql+psycopg:")):
        return url
    raise InvalidInput("database_url", f"expected a sqlite:/// or postgresql:// URL, got {url.split(':')[0]!r}")


def create_engine(url: str) -> sa.Engine:
    url = normalize_url(url)
    if not url.startswith("sqlite"):
        return sa.create_engine(url, pool_pre_ping=True)
    in_memory = url in ("sqlite://", "sqlite:///:memory:")
    engine = sa.create_engine(url, poolclass=StaticPool if in_memory else None)
    sa.event.listen(engine, "connect", _configure_sqlite)
    sa.event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN IMMEDIATE"))  # writers wait, never fail
    return engine


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    """WAL with NORMAL sync; a 32 MB page cache; checkpoints every ~40 MB of WAL rather than 4 MB,
    so batches of updates to scattered persons share the cost of writing pages back."""
    dbapi_connection.isolation_level = None  # the "begin" listener issues BEGIN itself
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA cache_size=-32000")
    cursor.execute("PRAGMA wal_autocheckpoint=10000")
    cursor.close()


class Database:
    """An engine plus a per-thread current transaction, so store calls can share one commit."""

    def __init__(self, url: str) -> None:
        self.url = normalize_url(url)
        self.engine = create_engine(self.url)
        self._local = threading.local()

    @contextmanager
    def transaction(self) -> Iterator[sa.Connection]:
        """The thread's open transaction if there is one, else a new one committed on exit."""
        if self.in_transaction():
            yield self._local.connection
            return
        with self.engine.begin() as connection:
            self._local.connection = connection
            try:
                yield connection
            finally:
                self._local.connection = None

    def in_transaction(self) -> bool:
        return getattr(self._local, "connection", None) is not None

    def migrate(self, revision: str = "head") -> None:
        """Upgrade the schema to `revision`, the newest unless told (a test builds an older schema)."""
        with self.transaction() as connection:
            config = _alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, revision)

    def downgrade(self, revision: str) -> None:
        with self.transaction() as connection:
            config = _alembic_config()
            config.attributes["connection"] = connection
            command.downgrade(config, revision)

    def revision(self) -> str | None:
        with self.engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()

    def head_revision(self) -> str | None:
        return ScriptDirectory.from_config(_alembic_config()).get_current_head()

    def dispose(self) -> None:
        self.engine.dispose()


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("path_separator", "os")
    return config
