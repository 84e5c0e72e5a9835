"""Pending changes per field (the outbox) and the agreed base values."""

from __future__ import annotations

from datetime import UTC, date, datetime

from tandem.people.models import PendingState, SalesforceLink
from tandem.people.store import SALESFORCE, PersonStore

T0 = datetime(2026, 2, 1, 8, 0, tzinfo=UTC)


def test_marketing_side_update_queues_one_pending_change_per_changed_field(store: PersonStore) -> None:
    person = store.add_person({"title": "VP", "city": "Ghent"}, source="cli")
    store.update_person(person.id, {"title": "CTO", "city": "Ghent", "dateOfBirth": "1980-05-06"},
                        source="api", now=T0)
    pending = {c.field: c for c in store.list_pending_changes()}
    assert set(pending) == {"title", "dateOfBirth"}
    assert pending["title"].value == "CTO"
    assert pending["dateOfBirth"].value == date(1980, 5, 6)
    assert pending["title"].origin == "api"
    assert pending["title"].changed_at == T0
    assert pending["title"].state is PendingState.PENDING and pending["title"].attempts == 0


def test_creation_queues_nothing(store: PersonStore) -> None:
    store.add_person({"title": "VP"}, source="cli")
    assert store.list_pending_changes() == []


def test_changes_from_salesforce_are_not_queued(store: PersonStore) -> None:
    person = store.add_person({"title": "VP"}, source="cli")
    assert store.update_person(person.id, {"title": "CTO"}, source=SALESFORCE) == ["title"]
    assert store.list_pending_changes() == []


def test_a_newer_value_replaces_the_pending_one_with_a_new_id(store: PersonStore) -> None:
    person = store.add_person({"title": "VP"}, source="cli")
    store.update_person(person.id, {"title": "CTO"}, source="cli")
    [first] = store.list_pending_changes()
    store.mark_push_attempt([first.id], now=T0)
    store.update_person(person.id, {"title": "CEO"}, source="cli")
    [second] = store.list_pending_changes()
    assert second.value == "CEO" and second.id != first.id
    assert second.state is PendingState.PENDING
    # The push of "CTO" succeeds afterwards: clearing it by id must keep "CEO" queued.
    assert store.clear_pending_changes([first.id]) == 0
    assert [c.value for c in store.list_pending_changes()] == ["CEO"]


def test_attempt_failure_and_clear(store: PersonStore) -> None:
    person = store.add_person({"title": "VP"}, source="cli")
    store.update_person(person.id, {"title": "CTO", "company": "Acme"}, source="cli")
    changes = store.list_pending_changes(person_ids=[person.id])
    ids = [c.id for c in changes]
    store.mark_push_attempt(ids, now=T0)
    in_flight = store.list_pending_changes(states=[PendingState.IN_FLIGHT])
    assert {c.attempts for c in in_flight} == {1} and {c.last_attempt_at for c in in_flight} == {T0}
    store.mark_push_failed(ids[:1], "FIELD_CUSTOM_VALIDATION_EXCEPTION: Title is required")
    [failed] = store.list_pending_changes(states=[PendingState.FAILED])
    assert failed.id == ids[0] and "Title is required" in (failed.last_error or "")
    assert store.clear_pending_changes(ids) == 2
    assert store.list_pending_changes() == []


def test_record_pending_changes_directly(store: PersonStore) -> None:
    person = store.add_person({}, source="cli")
    store.record_pending_changes(person.id, {"leadScore": "7"}, origin="sync")
    [change] = store.list_pending_changes()
    assert (change.field, change.value, change.origin) == ("leadScore", 7, "sync")


def test_bases_round_trip_typed_and_replace(store: PersonStore) -> None:
    person = store.add_person({}, source="cli")
    store.set_bases(person.id, {"title": "VP", "dateOfBirth": "1980-05-06", "unsubscribed": False}, now=T0)
    store.set_bases(person.id, {"title": "CTO"})
    assert store.get_bases(person.id) == {
        "title": "CTO", "dateOfBirth": date(1980, 5, 6), "unsubscribed": False,
    }
    other = store.add_person({}, source="cli")
    assert store.get_bases(other.id) == {}
    store.clear_bases(person.id)
    assert store.get_bases(person.id) == {}


def test_salesforce_link_is_written_by_the_sync_only(store: PersonStore) -> None:
    person = store.add_person({"email": "l@example.com"}, source="cli")
    link = SalesforceLink(
        sfdc_type="Lead", sfdc_id="00Q5g00000ABCDeEAH", sfdc_lead_id="00Q5g00000ABCDeEAH",
        sfdc_created_date=T0,
    )
    changed = store.set_salesforce_link(person.id, link)
    assert set(changed) == {"sfdcType", "sfdcId", "sfdcLeadId", "sfdcCreatedDate"}
    after = store.get_person(person.id)
    assert after.link == link and after.linked
    assert store.list_pending_changes() == []
    assert store.persons_by_sfdc_ids(["00Q5g00000ABCDeEAH"])["00Q5g00000ABCDeEAH"].id == person.id
    assert store.set_salesforce_link(person.id, link) == []


def test_large_batches_replace_and_clear_pending_changes(store: PersonStore) -> None:
    ids = store.add_persons([{"title": "A"}] * 1200, source="api")
    store.update_persons([(pid, {"title": "B"}) for pid in ids], source="api")
    store.update_persons([(pid, {"title": "C"}) for pid in ids], source="api")
    pending = store.list_pending_changes()
    assert len(pending) == 1200 and {c.value for c in pending} == {"C"}
    store.mark_push_attempt([c.id for c in pending])
    assert {c.attempts for c in store.list_pending_changes()} == {1}
    assert store.clear_pending_changes([c.id for c in pending]) == 1200


def test_a_value_sent_in_doubt_is_carried_when_a_newer_one_replaces_it(store: PersonStore) -> None:
    person = store.add_person({"title": "VP"}, source="cli")
    store.update_person(person.id, {"title": "CTO"}, source="cli")
    [sent] = store.list_pending_changes(person_ids=[person.id])
    assert not sent.sent_in_doubt
    store.mark_push_attempt([sent.id])  # the push dies before it learns the outcome
    store.update_person(person.id, {"title": "CEO"}, source="cli")
    [newer] = store.list_pending_changes(person_ids=[person.id])
    assert (newer.value, newer.sent_in_doubt, newer.sent_value) == ("CEO", True, "CTO")
    store.update_person(person.id, {"title": "Chair"}, source="cli")
    [newest] = store.list_pending_changes(person_ids=[person.id])
    assert (newest.sent_in_doubt, newest.sent_value) == (True, "CTO")  # still the value that went out


def test_a_refused_value_is_not_in_doubt(store: PersonStore) -> None:
    person = store.add_person({"title": "VP"}, source="cli")
    store.update_person(person.id, {"title": "CTO"}, source="cli")
    [refused] = store.list_pending_changes(person_ids=[person.id])
    store.mark_push_attempt([refused.id])
    store.mark_push_failed([refused.id], "FIELD_CUSTOM_VALIDATION_EXCEPTION: no")
    store.update_person(person.id, {"title": "CEO"}, source="cli")
    [newer] = store.list_pending_changes(person_ids=[person.id])
    assert not newer.sent_in_doubt
