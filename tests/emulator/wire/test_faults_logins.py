"""Refused logins at the OAuth token endpoint (`loginAuthFailure`, `loginRateExceeded`), in the shape
Salesforce answers them: 400 `{"error": "invalid_grant", "error_description": ...}`."""

from __future__ import annotations

from tandem.emulator.sample_org import ADMIN, CONNECTED_APP

AUTH_FAILURE = {"error": "invalid_grant", "error_description": "authentication failure"}
RATE_EXCEEDED = {"error": "invalid_grant", "error_description": "login rate exceeded"}


def log_in(http, base_url):
    return http.post(f"{base_url}/services/oauth2/token", data={
        "grant_type": "password", "client_id": CONNECTED_APP.client_id, "client_secret": CONNECTED_APP.client_secret,
        "username": ADMIN.username, "password": ADMIN.password})


def test_logins_fail_with_authentication_failure_at_rate_one(http, base_url, faults, sf):
    faults.set(seed=1, loginAuthFailure=1.0)
    refused = log_in(http, base_url)
    assert (refused.status_code, refused.json()) == (400, AUTH_FAILURE)
    assert refused.headers["content-type"].startswith("application/json")
    assert sf.query("SELECT Id FROM Contact")["totalSize"] == 4
    assert faults.injected() == {"loginAuthFailure": 1}


def test_logins_fail_with_login_rate_exceeded_at_rate_one(http, base_url, faults, sf):
    faults.set(seed=1, loginRateExceeded=1.0)
    refused = log_in(http, base_url)
    assert (refused.status_code, refused.json()) == (400, RATE_EXCEEDED)
    assert sf.query("SELECT Id FROM Contact")["totalSize"] == 4
    assert faults.injected() == {"loginRateExceeded": 1}


def test_logins_pass_at_rate_zero(http, base_url, faults):
    faults.set(seed=1, loginAuthFailure=0.0, loginRateExceeded=0.0)
    assert {log_in(http, base_url).status_code for _ in range(10)} == {200}
    assert faults.injected() == {}


def _answers(http, base_url, faults, seed: int) -> list[str]:
    faults.set(seed=seed, loginAuthFailure=0.3, loginRateExceeded=0.3)
    answers = []
    for _ in range(16):
        answer = log_in(http, base_url)
        answers.append("ok" if answer.status_code == 200 else answer.json()["error_description"])
    return answers


def test_refused_logins_repeat_for_a_seed_and_the_counts_add_up(http, base_url, faults):
    first = _answers(http, base_url, faults, seed=3)
    counts = faults.injected()
    assert _answers(http, base_url, faults, seed=3) == first
    assert set(first) == {"ok", "authentication failure", "login rate exceeded"}
    assert counts == {"loginAuthFailure": first.count("authentication failure"),
                      "loginRateExceeded": first.count("login rate exceeded")}
