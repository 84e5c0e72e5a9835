"""The batch forms the sync engine works with: linked persons, links, push queue, bases, activities."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tandem.errors import InvalidInput, NotFound
from tandem.people import activities as types
from tandem.people.models import SalesforceLink
from tandem.people.origin import ChangeOrigin
from tandem.people.store import PersonStore

T0 = datetime(2026, 4, 1, tzinfo=UTC)


def _lead(n: int) -> SalesforceLink:
    sfdc_id = f"00Q5g0000LEAD{n:02d}AAA"
    return SalesforceLink(sfdc_type="Lead", sfdc_id=sfdc_id, sfdc_lead_id=sfdc_id, sfdc_created_date=T0)


def _contact(n: int, account: str = "0015g0000ACCT01AAA") -> SalesforceLink:
    sfdc_id = f"0035g0000CONT{n:02d}AAA"
    return SalesforceLink(sfdc_type="Contact", sfdc_id=sfdc_id, sfdc_contact_id=sfdc_id, sfdc_account_id=account)


def test_add_linked_persons_stores_the_link_and_queues_nothing(store: PersonStore) -> None:
    ids = store.persons.add_linked([({"lastName": "Lead"}, _lead(1)), ({"lastName": "Con"}, _contact(1))])
    lead, contact = store.persons.get_many(ids)
    assert lead.link == _lead(1) and contact.link == _contact(1)
    assert store.outbox.find() == []
    new_leads = store.activities.find(type_ids=[types.NEW_LEAD.id])
    assert [a.attribute("SFDC Type") for a in new_leads] == ["Lead", "Contact"]
    assert {a.attribute("Source Type") for a in new_leads} == {"salesforce"}


def test_add_linked_persons_checks_fields_and_link(store: PersonStore) -> None:
    with pytest.raises(InvalidInput) as raised:
        store.persons.add_linked([({"lastName": "X"}, SalesforceLink(sfdc_type="Account", sfdc_id="001"))])
    assert raised.value.field == "sfdcType"
    with pytest.raises(InvalidInput) as raised:
        store.persons.add_linked([({"numberOfEmployees": "many"}, _lead(1))])
    assert raised.value.field == "numberOfEmployees"
    assert store.persons.count() == 0


def test_set_salesforce_links_in_one_batch(store: PersonStore) -> None:
    a, b = store.persons.add_many([{"lastName": "A"}, {"lastName": "B"}], origin=ChangeOrigin.CLI)
    changed = store.persons.set_links([(a, _lead(1)), (b, _contact(2))], reason="created in Salesforce")
    assert [sorted(c) for c in changed] == [
        ["sfdcCreatedDate", "sfdcId", "sfdcLeadId", "sfdcType"],
        ["sfdcAccountId", "sfdcContactId", "sfdcId", "sfdcType"],
    ]
    [reason] = {x.attribute("Reason") for x in store.activities.find(type_ids=[types.CHANGE_DATA_VALUE.id])}
    assert reason == "created in Salesforce"
    assert store.outbox.find() == []


def test_lookups_by_salesforce_and_account_ids(store: PersonStore) -> None:
    ids = store.persons.add_linked([
        ({}, _lead(1)), ({}, _contact(1)), ({}, _contact(2)), ({}, _contact(3, account="0015g0000ACCT02AAA")),
    ])
    by_sfdc = store.persons.by_sfdc_ids([_lead(1).sfdc_id, _contact(3).sfdc_id, "003000000000000AAA"])
    assert {k: p.id for k, p in by_sfdc.items()} == {_lead(1).sfdc_id: ids[0], _contact(3).sfdc_id: ids[3]}
    by_account = store.persons.by_account_ids(["0015g0000ACCT01AAA", "0015g0000ACCT02AAA"], sfdc_type="Contact")
    assert {k: [p.id for p in v] for k, v in by_account.items()} == {
        "0015g0000ACCT01AAA": [ids[1], ids[2]], "0015g0000ACCT02AAA": [ids[3]],
    }


def test_pending_for_push_takes_linked_live_persons_of_the_type_in_pages(store: PersonStore) -> None:
    leads = store.persons.add_linked([({}, _lead(n)) for n in range(1, 6)])
    contact = store.persons.add_linked([({}, _contact(1))])[0]
    unlinked = store.persons.add({}, origin=ChangeOrigin.CLI).id
    deleted = store.persons.add_linked([({}, _lead(9))])[0]
    store.persons.set_link(deleted, SalesforceLink(**{**vars(_lead(9)), "sfdc_is_deleted": True}))
    for person_id in [*leads, contact, unlinked, deleted]:
        store.persons.update(person_id, {"title": "CTO", "city": "Ghent"}, origin=ChangeOrigin.CLI)

    assert store.outbox.due_persons("Lead", max_persons=2) == leads[:2]
    assert store.outbox.due_persons("Lead", after_person_id=leads[1], max_persons=10) == leads[2:]
    assert store.outbox.due_persons("Contact") == [contact]


def test_pending_for_push_retries_in_flight_and_failed_only_when_asked(store: PersonStore) -> None:
    a, b, c = store.persons.add_linked([({}, _lead(1)), ({}, _lead(2)), ({}, _lead(3))])
    for person_id in (a, b, c):
        store.persons.update(person_id, {"title": "CTO"}, origin=ChangeOrigin.CLI)
    by_person = {ch.person_id: ch.id for ch in store.outbox.find()}
    store.outbox.mark_attempt([by_person[b], by_person[c]])
    store.outbox.mark_failed([by_person[c]], "REQUIRED_FIELD_MISSING")
    assert store.outbox.due_persons("Lead") == [a, b]
    assert store.outbox.due_persons("Lead", include_failed=True) == [a, b, c]


def test_bases_for_many_persons(store: PersonStore) -> None:
    a, b, c = store.persons.add_many([{}, {}, {}], origin=ChangeOrigin.CLI)
    store.bases.set_many({a: {"title": "VP", "leadScore": "3"}, b: {"unsubscribed": True}})
    assert store.bases.for_persons([a, b, c]) == {a: {"title": "VP", "leadScore": 3}, b: {"unsubscribed": True}}
    store.bases.set_many({a: {"title": "CTO"}})
    assert store.bases.get(a) == {"title": "CTO", "leadScore": 3}
    assert store.bases.for_persons([a, b, c], fields={"leadScore"}) == {a: {"leadScore": 3}}  # a push reads only these
    assert store.bases.for_persons([a, b], fields=()) == {}


def test_claims_say_how_many_persons_they_may_hold_together(store: PersonStore) -> None:
    from tandem.sync.push import BULK_JOB_PERSONS, BULK_CONCURRENCY
    if store.url.startswith("postgresql"):  # advisory locks fill the server's shared lock table
        assert store.locks.claimable is not None and store.locks.claimable // BULK_JOB_PERSONS == 3
    else:  # file locks: as many as wanted
        assert store.locks.claimable is None and BULK_CONCURRENCY > 3


def test_log_activities_in_one_batch(store: PersonStore) -> None:
    a, b = store.persons.add_many([{}, {}], origin=ChangeOrigin.CLI)
    store.activities.log_many([
        (a, types.SFDC_SYNC_CONFLICT, "title", {"Kept Value": "CTO", "Lost Value": "VP", "Winner": "Salesforce"}),
        (b, types.SFDC_VALUE_DROPPED, "Shoe_Size__c", {"Value": "44", "Reason": "not synced"}),
    ], now=T0)
    logged = store.activities.find(type_ids=[types.SFDC_SYNC_CONFLICT.id, types.SFDC_VALUE_DROPPED.id])
    assert [(x.person_id, x.primary_attribute_value) for x in logged] == [(a, "title"), (b, "Shoe_Size__c")]
    assert logged[0].attribute("Lost Value") == "VP" and logged[0].activity_date == T0


def test_log_activities_writes_nothing_when_one_entry_is_bad(store: PersonStore) -> None:
    a = store.persons.add({}, origin=ChangeOrigin.CLI).id
    good = (a, types.SFDC_SYNC_FAILED, "REQUIRED_FIELD_MISSING", {"Error Message": "Company"})
    with pytest.raises(InvalidInput):
        store.activities.log_many([good, (a, types.SFDC_SYNC_FAILED, "X", {"Colour": "red"})])
    with pytest.raises(NotFound):
        store.activities.log_many([good, (a + 5, types.SFDC_SYNC_FAILED, "X", {})])
    assert len(store.activities.find()) == 1
