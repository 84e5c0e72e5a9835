"""The sync-schema step follows the org: new fields are picked up, hidden ones stop, types are checked."""


import pytest

from tandem.people.models import ErrorLevel
from tandem.people.origin import ChangeOrigin
from tandem.sync.cycle import SyncEngine
from tests.sync.conftest import sync_client
from tests.sync.observe import person


@pytest.fixture
def org(emulator, reset_emulator):
    yield emulator.org
    emulator.org.reset()


@pytest.fixture
def fresh_schema_engine(base_url, ca_path, org, store):
    """An engine that describes the org at every cycle (no schema cache)."""
    return SyncEngine(sync_client(base_url, ca_path), store, schema_max_age_seconds=0)


def test_new_custom_field_is_picked_up_at_the_next_cycle(fresh_schema_engine, store, org, sf):
    fresh_schema_engine.run_cycle()
    assert "Segment__c" not in {f.name for f in store.fields.all()}
    org.define_custom_field("Contact", {"name": "Segment__c", "label": "Segment", "type": "string", "length": 40})
    wile_id = person(store, "wile@acme.example").link.sfdc_id
    sf.Contact.update(wile_id, {"Segment__c": "Enterprise"})
    fresh_schema_engine.run_cycle()
    field = store.fields.get("Segment__c")
    assert field.custom and field.label == "Segment"
    assert person(store, "wile@acme.example").fields["Segment__c"] == "Enterprise"
    store.persons.update(person(store, "wile@acme.example").id, {"Segment__c": "SMB"}, origin=ChangeOrigin.CLI)
    fresh_schema_engine.run_cycle()
    assert sf.Contact.get(wile_id)["Segment__c"] == "SMB"


def test_field_hidden_from_the_sync_user_stops_syncing_and_keeps_values(fresh_schema_engine, store, org, sf):
    fresh_schema_engine.run_cycle()
    wile = person(store, "wile@acme.example")
    org.set_field_level("Marketing Sync", "Contact", "Favorite_Color__c", "none")
    sf.Contact.update(wile.link.sfdc_id, {"Favorite_Color__c": "Blue"})
    store.persons.update(wile.id, {"Favorite_Color__c": "Green"}, origin=ChangeOrigin.CLI)
    report = fresh_schema_engine.run_cycle()
    assert report.succeeded
    assert person(store, "wile@acme.example").fields["Favorite_Color__c"] == "Green"  # kept, not pulled
    assert sf.Contact.get(wile.link.sfdc_id)["Favorite_Color__c"] == "Blue"  # not pushed


def test_type_change_is_reported_once_and_not_applied(fresh_schema_engine, store, org):
    fresh_schema_engine.run_cycle()
    before = person(store, "samir@initech.example").fields["Newsletter__c"]
    assert before is True
    # Newsletter__c arrives again under the same API name with another type (text, on Lead).
    org.set_field_level("Marketing Sync", "Contact", "Newsletter__c", "none")
    org.define_custom_field("Lead", {"name": "Newsletter__c", "type": "string", "length": 20})
    fresh_schema_engine.run_cycle()
    fresh_schema_engine.run_cycle()
    errors = [e for e in store.sync_errors.recent(level=ErrorLevel.JOB) if e.error_code == "FIELD_TYPE_CHANGED"]
    assert len(errors) == 1
    assert "Lead.Newsletter__c" in errors[0].message
    assert store.fields.get("Newsletter__c").type.value == "boolean"
    assert person(store, "samir@initech.example").fields["Newsletter__c"] is True


def test_a_change_waiting_on_a_field_then_hidden_from_the_sync_user_is_logged_as_not_sent(
        fresh_schema_engine, store, org, sf):
    """Before, the waiting value left the outbox with no activity: nothing said it never reached Salesforce."""
    from tandem.people import activities as types
    from tests.sync.observe import activities_of

    fresh_schema_engine.run_cycle()
    wile = person(store, "wile@acme.example")
    store.persons.update(wile.id, {"Favorite_Color__c": "Green", "title": "Boss"}, origin=ChangeOrigin.CLI)
    org.set_field_level("Marketing Sync", "Contact", "Favorite_Color__c", "none")
    assert fresh_schema_engine.run_cycle().succeeded
    record = sf.Contact.get(wile.link.sfdc_id)
    assert (record["Favorite_Color__c"], record["Title"]) == ("Red", "Boss")
    assert store.outbox.find(person_ids=[wile.id]) == []
    [held_back] = activities_of(store, wile.id, types.SFDC_VALUE_DROPPED)
    assert held_back.attribute("Field") == "Favorite_Color__c" and held_back.attribute("Value") == "Green"
    assert "field-level security" in held_back.attribute("Reason")


def test_values_set_before_a_new_field_is_picked_up_arrive_with_it(base_url, ca_path, org, database_url, sf):
    """Before, a value set in Salesforce while the kept describes did not show the field yet was
    passed over by the pull, and the field, once picked up, stayed empty in Tandem."""
    from tandem.people.store import PersonStore

    store = PersonStore(database_url)
    store.migrate()
    try:
        engine = SyncEngine(sync_client(base_url, ca_path), store)  # describes kept for an hour
        engine.run_cycle()
        org.define_custom_field("Contact", {"name": "Segment__c", "label": "Segment", "type": "string", "length": 40})
        wile = person(store, "wile@acme.example")
        sf.Contact.update(wile.link.sfdc_id, {"Segment__c": "Enterprise", "Title": "Chief"})
        engine.run_cycle()
        assert person(store, "wile@acme.example").fields["title"] == "Chief"
        engine.schema_max_age_seconds = 0  # the describes are an hour old
        assert engine.run_cycle().succeeded
        assert person(store, "wile@acme.example").fields["Segment__c"] == "Enterprise"
        assert person(store, "peter@initech.example").fields["Segment__c"] is None
        store.persons.update(wile.id, {"Segment__c": "SMB"}, origin=ChangeOrigin.CLI)
        assert engine.run_cycle().succeeded
        assert sf.Contact.get(wile.link.sfdc_id)["Segment__c"] == "SMB"
    finally:
        store.close()


def test_a_field_another_process_added_is_not_added_and_backfilled_again(base_url, ca_path, org, store,
                                                                          open_second_store, sf):
    """Before, a process whose list of person fields predated the field took it for new: its schema
    step counted it added again and read every record of the object once more."""
    here = SyncEngine(sync_client(base_url, ca_path), store, schema_max_age_seconds=0)
    there = SyncEngine(sync_client(base_url, ca_path), open_second_store(), schema_max_age_seconds=0)
    here.run_cycle()
    there.run_cycle()
    org.define_custom_field("Contact", {"name": "Segment__c", "label": "Segment", "type": "string", "length": 40})
    assert here.run_cycle().succeeded
    report = there.run_cycle()
    counts = {(s.object, s.operation.value): s.counts for s in report.steps}
    assert counts[("All", "sync schema")].new == 0
    assert counts[("Contact", "pull updates")].skipped == 0


def test_a_picklist_value_added_in_salesforce_is_taken_at_the_next_schema_step(fresh_schema_engine, store, org, sf):
    """Before, the person field kept the picklist it was made with: a value added in Salesforce was
    dropped by every pull (and refused in Tandem) for ever."""
    from tandem.emulator.model.fields import PicklistValue

    assert fresh_schema_engine.run_cycle().succeeded
    field = org.schema.object("Contact").field("Favorite_Color__c")
    before = field.picklist
    field.picklist = (*before, PicklistValue("Purple", "Purple"))
    org.schema_modified = org._stamp_schema()
    try:
        wile = person(store, "wile@acme.example")
        sf.Contact.update(wile.link.sfdc_id, {"Favorite_Color__c": "Purple"})
        assert fresh_schema_engine.run_cycle().succeeded
        assert person(store, "wile@acme.example").fields["Favorite_Color__c"] == "Purple"
        kept = store.fields.get("Favorite_Color__c")
        assert kept.picklist_values == ("Red", "Green", "Blue", "Purple") and kept.label == "Favorite Color"
        store.persons.update(person(store, "peter@initech.example").id, {"Favorite_Color__c": "Purple"},
                             origin=ChangeOrigin.CLI)
    finally:
        field.picklist = before
        org.schema_modified = org._stamp_schema()


def test_a_text_field_made_longer_in_salesforce_takes_longer_values_at_the_next_schema_step(
        fresh_schema_engine, store, org, sf):
    """Before, the person field kept the length it was made with: longer values were dropped for ever."""
    assert fresh_schema_engine.run_cycle().succeeded
    assert store.fields.get("External_Id__c").length == 64
    fields = [org.schema.object(name).field("External_Id__c") for name in ("Contact", "Lead")]
    for field in fields:
        field.length = 128
    org.schema_modified = org._stamp_schema()
    try:
        wile = person(store, "wile@acme.example")
        sf.Contact.update(wile.link.sfdc_id, {"External_Id__c": "x" * 100})
        assert fresh_schema_engine.run_cycle().succeeded
        assert person(store, "wile@acme.example").fields["External_Id__c"] == "x" * 100
        assert store.fields.get("External_Id__c").length == 128
    finally:
        for field in fields:
            field.length = 64
        org.schema_modified = org._stamp_schema()
