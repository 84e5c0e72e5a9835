"""`tandem serve`: the Marketo-compatible REST API on uvicorn, over HTTP or HTTPS."""

from __future__ import annotations

import ipaddress
import logging
import math
import ssl
from functools import partial
from pathlib import Path
from typing import Annotated

import typer

from tandem.cli import app
from tandem.cli.output import reported_errors
from tandem.config import load_settings
from tandem.errors import ConfigError


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port to listen on.")] = 8080,
    calls_per_day: Annotated[int, typer.Option(
        help="Calls allowed per client per day, from 00:00 US Central time (607 beyond).")] = 50_000,
    calls_per_window: Annotated[int, typer.Option(help="Calls allowed per client per window (606 beyond).")] = 100,
    window_seconds: Annotated[float, typer.Option(help="Length of the rate window in seconds.")] = 20.0,
    concurrent_calls: Annotated[int, typer.Option(help="Calls in flight per client at once (615 beyond).")] = 10,
    tls_cert: Annotated[Path | None, typer.Option(help="PEM certificate (chain): serve HTTPS.")] = None,
    tls_key: Annotated[Path | None, typer.Option(help="PEM private key of --tls-cert.")] = None,
    trusted_proxy: Annotated[list[str] | None, typer.Option(
        help="Address of a reverse proxy whose X-Forwarded-For/-Proto headers are believed (repeatable).")] = None,
    access_log: Annotated[bool, typer.Option("--access-log/--no-access-log",
                                             help="Log a line per request (never its query string).")] = True,
) -> None:
    """Serve the REST API (Marketo's wire format) for the configured API clients."""
    import uvicorn

    from tandem.cli.wiring import engine_maker, salesforce_client, store_for
    from tandem.sync.policy import load_policy
    from tandem.web.app import create_app
    from tandem.web.clients import configured_clients
    from tandem.web.limits import ApiLimits

    with reported_errors():
        settings = load_settings()
        clients = configured_clients(settings)
        tls = _tls_files(tls_cert, tls_key)
        for option, value in (("--calls-per-day", calls_per_day), ("--calls-per-window", calls_per_window),
                              ("--window-seconds", window_seconds), ("--concurrent-calls", concurrent_calls)):
            if not value > 0:  # 0 would refuse every call, a window of 0 s or less would limit none
                raise ConfigError(option, f"must be more than 0, got {value:g}")
            if not math.isfinite(value):  # an endless window would answer 606 for good once it filled
                raise ConfigError(option, f"must be a finite number, got {value:g}")
        for address in trusted_proxy or []:
            _check_proxy(address)
        limits = ApiLimits(calls_per_day=calls_per_day, calls_per_window=calls_per_window,
                           window_seconds=window_seconds, concurrent_calls=concurrent_calls)
        policy = load_policy(settings)
        with store_for(settings) as store:
            api = create_app(store, clients, limits=limits, salesforce=partial(salesforce_client, settings),
                             policy=policy, sync_interval_seconds=policy.interval_seconds,
                             ui_secret_key=settings.secret_key.get_secret_value() if settings.secret_key else None,
                             make_engine=engine_maker(settings))
            if access_log:
                logging.getLogger("tandem.web.access").setLevel(logging.INFO)
            scheme = "https" if tls else "http"
            typer.echo(f"Tandem REST API on {scheme}://{host}:{port} for {len(clients)} API client(s) "
                       "(identity: /identity/oauth/token, REST: /rest/v1/..., docs: /docs, "
                       "health: /health, /ready, metrics: /metrics; web UI: /ui/)")
            uvicorn.run(
                api, host=host, port=port, log_level="warning", access_log=False,
                proxy_headers=bool(trusted_proxy), forwarded_allow_ips=",".join(trusted_proxy or []) or None,
                ssl_certfile=str(tls[0]) if tls else None, ssl_keyfile=str(tls[1]) if tls else None,
            )


def _check_proxy(address: str) -> None:
    """An address or network (`10.0.0.0/8`) the proxy headers are believed from, or `*`. (Given
    anything else, the server would believe no one and say nothing of it.)"""
    if address.strip() == "*":
        return
    try:
        if "/" in address:
            ipaddress.ip_network(address.strip())
        else:
            ipaddress.ip_address(address.strip())
    except ValueError:
        raise ConfigError("--trusted-proxy", f"{address!r} is not an IP address or network "
                                             "(such as 10.0.0.5 or 10.0.0.0/8; a network's host bits zero)") from None


def _tls_files(cert: Path | None, key: Path | None) -> tuple[Path, Path] | None:
    if cert is None and key is None:
        return None
    if cert is None or key is None:
        raise ConfigError("--tls-cert" if cert is None else "--tls-key", "give --tls-cert and --tls-key together")
    for option, path in (("--tls-cert", cert), ("--tls-key", key)):
        if not path.is_file():
            raise ConfigError(option, f"no such file: {path}")
    try:  # as the server will, before it starts: a key that does not fit fails here, in one line
        ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(cert, key, password=_no_password)
    except (ssl.SSLError, ValueError) as error:
        raise ConfigError("--tls-key", f"{key} is not the PEM private key (unencrypted) of the PEM certificate "
                                       f"{cert} ({getattr(error, 'reason', None) or error})") from None
    return cert, key


def _no_password() -> bytes:
    """An encrypted key is refused instead of asking for its passphrase on the terminal."""
    raise ValueError("the key is encrypted")
