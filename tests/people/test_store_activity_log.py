"""Activity types and appending sync outcomes to a person's log."""

from __future__ import annotations

import pytest

from tandem.errors import InvalidInput, NotFound
from tandem.people import activities as types
from tandem.people.origin import ChangeOrigin
from tandem.people.store import PersonStore


def test_type_ids_are_unique_and_tandem_types_are_custom_range() -> None:
    ids = [t.id for t in types.ACTIVITY_TYPES]
    assert len(ids) == len(set(ids))
    assert {t.id for t in types.ACTIVITY_TYPES if t.name.startswith("SFDC Sync")} == {100001, 100002, 100009}
    assert (types.NEW_LEAD.id, types.CHANGE_DATA_VALUE.id, types.SYNC_LEAD_TO_SFDC.id,
            types.CONVERT_LEAD.id, types.MERGE_LEADS.id, types.DELETE_LEAD.id) == (12, 13, 19, 21, 32, 37)
    assert types.activity_type(100002) is types.SFDC_SYNC_FAILED
    with pytest.raises(InvalidInput):
        types.activity_type(99)


def test_types_json_shape() -> None:
    shape = types.CHANGE_DATA_VALUE.as_json()
    assert shape["id"] == 13 and shape["name"] == "Change Data Value"
    assert {"name": "New Value", "dataType": "string"} in shape["attributes"]
    assert set(shape["primaryAttribute"]) == {"name", "dataType"}


def test_log_sync_failure_on_a_person(store: PersonStore) -> None:
    person = store.persons.add({"email": "f@example.com"}, origin=ChangeOrigin.CLI)
    logged = store.activities.log(
        person.id, types.SFDC_SYNC_FAILED, "FIELD_CUSTOM_VALIDATION_EXCEPTION",
        {"Error Message": "Phone is required", "Field": "phone", "Salesforce Id": "0035g00000XYZabAAB"},
    )
    [stored] = store.activities.find(person.id, type_ids=[types.SFDC_SYNC_FAILED.id])
    assert stored == logged
    assert stored.attribute("Error Message") == "Phone is required"
    assert stored.as_json()["leadId"] == person.id
    assert len(stored.marketo_guid) == 32


def test_log_refuses_undeclared_attributes_and_unknown_persons(store: PersonStore) -> None:
    person = store.persons.add({}, origin=ChangeOrigin.CLI)
    with pytest.raises(InvalidInput):
        store.activities.log(person.id, types.SFDC_SYNC_CONFLICT, "title", {"Colour": "red"})
    with pytest.raises(NotFound):
        store.activities.log(person.id + 1, types.SFDC_SYNC_CONFLICT, "title", {"Lost Value": "x"})
    assert len(store.activities.find()) == 1


def test_activity_paging_filters(store: PersonStore) -> None:
    a = store.persons.add({}, origin=ChangeOrigin.CLI)
    b = store.persons.add({}, origin=ChangeOrigin.CLI)
    store.persons.update(a.id, {"title": "X"}, origin=ChangeOrigin.CLI)
    all_ = store.activities.find()
    assert [x.id for x in all_] == sorted(x.id for x in all_)
    assert [x.person_id for x in store.activities.find(after_id=all_[0].id)] == [b.id, a.id]
    assert len(store.activities.find(limit=2)) == 2


def test_persons_added_together_get_new_lead_activities_with_distinct_time_ordered_guids(store: PersonStore) -> None:
    first = store.persons.add_many([{"email": f"g{i}@example.com"} for i in range(300)], origin=ChangeOrigin.CLI)
    later = store.persons.add_many([{"email": "late@example.com"}], origin=ChangeOrigin.CLI)
    logged = store.activities.find(type_ids=[types.NEW_LEAD.id], limit=300) + \
        store.activities.find(type_ids=[types.NEW_LEAD.id], after_id=300)
    guids = [a.marketo_guid for a in logged]
    assert [a.person_id for a in logged] == [*first, *later]
    assert len(set(guids)) == 301
    assert all(len(g) == 32 and int(g, 16) >= 0 for g in guids)
    # the millisecond leads: ids made later sort after, so the unique index grows at one end
    assert guids[-1][:12] >= max(g[:12] for g in guids[:-1])
    assert {a.primary_attribute_value for a in logged[:3]} == {"g0@example.com", "g1@example.com", "g2@example.com"}
