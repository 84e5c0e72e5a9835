"""Reading ahead: the next pages download while the current one is written, memory bounded.

`prefetched(items, depth)` runs the iterator in a thread of its own and hands its items over a
queue of `depth`: the reader never holds more than `depth` items it has not taken yet. An error
in the reader arrives where its item would have, after every item before it, so whatever was
read before a failure is still written (and the pull's watermark moves past nothing unwritten).
Closing the consumer stops the reader at its next item.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")
_END = object()


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


def prefetched(items: Iterable[T], depth: int = 2) -> Iterator[T]:
    """`items`, read up to `depth` ahead in a background thread that starts reading at once."""
    handed: queue.Queue[object] = queue.Queue(maxsize=max(1, depth))
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                handed.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def read() -> None:
        try:
            for item in items:
                if not put(item):
                    return
            put(_END)
        except BaseException as error:  # handed to the consumer, raised there
            put(_Failed(error))

    reader = threading.Thread(target=read, name="tandem-prefetch", daemon=True)
    reader.start()
    return _taken(handed, stop, reader)


def _taken(handed: queue.Queue[object], stop: threading.Event, reader: threading.Thread) -> Iterator[T]:
    try:
        while True:
            item = handed.get()
            if item is _END:
                return
            if isinstance(item, _Failed):
                raise item.error
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        reader.join(timeout=5)
