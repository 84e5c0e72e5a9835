"""The `SystemModstamp` cursor of one object's pull, with an overlap window.

Records committed late, or sharing a stamp with the last row of a page, must be neither lost nor
applied twice. Each pull re-reads from `stamp - overlap` and skips the rows it already applied,
known by `(Id, SystemModstamp)` rather than by Id alone, so a record changed again within the
window is still taken.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
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

    @classmethod
    def load(cls, stored: str | None, overlap: timedelta = DEFAULT_OVERLAP) -> Cursor:
        if not stored:
            return cls(overlap=overlap)
        data = json.loads(stored)
        return cls(
            stamp=parse_stamp(data["stamp"]) if data.get("stamp") else None,
            seen=frozenset((i, s) for i, s in data.get("seen", [])),
            overlap=overlap,
        )

    def dump(self) -> str:
        return json.dumps(
            {"stamp": self.stamp.isoformat() if self.stamp else None, "seen": sorted(map(list, self.seen))}
        )

    def where_clause(self) -> str:
        """The SOQL condition that re-reads the overlap window (empty on a first, full pull)."""
        if self.stamp is None:
            return ""
        return f"SystemModstamp >= {soql_datetime(self.stamp - self.overlap)}"

    def already_applied(self, record_id: str, stamp: str) -> bool:
        return (record_id, _canonical(stamp)) in self.seen

    def advance(self, rows: Iterable[tuple[str, str]]) -> Cursor:
        """The cursor after applying `rows` of (Id, SystemModstamp); keeps what the overlap will re-read."""
        rows = [(record_id, _canonical(stamp)) for record_id, stamp in rows]
        if not rows:
            return self
        newest = max(parse_stamp(stamp) for _, stamp in rows)
        stamp = max(self.stamp, newest) if self.stamp else newest
        floor = stamp - self.overlap
        keep = {(i, s) for i, s in (*self.seen, *rows) if parse_stamp(s) >= floor}
        return Cursor(stamp=stamp, seen=frozenset(keep), overlap=self.overlap)


def _canonical(stamp: str) -> str:
    return parse_stamp(stamp).isoformat()
