"""Watermarks, cycle steps and sync errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tandem.errors import InvalidInput, NotFound
from tandem.people.activities import SFDC_SYNC_FILTER
from tandem.people.models import ErrorLevel, SalesforceLink, StepCounts, StepOperation, StepStatus
from tandem.people.origin import ChangeOrigin
from tandem.people.store import PersonStore
from tandem.people.sync_history import OUTSIDE_FILTER

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
TTL = timedelta(minutes=2)


def test_watermark_absent_then_set_then_moved(store: PersonStore) -> None:
    assert store.watermarks.get("Contact", "updates") is None
    store.watermarks.set("Contact", "updates", "2026-03-01T11:55:00.000Z", now=T0)
    store.watermarks.set("Lead", "updates", "2026-03-01T11:50:00.000Z", now=T0)
    moved = store.watermarks.set("Contact", "updates", "2026-03-01T12:00:00.000Z", now=T0 + TTL)
    mark = store.watermarks.get("Contact", "updates")
    assert mark == moved
    assert (mark.value, mark.set_at) == ("2026-03-01T12:00:00.000Z", T0 + TTL)
    assert store.watermarks.get("Contact", "deletes") is None
    assert [(w.object, w.stream) for w in store.watermarks.all()] == [("Contact", "updates"), ("Lead", "updates")]


def test_cycle_step_starts_in_process_and_finishes_with_counts(store: PersonStore) -> None:
    step = store.steps.start("Contact", StepOperation.PULL_UPDATES, cycle_id="c1", now=T0)
    assert step.status is StepStatus.IN_PROCESS and step.ended_at is None
    done = store.steps.finish(
        step.id, StepStatus.INCOMPLETE, StepCounts(new=2, updated=5, failed=1, skipped=3),
        message="1 record rejected", now=T0 + TTL,
    )
    assert done.status is StepStatus.INCOMPLETE
    assert done.counts == StepCounts(new=2, updated=5, deleted=0, failed=1, skipped=3)
    assert (done.started_at, done.ended_at) == (T0, T0 + TTL)
    [listed] = store.steps.recent()
    assert listed == done


def test_cycle_steps_list_newest_first_and_filter_by_time(store: PersonStore) -> None:
    old = store.steps.start("Lead", "push updates", now=T0 - timedelta(days=6))
    new = store.steps.start("Lead", "push new", now=T0)
    assert [s.id for s in store.steps.recent()] == [new.id, old.id]
    assert [s.id for s in store.steps.recent(since=T0 - timedelta(days=5))] == [new.id]
    store.steps.prune(before=T0 - timedelta(days=5))
    store.sync_errors.prune(before=T0 - timedelta(days=5))
    assert [s.id for s in store.steps.recent()] == [new.id]


def test_cycle_step_rules(store: PersonStore) -> None:
    with pytest.raises(InvalidInput):
        store.steps.start("Lead", "pull everything")
    step = store.steps.start("Lead", StepOperation.SYNC_SCHEMA)
    with pytest.raises(InvalidInput):
        store.steps.finish(step.id, StepStatus.IN_PROCESS)
    with pytest.raises(NotFound):
        store.steps.finish(step.id + 100, StepStatus.SUCCEEDED)


def test_sync_errors_record_and_filter(store: PersonStore) -> None:
    person = store.persons.add({"email": "e@example.com"}, origin=ChangeOrigin.CLI)
    record = store.sync_errors.record(
        ErrorLevel.RECORD, "FIELD_CUSTOM_VALIDATION_EXCEPTION", "Phone is required",
        object="Contact", sfdc_id="0035g00000XYZabAAB", person_id=person.id, now=T0,
    )
    job = store.sync_errors.record(ErrorLevel.JOB, "REQUEST_LIMIT_EXCEEDED", "limit", now=T0 + TTL)
    assert [e.id for e in store.sync_errors.recent()] == [job.id, record.id]
    assert store.sync_errors.recent(level=ErrorLevel.RECORD) == [record]
    assert store.sync_errors.recent(person_id=person.id) == [record]
    assert store.sync_errors.recent(since=T0 + timedelta(seconds=1)) == [job]
    assert record.sfdc_id == "0035g00000XYZabAAB" and record.level is ErrorLevel.RECORD


def test_old_sync_errors_are_pruned(store: PersonStore) -> None:
    old = store.sync_errors.record(ErrorLevel.JOB, "REQUEST_LIMIT_EXCEEDED", "limit", now=T0 - timedelta(days=6))
    new = store.sync_errors.record(ErrorLevel.JOB, "REQUEST_LIMIT_EXCEEDED", "limit", now=T0)
    store.sync_errors.prune(before=T0 - timedelta(days=5))
    assert store.sync_errors.recent() == [new] and old not in store.sync_errors.recent()


def test_a_flag_outside_a_sync_filter_is_resolved_only_by_a_later_activity_about_its_own_filter(
        store: PersonStore) -> None:
    """Before, any later SFDC Sync Filter activity resolved it: the push filter's resolved the pull filter's
    flag, and the other way round. An activity that names no filter resolves none."""
    sfdc_id = "0035g00000XYZabAAB"
    person = store.persons.add({"email": "e@example.com"}, origin=ChangeOrigin.CLI, now=T0)
    store.persons.set_link(person.id, SalesforceLink("Contact", sfdc_id, sfdc_contact_id=sfdc_id), now=T0)
    pull, push = (store.sync_errors.record(ErrorLevel.RECORD, OUTSIDE_FILTER, message, object="Contact",
                                           sfdc_id=sfdc_id, person_id=person.id, now=T0 + n * TTL)
                  for n, message in ((1, "the record left sync.filter.Contact (Title != 'Retired'); it is no "
                                         "longer pulled"),
                                     (2, "the person is outside sync.filter.push (leadSource != 'Partner')")))

    def logged(n: int, **rule: str) -> None:
        store.activities.log(person.id, SFDC_SYNC_FILTER, sfdc_id, {"Reason": "back inside", **rule},
                             now=T0 + n * TTL)

    def standing() -> list[str]:
        resolved = store.history.resolved_ids([pull.id, push.id])
        flagged = [rule for rule in ("sync.filter.Contact", "sync.filter.push")
                   if store.history.flagged_outside_filter([person.id], rule)]
        assert flagged == [name for name, flag in (("sync.filter.Contact", pull), ("sync.filter.push", push))
                           if flag.id not in resolved]
        return flagged

    assert standing() == ["sync.filter.Contact", "sync.filter.push"]
    logged(3)
    assert standing() == ["sync.filter.Contact", "sync.filter.push"]
    logged(4, Rule="sync.filter.push")
    assert standing() == ["sync.filter.Contact"]
    logged(5, Rule="sync.filter.Lead")
    assert standing() == ["sync.filter.Contact"]
    logged(6, Rule="sync.filter.Contact")
    assert standing() == []
