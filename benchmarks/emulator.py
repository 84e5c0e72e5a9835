"""Emulator benchmark: a large org served over real HTTPS, timed from a separate client process.

The server process loads N contacts with the model's `bulk_load` and serves them over HTTPS; a
spawned client process times (a) one 2,000-row `query` page selected by a SystemModstamp window
and (b) a 200-record `composite/sobjects` update, each with plain requests and with
simple-salesforce (whose OrderedDict JSON parsing adds client time). Prints one JSON object.

    .venv/bin/python benchmarks/emulator.py                 # 1,000,000 contacts
    .venv/bin/python benchmarks/emulator.py --records 50000 # quick run
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
PAGE = 2000
BATCH = 200


def rss_mib() -> dict:
    """Current and peak resident set size of this process, from /proc."""
    values = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = round(int(rest.split()[0]) / 1024, 1)
    return {"rss_mib": values.get("VmRSS"), "peak_rss_mib": values.get("VmHWM")}


def contact_rows(count: int):
    for n in range(count):
        yield {"FirstName": f"First{n}", "LastName": f"Last{n}", "Email": f"person{n}@bench.example",
               "Title": "Benchmark", "Lead_Score__c": n % 100}


def soql_datetime(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def summary(samples: list[float]) -> dict:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return {"median_ms": round(statistics.median(ordered), 2), "p95_ms": round(p95, 2),
            "min_ms": round(ordered[0], 2), "max_ms": round(ordered[-1], 2), "calls": len(ordered)}


def timed(action) -> tuple[float, object]:
    started = time.perf_counter()
    result = action()
    return (time.perf_counter() - started) * 1000, result


def https_session(ca_path: str) -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # REQUESTS_CA_BUNDLE must not replace the emulator CA
    session.verify = ca_path
    return session


def measure(base_url: str, ca_path: str, token: str, version: str, newest_stamp: str, loaded: int,
            calls: int, seed: int) -> dict:
    """The client side, run in its own process so client and server do not share one GIL."""
    from simple_salesforce import Salesforce

    rng = random.Random(seed)
    session = https_session(ca_path)
    sf = Salesforce(instance_url=base_url, session_id=token, session=https_session(ca_path), version=version)
    data_url, headers = f"{base_url}/services/data/v{version}", {"Authorization": f"Bearer {token}"}
    last = datetime.strptime(newest_stamp, "%Y-%m-%dT%H:%M:%S.%f%z")
    first, span_ms = last - timedelta(milliseconds=loaded - 1), max(loaded - PAGE, 1)

    def window_soql() -> str:
        start = first + timedelta(milliseconds=rng.randrange(span_ms))
        end = start + timedelta(milliseconds=PAGE)
        return (f"SELECT Id, FirstName, LastName, Email, Title, SystemModstamp FROM Contact "
                f"WHERE SystemModstamp >= {soql_datetime(start)} AND SystemModstamp < {soql_datetime(end)} "
                f"ORDER BY SystemModstamp")

    for warm_up in (session, sf.session):  # TLS handshakes and connection pools, not timed
        warm_up.get(f"{data_url}/limits", headers=headers).raise_for_status()
    query_plain, query_sf, page_rows, ids_pool = [], [], [], []
    for _ in range(calls):
        soql = window_soql()
        elapsed, answer = timed(lambda: session.get(f"{data_url}/query", params={"q": soql}, headers=headers).json())
        query_plain.append(elapsed)
        page_rows.append(len(answer["records"]))
        ids_pool.append([record["Id"] for record in answer["records"]])
        soql = window_soql()
        elapsed, _ = timed(lambda: sf.query(soql))
        query_sf.append(elapsed)

    def update_body(n: int) -> dict:
        chosen = ids_pool[n % len(ids_pool)][:BATCH]
        return {"allOrNone": False, "records": [
            {"attributes": {"type": "Contact"}, "Id": record_id, "Title": f"Updated {n}"} for record_id in chosen]}

    update_plain, update_sf, failures = [], [], 0
    for n in range(calls):
        body = update_body(n)
        elapsed, results = timed(lambda: session.patch(f"{data_url}/composite/sobjects", json=body,
                                                       headers=headers).json())
        update_plain.append(elapsed)
        failures += sum(1 for result in results if not result["success"])
        body = update_body(n + 1)
        elapsed, results = timed(lambda: sf.restful("composite/sobjects", method="PATCH", json=body))
        update_sf.append(elapsed)
        failures += sum(1 for result in results if not result["success"])
    return {
        "query_page": {**summary(query_plain), "rows_per_page": sorted(set(page_rows)), "client": "requests"},
        "query_page_simple_salesforce": summary(query_sf),
        "composite_update_200": {**summary(update_plain), "record_failures": failures, "client": "requests"},
        "composite_update_200_simple_salesforce": summary(update_sf),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    from tandem.emulator.model import Org
    from tandem.emulator.sample_org import ADMIN, CONNECTED_APP, SAMPLE_ORG_FILE
    from tandem.emulator.server import EmulatorServer

    org = Org.from_file(SAMPLE_ORG_FILE)
    load_started = time.perf_counter()
    loaded = org.bulk_load("Contact", contact_rows(args.records))
    load_seconds = time.perf_counter() - load_started
    after_load = rss_mib()

    with tempfile.TemporaryDirectory() as state_dir:
        server = EmulatorServer(org, port=0, state_dir=state_dir)
        base_url = server.start()
        session = https_session(str(server.ca_path))
        token = session.post(f"{base_url}/services/oauth2/token", data={
            "grant_type": "password", "client_id": CONNECTED_APP.client_id,
            "client_secret": CONNECTED_APP.client_secret, "username": ADMIN.username,
            "password": ADMIN.password}).json()["access_token"]
        newest = session.get(f"{base_url}/services/data/v{org.api_version}/query",
                             params={"q": "SELECT SystemModstamp FROM Contact ORDER BY SystemModstamp DESC LIMIT 1"},
                             headers={"Authorization": f"Bearer {token}"}).json()["records"][0]["SystemModstamp"]
        with multiprocessing.get_context("spawn").Pool(1) as clients:
            timings = clients.apply(measure, (base_url, str(server.ca_path), token, org.api_version, newest,
                                              loaded, args.calls, args.seed))
        server.stop()

    print(json.dumps({
        "records_loaded": loaded,
        "load_seconds": round(load_seconds, 2),
        "server_rss_after_load": after_load,
        **timings,
        "server_rss_at_end": rss_mib(),
        "machine": {"cpus": os.cpu_count(), "load_average_1m_at_end": round(os.getloadavg()[0], 2)},
    }, indent=2))


if __name__ == "__main__":
    main()
