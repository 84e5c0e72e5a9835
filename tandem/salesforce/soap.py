"""The SOAP partner calls a REST integration still needs (`convertLead`, `merge`): envelopes in, results out."""

from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import escape

from defusedxml import ElementTree

from tandem.salesforce.results import ConvertedLead, RecordError

ENVELOPE_NS = "http://schemas.xmlsoap.org/soap/envelope/"
PARTNER_NS = "urn:partner.soap.sforce.com"


@dataclass(frozen=True)
class LeadConvert:
    """One `leadConverts` entry; `None` leaves an option to Salesforce's default."""

    lead_id: str
    converted_status: str
    account_id: str | None = None
    contact_id: str | None = None
    owner_id: str | None = None
    opportunity_name: str | None = None
    do_not_create_opportunity: bool = False
    send_notification_email: bool = False
    overwrite_lead_source: bool = False

    def to_xml(self) -> str:
        # Element order follows the partner WSDL.
        parts = [
            ("accountId", self.account_id),
            ("contactId", self.contact_id),
            ("convertedStatus", self.converted_status),
            ("doNotCreateOpportunity", _bool(self.do_not_create_opportunity)),
            ("leadId", self.lead_id),
            ("opportunityName", self.opportunity_name),
            ("overwriteLeadSource", _bool(self.overwrite_lead_source)),
            ("ownerId", self.owner_id),
            ("sendNotificationEmail", _bool(self.send_notification_email)),
        ]
        body = "".join(f"<{tag}>{escape(value)}</{tag}>" for tag, value in parts if value is not None)
        return f"<leadConverts>{body}</leadConverts>"


def _bool(value: bool) -> str:
    return "true" if value else "false"


def convert_lead_envelope(session_id: str, converts: list[LeadConvert]) -> str:
    entries = "".join(c.to_xml() for c in converts)
    return (
        f'<?xml version="1.0" encoding="utf-8"?>'
        f'<soapenv:Envelope xmlns:soapenv="{ENVELOPE_NS}" xmlns="{PARTNER_NS}">'
        f"<soapenv:Header><SessionHeader><sessionId>{escape(session_id)}</sessionId></SessionHeader></soapenv:Header>"
        f"<soapenv:Body><convertLead>{entries}</convertLead></soapenv:Body></soapenv:Envelope>"
    )


SOBJECT_NS = "urn:sobject.partner.soap.sforce.com"
MERGE_LIMIT = 2
"""Records merged into one master per merge request (three records in all)."""


@dataclass(frozen=True)
class MergedRecords:
    """A merge Salesforce made: the master kept its Id, the merged records are deleted."""

    master_id: str
    merged_ids: tuple[str, ...]


def merge_envelope(session_id: str, object_name: str, master_id: str, loser_ids: list[str]) -> str:
    """One merge request (at most two losers, as Salesforce allows); the master's values are kept."""
    losers = "".join(f"<recordToMergeIds>{escape(i)}</recordToMergeIds>" for i in loser_ids)
    return (
        f'<?xml version="1.0" encoding="utf-8"?>'
        f'<soapenv:Envelope xmlns:soapenv="{ENVELOPE_NS}" xmlns="{PARTNER_NS}" xmlns:ens="{SOBJECT_NS}">'
        f"<soapenv:Header><SessionHeader><sessionId>{escape(session_id)}</sessionId></SessionHeader></soapenv:Header>"
        f"<soapenv:Body><merge><request><masterRecord><ens:type>{escape(object_name)}</ens:type>"
        f"<ens:Id>{escape(master_id)}</ens:Id></masterRecord>{losers}</request></merge></soapenv:Body>"
        f"</soapenv:Envelope>"
    )


def parse_merge_result(xml: bytes | str) -> MergedRecords | list[RecordError]:
    """The one merge result of a single-request call, or its errors."""
    root = ElementTree.fromstring(xml)
    result = next(root.iter(f"{{{PARTNER_NS}}}result"), None)
    if result is None:
        return [RecordError(code="UNKNOWN_EXCEPTION", message="merge returned no result", fields=())]
    if result.findtext(f"{{{PARTNER_NS}}}success") == "true":
        merged = tuple(e.text or "" for e in result.findall(f"{{{PARTNER_NS}}}mergedRecordIds"))
        return MergedRecords(result.findtext(f"{{{PARTNER_NS}}}id") or "", merged)
    return _errors(result)


def _errors(result) -> list[RecordError]:
    return [
        RecordError(
            code=e.findtext(f"{{{PARTNER_NS}}}statusCode") or "UNKNOWN_EXCEPTION",
            message=e.findtext(f"{{{PARTNER_NS}}}message") or "",
            fields=tuple(f.text or "" for f in e.findall(f"{{{PARTNER_NS}}}fields")),
        )
        for e in result.findall(f"{{{PARTNER_NS}}}errors")
    ]


@dataclass(frozen=True)
class SoapFault:
    code: str
    message: str


def parse_fault(xml: bytes | str) -> SoapFault | None:
    """The SOAP fault of an answer; None when it holds none, or is not XML (a proxy's HTML error page)."""
    try:
        root = ElementTree.fromstring(xml)
    except ElementTree.ParseError:
        return None
    fault = root.find(f".//{{{ENVELOPE_NS}}}Fault")
    if fault is None:
        return None
    code = (fault.findtext("faultcode") or "UNKNOWN_EXCEPTION").split(":")[-1]
    return SoapFault(code=code, message=fault.findtext("faultstring") or "")


def parse_convert_results(xml: bytes | str) -> list[ConvertedLead | tuple[str | None, list[RecordError]]]:
    """One entry per lead: a `ConvertedLead`, or `(lead_id, errors)` when that conversion failed."""
    root = ElementTree.fromstring(xml)
    outcomes: list[ConvertedLead | tuple[str | None, list[RecordError]]] = []
    for result in root.iter(f"{{{PARTNER_NS}}}result"):
        def text(tag: str) -> str | None:
            value = result.findtext(f"{{{PARTNER_NS}}}{tag}")
            return value or None

        if text("success") == "true":
            outcomes.append(ConvertedLead(text("leadId") or "", text("accountId"), text("contactId"), text("opportunityId")))
            continue
        outcomes.append((text("leadId"), _errors(result)))
    return outcomes
