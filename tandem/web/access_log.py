"""One access-log line per request on `tandem.web.access`, and its latency in the metrics.

The line holds the method, the path without its query string (Marketo clients send their secret
in the token request's query), the status, the duration and the client's address. A character of
the path that does not print (a `%0a` decodes to a newline) is written escaped, so that a caller
cannot forge log lines.
"""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tandem.web.metrics import Metrics

access_log = logging.getLogger("tandem.web.access")


def printable(path: str) -> str:
    """`path` with each character that does not print escaped as Python writes it (`\\n`, `\\x1b`)."""
    if path.isprintable():
        return path
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in path)


class AccessLogMiddleware:
    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def noting_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, noting_send)
        finally:
            seconds = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            self.metrics.requests.labels(route, str(status)).observe(seconds)
            client = scope.get("client")
            address = client[0] if client else None
            path = printable(scope.get("path", ""))
            access_log.info("%s %s %d %.1f ms %s", scope.get("method"), path, status, seconds * 1000,
                            address or "-", extra={"method": scope.get("method"), "path": path,
                                                   "status": status, "durationMs": round(seconds * 1000, 1),
                                                   "client": address})
