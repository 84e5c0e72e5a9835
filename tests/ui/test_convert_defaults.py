"""The person page's actions offer what `tandem person convert`/`sync` and the REST actions do: Convert
Person a new Opportunity unless told otherwise and an owner for the records it makes, Sync Person to
SFDC an owner or lead queue for the Lead it makes."""

from __future__ import annotations

import re

import pytest
import requests

from tandem.people.origin import ChangeOrigin
from tests.ui.conftest import OPERATOR, csrf_token


@pytest.fixture
def browser_session(server):
    """A signed-in operator's HTTP session, as a browser keeps it."""
    with requests.Session() as session:
        token = csrf_token(session.get(f"{server.url}/ui/signin").text)
        session.post(f"{server.url}/ui/signin", data={"username": OPERATOR[0], "password": OPERATOR[1],
                                                      "csrf_token": token, "next": "/ui/"}).raise_for_status()
        yield session


def test_the_convert_form_creates_an_opportunity_unless_told_otherwise(server, browser_session):
    """Before, the box was unchecked, so a conversion confirmed as shown made no Opportunity, unlike
    the CLI (`--no-opportunity` to skip it) and the REST action (`createOpportunity` true by default)."""
    person = server.store.persons.add({"email": "opp@ui.example", "lastName": "Opp", "company": "Opp Works"},
                                      origin=ChangeOrigin.CLI)
    page = browser_session.get(f"{server.url}/ui/persons/{person.id}/convert")
    assert page.status_code == 200
    box = re.search(r'<input type="checkbox" name="createOpportunity"[^>]*>', page.text).group(0)
    assert "checked" in box
    notify = re.search(r'<input type="checkbox" name="notify"[^>]*>', page.text).group(0)
    assert "checked" not in notify


def convert(server, session, person_id: int, **choices: str) -> requests.Response:
    page = session.get(f"{server.url}/ui/persons/{person_id}/convert")
    return session.post(f"{server.url}/ui/persons/{person_id}/convert",
                        data={"csrf_token": csrf_token(page.text), "account": "new", **choices})


def test_the_records_a_conversion_makes_are_owned_by_the_owner_chosen(server, browser_session, sf):
    """Before, the form had no owner (`tandem person convert --owner`, the REST action's `owner`): the
    Lead's owner got them, whoever the form's "Notify the owner by email" was meant for."""
    person = server.store.persons.add({"email": "owned@ui.example", "lastName": "Owned", "company": "Owned Works"},
                                      origin=ChangeOrigin.CLI)
    [admin] = sf.query("SELECT Id FROM User WHERE Username = 'admin@sample.example'")["records"]
    shown = convert(server, browser_session, person.id, owner="admin@sample.example", createOpportunity="on")
    assert shown.status_code == 200 and "Converted: Contact" in shown.text, shown.text[:2000]
    contact_id = server.store.persons.get(person.id).link.sfdc_id
    contact = sf.Contact.get(contact_id)
    assert contact["OwnerId"] == admin["Id"]
    assert sf.Account.get(contact["AccountId"])["OwnerId"] == admin["Id"]


def test_an_unknown_owner_is_refused_before_anything_is_made(server, browser_session, sf):
    person = server.store.persons.add({"email": "nobody@ui.example", "lastName": "Nobody", "company": "No Works"},
                                      origin=ChangeOrigin.CLI)
    shown = convert(server, browser_session, person.id, owner="nobody@sample.example", opportunityName="Kept")
    assert "Convert Person refused: owner: no Salesforce user &#39;nobody@sample.example&#39;" in shown.text
    assert 'name="owner" placeholder' in shown.text and 'value="nobody@sample.example"' in shown.text
    assert 'value="Kept"' in shown.text
    assert not server.store.persons.get(person.id).linked
    assert sf.query("SELECT COUNT() FROM Lead WHERE Email = 'nobody@ui.example'")["totalSize"] == 0


def sync(server, session, person_id: int, **choices: str) -> requests.Response:
    page = session.get(f"{server.url}/ui/persons/{person_id}")
    return session.post(f"{server.url}/ui/persons/{person_id}/sync", data={"csrf_token": csrf_token(page.text),
                                                                         **choices})


@pytest.mark.parametrize(("choices", "owner_query"), [
    ({"owner": "admin@sample.example"}, "SELECT Id FROM User WHERE Username = 'admin@sample.example'"),
    ({"queue": "Inbound Leads"}, "SELECT Id FROM Group WHERE Type = 'Queue' AND Name = 'Inbound Leads'"),
])
def test_sync_person_to_sfdc_makes_the_lead_owned_by_the_owner_or_queue_chosen(server, browser_session, sf,
                                                                                choices, owner_query):
    """Before, the person page's Sync Person to SFDC had no owner (`tandem person sync --owner/--queue`,
    the REST action's owner and queue): the org's assignment rules always chose."""
    person = server.store.persons.add({"email": "lead@ui.example", "lastName": "Lead", "company": "Lead Works"},
                                      origin=ChangeOrigin.CLI)
    assert 'name="owner"' in browser_session.get(f"{server.url}/ui/persons/{person.id}").text
    shown = sync(server, browser_session, person.id, **choices)
    assert "Sync Person to SFDC: Lead" in shown.text and "created" in shown.text, shown.text[:2000]
    [owner] = sf.query(owner_query)["records"]
    assert sf.Lead.get(server.store.persons.get(person.id).link.sfdc_id)["OwnerId"] == owner["Id"]
    assert 'name="owner"' not in browser_session.get(f"{server.url}/ui/persons/{person.id}").text  # linked now


def test_an_unknown_lead_owner_is_refused_and_no_lead_is_made(server, browser_session, sf):
    person = server.store.persons.add({"email": "nolead@ui.example", "lastName": "No", "company": "No Works"},
                                      origin=ChangeOrigin.CLI)
    shown = sync(server, browser_session, person.id, owner="nobody@sample.example")
    assert "Sync Person to SFDC refused: owner: no Salesforce user &#39;nobody@sample.example&#39;" in shown.text
    assert not server.store.persons.get(person.id).linked
    assert sf.query("SELECT COUNT() FROM Lead WHERE Email = 'nolead@ui.example'")["totalSize"] == 0
