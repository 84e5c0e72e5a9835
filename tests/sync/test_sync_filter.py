"""Sync filters on both sides against the emulator: what is pulled, what is pushed, and what happens to a
record that leaves the filter (kept, unlinked or flagged, as the policy says)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tandem.errors import ConfigError, NotFound
from tandem.people import activities as types
from tandem.people.models import ErrorLevel, StepOperation, StepStatus
from tandem.people.origin import ChangeOrigin
from tandem.people.sync_history import ErrorFilter
from tandem.sync.cycle import SyncEngine
from tandem.sync.dry_run import DryRun
from tandem.sync.policy import parse_policy
from tandem.sync.status import sync_status
from tests.sync.conftest import sync_client
from tests.sync.observe import DROPPED, activities_of, person

CLI = ChangeOrigin.CLI
FILTERED = types.SFDC_SYNC_FILTER
WILE, PETER = "wile@acme.example", "peter@initech.example"


@pytest.fixture
def engine_with(base_url, ca_path, reset_emulator, store):
    def make(filters, **more):
        policy = parse_policy({"filter": filters, **more})
        return SyncEngine(sync_client(base_url, ca_path), store, policy=policy)
    return make


def contact_id(sf, email):
    return sf.query(f"SELECT Id FROM Contact WHERE Email = '{email}'")["records"][0]["Id"]



def test_a_pull_filter_keeps_records_outside_it_out(engine_with, store, sf):
    engine = engine_with({"Contact": "Title != 'CEO'", "Lead": "LeadSource != 'Web'"})
    report = engine.run_cycle()
    assert report.succeeded, report.steps
    assert store.persons.find_by_email("hank@globex.example") == []  # CEO
    assert store.persons.find_by_email("lisa@springfield.example") == []  # a Web lead
    assert person(store, WILE).link.sfdc_type == "Contact"
    assert person(store, "milton@initech.example").link.sfdc_type == "Lead"


@pytest.mark.parametrize("leaving", ["kept", "unlinked", "flagged"])
def test_a_record_leaving_the_pull_filter(engine_with, store, sf, leaving):
    engine = engine_with({"Contact": "Title != 'Retired'", "leaving": leaving})
    engine.run_cycle()
    wile = person(store, WILE)
    sf.Contact.update(contact_id(sf, WILE), {"Title": "Retired", "Phone": "+1 555 0999"})
    engine.run_cycle()
    after = person(store, WILE)
    assert after.fields["title"] == "Engineer" and after.fields["phone"] == "+1 555 0100"  # nothing pulled
    [left] = activities_of(store, wile.id, FILTERED)
    assert left.attribute("Rule") == "sync.filter.Contact"
    assert leaving in left.attribute("Outcome")
    assert after.linked is (leaving != "unlinked")
    flagged = [e for e in store.sync_errors.recent(since=after.created_at - timedelta(days=1), level=ErrorLevel.RECORD)
               if e.error_code == "OUTSIDE_SYNC_FILTER"]
    assert [e.person_id for e in flagged] == ([wile.id] if leaving == "flagged" else [])
    engine.run_cycle()  # the same change is handled once
    assert len(activities_of(store, wile.id, FILTERED)) == 1


@pytest.mark.parametrize("leaving", ["kept", "unlinked", "flagged"])
def test_a_lead_converted_outside_the_lead_filter_takes_its_person_to_the_contact(engine_with, store, sf, http,
                                                                                  base_url, sf_token, leaving):
    """Before, `IsConverted = false` hid the conversion: the person stayed on the converted Lead (its
    pushes refused) and the Contact became a second person."""
    from tests.sync.test_lifecycle import soap

    engine = engine_with({"Lead": "IsConverted = false", "leaving": leaving})
    assert engine.run_cycle().succeeded
    milton = person(store, "milton@initech.example")
    store.persons.update(milton.id, {"title": "Stapler Keeper"}, origin=CLI)
    soap(http, base_url, sf_token, f"<convertLead><leadConverts><leadId>{milton.link.sfdc_id}</leadId>"
         "<convertedStatus>Closed - Converted</convertedStatus><doNotCreateOpportunity>true</doNotCreateOpportunity>"
         "</leadConverts></convertLead>")
    assert engine.run_cycle().succeeded
    [followed] = store.persons.find_by_email("milton@initech.example")
    assert followed.id == milton.id and followed.link.sfdc_type == "Contact"
    assert sf.Contact.get(followed.link.sfdc_id)["Title"] == "Stapler Keeper"
    assert activities_of(store, milton.id, FILTERED) == []


def test_a_record_back_in_the_filter_links_again_the_person_it_was_unlinked_from(engine_with, store, sf):
    """Before, the person stayed unlinked and the record became a second person."""
    engine = engine_with({"Contact": "Title != 'Retired'", "leaving": "unlinked"})
    assert engine.run_cycle().succeeded
    wile = person(store, WILE)
    sf.Contact.update(wile.link.sfdc_id, {"Title": "Retired"})
    assert engine.run_cycle().succeeded
    assert not store.persons.get(wile.id).linked
    sf.Contact.update(wile.link.sfdc_id, {"Title": "Consultant"})
    assert engine.run_cycle().succeeded
    [back] = store.persons.find_by_email(WILE)
    assert back.id == wile.id and (back.link.sfdc_type, back.link.sfdc_id) == ("Contact", wile.link.sfdc_id)
    assert back.fields["title"] == "Consultant"


def test_a_record_coming_back_into_the_filter_is_pulled_again(engine_with, store, sf):
    engine = engine_with({"Contact": "Title != 'Retired'"})
    engine.run_cycle()
    sf.Contact.update(contact_id(sf, WILE), {"Title": "Retired"})
    engine.run_cycle()
    sf.Contact.update(contact_id(sf, WILE), {"Title": "Consultant"})
    engine.run_cycle()
    assert person(store, WILE).fields["title"] == "Consultant"


@pytest.mark.parametrize("leaving", ["kept", "unlinked"])
def test_the_push_filter_holds_back_persons_outside_it(engine_with, store, sf, leaving):
    engine = engine_with({"push": "leadSource != 'Partner'", "leaving": leaving})
    engine.run_cycle()
    peter, wile = person(store, PETER), person(store, WILE)
    store.persons.update(peter.id, {"leadSource": "Partner", "title": "Partner Manager"}, origin=CLI)
    store.persons.update(wile.id, {"title": "Chief Engineer"}, origin=CLI)  # leadSource empty: != matches
    report = engine.run_cycle()
    row = sf.query(f"SELECT Title, LeadSource FROM Contact WHERE Email = '{PETER}'")["records"][0]
    assert (row["Title"], row["LeadSource"]) == ("Programmer", "Trade Show")
    assert sf.query(f"SELECT Title FROM Contact WHERE Email = '{WILE}'")["records"][0]["Title"] == "Chief Engineer"
    not_sent = {a.attribute("Field") for a in activities_of(store, peter.id, DROPPED)
                if a.attribute("Rule") == "sync.filter.push"}
    assert not_sent == {"leadSource", "title"}
    assert store.outbox.find(person_ids=[peter.id]) == []
    [left] = activities_of(store, peter.id, FILTERED)
    assert left.attribute("Rule") == "sync.filter.push"
    assert person(store, PETER).linked is (leaving == "kept")
    [push] = [s for s in report.steps if s.object == "Contact" and s.operation is StepOperation.PUSH_UPDATES]
    assert push.status is StepStatus.SUCCEEDED and push.counts.updated == 1 and push.counts.skipped >= 1


def test_a_pull_filter_on_a_field_the_sync_user_cannot_see_fails_its_step_naming_the_key(engine_with, store):
    engine = engine_with({"Contact": "Internal_Notes__c = 'x'"})
    report = engine.run_cycle()
    [pull] = [s for s in report.steps if s.object == "Contact" and s.operation is StepOperation.PULL_UPDATES]
    assert pull.status is StepStatus.FAILED
    assert "sync.filter.Contact" in pull.message and "Internal_Notes__c" in pull.message


def test_a_push_filter_on_an_unknown_person_field_fails_naming_the_key(engine_with, store):
    engine = engine_with({"push": "shoeSize > 40"})
    engine.run_cycle()
    store.persons.update(person(store, WILE).id, {"title": "x"}, origin=CLI)
    report = engine.run_cycle()
    [push] = [s for s in report.steps if s.object == "Contact" and s.operation is StepOperation.PUSH_UPDATES]
    assert push.status is StepStatus.FAILED and "sync.filter.push" in push.message
    assert store.outbox.find(person_ids=[person(store, WILE).id])  # nothing was dropped


def test_filters_are_checked_when_the_policy_loads():
    with pytest.raises(ConfigError, match="sync.filter.Lead"):
        parse_policy({"filter": {"Lead": "IsConverted = "}})


@pytest.mark.parametrize("leaving", ["kept", "flagged"])
def test_a_record_outside_the_pull_filter_deleted_or_merged_in_salesforce(engine_with, store, sf, leaving):
    """Before, the filter hid the delete and the merge: both persons were pushed to deleted records for ever
    (ENTITY_IS_DELETED), and the merged Contact's person was never merged."""
    engine = engine_with({"Contact": "Title != 'Retired'", "leaving": leaving})
    engine.run_cycle()
    wile, peter, samir = person(store, WILE), person(store, PETER), person(store, "samir@initech.example")
    for who in (wile, peter):
        sf.Contact.update(who.link.sfdc_id, {"Title": "Retired"})
    engine.run_cycle()  # both leave the filter; their persons keep their links
    sf.Contact.delete(wile.link.sfdc_id)
    engine.client.merge_records("Contact", samir.link.sfdc_id, [peter.link.sfdc_id])
    store.persons.update(wile.id, {"phone": "+1 555 0101"}, origin=CLI)
    store.persons.update(peter.id, {"mobilePhone": "+1 555 0102"}, origin=CLI)
    report = engine.run_cycle()
    assert report.succeeded, report.steps
    assert store.persons.get(wile.id).link.sfdc_is_deleted
    with pytest.raises(NotFound, match=f"merged into person {samir.id}"):
        store.persons.get(peter.id)
    assert sf.Contact.get(samir.link.sfdc_id)["MobilePhone"] == "+1 555 0102"  # the loser's change reached the master
    assert [s.counts.failed for s in report.steps if s.operation is StepOperation.PUSH_UPDATES] == [0, 0]
    assert store.persons.count() == 5


def test_a_person_kept_outside_the_pull_filter_is_told_what_still_syncs(engine_with, store, sf):
    """Before, its SFDC Sync Filter activity said it was no longer synced while its changes still went out."""
    engine = engine_with({"Contact": "Title != 'Retired'", "leaving": "kept"})
    engine.run_cycle()
    wile = person(store, WILE)
    sf.Contact.update(wile.link.sfdc_id, {"Title": "Retired"})
    engine.run_cycle()
    [left] = activities_of(store, wile.id, FILTERED)
    assert left.attribute("Outcome") == "kept: linked, not pulled while outside the filter"
    store.persons.update(wile.id, {"phone": "+1 555 0103"}, origin=CLI)
    assert engine.run_cycle().succeeded
    assert sf.Contact.get(wile.link.sfdc_id)["Phone"] == "+1 555 0103"


@pytest.mark.parametrize("leaving", ["kept", "flagged"])
def test_a_record_outside_the_pull_filter_undeleted_in_salesforce(engine_with, store, sf, http, base_url, sf_token,
                                                                    leaving):
    """Before, its person stayed flagged deleted: its changes waited for ever."""
    from tests.sync.test_lifecycle import soap

    engine = engine_with({"Contact": "Title != 'Retired'", "leaving": leaving})
    engine.run_cycle()
    wile = person(store, WILE)
    sf.Contact.update(wile.link.sfdc_id, {"Title": "Retired"})
    engine.run_cycle()
    sf.Contact.delete(wile.link.sfdc_id)
    engine.run_cycle()
    soap(http, base_url, sf_token, f"<undelete><ids>{wile.link.sfdc_id}</ids></undelete>")
    store.persons.update(wile.id, {"phone": "+1 555 0104"}, origin=CLI)
    assert [r["personId"] for r in DryRun(engine).run().as_json()["push"]["Contact"]["records"]] == [wile.id]
    assert engine.run_cycle().succeeded
    after = store.persons.get(wile.id)
    assert after.linked and not after.link.sfdc_is_deleted
    assert activities_of(store, wile.id, types.SFDC_RECORD_UNDELETED)
    assert sf.Contact.get(wile.link.sfdc_id)["Phone"] == "+1 555 0104"


def _outside_flags(store, person_id):
    """The person's OUTSIDE_SYNC_FILTER errors as (resolved, message), oldest first."""
    since = store.persons.get(person_id).created_at - timedelta(days=1)
    found = [e for e in store.sync_errors.recent(since=since, level=ErrorLevel.RECORD)
             if e.error_code == "OUTSIDE_SYNC_FILTER" and e.person_id == person_id]
    resolved = store.history.resolved_ids([e.id for e in found])
    return [(e.id in resolved, e.message) for e in sorted(found, key=lambda e: e.id)]


@pytest.fixture
def flagged_on(base_url, ca_path, reset_emulator, database_url):
    """`flagged_on(filters)` → (engine, store) on SQLite and PostgreSQL, under `leaving = "flagged"`."""
    from tandem.people.store import PersonStore

    stores = []

    def make(filters):
        store = PersonStore(database_url)
        store.migrate()
        stores.append(store)
        policy = parse_policy({"filter": {**filters, "leaving": "flagged"}})
        return SyncEngine(sync_client(base_url, ca_path), store, policy=policy), store

    yield make
    for store in stores:
        store.close()


def test_a_flag_outside_the_pull_filter_stands_until_the_record_is_back_inside(flagged_on, sf):
    """Before, the flag was resolved at once: it had no refused change, so `tandem status` and the UI
    listed nothing to look at while the record was still outside."""
    engine, store = flagged_on({"Contact": "Title != 'Retired'"})
    assert engine.run_cycle().succeeded
    wile = person(store, WILE)
    sf.Contact.update(wile.link.sfdc_id, {"Title": "Retired"})
    assert engine.run_cycle().succeeded
    assert engine.run_cycle().succeeded  # a quiet cycle later it still stands
    assert [resolved for resolved, _ in _outside_flags(store, wile.id)] == [False]
    sf.Contact.update(wile.link.sfdc_id, {"Title": "Consultant"})
    assert engine.run_cycle().succeeded
    assert [resolved for resolved, _ in _outside_flags(store, wile.id)] == [True]
    back = [a for a in activities_of(store, wile.id, FILTERED) if a.attribute("Reason").startswith("back inside")]
    assert [a.attribute("Rule") for a in back] == ["sync.filter.Contact"]
    assert person(store, WILE).fields["title"] == "Consultant"


def test_a_flag_outside_the_push_filter_stands_until_the_person_is_back_inside(flagged_on, sf):
    engine, store = flagged_on({"push": "leadSource != 'Partner'"})
    assert engine.run_cycle().succeeded
    peter = person(store, PETER)
    store.persons.update(peter.id, {"leadSource": "Partner", "title": "Partner Manager"}, origin=CLI)
    assert engine.run_cycle().succeeded
    assert [resolved for resolved, _ in _outside_flags(store, peter.id)] == [False]
    store.persons.update(peter.id, {"leadSource": "Web", "title": "Programmer Again"}, origin=CLI)
    assert engine.run_cycle().succeeded
    assert [resolved for resolved, _ in _outside_flags(store, peter.id)] == [True]
    assert sf.query(f"SELECT Title FROM Contact WHERE Email = '{PETER}'")["records"][0]["Title"] == "Programmer Again"


PULL_FILTER, PUSH_FILTER = "sync.filter.Contact", "sync.filter.push"


def _standing(store, person_id):
    """The filters the person's flags `tandem status` lists as not resolved are outside of; the UI's list
    of unresolved errors and the engine's flagged list say the same."""
    state = sync_status(store, now=datetime.now(UTC), error_window=timedelta(days=5))
    listed = [e for e in state["errors"]
              if e["errorCode"] == "OUTSIDE_SYNC_FILTER" and e["personId"] == person_id and not e["resolved"]]
    rules = sorted({PUSH_FILTER if PUSH_FILTER in e["message"] else PULL_FILTER for e in listed})
    since = datetime.now(UTC) - timedelta(days=5)
    in_ui = store.history.errors(since, ErrorFilter(code="OUTSIDE_SYNC_FILTER", person_id=person_id, resolved=False))
    assert sorted({e.error.message for e in in_ui}) == sorted({e["message"] for e in listed})
    assert [r for r in (PULL_FILTER, PUSH_FILTER) if store.history.flagged_outside_filter([person_id], r)] == rules
    return rules


def test_a_flag_outside_the_pull_filter_stands_while_the_person_leaves_and_returns_to_the_push_filter(flagged_on, sf):
    """Before, the push filter's SFDC Sync Filter activity resolved the pull filter's flag: `tandem status`
    showed nothing to look at while the record was still outside the pull filter."""
    engine, store = flagged_on({"Contact": "Title != 'Retired'", "push": "leadSource != 'Partner'"})
    assert engine.run_cycle().succeeded
    wile = person(store, WILE)
    sf.Contact.update(wile.link.sfdc_id, {"Title": "Retired"})
    assert engine.run_cycle().succeeded
    assert _standing(store, wile.id) == [PULL_FILTER]
    store.persons.update(wile.id, {"leadSource": "Partner", "phone": "+1 555 0105"}, origin=CLI)
    assert engine.run_cycle().succeeded
    assert _standing(store, wile.id) == [PULL_FILTER, PUSH_FILTER]
    store.persons.update(wile.id, {"leadSource": "Web"}, origin=CLI)
    assert engine.run_cycle().succeeded
    assert engine.run_cycle().succeeded  # its own push read back: the record is still outside the pull filter
    assert _standing(store, wile.id) == [PULL_FILTER]
    sf.Contact.update(wile.link.sfdc_id, {"Title": "Consultant"})
    assert engine.run_cycle().succeeded
    assert _standing(store, wile.id) == []
    back = [a.attribute("Rule") for a in activities_of(store, wile.id, FILTERED)
            if a.attribute("Reason").startswith("back inside")]
    assert back == [PUSH_FILTER, PULL_FILTER]


def test_a_flag_outside_the_push_filter_stands_while_the_record_leaves_and_returns_to_the_pull_filter(flagged_on,
                                                                                                     sf):
    """Before, the pull filter's SFDC Sync Filter activity resolved the push filter's flag."""
    engine, store = flagged_on({"Contact": "Title != 'Retired'", "push": "leadSource != 'Partner'"})
    assert engine.run_cycle().succeeded
    peter = person(store, PETER)
    store.persons.update(peter.id, {"leadSource": "Partner"}, origin=CLI)
    assert engine.run_cycle().succeeded
    assert _standing(store, peter.id) == [PUSH_FILTER]
    sf.Contact.update(peter.link.sfdc_id, {"Title": "Retired"})
    assert engine.run_cycle().succeeded
    assert _standing(store, peter.id) == [PULL_FILTER, PUSH_FILTER]
    sf.Contact.update(peter.link.sfdc_id, {"Title": "Consultant"})
    assert engine.run_cycle().succeeded
    assert _standing(store, peter.id) == [PUSH_FILTER]
    store.persons.update(peter.id, {"leadSource": "Web"}, origin=CLI)
    assert engine.run_cycle().succeeded
    assert _standing(store, peter.id) == []


def test_sync_person_of_a_person_a_filter_unlinked_syncs_it_to_its_record_not_a_new_lead(engine_with, store, sf):
    """Before, Sync Person to SFDC made a new Lead for a person the filter had unlinked from its Contact:
    the person became a Lead in Salesforce beside the Contact it still had there."""
    from tandem.sync.actions import PersonActions

    engine = engine_with({"Contact": "Title != 'Retired'", "leaving": "unlinked"})
    engine.run_cycle()
    wile = person(store, WILE)
    sf.Contact.update(contact_id(sf, WILE), {"Title": "Retired"})
    engine.run_cycle()
    assert not person(store, WILE).linked
    store.persons.update(wile.id, {"mobilePhone": "+1 555 0777"}, origin=CLI)
    result = PersonActions(engine).sync_person(wile.id)
    assert (result.sfdc_type, result.sfdc_id, result.created) == ("Contact", wile.link.sfdc_id, False)
    assert sf.query("SELECT Id FROM Lead WHERE Email = 'wile@acme.example'")["records"] == []
    assert sf.Contact.get(wile.link.sfdc_id)["MobilePhone"] == "+1 555 0777"
    assert person(store, WILE).link.sfdc_id == wile.link.sfdc_id
