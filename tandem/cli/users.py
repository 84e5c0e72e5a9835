"""`tandem user ...`: the web UI's users. A password is typed twice at a prompt or read from stdin;
a new password or a removal ends the user's open sessions in every `tandem serve` at once."""

from __future__ import annotations

import getpass
import sys
import warnings
from typing import Annotated

import typer

from tandem.cli import app
from tandem.cli.output import print_json, reported_errors
from tandem.config import load_settings
from tandem.errors import InvalidInput
from tandem.people.ui_accounts import Role, UiUser, check_username, unknown_user

user_app = typer.Typer(help="Web UI users.", no_args_is_help=True)
app.add_typer(user_app, name="user")

Name = Annotated[str, typer.Argument(help="The user's sign-in name.")]
PasswordStdin = Annotated[bool, typer.Option("--password-stdin", help="Read the password from the first line of stdin.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


@user_app.command("add")
def add(
    name: Name,
    role: Annotated[Role, typer.Option(help="viewer sees every page; operator also starts actions.")] = Role.VIEWER,
    password_stdin: PasswordStdin = False,
) -> None:
    """Add a web UI user (the password is stored as an Argon2 hash only)."""
    from tandem.cli.wiring import store_for

    with reported_errors():
        check_username(name)
        with store_for(load_settings()) as store:
            if store.ui_accounts.get(name) is not None:  # said before the password is asked for
                raise InvalidInput("username", f"a user named {name!r} already exists")
            user = store.ui_accounts.add(name, _new_password_hash(password_stdin), role)
        typer.echo(f"added {user.role.value} {user.username}")


@user_app.command("list")
def list_(as_json: AsJson = False) -> None:
    """List the web UI users: name, role and when each was added (never a password hash)."""
    from tandem.cli.wiring import store_for

    with reported_errors(), store_for(load_settings()) as store:
        users = store.ui_accounts.all()
    if as_json:
        print_json([_as_json(user) for user in users])
    elif not users:
        typer.echo("No web UI users: add one with `tandem user add NAME`.")
    else:
        width = max(len(user.username) for user in users)
        for user in users:
            typer.echo(f"{user.username:<{width}}  {user.role.value:<8}  added {user.created_at:%Y-%m-%d %H:%M} UTC")


@user_app.command("password")
def password(name: Name, password_stdin: PasswordStdin = False) -> None:
    """Give a web UI user a new password; their open sessions end at once."""
    from tandem.cli.wiring import store_for

    with reported_errors(), store_for(load_settings()) as store:
        if store.ui_accounts.get(name) is None:  # said before the password is asked for
            raise unknown_user(name)
        user = store.ui_accounts.change_password(name, _new_password_hash(password_stdin))
        typer.echo(f"changed the password of {user.username}; their open sessions are ended")


@user_app.command("remove")
def remove(name: Name) -> None:
    """Remove a web UI user; their open sessions end at once."""
    from tandem.cli.wiring import store_for

    with reported_errors(), store_for(load_settings()) as store:
        left = store.ui_accounts.remove(name)
    typer.echo(f"removed {name}; their open sessions are ended")
    if not left:
        typer.echo("Warning: no web UI user is left: nobody can sign in until one is added with "
                   "`tandem user add NAME`", err=True)


def _new_password_hash(password_stdin: bool) -> str:
    from tandem.web.ui.passwords import hash_password

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        try:
            with warnings.catch_warnings():  # getpass's own line says the input may be echoed
                warnings.simplefilter("ignore", getpass.GetPassWarning)
                password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
        except typer.Abort:  # the input ended (no terminal): click would say only "Aborted!"
            typer.echo("", err=True)
            raise InvalidInput("password", "the input ended before a password was typed twice; type it at a "
                               "terminal, or pipe it in with --password-stdin") from None
    return hash_password(password)


def _as_json(user: UiUser) -> dict[str, str]:
    return {"username": user.username, "role": user.role.value, "createdAt": user.created_at.isoformat()}
