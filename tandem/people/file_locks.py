"""Locks for a SQLite database file: POSIX locks on files beside it, which the kernel drops when the
holding process dies (a SQLite database lives on one machine, so nothing else has to notice).

`NAME-cycle.lock` is the cycle's lock (`flock`, so two openings in one process exclude each other
too); its content names the holder, and stays behind a holder that was killed: whether anyone holds
the lock is asked of the lock itself. The folder `NAME-claims` holds one byte per claimed key, in one
of `CLAIM_FILES` files.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time

from tandem.people.holds import Claim, CycleLock, remaining

_LOOKING_SECONDS = 0.2
"""How long taking the cycle's lock keeps trying while it is held: `cycle_holder` holds it shared for
a moment to see whether anyone holds it, which must not make a cycle starting then fail."""
_HOLDER_STARTING = "another process (starting)"
CLAIM_FILES = 16
"""Files the claimed keys are spread over (key modulo this). The kernel keeps a file's record locks in
one list that each new lock walks: with every claimed key in one file, a push holding 10,000 persons
spent over a second of CPU in the kernel taking them."""


class FileLocks:
    """The cycle's lock and the claims of one SQLite database file."""

    def __init__(self, database_path: str) -> None:
        self._cycle_path = f"{database_path}-cycle.lock"
        self._claims_path = f"{database_path}-claims"
        self._claims: ByteLocks | None = None
        self._opening = threading.Lock()

    def take_cycle(self, description: str) -> CycleLock | None:
        handle = os.open(self._cycle_path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + _LOOKING_SECONDS
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(handle)
                    return None
                time.sleep(0.005)
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
            handle = os.open(self._cycle_path, os.O_RDONLY)
        except FileNotFoundError:
            return None
        try:
            try:
                fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:  # held: the file names the holder (a new one may not have yet)
                return os.pread(handle, 4096, 0).decode("utf-8", errors="replace").strip() or _HOLDER_STARTING
            return None  # free: whoever the file names died holding it
        finally:
            os.close(handle)  # and with it the shared lock, if taken

    def take(self, keys: list[int], deadline: float | None) -> Claim | None:
        with self._opening:  # on first use: a store is opened before its folder is known to exist
            if self._claims is None:
                self._claims = ByteLocks.open(self._claims_path)
        return self._claims.take(keys, deadline)

    def close(self) -> None:
        if self._claims is not None:
            self._claims.close()


class ByteLocks:
    """One byte per key in one of the folder's lock files, locked with POSIX record locks.

    The kernel keeps such locks per process, and closing any descriptor of a file drops all of the
    process's locks on it: so each process opens the files once (shared by every store on them,
    closed when the last one closes), and the threads of a process take turns in `_owners`.
    """

    _open: dict[str, ByteLocks] = {}
    _registry = threading.Lock()

    def __init__(self, path: str) -> None:
        self.path = path
        os.makedirs(path, exist_ok=True)
        self._handles = [os.open(os.path.join(path, f"{n:02d}.lock"), os.O_RDWR | os.O_CREAT, 0o644)
                         for n in range(CLAIM_FILES)]
        self._users = 0
        self._changed = threading.Condition()
        self._owners: dict[int, object] = {}

    @classmethod
    def open(cls, path: str) -> ByteLocks:
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
                for handle in self._handles:
                    os.close(handle)

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
                if deadline is None or remaining(deadline) <= 0:
                    return False
                self._changed.wait(remaining(deadline))
            self._owners[key] = token
        pause = 0.001
        while True:
            try:
                fcntl.lockf(self._handles[key % CLAIM_FILES], fcntl.LOCK_EX | fcntl.LOCK_NB, 1, key)
                return True
            except OSError:  # another process holds it
                if deadline is None or remaining(deadline) <= 0:
                    self._forget([key])
                    return False
                threading.Event().wait(min(pause, max(remaining(deadline), 0)))
                pause = min(pause * 2, 0.02)

    def _release(self, keys: list[int]) -> None:
        for key in keys:
            fcntl.lockf(self._handles[key % CLAIM_FILES], fcntl.LOCK_UN, 1, key)
        self._forget(keys)

    def _forget(self, keys: list[int]) -> None:
        with self._changed:
            for key in keys:
                self._owners.pop(key, None)
            self._changed.notify_all()
