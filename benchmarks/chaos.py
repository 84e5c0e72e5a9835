"""Seeded chaos runs of the real engine against the bundled emulator, with faults and kills.

    python benchmarks/chaos.py --runs 1000 [--database-url URL] [--rounds 8] [--first-seed 1] [--bulk]

Each run (see tests/chaos/harness.py) loads an org, syncs it, then has writers on both sides,
Sync Person to SFDC and sync cycles run under injected faults (5xx, gateway pages, dropped and
slow answers, answers lost after the write committed, record-level refusals, limits, query
timeouts and lost cursors, login refusals, late commits) while calls are killed at random
points; then it settles and checks the end state. Prints JSON: runs, faults by kind, kills,
violations by kind, and the first violations found with their seeds. With a PostgreSQL URL each
run gets a database of its own on that server. With `--bulk`, every pull window and every push goes
by Bulk API 2.0 jobs (small thresholds), so the faults land on job calls and result downloads.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from tandem.emulator.model import Org  # noqa: E402
from tandem.emulator.sample_org import SAMPLE_ORG_FILE  # noqa: E402
from tandem.emulator.server import EmulatorServer  # noqa: E402
from tests.chaos.harness import ChaosConfig, ChaosRun  # noqa: E402


def _database(base_url: str | None, folder: Path, seed: int) -> tuple[str, object]:
    """A fresh database for one run, and what drops it afterwards."""
    if base_url is None or base_url.startswith("sqlite"):
        path = folder / f"chaos-{seed}.db"
        return f"sqlite:///{path}", lambda: path.unlink(missing_ok=True)
    admin = sa.create_engine(base_url.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT")
    name = f"tandem_chaos_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
    return admin.url.set(database=name).render_as_string(hide_password=False), drop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--database-url", default=None, help="default: SQLite files in a temporary directory")
    parser.add_argument("--bulk", action="store_true", help="every pull window and push by Bulk API 2.0 jobs")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="tandem-chaos-"))
    server = EmulatorServer(Org.from_file(SAMPLE_ORG_FILE), state_dir=folder / "emulator")
    server.start()
    faults: Counter[str] = Counter()
    violations: Counter[str] = Counter()
    examples: list[dict] = []
    kills = cycles = actions = 0
    started = time.monotonic()
    try:
        for seed in range(args.first_seed, args.first_seed + args.runs):
            url, drop = _database(args.database_url, folder, seed)
            try:
                result = ChaosRun(ChaosConfig(seed=seed, rounds=args.rounds, bulk=args.bulk), url, server).run()
            finally:
                drop()
            faults.update({k: v for k, v in result.faults.items() if v})
            violations.update(result.by_kind())
            kills, cycles, actions = kills + result.kills, cycles + result.cycles, actions + result.actions
            examples += [{"seed": seed, "kind": kind, "detail": detail} for kind, detail in result.violations][:5]
    finally:
        server.stop()
    print(json.dumps({
        "runs": args.runs, "database": (args.database_url or "sqlite").split(":")[0], "bulk": args.bulk,
        "seconds": round(time.monotonic() - started, 1), "cycles": cycles, "actions": actions, "kills": kills,
        "faults": dict(sorted(faults.items())), "violations": dict(violations), "examples": examples[:20],
    }, indent=2))


if __name__ == "__main__":
    main()
