"""An id in a UI path that no record could have (negative, or past what the database holds) is a
person or sync error that does not exist, on SQLite and PostgreSQL alike, never a 500."""

from __future__ import annotations

import pytest

from tests.ui.conftest import client_for, csrf_token, sign_in_client

IDS = ["-1", "0", "2147483648", "9223372036854775808", "99999999999999999999"]


@pytest.fixture
def client(either_store):
    signed_in = client_for(either_store)
    assert sign_in_client(signed_in).status_code == 303
    return signed_in


@pytest.mark.parametrize("person_id", IDS)
def test_a_person_page_for_an_id_no_one_has_is_a_404(client, person_id):
    for path in (f"/ui/persons/{person_id}", f"/ui/persons/{person_id}/convert"):
        answer = client.get(path)
        assert answer.status_code == 404, path
        assert f"person {person_id} does not exist" in answer.text, path


@pytest.mark.parametrize("person_id", IDS)
def test_an_action_on_an_id_no_one_has_says_so_and_changes_nothing(client, either_store, person_id):
    token = csrf_token(client.get("/ui/").text)
    for action, path in (("Sync Person to SFDC", f"/ui/persons/{person_id}/sync"),
                         ("Convert Person", f"/ui/persons/{person_id}/convert")):
        answer = client.post(path, data={"csrf_token": token}, follow_redirects=False)
        assert answer.status_code == 303, path
        shown = client.get(answer.headers["location"])
        assert shown.status_code == 404, path
        assert f"{action} refused: person {person_id} does not exist" in shown.text, path
    answer = client.post(f"/ui/errors/{person_id}/retry", data={"csrf_token": token}, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/ui/errors"
    assert f"Retry: no sync error {person_id} (errors are kept 5 days)" in client.get("/ui/errors").text
    assert either_store.steps.recent() == [] and either_store.persons.find_by_email("x@example.com") == []


@pytest.mark.parametrize("typed", ["0035g00000AbCdEAAV", "0035G00000ABCDEAAV", "0035g00000abcdeaav"])
def test_a_person_is_found_by_its_18_character_salesforce_id_in_any_case(client, either_store, typed):
    """Before, only the Id's own case found it; Salesforce takes 18-character Ids in any case."""
    from tandem.people.models import SalesforceLink
    from tandem.people.origin import ChangeOrigin

    person = either_store.persons.add({"email": "ceo@example.com", "lastName": "Found"}, ChangeOrigin.CLI)
    either_store.persons.set_link(person.id, SalesforceLink("Contact", "0035g00000AbCdEAAV", None, "0035g00000AbCdEAAV"))
    answer = client.get("/ui/persons", params={"q": typed})
    assert answer.status_code == 200 and f"/ui/persons/{person.id}" in answer.text
