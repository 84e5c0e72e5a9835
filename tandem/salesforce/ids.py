"""Salesforce record Ids: the 3-character checksum that turns a 15-character Id into 18.

Both sides need this: the emulator mints Ids, the sync compares Ids that may come in either form.
"""

from __future__ import annotations

import re

_SUFFIX_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_ID_RE = re.compile(r"^[0-9A-Za-z]{15}(?:[0-9A-Za-z]{3})?$")
BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

KEY_PREFIXES = {
    "Account": "001",
    "Contact": "003",
    "Lead": "00Q",
    "Opportunity": "006",
    "User": "005",
    "Group": "00G",
    "Organization": "00D",
    "Campaign": "701",
    "Task": "00T",
}


def checksum(id15: str) -> str:
    """The 3-character suffix for a 15-character Id (one letter per 5-character chunk)."""
    if len(id15) != 15:
        raise ValueError(f"a 15-character Id is needed, got {len(id15)} characters")
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
        raise ValueError(f"not a Salesforce Id: {record_id!r}")
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


def make_id(prefix: str, sequence: int, pod: str = "5g") -> str:
    """Mint the 18-character Id for the n-th record with this key prefix (deterministic)."""
    if len(prefix) != 3:
        raise ValueError("a key prefix has three characters")
    digits = []
    n = sequence
    for _ in range(10):
        n, rem = divmod(n, 62)
        digits.append(BASE62[rem])
    if n:
        raise ValueError("sequence out of range")
    id15 = prefix + pod + "".join(reversed(digits))
    return id15 + checksum(id15)
