"""What every command shares: errors as one line on stderr, JSON output for scripts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
import typer

from tandem.errors import TandemError


@contextmanager
def reported_errors() -> Iterator[None]:
    """Tandem's own errors become one line on stderr and exit status 1, never a traceback."""
    try:
        yield
    except TandemError as error:
        typer.echo(f"Error: {one_line(error)}", err=True)
        raise typer.Exit(1) from None
    except sa.exc.OperationalError as error:
        typer.echo(f"Error: cannot use the database: {str(error.orig).strip()}", err=True)
        raise typer.Exit(1) from None


def print_json(value: Any) -> None:
    typer.echo(json.dumps(value, indent=2, ensure_ascii=False, default=str))


def one_line(error: BaseException) -> str:
    """An error as one line: what happened, then what to do about it when something can be done."""
    hint = getattr(error, "hint", None)
    return f"{error}; {hint}" if hint else str(error)
