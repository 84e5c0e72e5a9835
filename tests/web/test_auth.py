"""Identity and the token check: 601, 602, wrong credentials, the three places a token may travel."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.web.conftest import CLIENT_ID, CLIENT_SECRET

DESCRIBE = "/rest/v1/leads/describe.json"


def _token(client: TestClient, **overrides: str):
    params = {"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
    return client.get("/identity/oauth/token", params={**params, **overrides})


def _code(answer) -> str | None:
    body = answer.json()
    assert answer.status_code == 200 and set(body) >= {"requestId", "success", "errors"}
    return body["errors"][0]["code"] if not body["success"] else None


def test_token_is_reused_while_it_lives_and_counts_down(app, clock) -> None:
    with TestClient(app) as client:
        first = _token(client).json()
        clock.advance(100)
        second = _token(client).json()
    assert first["access_token"] == second["access_token"]
    assert (first["expires_in"], second["expires_in"]) == (3600, 3500)
    assert first["token_type"] == "bearer" and first["scope"]


def test_post_identity_works_too(app) -> None:
    with TestClient(app) as client:
        params = {"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
        assert client.post("/identity/oauth/token", params=params).json()["token_type"] == "bearer"


def test_wrong_secret_unknown_client_and_grant_are_oauth_errors(app) -> None:
    with TestClient(app) as client:
        wrong = _token(client, client_secret=CLIENT_SECRET + "x")
        unknown = _token(client, client_id="someone-else")
        grant = _token(client, grant_type="password")
    assert wrong.status_code == 401 and wrong.json() == {
        "error": "invalid_client", "error_description": "Bad client credentials"}
    assert unknown.status_code == 401 and unknown.json()["error"] == "invalid_client"
    assert grant.status_code == 400 and grant.json()["error"] == "unsupported_grant_type"


def test_missing_and_forged_tokens_are_601(app) -> None:
    with TestClient(app) as client:
        token = _token(client).json()["access_token"]
        forged = token[:-1] + ("a" if token[-1] != "a" else "b")
        assert _code(client.get(DESCRIBE)) == "601"
        assert _code(client.get(DESCRIBE, headers={"Authorization": "Bearer " + forged})) == "601"
        assert _code(client.get(DESCRIBE, headers={"Authorization": "Bearer nonsense"})) == "601"


def test_token_accepted_as_header_query_or_form_parameter(app) -> None:
    with TestClient(app) as client:
        token = _token(client).json()["access_token"]
        assert _code(client.get(DESCRIBE, headers={"Authorization": "Bearer " + token})) is None
        assert _code(client.get(DESCRIBE, params={"access_token": token})) is None
        form = {"access_token": token, "_method": "GET", "filterType": "id", "filterValues": "1"}
        assert _code(client.post("/rest/v1/leads.json", data=form)) is None


def test_expired_token_is_602_once_then_601_and_a_new_one_works(app, clock) -> None:
    with TestClient(app) as client:
        old = _token(client).json()["access_token"]
        header = {"Authorization": "Bearer " + old}
        clock.advance(3599)
        assert _code(client.get(DESCRIBE, headers=header)) is None
        clock.advance(1)
        assert _code(client.get(DESCRIBE, headers=header)) == "602"
        assert _code(client.get(DESCRIBE, headers=header)) == "601"
        new = _token(client).json()
        assert new["access_token"] != old and new["expires_in"] == 3600
        assert _code(client.get(DESCRIBE, headers={"Authorization": "Bearer " + new["access_token"]})) is None


def test_a_token_survives_a_server_restart(make_app) -> None:
    with TestClient(make_app()) as first:
        token = _token(first).json()["access_token"]
    with TestClient(make_app()) as second:
        assert _code(second.get(DESCRIBE, headers={"Authorization": "Bearer " + token})) is None


def test_configurable_lifetime(make_app, clock) -> None:
    with TestClient(make_app(token_lifetime=120)) as client:
        answer = _token(client).json()
        clock.advance(121)
        assert answer["expires_in"] == 120
        assert _code(client.get(DESCRIBE, headers={"Authorization": "Bearer " + answer["access_token"]})) == "602"
