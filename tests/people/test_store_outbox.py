"""Pending changes per field (the outbox) and the agreed base values."""

from __future__ import annotations

from datetime import UTC, date, datetime

from tandem.people.models import PendingState, SalesforceLink
from tandem.people.origin import ChangeOrigin
from tandem.people.store import PersonStore

T0 = datetime(2026, 2, 1, 8, 0, tzinfo=UTC)


def test_marketing_side_update_queues_one_pending_change_per_changed_field(store: PersonStore) -> None:
    person = store.persons.add({"title": "VP", "city": "Ghent"}, origin=ChangeOrigin.CLI)
    store.persons.update(person.id, {"title": "CTO", "city": "Ghent", "dateOfBirth": "1980-05-06"},
                         origin=ChangeOrigin.API, now=T0)
    pending = {c.field: c for c in store.outbox.find()}
    assert set(pending) == {"title", "dateOfBirth"}
    assert pending["title"].value == "CTO"
    assert pending["dateOfBirth"].value == date(1980, 5, 6)
    assert pending["title"].origin == ChangeOrigin.API
    assert pending["title"].changed_at == T0
    assert pending["title"].state is PendingState.PENDING and pending["title"].attempts == 0


def test_creation_queues_nothing(store: PersonStore) -> None:
    store.persons.add({"title": "VP"}, origin=ChangeOrigin.CLI)
    assert store.outbox.find() == []


def test_changes_from_salesforce_are_not_queued(store: PersonStore) -> None:
    person = store.persons.add({"title": "VP"}, origin=ChangeOrigin.CLI)
    assert store.persons.update(person.id, {"title": "CTO"}, origin=ChangeOrigin.SALESFORCE) == ["title"]
    assert store.outbox.find() == []


def test_a_newer_value_replaces_the_pending_one_with_a_new_id(store: PersonStore) -> None:
    person = store.persons.add({"title": "VP"}, origin=ChangeOrigin.CLI)
    store.persons.update(person.id, {"title": "CTO"}, origin=ChangeOrigin.CLI)
    [first] = store.outbox.find()
    store.outbox.mark_attempt([first.id], now=T0)
    store.persons.update(person.id, {"title": "CEO"}, origin=ChangeOrigin.CLI)
    [second] = store.outbox.find()
    assert second.value == "CEO" and second.id != first.id
    assert second.state is PendingState.PENDING
    # The push of "CTO" succeeds afterwards: clearing it by id must keep "CEO" queued.
    assert store.outbox.clear([first.id]) == 0
    assert [c.value for c in store.outbox.find()] == ["CEO"]


def test_attempt_failure_and_clear(store: PersonStore) -> None:
    person = store.persons.add({"title": "VP"}, origin=ChangeOrigin.CLI)
    store.persons.update(person.id, {"title": "CTO", "company": "Acme"}, origin=ChangeOrigin.CLI)
    changes = store.outbox.find(person_ids=[person.id])
    ids = [c.id for c in changes]
    store.outbox.mark_attempt(ids, now=T0)
    in_flight = store.outbox.find(states=[PendingState.IN_FLIGHT])
    assert {c.attempts for c in in_flight} == {1} and {c.last_attempt_at for c in in_flight} == {T0}
    store.outbox.mark_failed(ids[:1], "FIELD_CUSTOM_VALIDATION_EXCEPTION: Title is required")
    [failed] = store.outbox.find(states=[PendingState.FAILED])
    assert failed.id == ids[0] and "Title is required" in (failed.last_error or "")
    assert store.outbox.clear(ids) == 2
    assert store.outbox.find() == []


def test_record_pending_changes_directly(store: PersonStore) -> None:
    person = store.persons.add({}, origin=ChangeOrigin.CLI)
    store.outbox.record(person.id, {"leadScore": "7"}, origin=ChangeOrigin.SYNC_CYCLE)
    [change] = store.outbox.find()
    assert (change.field, change.value, change.origin) == ("leadScore", 7, ChangeOrigin.SYNC_CYCLE)


def test_bases_round_trip_typed_and_replace(store: PersonStore) -> None:
    person = store.persons.add({}, origin=ChangeOrigin.CLI)
    store.bases.set(person.id, {"title": "VP", "dateOfBirth": "1980-05-06", "unsubscribed": False}, now=T0)
    store.bases.set(person.id, {"title": "CTO"})
    assert store.bases.get(person.id) == {
        "title": "CTO", "dateOfBirth": date(1980, 5, 6), "unsubscribed": False,
    }
    other = store.persons.add({}, origin=ChangeOrigin.CLI)
    assert store.bases.get(other.id) == {}
    store.bases.clear(person.id)
    assert store.bases.get(person.id) == {}


def test_salesforce_link_is_written_by_the_sync_only(store: PersonStore) -> None:
    person = store.persons.add({"email": "l@example.com"}, origin=ChangeOrigin.CLI)
    link = SalesforceLink(
        sfdc_type="Lead", sfdc_id="00Q5g00000ABCDeEAH", sfdc_lead_id="00Q5g00000ABCDeEAH",
        sfdc_created_date=T0,
    )
    changed = store.persons.set_link(person.id, link)
    assert set(changed) == {"sfdcType", "sfdcId", "sfdcLeadId", "sfdcCreatedDate"}
    after = store.persons.get(person.id)
    assert after.link == link and after.linked
    assert store.outbox.find() == []
    assert store.persons.by_sfdc_ids(["00Q5g00000ABCDeEAH"])["00Q5g00000ABCDeEAH"].id == person.id
    assert store.persons.set_link(person.id, link) == []


def test_large_batches_replace_and_clear_pending_changes(store: PersonStore) -> None:
    ids = store.persons.add_many([{"title": "A"}] * 1200, origin=ChangeOrigin.API)
    store.persons.update_many([(pid, {"title": "B"}) for pid in ids], origin=ChangeOrigin.API)
    store.persons.update_many([(pid, {"title": "C"}) for pid in ids], origin=ChangeOrigin.API)
    pending = store.outbox.find()
    assert len(pending) == 1200 and {c.value for c in pending} == {"C"}
    store.outbox.mark_attempt([c.id for c in pending])
    assert {c.attempts for c in store.outbox.find()} == {1}
    assert store.outbox.clear([c.id for c in pending]) == 1200


def test_a_value_sent_in_doubt_is_carried_when_a_newer_one_replaces_it(store: PersonStore) -> None:
    person = store.persons.add({"title": "VP"}, origin=ChangeOrigin.CLI)
    store.persons.update(person.id, {"title": "CTO"}, origin=ChangeOrigin.CLI)
    [sent] = store.outbox.find(person_ids=[person.id])
    assert not sent.sent_in_doubt
    store.outbox.mark_attempt([sent.id])  # the push dies before it learns the outcome
    store.persons.update(person.id, {"title": "CEO"}, origin=ChangeOrigin.CLI)
    [newer] = store.outbox.find(person_ids=[person.id])
    assert (newer.value, newer.sent_in_doubt, newer.sent_value) == ("CEO", True, "CTO")
    store.persons.update(person.id, {"title": "Chair"}, origin=ChangeOrigin.CLI)
    [newest] = store.outbox.find(person_ids=[person.id])
    assert (newest.sent_in_doubt, newest.sent_value) == (True, "CTO")  # still the value that went out


def test_a_refused_value_is_not_in_doubt(store: PersonStore) -> None:
    person = store.persons.add({"title": "VP"}, origin=ChangeOrigin.CLI)
    store.persons.update(person.id, {"title": "CTO"}, origin=ChangeOrigin.CLI)
    [refused] = store.outbox.find(person_ids=[person.id])
    store.outbox.mark_attempt([refused.id])
    store.outbox.mark_failed([refused.id], "FIELD_CUSTOM_VALIDATION_EXCEPTION: no")
    store.persons.update(person.id, {"title": "CEO"}, origin=ChangeOrigin.CLI)
    [newer] = store.outbox.find(person_ids=[person.id])
    assert not newer.sent_in_doubt
