"""`tandem sync`, `tandem run`, `tandem status`, `tandem fields`: thin commands over the sync engine."""

from __future__ import annotations

import logging
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from tandem.cli import app, sync_errors
from tandem.cli.output import counted, print_json, reported_errors
from tandem.cli.policy import print_dry_run, print_forecast
from tandem.cli.stop_signals import StopRequest, stop_on_signals
from tandem.config import load_settings
from tandem.errors import EmulatorUnavailable, SalesforceError, one_line
from tandem.people.models import StepOperation, StepStatus
from tandem.cli.wiring import engine_on, salesforce_client, store_for
from tandem.sync.budget import BudgetSpent
from tandem.sync.cycle import CycleReport, SyncEngine
from tandem.sync.dry_run import DryRun
from tandem.sync.policy import load_policy
from tandem.sync.scheduler import run_forever
from tandem.sync.field_report import catalog_report
from tandem.sync.status import STOPPED_STEP, step_json, sync_status
from tandem.sync.sync_state import FAILING

log = logging.getLogger("tandem.cli")
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]
console = Console()


def _report_json(report: CycleReport) -> dict[str, Any]:
    return {
        "cycleId": report.cycle_id,
        "startedAt": report.started_at.isoformat(),
        "endedAt": report.ended_at.isoformat() if report.ended_at else None,
        "apiCalls": report.api_calls,
        "stoppedByLimit": report.stopped_by_limit,
        "budgetStop": None if report.budget_stop is None else {
            "lane": report.budget_stop.lane.value, "spent": report.budget_stop.spent,
            "limit": report.budget_stop.limit, "until": report.budget_stop.until.isoformat()},
        "failure": report.failure_message,
        "steps": [step_json(s) for s in report.steps],
    }


def _step_table(title: str, steps: list[dict[str, Any]]) -> Table:
    """Steps in eight narrow columns (fits 80 columns); their messages go below, not in a cell."""
    table = Table(title=title, title_justify="left")
    table.add_column("object", no_wrap=True)
    table.add_column("step", no_wrap=True)
    table.add_column("status", no_wrap=True)
    for heading in ("new", "upd", "del", "fail", "skip"):
        table.add_column(heading, justify="right", no_wrap=True)
    for s in steps:
        table.add_row(s["object"], s["operation"], s["status"],
                      *(str(s[k]) for k in ("new", "updated", "deleted", "failed", "skipped")))
    return table


def _print_report(report: CycleReport) -> None:
    if report.failure is not None:
        return  # the one FAILED line says it all
    steps = [step_json(s) for s in report.steps]
    console.print(_step_table(f"Sync cycle {report.cycle_id[:8]} · {report.api_calls} API calls", steps))
    for s in steps:
        if s["message"]:
            typer.echo(f"{s['object']} {s['operation']}: {s['message']}")


@contextmanager
def _progress(engine: SyncEngine) -> Iterator[None]:
    """A progress line per step, counting records as pages and batches are applied."""
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TextColumn("{task.completed} records"),
                  TimeElapsedColumn(), console=console, transient=True) as progress:
        task = progress.add_task("starting", total=None)

        def on_step(object_name: str, operation: StepOperation) -> None:
            progress.update(task, description=f"{object_name}: {operation.value}", completed=0)

        engine.on_step = on_step
        engine.progress = lambda done: progress.update(task, completed=done)
        yield


@app.command()
def sync(
    retry_failed: Annotated[bool, typer.Option("--retry-failed", help="Also retry changes Salesforce refused.")] = False,
    as_json: AsJson = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what the next cycle would do; read-only "
                                          "against the org and the database.")] = False,
    ignore_budget: Annotated[bool, typer.Option("--ignore-budget", help="Run even when the API budget's "
                                                "cycle lane is spent.")] = False,
) -> None:
    """Run one sync cycle now and show what each step did (with a spent cycle lane: wait for it first).

    Ctrl-C or SIGTERM stops the cycle after the page or batch it is on (its step shows Incomplete,
    the next cycle goes on from there) and exits 0, as a stop for the API budget does; exit 1 is
    for a failed step or cycle.
    """
    with reported_errors():
        settings = load_settings()
        with store_for(settings) as store, engine_on(settings, store) as engine:
            if dry_run:
                result = DryRun(engine).run().as_json()
                print_json(result) if as_json else print_dry_run(console, result)
                return
            with stop_on_signals() as stop, _progress(engine) if not as_json else nullcontext():
                engine.stop_requested = stop.is_set
                report = _cycle_when_budget_allows(engine, retry_failed, ignore_budget, stop)
            if report is None:
                if as_json:  # a script reading stdout gets JSON whatever happened: here, no cycle
                    print_json({"cycleId": None, "startedAt": None, "endedAt": None, "apiCalls": 0,
                                "stoppedByLimit": False, "budgetStop": None, "failure": None, "steps": [],
                                "stoppedBy": stop.by})
                typer.echo(f"STOPPED: {stop.by} while waiting for the API budget; no cycle ran", err=True)
                return
            refusals = sync_errors.refusals_since(store, report.started_at) if not as_json else []
        if as_json:
            print_json({**_report_json(report), "stoppedBy": stop.by})
        else:
            _print_report(report)
            for refusal in refusals:
                typer.echo(f"refused: {refusal}")
        if report.budget_stop is not None:
            typer.echo(f"STOPPED: {report.budget_stop}; the rest waits for the next cycle "
                       "(--ignore-budget overrides)", err=True)
        elif stop.by is not None and report.failure is None:
            typer.echo(f"STOPPED: {stop.by}: the cycle stopped after the page or batch it was on; "
                       "the rest waits for the next cycle", err=True)
        if report.failure is not None:
            typer.echo(f"FAILED: {report.failure_message}", err=True)
        if any(s.status is StepStatus.FAILED for s in report.steps):
            raise typer.Exit(1)


def _cycle_when_budget_allows(engine: SyncEngine, retry_failed: bool, ignore_budget: bool,
                              stop: StopRequest) -> CycleReport | None:
    """The cycle, once the budget's cycle lane allows it: until then, wait and say until when (None:
    stopped while waiting)."""
    while True:
        try:
            return engine.run_cycle(retry_failed=retry_failed, ignore_budget=ignore_budget)
        except BudgetSpent as spent:
            typer.echo(f"waiting: {spent}; --ignore-budget runs it now, Ctrl-C stops", err=True)
            while (left := (spent.until - engine.clock()).total_seconds()) > 0:
                if stop.wait(min(left, 60.0)):
                    return None


@app.command()
def run() -> None:
    """Sync continuously: a cycle, then TANDEM_SYNC_INTERVAL_SECONDS of rest, until stopped."""
    with reported_errors():
        settings = load_settings()
        with (stop_on_signals() as stop, store_for(settings) as store,
              engine_on(settings, store, "tandem run") as engine):
            interval = engine.policy.interval_seconds
            typer.echo(f"syncing every {interval} s; Ctrl-C or SIGTERM stops")
            engine.on_step = lambda name, operation: log.info("step: %s %s", name, operation.value)

            def show(report: CycleReport | None) -> None:
                if report is None:
                    typer.echo("another process is running a cycle; waiting")
                    return
                if report.failure is not None:
                    typer.echo(f"{report.started_at:%H:%M:%S} cycle FAILED: {report.failure_message}")
                    return
                totals = report.record_totals()
                typer.echo(
                    f"{report.started_at:%H:%M:%S} cycle: {totals.new} new, "
                    f"{totals.updated} updated, {totals.failed} failed, "
                    f"{report.api_calls} API calls" + (" (API limit reached: pausing)" if report.stopped_by_limit else "")
                )
                if totals.failed:
                    for refusal in sync_errors.refusals_since(store, report.started_at):
                        typer.echo(f"  refused: {refusal}")

            said: list[str] = []

            def paused(reason: str) -> None:
                if said != [reason]:
                    typer.echo(f"sync {reason}; no cycle starts until it is resumed")
                    said[:] = [reason]

            run_forever(engine, interval, stop.event, show, on_wait=lambda message: typer.echo(message),
                        on_paused=paused)
        typer.echo("stopped")


@app.command()
def status(
    as_json: AsJson = False,
    salesforce: Annotated[bool, typer.Option("--salesforce", help="Also count the records changed in Salesforce "
                                             "since the last pull (one API call per object).")] = False,
) -> None:
    """The last cycle, the backlog in both directions, API usage and recent sync errors."""
    with reported_errors():
        settings = load_settings()
        problem = None
        policy = load_policy(settings)
        with store_for(settings) as store:
            state = None
            if salesforce:
                try:
                    with salesforce_client(settings) as client:
                        state = sync_status(store, now=datetime.now(UTC), error_window=timedelta(days=5),
                                            client=client, policy=policy)
                except (SalesforceError, EmulatorUnavailable) as error:
                    problem = one_line(error)
            if state is None:  # the local status stands on its own when Salesforce cannot be asked
                state = sync_status(store, now=datetime.now(UTC), error_window=timedelta(days=5), policy=policy)
            if salesforce:
                state["salesforce"] = {"reachable": problem is None, "problem": problem}
        if as_json:
            print_json(state)
            return
        _print_status(state)
        if problem:
            typer.echo(f"Salesforce unreachable: {problem}")


def _print_status(state: dict[str, Any]) -> None:
    doing = state["state"]
    until = f" (until {doing['until'][:19].replace('T', ' ')} UTC)" if doing["until"] else ""
    reason = "see FAILED below" if doing["kind"] == FAILING else doing["reason"]
    typer.echo(textwrap.fill(f"sync: {doing['kind']}: {reason}{until}", width=80, subsequent_indent="  ",
                             break_on_hyphens=False))
    last = state["lastCycle"]
    if last is not None:  # else the line above says that no cycle has run yet
        started = last["startedAt"][:19].replace("T", " ")
        steps = last["steps"]
        console.print(_step_table(f"Last cycle {last['cycleId'][:8]} · started {started} UTC", steps))
        for s in steps:
            if s["status"] == StepStatus.FAILED.value:
                typer.echo(f"FAILED: {s['object']} {s['operation']}: {s['message']}")
            elif s["status"] == STOPPED_STEP:
                typer.echo(f"STOPPED: {s['object']} {s['operation']}: the cycle stopped before this step finished "
                           "(its process ended or lost the database); the next cycle goes on from there")
    backlog = state["backlog"]
    typer.echo(f"waiting to go to Salesforce: {counted(backlog['pendingChanges'], 'change')} of "
               f"{counted(backlog['pendingPersons'], 'person')} ({backlog['failedChanges']} refused)")
    kept = backlog["keptInTandem"]
    if kept["changes"]:
        typer.echo(f"kept in Tandem only: {counted(kept['changes'], 'change')} of {counted(kept['persons'], 'person')} "
                   "not in Salesforce (no cycle sends them; Sync Person to SFDC does)")
    if backlog["salesforceChanges"] is not None:
        waiting = ", ".join(f"{name} {'all (never pulled)' if n is None else n}"
                            for name, n in backlog["salesforceChanges"].items())
        typer.echo(f"changed in Salesforce since the last pull: {waiting}")
    print_forecast(backlog["forecast"], state["budget"])
    usage = state["apiUsage"]
    if usage:
        typer.echo(f"API usage: {usage['used']} of {usage['limit']} in the last 24 h")
    open_errors = sum(1 for e in state["errors"] if not e["resolved"])
    typer.echo(f"sync errors in the last 5 days: {len(state['errors'])} ({open_errors} not resolved)")
    for error in state["errors"][:10]:
        typer.echo(f"  {sync_errors.line(error)}")


@app.command()
def fields(as_json: AsJson = False) -> None:
    """Every Salesforce field of Contact, Lead and Account: does it sync, which way, and why."""
    with reported_errors():
        settings = load_settings()
        with store_for(settings) as store, engine_on(settings, store) as engine:
            engine.schema_max_age_seconds = 0  # the org as it is now, not as the kept describes were
            engine.refresh_catalog(add_fields=False)  # new person fields are the cycle's to add (and backfill)
            assert engine.catalog is not None
            report = catalog_report(engine.client, engine.catalog)
        rules, unlisted = report.rules, report.unlisted
        rows = [
            {"object": r.object_name, "field": r.sf_field, "personField": r.person_field,
             "direction": r.direction.value, "reason": r.reason, "type": r.sf_type}
            for r in rules
        ]
        if as_json:
            print_json(rows)
            return
        table = Table(title="Salesforce fields as the sync user sees them", title_justify="left")
        for column in ("Salesforce field", "person field", "syncs", "why"):
            table.add_column(column)
        for row in rows:
            table.add_row(f"{row['object']}.{row['field']}", row["personField"] or "", row["direction"], row["reason"])
        console.print(table)
        for note in unlisted:
            typer.echo(note)
