"""`tandem init` and `tandem person ...`: a few lines each over `PersonStore`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import sqlalchemy as sa
import typer
from rich.console import Console
from rich.table import Table

from tandem.cli import app
from tandem.errors import InvalidInput, StoreError, TandemError
from tandem.people.activities import ACTIVITY_TYPES
from tandem.people.database import DEFAULT_DATABASE_URL
from tandem.people.models import Activity, Person
from tandem.people.store import PersonStore

CLI_SOURCE = "cli"

person_app = typer.Typer(help="Add, change and look at persons.", no_args_is_help=True)
app.add_typer(person_app, name="person")

DatabaseUrl = Annotated[
    str,
    typer.Option("--database-url", envvar="TANDEM_DATABASE_URL", help="sqlite:///… or postgresql://…"),
]
Reference = Annotated[str, typer.Argument(help="A person id or an email address.")]
Assignments = Annotated[list[str], typer.Argument(help="FIELD=VALUE pairs, e.g. title=CTO.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]

_types = {t.id: t.name for t in ACTIVITY_TYPES}


def _store(database_url: str) -> PersonStore:
    """Open the store the command works on; it must have been set up by `tandem init`."""
    store = PersonStore(database_url)
    if store.needs_migration():
        store.close()
        raise StoreError("the database is not set up (or out of date): run `tandem init`")
    return store


@contextmanager
def _reported_errors() -> Iterator[None]:
    """Tandem's own errors become one line on stderr and exit status 1, never a traceback."""
    try:
        yield
    except TandemError as error:
        typer.echo(f"Error: {error}", err=True)
        raise typer.Exit(1) from None
    except sa.exc.OperationalError as error:
        typer.echo(f"Error: cannot use the database: {str(error.orig).strip()}", err=True)
        raise typer.Exit(1) from None


def _assignments(pairs: list[str]) -> dict[str, str]:
    fields: dict[str, str] = {}
    for pair in pairs:
        name, equals, value = pair.partition("=")
        if not equals or not name.strip():
            raise InvalidInput(pair, "expected FIELD=VALUE")
        fields[name.strip()] = value
    return fields


def _print_json(value: Any) -> None:
    typer.echo(json.dumps(value, indent=2, ensure_ascii=False))


@app.command()
def init(database_url: DatabaseUrl = DEFAULT_DATABASE_URL) -> None:
    """Create the database's tables, or bring them up to date."""
    with _reported_errors():
        store = PersonStore(database_url)
        try:
            store.migrate()
        finally:
            store.close()
        shown = sa.make_url(store.url).render_as_string(hide_password=True)
        typer.echo(f"Database ready: {shown}")


@person_app.command("add")
def add(assignments: Assignments, database_url: DatabaseUrl = DEFAULT_DATABASE_URL) -> None:
    """Add a person: tandem person add email=ann@example.com lastName=Lee"""
    with _reported_errors():
        store = _store(database_url)
        person = store.add_person(_assignments(assignments), source=CLI_SOURCE)
        typer.echo(f"Added person {person.id}")


@person_app.command("set")
def set_(reference: Reference, assignments: Assignments, database_url: DatabaseUrl = DEFAULT_DATABASE_URL) -> None:
    """Change fields of a person: tandem person set ann@example.com title=CTO"""
    with _reported_errors():
        store = _store(database_url)
        fields = _assignments(assignments)
        person = store.resolve_person(reference)
        changed = store.update_person(person.id, fields, source=CLI_SOURCE)
        typer.echo(f"Person {person.id}: " + (f"changed {', '.join(changed)}" if changed else "nothing changed"))


@person_app.command("show")
def show(reference: Reference, as_json: AsJson = False, database_url: DatabaseUrl = DEFAULT_DATABASE_URL) -> None:
    """Show a person's fields and Salesforce link."""
    with _reported_errors():
        person = _store(database_url).resolve_person(reference)
        if as_json:
            _print_json(person.as_json())
        else:
            Console().print(_person_table(person))


@person_app.command("activity")
def activity(reference: Reference, as_json: AsJson = False, database_url: DatabaseUrl = DEFAULT_DATABASE_URL) -> None:
    """Show a person's activity log, oldest first."""
    with _reported_errors():
        store = _store(database_url)
        person = store.resolve_person(reference)
        log = store.list_activities(person.id)
        if as_json:
            _print_json([a.as_json() for a in log])
        else:
            Console().print(_activity_table(person, log))


def _person_table(person: Person) -> Table:
    table = Table(title=f"Person {person.id}")
    table.add_column("Field", style="bold")
    table.add_column("Value")
    record = person.as_json()
    for name, value in record.items():
        if value is not None and value != "":
            table.add_row(name, str(value))
    return table


def _activity_table(person: Person, log: list[Activity]) -> Table:
    table = Table(title=f"Activity of person {person.id}")
    for column in ("Id", "Date (UTC)", "Type"):
        table.add_column(column, no_wrap=True)
    table.add_column("Primary")
    table.add_column("Details")
    for entry in log:
        details = "\n".join(
            f"{item['name']}: {item['value']}" for item in entry.attributes if item["value"] is not None
        )
        table.add_row(
            str(entry.id),
            entry.activity_date.strftime("%Y-%m-%d %H:%M:%S"),
            _types.get(entry.activity_type_id, str(entry.activity_type_id)),
            entry.primary_attribute_value or "",
            details,
        )
    return table
