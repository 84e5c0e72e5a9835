"""`tandem user add`: a web UI user, with a password typed twice at a prompt or read from stdin."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from tandem.cli import app
from tandem.cli.output import reported_errors
from tandem.config import load_settings
from tandem.people.ui_accounts import Role, check_username

user_app = typer.Typer(help="Web UI users.", no_args_is_help=True)
app.add_typer(user_app, name="user")


@user_app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="The user's sign-in name.")],
    role: Annotated[Role, typer.Option(help="viewer sees every page; operator also starts actions.")] = Role.VIEWER,
    password_stdin: Annotated[bool, typer.Option("--password-stdin",
                                                 help="Read the password from the first line of stdin.")] = False,
) -> None:
    """Add a web UI user (the password is stored as an Argon2 hash only)."""
    from tandem.cli.wiring import store_for
    from tandem.web.ui.passwords import hash_password

    with reported_errors():
        check_username(name)
        if password_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
        else:
            password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
        password_hash = hash_password(password)
        with store_for(load_settings()) as store:
            user = store.ui_accounts.add(name, password_hash, role)
        typer.echo(f"added {user.role.value} {user.username}")
