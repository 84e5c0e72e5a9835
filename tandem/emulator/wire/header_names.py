"""Response header names in Salesforce's capitalisation, and the `Date` header Salesforce sends.

Starlette lowercases every header name it writes; some clients read headers case-sensitively
(a plain dict of `Content-Type`, `Sforce-Locator`, ...), so the outermost layer, which
`EmulatorServer` puts around the app, rewrites each name once before the server writes it. The
server's own lowercase `date` and `server` headers are turned off, and `Date` is added here instead.
"""

from __future__ import annotations

from email.utils import formatdate
from typing import Any

# Names whose Salesforce spelling is not one capital per hyphen-separated word.
_IRREGULAR = {
    b"etag": b"ETag",
    b"www-authenticate": b"WWW-Authenticate",
    b"content-md5": b"Content-MD5",
    b"sforce-numberofrecords": b"Sforce-NumberOfRecords",
    b"x-content-type-options": b"X-Content-Type-Options",
    b"x-xss-protection": b"X-XSS-Protection",
    b"x-sfdc-session": b"X-SFDC-Session",
    b"x-sfdc-request-id": b"X-SFDC-Request-Id",
}


def salesforce_case(name: bytes) -> bytes:
    """`content-type` → `Content-Type`, `sforce-limit-info` → `Sforce-Limit-Info`, `etag` → `ETag`."""
    lowered = name.lower()
    irregular = _IRREGULAR.get(lowered)
    if irregular is not None:
        return irregular
    return b"-".join(word[:1].upper() + word[1:] for word in lowered.split(b"-"))


class _CasedSend:
    """The server's `send`, with header names rewritten; any other attribute is the server's own
    response cycle's (the fault layer closes a connection through it)."""

    def __init__(self, send: Any, name: Any) -> None:
        self._send, self._name = send, name

    async def send(self, message: dict) -> None:
        if message["type"] == "http.response.start":
            headers = [(self._name(name), value) for name, value in message.get("headers", ())]
            if not any(name == b"Date" for name, _ in headers):
                headers.append((b"Date", formatdate(usegmt=True).encode()))
            message = dict(message, headers=headers)
        await self._send(message)

    def __getattr__(self, attribute: str) -> Any:
        return getattr(getattr(self._send, "__self__", None), attribute)


class HeaderNamesMiddleware:
    """Rewrites response header names to Salesforce's spelling and adds `Date` when absent.

    The outermost layer, so every answer passes through it, those of the layers inside that
    answer by themselves (faults, request decoding) included."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self._names: dict[bytes, bytes] = {}

    def _name(self, raw: bytes) -> bytes:
        cased = self._names.get(raw)
        if cased is None:
            cased = self._names[raw] = salesforce_case(raw)
        return cased

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.app(scope, receive, _CasedSend(send, self._name).send)
