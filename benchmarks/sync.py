"""Sync engine throughput: an initial pull of N contacts, an incremental cycle, an idle cycle.

Starts the bundled emulator (sample org) in this process, bulk-loads N contacts last modified
over the past year, and syncs them into a fresh store as the sync user. Then 1,000 contacts are
changed in Salesforce (sObject Collections, as the admin) and 1,000 other persons in Tandem
(`store.persons.update_many`), and one cycle brings both across; a cycle after that reads back its
own pushes, and the next one is idle. Prints one JSON object.

    python benchmarks/sync.py                        # 100,000 contacts, SQLite in a temp dir
    python benchmarks/sync.py --records 20000 --database-url postgresql://postgres@127.0.0.1:5432/bench

Initial pulls only, each in a process of its own (so process CPU and peak RSS are the pull's, not
the emulator's), alternating with another checkout's code against the same org, medians of N rounds:

    python benchmarks/sync.py --pulls 3 --compare-with /path/to/other/checkout [--database-url postgresql://…]

Each pull prints CPU per record (process CPU / records), records/s and peak RSS.

Targets: initial pull ≥ 2,000 records/s end to end; push ≤ 10.1 API calls per 1,000 records (each batch of 200: one query reading the records as they are now, one update);
RSS flat during the pull (pages are streamed); an idle cycle 1 API call. The emulator shares
this process, so its records are part of the RSS and its serving time part of the pull time.
The idle cycle runs right after the others (a window already read is never read again); a
one-shot idle cycle follows with a new engine and client, the field catalog read from the store.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

import requests
from simple_salesforce import Salesforce

from tandem.emulator.sample_org import ADMIN, CONNECTED_APP
from tandem.people.models import StepOperation
from tandem.people.origin import ChangeOrigin
from tandem.people.store import PersonStore
from tandem.cli.wiring import embedded_emulator, emulator_client
from tandem.sync.cycle import CycleReport, SyncEngine

BATCH = 200


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def peak_rss_mb() -> float:
    """This process's peak RSS (`VmHWM`: unlike `ru_maxrss` it starts afresh at exec, so a pull
    started from the emulator's process is not charged with that process's memory)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class RssSampler:
    """RSS every `interval` seconds while a block runs, to show whether memory grows with the records."""

    def __init__(self, interval: float = 0.25) -> None:
        self.interval = interval
        self.samples: list[float] = []
        self._done = threading.Event()

    def __enter__(self) -> RssSampler:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._done.wait(self.interval):
            self.samples.append(rss_mb())

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()

    def summary(self) -> dict[str, Any]:
        samples = self.samples or [rss_mb()]
        quarter = max(1, len(samples) // 4)
        first, last = samples[:quarter], samples[-quarter:]
        return {
            "samples": len(samples),
            "min_mb": round(min(samples), 1),
            "max_mb": round(max(samples), 1),
            "first_quarter_mean_mb": round(sum(first) / len(first), 1),
            "last_quarter_mean_mb": round(sum(last) / len(last), 1),
            "tenths_mean_mb": [round(sum(part) / len(part), 1) for n in range(10)
                               if (part := samples[n * len(samples) // 10:(n + 1) * len(samples) // 10])],
        }


def load_contacts(org: Any, count: int) -> None:
    """Contacts last modified over the past year, oldest first, like an org that grew over time."""
    start = datetime.now(UTC) - timedelta(days=365)
    step = timedelta(days=364) / max(count, 1)

    def rows():
        for i in range(count):
            stamp = (start + step * i).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
            yield {"FirstName": f"First{i}", "LastName": f"Last{i}", "Email": f"contact{i}@bench{i % 97}.example",
                   "Title": "Engineer", "Phone": f"+1 555 {i % 10000:04d}", "CreatedDate": stamp,
                   "SystemModstamp": stamp}

    org.bulk_load("Contact", rows())


def admin_client(base_url: str, ca_path: Path) -> Salesforce:
    session = requests.Session()
    session.trust_env = False
    session.verify = str(ca_path)
    answer = session.post(f"{base_url}/services/oauth2/token", data={
        "grant_type": "password", "client_id": CONNECTED_APP.client_id, "client_secret": CONNECTED_APP.client_secret,
        "username": ADMIN.username, "password": ADMIN.password,
    })
    answer.raise_for_status()
    return Salesforce(instance_url=base_url, session_id=answer.json()["access_token"], session=session)


def step_calls(report: CycleReport, operation: StepOperation) -> int:
    return sum(s.api_calls for s in report.steps if s.operation is operation)


def step_counts(report: CycleReport, operation: StepOperation) -> dict[str, int]:
    steps = [s.counts for s in report.steps if s.operation is operation]
    return {"updated": sum(c.updated for c in steps), "new": sum(c.new for c in steps),
            "failed": sum(c.failed for c in steps), "skipped": sum(c.skipped for c in steps)}


def timed_cycle(engine: SyncEngine) -> tuple[CycleReport, float]:
    started = time.perf_counter()
    report = engine.run_cycle()
    return report, time.perf_counter() - started


def run(records: int, database_url: str | None, changes: int, workdir: Path) -> dict[str, Any]:
    result: dict[str, Any] = {"records": records, "changes_each_side": changes}
    with embedded_emulator(workdir / "emulator", persist=False) as server:
        started = time.perf_counter()
        load_contacts(server.org, records)
        result["bulk_load_seconds"] = round(time.perf_counter() - started, 2)
        store = PersonStore(database_url or f"sqlite:///{workdir / 'tandem.db'}")
        store.migrate()
        engine = SyncEngine(emulator_client(server.base_url, server.ca_path), store)
        engine.refresh_catalog()  # the schema step, kept out of the pull's timing

        rss_before = rss_mb()
        cpu_before = time.thread_time()
        with RssSampler() as sampler:
            report, seconds = timed_cycle(engine)
        cpu = time.thread_time() - cpu_before
        assert report.succeeded, report.steps
        pulled = step_counts(report, StepOperation.PULL_UPDATES)["new"]
        result["initial_pull"] = {
            "persons": pulled,
            "seconds": round(seconds, 2),
            "records_per_s": round(pulled / seconds, 1),
            "engine_thread_cpu_us_per_record": round(cpu / max(pulled, 1) * 1e6, 1),
            "api_calls": report.api_calls,
            "rss_before_mb": round(rss_before, 1),
            "rss_during": sampler.summary(),
            "peak_rss_mb": round(peak_rss_mb(), 1),
        }

        sf = admin_client(server.base_url, server.ca_path)
        contact_ids = sorted(r["Id"] for r in sf.query_all("SELECT Id FROM Contact")["records"])
        random.seed(7)
        chosen_ids = random.sample(contact_ids, 2 * changes)
        persons = store.persons.by_sfdc_ids(chosen_ids)
        chosen = [persons[sfdc_id] for sfdc_id in chosen_ids]
        on_salesforce, in_tandem = chosen[:changes], chosen[changes:]
        for start in range(0, changes, BATCH):
            body = [{"attributes": {"type": "Contact"}, "Id": p.link.sfdc_id, "Title": f"Changed in Salesforce {n}"}
                    for n, p in enumerate(on_salesforce[start:start + BATCH], start)]
            answer = sf.restful("composite/sobjects", method="PATCH", json={"allOrNone": True, "records": body})
            assert all(r["success"] for r in answer), answer
        store.persons.update_many([(p.id, {"title": f"Changed in Tandem {p.id}"}) for p in in_tandem], origin=ChangeOrigin.MARKETING)

        report, seconds = timed_cycle(engine)
        assert report.succeeded, report.steps
        pushed = step_counts(report, StepOperation.PUSH_UPDATES)["updated"]
        push_calls = step_calls(report, StepOperation.PUSH_UPDATES)
        result["incremental_cycle"] = {
            "seconds": round(seconds, 2),
            "api_calls": report.api_calls,
            "pull": {**step_counts(report, StepOperation.PULL_UPDATES),
                     "api_calls": step_calls(report, StepOperation.PULL_UPDATES)},
            "push": {"updated": pushed, "api_calls": push_calls,
                     "api_calls_per_1000": round(push_calls * 1000 / max(pushed, 1), 2)},
        }

        report, seconds = timed_cycle(engine)
        result["read_back_cycle"] = {"seconds": round(seconds, 2), "api_calls": report.api_calls,
                                     "pull": step_counts(report, StepOperation.PULL_UPDATES)}
        report, seconds = timed_cycle(engine)
        result["idle_cycle"] = {
            "seconds": round(seconds, 3), "api_calls": report.api_calls,
            "pull": step_counts(report, StepOperation.PULL_UPDATES),
            "calls_by_step": {f"{s.object} {s.operation.value}": s.api_calls for s in report.steps if s.api_calls},
            "note": "right after the burst: a window already read is not read again, so the pulls read nothing",
        }
        # A one-shot `tandem sync`: a new engine and client, the field catalog from the store.
        report, seconds = timed_cycle(SyncEngine(emulator_client(server.base_url, server.ca_path), store))
        result["idle_cycle_one_shot"] = {
            "seconds": round(seconds, 3), "api_calls": report.api_calls,
            "calls_by_step": {f"{s.object} {s.operation.value}": s.api_calls for s in report.steps if s.api_calls},
            "note": "api_calls counts the new client's login, which Salesforce does not count as an API call",
        }
        result["peak_rss_mb"] = round(peak_rss_mb(), 1)
        store.close()

    during = result["initial_pull"]["rss_during"]
    result["targets"] = {
        "initial_pull_records_per_s>=2000": result["initial_pull"]["records_per_s"] >= 2000,
        "push_api_calls_per_1000<=5.1": result["incremental_cycle"]["push"]["api_calls_per_1000"] <= 5.1,
        "idle_cycle_api_calls==1": result["idle_cycle"]["api_calls"] == 1,
        "rss_flat_during_pull(last quarter within 10% of first)":
            during["last_quarter_mean_mb"] <= 1.10 * during["first_quarter_mean_mb"],
    }
    return result


# -- initial pulls, each in a process of its own ----------------------------------------------------


def pull_once(base_url: str, ca_path: Path, database_url: str) -> dict[str, Any]:
    """One initial pull into an empty store, in this process: what a `--pull-once` child prints."""
    store = PersonStore(database_url)
    store.migrate()
    engine = SyncEngine(emulator_client(base_url, ca_path), store)
    engine.refresh_catalog()
    rss_before = rss_mb()
    cpu_before, started = time.process_time(), time.perf_counter()
    with RssSampler() as sampler:
        report = engine.run_cycle()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_before
    assert report.succeeded, report.steps
    pulled = step_counts(report, StepOperation.PULL_UPDATES)["new"]
    assert store.persons.count() == pulled
    store.close()
    return {"persons": pulled, "seconds": round(seconds, 2), "records_per_s": round(pulled / seconds, 1),
            "cpu_s": round(cpu, 2), "cpu_us_per_record": round(cpu / max(pulled, 1) * 1e6, 1),
            "rss_before_mb": round(rss_before, 1), "peak_rss_mb": round(peak_rss_mb(), 1),
            "rss_during": sampler.summary()}


def _fresh_database(server_url: str | None, workdir: Path) -> tuple[str, Any]:
    """An empty database for one pull, and how to drop it afterwards."""
    if server_url is None:
        path = workdir / f"pull-{uuid.uuid4().hex[:8]}.db"
        return f"sqlite:///{path}", lambda: [shutil.rmtree(p) if p.is_dir() else p.unlink(missing_ok=True)
                                             for p in workdir.glob(f"{path.name}*")]  # the claims' folder too
    admin_url = sa.make_url(server_url.replace("postgresql://", "postgresql+psycopg://", 1))
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"tandem_bench_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
    return admin_url.set(database=name).render_as_string(hide_password=False), drop


def compare_pulls(records: int, rounds: int, trees: dict[str, Path], server_url: str | None,
                  workdir: Path) -> dict[str, Any]:
    """`rounds` initial pulls of `records` contacts per code tree, alternating, against one emulator."""
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in trees}
    with embedded_emulator(workdir / "emulator", persist=False) as server:
        load_contacts(server.org, records)
        for _ in range(rounds):
            for name, tree in trees.items():
                database_url, drop = _fresh_database(server_url, workdir)
                try:
                    child = subprocess.run(
                        [sys.executable, __file__, "--pull-once", server.base_url, str(server.ca_path), database_url],
                        env={**os.environ, "PYTHONPATH": str(tree)}, cwd=tree, capture_output=True, text=True,
                        check=False)
                finally:
                    drop()
                if child.returncode != 0:
                    raise RuntimeError(f"the pull with {name}'s code failed:\n{child.stderr[-3000:]}")
                runs[name].append(json.loads(child.stdout))
    result: dict[str, Any] = {"records": records, "rounds": rounds,
                              "database": "postgresql" if server_url else "sqlite", "runs": runs}
    medians = {name: {key: statistics.median(r[key] for r in found)
                      for key in ("cpu_us_per_record", "records_per_s", "seconds", "peak_rss_mb")}
               for name, found in runs.items()}
    result["medians"] = medians
    if len(trees) == 2:
        this, other = list(trees)
        result["ratios_other_over_this"] = {
            "cpu_per_record": round(medians[other]["cpu_us_per_record"] / medians[this]["cpu_us_per_record"], 2),
            "records_per_s": round(medians[this]["records_per_s"] / medians[other]["records_per_s"], 2),
        }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--changes", type=int, default=1000, help="changes on each side in the incremental cycle")
    parser.add_argument("--database-url", default=None, help="default: SQLite in a temporary directory "
                        "(with --pulls: a PostgreSQL server URL, a database is made for each pull)")
    parser.add_argument("--pulls", type=int, default=0, metavar="ROUNDS",
                        help="only initial pulls, each in a process of its own, ROUNDS times; medians")
    parser.add_argument("--compare-with", type=Path, default=None, metavar="CHECKOUT",
                        help="with --pulls: alternate with the code of another checkout, same org")
    parser.add_argument("--pull-once", nargs=3, metavar=("BASE_URL", "CA_PATH", "DATABASE_URL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.pull_once:
        base_url, ca_path, database_url = args.pull_once
        result = pull_once(base_url, Path(ca_path), database_url)
    elif args.pulls:
        trees = {"this": Path(__file__).resolve().parent.parent}
        if args.compare_with:
            trees["other"] = args.compare_with.resolve()
        with tempfile.TemporaryDirectory(prefix="tandem-bench-") as workdir:
            result = compare_pulls(args.records, args.pulls, trees, args.database_url, Path(workdir))
    else:
        if args.records < 2 * args.changes:
            parser.error("--records must be at least twice --changes")
        with tempfile.TemporaryDirectory(prefix="tandem-bench-") as workdir:
            result = run(args.records, args.database_url, args.changes, Path(workdir))
    json.dump(result, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
