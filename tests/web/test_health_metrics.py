"""`/health`, `/ready` and `/metrics`: plain JSON and Prometheus text, no token needed, read from the
real store after real cycles against the emulator; the access log names no secret."""

from __future__ import annotations

import logging
import shutil
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from tandem.cli.wiring import emulator_client
from tandem.emulator.sample_org import UserLogin
from tandem.people.models import StepOperation, StepStatus
from tandem.people.origin import ChangeOrigin
from tandem.people.store import PersonStore
from tandem.sync.cycle import SyncEngine
from tests.web.conftest import CLIENT_ID, CLIENT_SECRET, bearer


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def test_health_answers_without_a_token_in_plain_json(make_app):
    with TestClient(make_app()) as client:
        answer = client.get("/health")
    assert (answer.status_code, answer.json()) == (200, {"status": "ok"})


def test_ready_before_any_cycle_then_not_after_a_failed_one(make_app, api_store, base_url, ca_path, reset_emulator):
    with TestClient(make_app()) as client:
        first = client.get("/ready")
        assert (first.status_code, first.json()["ready"]) == (200, True)
        refused = emulator_client(base_url, ca_path, user=UserLogin("sync@sample.example", "not-it"))
        assert SyncEngine(refused, api_store).run_cycle().failure is not None
        failed = client.get("/ready")
        slashed = client.get("/ready/")  # a probe's path off by a slash reaches the readiness, never a 200
    assert failed.status_code == 503
    assert failed.json()["ready"] is False
    assert failed.json()["reason"].startswith("the last sync cycle failed: ")
    assert "authentication failure" in failed.json()["reason"]
    assert "not-it" not in failed.text
    assert (slashed.status_code, slashed.json()["ready"]) == (503, False)


def test_ready_until_three_intervals_pass_without_a_cycle(make_app, api_store, base_url, ca_path, reset_emulator):
    SyncEngine(emulator_client(base_url, ca_path), api_store).run_cycle()
    later = {"now": datetime.now(UTC)}
    with TestClient(make_app(sync_interval_seconds=60, now=lambda: later["now"])) as client:
        assert client.get("/ready").status_code == 200
        later["now"] += timedelta(seconds=179)
        assert client.get("/ready").status_code == 200
        later["now"] += timedelta(seconds=2)
        stale = client.get("/ready")
    assert stale.status_code == 503
    assert stale.json()["reason"].startswith("no sync cycle has started for 3 intervals")


def test_ready_while_a_quiet_org_lets_tandem_run_rest_longer(make_app, api_store):
    began = datetime.now(UTC)
    for number in range(3):  # quiet cycles: tandem run rests 120 s, 240 s, then 480 s (8 intervals)
        for operation in (StepOperation.PULL_UPDATES, StepOperation.PUSH_UPDATES):
            step = api_store.steps.start("Contact", operation, cycle_id=f"quiet-{number}",
                                         now=began + timedelta(seconds=number))
            api_store.steps.finish(step.id, StepStatus.SUCCEEDED, now=began + timedelta(seconds=number))
    later = {"now": began + timedelta(seconds=2)}
    with TestClient(make_app(sync_interval_seconds=60, now=lambda: later["now"])) as client:
        later["now"] += timedelta(seconds=590)
        resting = client.get("/ready")
        later["now"] += timedelta(seconds=20)
        stale = client.get("/ready")
    assert (resting.status_code, resting.json()["ready"]) == (200, True)
    assert stale.status_code == 503


def test_ready_says_the_database_does_not_answer_and_what_it_said_as_metrics_does(make_app, tmp_path, clock):
    """Before, the reason was the error's class alone (`the database does not answer: OperationalError`)."""
    folder = tmp_path / "db"
    folder.mkdir()
    store = PersonStore(f"sqlite:///{folder / 'gone.db'}")
    store.migrate()
    from tandem.web.app import create_app
    from tests.web.conftest import CREDENTIALS

    app = create_app(store, CREDENTIALS, clock=clock)
    shutil.rmtree(folder)
    store._db.dispose()
    with TestClient(app) as client:
        ready, metrics = client.get("/ready"), client.get("/metrics")
    store.close()
    assert (ready.status_code, metrics.status_code) == (503, 503)
    said = metrics.text.strip().removeprefix("the database is unavailable (").removesuffix(")")
    assert said and ready.json()["reason"] == f"the database does not answer: {said}"


def test_metrics_parse_and_count_cycles_calls_backlog_errors_and_actions(make_app, api_store, base_url, ca_path,
                                                                         reset_emulator):
    engine = SyncEngine(emulator_client(base_url, ca_path), api_store)
    first = engine.run_cycle()
    assert first.failure is None

    @contextmanager
    def salesforce():
        yield emulator_client(base_url, ca_path)

    with TestClient(make_app(salesforce=salesforce)) as client:
        client.headers.update(bearer(client))
        created = client.post("/rest/v1/leads.json", json={"input": [
            {"email": "metrics@example.com", "lastName": "Metrics", "company": "Gauges"}]}).json()
        person = created["result"][0]["id"]
        synced = client.post(f"/rest/v1/leads/{person}/syncToSfdc.json").json()
        assert synced["success"] is True
        api_store.persons.update(person, {"title": "Counter"}, origin=ChangeOrigin.API)
        answer = client.get("/metrics")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")
    samples = _samples(answer.text)
    assert samples[("tandem_sync_cycles_total", (("outcome", "succeeded"),))] == 1
    assert samples[("tandem_sync_cycles_total", (("outcome", "failed"),))] == 0
    assert samples[("tandem_salesforce_api_calls_total", ())] == first.api_calls > 0
    assert samples[("tandem_sync_backlog", (("direction", "to_salesforce"), ("object", "Lead")))] == 1
    assert samples[("tandem_sync_backlog", (("direction", "from_salesforce"), ("object", "Contact")))] == 0
    assert samples[("tandem_sync_errors", (("level", "job"),))] == 0
    assert samples[("tandem_action_seconds_count", (("action", "syncToSfdc"), ("outcome", "succeeded")))] == 1
    assert samples[("tandem_http_request_seconds_count",
                    (("route", "/rest/v1/leads/{lead_id}/syncToSfdc.json"), ("status", "200")))] == 1


def test_a_killed_cycle_counts_as_failed_once_the_next_cycle_closes_it(make_app, api_store, base_url, ca_path,
                                                                      reset_emulator):
    """Before, a cycle whose process was killed counted as succeeded, while it was left open and after."""
    api_store.steps.start("Contact", StepOperation.PULL_UPDATES, cycle_id="killed")  # what `kill -9` leaves
    with TestClient(make_app()) as client:
        left_open = _samples(client.get("/metrics").text)
        assert SyncEngine(emulator_client(base_url, ca_path), api_store).run_cycle().failure is None
        closed = _samples(client.get("/metrics").text)
    assert left_open[("tandem_sync_cycles_total", (("outcome", "succeeded"),))] == 0
    assert left_open[("tandem_sync_cycles_total", (("outcome", "failed"),))] == 0
    assert closed[("tandem_sync_cycles_total", (("outcome", "succeeded"),))] == 1
    assert closed[("tandem_sync_cycles_total", (("outcome", "failed"),))] == 1


def test_the_access_log_has_a_line_per_request_without_the_query_string(make_app, caplog):
    caplog.set_level(logging.INFO, logger="tandem.web.access")
    with TestClient(make_app()) as client:
        client.get("/identity/oauth/token", params={"grant_type": "client_credentials", "client_id": CLIENT_ID,
                                                     "client_secret": CLIENT_SECRET})
        client.get("/health")
    lines = [r for r in caplog.records if r.name == "tandem.web.access"]
    assert [(r.method, r.path, r.status) for r in lines] == [("GET", "/identity/oauth/token", 200),
                                                             ("GET", "/health", 200)]
    assert all(CLIENT_SECRET not in r.getMessage() for r in lines)


def test_the_backlog_is_counted_in_the_database_on_postgresql(clock):
    from tandem.web.app import create_app
    from tests.postgres import postgres_database
    from tests.web.conftest import CREDENTIALS

    databases = postgres_database()
    store = PersonStore(next(databases))
    try:
        store.migrate()
        for n in range(3):
            person = store.persons.add({"email": f"pg{n}@example.com", "lastName": "Pg"}, origin=ChangeOrigin.API)
            store.persons.update(person.id, {"title": f"T{n}"}, origin=ChangeOrigin.API)
        with TestClient(create_app(store, CREDENTIALS, clock=clock)) as client:
            samples = _samples(client.get("/metrics").text)
        waiting = {labels: value for (name, labels), value in samples.items() if name == "tandem_sync_backlog"
                   and ("direction", "to_salesforce") in labels}
        assert sum(waiting.values()) == 0  # none is in Salesforce: no cycle pushes their changes
        assert samples[("tandem_changes_kept_in_tandem", ())] == len(store.outbox.find()) > 0
        assert samples[("tandem_sync_cycles_total", (("outcome", "succeeded"),))] == 0
    finally:
        store.close()
        next(databases, None)


def test_the_last_cycle_start_is_when_its_first_step_started(make_app, api_store):
    """Before, the metric gave the start of the cycle's last step (its push), not of the cycle."""
    began = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    for offset, operation in enumerate((StepOperation.SYNC_SCHEMA, StepOperation.PULL_UPDATES,
                                        StepOperation.PUSH_UPDATES)):
        step = api_store.steps.start("Contact", operation, cycle_id="one", now=began + timedelta(seconds=40 * offset))
        api_store.steps.finish(step.id, StepStatus.SUCCEEDED, now=began + timedelta(seconds=40 * offset + 30))
    with TestClient(make_app()) as client:
        samples = _samples(client.get("/metrics").text)
        ready = client.get("/ready").json()
    assert samples[("tandem_last_cycle_start_timestamp_seconds", ())] == began.timestamp()
    assert ready["lastCycleStartedAt"] == began.isoformat()


def test_records_a_pull_read_and_found_unchanged_are_no_backlog_from_salesforce(make_app, api_store, base_url,
                                                                                 ca_path, reset_emulator):
    """Before, the pull's skipped records (read, nothing to change: the first cycle's Accounts, the
    echo of a push) showed as records waiting in Salesforce, though the next pull reads nothing."""
    engine = SyncEngine(emulator_client(base_url, ca_path), api_store)
    first = engine.run_cycle()
    assert first.failure is None
    assert sum(s.counts.skipped for s in first.steps if s.operation is StepOperation.PULL_UPDATES) > 0
    with TestClient(make_app()) as client:
        samples = _samples(client.get("/metrics").text)
    left = {labels: value for (name, labels), value in samples.items()
            if name == "tandem_sync_backlog" and ("direction", "from_salesforce") in labels}
    second = engine.run_cycle()
    read = sum(s.counts.new + s.counts.updated + s.counts.deleted + s.counts.skipped
               for s in second.steps if s.operation is StepOperation.PULL_UPDATES)
    assert read == 0 and len(left) == 3 and sum(left.values()) == 0


def test_ready_names_the_spent_api_budget_when_no_cycle_runs_for_it(make_app, api_store):
    """Before, a sync waiting for the budget's cycle lane to open read as if `tandem run` had stopped."""
    began = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    schema = api_store.steps.start("All", StepOperation.SYNC_SCHEMA, cycle_id="spent", now=began)
    api_store.steps.finish(schema.id, StepStatus.SUCCEEDED, now=began)
    pull = api_store.steps.start("Account", StepOperation.PULL_UPDATES, cycle_id="spent", now=began)
    api_store.steps.finish(pull.id, StepStatus.INCOMPLETE, now=began, message=(
        "stopped: the API budget's cycle lane is spent (31 of 31 calls today); it opens again at 2026-12-02 00:00 UTC"))
    later = {"now": began + timedelta(seconds=181)}
    with TestClient(make_app(sync_interval_seconds=60, now=lambda: later["now"])) as client:
        waiting = client.get("/ready")
    assert waiting.status_code == 503
    assert waiting.json()["reason"] == ("the sync waits for the API budget: the API budget's cycle lane is spent "
                                        "(31 of 31 calls today); it opens again at 2026-12-02 00:00 UTC")


def test_a_path_cannot_forge_access_log_lines(make_app, caplog):
    """Before, `%0a` in a path wrote a newline into the plain log line: a caller could add a line
    of its own making, such as a refused token request naming another client."""
    caplog.set_level(logging.INFO, logger="tandem.web.access")
    forged = "WARNING tandem.web.auth: token request refused (wrong secret): client id 'x' from 10.0.0.1"
    with TestClient(make_app()) as client:
        client.get("/rest/v1/leads%0a" + forged.replace(" ", "%20") + "%1b[31m.json")
    [line] = [r for r in caplog.records if r.name == "tandem.web.access"]
    assert "\n" not in line.getMessage() and "\x1b" not in line.getMessage()
    assert line.path == "/rest/v1/leads\\n" + forged + "\\x1b[31m.json"


def test_the_plain_access_line_names_the_client_address(make_app, caplog):
    """Before, only the JSON log had the address: a plain line said `GET /health 200 1.2 ms`."""
    caplog.set_level(logging.INFO, logger="tandem.web.access")
    with TestClient(make_app()) as client:
        client.get("/health")
    [line] = [r for r in caplog.records if r.name == "tandem.web.access"]
    assert line.client and line.getMessage().endswith(f" ms {line.client}")


def test_ready_names_the_pause_when_no_cycle_runs_for_it(make_app, api_store):
    """Before, a sync paused in the web UI read as if `tandem run` had stopped: "no sync cycle has
    started for 3 intervals", while the dashboard and `tandem status` said who paused it and why."""
    began = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    step = api_store.steps.start("Contact", StepOperation.PULL_UPDATES, cycle_id="before", now=began)
    api_store.steps.finish(step.id, StepStatus.SUCCEEDED, now=began)
    api_store.sync_pause.pause("olive", "org migration tonight", now=began + timedelta(seconds=5))
    later = {"now": began + timedelta(hours=1)}  # past the longest rest of a quiet org, too
    with TestClient(make_app(sync_interval_seconds=60, now=lambda: later["now"])) as client:
        paused = client.get("/ready")
        assert api_store.sync_pause.resume()
        stale = client.get("/ready")
    assert paused.status_code == 503
    assert paused.json()["reason"] == "the sync is paused: paused by olive at 2026-12-01 12:00 UTC: org migration tonight"
    assert stale.status_code == 503 and stale.json()["reason"].startswith("no sync cycle has started for 3 intervals")
