"""A Salesforce failure of an action started from a page says what the operator can do about it, as
the CLI and the REST API do."""

from __future__ import annotations

from tandem.errors import AuthenticationFailed
from tandem.people.origin import ChangeOrigin
from tests.ui.conftest import client_for, csrf_token, sign_in_client


def test_a_refused_login_during_sync_person_shows_its_fix(store):
    def refused_login():
        raise AuthenticationFailed("INVALID_GRANT: authentication failure")

    person = store.persons.add({"email": "hint@example.com", "lastName": "Hint"}, origin=ChangeOrigin.CLI)
    with client_for(store, salesforce=refused_login) as client:
        assert sign_in_client(client).status_code == 303
        page = client.get(f"/ui/persons/{person.id}").text
        answer = client.post(f"/ui/persons/{person.id}/sync", data={"csrf_token": csrf_token(page)})
    assert "Sync Person to SFDC failed: INVALID_GRANT: authentication failure" in answer.text
    assert "check TANDEM_SF_USERNAME, TANDEM_SF_PASSWORD and TANDEM_SF_SECURITY_TOKEN" in answer.text
