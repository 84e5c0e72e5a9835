"""`tandem run` syncs continuously and stops cleanly on SIGTERM."""

import os
import signal
import subprocess
import sys


def test_run_cycles_until_sigterm(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": os.environ.get("PYTHONPATH", ""), "TANDEM_SYNC_INTERVAL_SECONDS": "1"}
    assert subprocess.run([sys.executable, "-m", "tandem", "init"], cwd=tmp_path, env=env).returncode == 0
    process = subprocess.Popen([sys.executable, "-m", "tandem", "run"], cwd=tmp_path, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    cycles = []
    try:
        for line in process.stdout:  # blocks until the process prints: no sleeping
            if " cycle: " in line:
                cycles.append(line)
            if len(cycles) == 2:
                break
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert "6 new" in cycles[0] and "0 new" in cycles[1]
    assert out.strip().endswith("stopped")
