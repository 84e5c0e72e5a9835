"""The `tandem` command: a thin layer over library functions, one module per command group."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import click
import typer
import typer.main

app = typer.Typer(
    name="tandem",
    help="A marketing person database kept in two-way sync with Salesforce.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)


class LogFormat(str, Enum):
    TEXT = "text"
    JSON = "json"


def _show_version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"tandem {version('tandem')}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[bool, typer.Option("--version", callback=_show_version, is_eager=True,
                                          help="Print Tandem's version and exit.")] = False,
    verbose: Annotated[int, typer.Option("--verbose", "-v", count=True,
                                         help="Log more: -v for progress, -vv for every detail.")] = 0,
    log_format: Annotated[LogFormat, typer.Option("--log-format", help="Log lines as text or as JSON, one object a line.",
                                                  case_sensitive=False)] = LogFormat.TEXT,
) -> None:
    """A marketing person database kept in two-way sync with Salesforce."""
    from tandem.cli.logs import configure_logging

    configure_logging(verbose, log_format.value)


def command() -> click.Command:
    """The click command behind `app`, its values shown in help by name (REFERENCE, OWNER), not type."""
    built = typer.main.get_command(app)
    _name_values(built)
    return built


def _name_values(command: click.Command) -> None:
    for param in command.params:
        if param.param_type_name == "argument":
            param.display_type_rich = lambda ctx: None  # type: ignore[method-assign]
        elif param.metavar is None and not getattr(param, "is_flag", False) and not getattr(param, "count", False):
            descriptor = getattr(param, "type_descriptor", None)
            choices = descriptor.choices if descriptor is not None and descriptor.is_choice else None
            param.metavar = ("[" + "|".join(str(getattr(c, "value", c)) for c in choices) + "]" if choices
                             else (param.name or "value").upper().replace("_", "-"))
    for sub in getattr(command, "commands", {}).values():
        _name_values(sub)


def main() -> None:
    """The `tandem` program."""
    command()(prog_name="tandem")


def _register() -> None:
    """Attach each command group; a group's module adds its commands to `app`."""
    from tandem.cli import commands  # noqa: F401


_register()
