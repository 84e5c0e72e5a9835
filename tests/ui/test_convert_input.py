"""Convert Person with a form that cannot be carried out: the page names the field and reason, and
nothing changes in Tandem or Salesforce (a person not in Salesforce yet gets no Lead either)."""

from __future__ import annotations

import secrets

import pytest
from playwright.sync_api import expect

from tandem.people.origin import ChangeOrigin
from tests.ui.conftest import OPERATOR, sign_in

LONG = secrets.token_urlsafe(4500)
"""A pasted value too long for any Id, that compresses badly (the notice rides in the session cookie)."""


@pytest.mark.parametrize(("form", "said"), [
    ({"account": "id", "accountId": "not-an-id"}, "Convert Person refused: accountId: not a Salesforce Id: 'not-an-id'"),
    ({"account": "someone else's"}, "Convert Person refused: account: expected one of match, id, new"),
    ({"account": "id", "accountId": LONG}, f"Convert Person refused: accountId: not a Salesforce Id: '{LONG[:300]}"),
    ({"account": "new", "convertedStatus": "Closed\x00"},
     "Convert Person refused: convertedStatus: contains a NUL character at position 7"),
    ({"account": "new", "createOpportunity": "on", "opportunityName": "Deal\x00"},
     "Convert Person refused: opportunityName: contains a NUL character at position 5"),
])
def test_a_convert_form_that_cannot_be_carried_out_changes_nothing(page, server, sf, form, said):
    person = server.store.persons.add({"email": "form@ui.example", "firstName": "Flo", "lastName": "Form",
                                       "company": "Form Works"}, origin=ChangeOrigin.CLI)
    accounts = sf.query("SELECT COUNT() FROM Account")["totalSize"]
    sign_in(page, OPERATOR)
    page.goto(f"/ui/persons/{person.id}/convert")
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    answer = page.request.post(f"/ui/persons/{person.id}/convert", form={"csrf_token": token, **form})
    assert answer.ok
    page.set_content(answer.text())
    expect(page.get_by_role("status")).to_contain_text(said)
    assert not server.store.persons.get(person.id).linked
    assert sf.query("SELECT COUNT() FROM Lead WHERE Email = 'form@ui.example'")["totalSize"] == 0
    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == accounts
