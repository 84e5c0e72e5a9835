"""Fault injection: seeded per-request draws of 503, 500, slow answers, dropped connections,
UNABLE_TO_LOCK_ROW on writes and session expiry, applied as ASGI middleware in front of the API.

Every active kind draws from one `random.Random(seed)` in a fixed order, so the same seed and the
same sequence of requests give the same faults.
"""

from __future__ import annotations

import json
import random
import threading
from dataclasses import dataclass
from typing import Any

import anyio

from tandem.emulator.faults import FaultSettings
from tandem.emulator.wire.soap_xml import XML_TYPE, fault

_WRITE_METHODS = {"POST", "PATCH", "PUT", "DELETE"}
_READ_ONLY_POSTS = ("/query", "/composite/batch")


@dataclass(frozen=True)
class FaultPlan:
    """What to do to one request: an optional delay, then at most one fault kind."""

    delay: float = 0.0
    kind: str | None = None  # "sessionExpiry" | "drop" | "http503" | "http500" | "unableToLockRow"


class FaultInjector:
    """Holds the current settings and the seeded generator; thread-safe."""

    def __init__(self, settings: FaultSettings | None = None) -> None:
        self._lock = threading.Lock()
        self.configure(settings or FaultSettings())

    def configure(self, settings: FaultSettings) -> None:
        with self._lock:
            self.settings = settings
            self._rng = random.Random(settings.seed)

    def draw(self, is_write: bool) -> FaultPlan:
        with self._lock:
            s = self.settings
            if not s.any_active:
                return FaultPlan()
            delay = s.slowSeconds if s.slow and self._rng.random() < s.slow else 0.0
            kind = None
            for name in ("sessionExpiry", "drop", "http503", "http500", "unableToLockRow"):
                rate = getattr(s, name)
                if not rate:
                    continue
                hit = self._rng.random() < rate
                if hit and kind is None and (name != "unableToLockRow" or is_write):
                    kind = name
            return FaultPlan(delay, kind)


def is_write(method: str, path: str) -> bool:
    """REST writes, and SOAP posts (the SOAP layer applies the fault only to convertLead and merge)."""
    if method == "POST" and path.startswith("/services/Soap/"):
        return True
    if method not in _WRITE_METHODS or not path.startswith("/services/data/"):
        return False
    return not path.endswith(_READ_ONLY_POSTS)


def _bearer(scope: dict) -> str | None:
    for name, raw in scope.get("headers", []):
        if name == b"authorization":
            scheme, _, token = raw.decode("latin-1").partition(" ")
            return token.strip() or None
    return None


_REST_BODIES = {
    "http503": (503, "SERVER_UNAVAILABLE", "Server temporarily unavailable, please retry"),
    "http500": (500, "UNKNOWN_EXCEPTION", "An unexpected error occurred. Please include this ErrorId if you "
                                           "contact support: 0-emulator-fault"),
    "unableToLockRow": (400, "UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access to this record"),
}


class FaultMiddleware:
    """Applies the injector's plan to `/services/...` and identity requests; control routes are never faulted."""

    def __init__(self, app: Any, injector: FaultInjector, org: Any) -> None:
        self.app, self.injector, self.org = app, injector, org

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not (path.startswith("/services/") or path.startswith("/id/")):
            await self.app(scope, receive, send)
            return
        plan = self.injector.draw(is_write(scope["method"], path))
        if plan.delay:
            await anyio.sleep(plan.delay)
        if plan.kind == "sessionExpiry":
            token = _bearer(scope)
            if token:
                await anyio.to_thread.run_sync(self.org.expire_session, token)
        elif plan.kind == "drop":
            await self._drop(send)
            return
        elif plan.kind == "unableToLockRow" and path.startswith("/services/Soap/"):
            scope = dict(scope, state={**scope.get("state", {}), "fault": plan.kind})
        elif plan.kind in _REST_BODIES:
            await self._answer(path, plan.kind, send)
            return
        await self.app(scope, receive, send)

    async def _answer(self, path: str, kind: str, send: Any) -> None:
        status, code, message = _REST_BODIES[kind]
        if path.startswith("/services/Soap/"):
            body, content_type = fault(code, message).encode(), XML_TYPE
            status = 500 if status == 400 else status
        else:
            body = json.dumps([{"message": message, "errorCode": code}]).encode()
            content_type = "application/json;charset=UTF-8"
        headers = [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _drop(self, send: Any) -> None:
        """Close the connection without an answer (uvicorn's transport when reachable, else a cut-off body)."""
        transport = getattr(getattr(send, "__self__", None), "transport", None)
        if transport is not None:
            transport.abort()
            return
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"100")]})
        raise ConnectionAbortedError("fault injection: connection dropped")
