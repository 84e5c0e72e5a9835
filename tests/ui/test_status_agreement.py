"""What operators read agrees across `tandem status` (its JSON is `sync_status`), the REST status
(`/rest/v1/sfdc/status.json`), `/metrics` and the dashboard, on the same database."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

from tandem.people.models import StepOperation
from tandem.sync.status import sync_status
from tests.ui.conftest import client_for, sign_in_client
from tests.web.conftest import bearer
from tandem.web.tokens import ApiCredentials

CREDENTIALS = ApiCredentials("c", "x" * 40)


def _rest_status(client) -> dict:
    [status] = client.get("/rest/v1/sfdc/status.json", headers=bearer(client, CREDENTIALS)).json()["result"]
    return status


def _dashboard(client) -> str:
    assert sign_in_client(client).status_code == 303
    return html.unescape(client.get("/ui/").text)


def test_a_step_a_killed_cycle_left_open_is_stopped_in_every_output(store):
    """Before, the text status said Stopped while its JSON, the REST status and the dashboard said
    In Process (with `running: false`) for the same step."""
    store.steps.start("Contact", StepOperation.PULL_UPDATES, cycle_id="killed")  # what `kill -9` leaves
    [step] = sync_status(store, datetime.now(UTC))["lastCycle"]["steps"]
    assert (step["status"], step["recordedStatus"]) == ("Stopped", "In Process")
    client = client_for(store)
    status = _rest_status(client)
    assert status["lastCycle"]["running"] is False
    assert [s["status"] for s in status["lastCycle"]["steps"]] == ["Stopped"]
    row = re.search(r"<tr class=\"status-[^\"]*\"><td>Contact</td><td>pull updates</td><td>([^<]*)</td>",
                    _dashboard(client))
    assert row is not None and row.group(1) == "Stopped"
