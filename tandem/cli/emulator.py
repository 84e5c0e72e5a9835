"""`tandem emulator` commands: serve an org-definition file as a local HTTPS Salesforce."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path
from typing import NoReturn, Optional

import typer

from tandem.cli import app
from tandem.cli.connection_help import connection_help
from tandem.cli.output import reported_errors
from tandem.emulator.sample_org import SAMPLE_ORG_FILE

emulator_app = typer.Typer(help="The bundled Salesforce emulator.", no_args_is_help=True)
app.add_typer(emulator_app, name="emulator")


def _positive_seconds(value: Optional[float]) -> Optional[float]:
    """More than 0 seconds (0 or less would stop the emulator as soon as it started)."""
    if value is not None and not value > 0:
        raise typer.BadParameter(f"must be more than 0 seconds, got {value:g}")
    return value


def load_org(org_file: Path, state_dir: Path, persist: bool):
    """The org from its definition file, or from the state directory's saved state when persisting."""
    from tandem.emulator.model import Org

    if persist:
        return Org.load_state(org_file, state_dir)
    return Org.from_file(org_file)


@emulator_app.command("serve")
def serve(
    org: Path = typer.Option(SAMPLE_ORG_FILE, "--org", help="Org-definition file (tandem-org/1)."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8443, "--port", min=0, max=65535, help="0 picks a free port."),
    state_dir: Path = typer.Option(Path(".tandem/emulator"), "--state-dir",
                                   help="Holds ca.pem, the server certificate and, with --persist, the org state."),
    persist: bool = typer.Option(False, "--persist", help="Keep org state in --state-dir across restarts."),
    seed: Optional[int] = typer.Option(None, "--fault-seed", help="Override the fault-injection seed."),
    idle_exit: Optional[float] = typer.Option(None, "--idle-exit", callback=_positive_seconds,
                                              help="Stop after this many seconds without a request."),
) -> None:
    """Serve ORG over HTTPS until interrupted; prints the base URL and the CA file to trust.

    One emulator serves a state folder at a time: commands that need the bundled emulator use this
    one while it runs, and a second `serve` on the same folder is refused.
    """
    from tandem.emulator.instance import ServerClaim, running
    from tandem.emulator.server import EmulatorServer
    from tandem.errors import EmulatorUnavailable

    try:
        claim = ServerClaim.take(state_dir)
    except EmulatorUnavailable as error:
        _refuse(str(error))
    if claim is None:
        other = running(state_dir)
        where = f" at {other.base_url} (pid {other.pid})" if other else ""
        _refuse(f"an emulator already serves {state_dir}{where}; stop it with `tandem emulator stop`")
    try:
        try:
            organisation = load_org(org, state_dir, persist)
        except (ValueError, OSError) as exc:  # OrgDefinitionError is a ValueError
            _refuse(f"cannot serve {org}: {exc}")
        if seed is not None:
            organisation.fault_settings = organisation.fault_settings.model_copy(update={"seed": seed})
        server = EmulatorServer(organisation, host=host, port=port, state_dir=state_dir, persist=persist)
        try:
            base_url = server.start()
        except OSError as exc:
            _refuse(f"cannot listen on {host}:{port}: {exc}")
        claim.announce(base_url, server.ca_path.resolve())
        typer.echo(f"Salesforce emulator for {organisation.name!r} at {base_url}")
        for line in connection_help(base_url, server.ca_path, org):
            typer.echo(line)
        stopping = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stopping.set())
        while not stopping.wait(1.0):
            if idle_exit is not None and time.monotonic() - server.last_request > idle_exit:
                break
        server.stop()
        typer.echo("stopped" + (f"; state saved in {state_dir}" if persist else ""))
    finally:
        claim.release()


def _refuse(reason: str) -> NoReturn:
    """The emulator does not start: one line on stderr and exit status 1, as every command fails."""
    typer.echo(f"Error: {reason}", err=True)
    raise typer.Exit(1)


@emulator_app.command("stop")
def stop(
    state_dir: Path = typer.Option(Path(".tandem/emulator"), "--state-dir", help="The folder whose emulator to stop."),
) -> None:
    """Stop the emulator serving a state folder (it saves its state first)."""
    from tandem.emulator.instance import stop_running

    with reported_errors():
        stopped = stop_running(state_dir)
    typer.echo(f"stopped the emulator at {stopped.base_url}" if stopped else f"no emulator serves {state_dir}")
