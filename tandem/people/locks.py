"""Locks that die with their holder: one sync cycle at a time, and one worker per person at a time.

Each kind of database gets a lock that the server or the kernel drops when its holder dies, so a
process killed with `kill -9` blocks nothing, and no clock or heartbeat is involved:

- PostgreSQL (`advisory_locks.py`): session advisory locks, on connections of their own (the
  cycle's is held for the cycle's life). The server drops them when the session ends: at once when
  the process dies, and within about 25 s when its machine vanishes (short TCP keepalives). Why not
  a lease row: nothing to renew during a long pull, no clock to trust across machines.
- SQLite file (`file_locks.py`): POSIX locks on files beside the database. The kernel drops them
  when the process dies, and a SQLite database lives on one machine, so nothing else has to notice.
  Why not SQLite's own lock: holding it for a cycle would stop every other writer.
- In-memory SQLite (here): locks inside the process, the only one that can see such a database.

A claim holds integer keys: person ids, and `PAGE` (held while a pull page is read, planned and
applied). Keys are always taken in ascending order (`PAGE` last), so two claimants never wait for
each other in a circle.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Protocol

from sqlalchemy.engine import make_url

from tandem.errors import PersonBusy
from tandem.people.advisory_locks import AdvisoryLocks
from tandem.people.database import Database
from tandem.people.file_locks import FileLocks
from tandem.people.holds import Claim, CycleLock, remaining

PAGE = 2**31 - 1
"""The key a pull page holds while it reads, plans and applies (the highest key: taken last)."""


CLAIMABLE_ON_POSTGRESQL = 6_000
"""Person keys that claims may hold together on PostgreSQL: each is an advisory lock in the server's
shared lock table, which holds 6,400 by default (64 per connection, 100 connections)."""


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
        since = datetime.now(UTC)
        description = f"{name}, pid {os.getpid()} on {socket.gethostname()} since {since:%H:%M:%S} UTC"
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

    @property
    def claimable(self) -> int | None:
        """How many keys claims may hold together (None: as many as wanted)."""
        return CLAIMABLE_ON_POSTGRESQL if isinstance(self._backend, AdvisoryLocks) else None

    def close(self) -> None:
        self._backend.close()


def _backend_for(db: Database) -> _Backend:
    url = make_url(db.url)
    if url.get_backend_name() == "postgresql":
        return AdvisoryLocks(db.url)
    path = url.database
    if not path or path == ":memory:" or url.query.get("mode") == "memory":
        return _InProcess()
    return FileLocks(os.path.abspath(path))


class _InProcess:
    """Locks for an in-memory database, which only this process (this store, even) can open."""

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
                    if remaining(deadline) <= 0:
                        self._drop(taken)
                        return None
                    self._changed.wait(remaining(deadline))
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
