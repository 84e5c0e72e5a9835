"""Compressed request bodies: `Content-Encoding: gzip` or `deflate` on any API, as Salesforce accepts them.

The body is inflated before anything else reads it (fault injection looks into SOAP bodies), and
the request goes on as if it had been sent plain. A body that does not inflate, or a coding the
emulator does not know, is refused in the shape of the API the path belongs to. Compressed
answers are Starlette's `GZipMiddleware`, mounted in `app.py`.
"""

from __future__ import annotations

import zlib
from typing import Any

from tandem.emulator.wire.shaped_errors import shaped_error

MAX_INFLATED_BYTES = 512 * 1024 * 1024
_CODINGS = ("gzip", "x-gzip", "deflate")


class InflateError(ValueError):
    pass


def inflate(body: bytes, coding: str) -> bytes:
    """gzip, or deflate as zlib data (RFC 9110) or raw deflate (which some clients send)."""
    attempts = [zlib.MAX_WBITS | 16] if coding in ("gzip", "x-gzip") else [zlib.MAX_WBITS, -zlib.MAX_WBITS]
    for wbits in attempts:
        inflater = zlib.decompressobj(wbits)
        try:
            out = inflater.decompress(body, MAX_INFLATED_BYTES)
        except zlib.error:
            continue
        if inflater.unconsumed_tail:
            raise InflateError(f"the inflated body is larger than {MAX_INFLATED_BYTES} bytes")
        if not inflater.eof:
            raise InflateError("the compressed body ends early")
        return out
    raise InflateError(f"the body is not valid {coding} data")


class RequestDecompression:
    """ASGI middleware: inflate a compressed request body and drop its `Content-Encoding`."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = scope.get("headers", [])
        coding = next((v.decode("latin-1").strip().lower() for k, v in headers if k == b"content-encoding"), "")
        if not coding or coding == "identity":
            await self.app(scope, receive, send)
            return
        content_type = next((v.decode("latin-1") for k, v in headers if k == b"content-type"), None)
        if coding not in _CODINGS:
            answer = shaped_error(scope["path"], 415, "UNSUPPORTED_MEDIA_TYPE",
                                  f"Content-Encoding '{coding}' is not supported (gzip and deflate are)",
                                  content_type=content_type)
            await answer(scope, receive, send)
            return
        body = await _whole_body(receive)
        try:
            plain = inflate(body, coding) if body else body
        except InflateError as exc:
            answer = shaped_error(scope["path"], 400, "INVALID_CONTENT_ENCODING",
                                  f"Content-Encoding {coding}: {exc}", content_type=content_type)
            await answer(scope, receive, send)
            return
        kept = [(k, v) for k, v in headers if k not in (b"content-encoding", b"content-length")]
        kept.append((b"content-length", str(len(plain)).encode()))
        sent = False

        async def replay() -> dict:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": plain, "more_body": False}
            return await receive()

        await self.app(dict(scope, headers=kept), replay, send)


async def _whole_body(receive: Any) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    return b"".join(chunks)
