"""Each way a connection or a login fails is one line: the cause, then what to set or click."""

from __future__ import annotations

import socket

import pytest
import requests

from tandem.errors import AuthenticationFailed, Unreachable
from tandem.salesforce.auth import Credentials, login
from tandem.salesforce.errors import error_for
from tandem.salesforce.http import PinnedSession
from tandem.salesforce.network import connection_failure


def test_an_org_that_accepts_but_never_answers_times_out_with_a_hint():
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        url = f"https://127.0.0.1:{silent.getsockname()[1]}"
        with pytest.raises(Unreachable) as caught:
            login(PinnedSession(timeout=0.5, connect_timeout=0.5), Credentials(login_url=url, client_id="app"))
    assert str(caught.value) == f"{url} did not answer in time"
    assert "firewall, proxy" in caught.value.hint


def test_dns_and_refused_are_told_apart():
    session = PinnedSession(timeout=2, connect_timeout=2)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    for url, expected in ((f"https://127.0.0.1:{port}", "refused the connection"),
                          ("https://tandem-failures.invalid", "cannot be found (DNS)")):
        try:
            session.get(url)
        except requests.RequestException as error:
            failure = connection_failure(url, error)
        else:  # pragma: no cover - the request must fail
            pytest.fail(f"{url} answered")
        assert expected in str(failure) and failure.hint


def test_a_proxy_that_cannot_be_reached_is_named_not_the_org(monkeypatch):
    """Before, a dead HTTPS_PROXY read as the org refusing the connection, with a fix in TANDEM_SF_LOGIN_URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", f"http://proxy-user:pr0xy-s3cret@127.0.0.1:{port}")
    url = "https://yourcompany.my.salesforce.example"
    with pytest.raises(Unreachable) as caught:
        login(PinnedSession(timeout=2, connect_timeout=2), Credentials(login_url=url, client_id="app"))
    shown = f"{caught.value}; {caught.value.hint}"
    assert "proxy" in str(caught.value) and "HTTPS_PROXY" in caught.value.hint
    assert "TANDEM_SF_LOGIN_URL" not in shown and "s3cret" not in shown


@pytest.mark.parametrize(("code", "description", "expected"), [
    ("invalid_grant", "authentication failure", "TANDEM_SF_SECURITY_TOKEN"),
    ("invalid_grant", "user is locked out", "unlock it in Setup > Users"),
    ("invalid_client_id", "client identifier invalid", "TANDEM_SF_CLIENT_ID"),
    ("invalid_client", "invalid client credentials", "TANDEM_SF_CLIENT_SECRET"),
    ("unsupported_grant_type", "grant type not supported", "Allow OAuth Username-Password Flows"),
    ("invalid_grant", "no client credentials user enabled", "Run As user"),
])
def test_a_refused_login_names_its_fix(code, description, expected):
    error = AuthenticationFailed(description, status=400, error_code=code)
    assert expected in error.hint
    assert str(error) == f"{code}: {description}"


def test_a_refused_login_against_the_emulator_says_what_to_check(base_url, ca_path):
    from pydantic import SecretStr

    from tandem.emulator.sample_org import CONNECTED_APP, SYNC_USER

    credentials = Credentials(login_url=base_url, client_id=CONNECTED_APP.client_id,
                              client_secret=SecretStr(CONNECTED_APP.client_secret), username=SYNC_USER.username,
                              password=SecretStr("not-the-password"))
    with pytest.raises(AuthenticationFailed) as caught:
        login(PinnedSession(ca_path), credentials)
    assert "TANDEM_SF_PASSWORD" in caught.value.hint and "not-the-password" not in str(caught.value)


@pytest.mark.parametrize(("code", "expected"), [
    ("API_CURRENTLY_DISABLED", "API Enabled"),
    ("INSUFFICIENT_ACCESS", "read and edit access to Lead, Contact and Account"),
    ("API_DISABLED_FOR_ORG", "edition"),
])
def test_a_missing_permission_names_the_permission(code, expected):
    error = error_for(403, [{"errorCode": code, "message": "not allowed"}])
    assert expected in error.hint
