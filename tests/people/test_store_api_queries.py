"""The REST API's store queries on SQLite and PostgreSQL: lookups, keyset pages, counts, deletes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tandem.people import activities as types
from tandem.people.models import FeedPosition, SalesforceLink
from tandem.people.origin import ChangeOrigin
from tandem.people.store import PersonStore

T0 = datetime(2026, 2, 1, 8, 0, tzinfo=UTC)


def test_persons_page_is_keyset_paged_by_id_and_ignores_email_case(store: PersonStore) -> None:
    ids = store.persons.add_many([{"email": f"P{i}@Example.com"} for i in range(5)] + [{"email": "other@x.com"}], ChangeOrigin.MARKETING)
    wanted = [f"p{i}@example.com" for i in range(5)]
    first = store.api.persons_page("email", wanted, after_id=0, limit=3)
    second = store.api.persons_page("email", wanted, after_id=first[-1].id, limit=3)
    assert [p.id for p in first + second] == ids[:5]
    assert store.api.count_persons_where("email", wanted) == 5
    assert store.api.persons_page("id", [ids[5], 10**6], limit=10)[0].fields["email"] == "other@x.com"
    assert store.api.persons_page("email", [], limit=10) == []


def test_person_ids_by_key_lists_every_match(store: PersonStore) -> None:
    ids = store.persons.add_many([{"email": "twin@x.com"}, {"email": "TWIN@x.com"}, {"email": "solo@x.com"}], ChangeOrigin.MARKETING)
    store.persons.set_link(ids[2], SalesforceLink("Lead", "00Q000000000001AAA", "00Q000000000001AAA"))
    assert store.api.person_ids_by("email", ["Twin@X.com", "solo@x.com", "none@x.com"]) == {
        "twin@x.com": ids[:2], "solo@x.com": [ids[2]]}
    assert store.api.person_ids_by("sfdcLeadId", ["00Q000000000001AAA"]) == {"00Q000000000001AAA": [ids[2]]}


def test_delete_persons_removes_them_with_their_log_and_pending_changes(store: PersonStore) -> None:
    ids = store.persons.add_many([{"email": "a@x.com"}, {"email": "b@x.com"}], ChangeOrigin.MARKETING)
    store.persons.update(ids[0], {"title": "CTO"}, ChangeOrigin.MARKETING)
    store.bases.set(ids[0], {"title": "VP"})
    assert store.api.delete_persons([ids[0], 999_999]) == [ids[0]]
    assert [p.id for p in store.persons.get_many(ids)] == [ids[1]]
    assert {a.person_id for a in store.activities.find()} == {ids[1]}
    assert store.outbox.find(person_ids=[ids[0]]) == []
    [new] = store.persons.add_many([{"email": "c@x.com"}], ChangeOrigin.MARKETING)
    assert new > ids[1]  # a deleted id is never given again


def test_activities_page_filters_by_date_type_and_person(store: PersonStore) -> None:
    early = store.persons.add_many([{"email": "e@x.com"}], ChangeOrigin.MARKETING, now=T0 - timedelta(days=1))
    ids = store.persons.add_many([{"email": f"n{i}@x.com"} for i in range(3)], ChangeOrigin.MARKETING, now=T0)
    store.persons.update(ids[1], {"city": "Ghent"}, ChangeOrigin.MARKETING, now=T0)
    page = store.api.activities_page(since=T0, after=FeedPosition(0, 0), limit=10)
    assert [a.person_id for _, a in page] == [*ids, ids[1]] and early[0] not in [a.person_id for _, a in page]
    assert [position.id for position, a in page] == [a.id for _, a in page]
    after = store.api.activities_page(since=T0, after=page[1][0], limit=1)
    assert after == [page[2]]
    changes = store.api.activities_page(since=T0, after=FeedPosition(0, 0), limit=10,
                                        type_ids=[types.CHANGE_DATA_VALUE.id], person_ids=[ids[1], ids[2]])
    assert [(a.person_id, a.attribute("Field")) for _, a in changes] == [(ids[1], "city")]
