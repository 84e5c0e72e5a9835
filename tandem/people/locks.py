"""Locks that die with their holder: one sync cycle at a time, and one worker per person at a time.

Each kind of database gets a lock that the server or the kernel drops when its holder dies, so a
process killed with `kill -9` blocks nothing, and no clock or heartbeat is involved:

- PostgreSQL: session advisory locks, on connections of their own (the cycle's is held for the
  cycle's life). The server drops them when the session ends: at once when the process dies, and
  within about 25 s when its machine vanishes (these sessions ask for short TCP keepalives).
- SQLite file: POSIX locks on files beside the database: `NAME-cycle.lock` for the cycle, one byte
  of `NAME-claims.lock` per claimed key. The kernel drops them when the process dies; a SQLite
  database lives on one machine, so nothing has to notice a machine going away.
- In-memory SQLite: locks inside the process, the only one that can see such a database.

A claim holds integer keys: person ids, and `PAGE` (held while a pull page is read, planned and
applied). Keys are always taken in ascending order (`PAGE` last), so two claimants never wait for
each other in a circle.
"""

from __future__ import annotations

import fcntl
import os
import socket
import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from tandem.errors import PersonBusy
from tandem.people.database import Database

PAGE = 2**31 - 1
"""The key a pull page holds while it reads, plans and applies (the highest key: taken last)."""
_CYCLE_CLASS = 0x54414E01
_CLAIM_CLASS = 0x54414E02
"""PostgreSQL advisory lock classes ("TAN" and a number): the cycle's, and claims'."""


class CycleLock:
    """The one sync cycle's lock, held until `release` or the holder's death."""

    def __init__(self, still_held: Callable[[], bool], release: Callable[[], None]) -> None:
        self._still_held = still_held
        self._release = release
        self._released = False

    def held(self) -> bool:
        """False once the lock is gone (released, or its database session lost)."""
        return not self._released and self._still_held()

    def release(self) -> None:
        if not self._released:
            self._released = True
            self._release()


class Claim:
    """Keys held together; a context manager that releases them."""

    def __init__(self, keys: Iterable[int], release: Callable[[], None]) -> None:
        self.keys = frozenset(keys)
        self._release = release
        self._released = False

    def release(self) -> None:
        if not self._released:
            self._released = True
            self._release()

    def __enter__(self) -> Claim:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


class _Backend(Protocol):
    def take_cycle(self, description: str) -> CycleLock | None: ...
    def cycle_holder(self) -> str | None: ...
    def take(self, keys: list[int], deadline: float | None) -> Claim | None:
        """`keys` in ascending order. With a deadline: all of them, waiting until then, else None.
        Without: those free now, without waiting."""
    def close(self) -> None: ...


class Locks:
    def __init__(self, db: Database) -> None:
        self._backend = _backend_for(db)

    def cycle(self, name: str) -> CycleLock | None:
        """The sync cycle's lock, or None while a live holder has it."""
        description = f"{name}, pid {os.getpid()} on {socket.gethostname()} since {datetime.now(UTC):%H:%M:%S} UTC"
        return self._backend.take_cycle(description)

    def cycle_holder(self) -> str | None:
        """Who holds the cycle's lock (name, pid, host, since when), if anyone does."""
        return self._backend.cycle_holder()

    def claim(self, keys: Iterable[int], *, wait: float) -> Claim:
        """All of `keys`, waiting up to `wait` seconds for their holders; PersonBusy after that."""
        ordered = sorted(set(keys))
        claim = self._backend.take(ordered, time.monotonic() + wait)
        if claim is None:
            persons = [k for k in ordered if k != PAGE]
            named = f"person {', '.join(map(str, persons))}" if persons else "the sync"
            raise PersonBusy(f"{named} is being synced by another action or the cycle; try again shortly")
        return claim

    def claim_free(self, keys: Iterable[int]) -> Claim:
        """Those of `keys` no one holds now (possibly none), without waiting."""
        ordered = sorted(set(keys))
        return (self._backend.take(ordered, None) if ordered else None) or Claim((), lambda: None)

    def close(self) -> None:
        self._backend.close()


def _backend_for(db: Database) -> _Backend:
    url = make_url(db.url)
    if url.get_backend_name() == "postgresql":
        return _Advisory(db.url)
    path = url.database
    if not path or path == ":memory:" or url.query.get("mode") == "memory":
        return _InProcess()
    return _Files(os.path.abspath(path))


def _remaining(deadline: float) -> float:
    return deadline - time.monotonic()


# -- in-memory SQLite --------------------------------------------------------------------------

class _InProcess:
    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._owners: dict[int, object] = {}
        self._cycle: tuple[object, str] | None = None

    def take_cycle(self, description: str) -> CycleLock | None:
        token = object()
        with self._changed:
            if self._cycle is not None:
                return None
            self._cycle = (token, description)

        def release() -> None:
            with self._changed:
                self._cycle = None

        return CycleLock(lambda: self._cycle is not None and self._cycle[0] is token, release)

    def cycle_holder(self) -> str | None:
        held = self._cycle
        return held[1] if held else None

    def take(self, keys: list[int], deadline: float | None) -> Claim | None:
        token = object()
        taken: list[int] = []
        with self._changed:
            for key in keys:
                while key in self._owners:
                    if deadline is None:
                        break
                    if _remaining(deadline) <= 0:
                        self._drop(taken)
                        return None
                    self._changed.wait(_remaining(deadline))
                else:
                    self._owners[key] = token
                    taken.append(key)
        return Claim(taken, lambda: self._release(taken))

    def _release(self, keys: list[int]) -> None:
        with self._changed:
            self._drop(keys)

    def _drop(self, keys: list[int]) -> None:
        for key in keys:
            self._owners.pop(key, None)
        self._changed.notify_all()

    def close(self) -> None:
        pass


# -- SQLite file -------------------------------------------------------------------------------

class _Files:
    def __init__(self, database_path: str) -> None:
        self._cycle_path = f"{database_path}-cycle.lock"
        self._claims = _ByteLocks.open(f"{database_path}-claims.lock")

    def take_cycle(self, description: str) -> CycleLock | None:
        handle = os.open(self._cycle_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(handle)
            return None
        os.ftruncate(handle, 0)
        os.pwrite(handle, description.encode(), 0)

        def still_held() -> bool:
            try:
                return os.stat(self._cycle_path).st_ino == os.fstat(handle).st_ino
            except FileNotFoundError:
                return False

        def release() -> None:
            os.ftruncate(handle, 0)
            os.close(handle)  # closing drops the lock

        return CycleLock(still_held, release)

    def cycle_holder(self) -> str | None:
        try:
            with open(self._cycle_path, encoding="utf-8", errors="replace") as handle:
                return handle.read().strip() or None
        except FileNotFoundError:
            return None

    def take(self, keys: list[int], deadline: float | None) -> Claim | None:
        return self._claims.take(keys, deadline)

    def close(self) -> None:
        self._claims.close()


class _ByteLocks:
    """One byte of a lock file per key, locked with POSIX record locks.

    The kernel keeps such locks per process, and closing any descriptor of the file drops all of
    the process's locks on it: so each process opens the file once (shared by every store on it,
    closed when the last one closes), and the threads of a process take turns in `_owners`.
    """

    _open: dict[str, _ByteLocks] = {}
    _registry = threading.Lock()

    def __init__(self, path: str) -> None:
        self.path = path
        self._handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        self._users = 0
        self._changed = threading.Condition()
        self._owners: dict[int, object] = {}

    @classmethod
    def open(cls, path: str) -> _ByteLocks:
        key = os.path.realpath(path)
        with cls._registry:
            locks = cls._open.get(key)
            if locks is None:
                locks = cls._open[key] = cls(path)
            locks._users += 1
            return locks

    def close(self) -> None:
        with self._registry:
            self._users -= 1
            if self._users == 0 and not self._owners:
                del self._open[os.path.realpath(self.path)]
                os.close(self._handle)

    def take(self, keys: list[int], deadline: float | None) -> Claim | None:
        token = object()
        taken: list[int] = []
        try:
            for key in keys:
                if self._take(key, token, deadline):
                    taken.append(key)
                elif deadline is not None:
                    self._release(taken)
                    return None
        except BaseException:
            self._release(taken)
            raise
        return Claim(taken, lambda: self._release(taken)) if taken else None

    def _take(self, key: int, token: object, deadline: float | None) -> bool:
        with self._changed:
            while key in self._owners:
                if deadline is None or _remaining(deadline) <= 0:
                    return False
                self._changed.wait(_remaining(deadline))
            self._owners[key] = token
        pause = 0.001
        while True:
            try:
                fcntl.lockf(self._handle, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, key)
                return True
            except OSError:  # another process holds it
                if deadline is None or _remaining(deadline) <= 0:
                    self._forget([key])
                    return False
                threading.Event().wait(min(pause, max(_remaining(deadline), 0)))
                pause = min(pause * 2, 0.02)

    def _release(self, keys: list[int]) -> None:
        for key in keys:
            fcntl.lockf(self._handle, fcntl.LOCK_UN, 1, key)
        self._forget(keys)

    def _forget(self, keys: list[int]) -> None:
        with self._changed:
            for key in keys:
                self._owners.pop(key, None)
            self._changed.notify_all()


# -- PostgreSQL --------------------------------------------------------------------------------

_KEEPALIVES = ("SELECT set_config('tcp_keepalives_idle', '10', false), set_config('tcp_keepalives_interval', '5', false),"
               " set_config('tcp_keepalives_count', '3', false)")
_BUSY_STATES = {"57014", "55P03", "40P01"}
"""Canceled by statement_timeout, lock not available, deadlock detected: the keys are taken."""


class _Advisory:
    """Session advisory locks on connections of their own, in autocommit (no transaction stays open)."""

    def __init__(self, url: str) -> None:
        self._engine = sa.create_engine(url, pool_size=2, max_overflow=-1, pool_pre_ping=True,
                                        isolation_level="AUTOCOMMIT",
                                        connect_args={"application_name": "tandem lock"})
        sa.event.listen(self._engine, "connect", _ask_for_keepalives)

    def take_cycle(self, description: str) -> CycleLock | None:
        connection = self._engine.connect()
        try:
            got = connection.execute(sa.text("SELECT pg_try_advisory_lock(CAST(:c AS integer), 0)"), {"c": _CYCLE_CLASS}).scalar()
            if got:
                connection.execute(sa.text("SELECT set_config('application_name', :d, false)"),
                                   {"d": description[:63]})
        except BaseException:
            _discard(connection)
            raise
        if not got:
            connection.close()
            return None

        def still_held() -> bool:
            try:
                return bool(connection.execute(sa.text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
                    " AND classid::bigint = :c AND objid::bigint = 0 AND objsubid = 2 AND granted"),
                    {"c": _CYCLE_CLASS}).scalar())
            except sa.exc.DBAPIError:
                return False

        return CycleLock(still_held, lambda: _let_go(connection))

    def cycle_holder(self) -> str | None:
        with self._engine.connect() as connection:
            row = connection.execute(sa.text(
                "SELECT a.application_name, host(a.client_addr) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
                " WHERE l.locktype = 'advisory' AND l.classid::bigint = :c AND l.objid::bigint = 0"
                " AND l.objsubid = 2 AND l.granted"), {"c": _CYCLE_CLASS}).first()
        if row is None:
            return None
        return f"{row[0]} (from {row[1]})" if row[1] else row[0]

    def take(self, keys: list[int], deadline: float | None) -> Claim | None:
        connection = self._engine.connect()
        try:
            if deadline is None:
                taken = list(connection.execute(sa.text(
                    "SELECT k FROM unnest(CAST(:keys AS integer[])) AS k WHERE pg_try_advisory_lock(CAST(:c AS integer), k)"),
                    {"keys": keys, "c": _CLAIM_CLASS}).scalars())
            else:
                taken = keys if self._wait_for(connection, keys, deadline) else []
        except BaseException:
            _discard(connection)
            raise
        if not taken:
            connection.close()
            return None
        return Claim(taken, lambda: _let_go(connection))

    def _wait_for(self, connection: sa.Connection, keys: list[int], deadline: float) -> bool:
        """All keys in order, each waited for; False (and none kept) when the deadline passes first."""
        timeout = f"{max(int(_remaining(deadline) * 1000), 1)}ms"
        connection.execute(sa.text("SELECT set_config('statement_timeout', :t, false)"), {"t": timeout})
        try:
            connection.execute(sa.text("SELECT pg_advisory_lock(CAST(:c AS integer), k) FROM unnest(CAST(:keys AS integer[])) AS k"),
                               {"keys": keys, "c": _CLAIM_CLASS}).all()
        except sa.exc.DBAPIError as error:
            if getattr(error.orig, "sqlstate", None) not in _BUSY_STATES:
                raise
            connection.execute(sa.text("SELECT pg_advisory_unlock_all()"))
            return False
        finally:
            connection.execute(sa.text("SELECT set_config('statement_timeout', '0', false)"))
        return True

    def close(self) -> None:
        self._engine.dispose()


def _ask_for_keepalives(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    """The server notices a vanished client machine within ~25 s and ends its session (and locks)."""
    cursor = dbapi_connection.cursor()
    cursor.execute(_KEEPALIVES)
    cursor.close()
    dbapi_connection.commit()


def _let_go(connection: sa.Connection) -> None:
    try:
        connection.execute(sa.text("SELECT pg_advisory_unlock_all(), set_config('application_name', 'tandem lock', false)"))
    except sa.exc.DBAPIError:
        _discard(connection)
        return
    connection.close()


def _discard(connection: sa.Connection) -> None:
    """A connection in doubt is closed for good, so no lock it may hold goes back to the pool."""
    connection.invalidate()
    connection.close()
