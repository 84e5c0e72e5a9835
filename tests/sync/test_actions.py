"""Sync Person to SFDC and Convert Person against the emulator's sample org."""

from __future__ import annotations

import threading

import pytest
import requests
from requests.adapters import HTTPAdapter

from tandem.errors import InvalidInput, NotFound, RecordRejected, TransientError
from tandem.people import activities as types
from tandem.people.origin import ChangeOrigin
from tandem.sync.actions import NEW_ACCOUNT_WARNING, PersonActions
from tandem.sync.cycle import SyncEngine
from tandem.sync.fields import LINK_FIELD
from tests.sync.conftest import sync_client
from tests.sync.observe import activities_of, person


LOST_CONVERT_SEED = 3
"""Under `dropAfterCommit` (or `http502AfterCommit`) 0.5, this seed loses the answer of the conversion's first
try only."""


@pytest.fixture
def actions(engine):
    engine.run_cycle()
    return PersonActions(engine)


def add(store, **fields):
    return store.persons.add(fields, origin=ChangeOrigin.CLI)


def owner_name(sf, record_id, object_name="Lead"):
    owner = sf.query(f"SELECT OwnerId FROM {object_name} WHERE Id = '{record_id}'")["records"][0]["OwnerId"]
    if owner.startswith("00G"):
        return sf.query(f"SELECT Name FROM Group WHERE Id = '{owner}'")["records"][0]["Name"]
    return sf.query(f"SELECT Username FROM User WHERE Id = '{owner}'")["records"][0]["Username"]


def test_new_person_becomes_a_lead_owned_by_the_assignment_rules(actions, store, sf):
    ada = add(store, email="ada@example.com", firstName="Ada", lastName="Lovelace", company="Engines", leadSource="Web")
    result = actions.sync_person(ada.id)
    assert result.created and result.sfdc_type == "Lead" and result.sfdc_id.startswith("00Q")
    lead = sf.Lead.get(result.sfdc_id)
    assert (lead["LastName"], lead["Company"], lead["Email"]) == ("Lovelace", "Engines", "ada@example.com")
    assert owner_name(sf, result.sfdc_id) == "Inbound Leads"  # the Web rule sends it to the queue
    linked = store.persons.get(ada.id)
    assert (linked.link.sfdc_type, linked.link.sfdc_lead_id) == ("Lead", result.sfdc_id)
    assert store.outbox.find(person_ids=[ada.id]) == []
    assert activities_of(store, ada.id, types.SYNC_LEAD_TO_SFDC)


def test_explicit_owner_and_queue(actions, store, sf):
    one = add(store, email="one@example.com", lastName="One", company="C")
    two = add(store, email="two@example.com", lastName="Two", company="C")
    assert owner_name(sf, actions.sync_person(one.id, owner="admin@sample.example").sfdc_id) == "admin@sample.example"
    assert owner_name(sf, actions.sync_person(two.id, queue="Inbound Leads").sfdc_id) == "Inbound Leads"
    with pytest.raises(InvalidInput):
        actions.sync_person(one.id, owner="admin@sample.example", queue="Inbound Leads")


def test_linked_person_pushes_its_pending_changes_now(actions, store, sf):
    wile = person(store, "wile@acme.example")
    store.persons.update(wile.id, {"title": "Genius"}, origin=ChangeOrigin.CLI)
    result = actions.sync_person(wile.id)
    assert not result.created and result.fields == ["title"]
    assert sf.Contact.get(wile.link.sfdc_id)["Title"] == "Genius"
    assert store.outbox.find(person_ids=[wile.id]) == []


def test_a_change_salesforce_wins_before_it_goes_is_not_reported_sent(actions, store, sf):
    """Before, the action named every change it had planned, even one a conflict took out."""
    wile = person(store, "wile@acme.example")
    store.persons.update(wile.id, {"title": "Genius", "phone": "555 0101"}, origin=ChangeOrigin.CLI)
    sf.Contact.update(wile.link.sfdc_id, {"Title": "Coyote"})  # the same field, changed in Salesforce meanwhile
    result = actions.sync_person(wile.id)
    assert result.fields == ["phone"]
    contact = sf.Contact.get(wile.link.sfdc_id)
    assert (contact["Title"], contact["Phone"]) == ("Coyote", "555 0101")  # a Contact: Salesforce wins


def test_rejection_is_logged_and_raised(actions, store, sf):
    nobody = add(store, email="nobody@example.com", firstName="No")  # no LastName, no Company
    with pytest.raises(RecordRejected) as info:
        actions.sync_person(nobody.id)
    assert info.value.error_code == "REQUIRED_FIELD_MISSING"
    [failure] = activities_of(store, nobody.id, types.SFDC_SYNC_FAILED)
    assert failure.primary_attribute_value == "REQUIRED_FIELD_MISSING"
    assert not store.persons.get(nobody.id).linked


def test_lost_answer_after_lead_create_then_retry_gives_one_lead(actions, store, sf, monkeypatch):
    ada = add(store, email="ada@example.com", lastName="Lovelace", company="Engines")
    real = store.persons.set_links

    def crash(*args, **kwargs):
        raise ConnectionError("died after Salesforce committed")

    monkeypatch.setattr(store.persons, "set_links", crash)
    with pytest.raises(ConnectionError):
        actions.sync_person(ada.id)
    monkeypatch.setattr(store.persons, "set_links", real)
    assert not store.persons.get(ada.id).linked
    result = actions.sync_person(ada.id)
    assert sf.query("SELECT COUNT() FROM Lead WHERE Email = 'ada@example.com'")["totalSize"] == 1
    assert store.persons.get(ada.id).link.sfdc_id == result.sfdc_id


def test_a_lead_carries_the_installation_id_and_person_id_as_its_external_id(actions, store, sf):
    ada = add(store, email="ada@example.com", lastName="Lovelace", company="Engines")
    result = actions.sync_person(ada.id)
    installation = store.installation.id()
    assert sf.Lead.get(result.sfdc_id)[LINK_FIELD] == f"{installation}-{ada.id}"
    assert actions.external_id(ada.id) == f"{installation}-{ada.id}"  # made once, kept


@pytest.fixture
def actions_without_link_field(emulator, reset_emulator, base_url, ca_path, store):
    """Actions against an org whose sync user cannot see the Lead's external-id field."""
    emulator.org.set_field_level("Marketing Sync", "Lead", LINK_FIELD, "none")
    engine = SyncEngine(sync_client(base_url, ca_path), store, schema_max_age_seconds=0)
    engine.run_cycle()
    yield PersonActions(engine)
    emulator.org.reset()


def test_without_the_external_id_field_a_lost_create_is_found_again(actions_without_link_field, store, sf,
                                                                     monkeypatch):
    ada = add(store, email="ada@example.com", lastName="Lovelace", company="Engines")
    real = store.persons.set_links

    def crash(*args, **kwargs):
        raise ConnectionError("died after Salesforce committed")

    monkeypatch.setattr(store.persons, "set_links", crash)
    with pytest.raises(ConnectionError):
        actions_without_link_field.sync_person(ada.id)
    monkeypatch.setattr(store.persons, "set_links", real)
    attempted = store.create_markers.get(ada.id, "Lead")
    assert attempted is not None
    result = actions_without_link_field.sync_person(ada.id)
    assert sf.query("SELECT COUNT() FROM Lead WHERE Email = 'ada@example.com'")["totalSize"] == 1
    assert store.persons.get(ada.id).link.sfdc_id == result.sfdc_id
    assert store.create_markers.get(ada.id, "Lead") == attempted  # found, not created again


def test_convert_creates_account_and_opportunity(actions, store, sf):
    milton = person(store, "milton@initech.example")
    result = actions.convert_person(milton.id)
    assert result.account_created and result.warnings == [NEW_ACCOUNT_WARNING]
    assert result.opportunity_id and result.opportunity_id.startswith("006")
    contact = sf.Contact.get(result.contact_id)
    assert contact["LastName"] == "Waddams" and contact["AccountId"] == result.account_id
    assert sf.Account.get(result.account_id)["Name"] == "Initech"  # a second Initech: the duplicate warned of
    after = store.persons.get(milton.id)
    assert (after.link.sfdc_type, after.link.sfdc_id, after.link.sfdc_lead_id) == ("Contact", result.contact_id, result.lead_id)
    [activity] = activities_of(store, milton.id, types.CONVERT_LEAD)
    assert activity.attribute("SFDC Account Id") == result.account_id


def test_convert_without_opportunity_and_with_a_named_status(actions, store, sf):
    lisa = person(store, "lisa@springfield.example")
    result = actions.convert_person(lisa.id, create_opportunity=False, converted_status="Closed - Converted")
    assert result.opportunity_id is None
    assert sf.Lead.get(result.lead_id)["Status"] == "Closed - Converted"


def test_match_account_one_none_and_several(actions, store, sf):
    milton = person(store, "milton@initech.example")  # company Initech: exactly one Account
    result = actions.convert_person(milton.id, match_account=True)
    assert not result.account_created and sf.Account.get(result.account_id)["Name"] == "Initech"
    lone = add(store, email="x@nowhere.example", lastName="Lone", company="Nowhere Inc")
    assert actions.convert_person(lone.id, match_account=True).account_created  # none: a new one
    sf.Account.create({"Name": "Globex"})
    twin = add(store, email="y@elsewhere.example", lastName="Twin", company="Globex")
    with pytest.raises(InvalidInput, match="2 Accounts match"):
        actions.convert_person(twin.id, match_account=True)


def test_convert_of_an_unsynced_person_syncs_it_first(actions, store, sf):
    ada = add(store, email="ada@example.com", lastName="Lovelace", company="Engines")
    result = actions.convert_person(ada.id, create_opportunity=False)
    assert sf.Lead.get(result.lead_id)["IsConverted"] is True
    assert store.persons.get(ada.id).link.sfdc_type == "Contact"


def test_convert_of_a_contact_is_refused(actions, store):
    wile = person(store, "wile@acme.example")
    with pytest.raises(InvalidInput, match="already a Salesforce Contact"):
        actions.convert_person(wile.id)
    assert store.persons.get(wile.id).link == wile.link


def test_convert_of_a_lead_gone_from_salesforce_before_the_pull_saw_it_says_so(actions, store, sf):
    """Before, the action failed on an empty query answer (an unexpected error, HTTP 611 in the REST API)."""
    lisa = person(store, "lisa@springfield.example")
    sf.Lead.delete(lisa.link.sfdc_id)
    with pytest.raises(NotFound, match=f"Lead {lisa.link.sfdc_id} .* no longer in Salesforce"):
        actions.convert_person(lisa.id)
    assert store.persons.get(lisa.id).link == lisa.link
    assert sf.query("SELECT COUNT() FROM Contact WHERE Email = 'lisa@springfield.example'")["totalSize"] == 0


def test_lost_answer_after_conversion_then_retry_gives_one_account(actions, store, sf, monkeypatch):
    milton = person(store, "milton@initech.example")
    accounts_before = sf.query("SELECT COUNT() FROM Account")["totalSize"]
    real_follow = actions._follow

    def crash(*args, **kwargs):
        raise ConnectionError("answer lost")

    monkeypatch.setattr(actions, "_follow", crash)
    with pytest.raises(ConnectionError):
        actions.convert_person(milton.id)
    monkeypatch.setattr(actions, "_follow", real_follow)
    result = actions.convert_person(milton.id)
    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == accounts_before + 1
    assert store.persons.get(milton.id).link.sfdc_id == result.contact_id


@pytest.mark.parametrize("lost", ["dropAfterCommit", "http502AfterCommit"])
def test_a_conversion_whose_answer_was_lost_is_followed_not_reported_refused(actions, store, sf, base_url, http, lost):
    """The client sends convertLead again after a lost answer; Salesforce then says the Lead is already
    converted. Before, that was logged as a refusal and the person stayed a Lead in Tandem; and a
    proxy's HTML 502 in place of the SOAP answer failed the action with an XML parse error."""
    milton = person(store, "milton@initech.example")
    sf.Lead.update(milton.link.sfdc_id, {LINK_FIELD: actions.external_id(milton.id)})  # named already: one write
    accounts_before = sf.query("SELECT COUNT() FROM Account")["totalSize"]
    http.put(f"{base_url}/_emulator/faults", json={"seed": LOST_CONVERT_SEED, lost: 0.5}).raise_for_status()
    try:
        result = actions.convert_person(milton.id)
        injected = http.get(f"{base_url}/_emulator/faults").json()["injected"][lost]
    finally:
        http.put(f"{base_url}/_emulator/faults", json={}).raise_for_status()
    assert injected == 1  # the conversion's answer was lost once, and its retry answered
    lead = sf.Lead.get(milton.link.sfdc_id)
    assert lead["IsConverted"] and result.contact_id == lead["ConvertedContactId"]
    assert result.account_created and result.account_id == lead["ConvertedAccountId"]
    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == accounts_before + 1
    after = store.persons.get(milton.id)
    assert (after.link.sfdc_type, after.link.sfdc_id) == ("Contact", result.contact_id)
    assert not activities_of(store, milton.id, types.SFDC_SYNC_FAILED)
    assert activities_of(store, milton.id, types.CONVERT_LEAD)


class LosesConvertAnswers(HTTPAdapter):
    """Sends every request on, then drops the answer of every SOAP convertLead call, as a connection
    cut after Salesforce converted the Lead would: the action cannot learn what became of it."""

    def __init__(self, real: HTTPAdapter) -> None:
        super().__init__()
        self.real = real
        self.lost = 0

    def send(self, request, **kwargs):
        response = self.real.send(request, **kwargs)
        if "/services/Soap/" in request.url and b"convertLead" in (request.body or b""):
            self.lost += 1
            response.close()
            raise requests.ConnectionError("connection reset after convertLead was sent")
        return response


def test_sync_person_after_a_conversion_whose_answer_was_lost_follows_the_lead_to_its_contact(actions, store, sf,
                                                                                             base_url):
    """Before, the update went to the converted Lead, Salesforce refused it (CANNOT_UPDATE_CONVERTED_LEAD) and
    the refusal was recorded, until the next cycle moved the person to the Contact."""
    milton = person(store, "milton@initech.example")
    session = actions.client.session
    real = session.get_adapter(base_url)
    lossy = LosesConvertAnswers(real)
    session.mount(base_url, lossy)
    try:
        with pytest.raises(TransientError):  # every try of the call lost its answer
            actions.convert_person(milton.id, create_opportunity=False)
    finally:
        session.mount(base_url, real)
    assert lossy.lost
    lead = sf.Lead.get(milton.link.sfdc_id)
    assert lead["IsConverted"] and store.persons.get(milton.id).link.sfdc_type == "Lead"
    store.persons.update(milton.id, {"title": "Stapler Keeper"}, origin=ChangeOrigin.CLI)
    result = actions.sync_person(milton.id)
    assert (result.sfdc_type, result.sfdc_id, result.fields) == ("Contact", lead["ConvertedContactId"], ["title"])
    assert sf.Contact.get(lead["ConvertedContactId"])["Title"] == "Stapler Keeper"
    after = store.persons.get(milton.id)
    assert (after.link.sfdc_type, after.link.sfdc_id, after.link.sfdc_lead_id) == (
        "Contact", lead["ConvertedContactId"], milton.link.sfdc_id)
    assert after.link.sfdc_account_id == lead["ConvertedAccountId"]
    # the Lead's refusal is on record, its error resolved: the person has its Contact and nothing refused left
    assert [a.primary_attribute_value for a in activities_of(store, milton.id, types.SFDC_SYNC_FAILED)] == [
        "CANNOT_UPDATE_CONVERTED_LEAD"]
    [error] = store.sync_errors.recent(person_id=milton.id)
    assert error.error_code == "CANNOT_UPDATE_CONVERTED_LEAD" and store.history.resolved_ids([error.id]) == {error.id}
    assert activities_of(store, milton.id, types.CONVERT_LEAD)
    assert store.outbox.find(person_ids=[milton.id]) == []


def test_action_racing_a_cycle_leaves_both_sides_consistent(actions, engine, store, sf, base_url, ca_path):
    persons = [add(store, email=f"race{n}@example.com", lastName=f"Race{n}", company="Race") for n in range(5)]
    errors: list[BaseException] = []
    cycling = SyncEngine(sync_client(base_url, ca_path), store)  # as `tandem run`

    def cycles():
        for _ in range(3):
            try:
                cycling.run_cycle()
            except BaseException as error:  # noqa: BLE001
                errors.append(error)

    thread = threading.Thread(target=cycles)
    thread.start()
    for p in persons:
        actions.sync_person(p.id)
    thread.join()
    assert not errors
    engine.run_cycle()
    leads = sf.query("SELECT Id FROM Lead WHERE Company = 'Race'")["records"]
    assert len(leads) == 5
    for p in persons:
        assert len(store.persons.find_by_email(f"race{p.id - persons[0].id}@example.com")) == 1
    assert store.persons.count() == 6 + 5


def test_a_change_waiting_when_a_person_is_converted_reaches_the_contact(actions, engine, store, sf):
    """Before, the conversion forgot what both sides had agreed on: the next pull called the waiting
    title a conflict, Salesforce won, and Tandem's value was lost."""
    milton = person(store, "milton@initech.example")
    sf.Lead.update(milton.link.sfdc_id, {"Title": "Collator"})
    assert engine.run_cycle().succeeded  # both sides agree on Collator
    store.persons.update(milton.id, {"title": "Manager"}, origin=ChangeOrigin.CLI)
    result = actions.convert_person(milton.id, create_opportunity=False)
    assert sf.Contact.get(result.contact_id)["Title"] == "Collator"  # converted with what the Lead held
    assert engine.run_cycle().succeeded
    assert sf.Contact.get(result.contact_id)["Title"] == "Manager"
    assert store.persons.get(milton.id).fields["title"] == "Manager"
    assert activities_of(store, milton.id, types.SFDC_SYNC_CONFLICT) == []


def test_a_refused_create_stays_unresolved_until_the_person_is_in_salesforce(actions, store):
    """A new person's values wait in no outbox, so once nothing waited refused its error was called
    resolved while the person was still not in Salesforce."""
    from datetime import UTC, datetime, timedelta

    ada = add(store, email="ada@example.com", firstName="Ada")  # no LastName, no Company: refused
    with pytest.raises(RecordRejected):
        actions.sync_person(ada.id)
    since = datetime.now(UTC) - timedelta(hours=1)
    [error] = [e for e in store.history.errors(since) if e.error.person_id == ada.id]
    assert not error.resolved and store.history.resolved_ids([error.error.id]) == set()
    store.persons.update(ada.id, {"lastName": "Lovelace", "company": "Engines"}, origin=ChangeOrigin.CLI)
    actions.sync_person(ada.id)
    assert store.history.resolved_ids([error.error.id]) == {error.error.id}


@pytest.mark.parametrize("org", ["actions", "actions_without_link_field"])
def test_sync_person_after_its_converted_contact_was_deleted_makes_a_new_lead(org, request, store, sf):
    """Before, the converted Lead was taken for the person's Lead (upserted by the Tandem id it carries, or
    found again by email and creation time), and every push to it was refused: CANNOT_UPDATE_CONVERTED_LEAD."""
    actions = request.getfixturevalue(org)
    ada = add(store, email="ada@example.com", lastName="Lovelace", company="Engines")
    converted = actions.convert_person(ada.id, create_opportunity=False)
    sf.Contact.delete(converted.contact_id)
    actions.engine.run_cycle()
    assert store.persons.get(ada.id).link.sfdc_is_deleted
    again = actions.sync_person(ada.id)
    assert again.created and again.sfdc_id != converted.lead_id
    assert sf.Lead.get(again.sfdc_id)["IsConverted"] is False
    store.persons.update(ada.id, {"title": "Countess"}, origin=ChangeOrigin.CLI)
    assert actions.sync_person(ada.id).fields == ["title"]
    assert sf.Lead.get(again.sfdc_id)["Title"] == "Countess"


def test_sync_person_after_its_deleted_contact_was_restored_updates_that_contact(actions, store, sf, http,
                                                                                 base_url, sf_token):
    """Before, the person still flagged deleted (no pull since the undelete) got a new Lead, and the next
    pull made a second person of the restored Contact: one human, two persons, a Lead and a Contact."""
    from tests.sync.test_lifecycle import soap

    wile = person(store, "wile@acme.example")
    sf.Contact.delete(wile.link.sfdc_id)
    actions.engine.run_cycle()
    assert store.persons.get(wile.id).link.sfdc_is_deleted
    soap(http, base_url, sf_token, f"<undelete><ids>{wile.link.sfdc_id}</ids></undelete>")
    store.persons.update(wile.id, {"title": "Genius"}, origin=ChangeOrigin.CLI)
    result = actions.sync_person(wile.id)
    assert (result.created, result.sfdc_type, result.sfdc_id) == (False, "Contact", wile.link.sfdc_id)
    assert sf.Contact.get(wile.link.sfdc_id)["Title"] == "Genius"
    assert sf.query("SELECT Id FROM Lead WHERE Email = 'wile@acme.example'")["totalSize"] == 0
    assert not store.persons.get(wile.id).link.sfdc_is_deleted
    assert activities_of(store, wile.id, types.SFDC_RECORD_UNDELETED)
    with pytest.raises(InvalidInput, match="already a Salesforce Contact"):
        actions.convert_person(wile.id)
    assert actions.engine.run_cycle().succeeded
    assert [p.id for p in store.persons.find_by_email("wile@acme.example")] == [wile.id]


def test_sync_person_logs_each_value_its_new_lead_cannot_take(actions, store, sf):
    """Before, a new person's values that no Lead field takes (read-only for the sync user, or not on
    Lead) stayed in Tandem alone with nothing in the activity log: Tandem and the Lead disagreed silently."""
    ada = add(store, email="ada@example.com", lastName="Lovelace", company="Engines", title="Countess",
              Credit_Score__c=700, Newsletter__c=True, dateOfBirth="1815-12-10")
    result = actions.sync_person(ada.id)
    assert "title" in result.fields and "Credit_Score__c" not in result.fields
    lead = sf.Lead.get(result.sfdc_id)
    assert (lead["Title"], lead["Credit_Score__c"]) == ("Countess", None)
    held = {a.attribute("Field"): a for a in activities_of(store, ada.id, types.SFDC_VALUE_DROPPED)}
    assert set(held) == {"Credit_Score__c", "Newsletter__c", "dateOfBirth"}
    assert held["Credit_Score__c"].attribute("Value") == "700.0"
    assert "read-only" in held["Credit_Score__c"].attribute("Reason")
    assert held["Newsletter__c"].attribute("Value") == "true"
    assert held["dateOfBirth"].attribute("Salesforce Id") == result.sfdc_id
