"""The Sync errors page read with a keyboard and a screen reader: each row's Retry button names the
error it retries, so a list of buttons is not a column of identical "Retry"s."""

from __future__ import annotations

from playwright.sync_api import expect

from tandem.people.models import ErrorLevel, SalesforceLink
from tandem.people.origin import ChangeOrigin
from tests.ui.conftest import OPERATOR, sign_in


def test_each_retry_button_names_its_error(page, server):
    store = server.store
    persons = store.persons.add_linked([({"email": f"p{i}@errors.example"}, SalesforceLink("Contact", sfdc_id))
                                        for i, sfdc_id in enumerate(("003000000000001AAA", "003000000000002AAA"))])
    for person_id in persons:  # a refused change waits on each: their errors are open
        store.persons.update(person_id, {"title": f"Refused {person_id}"}, origin=ChangeOrigin.CLI)
    store.outbox.mark_failed([c.id for c in store.outbox.find(person_ids=persons)], "refused")
    errors = [store.sync_errors.record(ErrorLevel.RECORD, "INVALID_EMAIL_ADDRESS", "bad email", object="Contact",
                                       person_id=person_id) for person_id in persons]
    job = store.sync_errors.record(ErrorLevel.JOB, "SERVER_UNAVAILABLE", "try later", object="Lead")
    sign_in(page, OPERATOR)
    page.goto("/ui/errors")
    expect(page.get_by_role("button", name="Retry", exact=True)).to_have_count(0)
    for error, person_id in zip(errors, persons):
        button = page.get_by_role("button", name=f"Retry error {error.id}: INVALID_EMAIL_ADDRESS of person {person_id}",
                                  exact=True)
        expect(button).to_have_text("Retry")
    page.get_by_role("button", name=f"Retry error {job.id}: SERVER_UNAVAILABLE", exact=True).focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Retry: a cycle started")


def test_every_error_and_step_of_the_window_is_reached_a_page_at_a_time(page, server):
    """More errors (and steps) than a page holds: Older goes on, 200 a page, keeping the filter; a
    bad page bound is named and ignored; Export CSV takes every one the filter finds."""
    import re

    from tandem.people.models import StepCounts, StepOperation, StepStatus

    store = server.store
    codes = ("UNABLE_TO_LOCK_ROW", "SERVER_UNAVAILABLE")
    made = [store.sync_errors.record(ErrorLevel.JOB, codes[i % 2], f"error {i}", object="Lead") for i in range(450)]
    steps = []
    for i in range(230):
        step = store.steps.start("Contact", StepOperation.PULL_UPDATES, cycle_id=f"c{i}")
        store.steps.finish(step.id, StepStatus.SUCCEEDED, StepCounts(updated=i))
        steps.append(step.id)
    sign_in(page, OPERATOR)

    def walk(path: str, what: str, ids_of) -> list[int]:
        page.goto(path)
        seen = ids_of()
        while page.get_by_role("link", name=f"Older {what}").count():
            page.get_by_role("link", name=f"Older {what}").click()
            seen += ids_of()
        return seen

    def error_ids() -> list[int]:
        return [int(i) for i in page.locator("tr[data-error-id]").evaluate_all(
            "rows => rows.map(r => r.dataset.errorId)")]

    def step_counts() -> list[int]:
        return [int(t) for t in page.locator("tbody tr td:nth-child(6)").all_inner_texts()]

    assert walk("/ui/errors", "errors", error_ids) == [e.id for e in reversed(made)]
    locked = walk("/ui/errors?code=UNABLE_TO_LOCK_ROW", "errors", error_ids)
    assert locked == [e.id for e in reversed(made) if e.error_code == "UNABLE_TO_LOCK_ROW"]
    expect(page.get_by_role("link", name="Newest errors")).to_have_attribute("href", "/ui/errors?code=UNABLE_TO_LOCK_ROW")
    expect(page.get_by_role("link", name="Export CSV")).to_have_attribute("href",
                                                                         "/ui/errors.csv?code=UNABLE_TO_LOCK_ROW")
    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    assert len(open(download.value.path()).read().strip().splitlines()) == 1 + len(locked)
    assert walk("/ui/history", "steps", step_counts) == list(reversed(range(230)))

    page.goto("/ui/errors?before=oops")
    expect(page.get_by_role("alert")).to_have_text("before: expected an error id, got 'oops'")
    assert error_ids()[0] == made[-1].id
    assert re.search(r"200 a page", page.get_by_role("table").inner_text())
