"""A record is known by its Tandem id wherever it appears: a Lead that Sync Person to SFDC created,
whose answer never reached Tandem (the process was killed after Salesforce committed), links to its
person on the next pull instead of becoming a second person."""

from __future__ import annotations

from tandem.people.origin import ChangeOrigin
from tandem.sync.actions import PersonActions
from tests.sync.observe import person


def _lead_made_but_not_linked(engine, store, sf, email="ada@example.com"):
    ada = store.persons.add({"email": email, "lastName": "Lovelace", "company": "Engines", "title": "Countess"},
                            origin=ChangeOrigin.CLI)
    made = sf.Lead.create({"LastName": "Lovelace", "Company": "Engines", "Email": email, "Title": "Countess",
                           "Tandem_Person_Id__c": engine.workspace.external_id(ada.id)})
    return ada, made["id"]


def test_the_pull_links_a_lead_made_for_a_person_to_that_person(engine, store, sf):
    engine.run_cycle()
    ada, lead_id = _lead_made_but_not_linked(engine, store, sf)
    before = store.persons.count()
    engine.run_cycle()
    assert store.persons.count() == before
    linked = store.persons.get(ada.id)
    assert linked.link.sfdc_type == "Lead" and linked.link.sfdc_id == lead_id
    assert store.outbox.find(person_ids=[ada.id]) == []  # Salesforce already holds its values


def test_an_action_retried_after_the_crash_updates_the_same_lead(engine, store, sf):
    engine.run_cycle()
    ada, lead_id = _lead_made_but_not_linked(engine, store, sf)
    result = PersonActions(engine).sync_person(ada.id)
    assert result.sfdc_id == lead_id
    engine.run_cycle()
    assert len(store.persons.find_by_email("ada@example.com")) == 1
    leads = sf.query("SELECT Id FROM Lead WHERE Email = 'ada@example.com'")["records"]
    assert [r["Id"] for r in leads] == [lead_id]
    assert person(store, "ada@example.com").link.sfdc_id == lead_id


def test_a_tandem_id_of_another_database_makes_a_new_person(engine, store, sf):
    engine.run_cycle()
    ada = store.persons.add({"email": "ada@example.com", "lastName": "Lovelace"}, origin=ChangeOrigin.CLI)
    sf.Lead.create({"LastName": "Other", "Company": "Elsewhere", "Email": "other@example.com",
                    "Tandem_Person_Id__c": f"0123456789abcdef-{ada.id}"})
    engine.run_cycle()
    assert not store.persons.get(ada.id).linked
    assert person(store, "other@example.com").id != ada.id


def test_a_lead_made_for_a_person_merged_since_links_to_the_winner(engine, store, sf):
    engine.run_cycle()
    ada, lead_id = _lead_made_but_not_linked(engine, store, sf)
    winner = store.persons.add({"email": "ada@new.example", "lastName": "Lovelace"}, origin=ChangeOrigin.CLI)
    store.merges.merge(winner.id, [ada.id], origin=ChangeOrigin.CLI)
    before = store.persons.count()
    engine.run_cycle()
    assert store.persons.count() == before  # no person of its own for the Lead: it is the winner's
    assert store.persons.get(winner.id).link.sfdc_id == lead_id
    PersonActions(engine).sync_person(winner.id)  # the winner's Lead already exists: no second one
    leads = sf.query("SELECT Id, Email FROM Lead WHERE LastName = 'Lovelace'")["records"]
    assert [r["Id"] for r in leads] == [lead_id]


def test_sync_person_of_a_merge_winner_takes_the_lead_made_for_the_person_merged_into_it(engine, store, sf):
    engine.run_cycle()
    ada, lead_id = _lead_made_but_not_linked(engine, store, sf)
    winner = store.persons.add({"email": "ada@new.example", "lastName": "Lovelace", "company": "Engines"},
                               origin=ChangeOrigin.CLI)
    store.merges.merge(winner.id, [ada.id], origin=ChangeOrigin.CLI)
    before = store.persons.count()
    result = PersonActions(engine).sync_person(winner.id)  # before any pull saw the Lead
    assert result.sfdc_id == lead_id
    engine.run_cycle()
    leads = sf.query("SELECT Id, Email, Tandem_Person_Id__c FROM Lead WHERE LastName = 'Lovelace'")["records"]
    assert [(r["Id"], r["Email"]) for r in leads] == [(lead_id, "ada@new.example")]
    assert leads[0]["Tandem_Person_Id__c"] == engine.workspace.external_id(winner.id)
    assert store.persons.count() == before
    assert store.persons.get(winner.id).link.sfdc_id == lead_id
