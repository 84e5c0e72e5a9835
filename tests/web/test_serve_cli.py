"""`tandem serve`: which API clients it serves, what it refuses to start with, and HTTPS."""

from __future__ import annotations

import json
import os
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import trustme
from typer.testing import CliRunner

from tandem.cli import app

GOOD = "a-perfectly-long-secret-0123456789abcdef"


@pytest.fixture
def workdir(tmp_path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in ("TANDEM_API_CLIENT_ID", "TANDEM_API_CLIENT_SECRET", "TANDEM_API_CLIENTS", "TANDEM_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TANDEM_DATABASE_URL", f"sqlite:///{tmp_path / 'tandem.db'}")
    return tmp_path


def _serve(*args: str):
    return CliRunner().invoke(app, ["serve", "--port", "0", *args])


def test_serve_needs_the_api_credentials(workdir) -> None:
    result = _serve()
    assert result.exit_code == 1
    assert "TANDEM_API_CLIENT_ID" in result.output


def test_serve_needs_a_set_up_database(workdir, monkeypatch) -> None:
    monkeypatch.setenv("TANDEM_API_CLIENT_ID", "id")
    monkeypatch.setenv("TANDEM_API_CLIENT_SECRET", GOOD)
    result = _serve()
    assert result.exit_code == 1 and "tandem init" in result.output


@pytest.mark.parametrize("secret", ["", "Zq7#", "Q" * 31])
def test_serve_refuses_a_short_secret_with_a_hint(workdir, monkeypatch, secret) -> None:
    """Before, an empty secret started the server, and anyone could mint tokens offline."""
    monkeypatch.setenv("TANDEM_API_CLIENT_ID", "id")
    monkeypatch.setenv("TANDEM_API_CLIENT_SECRET", secret)
    result = _serve()
    assert result.exit_code == 1
    assert "TANDEM_API_CLIENT_SECRET: shorter than 32 characters" in result.output
    assert "secrets.token_urlsafe(32)" in result.output
    assert (secret or "\0") not in result.output.replace("TANDEM_API_CLIENT_SECRET", "")


def test_serve_refuses_a_short_secret_among_the_api_clients(workdir) -> None:
    (workdir / "tandem.toml").write_text(
        f'[[api_clients]]\nclient_id = "crm"\nclient_secret = "{GOOD}"\n\n'
        '[[api_clients]]\nclient_id = "webinars"\nclient_secret = "tiny"\n')
    result = _serve()
    assert result.exit_code == 1 and "api_clients[1].client_secret: shorter than 32" in result.output
    assert "tiny" not in result.output


def test_serve_refuses_a_client_id_configured_twice(workdir, monkeypatch) -> None:
    monkeypatch.setenv("TANDEM_API_CLIENT_ID", "crm")
    monkeypatch.setenv("TANDEM_API_CLIENT_SECRET", GOOD)
    monkeypatch.setenv("TANDEM_API_CLIENTS", f'[{{"client_id": "crm", "client_secret": "{GOOD}"}}]')
    result = _serve()
    assert result.exit_code == 1 and "api_clients[0].client_id: client id 'crm' is configured twice" in result.output


@pytest.mark.parametrize(("client_id", "where"), [(" ", "pair"), ("crm ", "pair"), ("", "list"), ("\t", "list")])
def test_serve_refuses_a_blank_client_id_naming_the_setting(workdir, monkeypatch, client_id, where) -> None:
    """Before, a blank id ended in a ValueError traceback; one with a trailing space matched no client."""
    if where == "pair":
        monkeypatch.setenv("TANDEM_API_CLIENT_ID", client_id)
        monkeypatch.setenv("TANDEM_API_CLIENT_SECRET", GOOD)
    else:
        monkeypatch.setenv("TANDEM_API_CLIENTS", json.dumps([{"client_id": client_id, "client_secret": GOOD}]))
    result = _serve()
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    named = "TANDEM_API_CLIENT_ID: " if where == "pair" else "_CLIENTS[0].client_id: " if client_id == "" \
        else "api_clients[0].client_id: "
    assert result.output.startswith("Error: ") and named in result.output and GOOD not in result.output


def test_serve_refuses_half_a_tls_setting(workdir, monkeypatch) -> None:
    monkeypatch.setenv("TANDEM_API_CLIENT_ID", "id")
    monkeypatch.setenv("TANDEM_API_CLIENT_SECRET", GOOD)
    result = _serve("--tls-cert", str(workdir / "cert.pem"))
    assert result.exit_code == 1 and "--tls-key: give --tls-cert and --tls-key together" in result.output


@pytest.mark.parametrize("case", ["not PEM", "key of another certificate"])
def test_serve_refuses_tls_files_it_cannot_use_in_one_line(workdir, monkeypatch, case) -> None:
    """Before, uvicorn failed on them with a traceback once the server started."""
    monkeypatch.setenv("TANDEM_API_CLIENT_ID", "id")
    monkeypatch.setenv("TANDEM_API_CLIENT_SECRET", GOOD)
    ca = trustme.CA()
    ca.issue_cert("localhost").cert_chain_pems[0].write_to_path(workdir / "cert.pem")
    if case == "not PEM":
        (workdir / "key.pem").write_text("not a key\n")
    else:
        ca.issue_cert("localhost").private_key_pem.write_to_path(workdir / "key.pem")
    result = _serve("--tls-cert", str(workdir / "cert.pem"), "--tls-key", str(workdir / "key.pem"))
    assert result.exit_code == 1
    assert result.output.startswith("Error: --tls-key: ") and len(result.output.splitlines()) == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)


@pytest.mark.parametrize(("option", "value"), [("--calls-per-window", "0"), ("--concurrent-calls", "0"),
                                               ("--window-seconds", "0"), ("--window-seconds", "-5"),
                                               ("--calls-per-day", "0")])
def test_serve_refuses_a_limit_that_would_refuse_every_call_or_none(workdir, monkeypatch, option, value) -> None:
    """Before, 0 calls a window answered every call 606, 0 in flight 615, and a window of 0 s limited nothing."""
    monkeypatch.setenv("TANDEM_API_CLIENT_ID", "id")
    monkeypatch.setenv("TANDEM_API_CLIENT_SECRET", GOOD)
    result = _serve(option, value)
    assert result.exit_code == 1
    assert result.output == f"Error: {option}: must be more than 0, got {value}\n"


def test_serve_refuses_an_endless_window(workdir, monkeypatch) -> None:
    """Before, `--window-seconds inf` was taken: once a client's window filled, every call was 606 for good."""
    from tests.cli.running import tandem

    result = tandem(workdir, "serve", "--port", "0", "--window-seconds", "inf", timeout=30,  # before, it served
                    env={"TANDEM_API_CLIENT_ID": "id", "TANDEM_API_CLIENT_SECRET": GOOD})
    assert result.returncode == 1
    assert result.stderr == "Error: --window-seconds: must be a finite number, got inf\n"


@pytest.mark.parametrize("address", ["notanip", "10.0.0.1/8", "300.1.1.1", ""])
def test_serve_refuses_a_trusted_proxy_that_is_no_address(workdir, monkeypatch, address) -> None:
    """Before, such a value was taken and no proxy was believed, without a word."""
    monkeypatch.setenv("TANDEM_API_CLIENT_ID", "id")
    monkeypatch.setenv("TANDEM_API_CLIENT_SECRET", GOOD)
    result = _serve("--trusted-proxy", address)
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: --trusted-proxy: {address!r} is not an IP address or network")


def test_serve_takes_trusted_proxies_as_addresses_networks_or_any() -> None:
    from tandem.cli.serve import _check_proxy

    for address in ("127.0.0.1", "10.0.0.0/8", "::1", "fd00::/8", "*"):
        _check_proxy(address)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_serve_over_https_for_every_configured_client(tmp_path) -> None:
    """A real `tandem serve` process: HTTPS from --tls-cert/--tls-key, clients from the env pair and tandem.toml."""
    ca = trustme.CA()
    leaf = ca.issue_cert("127.0.0.1", "localhost")
    leaf.cert_chain_pems[0].write_to_path(str(tmp_path / "cert.pem"))
    leaf.private_key_pem.write_to_path(str(tmp_path / "key.pem"))
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    (tmp_path / "tandem.toml").write_text(
        f'database_url = "sqlite:///{tmp_path / "tandem.db"}"\n\n'
        f'[[api_clients]]\nclient_id = "webinars"\nclient_secret = "{GOOD}-webinars"\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("TANDEM_")}
    env.update(TANDEM_API_CLIENT_ID="crm", TANDEM_API_CLIENT_SECRET=GOOD + "-crm", FORWARDED_ALLOW_IPS="*")
    tandem = [sys.executable, "-m", "tandem"]
    assert subprocess.run([*tandem, "init"], cwd=tmp_path, env=env, capture_output=True).returncode == 0
    port = _free_port()
    server = subprocess.Popen([*tandem, "serve", "--port", str(port), "--tls-cert", str(tmp_path / "cert.pem"),
                               "--tls-key", str(tmp_path / "key.pem")], cwd=tmp_path, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        trusted = ssl.create_default_context(cafile=str(tmp_path / "ca.pem"))
        with httpx.Client(base_url=f"https://127.0.0.1:{port}", verify=trusted, timeout=5) as http:
            deadline = time.monotonic() + 30
            while True:
                assert server.poll() is None, server.stderr.read().decode()
                try:
                    http.get("/openapi.json")
                    break
                except httpx.TransportError:
                    assert time.monotonic() < deadline, "tandem serve did not answer"
                    time.sleep(0.05)  # polling the port: nothing to wait on but the socket
            for client_id, secret in (("crm", GOOD + "-crm"), ("webinars", GOOD + "-webinars")):
                token = http.get("/identity/oauth/token", params={
                    "grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}).json()
                answer = http.get("/rest/v1/leads/describe.json",
                                  headers={"Authorization": "Bearer " + token["access_token"]}).json()
                assert answer["success"] is True
            # FORWARDED_ALLOW_IPS=* in the environment must not make X-Forwarded-For believed
            guesses = [http.get("/identity/oauth/token", headers={"X-Forwarded-For": f"10.9.8.{n}"}, params={
                "grant_type": "client_credentials", "client_id": "crm", "client_secret": "wrong"}).status_code
                for n in range(12)]
            assert guesses == [401] * 10 + [429] * 2
            assert http.get("/health").json() == {"status": "ok"}
        with pytest.raises(httpx.TransportError):
            httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=5)
    finally:
        server.terminate()
        server.wait(10)
    logged = server.stderr.read().decode()
    assert "INFO tandem.web.access: GET /identity/oauth/token 200 " in logged
    assert "INFO tandem.web.access: GET /health 200 " in logged
    assert GOOD not in logged and "client_secret" not in logged
