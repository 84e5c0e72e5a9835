"""Custom fields are real columns added at run time and survive a restart with their types."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from tandem.errors import InvalidInput
from tandem.people.fields import FieldType
from tandem.people.origin import ChangeOrigin
from tandem.people.store import PersonStore

CUSTOM = [
    ("Favorite_Color__c", "picklist", "Blue", "Blue"),
    ("Credit_Score__c", "float", "712.5", 712.5),
    ("Seats__c", "integer", "12", 12),
    ("Budget__c", "currency", 99.99, 99.99),
    ("Newsletter__c", "boolean", "yes", True),
    ("Renewal_Date__c", "date", "2027-03-31", date(2027, 3, 31)),
    ("Last_Seen__c", "datetime", "2026-11-25T10:00:00+01:00", datetime(2026, 11, 25, 9, 0, tzinfo=UTC)),
    ("Internal_Notes__c", "text", "long\nnotes", "long\nnotes"),
    ("Nickname__c", "string", "Bo", "Bo"),
]


def test_custom_fields_survive_a_restart_with_typed_values(store: PersonStore, open_store) -> None:  # type: ignore[no-untyped-def]
    for name, type_, _, _ in CUSTOM:
        values = ["Red", "Green", "Blue"] if type_ == "picklist" else None
        store.fields.ensure_custom(name, type_, picklist_values=values)
    person = store.persons.add({name: raw for name, _, raw, _ in CUSTOM}, origin=ChangeOrigin.CLI)

    restarted = open_store()
    stored = restarted.persons.get(person.id).fields
    for name, _, _, expected in CUSTOM:
        assert stored[name] == expected, name
        assert type(stored[name]) is type(expected), name
    field = restarted.fields.get("Favorite_Color__c")
    assert field.custom and field.type is FieldType.PICKLIST
    assert field.picklist_values == ("Red", "Green", "Blue") and field.label == "Favorite Color"
    with pytest.raises(InvalidInput) as raised:
        restarted.persons.update(person.id, {"Favorite_Color__c": "Purple"}, origin=ChangeOrigin.CLI)
    assert raised.value.field == "Favorite_Color__c"


def test_custom_field_is_a_real_column(store: PersonStore) -> None:
    store.fields.ensure_custom("Seats__c", "integer")
    engine = sa.create_engine(store.url)
    try:
        columns = {c["name"] for c in sa.inspect(engine).get_columns("persons")}
    finally:
        engine.dispose()
    assert "Seats__c" in columns


def test_a_store_opened_before_the_field_existed_sees_it(store: PersonStore, open_store) -> None:  # type: ignore[no-untyped-def]
    other = open_store()
    store.fields.ensure_custom("Seats__c", "integer")
    person = other.persons.add({"Seats__c": "3"}, origin=ChangeOrigin.CLI)
    assert other.persons.get(person.id).fields["Seats__c"] == 3


def test_ensure_is_idempotent_and_updates_label_and_values(store: PersonStore) -> None:
    store.fields.ensure_custom("Favorite_Color__c", "picklist", label="Colour", picklist_values=["Red"])
    field = store.fields.ensure_custom("Favorite_Color__c", "picklist", label="Favorite Color",
                                       picklist_values=["Red", "Teal"])
    assert field.label == "Favorite Color" and field.picklist_values == ("Red", "Teal")
    assert [f.name for f in store.fields.all() if f.custom] == ["Favorite_Color__c"]
    person = store.persons.add({"Favorite_Color__c": "Teal"}, origin=ChangeOrigin.CLI)
    assert person.fields["Favorite_Color__c"] == "Teal"


def test_custom_string_length_is_enforced(store: PersonStore) -> None:
    store.fields.ensure_custom("Code__c", "string", length=4)
    with pytest.raises(InvalidInput, match="longer than 4"):
        store.persons.add({"Code__c": "ABCDE"}, origin=ChangeOrigin.CLI)
    assert store.persons.count() == 0


@pytest.mark.parametrize(
    ("name", "type_", "kwargs"),
    [
        ("Favorite Color", "string", {}),
        ("Bad__Name__c", "string", {}),
        ("email", "string", {}),
        ("Robert__c\"; DROP TABLE persons; --", "string", {}),
        ("Seats__c", "number", {}),
        ("Seats__c", "integer", {"length": 4}),
        ("Seats__c", "string", {"picklist_values": ["a"]}),
    ],
)
def test_bad_definitions_are_refused(store: PersonStore, name: str, type_: str, kwargs: dict) -> None:  # type: ignore[type-arg]
    with pytest.raises(InvalidInput):
        store.fields.ensure_custom(name, type_, **kwargs)
    assert [f for f in store.fields.all() if f.custom] == []


def test_type_change_is_refused(store: PersonStore) -> None:
    store.fields.ensure_custom("Seats__c", "integer")
    with pytest.raises(InvalidInput) as raised:
        store.fields.ensure_custom("Seats__c", "string")
    assert raised.value.field == "Seats__c"
    assert store.fields.get("Seats__c").type is FieldType.INTEGER


def test_change_of_custom_field_logs_and_queues(store: PersonStore) -> None:
    field = store.fields.ensure_custom("Seats__c", "integer")
    person = store.persons.add({}, origin=ChangeOrigin.CLI)
    store.persons.update(person.id, {"Seats__c": 5}, origin=ChangeOrigin.CLI)
    [change] = store.activities.find(person.id, type_ids=[13])
    assert change.primary_attribute_value_id == field.id
    assert change.attribute("New Value") == 5
    assert [(c.field, c.value) for c in store.outbox.find()] == [("Seats__c", 5)]


def test_a_custom_field_added_in_a_rolled_back_transaction_is_gone(store: PersonStore) -> None:
    with pytest.raises(RuntimeError), store.transaction():
        store.fields.ensure_custom("Seats__c", "integer")
        raise RuntimeError
    assert [f for f in store.fields.all() if f.custom] == []
    person = store.persons.add({"lastName": "Still works"}, origin=ChangeOrigin.CLI)
    assert "Seats__c" not in store.persons.get(person.id).fields
    store.fields.ensure_custom("Seats__c", "integer")
    assert store.persons.get(person.id).fields["Seats__c"] is None
