"""Sync errors a person can act on: status, sync and person show name who, what and whether it is
fixed; an unreachable org degrades `status --salesforce` and fails `sync` in one explained line."""

from __future__ import annotations

import json
import socket

from tandem.emulator.sample_org import CONNECTED_APP, SYNC_USER
from tests.cli.running import flat, org_env, tandem

SAMIR = "samir@initech.example"


def test_a_refusal_names_the_person_and_field_until_it_is_fixed(tmp_path):
    assert tandem(tmp_path, "init").returncode == 0
    assert tandem(tmp_path, "sync").returncode == 0
    samir = json.loads(tandem(tmp_path, "person", "show", SAMIR, "--json").stdout)["id"]
    assert tandem(tmp_path, "person", "set", SAMIR, "phone=call me maybe").returncode == 0
    cycle = tandem(tmp_path, "sync")
    assert cycle.returncode == 0, cycle.stderr
    assert f"refused: person {samir} <{SAMIR}> (phone): FIELD_CUSTOM_VALIDATION_EXCEPTION" in flat(cycle.stdout)
    status = tandem(tmp_path, "status")
    assert "sync errors in the last 5 days: 1 (1 not resolved)" in status.stdout
    assert f"person {samir} <{SAMIR}> (phone): FIELD_CUSTOM_VALIDATION_EXCEPTION" in flat(status.stdout)
    assert "[resolved]" not in status.stdout
    shown = tandem(tmp_path, "person", "show", SAMIR)
    assert "Salesforce: Contact 003" in shown.stdout
    assert "Waiting to go to Salesforce: phone (refused)" in shown.stdout
    assert "Last refusal (" in shown.stdout and "FIELD_CUSTOM_VALIDATION_EXCEPTION" in shown.stdout
    state = json.loads(tandem(tmp_path, "person", "show", SAMIR, "--json").stdout)["syncState"]
    assert [f["field"] for f in state["pendingFields"]] == ["phone"] and state["lastRefusal"]["resolved"] is False

    assert tandem(tmp_path, "person", "set", SAMIR, "phone=+1 555 0142").returncode == 0
    assert tandem(tmp_path, "sync").returncode == 0
    fixed = tandem(tmp_path, "status", "--json")
    [error] = json.loads(fixed.stdout)["errors"]
    assert (error["personId"], error["email"], error["resolved"]) == (samir, SAMIR, True)
    assert "(0 not resolved)" in tandem(tmp_path, "status").stdout
    assert "Waiting to go to Salesforce: nothing" in tandem(tmp_path, "person", "show", SAMIR).stdout


def test_an_unreachable_org_fails_sync_in_one_line_and_status_still_shows_the_local_state(tmp_path, ca_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    org = {"TANDEM_SF_LOGIN_URL": f"https://127.0.0.1:{port}", "TANDEM_SF_CLIENT_ID": "app",
           "TANDEM_SF_CLIENT_SECRET": "secret", "TANDEM_SF_CA_BUNDLE": str(ca_path)}
    assert tandem(tmp_path, "init").returncode == 0
    assert tandem(tmp_path, "sync").returncode == 0  # the bundled emulator: every object has been pulled once
    cycle = tandem(tmp_path, "sync", env=org)
    assert cycle.returncode == 1
    assert cycle.stderr == (f"FAILED: https://127.0.0.1:{port} refused the connection; check the port and scheme "
                            "in TANDEM_SF_LOGIN_URL, and that the server runs\n")
    assert "┃" not in cycle.stdout
    status = tandem(tmp_path, "status", "--salesforce", env=org)
    assert status.returncode == 0, status.stderr
    assert "waiting to go to Salesforce: 0 changes" in status.stdout
    assert "changed in Salesforce since the last pull" not in status.stdout
    assert status.stdout.rstrip().endswith(f"Salesforce unreachable: https://127.0.0.1:{port} refused the "
                                           "connection; check the port and scheme in TANDEM_SF_LOGIN_URL, and "
                                           "that the server runs")
    as_json = json.loads(tandem(tmp_path, "status", "--salesforce", "--json", env=org).stdout)
    assert as_json["salesforce"]["reachable"] is False and as_json["backlog"]["salesforceChanges"] is None
    assert all(len(line) <= 80 for line in status.stdout.splitlines() if not line.startswith(("FAILED", "Salesforce", "  ")))


def test_a_refused_login_is_listed_once_with_its_code_and_no_secret(tmp_path, base_url, ca_path):
    """Before, status printed the code twice: `invalid_client: invalid_client: invalid client credentials`."""
    org = {"TANDEM_SF_LOGIN_URL": base_url, "TANDEM_SF_CA_BUNDLE": str(ca_path),
           "TANDEM_SF_CLIENT_ID": CONNECTED_APP.client_id, "TANDEM_SF_CLIENT_SECRET": "not-the-s3cret",
           "TANDEM_SF_USERNAME": SYNC_USER.username, "TANDEM_SF_PASSWORD": SYNC_USER.password}
    assert tandem(tmp_path, "init").returncode == 0
    assert tandem(tmp_path, "sync", env=org).returncode == 1
    status = tandem(tmp_path, "status", env=org)
    assert status.returncode == 0, status.stderr
    [listed] = [line for line in status.stdout.splitlines() if line.startswith("  ")]
    assert listed.endswith(": invalid_client: invalid client credentials; TANDEM_SF_CLIENT_SECRET is not the "
                           "connected app's Consumer Secret")
    assert "invalid_client: invalid_client" not in listed and "s3cret" not in status.stdout


def test_a_refused_login_is_an_error_of_the_login_not_of_the_step_that_met_it(tmp_path, base_url, ca_path,
                                                                               reset_emulator):
    """Before, the error was listed against the first step that called Salesforce: `Account` once the
    field catalog was kept, as if the Account pull had gone wrong."""
    good = org_env(base_url, ca_path, SYNC_USER)
    refused = {**good, "TANDEM_SF_CLIENT_SECRET": "not-the-s3cret"}
    assert tandem(tmp_path, "init").returncode == 0
    assert tandem(tmp_path, "sync", env=refused).returncode == 1  # no catalog yet: met by the schema step
    assert tandem(tmp_path, "sync", env=good).returncode == 0
    assert tandem(tmp_path, "sync", env=refused).returncode == 1  # the catalog kept: met by the Account pull

    state = json.loads(tandem(tmp_path, "status", "--json", env=refused).stdout)
    met_by = [s["object"] for s in state["lastCycle"]["steps"] if s["status"] == "Failed"]
    assert met_by == ["Account"]  # the step that failed stays in the cycle's history
    logins = [e for e in state["errors"] if e["errorCode"] == "invalid_client"]
    assert len(logins) == 2 and {e["object"] for e in logins} == {"login"}
    assert all(e["level"] == "job" and e["personId"] is None for e in logins)
    status = tandem(tmp_path, "status", env=refused)
    listed = [line for line in status.stdout.splitlines() if line.startswith("  ") and "invalid_client" in line]
    assert len(listed) == 2 and all(" login: invalid_client: " in line for line in listed), listed


def test_changes_no_cycle_sends_are_kept_in_tandem_not_waiting_to_go(tmp_path):
    """Before, the changes of a person not in Salesforce counted as waiting to go there, though no
    cycle ever sends them (only Sync Person to SFDC does)."""
    assert tandem(tmp_path, "init").returncode == 0
    assert tandem(tmp_path, "person", "add", "email=ada@example.com", "lastName=Lovelace").returncode == 0
    assert tandem(tmp_path, "person", "set", "ada@example.com", "title=Countess").returncode == 0
    status = tandem(tmp_path, "status")
    assert "waiting to go to Salesforce: 0 changes of 0 persons (0 refused)" in status.stdout
    assert "kept in Tandem only: 1 change of 1 person not in Salesforce" in flat(status.stdout)
    backlog = json.loads(tandem(tmp_path, "status", "--json").stdout)["backlog"]
    assert (backlog["pendingChanges"], backlog["pendingPersons"]) == (0, 0)
    assert backlog["keptInTandem"] == {"changes": 1, "persons": 1}
    shown = tandem(tmp_path, "person", "show", "ada@example.com")
    assert "Salesforce: not linked (tandem person sync creates its Lead)" in shown.stdout
    assert "Kept in Tandem only: title" in shown.stdout and "Waiting to go to Salesforce" not in shown.stdout
    state = json.loads(tandem(tmp_path, "person", "show", "ada@example.com", "--json").stdout)["syncState"]
    assert state["inSalesforce"] is False and [f["field"] for f in state["pendingFields"]] == ["title"]


def test_status_says_the_sync_is_paused_by_whom_and_why_as_the_dashboard_does(tmp_path):
    """Before, `tandem status` and its JSON (and the REST status) showed the last cycle as if the
    sync went on: a pause made in the web UI, which stops `tandem run`, was nowhere in them."""
    from datetime import UTC, datetime

    from tandem.people.store import PersonStore

    assert tandem(tmp_path, "init").returncode == 0
    store = PersonStore(f"sqlite:///{tmp_path / 'tandem.db'}")
    try:
        store.sync_pause.pause("olive", "org migration tonight", now=datetime(2026, 12, 1, 18, 5, tzinfo=UTC))
        status = tandem(tmp_path, "status")
        assert status.returncode == 0, status.stderr
        said = "sync: paused: paused by olive at 2026-12-01 18:05 UTC: org migration tonight"
        assert status.stdout.splitlines()[0] == said
        state = json.loads(tandem(tmp_path, "status", "--json").stdout)["state"]
        assert state == {"kind": "paused", "reason": said.removeprefix("sync: paused: "), "until": None}

        assert store.sync_pause.resume()
        status = tandem(tmp_path, "status")
        assert status.stdout.splitlines()[0] == "sync: waiting: no sync cycle has run yet"
        assert json.loads(tandem(tmp_path, "status", "--json").stdout)["state"]["kind"] == "waiting"
    finally:
        store.close()


def test_the_api_budget_line_reads_as_a_sentence_with_or_without_a_budget(tmp_path):
    """Before, without a budget the line read `API budget today: 2 (no budget set) calls`."""
    assert tandem(tmp_path, "init").returncode == 0
    assert tandem(tmp_path, "sync").returncode == 0
    spent = json.loads(tandem(tmp_path, "status", "--json").stdout)["budget"]["spent"]
    [line] = [line for line in tandem(tmp_path, "status").stdout.splitlines() if line.startswith("API budget")]
    assert line.startswith(f"API budget today: {spent} calls (no budget set); lanes: actions 0, cycle "), line
    budgeted = {"TANDEM_SYNC": '{"budget": {"daily_calls": 5000}}'}
    [line] = [line for line in tandem(tmp_path, "status", env=budgeted).stdout.splitlines()
              if line.startswith("API budget")]
    assert line.startswith(f"API budget today: {spent} of 5000 calls; lanes: actions 0 (stops at 5000)"), line
