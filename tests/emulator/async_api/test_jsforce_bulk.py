"""jsforce 3's Bulk API 1.0 (`conn.bulk.load`, `conn.bulk.query`), unchanged, in Node."""

from __future__ import annotations

import json
import os
import subprocess

from tandem.emulator.sample_org import ADMIN, CONNECTED_APP
from tests.emulator.wire.test_jsforce import node_project  # noqa: F401  (the shared Node project fixture)


def test_jsforce_bulk_load_and_query(node_project, base_url, ca_path):  # noqa: F811
    env = dict(os.environ, NODE_EXTRA_CA_CERTS=str(ca_path))
    run = subprocess.run(["node", "bulk1.js", base_url, *ADMIN, *CONNECTED_APP],
                         cwd=node_project, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout.strip().splitlines()[-1])
    written, refused = result["loaded"]
    assert written["success"] is True and written["id"].startswith("003")
    assert refused["success"] is False and refused["id"] is None
    assert any("FIELD_CUSTOM_VALIDATION_EXCEPTION" in error for error in refused["errors"])
    assert result["queried"] == [{"Id": written["id"], "LastName": "JsBulkA"}]
