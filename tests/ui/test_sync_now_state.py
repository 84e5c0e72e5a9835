"""The dashboard shown right after Sync now says the sync is running, even while the cycle started
in the background has not yet taken the cycle's lock (it is still signing in to Salesforce)."""

from __future__ import annotations

import threading

from tests.ui.conftest import client_for, csrf_token, sign_in_client

WAIT = 30


def test_the_state_says_running_while_sync_now_signs_in(store):
    signing_in, release = threading.Event(), threading.Event()

    def slow_salesforce():
        signing_in.set()
        release.wait(WAIT)
        raise RuntimeError("no Salesforce in this test")

    client = client_for(store, salesforce=slow_salesforce)
    with client:
        assert sign_in_client(client).status_code == 303
        answer = client.post("/ui/sync-now", data={"csrf_token": csrf_token(client.get("/ui/").text)})
        try:
            assert signing_in.wait(WAIT)
            assert store.locks.cycle_holder() is None  # the cycle has not taken its lock yet
            assert 'class="state state-running"' in answer.text
            assert "Cycle running: starting" in answer.text
        finally:
            release.set()
