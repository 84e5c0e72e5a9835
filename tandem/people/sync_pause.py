"""The sync's pause switch: while it is on, `tandem run` starts no cycle (the web UI's Pause sync,
`tandem pause` and `tandem resume`).

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
BY_LENGTH = 64


@dataclass(frozen=True)
class Pause:
    paused_at: datetime
    paused_by: str
    reason: str

    def said(self) -> str:
        """Who paused the sync, when and why, as every output says it."""
        return f"paused by {self.paused_by} at {self.paused_at:%Y-%m-%d %H:%M} UTC: {self.reason}"

    def made_by(self, by: str, at: datetime) -> bool:
        """Whether this is the pause `pause(by, ..., now=at)` asked for, not another that stood."""
        return (self.paused_at, self.paused_by) == (at, by.strip())


class SyncPause:
    def __init__(self, db: Database) -> None:
        self._db = db

    def current(self) -> Pause | None:
        """The pause in force, or None while the sync runs."""
        with self._db.reading() as connection:
            row = connection.execute(sa.select(sync_pause).where(sync_pause.c.id == _ONLY_ROW)).mappings().first()
        return None if row is None else Pause(row["paused_at"], row["paused_by"], row["reason"])

    def pause(self, by: str, reason: str = "", now: datetime | None = None,
              unsaid: str = "paused from the web UI") -> Pause:
        """Pause the sync; pausing again keeps the first pause (its time, who and why). An empty
        `reason` is kept as `unsaid`; one longer than `REASON_LENGTH`, or not storable, is refused."""
        reason = (reason or "").strip() or unsaid
        if len(reason) > REASON_LENGTH:
            raise InvalidInput("reason", f"longer than {REASON_LENGTH} characters")
        check_storable("reason", reason)
        by = (by or "").strip()
        if not by or len(by) > BY_LENGTH:
            raise InvalidInput("by", f"give 1 to {BY_LENGTH} characters, got {len(by)}")
        check_storable("by", by)
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
