"""`tandem check` against the emulator served as a real org: good, limited and refused users, an
unreachable URL and an untrusted certificate."""

from __future__ import annotations

import json
import socket

import trustme

from tandem.emulator.sample_org import LIMITED, SYNC_USER, UserLogin
from tests.cli.running import flat, org_env, tandem

TOOLING_404 = "does not answer the Tooling API"
NO_SETUP = "may not read setup"


def test_good_user_can_sync(tmp_path, base_url, ca_path, reset_emulator):
    result = tandem(tmp_path, "check", env=org_env(base_url, ca_path, SYNC_USER))
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "logged in as sync@sample.example" in out
    assert "Sync user: Tandem Sync <sync@sample.example>" in out
    assert "API usage: " in out and " of 100000 calls" in out
    assert "Lead.Tandem_Person_Id__c: the link field is there and writable" in out
    assert "Contact.Tandem_Person_Id__c: the link field is there and writable" in out
    assert "converted leads get status 'Closed - Converted'" in out
    assert "Lead.Credit_Score__c: read-only for the sync user" in out
    assert "A sync can run" in out
    assert not (tmp_path / "tandem.db").exists()
    assert all(len(line) <= 80 for line in out.splitlines())


def test_limited_user_is_told_which_fields_will_not_sync(tmp_path, base_url, ca_path, reset_emulator):
    result = tandem(tmp_path, "check", "--json", env=org_env(base_url, ca_path, LIMITED))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["canSync"] is True
    assert report["user"]["username"] == LIMITED.username
    for name in ("Lead", "Contact"):
        lead = report["objects"][name]
        assert "Title" in lead["readOnlyFields"]
        subjects = {f["subject"]: f for f in report["findings"]}
        assert subjects[f"{name}.Title"]["text"] == "read-only for the sync user: pulled, never pushed"
        assert "Field-Level Security" in subjects[f"{name}.Title"]["fix"]
        if lead["hiddenFields"] is None:
            assert lead["hiddenFieldsUnknownBecause"]
        else:
            assert "Favorite_Color__c" in lead["hiddenFields"]
            assert {"object": name, "field": "Favorite_Color__c",
                    "reason": "hidden from the sync user (field-level security): never synced"} in report["fieldsNotSynced"]
    text = tandem(tmp_path, "check", env=org_env(base_url, ca_path, LIMITED)).stdout
    assert "warn Lead.Title: read-only for the sync user" in flat(text)


def test_hidden_fields_are_listed_through_the_tooling_api_or_said_why_not(tmp_path, base_url, ca_path, reset_emulator):
    """Needs the emulator's Tooling API (FieldDefinition): a 404 from `tooling/query` fails it."""
    report = json.loads(tandem(tmp_path, "check", "--json", env=org_env(base_url, ca_path, LIMITED)).stdout)
    lead = report["objects"]["Lead"]
    if lead["hiddenFields"] is not None:
        assert "Favorite_Color__c" in lead["hiddenFields"]
    else:
        assert NO_SETUP in lead["hiddenFieldsUnknownBecause"]
        assert TOOLING_404 not in lead["hiddenFieldsUnknownBecause"]


def test_bad_password_is_explained_in_one_line_with_its_fix(tmp_path, base_url, ca_path, reset_emulator):
    result = tandem(tmp_path, "check", env=org_env(base_url, ca_path, UserLogin(SYNC_USER.username, "wrong")))
    assert result.returncode == 1
    assert "FAIL login: invalid_grant: authentication failure" in flat(result.stdout)
    assert "TANDEM_SF_SECURITY_TOKEN" in result.stdout
    assert "wrong" not in result.stdout + result.stderr
    assert "A sync cannot run: 1 problem(s)" in result.stdout


def test_a_client_secret_left_unset_is_said_to_be_unset_not_wrong(tmp_path, base_url, ca_path, reset_emulator):
    """Before, a connected app refusing a login with no secret sent was answered `TANDEM_SF_CLIENT_SECRET is
    not the connected app's Consumer Secret`, sending the user to compare a secret they never set."""
    env = org_env(base_url, ca_path, SYNC_USER)
    del env["TANDEM_SF_CLIENT_SECRET"]
    unset = tandem(tmp_path, "check", env=env)
    assert unset.returncode == 1
    said = flat(unset.stdout)
    assert ("FAIL login: invalid_client: invalid client credentials fix: TANDEM_SF_CLIENT_SECRET is not set, and "
            "this connected app needs its Consumer Secret (Setup > App Manager > the app > View > Manage Consumer "
            "Details)") in said, said
    wrong = flat(tandem(tmp_path, "check", env={**env, "TANDEM_SF_CLIENT_SECRET": "not-the-s3cret"}).stdout)
    assert "fix: TANDEM_SF_CLIENT_SECRET is not the connected app's Consumer Secret" in wrong
    assert "s3cret" not in wrong


def test_an_api_version_the_org_does_not_serve_is_named_not_blamed_on_permissions(tmp_path, base_url, ca_path,
                                                                                  reset_emulator):
    """Before, every describe's 404 read as "give the sync user Read and Edit on Lead"."""
    result = tandem(tmp_path, "check", env=org_env(base_url, ca_path, SYNC_USER, TANDEM_SF_API_VERSION="99.0"))
    assert result.returncode == 1
    out = flat(result.stdout)
    assert "FAIL API version: the org does not serve API version 99.0 (it serves 20.0 to 62.0)" in out
    assert "fix: set TANDEM_SF_API_VERSION to one of them, such as 62.0" in out
    assert "Read and Edit" not in out and "A sync cannot run: 1 problem(s)" in out


def test_a_sync_on_an_api_version_the_org_does_not_serve_says_what_to_set(tmp_path, base_url, ca_path,
                                                                           reset_emulator):
    """Before, every step failed on its own with only "NOT_FOUND: The requested resource does not exist"."""
    env = org_env(base_url, ca_path, SYNC_USER, TANDEM_SF_API_VERSION="99.0")
    assert tandem(tmp_path, "init").returncode == 0
    synced = tandem(tmp_path, "sync", env=env)
    assert synced.returncode == 1 and "Traceback" not in synced.stderr
    said = ("NOT_FOUND: the org does not serve API version 99.0 (it serves 20.0 to 62.0); "
            "set TANDEM_SF_API_VERSION to one of them, such as 62.0")
    assert f"FAILED: {said}" in flat(synced.stderr)
    status = json.loads(tandem(tmp_path, "status", "--json", env=env).stdout)
    assert [error["message"] for error in status["errors"]] == [said]  # the cycle ended at its first step
    assert [step["status"] for step in status["lastCycle"]["steps"]] == ["Failed"]


def test_a_login_url_with_a_path_is_said_to_be_no_login_url(tmp_path, base_url, ca_path, reset_emulator):
    """Before, its token endpoint's REST 404 (a JSON list) ended in an AttributeError traceback."""
    env = org_env(base_url + "/services", ca_path, SYNC_USER)
    checked = tandem(tmp_path, "check", env=env)
    assert checked.returncode == 1 and "Traceback" not in checked.stderr
    out = flat(checked.stdout)
    assert (f"FAIL login: {base_url}/services/services/oauth2/token answered HTTP 404 without an OAuth token or "
            "error: it is no Salesforce login URL") in out
    assert "fix: set TANDEM_SF_LOGIN_URL to the org's login URL, with no path" in out
    assert tandem(tmp_path, "init").returncode == 0
    synced = tandem(tmp_path, "sync", env=env)
    assert synced.returncode == 1 and "Traceback" not in synced.stderr
    assert "FAILED: " in synced.stderr and "it is no Salesforce login URL" in synced.stderr


def test_refused_port_and_unknown_host_are_explained(tmp_path, ca_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    refused = tandem(tmp_path, "check", env=org_env(f"https://127.0.0.1:{port}", ca_path, SYNC_USER))
    assert refused.returncode == 1
    assert f"https://127.0.0.1:{port} refused the connection" in flat(refused.stdout)
    assert "check the port and scheme in" in flat(refused.stdout)
    unknown = tandem(tmp_path, "check", env=org_env("https://tandem-check.invalid", ca_path, SYNC_USER))
    assert unknown.returncode == 1
    assert "tandem-check.invalid cannot be found (DNS)" in flat(unknown.stdout)


def test_untrusted_certificate_is_explained(tmp_path, base_url):
    other_ca = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other_ca))
    result = tandem(tmp_path, "check", env=org_env(base_url, other_ca, SYNC_USER))
    assert result.returncode == 1
    assert f"the certificate of {base_url} is not trusted: no trusted CA signs its certificate" in flat(result.stdout)
    assert "TANDEM_SF_CA_BUNDLE" in result.stdout


def test_an_org_without_the_link_field_cannot_sync_and_is_told_how_to_create_it(tmp_path):
    from tandem.emulator.model import Org
    from tandem.emulator.sample_org import SAMPLE_ORG_FILE
    from tandem.emulator.server import EmulatorServer

    definition = json.loads(SAMPLE_ORG_FILE.read_text())
    definition["customFields"]["Lead"] = [f for f in definition["customFields"]["Lead"]
                                          if f["name"] != "Tandem_Person_Id__c"]
    org_file = tmp_path / "no-link-field.json"
    org_file.write_text(json.dumps(definition))
    server = EmulatorServer(Org.from_file(org_file), port=0, state_dir=tmp_path / "state")
    base_url = server.start()
    try:
        result = tandem(tmp_path, "check", "--json", env=org_env(base_url, server.ca_path, SYNC_USER))
    finally:
        server.stop()
    assert result.returncode == 1, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["canSync"] is False
    [problem] = [f for f in report["findings"] if f["level"] == "problem"]
    assert problem["subject"] == "Lead.Tandem_Person_Id__c"
    assert problem["text"].startswith("the link field is missing")
    assert "Setup > Object Manager > Lead > Fields & Relationships > New" in problem["fix"]
    assert "External ID, Unique" in problem["fix"]
    assert {f["subject"]: f["level"] for f in report["findings"]}["Contact.Tandem_Person_Id__c"] == "ok"


def test_fields_hidden_from_the_sync_user_are_listed_by_check_and_fields(tmp_path, base_url, ca_path, reset_emulator):
    """Needs the emulator's Tooling API (FieldDefinition, readable by the sync user): fails on a 404."""
    env = org_env(base_url, ca_path, SYNC_USER)
    report = json.loads(tandem(tmp_path, "check", "--json", env=env).stdout)
    for name in ("Lead", "Contact"):
        assert report["objects"][name]["hiddenFields"] == ["Internal_Notes__c"], report["objects"][name]
    assert tandem(tmp_path, "init", env=env).returncode == 0
    listed = tandem(tmp_path, "fields", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    hidden = {(r["object"], r["field"]): r["reason"] for r in json.loads(listed.stdout) if r["direction"] == "none"}
    for name in ("Lead", "Contact"):
        assert hidden[(name, "Internal_Notes__c")] == "hidden from the sync user (field-level security): never synced"


def test_fields_with_a_refused_login_fails_in_one_line_not_as_a_tooling_refusal(tmp_path, base_url, ca_path, reset_emulator):
    """Before, `tandem fields` listed the kept describes, said the Tooling API refused, and exited 0."""
    assert tandem(tmp_path, "init").returncode == 0
    assert tandem(tmp_path, "sync", env=org_env(base_url, ca_path, SYNC_USER)).returncode == 0
    refused = tandem(tmp_path, "fields", env=org_env(base_url, ca_path, UserLogin(SYNC_USER.username, "s3cret-typo")))
    assert refused.returncode == 1
    assert refused.stderr.startswith("Error: invalid_grant: authentication failure; check TANDEM_SF_USERNAME")
    assert len(refused.stderr.splitlines()) == 1
    assert "Tooling API" not in refused.stdout + refused.stderr and "s3cret" not in refused.stdout + refused.stderr


def test_fields_shows_a_field_added_since_the_last_describe_as_new_not_hidden(tmp_path, base_url, ca_path, emulator,
                                                                              reset_emulator, sf):
    """Before, `tandem fields` compared the Tooling API's list with the describes kept for an hour and
    called a field added meanwhile, visible to the sync user, hidden from it."""
    env = org_env(base_url, ca_path, SYNC_USER, TANDEM_SYNC_COMMIT_LAG_SECONDS="0")
    assert tandem(tmp_path, "init", env=env).returncode == 0
    assert tandem(tmp_path, "sync", env=env).returncode == 0
    try:
        emulator.org.define_custom_field("Contact", {"name": "Segment__c", "label": "Segment", "type": "string",
                                                    "length": 40})
        wile = sf.query("SELECT Id FROM Contact WHERE Email = 'wile@acme.example'")["records"][0]["Id"]
        sf.Contact.update(wile, {"Segment__c": "Enterprise"})
        listed = tandem(tmp_path, "fields", "--json", env=env)
        assert listed.returncode == 0, listed.stderr
        row = next(r for r in json.loads(listed.stdout) if (r["object"], r["field"]) == ("Contact", "Segment__c"))
        assert row["type"] == "string" and "next sync schema step" in row["reason"], row
        assert tandem(tmp_path, "sync", env=env).returncode == 0
        shown = tandem(tmp_path, "person", "show", "wile@acme.example", "--json", env=env)
        assert shown.returncode == 0, shown.stderr
        shown = json.loads(shown.stdout)
        assert shown["Segment__c"] == "Enterprise"
    finally:
        emulator.org.reset()
