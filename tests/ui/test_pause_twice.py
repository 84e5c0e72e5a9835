"""Pause sync from a page loaded before someone else paused: the first pause stands, and the page says
so instead of claiming this one took hold (on SQLite and PostgreSQL)."""

from __future__ import annotations

import re

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


def pause_shown(html: str) -> str:
    """The pause a page's Resume sync ends (its time), as the form sends it."""
    found = re.search(r'name="pausedAt" value="([^"]+)"', html)
    return found.group(1) if found else ""


def test_resuming_from_a_page_that_showed_an_ended_pause_leaves_the_new_pause_standing(either_store):
    """olive's page shows her pause; oscar resumes it and pauses again for his own reason; olive's
    Resume ends only the pause her page showed, so oscar's stands and the page says whose it is."""
    from tandem.web.ui.passwords import hash_password

    either_store.ui_accounts.add("oscar", hash_password("another long password"), "operator")
    olive, oscar = client_for(either_store), client_for(either_store)
    assert sign_in_client(olive).status_code == 303
    assert sign_in_client(oscar, "oscar", "another long password").status_code == 303
    olive.post("/ui/pause", data={"csrf_token": csrf_token(olive.get("/ui/").text), "reason": "quarter-end freeze"})
    stale = olive.get("/ui/").text  # Resume sync, for olive's pause
    paused_at = pause_shown(stale)

    page = oscar.get("/ui/").text
    assert "Sync resumed" in oscar.post("/ui/resume", data={
        "csrf_token": csrf_token(page), "pausedAt": pause_shown(page)}).text
    oscar.post("/ui/pause", data={"csrf_token": csrf_token(oscar.get("/ui/").text), "reason": "deploy window"})

    answer = olive.post("/ui/resume", data={"csrf_token": csrf_token(stale), "pausedAt": paused_at})
    assert "Sync resumed" not in answer.text
    assert "the sync was paused again by oscar at " in answer.text and "deploy window; that pause stands" in answer.text
    current = either_store.sync_pause.current()
    assert (current.paused_by, current.reason) == ("oscar", "deploy window")

    bad = olive.post("/ui/resume", data={"csrf_token": csrf_token(stale), "pausedAt": "yesterday"})
    assert "Resume sync refused: pausedAt: expected the time of the pause to end, got &#39;yesterday&#39;" in bad.text
    assert either_store.sync_pause.current() == current

    assert "Sync resumed" in olive.post("/ui/resume", data={
        "csrf_token": csrf_token(stale), "pausedAt": pause_shown(olive.get("/ui/").text)}).text
    assert either_store.sync_pause.current() is None
