"""What a taken lock hands out: the cycle's lock, and a claim on keys. Both are let go of explicitly,
or by the holder's death (see `tandem.people.locks`)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable


def remaining(deadline: float) -> float:
    """Seconds left until a `time.monotonic()` deadline."""
    return deadline - time.monotonic()


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
