"""The Persons page with more persons than a page holds: older ones a page at a time, a search that
finds more than a page says so, and a bad page bound is named and ignored."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tandem.people.origin import ChangeOrigin
from tests.ui.conftest import OPERATOR, client_for, sign_in, sign_in_client

PERSONS = 120
ROWS = 50


def listed_ids(page) -> list[int]:
    cells = page.get_by_role("table").locator("tbody tr td:first-child").all_inner_texts()
    return [int(text) for text in cells]


def test_every_person_is_reached_a_page_at_a_time(page, server):
    ids = server.store.persons.add_many([{"email": f"many{i:03d}@pages.example", "firstName": "Anna",
                                          "lastName": f"Many{i:03d}"} for i in range(PERSONS)], origin=ChangeOrigin.CLI)
    sign_in(page, OPERATOR)
    page.get_by_role("navigation").get_by_role("link", name="Persons").click()
    seen: list[int] = listed_ids(page)
    assert len(seen) == ROWS
    while page.get_by_role("link", name="Older persons").count():
        page.get_by_role("link", name="Older persons").click()
        expect(page.get_by_role("table")).to_contain_text("Persons added before person")
        seen += listed_ids(page)
    assert seen == sorted(ids, reverse=True)
    page.get_by_role("link", name="Newest persons").click()
    assert listed_ids(page) == seen[:ROWS]

    page.get_by_label("Search persons").fill("anna")
    page.get_by_label("Search persons").press("Enter")
    expect(page.get_by_role("table")).to_contain_text(f"The first {ROWS} persons found matching “anna”: more match")
    assert len(listed_ids(page)) == ROWS
    page.get_by_label("Search persons").fill("Anna Many11")
    page.get_by_label("Search persons").press("Enter")
    expect(page.get_by_role("table")).to_contain_text("Persons matching “Anna Many11”")
    assert len(listed_ids(page)) == 10

    for bad in ("abc", "-3", "99999999999999999999999"):
        page.goto(f"/ui/persons?before={bad}")
        expect(page.get_by_role("alert")).to_have_text(re.compile(rf"^before: expected a person id, got '{bad}"))
        assert listed_ids(page) == seen[:ROWS]


@pytest.mark.parametrize("typed", ["émile", "Émile", "ÉMILE", "ångström", "ÅNGSTRÖM", "émile ångström", "élodie"])
def test_a_name_or_email_with_letters_outside_ascii_is_found_in_any_case(either_store, typed):
    """Before, on SQLite, "émile" found no Émile and "ångström" no Ångström: the database lower-cases
    only ASCII letters, so the search matched only the case the name was written in."""
    for fields in ({"email": "emile@ui.example", "firstName": "Émile", "lastName": "Ångström"},
                   {"email": "Élodie@ui.example", "firstName": "Lo", "lastName": "ÅNGSTRÖM"}):
        either_store.persons.add(fields, origin=ChangeOrigin.CLI)
    client = client_for(either_store)
    sign_in_client(client)
    shown = client.get("/ui/persons", params={"q": typed})
    assert shown.status_code == 200
    expected = {"élodie": ["Élodie@ui.example"], "émile": ["emile@ui.example"], "Émile": ["emile@ui.example"],
                "ÉMILE": ["emile@ui.example"], "émile ångström": ["emile@ui.example"]}.get(
        typed, ["emile@ui.example", "Élodie@ui.example"])
    for email in expected:
        assert email in shown.text, (typed, email)
    assert "No person matches" not in shown.text
