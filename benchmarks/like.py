"""LIKE benchmark: wildcard-heavy SOQL over 100,000 Account names, while other callers keep calling.

The server process bulk-loads N accounts and serves them over HTTPS; a spawned client process runs
each LIKE query (30 `%` apiece) a few times on one connection while a second thread issues small
queries on another, and reports both sides' timings. Prints one JSON object.

    .venv/bin/python benchmarks/like.py                  # 100,000 accounts
    .venv/bin/python benchmarks/like.py --records 20000  # quick run
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_ORG = ROOT / "tandem" / "emulator" / "orgs" / "sample-org.json"
sys.path.insert(0, str(Path(__file__).resolve().parent))
from emulator import https_session, summary  # noqa: E402

def _thirty_percents(letters: str) -> str:
    """`%` around and between the letters, padded with more `%` to exactly 30."""
    pattern = "%" + "%".join(letters) + "%"
    return pattern + "%" * (30 - pattern.count("%"))


PATTERNS = {
    "thirty_leading_percents_no_match": "%" * 30 + "b",
    "thirty_percents_between_letters": _thirty_percents("ccount 0 lpha"),
}
WORDS = ("alpha", "beta", "gamma", "delta", "epsilon")


def account_rows(count: int):
    for n in range(count):
        yield {"Name": f"Account {n:06d} {WORDS[n % len(WORDS)]}", "Website": f"a{n}.example"}


def measure(base_url: str, ca_path: str, token: str, version: str, repeats: int) -> dict:
    """The client side, in its own process: LIKE queries on one thread, a neighbour's calls on another."""
    url = f"{base_url}/services/data/v{version}/query"
    headers = {"Authorization": f"Bearer {token}"}
    done = threading.Event()
    neighbour: list[float] = []

    def others() -> None:
        """A neighbour reading one record by Id (no scan of its own): its wait is the LIKE's hold."""
        session = https_session(ca_path)
        initech = session.get(url, params={"q": "SELECT Id FROM Account WHERE Name = 'Initech'"},
                              headers=headers).json()["records"][0]["Id"]
        record_url = f"{base_url}/services/data/v{version}/sobjects/Account/{initech}"
        while not done.is_set():
            started = time.perf_counter()
            answer = session.get(record_url, headers=headers)
            answer.raise_for_status()
            neighbour.append((time.perf_counter() - started) * 1000)

    session = https_session(ca_path)
    thread = threading.Thread(target=others)
    thread.start()
    results = {}
    try:
        for name, pattern in PATTERNS.items():
            assert pattern.count("%") == 30
            samples, sizes = [], set()
            for _ in range(repeats):
                started = time.perf_counter()
                answer = session.get(url, params={"q": f"SELECT Id FROM Account WHERE Name LIKE '{pattern}'"},
                                     headers=headers)
                samples.append((time.perf_counter() - started) * 1000)
                answer.raise_for_status()
                sizes.add(answer.json()["totalSize"])
            results[name] = {**summary(samples), "pattern": pattern, "matches": sorted(sizes)}
    finally:
        done.set()
        thread.join()
    results["other_callers_meanwhile"] = summary(neighbour)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    from tandem.emulator.model import Org
    from tandem.emulator.server import EmulatorServer

    org = Org.from_file(SAMPLE_ORG)
    loaded = org.bulk_load("Account", account_rows(args.records))
    with tempfile.TemporaryDirectory() as state_dir:
        server = EmulatorServer(org, port=0, state_dir=state_dir)
        base_url = server.start()
        session = https_session(str(server.ca_path))
        token = session.post(f"{base_url}/services/oauth2/token", data={
            "grant_type": "password", "client_id": "tandem-local", "client_secret": "tandem-local-secret",
            "username": "admin@sample.example", "password": "admin-pass-1"}).json()["access_token"]
        with multiprocessing.get_context("spawn").Pool(1) as clients:
            timings = clients.apply(measure, (base_url, str(server.ca_path), token, org.api_version, args.repeats))
        server.stop()
    print(json.dumps({
        "accounts": loaded,
        **timings,
        "machine": {"cpus": os.cpu_count(), "load_average_1m_at_end": round(os.getloadavg()[0], 2)},
    }, indent=2))


if __name__ == "__main__":
    main()
