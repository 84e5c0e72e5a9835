"""Why a connection to Salesforce failed, in one line with what to do: certificate, proxy, DNS, refused, timeout."""

from __future__ import annotations

import ssl
import socket
from urllib.parse import urlsplit

import requests

from tandem.errors import SalesforceError, TransientError, Unreachable, UntrustedCertificate


def _chain(error: BaseException) -> list[BaseException]:
    """The error and everything it wraps (causes, contexts, urllib3's `reason`, a wrapped first argument)."""
    found: list[BaseException] = []
    waiting: list[BaseException] = [error]
    while waiting:
        current = waiting.pop()
        if any(current is e for e in found):
            continue
        found.append(current)
        wrapped = [current.__cause__, current.__context__, getattr(current, "reason", None),
                   *(a for a in current.args if isinstance(a, BaseException))]
        waiting.extend(e for e in wrapped if isinstance(e, BaseException))
    return found


def connection_failure(url: str, error: requests.RequestException) -> SalesforceError:
    """The typed error, with its cause and fix, for a request to `url` that got no HTTP answer."""
    host = urlsplit(url).hostname or url
    chain = _chain(error)
    text = " ".join(str(e) for e in chain).lower()
    if isinstance(error, requests.exceptions.SSLError) or any(isinstance(e, ssl.SSLError) for e in chain):
        detail = "its certificate has expired" if "expired" in text else (
            "its certificate is for another host name" if "hostname" in text or "host name" in text else
            "no trusted CA signs its certificate")
        return UntrustedCertificate(f"the certificate of {url} is not trusted: {detail}")
    if isinstance(error, requests.exceptions.ProxyError):
        return Unreachable(f"the proxy on the way to {url} could not be reached or refused the connection",
                           hint="check HTTPS_PROXY (and NO_PROXY) in this machine's environment, and that the "
                                "proxy runs")
    if any(isinstance(e, socket.gaierror) for e in chain) or "name or service not known" in text \
            or "nodename nor servname" in text or "name resolution" in text or "getaddrinfo" in text:
        return Unreachable(f"{host} cannot be found (DNS)",
                           hint="check the host name in TANDEM_SF_LOGIN_URL (a My Domain looks like "
                                "https://yourcompany.my.salesforce.com) and this machine's DNS")
    if isinstance(error, requests.exceptions.Timeout) or any(isinstance(e, (TimeoutError, socket.timeout)) for e in chain):
        return Unreachable(f"{url} did not answer in time",
                           hint="check that this machine may reach it (firewall, proxy: HTTPS_PROXY) and try again")
    if any(isinstance(e, ConnectionRefusedError) for e in chain) or "refused" in text:
        return Unreachable(f"{url} refused the connection",
                           hint="check the port and scheme in TANDEM_SF_LOGIN_URL, and that the server runs")
    if isinstance(error, requests.exceptions.ConnectionError):
        return Unreachable(f"{url} could not be reached: the connection failed")
    return TransientError(f"the request to {url} failed ({type(error).__name__})")
