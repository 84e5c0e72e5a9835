"""`tandem demo`: the product's main job on the bundled emulator, start to finish."""

from __future__ import annotations

import signal
import threading
from typing import Annotated

import typer
from rich.console import Console

from tandem.cli import app
from tandem.cli.output import reported_errors


@app.command()
def demo(
    serve: Annotated[bool, typer.Option("--serve", help="Keep the emulator and the sync running afterwards.")] = False,
) -> None:
    """Start the bundled emulator and a fresh database, sync, edit both sides, show what happened."""
    from tandem.demo import run_demo

    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    with reported_errors():
        run_demo(Console(), serve=serve, stop=stop)
