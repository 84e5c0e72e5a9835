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
