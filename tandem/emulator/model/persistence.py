"""--persist: an org's records, Id counters, clock, sessions and refresh tokens saved to a directory and back.

The schema and rules come from the definition file each time; only the state is saved. This
module knows the state (`OrgState`, `SessionStore`), not the `Org` facade that holds it.

A running server saves now and then (`clean=False`) as well as when it stops. A state restored
from such a save may miss the last Ids given before the process was killed, so each Id counter
restarts `ID_GAP` further on: an Id is never given to two records, even when the first record is
lost (a client holding the old Id then finds no record, never another one).
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path

from tandem.emulator.model.sessions import SessionStore
from tandem.emulator.model.state import OrgState

STATE_FILE = "org-state.pickle"
FORMAT = 1
ID_GAP = 1_000_000


def save(directory: Path, org_id: str, state: OrgState, sessions: SessionStore, *, clean: bool = True) -> None:
    """Write the state; `clean` when nothing can change after it (the server stops)."""
    directory.mkdir(parents=True, exist_ok=True)
    payload = {
        "format": FORMAT,
        "org_id": org_id,
        "clean": clean,
        "records": {name: store.records for name, store in state.stores.items()},
        "sequences": state.sequences,
        "last_stamp_ms": state.clock.last_ms,
        "sessions": sessions.export(),
        "refresh_tokens": sessions.export_refresh_tokens(),
    }
    temporary = directory / (STATE_FILE + ".tmp")
    # the file holds live session tokens: readable by its owner only
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        pickle.dump(payload, handle, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(temporary, directory / STATE_FILE)


def restore(directory: Path, org_id: str, state: OrgState, sessions: SessionStore) -> None:
    """Replace the seed state with the saved one, if there is one."""
    path = directory / STATE_FILE
    if not path.exists():
        return
    with open(path, "rb") as handle:
        payload = pickle.load(handle)
    if payload.get("format") != FORMAT or payload.get("org_id") != org_id:
        raise ValueError(f"{path} holds the state of another org or format")
    for name, records in payload["records"].items():
        store = state.stores.get(name)
        if store is not None:
            store.replace_all(records)
    gap = 0 if payload.get("clean", True) else ID_GAP
    state.sequences = {prefix: n + gap for prefix, n in payload["sequences"].items()}
    state.clock.observe(payload["last_stamp_ms"])
    sessions.import_(payload.get("sessions", {}))
    sessions.import_refresh_tokens(payload.get("refresh_tokens", {}))
