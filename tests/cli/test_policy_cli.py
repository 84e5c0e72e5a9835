"""The sync policy from the command line: `tandem policy check`, `tandem sync --dry-run`, the budget
in `tandem status`, and `tandem sync` waiting for a spent cycle lane."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

POLICY = """
[sync]
interval_seconds = 300

[sync.fields]
title = "salesforce-wins"
"Lead.rating" = "from-salesforce-only"
personNotes = "off"

[sync.filter]
Contact = "MailingCountry != 'Antarctica'"
Lead = "IsConverted = false"
push = "leadSource != 'Partner'"

[sync.budget]
daily_calls = 5000
actions_reserve = 1000
"""


def tandem(folder, *args, check=True):
    env = {"PATH": "/usr/bin:/bin", **{k: os.environ[k] for k in ("PYTHONPATH",) if k in os.environ}}
    done = subprocess.run([sys.executable, "-m", "tandem", *args], cwd=folder, env=env, capture_output=True,
                          text=True, timeout=300)
    if check:
        assert done.returncode == 0, done.stderr
    return done


def test_policy_check_shows_what_a_new_policy_changes_and_writes_nothing(tmp_path):
    tandem(tmp_path, "init")
    tandem(tmp_path, "sync")
    tandem(tmp_path, "person", "set", "milton@initech.example", "title=Collator")
    (tmp_path / "new.toml").write_text(POLICY.replace('title = "salesforce-wins"', 'title = "off"'))
    status_before = json.loads(tandem(tmp_path, "status", "--json").stdout)
    checked = json.loads(tandem(tmp_path, "policy", "check", "new.toml", "--json").stdout)
    assert checked["changes"]["push"]["Lead"]["persons"] == {"now": 1, "new": 0}
    assert checked["now"]["push"]["Lead"]["records"][0]["email"] == "milton@initech.example"
    shown = tandem(tmp_path, "policy", "check", "new.toml").stdout
    assert "new.toml: the policy is valid" in shown and "persons" in shown
    status_after = json.loads(tandem(tmp_path, "status", "--json").stdout)
    assert status_after["backlog"] == status_before["backlog"]  # nothing pushed, nothing settled
    assert status_after["lastCycle"] == status_before["lastCycle"]
    (tmp_path / "bad.toml").write_text('[sync.fields]\ntitle = "loudest-wins"\n')
    refused = tandem(tmp_path, "policy", "check", "bad.toml", check=False)
    assert refused.returncode == 1 and "sync.fields.title: unknown rule 'loudest-wins'" in refused.stderr
    (tmp_path / "push.toml").write_text('[sync.filter]\npush = "bogus = 1"\n')  # before: "the policy is valid"
    refused = tandem(tmp_path, "policy", "check", "push.toml", check=False)
    assert refused.returncode == 1 and "sync.filter.push: no person field is named 'bogus'" in refused.stderr


def test_dry_run_and_status_under_the_policy_in_force(tmp_path):
    (tmp_path / "tandem.toml").write_text(POLICY)
    tandem(tmp_path, "init")
    dry = json.loads(tandem(tmp_path, "sync", "--dry-run", "--json").stdout)
    assert {"pull", "push", "conflicts", "filteredOut", "apiCalls"} <= set(dry)
    assert dry["pull"]["Contact"]["create"] == 4 and dry["pull"]["Lead"]["create"] == 2
    assert dry["pull"]["Lead"]["filter"] == "IsConverted = false"
    assert json.loads(tandem(tmp_path, "status", "--json").stdout)["lastCycle"] is None  # nothing ran
    tandem(tmp_path, "sync")
    status = json.loads(tandem(tmp_path, "status", "--json").stdout)
    lanes = {lane["lane"]: lane for lane in status["budget"]["lanes"]}
    assert status["budget"]["budget"] == 5000 and lanes["cycle"]["limit"] == 4000
    assert status["budget"]["spent"] > 0 and lanes["retries"]["spent"] > 0  # the first pulls were backfills
    assert status["budget"]["forecast"]["projectedCalls"] >= status["budget"]["spent"]
    assert status["backlog"]["forecast"]["toSalesforce"]["records"] == 0
    shown = tandem(tmp_path, "status").stdout
    assert "API budget today:" in shown and "forecast to the end of the day" in shown


def test_sync_waits_for_a_spent_cycle_lane_and_says_until_when(tmp_path):
    (tmp_path / "tandem.toml").write_text("[sync.budget]\ndaily_calls = 3\nactions_reserve = 1\n")
    tandem(tmp_path, "init")
    tandem(tmp_path, "sync", "--ignore-budget")
    env = {"PATH": "/usr/bin:/bin", **{k: os.environ[k] for k in ("PYTHONPATH",) if k in os.environ}}
    process = subprocess.Popen([sys.executable, "-m", "tandem", "sync"], cwd=tmp_path, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stderr.readline()  # blocks until the command says why it waits
    finally:
        process.kill()
        process.communicate(timeout=60)
    assert line.startswith("waiting: the API budget's cycle lane is spent")
    assert "opens again at" in line and "--ignore-budget" in line


def test_a_spent_cycle_lane_is_said_spent_until_midnight_not_to_run_out_now(capsys):
    """Before, a lane already spent was said to "run out at" the moment of asking, a time already past."""
    from tandem.cli.policy import print_forecast

    part = {"records": None}
    budget = {"spent": 5, "budget": 4, "resetsAt": "2026-12-02T00:00:00+00:00",
              "lanes": [{"lane": "actions", "spent": 0, "limit": 4, "exhausted": False},
                        {"lane": "cycle", "spent": 5, "limit": 4, "exhausted": True}],
              "forecast": {"projectedCalls": 9, "callsPerHour": 1.0, "cycleLaneRunsOutAt": "2026-12-01T12:00:00+00:00"}}
    print_forecast({"toSalesforce": part, "fromSalesforce": part}, budget)
    shown = capsys.readouterr().out
    assert "the cycle's lane is spent until 2026-12-02T00:00:00+00:00" in shown and "runs out at" not in shown


def test_policy_check_refuses_a_file_it_cannot_read_as_a_policy_in_one_line(tmp_path):
    """Before, a traceback for each: a `sync` that is no table, and a file that is not UTF-8."""
    (tmp_path / "number.toml").write_text("sync = 5\n")
    (tmp_path / "latin1.toml").write_bytes('[sync.filter]\nContact = "MailingCountry = \'Curaçao\'"\n'.encode("latin-1"))
    for name, said in (("number.toml", "Error: sync: must be a table\n"),
                       ("latin1.toml", "Error: latin1.toml: not valid TOML: not UTF-8 text (byte 47)\n")):
        refused = tandem(tmp_path, "policy", "check", name, check=False)
        assert (refused.returncode, refused.stderr) == (1, said)


def test_a_dry_run_lists_every_person_it_counts_as_updated_link_fields_too(tmp_path):
    """Before, a pull that would only move a person's link fields (the Contact a Convert Person made,
    read with its created date) counted `update: 1` with `updated: []`: the count and the list disagreed."""
    tandem(tmp_path, "init")
    tandem(tmp_path, "sync")
    tandem(tmp_path, "person", "add", "email=ada@example.com", "lastName=Lovelace", "company=Engines")
    tandem(tmp_path, "person", "sync", "ada@example.com")
    tandem(tmp_path, "person", "convert", "ada@example.com", "--no-opportunity")
    ada = json.loads(tandem(tmp_path, "person", "show", "ada@example.com", "--json").stdout)
    assert ada["sfdcType"] == "Contact" and ada["sfdcCreatedDate"] is None  # the Contact was not pulled yet

    contact = json.loads(tandem(tmp_path, "sync", "--dry-run", "--json").stdout)["pull"]["Contact"]
    assert contact["update"] == len(contact["updated"]) == 1
    assert contact["updated"] == [{"personId": ada["id"], "fields": ["sfdcCreatedDate"]}]
    tandem(tmp_path, "sync")
    assert json.loads(tandem(tmp_path, "person", "show", "ada@example.com", "--json").stdout)["sfdcCreatedDate"]


def test_a_dry_run_counts_a_converted_lead_it_reads_as_unchanged(tmp_path):
    """Before, the Lead a Convert Person converted was counted read (`records: 1`) in no column at
    all, while the cycle counts it skipped in its pull conversions step."""
    tandem(tmp_path, "init")
    tandem(tmp_path, "sync")
    tandem(tmp_path, "person", "add", "email=ada@example.com", "lastName=Lovelace", "company=Engines")
    tandem(tmp_path, "person", "sync", "ada@example.com")
    tandem(tmp_path, "person", "convert", "ada@example.com", "--no-opportunity")
    lead = json.loads(tandem(tmp_path, "sync", "--dry-run", "--json").stdout)["pull"]["Lead"]
    assert (lead["records"], lead["unchanged"], lead["convert"], lead["update"]) == (1, 1, 0, 0)
    steps = json.loads(tandem(tmp_path, "sync", "--json").stdout)["steps"]
    [conversions] = [s for s in steps if (s["object"], s["operation"]) == ("Lead", "pull conversions")]
    assert conversions["skipped"] == 1


def test_a_folder_given_for_a_file_is_said_to_be_a_folder_not_missing(tmp_path):
    """Before, `policy check` and TANDEM_CONFIG named an existing folder `no such file`."""
    (tmp_path / "conf").mkdir()
    refused = tandem(tmp_path, "policy", "check", "conf", check=False)
    assert (refused.returncode, refused.stderr) == (
        1, "Error: conf: is a folder: name the tandem.toml-shaped file itself\n")
    shown = subprocess.run([sys.executable, "-m", "tandem", "status"], cwd=tmp_path, capture_output=True, text=True,
                           env={"PATH": "/usr/bin:/bin", "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
                                "TANDEM_CONFIG": "conf"}, timeout=60)
    assert (shown.returncode, shown.stderr) == (1, "Error: TANDEM_CONFIG: conf is a folder: name the tandem.toml "
                                                   "file itself\n")


def test_sync_json_stopped_while_waiting_for_the_budget_still_prints_json(tmp_path):
    """Before, `tandem sync --json` stopped (SIGTERM) while it waited for a spent cycle lane printed
    nothing on stdout and exited 0: a script parsing its output met an empty document."""
    (tmp_path / "tandem.toml").write_text("[sync.budget]\ndaily_calls = 3\nactions_reserve = 1\n")
    tandem(tmp_path, "init")
    tandem(tmp_path, "sync", "--ignore-budget")
    env = {"PATH": "/usr/bin:/bin", **{k: os.environ[k] for k in ("PYTHONPATH",) if k in os.environ}}
    process = subprocess.Popen([sys.executable, "-m", "tandem", "sync", "--json"], cwd=tmp_path, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stderr.readline().startswith("waiting: the API budget's cycle lane is spent")
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=60)
    assert process.returncode == 0, err
    shown = json.loads(out)
    assert (shown["cycleId"], shown["steps"], shown["stoppedBy"]) == (None, [], "SIGTERM")
    assert err == "STOPPED: SIGTERM while waiting for the API budget; no cycle ran\n"
