"""Emulator benchmark: a large org served over real HTTPS, timed through simple-salesforce.

Loads N contacts with the model's `bulk_load`, starts the HTTPS server in process, then times
(a) one 2,000-row `query` page selected by a SystemModstamp window and (b) a 200-record
`composite/sobjects` update. Prints one JSON object.

    .venv/bin/python benchmarks/emulator.py                 # 1,000,000 contacts
    .venv/bin/python benchmarks/emulator.py --records 50000 # quick run
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import requests
from simple_salesforce import Salesforce

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tandem.emulator.model import Org  # noqa: E402
from tandem.emulator.server import EmulatorServer  # noqa: E402

SAMPLE_ORG = ROOT / "tandem" / "emulator" / "orgs" / "sample-org.json"
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    org = Org.from_file(SAMPLE_ORG)
    load_started = time.perf_counter()
    loaded = org.bulk_load("Contact", contact_rows(args.records))
    load_seconds = time.perf_counter() - load_started
    after_load = rss_mib()

    with tempfile.TemporaryDirectory() as state_dir:
        server = EmulatorServer(org, port=0, state_dir=state_dir)
        base_url = server.start()
        session = requests.Session()
        session.trust_env = False  # REQUESTS_CA_BUNDLE must not replace the emulator CA
        session.verify = str(server.ca_path)
        token = session.post(f"{base_url}/services/oauth2/token", data={
            "grant_type": "password", "client_id": "tandem-local", "client_secret": "tandem-local-secret",
            "username": "admin@sample.example", "password": "admin-pass-1"}).json()["access_token"]
        sf = Salesforce(instance_url=base_url, session_id=token, session=session, version=org.api_version)

        newest = sf.query("SELECT SystemModstamp FROM Contact ORDER BY SystemModstamp DESC LIMIT 1")
        last = datetime.strptime(newest["records"][0]["SystemModstamp"], "%Y-%m-%dT%H:%M:%S.%f%z")
        first = last - timedelta(milliseconds=loaded - 1)
        span_ms = max(loaded - PAGE, 1)

        query_samples, page_rows, ids_pool = [], [], []
        for _ in range(args.calls):
            start = first + timedelta(milliseconds=rng.randrange(span_ms))
            end = start + timedelta(milliseconds=PAGE)
            soql = (f"SELECT Id, FirstName, LastName, Email, Title, SystemModstamp FROM Contact "
                    f"WHERE SystemModstamp >= {soql_datetime(start)} AND SystemModstamp < {soql_datetime(end)} "
                    f"ORDER BY SystemModstamp")
            elapsed, page = timed(lambda: sf.query(soql))
            query_samples.append(elapsed)
            page_rows.append(len(page["records"]))
            ids_pool.append([record["Id"] for record in page["records"]])

        update_samples, failures = [], 0
        for n in range(args.calls):
            chosen = ids_pool[n % len(ids_pool)][:BATCH]
            body = {"allOrNone": False, "records": [
                {"attributes": {"type": "Contact"}, "Id": record_id, "Title": f"Updated {n}"} for record_id in chosen]}
            elapsed, results = timed(lambda: sf.restful("composite/sobjects", method="PATCH", json=body))
            update_samples.append(elapsed)
            failures += sum(1 for result in results if not result["success"])
        server.stop()

    print(json.dumps({
        "records_loaded": loaded,
        "load_seconds": round(load_seconds, 2),
        "rss_after_load": after_load,
        "query_page": {**summary(query_samples), "rows_per_page": sorted(set(page_rows))},
        "composite_update_200": {**summary(update_samples), "record_failures": failures},
        "rss_at_end": rss_mib(),
    }, indent=2))


if __name__ == "__main__":
    main()
