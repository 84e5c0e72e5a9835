"""The `SystemModstamp` cursor of one object's pull: a window read once, bounded by the commit lag.

Salesforce stamps a record when its transaction writes it, and the record becomes visible when
the transaction commits, which may be a little later. Records stamped before `now - commit lag`
are all visible (the lag is the bound on how late a commit lands, as `getUpdated`'s
`latestDateCovered` is Salesforce's own), so a pull reads `[floor, bound)` with
`bound = Salesforce's clock - commit lag`, and the next pull starts at that bound: a window read
once is never read again, and a late commit is read when its window is, not missed.

A commit lag of zero trusts stamps to be committed in order (as the bundled emulator does unless
its `lateCommit` fault is on): the pull reads to the end and the next starts at the newest stamp.

Within a pull, pages go in `(SystemModstamp, Id)` order and the cursor saved with each page says
how far it got: rows below `stamp` are applied, and those at `stamp` are known by `(Id, stamp)`
(`seen`), so a pull stopped or killed at any point resumes there without applying a row twice.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import cached_property

DEFAULT_COMMIT_LAG = timedelta(0)
LEGACY_OVERLAP = timedelta(minutes=5)
"""What a cursor stored before the commit-lag bound promised: everything up to 5 minutes before it."""


def parse_stamp(value: str) -> datetime:
    """A Salesforce datetime (`2024-01-01T10:00:00.000+0000`) as an aware UTC datetime."""
    return datetime.fromisoformat(value).astimezone(UTC)


def soql_datetime(value: datetime) -> str:
    """The unquoted SOQL literal for a datetime, in UTC with milliseconds."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def whole_ms(value: datetime) -> datetime:
    """`value` cut to Salesforce's millisecond resolution (a bound is compared at that precision)."""
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


@dataclass(frozen=True)
class Cursor:
    stamp: datetime | None = None
    """The newest stamp applied: every row below it is applied, those at it are in `seen`."""
    seen: frozenset[tuple[str, str]] = field(default=frozenset())
    read_to: datetime | None = None
    """Every row stamped before this was read by a complete pull (the bound it read to)."""
    bound: datetime | None = None
    """The upper bound (exclusive) of the pull in progress; None reads to the end."""

    @classmethod
    def load(cls, stored: str | None) -> Cursor:
        if not stored:
            return cls()
        data = json.loads(stored)
        stamp = parse_stamp(data["stamp"]) if data.get("stamp") else None
        seen = frozenset((i, s) for i, s in data.get("seen", []))
        read_to = parse_stamp(data["read_to"]) if data.get("read_to") else None
        if "read_at" in data:  # stored with the overlap window: re-read the 5 minutes it re-read
            known = [t for t in (stamp, parse_stamp(data["read_at"]) if data.get("read_at") else None) if t]
            return cls(stamp=None, read_to=max(known) - LEGACY_OVERLAP if known else None)
        return cls(stamp=stamp, seen=seen, read_to=read_to)

    def dump(self) -> str:
        return json.dumps({
            "stamp": self.stamp.isoformat() if self.stamp else None,
            "read_to": self.read_to.isoformat() if self.read_to else None,
            "seen": sorted(map(list, self.seen)),
        })

    @property
    def floor(self) -> datetime | None:
        """Where the next read starts: every row stamped before it is applied."""
        known = [t for t in (self.stamp, self.read_to) if t is not None]
        return max(known) if known else None

    def reading_to(self, bound: datetime | None) -> Cursor:
        """This cursor for a pull that reads up to `bound` (exclusive; None: to the end)."""
        if bound is not None:
            bound = whole_ms(bound)
            if self.floor is not None and bound < self.floor:
                bound = self.floor  # Salesforce's clock seen going back: read nothing rather than re-read
        return replace(self, bound=bound)

    def where_clause(self) -> str:
        """The SOQL condition for the window `[floor, bound)` (empty on a first, unbounded pull)."""
        terms = []
        if self.floor is not None:
            terms.append(f"SystemModstamp >= {soql_datetime(self.floor)}")
        if self.bound is not None:
            terms.append(f"SystemModstamp < {soql_datetime(self.bound)}")
        return " AND ".join(terms)

    @property
    def empty_window(self) -> bool:
        """Whether the window has no room: nothing to read at all."""
        return self.bound is not None and self.floor is not None and self.bound <= self.floor

    def already_applied(self, record_id: str, stamp: datetime | str) -> bool:
        """Whether this row, or a later one of the same record, was applied (a Bulk job's rows are as
        the records were when it ran, older than a REST answer that came with a change since)."""
        newest = self._seen_ids.get(record_id)
        return newest is not None and (stamp if isinstance(stamp, datetime) else parse_stamp(stamp)) <= newest

    @cached_property
    def _seen_ids(self) -> dict[str, datetime]:
        """The newest stamp seen of each Id in `seen`: most rows a pull reads are not among them."""
        newest: dict[str, datetime] = {}
        for record_id, stamp in self.seen:
            at = parse_stamp(stamp)
            if record_id not in newest or at > newest[record_id]:
                newest[record_id] = at
        return newest

    def advance(self, rows: Iterable[tuple[str, datetime | str]], up_to: datetime | None = None) -> Cursor:
        """The cursor after applying `rows` of (Id, SystemModstamp), read in stamp order; its stamp
        goes no further than `up_to` (rows not read yet may lie below a row's stamp up to there)."""
        rows = [(record_id, stamp if isinstance(stamp, datetime) else parse_stamp(stamp)) for record_id, stamp in rows]
        if not rows:
            return self
        newest = max(stamp for _, stamp in rows)
        if up_to is not None and up_to < newest:
            newest = max(up_to, self.stamp) if self.stamp else up_to
        stamp = max(self.stamp, newest) if self.stamp else newest
        floor = max(stamp, self.read_to) if self.read_to else stamp
        # Only the rows at the floor are remembered (every row below it is applied).
        at_floor = [(record_id, _canonical(at)) for record_id, at in rows if at >= floor]
        return replace(self, stamp=stamp, seen=frozenset((*self.seen, *at_floor))).forget_before_floor()

    def remember(self, rows: Iterable[tuple[str, datetime | str]]) -> Cursor:
        """The cursor that knows `rows` as handled without moving its stamp (rows read by a second
        query over the same window, such as the records that left a sync filter)."""
        return replace(self, seen=frozenset((*self.seen, *((i, _canonical(s)) for i, s in rows))))

    def completed(self) -> Cursor:
        """The cursor once the whole window of this pull is applied: the next pull starts at its bound."""
        if self.bound is None:
            return replace(self, bound=None)
        read_to = max(self.bound, self.read_to) if self.read_to else self.bound
        return replace(self, read_to=read_to, bound=None).forget_before_floor()

    def forget_before_floor(self) -> Cursor:
        floor = self.floor
        keep = frozenset((i, s) for i, s in self.seen if floor is None or parse_stamp(s) >= floor)
        return replace(self, seen=keep)


def _canonical(stamp: datetime | str) -> str:
    return (stamp.astimezone(UTC) if isinstance(stamp, datetime) else parse_stamp(stamp)).isoformat()
