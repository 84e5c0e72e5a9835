"""People-store throughput: insert persons, then change one field each on some of them.

Everything goes through the public `PersonStore` API, so the numbers include validation, change
detection, one activity row per change and the pending change per field. Prints one JSON object.

    python benchmarks/store.py                                   # a fresh SQLite file in /tmp
    python benchmarks/store.py --database-url postgresql://postgres@127.0.0.1:5432/bench

The database should be empty (it is migrated first); the target is 5,000 updates/s on SQLite.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

from tandem.people.origin import ChangeOrigin
from tandem.people.store import PersonStore


def _person(i: int) -> dict[str, object]:
    return {
        "email": f"person{i}@example{i % 97}.com",
        "firstName": f"First{i}",
        "lastName": f"Last{i}",
        "company": f"Company {i % 1000}",
        "title": "Engineer",
        "city": "Ghent",
        "numberOfEmployees": i % 5000,
        "unsubscribed": False,
    }


class Timer:
    """Wall and CPU time of a block: on a shared machine the CPU rate is the steadier number."""

    def __enter__(self) -> "Timer":
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu

    def rate(self, count: int) -> dict[str, float]:
        return {
            "records": count,
            "seconds": round(self.wall, 3),
            "records_per_s": round(count / self.wall, 1),
            "cpu_seconds": round(self.cpu, 3),
            "records_per_cpu_s": round(count / self.cpu, 1),
        }


def run(url: str, persons: int, updates: int, singles: int, batch: int, seed: int) -> dict[str, object]:
    store = PersonStore(url)
    store.migrate()
    random.seed(seed)

    ids: list[int] = []
    with Timer() as inserted:
        for start in range(0, persons, batch):
            records = [_person(i) for i in range(start, min(start + batch, persons))]
            ids.extend(store.persons.add_many(records, origin=ChangeOrigin.MARKETING))

    chosen = random.sample(ids, updates + singles)
    with Timer() as updated:
        for start in range(0, updates, batch):
            chunk = chosen[start:min(start + batch, updates)]
            store.persons.update_many([(pid, {"title": f"Title {pid}"}) for pid in chunk], origin=ChangeOrigin.MARKETING)

    with Timer() as singled:
        for pid in chosen[updates:]:
            store.persons.update(pid, {"title": f"Single {pid}"}, origin=ChangeOrigin.MARKETING)

    dialect = sa.make_url(store.url).get_backend_name()
    result = {
        "benchmark": "people store",
        "database": dialect,
        "batch_size": batch,
        "insert_persons": inserted.rate(persons),
        "update_persons_batched": updated.rate(updates),
        "update_person_single": singled.rate(singles),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "python": sys.version.split()[0],
    }
    store.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", help="default: a new SQLite file in a temporary directory")
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--updates", type=int, default=10_000, help="one field each, in batches")
    parser.add_argument("--singles", type=int, default=1_000, help="one store.persons.update call each")
    parser.add_argument("--batch", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        url = args.database_url or f"sqlite:///{Path(scratch) / 'bench.db'}"
        result = run(url, args.persons, args.updates, args.singles, args.batch, args.seed)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
