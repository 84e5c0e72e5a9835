"""Creating, changing, reading and finding persons."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from tandem.errors import AmbiguousReference, InvalidInput, NotFound
from tandem.people import activities as types
from tandem.people.store import PersonStore

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def test_add_person_stores_typed_values_and_logs_new_lead(store: PersonStore) -> None:
    person = store.add_person(
        {"email": "ann@example.com", "firstName": "Ann", "lastName": "Lee", "numberOfEmployees": "40",
         "annualRevenue": "1250000.50", "unsubscribed": "no", "dateOfBirth": "1990-04-01"},
        source="cli", now=T0,
    )
    assert person.fields["numberOfEmployees"] == 40
    assert person.fields["annualRevenue"] == 1250000.5
    assert person.fields["unsubscribed"] is False
    assert person.fields["dateOfBirth"] == date(1990, 4, 1)
    assert person.created_at == T0 and person.updated_at == T0
    assert not person.linked and person.link.sfdc_is_deleted is False
    [activity] = store.list_activities(person.id)
    assert activity.activity_type_id == types.NEW_LEAD.id
    assert activity.primary_attribute_value == "Ann Lee"
    assert activity.attribute("Source Type") == "cli"


def test_add_persons_returns_ids_in_input_order(store: PersonStore) -> None:
    ids = store.add_persons([{"lastName": f"P{i}"} for i in range(25)], source="api")
    persons = store.get_persons(ids)
    assert [p.fields["lastName"] for p in persons] == [f"P{i}" for i in range(25)]
    assert len(store.list_activities(type_ids=[types.NEW_LEAD.id])) == 25


def test_update_writes_only_changed_fields_one_activity_each(store: PersonStore) -> None:
    person = store.add_person({"title": "VP", "city": "Ghent"}, source="cli", now=T0)
    later = T0 + timedelta(minutes=5)

    changed = store.update_person(
        person.id, {"title": "CTO", "city": "Ghent", "company": "Acme"}, source="cli",
        reason="promotion", now=later,
    )

    assert sorted(changed) == ["company", "title"]
    changes = store.list_activities(person.id, type_ids=[types.CHANGE_DATA_VALUE.id])
    by_field = {a.attribute("Field"): a for a in changes}
    assert set(by_field) == {"title", "company"}
    title = by_field["title"]
    assert (title.attribute("Old Value"), title.attribute("New Value")) == ("VP", "CTO")
    assert title.attribute("Source") == "cli" and title.attribute("Reason") == "promotion"
    assert title.primary_attribute_value == "Job Title"
    assert title.activity_date == later
    after = store.get_person(person.id)
    assert after.fields["title"] == "CTO" and after.updated_at == later


def test_update_with_nothing_new_writes_nothing(store: PersonStore) -> None:
    person = store.add_person({"title": "VP", "leadScore": 10}, source="cli", now=T0)
    assert store.update_person(person.id, {"title": "VP", "leadScore": "10"}, source="cli") == []
    assert len(store.list_activities(person.id)) == 1
    assert store.get_person(person.id).updated_at == T0


def test_clearing_a_field_is_a_change(store: PersonStore) -> None:
    person = store.add_person({"title": "VP"}, source="cli")
    assert store.update_person(person.id, {"title": ""}, source="cli") == ["title"]
    assert store.get_person(person.id).fields["title"] is None


def test_batch_update_applies_repeated_person_in_order(store: PersonStore) -> None:
    person = store.add_person({"title": "A"}, source="cli")
    result = store.update_persons([(person.id, {"title": "B"}), (person.id, {"title": "C"})], source="cli")
    assert result == [["title"], ["title"]]
    values = [(a.attribute("Old Value"), a.attribute("New Value"))
              for a in store.list_activities(person.id, type_ids=[types.CHANGE_DATA_VALUE.id])]
    assert values == [("A", "B"), ("B", "C")]
    assert store.get_person(person.id).fields["title"] == "C"


def test_update_of_missing_person_changes_nothing(store: PersonStore) -> None:
    person = store.add_person({"title": "A"}, source="cli")
    with pytest.raises(NotFound):
        store.update_persons([(person.id, {"title": "B"}), (person.id + 99, {"title": "B"})], source="cli")
    assert store.get_person(person.id).fields["title"] == "A"
    assert len(store.list_activities(person.id)) == 1
    assert store.list_pending_changes() == []


def test_email_lookup_is_case_insensitive_and_returns_every_match(store: PersonStore) -> None:
    first = store.add_person({"email": "Sam@Example.com"}, source="cli")
    second = store.add_person({"email": "sam@example.com"}, source="cli")
    store.add_person({"email": "other@example.com"}, source="cli")
    found = store.find_persons_by_email("SAM@example.COM")
    assert [p.id for p in found] == [first.id, second.id]
    assert store.find_persons_by_email("nobody@example.com") == []


def test_resolve_person_by_id_or_unique_email(store: PersonStore) -> None:
    person = store.add_person({"email": "one@example.com"}, source="cli")
    assert store.resolve_person(str(person.id)).id == person.id
    assert store.resolve_person("ONE@example.com").id == person.id
    with pytest.raises(NotFound):
        store.resolve_person("none@example.com")
    with pytest.raises(NotFound):
        store.resolve_person(str(person.id + 1))
    with pytest.raises(InvalidInput):
        store.resolve_person("not a reference")


def test_ambiguous_email_names_the_candidates(store: PersonStore) -> None:
    a = store.add_person({"email": "dup@example.com"}, source="cli")
    b = store.add_person({"email": "dup@example.com"}, source="cli")
    with pytest.raises(AmbiguousReference) as raised:
        store.resolve_person("dup@example.com")
    assert raised.value.candidates == [a.id, b.id]


def test_person_json_uses_marketo_names(store: PersonStore) -> None:
    person = store.add_person({"email": "j@example.com", "dateOfBirth": "2000-02-29"}, source="cli", now=T0)
    record = person.as_json()
    assert record["id"] == person.id
    assert record["email"] == "j@example.com"
    assert record["dateOfBirth"] == "2000-02-29"
    assert record["createdAt"] == "2026-01-05T09:00:00Z"
    assert record["sfdcType"] is None and record["sfdcIsDeleted"] is False
