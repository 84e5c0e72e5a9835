"""A person's page: every field's value, the system fields (Id, Created At, Updated At) included,
times shown as the page's other times are."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

from tandem.people.models import SalesforceLink
from tandem.people.origin import ChangeOrigin
from tests.ui.conftest import client_for, sign_in_client

CONTACT_ID = "003000000000001AAA"
ACCOUNT_ID = "001000000000001AAA"
LEAD_ID = "00Q000000000001AAA"


def value_of(html: str, field: str) -> str:
    found = re.search(rf"<code>{field}</code></td><td>([^<]*)</td>", html)
    assert found, field
    return found.group(1)


def test_the_id_and_the_times_of_a_person_are_shown(store):
    added = store.persons.add({"email": "ids@ui.example", "lastName": "Shown"}, origin=ChangeOrigin.CLI,
                              now=datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC))
    store.persons.update(added.id, {"title": "Later"}, origin=ChangeOrigin.CLI,
                                   now=datetime(2026, 3, 5, 8, 9, 10, tzinfo=UTC))
    client = client_for(store)
    assert sign_in_client(client).status_code == 303
    page = client.get(f"/ui/persons/{added.id}").text
    assert value_of(page, "id") == str(added.id)
    assert value_of(page, "createdAt") == "2026-03-04 05:06:07 UTC"
    assert value_of(page, "updatedAt") == "2026-03-05 08:09:10 UTC"
    assert value_of(page, "email") == "ids@ui.example" and value_of(page, "title") == "Later"


def test_the_page_of_a_merged_person_links_to_the_person_it_was_merged_into(store):
    """Before, it said "merged into person N" with no way to get there but typing the address."""
    winner = store.persons.add({"email": "winner@ui.example", "lastName": "Kept"}, origin=ChangeOrigin.CLI)
    loser = store.persons.add({"email": "loser@ui.example", "lastName": "Gone"}, origin=ChangeOrigin.CLI)
    store.merges.merge(winner.id, [loser.id], origin=ChangeOrigin.CLI)
    client = client_for(store)
    assert sign_in_client(client).status_code == 303
    answer = client.get(f"/ui/persons/{loser.id}")
    assert answer.status_code == 404 and f"merged into person {winner.id}" in answer.text
    assert f'<a href="/ui/persons/{winner.id}">Open person {winner.id}</a>' in answer.text
    assert "Open person" not in client.get("/ui/persons/999999").text


def test_a_contacts_company_fields_are_shown_pulled_from_its_account(page, server):
    """A Contact has no company fields of its own: they come from its Account, one way, as
    `tandem fields` says; the page must not call them "not a Salesforce field"."""
    from playwright.sync_api import expect

    from tests.ui.conftest import OPERATOR, sign_in

    sign_in(page, OPERATOR)
    page.get_by_role("button", name="Sync now").click()
    expect(page.locator("#progress")).to_contain_text("cycle finished", timeout=60_000)
    [wile] = server.store.person_search.find("wile@acme.example")
    assert wile.link.sfdc_type == "Contact"
    page.goto(f"/ui/persons/{wile.id}")
    company = page.get_by_role("row", name=re.compile(r"^Company Name company "))
    expect(company).to_contain_text("Acme Corp")
    expect(company.get_by_role("cell").nth(2)).to_have_text("pull")
    expect(company.get_by_role("cell").nth(3)).to_have_text("Account fields: pull only")
    expect(page.get_by_role("row", name=re.compile(r"^Job Title title "))).to_contain_text("both")
    rating = page.get_by_role("row", name=re.compile(r"^Lead Rating rating "))
    expect(rating.get_by_role("cell").nth(3)).to_have_text("no Contact field syncs with it")
    link = page.get_by_role("row", name=re.compile(r"^SFDC Id sfdcId "))
    expect(link.get_by_role("cell").nth(3)).to_have_text("the link to the Salesforce record, set by the sync")


def why_of(page: str, field: str) -> str:
    found = re.search(rf"<code>{field}</code></td><td>[^<]*</td>\s*<td>[^<]*</td><td>([^<]*)</td>", page)
    assert found, field
    return html.unescape(found.group(1))


def test_a_field_is_never_called_not_a_salesforce_field_for_want_of_a_catalog_or_when_it_is_the_link(store):
    """Before, every field the page had no rule for said "not a Salesforce field": the email too while
    Salesforce could not be asked for the catalog, and the person's SFDC Id itself."""
    [linked] = store.persons.add_linked([({"email": "why@ui.example"}, SalesforceLink("Contact", CONTACT_ID))])
    client = client_for(store)
    assert sign_in_client(client).status_code == 303
    page = client.get(f"/ui/persons/{linked}").text
    assert "not a Salesforce field" not in page
    assert why_of(page, "email") == "not known: Salesforce could not be asked for the field catalog"
    assert why_of(page, "sfdcId") == "the link to the Salesforce record, set by the sync"
    assert why_of(page, "createdAt") == "Tandem's own field"
    assert re.search(r"<code>email</code></td><td>why@ui.example</td>\s*<td>unknown</td>", page)
    assert re.search(r"<code>sfdcId</code></td><td>003000000000001AAA</td>\s*<td>no</td>", page)


def test_the_activity_log_and_the_errors_say_their_times_are_utc(store):
    """As every other time on the UI's pages: the log's times are not the reader's local times."""
    from tandem.people.models import ErrorLevel

    added = store.persons.add({"email": "zone@ui.example", "lastName": "Zone"}, origin=ChangeOrigin.CLI,
                              now=datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC))
    store.persons.update(added.id, {"title": "Refused"}, origin=ChangeOrigin.CLI)
    store.outbox.mark_failed([c.id for c in store.outbox.find(person_ids=[added.id])], "refused")
    occurred = datetime.now(UTC) - timedelta(minutes=1)
    store.sync_errors.record(ErrorLevel.RECORD, "INVALID_FIELD", "refused", object="Lead", person_id=added.id,
                             now=occurred)
    client = client_for(store)
    assert sign_in_client(client).status_code == 303
    page = client.get(f"/ui/persons/{added.id}").text
    assert '<span class="when">2026-03-04 05:06:07 UTC</span>' in page
    assert f'<li class="open">{occurred:%Y-%m-%d %H:%M} UTC INVALID_FIELD: refused' in page


def test_the_changes_of_a_person_not_in_salesforce_are_kept_in_tandem_not_waiting_for_it(store):
    """Before, the column said "Waiting for Salesforce" though no cycle sends a person with no record."""
    alone = store.persons.add({"email": "alone@ui.example", "lastName": "Alone"}, origin=ChangeOrigin.CLI)
    [linked] = store.persons.add_linked([({"email": "linked@ui.example"}, SalesforceLink("Contact", CONTACT_ID))])
    for person_id in (alone.id, linked):
        store.persons.update(person_id, {"title": "Pending"}, origin=ChangeOrigin.CLI)
    client = client_for(store)
    assert sign_in_client(client).status_code == 303
    page = client.get(f"/ui/persons/{alone.id}").text
    assert "<th>Kept in Tandem only (Sync Person to SFDC sends it)</th>" in page and "Waiting for Salesforce" not in page
    assert "<th>Waiting for Salesforce</th>" in client.get(f"/ui/persons/{linked}").text


def test_a_lead_made_for_a_person_whose_contact_was_deleted_is_shown_with_no_account(store):
    """The person keeps the deleted Contact's Account Id (as `sfdcAccountId`); before, the page showed
    the new Lead "· Account 001…", as if the Lead were in the Contact's Account (a Lead has none)."""
    [person_id] = store.persons.add_linked([({"email": "again@ui.example"},
                                             SalesforceLink("Contact", CONTACT_ID, sfdc_contact_id=CONTACT_ID,
                                                            sfdc_account_id=ACCOUNT_ID))])
    client = client_for(store)
    assert sign_in_client(client).status_code == 303
    assert f"· Account {ACCOUNT_ID}" in client.get(f"/ui/persons/{person_id}").text
    store.persons.set_link(person_id, SalesforceLink("Lead", LEAD_ID, sfdc_lead_id=LEAD_ID, sfdc_contact_id=CONTACT_ID,
                                                     sfdc_account_id=ACCOUNT_ID), reason="a new Lead")
    shown = re.search(r'<p id="salesforce-link">(.*?)</p>', client.get(f"/ui/persons/{person_id}").text, re.S)
    assert "Lead" in shown.group(1) and LEAD_ID in shown.group(1)
    assert ACCOUNT_ID not in shown.group(1)


def test_a_person_page_and_its_convert_page_are_titled_with_the_person(store):
    """Before, every person's page was titled "Persons · Tandem", so browser tabs, history and a
    screen reader's page title could not tell one person from another; the heading of a person
    without a name was empty."""
    named = store.persons.add({"email": "t@ui.example", "firstName": "Tia", "lastName": "Title"},
                              origin=ChangeOrigin.CLI)
    unnamed = store.persons.add({"email": "<b>only</b>@ui.example"}, origin=ChangeOrigin.CLI)
    client = client_for(store)
    assert sign_in_client(client).status_code == 303
    page = client.get(f"/ui/persons/{named.id}").text
    assert f"<title>Tia Title (person {named.id}) · Tandem</title>" in page
    assert '<a href="/ui/persons" aria-current="page">Persons</a>' in page
    page = client.get(f"/ui/persons/{unnamed.id}").text
    assert f"<title>&lt;b&gt;only&lt;/b&gt;@ui.example (person {unnamed.id}) · Tandem</title>" in page
    assert f"<h1>&lt;b&gt;only&lt;/b&gt;@ui.example <small>person {unnamed.id}</small></h1>" in page
    [contact] = store.persons.add_linked([({"email": "c@ui.example"}, SalesforceLink("Contact", CONTACT_ID))])
    page = client.get(f"/ui/persons/{contact}/convert").text  # nothing to convert: Salesforce is not asked
    assert f"<title>Convert Person {contact} · Tandem</title>" in page
