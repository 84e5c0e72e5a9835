"""SOAP envelopes as Salesforce writes them: unprefixed result elements, literal `sf:` fault tags."""

from __future__ import annotations

import re
from typing import Any
from xml.etree.ElementTree import Element
from xml.sax.saxutils import escape

import defusedxml.ElementTree as SafeET

from tandem.emulator.model.errors import ApiError

XML_TYPE = "text/xml; charset=utf-8"
_ENVELOPE_OPEN = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"'
    ' xmlns="urn:partner.soap.sforce.com" xmlns:sf="urn:sobject.partner.soap.sforce.com"'
    ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
)


def local(element: Element) -> str:
    return element.tag.rsplit("}", 1)[-1]


def operation_and_session(payload: bytes) -> tuple[str | None, str | None]:
    """The call a SOAP request makes (`login`, `convertLead`, ...) and its SessionHeader's session Id."""
    try:
        root = SafeET.fromstring(payload)
    except Exception:
        return None, None
    body = next((e for e in root if local(e) == "Body"), None)
    operation = local(body[0]) if body is not None and len(body) else None
    header = next((e for e in root.iter() if local(e) == "sessionId"), None)
    session = (header.text or "").strip() if header is not None else ""
    return operation, session or None


def children(element: Element, name: str) -> list[Element]:
    return [child for child in element if local(child) == name]


def text_of(element: Element, name: str) -> str | None:
    found = children(element, name)
    return (found[0].text or "").strip() if found else None


def value(name: str, content: Any) -> str:
    """One unprefixed element; None becomes `xsi:nil`, booleans `true`/`false`."""
    if content is None:
        return f'<{name} xsi:nil="true"/>'
    if isinstance(content, bool):
        content = "true" if content else "false"
    return f"<{name}>{escape(str(content))}</{name}>"


def envelope(body: str, limit_info: tuple[int, int] | None = None) -> str:
    header = ""
    if limit_info is not None:
        header = (
            "<soapenv:Header><LimitInfoHeader><limitInfo>"
            f"<current>{limit_info[0]}</current><limit>{limit_info[1]}</limit><type>API REQUESTS</type>"
            "</limitInfo></LimitInfoHeader></soapenv:Header>"
        )
    return f"{_ENVELOPE_OPEN}{header}<soapenv:Body>{body}</soapenv:Body></soapenv:Envelope>"


def result_errors(exc: ApiError) -> str:
    """One `<errors>` element per error of a failed record."""
    out = []
    for each in exc.each():
        fields = "".join(value("fields", f) for f in each.fields)
        out.append(f"<errors>{fields}{value('message', each.message)}{value('statusCode', each.error_code)}</errors>")
    return "".join(out)


def fault(code: str, message: str, detail_type: str = "UnexpectedErrorFault") -> str:
    """A SOAP fault (sent with HTTP 500); `faultcode` is `sf:CODE` as clients pattern-match it."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"'
        ' xmlns:sf="urn:fault.partner.soap.sforce.com" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        "<soapenv:Body><soapenv:Fault>"
        f"<faultcode>sf:{escape(code)}</faultcode><faultstring>{escape(code)}: {escape(message)}</faultstring>"
        f'<detail><sf:{detail_type} xsi:type="sf:{detail_type}">'
        f"<sf:exceptionCode>{escape(code)}</sf:exceptionCode>"
        f"<sf:exceptionMessage>{escape(message)}</sf:exceptionMessage>"
        f"</sf:{detail_type}></detail></soapenv:Fault></soapenv:Body></soapenv:Envelope>"
    )


_FAULT_TYPES = {
    "MALFORMED_ID": "InvalidIdFault",
    "INVALID_ID_FIELD": "InvalidIdFault",
    "INVALID_FIELD": "InvalidFieldFault",
    "MALFORMED_QUERY": "MalformedQueryFault",
    "INVALID_QUERY_FILTER_OPERATOR": "MalformedQueryFault",
    "INVALID_QUERY_LOCATOR": "InvalidQueryLocatorFault",
    "INVALID_TYPE": "InvalidSObjectFault",
    "INVALID_LOGIN": "LoginFault",
}


def api_fault(exc: ApiError) -> str:
    """A model error as the typed fault the partner WSDL declares for its code."""
    return fault(exc.error_code, exc.message, _FAULT_TYPES.get(exc.error_code, "UnexpectedErrorFault"))


_REST_DATETIME = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})\+0000$")


def soap_scalar(content: Any) -> Any:
    """A REST-rendered value as the partner API writes it (datetimes end in `Z`)."""
    if isinstance(content, str):
        found = _REST_DATETIME.match(content)
        if found:
            return found.group(1) + "Z"
    return content


def element(name: str, content: Any) -> str:
    """A JSON-shaped value as partner-namespace XML: dicts nest, lists repeat the element."""
    if isinstance(content, list):
        return "".join(element(name, item) for item in content)
    if isinstance(content, dict):
        return f"<{name}>" + "".join(element(k, v) for k, v in content.items()) + f"</{name}>"
    return value(name, soap_scalar(content))


def sobject(tag: str, row: dict) -> str:
    """A REST record row (with `attributes`) as an `sf:sObject`; parent records nest the same way."""
    kind = (row.get("attributes") or {}).get("type", "")
    parts = [f'<{tag} xsi:type="sf:sObject">', f"<sf:type>{escape(kind)}</sf:type>"]
    for key, content in row.items():
        if key == "attributes":
            continue
        if isinstance(content, dict) and "attributes" in content:
            parts.append(sobject(f"sf:{key}", content))
        elif content is None:
            parts.append(f'<sf:{key} xsi:nil="true"/>')
        else:
            content = soap_scalar(content)
            if isinstance(content, bool):
                content = "true" if content else "false"
            parts.append(f"<sf:{key}>{escape(str(content))}</sf:{key}>")
    parts.append(f"</{tag}>")
    return "".join(parts)
