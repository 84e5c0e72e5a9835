"""OAuth 2 logins: username-password and client-credentials, against any login URL.

Tokens and passwords are held as `SecretStr` and never formatted into errors or logs.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import requests
from pydantic import SecretStr

from tandem.errors import AuthenticationFailed, TransientError
from tandem.salesforce.network import connection_failure


@dataclass(frozen=True)
class Credentials:
    """What a login needs; `password` already includes the security token when one is used."""

    login_url: str
    client_id: str
    client_secret: SecretStr | None = None
    username: str | None = None
    password: SecretStr | None = None

    @property
    def grant_type(self) -> str:
        return "password" if self.username else "client_credentials"

    def fingerprint(self, salt: bytes) -> str:
        """A slow salted hash of everything a login sends: equal only for the same settings, and no
        way back to the secrets (it is kept to remember a refused login across processes)."""
        secret = "\0".join([
            self.login_url, self.client_id, self.username or "",
            self.client_secret.get_secret_value() if self.client_secret else "",
            self.password.get_secret_value() if self.password else "",
        ])
        return hashlib.scrypt(secret.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32).hex()

    def __repr__(self) -> str:
        return f"Credentials(login_url={self.login_url!r}, client_id={self.client_id!r}, username={self.username!r})"


@dataclass(frozen=True)
class Token:
    access_token: SecretStr
    instance_url: str
    identity_url: str | None = None
    issued_at: int | None = None


def login(session: requests.Session, credentials: Credentials) -> Token:
    """Ask the login URL for an access token; raise AuthenticationFailed with Salesforce's reason."""
    form = {"grant_type": credentials.grant_type, "client_id": credentials.client_id}
    if credentials.client_secret is not None:
        form["client_secret"] = credentials.client_secret.get_secret_value()
    if credentials.username:
        form["username"] = credentials.username
        form["password"] = credentials.password.get_secret_value() if credentials.password else ""
    url = credentials.login_url.rstrip("/") + "/services/oauth2/token"
    try:
        response = session.post(url, data=form, headers={"Accept": "application/json"})
    except requests.RequestException as exc:
        raise connection_failure(credentials.login_url, exc) from None
    if response.status_code >= 500:
        raise TransientError(f"login answered HTTP {response.status_code}", status=response.status_code)
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict) or ("access_token" not in body and "error" not in body):
        # no OAuth answer at all (a page, a list of REST errors): the URL is no Salesforce login URL
        raise AuthenticationFailed(f"{url} answered HTTP {response.status_code} without an OAuth token or error: "
                              "it is no Salesforce login URL", status=response.status_code,
                              hint="set TANDEM_SF_LOGIN_URL to the org's login URL, with no path: "
                                   "https://login.salesforce.com, https://test.salesforce.com or "
                                   "https://yourcompany.my.salesforce.com")
    if response.status_code != 200 or "access_token" not in body:
        error = body.get("error", f"HTTP {response.status_code}")
        reason = body.get("error_description", "no reason given")
        if "rate exceeded" in str(reason).lower():  # too many logins of late: wait, it is not the password
            raise TransientError(f"login refused for now: {reason}", status=response.status_code, error_code=error)
        hint = None
        if error == "invalid_client" and not (credentials.client_secret and credentials.client_secret.get_secret_value()):
            hint = ("TANDEM_SF_CLIENT_SECRET is not set, and this connected app needs its Consumer Secret "
                    "(Setup > App Manager > the app > View > Manage Consumer Details)")
        raise AuthenticationFailed(reason, status=response.status_code, error_code=error, hint=hint)
    return Token(
        access_token=SecretStr(body["access_token"]),
        instance_url=body["instance_url"].rstrip("/"),
        identity_url=body.get("id"),
        issued_at=int(body["issued_at"]) if str(body.get("issued_at", "")).isdigit() else None,
    )
