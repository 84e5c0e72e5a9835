"""`tandem run` syncs continuously and stops cleanly on SIGTERM."""

import os
import signal
import subprocess
import sys

import sqlalchemy as sa

from tests.postgres import POSTGRES_ADMIN_URL, postgres_database
from tests.tcp_relay import Relay

POSTGRES_HOST = sa.make_url(POSTGRES_ADMIN_URL).host or "127.0.0.1"
POSTGRES_PORT = sa.make_url(POSTGRES_ADMIN_URL).port or 5432


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


def _next_line(process: subprocess.Popen[str], wanted: str, seen: list[str]) -> str:
    """The next line of the process's output holding `wanted` (blocks on the output: no sleeping)."""
    for line in process.stdout:
        seen.append(line)
        if wanted in line:
            return line
    raise AssertionError(f"the process ended before saying {wanted!r}:\n{''.join(seen)}\n{process.stderr.read()}")


def test_run_rides_out_a_database_that_goes_away_and_comes_back(tmp_path):
    relay_of = Relay((POSTGRES_HOST, POSTGRES_PORT))
    databases = postgres_database()
    url = sa.make_url(next(databases)).set(host="127.0.0.1", port=relay_of.port)
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": os.environ.get("PYTHONPATH", ""), "TANDEM_SYNC_INTERVAL_SECONDS": "1",
           "TANDEM_DATABASE_URL": url.render_as_string(hide_password=False)}
    process = None
    try:
        assert subprocess.run([sys.executable, "-m", "tandem", "init"], cwd=tmp_path, env=env).returncode == 0
        process = subprocess.Popen([sys.executable, "-m", "tandem", "run"], cwd=tmp_path, env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        seen: list[str] = []
        assert "6 new" in _next_line(process, " cycle: ", seen)
        relay_of.cut()
        said = _next_line(process, "database", seen)
        assert "unavailable" in said and "trying again" in said
        assert process.poll() is None  # still running
        relay_of.restore()
        assert "0 new" in _next_line(process, " cycle: ", seen)  # cycles again, the lock taken anew
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=60)
        assert process.returncode == 0, err
        assert out.strip().endswith("stopped")
    finally:
        if process is not None and process.poll() is None:
            process.kill()
        relay_of.cut()
        next(databases, None)
