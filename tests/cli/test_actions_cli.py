"""`tandem sync`, `tandem person sync` and `tandem person convert` through the embedded emulator."""

import json
import os
import subprocess
import sys


def tandem(cwd, *args):
    return subprocess.run([sys.executable, "-m", "tandem", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120, env={"PATH": "/usr/bin:/bin", "PYTHONPATH": os.environ.get("PYTHONPATH", ""), "COLUMNS": "200"})


def test_sync_then_person_sync_and_convert(tmp_path):
    assert tandem(tmp_path, "init").returncode == 0
    cycle = tandem(tmp_path, "sync", "--json")
    assert cycle.returncode == 0, cycle.stderr
    pulled = [s for s in json.loads(cycle.stdout)["steps"] if s["operation"] == "pull updates"]
    assert sum(s["new"] for s in pulled) == 6
    assert tandem(tmp_path, "person", "add", "email=ada@example.com", "lastName=Lovelace", "company=Engines").returncode == 0
    synced = tandem(tmp_path, "person", "sync", "ada@example.com", "--json")
    assert synced.returncode == 0, synced.stderr
    lead_id = json.loads(synced.stdout)["sfdcId"]
    converted = tandem(tmp_path, "person", "convert", "ada@example.com", "--no-opportunity")
    assert converted.returncode == 0, converted.stderr
    assert f"Lead {lead_id} converted to Contact" in converted.stdout
    assert "duplicate accounts" in converted.stderr
    again = tandem(tmp_path, "person", "convert", "ada@example.com")
    assert again.returncode == 1 and "already a Salesforce Contact" in again.stderr
    status = json.loads(tandem(tmp_path, "status", "--json").stdout)
    assert status["lastCycle"]["steps"] and status["apiUsage"]["used"] > 0
