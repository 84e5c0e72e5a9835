"""The Persons page with more persons than a page holds: older ones a page at a time, a search that
finds more than a page says so, and a bad page bound is named and ignored."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tandem.people.origin import ChangeOrigin
from tests.ui.conftest import OPERATOR, sign_in

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
