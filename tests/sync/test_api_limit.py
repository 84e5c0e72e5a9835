"""A spent daily API limit ends the cycle at once, is recorded, and pauses the continuous sync."""

import json
from datetime import timedelta

import pytest

from tandem.people.models import ErrorLevel, StepStatus
from tandem.sync.cycle import SyncEngine
from tandem.sync.scheduler import run_forever
from tests.sync.conftest import sync_client


@pytest.fixture
def tiny_org(tmp_path, sample_org_path):
    """The sample org with a daily limit of one API call (a cycle needs two), on a server of its own."""
    from tandem.emulator.model import Org
    from tandem.emulator.server import EmulatorServer

    definition = json.loads(sample_org_path.read_text())
    definition["limits"]["DailyApiRequests"] = 1
    server = EmulatorServer(Org.from_definition(definition), port=0, state_dir=tmp_path / "emulator")
    server.start()
    yield server
    server.stop()


def test_limit_stops_the_cycle_and_is_recorded(tiny_org, store):
    engine = SyncEngine(sync_client(tiny_org.base_url, tiny_org.ca_path), store)
    report = engine.run_cycle()
    assert report.stopped_by_limit
    failed = [s for s in report.steps if s.status is StepStatus.FAILED]
    assert len(failed) == 1 and report.steps[-1] is failed[0]  # nothing ran after it
    [error] = store.sync_errors.recent(level=ErrorLevel.JOB)
    assert error.error_code == "REQUEST_LIMIT_EXCEEDED"
    assert engine.client.calls <= 9  # no retry storm against a spent limit


class OnePause:
    """A stop signal that records the pause asked for and then stops the loop."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def is_set(self) -> bool:
        return bool(self.waits)

    def wait(self, timeout: float) -> bool:
        self.waits.append(timeout)
        return True


def test_continuous_sync_pauses_when_the_limit_is_spent(tiny_org, store):
    engine = SyncEngine(sync_client(tiny_org.base_url, tiny_org.ca_path), store)
    stop = OnePause()
    run_forever(engine, interval_seconds=5, stop=stop, limit_pause=timedelta(hours=1))
    assert stop.waits == [3600]  # an hour, not the 5-second interval
