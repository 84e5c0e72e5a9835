"""`tandem run`, as a user runs it, starts no cycle while the UI's Pause sync is on, says why, and
syncs again once it is resumed."""

from __future__ import annotations

import signal
import subprocess
import sys

from tandem.people.store import PersonStore
from tests.ui.conftest import tandem_env


def test_tandem_run_waits_while_paused_and_syncs_once_resumed(tmp_path, base_url, ca_path, reset_emulator):
    env = {**tandem_env(tmp_path, base_url, ca_path), "TANDEM_SYNC_INTERVAL_SECONDS": "1"}
    store = PersonStore(env["TANDEM_DATABASE_URL"])
    store.migrate()
    store.sync_pause.pause("olive", "quarter-end freeze")
    process = subprocess.Popen([sys.executable, "-m", "tandem", "run"], cwd=tmp_path, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines = []
    try:
        for line in process.stdout:  # blocks until the process prints: no sleeping
            lines.append(line)
            if "no cycle starts until it is resumed" in line:
                assert store.steps.recent() == []
                store.sync_pause.resume()
            if " cycle: " in line:
                break
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
        store.close()
    assert process.returncode == 0, err
    [paused] = [line for line in lines if "paused" in line]
    assert "sync paused by olive" in paused and "quarter-end freeze" in paused
    assert " cycle: 6 new" in lines[-1]
