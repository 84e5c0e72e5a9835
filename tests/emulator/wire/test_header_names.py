"""Response header names as Salesforce spells them, read off the wire over a raw TLS socket
(HTTP client libraries fold case, so only the raw bytes show it)."""

from __future__ import annotations

import json
import socket
import ssl
from urllib.parse import urlsplit

import pytest

from tandem.emulator.wire.header_names import salesforce_case

VERSION = "v62.0"


def raw_exchange(base_url: str, ca_path, method: str, path: str, headers: dict[str, str] | None = None,
                 body: bytes = b"") -> tuple[int, list[tuple[str, str]], bytes]:
    """One HTTP/1.1 request on a fresh TLS connection; the status, the header lines as sent, the body."""
    parts = urlsplit(base_url)
    context = ssl.create_default_context(cafile=str(ca_path))
    lines = [f"{method} {path} HTTP/1.1", f"Host: {parts.netloc}", "Connection: close",
             f"Content-Length: {len(body)}"] + [f"{k}: {v}" for k, v in (headers or {}).items()]
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as plain:
        with context.wrap_socket(plain, server_hostname=parts.hostname) as tls:
            tls.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
            received = b""
            while chunk := tls.recv(65536):
                received += chunk
    head, _, rest = received.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    pairs = [(name, value.strip()) for name, _, value in (line.partition(":") for line in header_lines)]
    return int(status_line.split()[1]), pairs, rest


def names(pairs) -> list[str]:
    return [name for name, _ in pairs]


def assert_salesforce_cased(pairs) -> None:
    for name in names(pairs):
        assert name == salesforce_case(name.encode()).decode(), f"header {name!r} not in Salesforce's spelling"


@pytest.fixture
def bearer(sf_token) -> dict[str, str]:
    return {"Authorization": f"Bearer {sf_token}"}


def test_rest_answer_header_names(base_url, ca_path, bearer):
    status, pairs, _ = raw_exchange(base_url, ca_path, "GET", f"/services/data/{VERSION}/sobjects/Contact/describe",
                                    bearer)
    assert status == 200
    assert {"Content-Type", "Content-Length", "Sforce-Limit-Info", "Date"} <= set(names(pairs))
    assert_salesforce_cased(pairs)
    assert "Server" not in names(pairs)


def test_error_and_oauth_answers_header_names(base_url, ca_path, bearer):
    status, pairs, body = raw_exchange(base_url, ca_path, "GET", f"/services/data/{VERSION}/no-such-thing", bearer)
    assert status == 404 and json.loads(body)[0]["errorCode"] == "NOT_FOUND"
    assert {"Content-Type", "Content-Length", "Sforce-Limit-Info"} <= set(names(pairs))
    assert_salesforce_cased(pairs)
    status, pairs, body = raw_exchange(
        base_url, ca_path, "POST", "/services/oauth2/token",
        {"Content-Type": "application/x-www-form-urlencoded"}, b"grant_type=refresh_token&refresh_token=x")
    assert status == 400 and json.loads(body)["error"]
    assert {"Content-Type", "Content-Length"} <= set(names(pairs))
    assert_salesforce_cased(pairs)


def test_bulk_query_results_header_names(base_url, ca_path, bearer, http):
    job = http.post(f"{base_url}/services/data/{VERSION}/jobs/query", headers=bearer,
                    json={"operation": "query", "query": "SELECT Id FROM Account"}).json()
    state = http.get(f"{base_url}/services/data/{VERSION}/jobs/query/{job['id']}", headers=bearer).json()["state"]
    assert state == "JobComplete"
    status, pairs, body = raw_exchange(base_url, ca_path, "GET",
                                       f"/services/data/{VERSION}/jobs/query/{job['id']}/results", bearer)
    assert status == 200 and body.startswith(b'"Id"')
    sent = dict(pairs)
    assert sent["Sforce-Locator"] == "null" and sent["Sforce-NumberOfRecords"] == "3"
    assert sent["Content-Type"].startswith("text/csv")
    assert_salesforce_cased(pairs)


@pytest.mark.parametrize("raw, cased", [
    (b"content-type", b"Content-Type"), (b"sforce-limit-info", b"Sforce-Limit-Info"),
    (b"SFORCE-NUMBEROFRECORDS", b"Sforce-NumberOfRecords"), (b"etag", b"ETag"), (b"location", b"Location"),
])
def test_salesforce_case(raw, cased):
    assert salesforce_case(raw) == cased


def test_injected_fault_answer_header_names(base_url, ca_path, bearer, faults):
    faults.set(seed=1, http503=1.0)
    status, pairs, _ = raw_exchange(base_url, ca_path, "GET", f"/services/data/{VERSION}/limits", bearer)
    assert status == 503
    assert {"Content-Type", "Content-Length", "Date"} <= set(names(pairs))
    assert_salesforce_cased(pairs)
