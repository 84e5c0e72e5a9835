"""The backlog forecast and the budget in the status: records queued each way, how long at the measured
rate, at what API cost; the day's spend per lane with the forecast to the end of the day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tandem.people.models import StepOperation
from tandem.people.origin import ChangeOrigin
from tandem.sync.policy import parse_policy
from tandem.sync.status import sync_status
from tests.sync.observe import person

EMAILS = ("wile@acme.example", "hank@globex.example", "peter@initech.example", "samir@initech.example")


def test_a_mass_change_each_way_is_forecast_in_time_and_calls(engine, store, sf):
    engine.run_cycle()
    for email in EMAILS:
        store.persons.update(person(store, email).id, {"title": "Wave 1"}, origin=ChangeOrigin.CLI)
    engine.run_cycle()  # a push that took measurable time: the rate to forecast with
    for email in EMAILS:  # a mass change made in Tandem
        store.persons.update(person(store, email).id, {"title": "Wave 2"}, origin=ChangeOrigin.CLI)
    lisa = person(store, "lisa@springfield.example")
    sf.Lead.update(lisa.link.sfdc_id, {"Rating": "Warm"})  # and one in Salesforce
    state = sync_status(store, datetime.now(UTC), client=engine.client)
    pushes = [s for s in store.steps.recent(limit=50) if s.operation is StepOperation.PUSH_UPDATES and s.ended_at]
    handled = sum(s.counts.updated + s.counts.failed + s.counts.skipped + s.counts.new + s.counts.deleted
                  for s in pushes)
    seconds = sum((s.ended_at - s.started_at).total_seconds() for s in pushes)
    to_salesforce = state["backlog"]["forecast"]["toSalesforce"]
    assert to_salesforce["records"] == len(EMAILS)
    assert to_salesforce["seconds"] == round(len(EMAILS) / (handled / seconds), 1)
    assert to_salesforce["apiCalls"] == 2  # one batch: a check query and an update
    from_salesforce = state["backlog"]["forecast"]["fromSalesforce"]
    # Lisa's lead, and the four contacts the first wave's push changed (the pull reads them back)
    assert from_salesforce["records"] == 5 == sum(state["backlog"]["salesforceChanges"].values())
    assert from_salesforce["apiCalls"] == 1


def test_without_counting_salesforce_the_pull_backlog_is_unknown(engine, store):
    engine.run_cycle()
    state = sync_status(store, datetime.now(UTC))
    assert state["backlog"]["forecast"]["fromSalesforce"] == {"records": None, "seconds": None, "apiCalls": None}


def test_the_status_shows_each_lanes_spend_and_the_days_forecast(engine, store):
    engine.run_cycle()
    engine.run_cycle()
    now = datetime.now(UTC)
    policy = parse_policy({"budget": {"daily_calls": 1000, "actions_reserve": 100, "cycle_reserve": 50}})
    budget = sync_status(store, now, policy=policy)["budget"]
    lanes = {lane["lane"]: lane for lane in budget["lanes"]}
    assert (lanes["actions"]["limit"], lanes["cycle"]["limit"], lanes["retries"]["limit"]) == (1000, 900, 850)
    assert lanes["retries"]["spent"] > 0 and lanes["cycle"]["spent"] > 0  # backfills, then a cycle
    assert budget["spent"] == engine.client.calls
    midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    assert budget["resetsAt"] == midnight.isoformat()
    assert budget["forecast"]["projectedCalls"] >= budget["spent"]
    assert sync_status(store, now)["budget"]["budget"] is None  # no budget set: spend is still counted


def test_the_backlog_to_salesforce_counts_only_the_persons_a_cycle_pushes(engine, store, sf):
    """Before, persons with no Salesforce record, or whose record was deleted there, were forecast too,
    though no cycle pushes them: a backlog, a time and API calls that never come."""
    engine.run_cycle()
    ada = store.persons.add({"email": "ada@example.com", "lastName": "Lovelace", "title": "Countess"},
                            origin=ChangeOrigin.API)
    wile, hank = person(store, "wile@acme.example"), person(store, "hank@globex.example")
    sf.Contact.delete(wile.link.sfdc_id)
    engine.run_cycle()
    store.persons.update(wile.id, {"title": "Ghost"}, origin=ChangeOrigin.CLI)
    store.persons.update(hank.id, {"title": "Wave"}, origin=ChangeOrigin.CLI)
    store.persons.update(ada.id, {"title": "Enchantress"}, origin=ChangeOrigin.API)
    assert all(store.outbox.find(person_ids=[p.id]) for p in (ada, wile, hank))
    to_salesforce = sync_status(store, datetime.now(UTC))["backlog"]["forecast"]["toSalesforce"]
    assert (to_salesforce["records"], to_salesforce["apiCalls"]) == (1, 2)
    report = engine.run_cycle()
    assert sum(s.counts.updated for s in report.steps if s.operation is StepOperation.PUSH_UPDATES) == 1
    assert sync_status(store, datetime.now(UTC))["backlog"]["forecast"]["toSalesforce"]["records"] == 0
