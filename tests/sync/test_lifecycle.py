"""Deletes, undeletes, merges and conversions made in Salesforce, followed by the sync cycle."""

from __future__ import annotations

import pytest

from tandem.errors import NotFound
from tandem.people import activities as types
from tandem.people.models import StepOperation
from tandem.people.origin import ChangeOrigin
from tandem.sync.actions import PersonActions
from tests.sync.observe import activities_of, person

SOAP = (
    '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns="urn:partner.soap.sforce.com">'
    "<soapenv:Header><SessionHeader><sessionId>{token}</sessionId></SessionHeader></soapenv:Header>"
    "<soapenv:Body>{body}</soapenv:Body></soapenv:Envelope>"
)


def soap(http, base_url, token, body):
    answer = http.post(f"{base_url}/services/Soap/u/62.0", data=SOAP.format(token=token, body=body),
                       headers={"Content-Type": "text/xml; charset=UTF-8", "SOAPAction": '""'})
    assert answer.status_code == 200 and "<success>true</success>" in answer.text, answer.text
    return answer.text


def step(report, object_name, operation):
    [found] = [s for s in report.steps if s.object == object_name and s.operation is operation]
    return found


def new_lead(sf, last, **fields):
    return sf.Lead.create({"LastName": last, "Company": "Merge Co", "Email": f"{last.lower()}@merge.example", **fields})["id"]


@pytest.fixture
def synced(engine):
    assert engine.run_cycle().succeeded
    return engine


# -- deletes and undeletes ------------------------------------------------------------------------


def test_delete_keeps_the_person_flagged_and_stops_its_push(synced, store, sf):
    wile = person(store, "wile@acme.example")
    sf.Contact.delete(wile.link.sfdc_id)
    store.persons.update(wile.id, {"title": "Ghost"}, origin=ChangeOrigin.CLI)
    report = synced.run_cycle()
    assert report.succeeded, report.steps
    kept = store.persons.get(wile.id)
    assert kept.link.sfdc_is_deleted and kept.fields["title"] == "Ghost"
    [deleted] = activities_of(store, wile.id, types.SFDC_RECORD_DELETED)
    assert deleted.primary_attribute_value == wile.link.sfdc_id
    assert step(report, "Contact", StepOperation.PULL_DELETES).counts.deleted == 1
    assert step(report, "Contact", StepOperation.PULL_UPDATES).counts.deleted == 0
    assert step(report, "Contact", StepOperation.PUSH_UPDATES).counts.updated == 0
    assert [c.field for c in store.outbox.find(person_ids=[wile.id])] == ["title"]
    again = synced.run_cycle()  # the deleted row again (overlap) is no second activity
    assert len(activities_of(store, wile.id, types.SFDC_RECORD_DELETED)) == 1
    assert step(again, "Contact", StepOperation.PULL_DELETES).counts.deleted == 0


def test_sync_person_after_a_delete_creates_a_new_lead_and_clears_the_flag(synced, store, sf):
    lisa = person(store, "lisa@springfield.example")
    old_lead = lisa.link.sfdc_id
    sf.Lead.delete(old_lead)
    synced.run_cycle()
    assert store.persons.get(lisa.id).link.sfdc_is_deleted
    result = PersonActions(synced).sync_person(lisa.id)
    assert result.created and result.sfdc_id != old_lead
    relinked = store.persons.get(lisa.id)
    assert not relinked.link.sfdc_is_deleted and relinked.link.sfdc_id == result.sfdc_id
    assert sf.Lead.get(result.sfdc_id)["Email"] == "lisa@springfield.example"
    report = synced.run_cycle()
    assert report.succeeded and store.persons.count() == 6  # the old deleted Lead makes no new person


def test_undelete_clears_the_flag(synced, store, sf, http, base_url, sf_token):
    wile = person(store, "wile@acme.example")
    sf.Contact.delete(wile.link.sfdc_id)
    synced.run_cycle()
    soap(http, base_url, sf_token, f"<undelete><ids>{wile.link.sfdc_id}</ids></undelete>")
    report = synced.run_cycle()
    back = store.persons.get(wile.id)
    assert not back.link.sfdc_is_deleted and back.link.sfdc_id == wile.link.sfdc_id
    assert activities_of(store, wile.id, types.SFDC_RECORD_UNDELETED)
    assert step(report, "Contact", StepOperation.PULL_DELETES).counts.updated == 1
    store.persons.update(wile.id, {"title": "Returned"}, origin=ChangeOrigin.CLI)
    synced.run_cycle()
    assert sf.Contact.get(wile.link.sfdc_id)["Title"] == "Returned"  # pushed again



def test_a_change_refused_as_deleted_goes_out_with_the_cycle_that_pulls_the_undelete(synced, store, sf, http, base_url,
                                                                                    sf_token):
    """Before, a change the push met as ENTITY_IS_DELETED (the pull had not seen the delete yet, as a
    real org's commit lag allows) waited out its back-off after the record was restored."""
    wile = person(store, "wile@acme.example")
    store.persons.update(wile.id, {"title": "Back Again"}, origin=ChangeOrigin.CLI)
    sf.Contact.delete(wile.link.sfdc_id)
    synced.pusher().push("Contact")  # the push before any pull sees the delete
    [refused] = store.outbox.find(person_ids=[wile.id])
    assert refused.last_error and "ENTITY_IS_DELETED" in refused.last_error
    synced.run_cycle()  # the delete is pulled
    assert store.persons.get(wile.id).link.sfdc_is_deleted
    soap(http, base_url, sf_token, f"<undelete><ids>{wile.link.sfdc_id}</ids></undelete>")
    report = synced.run_cycle()
    assert report.succeeded, report.steps
    assert sf.Contact.get(wile.link.sfdc_id)["Title"] == "Back Again"
    assert store.outbox.find(person_ids=[wile.id]) == []

# -- merges -----------------------------------------------------------------------------------------


def test_three_way_merge_in_salesforce_merges_the_persons(synced, store, sf):
    master, second, third = new_lead(sf, "Master"), new_lead(sf, "Second", Title="CTO"), new_lead(sf, "Third", City="Oslo")
    synced.run_cycle()
    ids = {last: person(store, f"{last.lower()}@merge.example").id for last in ("Master", "Second", "Third")}
    for last, score in (("Master", 10), ("Second", 5), ("Third", 7)):
        store.persons.update(ids[last], {"leadScore": score}, origin=ChangeOrigin.CLI)
    before = {a.id for pid in ids.values() for a in store.activities.find(pid)}

    merged = synced.client.merge_records("Lead", master, [second, third])
    assert set(merged.merged_ids) == {second, third}
    report = synced.run_cycle()

    assert report.succeeded, report.steps
    winner = store.persons.get(ids["Master"])
    assert winner.fields["lastName"] == "Master" and winner.fields["email"] == "master@merge.example"
    assert winner.fields["title"] == "CTO" and winner.fields["city"] == "Oslo"  # values fill empty fields
    assert winner.fields["leadScore"] == 22
    assert before <= {a.id for a in store.activities.find(winner.id)}
    [merge] = activities_of(store, winner.id, types.SFDC_MERGE_LEADS)
    assert merge.attribute("Master SFDC Id") == master
    for last in ("Second", "Third"):
        with pytest.raises(NotFound, match=f"merged into person {winner.id}"):
            store.persons.get(ids[last])
    assert step(report, "Lead", StepOperation.PULL_DELETES).counts.deleted == 2
    synced.run_cycle()
    assert sf.Lead.get(master)["Title"] == "CTO"  # the filled values reach the master record


def test_contacts_of_two_accounts_merged_in_salesforce_keep_the_masters_company_fields(synced, store, sf):
    wile, peter = person(store, "wile@acme.example"), person(store, "peter@initech.example")
    sf.Account.update(wile.link.sfdc_account_id, {"NumberOfEmployees": None})
    sf.Account.update(peter.link.sfdc_account_id, {"NumberOfEmployees": 120})
    assert synced.run_cycle().succeeded
    synced.client.merge_records("Contact", wile.link.sfdc_id, [peter.link.sfdc_id])
    assert synced.run_cycle().succeeded
    with pytest.raises(NotFound, match=f"merged into person {wile.id}"):
        store.persons.get(peter.id)
    assert store.persons.get(wile.id).fields["numberOfEmployees"] is None


def test_merge_racing_a_pending_change_on_the_loser(synced, store, sf):
    master, loser = new_lead(sf, "Keeper", Title="Boss"), new_lead(sf, "Folded")
    synced.run_cycle()
    keeper, folded = person(store, "keeper@merge.example"), person(store, "folded@merge.example")
    store.persons.update(folded.id, {"city": "Lima", "title": "Intern"}, origin=ChangeOrigin.CLI)  # not pushed yet
    store.persons.update(keeper.id, {"title": "Chief"}, origin=ChangeOrigin.CLI)
    synced.client.merge_records("Lead", master, [loser])
    synced.run_cycle()
    winner = store.persons.get(keeper.id)
    assert winner.fields["city"] == "Lima"  # the loser's change lands on the winner ...
    assert sf.Lead.get(master)["City"] == "Lima"  # ... and reaches Salesforce
    [conflict] = [a for a in activities_of(store, keeper.id, types.SFDC_SYNC_CONFLICT) if a.attribute("Field") == "title"]
    assert (conflict.attribute("Lost Value"), conflict.attribute("Kept Value")) == ("Intern", "Chief")
    assert sf.Lead.get(master)["Title"] == "Chief"


def test_merge_into_a_master_without_a_person_relinks_the_loser(synced, store, sf):
    loser = new_lead(sf, "Early")
    synced.run_cycle()
    early = person(store, "early@merge.example")
    master = new_lead(sf, "Late")
    synced.client.merge_records("Lead", master, [loser])  # before any cycle saw the master
    synced.run_cycle()
    assert store.persons.get(early.id).link.sfdc_id == master
    assert [p.id for p in store.persons.find_by_email("late@merge.example")] == [early.id]  # no second person


def test_sync_person_of_a_lead_merged_away_before_the_pull_follows_the_merge(synced, store, sf):
    """Before, Sync Person to SFDC was refused with ENTITY_IS_DELETED and flagged the person deleted, so
    the next Sync Person made a new Lead for it: the merge the rep made was undone by a duplicate."""
    master, loser = new_lead(sf, "Kept"), new_lead(sf, "Gone")
    assert synced.run_cycle().succeeded
    kept, gone = person(store, "kept@merge.example"), person(store, "gone@merge.example")
    synced.client.merge_records("Lead", master, [loser])
    store.persons.update(gone.id, {"title": "Folded In"}, origin=ChangeOrigin.CLI)
    actions = PersonActions(synced)
    result = actions.sync_person(gone.id)
    assert (result.person_id, result.sfdc_id, result.created) == (kept.id, master, False)
    with pytest.raises(NotFound, match=f"merged into person {kept.id}"):
        store.persons.get(gone.id)
    assert sf.Lead.get(master)["Title"] == "Folded In"
    assert synced.run_cycle().succeeded
    assert [r["Id"] for r in sf.query_all("SELECT Id FROM Lead WHERE Email LIKE '%@merge.example'")["records"]] \
        == [master]
    assert store.persons.get(kept.id).fields["title"] == "Folded In"
    assert store.persons.find_by_email("gone@merge.example") == []


def test_sync_person_of_a_lead_merged_into_one_without_a_person_takes_the_master(synced, store, sf):
    loser = new_lead(sf, "Early")
    assert synced.run_cycle().succeeded
    early = person(store, "early@merge.example")
    master = new_lead(sf, "Late")
    synced.client.merge_records("Lead", master, [loser])
    store.persons.update(early.id, {"city": "Lima"}, origin=ChangeOrigin.CLI)
    result = PersonActions(synced).sync_person(early.id)
    assert (result.person_id, result.sfdc_id, result.created) == (early.id, master, False)
    assert sf.Lead.get(master)["City"] == "Lima"
    assert synced.run_cycle().succeeded
    assert store.persons.get(early.id).link.sfdc_id == master
    assert [p.id for p in store.persons.find_by_email("late@merge.example")] == [early.id]


# -- conversions ----------------------------------------------------------------------------------


AS_IN_THE_UI = {"Sforce-Auto-Assign": "FALSE"}
"""An edit as a person makes it in Salesforce's UI: assignment rules do not run (over the API, an
update without this header would hand the Web lead Lisa to the Inbound Leads queue)."""


def convert(synced, lead_id, **options):
    from tandem.salesforce.soap import LeadConvert

    [outcome] = synced.client.convert_leads([LeadConvert(
        lead_id=lead_id, converted_status="Closed - Converted", do_not_create_opportunity=True, **options)])
    assert not isinstance(outcome, tuple), outcome
    return outcome


def test_lead_converted_to_a_new_contact_is_followed_by_its_person(synced, store):
    lisa = person(store, "lisa@springfield.example")
    outcome = convert(synced, lisa.link.sfdc_id)
    report = synced.run_cycle()
    followed = store.persons.get(lisa.id)
    assert (followed.link.sfdc_type, followed.link.sfdc_id) == ("Contact", outcome.contact_id)
    assert followed.link.sfdc_lead_id == lisa.link.sfdc_id
    assert store.persons.count() == 6  # the new Contact's person folded into the Lead's
    [converted] = activities_of(store, lisa.id, types.CONVERT_LEAD)
    assert converted.attribute("Source") == ChangeOrigin.SALESFORCE
    assert step(report, "Lead", StepOperation.PULL_CONVERSIONS).counts.updated == 1


def test_lead_converted_into_an_existing_contact_merges_the_persons(synced, store, sf):
    milton, peter = person(store, "milton@initech.example"), person(store, "peter@initech.example")
    outcome = convert(synced, milton.link.sfdc_id, contact_id=peter.link.sfdc_id, account_id=peter.link.sfdc_account_id)
    assert outcome.contact_id == peter.link.sfdc_id
    report = synced.run_cycle()
    assert report.succeeded, report.steps
    winner = store.persons.get(peter.id)
    assert winner.link.sfdc_type == "Contact" and winner.link.sfdc_id == peter.link.sfdc_id
    assert winner.link.sfdc_lead_id == milton.link.sfdc_id
    assert winner.fields["email"] == "peter@initech.example"
    with pytest.raises(NotFound, match=f"person {milton.id} was merged into person {peter.id}"):
        store.persons.get(milton.id)
    assert activities_of(store, peter.id, types.CONVERT_LEAD)[0].attribute("Source") == ChangeOrigin.SALESFORCE
    assert activities_of(store, peter.id, types.SFDC_MERGE_LEADS)
    assert step(report, "Lead", StepOperation.PULL_CONVERSIONS).counts.updated == 1


def test_lead_converted_into_an_existing_account_takes_that_accounts_company_fields(synced, store, sf):
    """Before, the person kept the Lead's company beside the Account's website and industry until the
    Contact next changed in Salesforce."""
    lisa, wile = person(store, "lisa@springfield.example"), person(store, "wile@acme.example")
    outcome = convert(synced, lisa.link.sfdc_id, account_id=wile.link.sfdc_account_id)
    assert synced.run_cycle().succeeded
    followed = store.persons.get(lisa.id)
    assert (followed.link.sfdc_id, followed.link.sfdc_account_id) == (outcome.contact_id, wile.link.sfdc_account_id)
    acme = {name: wile.fields[name] for name in ("company", "website", "industry")}
    assert {name: followed.fields[name] for name in acme} == acme == {
        "company": "Acme Corp", "website": "acme.example", "industry": "Manufacturing"}
    assert store.persons.count() == 6


def test_changes_waiting_on_a_lead_and_a_contact_reach_the_contact_it_was_converted_into(synced, store, sf):
    """Before, the conversion forgot the Contact person's bases: its waiting phone and the Lead
    person's waiting title were called conflicts on the next pull, and Salesforce won both."""
    milton, peter = person(store, "milton@initech.example"), person(store, "peter@initech.example")
    store.persons.update(peter.id, {"phone": "555 8888"}, origin=ChangeOrigin.CLI)
    store.persons.update(milton.id, {"title": "Stapler Keeper"}, origin=ChangeOrigin.CLI)
    convert(synced, milton.link.sfdc_id, contact_id=peter.link.sfdc_id, account_id=peter.link.sfdc_account_id)
    assert synced.run_cycle().succeeded and synced.run_cycle().succeeded
    contact = sf.Contact.get(peter.link.sfdc_id)
    assert (contact["Phone"], contact["Title"]) == ("555 8888", "Stapler Keeper")
    winner = store.persons.get(peter.id)
    assert (winner.fields["phone"], winner.fields["title"]) == ("555 8888", "Stapler Keeper")
    assert activities_of(store, peter.id, types.SFDC_SYNC_CONFLICT) == []


def test_sync_person_of_a_lead_converted_into_an_existing_contact_merges_into_the_contacts_person(synced, store, sf):
    """Before, Sync Person to SFDC followed the Lead to the Contact and merged the Contact's long-standing
    person into the Lead's: Peter's person was gone and the one left showed Milton's name and email on
    Peter's Contact. Now it merges as the next pull would: into the Contact's person."""
    milton, peter = person(store, "milton@initech.example"), person(store, "peter@initech.example")
    convert(synced, milton.link.sfdc_id, contact_id=peter.link.sfdc_id, account_id=peter.link.sfdc_account_id)
    store.persons.update(milton.id, {"city": "Austin"}, origin=ChangeOrigin.CLI)
    result = PersonActions(synced).sync_person(milton.id)
    assert (result.person_id, result.sfdc_id) == (peter.id, peter.link.sfdc_id)
    with pytest.raises(NotFound, match=f"person {milton.id} was merged into person {peter.id}"):
        store.persons.get(milton.id)
    winner = store.persons.get(peter.id)
    assert (winner.fields["email"], winner.fields["lastName"]) == ("peter@initech.example", "Gibbons")
    assert (winner.link.sfdc_id, winner.link.sfdc_lead_id) == (peter.link.sfdc_id, milton.link.sfdc_id)
    assert winner.fields["city"] == "Austin" and sf.Contact.get(peter.link.sfdc_id)["MailingCity"] == "Austin"
    assert activities_of(store, peter.id, types.CONVERT_LEAD)
    assert synced.run_cycle().succeeded
    assert store.persons.get(peter.id).fields["email"] == "peter@initech.example"
    assert store.persons.find_by_email("milton@initech.example") == []


def test_convert_person_of_a_lead_converted_into_an_existing_contact_merges_into_the_contacts_person(synced, store, sf):
    milton, peter = person(store, "milton@initech.example"), person(store, "peter@initech.example")
    convert(synced, milton.link.sfdc_id, contact_id=peter.link.sfdc_id, account_id=peter.link.sfdc_account_id)
    result = PersonActions(synced).convert_person(milton.id, create_opportunity=False)
    assert (result.person_id, result.contact_id) == (peter.id, peter.link.sfdc_id)
    with pytest.raises(NotFound, match=f"person {milton.id} was merged into person {peter.id}"):
        store.persons.get(milton.id)
    assert store.persons.get(peter.id).fields["email"] == "peter@initech.example"


def test_a_lead_only_change_made_in_salesforce_just_before_a_conversion_reaches_the_person(synced, store, sf):
    """Before, a rating or status set on a Lead converted before the next pull was never read: the
    converted Lead's row only moved the person to its Contact, which has no such field."""
    lisa = person(store, "lisa@springfield.example")
    sf.Lead.update(lisa.link.sfdc_id, {"Rating": "Hot", "Title": "Student"}, headers=AS_IN_THE_UI)
    outcome = convert(synced, lisa.link.sfdc_id)
    assert synced.run_cycle().succeeded
    followed = store.persons.get(lisa.id)
    assert followed.link.sfdc_id == outcome.contact_id
    assert (followed.fields["rating"], followed.fields["title"]) == ("Hot", "Student")
    assert followed.fields["leadStatus"] == "Closed - Converted"
    assert store.outbox.find(person_ids=[lisa.id]) == []
    assert activities_of(store, lisa.id, types.SFDC_SYNC_CONFLICT) == []
    assert synced.run_cycle().succeeded and store.persons.get(lisa.id).fields["rating"] == "Hot"


def test_a_lead_only_change_made_in_salesforce_before_convert_person_reaches_the_person(synced, store, sf):
    lisa = person(store, "lisa@springfield.example")
    sf.Lead.update(lisa.link.sfdc_id, {"Rating": "Cold"}, headers=AS_IN_THE_UI)
    PersonActions(synced).convert_person(lisa.id, create_opportunity=False)
    assert synced.run_cycle().succeeded
    assert store.persons.get(lisa.id).fields["rating"] == "Cold"


def test_a_change_waiting_on_a_lead_converted_to_a_new_contact_reaches_it(synced, store, sf):
    lisa = person(store, "lisa@springfield.example")
    sf.Lead.update(lisa.link.sfdc_id, {"Title": "Student"}, headers=AS_IN_THE_UI)
    assert synced.run_cycle().succeeded  # both sides agree on Student
    store.persons.update(lisa.id, {"title": "Saxophonist"}, origin=ChangeOrigin.CLI)
    outcome = convert(synced, lisa.link.sfdc_id)
    assert synced.run_cycle().succeeded
    assert sf.Contact.get(outcome.contact_id)["Title"] == "Saxophonist"
    assert store.persons.get(lisa.id).fields["title"] == "Saxophonist"
    assert activities_of(store, lisa.id, types.SFDC_SYNC_CONFLICT) == []


# -- Tandem-side merges and deletes ------------------------------------------------------------


@pytest.fixture
def lifecycle(synced):
    from tandem.sync.lifecycle import PersonLifecycle

    return PersonLifecycle(synced)


def test_tandem_merge_of_two_leads_merges_them_in_salesforce(lifecycle, synced, store, sf):
    master, loser = new_lead(sf, "Alpha"), new_lead(sf, "Beta", Title="Buyer")
    synced.run_cycle()
    alpha, beta = person(store, "alpha@merge.example"), person(store, "beta@merge.example")
    outcome = lifecycle.merge(alpha.id, [beta.id])
    assert outcome.salesforce_merged == [loser]
    [gone] = synced.client.query(f"SELECT IsDeleted, MasterRecordId FROM Lead WHERE Id = '{loser}'", include_deleted=True)
    assert gone["IsDeleted"] is True and gone["MasterRecordId"] == master
    assert store.persons.get(alpha.id).fields["title"] == "Buyer"
    assert activities_of(store, alpha.id, types.MERGE_LEADS)
    report = synced.run_cycle()
    assert report.succeeded, report.steps
    assert sf.Lead.get(master)["Title"] == "Buyer"
    assert [p.id for p in store.persons.find_by_email("beta@merge.example")] == []
    assert step(report, "Lead", StepOperation.PULL_DELETES).counts.deleted == 0  # already merged here


def test_tandem_merge_keeps_what_salesforce_changed_on_a_loser_since_the_last_pull(lifecycle, synced, store, sf):
    """Before, a value a rep set on the losing record since the last pull was dropped with it by the
    merge in Salesforce, and Tandem, which had never read it, neither kept nor logged it."""
    master, loser = new_lead(sf, "Gamma"), new_lead(sf, "Delta")
    assert synced.run_cycle().succeeded
    gamma, delta = person(store, "gamma@merge.example"), person(store, "delta@merge.example")
    sf.Lead.update(loser, {"Rating": "Warm", "City": "Oslo"}, headers=AS_IN_THE_UI)
    store.persons.update(delta.id, {"city": "Lima"}, origin=ChangeOrigin.CLI)  # both sides: Tandem wins a Lead
    lifecycle.merge(gamma.id, [delta.id])
    winner = store.persons.get(gamma.id)
    assert (winner.fields["rating"], winner.fields["city"]) == ("Warm", "Lima")
    [conflict] = [a for a in activities_of(store, gamma.id, types.SFDC_SYNC_CONFLICT) if a.attribute("Field") == "city"]
    assert (conflict.attribute("Lost Value"), conflict.attribute("Kept Value")) == ("Oslo", "Lima")
    assert synced.run_cycle().succeeded
    assert (sf.Lead.get(master)["Rating"], sf.Lead.get(master)["City"]) == ("Warm", "Lima")
    assert store.persons.get(gamma.id).fields["rating"] == "Warm"


def test_a_merge_whose_answer_was_lost_is_done_not_reported_refused(lifecycle, synced, store, sf, base_url, http):
    """The client sends the merge again after a lost answer; Salesforce then says the loser is deleted.
    Before, that was logged on the winner as a refusal and the persons stayed apart."""
    master, loser = new_lead(sf, "Alpha"), new_lead(sf, "Beta", Title="Buyer")
    synced.run_cycle()
    alpha, beta = person(store, "alpha@merge.example"), person(store, "beta@merge.example")
    http.put(f"{base_url}/_emulator/faults", json={"seed": 7, "dropAfterCommit": 0.5}).raise_for_status()
    try:
        outcome = lifecycle.merge(alpha.id, [beta.id])
        injected = http.get(f"{base_url}/_emulator/faults").json()["injected"]["dropAfterCommit"]
    finally:
        http.put(f"{base_url}/_emulator/faults", json={}).raise_for_status()
    assert injected == 1  # the merge's answer was lost once, and its retry answered
    assert outcome.salesforce_merged == [loser]
    [gone] = synced.client.query(f"SELECT IsDeleted, MasterRecordId FROM Lead WHERE Id = '{loser}'", include_deleted=True)
    assert gone["IsDeleted"] is True and gone["MasterRecordId"] == master
    assert store.persons.get(alpha.id).fields["title"] == "Buyer"
    assert [p.id for p in store.persons.find_by_email("beta@merge.example")] == []
    assert not activities_of(store, alpha.id, types.SFDC_SYNC_FAILED)


def test_merged_contacts_of_two_accounts_keep_the_winners_company_fields(lifecycle, synced, store, sf):
    """Before, the loser filled the winner's empty Account fields: Acme showed Initech's headcount."""
    wile, peter = person(store, "wile@acme.example"), person(store, "peter@initech.example")
    sf.Account.update(wile.link.sfdc_account_id, {"NumberOfEmployees": None})
    sf.Account.update(peter.link.sfdc_account_id, {"NumberOfEmployees": 120})
    sf.Contact.update(peter.link.sfdc_id, {"MobilePhone": "+1 555 0120"})
    assert synced.run_cycle().succeeded
    before = store.persons.get(wile.id).fields
    assert before["numberOfEmployees"] is None and before.get("mobilePhone") is None
    lifecycle.merge(wile.id, [peter.id])
    after = store.persons.get(wile.id).fields
    assert after["numberOfEmployees"] is None and after["company"] == before["company"]
    assert after["mobilePhone"] == "+1 555 0120"  # the Contact's own fields still fill
    assert synced.run_cycle().succeeded
    assert store.persons.get(wile.id).fields["numberOfEmployees"] is None


def test_a_winner_whose_contact_was_deleted_takes_the_company_fields_of_the_contact_it_takes_over(
        lifecycle, synced, store, sf):
    """The winner's record is gone, so it takes over the loser's Contact, whose Account gives the
    company fields (Salesforce's alone). Before, the winner kept Acme's beside Initech's Account."""
    wile, peter = person(store, "wile@acme.example"), person(store, "peter@initech.example")
    sf.Contact.delete(wile.link.sfdc_id)
    assert synced.run_cycle().succeeded
    assert store.persons.get(wile.id).link.sfdc_is_deleted
    account = sf.Account.get(peter.link.sfdc_account_id)
    lifecycle.merge(wile.id, [peter.id])
    after = store.persons.get(wile.id)
    assert after.link.sfdc_id == peter.link.sfdc_id and after.link.sfdc_account_id == peter.link.sfdc_account_id
    assert after.fields["company"] == account["Name"] == peter.fields["company"]
    assert {name: after.fields.get(name) for name in ("company", "industry", "numberOfEmployees", "website")} \
        == {name: peter.fields.get(name) for name in ("company", "industry", "numberOfEmployees", "website")}
    assert "company" not in {c.field for c in store.outbox.find(person_ids=[wile.id])}  # Salesforce's: never pushed
    assert synced.run_cycle().succeeded
    assert store.persons.get(wile.id).fields["company"] == account["Name"]
    assert sf.Account.get(peter.link.sfdc_account_id)["Name"] == account["Name"]


def test_tandem_merge_of_a_lead_into_a_contact_converts_the_lead(lifecycle, synced, store, sf):
    milton, peter = person(store, "milton@initech.example"), person(store, "peter@initech.example")
    outcome = lifecycle.merge(peter.id, [milton.id])
    assert outcome.salesforce_converted == [milton.link.sfdc_id]
    lead = sf.Lead.get(milton.link.sfdc_id)
    assert lead["IsConverted"] is True and lead["ConvertedContactId"] == peter.link.sfdc_id
    assert store.persons.get(peter.id).link.sfdc_lead_id == milton.link.sfdc_id
    report = synced.run_cycle()
    assert report.succeeded and store.persons.count() == 5


def test_a_contact_cannot_be_merged_into_a_lead(lifecycle, store, sf):
    from tandem.errors import InvalidInput

    milton, peter = person(store, "milton@initech.example"), person(store, "peter@initech.example")
    with pytest.raises(InvalidInput, match="Contact cannot be merged into a Lead"):
        lifecycle.merge(milton.id, [peter.id])
    assert store.persons.get(peter.id) and sf.Contact.get(peter.link.sfdc_id)["IsDeleted"] is False


def test_delete_person_in_salesforce_too(lifecycle, synced, store, sf):
    lisa = person(store, "lisa@springfield.example")
    outcome = lifecycle.delete(lisa.id, in_salesforce=True)
    assert outcome.salesforce_deleted == lisa.link.sfdc_id
    [gone] = synced.client.query(f"SELECT IsDeleted FROM Lead WHERE Id = '{lisa.link.sfdc_id}'", include_deleted=True)
    assert gone["IsDeleted"] is True
    stone = store.tombstones.get(lisa.id)
    assert stone.activities[-1].attribute("Remove from CRM") is True
    assert synced.run_cycle().succeeded and store.persons.count() == 5


def test_delete_person_only_leaves_salesforce_alone(lifecycle, store, sf):
    lisa = person(store, "lisa@springfield.example")
    assert lifecycle.delete(lisa.id).salesforce_deleted is None
    assert sf.Lead.get(lisa.link.sfdc_id)["IsDeleted"] is False
    with pytest.raises(NotFound, match="was deleted"):
        store.persons.get(lisa.id)


@pytest.mark.parametrize("email", ["wile@acme.example", "lisa@springfield.example"])
def test_a_person_deleted_after_the_cycle_pushed_its_change_stays_deleted(lifecycle, synced, store, sf, email):
    """Before, the next pull read Tandem's own update of the record (its stamp moved by the push) and
    brought the deleted person back as a new one, though nothing changed in Salesforce since."""
    gone = person(store, email)
    store.persons.update(gone.id, {"title": "Pushed Before The Delete"}, origin=ChangeOrigin.CLI)
    assert synced.run_cycle().succeeded
    lifecycle.delete(gone.id)
    assert synced.run_cycle().succeeded
    assert store.persons.find_by_email(email) == []
    object_name = gone.link.sfdc_type
    getattr(sf, object_name).update(gone.link.sfdc_id, {"Title": "Changed Later In Salesforce"})
    assert synced.run_cycle().succeeded
    [back] = store.persons.find_by_email(email)  # a later change there brings it back, as before
    assert back.id != gone.id and back.fields["title"] == "Changed Later In Salesforce"


def test_delete_from_sfdc_keeps_the_person_unless_asked(lifecycle, synced, store, sf):
    wile, lisa = person(store, "wile@acme.example"), person(store, "lisa@springfield.example")
    lifecycle.delete_from_salesforce(wile.id)
    kept = store.persons.get(wile.id)
    assert kept.link.sfdc_is_deleted and activities_of(store, wile.id, types.SFDC_RECORD_DELETED)
    lifecycle.delete_from_salesforce(lisa.id, also_person=True)
    assert store.tombstones.get(lisa.id).fate == "deleted"
    report = synced.run_cycle()
    assert report.succeeded and len(activities_of(store, wile.id, types.SFDC_RECORD_DELETED)) == 1
    assert store.persons.count() == 5


def test_sync_person_again_after_salesforce_deleted_the_lead_it_made(synced, store, sf):
    """The deleted Lead still holds the person's Tandem id in the recycle bin, where it stays unique."""
    ada = store.persons.add({"email": "ada@lovelace.example", "lastName": "Lovelace", "company": "Engines"},
                               origin=ChangeOrigin.CLI)
    actions = PersonActions(synced)
    first = actions.sync_person(ada.id)
    sf.Lead.delete(first.sfdc_id)
    synced.run_cycle()
    assert store.persons.get(ada.id).link.sfdc_is_deleted
    again = actions.sync_person(ada.id)
    assert again.created and again.sfdc_id != first.sfdc_id
    assert sf.Lead.get(again.sfdc_id)["Email"] == "ada@lovelace.example"
    assert store.persons.get(ada.id).link.sfdc_id == again.sfdc_id
    assert actions.sync_person(ada.id).sfdc_id == again.sfdc_id
    report = synced.run_cycle()
    assert report.succeeded and store.persons.count() == 7
    assert [r["Id"] for r in sf.query_all("SELECT Id FROM Lead WHERE Email = 'ada@lovelace.example'")["records"]] \
        == [again.sfdc_id]


def test_a_field_cleared_on_a_lead_converted_to_a_new_contact_stays_cleared(synced, store, sf):
    lisa = person(store, "lisa@springfield.example")
    sf.Lead.update(lisa.link.sfdc_id, {"Title": "Student", "Phone": "555 0199"}, headers=AS_IN_THE_UI)
    assert synced.run_cycle().succeeded
    store.persons.update(lisa.id, {"title": None, "phone": ""}, origin=ChangeOrigin.CLI)  # not pushed yet
    outcome = convert(synced, lisa.link.sfdc_id)
    assert synced.run_cycle().succeeded and synced.run_cycle().succeeded
    contact = sf.Contact.get(outcome.contact_id)
    assert (contact["Title"], contact["Phone"]) == (None, None)
    kept = store.persons.get(lisa.id).fields
    assert (kept["title"], kept["phone"]) in ((None, None), (None, ""))
