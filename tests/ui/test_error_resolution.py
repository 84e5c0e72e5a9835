"""The UI and `tandem status` agree on whether a sync error is resolved (one rule, the store's):
a refused change later dropped because Salesforce won leaves nothing to retry, so no Retry."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from tandem.people.models import ErrorLevel, SalesforceLink
from tandem.people.origin import ChangeOrigin
from tandem.sync.status import sync_status
from tests.ui.conftest import client_for, sign_in_client

CONTACT_ID = "003000000000002AAA"


def test_an_error_whose_refused_change_was_dropped_is_resolved_everywhere_with_no_retry(store):
    [person_id] = store.persons.add_linked([({"email": "samir@initech.example"}, SalesforceLink("Contact", CONTACT_ID))])
    person = store.persons.get(person_id)
    store.persons.update(person.id, {"phone": "call me maybe"}, origin=ChangeOrigin.CLI)
    [refused] = store.outbox.find(person_ids=[person.id])
    store.outbox.mark_failed([refused.id], "bad phone")
    error = store.sync_errors.record(ErrorLevel.RECORD, "INVALID_PHONE", "bad phone", object="Contact",
                                     sfdc_id=CONTACT_ID, person_id=person.id)
    client = client_for(store)
    assert sign_in_client(client).status_code == 303

    def seen() -> tuple[str, bool, str, bool]:
        row = re.search(rf'<tr class="(\w+)" data-error-id="{error.id}">(.*?)</tr>', client.get("/ui/errors").text,
                        re.S)
        person_page = client.get(f"/ui/persons/{person.id}").text
        [status] = sync_status(store, now=datetime.now(UTC), error_window=timedelta(days=5))["errors"]
        return row.group(1), "Retry" in row.group(2), re.search(r'<li class="(\w+)">', person_page).group(1), \
            status["resolved"]

    assert seen() == ("open", True, "open", False)
    store.outbox.clear([refused.id])  # Salesforce won: the refused change is dropped, nothing waits
    assert seen() == ("resolved", False, "resolved", True)
