"""What `tandem status` shows: what the sync is doing (running, paused, failing or waiting, as the
dashboard says it), the last cycle, the backlog both ways (and how long it will take, at what
API cost; the changes no cycle sends are counted apart, as kept in Tandem only), the API budget's lanes with the forecast to the end of the day, recent errors."""

from __future__ import annotations

from datetime import datetime, timedelta
from math import ceil
from typing import Any

from tandem.people.models import CycleStep, PendingState, StepOperation, StepStatus
from tandem.people.store import PersonStore
from tandem.people.sync_history import KEPT_IN_TANDEM, Waiting
from tandem.salesforce.client import SalesforceClient
from tandem.salesforce.client import COLLECTION_LIMIT
from tandem.sync.budget import ApiBudget
from tandem.sync.cycle import PULL_ORDER, StepReport
from tandem.sync.policy import SyncPolicy
from tandem.sync.pull import PAGE_SIZE
from tandem.sync.sync_state import sync_state
from tandem.sync.watermark import soql_datetime
from tandem.sync.workspace import SyncWorkspace


def step_json(step: CycleStep | StepReport) -> dict[str, Any]:
    """A cycle step as `tandem status --json` and `tandem sync --json` show it."""
    return {"object": step.object, "operation": step.operation.value, "status": step.status.value,
            "new": step.counts.new, "updated": step.counts.updated, "deleted": step.counts.deleted,
            "failed": step.counts.failed, "skipped": step.counts.skipped, "message": step.message,
            "apiCalls": step.api_calls}


STOPPED_STEP = "Stopped"
"""A step left In Process by a cycle whose process ended or lost the database (no one runs it): every
status output shows it so; the store keeps In Process until the next cycle closes it Cleaned up."""


def shown_status(step: CycleStep, running: bool) -> str:
    """The step's status as the status outputs show it: `STOPPED_STEP` for one left In Process by a
    cycle that is not `running`."""
    return STOPPED_STEP if step.status is StepStatus.IN_PROCESS and not running else step.status.value


def cycle_running(store: PersonStore, steps: list[CycleStep]) -> bool:
    """Whether the cycle of these steps still runs: one is In Process and someone holds the cycle's lock."""
    return any(s.status is StepStatus.IN_PROCESS for s in steps) and store.locks.cycle_holder() is not None


def salesforce_backlog(store: PersonStore, client: SalesforceClient) -> dict[str, int | None]:
    """Records changed in Salesforce since each object's watermark (one COUNT() call per object)."""
    workspace = SyncWorkspace(client, store)
    backlog: dict[str, int | None] = {}
    for object_name in PULL_ORDER:
        cursor = workspace.cursor(object_name)
        floor = cursor.floor
        if floor is None:
            backlog[object_name] = None  # never pulled: everything is backlog
            continue
        # A completed window's bound was not read itself; the newest applied stamp was.
        after = ">=" if cursor.read_to is not None and cursor.read_to == floor else ">"
        backlog[object_name] = client.count(
            f"SELECT COUNT() FROM {object_name} WHERE SystemModstamp {after} {soql_datetime(floor)}",
            include_deleted=True,
        )
    return backlog


def measured_rate(steps: list[CycleStep], operation: StepOperation) -> float | None:
    """Records per second the recent steps of `operation` handled (None before any took measurable time)."""
    records, seconds = 0, 0.0
    for step in steps:
        if step.operation is not operation or step.ended_at is None:
            continue
        c = step.counts
        records += c.new + c.updated + c.deleted + c.failed + c.skipped
        seconds += (step.ended_at - step.started_at).total_seconds()
    return records / seconds if records and seconds > 0 else None


def backlog_forecast(waiting: int | None, rate: float | None, per_call: int, calls_per_batch: int) -> dict[str, Any]:
    """How long `waiting` records take at `rate`, and the API calls they cost."""
    if waiting is None:
        return {"records": None, "seconds": None, "apiCalls": None}
    return {"records": waiting, "seconds": None if rate is None else round(waiting / rate, 1),
            "apiCalls": ceil(waiting / per_call) * calls_per_batch}


def sync_status(store: PersonStore, now: datetime, error_window: timedelta = timedelta(days=5),
                client: SalesforceClient | None = None, policy: SyncPolicy | None = None) -> dict[str, Any]:
    steps = store.steps.recent(limit=50)
    last_cycle = steps[0].cycle_id if steps else None
    last = [s for s in steps if s.cycle_id == last_cycle][::-1]
    waiting = store.history.waiting()
    kept = waiting.pop(KEPT_IN_TANDEM, Waiting(0, 0, 0))
    reading = store.api_usage.latest()
    usage = None if reading is None else {
        "used": reading.used, "limit": reading.limit, "at": reading.recorded_at.isoformat()}
    errors = store.sync_errors.recent(since=now - error_window)
    waiting_persons = sum(w.due for w in waiting.values())  # the persons the next cycles push
    from_salesforce = salesforce_backlog(store, client) if client is not None else None
    pull_waiting = (None if from_salesforce is None or any(n is None for n in from_salesforce.values())
                    else sum(n or 0 for n in from_salesforce.values()))
    policy = policy or SyncPolicy()
    budget = ApiBudget(store, policy.budget, clock=lambda: now).state()
    running = cycle_running(store, last)
    state = sync_state(store, now, policy.interval_seconds, policy.idle_interval_max_seconds, policy)
    return {
        "state": {"kind": state.kind, "reason": state.reason,
                  "until": None if state.until is None else state.until.isoformat()},
        "lastCycle": None if not last else {
            "cycleId": last_cycle,
            "startedAt": last[0].started_at.isoformat(),
            "endedAt": last[-1].ended_at.isoformat() if last[-1].ended_at else None,
            "running": running,
            "steps": [{**step_json(s), "status": shown_status(s, running), "recordedStatus": s.status.value}
                      for s in last],
        },
        "backlog": {
            "pendingChanges": sum(w.changes for w in waiting.values()),
            "pendingPersons": sum(w.persons for w in waiting.values()),
            "failedChanges": sum(w.refused for w in waiting.values()),
            "keptInTandem": {"changes": kept.changes, "persons": kept.persons},
            "salesforceChanges": from_salesforce,
            "forecast": {
                "toSalesforce": backlog_forecast(waiting_persons, measured_rate(steps, StepOperation.PUSH_UPDATES),
                                                 COLLECTION_LIMIT, 2),
                "fromSalesforce": backlog_forecast(pull_waiting, measured_rate(steps, StepOperation.PULL_UPDATES),
                                                   PAGE_SIZE, 1),
            },
        },
        "budget": budget.as_json(),
        "apiUsage": usage,
        "errors": annotate_errors(store, [
            {"id": e.id, "occurredAt": e.occurred_at.isoformat(), "level": e.level.value, "errorCode": e.error_code,
             "message": e.message, "object": e.object, "sfdcId": e.sfdc_id, "personId": e.person_id}
            for e in errors
        ]),
    }


def annotate_errors(store: PersonStore, errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The errors, those still to fix first, with `email`, `resolved` (the store's rule, `SyncHistory.resolved_ids`, the web UI's
    too) and, for a person's, `refusedFields`: the fields of its changes still waiting refused."""
    people = {e["personId"] for e in errors if e["personId"]}
    emails = {p.id: p.as_json().get("email") for p in store.persons.get_many(sorted(people))}
    refused: dict[int, list[str]] = {}
    for change in store.outbox.find(person_ids=sorted(people), states=[PendingState.FAILED]) if people else ():
        refused.setdefault(change.person_id, []).append(change.field)
    resolved = store.history.resolved_ids([e["id"] for e in errors])
    for error in errors:
        error["email"] = emails.get(error["personId"])
        error["resolved"] = error["id"] in resolved
        if error["personId"]:
            error["refusedFields"] = refused.get(error["personId"], [])
    errors.sort(key=lambda e: e["resolved"])  # the ones still to fix first, each part newest first
    return errors
