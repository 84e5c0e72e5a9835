"""jsforce 3 (Node): OAuth and SOAP login at the emulator's loginUrl, REST reads and writes,
SOAP convertLead, identity and a Bulk 2.0 query.

Without Node and npm the test skips on a developer machine but fails in CI (`CI=true`), so a CI
image that lost Node cannot turn it into a silent skip.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tandem.emulator.sample_org import ADMIN, CONNECTED_APP

JSFORCE_DIR = Path(__file__).resolve().parent.parent / "jsforce"


def running_in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def require_node() -> None:
    """Skip when node or npm is missing, except in CI, where that is a failure."""
    missing = [tool for tool in ("node", "npm") if not shutil.which(tool)]
    if not missing:
        return
    reason = f"{' and '.join(missing)} not found on PATH: the jsforce smoke test needs node and npm"
    if running_in_ci():
        pytest.fail(f"{reason} (CI={os.environ['CI']}: CI must run it)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def node_project():
    require_node()
    if not (JSFORCE_DIR / "node_modules" / "jsforce").exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=JSFORCE_DIR, check=True,
                       capture_output=True, timeout=600)
    return JSFORCE_DIR


def test_jsforce_login_query_create_update(node_project, base_url, ca_path):
    env = dict(os.environ, NODE_EXTRA_CA_CERTS=str(ca_path))
    run = subprocess.run(
        ["node", "smoke.js", base_url, *ADMIN, *CONNECTED_APP],
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


def test_missing_node_fails_in_ci(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="node and npm not found.*CI must run it"):
        require_node()


def test_missing_node_skips_with_its_reason_outside_ci(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="node and npm not found"):
        require_node()
