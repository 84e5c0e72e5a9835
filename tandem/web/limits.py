"""Marketo's documented limits, enforced per server: calls per window (606), calls in flight (615),
request body size (HTTP 413). Identity calls do not count, as at Marketo.

This is plain ASGI middleware so that a refused call never reaches the application, and a body is
read at most one byte past the cap whatever the client claims in `Content-Length`.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tandem.web.envelope import Codes, failure


@dataclass(frozen=True)
class ApiLimits:
    calls_per_window: int = 100
    window_seconds: float = 20.0
    concurrent_calls: int = 10
    batch_size: int = 300
    body_bytes: int = 1_048_576
    filter_matches: int = 1000


class CallWindow:
    """Sliding-window call counter with an injectable clock."""

    def __init__(self, limit: int, window_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.window, self.clock = limit, window_seconds, clock
        self._calls: deque[float] = deque()
        self._lock = threading.Lock()

    def admit(self) -> bool:
        now = self.clock()
        with self._lock:
            while self._calls and self._calls[0] <= now - self.window:
                self._calls.popleft()
            if len(self._calls) >= self.limit:
                return False
            self._calls.append(now)
            return True


class _TooLarge(Exception):
    pass


class LimitsMiddleware:
    def __init__(self, app: ASGIApp, limits: ApiLimits, clock: Callable[[], float] = time.monotonic) -> None:
        self.app = app
        self.limits = limits
        self.window = CallWindow(limits.calls_per_window, limits.window_seconds, clock)
        self.in_flight = 0
        self._lock = threading.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            body = await self._read_body(scope, receive)
        except _TooLarge:
            cap = self.limits.body_bytes
            await failure(Codes.INVALID_VALUE, f"Request body exceeds {cap} bytes", http_status=413)(scope, receive, send)
            return
        counted = scope["path"].startswith("/rest/")
        if counted:
            if not self.window.admit():
                message = f"Max rate limit '{self.limits.calls_per_window}' exceeded with in '{self.limits.window_seconds:g}' secs"
                await failure(Codes.RATE_LIMIT, message)(scope, receive, send)
                return
            with self._lock:
                if self.in_flight >= self.limits.concurrent_calls:
                    refused = True
                else:
                    refused = False
                    self.in_flight += 1
            if refused:
                await failure(Codes.CONCURRENCY_LIMIT, "Concurrent access limit reached")(scope, receive, send)
                return
        try:
            await self.app(scope, _replay(body, receive), send)
        finally:
            if counted:
                with self._lock:
                    self.in_flight -= 1

    async def _read_body(self, scope: Scope, receive: Receive) -> bytes:
        cap = self.limits.body_bytes
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > cap:
                raise _TooLarge
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > cap:
                raise _TooLarge
            chunks.append(chunk)
            more = message.get("more_body", False)
        return b"".join(chunks)


def _replay(body: bytes, receive_more: Receive) -> Receive:
    """The body already read, then whatever the connection says next (a disconnect)."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive_more()

    return receive


