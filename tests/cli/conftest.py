"""Commands run as a user runs them, in a folder of their own; a bundled emulator they start in the
background is stopped when the test ends."""

from __future__ import annotations

import pytest

from tandem.emulator.instance import stop_running


@pytest.fixture(autouse=True)
def stop_folder_emulator(tmp_path):
    yield
    stop_running(tmp_path / ".tandem" / "emulator")
