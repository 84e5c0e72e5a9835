"""What a partner SOAP handler receives: the org, the caller, the operation element and the headers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from xml.etree.ElementTree import Element

from tandem.emulator.wire.soap_xml import local, text_of

MAX_RECORDS = 200
"""Records (or Ids) one create, update, upsert, delete, undelete or retrieve call may carry."""


class SoapFault(Exception):
    """A call-level failure, sent as a SOAP fault with HTTP 500."""

    def __init__(self, code: str, message: str, detail_type: str = "UnexpectedErrorFault") -> None:
        super().__init__(message)
        self.code, self.message, self.detail_type = code, message, detail_type


@dataclass
class SoapCall:
    org: Any
    ctx: Any
    operation: Element
    header: Element | None
    base_url: str
    version: str

    def header_value(self, block: str, name: str) -> str | None:
        """`<QueryOptions><batchSize>500</batchSize></QueryOptions>` → header_value("QueryOptions", "batchSize")."""
        if self.header is None:
            return None
        for child in self.header:
            if local(child) == block:
                return text_of(child, name)
        return None


def check_record_count(count: int) -> None:
    if count > MAX_RECORDS:
        raise SoapFault("EXCEEDED_ID_LIMIT",
                        f"record limit reached. cannot submit more than {MAX_RECORDS} records into this call")
