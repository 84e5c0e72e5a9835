"""Identity and the token check: 601, 602, wrong credentials, the three places a token may travel."""

from __future__ import annotations

import httpx
import pytest
from fastapi.testclient import TestClient

from tandem.web.auth import ApiCredentials
from tests.web.conftest import CLIENT_ID, CLIENT_SECRET, CREDENTIALS, OTHER, serving

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


def test_post_identity_takes_the_parameters_in_a_form_body_as_oauth_clients_send_them(app) -> None:
    """Before, a form body was 400 unsupported_grant_type: only the query string was read."""
    params = {"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
    with TestClient(app) as client:
        taken = client.post("/identity/oauth/token", data=params)
        wrong = client.post("/identity/oauth/token", data={**params, "client_secret": CLIENT_SECRET + "x"})
    assert taken.status_code == 200 and taken.json()["token_type"] == "bearer"
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"


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


def test_a_short_or_empty_secret_is_refused() -> None:
    for secret in ("", "x" * 31):
        with pytest.raises(ValueError, match="shorter than 32 characters.*secrets.token_urlsafe"):
            ApiCredentials("someone", secret)
    assert ApiCredentials("someone", "x" * 32).client_secret == "x" * 32
    assert "x" * 32 not in repr(ApiCredentials("someone", "x" * 32))


def test_a_token_living_longer_than_the_configured_lifetime_is_refused(make_app) -> None:
    """Before, the expiry was not capped when checked: a token good for 115 days was accepted."""
    with TestClient(make_app(token_lifetime=115 * 86_400)) as lenient:
        long_lived = _token(lenient).json()["access_token"]
        assert _code(lenient.get(DESCRIBE, headers={"Authorization": "Bearer " + long_lived})) is None
    with TestClient(make_app()) as server:
        assert _code(server.get(DESCRIBE, headers={"Authorization": "Bearer " + long_lived})) == "601"


def test_rotating_the_secret_voids_the_old_tokens(make_app) -> None:
    with TestClient(make_app()) as before:
        old = _token(before).json()["access_token"]
    rotated = ApiCredentials(CLIENT_ID, "a-brand-new-secret-0123456789-abcdef")
    with TestClient(make_app(credentials=rotated)) as after:
        assert _code(after.get(DESCRIBE, headers={"Authorization": "Bearer " + old})) == "601"
        assert _token(after).status_code == 401
        new = _token(after, client_secret=rotated.client_secret).json()["access_token"]
        assert _code(after.get(DESCRIBE, headers={"Authorization": "Bearer " + new})) is None


def test_each_client_gets_its_own_token(make_app) -> None:
    with TestClient(make_app(credentials=[CREDENTIALS, OTHER])) as client:
        mine = _token(client).json()["access_token"]
        theirs = _token(client, client_id=OTHER.client_id, client_secret=OTHER.client_secret).json()["access_token"]
        crossed = _token(client, client_id=OTHER.client_id)
        for token in (mine, theirs):
            assert _code(client.get(DESCRIBE, headers={"Authorization": "Bearer " + token})) is None
    assert mine != theirs and crossed.status_code == 401


def _guesses(url: str, address: str, count: int, secret: str = "not-the-secret") -> list[httpx.Response]:
    transport = httpx.HTTPTransport(local_address=address)
    with httpx.Client(base_url=url, transport=transport) as http:
        return [http.get("/identity/oauth/token", params={
            "grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": secret})
            for _ in range(count)]


def test_failed_token_requests_are_throttled_per_address(make_app, clock, caplog) -> None:
    """Before, one connection could try ~585 secrets a second."""
    with serving(make_app()) as server:
        guesses = _guesses(server.url, "127.0.0.2", 50)
        right_but_blocked = _guesses(server.url, "127.0.0.2", 1, CLIENT_SECRET)[0]
        elsewhere = _guesses(server.url, "127.0.0.3", 1, CLIENT_SECRET)[0]
        clock.advance(61)
        later = _guesses(server.url, "127.0.0.2", 1, CLIENT_SECRET)[0]
    assert [g.status_code for g in guesses] == [401] * 10 + [429] * 40
    retry_after = int(guesses[-1].headers["retry-after"])
    assert 1 <= retry_after <= 60 and guesses[-1].json() == {
        "error": "unauthorized",
        "error_description": "Too many failed token requests from this address or for this client id; "
                             f"try again in {retry_after} s"}
    assert right_but_blocked.status_code == 429
    assert elsewhere.status_code == 200 and later.status_code == 200
    refusals = [r.getMessage() for r in caplog.records if r.name == "tandem.web.auth"]
    assert any(CLIENT_ID in line and "127.0.0.2" in line and "wrong secret" in line for line in refusals)
    assert not any("not-the-secret" in line or CLIENT_SECRET in line for line in caplog.messages)


def test_a_secret_sent_as_the_client_id_stays_out_of_the_log(api, caplog) -> None:
    """Id and secret swapped by mistake: the refusal is logged without what came as the id."""
    caplog.set_level("WARNING", logger="tandem.web.auth")
    refused = api.get("/identity/oauth/token", params={
        "grant_type": "client_credentials", "client_id": CLIENT_SECRET, "client_secret": CLIENT_ID})
    assert refused.status_code == 401
    [line] = [r.getMessage() for r in caplog.records if r.name == "tandem.web.auth"]
    assert "unknown client id" in line and f"({len(CLIENT_SECRET)} characters, unknown)" in line
    assert CLIENT_SECRET not in line and CLIENT_SECRET[4:12] not in line


def test_failed_token_requests_are_throttled_per_client_id(make_app, clock) -> None:
    with serving(make_app(credentials=[CREDENTIALS, OTHER])) as server:
        spread = [g for n in range(10, 20) for g in _guesses(server.url, f"127.0.0.{n}", 3)]
        blocked = _guesses(server.url, "127.0.0.99", 1, CLIENT_SECRET)[0]
        with httpx.Client(base_url=server.url) as http:
            other = http.get("/identity/oauth/token", params={
                "grant_type": "client_credentials", "client_id": OTHER.client_id,
                "client_secret": OTHER.client_secret})
        clock.advance(61)
        later = _guesses(server.url, "127.0.0.99", 1, CLIENT_SECRET)[0]
    assert {g.status_code for g in spread} == {401}
    assert blocked.status_code == 429 and other.status_code == 200 and later.status_code == 200


def test_a_throttled_marketo_client_gets_the_reason_not_a_key_error(make_app) -> None:
    """Before, the 429's `error` was `too_many_requests`, and marketorestpython, which reads only
    `invalid_client` and `unauthorized`, failed with KeyError 'access_token'."""
    from marketorestpython.client import MarketoClient

    with serving(make_app()) as server:
        assert {g.status_code for g in _guesses(server.url, "127.0.0.1", 10)} == {401}
        client = MarketoClient("tandem-test", CLIENT_ID, CLIENT_SECRET, max_retry_time=5)
        client.host = server.url
        with pytest.raises(Exception, match="Too many failed token requests") as raised:
            client.authenticate()
    assert type(raised.value) is Exception and client.token is None
