"""The sync's pause switch: while it is on, `tandem run` starts no cycle (the web UI's Pause sync).

One row while paused, none otherwise, so every process reading the database sees the same state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from tandem.errors import InvalidInput
from tandem.people.database import Database
from tandem.people.ui_tables import sync_pause
from tandem.people.validation import check_storable

_ONLY_ROW = 1
REASON_LENGTH = 500


@dataclass(frozen=True)
class Pause:
    paused_at: datetime
    paused_by: str
    reason: str


class SyncPause:
    def __init__(self, db: Database) -> None:
        self._db = db

    def current(self) -> Pause | None:
        """The pause in force, or None while the sync runs."""
        with self._db.reading() as connection:
            row = connection.execute(sa.select(sync_pause).where(sync_pause.c.id == _ONLY_ROW)).mappings().first()
        return None if row is None else Pause(row["paused_at"], row["paused_by"], row["reason"])

    def pause(self, by: str, reason: str = "", now: datetime | None = None) -> Pause:
        """Pause the sync; pausing again keeps the first pause (its time, who and why)."""
        reason = (reason or "").strip() or "paused from the web UI"
        if len(reason) > REASON_LENGTH:
            raise InvalidInput("reason", f"longer than {REASON_LENGTH} characters")
        check_storable("reason", reason)
        values = {"id": _ONLY_ROW, "paused_at": now or datetime.now(UTC), "paused_by": by, "reason": reason}
        with self._db.transaction() as connection:
            try:
                with connection.begin_nested():
                    connection.execute(sa.insert(sync_pause).values(values))
            except IntegrityError:
                pass  # already paused, by this or another process
        current = self.current()
        assert current is not None
        return current

    def resume(self, paused_at: datetime | None = None) -> bool:
        """Let the sync run again; False when it was not paused. With `paused_at`, only the pause
        made then is ended: one made since (after another resume) stands, and False is answered."""
        delete = sa.delete(sync_pause)
        if paused_at is not None:
            delete = delete.where(sync_pause.c.paused_at == paused_at)
        with self._db.transaction() as connection:
            return bool(connection.execute(delete).rowcount)
