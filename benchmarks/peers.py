"""Peer Salesforce tools run unchanged against the emulator: tap-salesforce and airbyte-source-salesforce.

Each peer is installed at a pinned version into its own virtualenv under a cache folder
(`TANDEM_PEERS_CACHE`, default `~/.cache/tandem/peers`; made once, reused after). The only
redirection: a `sitecustomize.py` on the peer's path sends requests for the hard-coded login hosts
(`login.salesforce.com`, `test.salesforce.com`) to the emulator, and `REQUESTS_CA_BUNDLE` /
`SSL_CERT_FILE` name the emulator's CA. Both peers log in with the OAuth refresh-token grant; the
refresh token comes from a password login to the sample org's connected app.

The script serves the sample org (`tandem emulator serve`, its own process) with N contacts and
runs, per peer: discover, then a full read of Contact (tap-salesforce in BULK and in REST mode).
Prints one JSON object.

    python benchmarks/peers.py                          # 2,000 contacts, both peers
    python benchmarks/peers.py --records 20000 --only tap-salesforce
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests

from tandem.emulator.instance import RunningEmulator, ensure_running, stop_running
from tandem.emulator.sample_org import ADMIN, CONNECTED_APP, SAMPLE_ORG_FILE

API_VERSION = "62.0"
LOAD_CHUNK = 20_000
START_DATE = "2000-01-01T00:00:00Z"
_TOKEN_RE = re.compile(r"(5Aep|00D)[A-Za-z0-9]{0,15}[!_A-Za-z0-9.\-]{20,}")
CACHE = Path(os.environ.get("TANDEM_PEERS_CACHE", Path.home() / ".cache" / "tandem" / "peers"))

SITECUSTOMIZE = '''"""Sends requests for Salesforce's login hosts to the emulator at TANDEM_PEER_LOGIN_URL."""
import os
from urllib.parse import urlsplit

_TARGET = os.environ.get("TANDEM_PEER_LOGIN_URL", "").rstrip("/")
_LOGIN_HOSTS = ("login.salesforce.com", "test.salesforce.com")

if _TARGET:
    import requests.adapters

    _send = requests.adapters.HTTPAdapter.send

    def _send_to_emulator(self, request, **kwargs):
        original = request.url
        parts = urlsplit(original)
        if parts.hostname not in _LOGIN_HOSTS:
            return _send(self, request, **kwargs)
        request.url = _TARGET + parts.path + ("?" + parts.query if parts.query else "")
        try:
            return _send(self, request, **kwargs)
        finally:
            request.url = original

    requests.adapters.HTTPAdapter.send = _send_to_emulator
'''


@dataclass(frozen=True)
class Peer:
    package: str
    version: str
    command: str

    @property
    def pin(self) -> str:
        return f"{self.package}=={self.version}"


TAP = Peer("tap-salesforce", "2.8.1", "tap-salesforce")
AIRBYTE = Peer("airbyte-source-salesforce", "2.10.3", "source-salesforce")
PEERS = {"tap-salesforce": TAP, "airbyte": AIRBYTE}


def install(peer: Peer, cache: Path = CACHE) -> Path:
    """The peer's virtualenv (`cache/package-version`), created and installed on first use."""
    venv = cache / f"{peer.package}-{peer.version}"
    marker = venv / "installed.txt"
    if not (marker.exists() and marker.read_text().strip() == peer.pin):
        cache.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", peer.pin], check=True)
        marker.write_text(peer.pin + "\n")
    (venv / "redirect").mkdir(exist_ok=True)
    (venv / "redirect" / "sitecustomize.py").write_text(SITECUSTOMIZE)
    return venv


def peer_env(venv: Path, server: RunningEmulator) -> dict[str, str]:
    """The environment a peer runs in: its virtualenv first, the login redirect, the emulator's CA."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    env.update({
        "PATH": f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}",
        "VIRTUAL_ENV": str(venv),
        "PYTHONPATH": str(venv / "redirect"),
        "TANDEM_PEER_LOGIN_URL": server.base_url,
        "REQUESTS_CA_BUNDLE": str(server.ca_path),
        "SSL_CERT_FILE": str(server.ca_path),
    })
    return env


# -- the emulator ----------------------------------------------------------------------------------


def benchmark_org(path: Path) -> Path:
    """The sample org with a daily API allowance no benchmark run reaches."""
    definition = json.loads(SAMPLE_ORG_FILE.read_text())
    definition = copy.deepcopy(definition)
    definition.setdefault("limits", {})["DailyApiRequests"] = 50_000_000
    path.write_text(json.dumps(definition))
    return path


@contextmanager
def serving(workdir: Path) -> Iterator[RunningEmulator]:
    """`tandem emulator serve` in its own process (its CPU is not the clients'), stopped afterwards."""
    state_dir = workdir / "emulator"
    org_file = benchmark_org(workdir / "org.json")
    server = ensure_running(state_dir, [sys.executable, "-m", "tandem", "emulator", "serve", "--org", str(org_file),
                                        "--state-dir", str(state_dir), "--port", "0"])
    try:
        yield server
    finally:
        stop_running(state_dir)


def http_session(server: RunningEmulator) -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    session.verify = str(server.ca_path)
    return session


def load_contacts(server: RunningEmulator, count: int) -> None:
    """`count` contacts last modified over the past year, oldest first (`/_emulator/bulk-load`)."""
    start = datetime.now(UTC) - timedelta(days=365)
    step = timedelta(days=364) / max(count, 1)
    with http_session(server) as http:
        for first in range(0, count, LOAD_CHUNK):
            rows = []
            for i in range(first, min(first + LOAD_CHUNK, count)):
                stamp = (start + step * i).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
                rows.append({"FirstName": f"First{i}", "LastName": f"Last{i}", "Email": f"contact{i}@load.example",
                             "Title": "Engineer", "Phone": f"+1 555 {i:07d}", "CreatedDate": stamp,
                             "SystemModstamp": stamp})
            http.post(f"{server.base_url}/_emulator/bulk-load", json={"Contact": rows}).raise_for_status()


def password_login(server: RunningEmulator, user=ADMIN) -> dict[str, Any]:
    """The token answer of a password login to the connected app (it holds a `refresh_token`)."""
    with http_session(server) as http:
        answer = http.post(f"{server.base_url}/services/oauth2/token", data={
            "grant_type": "password", "client_id": CONNECTED_APP.client_id,
            "client_secret": CONNECTED_APP.client_secret, "username": user.username, "password": user.password})
        answer.raise_for_status()
        return answer.json()


class ApiCallMeter:
    """API calls as the emulator counts them (`/limits`: DailyApiRequests), less the meter's own reads."""

    def __init__(self, server: RunningEmulator) -> None:
        self.server = server
        self.token = password_login(server)["access_token"]
        self.http = http_session(server)
        first = self.used()
        self.own = self.used() - first

    def used(self) -> int:
        answer = self.http.get(f"{self.server.base_url}/services/data/v{API_VERSION}/limits",
                               headers={"Authorization": f"Bearer {self.token}"})
        answer.raise_for_status()
        daily = answer.json()["DailyApiRequests"]
        return daily["Max"] - daily["Remaining"]

    def count(self, object_name: str) -> int:
        """How many records of `object_name` the org holds (one query, outside any measurement)."""
        answer = self.http.get(f"{self.server.base_url}/services/data/v{API_VERSION}/query",
                               params={"q": f"SELECT COUNT() FROM {object_name}"},
                               headers={"Authorization": f"Bearer {self.token}"})
        answer.raise_for_status()
        return answer.json()["totalSize"]

    def since(self, before: int) -> int:
        return self.used() - before - self.own


# -- running a client as a whole process -------------------------------------------------------------


@dataclass
class ProcessRun:
    returncode: int
    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    stdout: Path
    stderr: Path

    def tail(self, lines: int = 8) -> str:
        """The last lines the process wrote to stderr, tokens blanked (peers log their login bodies)."""
        text = self.stderr.read_text(errors="replace").strip().splitlines()
        return _TOKEN_RE.sub("<token>", "\n".join(text[-lines:]))


def peak_rss_mb(pid: int, last: float) -> float:
    """The process's resident high-water mark (`VmHWM`, reset at exec), or `last` once it is gone."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return max(last, int(line.split()[1]) / 1024)
    except OSError:
        pass
    return last


def run_process(argv: Sequence[str], env: dict[str, str], workdir: Path, label: str,
                timeout: float = 3600.0) -> ProcessRun:
    """Run `argv` to its end: wall time, CPU (its rusage, waited-for children included), peak RSS.

    Peak RSS is polled from /proc rather than taken from rusage: a child's `ru_maxrss` starts from
    the RSS of the parent it was forked from."""
    stdout, stderr = workdir / f"{label}.out", workdir / f"{label}.err"
    peak = 0.0
    with open(stdout, "wb") as out, open(stderr, "wb") as err:
        began = time.perf_counter()
        process = subprocess.Popen(list(argv), stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env,
                                   cwd=workdir)
        try:
            while True:
                peak = peak_rss_mb(process.pid, peak)
                pid, status, usage = os.wait4(process.pid, os.WNOHANG)
                if pid:
                    break
                if time.perf_counter() > began + timeout:
                    process.kill()
                time.sleep(0.02)
        except BaseException:
            process.kill()
            os.wait4(process.pid, 0)
            raise
        wall = time.perf_counter() - began
    process.returncode = os.waitstatus_to_exitcode(status)
    return ProcessRun(process.returncode, wall, usage.ru_utime + usage.ru_stime, peak, stdout, stderr)


def singer_records(path: Path, stream: str) -> int:
    """RECORD messages for `stream` in a Singer tap's or an Airbyte source's output."""
    count = 0
    with open(path, "rb") as lines:
        for line in lines:
            if b'"RECORD"' not in line:
                continue
            message = json.loads(line)
            if message.get("type") != "RECORD":
                continue
            record = message.get("record") or message
            if message.get("stream") == stream or record.get("stream") == stream:
                count += 1
    return count


# -- tap-salesforce ------------------------------------------------------------------------------------


def tap_config(workdir: Path, refresh_token: str, api_type: str) -> Path:
    path = workdir / f"tap-{api_type.lower()}-config.json"
    path.write_text(json.dumps({
        "client_id": CONNECTED_APP.client_id, "client_secret": CONNECTED_APP.client_secret,
        "refresh_token": refresh_token, "start_date": START_DATE, "api_type": api_type,
        "select_fields_by_default": True,
    }))
    return path


def tap_select(catalog: dict, stream: str) -> dict:
    """The discovered catalog with only `stream` selected (all its fields, by the config's default),
    replicated by `SystemModstamp` from the start date, as the tap is usually run."""
    selected = copy.deepcopy(catalog)
    selected["streams"] = [s for s in selected["streams"] if s["stream"] == stream]
    for entry in selected["streams"][0]["metadata"]:
        if entry["breadcrumb"] == []:
            entry["metadata"].update({"selected": True, "replication-method": "INCREMENTAL",
                                      "replication-key": "SystemModstamp"})
    return selected


def tap_discover(venv: Path, server: RunningEmulator, workdir: Path, config: Path, label: str
                 ) -> tuple[ProcessRun, dict | None]:
    run = run_process([str(venv / "bin" / TAP.command), "--config", str(config), "--discover"],
                      peer_env(venv, server), workdir, label)
    catalog = json.loads(run.stdout.read_text()) if run.returncode == 0 else None
    return run, catalog


def tap_read(venv: Path, server: RunningEmulator, workdir: Path, config: Path, catalog: dict, label: str
             ) -> ProcessRun:
    catalog_path = workdir / f"{label}-catalog.json"
    catalog_path.write_text(json.dumps(tap_select(catalog, "Contact")))
    # tap-salesforce 2.8 reads its catalog from the Singer `--properties` option only
    return run_process([str(venv / "bin" / TAP.command), "--config", str(config), "--properties", str(catalog_path)],
                       peer_env(venv, server), workdir, label)


# -- airbyte-source-salesforce ---------------------------------------------------------------------------


def airbyte_config(workdir: Path, refresh_token: str, only: str | None = None) -> Path:
    config: dict[str, Any] = {
        "auth_type": "Client", "client_id": CONNECTED_APP.client_id, "client_secret": CONNECTED_APP.client_secret,
        "refresh_token": refresh_token, "start_date": START_DATE, "is_sandbox": False,
    }
    if only:
        config["streams_criteria"] = [{"criteria": "exacts", "value": only}]
    path = workdir / f"airbyte-config{'-' + only if only else ''}.json"
    path.write_text(json.dumps(config))
    return path


def airbyte_discover(venv: Path, server: RunningEmulator, workdir: Path, config: Path, label: str
                     ) -> tuple[ProcessRun, dict | None]:
    run = run_process([str(venv / "bin" / AIRBYTE.command), "discover", "--config", str(config)],
                      peer_env(venv, server), workdir, label)
    catalog = None
    for line in run.stdout.read_bytes().splitlines():
        if line.startswith(b"{") and b'"CATALOG"' in line:
            message = json.loads(line)
            if message.get("type") == "CATALOG":
                catalog = message["catalog"]
    return run, catalog


def airbyte_read(venv: Path, server: RunningEmulator, workdir: Path, config: Path, catalog: dict, label: str
                 ) -> ProcessRun:
    stream = next(s for s in catalog["streams"] if s["name"] == "Contact")
    configured = {"streams": [{"stream": stream, "sync_mode": "full_refresh", "destination_sync_mode": "overwrite"}]}
    catalog_path = workdir / f"{label}-catalog.json"
    catalog_path.write_text(json.dumps(configured))
    return run_process([str(venv / "bin" / AIRBYTE.command), "read", "--config", str(config), "--catalog",
                        str(catalog_path)], peer_env(venv, server), workdir, label)


# -- the report ------------------------------------------------------------------------------------------


def outcome(run: ProcessRun, meter: ApiCallMeter, before: int, **extra: Any) -> dict[str, Any]:
    result: dict[str, Any] = {"ok": run.returncode == 0, "wall_s": round(run.wall_s, 2),
                              "cpu_s": round(run.cpu_s, 2), "peak_rss_mb": round(run.peak_rss_mb, 1),
                              "api_calls": meter.since(before), **extra}
    if run.returncode != 0:
        result["exit_code"] = run.returncode
        result["stderr_tail"] = run.tail()
    return result


def run_tap(server: RunningEmulator, meter: ApiCallMeter, workdir: Path, records: int) -> dict[str, Any]:
    venv = install(TAP)
    refresh_token = password_login(server)["refresh_token"]
    report: dict[str, Any] = {"version": TAP.version}
    for api_type in ("BULK", "REST"):
        config = tap_config(workdir, refresh_token, api_type)
        before = meter.used()
        discovered, catalog = tap_discover(venv, server, workdir, config, f"tap-{api_type.lower()}-discover")
        streams = len(catalog["streams"]) if catalog else 0
        mode: dict[str, Any] = {"discover": outcome(discovered, meter, before, streams=streams)}
        if catalog and any(s["stream"] == "Contact" for s in catalog["streams"]):
            before = meter.used()
            read = tap_read(venv, server, workdir, config, catalog, f"tap-{api_type.lower()}-read")
            got = singer_records(read.stdout, "Contact")
            mode["read_contact"] = outcome(read, meter, before, records=got, complete=got == records)
        report[api_type] = mode
    return report


def run_airbyte(server: RunningEmulator, meter: ApiCallMeter, workdir: Path, records: int) -> dict[str, Any]:
    venv = install(AIRBYTE)
    config = airbyte_config(workdir, password_login(server)["refresh_token"])
    before = meter.used()
    discovered, catalog = airbyte_discover(venv, server, workdir, config, "airbyte-discover")
    streams = len(catalog["streams"]) if catalog else 0
    report: dict[str, Any] = {"version": AIRBYTE.version, "discover": outcome(discovered, meter, before,
                                                                             streams=streams)}
    if catalog and any(s["name"] == "Contact" for s in catalog["streams"]):
        before = meter.used()
        read = airbyte_read(venv, server, workdir, config, catalog, "airbyte-read")
        got = singer_records(read.stdout, "Contact")
        report["read_contact"] = outcome(read, meter, before, records=got, complete=got == records)
    return report


RUNNERS = {"tap-salesforce": run_tap, "airbyte": run_airbyte}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=2_000, help="contacts in the org (default 2,000)")
    parser.add_argument("--only", default=",".join(RUNNERS), help="comma-separated: tap-salesforce,airbyte")
    parser.add_argument("--keep", type=Path, default=None, help="keep the peers' output in this folder")
    args = parser.parse_args()
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in RUNNERS]
    if unknown:
        parser.error(f"--only: unknown peer {', '.join(unknown)} (choose from {', '.join(RUNNERS)})")
    for name in chosen:  # installs happen before the clock starts
        install(PEERS[name])
    with tempfile.TemporaryDirectory(prefix="tandem-peers-") as temporary:
        workdir = args.keep or Path(temporary)
        workdir.mkdir(parents=True, exist_ok=True)
        with serving(workdir) as server:
            load_contacts(server, args.records)
            meter = ApiCallMeter(server)
            contacts = meter.count("Contact")
            results = {name: RUNNERS[name](server, meter, workdir, contacts) for name in chosen}
    print(json.dumps({"benchmark": "peers against the emulator", "contacts": contacts, "peers": results,
                      "python": sys.version.split()[0]}, indent=2))


if __name__ == "__main__":
    main()
