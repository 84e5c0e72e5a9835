"""Convert Person's form first offers what the engine, `tandem person convert` and the REST action do
when nothing else is chosen: a new Opportunity with the Contact."""

from __future__ import annotations

import re

import requests

from tandem.people.origin import ChangeOrigin
from tests.ui.conftest import OPERATOR, csrf_token


def test_the_convert_form_creates_an_opportunity_unless_told_otherwise(server):
    """Before, the box was unchecked, so a conversion confirmed as shown made no Opportunity, unlike
    the CLI (`--no-opportunity` to skip it) and the REST action (`createOpportunity` true by default)."""
    person = server.store.persons.add({"email": "opp@ui.example", "lastName": "Opp", "company": "Opp Works"},
                                      origin=ChangeOrigin.CLI)
    with requests.Session() as browser:
        token = csrf_token(browser.get(f"{server.url}/ui/signin").text)
        browser.post(f"{server.url}/ui/signin", data={"username": OPERATOR[0], "password": OPERATOR[1],
                                                      "csrf_token": token, "next": "/ui/"}).raise_for_status()
        page = browser.get(f"{server.url}/ui/persons/{person.id}/convert")
    assert page.status_code == 200
    box = re.search(r'<input type="checkbox" name="createOpportunity"[^>]*>', page.text).group(0)
    assert "checked" in box
    notify = re.search(r'<input type="checkbox" name="notify"[^>]*>', page.text).group(0)
    assert "checked" not in notify
