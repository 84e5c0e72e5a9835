"""The sync cycle end to end: the emulator's sample org on one side, a SQLite store on the other."""

from __future__ import annotations

from tandem.people.models import StepOperation, StepStatus
from tandem.people.origin import ChangeOrigin
from tests.sync.observe import CHANGE, CONFLICT, DROPPED, FAILED, SYNCED, activities_of, person

CLI = ChangeOrigin.CLI


def contact(sf, email):
    return sf.query(f"SELECT Id, Title, Phone, Credit_Score__c, Favorite_Color__c FROM Contact WHERE Email = '{email}'")["records"][0]


def lead(sf, email):
    return sf.query(f"SELECT Id, Title, Company, Rating FROM Lead WHERE Email = '{email}'")["records"][0]


def step(report, object_name, operation):
    [found] = [s for s in report.steps if s.object == object_name and s.operation is operation]
    return found


def test_first_cycle_brings_every_contact_and_lead(engine, store):
    report = engine.run_cycle()
    assert report.succeeded, report.steps
    assert store.persons.count() == 6
    wile = person(store, "wile@acme.example")
    assert wile.fields["firstName"] == "Wile"
    assert wile.fields["company"] == "Acme Corp"  # from the contact's Account
    assert wile.fields["Favorite_Color__c"] == "Red"
    assert wile.link.sfdc_type == "Contact" and wile.link.sfdc_id.startswith("003")
    assert wile.link.sfdc_account_id.startswith("001")
    lisa = person(store, "lisa@springfield.example")
    assert lisa.link.sfdc_type == "Lead" and lisa.fields["leadStatus"] == "Open - Not Contacted"
    assert step(report, "Contact", StepOperation.PULL_UPDATES).counts.new == 4
    assert step(report, "Lead", StepOperation.PULL_UPDATES).counts.new == 2


def test_hidden_and_unmapped_fields_never_become_person_fields(engine, store):
    engine.run_cycle()
    names = {f.name for f in store.fields.all()}
    assert "Internal_Notes__c" not in names  # hidden from the sync user
    assert "AssistantName" not in names and "Department" not in names  # standard, not in the mapping
    assert "Tandem_Person_Id__c" not in names  # the link's plumbing
    assert {"Credit_Score__c", "Favorite_Color__c", "Lead_Score__c", "Newsletter__c"} <= names


def test_salesforce_change_reaches_the_person(engine, store, sf):
    engine.run_cycle()
    sf.Contact.update(contact(sf, "wile@acme.example")["Id"], {"Title": "Super Genius"})
    report = engine.run_cycle()
    wile = person(store, "wile@acme.example")
    assert wile.fields["title"] == "Super Genius"
    [change] = [a for a in activities_of(store, wile.id, CHANGE) if a.attribute("Field") == "title"][-1:]
    assert change.attribute("Source") == ChangeOrigin.SALESFORCE and change.attribute("Old Value") == "Engineer"
    assert step(report, "Contact", StepOperation.PULL_UPDATES).counts.updated == 1


def test_tandem_change_reaches_salesforce_and_does_not_echo(engine, store, sf):
    engine.run_cycle()
    wile = person(store, "wile@acme.example")
    store.persons.update(wile.id, {"title": "Chief Engineer"}, origin=CLI)
    report = engine.run_cycle()
    assert contact(sf, "wile@acme.example")["Title"] == "Chief Engineer"
    assert step(report, "Contact", StepOperation.PUSH_UPDATES).counts.updated == 1
    assert activities_of(store, wile.id, SYNCED)
    assert store.outbox.find(person_ids=[wile.id]) == []
    changes_before = len(activities_of(store, wile.id, CHANGE))
    report = engine.run_cycle()
    assert len(activities_of(store, wile.id, CHANGE)) == changes_before  # the read-back is no change
    assert step(report, "Contact", StepOperation.PUSH_UPDATES).counts.updated == 0


def test_contact_conflict_salesforce_wins_and_the_lost_value_is_logged(engine, store, sf):
    engine.run_cycle()
    wile = person(store, "wile@acme.example")
    sf.Contact.update(contact(sf, "wile@acme.example")["Id"], {"Title": "From Salesforce"})
    store.persons.update(wile.id, {"title": "From Tandem"}, origin=CLI)
    engine.run_cycle()
    assert person(store, "wile@acme.example").fields["title"] == "From Salesforce"
    assert contact(sf, "wile@acme.example")["Title"] == "From Salesforce"
    [conflict] = activities_of(store, wile.id, CONFLICT)
    assert conflict.attribute("Lost Value") == "From Tandem"
    assert conflict.attribute("Kept Value") == "From Salesforce"
    assert conflict.attribute("Winner") == "Salesforce"
    assert store.outbox.find(person_ids=[wile.id]) == []


def test_different_fields_changed_on_each_side_both_land(engine, store, sf):
    engine.run_cycle()
    wile = person(store, "wile@acme.example")
    sf.Contact.update(contact(sf, "wile@acme.example")["Id"], {"Title": "Inventor"})
    store.persons.update(wile.id, {"phone": "+1 555 0199"}, origin=CLI)
    engine.run_cycle()
    assert contact(sf, "wile@acme.example")["Title"] == "Inventor"
    assert contact(sf, "wile@acme.example")["Phone"] == "+1 555 0199"
    after = person(store, "wile@acme.example")
    assert (after.fields["title"], after.fields["phone"]) == ("Inventor", "+1 555 0199")
    assert activities_of(store, wile.id, CONFLICT) == []


def test_lead_conflict_tandem_wins(engine, store, sf):
    engine.run_cycle()
    milton = person(store, "milton@initech.example")
    sf.Lead.update(lead(sf, "milton@initech.example")["Id"], {"Title": "Stapler Keeper"})
    store.persons.update(milton.id, {"title": "Collator"}, origin=CLI)
    engine.run_cycle()
    assert lead(sf, "milton@initech.example")["Title"] == "Collator"
    assert person(store, "milton@initech.example").fields["title"] == "Collator"
    [conflict] = activities_of(store, milton.id, CONFLICT)
    assert conflict.attribute("Lost Value") == "Stapler Keeper" and conflict.attribute("Winner") == "Tandem"


def test_read_only_field_is_pulled_but_never_pushed(engine, store, sf):
    engine.run_cycle()
    hank = person(store, "hank@globex.example")
    assert hank.fields["Credit_Score__c"] == 700
    sf.Contact.update(contact(sf, "hank@globex.example")["Id"], {"Credit_Score__c": 720})
    engine.run_cycle()
    assert person(store, "hank@globex.example").fields["Credit_Score__c"] == 720
    store.persons.update(hank.id, {"Credit_Score__c": 1}, origin=CLI)
    engine.run_cycle()
    assert contact(sf, "hank@globex.example")["Credit_Score__c"] == 720
    [dropped] = activities_of(store, hank.id, DROPPED)
    assert dropped.attribute("Field") == "Credit_Score__c"
    assert "read-only" in dropped.attribute("Reason")
    assert store.outbox.find(person_ids=[hank.id]) == []


def test_unmapped_standard_field_change_is_skipped(engine, store, sf):
    engine.run_cycle()
    sf.Contact.update(contact(sf, "wile@acme.example")["Id"], {"AssistantName": "Road Runner"})
    report = engine.run_cycle()
    counts = step(report, "Contact", StepOperation.PULL_UPDATES).counts
    assert (counts.updated, counts.skipped) == (0, 1)


def test_custom_field_syncs_both_ways(engine, store, sf):
    engine.run_cycle()
    wile = person(store, "wile@acme.example")
    store.persons.update(wile.id, {"Favorite_Color__c": "Blue"}, origin=CLI)
    engine.run_cycle()
    assert contact(sf, "wile@acme.example")["Favorite_Color__c"] == "Blue"
    sf.Contact.update(contact(sf, "wile@acme.example")["Id"], {"Favorite_Color__c": "Green"})
    engine.run_cycle()
    assert person(store, "wile@acme.example").fields["Favorite_Color__c"] == "Green"


def test_validation_failure_is_logged_and_the_rest_of_the_batch_lands(engine, store, sf):
    engine.run_cycle()
    wile, peter = person(store, "wile@acme.example"), person(store, "peter@initech.example")
    store.persons.update(wile.id, {"phone": "call me maybe"}, origin=CLI)
    store.persons.update(peter.id, {"title": "Lead Programmer"}, origin=CLI)
    report = engine.run_cycle()
    push = step(report, "Contact", StepOperation.PUSH_UPDATES)
    assert (push.counts.updated, push.counts.failed, push.status) == (1, 1, StepStatus.INCOMPLETE)
    assert contact(sf, "peter@initech.example")["Title"] == "Lead Programmer"
    assert contact(sf, "wile@acme.example")["Phone"] == "+1 555 0100"
    [failure] = activities_of(store, wile.id, FAILED)
    assert failure.primary_attribute_value == "FIELD_CUSTOM_VALIDATION_EXCEPTION"
    assert failure.attribute("Error Message") == "Phone must contain only digits, spaces, + ( ) . -"
    assert failure.attribute("Error Fields") == "Phone"
    [error] = store.sync_errors.recent(person_id=wile.id)
    assert error.error_code == "FIELD_CUSTOM_VALIDATION_EXCEPTION"
    [pending] = store.outbox.find(person_ids=[wile.id])
    assert pending.value == "call me maybe"  # nothing lost

    engine.run_cycle()  # not retried until the person changes again
    assert len(activities_of(store, wile.id, FAILED)) == 1
    store.persons.update(wile.id, {"phone": "+1 555 0142"}, origin=CLI)
    engine.run_cycle()
    assert contact(sf, "wile@acme.example")["Phone"] == "+1 555 0142"
    assert store.outbox.find(person_ids=[wile.id]) == []


def test_explicit_retry_of_failed_changes(engine, store, sf):
    engine.run_cycle()
    milton = person(store, "milton@initech.example")
    lead_id = milton.link.sfdc_id
    sf.Lead.update(lead_id, {"LeadSource": "Web"})
    store.persons.update(milton.id, {"email": "", "title": "Temp"}, origin=CLI)
    report = engine.run_cycle()
    assert step(report, "Lead", StepOperation.PUSH_UPDATES).counts.failed == 1  # web leads need an email
    sf.Lead.update(lead_id, {"LeadSource": "Other"})
    report = engine.run_cycle()
    assert step(report, "Lead", StepOperation.PUSH_UPDATES).counts.updated == 0  # waits for a retry
    report = engine.run_cycle(retry_failed=True)
    assert step(report, "Lead", StepOperation.PUSH_UPDATES).counts.updated == 1
    assert sf.Lead.get(lead_id)["Title"] == "Temp"
    assert sf.Lead.get(lead_id)["Email"] is None


def test_idle_cycle_is_cheap(engine, store):
    engine.run_cycle()
    report = engine.run_cycle()
    assert report.api_calls <= 3
    assert all(s.counts.new == s.counts.updated == 0 for s in report.steps)


def test_cycle_steps_are_recorded(engine, store):
    report = engine.run_cycle()
    recorded = store.steps.recent()
    assert {(s.object, s.operation) for s in recorded} == {(s.object, s.operation) for s in report.steps}
    assert all(s.status is StepStatus.SUCCEEDED and s.ended_at is not None for s in recorded)
    assert {s.cycle_id for s in recorded} == {report.cycle_id}


def test_tandem_edit_undone_before_the_cycle_is_no_change(engine, store, sf):
    """A Tandem value back at the base is no change: a Salesforce change of the field just applies."""
    engine.run_cycle()
    milton = person(store, "milton@initech.example")
    store.persons.update(milton.id, {"title": "Collator"}, origin=CLI)
    store.persons.update(milton.id, {"title": None}, origin=CLI)
    sf.Lead.update(lead(sf, "milton@initech.example")["Id"], {"Title": "Stapler Keeper"})
    engine.run_cycle()
    assert lead(sf, "milton@initech.example")["Title"] == "Stapler Keeper"
    assert person(store, "milton@initech.example").fields["title"] == "Stapler Keeper"
    assert activities_of(store, milton.id, CONFLICT) == []
    assert store.outbox.find(person_ids=[milton.id]) == []
