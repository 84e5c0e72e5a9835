"""What `tandem status` reports after cycles: steps with API calls, backlog both ways, errors."""

from datetime import UTC, datetime

from tandem.people.origin import ChangeOrigin
from tandem.sync.status import sync_status
from tests.sync.observe import person


def test_status_reports_steps_backlog_and_errors(engine, store, sf):
    engine.run_cycle()
    wile = person(store, "wile@acme.example")
    store.persons.update(wile.id, {"phone": "not a phone"}, origin=ChangeOrigin.CLI)
    store.persons.update(person(store, "hank@globex.example").id, {"title": "Boss"}, origin=ChangeOrigin.CLI)
    sf.Lead.update(person(store, "lisa@springfield.example").link.sfdc_id, {"Rating": "Warm"})
    before = sync_status(store, datetime.now(UTC), client=engine.client)
    assert before["backlog"]["pendingChanges"] == 2 and before["backlog"]["pendingPersons"] == 2
    assert before["backlog"]["salesforceChanges"]["Lead"] == 1
    report = engine.run_cycle()
    after = sync_status(store, datetime.now(UTC), client=engine.client)
    assert after["lastCycle"]["cycleId"] == report.cycle_id
    assert sum(s["apiCalls"] for s in after["lastCycle"]["steps"]) == report.api_calls
    assert after["backlog"]["failedChanges"] == 1  # the refused phone waits for a fix
    assert [e["errorCode"] for e in after["errors"]] == ["FIELD_CUSTOM_VALIDATION_EXCEPTION"]
    assert after["apiUsage"]["limit"] == 100000 and after["apiUsage"]["used"] > 0
