"""Network economy with Salesforce's latency: every API call answered after 0.5 s (the emulator's
`slow` fault), `tandem sync` run as a whole process of its own against the emulator as an org.

1. Initial pull of N contacts (default 100,000) into a fresh SQLite store.
2. The cycle right after it (nothing changed), and an idle one-shot `tandem sync`: API calls each.
3. 10,000 persons changed in Tandem, pushed by one `tandem sync`; beside it a simple-salesforce
   `bulk2` update of the same records with `wait=0.5`, as a process of its own too.
4. Steady state: the peer's 10,000 changes are read by the cycles after them, each once (the
   pull's counts add up to the changes), and the cycle after that reads nothing.

API calls are the emulator's own count (Salesforce's: logins are not API calls). Prints one JSON
object. Targets: initial pull ≤ 12 s; push within 1.5× of the bulk2 update; idle cycle 1 call;
the cycle after the load ≤ 2 calls.

    python benchmarks/network.py                    # 100,000 contacts, 10,000 changes
    python benchmarks/network.py --records 20000 --changes 5000 --latency 0
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests

from tandem.emulator.instance import RunningEmulator, serve_in_background, stop_running
from tandem.emulator.sample_org import ADMIN, CONNECTED_APP, SYNC_USER
from tandem.people.origin import ChangeOrigin
from tandem.people.store import PersonStore

LOAD_CHUNK = 20_000
COMMIT_LAG = 2.0
"""The emulator commits in stamp order (no lateCommit fault here): a short lag keeps the run short."""


def control(server: RunningEmulator) -> requests.Session:
    http = requests.Session()
    http.trust_env = False
    http.verify = str(server.ca_path)
    return http


class ApiCalls:
    """The org's API calls so far, less the `/limits` calls that asked."""

    def __init__(self, server: RunningEmulator, http: requests.Session) -> None:
        self.server, self.http, self.asked = server, http, 0

    def __call__(self) -> int:
        token = admin_token(self.server, self.http)
        answer = self.http.get(f"{self.server.base_url}/services/data/v62.0/limits",
                               headers={"Authorization": f"Bearer {token}"})
        answer.raise_for_status()
        self.asked += 1
        limit = answer.json()["DailyApiRequests"]
        return limit["Max"] - limit["Remaining"] - self.asked


def admin_token(server: RunningEmulator, http: requests.Session) -> str:
    answer = http.post(f"{server.base_url}/services/oauth2/token", data={
        "grant_type": "password", "client_id": CONNECTED_APP.client_id, "client_secret": CONNECTED_APP.client_secret,
        "username": ADMIN[0], "password": ADMIN[1]})
    answer.raise_for_status()
    return answer.json()["access_token"]


def load_contacts(server: RunningEmulator, http: requests.Session, count: int) -> None:
    """Contacts last modified over the past year, oldest first."""
    start = datetime.now(UTC) - timedelta(days=365)
    step = timedelta(days=364) / max(count, 1)
    for first in range(0, count, LOAD_CHUNK):
        rows = []
        for i in range(first, min(first + LOAD_CHUNK, count)):
            stamp = (start + step * i).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
            rows.append({"FirstName": f"First{i}", "LastName": f"Last{i}", "Email": f"contact{i}@load.example",
                         "Title": "Engineer", "CreatedDate": stamp, "SystemModstamp": stamp})
        http.post(f"{server.base_url}/_emulator/bulk-load", json={"Contact": rows}).raise_for_status()


def set_latency(server: RunningEmulator, http: requests.Session, seconds: float) -> None:
    faults = {"slow": 1.0, "slowSeconds": seconds} if seconds else {}
    http.put(f"{server.base_url}/_emulator/faults", json=faults).raise_for_status()


def tandem_sync(server: RunningEmulator, database_url: str, workdir: str) -> tuple[float, dict[str, Any]]:
    """One `tandem sync --json` as a process of its own; (wall seconds, its report)."""
    env = {**os.environ, "TANDEM_DATABASE_URL": database_url, "TANDEM_SF_LOGIN_URL": server.base_url,
           "TANDEM_SF_CA_BUNDLE": str(server.ca_path), "TANDEM_SF_CLIENT_ID": CONNECTED_APP.client_id,
           "TANDEM_SF_CLIENT_SECRET": CONNECTED_APP.client_secret, "TANDEM_SF_USERNAME": SYNC_USER.username,
           "TANDEM_SF_PASSWORD": SYNC_USER.password, "TANDEM_SYNC_COMMIT_LAG_SECONDS": str(COMMIT_LAG)}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "tandem", "sync", "--json"], cwd=workdir, env=env,
                          capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"tandem sync failed ({done.returncode}): {done.stderr[-2000:]}")
    return seconds, json.loads(done.stdout)


BULK2_PEER = textwrap.dedent("""
    import sys, requests
    from simple_salesforce import Salesforce
    base_url, ca_path, client_id, secret, user, password, csv_path = sys.argv[1:]
    http = requests.Session(); http.trust_env = False; http.verify = ca_path
    token = http.post(base_url + "/services/oauth2/token", data={"grant_type": "password", "client_id": client_id,
                      "client_secret": secret, "username": user, "password": password}).json()["access_token"]
    sf = Salesforce(instance_url=base_url, session_id=token, session=http)
    print(sf.bulk2.Contact.update(csv_file=csv_path, wait=0.5))
""")


def bulk2_update(server: RunningEmulator, csv_path: Path) -> float:
    """simple-salesforce's `bulk2` update of the records in `csv_path`, as a process of its own."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", BULK2_PEER, server.base_url, str(server.ca_path), CONNECTED_APP.client_id,
                    CONNECTED_APP.client_secret, SYNC_USER.username, SYNC_USER.password, str(csv_path)],
                   check=True, capture_output=True, text=True)
    return time.perf_counter() - started


def steps(report: dict[str, Any]) -> dict[str, Any]:
    """The steps that did something: their status, records and client-side calls (with its login)."""
    keys = ("status", "new", "updated", "deleted", "failed", "skipped", "apiCalls")
    return {f"{s['object']} {s['operation']}": {k: s[k] for k in keys if s.get(k)}
            for s in report.get("steps", []) if s.get("apiCalls") or any(s.get(k) for k in keys[1:6])}


def run(records: int, changes: int, latency: float, workdir: str) -> dict[str, Any]:
    state_dir = Path(workdir) / "emulator"
    server = serve_in_background(state_dir)
    result: dict[str, Any] = {"records": records, "changes": changes, "latency_s": latency}
    try:
        http = control(server)
        api_used = ApiCalls(server, http)
        load_contacts(server, http, records)
        database_url = f"sqlite:///{workdir}/tandem.db"
        PersonStore(database_url).migrate()
        set_latency(server, http, latency)

        before = api_used()
        seconds, report = tandem_sync(server, database_url, workdir)
        result["initial_pull"] = {"seconds": round(seconds, 2), "records_per_s": round(records / seconds),
                                  "api_calls": api_used() - before}
        before = api_used()
        seconds, report = tandem_sync(server, database_url, workdir)
        result["cycle_after_load"] = {"seconds": round(seconds, 2), "api_calls": api_used() - before}
        before = api_used()
        seconds, report = tandem_sync(server, database_url, workdir)
        result["idle_one_shot"] = {"seconds": round(seconds, 2), "api_calls": api_used() - before}

        store = PersonStore(database_url)
        changed = store.persons.get_many(list(range(1, changes + 1)))
        store.persons.update_many([(p.id, {"title": f"Pushed {p.id}"}) for p in changed], origin=ChangeOrigin.API)
        store.close()
        before = api_used()
        seconds, report = tandem_sync(server, database_url, workdir)
        result["push"] = {"seconds": round(seconds, 2), "api_calls": api_used() - before,
                          "steps": steps(report)}
        csv_path = Path(workdir) / "update.csv"
        lines = ["Id,Title"] + [f"{p.link.sfdc_id},Peer {p.id}" for p in changed]
        csv_path.write_text("\n".join(lines) + "\n")
        before = api_used()
        peer = bulk2_update(server, csv_path)
        result["simple_salesforce_bulk2_update"] = {"seconds": round(peer, 2), "api_calls": api_used() - before}
        result["push_ratio_to_bulk2"] = round(result["push"]["seconds"] / peer, 2)

        # Steady state: the peer's changes are read once, by the cycles that come after them (the
        # emulator stamps a burst of writes ahead of its clock: a window is read once it is older
        # than the commit lag), and not again by the cycle after that.
        read, cycles, calls, seconds_total = 0, 0, 0, 0.0
        while read < changes and cycles < 20:
            time.sleep(COMMIT_LAG)
            before = api_used()
            seconds, report = tandem_sync(server, database_url, workdir)
            calls += api_used() - before
            seconds_total += seconds
            cycles += 1
            read += sum(s.get("updated", 0) + s.get("new", 0) for s in report.get("steps", [])
                        if s["object"] == "Contact" and s["operation"] == "pull updates")
        result["steady_state"] = {"changes": changes, "records_read": read, "cycles": cycles, "api_calls": calls,
                                  "seconds": round(seconds_total, 2)}
        before = api_used()
        seconds, report = tandem_sync(server, database_url, workdir)
        result["cycle_after_steady"] = {"seconds": round(seconds, 2), "api_calls": api_used() - before,
                                        "steps": steps(report)}
        set_latency(server, http, 0)
    finally:
        stop_running(state_dir)
    result["targets"] = {
        "initial_pull<=12s": result["initial_pull"]["seconds"] <= 12,
        "push<=1.5x_bulk2": result["push_ratio_to_bulk2"] <= 1.5,
        "idle_cycle==1_call": result["idle_one_shot"]["api_calls"] == 1,
        "cycle_after_load<=2_calls": result["cycle_after_load"]["api_calls"] <= 2,
        "steady_state_reads_each_change_once": result["steady_state"]["records_read"] == changes,
    }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--changes", type=int, default=10_000)
    parser.add_argument("--latency", type=float, default=0.5, help="seconds added to every API call")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tandem-net-") as workdir:
        result = run(args.records, args.changes, args.latency, workdir)
    result["python"] = sys.version.split()[0]
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
