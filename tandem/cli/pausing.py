"""`tandem pause` and `tandem resume`: the web UI's Pause sync and Resume sync, for operators with
only the command line. The pause is the same row in the database (`tandem.people.sync_pause`), under
the same rules: `tandem run` starts no cycle while it stands; pausing again keeps the pause in force
(refused here, exit 1, naming whose it is); resuming when not paused says so and changes nothing."""

from __future__ import annotations

import getpass
from datetime import UTC, datetime
from typing import Annotated, Any, Optional

import typer

from tandem.cli import app
from tandem.cli.output import print_json, reported_errors
from tandem.config import load_settings
from tandem.errors import InvalidInput, TandemError
from tandem.people.sync_pause import BY_LENGTH, Pause

AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of a line.")]
UNSAID = "paused from the command line"


class PauseStands(TandemError):
    """Another pause is in force: it stands, and this one was not made."""


@app.command()
def pause(
    reason: Annotated[str, typer.Option("--reason", help="Why, shown wherever the pause is (at most 500 "
                                        f"characters; default: {UNSAID!r}).")] = "",
    by: Annotated[Optional[str], typer.Option("--by", help="Who pauses it (default: cli:<your user name>).")] = None,
    as_json: AsJson = False,
) -> None:
    """Pause the sync: `tandem run` starts no cycle until `tandem resume` (a running cycle finishes).

    A pause already in force stands: it is not replaced, and the command exits 1 naming it.
    """
    from tandem.cli.wiring import store_for

    with reported_errors():
        who = _default_by() if by is None else by
        now = datetime.now(UTC)
        with store_for(load_settings()) as store:
            try:
                current = store.sync_pause.pause(who, reason, now=now, unsaid=UNSAID)
            except InvalidInput as error:  # named as the option that gave it
                raise InvalidInput(f"--{error.field}", error.reason) from None
        made = current.made_by(who, now)
        if as_json:
            print_json({"paused": made, **_as_json(current)})
        if not made:
            raise PauseStands(f"the sync was already {current.said()}; that pause stands")
        if not as_json:
            typer.echo(f"Sync {current.said()}; `tandem run` starts no cycle until `tandem resume`")


@app.command()
def resume(as_json: AsJson = False) -> None:
    """Resume the sync, whoever paused it (here or in the web UI), and say whose pause ended."""
    from tandem.cli.wiring import store_for

    with reported_errors(), store_for(load_settings()) as store:
        ended: Pause | None = None
        while (current := store.sync_pause.current()) is not None:
            if store.sync_pause.resume(current.paused_at):  # only the pause read, so the one named is the one ended
                ended = current
                break
    if as_json:
        print_json({"resumed": ended is not None, **(_as_json(ended) if ended else
                                                     {"pausedAt": None, "pausedBy": None, "reason": None})})
    elif ended is None:
        typer.echo("The sync was not paused")
    else:
        typer.echo(f"Sync resumed; it was {ended.said()}")


def _default_by() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no login name and no password entry for this uid
        user = "unknown"
    return f"cli:{user}"[:BY_LENGTH]


def _as_json(pause: Pause) -> dict[str, Any]:
    return {"pausedAt": pause.paused_at.isoformat(), "pausedBy": pause.paused_by, "reason": pause.reason}
