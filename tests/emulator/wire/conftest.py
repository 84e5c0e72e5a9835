"""Every wire test starts from the org file's seed state; `faults` drives `/_emulator/faults`."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _fresh_org(reset_emulator):
    yield


class FaultControl:
    """Sets the emulator's fault settings and reads what it injected, over loopback HTTPS."""

    def __init__(self, http, base_url: str) -> None:
        self.http, self.url = http, f"{base_url}/_emulator/faults"

    def set(self, **settings) -> dict:
        """Replace the settings (keys left out are off); the seed and the counts restart."""
        answer = self.http.put(self.url, json=settings)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def report(self) -> dict:
        answer = self.http.get(self.url)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def injected(self) -> dict[str, int]:
        """The kinds injected so far with their counts (kinds never injected left out)."""
        return {kind: n for kind, n in self.report()["injected"].items() if n}


@pytest.fixture
def faults(http, base_url) -> FaultControl:
    return FaultControl(http, base_url)
