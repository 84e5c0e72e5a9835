"""Watermarks, cycle steps, sync errors and the lease."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tandem.errors import InvalidInput, NotFound
from tandem.people.models import ErrorLevel, StepCounts, StepOperation, StepStatus
from tandem.people.store import PersonStore

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
TTL = timedelta(minutes=2)


def test_watermark_absent_then_set_then_moved(store: PersonStore) -> None:
    assert store.get_watermark("Contact", "updates") is None
    store.set_watermark("Contact", "updates", "2026-03-01T11:55:00.000Z", now=T0)
    store.set_watermark("Lead", "updates", "2026-03-01T11:50:00.000Z", now=T0)
    moved = store.set_watermark("Contact", "updates", "2026-03-01T12:00:00.000Z", now=T0 + TTL)
    mark = store.get_watermark("Contact", "updates")
    assert mark == moved
    assert (mark.value, mark.set_at) == ("2026-03-01T12:00:00.000Z", T0 + TTL)
    assert store.get_watermark("Contact", "deletes") is None
    assert [(w.object, w.stream) for w in store.list_watermarks()] == [("Contact", "updates"), ("Lead", "updates")]


def test_cycle_step_starts_in_process_and_finishes_with_counts(store: PersonStore) -> None:
    step = store.start_cycle_step("Contact", StepOperation.PULL_UPDATES, cycle_id="c1", now=T0)
    assert step.status is StepStatus.IN_PROCESS and step.ended_at is None
    done = store.finish_cycle_step(
        step.id, StepStatus.INCOMPLETE, StepCounts(new=2, updated=5, failed=1, skipped=3),
        message="1 record rejected", now=T0 + TTL,
    )
    assert done.status is StepStatus.INCOMPLETE
    assert done.counts == StepCounts(new=2, updated=5, deleted=0, failed=1, skipped=3)
    assert (done.started_at, done.ended_at) == (T0, T0 + TTL)
    [listed] = store.list_cycle_steps()
    assert listed == done


def test_cycle_steps_list_newest_first_and_filter_by_time(store: PersonStore) -> None:
    old = store.start_cycle_step("Lead", "push updates", now=T0 - timedelta(days=6))
    new = store.start_cycle_step("Lead", "push new", now=T0)
    assert [s.id for s in store.list_cycle_steps()] == [new.id, old.id]
    assert [s.id for s in store.list_cycle_steps(since=T0 - timedelta(days=5))] == [new.id]
    store.prune_sync_history(before=T0 - timedelta(days=5))
    assert [s.id for s in store.list_cycle_steps()] == [new.id]


def test_cycle_step_rules(store: PersonStore) -> None:
    with pytest.raises(InvalidInput):
        store.start_cycle_step("Lead", "pull everything")
    step = store.start_cycle_step("Lead", StepOperation.SYNC_SCHEMA)
    with pytest.raises(InvalidInput):
        store.finish_cycle_step(step.id, StepStatus.IN_PROCESS)
    with pytest.raises(NotFound):
        store.finish_cycle_step(step.id + 100, StepStatus.SUCCEEDED)


def test_sync_errors_record_and_filter(store: PersonStore) -> None:
    person = store.add_person({"email": "e@example.com"}, source="cli")
    record = store.record_sync_error(
        ErrorLevel.RECORD, "FIELD_CUSTOM_VALIDATION_EXCEPTION", "Phone is required",
        object="Contact", sfdc_id="0035g00000XYZabAAB", person_id=person.id, now=T0,
    )
    job = store.record_sync_error(ErrorLevel.JOB, "REQUEST_LIMIT_EXCEEDED", "limit", now=T0 + TTL)
    assert [e.id for e in store.list_sync_errors()] == [job.id, record.id]
    assert store.list_sync_errors(level=ErrorLevel.RECORD) == [record]
    assert store.list_sync_errors(person_id=person.id) == [record]
    assert store.list_sync_errors(since=T0 + timedelta(seconds=1)) == [job]
    assert record.sfdc_id == "0035g00000XYZabAAB" and record.level is ErrorLevel.RECORD


def test_lease_is_exclusive_until_it_expires(store: PersonStore) -> None:
    assert store.acquire_lease("sync", "worker-a", TTL, now=T0)
    assert not store.acquire_lease("sync", "worker-b", TTL, now=T0 + timedelta(seconds=30))
    assert store.acquire_lease("sync", "worker-a", TTL, now=T0 + timedelta(seconds=30))  # re-entrant
    lease = store.get_lease("sync")
    assert lease is not None and lease.owner == "worker-a"
    assert lease.expires_at == T0 + timedelta(seconds=30) + TTL


def test_expired_lease_is_taken_over_and_the_old_owner_cannot_renew(store: PersonStore) -> None:
    assert store.acquire_lease("sync", "worker-a", TTL, now=T0)
    assert store.renew_lease("sync", "worker-a", TTL, now=T0 + timedelta(minutes=1))
    expired = T0 + timedelta(minutes=1) + TTL
    assert store.acquire_lease("sync", "worker-b", TTL, now=expired)
    assert store.get_lease("sync").owner == "worker-b"  # type: ignore[union-attr]
    assert not store.renew_lease("sync", "worker-a", TTL, now=expired)
    store.release_lease("sync", "worker-a")  # not the owner: no effect
    assert store.get_lease("sync").owner == "worker-b"  # type: ignore[union-attr]
    store.release_lease("sync", "worker-b")
    assert store.get_lease("sync") is None
    assert store.acquire_lease("sync", "worker-a", TTL, now=expired)


def test_lease_cannot_be_renewed_after_expiry_even_if_nobody_took_it(store: PersonStore) -> None:
    assert store.acquire_lease("sync", "worker-a", TTL, now=T0)
    assert not store.renew_lease("sync", "worker-a", TTL, now=T0 + TTL)
    assert store.acquire_lease("sync", "worker-a", TTL, now=T0 + TTL)


def test_two_stores_race_for_the_lease(store: PersonStore, open_store) -> None:  # type: ignore[no-untyped-def]
    other = open_store()
    assert store.acquire_lease("sync", "process-1", TTL, now=T0)
    with other.transaction():
        assert not other.acquire_lease("sync", "process-2", TTL, now=T0 + timedelta(seconds=1))
        other.set_watermark("Lead", "updates", "x")  # the caller's transaction is still usable
    assert other.get_watermark("Lead", "updates") is not None
    assert other.acquire_lease("sync", "process-2", TTL, now=T0 + TTL)
    assert not store.renew_lease("sync", "process-1", TTL, now=T0 + TTL)
