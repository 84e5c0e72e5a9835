"""`tandem emulator` commands: serve an org-definition file as a local HTTPS Salesforce."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import Optional

import typer

from tandem.cli import app
from tandem.emulator.sample_org import SAMPLE_ORG_FILE

emulator_app = typer.Typer(help="The bundled Salesforce emulator.", no_args_is_help=True)
app.add_typer(emulator_app, name="emulator")


def load_org(org_file: Path, state_dir: Path, persist: bool):
    """The org from its definition file, or from the state directory's saved state when persisting."""
    from tandem.emulator.model import Org

    if persist:
        return Org.load_state(org_file, state_dir)
    return Org.from_file(org_file)


@emulator_app.command("serve")
def serve(
    org: Path = typer.Option(SAMPLE_ORG_FILE, "--org", help="Org-definition file (tandem-org/1)."),
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(8443, "--port", help="0 picks a free port."),
    state_dir: Path = typer.Option(Path(".tandem/emulator"), "--state-dir",
                                   help="Holds ca.pem, the server certificate and, with --persist, the org state."),
    persist: bool = typer.Option(False, "--persist", help="Keep org state in --state-dir across restarts."),
    seed: Optional[int] = typer.Option(None, "--fault-seed", help="Override the fault-injection seed."),
) -> None:
    """Serve ORG over HTTPS until interrupted; prints the base URL and the CA file to trust."""
    from tandem.emulator.server import EmulatorServer

    try:
        organisation = load_org(org, state_dir, persist)
    except (ValueError, OSError) as exc:  # OrgDefinitionError is a ValueError
        typer.echo(f"cannot serve {org}: {exc}", err=True)
        raise typer.Exit(2) from None
    if seed is not None:
        organisation.fault_settings = organisation.fault_settings.model_copy(update={"seed": seed})
    server = EmulatorServer(organisation, host=host, port=port, state_dir=state_dir, persist=persist)
    try:
        base_url = server.start()
    except OSError as exc:
        typer.echo(f"cannot listen on {host}:{port}: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"Salesforce emulator for {organisation.name!r} at {base_url}")
    typer.echo(f"CA certificate: {server.ca_path}")
    typer.echo(f"Token URL: {base_url}/services/oauth2/token")
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    while not stopping.wait(1.0):
        pass
    server.stop()
    typer.echo("stopped" + (f"; state saved in {state_dir}" if persist else ""))
