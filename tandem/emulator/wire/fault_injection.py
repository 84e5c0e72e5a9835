"""Fault injection as ASGI middleware in front of the API: the concurrency limit, then one seeded plan
per request (`fault_plans.py`) applied around the call.

Before the call: a delay, then at most one of an expired session, a dropped connection, an error
answer (503, 500, UNABLE_TO_LOCK_ROW, REQUEST_LIMIT_EXCEEDED, QUERY_TIMEOUT, a refused login, a
proxy's HTML 502/504) or a forgotten query cursor. After a write ran to the end: its answer lost
(connection dropped, or a proxy's 502). The late commit and the per-record collection failures
travel to the handlers in the request's state (`injected_faults`). Control routes are never faulted.
"""

from __future__ import annotations

from typing import Any

import anyio

from tandem.emulator.wire.fault_answers import Answer, answer_for
from tandem.emulator.wire.fault_plans import STATE_KEY, FaultInjector, FaultPlan, RequestFaults, Target, classify
from tandem.emulator.wire.soap_xml import operation_and_session


def _bearer(scope: dict) -> str | None:
    for name, raw in scope.get("headers", []):
        if name == b"authorization":
            scheme, _, token = raw.decode("latin-1").partition(" ")
            return token.strip() or None
    return None


async def _read_body(receive: Any) -> tuple[bytes, Any]:
    """The whole request body, and a `receive` that hands it to the app again."""
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if message["type"] != "http.request" or not message.get("more_body"):
            break
    body, replayed = b"".join(chunks), False

    async def replay() -> dict:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return body, replay


async def _discard(message: dict) -> None:
    """Where a lost answer goes."""


class FaultMiddleware:
    """Applies the injector's plan to `/services/...` and identity requests."""

    def __init__(self, app: Any, injector: FaultInjector, org: Any) -> None:
        self.app, self.injector, self.org = app, injector, org

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not (path.startswith("/services/") or path.startswith("/id/")):
            await self.app(scope, receive, send)
            return
        session, operation = _bearer(scope), None
        if path.startswith("/services/Soap/") and scope["method"] == "POST":
            body, receive = await _read_body(receive)
            operation, session = operation_and_session(body)
        target = classify(scope["method"], path, session, operation)
        ticket = self.injector.enter(target)
        if ticket is None:
            await self._answer(answer_for("concurrentRequestLimit", self.injector.settings, target.soap), send)
            return
        try:
            await self._run(self.injector.plan(target), target, scope, receive, send)
        finally:
            self.injector.leave(ticket)

    async def _run(self, plan: FaultPlan, target: Target, scope: dict, receive: Any, send: Any) -> None:
        if plan.delay:
            await anyio.sleep(plan.delay)
        if plan.before == "drop":
            await self._drop(send)
            return
        if plan.before == "sessionExpiry":
            await anyio.to_thread.run_sync(self.org.expire_session, target.session)
        elif plan.before == "invalidQueryLocator":
            await anyio.to_thread.run_sync(self.org.forget_query_locator, target.locator)
        elif plan.before is not None:
            await self._answer(answer_for(plan.before, self.injector.settings, target.soap), send)
            return
        faults = RequestFaults(late_ms=plan.late_ms, records=self.injector.draw_record)
        scope = dict(scope, state={**scope.get("state", {}), STATE_KEY: faults})
        if plan.after is None:
            await self.app(scope, receive, send)
            return
        await self.app(scope, receive, _discard)
        if plan.after == "dropAfterCommit":
            await self._drop(send)
        else:
            await self._answer(answer_for(plan.after, self.injector.settings, target.soap), send)

    @staticmethod
    async def _answer(answer: Answer, send: Any) -> None:
        await send({"type": "http.response.start", "status": answer.status, "headers": answer.headers})
        await send({"type": "http.response.body", "body": answer.body})

    @staticmethod
    async def _drop(send: Any) -> None:
        """Close the connection without an answer (uvicorn's transport when reachable, else a cut-off body)."""
        cycle = getattr(send, "__self__", None)
        transport = getattr(cycle, "transport", None)
        if transport is not None:
            transport.abort()
            for _ in range(20):  # let the server notice, so that it logs no missing answer
                if getattr(cycle, "disconnected", True):
                    break
                await anyio.sleep(0)
            return
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"100")]})
        raise ConnectionAbortedError("fault injection: connection dropped")
