"""Timestamps are stored as naive UTC text on SQLite and always read back as aware UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from tandem.people.tables import UtcDateTime

SQLITE = sa.create_engine("sqlite://").dialect


@pytest.mark.parametrize(("stored", "read"), [
    ("2026-01-02 03:04:05.000123", datetime(2026, 1, 2, 3, 4, 5, 123, tzinfo=UTC)),
    ("2026-01-02 03:04:05", datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)),
    ("2026-01-02", datetime(2026, 1, 2, tzinfo=UTC)),  # a date alone is midnight UTC, not a naive value
])
def test_stored_text_is_read_as_utc(stored, read):
    found = UtcDateTime().process_result_value(stored, SQLITE)
    assert found == read and found.tzinfo is UTC


@pytest.mark.parametrize("written", [
    datetime(2026, 1, 2, 3, 4, 5, 123, tzinfo=UTC),
    datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),  # whole seconds keep their six zeros
    datetime(2026, 1, 2, 5, 4, 5, 123, tzinfo=timezone(timedelta(hours=2))),
    datetime(1, 1, 1, tzinfo=UTC),
    datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
])
def test_what_is_written_reads_back_as_the_same_instant(written):
    kind = UtcDateTime()
    bind = kind.dialect_impl(SQLITE).bind_processor(SQLITE)
    stored = bind(written)
    assert stored == written.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
    assert kind.process_result_value(stored, SQLITE) == written


def test_a_naive_value_is_taken_as_utc():
    bind = UtcDateTime().dialect_impl(SQLITE).bind_processor(SQLITE)
    assert bind(datetime(2026, 1, 2, 3, 4, 5)) == "2026-01-02 03:04:05.000000"
    assert bind(None) is None
