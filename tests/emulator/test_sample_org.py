"""The sample org's users and connected app, as `tandem.emulator.sample_org` names them, are the file's."""

from __future__ import annotations

import json

from tandem.emulator.model import Org
from tandem.emulator.sample_org import ADMIN, CONNECTED_APP, LIMITED, REP, SAMPLE_ORG_FILE, SYNC_USER


def test_every_user_of_the_file_is_named_once():
    definition = json.loads(SAMPLE_ORG_FILE.read_text())
    in_file = {(user["username"], user["password"]) for user in definition["users"]}
    assert in_file == {ADMIN, SYNC_USER, REP, LIMITED}
    apps = [(app["clientId"], app["clientSecret"]) for app in definition["connectedApps"]]
    assert apps == [CONNECTED_APP]


def test_each_user_logs_in_through_the_connected_app():
    org = Org.from_file(SAMPLE_ORG_FILE)
    profiles = {ADMIN: "System Administrator", SYNC_USER: "Marketing Sync", REP: "System Administrator", LIMITED: "Limited"}
    for user, profile in profiles.items():
        ctx = org.context(org.login_password(*CONNECTED_APP, *user).access_token)
        assert (ctx.username, ctx.profile) == (user.username, profile)


def test_the_connected_app_runs_as_the_sync_user():
    org = Org.from_file(SAMPLE_ORG_FILE)
    assert org.context(org.login_client_credentials(*CONNECTED_APP).access_token).username == SYNC_USER.username
