"""Serving an org over HTTPS: a local CA kept in the state directory and uvicorn on a background thread.

The CA and server certificate are made on first start and reused, so a client configured once
with `DIR/ca.pem` keeps trusting the emulator across restarts.
"""

from __future__ import annotations

import gc
import logging
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import trustme
import uvicorn

from tandem.emulator.wire import create_app
from tandem.emulator.wire.header_names import HeaderNamesMiddleware

log = logging.getLogger("tandem.emulator")
SERVER_NAMES = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class TlsFiles:
    ca_path: Path
    cert_path: Path
    key_path: Path


def ensure_tls(state_dir: Path) -> TlsFiles:
    """The CA (`ca.pem`) and a server certificate for 127.0.0.1/localhost, created once per directory."""
    state_dir.mkdir(parents=True, exist_ok=True)
    files = TlsFiles(state_dir / "ca.pem", state_dir / "server.pem", state_dir / "server-key.pem")
    ca_key = state_dir / "ca-key.pem"
    if all(path.exists() for path in (files.ca_path, ca_key, files.cert_path, files.key_path)):
        return files
    ca = trustme.CA(organization_name="Tandem Salesforce emulator")
    leaf = ca.issue_cert(*SERVER_NAMES)
    ca.cert_pem.write_to_path(str(files.ca_path))
    ca.private_key_pem.write_to_path(str(ca_key))
    with open(files.cert_path, "wb") as out:
        for blob in leaf.cert_chain_pems:
            out.write(blob.bytes())
    leaf.private_key_pem.write_to_path(str(files.key_path))
    for secret in (ca_key, files.key_path):
        secret.chmod(0o600)
    return files


SAVE_SECONDS = 2.0
"""How often a persisted server looks for changes to save."""


class EmulatorServer:
    """One org served over HTTPS from a background thread (tests, the CLI and the benchmark use this)."""

    def __init__(self, org: Any, host: str = "127.0.0.1", port: int = 0, state_dir: Path | str = ".tandem/emulator",
                 *, persist: bool = False) -> None:
        self.org, self.host, self.port = org, host, port
        self.state_dir = Path(state_dir)
        self.persist = persist
        self.app = HeaderNamesMiddleware(create_app(org, state_dir=self.state_dir if persist else None))
        self.last_request = time.monotonic()
        """When the last request arrived (monotonic clock): an idle background server may stop."""
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._stop_saving = threading.Event()
        self._saver: threading.Thread | None = None
        self.tls = ensure_tls(self.state_dir)

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"https://{host}:{self.port}"

    @property
    def ca_path(self) -> Path:
        return self.tls.ca_path

    def start(self, timeout: float = 15.0) -> str:
        """Bind, start serving, and return the base URL once uvicorn accepts connections."""
        # The loaded org is long-lived: keep full GC passes from walking it during requests.
        gc.freeze()
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        # proto=IPPROTO_TCP lets asyncio set TCP_NODELAY on accepted connections; without it a
        # response body written after its headers waits for the client's delayed ACK (~40 ms).
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self._noting_requests,
            ssl_certfile=str(self.tls.cert_path),
            ssl_keyfile=str(self.tls.key_path),
            access_log=False,
            log_level="warning",
            lifespan="off",
            interface="asgi3",
            timeout_keep_alive=30,
            # Control routes trust only loopback peers: never take the peer from X-Forwarded-For,
            # whatever FORWARDED_ALLOW_IPS says.
            proxy_headers=False,
            # uvicorn writes these two in lowercase; HeaderNamesMiddleware adds `Date` itself.
            server_header=False,
            date_header=False,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name="tandem-emulator", daemon=True
        )
        self._thread.start()
        ticker = threading.Event()
        deadline = time.monotonic() + timeout
        while self._thread.is_alive() and not self._server.started and time.monotonic() < deadline:
            ticker.wait(0.01)
        if not self._server.started:
            raise RuntimeError("the emulator server did not start")
        if self.persist:
            self._saver = threading.Thread(target=self._save_while_serving, name="tandem-emulator-save", daemon=True)
            self._saver.start()
        return self.base_url

    def _save_while_serving(self) -> None:
        """With `persist`, the state is saved within `SAVE_SECONDS` of each change (longer for an org
        whose save takes long), so a server killed outright loses at most that much, and never gives an
        Id twice (`persistence`)."""
        saved, pause = self.org.changes_seen(), SAVE_SECONDS
        while not self._stop_saving.wait(pause):
            seen = self.org.changes_seen()
            if seen != saved:
                began = time.monotonic()
                self.org.save_state(self.state_dir, clean=False)
                saved = seen
                # a large org's save holds its requests: never more than a tenth of the time
                pause = max(SAVE_SECONDS, 9 * (time.monotonic() - began))

    async def _noting_requests(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            self.last_request = time.monotonic()
        await self.app(scope, receive, send)

    def stop(self) -> None:
        """Stop serving; with `persist` the org's state is saved to the state directory first."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=1.0)
            if self._thread.is_alive() and self._server is not None:
                # Idle keep-alive TLS connections wait for the client's close_notify; don't.
                self._server.force_exit = True
                self._thread.join(timeout=10)
        self._stop_saving.set()
        if self._saver is not None:
            self._saver.join(timeout=30)
        if self.persist:
            self.org.save_state(self.state_dir)

    def __enter__(self) -> "EmulatorServer":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
