"""One bundled emulator per state folder: every command of a folder uses the same one, so a write
made by one process is never lost when another stops."""

from __future__ import annotations

import json
import os
import pickle
import signal
import subprocess
import sys
import threading
import time

from simple_salesforce import Salesforce

from tandem.cli.wiring import shared_emulator
from tandem.emulator.instance import running, stop_running
from tandem.emulator.model.persistence import STATE_FILE
from tandem.emulator.sample_org import ADMIN, CONNECTED_APP
from tandem.salesforce.http import PinnedSession

ENV = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": os.environ.get("PYTHONPATH", ""), "TANDEM_SYNC_INTERVAL_SECONDS": "1", "COLUMNS": "200"}


def tandem(cwd, *args, timeout=120):
    return subprocess.run([sys.executable, "-m", "tandem", *args], cwd=cwd, env=ENV, capture_output=True,
                          text=True, timeout=timeout)


def _admin(state_dir) -> Salesforce:
    server = running(state_dir)
    session = PinnedSession(server.ca_path)
    token = session.post(f"{server.base_url}/services/oauth2/token", data={
        "grant_type": "password", "client_id": CONNECTED_APP.client_id, "client_secret": CONNECTED_APP.client_secret,
        "username": ADMIN.username, "password": ADMIN.password}).json()
    return Salesforce(instance_url=server.base_url, session_id=token["access_token"], session=session)


def test_concurrent_commands_start_one_emulator_for_a_folder(tmp_path):
    state_dir = tmp_path / ".tandem" / "emulator"
    found = []
    threads = [threading.Thread(target=lambda: found.append(shared_emulator(state_dir))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({(s.pid, s.base_url) for s in found}) == 1
    assert running(state_dir) == found[0]
    second = subprocess.run([sys.executable, "-m", "tandem", "emulator", "serve", "--state-dir", str(state_dir),
                             "--port", "0"], env=ENV, capture_output=True, text=True, timeout=60)
    assert second.returncode == 1 and second.stderr.startswith(f"Error: an emulator already serves {state_dir} at ")
    assert stop_running(state_dir) == found[0] and running(state_dir) is None


def test_after_the_emulator_is_killed_the_next_command_gets_a_new_one(tmp_path):
    """Before, the next command was handed the dead server's address (its server.json outlived it) and failed
    with `refused the connection`."""
    state_dir = tmp_path / ".tandem" / "emulator"
    first = shared_emulator(state_dir)
    os.kill(first.pid, signal.SIGKILL)
    os.waitpid(first.pid, 0)  # started by this process: gone, and its lock with it
    second = shared_emulator(state_dir)
    try:
        assert second.pid != first.pid and second.base_url != first.base_url
        assert PinnedSession(second.ca_path).get(f"{second.base_url}/services/data").status_code == 200
    finally:
        stop_running(state_dir)


def test_an_emulator_killed_outright_keeps_what_it_saved_and_never_gives_an_id_twice(tmp_path):
    """Before, a killed emulator lost every write since it started and gave their Ids again to new
    records, so a Tandem person linked to a lost Lead was overwritten with another Lead's values."""
    state_dir = tmp_path / ".tandem" / "emulator"
    first = shared_emulator(state_dir)
    admin = _admin(state_dir)
    kept = admin.Lead.create({"LastName": "Kept", "Company": "K", "Email": "kept@example.com"})["id"]
    saved = state_dir / STATE_FILE
    ticker = threading.Event()
    deadline = time.monotonic() + 30
    while not (saved.exists() and kept in pickle.loads(saved.read_bytes())["records"]["Lead"]):
        assert time.monotonic() < deadline, "the running emulator never saved the Lead"
        ticker.wait(0.1)
    maybe_lost = admin.Lead.create({"LastName": "Late", "Company": "L", "Email": "late@example.com"})["id"]
    os.kill(first.pid, signal.SIGKILL)
    os.waitpid(first.pid, 0)
    shared_emulator(state_dir)
    try:
        admin = _admin(state_dir)
        assert admin.Lead.get(kept)["Email"] == "kept@example.com"
        new = admin.Lead.create({"LastName": "New", "Company": "N", "Email": "new@example.com"})["id"]
        assert new not in (kept, maybe_lost)
    finally:
        stop_running(state_dir)


def test_a_lead_made_by_person_sync_while_run_runs_survives_both(tmp_path):
    assert tandem(tmp_path, "init").returncode == 0
    assert tandem(tmp_path, "sync").returncode == 0
    run = subprocess.Popen([sys.executable, "-m", "tandem", "run"], cwd=tmp_path, env=ENV,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert tandem(tmp_path, "person", "add", "email=ada@example.com", "lastName=Lovelace",
                      "company=Engines").returncode == 0
        synced = tandem(tmp_path, "person", "sync", "ada@example.com", "--json")
        assert synced.returncode == 0, synced.stderr
        lead_id = json.loads(synced.stdout)["sfdcId"]
    finally:
        run.send_signal(signal.SIGTERM)
        run.communicate(timeout=60)
    state_dir = tmp_path / ".tandem" / "emulator"
    assert tandem(tmp_path, "emulator", "stop", "--state-dir", str(state_dir)).returncode == 0
    assert tandem(tmp_path, "sync").returncode == 0  # a new emulator, from the saved state
    lead = _admin(state_dir).Lead.get(lead_id)
    assert lead["Email"] == "ada@example.com"
    shown = json.loads(tandem(tmp_path, "person", "show", "ada@example.com", "--json").stdout)
    assert shown["sfdcId"] == lead_id


def test_a_file_where_the_state_folder_should_be_is_named_in_one_line(tmp_path):
    """Before, a FileExistsError or NotADirectoryError traceback."""
    assert tandem(tmp_path, "init").returncode == 0
    (tmp_path / ".tandem").write_text("not a folder")
    synced = tandem(tmp_path, "sync")
    assert synced.returncode == 1
    assert synced.stderr == (f"Error: cannot use {tmp_path / '.tandem' / 'emulator'} as the emulator's state "
                             "folder: Not a directory\n")
    served = tandem(tmp_path, "emulator", "serve", "--port", "0", "--state-dir", ".tandem")
    assert served.returncode == 1
    assert served.stderr == "Error: cannot use .tandem as the emulator's state folder: File exists\n"
