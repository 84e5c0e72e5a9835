"""Refresh tokens in the model: which apps get them, which client may use them, and --persist."""

from __future__ import annotations

import json

import pytest

from tandem.emulator.model import Org
from tandem.emulator.model.definition import OrgDefinitionError
from tandem.emulator.model.errors import AuthError
from tandem.emulator.sample_org import ADMIN, CONNECTED_APP, SAMPLE_ORG_FILE

OTHER_APP = {"clientId": "other-app", "clientSecret": "other-secret", "scopes": ["api", "offline_access"],
             "requireSecretForRefresh": False}
ONLINE_APP = {"clientId": "online-app", "clientSecret": "online-secret"}


@pytest.fixture
def apps_org(definition, clock) -> Org:
    definition["connectedApps"] += [OTHER_APP, ONLINE_APP]
    return Org.from_definition(definition, now_ms=clock)


def test_an_app_without_offline_scope_issues_no_refresh_token(apps_org):
    token = apps_org.login_password(ONLINE_APP["clientId"], ONLINE_APP["clientSecret"], *ADMIN)
    assert token.refresh_token is None and token.scopes == ("api",)
    offline = apps_org.login_password(OTHER_APP["clientId"], OTHER_APP["clientSecret"], *ADMIN)
    assert offline.refresh_token and offline.scopes == ("api", "offline_access")


def test_a_refresh_token_belongs_to_the_app_that_got_it(apps_org):
    token = apps_org.login_password(*CONNECTED_APP, *ADMIN)
    with pytest.raises(AuthError) as refused:
        apps_org.login_refresh_token(OTHER_APP["clientId"], OTHER_APP["clientSecret"], token.refresh_token)
    assert (refused.value.error, refused.value.description) == ("invalid_grant", "expired access/refresh token")


def test_an_app_may_allow_refresh_without_its_secret(apps_org):
    token = apps_org.login_password(OTHER_APP["clientId"], OTHER_APP["clientSecret"], *ADMIN)
    renewed = apps_org.login_refresh_token(OTHER_APP["clientId"], None, token.refresh_token)
    assert apps_org.context(renewed.access_token).username == ADMIN.username
    with pytest.raises(AuthError) as refused:
        apps_org.login_refresh_token(OTHER_APP["clientId"], "wrong", token.refresh_token)
    assert refused.value.error == "invalid_client"


def test_a_user_deactivated_since_cannot_refresh(definition, clock, tmp_path):
    org = Org.from_definition(definition, now_ms=clock)
    token = org.login_password(*CONNECTED_APP, *ADMIN)
    org.save_state(tmp_path)
    next(u for u in definition["users"] if u["username"] == ADMIN.username)["active"] = False
    (tmp_path / "org.json").write_text(json.dumps(definition))
    restarted = Org.load_state(tmp_path / "org.json", tmp_path, now_ms=clock)
    with pytest.raises(AuthError) as refused:
        restarted.login_refresh_token(*CONNECTED_APP, token.refresh_token)
    assert (refused.value.error, refused.value.description) == ("invalid_grant", "authentication failure")


def test_refresh_tokens_survive_save_and_load(tmp_path, clock):
    org = Org.from_file(SAMPLE_ORG_FILE, now_ms=clock)
    token = org.login_password(*CONNECTED_APP, *ADMIN)
    org.save_state(tmp_path)
    restored = Org.load_state(SAMPLE_ORG_FILE, tmp_path, now_ms=clock)
    assert restored.context(token.access_token).username == ADMIN.username
    renewed = restored.login_refresh_token(*CONNECTED_APP, token.refresh_token)
    assert restored.context(renewed.access_token).username == ADMIN.username
    restored.revoke_token(token.refresh_token)
    restored.save_state(tmp_path)
    again = Org.load_state(SAMPLE_ORG_FILE, tmp_path, now_ms=clock)
    with pytest.raises(AuthError):
        again.login_refresh_token(*CONNECTED_APP, token.refresh_token)


def test_an_unknown_scope_is_refused_naming_its_place(definition):
    definition["connectedApps"][0]["scopes"] = ["api", "everything"]
    with pytest.raises(OrgDefinitionError) as refused:
        Org.from_definition(definition)
    assert refused.value.path == "connectedApps[0].scopes[1]"
