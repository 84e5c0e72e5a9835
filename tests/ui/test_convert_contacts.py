"""Convert Person follows one rule on the person page, the convert page and its post: a person a
Contact stands for in Salesforce has nothing to convert (said plainly, Salesforce never asked),
while one whose Contact was deleted there is converted again, through a new Lead."""

from __future__ import annotations

from playwright.sync_api import expect

from tandem.people.origin import ChangeOrigin
from tests.ui.conftest import OPERATOR, sign_in

CYCLE_SECONDS = 60_000


def test_convert_is_offered_for_a_deleted_contact_and_refused_for_a_live_one(page, server, sf):
    """Before, the person page disabled Convert for any Contact, a deleted one included, while the
    convert page offered and carried out the conversion of a deleted one."""
    person = server.store.persons.add({"email": "again@ui.example", "firstName": "Ann", "lastName": "Again",
                                       "company": "Again Works"}, origin=ChangeOrigin.CLI)
    sign_in(page, OPERATOR)
    page.goto(f"/ui/persons/{person.id}/convert")
    page.get_by_role("button", name="Confirm conversion").click()
    expect(page.get_by_role("status")).to_contain_text("Converted: Contact")
    first = server.store.persons.get(person.id).link
    assert first.sfdc_type == "Contact"

    expect(page.get_by_role("button", name="Convert Person")).to_be_disabled()
    expect(page.get_by_text(f"Nothing to convert: person {person.id} is already a Salesforce Contact "
                            f"({first.sfdc_id}).")).to_be_visible()
    page.goto(f"/ui/persons/{person.id}/convert")
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    expect(page.get_by_role("alert")).to_contain_text("Nothing to convert: person")
    answer = page.request.post(f"/ui/persons/{person.id}/convert", form={"csrf_token": token, "account": "new"})
    page.set_content(answer.text())
    expect(page.get_by_role("status")).to_contain_text(
        f"Convert Person refused: person: person {person.id} is already a Salesforce Contact ({first.sfdc_id})")
    assert sf.query("SELECT COUNT() FROM Contact WHERE Email = 'again@ui.example'")["totalSize"] == 1

    sf.Contact.delete(first.sfdc_id)
    page.goto("/ui/")
    page.get_by_role("button", name="Sync now").click()
    expect(page.locator("#progress")).to_contain_text("cycle finished", timeout=CYCLE_SECONDS)
    assert server.store.persons.get(person.id).link.sfdc_is_deleted

    page.goto(f"/ui/persons/{person.id}")
    expect(page.locator("#salesforce-link")).to_contain_text("(deleted in Salesforce)")
    expect(page.get_by_role("button", name="Convert Person")).to_be_enabled()
    page.get_by_role("button", name="Convert Person").click()
    expect(page.locator("#deleted-contact")).to_contain_text(
        f"Contact {first.sfdc_id} was deleted in Salesforce: converting makes a new Lead")
    page.get_by_role("radio", name="A new Account").check()
    page.get_by_role("button", name="Confirm conversion").click()
    expect(page.get_by_role("status")).to_contain_text("Converted: Contact")
    again = server.store.persons.get(person.id).link
    assert again.sfdc_type == "Contact" and not again.sfdc_is_deleted and again.sfdc_id != first.sfdc_id
