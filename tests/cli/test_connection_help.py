"""`tandem emulator serve` prints what a client needs, and the snippets it prints work as pasted."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys

from tests.cli.running import tandem


def _serve_until_snippets(tmp_path) -> tuple[subprocess.Popen, list[str]]:
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": os.environ.get("PYTHONPATH", ""), "PYTHONUNBUFFERED": "1"}
    server = subprocess.Popen([sys.executable, "-m", "tandem", "emulator", "serve", "--port", "0",
                               "--state-dir", str(tmp_path / "state")], cwd=tmp_path, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    assert server.stdout is not None
    for line in server.stdout:
        lines.append(line.rstrip("\n"))
        if line.strip().startswith("tandem check"):
            return server, lines
    server.wait(10)
    raise AssertionError("the emulator stopped before printing its snippets:\n" + "\n".join(lines))


def _other_ca_bundle() -> dict[str, str]:
    """The variables a corporate machine sets, naming a CA file that does not hold the emulator's CA:
    requests lets them override a session's `verify` unless the snippet keeps its own."""
    import certifi

    return {"REQUESTS_CA_BUNDLE": certifi.where(), "CURL_CA_BUNDLE": certifi.where()}


def test_emulator_serve_prints_credentials_and_working_snippets(tmp_path):
    server, lines = _serve_until_snippets(tmp_path)
    try:
        text = "\n".join(lines)
        ca = str((tmp_path / "state" / "ca.pem").resolve())
        assert f"CA file:     {ca}" in text
        assert "Client:      tandem-local / tandem-local-secret  (client credentials run as sync@sample.example)" in text
        for user in ("sync@sample.example / sync-pass-1", "rep@sample.example / rep-pass-1",
                     "admin@sample.example / admin-pass-1"):
            assert f"User:        {user}" in text
        start = lines.index("simple-salesforce (Python):") + 1
        snippet = "\n".join(line[2:] for line in lines[start:lines.index("", start)])
        ran = subprocess.run([sys.executable, "-c", snippet], capture_output=True, text=True, timeout=60,
                             env={"PATH": "/usr/bin:/bin", "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
                                  **_other_ca_bundle()})
        assert ran.returncode == 0, ran.stderr
        assert "wile@acme.example" in ran.stdout
        exports = {}
        for line in lines:
            if line.strip().startswith("export "):
                exports |= dict(pair.split("=", 1) for pair in shlex.split(line.strip(), comments=True)[1:])
        assert exports["TANDEM_SYNC_COMMIT_LAG_SECONDS"] == "0"
        checked = tandem(tmp_path, "check", env=exports | _other_ca_bundle())
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert "logged in as sync@sample.example" in checked.stdout
    finally:
        server.send_signal(signal.SIGINT)
        server.communicate(timeout=30)


def test_the_demo_also_gives_its_database_url(tmp_path):
    from tandem.cli.connection_help import connection_help
    from tandem.emulator.sample_org import SAMPLE_ORG_FILE

    ca = tmp_path / "ca.pem"
    lines = connection_help("https://127.0.0.1:9", ca, SAMPLE_ORG_FILE, "sqlite:////tmp/demo/tandem.db")
    assert "Database:    sqlite:////tmp/demo/tandem.db" in lines
    assert "  export TANDEM_DATABASE_URL=sqlite:////tmp/demo/tandem.db" in lines
