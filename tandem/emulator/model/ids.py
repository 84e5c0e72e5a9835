"""Minting record Ids as an org does: key prefix, pod, ten base-62 digits, checksum suffix.

Only the emulator mints Ids; the checksum itself is `tandem.salesforce.ids`, which both sides use.
`mint_id` is the same Id as `make_id`, built from lookup tables because bulk loads mint millions.
"""

from __future__ import annotations

import functools

from tandem.salesforce.ids import checksum

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
DEFAULT_POD = "5g"
_SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_CHUNK = 62**5


def make_id(prefix: str, sequence: int, pod: str = DEFAULT_POD) -> str:
    """The 18-character Id of the n-th record with this key prefix (deterministic)."""
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


def _digits(n: int, width: int) -> str:
    chars = []
    for _ in range(width):
        n, rem = divmod(n, 62)
        chars.append(BASE62[rem])
    return "".join(reversed(chars))


def _upper_bits(text: str) -> int:
    return sum(1 << i for i, char in enumerate(text) if "A" <= char <= "Z")


@functools.lru_cache(maxsize=1)
def _tables() -> tuple[list[str], list[int], list[str], list[int]]:
    """Two- and three-digit base-62 strings with their uppercase bits, so minting an Id is two lookups."""
    two = [_digits(n, 2) for n in range(62**2)]
    three = [_digits(n, 3) for n in range(62**3)]
    return two, [_upper_bits(t) for t in two], three, [_upper_bits(t) for t in three]


def _chunk(n: int) -> tuple[str, str]:
    """Five base-62 digits of `n` and the checksum letter of those five characters."""
    two, two_bits, three, three_bits = _tables()
    high, low = divmod(n, 62**3)
    return two[high] + three[low], _SUFFIX[two_bits[high] | (three_bits[low] << 2)]


@functools.lru_cache(maxsize=64)
def _head(prefix: str, high: int) -> tuple[str, str, str]:
    head = prefix + DEFAULT_POD
    high_text, high_letter = _chunk(high)
    return head, high_text, checksum(head + high_text + "00000")[0] + high_letter


def mint_id(prefix: str, n: int) -> str:
    """The same Id as `make_id(prefix, n)`, minted faster for bulk loads."""
    head, high_text, letters = _head(prefix, n // _CHUNK)
    low_text, low_letter = _chunk(n % _CHUNK)
    return head + high_text + low_text + letters + low_letter
