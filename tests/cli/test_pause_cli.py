"""`tandem pause` and `tandem resume`: the web UI's Pause sync and Resume sync from the command line,
under the UI's rules, on the same pause `tandem status`, `tandem run` and the web UI honour. Before,
an operator with only the command line could neither pause the sync nor lift a pause."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

from tandem.people.store import PersonStore
from tests.cli.running import flat, tandem


def _paused(tmp_path):
    store = PersonStore(f"sqlite:///{tmp_path / 'tandem.db'}")
    try:
        return store.sync_pause.current()
    finally:
        store.close()


def test_a_pause_made_here_shows_in_status_and_its_json(tmp_path):
    assert tandem(tmp_path, "init").returncode == 0
    made = tandem(tmp_path, "pause", "--reason", "org migration tonight", "--by", "olive")
    assert made.returncode == 0, made.stderr
    pause = _paused(tmp_path)
    said = f"paused by olive at {pause.paused_at:%Y-%m-%d %H:%M} UTC: org migration tonight"
    assert made.stdout == f"Sync {said}; `tandem run` starts no cycle until `tandem resume`\n"
    assert tandem(tmp_path, "status").stdout.splitlines()[0] == f"sync: paused: {said}"
    assert json.loads(tandem(tmp_path, "status", "--json").stdout)["state"] == {
        "kind": "paused", "reason": said, "until": None}


def test_the_default_pauser_is_the_os_user_and_the_default_reason_says_where(tmp_path):
    assert tandem(tmp_path, "init").returncode == 0
    made = tandem(tmp_path, "pause", "--json", env={"USER": "maint", "LOGNAME": "maint"})
    assert made.returncode == 0, made.stderr
    answer = json.loads(made.stdout)
    pause = _paused(tmp_path)
    assert answer == {"paused": True, "pausedAt": pause.paused_at.isoformat(), "pausedBy": "cli:maint",
                      "reason": "paused from the command line"}
    assert (pause.paused_by, pause.reason) == ("cli:maint", "paused from the command line")


def test_pausing_twice_is_refused_naming_whose_pause_stands_and_changes_nothing(tmp_path):
    assert tandem(tmp_path, "init").returncode == 0
    assert tandem(tmp_path, "pause", "--reason", "quarter-end freeze", "--by", "olive").returncode == 0
    first = _paused(tmp_path)
    again = tandem(tmp_path, "pause", "--reason", "deploy window", "--by", "oscar")
    assert again.returncode == 1 and again.stdout == ""
    assert again.stderr == (f"Error: the sync was already paused by olive at {first.paused_at:%Y-%m-%d %H:%M} UTC: "
                            "quarter-end freeze; that pause stands\n")
    scripted = tandem(tmp_path, "pause", "--reason", "deploy window", "--json")
    assert scripted.returncode == 1 and "already paused by olive" in scripted.stderr
    assert json.loads(scripted.stdout) == {"paused": False, "pausedAt": first.paused_at.isoformat(),
                                           "pausedBy": "olive", "reason": "quarter-end freeze"}
    assert _paused(tmp_path) == first


def test_resume_lifts_the_pause_and_says_whose_it_was(tmp_path):
    assert tandem(tmp_path, "init").returncode == 0
    assert tandem(tmp_path, "pause", "--reason", "quarter-end freeze", "--by", "olive").returncode == 0
    pause = _paused(tmp_path)
    resumed = tandem(tmp_path, "resume")
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stdout == (f"Sync resumed; it was paused by olive at {pause.paused_at:%Y-%m-%d %H:%M} UTC: "
                              "quarter-end freeze\n")
    assert _paused(tmp_path) is None
    assert tandem(tmp_path, "status").stdout.splitlines()[0] == "sync: waiting: no sync cycle has run yet"
    cycle = tandem(tmp_path, "sync", "--json")
    assert cycle.returncode == 0, cycle.stderr
    report = json.loads(cycle.stdout)
    assert report["cycleId"] is not None and report["failure"] is None
    assert sum(step["new"] for step in report["steps"]) > 0


def test_resume_when_not_paused_says_so_and_changes_nothing_as_the_ui_does(tmp_path):
    assert tandem(tmp_path, "init").returncode == 0
    resumed = tandem(tmp_path, "resume")
    assert (resumed.returncode, resumed.stdout, resumed.stderr) == (0, "The sync was not paused\n", "")
    scripted = tandem(tmp_path, "resume", "--json")
    assert scripted.returncode == 0
    assert json.loads(scripted.stdout) == {"resumed": False, "pausedAt": None, "pausedBy": None, "reason": None}


def test_a_bad_reason_or_pauser_is_refused_naming_the_option_and_pauses_nothing(tmp_path):
    assert tandem(tmp_path, "init").returncode == 0
    long = tandem(tmp_path, "pause", "--reason", "x" * 501)
    assert (long.returncode, long.stderr) == (1, "Error: --reason: longer than 500 characters\n")
    nobody = tandem(tmp_path, "pause", "--reason", "deploy", "--by", "  ")
    assert (nobody.returncode, nobody.stderr) == (1, "Error: --by: give 1 to 64 characters, got 0\n")
    too_long = tandem(tmp_path, "pause", "--by", "o" * 65)
    assert (too_long.returncode, too_long.stderr) == (1, "Error: --by: give 1 to 64 characters, got 65\n")
    assert _paused(tmp_path) is None
    assert "Traceback" not in long.stderr + nobody.stderr + too_long.stderr


def test_a_running_tandem_run_stops_at_a_cli_pause_and_goes_on_after_resume(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": os.environ.get("PYTHONPATH", ""), "TANDEM_SYNC_INTERVAL_SECONDS": "1"}
    assert tandem(tmp_path, "init").returncode == 0
    process = subprocess.Popen([sys.executable, "-m", "tandem", "run"], cwd=tmp_path, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    cycles_while_paused = None
    try:
        for line in process.stdout:  # blocks until the process prints: no sleeping
            lines.append(line)
            if " cycle: " in line and cycles_while_paused is None and len(lines) == 2:
                assert tandem(tmp_path, "pause", "--reason", "maintenance", "--by", "ops").returncode == 0
            elif "no cycle starts until it is resumed" in line:
                cycles_while_paused = sum(" cycle: " in seen for seen in lines)
                resumed = tandem(tmp_path, "resume")
                assert resumed.returncode == 0 and "Sync resumed; it was paused by ops" in resumed.stdout
            elif " cycle: " in line and cycles_while_paused is not None:
                break
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    [paused] = [line for line in lines if "no cycle starts" in line]
    assert "sync paused by ops at " in paused and ": maintenance;" in flat(paused)
    assert " cycle: " in lines[-1] and lines.index(paused) < len(lines) - 1
