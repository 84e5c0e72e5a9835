"""`tandem sync`, `tandem run`, `tandem status`, `tandem fields`: thin commands over the sync engine."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from tandem.cli import app
from tandem.cli.output import print_json, reported_errors
from tandem.config import load_settings
from tandem.people.models import StepOperation, StepStatus
from tandem.cli.wiring import engine_on, salesforce_client, store_for
from tandem.sync.cycle import CycleReport, SyncEngine
from tandem.sync.scheduler import run_forever
from tandem.sync.status import step_json, sync_status

AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]
console = Console()


def _report_json(report: CycleReport) -> dict[str, Any]:
    return {
        "cycleId": report.cycle_id,
        "startedAt": report.started_at.isoformat(),
        "endedAt": report.ended_at.isoformat() if report.ended_at else None,
        "apiCalls": report.api_calls,
        "stoppedByLimit": report.stopped_by_limit,
        "failure": report.failure_message,
        "steps": [step_json(s) for s in report.steps],
    }


def _print_report(report: CycleReport) -> None:
    table = Table(title=f"Sync cycle {report.cycle_id[:8]} · {report.api_calls} API calls")
    for column in ("object", "step", "status", "new", "updated", "deleted", "failed", "skipped", "note"):
        table.add_column(column)
    for s in report.steps:
        table.add_row(s.object, s.operation.value, s.status.value, str(s.counts.new), str(s.counts.updated),
                      str(s.counts.deleted), str(s.counts.failed), str(s.counts.skipped), s.message or "")
    console.print(table)


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
) -> None:
    """Run one sync cycle now and show what each step did."""
    with reported_errors():
        settings = load_settings()
        with store_for(settings) as store, engine_on(settings, store) as engine:
            with _progress(engine) if not as_json else nullcontext():
                report = engine.run_cycle(retry_failed=retry_failed)
        if as_json:
            print_json(_report_json(report))
        else:
            _print_report(report)
        if report.failure is not None:
            typer.echo(f"FAILED: {report.failure_message}", err=True)
        if any(s.status is StepStatus.FAILED for s in report.steps):
            raise typer.Exit(1)


@app.command()
def run() -> None:
    """Sync continuously: a cycle, then TANDEM_SYNC_INTERVAL_SECONDS of rest, until stopped."""
    with reported_errors():
        settings = load_settings()
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        with store_for(settings) as store, engine_on(settings, store) as engine:
            typer.echo(f"syncing every {settings.sync_interval_seconds} s; Ctrl-C or SIGTERM stops")

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

            said: list[str] = []

            def paused(reason: str) -> None:
                if said != [reason]:
                    typer.echo(f"sync {reason}; no cycle starts until it is resumed")
                    said[:] = [reason]

            run_forever(engine, settings.sync_interval_seconds, stop, show, on_paused=paused)
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
        with store_for(settings) as store, salesforce_client(settings) if salesforce else nullcontext() as client:
            state = sync_status(store, now=datetime.now(UTC), error_window=timedelta(days=5), client=client)
        if as_json:
            print_json(state)
            return
        last = state["lastCycle"]
        if last is None:
            typer.echo("no sync cycle has run yet")
        else:
            table = Table(title=f"Last cycle {last['cycleId'][:8]} · started {last['startedAt']}")
            for column in ("object", "step", "status", "new", "updated", "deleted", "failed", "skipped", "API calls"):
                table.add_column(column)
            for s in last["steps"]:
                table.add_row(s["object"], s["operation"], s["status"], *(str(s[k]) for k in
                              ("new", "updated", "deleted", "failed", "skipped", "apiCalls")))
            console.print(table)
            for s in last["steps"]:
                if s["status"] == StepStatus.FAILED.value:
                    typer.echo(f"FAILED: {s['object']} {s['operation']}: {s['message']}")
        backlog = state["backlog"]
        typer.echo(f"waiting to go to Salesforce: {backlog['pendingChanges']} changes of {backlog['pendingPersons']} persons "
                   f"({backlog['failedChanges']} refused, waiting for a fix)")
        if backlog["salesforceChanges"] is not None:
            waiting = ", ".join(f"{name} {'all (never pulled)' if n is None else n}"
                                for name, n in backlog["salesforceChanges"].items())
            typer.echo(f"changed in Salesforce since the last pull: {waiting}")
        usage = state["apiUsage"]
        if usage:
            typer.echo(f"API usage: {usage['used']} of {usage['limit']} in the last 24 h")
        typer.echo(f"sync errors in the last 5 days: {len(state['errors'])}")
        for error in state["errors"][:10]:
            typer.echo(f"  {error['occurredAt']} {error['level']} {error['errorCode']}: {error['message']}")


@app.command()
def fields(as_json: AsJson = False) -> None:
    """Every Salesforce field of Contact, Lead and Account: does it sync, which way, and why."""
    with reported_errors():
        settings = load_settings()
        with store_for(settings) as store, engine_on(settings, store) as engine:
            engine.refresh_catalog()
        catalog = engine.catalog
        assert catalog is not None
        rows = [
            {"object": r.object_name, "field": r.sf_field, "personField": r.person_field,
             "direction": r.direction.value, "reason": r.reason, "type": r.sf_type}
            for name in catalog.rules for r in catalog.rules[name]
        ]
        if as_json:
            print_json(rows)
            return
        table = Table(title="Salesforce fields as the sync user sees them")
        for column in ("object", "field", "person field", "syncs", "why"):
            table.add_column(column)
        for row in rows:
            table.add_row(row["object"], row["field"], row["personField"] or "", row["direction"], row["reason"])
        console.print(table)
