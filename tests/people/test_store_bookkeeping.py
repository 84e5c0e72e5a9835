"""The installation id, per-person create markers and the org's API usage, each kept in its own table."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from tandem.people.models import ApiUsageReading
from tandem.people.store import PersonStore

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_installation_id_is_made_once_and_seen_by_every_store(store: PersonStore, open_store) -> None:  # type: ignore[no-untyped-def]
    made = store.installation.id(now=T0)
    assert len(made) == 16 and made == store.installation.id()
    assert open_store().installation.id() == made
    assert store.watermarks.all() == []  # not a watermark any more


def test_stores_asking_at_once_for_the_first_installation_id_and_signing_key_get_one_each(store, open_store) -> None:  # type: ignore[no-untyped-def]
    """Every store reads none, makes one and inserts at once: the first insert wins for all of them."""
    stores = [store] + [open_store() for _ in range(3)]
    start = threading.Barrier(len(stores))

    def ask(one: PersonStore) -> tuple[str, str]:
        start.wait()
        return one.installation.id(), one.ui_accounts.signing_key()

    with ThreadPoolExecutor(len(stores)) as pool:
        answers = list(pool.map(ask, stores))
    assert len(set(answers)) == 1
    assert answers[0] == (store.installation.id(), store.ui_accounts.signing_key())


def test_create_markers_per_person_and_record_type(store: PersonStore) -> None:
    assert store.create_markers.get(1, "Lead") is None
    assert store.create_markers.mark(1, "Lead", now=T0) == T0
    store.create_markers.mark(2, "Lead", now=T0 + timedelta(minutes=1))
    assert store.create_markers.get(1, "Lead") == T0
    assert store.create_markers.get(1, "Contact") is None
    store.create_markers.mark(1, "Lead", now=T0 + timedelta(minutes=5))  # a later attempt moves it
    assert store.create_markers.get(1, "Lead") == T0 + timedelta(minutes=5)
    assert store.create_markers.get(2, "Lead") == T0 + timedelta(minutes=1)


def test_api_usage_keeps_the_latest_reading(store: PersonStore) -> None:
    assert store.api_usage.latest() is None
    store.api_usage.record(10, 100000, now=T0)
    latest = store.api_usage.record(25, 100000, now=T0 + timedelta(minutes=5))
    assert store.api_usage.latest() == latest == ApiUsageReading(25, 100000, T0 + timedelta(minutes=5))


def test_bookkeeping_rolls_back_with_the_transaction(store: PersonStore) -> None:
    try:
        with store.transaction():
            store.create_markers.mark(1, "Lead", now=T0)
            store.api_usage.record(1, 2, now=T0)
            raise RuntimeError
    except RuntimeError:
        pass
    assert store.create_markers.get(1, "Lead") is None and store.api_usage.latest() is None


def test_lane_spend_counted_by_stores_at_once_adds_up(store, open_store) -> None:  # type: ignore[no-untyped-def]
    """The day's first call counted by several processes at once: one row, every call in it."""
    stores = [store] + [open_store() for _ in range(3)]
    start = threading.Barrier(len(stores))
    day = T0.date()

    def count(one: PersonStore) -> None:
        start.wait()
        for _ in range(5):
            one.api_usage.spend("cycle", 2, day)

    with ThreadPoolExecutor(len(stores)) as pool:
        list(pool.map(count, stores))
    assert store.api_usage.spent(day) == {"cycle": len(stores) * 5 * 2}
