"""The configured CA must win over REQUESTS_CA_BUNDLE from the environment."""

import http.server
import ssl
import threading

import pytest
import requests
import trustme

from tandem.salesforce.http import PinnedSession


class _Hello(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "5")
        self.end_headers()
        self.wfile.write(b"hello")

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def https_server(tmp_path_factory):
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hello)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    ca_path = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_path))
    yield f"https://127.0.0.1:{server.server_address[1]}/", ca_path
    server.shutdown()


@pytest.fixture
def other_bundle_in_env(monkeypatch, tmp_path):
    other = trustme.CA()
    path = tmp_path / "other.pem"
    other.cert_pem.write_to_path(str(path))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(path))
    monkeypatch.setenv("CURL_CA_BUNDLE", str(path))


def test_plain_session_verify_loses_to_environment(https_server, other_bundle_in_env):
    url, ca_path = https_server
    session = requests.Session()
    session.verify = str(ca_path)
    with pytest.raises(requests.exceptions.SSLError):
        session.get(url)


def test_pinned_session_keeps_configured_ca(https_server, other_bundle_in_env):
    url, ca_path = https_server
    response = PinnedSession(ca_path).get(url)
    assert response.status_code == 200
    assert response.text == "hello"


def test_pinned_session_still_verifies(https_server, monkeypatch):
    url, _ = https_server
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    with pytest.raises(requests.exceptions.SSLError):
        PinnedSession(None).get(url)
