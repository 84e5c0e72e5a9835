"""`tandem user add` and `tandem serve` as a user runs them: the UI is served under /ui/ with no new
setting, and a user the command added signs in."""

from __future__ import annotations

import re
import subprocess
import sys
import time

import httpx
import pytest

from tandem.people.store import PersonStore
from tests.ui.conftest import START_SECONDS, free_port, tandem_env


@pytest.fixture
def folder(tmp_path, base_url, ca_path):
    env = tandem_env(tmp_path, base_url, ca_path)
    store = PersonStore(env["TANDEM_DATABASE_URL"])
    store.migrate()
    store.close()

    def tandem(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "tandem", *args], cwd=tmp_path, env=env, input=stdin,
                              capture_output=True, text=True, timeout=60)

    return tmp_path, env, tandem


def test_user_add_refuses_bad_input_naming_the_field(folder):
    path, env, tandem = folder
    short = tandem("user", "add", "ann", "--password-stdin", stdin="short\n")
    assert short.returncode == 1 and "password: shorter than 10 characters" in short.stderr
    bad_name = tandem("user", "add", "ann smith", "--password-stdin", stdin="long enough password\n")
    assert bad_name.returncode == 1 and "username: use 1 to 64 letters" in bad_name.stderr
    added = tandem("user", "add", "ann", "--role", "operator", "--password-stdin", stdin="long enough password\n")
    assert added.returncode == 0 and added.stdout.strip() == "added operator ann"
    again = tandem("user", "add", "ann", "--password-stdin", stdin="another long password\n")
    assert again.returncode == 1 and "username: a user named 'ann' already exists" in again.stderr
    store = PersonStore(env["TANDEM_DATABASE_URL"])
    try:
        [ann] = store.ui_accounts.all()
        assert (ann.username, ann.role.value) == ("ann", "operator")
        assert ann.password_hash.startswith("$argon2id$") and "long enough password" not in ann.password_hash
    finally:
        store.close()


def test_tandem_serve_serves_the_ui_to_a_user_added_with_the_command(folder):
    path, env, tandem = folder
    assert tandem("user", "add", "bea", "--password-stdin", stdin="bea's long password\n").returncode == 0
    port = free_port()
    log = open(path / "serve.log", "w")
    process = subprocess.Popen([sys.executable, "-m", "tandem", "serve", "--port", str(port)], cwd=path, env=env,
                               stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_SECONDS
        with httpx.Client(base_url=url, timeout=5) as client:
            while True:  # poll until it answers
                assert process.poll() is None, (path / "serve.log").read_text()
                try:
                    root = client.get("/")
                    break
                except httpx.TransportError:
                    assert time.monotonic() < deadline, "tandem serve did not answer"
                    time.sleep(0.1)
            assert root.status_code == 307 and root.headers["location"] == "/ui/"
            form = client.get("/ui/signin")
            token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
            signed_in = client.post("/ui/signin", data={"username": "bea", "password": "bea's long password",
                                                        "csrf_token": token, "next": "/ui/"})
            assert signed_in.status_code == 303 and signed_in.headers["location"] == "/ui/"
            dashboard = client.get("/ui/")
            assert dashboard.status_code == 200 and "Signed in as bea (viewer)" in dashboard.text
            assert "bea&#39;s long password" not in dashboard.text and "bea's long password" not in dashboard.text
    finally:
        process.terminate()
        process.wait(30)
        log.close()
    assert "bea's long password" not in (path / "serve.log").read_text()
