"""Locks for a PostgreSQL database: session advisory locks on connections of their own.

The server drops a session's advisory locks when the session ends: at once when its process dies,
and within about 25 s when its machine vanishes (these sessions ask the server for short TCP
keepalives). The connections run in autocommit, so no transaction stays open while a lock is held.
"""

from __future__ import annotations

import time

import sqlalchemy as sa

from tandem.people.holds import Claim, CycleLock, remaining

_CYCLE_CLASS = 0x54414E01
_CLAIM_CLASS = 0x54414E02
"""Advisory lock classes ("TAN" and a number): the cycle's, and claims'."""
_KEEPALIVES = ("SELECT set_config('tcp_keepalives_idle', '10', false),"
               " set_config('tcp_keepalives_interval', '5', false), set_config('tcp_keepalives_count', '3', false)")
_DYING_SESSION_SECONDS = 2.0
"""How long a cycle waits for the lock on PostgreSQL: the session of a process killed a moment ago
takes a few milliseconds to end on the server."""
_BUSY_STATES = {"57014", "55P03", "40P01"}
"""Canceled by statement_timeout, lock not available, deadlock detected: the keys are taken."""


class AdvisoryLocks:
    """Session advisory locks on connections of their own, in autocommit (no transaction stays open)."""

    def __init__(self, url: str) -> None:
        self._engine = sa.create_engine(url, pool_size=2, max_overflow=-1, pool_pre_ping=True,
                                        isolation_level="AUTOCOMMIT",
                                        connect_args={"application_name": "tandem lock"})
        sa.event.listen(self._engine, "connect", _ask_for_keepalives)

    def take_cycle(self, description: str) -> CycleLock | None:
        connection = self._engine.connect()
        try:
            got = self._wait_for(connection, _CYCLE_CLASS, [0], time.monotonic() + _DYING_SESSION_SECONDS)
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
            except sa.exc.SQLAlchemyError:  # the session is gone, and its locks with it
                return False

        return CycleLock(still_held, lambda: _let_go(connection))

    def cycle_holder(self) -> str | None:
        with self._engine.connect() as connection:
            row = connection.execute(sa.text(
                "SELECT a.application_name, host(a.client_addr)"
                " FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
                " WHERE l.locktype = 'advisory' AND l.classid::bigint = :c AND l.objid::bigint = 0"
                " AND l.objsubid = 2 AND l.granted"
                " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"),
                {"c": _CYCLE_CLASS}).first()
        if row is None:
            return None
        return f"{row[0]} (from {row[1]})" if row[1] else row[0]

    def take(self, keys: list[int], deadline: float | None) -> Claim | None:
        connection = self._engine.connect()
        try:
            if deadline is None:
                taken = list(connection.execute(sa.text(
                    "SELECT k FROM unnest(CAST(:keys AS integer[])) AS k"
                    " WHERE pg_try_advisory_lock(CAST(:c AS integer), k)"),
                    {"keys": keys, "c": _CLAIM_CLASS}).scalars())
            else:
                taken = keys if self._wait_for(connection, _CLAIM_CLASS, keys, deadline) else []
        except BaseException:
            _discard(connection)
            raise
        if not taken:
            connection.close()
            return None
        return Claim(taken, lambda: _let_go(connection))

    def _wait_for(self, connection: sa.Connection, lock_class: int, keys: list[int], deadline: float) -> bool:
        """All keys in order, each waited for; False (and none kept) when the deadline passes first."""
        timeout = f"{max(int(remaining(deadline) * 1000), 1)}ms"
        connection.execute(sa.text("SELECT set_config('statement_timeout', :t, false)"), {"t": timeout})
        try:
            connection.execute(sa.text("SELECT pg_advisory_lock(CAST(:c AS integer), k)"
                                       " FROM unnest(CAST(:keys AS integer[])) AS k"),
                               {"keys": keys, "c": lock_class}).all()
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


def share_claim_key(connection: sa.Connection, key: int) -> None:
    """Inside the connection's transaction: wait until no claim holds `key`, and keep claims from
    taking it until the transaction ends. Transactions sharing a key do not wait for each other."""
    connection.execute(sa.text("SELECT pg_advisory_xact_lock_shared(CAST(:c AS integer), :k)"),
                       {"c": _CLAIM_CLASS, "k": key})


def _ask_for_keepalives(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    """The server notices a vanished client machine within ~25 s and ends its session (and locks)."""
    cursor = dbapi_connection.cursor()
    cursor.execute(_KEEPALIVES)
    cursor.close()
    dbapi_connection.commit()


def _let_go(connection: sa.Connection) -> None:
    try:
        connection.execute(sa.text(
            "SELECT pg_advisory_unlock_all(), set_config('application_name', 'tandem lock', false)"))
    except sa.exc.SQLAlchemyError:  # the session is gone: nothing of it stays held
        _discard(connection)
        return
    connection.close()


def _discard(connection: sa.Connection) -> None:
    """A connection in doubt is closed for good, so no lock it may hold goes back to the pool."""
    connection.invalidate()
    connection.close()
