"""Merging persons with the native rules, and deleting them with their log kept in a tombstone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tandem.errors import InvalidInput, NotFound
from tandem.people import activities as types
from tandem.people.models import SalesforceLink
from tandem.people.store import SALESFORCE, PersonStore

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def add(store: PersonStore, **fields):
    return store.add_person(fields, source="cli", now=T0)


def test_three_way_merge_keeps_winner_values_fills_empties_sums_scores(store: PersonStore) -> None:
    winner = add(store, email="ann@example.com", lastName="Lee", title=None, leadScore=10)
    second = add(store, email="ann@other.example", lastName="Leigh", title="CTO", leadScore=5, city="Oslo")
    third = add(store, email="a.lee@example.com", lastName="L", phone="+47 1", leadScore=7, city="Bergen")
    store.log_activity(second.id, types.SFDC_VALUE_DROPPED, "x", {"Field": "x"})
    moved = [a.id for a in store.list_activities(second.id)] + [a.id for a in store.list_activities(third.id)]

    merged = store.merge_persons(winner.id, [second.id, third.id], source="cli")

    assert merged.fields["email"] == "ann@example.com" and merged.fields["lastName"] == "Lee"
    assert merged.fields["title"] == "CTO" and merged.fields["phone"] == "+47 1"
    assert merged.fields["city"] == "Oslo"  # the first loser with a value fills the empty field
    assert merged.fields["leadScore"] == 22
    log = store.list_activities(winner.id)
    assert set(moved) <= {a.id for a in log}  # activity rows keep their ids
    [merge] = [a for a in log if a.activity_type_id == types.MERGE_LEADS.id]
    assert merge.attribute("Merged Lead IDs") == f"{second.id}, {third.id}"
    for gone in (second.id, third.id):
        with pytest.raises(NotFound, match=f"person {gone} was merged into person {winner.id}"):
            store.get_person(gone)
        assert store.merged_into(gone) == winner.id
    assert store.count_persons() == 1


def test_losers_pending_change_lands_on_winner_or_is_a_conflict(store: PersonStore) -> None:
    winner = add(store, email="w@example.com", lastName="W")
    loser = add(store, email="l@example.com", lastName="L")
    store.update_person(loser.id, {"title": "VP", "company": "Loser Inc"}, source="cli")
    store.update_person(winner.id, {"company": "Winner Inc"}, source="cli")

    merged = store.merge_persons(winner.id, [loser.id], source="cli")

    assert merged.fields["title"] == "VP" and merged.fields["company"] == "Winner Inc"
    pending = {c.field: c.value for c in store.list_pending_changes(person_ids=[winner.id])}
    assert pending["title"] == "VP" and pending["company"] == "Winner Inc"
    [conflict] = store.list_activities(winner.id, type_ids=[types.SFDC_SYNC_CONFLICT.id])
    assert (conflict.attribute("Lost Value"), conflict.attribute("Kept Value")) == ("Loser Inc", "Winner Inc")
    assert store.list_pending_changes(person_ids=[loser.id]) == []


def test_salesforce_merge_logs_sfdc_merge_and_unlinked_winner_takes_the_link(store: PersonStore) -> None:
    winner = add(store, email="w@example.com")
    [loser_id] = store.add_linked_persons([({"email": "l@example.com"}, SalesforceLink(
        sfdc_type="Lead", sfdc_id="00Q000000000001AAA", sfdc_lead_id="00Q000000000001AAA"))])
    merged = store.merge_persons(winner.id, [loser_id], source=SALESFORCE)
    assert merged.link.sfdc_id == "00Q000000000001AAA"
    [merge] = store.list_activities(winner.id, type_ids=[types.SFDC_MERGE_LEADS.id])
    assert merge.attribute("Merged SFDC Ids") == "00Q000000000001AAA"


def test_chained_merges_redirect_to_the_last_winner(store: PersonStore) -> None:
    a, b, c = (add(store, email=f"{n}@example.com") for n in "abc")
    store.merge_persons(b.id, [a.id], source="cli")
    store.merge_persons(c.id, [b.id], source="cli")
    assert store.merged_into(a.id) == c.id
    with pytest.raises(NotFound, match=f"merged into person {c.id}"):
        store.resolve_person(str(a.id))


def test_merge_refuses_itself_and_missing_persons(store: PersonStore) -> None:
    a = add(store, email="a@example.com")
    with pytest.raises(InvalidInput):
        store.merge_persons(a.id, [a.id], source="cli")
    with pytest.raises(NotFound):
        store.merge_persons(a.id, [a.id + 100], source="cli")
    assert store.get_person(a.id).fields["email"] == "a@example.com"


def test_delete_keeps_record_and_log_in_the_tombstone(store: PersonStore) -> None:
    doomed = add(store, email="d@example.com", lastName="Doe")
    store.update_person(doomed.id, {"title": "CEO"}, source="cli")
    before = [a.id for a in store.list_activities(doomed.id)]

    stone = store.delete_person(doomed.id, source="cli", remove_from_crm=True)

    assert stone.fate == "deleted" and stone.record["email"] == "d@example.com"
    assert [a.id for a in stone.activities][:len(before)] == before
    assert stone.activities[-1].activity_type_id == types.DELETE_LEAD.id
    assert stone.activities[-1].attribute("Remove from CRM") is True
    assert store.list_activities(doomed.id) == [] and store.list_pending_changes(person_ids=[doomed.id]) == []
    with pytest.raises(NotFound, match="was deleted"):
        store.get_person(doomed.id)
    assert store.count_persons() == 0


def test_batch_delete_of_the_rest_api_keeps_each_log_in_a_tombstone(store: PersonStore) -> None:
    ids = store.add_persons([{"email": "a@x.com"}, {"email": "b@x.com"}], "test")
    assert store.delete_persons([ids[0], 999_999]) == [ids[0]]
    stone = store.tombstone(ids[0])
    assert [a.activity_type_id for a in stone.activities] == [types.NEW_LEAD.id, types.DELETE_LEAD.id]
    assert stone.activities[-1].attribute("Source") == "api"
    assert store.get_person(ids[1]).fields["email"] == "b@x.com"
