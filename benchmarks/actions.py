"""Sync Person to SFDC latency: persons created as Leads one at a time, in real time, twice: in a quiet
org, and while a sync cycle pulls 100,000 contacts.

Starts the bundled emulator (sample org) in a process of its own, as `tandem run` and `tandem serve`
share it. The quiet run syncs once into a fresh store (so the field catalog is known), then times
`sync_person` for each of N new persons (each call: claim the person, one upsert over HTTPS, the
link and activities in one store transaction). The busy run bulk-loads the contacts, starts
`tandem sync` on a second fresh store in another process (its initial pull), waits for its first
page, then times N more new persons the same way while that cycle runs, and says whether the cycle
was still running when the last one was done. Prints one JSON object; the target is p99 ≤ 300 ms
in both runs.

    python benchmarks/actions.py [--persons 500] [--contacts 100000] [--database-url URL]

With --database-url (PostgreSQL; the database must exist and is wiped) the busy run's store lives
there; the quiet run always uses SQLite in a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests
import sqlalchemy as sa

from tandem.cli.wiring import emulator_client
from tandem.emulator.instance import RunningEmulator, serve_in_background, stop_running
from tandem.emulator.sample_org import CONNECTED_APP, SYNC_USER
from tandem.people.database import normalize_url
from tandem.people.origin import ChangeOrigin
from tandem.people.store import PersonStore
from tandem.sync.actions import PersonActions
from tandem.sync.cycle import SyncEngine

LOAD_CHUNK = 20_000


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def new_persons(store: PersonStore, count: int, prefix: str) -> list[int]:
    return store.persons.add_many(
        [{"email": f"{prefix}{n}@example.com", "firstName": "Bench", "lastName": f"Person{n}",
          "company": f"Company {n % 50}", "title": "Buyer", "leadSource": "Other"} for n in range(count)],
        origin=ChangeOrigin.MARKETING,
    )


def timed_actions(actions: PersonActions, person_ids: list[int]) -> dict[str, Any]:
    calls_before = actions.client.calls
    latencies = []
    started = time.perf_counter()
    for person_id in person_ids:
        began = time.perf_counter()
        actions.sync_person(person_id)
        latencies.append((time.perf_counter() - began) * 1000)
    total = time.perf_counter() - started
    return {
        "p50_ms": round(statistics.median(latencies), 1),
        "p99_ms": round(percentile(latencies, 0.99), 1),
        "max_ms": round(max(latencies), 1),
        "persons_per_s": round(len(person_ids) / total, 1),
        "api_calls_per_person": round((actions.client.calls - calls_before) / len(person_ids), 2),
    }


def load_contacts(server: RunningEmulator, count: int) -> None:
    """Contacts last modified over the past year, oldest first, like an org that grew over time."""
    start = datetime.now(UTC) - timedelta(days=365)
    step = timedelta(days=364) / max(count, 1)
    with requests.Session() as http:
        http.trust_env = False
        http.verify = str(server.ca_path)
        for first in range(0, count, LOAD_CHUNK):
            rows = []
            for i in range(first, min(first + LOAD_CHUNK, count)):
                stamp = (start + step * i).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
                rows.append({"FirstName": f"First{i}", "LastName": f"Last{i}", "Email": f"contact{i}@load.example",
                             "Title": "Engineer", "CreatedDate": stamp, "SystemModstamp": stamp})
            http.post(f"{server.base_url}/_emulator/bulk-load", json={"Contact": rows}).raise_for_status()


def fresh_store(url: str) -> PersonStore:
    if url.startswith("postgres"):
        engine = sa.create_engine(normalize_url(url))
        with engine.begin() as connection:
            connection.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        engine.dispose()
    store = PersonStore(url)
    store.migrate()
    return store


def cycle_process(server: RunningEmulator, database_url: str, workdir: str) -> subprocess.Popen:
    """`tandem sync` in a process of its own, against the emulator as an org reached by its URL."""
    env = {**os.environ, "TANDEM_DATABASE_URL": database_url, "TANDEM_SF_LOGIN_URL": server.base_url,
           "TANDEM_SF_CA_BUNDLE": str(server.ca_path), "TANDEM_SF_CLIENT_ID": CONNECTED_APP.client_id,
           "TANDEM_SF_CLIENT_SECRET": CONNECTED_APP.client_secret, "TANDEM_SF_USERNAME": SYNC_USER.username,
           "TANDEM_SF_PASSWORD": SYNC_USER.password,
           "TANDEM_SYNC_COMMIT_LAG_SECONDS": "0"}  # the emulator commits in stamp order: read the load at once
    return subprocess.Popen([sys.executable, "-m", "tandem", "sync", "--json"], cwd=workdir, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def busy_run(server: RunningEmulator, store: PersonStore, database_url: str, workdir: str, persons: int,
             contacts: int) -> dict[str, Any]:
    ids = new_persons(store, persons, "busy")
    actions = PersonActions(SyncEngine(emulator_client(server.base_url, server.ca_path), store))
    began = time.perf_counter()
    cycle = cycle_process(server, database_url, workdir)
    ticker = threading.Event()
    while store.persons.count() <= persons:  # the pull's first page is in
        if cycle.poll() is not None:
            raise SystemExit(f"the cycle ended before its first page: {cycle.stderr.read() if cycle.stderr else ''}")
        ticker.wait(0.05)
    measured = timed_actions(actions, ids)
    still_running = cycle.poll() is None
    out, err = cycle.communicate()
    if cycle.returncode != 0:
        raise SystemExit(f"the cycle failed: {err}")
    report = json.loads(out)
    pulled = sum(s["new"] for s in report["steps"] if s["object"] == "Contact" and s["operation"] == "pull updates")
    return {**measured, "contacts": contacts, "contacts_pulled": pulled,
            "cycle_running_throughout": still_running, "cycle_seconds": round(time.perf_counter() - began, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=500)
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tandem-bench-") as workdir:
        state_dir = Path(workdir) / "emulator"
        server = serve_in_background(state_dir)
        try:
            quiet_store = fresh_store(f"sqlite:///{workdir}/quiet.db")
            SyncEngine(emulator_client(server.base_url, server.ca_path), quiet_store).run_cycle()
            ids = new_persons(quiet_store, args.persons, "quiet")
            quiet = timed_actions(PersonActions(SyncEngine(emulator_client(server.base_url, server.ca_path),
                                                           quiet_store)), ids)
            quiet_store.close()

            load_contacts(server, args.contacts)
            busy_url = args.database_url or f"sqlite:///{workdir}/busy.db"
            busy_store = fresh_store(busy_url)
            busy = busy_run(server, busy_store, busy_url, workdir, args.persons, args.contacts)
            busy_store.close()
        finally:
            stop_running(state_dir)
    print(json.dumps({
        "benchmark": "sync person to SFDC",
        "persons": args.persons,
        "quiet": quiet,
        "during_initial_pull": busy,
        "database": "postgresql" if busy_url.startswith("postgres") else "sqlite",
        "target_p99_ms": 300,
        "targets": {"quiet_p99<=300": quiet["p99_ms"] <= 300, "during_initial_pull_p99<=300": busy["p99_ms"] <= 300,
                    "cycle_running_throughout": busy["cycle_running_throughout"]},
        "python": sys.version.split()[0],
    }))


if __name__ == "__main__":
    main()
