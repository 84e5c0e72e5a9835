"""jsforce 3 (Node): OAuth and SOAP login at the emulator's loginUrl, REST reads and writes,
SOAP convertLead, identity and a Bulk 2.0 query."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

JSFORCE_DIR = Path(__file__).resolve().parent.parent / "jsforce"


@pytest.fixture(scope="module")
def node_project():
    if not shutil.which("node") or not shutil.which("npm"):
        pytest.skip("node and npm are needed for the jsforce smoke test")
    if not (JSFORCE_DIR / "node_modules" / "jsforce").exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=JSFORCE_DIR, check=True,
                       capture_output=True, timeout=600)
    return JSFORCE_DIR


def test_jsforce_login_query_create_update(node_project, base_url, ca_path):
    env = dict(os.environ, NODE_EXTRA_CA_CERTS=str(ca_path))
    run = subprocess.run(
        ["node", "smoke.js", base_url, "admin@sample.example", "admin-pass-1", "tandem-local", "tandem-local-secret"],
        cwd=node_project, env=env, capture_output=True, text=True, timeout=120,
    )
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["instanceUrl"] == base_url
    assert result["userId"].startswith("005")
    assert result["queried"] == 1
    assert result["title"] == "Node"
    assert result["collection"] == [True, True]
    assert result["soapUserId"] == result["identityUser"] == result["userId"]
    assert result["converted"] is True and result["convertedContactId"].startswith("003")
    assert result["bulkQueried"] == 1
