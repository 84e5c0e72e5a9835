"""What an injected fault answers, in the format of the endpoint it hits.

REST calls get Salesforce's JSON error array, SOAP calls a fault (always HTTP 500 but for 503),
the OAuth token endpoint `{"error", "error_description"}`, and the gateway kinds an HTML page as a
proxy in front of Salesforce sends it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from tandem.emulator.faults import FaultSettings
from tandem.emulator.model.errors import ApiError
from tandem.emulator.model.query_budget import QueryTimeout

from tandem.emulator.wire.replies import JSON_TYPE, error_entry
from tandem.emulator.wire.soap_xml import XML_TYPE, fault

HTML_TYPE = "text/html; charset=utf-8"

_API_ERRORS = {
    "http503": ApiError("Server temporarily unavailable, please retry", error_code="SERVER_UNAVAILABLE", status=503),
    "http500": ApiError("An unexpected error occurred. Please include this ErrorId if you contact support: "
                        "0-emulator-fault", error_code="UNKNOWN_EXCEPTION", status=500),
    "unableToLockRow": ApiError("unable to obtain exclusive access to this record", error_code="UNABLE_TO_LOCK_ROW"),
    "requestLimitExceeded": ApiError("TotalRequests Limit exceeded.", error_code="REQUEST_LIMIT_EXCEEDED",
                                     status=403),
    "concurrentRequestLimit": ApiError("ConcurrentRequests (Concurrent API Requests) Limit exceeded.",
                                       error_code="REQUEST_LIMIT_EXCEEDED", status=403),
    "queryTimeout": QueryTimeout(),
}
_OAUTH_ERRORS = {
    "loginAuthFailure": ("invalid_grant", "authentication failure"),
    "loginRateExceeded": ("invalid_grant", "login rate exceeded"),
}
_BAD_GATEWAY = (502, "Bad Gateway", "The proxy server received an invalid response from the server behind it.")
_GATEWAYS = {
    "gateway502": _BAD_GATEWAY,
    "http502AfterCommit": _BAD_GATEWAY,
    "gateway504": (504, "Gateway Time-out", "The proxy server timed out waiting for the server behind it."),
}


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    content_type: str

    @property
    def headers(self) -> list[tuple[bytes, bytes]]:
        return [(b"content-type", self.content_type.encode()), (b"content-length", str(len(self.body)).encode())]


def gateway_page(status: int, title: str, text: str) -> bytes:
    return (f"<!DOCTYPE html>\n<html><head><title>{status} {title}</title></head>\n"
            f"<body><h1>{title}</h1>\n<p>{text}</p>\n<hr><address>edge proxy</address></body></html>\n").encode()


def answer_for(kind: str, settings: FaultSettings, soap: bool) -> Answer:
    """The answer to a request that `kind` refuses before it runs (or whose answer it replaces)."""
    if kind in _GATEWAYS:
        status, title, text = _GATEWAYS[kind]
        return Answer(status, gateway_page(status, title, text), HTML_TYPE)
    if kind in _OAUTH_ERRORS:
        error, description = _OAUTH_ERRORS[kind]
        return Answer(400, json.dumps({"error": error, "error_description": description}).encode(), JSON_TYPE)
    if kind == "queryOutage":
        kind = "http503" if settings.queryOutageAs == "http503" else "queryTimeout"
    exc = _API_ERRORS[kind]
    if soap:
        return Answer(exc.status if exc.status == 503 else 500, fault(exc.error_code, exc.message).encode(), XML_TYPE)
    return Answer(exc.status, json.dumps([error_entry(exc)]).encode(), JSON_TYPE)
