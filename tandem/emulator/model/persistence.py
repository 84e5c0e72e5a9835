"""--persist: an org's records, Id counters, clock and sessions saved to a directory and back.

The schema and rules come from the definition file each time; only the state is saved.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tandem.emulator.model.org import Org

STATE_FILE = "org-state.pickle"
FORMAT = 1


def save(org: Org, directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    state = org._state
    payload = {
        "format": FORMAT,
        "org_id": org.org_id,
        "records": {name: store.records for name, store in state.stores.items()},
        "sequences": state.sequences,
        "last_stamp_ms": state.clock.last_ms,
        "sessions": org.sessions.export(),
    }
    temporary = directory / (STATE_FILE + ".tmp")
    # the file holds live session tokens: readable by its owner only
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        pickle.dump(payload, handle, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(temporary, directory / STATE_FILE)


def restore(org: Org, directory: Path) -> None:
    """Replace the org's seed state with the saved one, if there is one."""
    path = directory / STATE_FILE
    if not path.exists():
        return
    with open(path, "rb") as handle:
        payload = pickle.load(handle)
    if payload.get("format") != FORMAT or payload.get("org_id") != org.org_id:
        raise ValueError(f"{path} holds the state of another org or format")
    state = org._state
    for name, records in payload["records"].items():
        store = state.stores.get(name)
        if store is None:
            continue
        store.records = {}
        for index in store.value_index.values():
            index.clear()
        for record_id, values in records.items():
            store.records[record_id] = values
            store._index_values(record_id, values)
        store.compact()
    state.sequences = dict(payload["sequences"])
    state.clock.observe(payload["last_stamp_ms"])
    org.sessions.import_(payload.get("sessions", {}))
