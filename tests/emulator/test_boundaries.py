"""The emulator stands alone: it imports neither the sync engine, the store, the web app, the
commands, nor the Salesforce client; from the rest of Tandem it takes the error tree and the Id checksum."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ALLOWED_OUTSIDE = {"tandem", "tandem.errors", "tandem.salesforce", "tandem.salesforce.ids"}

_IMPORT_EVERY_MODULE = """
import importlib, json, pkgutil, sys
import tandem.emulator
for found in pkgutil.walk_packages(tandem.emulator.__path__, "tandem.emulator."):
    importlib.import_module(found.name)
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] == "tandem")))
"""


def test_the_emulator_imports_only_the_error_tree_and_the_id_checksum():
    run = subprocess.run([sys.executable, "-c", _IMPORT_EVERY_MODULE], cwd=ROOT, capture_output=True,
                         text=True, check=True)
    loaded = json.loads(run.stdout)
    outside = {name for name in loaded if not name.startswith("tandem.emulator")}
    assert outside <= ALLOWED_OUTSIDE, sorted(outside - ALLOWED_OUTSIDE)
    assert "tandem.emulator.wire" in loaded
