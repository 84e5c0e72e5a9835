"""OAuth token grants, identity URL and bearer checks, over HTTPS with requests."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceExpiredSession

from tandem.emulator.sample_org import ADMIN, CONNECTED_APP, SYNC_USER

CLIENT = {"client_id": CONNECTED_APP.client_id, "client_secret": CONNECTED_APP.client_secret}
ADMIN_LOGIN = {"username": ADMIN.username, "password": ADMIN.password}


def test_password_grant_returns_a_signed_token(base_url, http):
    answer = http.post(f"{base_url}/services/oauth2/token", data={
        "grant_type": "password", **CLIENT, **ADMIN_LOGIN})
    assert answer.status_code == 200
    body = answer.json()
    assert body["token_type"] == "Bearer"
    assert body["instance_url"] == base_url
    assert body["id"].startswith(f"{base_url}/id/00D")
    org_id, user_id = body["id"].rsplit("/", 2)[-2:]
    assert len(org_id) == 18 and user_id.startswith("005")
    expected = hmac.new(CONNECTED_APP.client_secret.encode(), (body["id"] + body["issued_at"]).encode(), hashlib.sha256)
    assert body["signature"] == base64.b64encode(expected.digest()).decode()
    assert "sforce-limit-info" in answer.headers


def test_client_credentials_in_body_and_basic_header_run_as_the_apps_user(base_url, http):
    in_body = http.post(f"{base_url}/services/oauth2/token", data={"grant_type": "client_credentials", **CLIENT})
    assert in_body.status_code == 200, in_body.text
    basic = base64.b64encode(":".join(CONNECTED_APP).encode()).decode()
    in_header = http.post(f"{base_url}/services/oauth2/token", data={"grant_type": "client_credentials"},
                          headers={"Authorization": f"Basic {basic}"})
    assert in_header.status_code == 200, in_header.text
    identity = http.get(in_header.json()["id"], headers={"Authorization": f"Bearer {in_header.json()['access_token']}"})
    assert identity.status_code == 200
    assert identity.json()["username"] == SYNC_USER.username


@pytest.mark.parametrize("form, error", [
    ({"grant_type": "password", **CLIENT, "username": ADMIN.username, "password": "wrong"}, "invalid_grant"),
    ({"grant_type": "password", "client_id": "nope", "client_secret": "x", **ADMIN_LOGIN}, None),
    ({"grant_type": "client_credentials", "client_id": CONNECTED_APP.client_id, "client_secret": "bad"}, None),
    ({"grant_type": "authorization_magic", **CLIENT}, "unsupported_grant_type"),
])
def test_refused_grants_answer_oauth_json_400(base_url, http, form, error):
    answer = http.post(f"{base_url}/services/oauth2/token", data=form)
    assert answer.status_code == 400
    body = answer.json()
    assert set(body) == {"error", "error_description"}
    if error:
        assert body["error"] == error
    else:
        assert body["error"].startswith("invalid_client")


def test_identity_url_accepts_oauth_token_parameter(base_url, http, sf_token):
    token = http.post(f"{base_url}/services/oauth2/token", data={
        "grant_type": "password", **CLIENT, **ADMIN_LOGIN}).json()
    body = http.get(token["id"], params={"format": "json", "oauth_token": token["access_token"]}).json()
    assert body["user_id"] == token["id"].rsplit("/", 1)[-1]
    assert body["organization_id"] == token["id"].rsplit("/", 2)[-2]


def test_identity_urls_take_the_version_asked_for_else_keep_the_placeholder(base_url, http):
    """Before, `urls` always named the org's own version, whatever `?version=` asked for."""
    token = http.post(f"{base_url}/services/oauth2/token", data={
        "grant_type": "password", **CLIENT, **ADMIN_LOGIN}).json()
    bearer = {"Authorization": f"Bearer {token['access_token']}"}

    def urls(url, **params):
        answer = http.get(url, params=params, headers=bearer)
        assert answer.status_code == 200, answer.text
        return answer.json()["urls"]

    assert urls(token["id"], version="59.0")["rest"] == f"{base_url}/services/data/v59.0/"
    assert urls(token["id"], version="59.0")["partner"].startswith(f"{base_url}/services/Soap/u/59.0/")
    newest = http.get(f"{base_url}/services/data/").json()[-1]["version"]
    assert urls(token["id"], version="latest")["query"] == f"{base_url}/services/data/v{newest}/query/"
    assert urls(token["id"])["sobjects"] == f"{base_url}/services/data/v{{version}}/sobjects/"
    assert urls(f"{base_url}/services/oauth2/userinfo", version="58.0")["rest"] == f"{base_url}/services/data/v58.0/"


def test_bad_bearer_is_401_invalid_session_for_simple_salesforce(base_url, new_session):
    sf = Salesforce(instance_url=base_url, session_id="00Dbogus!token", session=new_session())
    with pytest.raises(SalesforceExpiredSession) as raised:
        sf.query("SELECT Id FROM Contact")
    assert raised.value.content == [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]


def test_soap_login_gives_a_session_usable_over_rest(base_url, http):
    envelope = (
        '<se:Envelope xmlns:se="http://schemas.xmlsoap.org/soap/envelope/"><se:Body>'
        f'<login xmlns="urn:partner.soap.sforce.com"><username>{ADMIN.username}</username>'
        f"<password>{ADMIN.password}</password></login></se:Body></se:Envelope>"
    )
    answer = http.post(f"{base_url}/services/Soap/u/59.0", data=envelope,
                       headers={"Content-Type": "text/xml", "SOAPAction": "login"})
    assert answer.status_code == 200, answer.text
    from xml.etree import ElementTree

    root = ElementTree.fromstring(answer.content)
    ns = "{urn:partner.soap.sforce.com}"
    session_id = root.find(f".//{ns}sessionId").text
    assert root.find(f".//{ns}serverUrl").text.startswith(f"{base_url}/services/Soap/u/59.0/00D")
    rest = http.get(f"{base_url}/services/data/v59.0/limits", headers={"Authorization": f"Bearer {session_id}"})
    assert rest.status_code == 200


def test_soap_login_failure_is_a_login_fault(base_url, http):
    envelope = (
        '<se:Envelope xmlns:se="http://schemas.xmlsoap.org/soap/envelope/"><se:Body>'
        f'<login xmlns="urn:partner.soap.sforce.com"><username>{ADMIN.username}</username>'
        "<password>nope</password></login></se:Body></se:Envelope>"
    )
    answer = http.post(f"{base_url}/services/Soap/u/59.0", data=envelope, headers={"Content-Type": "text/xml"})
    assert answer.status_code == 500
    assert "<faultcode>sf:INVALID_LOGIN</faultcode>" in answer.text
    assert "<sf:exceptionCode>INVALID_LOGIN</sf:exceptionCode>" in answer.text


def test_secrets_stay_out_of_the_logs(base_url, http, caplog):
    import logging

    caplog.set_level(logging.DEBUG)
    token = http.post(f"{base_url}/services/oauth2/token", data={
        "grant_type": "password", **CLIENT, **ADMIN_LOGIN}).json()
    http.get(token["id"], params={"oauth_token": token["access_token"]})
    http.get(f"{base_url}/services/data/v62.0/query", params={"q": "SELECT Id FORM Contact"},
             headers={"Authorization": f"Bearer {token['access_token']}"})
    logged = caplog.text
    for secret in (token["access_token"], ADMIN.password, CONNECTED_APP.client_secret):
        assert secret not in logged


def test_identity_names_the_urls_and_keys_salesforce_documents(base_url, http):
    """The identity body says `asserted_user` and lists the enterprise, metadata, search, Tooling
    and custom-domain URLs besides the REST ones; each names an endpoint the org answers."""
    token = http.post(f"{base_url}/services/oauth2/token", data={
        "grant_type": "password", **CLIENT, **ADMIN_LOGIN}).json()
    bearer = {"Authorization": f"Bearer {token['access_token']}"}
    body = http.get(token["id"], params={"version": "62.0"}, headers=bearer).json()
    assert body["asserted_user"] is True
    urls = body["urls"]
    assert urls["custom_domain"] == base_url
    assert urls["enterprise"] == f"{base_url}/services/Soap/c/62.0/{body['organization_id']}"
    assert urls["metadata"] == f"{base_url}/services/Soap/m/62.0/{body['organization_id']}"
    assert urls["search"] == f"{base_url}/services/data/v62.0/search/"
    assert http.get(f"{urls['tooling_rest']}sobjects", headers=bearer).status_code == 200
    assert http.get(f"{urls['sobjects']}", headers=bearer).status_code == 200
