"""`tandem demo`: the bundled emulator and a fresh database, real sync cycles, edits on both sides.

It plays two people: a marketer editing persons in Tandem, and a sales rep editing the same
records in Salesforce (through the Salesforce client, logged in as the sample org's rep), so a
conflict, a validation failure and its fix all happen for real and can be read back.
"""

from __future__ import annotations

import signal
import tempfile
import threading
from contextlib import ExitStack
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from tandem.cli import app
from tandem.cli.output import reported_errors
from tandem.cli.wiring import embedded_emulator, emulator_client
from tandem.cli.connection_help import connection_help
from tandem.emulator.sample_org import REP, SAMPLE_ORG_FILE
from tandem.people import activities as types
from tandem.people.origin import ChangeOrigin
from tandem.people.store import PersonStore
from tandem.salesforce.client import SalesforceClient
from tandem.sync.cycle import CycleReport, SyncEngine
from tandem.sync.scheduler import run_forever

MARKETER = ChangeOrigin.MARKETING
_TYPE_NAMES = {t.id: t.name for t in types.ACTIVITY_TYPES}


def run_demo(console: Console, *, serve: bool = False, stop: threading.Event | None = None,
             interval_seconds: float = 10.0) -> None:
    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="tandem-demo-")))
        server = stack.enter_context(embedded_emulator(workdir / "emulator", persist=False))
        console.rule("[bold]Tandem demo")
        console.print(f"Salesforce emulator (sample org) at [cyan]{server.base_url}[/], CA {server.ca_path}")
        store = PersonStore(f"sqlite:///{workdir / 'tandem.db'}")
        stack.callback(store.close)
        store.migrate()
        console.print(f"People database: {store.url}")
        engine = SyncEngine(emulator_client(server.base_url, server.ca_path), store)
        rep = emulator_client(server.base_url, server.ca_path, user=REP)
        Demo(console, store, engine, rep).play()
        if not serve:
            _what_next(console)
            return
        console.rule("Serving: syncing every %g s until Ctrl-C" % interval_seconds)
        for line in connection_help(server.base_url, server.ca_path, SAMPLE_ORG_FILE, store.url):
            console.print(line, markup=False, highlight=False, soft_wrap=True)
        run_forever(engine, interval_seconds, stop or threading.Event(), lambda r: r and _summary(console, r))


def _summary(console: Console, report: CycleReport) -> None:
    totals = report.record_totals()
    console.print(f"cycle {report.cycle_id[:8]}: {totals.new} new, {totals.updated} updated, "
                  f"{totals.failed} failed, {report.api_calls} API calls")


def _what_next(console: Console) -> None:
    console.rule("What next")
    for line in (
        "- `tandem demo --serve` keeps this emulator and the sync running and prints how to connect to them.",
        "- With your own org: `tandem check` says whether a sync can run and what to fix (README: "
        "\"Connect your Salesforce org\").",
        "- Then `tandem init`, `tandem sync`, `tandem status`, and `tandem serve` for the REST API.",
    ):
        console.print(line, markup=False, highlight=False)


def _plain(fields: dict) -> str:
    return ", ".join(f"{name} set to \"{value}\"" for name, value in fields.items())


class Demo:
    def __init__(self, console: Console, store: PersonStore, engine: SyncEngine, rep: SalesforceClient) -> None:
        self.console, self.store, self.engine, self.rep = console, store, engine, rep

    def play(self) -> None:
        self.cycle("1. First sync: Salesforce's contacts and leads become persons")
        self.show_persons()
        self.console.rule("2. Edits on both sides")
        wile, peter, samir, lisa = (self.person(e) for e in (
            "wile@acme.example", "peter@initech.example", "samir@initech.example", "lisa@springfield.example"))
        self.rep_edit("Contact", wile.link.sfdc_id, {"Title": "Super Genius"}, "Wile E. Coyote's title")
        self.marketer_edit(wile.id, {"title": "Chief Coyote"}, "the same field of the same person: a conflict")
        self.marketer_edit(peter.id, {"phone": "+1 555 0123"}, "only in Tandem")
        self.marketer_edit(samir.id, {"phone": "call me maybe"}, "breaks the org's Phone validation rule")
        self.rep_edit("Lead", lisa.link.sfdc_id, {"Rating": "Hot"}, "Lisa Simpson's lead rating")
        self.cycle("3. Second sync")
        self.show_activities(wile.id, "Wile: Salesforce wins the conflict on a contact; Tandem's value is kept in the log")
        [conflict] = self.latest(wile.id, types.SFDC_SYNC_CONFLICT)
        self.console.print(f"Conflict on Wile's title: kept \"{conflict.attribute('Kept Value')}\", "
                           f"lost \"{conflict.attribute('Lost Value')}\" (in the activity log)")
        self.show_activities(samir.id, "Samir: Salesforce refused the phone number; the change waits, nothing is lost")
        [failure] = self.latest(samir.id, types.SFDC_SYNC_FAILED)
        pending = ", ".join(f"{c.field} \"{c.value}\"" for c in self.store.outbox.find(person_ids=[samir.id]))
        self.console.print(f"Salesforce refused Samir's phone: {failure.primary_attribute_value}: "
                           f"{failure.attribute('Error Message')}; still waiting to go: {pending}")
        self.console.print(f"Peter's phone in Salesforce now: [green]{self.rep.retrieve('Contact', peter.link.sfdc_id)['Phone']}[/]")
        self.console.print(f"Lisa's rating in Tandem now: [green]{self.person('lisa@springfield.example').fields['rating']}[/]")
        self.console.rule("4. The marketer fixes Samir's phone")
        self.marketer_edit(samir.id, {"phone": "+1 555 0142"}, "a valid number")
        self.cycle("5. Third sync")
        self.console.print(f"Samir's phone in Salesforce now: [green]{self.rep.retrieve('Contact', samir.link.sfdc_id)['Phone']}[/]")
        self.cycle("6. An idle sync costs almost nothing")

    def person(self, email: str):
        [found] = self.store.persons.find_by_email(email)
        return found

    def cycle(self, title: str) -> CycleReport:
        self.console.rule(title)
        report = self.engine.run_cycle()
        table = Table(title=f"{report.api_calls} API calls")
        for column in ("object", "step", "status", "new", "upd", "del", "fail", "skip"):
            table.add_column(column, no_wrap=True)
        for s in report.steps:
            table.add_row(s.object, s.operation.value, s.status.value, *(str(v) for v in (
                s.counts.new, s.counts.updated, s.counts.deleted, s.counts.failed, s.counts.skipped)))
        self.console.print(table)
        return report

    def latest(self, person_id: int, kind: types.ActivityType) -> list:
        return [a for a in self.store.activities.find(person_id=person_id) if a.activity_type_id == kind.id][-1:]

    def show_persons(self) -> None:
        table = Table(title="Persons in Tandem")
        for column in ("id", "name", "email", "company", "SFDC type", "SFDC id"):
            table.add_column(column)
        for p in self.store.persons.get_many(range(1, self.store.persons.count() + 1)):
            name = " ".join(v for v in (p.fields.get("firstName"), p.fields.get("lastName")) if v)
            table.add_row(str(p.id), name, p.fields.get("email") or "", p.fields.get("company") or "",
                          p.link.sfdc_type or "", p.link.sfdc_id or "")
        self.console.print(table)

    def rep_edit(self, object_name: str, record_id: str, fields: dict, what: str) -> None:
        self.rep.update(object_name, record_id, fields)
        self.console.print(f"[yellow]Salesforce[/] (the rep): {what}: {_plain(fields)}")

    def marketer_edit(self, person_id: int, fields: dict, what: str) -> None:
        self.store.persons.update(person_id, fields, origin=MARKETER)
        self.console.print(f"[blue]Tandem[/] (the marketer): person {person_id}: {_plain(fields)} ({what})")

    def show_activities(self, person_id: int, title: str) -> None:
        table = Table(title=title, show_lines=False)
        for column in ("when", "activity", "about", "details"):
            table.add_column(column)
        for activity in self.store.activities.find(person_id=person_id)[-5:]:
            details = ", ".join(f"{a['name']}: {a['value']}" for a in activity.attributes
                                if a["value"] not in (None, "") and a["name"] not in ("Salesforce Id",))
            table.add_row(f"{activity.activity_date:%H:%M:%S}", _TYPE_NAMES.get(activity.activity_type_id, "?"),
                          activity.primary_attribute_value or "", details)
        self.console.print(table)


@app.command()
def demo(
    serve: Annotated[bool, typer.Option("--serve", help="Keep the emulator and the sync running afterwards.")] = False,
) -> None:
    """Start the bundled emulator and a fresh database, sync, edit both sides, show what happened."""
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    with reported_errors():
        run_demo(Console(), serve=serve, stop=stop)
