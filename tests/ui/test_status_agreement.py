"""What operators read agrees across `tandem status` (its JSON is `sync_status`), the REST status
(`/rest/v1/sfdc/status.json`), `/metrics` and the dashboard, on the same database."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

from prometheus_client.parser import text_string_to_metric_families

from tandem.cli.wiring import emulator_client
from tandem.emulator.sample_org import SYNC_USER, UserLogin
from tandem.people.models import SalesforceLink, StepCounts, StepOperation, StepStatus
from tandem.people.origin import ChangeOrigin
from tandem.sync.cycle import SyncEngine
from tandem.sync.status import sync_status
from tandem.sync.sync_state import FAILING, sync_state
from tandem.web.tokens import ApiCredentials
from tests.ui.conftest import client_for, sign_in_client
from tests.web.conftest import bearer

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
    history = re.search(r"<td>Contact</td><td>pull updates</td><td>([^<]*)</td>", client.get("/ui/history").text)
    assert history is not None and history.group(1) == "Stopped"  # before, In Process though nothing ran it


def test_a_refused_login_is_named_login_on_the_dashboard_as_in_the_errors(store, base_url, ca_path, reset_emulator):
    """Before, the dashboard's state named the step that met the refusal ("Account pull updates
    failed: …") while the errors, `tandem status` and the REST status named `login`."""
    assert SyncEngine(emulator_client(base_url, ca_path), store).run_cycle().failure is None
    refused = emulator_client(base_url, ca_path, user=UserLogin(SYNC_USER.username, "not-it"))
    assert SyncEngine(refused, store).run_cycle().failure is not None
    [met_by] = [s for s in sync_status(store, datetime.now(UTC))["lastCycle"]["steps"] if s["status"] == "Failed"]
    assert met_by["object"] == "Account"  # the step that met it stays in the cycle's history
    [error] = sync_status(store, datetime.now(UTC))["errors"]
    assert error["object"] == "login"

    state = sync_state(store, datetime.now(UTC), 300)
    assert state.kind == FAILING and state.reason.startswith("login failed: "), state.reason
    client = client_for(store)
    assert "Failing</strong>: login failed: " in _dashboard(client)
    assert client.get("/ready").json()["reason"].startswith("the last sync cycle failed: login: ")


def test_changes_no_cycle_sends_are_kept_in_tandem_in_every_output(store):
    """Before, the changes of persons not in Salesforce (never sent, or their record deleted there)
    counted as waiting to go to Salesforce in `tandem status`, the REST status and `/metrics`."""
    [linked, gone] = store.persons.add_linked([
        ({"email": "linked@x.example"}, SalesforceLink("Contact", "003000000000001AAA")),
        ({"email": "gone@x.example"}, SalesforceLink("Contact", "003000000000002AAA", sfdc_is_deleted=True))])
    never_sent = store.persons.add({"email": "new@x.example"}, origin=ChangeOrigin.CLI)
    store.persons.update(linked, {"title": "A"}, origin=ChangeOrigin.CLI)
    store.persons.update(gone, {"title": "B", "phone": "1"}, origin=ChangeOrigin.CLI)
    store.persons.update(never_sent.id, {"title": "C"}, origin=ChangeOrigin.CLI)

    backlog = sync_status(store, datetime.now(UTC))["backlog"]
    assert (backlog["pendingChanges"], backlog["pendingPersons"], backlog["failedChanges"]) == (1, 1, 0)
    assert backlog["keptInTandem"] == {"changes": 3, "persons": 2}
    client = client_for(store)
    assert _rest_status(client)["backlog"] == backlog
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for family in text_string_to_metric_families(client.get("/metrics").text) for s in family.samples}
    assert sum(v for (name, labels), v in samples.items()
               if name == "tandem_sync_backlog" and ("direction", "to_salesforce") in labels) == 1
    assert samples[("tandem_changes_kept_in_tandem", ())] == 3
    page = _dashboard(client)
    assert re.search(r"<tr><td>Contact</td><td>Tandem → Salesforce</td><td>1</td>", page)
    assert "Kept in Tandem only: 3 changes of 2 persons not in Salesforce" in page


def test_one_change_kept_in_tandem_is_said_in_the_singular(store):
    """Before, "1 changes of 1 persons", in the dashboard and in `tandem status`."""
    never_sent = store.persons.add({"email": "new@x.example"}, origin=ChangeOrigin.CLI)
    store.persons.update(never_sent.id, {"title": "C"}, origin=ChangeOrigin.CLI)
    assert "Kept in Tandem only: 1 change of 1 person not in Salesforce" in _dashboard(client_for(store))


def test_what_waits_in_salesforce_on_the_dashboard_is_what_the_last_pull_left_as_in_metrics(store, base_url, ca_path,
                                                                                           reset_emulator):
    """Before, the dashboard's Salesforce → Tandem "waiting" was what the last pull handled (the whole
    org right after a full pull), while /metrics said 0 waited."""
    assert SyncEngine(emulator_client(base_url, ca_path), store).run_cycle().failure is None
    left = store.steps.start("Contact", StepOperation.PULL_UPDATES, cycle_id="later")
    store.steps.finish(left.id, StepStatus.FAILED, StepCounts(updated=5, failed=2), message="a page failed")
    client = client_for(store)
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for family in text_string_to_metric_families(client.get("/metrics").text) for s in family.samples}
    page = _dashboard(client)
    for name, expected in (("Contact", 2), ("Lead", 0), ("Account", 0)):
        assert samples[("tandem_sync_backlog", (("direction", "from_salesforce"), ("object", name)))] == expected
        row = re.search(rf"<tr><td>{name}</td><td>Salesforce → Tandem \(left by the last pull\)</td><td>(\d+)</td>",
                        page)
        assert row is not None and int(row.group(1)) == expected, (name, row and row.group(1))
