"""SIGINT and SIGTERM as a request to stop: `tandem run` and `tandem sync` finish the page or batch they
are on (each is committed whole) instead of dying in the middle of it."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopRequest:
    """Set by the first stop signal; `by` names it (`SIGTERM`)."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.by: str | None = None

    def is_set(self) -> bool:
        return self._event.is_set()

    def wait(self, seconds: float) -> bool:
        """Rest up to `seconds`; True as soon as a stop is asked for."""
        return self._event.wait(seconds)

    @property
    def event(self) -> threading.Event:
        return self._event

    def _heard(self, signum: int, _: FrameType | None) -> None:
        if self.by is None:
            self.by = signal.Signals(signum).name
        self._event.set()


@contextmanager
def stop_on_signals() -> Iterator[StopRequest]:
    """A stop request the stop signals set while the block runs; the handlers before come back after."""
    request = StopRequest()
    before = {signum: signal.signal(signum, request._heard) for signum in STOP_SIGNALS}
    try:
        yield request
    finally:
        for signum, handler in before.items():
            signal.signal(signum, handler)
