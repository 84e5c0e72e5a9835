"""Pause sync from a page loaded before someone else paused: the first pause stands, and the page says
so instead of claiming this one took hold (on SQLite and PostgreSQL)."""

from __future__ import annotations

from tests.ui.conftest import client_for, csrf_token, sign_in_client


def test_pausing_an_already_paused_sync_says_whose_pause_stands(either_store):
    from tandem.web.ui.passwords import hash_password

    either_store.ui_accounts.add("oscar", hash_password("another long password"), "operator")
    first, second = client_for(either_store), client_for(either_store)
    assert sign_in_client(first).status_code == 303
    assert sign_in_client(second, "oscar", "another long password").status_code == 303
    stale = csrf_token(second.get("/ui/").text)  # oscar's page still offers Pause sync

    paused = first.post("/ui/pause", data={"csrf_token": csrf_token(first.get("/ui/").text),
                                           "reason": "quarter-end freeze"})
    assert "Sync paused: `tandem run` starts no cycle until it is resumed" in paused.text

    again = second.post("/ui/pause", data={"csrf_token": stale, "reason": "deploy window"})
    assert again.status_code == 200
    assert "Sync paused:" not in again.text
    assert "The sync was already paused by olive at " in again.text
    assert "quarter-end freeze; that pause stands" in again.text
    current = either_store.sync_pause.current()
    assert (current.paused_by, current.reason) == ("olive", "quarter-end freeze")
