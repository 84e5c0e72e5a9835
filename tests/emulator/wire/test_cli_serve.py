"""`tandem emulator serve` as a process: prints its URL and CA, serves HTTPS, keeps state with --persist."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys

import requests

from tandem.emulator.sample_org import CONNECTED_APP

SERVE = [sys.executable, "-c", "from tandem.cli import app; app()", "emulator", "serve"]
CLIENT_CREDENTIALS = {"grant_type": "client_credentials", "client_id": CONNECTED_APP.client_id,
                      "client_secret": CONNECTED_APP.client_secret}


class ServeProcess:
    def __init__(self, state_dir, *extra: str) -> None:
        self.process = subprocess.Popen(
            [*SERVE, "--port", "0", "--state-dir", str(state_dir), *extra],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        lines = []
        for line in self.process.stdout:
            lines.append(line)
            if line.startswith("CA file:"):
                break
        output = "".join(lines)
        found = re.search(r"at (https://127\.0\.0\.1:\d+)", output)
        if not found:
            self.process.kill()
            raise AssertionError(f"serve printed no URL: {output!r} {self.process.stderr.read()}")
        self.base_url = found.group(1)
        self.ca_path = output.split("CA file:", 1)[1].strip()
        self.session = requests.Session()
        self.session.trust_env = False
        self.session.verify = self.ca_path

    def stop(self) -> str:
        self.session.close()  # no idle keep-alive connection for the server to wait on
        self.process.send_signal(signal.SIGTERM)
        out, _ = self.process.communicate(timeout=20)
        return out


def test_serve_prints_url_and_ca_and_answers_https(tmp_path):
    served = ServeProcess(tmp_path)
    try:
        assert served.ca_path == str(tmp_path / "ca.pem")
        versions = served.session.get(f"{served.base_url}/services/data/")
        assert versions.json()[-1]["version"] == "62.0"
        token = served.session.post(f"{served.base_url}/services/oauth2/token", data=CLIENT_CREDENTIALS)
        assert token.status_code == 200
    finally:
        served.stop()


def test_persist_keeps_records_and_the_ca_across_restarts(tmp_path):
    first = ServeProcess(tmp_path, "--persist")
    try:
        token = first.session.post(f"{first.base_url}/services/oauth2/token",
                                   data=CLIENT_CREDENTIALS).json()["access_token"]
        created = first.session.post(f"{first.base_url}/services/data/v62.0/sobjects/Contact",
                                     json={"LastName": "Persisted"}, headers={"Authorization": f"Bearer {token}"})
        assert created.status_code == 201, created.text
        ca_before = (tmp_path / "ca.pem").read_bytes()
    finally:
        first.stop()
    second = ServeProcess(tmp_path, "--persist")
    try:
        assert (tmp_path / "ca.pem").read_bytes() == ca_before
        token = second.session.post(f"{second.base_url}/services/oauth2/token",
                                    data=CLIENT_CREDENTIALS).json()["access_token"]
        found = second.session.get(f"{second.base_url}/services/data/v62.0/query",
                                   params={"q": "SELECT Id FROM Contact WHERE LastName = 'Persisted'"},
                                   headers={"Authorization": f"Bearer {token}"})
        assert found.json()["totalSize"] == 1
    finally:
        second.stop()


def test_a_bad_org_file_is_refused_with_its_path(tmp_path):
    bad = tmp_path / "bad-org.json"
    bad.write_text('{"format": "tandem-org/1", "name": "Bad", "apiVersion": "62.0", "nonsense": {}}')
    run = subprocess.run([*SERVE, "--org", str(bad), "--port", "0", "--state-dir", str(tmp_path)],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 1
    assert run.stderr.startswith(f"Error: cannot serve {bad}: ") and "nonsense" in run.stderr


def test_a_port_in_use_is_refused_in_one_line(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        run = subprocess.run([*SERVE, "--port", str(port), "--state-dir", str(tmp_path)],
                             capture_output=True, text=True, timeout=60)
    assert run.returncode == 1
    assert run.stderr.startswith(f"Error: cannot listen on 127.0.0.1:{port}: ") and run.stderr.count("\n") == 1
