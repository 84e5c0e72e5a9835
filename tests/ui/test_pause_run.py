"""`tandem run`'s loop honours the pause switch: no cycle starts while paused, one does once resumed."""

from __future__ import annotations

import threading

from tandem.people.store import PersonStore
from tandem.sync.cycle import SyncEngine
from tandem.sync.scheduler import run_forever
from tests.sync.conftest import sync_client

WAIT = 60


def test_no_cycle_starts_while_paused_and_one_does_once_resumed(tmp_path, base_url, ca_path, reset_emulator):
    store = PersonStore(f"sqlite:///{tmp_path / 'tandem.db'}")
    store.migrate()
    switch = PersonStore(store.url)  # the UI's process
    engine = SyncEngine(sync_client(base_url, ca_path), store)
    switch.sync_pause.pause("olive", "quarter-end")
    stop, paused, ran = threading.Event(), threading.Event(), threading.Event()
    said: list[str] = []

    def on_paused(reason: str) -> None:
        said.append(reason)
        paused.set()

    loop = threading.Thread(target=run_forever, args=(engine, 0.05, stop, lambda report: ran.set()),
                            kwargs={"on_paused": on_paused})
    loop.start()
    try:
        assert paused.wait(WAIT)
        assert "paused by olive" in said[0] and "quarter-end" in said[0]
        assert store.steps.recent() == [] and not ran.is_set()
        switch.sync_pause.resume()
        assert ran.wait(WAIT)
        assert {s.cycle_id for s in store.steps.recent()} != set()
    finally:
        stop.set()
        loop.join(WAIT)
        store.close()
        switch.close()
