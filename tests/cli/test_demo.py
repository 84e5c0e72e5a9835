"""`tandem demo` runs the whole story on the bundled emulator and exits by itself."""

import os
import subprocess
import sys


def test_demo_runs_end_to_end(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "tandem", "demo"], cwd=tmp_path, capture_output=True, text=True, timeout=120,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": os.environ.get("PYTHONPATH", ""), "COLUMNS": "200", "REQUESTS_CA_BUNDLE": "/nonexistent/ca.pem"},
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Conflict on Wile's title: kept \"Super Genius\", lost \"Chief Coyote\"" in out
    assert "Salesforce refused Samir's phone: FIELD_CUSTOM_VALIDATION_EXCEPTION" in out
    assert "still waiting to go: phone \"call me maybe\"" in out
    assert "Title set to \"Super Genius\"" in out and "{'" not in out
    assert "What next" in out and "tandem check" in out
    assert "Samir's phone in Salesforce now: +1 555 0142" in out
    assert "Peter's phone in Salesforce now: +1 555 0123" in out
    assert "Lisa's rating in Tandem now: Hot" in out
    assert not list(tmp_path.iterdir())  # the demo leaves nothing behind
