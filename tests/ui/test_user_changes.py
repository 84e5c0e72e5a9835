"""A new password or a removal (`tandem user password`, `tandem user remove`, run in a process of
their own) ends the user's open sessions at once, in every `tandem serve` on the database: the next
page leads to sign-in and the next post is refused 401."""

from __future__ import annotations

from tandem.people.store import PersonStore
from tandem.web.ui.passwords import hash_password
from tandem.web.ui.sessions import COOKIE
from tests.cli.running import tandem
from tests.ui.conftest import PASSWORD, client_for, csrf_token
from tests.ui.conftest import sign_in_client as sign_in


def _signed_out(client, token: str) -> bool:
    page = client.get("/ui/", follow_redirects=False)
    post = client.post("/ui/pause", data={"csrf_token": token, "reason": "after the change"}, follow_redirects=False)
    return (page.status_code == 303 and page.headers["location"].startswith("/ui/signin")
            and post.status_code == 401)


def test_a_new_password_ends_the_users_open_sessions_in_every_server(either_store, database_url, tmp_path):
    second_server = PersonStore(database_url)  # another `tandem serve` on the same database
    try:
        either_store.ui_accounts.add("vera", hash_password(PASSWORD), "operator")
        here, there, other_user = client_for(either_store), client_for(second_server), client_for(either_store)
        for client in (here, there):
            assert sign_in(client).status_code == 303
        assert sign_in(other_user, username="vera").status_code == 303
        tokens = [csrf_token(client.get("/ui/").text) for client in (here, there)]

        changed = tandem(tmp_path, "user", "password", "olive", "--password-stdin", stdin="olive's new password\n",
                         env={"TANDEM_DATABASE_URL": database_url})
        assert changed.returncode == 0, changed.stderr
        assert _signed_out(here, tokens[0]) and _signed_out(there, tokens[1])
        assert either_store.sync_pause.current() is None
        assert other_user.get("/ui/", follow_redirects=False).status_code == 200  # vera's session lives on

        assert sign_in(here).status_code == 401  # the old password no longer signs in
        assert sign_in(here, password="olive's new password").status_code == 303
        assert here.get("/ui/", follow_redirects=False).status_code == 200
    finally:
        second_server.close()


def test_removing_a_user_ends_their_open_sessions_even_once_the_name_is_added_again(either_store, database_url,
                                                                                   tmp_path):
    second_server = PersonStore(database_url)
    try:
        here, there = client_for(either_store), client_for(second_server)
        for client in (here, there):
            assert sign_in(client).status_code == 303
        tokens = [csrf_token(client.get("/ui/").text) for client in (here, there)]
        kept = here.cookies[COOKIE]

        removed = tandem(tmp_path, "user", "remove", "olive", env={"TANDEM_DATABASE_URL": database_url})
        assert removed.returncode == 0, removed.stderr
        assert "nobody can sign in" in removed.stderr  # olive was the only user
        assert _signed_out(here, tokens[0]) and _signed_out(there, tokens[1])

        # the same name added again (to give it another role, say) is a new user: the old cookie is no session
        either_store.ui_accounts.add("olive", hash_password(PASSWORD), "viewer")
        replay = client_for(second_server)
        replay.cookies.set(COOKIE, kept, path="/ui")
        assert _signed_out(replay, tokens[0])
        assert either_store.sync_pause.current() is None
        assert sign_in(here).status_code == 303 and here.get("/ui/", follow_redirects=False).status_code == 200
    finally:
        second_server.close()
