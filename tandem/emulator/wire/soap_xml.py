"""SOAP envelopes as Salesforce writes them: unprefixed result elements, literal `sf:` fault tags."""

from __future__ import annotations

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
    fields = "".join(value("fields", f) for f in exc.fields)
    return f"<errors>{fields}{value('message', exc.message)}{value('statusCode', exc.error_code)}</errors>"


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


def api_fault(exc: ApiError) -> str:
    detail = "InvalidIdFault" if exc.error_code in ("MALFORMED_ID", "INVALID_ID_FIELD") else "UnexpectedErrorFault"
    return fault(exc.error_code, exc.message, detail)
