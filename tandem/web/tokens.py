"""API clients and their access tokens.

A token is self-validating: its expiry, a nonce and a tag naming the client, signed with an HMAC
keyed from that client's secret. So a token stays good across restarts for its advertised
lifetime (marketorestpython does not renew a token its own clock still trusts), changing a
client's secret voids every token issued under the old one, and a token whose expiry lies further
ahead than the configured lifetime is refused even when its signature holds.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from pydantic import BaseModel

from tandem.web.envelope import ApiFailure, Codes

DEFAULT_TOKEN_LIFETIME = 3600
MIN_SECRET_LENGTH = 32
SECRET_HINT = 'generate one with: python -c "import secrets; print(secrets.token_urlsafe(32))"'
CLOCK_SKEW_SECONDS = 60
"""How far a token's expiry may lie past `now + lifetime` (the issuing clock stepped back)."""
MAX_TOKEN_LENGTH = 128
_TOKEN = re.compile(r"([0-9a-f]{1,13})\.([0-9a-f]{16})\.([0-9a-f]{12}):([a-z2-7]{20})")


class TokenResponse(BaseModel):
    access_token: str
    token_type: str
    expires_in: int
    scope: str


@dataclass(frozen=True)
class ApiCredentials:
    """One API client: the id and secret it exchanges for tokens."""

    client_id: str
    client_secret: str = field(repr=False)
    scope: str = "tandem-api@localhost"

    def __post_init__(self) -> None:
        if not self.client_id.strip():
            raise ValueError("an API client id must not be empty")
        if len(self.client_secret) < MIN_SECRET_LENGTH:
            raise ValueError(f"the secret of API client {self.client_id!r} is shorter than "
                             f"{MIN_SECRET_LENGTH} characters; {SECRET_HINT}")


@dataclass(frozen=True)
class _Client:
    credentials: ApiCredentials
    tag: str
    key: bytes


def client_tag(client_id: str) -> str:
    return hashlib.sha256(client_id.encode()).hexdigest()[:12]


class TokenIssuer:
    """Issues and checks the tokens of every configured client; `check` answers the client id."""

    def __init__(
        self,
        clients: ApiCredentials | Iterable[ApiCredentials],
        lifetime: int = DEFAULT_TOKEN_LIFETIME,
        clock: Callable[[], float] = time.time,
    ) -> None:
        listed = [clients] if isinstance(clients, ApiCredentials) else list(clients)
        if not listed:
            raise ValueError("at least one API client is needed")
        self.lifetime = lifetime
        self.clock = clock
        self._by_id: dict[str, _Client] = {}
        self._by_tag: dict[str, _Client] = {}
        for credentials in listed:
            if credentials.client_id in self._by_id:
                raise ValueError(f"API client {credentials.client_id!r} is configured twice")
            tag = client_tag(credentials.client_id)
            if tag in self._by_tag:
                raise ValueError(f"API client ids {credentials.client_id!r} and "
                                 f"{self._by_tag[tag].credentials.client_id!r} collide; rename one")
            key = hmac.new(credentials.client_secret.encode(),
                           b"tandem-rest-token\x00" + credentials.client_id.encode(), hashlib.sha256).digest()
            client = _Client(credentials, tag, key)
            self._by_id[credentials.client_id] = client
            self._by_tag[tag] = client
        self._current: dict[str, tuple[str, float]] = {}
        self._reported_expired: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def client_ids(self) -> list[str]:
        return list(self._by_id)

    def knows(self, client_id: str) -> bool:
        return client_id in self._by_id

    def authenticate(self, client_id: str, client_secret: str) -> ApiCredentials | None:
        """The client whose id and secret these are, compared in constant time, else None."""
        found = None
        for client in self._by_id.values():
            id_ok = hmac.compare_digest(client_id.encode(), client.credentials.client_id.encode())
            secret_ok = hmac.compare_digest(client_secret.encode(), client.credentials.client_secret.encode())
            if id_ok and secret_ok:
                found = client.credentials
        return found

    def issue(self, credentials: ApiCredentials) -> TokenResponse:
        """The client's live token (the same one while it lives), with its remaining lifetime."""
        client = self._by_id[credentials.client_id]
        now = self.clock()
        with self._lock:
            current = self._current.get(client.credentials.client_id)
            if current is None or current[1] - now < 1:
                expires_at = now + self.lifetime
                current = (self._sign(client, expires_at), expires_at)
                self._current[client.credentials.client_id] = current
        token, expires_at = current
        return TokenResponse(access_token=token, token_type="bearer", expires_in=int(expires_at - now),
                             scope=client.credentials.scope)

    def _sign(self, client: _Client, expires_at: float) -> str:
        body = f"{int(expires_at * 1000):x}.{secrets.token_hex(8)}.{client.tag}"
        return f"{body}:{_mac(client.key, body)}"

    def check(self, token: str | None) -> str:
        """The id of the client a live token belongs to; else the 601/602 a Marketo client expects."""
        invalid = ApiFailure(Codes.TOKEN_INVALID, "Access token invalid")
        if not token or len(token) > MAX_TOKEN_LENGTH:
            raise invalid
        parts = _TOKEN.fullmatch(token)
        if parts is None:
            raise invalid
        expires_hex, _, tag, mac = parts.groups()
        client = self._by_tag.get(tag)
        body = token.rpartition(":")[0]
        if client is None or not hmac.compare_digest(mac.encode(), _mac(client.key, body).encode()):
            raise invalid
        expires_at = int(expires_hex, 16) / 1000
        now = self.clock()
        if expires_at > now + self.lifetime + CLOCK_SKEW_SECONDS:
            raise invalid
        if now < expires_at:
            return client.credentials.client_id
        with self._lock:
            if token in self._reported_expired:
                raise invalid
            self._reported_expired[token] = None
            while len(self._reported_expired) > 10_000:
                self._reported_expired.popitem(last=False)
        raise ApiFailure(Codes.TOKEN_EXPIRED, "Access token expired")


def _mac(key: bytes, body: str) -> str:
    digest = hmac.new(key, body.encode(), hashlib.sha256).digest()[:12]
    return base64.b32encode(digest).decode().rstrip("=").lower()
