"""`tandem run` syncs continuously, stops cleanly on SIGTERM and rides out a database that goes away;
`tandem sync` says when the database is busy."""

import os
import signal
import sqlite3
import subprocess
import sys

import sqlalchemy as sa
from typer.testing import CliRunner

from tandem.cli import app
from tandem.emulator.sample_org import SYNC_USER
from tandem.people import database
from tandem.people.models import StepOperation, StepStatus
from tandem.people.store import PersonStore
from tests.cli.running import flat, org_env, tandem
from tests.cli.test_kill_cli import faults, wait_until  # noqa: F401  (faults: a fixture)
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


OUTAGE_CONTACTS = 2500
"""More than a PostgreSQL pull page (2,000): the cut lands after a page is committed, before the rest."""


def test_run_rides_out_a_database_cut_in_the_middle_of_a_pull(tmp_path, base_url, ca_path, http, faults):
    """Before, `tandem status` between the cut and the next cycle said the cycle's process had ended
    while `tandem run` was alive and waiting for the database."""
    relay_of = Relay((POSTGRES_HOST, POSTGRES_PORT))
    databases = postgres_database()
    direct = next(databases)
    url = sa.make_url(direct).set(host="127.0.0.1", port=relay_of.port, password="secret")  # trust auth ignores it
    env = org_env(base_url, ca_path, SYNC_USER, TANDEM_DATABASE_URL=url.render_as_string(hide_password=False),
                  TANDEM_SYNC_INTERVAL_SECONDS="8", TANDEM_SYNC_COMMIT_LAG_SECONDS="0")
    rows = [{"LastName": f"Cut{i:05d}", "Email": f"cut{i}@cut.example"} for i in range(OUTAGE_CONTACTS)]
    http.post(f"{base_url}/_emulator/bulk-load", json={"Contact": rows}).raise_for_status()
    db = PersonStore(direct)
    process = None
    try:
        assert tandem(tmp_path, "init", env=env).returncode == 0
        faults(slow=1.0, slowSeconds=0.5)  # each page's query waits: the cut lands between two pages
        process = subprocess.Popen([sys.executable, "-m", "tandem", "run"], cwd=tmp_path,
                                   env={"PATH": "/usr/bin:/bin", "PYTHONPATH": os.environ.get("PYTHONPATH", ""), **env},
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wait_until(lambda: db.persons.count() > 0)  # a page of the Contact pull is committed
        relay_of.cut()
        seen: list[str] = []
        said = _next_line(process, "database", seen)
        assert "unavailable" in said and "trying again in 8 s" in said
        relay_of.restore()
        between = tandem(tmp_path, "status", env=env)  # before `tandem run` looks again
        assert between.returncode == 0, between.stderr
        assert "STOPPED: Contact pull updates: the cycle stopped before this step finished (its process ended " \
               "or lost the database)" in flat(between.stdout)
        faults()
        assert "cycle: " in _next_line(process, " cycle: ", seen)
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=60)
        assert process.returncode == 0, err
        after = tandem(tmp_path, "status", env=env)
        assert after.returncode == 0 and "STOPPED" not in after.stdout and "In Process" not in after.stdout
    finally:
        if process is not None and process.poll() is None:
            process.kill()
        faults()
        relay_of.cut()
    try:
        steps = db.steps.recent()
        assert StepStatus.IN_PROCESS not in {s.status for s in steps}
        cut = [s for s in steps if s.object == "Contact" and s.operation is StepOperation.PULL_UPDATES]
        assert [s.status for s in cut] == [StepStatus.SUCCEEDED, StepStatus.CLEANED_UP]
        assert db.persons.count() == OUTAGE_CONTACTS + 6  # the demo org's 6, then every contact once
        assert all(len(db.persons.find_by_email(f"cut{i}@cut.example")) == 1 for i in (0, OUTAGE_CONTACTS - 1))
        assert "secret" not in "".join(seen) + out + err + between.stdout + between.stderr + after.stdout
    finally:
        db.close()
        next(databases, None)


def test_a_one_shot_sync_on_a_sqlite_file_another_program_holds_says_the_database_is_busy(
        tmp_path, base_url, ca_path, monkeypatch):
    """Before, it said only `cannot use the database: database is locked`."""
    env = org_env(base_url, ca_path, SYNC_USER, TANDEM_DATABASE_URL=f"sqlite:///{tmp_path / 'tandem.db'}")
    assert tandem(tmp_path, "init", env=env).returncode == 0
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(database, "BUSY_TIMEOUT_SECONDS", 0.5)  # the real 30 s, twice, is too long for a test
    holder = sqlite3.connect(tmp_path / "tandem.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another program holds the write lock
    try:
        result = CliRunner().invoke(app, ["sync"])
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Error: the database is busy: another program held it through every attempt (database is locked)" \
        in flat(result.output)
    assert "Traceback" not in result.output


def test_run_stops_naming_the_revision_when_a_newer_tandem_migrates_the_database_under_it(tmp_path):
    """A rolling upgrade: before, the older process went on syncing tables its code does not know."""
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": os.environ.get("PYTHONPATH", ""), "TANDEM_SYNC_INTERVAL_SECONDS": "1"}
    assert subprocess.run([sys.executable, "-m", "tandem", "init"], cwd=tmp_path, env=env).returncode == 0
    process = subprocess.Popen([sys.executable, "-m", "tandem", "run"], cwd=tmp_path, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _next_line(process, " cycle: ", [])
        database = sqlite3.connect(tmp_path / "tandem.db", timeout=30)
        with database:
            database.execute("UPDATE alembic_version SET version_num = '9001'")
        database.close()
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 1, out
    assert flat(err).startswith("Error: the database was migrated by a newer Tandem while this process ran "
                                "(schema revision 9001; this one knows up to 00"), err
    assert flat(err).endswith("start this process again with that version of Tandem or a later one")
