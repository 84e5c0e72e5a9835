"""OAuth 2 token endpoint, the identity URL and userinfo: JSON in the OAuth error format, not the REST one."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from tandem.emulator.model.errors import ApiError, AuthError

from tandem.emulator.wire.calls import bearer_token
from tandem.emulator.wire.replies import error_reply, to_response

_VERSION_RE = re.compile(r"\d+\.\d")


def base_url_of(request: Request) -> str:
    """`https://host:port` as the client reached us, with no trailing slash (clients append paths)."""
    host = request.headers.get("host") or f"{request.url.hostname}:{request.url.port}"
    return f"https://{host}"


def oauth_error(exc: AuthError) -> Response:
    return JSONResponse({"error": exc.error, "error_description": exc.description}, status_code=exc.status)


def sign(client_secret: str, identity: str, issued_at: str) -> str:
    digest = hmac.new(client_secret.encode(), (identity + issued_at).encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def _client_from_basic(header: str) -> tuple[str | None, str | None]:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return None, None
    try:
        client_id, _, secret = base64.b64decode(encoded).decode().partition(":")
    except ValueError:
        return None, None
    return client_id, secret


def _token_grant(org: Any, form: dict[str, str], authorization: str) -> tuple[Any, str]:
    """Run the grant; returns (Token, client secret used to sign it)."""
    grant = form.get("grant_type")
    client_id, secret = form.get("client_id"), form.get("client_secret")
    if not client_id:
        client_id, secret = _client_from_basic(authorization)
    if grant == "password":
        missing = [p for p in ("username", "password") if not form.get(p)]
        if missing or not client_id:
            raise AuthError("invalid_request", f"missing parameter: {', '.join(missing) or 'client_id'}")
        token = org.login_password(client_id, secret or "", form["username"], form["password"])
        return token, secret or ""
    if grant == "client_credentials":
        if not client_id:
            raise AuthError("invalid_client_id", "client identifier invalid")
        return org.login_client_credentials(client_id, secret or ""), secret or ""
    if grant == "refresh_token":
        if not form.get("refresh_token"):
            raise AuthError("invalid_request", "missing parameter: refresh_token")
        if not client_id:
            raise AuthError("invalid_client_id", "client identifier invalid")
        token = org.login_refresh_token(client_id, secret, form["refresh_token"])
        return token, org.client_secret(client_id)
    if not grant:
        raise AuthError("invalid_request", "missing grant type")
    raise AuthError("unsupported_grant_type", "grant type not supported")


async def token(request: Request) -> Response:
    org = request.app.state.org
    form = dict(parse_qsl((await request.body()).decode("utf-8", "replace"), keep_blank_values=True))
    try:
        issued, secret = await run_in_threadpool(_token_grant, org, form, request.headers.get("authorization", ""))
    except AuthError as exc:
        return oauth_error(exc)
    base = base_url_of(request)
    identity = f"{base}/id/{org.org_id}/{issued.user_id}"
    issued_at = str(issued.issued_at)
    body = {"access_token": issued.access_token}
    if issued.refresh_token:
        body["refresh_token"] = issued.refresh_token
    body.update({
        "signature": sign(secret, identity, issued_at),
        "scope": " ".join(issued.scopes),
        "instance_url": base,
        "id": identity,
        "token_type": "Bearer",
        "issued_at": issued_at,
    })
    return JSONResponse(body)


def _identity_body(org: Any, token_text: str, base: str, version: str | None = None) -> dict:
    """`version` (the `version` query parameter: `62.0` or `latest`) fills the `{version}`
    placeholder of `urls`; without it the placeholder stays, as Salesforce sends it."""
    ctx = org.context(token_text)
    info = dict(org.user_info(ctx))
    user_id = info.get("user_id") or getattr(ctx, "user_id", "")
    identity = f"{base}/id/{org.org_id}/{user_id}"
    info.setdefault("id", identity)
    info.setdefault("user_id", user_id)
    info.setdefault("organization_id", org.org_id)
    info.setdefault("asserted_user", True)
    data = f"{base}/services/data/v{{version}}"
    info.setdefault("urls", {  # the endpoints this org answers (enterprise and metadata with a SOAP fault)
        "enterprise": f"{base}/services/Soap/c/{{version}}/{org.org_id}",
        "metadata": f"{base}/services/Soap/m/{{version}}/{org.org_id}",
        "partner": f"{base}/services/Soap/u/{{version}}/{org.org_id}",
        "rest": f"{data}/",
        "sobjects": f"{data}/sobjects/",
        "search": f"{data}/search/",
        "query": f"{data}/query/",
        "tooling_rest": f"{data}/tooling/",
        "limits": f"{data}/limits/",
        "custom_domain": base,
    })
    if version == "latest":
        version = org.api_version
    if version is not None and _VERSION_RE.fullmatch(version):
        info["urls"] = {k: str(v).replace("{version}", version) for k, v in info["urls"].items()}
    return info


async def identity(request: Request) -> Response:
    org = request.app.state.org
    try:
        token_text = request.query_params.get("oauth_token") or bearer_token(request.headers)
        body = await run_in_threadpool(_identity_body, org, token_text, base_url_of(request),
                                       request.query_params.get("version"))
    except ApiError as exc:
        return to_response(error_reply(exc))
    return JSONResponse(body)


async def userinfo(request: Request) -> Response:
    org = request.app.state.org
    try:
        body = await run_in_threadpool(_identity_body, org, bearer_token(request.headers), base_url_of(request),
                                       request.query_params.get("version"))
    except ApiError as exc:
        return to_response(error_reply(exc))
    body.setdefault("sub", body.get("id"))
    return JSONResponse(body)


async def revoke(request: Request) -> Response:
    form = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
    token_text = form.get("token") or request.query_params.get("token")
    if token_text:
        await run_in_threadpool(request.app.state.org.revoke_token, token_text)
    return Response(b"", status_code=200)
