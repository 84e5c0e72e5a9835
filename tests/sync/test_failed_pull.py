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


def test_a_page_the_database_refuses_fails_its_step_alone_and_the_next_cycle_runs_it(engine, store, sf):
    """Before, the database's own error left the cycle, and `tandem run` stopped on it."""
    from tandem.people import activities as types

    workspace = engine.workspace
    real = workspace.apply

    def refused_apply(plan, object_name=None, cursor=None):
        real(plan, object_name, cursor)
        if object_name == "Contact":  # a row the page is told exists, gone: its foreign key is refused
            store.activities.log_many([(10**9, types.SFDC_SYNC_FAILED, "x", {})], existing=[10**9])

    workspace.apply = refused_apply
    report = engine.run_cycle()
    vars(workspace).pop("apply")
    by_step = {(s.object, s.operation): s for s in report.steps}
    failed = by_step[("Contact", StepOperation.PULL_UPDATES)]
    assert failed.status is StepStatus.FAILED and "refused the write" in (failed.message or "")
    assert by_step[("Lead", StepOperation.PULL_UPDATES)].status is StepStatus.SUCCEEDED
    assert store.persons.find_by_email("wile@acme.example") == []  # nothing of the refused page was kept
    assert engine.run_cycle().succeeded
    assert person(store, "wile@acme.example").link.sfdc_type == "Contact"
