"""Late commits: writes stamped in the past, never before a record's previous stamp, found once by
SystemModstamp queries and windows."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tandem.emulator.model import ApiError

STAMPED = "SELECT Id, SystemModstamp FROM Contact WHERE SystemModstamp > {} ORDER BY SystemModstamp"


def moment(stamp: str) -> datetime:
    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%f%z")


def stamps(org, admin, *ids: str) -> list[str]:
    return [org.retrieve(admin, "Contact", i, ["SystemModstamp"])["SystemModstamp"] for i in ids]


def test_a_late_create_is_stamped_in_the_past_with_all_its_dates(org, admin, clock):
    clock.advance(60_000)
    on_time = org.create(admin, "Contact", {"LastName": "On Time"})
    with org.late_commit(30_000):
        late = org.create(admin, "Contact", {"LastName": "Late"})
    record = org.retrieve(admin, "Contact", late, ["CreatedDate", "LastModifiedDate", "SystemModstamp"])
    assert record["SystemModstamp"] == "2026-05-28T20:27:10.000+0000"
    assert record["CreatedDate"] == record["LastModifiedDate"] == record["SystemModstamp"]
    assert stamps(org, admin, on_time) == ["2026-05-28T20:27:40.000+0000"]
    after_on_time = org.query(admin, STAMPED.format("2026-05-28T20:27:39Z")).records
    assert [row["Id"] for row in after_on_time] == [on_time]


def test_stamps_inside_one_late_commit_keep_their_order(org, admin, clock):
    with org.late_commit(10_000):
        first = org.create(admin, "Contact", {"LastName": "First"})
        second = org.create(admin, "Contact", {"LastName": "Second"})
    assert stamps(org, admin, first, second) == ["2026-05-28T20:26:30.000+0000", "2026-05-28T20:26:30.001+0000"]


def test_a_late_update_never_moves_a_stamp_back_and_is_found_once(org, admin, clock):
    record_id = org.create(admin, "Contact", {"LastName": "Recent"})
    [before] = stamps(org, admin, record_id)
    clock.advance(5_000)
    with org.late_commit(30_000):
        org.update(admin, "Contact", record_id, {"Title": "Late"})
    [after] = stamps(org, admin, record_id)
    assert moment(after) - moment(before) == timedelta(milliseconds=1)
    rows = org.query(admin, STAMPED.format("2026-05-28T20:00:00Z")).records
    assert [row["Id"] for row in rows].count(record_id) == 1
    clock.advance(1)
    with org.late_commit(60_000):
        org.delete(admin, "Contact", record_id)
    assert org.query(admin, "SELECT COUNT() FROM Contact WHERE Id = '%s'" % record_id,
                     include_deleted=True).total_size == 1


def test_stamps_after_a_late_commit_are_on_time_again(org, admin, clock):
    clock.advance(60_000)
    with org.late_commit(30_000):
        org.create(admin, "Contact", {"LastName": "Late"})
    after = org.create(admin, "Contact", {"LastName": "After"})
    assert stamps(org, admin, after) == ["2026-05-28T20:27:40.000+0000"]


def test_a_rolled_back_late_commit_leaves_nothing(org, admin, clock):
    before = org.query(admin, "SELECT COUNT() FROM Contact").total_size
    try:
        with org.late_commit(30_000), org.transaction():
            org.create(admin, "Contact", {"LastName": "Undone"})
            raise RuntimeError("roll back")
    except RuntimeError:
        pass
    assert org.query(admin, "SELECT COUNT() FROM Contact").total_size == before
    clock.advance(60_000)
    after = org.create(admin, "Contact", {"LastName": "After"})
    assert stamps(org, admin, after) == ["2026-05-28T20:27:40.000+0000"]


def test_a_forgotten_query_locator_is_invalid(org, admin):
    for i in range(250):
        org.create(admin, "Contact", {"LastName": f"Row {i}"})
    page = org.query(admin, "SELECT Id FROM Contact", batch_size=200)
    org.forget_query_locator(page.next_locator)
    with pytest.raises(ApiError) as raised:
        org.query_more(admin, page.next_locator)
    assert raised.value.error_code == "INVALID_QUERY_LOCATOR"
