"""Python's cyclic garbage collector, run less often while a cycle runs.

A pull makes several short-lived containers for every record (rows, values, typed records, row
tuples), almost none of them in reference cycles: reference counting frees them. With the
interpreter's default thresholds the collector still runs every 700 net allocations and, every
few thousand pages, walks every object the process holds, about 4 % of a large pull's CPU for
nothing found. While any cycle runs, the youngest generation is collected every `YOUNG`
net allocations instead (each older one, as by default, once per ten of the one before); the
previous thresholds come back when the last running cycle ends (cycles of several engines may
overlap in one process).
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

YOUNG = 10_000
_lock = threading.Lock()
_running = 0
_before: tuple[int, ...] = ()


@contextmanager
def collections_spaced() -> Iterator[None]:
    """Collect garbage less often until the block ends (the thresholds are the process's own)."""
    global _running, _before
    with _lock:
        if _running == 0:
            _before = gc.get_threshold()
            if _before[0]:  # 0: the process turned automatic collection off, which stays so
                gc.set_threshold(max(YOUNG, _before[0]), *(max(10, later) for later in _before[1:]))
        _running += 1
    try:
        yield
    finally:
        with _lock:
            _running -= 1
            if _running == 0:
                gc.set_threshold(*_before)
