"""The OAuth refresh-token grant over HTTPS: issued by an offline app's password login, trading
for working sessions, refused as Salesforce refuses it (`invalid_grant`, client checks)."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceExpiredSession

from tandem.emulator.sample_org import ADMIN, CONNECTED_APP, REP

CLIENT = {"client_id": CONNECTED_APP.client_id, "client_secret": CONNECTED_APP.client_secret}
REFRESH_FIELDS = {"access_token", "signature", "scope", "instance_url", "id", "token_type", "issued_at"}


def password_login(http, base_url: str, user=ADMIN) -> dict:
    answer = http.post(f"{base_url}/services/oauth2/token", data={
        "grant_type": "password", **CLIENT, "username": user.username, "password": user.password})
    assert answer.status_code == 200, answer.text
    return answer.json()


def refresh(http, base_url: str, refresh_token: str, **client) -> "requests.Response":  # noqa: F821
    return http.post(f"{base_url}/services/oauth2/token", data={
        "grant_type": "refresh_token", "refresh_token": refresh_token, **(client or CLIENT)})


def test_password_grant_of_an_offline_app_returns_a_refresh_token(base_url, http):
    body = password_login(http, base_url)
    assert body["refresh_token"] and body["refresh_token"] != body["access_token"]
    assert body["scope"].split() == ["api", "refresh_token"]


def test_refresh_gives_a_working_session_for_the_same_user(base_url, http, new_session):
    login = password_login(http, base_url, REP)
    answer = refresh(http, base_url, login["refresh_token"])
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert set(body) == REFRESH_FIELDS
    assert body["access_token"] != login["access_token"]
    assert body["id"] == login["id"] and body["instance_url"] == base_url and body["token_type"] == "Bearer"
    signed = hmac.new(CONNECTED_APP.client_secret.encode(), (body["id"] + body["issued_at"]).encode(), hashlib.sha256)
    assert body["signature"] == base64.b64encode(signed.digest()).decode()
    sf = Salesforce(instance_url=body["instance_url"], session_id=body["access_token"], session=new_session())
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] >= 1
    identity = http.get(body["id"], headers={"Authorization": f"Bearer {body['access_token']}"}).json()
    assert identity["username"] == REP.username


def test_refresh_token_outlives_expired_sessions(base_url, http, new_session):
    login = password_login(http, base_url)
    http.post(f"{base_url}/_emulator/expire-sessions").raise_for_status()
    stale = Salesforce(instance_url=base_url, session_id=login["access_token"], session=new_session())
    with pytest.raises(SalesforceExpiredSession):
        stale.query("SELECT COUNT() FROM Contact")
    fresh = refresh(http, base_url, login["refresh_token"]).json()["access_token"]
    assert Salesforce(instance_url=base_url, session_id=fresh, session=new_session()).query(
        "SELECT COUNT() FROM Contact")["totalSize"] >= 1


def test_unknown_refresh_token_is_invalid_grant(base_url, http):
    answer = refresh(http, base_url, "5Aep-not-a-token")
    assert answer.status_code == 400
    assert answer.json() == {"error": "invalid_grant", "error_description": "expired access/refresh token"}


def test_revoked_refresh_token_is_invalid_grant_and_ends_its_sessions(base_url, http, new_session):
    login = password_login(http, base_url)
    opened = refresh(http, base_url, login["refresh_token"]).json()["access_token"]
    other = password_login(http, base_url)
    assert http.post(f"{base_url}/services/oauth2/revoke", data={"token": login["refresh_token"]}).status_code == 200
    answer = refresh(http, base_url, login["refresh_token"])
    assert answer.status_code == 400
    assert answer.json() == {"error": "invalid_grant", "error_description": "expired access/refresh token"}
    for token in (login["access_token"], opened):
        with pytest.raises(SalesforceExpiredSession):
            Salesforce(instance_url=base_url, session_id=token, session=new_session()).query("SELECT Id FROM Contact")
    # another login's tokens are untouched
    assert refresh(http, base_url, other["refresh_token"]).status_code == 200


def test_revoking_an_access_token_keeps_its_refresh_token(base_url, http):
    login = password_login(http, base_url)
    http.post(f"{base_url}/services/oauth2/revoke", data={"token": login["access_token"]}).raise_for_status()
    assert refresh(http, base_url, login["refresh_token"]).status_code == 200


@pytest.mark.parametrize("client, error", [
    ({"client_id": CONNECTED_APP.client_id, "client_secret": "wrong"}, "invalid_client"),
    ({"client_id": CONNECTED_APP.client_id}, "invalid_client"),
    ({"client_id": "no-such-app", "client_secret": CONNECTED_APP.client_secret}, "invalid_client_id"),
])
def test_refresh_checks_the_client(base_url, http, client, error):
    login = password_login(http, base_url)
    answer = refresh(http, base_url, login["refresh_token"], **client)
    assert answer.status_code == 400
    assert answer.json()["error"] == error
    assert login["refresh_token"] not in answer.text
    assert refresh(http, base_url, login["refresh_token"]).status_code == 200


def test_refresh_accepts_client_credentials_in_a_basic_header(base_url, http):
    login = password_login(http, base_url)
    basic = base64.b64encode(":".join(CONNECTED_APP).encode()).decode()
    answer = http.post(f"{base_url}/services/oauth2/token", headers={"Authorization": f"Basic {basic}"},
                       data={"grant_type": "refresh_token", "refresh_token": login["refresh_token"]})
    assert answer.status_code == 200, answer.text


def test_missing_refresh_token_is_invalid_request(base_url, http):
    answer = http.post(f"{base_url}/services/oauth2/token", data={"grant_type": "refresh_token", **CLIENT})
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_request"
