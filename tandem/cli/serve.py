"""`tandem serve`: the Marketo-compatible REST API on uvicorn."""

from __future__ import annotations

from functools import partial
from typing import Annotated

import typer

from tandem.cli import app
from tandem.cli.output import reported_errors
from tandem.config import load_settings
from tandem.errors import ConfigError


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
    calls_per_window: Annotated[int, typer.Option(help="Calls allowed per window (606 beyond).")] = 100,
    window_seconds: Annotated[float, typer.Option(help="Length of the rate window in seconds.")] = 20.0,
    concurrent_calls: Annotated[int, typer.Option(help="Calls in flight at once (615 beyond).")] = 10,
) -> None:
    """Serve the REST API (Marketo's wire format) for TANDEM_API_CLIENT_ID / TANDEM_API_CLIENT_SECRET."""
    import uvicorn

    from tandem.cli.wiring import salesforce_client, store_for
    from tandem.web.app import create_app
    from tandem.web.auth import ApiCredentials
    from tandem.web.limits import ApiLimits

    with reported_errors():
        settings = load_settings()
        if not settings.api_client_id or settings.api_client_secret is None:
            raise ConfigError("TANDEM_API_CLIENT_ID", "set it and TANDEM_API_CLIENT_SECRET to serve the REST API")
        limits = ApiLimits(calls_per_window=calls_per_window, window_seconds=window_seconds,
                           concurrent_calls=concurrent_calls)
        credentials = ApiCredentials(settings.api_client_id, settings.api_client_secret.get_secret_value())
        with store_for(settings) as store:
            api = create_app(store, credentials, limits=limits, salesforce=partial(salesforce_client, settings))
            typer.echo(f"Tandem REST API on http://{host}:{port} (identity: /identity/oauth/token, REST: /rest/v1/...)")
            uvicorn.run(api, host=host, port=port, log_level="warning")
