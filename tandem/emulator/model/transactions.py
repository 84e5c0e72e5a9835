"""The undo log behind `Org.transaction()`: every record change inside a block can be taken back.

Each write records the record's previous values; a block that raises restores them newest first.
Blocks nest: an inner failure undoes only the inner block's changes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from tandem.emulator.model.records import RecordStore


class UndoLog:
    def __init__(self) -> None:
        self._entries: list[tuple[RecordStore, str, dict | None]] = []
        self.depth = 0

    def record(self, store: RecordStore, record_id: str, previous: dict | None) -> None:
        if self.depth:
            self._entries.append((store, record_id, previous))

    @contextmanager
    def block(self) -> Iterator[None]:
        mark = len(self._entries)
        self.depth += 1
        try:
            yield
        except BaseException:
            self._undo_to(mark)
            raise
        finally:
            self.depth -= 1
            if not self.depth:
                self._entries.clear()

    def _undo_to(self, mark: int) -> None:
        while len(self._entries) > mark:
            store, record_id, previous = self._entries.pop()
            store.restore(record_id, previous)
