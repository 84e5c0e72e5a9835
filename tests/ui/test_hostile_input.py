"""Form fields the databases cannot store (a NUL character) are named and change nothing, on SQLite
and PostgreSQL alike: never a 500."""

from __future__ import annotations

from tests.ui.conftest import PASSWORD, client_for, csrf_token, sign_in_client


def test_a_pause_reason_with_a_nul_character_is_refused_and_pauses_nothing(either_store):
    client = client_for(either_store)
    assert sign_in_client(client).status_code == 303
    token = csrf_token(client.get("/ui/").text)
    answer = client.post("/ui/pause", data={"csrf_token": token, "reason": "deploy\x00window"})
    assert answer.status_code == 200
    assert "Pause sync refused: reason: contains a NUL character at position 7" in answer.text
    assert either_store.sync_pause.current() is None


def test_a_username_with_a_nul_character_is_a_wrong_username(either_store):
    client = client_for(either_store)
    refused = sign_in_client(client, username="ol\x00ive", password=PASSWORD)
    assert refused.status_code == 401 and "Wrong username or password." in refused.text
    assert client.get("/ui/", follow_redirects=False).status_code == 303
