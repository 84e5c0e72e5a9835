"""Marketo's documented limits, counted per API client after its token is checked: calls a day (607),
calls per window (606) and calls in flight (615); plus the request body size (HTTP 413) and URI
length (HTTP 414).
Identity calls do not count, as at Marketo, nor do calls answered with a response-level error
(`success: false`, a 611 included): the window gives such a call back once answered (MARKETO-API §7).

A call without a valid token never touches a client's counts: such calls share a small window per
remote address (606 past it), then get their 601/602. So one integration cannot starve another,
and nobody can spend a client's calls without its token.

This is plain ASGI middleware so that a refused call never reaches the application, and a body is
read at most one byte past the cap whatever the client claims in `Content-Length`.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from starlette.datastructures import Headers, QueryParams
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tandem.web.envelope import RESPONSE_LEVEL_ERROR, ApiFailure, Codes, failure
from tandem.web.throttle import KeyedWindows
from tandem.web.tokens import TokenIssuer

API_CLIENT = "api_client"
"""The key under the request's `state` holding the id of the client a call was admitted for."""


@dataclass(frozen=True)
class ApiLimits:
    calls_per_day: int = 50_000
    calls_per_window: int = 100
    window_seconds: float = 20.0
    concurrent_calls: int = 10
    batch_size: int = 300
    body_bytes: int = 1_048_576
    uri_bytes: int = 8192
    filter_matches: int = 1000
    unauthenticated_calls_per_window: int = 10
    token_failures_per_address: int = 10
    token_failures_per_client: int = 30
    token_failure_window_seconds: float = 60.0


class CallWindow:
    """Sliding-window call counter with an injectable clock."""

    def __init__(self, limit: int, window_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.window, self.clock = limit, window_seconds, clock
        self._calls: deque[float] = deque()
        self._lock = threading.Lock()

    def admit(self) -> float | None:
        """Count a call if the window has room: the time it was counted at (for `refund`), else None."""
        now = self.clock()
        with self._lock:
            while self._calls and self._calls[0] <= now - self.window:
                self._calls.popleft()
            if len(self._calls) >= self.limit:
                return None
            self._calls.append(now)
            return now

    def refund(self, counted_at: float) -> None:
        """Give back a call counted at `counted_at` (one that turned out not to count)."""
        with self._lock:
            if counted_at in self._calls:  # else it has already left the window
                self._calls.remove(counted_at)


def _us_central() -> timezone | ZoneInfo:
    try:
        return ZoneInfo("America/Chicago")
    except ZoneInfoNotFoundError:  # no time zone database: standard time all year
        return timezone(timedelta(hours=-6))


QUOTA_ZONE = _us_central()
"""Where Marketo's daily quota resets at midnight."""


class DailyQuota:
    """Calls counted per calendar day in US Central time, with an injectable wall clock."""

    def __init__(self, limit: int, clock: Callable[[], float] = time.time) -> None:
        self.limit, self.clock = limit, clock
        self._day: date | None = None
        self._count = 0
        self._lock = threading.Lock()

    def admit(self) -> date | None:
        """Count a call if today's quota has room: the day it was counted on (for `refund`), else None."""
        today = datetime.fromtimestamp(self.clock(), QUOTA_ZONE).date()
        with self._lock:
            if today != self._day:
                self._day, self._count = today, 0
            if self._count >= self.limit:
                return None
            self._count += 1
            return today

    def refund(self, counted_on: date) -> None:
        """Give back a call counted on `counted_on` (one that turned out not to count)."""
        with self._lock:
            if counted_on == self._day and self._count > 0:
                self._count -= 1


class _TooLarge(Exception):
    pass


class LimitsMiddleware:
    def __init__(self, app: ASGIApp, limits: ApiLimits, tokens: TokenIssuer,
                 clock: Callable[[], float] = time.monotonic, day_clock: Callable[[], float] = time.time) -> None:
        self.app = app
        self.limits = limits
        self.tokens = tokens
        self.quotas = {client_id: DailyQuota(limits.calls_per_day, day_clock) for client_id in tokens.client_ids}
        self.windows = {client_id: CallWindow(limits.calls_per_window, limits.window_seconds, clock)
                        for client_id in tokens.client_ids}
        self.anonymous = KeyedWindows(limits.unauthenticated_calls_per_window, limits.window_seconds, clock)
        self.in_flight: dict[str, int] = dict.fromkeys(tokens.client_ids, 0)
        self._lock = threading.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            body = await self._read_body(scope, receive)
        except _TooLarge:
            cap = self.limits.body_bytes
            refused = failure(Codes.INVALID_VALUE, f"Request body exceeds {cap} bytes", http_status=413)
            refused.headers["connection"] = "close"  # the rest of the body is not read
            await refused(scope, receive, send)
            return
        if _uri_bytes(scope) > self.limits.uri_bytes:
            message = (f"Request URI exceeds {self.limits.uri_bytes} bytes; send a long query as a POST with "
                       "_method=GET and the parameters in a form body")
            await failure(Codes.INVALID_VALUE, message, http_status=414)(scope, receive, send)
            return
        if not scope["path"].startswith("/rest/"):
            await self.app(scope, _replay(body, receive), send)
            return
        try:
            client_id = self.tokens.check(_token(scope, body))
        except ApiFailure as refusal:
            address = scope["client"][0] if scope.get("client") else "unknown"
            if not self.anonymous.admit(address):
                refusal = ApiFailure(Codes.RATE_LIMIT, "Max rate limit "
                                     f"'{self.limits.unauthenticated_calls_per_window}' exceeded with in "
                                     f"'{self.limits.window_seconds:g}' secs for calls without a valid token")
            await failure(refusal.code, refusal.message)(scope, receive, send)
            return
        quota = self.quotas[client_id]
        counted_on = quota.admit()
        if counted_on is None:
            message = (f"Daily quota reached: '{self.limits.calls_per_day}' calls a day; "
                       "it resets at 00:00 US Central time")
            await failure(Codes.DAILY_QUOTA, message)(scope, receive, send)
            return
        window = self.windows[client_id]
        counted_at = window.admit()
        if counted_at is None:
            quota.refund(counted_on)
            message = (f"Max rate limit '{self.limits.calls_per_window}' exceeded with in "
                       f"'{self.limits.window_seconds:g}' secs")
            await failure(Codes.RATE_LIMIT, message)(scope, receive, send)
            return
        with self._lock:
            refused = self.in_flight[client_id] >= self.limits.concurrent_calls
            if not refused:
                self.in_flight[client_id] += 1
        if refused:
            window.refund(counted_at)
            quota.refund(counted_on)
            await failure(Codes.CONCURRENCY_LIMIT, "Concurrent access limit reached")(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        state[API_CLIENT] = client_id
        unexpected = False
        try:
            await self.app(scope, _replay(body, receive), send)
        except Exception:
            unexpected = True  # answered 611 by the last-resort middleware
            raise
        finally:
            with self._lock:
                self.in_flight[client_id] -= 1
            if unexpected or state.get(RESPONSE_LEVEL_ERROR):
                window.refund(counted_at)
                quota.refund(counted_on)

    async def _read_body(self, scope: Scope, receive: Receive) -> bytes:
        cap = self.limits.body_bytes
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and (len(value) > 18 or int(value) > cap):
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


def _uri_bytes(scope: Scope) -> int:
    """The length of the request target as sent: path and query string."""
    query = scope.get("query_string", b"")
    return len(scope.get("raw_path") or scope["path"].encode()) + (len(query) + 1 if query else 0)


def _token(scope: Scope, body: bytes) -> str | None:
    """The token from `Authorization: Bearer`, the `access_token` query parameter or form field."""
    headers = Headers(scope=scope)
    scheme, _, value = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    from_query = QueryParams(scope.get("query_string", b"")).get("access_token")
    if from_query:
        return from_query
    if headers.get("content-type", "").split(";", 1)[0].strip().lower() == "application/x-www-form-urlencoded":
        try:
            form = parse_qsl(body.decode("utf-8"), keep_blank_values=True)
        except UnicodeDecodeError:
            return None
        found = [value for name, value in form if name == "access_token"]
        return found[-1] if found else None
    return None


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
