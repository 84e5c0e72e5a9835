"""getUpdated / getDeleted windows."""

from __future__ import annotations

import datetime as dt

import pytest

from tandem.emulator.model import ApiError

from .conftest import START_MS

START = dt.datetime.fromtimestamp(START_MS / 1000, dt.timezone.utc)
MINUTE = START.replace(second=0, microsecond=0)


def test_updated_lists_changes_in_the_window(org, admin, clock):
    clock.advance(120_000)
    created = org.create(admin, "Contact", {"LastName": "New"})
    clock.advance(120_000)
    body = org.updated(admin, "Contact", START + dt.timedelta(minutes=1), START + dt.timedelta(minutes=3))
    assert body["ids"] == [created]
    assert body["latestDateCovered"] == (START + dt.timedelta(minutes=3)).replace(second=0, microsecond=0) \
        .strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def test_latest_date_covered_does_not_pass_now(org, admin, clock):
    clock.advance(30_000)
    body = org.updated(admin, "Contact", START - dt.timedelta(hours=1), START + dt.timedelta(hours=1))
    now_minute = (START + dt.timedelta(seconds=30)).replace(second=0, microsecond=0)
    assert body["latestDateCovered"] == now_minute.strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def test_deleted_lists_deletes_with_their_dates(org, admin, clock):
    doomed = org.create(admin, "Contact", {"LastName": "Doomed"})
    clock.advance(60_000)
    org.delete(admin, "Contact", doomed)
    clock.advance(180_000)
    body = org.deleted(admin, "Contact", START, START + dt.timedelta(minutes=3))
    assert [d["id"] for d in body["deletedRecords"]] == [doomed]
    assert body["deletedRecords"][0]["deletedDate"].startswith((START + dt.timedelta(minutes=1))
                                                               .strftime("%Y-%m-%dT%H:%M"))
    assert body["earliestDateAvailable"] < body["latestDateCovered"]
    assert doomed not in org.updated(admin, "Contact", START, START + dt.timedelta(minutes=3))["ids"]


@pytest.mark.parametrize(("start_offset", "end_offset"), [
    (dt.timedelta(minutes=5), dt.timedelta(minutes=1)),  # start after end
    (dt.timedelta(days=-31), dt.timedelta(days=-1)),  # start beyond 30 days back
    (dt.timedelta(seconds=5), dt.timedelta(seconds=50)),  # same minute once seconds are dropped
])
def test_invalid_windows(org, admin, start_offset, end_offset):
    for call in (org.updated, org.deleted):
        with pytest.raises(ApiError) as caught:
            call(admin, "Contact", MINUTE + start_offset, MINUTE + end_offset)
        assert caught.value.error_code == "INVALID_REPLICATION_DATE"
