"""Every wire test starts from the org file's seed state."""

import pytest


@pytest.fixture(autouse=True)
def _fresh_org(reset_emulator):
    yield
