"""`tandem user ...` as an operator runs it: add, list, a new password and a removal, on the
database of the folder's settings; no password hash is ever printed."""

from __future__ import annotations

import json

import pytest

from tandem.people.store import PersonStore
from tandem.web.ui.passwords import matches
from tests.cli.running import tandem


@pytest.fixture
def folder(tmp_path):
    env = {"TANDEM_DATABASE_URL": f"sqlite:///{tmp_path / 'tandem.db'}"}
    assert tandem(tmp_path, "init", env=env).returncode == 0

    def run(*args: str, stdin: str | None = None):
        return tandem(tmp_path, "user", *args, env=env, stdin=stdin)

    store = PersonStore(env["TANDEM_DATABASE_URL"])
    yield run, store
    store.close()


def test_user_list_shows_names_roles_and_when_each_was_added_never_a_hash(folder):
    user, store = folder
    empty = user("list")
    assert empty.returncode == 0 and "No web UI users: add one with `tandem user add NAME`." in empty.stdout
    assert json.loads(user("list", "--json").stdout) == []
    assert user("add", "olive", "--role", "operator", "--password-stdin", stdin="olive's long password\n").returncode == 0
    assert user("add", "ann.lee@example", "--password-stdin", stdin="ann's long password\n").returncode == 0

    listed = user("list")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert [line.split()[:2] for line in lines] == [["ann.lee@example", "viewer"], ["olive", "operator"]]
    assert all(len(line) <= 80 for line in lines)
    as_json = json.loads(user("list", "--json").stdout)
    olive = store.ui_accounts.get("olive")
    assert as_json[1] == {"username": "olive", "role": "operator", "createdAt": olive.created_at.isoformat()}
    assert [u["username"] for u in as_json] == ["ann.lee@example", "olive"]
    for output in (listed.stdout, json.dumps(as_json)):
        assert "argon2" not in output and olive.password_hash not in output


def test_user_password_sets_a_new_password_and_refuses_an_unknown_user_before_asking(folder):
    user, store = folder
    assert user("add", "olive", "--password-stdin", stdin="olive's long password\n").returncode == 0
    before = store.ui_accounts.get("olive")

    unknown = user("password", "oliver", "--password-stdin", stdin="a new long password\n")
    assert unknown.returncode == 1 and unknown.stderr.strip() == "Error: no web UI user named 'oliver'"
    short = user("password", "olive", "--password-stdin", stdin="short\n")
    assert short.returncode == 1 and "password: shorter than 10 characters" in short.stderr
    assert store.ui_accounts.get("olive") == before

    changed = user("password", "olive", "--password-stdin", stdin="a new long password\n")
    assert changed.returncode == 0, changed.stderr
    assert changed.stdout.strip() == "changed the password of olive; their open sessions are ended"
    after = store.ui_accounts.get("olive")
    assert matches(after.password_hash, "a new long password") and not matches(after.password_hash, "olive's long password")
    assert after.sessions_ended == before.sessions_ended + 1 and after.role == before.role

    typed_twice = user("password", "olive", stdin="typed at the prompt\ntyped at the prompt\n")
    assert typed_twice.returncode == 0, typed_twice.stderr
    assert matches(store.ui_accounts.get("olive").password_hash, "typed at the prompt")
    assert "typed at the prompt" not in typed_twice.stdout


def test_user_remove_removes_the_user_and_warns_when_nobody_is_left(folder):
    user, store = folder
    for name in ("olive", "victor"):
        assert user("add", name, "--password-stdin", stdin="a long enough password\n").returncode == 0

    unknown = user("remove", "nobody")
    assert unknown.returncode == 1 and unknown.stderr.strip() == "Error: no web UI user named 'nobody'"
    removed = user("remove", "victor")
    assert removed.returncode == 0 and removed.stdout.strip() == "removed victor; their open sessions are ended"
    assert removed.stderr == ""
    assert [u.username for u in store.ui_accounts.all()] == ["olive"]
    again = user("remove", "victor")
    assert again.returncode == 1 and "no web UI user named 'victor'" in again.stderr

    last = user("remove", "olive")
    assert last.returncode == 0 and last.stdout.strip() == "removed olive; their open sessions are ended"
    assert "Warning: no web UI user is left: nobody can sign in" in last.stderr
    assert store.ui_accounts.all() == []
    assert user("add", "olive", "--password-stdin", stdin="a long enough password\n").returncode == 0


def test_a_prompt_whose_input_ends_says_how_to_give_the_password_instead_of_aborted(folder):
    """Before, with no terminal and nothing piped in (`docker compose run` without -t), the prompt
    ended with click's bare `Aborted!` after Python's GetPassWarning and its source line."""
    user, store = folder
    for args, stdin in ((("add", "olive"), ""), (("add", "olive"), "typed only once\n")):
        ended = user(*args, stdin=stdin)
        assert ended.returncode == 1
        assert ended.stderr.strip().splitlines()[-1] == (
            "Error: password: the input ended before a password was typed twice; type it at a terminal, "
            "or pipe it in with --password-stdin")
        assert "Aborted" not in ended.stderr and "GetPassWarning" not in ended.stderr
    assert store.ui_accounts.all() == []
    assert user("add", "olive", "--password-stdin", stdin="a long enough password\n").returncode == 0
    before = store.ui_accounts.get("olive")
    ended = user("password", "olive", stdin="")
    assert ended.returncode == 1 and "pipe it in with --password-stdin" in ended.stderr
    assert store.ui_accounts.get("olive") == before


def test_a_name_already_taken_is_refused_before_the_password_is_asked_for(folder):
    """Before, `user add olive` for an existing olive asked for the new password twice, then refused."""
    user, store = folder
    assert user("add", "olive", "--password-stdin", stdin="olive's long password\n").returncode == 0
    before = store.ui_accounts.get("olive")
    taken = user("add", "olive", "--role", "operator", stdin="another long password\nanother long password\n")
    assert taken.returncode == 1
    assert taken.stderr == "Error: username: a user named 'olive' already exists\n"  # no "Password:" prompt first
    assert "Password" not in taken.stdout
    assert store.ui_accounts.get("olive") == before
