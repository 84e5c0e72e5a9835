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


def test_a_refused_conversion_shows_the_form_again_with_the_choices_it_was_sent_with(page, server, sf):
    """Before, the operator was sent back to the person page and every choice had to be made again."""
    person = server.store.persons.add({"email": "keep@ui.example", "firstName": "Kip", "lastName": "Keep",
                                       "company": "Keep Works"}, origin=ChangeOrigin.CLI)
    sign_in(page, OPERATOR)
    page.goto(f"/ui/persons/{person.id}/convert")
    warning = page.get_by_role("alert")
    expect(warning).to_contain_text("under “This Account Id” or choose “The matched Account”")
    expect(warning).not_to_contain_text("pass an account id")
    page.get_by_role("radio", name="This Account Id").check()
    page.get_by_role("textbox", name="Account Id").fill("001-not-an-id")
    page.get_by_label("Converted status").fill("Qualified")
    page.get_by_label("Create an Opportunity").check()
    page.get_by_label("Opportunity name").fill("Keep Works deal")
    page.get_by_label("Notify the owner by email").check()
    page.get_by_role("button", name="Confirm conversion").click()

    expect(page.get_by_role("status")).to_contain_text(
        "Convert Person refused: accountId: not a Salesforce Id: '001-not-an-id'")
    expect(page.get_by_role("heading", name=f"Convert Person {person.id}")).to_be_visible()
    expect(page.get_by_role("radio", name="This Account Id")).to_be_checked()
    expect(page.get_by_role("textbox", name="Account Id")).to_have_value("001-not-an-id")
    expect(page.get_by_label("Converted status")).to_have_value("Qualified")
    expect(page.get_by_label("Create an Opportunity")).to_be_checked()
    expect(page.get_by_label("Opportunity name")).to_have_value("Keep Works deal")
    expect(page.get_by_label("Notify the owner by email")).to_be_checked()
    assert not server.store.persons.get(person.id).linked

    page.get_by_role("radio", name="This Account Id").check()
    page.get_by_role("textbox", name="Account Id").fill("")
    page.get_by_role("button", name="Confirm conversion").click()
    expect(page.get_by_role("status")).to_contain_text("Convert Person refused: accountId: give the Account Id")
    expect(page.get_by_label("Opportunity name")).to_have_value("Keep Works deal")


def test_reloading_a_refused_conversion_asks_salesforce_nothing_again(page, server, sf):
    """Before, the refusal was the post's own answer, so reloading it (or going back to it) sent the
    conversion again: once whatever Salesforce refused was fixed meanwhile, a reload converted."""
    person = server.store.persons.add({"email": "again@ui.example", "lastName": "Again", "company": "Again Works"},
                                      origin=ChangeOrigin.CLI)
    sign_in(page, OPERATOR)
    page.goto(f"/ui/persons/{person.id}/convert")
    page.get_by_label("Converted status").fill("No Such Status")
    page.get_by_label("Opportunity name").fill("Again deal")
    page.get_by_label("Create an Opportunity").uncheck()
    posts: list[str] = []
    page.on("request", lambda request: request.method == "POST" and posts.append(request.url))
    page.get_by_role("button", name="Confirm conversion").click()
    expect(page.get_by_role("status")).to_contain_text("Convert Person refused by Salesforce: INVALID_STATUS")
    expect(page.get_by_label("Converted status")).to_have_value("No Such Status")
    expect(page.get_by_label("Create an Opportunity")).not_to_be_checked()
    expect(page.get_by_label("Opportunity name")).to_have_value("Again deal")
    page.reload()
    expect(page.get_by_label("Converted status")).to_have_value("No Such Status")
    assert len(posts) == 1
    converted = sf.query("SELECT COUNT() FROM Lead WHERE Email = 'again@ui.example' AND IsConverted = true")
    assert converted["totalSize"] == 0


@pytest.mark.parametrize(("field", "value", "said"), [
    ("Lead owner", "nobody@sample.example", "Sync Person to SFDC refused: owner: no Salesforce user 'nobody@sample.example'"),
    ("or lead queue", "No Such Queue", "Sync Person to SFDC refused: queue: "),
])
def test_a_refused_sync_person_shows_the_form_again_with_the_owner_or_queue_it_was_sent_with(page, server, sf, field,
                                                                                           value, said):
    """Before, the person page came back with empty Lead owner and lead queue boxes, so the operator
    had to type the owner again to try once more."""
    person = server.store.persons.add({"email": "owner@ui.example", "lastName": "Owner", "company": "Owner Works"},
                                      origin=ChangeOrigin.CLI)
    sign_in(page, OPERATOR)
    page.goto(f"/ui/persons/{person.id}")
    page.get_by_label(field).fill(value)
    page.get_by_role("button", name="Sync Person to SFDC").click()
    expect(page.get_by_role("status")).to_contain_text(said)
    expect(page.get_by_label(field)).to_have_value(value)
    assert not server.store.persons.get(person.id).linked
    assert sf.query("SELECT COUNT() FROM Lead WHERE Email = 'owner@ui.example'")["totalSize"] == 0
    page.goto(f"/ui/persons/{person.id}")  # the choice is shown again once, not for good
    expect(page.get_by_label(field)).to_have_value("")
