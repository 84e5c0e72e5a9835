"""Opening the store's database: URL rules, SQLite settings, shared transactions, migrations.

SQLite runs in WAL mode with `synchronous=NORMAL` (durable at checkpoints, fast commits) and real
`BEGIN` transactions, so that DDL for custom fields commits or rolls back with the rest.

Writers wait for each other instead of failing. On SQLite a transaction that may write begins
`IMMEDIATE`, taking the write lock before it reads anything: a deferred transaction that read
first and then found another writer's commit in the way fails at once ("database is locked"),
busy timeout or not. Threads of one process queue for that lock in Python, other processes through
the busy timeout. Read-only work (`Database.reading`) begins deferred and never waits. On
PostgreSQL writers lock the rows they decide on, in a stable order; a deadlock or serialization
failure that still happens is run again from the start by `PersonStore.atomically`.
"""

from __future__ import annotations

import functools
import json
import random
import string
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from operator import itemgetter
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import IntegrityError
from sqlalchemy.pool import StaticPool

from tandem.errors import InvalidInput, StoreBusy, StoreError

DEFAULT_DATABASE_URL = "sqlite:///tandem.db"
BUSY_TIMEOUT_SECONDS = 30.0
"""How long a SQLite writer waits for another one before its attempt fails (and is tried again)."""
CONNECT_TIMEOUT_SECONDS = 10
"""How long a connection to a PostgreSQL server may take before it counts as an outage (unless the URL
sets `connect_timeout`): a server that accepts and never answers, or a host that drops packets, would
otherwise hold a cycle or a request for minutes."""
_IN_CHUNK = 500
_WRITES = "tandem_writes"
"""The execution option that tells the SQLite `begin` listener which BEGIN to issue."""
_SQLITE_BUSY, _SQLITE_LOCKED = 5, 6
_RETRIED_SQLSTATES = frozenset({"40P01", "40001"})  # deadlock detected, serialization failure
T = TypeVar("T", int, str)
MIGRATIONS = Path(__file__).parent / "migrations"
_VERSION_TABLE = "alembic_version"


def in_chunks(values: Iterable[T]) -> Iterator[list[T]]:
    """Distinct values, sorted, in lists short enough for one `IN (...)` (SQLite caps parameters)."""
    unique = sorted(set(values))
    for start in range(0, len(unique), _IN_CHUNK):
        yield unique[start:start + _IN_CHUNK]


def lookup_chunks(connection: sa.Connection, values: Iterable[T]) -> Iterator[list[T]]:
    """`in_chunks` for lookups by `one_of`: all the values in one chunk when it binds them as one
    parameter (a JSON list or an array, which no parameter cap limits), so one statement runs."""
    unique = list(dict.fromkeys(values))  # one chunk needs no order: the statement's result has its own
    if unique and _one_parameter(connection, unique):
        yield unique
    else:
        yield from in_chunks(unique)


def _one_parameter(connection: sa.Connection, values: Sequence[Any]) -> bool:
    """Whether `one_of` binds these (non-empty) values as one parameter."""
    return connection.dialect.name != "sqlite" or {type(value) for value in values} in ({str}, {int})


def one_of(connection: sa.Connection, column: sa.ColumnElement[Any], values: Sequence[Any]) -> sa.ColumnElement[bool]:
    """`column IN (values)`: on PostgreSQL `column = ANY(:array)`, on SQLite `column IN (SELECT value
    FROM json_each(:json))` (for text or integer values).

    One array or JSON parameter gives one statement text whatever the number of values, so PostgreSQL
    plans it once per connection, and plans it again when `ANALYZE` changes the table's
    statistics; an `IN` list of N parameters is another statement for each N, each prepared
    after five runs with the plan of the moment (and on SQLite compiled and prepared anew).
    """
    if not values or not _one_parameter(connection, values):
        return column.in_(values)
    return _in_one_parameter(connection, column, values, bound=True)


def _in_one_parameter(connection: sa.Connection, column: sa.ColumnElement[Any], values: Sequence[Any], *,
                      bound: bool) -> sa.ColumnElement[bool]:
    """`one_of`'s condition for values it binds as one parameter: bound to these values, or (not
    `bound`) left for the values given at execution as `_ONE_OF_VALUES`."""
    if connection.dialect.name == "sqlite":
        listed = sa.bindparam(None, json.dumps(list(values))) if bound else sa.bindparam(_ONE_OF_VALUES)
        return column.in_(sa.select(sa.column("value")).select_from(sa.func.json_each(listed)))
    element = column.type
    if isinstance(element, sa.types.NullType):  # a lightweight `sa.table` column
        element = sa.BigInteger() if isinstance(values[0], int) else sa.Text()
    kind = postgresql.ARRAY(element)
    return column == sa.any_(sa.bindparam(None, list(values), type_=kind) if bound
                             else sa.bindparam(_ONE_OF_VALUES, type_=kind))


_ONE_OF_VALUES = "one_of_values"


class Lookups:
    """Statements that select rows whose column is one of many values, each built once and run
    with the values bound at execution: a lookup a pull makes for every page neither builds its
    statement nor works out its cache key again.

    `build` makes the statement from its `column IN (values)` condition (`one_of`'s form, the
    values a parameter); `key` names what `build` makes, for the table it reads (a table given
    new columns is another key)."""

    def __init__(self) -> None:
        self._built: dict[tuple[Any, ...], sa.Executable] = {}

    def results(self, connection: sa.Connection, key: tuple[Any, ...], column: sa.ColumnElement[Any],
                values: Iterable[Any], build: Callable[[sa.ColumnElement[bool]], sa.Executable]
                ) -> Iterator[sa.CursorResult[Any]]:
        """The results of `build`'s statement for these values: one, or one per chunk of values
        `one_of` cannot bind as one parameter (none for no values)."""
        for chunk in lookup_chunks(connection, values):
            if not _one_parameter(connection, chunk):
                yield connection.execute(build(column.in_(chunk)))
                continue
            full_key = (connection.dialect.name, type(chunk[0]), *key)
            statement = self._built.get(full_key)
            if statement is None:
                statement = self._built[full_key] = build(_in_one_parameter(connection, column, chunk, bound=False))
            sqlite = connection.dialect.name == "sqlite"
            yield connection.execute(statement, {_ONE_OF_VALUES: json.dumps(chunk) if sqlite else chunk})


_WRITERS_HORIZON = sa.text("""(SELECT coalesce(
    (SELECT min(running::text::bigint) FROM pg_snapshot_xip(pg_current_snapshot()) AS running
      WHERE running::text::bigint % 4294967296 NOT IN (
        SELECT backend_xid::text::bigint FROM pg_stat_activity
         WHERE backend_xid IS NOT NULL AND (backend_type <> 'client backend'
               OR datid IS DISTINCT FROM (SELECT oid FROM pg_database WHERE datname = current_database())))),
    pg_snapshot_xmax(pg_current_snapshot())::text::bigint))""")


def finished_writers(connection: sa.Connection, txid: sa.ColumnElement[int]) -> sa.ColumnElement[bool]:
    """Rows whose writing transaction (`txid`) and every transaction begun before it had ended when
    the statement's snapshot was taken: no row of a transaction still running can later commit
    with a smaller `txid`. Always true on SQLite, whose writers take turns.

    On PostgreSQL the running transactions are the snapshot's, less those seen running for another
    database or for the server itself (autovacuum): those write no row here, and would otherwise
    hold the rows back for as long as they run."""
    if connection.dialect.name == "sqlite":
        return sa.true()
    return txid < _WRITERS_HORIZON


def insert_rows(connection: sa.Connection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    """Insert rows that all set the same columns, in one statement (`insert_tuples`)."""
    if not rows:
        return
    names = list(rows[0])
    if any(row.keys() != rows[0].keys() for row in rows):
        raise StoreError(f"rows inserted together into {table.name} must set the same columns")
    pick = itemgetter(*names) if len(names) > 1 else lambda row: (row[names[0]],)
    insert_tuples(connection, table, names, list(map(pick, rows)))


def insert_tuples(connection: sa.Connection, table: sa.Table, names: Sequence[str],
                  rows: list[tuple[Any, ...]]) -> None:
    """Insert rows given as tuples of the columns `names`, in one statement.

    The rows go straight to the driver, each value through its column type's own bind processor,
    so they are stored exactly as SQLAlchemy would store them, without its per-row bookkeeping
    (the store's hottest writes: a pull's persons and activities): on SQLite one `executemany`,
    on PostgreSQL one `COPY`.
    """
    if not rows:
        return
    if any(len(row) != len(names) for row in rows):
        raise StoreError(f"rows inserted together into {table.name} must set the same columns")
    _write(connection, table, names, _driver_values(connection, table, names, rows))


def insert_columns(connection: sa.Connection, table: sa.Table, names: Sequence[str],
                   columns: Sequence[Sequence[Any]]) -> None:
    """`insert_tuples` for rows its caller holds a column at a time (one sequence per name, all
    of one length), as a page of new persons is built: turned into rows once, after binding."""
    if len(columns) != len(names) or len({len(column) for column in columns}) > 1:
        raise StoreError(f"rows inserted together into {table.name} must set the same columns")
    if not columns or not columns[0]:
        return
    _write(connection, table, names, list(zip(*_bound(connection, table, names, list(columns)))))


def _write(connection: sa.Connection, table: sa.Table, names: Sequence[str], values: list[tuple[Any, ...]]) -> None:
    """Rows already in the driver's form into `table`: one `executemany` on SQLite, one `COPY` elsewhere."""
    quote = connection.dialect.identifier_preparer.quote
    columns = ", ".join(quote(n) for n in names)
    if connection.dialect.name != "sqlite":
        statement = f"COPY {quote(table.name)} ({columns}) FROM STDIN"
        driver_error = connection.dialect.loaded_dbapi.Error
        try:
            with connection.connection.cursor() as cursor, cursor.copy(statement) as copy:
                for row in values:
                    copy.write_row(row)
        except driver_error as error:  # the same typed error SQLAlchemy raises (a deadlock is retried)
            raise sa.exc.DBAPIError.instance(statement, None, error, driver_error) from error
        return
    connection.exec_driver_sql(f"INSERT INTO {quote(table.name)} ({columns}) VALUES ({', '.join('?' * len(names))})",
                               values)


def _driver_values(connection: sa.Connection, table: sa.Table, names: Sequence[str],
                   rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """The rows with each value as its column type binds it for this database, a column at a time."""
    if not any(_bind_processor(connection.dialect, table.c[name].type) for name in names):
        return rows
    return list(zip(*_bound(connection, table, names, list(zip(*rows)))))


def _bound(connection: sa.Connection, table: sa.Table, names: Sequence[str],
           columns: list[Sequence[Any]]) -> list[Sequence[Any]]:
    """The columns (changed in place) with each value as its column type binds it for this database."""
    for i, name in enumerate(names):
        process = _bind_processor(connection.dialect, table.c[name].type)
        if process is not None:
            columns[i] = _processed(columns[i], process)
    return columns


def _processed(column: Sequence[Any], process: _Processor) -> list[Any]:
    """`process` of each value: once for a column of one value (a page's timestamp), once per
    distinct object for a JSON column (rows often share one list of attributes; the column holds
    its objects while this runs, so their ids stay theirs), else once per value."""
    ids = list(map(id, column))
    distinct = dict(zip(ids, column))
    if process.shared or len(distinct) == 1:
        bound = {key: process.bind(value) for key, value in distinct.items()}
        return list(map(bound.__getitem__, ids))
    return list(map(process.bind, column))


def insert_returning_ids(connection: sa.Connection, table: sa.Table, names: Sequence[str],
                         columns: Sequence[Sequence[Any]]) -> list[int]:
    """`insert_columns` for a table with an autoincrement `id`: the new ids, in the order of the rows.

    SQLite's `RETURNING` promises no order, so there the rows are inserted one after another under
    the transaction's write lock (which no other writer shares), each new id one above the table's
    highest: when the table's `AUTOINCREMENT` sequence moved by exactly the number of rows, the new
    ids are the numbers it moved over; otherwise they are the table's highest ids, read back. On
    PostgreSQL the ids are drawn from the table's sequence first (as its default would draw them)
    and copied in with the rows.
    """
    count = len(columns[0]) if columns else 0
    if not count:
        return []
    if connection.dialect.name != "sqlite":
        drawn = connection.exec_driver_sql(
            f"SELECT nextval(pg_get_serial_sequence('{table.name}', 'id')) FROM generate_series(1, {count})")
        ids = sorted(drawn.scalars())
        insert_columns(connection, table, ["id", *names], [ids, *columns])
        return ids
    before = _sqlite_sequence(connection, table)
    insert_columns(connection, table, names, columns)
    after = _sqlite_sequence(connection, table)
    if after - before == count:
        return list(range(before + 1, after + 1))
    id_column = table.c.id
    return list(connection.execute(sa.select(id_column).order_by(id_column.desc()).limit(count)).scalars())[::-1]


def _sqlite_sequence(connection: sa.Connection, table: sa.Table) -> int:
    """The last `AUTOINCREMENT` id SQLite gave in `table` (0 before the first)."""
    last = connection.exec_driver_sql("SELECT seq FROM sqlite_sequence WHERE name = ?", (table.name,)).scalar()
    return last or 0


def _json_text(process: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A JSON column's bind processor for `COPY`: the value's JSON text, as psycopg would write it.
    (The processor gives a psycopg wrapper, which `COPY` would encode again for every row holding
    the value; as text it is encoded once per distinct value, `_processed`.)"""
    from psycopg.types.json import Json, Jsonb

    def text(value: Any) -> Any:
        bound = process(value)
        if isinstance(bound, (Json, Jsonb)):
            return (bound.dumps or json.dumps)(bound.obj)
        return bound
    return text


class _Processor(NamedTuple):
    """A column type's bind processor, and whether rows often share the values it binds (JSON)."""

    bind: Callable[[Any], Any]
    shared: bool


def _bind_processor(dialect: sa.Dialect, type_: sa.types.TypeEngine[Any]) -> _Processor | None:
    """The column type's bind processor for rows handed straight to the driver (made once per type)."""
    key = (dialect.name, type_)
    found = _PROCESSORS.get(key, _UNSET)
    if found is _UNSET:
        process = type_.dialect_impl(dialect).bind_processor(dialect)
        shared = isinstance(type_, sa.JSON)
        if process is not None and dialect.name != "sqlite" and shared:
            process = _json_text(process)
        found = _PROCESSORS[key] = None if process is None else _Processor(process, shared)
    return found


_PROCESSORS: dict[tuple[str, Any], _Processor | None] = {}
_UNSET = object()


def made_once(db: Database, column: sa.Column[Any], make: Callable[[], str], now: datetime | None = None) -> str:
    """The value of `column` in its table's one row (id 1), made on first use: two processes asking
    at once both get the one that was inserted first."""
    table = column.table
    query = sa.select(column).where(table.c.id == 1)
    with db.transaction() as connection:
        found = connection.execute(query).scalar()
        if found is not None:
            return found
        made = make()
        try:
            with connection.begin_nested():
                connection.execute(sa.insert(table).values(
                    {"id": 1, column.name: made, "created_at": now or datetime.now(UTC)}))
        except IntegrityError:  # another process made it first
            return connection.execute(query).scalar_one()
        return made


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
        timeout = {} if "connect_timeout" in sa.make_url(url).query else {"connect_timeout": CONNECT_TIMEOUT_SECONDS}
        return sa.create_engine(url, pool_pre_ping=True, connect_args=timeout)
    in_memory = url in ("sqlite://", "sqlite:///:memory:")
    engine = sa.create_engine(url, poolclass=StaticPool if in_memory else None)
    sa.event.listen(engine, "connect", _configure_sqlite)
    sa.event.listen(engine, "begin", _begin_sqlite)
    return engine


def _begin_sqlite(connection: sa.Connection) -> None:
    """`BEGIN IMMEDIATE` unless the transaction was opened read-only (`Database.reading`)."""
    writes = connection.get_execution_options().get(_WRITES, True)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    """WAL with NORMAL sync; a 32 MB page cache; checkpoints every ~40 MB of WAL rather than 4 MB,
    so batches of updates to scattered persons share the cost of writing pages back."""
    dbapi_connection.isolation_level = None  # the "begin" listener issues BEGIN itself
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_SECONDS * 1000)}")
    cursor.execute("PRAGMA cache_size=-32000")
    cursor.execute("PRAGMA wal_autocheckpoint=10000")
    cursor.close()


def is_contention(error: BaseException) -> bool:
    """True for failures another writer caused that the same work, run again, gets past: a SQLite
    database locked past the busy timeout, a PostgreSQL deadlock or serialization failure."""
    if isinstance(error, StoreBusy):
        return True
    if not isinstance(error, sa.exc.DBAPIError):
        return False
    original = error.orig
    if getattr(original, "sqlstate", None) in _RETRIED_SQLSTATES:
        return True
    code = getattr(original, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in (_SQLITE_BUSY, _SQLITE_LOCKED)


def is_outage(error: BaseException) -> bool:
    """True for a database that cannot be used for now: its server gone or refusing connections,
    a SQLite file locked past the busy timeout or its disk full. The same work may succeed later."""
    return isinstance(error, (StoreBusy, sa.exc.OperationalError, sa.exc.InterfaceError))


def outage_reason(error: BaseException) -> str:
    """What the database said, on one line (no URL: a password never shows)."""
    said = str(error.orig if isinstance(error, sa.exc.DBAPIError) else error).strip()
    return said.splitlines()[0] if said else type(error).__name__


def backoff(attempt: int) -> None:
    """A short random pause before attempt `attempt + 1`, so that the same two writers do not
    collide again in lockstep."""
    time.sleep(random.uniform(0.0, 0.02 * 2 ** min(attempt, 6)))


@dataclass
class _Open:
    connection: sa.Connection
    writes: bool


_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


class Database:
    """An engine plus a per-thread current transaction, so store calls can share one commit."""

    def __init__(self, url: str) -> None:
        self.url = normalize_url(url)
        self.engine = create_engine(self.url)
        self.sqlite = self.engine.dialect.name == "sqlite"
        self._local = threading.local()
        self._writer = threading.Lock()  # SQLite: this process's writers take turns here

    def lowered(self, text: str) -> str:
        """`text` as this database's `lower()` writes it, which is how emails are compared (the
        `lower(email)` index): SQLite lower-cases the ASCII letters only, PostgreSQL every letter.
        A key lower-cased otherwise would miss the person it names (and a create-or-update make a
        second one). Python's `str.lower` is not PostgreSQL's beyond ASCII (a final sigma, a dotted
        capital I), so a key with other letters is lower-cased by the database itself."""
        if self.sqlite:
            return text.translate(_ASCII_LOWER)
        if text.isascii():
            return text.lower()
        with self.reading() as connection:
            return connection.execute(sa.select(sa.func.lower(sa.literal(text, sa.Text)))).scalar_one()

    @contextmanager
    def transaction(self) -> Iterator[sa.Connection]:
        """The thread's open transaction if there is one, else a new one that may write, committed
        on exit (on SQLite it holds the write lock from its first statement)."""
        current = self._current()
        if current is not None:
            if not current.writes:
                raise StoreError("a write was attempted inside a read-only transaction")
            yield current.connection
            return
        if not self.sqlite:
            with self._open(writes=True) as connection:
                yield connection
            return
        if not self._writer.acquire(timeout=BUSY_TIMEOUT_SECONDS):
            raise StoreBusy(f"another writer held the database for more than {BUSY_TIMEOUT_SECONDS:.0f} s")
        try:
            with self._open(writes=True) as connection:
                yield connection
        finally:
            self._writer.release()

    @contextmanager
    def reading(self) -> Iterator[sa.Connection]:
        """The thread's open transaction if there is one, else a new read-only one: it sees one
        consistent state and neither takes nor waits for SQLite's write lock."""
        current = self._current()
        if current is not None:
            yield current.connection
            return
        with self._open(writes=False) as connection:
            yield connection

    @contextmanager
    def _open(self, writes: bool) -> Iterator[sa.Connection]:
        with self.engine.connect() as connection:
            connection.execution_options(**{_WRITES: writes})
            with connection.begin():
                self._local.current = _Open(connection, writes)
                try:
                    yield connection
                finally:
                    self._local.current = None

    def _current(self) -> _Open | None:
        return getattr(self._local, "current", None)

    def in_transaction(self) -> bool:
        return self._current() is not None

    def migrate(self, revision: str = "head") -> None:
        """Upgrade the schema to `revision`, the newest unless told (a test builds an older schema)."""
        with self.transaction() as connection:
            from alembic import command  # imported here: only a migration needs it, and it is slow to load

            config = _alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, revision)

    def downgrade(self, revision: str) -> None:
        with self.transaction() as connection:
            from alembic import command

            config = _alembic_config()
            config.attributes["connection"] = connection
            command.downgrade(config, revision)

    def revision(self) -> str | None:
        """The schema's revision as the store records it (None before the first migration)."""
        with self.reading() as connection:
            if not sa.inspect(connection).has_table(_VERSION_TABLE):
                return None
            return connection.exec_driver_sql(f"SELECT version_num FROM {_VERSION_TABLE}").scalar()

    def head_revision(self) -> str:
        """The newest revision: each migration's revision is the number its file name starts with."""
        return max(self.known_revisions())

    def known_revisions(self) -> frozenset[str]:
        return _known_revisions()

    def dispose(self) -> None:
        self.engine.dispose()


@functools.cache
def _known_revisions() -> frozenset[str]:
    """The revisions of the migrations as this process found them first: a Tandem upgraded in place
    under a running process does not make that process's code any newer."""
    return frozenset(path.name[:4] for path in (MIGRATIONS / "versions").glob("[0-9][0-9][0-9][0-9]_*.py"))


def _alembic_config() -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("path_separator", "os")
    return config
