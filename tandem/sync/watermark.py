"""The `SystemModstamp` cursor of one object's pull, with an overlap window.

Records committed late, or sharing a stamp with the last row of a page, must be neither lost nor
applied twice. Each pull re-reads from `stamp - overlap` and skips the rows it already applied,
known by `(Id, SystemModstamp)` rather than by Id alone, so a record changed again within the
window is still taken.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

DEFAULT_OVERLAP = timedelta(minutes=5)


def parse_stamp(value: str) -> datetime:
    """A Salesforce datetime (`2024-01-01T10:00:00.000+0000`) as an aware UTC datetime."""
    return datetime.fromisoformat(value).astimezone(UTC)


def soql_datetime(value: datetime) -> str:
    """The unquoted SOQL literal for a datetime, in UTC with milliseconds."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


@dataclass(frozen=True)
class Cursor:
    stamp: datetime | None = None
    seen: frozenset[tuple[str, str]] = field(default=frozenset())
    overlap: timedelta = DEFAULT_OVERLAP
    read_at: datetime | None = None
    """Salesforce's clock when the last complete pull read: rows stamped before it minus the overlap
    were visible then, so a quiet org's window moves on and an idle pull reads an empty page."""

    @classmethod
    def load(cls, stored: str | None, overlap: timedelta = DEFAULT_OVERLAP) -> Cursor:
        if not stored:
            return cls(overlap=overlap)
        data = json.loads(stored)
        return cls(
            stamp=parse_stamp(data["stamp"]) if data.get("stamp") else None,
            seen=frozenset((i, s) for i, s in data.get("seen", [])),
            overlap=overlap,
            read_at=parse_stamp(data["read_at"]) if data.get("read_at") else None,
        )

    def dump(self) -> str:
        return json.dumps({
            "stamp": self.stamp.isoformat() if self.stamp else None,
            "read_at": self.read_at.isoformat() if self.read_at else None,
            "seen": sorted(map(list, self.seen)),
        })

    @property
    def floor(self) -> datetime | None:
        """Where the next pull starts reading: the overlap before what is known to be read."""
        known = [t for t in (self.stamp, self.read_at) if t is not None]
        return max(known) - self.overlap if known else None

    def where_clause(self) -> str:
        """The SOQL condition that re-reads the overlap window (empty on a first, full pull)."""
        if self.stamp is None:
            return ""
        return f"SystemModstamp >= {soql_datetime(self.floor)}"

    def already_applied(self, record_id: str, stamp: datetime | str) -> bool:
        return (record_id, _canonical(stamp)) in self.seen

    def advance(self, rows: Iterable[tuple[str, datetime | str]]) -> Cursor:
        """The cursor after applying `rows` of (Id, SystemModstamp); keeps what the overlap will re-read."""
        rows = [(record_id, _canonical(stamp)) for record_id, stamp in rows]
        if not rows:
            return self
        newest = max(parse_stamp(stamp) for _, stamp in rows)
        stamp = max(self.stamp, newest) if self.stamp else newest
        return replace(self, stamp=stamp, seen=frozenset((*self.seen, *rows))).forget_before_floor()

    def remember(self, rows: Iterable[tuple[str, datetime | str]]) -> Cursor:
        """The cursor that knows `rows` as handled without moving its stamp (rows read by a second
        query over the same window, such as the records that left a sync filter)."""
        return replace(self, seen=frozenset((*self.seen, *((i, _canonical(s)) for i, s in rows))))

    def completed(self, read_at: datetime | None) -> Cursor:
        """The cursor once a whole pull that began reading at `read_at` (Salesforce's clock) is applied."""
        if read_at is None or self.stamp is None:
            return self
        # The Date header has whole seconds: step back one so no row of that second is assumed read.
        read_at = read_at - timedelta(seconds=1)
        return replace(self, read_at=max(read_at, self.read_at) if self.read_at else read_at).forget_before_floor()

    def forget_before_floor(self) -> Cursor:
        floor = self.floor
        keep = frozenset((i, s) for i, s in self.seen if floor is None or parse_stamp(s) >= floor)
        return replace(self, seen=keep)


def _canonical(stamp: datetime | str) -> str:
    return (stamp.astimezone(UTC) if isinstance(stamp, datetime) else parse_stamp(stamp)).isoformat()
