"""Sync Person to SFDC latency: persons created as Leads one at a time, in real time.

Starts the bundled emulator (sample org) on loopback and a fresh SQLite store, runs one sync
cycle so the field catalog is known, then times `sync_person` for each of N new persons (each
call: lease, one upsert over HTTPS, the link and activities in one store transaction).
Prints one JSON object; the target is p99 ≤ 300 ms.

    python benchmarks/actions.py [--persons 500]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

from tandem.people.origin import ChangeOrigin
from tandem.people.store import PersonStore
from tandem.cli.wiring import embedded_emulator, emulator_client
from tandem.sync.actions import PersonActions
from tandem.sync.cycle import SyncEngine


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tandem-bench-") as workdir, \
            embedded_emulator(Path(workdir) / "emulator", persist=False) as server:
        store = PersonStore(f"sqlite:///{workdir}/tandem.db")
        store.migrate()
        engine = SyncEngine(emulator_client(server.base_url, server.ca_path), store)
        engine.run_cycle()
        actions = PersonActions(engine)
        ids = store.persons.add_many(
            [{"email": f"bench{n}@example.com", "firstName": "Bench", "lastName": f"Person{n}",
              "company": f"Company {n % 50}", "title": "Buyer", "leadSource": "Other"} for n in range(args.persons)],
            origin=ChangeOrigin.MARKETING,
        )
        calls_before = engine.client.calls
        latencies = []
        started = time.perf_counter()
        for person_id in ids:
            began = time.perf_counter()
            actions.sync_person(person_id)
            latencies.append((time.perf_counter() - began) * 1000)
        total = time.perf_counter() - started
        store.close()
    print(json.dumps({
        "benchmark": "sync person to SFDC",
        "persons": args.persons,
        "p50_ms": round(statistics.median(latencies), 1),
        "p99_ms": round(percentile(latencies, 0.99), 1),
        "max_ms": round(max(latencies), 1),
        "persons_per_s": round(args.persons / total, 1),
        "api_calls_per_person": round((engine.client.calls - calls_before) / args.persons, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "target_p99_ms": 300,
        "python": sys.version.split()[0],
    }))


if __name__ == "__main__":
    main()
