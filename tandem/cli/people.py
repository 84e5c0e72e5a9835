"""`tandem init` and `tandem person ...`: a few lines each over `PersonStore`."""

from __future__ import annotations

import shutil
import textwrap
from contextlib import AbstractContextManager
from typing import Annotated, Any, Optional

import sqlalchemy as sa
import typer
from rich.console import Console
from rich.table import Table

from tandem.cli import app
from tandem.cli.output import print_json, reported_errors
from tandem.config import Settings, env_name, load_settings
from tandem.errors import ConfigError, InvalidInput, StoreError
from tandem.people.activities import ACTIVITY_TYPES
from tandem.people.models import Activity, ErrorLevel, PendingState, Person
from tandem.people.origin import ChangeOrigin
from tandem.people.store import PersonStore
from tandem.cli.wiring import create_store, shown_url, store_for

CLI_SOURCE = ChangeOrigin.CLI

person_app = typer.Typer(help="Add, change and look at persons.", no_args_is_help=True)
app.add_typer(person_app, name="person")

DatabaseUrl = Annotated[
    Optional[str],
    typer.Option("--database-url", help="sqlite:///… or postgresql://… (default: TANDEM_DATABASE_URL or tandem.toml)"),
]
Reference = Annotated[str, typer.Argument(help="A person id or an email address.")]
Assignments = Annotated[list[str], typer.Argument(help="FIELD=VALUE pairs, e.g. title=CTO.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]

_types = {t.id: t.name for t in ACTIVITY_TYPES}


def _store(database_url: str | None) -> AbstractContextManager[PersonStore]:
    """The store the command works on (the option, else the settings), closed when the block ends."""
    return store_for(_settings(database_url))


def _settings(database_url: str | None) -> Settings:
    try:
        return load_settings(**({"database_url": database_url} if database_url else {}))
    except ConfigError as error:  # the option's value was refused, not the variable's
        if database_url and error.setting == env_name("database_url"):
            raise ConfigError("--database-url", error.reason) from None
        raise


def _assignments(pairs: list[str]) -> dict[str, str]:
    fields: dict[str, str] = {}
    for pair in pairs:
        name, equals, value = pair.partition("=")
        if not equals or not name.strip():
            raise InvalidInput(pair, "expected FIELD=VALUE")
        if name.strip() in fields:  # else the first value would be dropped without a word
            raise InvalidInput(name.strip(), f"given twice ({fields[name.strip()]!r} and {value!r}); give it once")
        fields[name.strip()] = value
    return fields


@app.command()
def init(database_url: DatabaseUrl = None) -> None:
    """Create the database's tables, or bring them up to date."""
    with reported_errors():
        url = _settings(database_url).database_url
        store = create_store(url)
        try:
            store.refuse_newer_schema(named=f"the database {shown_url(url)}")
            before = store.schema_revision()
            store.migrate()
        except sa.exc.OperationalError as error:
            raise StoreError(f"cannot set up the database {shown_url(url)}: {str(error.orig).strip()}") from None
        finally:
            store.close()
        head = store.head_revision()
        done = ("" if before is None else f" (upgraded from schema revision {before} to {head})" if before != head
                else f" (schema revision {head}: nothing to upgrade)")
        typer.echo(f"Database ready: {shown_url(url)}{done}")


@person_app.command("add")
def add(
    assignments: Assignments,
    allow_duplicate: Annotated[bool, typer.Option(
        "--allow-duplicate", help="Add the person even when another one has the same email.")] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Add a person: tandem person add email=ann@example.com lastName=Lee"""
    with reported_errors(), _store(database_url) as store:
        fields = _assignments(assignments)
        person = store.atomically(lambda: _added(store, fields, allow_duplicate))
        typer.echo(f"Added person {person.id}")


def _added(store: PersonStore, fields: dict[str, str], allow_duplicate: bool) -> Person:
    """The person added, unless another has the same email (its key stays locked until the new
    person is in, so two adds of one email at the same time make one person)."""
    email = (fields.get("email") or "").strip()
    if email and not allow_duplicate:
        taken = [pid for ids in store.api.claim("email", [email]).values() for pid in ids]
        if taken:
            raise InvalidInput("email", f"person {taken[0]} already has {email}; "
                                        "--allow-duplicate adds another person with it")
    return store.persons.add(fields, origin=CLI_SOURCE)


@person_app.command("set")
def set_(reference: Reference, assignments: Assignments, database_url: DatabaseUrl = None) -> None:
    """Change fields of a person: tandem person set ann@example.com title=CTO"""
    with reported_errors(), _store(database_url) as store:
        fields = _assignments(assignments)
        person = store.persons.resolve(reference)
        changed = store.atomically(lambda: store.persons.update(person.id, fields, origin=CLI_SOURCE))
        typer.echo(f"Person {person.id}: " + (f"changed {', '.join(changed)}" if changed else "nothing changed"))


@person_app.command("show")
def show(reference: Reference, as_json: AsJson = False, database_url: DatabaseUrl = None) -> None:
    """Show a person's fields and Salesforce link."""
    with reported_errors(), _store(database_url) as store:
        person = store.persons.resolve(reference)
        state = sync_state(store, person)
        if as_json:
            print_json({**person.as_json(), "syncState": state})
        else:
            Console().print(_person_table(person))
            for line in _sync_lines(state):
                typer.echo(line)


@person_app.command("activity")
def activity(reference: Reference, as_json: AsJson = False, database_url: DatabaseUrl = None) -> None:
    """Show a person's activity log, oldest first."""
    with reported_errors(), _store(database_url) as store:
        person = store.persons.resolve(reference)
        log = store.activities.find(person.id)
        if as_json:
            print_json([a.as_json() for a in log])
        else:
            for line in _activity_lines(person, log):
                typer.echo(line)


def sync_state(store: PersonStore, person: Person) -> dict[str, Any]:
    """The person's link to Salesforce, the fields waiting to go there, and Salesforce's last refusal."""
    pending = store.outbox.find(person_ids=[person.id])
    refusals = store.sync_errors.recent(person_id=person.id, level=ErrorLevel.RECORD, limit=1)
    link = person.link
    return {
        "linked": f"{link.sfdc_type} {link.sfdc_id}" if link.sfdc_id else None,
        "inSalesforce": bool(link.sfdc_id) and not link.sfdc_is_deleted,
        "pendingFields": [{"field": c.field, "state": c.state.value, "attempts": c.attempts,
                           "lastError": c.last_error} for c in pending],
        "lastRefusal": {"occurredAt": refusals[0].occurred_at.isoformat(), "errorCode": refusals[0].error_code,
                        "message": refusals[0].message,
                        "resolved": refusals[0].id in store.history.resolved_ids([refusals[0].id])}
        if refusals else None,
    }


def _sync_lines(state: dict[str, Any]) -> list[str]:
    if not state["linked"]:
        link = "not linked (tandem person sync creates its Lead)"
    elif not state["inSalesforce"]:
        link = f"{state['linked']}, deleted in Salesforce (tandem person sync creates a new Lead)"
    else:
        link = state["linked"]
    # what no cycle sends (a person not in Salesforce) is kept in Tandem, as tandem status counts it
    waiting = "Waiting to go to Salesforce" if state["inSalesforce"] else "Kept in Tandem only"
    changes = ", ".join(f"{c['field']}" + (" (refused)" if c["state"] == PendingState.FAILED.value else "")
                        for c in state["pendingFields"])
    lines = [f"Salesforce: {link}", f"{waiting}: {changes or 'nothing'}"]
    refusal = state["lastRefusal"]
    if refusal:
        lines.append(f"Last refusal ({refusal['occurredAt'][:16].replace('T', ' ')}): {refusal['errorCode']}: "
                     f"{refusal['message']}" + (" [resolved]" if refusal["resolved"] else ""))
    return lines


def _person_table(person: Person) -> Table:
    table = Table(title=f"Person {person.id}")
    table.add_column("Field", style="bold")
    table.add_column("Value")
    record = person.as_json()
    for name, value in record.items():
        if value is not None and value != "":
            table.add_row(name, str(value))
    return table


def _activity_lines(person: Person, log: list[Activity]) -> list[str]:
    """Each activity as a heading line and its details wrapped below: readable at any width."""
    width = max(60, shutil.get_terminal_size().columns)
    lines = [f"Activity of person {person.id}, oldest first (dates in UTC)"]
    for entry in log:
        kind = _types.get(entry.activity_type_id, str(entry.activity_type_id))
        heading = f"#{entry.id}  {entry.activity_date:%Y-%m-%d %H:%M:%S}  {kind}"
        lines.append(heading + (f": {entry.primary_attribute_value}" if entry.primary_attribute_value else ""))
        details = " · ".join(f"{item['name']}: {item['value']}" for item in entry.attributes
                             if item["value"] not in (None, ""))  # an empty one says nothing
        if details:
            lines.extend(textwrap.wrap(details, width, initial_indent="    ", subsequent_indent="    "))
    return lines
