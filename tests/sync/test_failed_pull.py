"""A cycle never pushes over what it could not read: when the pull fails, the push does not write a
Tandem value over a Salesforce change it never saw, and the next cycle settles it by the rule with
the loser logged (on Leads too)."""

from __future__ import annotations

import pytest

from tandem.people.models import StepOperation, StepStatus
from tandem.people.origin import ChangeOrigin
from tandem.sync.pull import FetchSettings
from tests.sync.observe import CONFLICT, activities_of, person


@pytest.fixture
def queries_fail(base_url, http):
    """Queries fail (503) while writes pass, until the block ends."""
    def set_outage(rate: float) -> None:
        http.put(f"{base_url}/_emulator/faults", json={"queryOutage": rate}).raise_for_status()
    yield set_outage
    set_outage(0.0)


@pytest.mark.parametrize("object_name, email, winner, kept, lost", [
    ("Contact", "wile@acme.example", "Salesforce", "Rep Title", "Marketing Title"),
    ("Lead", "lisa@springfield.example", "Tandem", "Marketing Title", "Rep Title"),
])
def test_a_push_after_a_failed_pull_writes_nothing_over_an_unseen_change(
        object_name, email, winner, kept, lost, engine, store, sf, queries_fail):
    engine.run_cycle()
    target = person(store, email)
    getattr(sf, object_name).update(target.link.sfdc_id, {"Title": "Rep Title"})
    store.persons.update(target.id, {"title": "Marketing Title"}, origin=ChangeOrigin.CLI)
    queries_fail(1.0)
    engine.fetch = FetchSettings(composite=False)  # the emulator's query outage hits query calls, not subrequests
    report = engine.run_cycle()
    pulls = [s for s in report.steps if s.operation is StepOperation.PULL_UPDATES]
    assert pulls and all(s.status is StepStatus.FAILED for s in pulls)
    assert getattr(sf, object_name).get(target.link.sfdc_id)["Title"] == "Rep Title"  # not overwritten
    queries_fail(0.0)
    engine.run_cycle()
    engine.run_cycle()
    assert getattr(sf, object_name).get(target.link.sfdc_id)["Title"] == kept
    assert store.persons.get(target.id).fields["title"] == kept
    [conflict] = activities_of(store, target.id, CONFLICT)
    assert conflict.attribute("Winner") == winner and conflict.attribute("Lost Value") == lost
