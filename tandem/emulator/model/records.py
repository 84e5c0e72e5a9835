"""Record storage for one object: a dict per record plus the indexes queries and upserts need.

A record is a plain dict of its non-null values (booleans only when true), which keeps a million
contacts within memory. SystemModstamp is strictly increasing across the org, so its index is an
append-only pair of lists searched with `bisect`; a record that moves leaves a stale entry behind
(recognised because its stamp no longer matches) until `compact` rebuilds the lists.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

from tandem.emulator.model.fields import FieldDef
from tandem.emulator.model.schema import ObjectSchema

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MS = timedelta(milliseconds=1)


def to_ms(moment: datetime) -> int:
    return (moment - EPOCH) // _MS


def from_ms(ms: int) -> datetime:
    return EPOCH + timedelta(milliseconds=ms)


def unique_key(f: FieldDef, value: object) -> object:
    """Unique and external-id text values compare case-insensitively unless the field says otherwise."""
    if isinstance(value, str) and not f.case_sensitive:
        return value.lower()
    return value


class RecordStore:
    """All records of one object, by 18-character Id, with a SystemModstamp index and value indexes."""

    def __init__(self, obj: ObjectSchema) -> None:
        self.obj = obj
        self.records: dict[str, dict] = {}
        self._stamps: list[int] = []
        self._stamp_ids: list[str] = []
        self.sorted_ids: list[str] = []
        """Every stored Id in ascending (case-sensitive) order: Ids are minted in order, so this appends."""
        self._stale = 0
        self.indexed_fields = [f for f in obj.fields.values() if (f.unique or f.external_id) and f.type != "id"]
        self.value_index: dict[str, dict[object, set[str]]] = {f.name: {} for f in self.indexed_fields}

    def __len__(self) -> int:
        return len(self.records)

    def get(self, record_id: str) -> dict | None:
        return self.records.get(record_id)

    def put(self, record_id: str, values: dict) -> None:
        """Store the record's new values and index them (the caller has already checked them)."""
        old = self.records.get(record_id)
        if old is not None:
            self._unindex_values(record_id, old)
            self._stale += 1
        else:
            self._add_id(record_id)
        self.records[record_id] = values
        self._index_values(record_id, values)
        stamp = values.get("SystemModstamp")
        if stamp is not None:
            self._append_stamp(to_ms(stamp), record_id)

    def restore(self, record_id: str, old: dict | None) -> None:
        """Undo a put: back to `old` values, or gone when the record did not exist."""
        current = self.records.get(record_id)
        if current is not None:
            self._unindex_values(record_id, current)
        if old is None:
            if self.records.pop(record_id, None) is not None:
                i = bisect.bisect_left(self.sorted_ids, record_id)
                if i < len(self.sorted_ids) and self.sorted_ids[i] == record_id:
                    del self.sorted_ids[i]
            return
        if current is None:
            self._add_id(record_id)
        self.records[record_id] = old
        self._index_values(record_id, old)
        stamp_ms = to_ms(old["SystemModstamp"])
        first = bisect.bisect_left(self._stamps, stamp_ms)
        last = bisect.bisect_right(self._stamps, stamp_ms)
        if record_id not in self._stamp_ids[first:last]:
            self._stamps.insert(last, stamp_ms)
            self._stamp_ids.insert(last, record_id)

    def replace_all(self, records: dict[str, dict]) -> None:
        """Drop every record and hold `records` instead (a saved state coming back), indexes rebuilt."""
        self.records = {}
        for index in self.value_index.values():
            index.clear()
        for record_id, values in records.items():
            self.records[record_id] = values
            self._index_values(record_id, values)
        self.compact()

    def _add_id(self, record_id: str) -> None:
        if not self.sorted_ids or record_id > self.sorted_ids[-1]:
            self.sorted_ids.append(record_id)
        else:
            bisect.insort(self.sorted_ids, record_id)

    def id_range(self, low: str | None, high: str | None) -> Iterator[str]:
        """Stored Ids whose first 15 characters lie within [low, high] (compared case-sensitively)."""
        ids = self.sorted_ids
        start = bisect.bisect_left(ids, low[:15]) if low else 0
        stop = bisect.bisect_right(ids, high[:15] + "~") if high else len(ids)
        return iter(ids[start:stop]) if stop - start < 4096 else (ids[i] for i in range(start, stop))

    def _append_stamp(self, stamp_ms: int, record_id: str) -> None:
        if self._stamps and stamp_ms < self._stamps[-1]:
            i = bisect.bisect_right(self._stamps, stamp_ms)
            self._stamps.insert(i, stamp_ms)
            self._stamp_ids.insert(i, record_id)
        else:
            self._stamps.append(stamp_ms)
            self._stamp_ids.append(record_id)

    def _index_values(self, record_id: str, values: dict) -> None:
        for f in self.indexed_fields:
            value = values.get(f.name)
            if value is not None:
                self.value_index[f.name].setdefault(unique_key(f, value), set()).add(record_id)

    def _unindex_values(self, record_id: str, values: dict) -> None:
        for f in self.indexed_fields:
            value = values.get(f.name)
            if value is not None:
                key = unique_key(f, value)
                holders = self.value_index[f.name].get(key)
                if holders is not None:
                    holders.discard(record_id)
                    if not holders:
                        del self.value_index[f.name][key]

    def find_by_value(self, f: FieldDef, value: object) -> set[str]:
        """Ids whose indexed field `f` holds `value` (case-insensitive text unless caseSensitive)."""
        return set(self.value_index.get(f.name, {}).get(unique_key(f, value), ()))

    def stamp_range(self, low_ms: int | None, high_ms: int | None, *, low_inclusive: bool = True,
                    high_inclusive: bool = True, descending: bool = False) -> Iterator[str]:
        """Ids whose current SystemModstamp lies in the range, in stamp order, skipping stale entries."""
        stamps = self._stamps
        if low_ms is None:
            start = 0
        elif low_inclusive:
            start = bisect.bisect_left(stamps, low_ms)
        else:
            start = bisect.bisect_right(stamps, low_ms)
        if high_ms is None:
            stop = len(stamps)
        elif high_inclusive:
            stop = bisect.bisect_right(stamps, high_ms)
        else:
            stop = bisect.bisect_left(stamps, high_ms)
        positions = range(stop - 1, start - 1, -1) if descending else range(start, stop)
        records, ids = self.records, self._stamp_ids
        for i in positions:
            record_id = ids[i]
            record = records.get(record_id)
            if record is not None and to_ms(record["SystemModstamp"]) == stamps[i]:
                yield record_id

    @property
    def stale_entries(self) -> int:
        return self._stale

    def compact(self) -> None:
        """Rebuild the stamp index without stale entries (never while a transaction is open)."""
        pairs = sorted((to_ms(r["SystemModstamp"]), rid) for rid, r in self.records.items())
        self.sorted_ids = sorted(self.records)
        self._stamps = [p[0] for p in pairs]
        self._stamp_ids = [p[1] for p in pairs]
        self._stale = 0

    def bulk_append(self, rows: list[tuple[str, dict]]) -> None:
        """Fast path for loading: rows already checked and stamped in increasing order."""
        records = self.records
        stamps, stamp_ids = self._stamps, self._stamp_ids
        indexed = bool(self.indexed_fields)
        ids_in_order = not self.sorted_ids or not rows or rows[0][0] > self.sorted_ids[-1]
        self.sorted_ids.extend(record_id for record_id, _ in rows)
        for record_id, values in rows:
            records[record_id] = values
            if indexed:
                self._index_values(record_id, values)
            stamps.append(to_ms(values["SystemModstamp"]))
            stamp_ids.append(record_id)
        if not ids_in_order:
            self.sorted_ids.sort()
        if len(stamps) > 1 and any(stamps[i] > stamps[i + 1] for i in range(len(stamps) - len(rows) - 1,
                                                                              len(stamps) - 1) if i >= 0):
            self.compact()
