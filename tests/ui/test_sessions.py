"""Sessions and keys: a changed cookie is ignored, TANDEM_SECRET_KEY signs when set, a signed-out
or expired session is no session; the sign-in page never sends anyone to another site."""

from __future__ import annotations

import html
import re
import time

import pytest

from tandem.people.origin import ChangeOrigin
from tandem.web.ui.passwords import hash_password, matches
from tandem.web.ui.sessions import COOKIE, MAX_AGE_SECONDS, SessionSigner, UiSession
from tests.ui.conftest import PASSWORD, client_for, csrf_token
from tests.ui.conftest import sign_in_client as sign_in


def test_a_changed_cookie_is_no_session(store):
    client = client_for(store)
    assert sign_in(client).status_code == 303
    assert client.get("/ui/", follow_redirects=False).status_code == 200
    cookie = client.cookies[COOKIE]
    client.cookies.clear()
    client.cookies.set(COOKIE, cookie[:-2] + ("AA" if not cookie.endswith("AA") else "BB"), path="/ui")
    assert client.get("/ui/", follow_redirects=False).status_code == 303


def test_the_secret_key_setting_signs_sessions_instead_of_the_stored_key(store):
    with_setting = client_for(store, ui_secret_key="a setting of at least thirty-two characters!")
    assert sign_in(with_setting).status_code == 303
    cookie = with_setting.cookies[COOKIE]
    stored_key = client_for(store)
    stored_key.cookies.set(COOKIE, cookie, path="/ui")
    assert stored_key.get("/ui/", follow_redirects=False).status_code == 303  # another key: not signed in
    same_setting = client_for(store, ui_secret_key="a setting of at least thirty-two characters!")
    same_setting.cookies.set(COOKIE, cookie, path="/ui")
    assert same_setting.get("/ui/", follow_redirects=False).status_code == 200  # a restart keeps sessions


def test_a_wrong_password_or_name_is_refused_alike(store):
    client = client_for(store)
    refused = sign_in(client, password="not the password")
    assert refused.status_code == 401 and "Wrong username or password." in refused.text
    assert client.get("/ui/", follow_redirects=False).status_code == 303
    assert not matches(None, PASSWORD) and not matches("not a hash", PASSWORD)


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/ui/", "/ui/\\evil", "/rest/v1/x",
                                    "/ui/../metrics", "/ui/%2e%2e/metrics", "/ui/%2E%2e/metrics", "/ui/..%2fmetrics",
                                    "/ui/persons/../../metrics", "/ui/..", "/ui/%5cevil.example",
                                    "/ui/%0d%0aSet-Cookie:%20x=1"])
def test_sign_in_never_sends_anyone_elsewhere(store, target):
    assert sign_in(client_for(store), next_page=target).headers["location"] == "/ui/"


@pytest.mark.parametrize(("target", "lands_on"), [
    ("/ui/history?object=Contact", "/ui/history?object=Contact"),
    ("/ui/persons/../errors", "/ui/errors"),
    ("/ui/./fields", "/ui/fields"),
])
def test_sign_in_sends_a_user_on_to_the_ui_page_asked_for(store, target, lands_on):
    client = client_for(store)
    answer = sign_in(client, next_page=target)
    assert answer.headers["location"] == lands_on
    assert client.get(lands_on, follow_redirects=False).status_code == 200


def test_a_page_asked_for_before_sign_in_is_shown_after_it_with_its_whole_query(store):
    client = client_for(store)
    asked = "/ui/errors?level=record&object=Lead&code=A%26B"
    signin_page = client.get(asked)
    assert signin_page.url.path == "/ui/signin"
    token = csrf_token(signin_page.text)
    kept = re.search(r'name="next" value="([^"]*)"', signin_page.text).group(1)
    answer = client.post("/ui/signin", data={"username": "olive", "password": PASSWORD, "csrf_token": token,
                                             "next": html.unescape(kept)}, follow_redirects=False)
    assert answer.headers["location"] == asked



def test_a_short_secret_key_setting_is_refused_without_showing_it(monkeypatch):
    from tandem.config import load_settings
    from tandem.errors import ConfigError

    monkeypatch.setenv("TANDEM_SECRET_KEY", "tiny-key-9")
    with pytest.raises(ConfigError) as refused:
        load_settings()
    assert "TANDEM_SECRET_KEY" in str(refused.value) and "shorter than 32 characters" in str(refused.value)
    assert "tiny-key-9" not in str(refused.value)
    monkeypatch.setenv("TANDEM_SECRET_KEY", "k" * 32)
    assert load_settings().secret_key.get_secret_value() == "k" * 32


def test_pages_are_never_framed_cached_or_fed_outside_scripts(store):
    client = client_for(store)
    for path in ("/ui/signin", "/ui/static/ui.css"):
        headers = client.get(path).headers
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert "default-src 'self'" in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff" and headers["cache-control"] == "no-store"


@pytest.mark.parametrize("path", ["/ui/persons/not-a-number", "/ui/persons/99999", "/ui/no-such-page"])
def test_a_page_that_does_not_exist_is_a_404_page(store, path):
    client = client_for(store)
    assert sign_in(client).status_code == 303
    answer = client.get(path)
    assert answer.status_code == 404 and answer.headers["content-type"].startswith("text/html")


@pytest.mark.parametrize("path", ["/ui/persons/not-a-number", "/ui/no-such-page"])
def test_a_404_page_leads_back_into_the_ui(store, path):
    """Before, a mistyped or broken address showed "no such page" with no menu, no Sign out and no
    link anywhere, to the signed-in operator too: a dead end."""
    client = client_for(store)
    anonymous = client.get(path)
    assert anonymous.status_code == 404 and '<a href="/ui/">Dashboard</a>' in anonymous.text
    assert "Sign out" not in anonymous.text
    assert sign_in(client).status_code == 303
    client.get("/ui/")  # the sign-in's notice is shown once, there
    answer = client.get(path)
    assert answer.status_code == 404 and '<nav aria-label="Main">' in answer.text
    assert '<a href="/ui/history">Sync history</a>' in answer.text and "Sign out" in answer.text


@pytest.mark.parametrize("path", ["/ui/pause", "/ui/persons/1/sync", "/ui/errors/1/retry", "/ui/signout"])
def test_opening_an_action_s_address_is_a_page_saying_to_use_its_button(store, path):
    """Before, opening an action's address (reloading it from the address bar after its post was
    refused, as after Sign out in another tab) answered the raw JSON {"detail":"Method Not Allowed"}."""
    client = client_for(store)
    assert sign_in(client).status_code == 303
    client.get("/ui/")
    answer = client.get(path)
    assert answer.status_code == 405 and answer.headers["content-type"].startswith("text/html")
    assert "this address is where a form sends its post: use the button on the page" in html.unescape(answer.text)
    assert '<nav aria-label="Main">' in answer.text and answer.headers["allow"] == "POST"


def test_a_copy_of_the_cookie_kept_after_sign_out_is_no_session(store):
    store.ui_accounts.add("vera", hash_password(PASSWORD), "operator")
    client, other = client_for(store), client_for(store)
    assert sign_in(client).status_code == 303 and sign_in(other, username="vera").status_code == 303
    token = csrf_token(client.get("/ui/").text)
    kept = client.cookies[COOKIE]
    assert client.post("/ui/signout", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    assert client.get("/ui/", follow_redirects=False).status_code == 303

    replay = client_for(store)
    replay.cookies.set(COOKIE, kept, path="/ui")
    answer = replay.get("/ui/", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/ui/signin")
    for path in ("/ui/pause", "/ui/sync-now"):
        replay.cookies.set(COOKIE, kept, path="/ui")
        refused = replay.post(path, data={"csrf_token": token, "reason": "replayed"}, follow_redirects=False)
        assert refused.status_code == 401 and "sign in first" in refused.text, path
    assert store.sync_pause.current() is None and store.steps.recent() == []

    assert other.get("/ui/", follow_redirects=False).status_code == 200  # another user's session lives on
    assert sign_in(client).status_code == 303  # and signing in again works
    replay.cookies.set(COOKIE, kept, path="/ui")
    replay.post("/ui/signout", data={"csrf_token": token}, follow_redirects=False)  # the copy ends nothing
    assert client.get("/ui/", follow_redirects=False).status_code == 200


def test_a_post_from_another_tab_after_sign_out_there_is_a_401_not_a_stale_token(store):
    """Before, the other tab's form carried the ended session's token and was refused 403 "reload"."""
    browser = client_for(store)  # one cookie jar: two tabs of one browser
    assert sign_in(browser).status_code == 303
    person = store.persons.add({"email": "tab@ui.example", "lastName": "Tab"}, origin=ChangeOrigin.CLI)
    other_tab = csrf_token(browser.get(f"/ui/persons/{person.id}").text)
    stale = browser.post("/ui/pause", data={"csrf_token": "forged", "reason": "x"}, follow_redirects=False)
    assert stale.status_code == 403 and "security token is missing or stale" in stale.text  # a live session's
    signout_tab = csrf_token(browser.get("/ui/").text)
    assert browser.post("/ui/signout", data={"csrf_token": signout_tab}, follow_redirects=False).status_code == 303

    for path in ("/ui/pause", "/ui/resume", "/ui/sync-now", "/ui/errors/retry-all", "/ui/errors/1/retry",
                 f"/ui/persons/{person.id}/sync", f"/ui/persons/{person.id}/convert"):
        refused = browser.post(path, data={"csrf_token": other_tab, "reason": "from the other tab"},
                               follow_redirects=False)
        assert refused.status_code == 401 and "sign in first" in refused.text, path
    assert store.sync_pause.current() is None and store.steps.recent() == []
    assert store.persons.get(person.id).link.sfdc_id is None


def test_sign_out_from_another_tab_after_sign_out_there_signs_out_not_a_stale_token(store):
    """Before, the second Sign out carried the ended session's token and was refused 403 "reload"."""
    browser = client_for(store)
    assert sign_in(browser).status_code == 303
    other_tab = csrf_token(browser.get("/ui/").text)
    assert browser.post("/ui/signout", data={"csrf_token": csrf_token(browser.get("/ui/").text)},
                        follow_redirects=False).status_code == 303
    again = browser.post("/ui/signout", data={"csrf_token": other_tab}, follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"] == "/ui/signin"
    assert browser.get("/ui/", follow_redirects=False).status_code == 303  # still signed out
    assert sign_in(browser).status_code == 303  # and signing in again works
    live = browser.post("/ui/signout", data={"csrf_token": "forged"}, follow_redirects=False)
    assert live.status_code == 403  # a live session is signed out only with its own token
    assert browser.get("/ui/", follow_redirects=False).status_code == 200


def test_a_session_ends_twelve_hours_after_sign_in_however_often_it_is_used(store):
    client = client_for(store)
    signer = SessionSigner(store.ui_accounts.signing_key)
    olive_since = store.ui_accounts.get("olive").created_at.timestamp()

    def began(seconds_ago: float) -> str:
        return signer.dumps(UiSession("olive", "token", signed_in_at=time.time() - seconds_ago, user_since=olive_since))

    client.cookies.set(COOKIE, began(MAX_AGE_SECONDS - 60), path="/ui")
    page = client.get("/ui/", follow_redirects=False)
    assert page.status_code == 200
    assert 0 < int(page.headers["set-cookie"].split("Max-Age=")[1].split(";")[0]) <= 60  # not renewed
    client.cookies.clear()
    client.cookies.set(COOKIE, began(MAX_AGE_SECONDS + 1), path="/ui")  # its signature is fresh, its session not
    assert client.get("/ui/", follow_redirects=False).status_code == 303


def test_ten_failed_sign_ins_hold_sign_in_back_before_any_password_is_checked(store):
    """Before, sign-in had no limit: any number of guesses, each costing a password hash."""
    client = client_for(store)
    for _ in range(10):
        assert sign_in(client, password="not the password").status_code == 401
    held = sign_in(client)  # the right password, refused too: the answer must not tell a guess was right
    assert held.status_code == 429 and 1 <= int(held.headers["retry-after"]) <= 60
    assert "Too many failed sign-ins; try again in" in held.text
    assert client.get("/ui/", follow_redirects=False).status_code == 303  # still not signed in


@pytest.mark.parametrize("username", ["olive", "<b>nobody</b>"])
def test_a_refused_sign_in_keeps_the_username_typed_and_asks_for_the_password_again(page, username):
    """Before, the form came back empty, so the username had to be typed again after a mistyped
    password; the password is never sent back."""
    from playwright.sync_api import expect

    page.goto("/ui/signin")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("Wrong username or password.")
    expect(page.get_by_label("Username")).to_have_value(username)
    expect(page.get_by_label("Password")).to_have_value("")
    expect(page.get_by_label("Password")).to_be_focused()
    assert "not the password" not in page.content()
