"""Salesforce record Ids: the 3-character checksum that turns a 15-character Id into 18.

The sync compares Ids that may come in either form; the emulator checksums the Ids it mints
(minting itself is `tandem.emulator.model.ids`). Text that is no Id raises `InvalidSalesforceId`.
"""

from __future__ import annotations

import re

from tandem.errors import InvalidSalesforceId

_SUFFIX_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_ID_RE = re.compile(r"^[0-9A-Za-z]{15}(?:[0-9A-Za-z]{3})?$")


def checksum(id15: str) -> str:
    """The 3-character suffix for a 15-character Id (one letter per 5-character chunk)."""
    if not isinstance(id15, str) or len(id15) != 15:
        raise InvalidSalesforceId(id15, "a 15-character Id is needed")
    letters = []
    for start in (0, 5, 10):
        bits = 0
        for position, char in enumerate(id15[start : start + 5]):
            if "A" <= char <= "Z":
                bits |= 1 << position
        letters.append(_SUFFIX_ALPHABET[bits])
    return "".join(letters)


def to_18(record_id: str) -> str:
    """The 18-character form of a 15- or 18-character Id; an 18-character Id is re-checksummed."""
    if not is_well_formed(record_id):
        raise InvalidSalesforceId(record_id)
    id15 = record_id[:15]
    return id15 + checksum(id15)


def is_well_formed(value: object) -> bool:
    """True for a 15-character Id, or an 18-character one whose suffix matches its checksum."""
    if not isinstance(value, str) or not _ID_RE.match(value):
        return False
    return len(value) == 15 or value[15:].upper() == checksum(value[:15])


def same_id(a: str | None, b: str | None) -> bool:
    """Compare Ids given in either form (15 characters compare case-sensitively)."""
    if a is None or b is None:
        return a is b
    return a[:15] == b[:15]
