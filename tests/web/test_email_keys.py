"""Emails with capitals outside ASCII: a lead is found by the email it was stored with, and a
create-or-update with that email never makes a second person (SQLite's `lower()` only lower-cases
ASCII letters; PostgreSQL's lower-cases every letter: keys are compared as the database does)."""

from __future__ import annotations

import pytest

from tandem.people.origin import ChangeOrigin
from tandem.people.store import PersonStore

LEADS = "/rest/v1/leads.json"


@pytest.fixture
def api_store(database_url):
    """The API's store on each database (this module's tests run on both)."""
    store = PersonStore(database_url)
    store.migrate()
    yield store
    store.close()


@pytest.mark.parametrize("email", ["ZOË@EXAMPLE.COM", "Zoë@Example.com", "zoë@example.com", "ÅSA@ÖRE.SE",
                                   # Python's own lower() differs from PostgreSQL's on these two (a final
                                   # sigma, a dotted capital I): before, each call made a new person
                                   "ΟΔΟΣ@EXAMPLE.GR", "İPEK@EXAMPLE.COM"])
def test_the_same_email_twice_is_one_person_found_by_that_email(api, api_store: PersonStore, email: str) -> None:
    first = api.post(LEADS, json={"input": [{"email": email, "firstName": "first"}]}).json()["result"][0]
    again = api.post(LEADS, json={"input": [{"email": email, "firstName": "second"}]}).json()["result"][0]
    assert first["status"] == "created" and again == {"id": first["id"], "status": "updated"}
    only = api.post(LEADS, json={"action": "updateOnly", "input": [{"email": email, "title": "CEO"}]}).json()
    assert only["result"][0] == {"id": first["id"], "status": "updated"}
    found = api.get(LEADS, params={"filterType": "email", "filterValues": email, "fields": "id,firstName,title"}).json()["result"]
    assert [(lead["id"], lead["firstName"], lead["title"]) for lead in found] == [(first["id"], "second", "CEO")]
    assert [p.id for p in api_store.persons.find_by_email(email)] == [first["id"]]
    assert [p.id for p in api_store.person_search.find(email)] == [first["id"]]
    assert api_store.persons.count() == 1


def test_capitals_of_ascii_letters_are_one_email_on_every_database(api, api_store: PersonStore) -> None:
    [pid] = api_store.persons.add_many([{"email": "Zoë@Example.COM"}], ChangeOrigin.MARKETING)
    result = api.post(LEADS, json={"input": [{"email": "zoë@EXAMPLE.com", "title": "VP"}]}).json()["result"]
    assert result == [{"id": pid, "status": "updated"}]
    duplicate = api.post(LEADS, json={"input": [{"email": "ZOË@example.com"}, {"email": "ZOË@EXAMPLE.COM"}]}).json()
    assert duplicate["result"][1]["reasons"][0]["code"] == "1036"  # one key, twice in one call


def test_an_email_with_spaces_around_it_is_the_email_without_them(api, api_store: PersonStore) -> None:
    """Before, the lookup trimmed the email and found the lead, then the write refused the same value
    as "not an email address" (1003): one value, two answers."""
    created = api.post(LEADS, json={"input": [{"email": " sam@example.com ", "firstName": "Sam"}]}).json()["result"]
    [pid] = [p.id for p in api_store.persons.find_by_email("sam@example.com")]
    assert created == [{"id": pid, "status": "created"}]
    assert api_store.persons.get(pid).fields["email"] == "sam@example.com"
    updated = api.post(LEADS, json={"input": [{"email": "\tSAM@example.com  ", "title": "CEO"}]}).json()["result"]
    assert updated == [{"id": pid, "status": "updated"}]
    pushed = api.post("/rest/v1/leads/push.json", json={"programName": "Webinar", "input": [
        {"email": " sam@example.com", "city": "Rome"}, {"email": "new@example.com\n"}]}).json()["result"]
    assert pushed[0] == {"id": pid, "status": "updated"} and pushed[1]["status"] == "created"
    fresh = api_store.persons.get(pushed[1]["id"]).fields
    assert fresh["email"] == "new@example.com"
    person = api_store.persons.get(pid).fields
    assert (person["email"], person["title"], person["city"]) == ("sam@example.com", "CEO", "Rome")
    assert api_store.persons.count() == 2


@pytest.mark.parametrize("email", [" sam @example.com ", "sam@exa mple.com", "   "])
def test_an_email_with_spaces_inside_is_still_refused_naming_the_field(api, api_store: PersonStore,
                                                                        email: str) -> None:
    answer = api.post(LEADS, json={"input": [{"email": email, "firstName": "Sam"}]}).json()["result"]
    assert answer[0]["status"] == "skipped"
    [problem] = answer[0]["reasons"]
    assert problem["code"] == "1003" and "'email': not an email address" in problem["message"], problem
    assert api_store.persons.count() == 0
