"""Merging persons with the native rules, and deleting them with their log kept in a tombstone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tandem.errors import InvalidInput, NotFound
from tandem.people import activities as types
from tandem.people.models import SalesforceLink
from tandem.people.origin import ChangeOrigin
from tandem.people.store import PersonStore

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def add(store: PersonStore, **fields):
    return store.persons.add(fields, origin=ChangeOrigin.CLI, now=T0)


def test_three_way_merge_keeps_winner_values_fills_empties_sums_scores(store: PersonStore) -> None:
    winner = add(store, email="ann@example.com", lastName="Lee", title=None, leadScore=10)
    second = add(store, email="ann@other.example", lastName="Leigh", title="CTO", leadScore=5, city="Oslo")
    third = add(store, email="a.lee@example.com", lastName="L", phone="+47 1", leadScore=7, city="Bergen")
    store.activities.log(second.id, types.SFDC_VALUE_DROPPED, "x", {"Field": "x"})
    moved = [a.id for a in store.activities.find(second.id)] + [a.id for a in store.activities.find(third.id)]

    merged = store.merges.merge(winner.id, [second.id, third.id], origin=ChangeOrigin.CLI)

    assert merged.fields["email"] == "ann@example.com" and merged.fields["lastName"] == "Lee"
    assert merged.fields["title"] == "CTO" and merged.fields["phone"] == "+47 1"
    assert merged.fields["city"] == "Oslo"  # the first loser with a value fills the empty field
    assert merged.fields["leadScore"] == 22
    log = store.activities.find(winner.id)
    assert set(moved) <= {a.id for a in log}  # activity rows keep their ids
    [merge] = [a for a in log if a.activity_type_id == types.MERGE_LEADS.id]
    assert merge.attribute("Merged Lead IDs") == f"{second.id}, {third.id}"
    for gone in (second.id, third.id):
        with pytest.raises(NotFound, match=f"person {gone} was merged into person {winner.id}"):
            store.persons.get(gone)
        assert store.tombstones.merged_into(gone) == winner.id
    assert store.persons.count() == 1


def test_losers_pending_change_lands_on_winner_or_is_a_conflict(store: PersonStore) -> None:
    winner = add(store, email="w@example.com", lastName="W")
    loser = add(store, email="l@example.com", lastName="L")
    store.persons.update(loser.id, {"title": "VP", "company": "Loser Inc"}, origin=ChangeOrigin.CLI)
    store.persons.update(winner.id, {"company": "Winner Inc"}, origin=ChangeOrigin.CLI)

    merged = store.merges.merge(winner.id, [loser.id], origin=ChangeOrigin.CLI)

    assert merged.fields["title"] == "VP" and merged.fields["company"] == "Winner Inc"
    pending = {c.field: c.value for c in store.outbox.find(person_ids=[winner.id])}
    assert pending["title"] == "VP" and pending["company"] == "Winner Inc"
    [conflict] = store.activities.find(winner.id, type_ids=[types.SFDC_SYNC_CONFLICT.id])
    assert (conflict.attribute("Lost Value"), conflict.attribute("Kept Value")) == ("Loser Inc", "Winner Inc")
    assert store.outbox.find(person_ids=[loser.id]) == []


def test_losers_pending_change_to_a_field_only_the_winners_record_gives_is_logged(store: PersonStore) -> None:
    """Before, a loser's waiting company (a Contact's Account field) left with the loser, unlogged."""
    winner = add(store, email="w@example.com", lastName="W", company="Winner Inc")
    loser = add(store, email="l@example.com", lastName="L")
    store.persons.update(loser.id, {"company": "Loser Inc", "title": "VP"}, origin=ChangeOrigin.CLI)

    merged = store.merges.merge(winner.id, [loser.id], origin=ChangeOrigin.SALESFORCE, own={"company"})

    assert merged.fields["company"] == "Winner Inc" and merged.fields["title"] == "VP"
    [conflict] = store.activities.find(winner.id, type_ids=[types.SFDC_SYNC_CONFLICT.id])
    assert (conflict.attribute("Field"), conflict.attribute("Lost Value"), conflict.attribute("Kept Value")) == (
        "company", "Loser Inc", "Winner Inc")
    assert "the winner's record gives this field" in conflict.attribute("Reason")


def test_salesforce_merge_logs_sfdc_merge_and_unlinked_winner_takes_the_link(store: PersonStore) -> None:
    winner = add(store, email="w@example.com")
    [loser_id] = store.persons.add_linked([({"email": "l@example.com"}, SalesforceLink(
        sfdc_type="Lead", sfdc_id="00Q000000000001AAA", sfdc_lead_id="00Q000000000001AAA"))])
    merged = store.merges.merge(winner.id, [loser_id], origin=ChangeOrigin.SALESFORCE)
    assert merged.link.sfdc_id == "00Q000000000001AAA"
    [merge] = store.activities.find(winner.id, type_ids=[types.SFDC_MERGE_LEADS.id])
    assert merge.attribute("Merged SFDC Ids") == "00Q000000000001AAA"


def test_chained_merges_redirect_to_the_last_winner(store: PersonStore) -> None:
    a, b, c = (add(store, email=f"{n}@example.com") for n in "abc")
    store.merges.merge(b.id, [a.id], origin=ChangeOrigin.CLI)
    store.merges.merge(c.id, [b.id], origin=ChangeOrigin.CLI)
    assert store.tombstones.merged_into(a.id) == c.id
    with pytest.raises(NotFound, match=f"merged into person {c.id}"):
        store.persons.resolve(str(a.id))


def test_merge_refuses_itself_and_missing_persons(store: PersonStore) -> None:
    a = add(store, email="a@example.com")
    with pytest.raises(InvalidInput):
        store.merges.merge(a.id, [a.id], origin=ChangeOrigin.CLI)
    with pytest.raises(NotFound):
        store.merges.merge(a.id, [a.id + 100], origin=ChangeOrigin.CLI)
    assert store.persons.get(a.id).fields["email"] == "a@example.com"


def test_delete_keeps_record_and_log_in_the_tombstone(store: PersonStore) -> None:
    doomed = add(store, email="d@example.com", lastName="Doe")
    store.persons.update(doomed.id, {"title": "CEO"}, origin=ChangeOrigin.CLI)
    before = [a.id for a in store.activities.find(doomed.id)]

    stone = store.persons.delete(doomed.id, origin=ChangeOrigin.CLI, remove_from_crm=True)

    assert stone.fate == "deleted" and stone.record["email"] == "d@example.com"
    assert [a.id for a in stone.activities][:len(before)] == before
    assert stone.activities[-1].activity_type_id == types.DELETE_LEAD.id
    assert stone.activities[-1].attribute("Remove from CRM") is True
    assert store.activities.find(doomed.id) == [] and store.outbox.find(person_ids=[doomed.id]) == []
    with pytest.raises(NotFound, match="was deleted"):
        store.persons.get(doomed.id)
    assert store.persons.count() == 0


def test_batch_delete_of_the_rest_api_keeps_each_log_in_a_tombstone(store: PersonStore) -> None:
    ids = store.persons.add_many([{"email": "a@x.com"}, {"email": "b@x.com"}], ChangeOrigin.MARKETING)
    assert store.api.delete_persons([ids[0], 999_999]) == [ids[0]]
    stone = store.tombstones.get(ids[0])
    assert [a.activity_type_id for a in stone.activities] == [types.NEW_LEAD.id, types.DELETE_LEAD.id]
    assert stone.activities[-1].attribute("Source") == ChangeOrigin.API
    assert store.persons.get(ids[1]).fields["email"] == "b@x.com"


def test_a_change_landing_on_a_loser_while_the_merge_decides_is_not_lost(store: PersonStore, open_store,
                                                                         monkeypatch) -> None:
    """The merge read the persons without locking them: on PostgreSQL another writer's change to a
    loser could land after that read, and was then dropped with the loser (or its activity row
    stopped the merge on the foreign key). Now the writer waits, and finds the loser gone."""
    import threading

    from tandem.people import merging

    winner = add(store, email="ann@example.com", title="Boss")
    loser = add(store, email="ann@other.example")
    other = open_store()
    outcome: list[object] = []

    def late_write() -> None:
        try:
            other.persons.update(loser.id, {"title": "Late"}, origin=ChangeOrigin.API)
            outcome.append("written")
        except NotFound as error:
            outcome.append(error)

    real = merging.merged_values
    writers: list[threading.Thread] = []

    def decided(*args, **kwargs):
        if not writers:
            writers.append(threading.Thread(target=late_write))
            writers[0].start()
            writers[0].join(timeout=1.0)  # it lands now, or waits for the merge (the point)
        return real(*args, **kwargs)

    monkeypatch.setattr(merging, "merged_values", decided)
    merged = store.merges.merge(winner.id, [loser.id], origin=ChangeOrigin.CLI)
    writers[0].join(30)
    if outcome == ["written"]:  # landed before the merge read: it goes with the loser's pending change
        assert merged.fields["title"] == "Late" or any(
            a.attribute("Lost Value") == "Late" for a in store.activities.find(winner.id, [types.SFDC_SYNC_CONFLICT.id]))
    else:
        assert isinstance(outcome[0], NotFound)
        assert store.persons.get(winner.id).fields["title"] == "Boss"
