"""Logins, sessions and the daily API-request limit."""

from __future__ import annotations

import pytest

from tandem.emulator.model import AuthError, InvalidSession, LimitExceeded, Org
from tandem.emulator.sample_org import ADMIN, CONNECTED_APP, SYNC_USER


def test_password_login_opens_a_session_for_that_user(org):
    token = org.login_password(*CONNECTED_APP, *SYNC_USER)
    ctx = org.context(token.access_token)
    assert (ctx.user_id, ctx.username, ctx.profile, ctx.org_id) == (token.user_id, SYNC_USER.username,
                                                                     "Marketing Sync", org.org_id)
    assert token.access_token.startswith(org.org_id[:15] + "!")
    assert token.access_token not in repr(token) and isinstance(token.issued_at, int)


@pytest.mark.parametrize(("client_id", "secret", "username", "password", "error"), [
    ("nope", CONNECTED_APP.client_secret, *SYNC_USER, "invalid_client_id"),
    (CONNECTED_APP.client_id, "wrong", *SYNC_USER, "invalid_client"),
    (*CONNECTED_APP, SYNC_USER.username, "wrong", "invalid_grant"),
    (*CONNECTED_APP, "ghost@sample.example", SYNC_USER.password, "invalid_grant"),
])
def test_bad_logins(org, client_id, secret, username, password, error):
    with pytest.raises(AuthError) as caught:
        org.login_password(client_id, secret, username, password)
    assert caught.value.error == error and caught.value.status == 400
    if error == "invalid_grant":
        assert caught.value.description == "authentication failure"


def test_security_token_is_accepted_when_the_file_gives_one(definition):
    definition["users"][1]["securityToken"] = "TOKEN123"
    org = Org.from_definition(definition)
    assert org.login_username_password(SYNC_USER.username, SYNC_USER.password + "TOKEN123").user_id
    assert org.login_username_password(*SYNC_USER).user_id
    with pytest.raises(AuthError):
        org.login_username_password(SYNC_USER.username, SYNC_USER.password + "WRONG")


def test_client_credentials_run_as_the_apps_user(org):
    token = org.login_client_credentials(*CONNECTED_APP)
    assert org.context(token.access_token).username == SYNC_USER.username
    with pytest.raises(AuthError):
        org.login_client_credentials(CONNECTED_APP.client_id, "bad")


def test_sessions_expire(org):
    first = org.login_username_password(*ADMIN).access_token
    second = org.login_username_password(*SYNC_USER).access_token
    assert first != second
    org.expire_session(first)
    with pytest.raises(InvalidSession) as caught:
        org.context(first)
    assert (caught.value.status, caught.value.error_code) == (401, "INVALID_SESSION_ID")
    assert org.context(second)
    org.expire_all_sessions()
    with pytest.raises(InvalidSession):
        org.context(second)
    with pytest.raises(InvalidSession):
        org.context("made-up")


def test_user_info(org, sync):
    info = org.user_info(sync)
    assert info["user_id"] == sync.user_id and info["organization_id"] == org.org_id
    assert info["preferred_username"] == SYNC_USER.username and info["name"] == "Tandem Sync"
    assert info["given_name"] == "Tandem" and info["family_name"] == "Sync" and info["user_type"] == "STANDARD"


def test_daily_api_limit_over_a_rolling_day(definition, clock):
    definition["limits"]["DailyApiRequests"] = 3
    org = Org.from_definition(definition, now_ms=clock)
    for _ in range(3):
        org.count_api_call()
    assert org.api_usage() == (3, 3)
    with pytest.raises(LimitExceeded) as caught:
        org.count_api_call()
    assert (caught.value.status, caught.value.error_code, caught.value.message) == \
        (403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
    assert org.limits()["DailyApiRequests"] == {"Max": 3, "Remaining": 0}
    clock.advance(24 * 3600 * 1000 + 1)
    assert org.api_usage() == (0, 3)
    org.count_api_call()


def test_limits_body(org):
    org.count_api_call()
    body = org.limits()
    assert body["DailyApiRequests"] == {"Max": 100000, "Remaining": 99999}
    for name in ("DailyBulkV2QueryJobs", "DataStorageMB", "DailyBulkApiBatches", "FileStorageMB"):
        assert set(body[name]) == {"Max", "Remaining"}
