"""Every answer, errors and 611 included, keeps HTTP/1.1 keep-alive honest: a connection the server
means to close says `Connection: close`, and any other stays usable for the next call."""

from __future__ import annotations

import socket

import httpx

from tests.web.conftest import bearer

LEADS = "/rest/v1/leads.json?filterType=id&filterValues=1"
DESCRIBE = "/rest/v1/leads/describe.json"


class RawConnection:
    """One TCP connection to the live server; requests written by hand, responses read whole."""

    def __init__(self, url: str) -> None:
        host, port = url.removeprefix("http://").split(":")
        self.sock = socket.create_connection((host, int(port)), timeout=10)
        self.buffer = b""

    def send(self, method: str, path: str, headers: dict[str, str], body: bytes = b"") -> None:
        lines = [f"{method} {path} HTTP/1.1", "Host: api", f"Content-Length: {len(body)}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)

    def response(self) -> tuple[int, dict[str, str], bytes]:
        while b"\r\n\r\n" not in self.buffer:
            self._more()
        head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in header_lines)}
        length = int(headers.get("content-length", "0"))
        while len(self.buffer) < length:
            self._more()
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        return int(status_line.split()[1]), headers, body

    def closed_by_server(self) -> bool:
        try:
            return self.sock.recv(1) == b""
        except ConnectionResetError:
            return True

    def _more(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        self.buffer += chunk

    def close(self) -> None:
        self.sock.close()


def test_a_611_keeps_the_connection_usable(live_server, api_store, monkeypatch) -> None:
    """Before, the server dropped the connection after a 611 without saying so: the next call failed."""
    with httpx.Client(base_url=live_server.url) as http:
        auth = bearer(http)

    def broken(*args, **kwargs):
        raise RuntimeError("the disk is on fire")

    monkeypatch.setattr(api_store.api, "persons_page", broken)
    connection = RawConnection(live_server.url)
    try:
        connection.send("GET", LEADS, auth)
        status, headers, body = connection.response()
        assert status == 200 and b'"611"' in body and headers.get("connection") != "close"
        connection.send("GET", DESCRIBE, auth)
        status, _, body = connection.response()
        assert status == 200 and b'"success":true' in body
    finally:
        connection.close()


def test_error_answers_keep_the_connection_usable(live_server) -> None:
    connection = RawConnection(live_server.url)
    try:
        for path in (DESCRIBE, "/rest/v1/nowhere.json", "/identity/oauth/token?grant_type=password"):
            connection.send("GET", path, {})
            status, headers, _ = connection.response()
            assert status in (200, 400) and headers.get("connection") != "close"
        connection.send("GET", "/openapi.json", {})
        assert connection.response()[0] == 200
    finally:
        connection.close()


def test_a_refused_body_says_connection_close_and_closes(live_server) -> None:
    with httpx.Client(base_url=live_server.url) as http:
        auth = bearer(http)
    connection = RawConnection(live_server.url)
    try:
        lines = ["POST /rest/v1/leads.json HTTP/1.1", "Host: api", "Content-Type: application/json",
                 f"Content-Length: {50 * 1024 * 1024}", f"Authorization: {auth['Authorization']}"]
        connection.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + b'{"input": [')
        status, headers, _ = connection.response()
        assert status == 413 and headers.get("connection") == "close"
        assert connection.closed_by_server()
    finally:
        connection.close()
