"""Creating, changing, reading and finding persons."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from tandem.errors import AmbiguousReference, InvalidInput, NotFound
from tandem.people import activities as types
from tandem.people.origin import ChangeOrigin
from tandem.people.store import PersonStore

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def test_add_person_stores_typed_values_and_logs_new_lead(store: PersonStore) -> None:
    person = store.persons.add(
        {"email": "ann@example.com", "firstName": "Ann", "lastName": "Lee", "numberOfEmployees": "40",
         "annualRevenue": "1250000.50", "unsubscribed": "no", "dateOfBirth": "1990-04-01"},
        origin=ChangeOrigin.CLI, now=T0,
    )
    assert person.fields["numberOfEmployees"] == 40
    assert person.fields["annualRevenue"] == 1250000.5
    assert person.fields["unsubscribed"] is False
    assert person.fields["dateOfBirth"] == date(1990, 4, 1)
    assert person.created_at == T0 and person.updated_at == T0
    assert not person.linked and person.link.sfdc_is_deleted is False
    [activity] = store.activities.find(person.id)
    assert activity.activity_type_id == types.NEW_LEAD.id
    assert activity.primary_attribute_value == "Ann Lee"
    assert activity.attribute("Source Type") == ChangeOrigin.CLI


def test_add_persons_returns_ids_in_input_order(store: PersonStore) -> None:
    ids = store.persons.add_many([{"lastName": f"P{i}"} for i in range(25)], origin=ChangeOrigin.API)
    persons = store.persons.get_many(ids)
    assert [p.fields["lastName"] for p in persons] == [f"P{i}" for i in range(25)]
    assert len(store.activities.find(type_ids=[types.NEW_LEAD.id])) == 25


def test_update_writes_only_changed_fields_one_activity_each(store: PersonStore) -> None:
    person = store.persons.add({"title": "VP", "city": "Ghent"}, origin=ChangeOrigin.CLI, now=T0)
    later = T0 + timedelta(minutes=5)

    changed = store.persons.update(
        person.id, {"title": "CTO", "city": "Ghent", "company": "Acme"}, origin=ChangeOrigin.CLI,
        reason="promotion", now=later,
    )

    assert sorted(changed) == ["company", "title"]
    changes = store.activities.find(person.id, type_ids=[types.CHANGE_DATA_VALUE.id])
    by_field = {a.attribute("Field"): a for a in changes}
    assert set(by_field) == {"title", "company"}
    title = by_field["title"]
    assert (title.attribute("Old Value"), title.attribute("New Value")) == ("VP", "CTO")
    assert title.attribute("Source") == ChangeOrigin.CLI and title.attribute("Reason") == "promotion"
    assert title.primary_attribute_value == "Job Title"
    assert title.activity_date == later
    after = store.persons.get(person.id)
    assert after.fields["title"] == "CTO" and after.updated_at == later


def test_update_with_nothing_new_writes_nothing(store: PersonStore) -> None:
    person = store.persons.add({"title": "VP", "leadScore": 10}, origin=ChangeOrigin.CLI, now=T0)
    assert store.persons.update(person.id, {"title": "VP", "leadScore": "10"}, origin=ChangeOrigin.CLI) == []
    assert len(store.activities.find(person.id)) == 1
    assert store.persons.get(person.id).updated_at == T0


def test_clearing_a_field_is_a_change(store: PersonStore) -> None:
    person = store.persons.add({"title": "VP"}, origin=ChangeOrigin.CLI)
    assert store.persons.update(person.id, {"title": ""}, origin=ChangeOrigin.CLI) == ["title"]
    assert store.persons.get(person.id).fields["title"] is None


def test_batch_update_applies_repeated_person_in_order(store: PersonStore) -> None:
    person = store.persons.add({"title": "A"}, origin=ChangeOrigin.CLI)
    result = store.persons.update_many([(person.id, {"title": "B"}), (person.id, {"title": "C"})], origin=ChangeOrigin.CLI)
    assert result == [["title"], ["title"]]
    values = [(a.attribute("Old Value"), a.attribute("New Value"))
              for a in store.activities.find(person.id, type_ids=[types.CHANGE_DATA_VALUE.id])]
    assert values == [("A", "B"), ("B", "C")]
    assert store.persons.get(person.id).fields["title"] == "C"


def test_update_of_missing_person_changes_nothing(store: PersonStore) -> None:
    person = store.persons.add({"title": "A"}, origin=ChangeOrigin.CLI)
    with pytest.raises(NotFound):
        store.persons.update_many([(person.id, {"title": "B"}), (person.id + 99, {"title": "B"})], origin=ChangeOrigin.CLI)
    assert store.persons.get(person.id).fields["title"] == "A"
    assert len(store.activities.find(person.id)) == 1
    assert store.outbox.find() == []


def test_email_lookup_is_case_insensitive_and_returns_every_match(store: PersonStore) -> None:
    first = store.persons.add({"email": "Sam@Example.com"}, origin=ChangeOrigin.CLI)
    second = store.persons.add({"email": "sam@example.com"}, origin=ChangeOrigin.CLI)
    store.persons.add({"email": "other@example.com"}, origin=ChangeOrigin.CLI)
    found = store.persons.find_by_email("SAM@example.COM")
    assert [p.id for p in found] == [first.id, second.id]
    assert store.persons.find_by_email("nobody@example.com") == []


def test_resolve_person_by_id_or_unique_email(store: PersonStore) -> None:
    person = store.persons.add({"email": "one@example.com"}, origin=ChangeOrigin.CLI)
    assert store.persons.resolve(str(person.id)).id == person.id
    assert store.persons.resolve("ONE@example.com").id == person.id
    with pytest.raises(NotFound):
        store.persons.resolve("none@example.com")
    with pytest.raises(NotFound):
        store.persons.resolve(str(person.id + 1))
    with pytest.raises(InvalidInput):
        store.persons.resolve("not a reference")


def test_ambiguous_email_names_the_candidates(store: PersonStore) -> None:
    a = store.persons.add({"email": "dup@example.com"}, origin=ChangeOrigin.CLI)
    b = store.persons.add({"email": "dup@example.com"}, origin=ChangeOrigin.CLI)
    with pytest.raises(AmbiguousReference) as raised:
        store.persons.resolve("dup@example.com")
    assert raised.value.candidates == [a.id, b.id]


def test_person_json_uses_marketo_names(store: PersonStore) -> None:
    person = store.persons.add({"email": "j@example.com", "dateOfBirth": "2000-02-29"}, origin=ChangeOrigin.CLI, now=T0)
    record = person.as_json()
    assert record["id"] == person.id
    assert record["email"] == "j@example.com"
    assert record["dateOfBirth"] == "2000-02-29"
    assert record["createdAt"] == "2026-01-05T09:00:00Z"
    assert record["sfdcType"] is None and record["sfdcIsDeleted"] is False
