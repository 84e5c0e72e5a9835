"""The `tandem` command: a thin layer over library functions, one module per command group."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="tandem",
    help="A marketing person database kept in two-way sync with Salesforce.",
    no_args_is_help=True,
    add_completion=False,
)


def _register() -> None:
    """Attach each command group; a group's module adds its commands to `app`."""
    from tandem.cli import commands  # noqa: F401


_register()
