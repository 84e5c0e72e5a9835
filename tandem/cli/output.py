"""What every command shares: errors as one line on stderr, JSON output for scripts."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
import typer

from tandem.errors import TandemError, one_line
from tandem.people.database import is_contention, outage_reason


@contextmanager
def reported_errors() -> Iterator[None]:
    """Tandem's own errors become one line on stderr and exit status 1, never a traceback."""
    try:
        yield
    except TandemError as error:
        typer.echo(f"Error: {one_line(error)}", err=True)
        raise typer.Exit(1) from None
    except sa.exc.DatabaseError as error:
        if is_contention(error):
            typer.echo(f"Error: the database is busy: another program held it through every attempt "
                       f"({outage_reason(error)}); try again once it lets go", err=True)
        else:
            typer.echo(f"Error: cannot use the database: {database_said(error)}", err=True)
        raise typer.Exit(1) from None


def database_said(error: sa.exc.DatabaseError) -> str:
    """What the database driver said, on one line (libpq adds `\n\tIs the server running on that host ...`)."""
    lines = [" ".join(line.split()) for line in str(error.orig).splitlines() if line.strip()]
    ended = [line if n == len(lines) - 1 or line.endswith((".", ":", "?", "!")) else f"{line}."
             for n, line in enumerate(lines)]
    return " ".join(ended)


def counted(count: int, noun: str) -> str:
    """`1 change`, `2 changes`: a count and its noun (one that takes an s)."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def print_json(value: Any) -> None:
    typer.echo(json.dumps(value, indent=2, ensure_ascii=False, default=str))


def camel_case(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def camel_json(value: Any) -> Any:
    """A dataclass, dict or list with every key in camelCase, as all of Tandem's JSON is."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {camel_case(str(k)): camel_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [camel_json(v) for v in value]
    return value


def confirm(question: str, yes: bool) -> None:
    """Ask before a destructive command; `--yes` answers for the user. No (or no answer) stops it."""
    if yes:
        return
    try:
        agreed = typer.confirm(question, default=False, err=True)
    except typer.Abort:  # no terminal, or the input ended
        agreed = False
        typer.echo("", err=True)
    if not agreed:
        typer.echo("Nothing done.", err=True)
        raise typer.Exit(1)
