"""Salesforce record Ids: the 3-character checksum that turns a 15-character Id into 18.

The sync compares Ids that may come in either form; the emulator checksums the Ids it mints
(minting itself is `tandem.emulator.model.ids`). Text that is no Id raises `InvalidSalesforceId`.
"""

from __future__ import annotations

import re

from tandem.errors import InvalidSalesforceId

_SUFFIX_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_ID_RE = re.compile(r"^[0-9A-Za-z]{15}(?:[0-9A-Za-z]{3})?$")


_UPPER_BITS = str.maketrans({c: "1" for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"} | {c: "0" for c in
                                                                                "abcdefghijklmnopqrstuvwxyz0123456789"})
"""An Id's characters as bits: 1 for an upper-case letter (the checksum reads each chunk's bits from its end)."""


_CHUNK_LETTER = {format(n, "05b")[::-1]: letter for n, letter in enumerate(_SUFFIX_ALPHABET)}
"""A chunk's bits, read from its start, → its suffix letter (the number they make read from the end)."""


def checksum(id15: str) -> str:
    """The 3-character suffix for a 15-character Id (one letter per 5-character chunk)."""
    if not isinstance(id15, str) or len(id15) != 15:
        raise InvalidSalesforceId(id15, "a 15-character Id is needed")
    bits = id15.translate(_UPPER_BITS)
    letter = _CHUNK_LETTER
    return letter[bits[:5]] + letter[bits[5:10]] + letter[bits[10:]]


def to_18(record_id: str) -> str:
    """The 18-character form of a 15- or 18-character Id; an 18-character Id is re-checksummed."""
    if type(record_id) is not str or len(record_id) not in (15, 18) or not (record_id.isascii() and record_id.isalnum()):
        raise InvalidSalesforceId(record_id)  # an Id is 15 or 18 ASCII letters and digits
    id15 = record_id[:15]
    suffix = checksum(id15)
    if len(record_id) == 18 and record_id[15:].upper() != suffix:
        raise InvalidSalesforceId(record_id)
    return id15 + suffix


_LETTER_BITS = {letter: bits for bits, letter in _CHUNK_LETTER.items()}


def with_case(record_id: str) -> str:
    """An 18-character Id typed in any case, in the case its suffix says (the suffix exists for that:
    Salesforce takes 18-character Ids in any case); anything else as it is."""
    if not isinstance(record_id, str) or len(record_id) != 18 or not _ID_RE.match(record_id):
        return record_id
    suffix = record_id[15:].upper()
    if any(c not in _LETTER_BITS for c in suffix):
        return record_id
    bits = "".join(_LETTER_BITS[c] for c in suffix)
    cased = "".join(c.upper() if bit == "1" else c.lower() for c, bit in zip(record_id[:15], bits, strict=True))
    return cased + suffix if is_well_formed(cased + suffix) else record_id


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
