"""simple-salesforce logging in by itself: its login host is fixed (`login.salesforce.com`), so the
session given to it carries a transport adapter that sends that host's requests to the emulator."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from requests.adapters import HTTPAdapter
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceAuthenticationFailed

from tandem.emulator.sample_org import ADMIN, CONNECTED_APP


class LoginHostAdapter(HTTPAdapter):
    """Rewrites `https://login.salesforce.com/...` to the emulator's base URL before sending."""

    def __init__(self, base_url: str) -> None:
        super().__init__()
        self.base_url = base_url

    def send(self, request, **kwargs):
        parts = urlsplit(request.url)
        request.url = self.base_url + parts.path + (f"?{parts.query}" if parts.query else "")
        return super().send(request, **kwargs)


@pytest.fixture
def login_session(new_session, base_url):
    session = new_session()
    session.mount("https://login.salesforce.com", LoginHostAdapter(base_url))
    return session


def test_soap_login_then_rest(login_session, base_url):
    sf = Salesforce(username=ADMIN.username, password=ADMIN.password, security_token="",
                    session=login_session)
    assert sf.sf_instance == urlsplit(base_url).netloc
    assert sf.query("SELECT COUNT() FROM Lead")["totalSize"] == 2


def test_oauth_password_login_then_rest(login_session, base_url):
    sf = Salesforce(username=ADMIN.username, password=ADMIN.password, consumer_key=CONNECTED_APP.client_id,
                    consumer_secret=CONNECTED_APP.client_secret, session=login_session)
    assert sf.base_url.startswith(f"{base_url}/services/data/v")
    assert sf.Contact.create({"LastName": "ViaOAuthLogin"})["success"] is True


def test_expired_session_logs_in_again(login_session, base_url, http):
    sf = Salesforce(username=ADMIN.username, password=ADMIN.password, security_token="",
                    session=login_session)
    first = sf.session_id
    http.post(f"{base_url}/_emulator/expire-sessions").raise_for_status()
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] >= 1
    assert sf.session_id != first


def test_wrong_password_is_authentication_failed(login_session):
    with pytest.raises(SalesforceAuthenticationFailed) as raised:
        Salesforce(username=ADMIN.username, password="nope", security_token="", session=login_session)
    assert raised.value.code == "INVALID_LOGIN"
