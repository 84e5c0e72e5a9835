"""REST API throughput over real HTTP: Sync Leads (createOrUpdate) and Get Leads by Filter Type.

Starts `tandem serve` (uvicorn, its own process) on a free loopback port over a fresh store, then, as a Marketo client
would: createOrUpdate of N persons in batches of 300 (the first pass creates them), the same again
(every record found by email and updated), and a filter-by-email read of 10,000 persons, 300
emails a call (POST with `_method=GET`). The rate limit is lifted for the run. Prints one JSON object.

    python benchmarks/api.py                       # 100,000 persons, a fresh SQLite file in /tmp
    python benchmarks/api.py --records 20000 --database-url postgresql://postgres@127.0.0.1:5432/bench

The target is 3,000 records/s on SQLite; the server CPU rate is the steadier number on a busy machine.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from tandem.people.store import PersonStore
from tandem.web.auth import ApiCredentials

BATCH = 300
CREDENTIALS = ApiCredentials("bench", "bench-secret-for-the-api-benchmark")


def _person(i: int, generation: int) -> dict[str, object]:
    return {
        "email": f"person{i}@example{i % 97}.com",
        "firstName": f"First{i}",
        "lastName": f"Last{i}",
        "company": f"Company {i % 1000}",
        "title": "Engineer" if generation == 0 else "Senior Engineer",
        "city": "Ghent",
        "numberOfEmployees": i % 5000,
    }


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _serve(database_url: str) -> tuple[str, subprocess.Popen[bytes]]:
    """`tandem serve` in its own process (as in production: the client does not share its GIL)."""
    port = _free_port()
    env = {**os.environ, "TANDEM_DATABASE_URL": database_url, "TANDEM_API_CLIENT_ID": CREDENTIALS.client_id,
           "TANDEM_API_CLIENT_SECRET": CREDENTIALS.client_secret}
    server = subprocess.Popen(
        [sys.executable, "-m", "tandem", "serve", "--host", "127.0.0.1", "--port", str(port),
         "--calls-per-window", str(10**9), "--concurrent-calls", "100"],
        env=env, stdout=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit("tandem serve exited")
        try:
            httpx.get(base + "/openapi.json", timeout=1)
            return base, server
        except httpx.TransportError:
            threading.Event().wait(0.05)
    server.kill()
    sys.exit("tandem serve did not start")


def _server_cpu_seconds(pid: int) -> float:
    """User plus system CPU time of the server process (Linux): steadier than wall time on a busy machine."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Measure:
    def __init__(self, server_pid: int) -> None:
        self.pid = server_pid

    def __enter__(self) -> "Measure":
        self.wall, self.cpu = time.perf_counter(), _server_cpu_seconds(self.pid)
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.wall
        self.cpu = _server_cpu_seconds(self.pid) - self.cpu

    def rate(self, count: int) -> dict[str, float]:
        return {"records": count, "seconds": round(self.wall, 3), "records_per_s": round(count / self.wall, 1),
                "server_cpu_seconds": round(self.cpu, 2),
                "records_per_server_cpu_s": round(count / self.cpu, 1) if self.cpu else None}


def _upsert_all(client: httpx.Client, pid: int, records: int, generation: int) -> tuple[dict[str, float], dict[str, int]]:
    statuses: dict[str, int] = {}
    with Measure(pid) as measure:
        _upsert_batches(client, records, generation, statuses)
    return measure.rate(records), statuses


def _upsert_batches(client: httpx.Client, records: int, generation: int, statuses: dict[str, int]) -> None:
    for start in range(0, records, BATCH):
        batch = [_person(i, generation) for i in range(start, min(start + BATCH, records))]
        body = client.post("/rest/v1/leads.json", json={"action": "createOrUpdate", "lookupField": "email",
                                                        "input": batch}).json()
        if not body["success"]:
            sys.exit(f"sync failed: {body['errors']}")
        for result in body["result"]:
            statuses[result["status"]] = statuses.get(result["status"], 0) + 1


def _read_by_email(client: httpx.Client, pid: int, count: int) -> dict[str, float]:
    with Measure(pid) as measure:
        found = _read_batches(client, count)
    if found != count:
        sys.exit(f"read {found} persons, expected {count}")
    return measure.rate(count)


def _read_batches(client: httpx.Client, count: int) -> int:
    found = 0
    for start in range(0, count, BATCH):
        emails = ",".join(_person(i, 0)["email"] for i in range(start, min(start + BATCH, count)))  # type: ignore[misc]
        body = client.post("/rest/v1/leads.json", data={
            "_method": "GET", "filterType": "email", "filterValues": emails,
            "fields": "id,email,firstName,lastName,title", "batchSize": str(BATCH)}).json()
        found += len(body["result"])
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--reads", type=int, default=10_000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="tandem-api-bench-")
    url = args.database_url or f"sqlite:///{Path(workdir) / 'bench.db'}"
    store = PersonStore(url)
    store.migrate()
    store.close()
    base, server = _serve(url)
    try:
        with httpx.Client(base_url=base, timeout=120) as client:
            token = client.get("/identity/oauth/token", params={
                "grant_type": "client_credentials", "client_id": CREDENTIALS.client_id,
                "client_secret": CREDENTIALS.client_secret}).json()["access_token"]
            client.headers["Authorization"] = f"Bearer {token}"
            create, created = _upsert_all(client, server.pid, args.records, 0)
            update, updated = _upsert_all(client, server.pid, args.records, 1)
            read = _read_by_email(client, server.pid, min(args.reads, args.records))
    finally:
        server.terminate()
        server.wait(30)
    print(json.dumps({
        "database": url.split(":", 1)[0],
        "batch_size": BATCH,
        "create_or_update_new": {**create, "statuses": created},
        "create_or_update_existing": {**update, "statuses": updated},
        "filter_by_email_read": read,
        "target_records_per_s": 3000,
        "cpus": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }, indent=2))


if __name__ == "__main__":
    main()
