"""An error no route rendered answers as Salesforce answers one, and the connection stays usable;
the emulator never takes the caller's address from proxy headers."""

from __future__ import annotations

from tandem.emulator.model import Org
from tandem.emulator.server import EmulatorServer
from tandem.emulator.sample_org import CONNECTED_APP, SAMPLE_ORG_FILE
from tests.https_emulator import https_session


def _boom(*args, **kwargs):
    raise RuntimeError("internal detail that must not leak")


def test_an_internal_error_on_an_identity_route_is_unknown_exception(base_url, http, sf_token, emulator,
                                                                     monkeypatch) -> None:
    monkeypatch.setattr(emulator.org, "user_info", _boom)
    answer = http.get(f"{base_url}/services/oauth2/userinfo", headers={"Authorization": f"Bearer {sf_token}"})
    assert answer.status_code == 500 and answer.headers["content-type"].startswith("application/json")
    [error] = answer.json()
    assert error["errorCode"] == "UNKNOWN_EXCEPTION"
    assert error["message"].startswith("An unexpected error occurred. Please include this ErrorId")
    assert "internal detail" not in answer.text
    assert http.get(f"{base_url}/services/data").status_code == 200


def test_an_internal_error_on_the_token_endpoint_is_an_oauth_error(base_url, http, emulator, monkeypatch) -> None:
    monkeypatch.setattr(emulator.org, "login_password", _boom)
    answer = http.post(f"{base_url}/services/oauth2/token", data={
        "grant_type": "password", "client_id": CONNECTED_APP.client_id, "client_secret": CONNECTED_APP.client_secret,
        "username": "admin@sample.example", "password": "x"})
    assert answer.status_code == 500
    assert answer.json() == {"error": "unknown_error", "error_description": "retry your request"}


def test_an_internal_error_in_a_data_call_carries_an_error_id(base_url, http, sf_token, emulator,
                                                             monkeypatch) -> None:
    monkeypatch.setattr(emulator.org, "describe_global", _boom)
    answer = http.get(f"{base_url}/services/data/v62.0/sobjects", headers={"Authorization": f"Bearer {sf_token}"})
    [error] = answer.json()
    assert answer.status_code == 500 and error["errorCode"] == "UNKNOWN_EXCEPTION"
    assert "ErrorId if you contact support: " in error["message"] and "internal detail" not in answer.text


def test_forwarded_headers_are_never_believed(tmp_path, monkeypatch) -> None:
    """Before, FORWARDED_ALLOW_IPS=* let X-Forwarded-For decide who the loopback-only routes saw."""
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "*")
    with EmulatorServer(Org.from_file(SAMPLE_ORG_FILE), state_dir=tmp_path) as server:
        session = https_session(server.ca_path)
        spoofed = session.get(f"{server.base_url}/_emulator/faults", headers={
            "X-Forwarded-For": "203.0.113.9", "Forwarded": "for=203.0.113.9"})
        assert spoofed.status_code == 200  # the peer really is loopback, whatever the header says
        session.close()
