"""The engine's pure planners, without a store or an org: what to push, what to query, which fields sync,
how a pulled row is read and what a page of pulled records plans."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tandem.people.fields import STANDARD_BY_NAME, FieldType, PersonField
from tandem.people.models import PendingChange, PendingState, Person, SalesforceLink
from tandem.people.origin import ChangeOrigin
from tandem.sync.catalog import build_catalog
from tandem.sync.fates import RecordFates, adopt_masters, related_ids
from tandem.sync.fields import Direction
from tandem.sync.plan import PagePlan
from tandem.sync.pull import pull_query
from tandem.sync.push import plan_person
from tandem.sync.records import PulledRecord, RecordParser, link_for
from tandem.sync.watermark import Cursor

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
CONTACT_ID = "003000000000001AAA"
LEAD_ID = "00Q000000000001AAA"
ACCOUNT_ID = "001000000000001AAA"


def _field(name: str, type_: str = "string", *, updateable: bool = True, custom: bool = False, **extra):
    return {"name": name, "type": type_, "updateable": updateable, "custom": custom, "label": name, **extra}


DESCRIBES = {
    "Contact": {"fields": [
        _field("Id", "id", updateable=False), _field("Email", "email"), _field("Title"),
        _field("Phone", "phone"), _field("CreatedDate", "datetime", updateable=False),
        _field("Score__c", "double", custom=True), _field("Formula__c", "string", custom=True, calculated=True),
        _field("Tandem_Person_Id__c", custom=True),
    ]},
    "Lead": {"fields": [_field("Email", "email"), _field("Title"), _field("Company"), _field("Rating", "picklist")]},
    "Account": {"fields": [_field("Name"), _field("Website", "url")]},
}


@pytest.fixture(scope="module")
def catalog():
    built, _ = build_catalog(DESCRIBES, lambda name: None, now=NOW)
    return built


def _change(change_id: int, field: str, value, person_id: int = 7) -> PendingChange:
    return PendingChange(id=change_id, person_id=person_id, field=field, value=value, changed_at=NOW,
                         origin=ChangeOrigin.CLI, state=PendingState.PENDING, attempts=0, last_attempt_at=None, last_error=None)


def _person(person_id: int = 7, link: SalesforceLink | None = None, **fields) -> Person:
    return Person(id=person_id, fields=fields, link=link or SalesforceLink("Contact", CONTACT_ID),
                  created_at=NOW, updated_at=NOW)


# -- build_catalog ---------------------------------------------------------------------------------


def test_catalog_decides_each_field_with_its_reason(catalog):
    rules = {r.sf_field: r for r in catalog.rules["Contact"]}
    assert rules["Title"].direction is Direction.BOTH and rules["Title"].person_field == "title"
    assert rules["CreatedDate"].direction is Direction.PULL
    assert rules["Formula__c"].direction is Direction.PULL and "formula" in rules["Formula__c"].reason
    assert rules["Tandem_Person_Id__c"].direction is Direction.NONE
    assert rules["Id"].direction is Direction.NONE and rules["Id"].reason == "not in default mapping"
    hidden = rules["MailingCity"]  # mapped, but absent from the sync user's describe
    assert hidden.direction is Direction.NONE and hidden.reason == "hidden from sync user"
    assert all(r.direction is Direction.PULL for r in catalog.syncing("Account"))


def test_catalog_asks_for_custom_person_fields_and_refuses_a_changed_type():
    _, wanted = build_catalog(DESCRIBES, lambda name: None, now=NOW)
    assert {(s.name, s.type) for s in wanted} == {("Score__c", "float"), ("Formula__c", "string")}
    changed, wanted = build_catalog(DESCRIBES, {"Score__c": "string"}.get, now=NOW)
    score = next(r for r in changed.rules["Contact"] if r.sf_field == "Score__c")
    assert score.direction is Direction.NONE and "type changed" in score.reason
    assert any("Score__c" in p for p in changed.problems)
    assert "Score__c" not in {s.name for s in wanted}


# -- pull_query -------------------------------------------------------------------------------------


def test_pull_query_reads_everything_on_a_first_pull(catalog):
    query = pull_query("Contact", catalog, Cursor())
    assert query.startswith("SELECT Id, SystemModstamp, IsDeleted, CreatedDate, MasterRecordId, AccountId, ")
    assert "Account.Name" in query and "Account.Website" in query and "Title" in query
    assert "WHERE" not in query and query.endswith("FROM Contact ORDER BY SystemModstamp, Id")
    assert query.count("CreatedDate") == 1  # a synced field already among the system fields is asked once
    assert "Tandem_Person_Id__c" in query  # described for the sync user: a record made for a person says so
    assert "Tandem_Person_Id__c" not in pull_query("Lead", catalog, Cursor())  # not described on Lead here


def test_pull_query_reads_the_window_from_the_cursor_to_its_bound(catalog):
    cursor = Cursor(stamp=datetime(2026, 1, 5, 10, 0, tzinfo=UTC))
    query = pull_query("Lead", catalog, cursor)
    assert "WHERE SystemModstamp >= 2026-01-05T10:00:00.000Z ORDER BY" in query
    bounded = pull_query("Lead", catalog, cursor.reading_to(datetime(2026, 1, 5, 10, 1, 30, 123456, tzinfo=UTC)))
    assert ("WHERE SystemModstamp >= 2026-01-05T10:00:00.000Z AND SystemModstamp < 2026-01-05T10:01:30.123Z "
            "ORDER BY") in bounded
    assert "ConvertedContactId" in query and "Account." not in query


# -- plan_person ------------------------------------------------------------------------------------


def test_plan_person_sends_pushable_changes_and_sets_aside_the_rest(catalog):
    changes = [_change(1, "title", "CTO"), _change(2, "Formula__c", "x"), _change(3, "company", "Acme"),
               _change(4, "notAField", "y"), _change(5, "Score__c", 4.5)]
    plan = plan_person(catalog, "Contact", _person(), changes)
    assert plan.record == {"Id": CONTACT_ID, "Title": "CTO", "Score__c": 4.5}
    assert [c.id for c in plan.sent] == [1, 5]
    reasons = {c.id: (rule.sf_field if rule else None, reason) for c, rule, reason in plan.not_synced}
    assert reasons[2] == ("Formula__c", "formula: pull only")
    assert reasons[3] == ("Name", "Account fields: pull only")  # a Contact's company comes from its Account
    assert reasons[4][0] is None and "the sync user can see" in reasons[4][1]


def test_plan_person_turns_dates_into_salesforce_literals(catalog):
    stamp = datetime(2026, 1, 5, 12, 30, 15, 250000, tzinfo=UTC)
    plan = plan_person(catalog, "Lead", _person(link=SalesforceLink("Lead", LEAD_ID)), [_change(1, "title", stamp)])
    assert plan.record == {"Id": LEAD_ID, "Title": "2026-01-05T12:30:15.250Z"}


# -- RecordParser and link_for ----------------------------------------------------------------------


def _parser(catalog, object_name: str = "Contact") -> RecordParser:
    account = catalog.syncing("Account") if object_name == "Contact" else []
    return RecordParser(object_name, catalog.syncing(object_name), account, _person_field)


def _person_field(name: str):
    if name in STANDARD_BY_NAME:
        return STANDARD_BY_NAME[name]
    return PersonField(id=1000, name=name, type=FieldType.FLOAT if name == "Score__c" else FieldType.STRING,
                       label=name, custom=True)


def test_a_row_is_parsed_once_into_typed_values_and_18_character_ids(catalog):
    row = {"Id": CONTACT_ID[:15], "SystemModstamp": "2026-01-05T10:00:00.000+0000", "IsDeleted": False,
           "CreatedDate": "2025-12-01T08:00:00.000+0000", "AccountId": ACCOUNT_ID[:15], "Title": "CTO",
           "Email": "ada@example.com", "Score__c": "not a number", "Account": {"Name": "Acme", "Website": None}}
    record = _parser(catalog).parse(row)
    assert record.id == CONTACT_ID and record.account_id == ACCOUNT_ID
    assert record.stamp == datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
    assert record.created_date == datetime(2025, 12, 1, 8, 0, tzinfo=UTC)
    assert record.values["title"] == "CTO" and record.values["company"] == "Acme"
    assert "sfdcCreatedDate" not in record.values  # link fields travel on the link, not as values
    assert [(d.person_field, d.raw) for d in record.dropped] == [("Score__c", "not a number")]


def test_a_contact_without_an_account_has_every_account_field_empty(catalog):
    """Salesforce writes a missing parent as null (REST) or leaves it out: the Account's fields are
    then empty values of the record, which clear what a person held."""
    parser = _parser(catalog)
    account_fields = {r.person_field for r in catalog.syncing("Account") if r.person_field}
    assert "company" in account_fields
    base = {"Id": CONTACT_ID, "SystemModstamp": "2026-01-05T10:00:00.000+0000", "Title": "CTO"}
    for row in ({**base, "Account": None}, base, {**base, "Account": {}}):
        record = parser.parse(row)
        assert {name: record.values[name] for name in account_fields} == dict.fromkeys(account_fields)
        assert record.values["title"] == "CTO" and record.dropped == ()


def test_link_for_follows_the_record_and_keeps_what_it_does_not_say():
    previous = SalesforceLink("Lead", LEAD_ID, sfdc_lead_id=LEAD_ID, sfdc_account_id=None)
    record = PulledRecord("Contact", CONTACT_ID, NOW, account_id=ACCOUNT_ID, created_date=NOW)
    link = link_for(record, previous)
    assert link == SalesforceLink("Contact", CONTACT_ID, sfdc_lead_id=LEAD_ID, sfdc_contact_id=CONTACT_ID,
                                  sfdc_account_id=ACCOUNT_ID, sfdc_is_deleted=False, sfdc_created_date=NOW)
    deleted = link_for(PulledRecord("Lead", LEAD_ID, NOW, is_deleted=True), previous)
    assert deleted.sfdc_is_deleted and deleted.sfdc_created_date is None


# -- fates --------------------------------------------------------------------------------------------

MASTER_ID = "003000000000002AAA"


def test_a_merged_loser_whose_master_has_no_person_follows_the_master():
    loser = _person(1)
    records = [PulledRecord("Contact", CONTACT_ID, NOW, is_deleted=True, master_id=MASTER_ID)]
    assert related_ids(records) == [CONTACT_ID, MASTER_ID]
    persons = {CONTACT_ID: loser}
    adopt_masters(records, persons)
    assert persons[MASTER_ID] is loser
    fates, plan = RecordFates(), PagePlan()
    fates.deleted(loser, records[0], persons, plan)
    assert plan.links[1].sfdc_id == MASTER_ID and plan.links[1].sfdc_contact_id == MASTER_ID
    assert plan.forget_bases == [1] and plan.deletes_counted.counts().updated == 1


def test_a_merged_loser_is_merged_into_the_masters_person():
    loser, master = _person(1), _person(2, SalesforceLink("Contact", MASTER_ID))
    fates, plan = RecordFates(), PagePlan()
    fates.deleted(loser, PulledRecord("Contact", CONTACT_ID, NOW, is_deleted=True, master_id=MASTER_ID),
                  {CONTACT_ID: loser, MASTER_ID: master}, plan)
    assert [(o.winner_id, o.loser_ids) for o in plan.merges] == [(2, [1])]
    assert plan.deletes_counted.counts().deleted == 1


def test_a_deleted_record_flags_its_person_once():
    person = _person(1)
    fates, plan = RecordFates(), PagePlan()
    record = PulledRecord("Contact", CONTACT_ID, NOW, is_deleted=True)
    fates.deleted(person, record, {CONTACT_ID: person}, plan)
    assert plan.links[1].sfdc_is_deleted and len(plan.activities) == 1
    flagged = _person(1, SalesforceLink("Contact", CONTACT_ID, sfdc_is_deleted=True))
    fates.deleted(flagged, record, {CONTACT_ID: flagged}, plan)
    assert plan.deletes_counted.counts().deleted == 1 and plan.deletes_counted.counts().skipped == 1


def test_a_converted_lead_merges_into_the_contacts_older_person():
    lead_person = _person(1, SalesforceLink("Lead", LEAD_ID, sfdc_lead_id=LEAD_ID))
    older = Person(id=2, fields={}, link=SalesforceLink("Contact", CONTACT_ID), created_at=datetime(2025, 1, 1, tzinfo=UTC),
                   updated_at=NOW)
    record = PulledRecord("Lead", LEAD_ID, NOW, is_converted=True, converted_contact_id=CONTACT_ID,
                          converted_account_id=ACCOUNT_ID)
    fates, plan = RecordFates(), PagePlan()
    fates.converted(lead_person, record, {LEAD_ID: lead_person, CONTACT_ID: older}, plan)
    [order] = plan.merges
    assert (order.winner_id, order.loser_ids) == (2, [1])
    assert order.link.sfdc_type == "Contact" and order.link.sfdc_lead_id == LEAD_ID
    assert order.link.sfdc_account_id == ACCOUNT_ID and plan.conversions_counted.counts().updated == 1
