"""Web UI page render times with 100,000 persons and 5 days of sync history.

Fills a fresh store: N persons (half Contacts, a third Leads, the rest not in Salesforce yet), two
activities each, 5,000 changes waiting, and 5 days of a cycle every 5 minutes (9 steps each, with
failures and sync errors sprinkled in). Then starts `tandem serve` (its own process, on the bundled
emulator, which it starts itself) and, signed in as an operator, requests each page several times
after one warm-up request: median and p95 per page, in milliseconds; the dashboard also with a new
step written before each request (it sums the steps again only then). Prints one JSON object.

    python benchmarks/ui.py                          # 100,000 persons, a fresh SQLite file in /tmp
    python benchmarks/ui.py --persons 20000 --requests 10
    python benchmarks/ui.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/uibench

The target is under 300 ms per page.
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
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import sqlalchemy as sa

from tandem.people import activities as types
from tandem.people.activity_rows import activity_row
from tandem.people.models import SalesforceLink, StepOperation, StepStatus
from tandem.people.origin import ChangeOrigin
from tandem.people.store import PersonStore
from tandem.people.tables import activities, cycle_steps, pending_changes, sync_errors
from tandem.web.ui.passwords import hash_password

CHUNK = 5_000
TARGET_MS = 300
USER, PASSWORD = "bench", "bench-password-long"
STEPS = [("All", StepOperation.SYNC_SCHEMA)] + [(o, op) for o in ("Account", "Contact", "Lead")
                                                 for op in (StepOperation.PULL_UPDATES, StepOperation.PULL_DELETES)
                                                 if not (o == "Account" and op is StepOperation.PULL_DELETES)] + [
    ("Lead", StepOperation.PULL_CONVERSIONS), ("Contact", StepOperation.PUSH_UPDATES),
    ("Lead", StepOperation.PUSH_UPDATES)]


def sfdc_id(prefix: str, i: int) -> str:
    return f"{prefix}{i:012d}AAA"


def fill(store: PersonStore, persons: int, now: datetime) -> dict[str, int]:
    rng = random.Random(7)
    linked, unlinked = [], []
    for i in range(persons):
        fields = {"email": f"person{i}@example{i % 97}.com", "firstName": f"First{i}", "lastName": f"Last{i}",
                  "company": f"Company {i % 1000}", "title": "Engineer", "city": "Ghent"}
        kind = "Contact" if i % 2 == 0 else "Lead" if i % 3 else None
        if kind is None:
            unlinked.append(fields)
        else:
            the_id = sfdc_id("003" if kind == "Contact" else "00Q", i)
            linked.append((fields, SalesforceLink(kind, the_id, sfdc_contact_id=the_id if kind == "Contact" else None,
                                                  sfdc_lead_id=the_id if kind == "Lead" else None)))
    person_ids: list[int] = []
    for start in range(0, len(linked), CHUNK):
        person_ids += store.persons.add_linked(linked[start:start + CHUNK])
    for start in range(0, len(unlinked), CHUNK):
        person_ids += store.persons.add_many(unlinked[start:start + CHUNK], origin=ChangeOrigin.CLI)
    db = store._db  # noqa: SLF001 - a benchmark writes its history in bulk, as no caller would
    with db.transaction() as connection:
        rows = []
        for n, pid in enumerate(person_ids):
            for k, kind in enumerate((types.SYNC_LEAD_TO_SFDC, types.SFDC_SYNC_CONFLICT if n % 50 == 0
                                      else types.CHANGE_DATA_VALUE)):
                attributes = ({"Field": "title", "Kept Value": "Engineer", "Lost Value": "Manager", "Winner": "Salesforce"}
                              if kind is types.SFDC_SYNC_CONFLICT else {"Field": "title"} if kind is types.CHANGE_DATA_VALUE
                              else {"Salesforce Type": "Contact"})
                rows.append(activity_row(pid, kind, now - timedelta(minutes=rng.randrange(7200)), None, "title",
                                         attributes))
            if len(rows) >= CHUNK:
                connection.execute(sa.insert(activities), rows)
                rows = []
        if rows:
            connection.execute(sa.insert(activities), rows)
        connection.execute(sa.insert(pending_changes), [
            {"person_id": pid, "field": "title", "value": "Senior Engineer", "changed_at": now, "origin": "cli",
             "state": "failed" if j % 10 == 0 else "pending", "attempts": 0, "last_attempt_at": None,
             "last_error": None, "sent": None, "retry_at": None}
            for j, pid in enumerate(person_ids[:5000])])
        steps, errors = [], 0
        cycles = 5 * 24 * 12
        for c in range(cycles):
            began = now - timedelta(minutes=5 * (cycles - c))
            cycle = str(uuid.UUID(int=c))
            for s, (object_name, operation) in enumerate(STEPS):
                failed = c % 97 == 0 and s == 3
                steps.append({"cycle_id": cycle, "object": object_name, "operation": operation.value,
                              "status": (StepStatus.FAILED if failed else StepStatus.SUCCEEDED).value,
                              "started_at": began + timedelta(seconds=s), "ended_at": began + timedelta(seconds=s + 1),
                              "new_count": rng.randrange(5), "updated_count": rng.randrange(40), "deleted_count": 0,
                              "failed_count": 1 if c % 13 == 0 else 0, "skipped_count": 0,
                              "message": "UNABLE_TO_LOCK_ROW" if failed else None, "api_calls": 1})
        connection.execute(sa.insert(cycle_steps), steps)
        error_rows = []
        for e in range(3000):
            pid = person_ids[(e * 31) % len(person_ids)]
            error_rows.append({"occurred_at": now - timedelta(minutes=rng.randrange(7200)), "level": "record",
                               "error_code": "INVALID_PHONE", "message": "Phone: bad value", "object": "Contact",
                               "sfdc_id": sfdc_id("003", pid), "person_id": pid, "cycle_step_id": None})
            errors += 1
        connection.execute(sa.insert(sync_errors), error_rows)
    store.ui_accounts.add(USER, hash_password(PASSWORD), "operator")
    store.persons.refresh_statistics()
    return {"persons": len(person_ids), "steps": len(steps), "errors": errors, "first_person": person_ids[0],
            "conflict_person": person_ids[0]}


def new_step(store: PersonStore) -> None:
    step = store.steps.start("Contact", StepOperation.PUSH_UPDATES, cycle_id=str(uuid.uuid4()))
    store.steps.finish(step.id, StepStatus.SUCCEEDED)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serve(database_url: str, folder: Path) -> tuple[str, subprocess.Popen[bytes]]:
    port = free_port()
    env = {**os.environ, "TANDEM_DATABASE_URL": database_url, "TANDEM_API_CLIENT_ID": "bench",
           "TANDEM_API_CLIENT_SECRET": "bench-secret-for-the-ui-benchmark-0123"}
    for name in ("TANDEM_SF_LOGIN_URL", "TANDEM_CONFIG"):
        env.pop(name, None)
    server = subprocess.Popen([sys.executable, "-m", "tandem", "serve", "--port", str(port)], cwd=folder, env=env,
                              stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit("tandem serve exited")
        try:
            httpx.get(base + "/ui/signin", timeout=2)
            return base, server
        except httpx.TransportError:
            threading.Event().wait(0.05)
    server.kill()
    sys.exit("tandem serve did not start")


def measure(client: httpx.Client, path: str, requests: int, before=lambda: None) -> dict[str, float]:
    answer = client.get(path)  # warm-up (the field catalog is described once)
    if answer.status_code != 200:
        sys.exit(f"{path}: HTTP {answer.status_code}")
    times = []
    for _ in range(requests):
        before()
        began = time.perf_counter()
        answer = client.get(path)
        times.append((time.perf_counter() - began) * 1000)
        if answer.status_code != 200:
            sys.exit(f"{path}: HTTP {answer.status_code}")
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    return {"median_ms": round(statistics.median(times), 1), "p95_ms": round(p95, 1), "bytes": len(answer.content)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=15)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="tandem-ui-bench-"))
    url = args.database_url or f"sqlite:///{folder / 'tandem.db'}"
    store = PersonStore(url)
    store.migrate()
    now = datetime.now(UTC)
    began = time.perf_counter()
    made = fill(store, args.persons, now)
    fill_seconds = time.perf_counter() - began
    store.close()
    base, server = serve(url, folder)
    try:
        with httpx.Client(base_url=base, timeout=120) as client:
            token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/ui/signin").text).group(1)
            client.post("/ui/signin", data={"username": USER, "password": PASSWORD, "csrf_token": token})
            pid = made["conflict_person"]
            pages = {
                "dashboard": "/ui/", "sync history": "/ui/history",
                "sync history, filtered": "/ui/history?object=Contact&status=Failed",
                "sync errors": "/ui/errors", "sync errors, open only": "/ui/errors?resolved=no",
                "persons": "/ui/persons", "search by name": "/ui/persons?q=first4242",
                "search by email": "/ui/persons?q=person4242@example",
                "search by Salesforce Id": f"/ui/persons?q={sfdc_id('003', 4242)}",
                "person": f"/ui/persons/{pid}", "fields": "/ui/fields",
            }
            results = {name: measure(client, path, args.requests) for name, path in pages.items()}
            writer = PersonStore(url)
            try:  # a step written before each request: the dashboard sums 5 days of steps again each time
                results["dashboard, a new step before each request"] = measure(
                    client, "/ui/", args.requests, before=lambda: new_step(writer))
            finally:
                writer.close()
    finally:
        server.terminate()
        server.wait(30)
        subprocess.run([sys.executable, "-m", "tandem", "emulator", "stop"], cwd=folder, capture_output=True)
    print(json.dumps({
        "database": url.split(":", 1)[0], "persons": made["persons"], "steps": made["steps"],
        "sync_errors": made["errors"], "fill_seconds": round(fill_seconds, 1), "requests_per_page": args.requests,
        "target_ms": TARGET_MS, "pages": results,
        "slowest_p95_ms": max(r["p95_ms"] for r in results.values()),
        "all_under_target": all(r["p95_ms"] < TARGET_MS for r in results.values()),
    }, indent=2))


if __name__ == "__main__":
    main()
