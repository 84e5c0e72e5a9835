"""Tandem beside its peers: one emulator, one org, every tool a whole process, with and without latency.

One `tandem emulator serve` process holds the sample org with N contacts (100,000; 1,000,000 with
`--large`). Each tool runs as its own process, once with no added latency and once with 0.5 s per
call (the emulator's `slow` fault at rate 1):

- pull of every Contact: Tandem's initial pull (`tandem sync` into a fresh SQLite and a fresh
  PostgreSQL database), airbyte-source-salesforce `read` (Bulk 2.0), tap-salesforce in REST mode,
  simple-salesforce `query_all` and `bulk2` download (`wait=0.5`) of every non-compound field;
- push of 10,000 changed contacts: the `tandem sync` cycle after 10,000 persons changed in Tandem,
  against a simple-salesforce `bulk2` upsert (`wait=0.5`) of the same records.

Measured per run: wall time, records/s, client CPU (the process's rusage, its children included),
peak RSS, API calls (the emulator's own count); the table adds each run's wall time over Tandem's
SQLite run of the same kind. Peers are installed by `peers.py` into their own virtualenvs and run
unchanged. Prints one JSON object, then a Markdown table on stderr (or `--markdown FILE`).

    python benchmarks/compare.py                                   # 100,000 contacts, everything
    python benchmarks/compare.py --records 20000 --only tandem,airbyte --latency 0
    python benchmarks/compare.py --large                           # 1,000,000 contacts
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import random
import signal
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from peers import (AIRBYTE, TAP, ApiCallMeter, ProcessRun, airbyte_config, airbyte_discover, airbyte_read,
                   http_session, install, load_contacts, password_login, run_process, serving, singer_records,
                   tap_config, tap_discover, tap_read)
from tandem.emulator.instance import RunningEmulator
from tandem.emulator.sample_org import ADMIN, CONNECTED_APP, SYNC_USER

POSTGRES_ADMIN_URL = os.environ.get("TANDEM_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SLOW_SECONDS = 0.5
BULK2_WAIT = 0.5
HERE = Path(__file__).resolve()

PULLS = ("tandem-sqlite", "tandem-postgresql", "airbyte", "tap-rest", "sf-query-all", "sf-bulk2")
PUSHES = ("tandem-push", "sf-bulk2-upsert")
GROUPS = {
    "tandem": ("tandem-sqlite", "tandem-postgresql", "tandem-push"),
    "airbyte": ("airbyte",),
    "tap": ("tap-rest",),
    "simple": ("sf-query-all", "sf-bulk2", "sf-bulk2-upsert"),
    "pull": PULLS,
    "push": PUSHES,
}
LABELS = {
    "tandem-sqlite": "Tandem initial pull, SQLite",
    "tandem-postgresql": "Tandem initial pull, PostgreSQL",
    "airbyte": f"airbyte-source-salesforce {AIRBYTE.version} `read` (Bulk 2.0)",
    "tap-rest": f"tap-salesforce {TAP.version} (REST)",
    "sf-query-all": "simple-salesforce `query_all`",
    "sf-bulk2": "simple-salesforce `bulk2` download",
    "tandem-push": "Tandem push cycle, SQLite",
    "sf-bulk2-upsert": "simple-salesforce `bulk2` upsert",
}


@dataclass
class Bench:
    """What every measurement shares: the emulator, its API meter, a folder, the run's settings."""

    server: RunningEmulator
    meter: ApiCallMeter
    workdir: Path
    contacts: int
    changes: int

    def folder(self, name: str) -> Path:
        path = self.workdir / name
        path.mkdir(parents=True, exist_ok=True)
        return path


@dataclass
class Outcome:
    process: ProcessRun
    records: int
    api_calls: int


def metered(bench: Bench, run: Callable[[], ProcessRun]) -> tuple[ProcessRun, int]:
    """Run the timed process; with the API calls made while it ran."""
    before = bench.meter.used()
    process = run()
    return process, bench.meter.since(before)


def measured(bench: Bench, plan: Callable[[], Outcome]) -> dict[str, Any]:
    """Run one measurement; its figures, or why it failed."""
    outcome = plan()
    process, records, calls = outcome.process, outcome.records, outcome.api_calls
    result: dict[str, Any] = {
        "ok": process.returncode == 0, "records": records, "wall_s": round(process.wall_s, 2),
        "records_per_s": round(records / process.wall_s, 1) if process.wall_s else None,
        "cpu_s": round(process.cpu_s, 2),
        "cpu_us_per_record": round(process.cpu_s / records * 1e6, 1) if records else None,
        "peak_rss_mb": round(process.peak_rss_mb, 1), "api_calls": calls,
    }
    if process.returncode != 0:
        result.update(exit_code=process.returncode, stderr_tail=process.tail())
    return result


# -- Tandem ------------------------------------------------------------------------------------------


def tandem_env(bench: Bench, database_url: str) -> dict[str, str]:
    # PYTHONDONTWRITEBYTECODE left out: an installed Tandem has its modules compiled (pip compiles them,
    # as it did the peers'), so `tandem init` compiles them here and the measured `tandem sync` finds them
    env = {k: v for k, v in os.environ.items() if not k.startswith("TANDEM_") and k != "PYTHONDONTWRITEBYTECODE"}
    env.update({
        "TANDEM_DATABASE_URL": database_url, "TANDEM_SF_LOGIN_URL": bench.server.base_url,
        "TANDEM_SF_CA_BUNDLE": str(bench.server.ca_path), "TANDEM_SF_CLIENT_ID": CONNECTED_APP.client_id,
        "TANDEM_SF_CLIENT_SECRET": CONNECTED_APP.client_secret, "TANDEM_SF_USERNAME": SYNC_USER.username,
        "TANDEM_SF_PASSWORD": SYNC_USER.password,
        # the emulator commits its writes in stamp order (no lateCommit fault here): no commit lag, so
        # Tandem reads every record at once, as the other tools do
        "TANDEM_SYNC_COMMIT_LAG_SECONDS": "0",
    })
    return env


def tandem_counts(run: ProcessRun, operation: str, count: str) -> int:
    """A count of the Contact step `operation` in `tandem sync --json`'s report (0 when it failed)."""
    if run.returncode != 0:
        return 0
    report = json.loads(run.stdout.read_text())
    return sum(step.get(count, 0) for step in report["steps"]
               if step["object"] == "Contact" and step["operation"] == operation)


def tandem_pull(bench: Bench, label: str, database_url: str) -> Outcome:
    folder = bench.folder(label)
    env = tandem_env(bench, database_url)
    init = run_process([sys.executable, "-m", "tandem", "init"], env, folder, "init")
    if init.returncode != 0:
        return Outcome(init, 0, 0)
    run, calls = metered(bench, lambda: run_process([sys.executable, "-m", "tandem", "sync", "--json"], env, folder,
                                                    "sync"))
    return Outcome(run, tandem_counts(run, "pull updates", "new"), calls)


@contextmanager
def postgres_database() -> Iterator[str]:
    """A new PostgreSQL database for one run, dropped afterwards."""
    import sqlalchemy as sa

    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"tandem_compare_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield admin.url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def chosen_contacts(bench: Bench) -> list[str]:
    """The Ids of the contacts both pushes change: `changes` of them, drawn with a fixed seed."""
    ids: list[str] = []
    url = f"{bench.server.base_url}/services/data/v62.0/query"
    params: dict[str, str] | None = {"q": "SELECT Id FROM Contact"}
    headers = {"Authorization": f"Bearer {bench.meter.token}"}
    while url:
        page = bench.meter.http.get(url, params=params, headers=headers)
        page.raise_for_status()
        body = page.json()
        ids += [row["Id"] for row in body["records"]]
        url = f"{bench.server.base_url}{body['nextRecordsUrl']}" if body.get("nextRecordsUrl") else ""
        params = None
    return random.Random(7).sample(sorted(ids), min(bench.changes, len(ids)))


def tandem_push(bench: Bench, label: str, contact_ids: list[str], latency: float) -> Outcome:
    """Pull into a fresh SQLite store, change `contact_ids`' persons in Tandem, time the cycle that pushes them."""
    from tandem.people.origin import ChangeOrigin
    from tandem.people.store import PersonStore

    folder = bench.folder(label)
    database_url = f"sqlite:///{folder / 'tandem.db'}"
    set_latency(bench, 0)  # the pull that prepares the store is not measured
    try:
        prepared = tandem_pull(bench, f"{label}-prepare", database_url)
    finally:
        set_latency(bench, latency)
    if prepared.process.returncode != 0:
        return prepared
    store = PersonStore(database_url)
    try:
        persons = store.persons.by_sfdc_ids(contact_ids)
        # a title no earlier run left on the record, or the change would be no change
        store.persons.update_many([(persons[sfdc_id].id, {"title": f"Changed in Tandem {n} ({label})"})
                                   for n, sfdc_id in enumerate(contact_ids) if sfdc_id in persons],
                                  origin=ChangeOrigin.MARKETING)
    finally:
        store.close()
    env = tandem_env(bench, database_url)
    run, calls = metered(bench, lambda: run_process([sys.executable, "-m", "tandem", "sync", "--json"], env, folder,
                                                    "push"))
    return Outcome(run, tandem_counts(run, "push updates", "updated"), calls)


# -- peers ----------------------------------------------------------------------------------------------


def airbyte_pull(bench: Bench, label: str) -> Outcome:
    """Discover (not measured: its catalog is an input), then the measured `read` of Contact."""
    venv, folder = install(AIRBYTE), bench.folder(label)
    config = airbyte_config(folder, password_login(bench.server)["refresh_token"], only="Contact")
    discovered, catalog = airbyte_discover(venv, bench.server, folder, config, "discover")
    if catalog is None:
        return Outcome(discovered, 0, 0)
    run, calls = metered(bench, lambda: airbyte_read(venv, bench.server, folder, config, catalog, "read"))
    return Outcome(run, singer_records(run.stdout, "Contact"), calls)


def tap_pull(bench: Bench, label: str) -> Outcome:
    """Discover (not measured), then the measured sync of Contact in REST mode."""
    venv, folder = install(TAP), bench.folder(label)
    config = tap_config(folder, password_login(bench.server)["refresh_token"], "REST")
    discovered, catalog = tap_discover(venv, bench.server, folder, config, "discover")
    if catalog is None:
        return Outcome(discovered, 0, 0)
    run, calls = metered(bench, lambda: tap_read(venv, bench.server, folder, config, catalog, "read"))
    return Outcome(run, singer_records(run.stdout, "Contact"), calls)


def simple_client(bench: Bench, label: str, kind: str, *extra: str) -> Outcome:
    """This script as a child process running one simple-salesforce client (`--client KIND`)."""
    folder = bench.folder(label)
    argv = [sys.executable, str(HERE), "--client", kind, "--base-url", bench.server.base_url,
            "--ca", str(bench.server.ca_path), "--folder", str(folder), *extra]
    run, calls = metered(bench, lambda: run_process(argv, dict(os.environ), folder, "client"))
    records = json.loads(run.stdout.read_text())["records"] if run.returncode == 0 else 0
    return Outcome(run, records, calls)


def upsert_file(bench: Bench, contact_ids: list[str]) -> Path:
    path = bench.workdir / "upsert.csv"
    with open(path, "w", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["Id", "Title"])
        writer.writerows([sfdc_id, f"Changed by bulk2 {n}"] for n, sfdc_id in enumerate(contact_ids))
    return path


# -- the simple-salesforce clients (run in a child process) ------------------------------------------------


def client_main(kind: str, base_url: str, ca: str, folder: Path, upsert_csv: str | None) -> None:
    from simple_salesforce import Salesforce

    http = requests.Session()
    http.trust_env = False
    http.verify = ca
    token = http.post(f"{base_url}/services/oauth2/token", data={
        "grant_type": "password", "client_id": CONNECTED_APP.client_id, "client_secret": CONNECTED_APP.client_secret,
        "username": ADMIN.username, "password": ADMIN.password}).json()
    sf = Salesforce(instance_url=token["instance_url"], session_id=token["access_token"], session=http)
    if kind == "sf-bulk2-upsert":
        results = sf.bulk2.Contact.upsert(csv_file=upsert_csv, external_id_field="Id", wait=BULK2_WAIT)
        records = sum(int(r["numberRecordsProcessed"]) - int(r["numberRecordsFailed"]) for r in results)
    else:
        fields = [f["name"] for f in sf.Contact.describe()["fields"] if f["type"] not in ("address", "location")]
        soql = f"SELECT {', '.join(fields)} FROM Contact"
        if kind == "sf-query-all":
            records = len(sf.query_all(soql)["records"])
        else:
            results = sf.bulk2.Contact.download(soql, path=str(folder), wait=BULK2_WAIT)
            records = sum(int(r["number_of_records"]) for r in results)
    print(json.dumps({"records": records}))


# -- the run --------------------------------------------------------------------------------------------


def set_latency(bench: Bench, seconds: float) -> None:
    settings = {"slow": 1.0, "slowSeconds": seconds} if seconds else {}
    with http_session(bench.server) as http:
        http.put(f"{bench.server.base_url}/_emulator/faults", json=settings).raise_for_status()


def run_round(bench: Bench, chosen: list[str], latency: float, contact_ids: list[str],
              upsert_csv: Path) -> dict[str, Any]:
    tag = f"{latency:g}s"
    plans: dict[str, Callable[[], Outcome]] = {
        "tandem-sqlite": lambda: tandem_pull(bench, f"tandem-sqlite-{tag}",
                                             f"sqlite:///{bench.folder(f'tandem-sqlite-{tag}') / 'tandem.db'}"),
        "airbyte": lambda: airbyte_pull(bench, f"airbyte-{tag}"),
        "tap-rest": lambda: tap_pull(bench, f"tap-rest-{tag}"),
        "sf-query-all": lambda: simple_client(bench, f"sf-query-all-{tag}", "sf-query-all"),
        "sf-bulk2": lambda: simple_client(bench, f"sf-bulk2-{tag}", "sf-bulk2"),
        "tandem-push": lambda: tandem_push(bench, f"tandem-push-{tag}", contact_ids, latency),
        "sf-bulk2-upsert": lambda: simple_client(bench, f"sf-bulk2-upsert-{tag}", "sf-bulk2-upsert",
                                                 "--upsert-csv", str(upsert_csv)),
    }
    results: dict[str, Any] = {}
    set_latency(bench, latency)
    try:
        for name in (n for n in PULLS + PUSHES if n in chosen):
            if name == "tandem-postgresql":
                with postgres_database() as url:
                    results[name] = measured(bench, lambda: tandem_pull(bench, f"tandem-postgresql-{tag}", url))
            else:
                results[name] = measured(bench, plans[name])
            print(f"[{tag}] {name}: {json.dumps(results[name])}", file=sys.stderr, flush=True)
    finally:
        set_latency(bench, 0)
    return results


def ratios(results: dict[str, Any]) -> dict[str, float]:
    """Wall-time ratios the targets speak of (peer over Tandem: above 1 means Tandem is faster)."""
    out: dict[str, float] = {}

    def wall(name: str) -> float | None:
        found = results.get(name)
        return found["wall_s"] if found and found["ok"] and found["wall_s"] else None

    pairs = {"airbyte_over_tandem_sqlite": ("airbyte", "tandem-sqlite"),
             "tap_rest_over_tandem_sqlite": ("tap-rest", "tandem-sqlite"),
             "sf_bulk2_over_tandem_sqlite": ("sf-bulk2", "tandem-sqlite"),
             "sf_query_all_over_tandem_sqlite": ("sf-query-all", "tandem-sqlite"),
             "tandem_postgresql_over_tandem_sqlite": ("tandem-postgresql", "tandem-sqlite"),
             "tandem_push_over_sf_bulk2_upsert": ("tandem-push", "sf-bulk2-upsert")}
    for key, (top, bottom) in pairs.items():
        if wall(top) and wall(bottom):
            out[key] = round(wall(top) / wall(bottom), 2)
    return out


def markdown(report: dict[str, Any]) -> str:
    lines = ["| tool | added latency | wall s | records | records/s | client CPU s | API calls | peak RSS MB "
             "| wall ÷ Tandem (same work and latency) |", "|---|---|---|---|---|---|---|---|---|"]
    for tag, results in report["rounds"].items():
        for name, figures in results.items():
            base = results.get("tandem-push" if name in PUSHES else "tandem-sqlite")
            relative = (f"{figures['wall_s'] / base['wall_s']:.2f}" if base and base["ok"] and figures["ok"]
                        and base["wall_s"] else "")
            if not figures["ok"]:
                lines.append(f"| {LABELS[name]} | {tag} | failed (exit {figures.get('exit_code')}) | | | | | | |")
                continue
            lines.append(f"| {LABELS[name]} | {tag} | {figures['wall_s']:.1f} | {figures['records']:,} | "
                         f"{figures['records_per_s']:,.0f} | {figures['cpu_s']:.1f} | {figures['api_calls']:,} | "
                         f"{figures['peak_rss_mb']:.0f} | {relative} |")
    return "\n".join(lines)


def expand(only: str) -> list[str]:
    chosen: list[str] = []
    for word in (w.strip() for w in only.split(",") if w.strip()):
        names = GROUPS.get(word, (word,) if word in PULLS + PUSHES else None)
        if names is None:
            raise ValueError(f"--only: unknown tool {word!r} (tools: {', '.join(PULLS + PUSHES)}; "
                             f"groups: {', '.join(GROUPS)})")
        chosen += [n for n in names if n not in chosen]
    return chosen


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or "unknown CPU")
    memory_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                     if line.startswith("MemTotal"))
    return f"{os.cpu_count()} × {cpu}, {memory_kb / 1024 / 1024:.0f} GiB RAM, Python {platform.python_version()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000, help="contacts to load (default 100,000)")
    parser.add_argument("--large", action="store_true", help="1,000,000 contacts")
    parser.add_argument("--changes", type=int, default=10_000, help="contacts changed for the push (default 10,000)")
    parser.add_argument("--only", default="pull,push", help="tools or groups, comma-separated "
                        f"(tools: {', '.join(PULLS + PUSHES)}; groups: {', '.join(GROUPS)})")
    parser.add_argument("--latency", default=f"0,{SLOW_SECONDS:g}", help="seconds added per call, comma-separated")
    parser.add_argument("--markdown", type=Path, default=None, help="also write the table to this file")
    parser.add_argument("--client", help=argparse.SUPPRESS)
    parser.add_argument("--base-url", help=argparse.SUPPRESS)
    parser.add_argument("--ca", help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--upsert-csv", help=argparse.SUPPRESS)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwind: stop the tool and the emulator
    if args.client:
        client_main(args.client, args.base_url, args.ca, args.folder, args.upsert_csv)
        return
    try:
        chosen = expand(args.only)
        latencies = [float(x) for x in args.latency.split(",") if x.strip()]
    except ValueError as exc:
        parser.error(str(exc))
    records = 1_000_000 if args.large else args.records
    if "airbyte" in chosen:
        install(AIRBYTE)
    if "tap-rest" in chosen:
        install(TAP)
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    with tempfile.TemporaryDirectory(prefix="tandem-compare-") as temporary:
        workdir = Path(temporary)
        with serving(workdir) as server:
            load_contacts(server, records)
            meter = ApiCallMeter(server)
            bench = Bench(server, meter, workdir, meter.count("Contact"), args.changes)
            contact_ids = chosen_contacts(bench) if set(chosen) & set(PUSHES) else []
            upsert_csv = upsert_file(bench, contact_ids)
            rounds = {f"{latency:g} s": run_round(bench, chosen, latency, contact_ids, upsert_csv)
                      for latency in latencies}
    report = {"benchmark": "Tandem beside its peers", "date": started, "machine": machine(),
              "contacts": bench.contacts, "changes": len(contact_ids), "rounds": rounds,
              "ratios": {tag: ratios(results) for tag, results in rounds.items()}}
    table = markdown(report)
    if args.markdown:
        args.markdown.write_text(table + "\n")
    print(json.dumps(report, indent=2))
    print(table, file=sys.stderr)


if __name__ == "__main__":
    main()
