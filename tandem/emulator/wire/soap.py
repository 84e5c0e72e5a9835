"""The partner SOAP endpoint (`/services/Soap/u/{v}`): login, the data and describe calls, and what REST
lacks (convertLead, merge, undelete), with every failure as a SOAP fault.

Requests are parsed with defusedxml and matched on local names, so any namespace prefixes work
(jsforce writes sObject fields in the default namespace, simple-salesforce and the WSDL use `ens:`).
"""

from __future__ import annotations

import logging
from typing import Any
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeET
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from tandem.emulator.model.errors import ApiError, AuthError

from tandem.emulator.wire import soap_data, soap_describe
from tandem.emulator.wire.calls import parse_version
from tandem.emulator.wire.fault_plans import STATE_KEY
from tandem.emulator.wire.oauth import base_url_of
from tandem.emulator.wire.soap_call import SoapCall, SoapFault
from tandem.emulator.wire.soap_xml import (
    XML_TYPE,
    api_fault,
    children,
    envelope,
    fault,
    local,
    result_errors,
    text_of,
    value,
)

log = logging.getLogger("tandem.emulator")


def _boolean(element: Element, name: str, default: bool = False) -> bool:
    text = text_of(element, name)
    return default if text is None else text.strip().lower() == "true"


def _session(org: Any, root: Element) -> tuple[Any, str]:
    header = next((e for e in root.iter() if local(e) == "sessionId"), None)
    token = (header.text or "").strip() if header is not None else ""
    if not token:
        raise SoapFault("INVALID_SESSION_ID", "Invalid Session ID found in SessionHeader: Illegal Session")
    ctx = org.context(token)
    org.count_api_call()
    return ctx, token


def login(org: Any, call: Element, base: str, version: str) -> str:
    try:
        issued = org.login_username_password(text_of(call, "username") or "", text_of(call, "password") or "")
    except (AuthError, ApiError):
        raise SoapFault(
            "INVALID_LOGIN", "Invalid username, password, security token; or user locked out.", "LoginFault"
        ) from None
    ctx = org.context(issued.access_token)
    server_url = f"{base}/services/Soap/u/{version}/{org.org_id}"
    body = (
        "<loginResponse><result>"
        + value("metadataServerUrl", f"{base}/services/Soap/m/{version}/{org.org_id}")
        + value("passwordExpired", False)
        + value("sandbox", False)
        + value("serverUrl", server_url)
        + value("sessionId", issued.access_token)
        + value("userId", issued.user_id)
        + "<userInfo>" + soap_describe.user_info_elements(org, ctx) + "</userInfo>"
        + "</result></loginResponse>"
    )
    return body


def convert_lead(org: Any, ctx: Any, call: Element) -> str:
    from tandem.emulator.model import ConvertLeadRequest

    results = []
    for item in children(call, "leadConverts"):
        lead_id = text_of(item, "leadId") or ""
        try:
            outcome = org.convert_lead(ctx, ConvertLeadRequest(
                lead_id=lead_id,
                converted_status=text_of(item, "convertedStatus") or "",
                account_id=text_of(item, "accountId") or None,
                contact_id=text_of(item, "contactId") or None,
                do_not_create_opportunity=_boolean(item, "doNotCreateOpportunity"),
                opportunity_name=text_of(item, "opportunityName") or None,
                owner_id=text_of(item, "ownerId") or None,
                overwrite_lead_source=_boolean(item, "overwriteLeadSource"),
                send_notification_email=_boolean(item, "sendNotificationEmail"),
            ))
            results.append(
                "<result>" + value("accountId", outcome.account_id) + value("contactId", outcome.contact_id)
                + value("leadId", outcome.lead_id) + value("opportunityId", outcome.opportunity_id)
                + value("success", True) + "</result>"
            )
        except ApiError as exc:
            results.append(
                "<result>" + value("accountId", None) + value("contactId", None) + result_errors(exc)
                + value("leadId", lead_id or None) + value("opportunityId", None)
                + value("success", False) + "</result>"
            )
    return "<convertLeadResponse>" + "".join(results) + "</convertLeadResponse>"


def merge(org: Any, ctx: Any, call: Element) -> str:
    results = []
    for request in list(call):
        master = next((e for e in request if local(e) == "masterRecord"), None)
        losers = [(e.text or "").strip() for e in request if local(e) == "recordToMergeIds"]
        fields = {local(e): (e.text if e.get("{http://www.w3.org/2001/XMLSchema-instance}nil") != "true" else None)
                  for e in (master if master is not None else [])}
        sobject = fields.pop("type", None) or ""
        master_id = fields.pop("Id", None) or ""
        fields.pop("fieldsToNull", None)
        try:
            outcome = org.merge(ctx, sobject, master_id, fields, losers)
            results.append(
                "<result>" + value("id", outcome.id)
                + "".join(value("mergedRecordIds", i) for i in outcome.merged_record_ids)
                + value("success", True)
                + "".join(value("updatedRelatedIds", i) for i in outcome.updated_related_ids)
                + "</result>"
            )
        except ApiError as exc:
            results.append("<result>" + result_errors(exc) + value("id", master_id or None)
                           + value("success", False) + "</result>")
    return "<mergeResponse>" + "".join(results) + "</mergeResponse>"


def undelete(org: Any, ctx: Any, call: Element) -> str:
    """`<undelete><ids>..</ids></undelete>`: one result per Id, in request order."""
    results = []
    for item in children(call, "ids"):
        record_id = (item.text or "").strip()
        try:
            obj = org.schema.object_for_id(record_id) if record_id else None
            if obj is None:
                raise ApiError("invalid record id", error_code="INVALID_ID_FIELD")
            restored = org.undelete(ctx, obj.name, record_id)
            results.append("<result>" + value("id", restored) + value("success", True) + "</result>")
        except ApiError as exc:
            results.append("<result>" + result_errors(exc) + value("id", record_id or None)
                           + value("success", False) + "</result>")
    return "<undeleteResponse>" + "".join(results) + "</undeleteResponse>"


_CALLS = {
    "convertLead": lambda call: convert_lead(call.org, call.ctx, call.operation),
    "merge": lambda call: merge(call.org, call.ctx, call.operation),
    "undelete": lambda call: undelete(call.org, call.ctx, call.operation),
    **soap_data.CALLS,
    **soap_describe.CALLS,
}


def handle(org: Any, payload: bytes, base: str, version_segment: str, late_ms: int = 0) -> tuple[int, str]:
    """One SOAP request → (HTTP status, envelope text); every failure becomes a fault here.

    `late_ms` is an injected late commit: the call's writes are stamped that far in the past.
    """
    if late_ms:
        with org.late_commit(late_ms):
            return handle(org, payload, base, version_segment)
    try:
        version = parse_version(org, "v" + version_segment)
        try:
            root = SafeET.fromstring(payload)
        except Exception:
            raise SoapFault("INVALID_XML", "The request body is not well-formed XML") from None
        body = next((e for e in root if local(e) == "Body"), None)
        call = body[0] if body is not None and len(body) else None
        if call is None:
            raise SoapFault("INVALID_OPERATION", "No operation in the SOAP Body")
        operation = local(call)
        if operation == "login":
            return 200, envelope(login(org, call, base, version))
        if operation not in _CALLS:
            raise SoapFault("INVALID_OPERATION", f"Unsupported operation: {operation}")
        ctx, _ = _session(org, root)
        header = next((e for e in root if local(e) == "Header"), None)
        answer = _CALLS[operation](SoapCall(org, ctx, call, header, base, version))
        used, limit = org.api_usage()
        return 200, envelope(answer, limit_info=(used, limit))
    except SoapFault as exc:
        return 500, fault(exc.code, exc.message, exc.detail_type)
    except ApiError as exc:
        return 500, api_fault(exc)
    except Exception:
        log.exception("unexpected error in a SOAP call")
        return 500, fault("UNKNOWN_EXCEPTION", "An unexpected error occurred.")


async def endpoint(request: Request) -> Response:
    org = request.app.state.org
    payload = await request.body()  # a compressed body was inflated by the compression layer
    faults = getattr(request.state, STATE_KEY, None)
    status, text = await run_in_threadpool(
        handle, org, payload, base_url_of(request), request.path_params["version"], faults.late_ms if faults else 0,
    )
    return Response(text.encode("utf-8"), status_code=status, media_type=XML_TYPE)


_UNSERVED = {
    "m": "Metadata API",
    "c": "enterprise API",
}


async def unserved_endpoint(request: Request) -> Response:
    """`/services/Soap/m/…` and `/services/Soap/c/…`: a SOAP fault, so SOAP clients fail cleanly."""
    api = request.url.path.split("/")[3]
    name = _UNSERVED[api]
    text = fault("FUNCTIONALITY_NOT_ENABLED", f"The {name} is not served by this emulated org; use the partner API "
                 "(/services/Soap/u) or REST")
    return Response(text.encode("utf-8"), status_code=500, media_type=XML_TYPE)
