"""Concurrent writers beside the sync: API callers and `tandem run` on one database for a minute.

Starts the bundled emulator (sample org plus 1,000 contacts) in this process on loopback, sets
up a fresh database and brings the contacts in with `tandem sync`, then starts `tandem run` (its
own process, a cycle every second, against that emulator) and `tandem serve` (its own process).
W threads, each with its own HTTP connection and token, call Sync Leads (createOrUpdate by email,
10 records a call) in a loop: 5 persons the sync brought from Salesforce (the next cycle pushes
their new titles) and 5 from a pool of 200 new emails shared by every caller, so callers race
each other on the same keys and the sync on the same persons. Prints one JSON object.

    python benchmarks/concurrency.py                  # 60 s, 8 writers, SQLite in a temp dir
    python benchmarks/concurrency.py --seconds 60 --writers 8 --database-url postgresql://postgres@127.0.0.1:5432/bench

The database must be empty (no persons). Must hold: failed calls 0, duplicate persons 0, failed
cycles 0.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from tandem.cli.wiring import embedded_emulator
from tandem.emulator.sample_org import CONNECTED_APP, SYNC_USER
from tandem.people.store import PersonStore
from tandem.web.auth import ApiCredentials

CREDENTIALS = ApiCredentials("bench", "bench-secret-for-the-concurrency-benchmark")
CONTACTS = 1000
NEW_EMAILS = 200
PER_CALL = 10


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _seed_contacts(org: Any, count: int) -> None:
    stamp = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    org.bulk_load("Contact", ({"FirstName": f"First{i}", "LastName": f"Last{i}", "Title": "Engineer",
                               "Email": f"contact{i}@bench.example", "CreatedDate": stamp, "SystemModstamp": stamp}
                              for i in range(count)))


def _environment(database_url: str, emulator: Any) -> dict[str, str]:
    """`tandem` commands against this database and the emulator, logged in as the sample org's sync user."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TANDEM_")}
    env.update(
        TANDEM_DATABASE_URL=database_url, TANDEM_SYNC_INTERVAL_SECONDS="1",
        TANDEM_SF_LOGIN_URL=emulator.base_url, TANDEM_SF_CA_BUNDLE=str(emulator.ca_path),
        TANDEM_SF_CLIENT_ID=CONNECTED_APP.client_id, TANDEM_SF_CLIENT_SECRET=CONNECTED_APP.client_secret,
        TANDEM_SF_USERNAME=SYNC_USER.username, TANDEM_SF_PASSWORD=SYNC_USER.password,
        TANDEM_API_CLIENT_ID=CREDENTIALS.client_id, TANDEM_API_CLIENT_SECRET=CREDENTIALS.client_secret,
        TANDEM_SYNC_COMMIT_LAG_SECONDS="0",  # the emulator commits in stamp order: each cycle reads it all
    )
    return env


def _tandem(*args: str) -> list[str]:
    return [sys.executable, "-m", "tandem", *args]


def _serve(env: dict[str, str], workdir: Path) -> tuple[str, subprocess.Popen[bytes]]:
    port = _free_port()
    server = subprocess.Popen(
        _tandem("serve", "--host", "127.0.0.1", "--port", str(port), "--calls-per-window", str(10**9),
                "--concurrent-calls", "100"),
        env=env, cwd=workdir, stdout=subprocess.DEVNULL, stderr=open(workdir / "serve.log", "wb"),
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit("tandem serve exited: " + (workdir / "serve.log").read_text()[-2000:])
        try:
            httpx.get(base + "/openapi.json", timeout=1)
            return base, server
        except httpx.TransportError:
            threading.Event().wait(0.05)
    server.kill()
    sys.exit("tandem serve did not start")


class Tally:
    """Every caller's outcomes: calls, failures by error, record statuses, latencies."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.calls = 0
        self.failures: Counter[str] = Counter()
        self.statuses: Counter[str] = Counter()
        self.skips: Counter[str] = Counter()
        self.latencies: list[float] = []

    def record(self, seconds: float, answer: httpx.Response | None, error: str | None = None) -> None:
        with self.lock:
            self.calls += 1
            self.latencies.append(seconds)
            if answer is None or answer.status_code != 200 or not answer.json().get("success"):
                detail = error or (answer.json().get("errors") if answer is not None else None)
                self.failures[str(detail)[:200]] += 1
                return
            for result in answer.json()["result"]:
                self.statuses[result["status"]] += 1
                if result["status"] == "skipped":
                    self.skips[result["reasons"][0]["code"]] += 1


def _writer(n: int, base: str, synced: list[str], stop: threading.Event, start: threading.Barrier,
            tally: Tally) -> None:
    pool = [f"new{i}@bench.example" for i in range(NEW_EMAILS)]
    chance = random.Random(n)
    with httpx.Client(base_url=base, timeout=120) as client:
        token = client.get("/identity/oauth/token", params={
            "grant_type": "client_credentials", "client_id": CREDENTIALS.client_id,
            "client_secret": CREDENTIALS.client_secret}).json()["access_token"]
        client.headers["Authorization"] = f"Bearer {token}"
        start.wait()
        call = 0
        while not stop.is_set():
            call += 1
            emails = chance.sample(synced, PER_CALL // 2) + chance.sample(pool, PER_CALL - PER_CALL // 2)
            body = {"action": "createOrUpdate", "lookupField": "email",
                    "input": [{"email": email, "title": f"Writer {n} call {call}"} for email in emails]}
            began = time.perf_counter()
            try:
                answer = client.post("/rest/v1/leads.json", json=body)
            except httpx.HTTPError as error:
                tally.record(time.perf_counter() - began, None, f"{type(error).__name__}: {error}")
                continue
            tally.record(time.perf_counter() - began, answer)


_CYCLE = re.compile(r" cycle: (\d+) new, (\d+) updated, (\d+) failed")


def _cycles(log: str) -> dict[str, int]:
    """What `tandem run` printed: cycles run and failed, and the records they moved."""
    totals = [tuple(map(int, found.groups())) for found in _CYCLE.finditer(log)]
    return {"run": len(totals), "failed": log.count(" cycle FAILED"),
            "records_new": sum(t[0] for t in totals), "records_updated": sum(t[1] for t in totals),
            "records_failed": sum(t[2] for t in totals)}


def _duplicates(url: str) -> int:
    """Persons beyond the first per email (lower-cased), counted by SQL on the database itself."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(sa.text("SELECT count(*) - 1 FROM persons WHERE email IS NOT NULL "
                                              "GROUP BY lower(email) HAVING count(*) > 1"))
            return sum(count for (count,) in rows)
    finally:
        engine.dispose()


def run(seconds: float, writers: int, database_url: str, workdir: Path) -> dict[str, Any]:
    with embedded_emulator(workdir / "emulator", persist=False) as emulator:
        _seed_contacts(emulator.org, CONTACTS)
        store = PersonStore(database_url)
        store.migrate()
        if store.persons.count():
            sys.exit("the database must be empty")
        env = _environment(database_url, emulator)
        first = subprocess.run(_tandem("sync"), env=env, cwd=workdir, capture_output=True, text=True, timeout=600)
        if first.returncode != 0:
            sys.exit(f"the first sync failed: {first.stdout}{first.stderr}")
        synced = [p.fields["email"] for p in store.api.persons_page("email", [f"contact{i}@bench.example"
                                                                             for i in range(CONTACTS)], limit=CONTACTS)]
        base, server = _serve(env, workdir)
        syncing = subprocess.Popen(_tandem("run"), env=env, cwd=workdir, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True)
        tally, stop = Tally(), threading.Event()
        start = threading.Barrier(writers + 1)
        threads = [threading.Thread(target=_writer, args=(n, base, synced, stop, start, tally))
                   for n in range(writers)]
        try:
            for thread in threads:
                thread.start()
            start.wait()
            began = time.perf_counter()
            stop.wait(seconds)
            stop.set()
            for thread in threads:
                thread.join(300)
            elapsed = time.perf_counter() - began
        finally:
            stop.set()
            run_exited = syncing.poll()
            syncing.terminate()
            log, _ = syncing.communicate(timeout=120)
            server.terminate()
            server.wait(30)
        persons = store.persons.count()
        duplicates = _duplicates(store.url)
        store.close()
    written = tally.statuses["created"] + tally.statuses["updated"]
    ordered = sorted(tally.latencies) or [0.0]
    return {
        "database": database_url.split(":", 1)[0],
        "seconds": round(elapsed, 1),
        "writers": writers,
        "records_per_call": PER_CALL,
        "calls": tally.calls,
        "failed_calls": sum(tally.failures.values()),
        "failures": dict(tally.failures),
        "writes_per_s": round(written / elapsed, 1),
        "calls_per_s": round(tally.calls / elapsed, 1),
        "call_ms": {"p50": round(statistics.median(ordered) * 1000, 1),
                    "p99": round(ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] * 1000, 1),
                    "max": round(ordered[-1] * 1000, 1)},
        "statuses": dict(tally.statuses),
        "skipped_by_code": dict(tally.skips),
        "persons": persons,
        "persons_expected": CONTACTS + 6 + tally.statuses["created"],
        "duplicates": duplicates,
        "cycles": _cycles(log),
        "tandem_run": "ran to the end" if run_exited is None else (
            f"exited early ({run_exited}): " + " | ".join(line for line in log.splitlines() if "Error" in line)[:300]),
        "cpus": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tandem-concurrency-bench-") as workdir:
        url = args.database_url or f"sqlite:///{Path(workdir) / 'bench.db'}"
        print(json.dumps(run(args.seconds, args.writers, url, Path(workdir)), indent=2))


if __name__ == "__main__":
    main()
