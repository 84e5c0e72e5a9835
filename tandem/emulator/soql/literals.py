"""Turning SOQL literal text into native values: quoted strings, LIKE patterns, dates, datetimes.

Each function raises ValueError with a Salesforce-like reason; the parser turns that into a
SoqlSyntaxError pointing at the literal.
"""

from __future__ import annotations

import datetime as dt
import re

from tandem.emulator.soql.like import LikePattern

_SIMPLE_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", '"': '"', "'": "'", "\\": "\\"}
_LIKE_ONLY_ESCAPES = {"%", "_"}

_DATETIME_RE = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?(?:(Z)|([+-])(\d{2}):?(\d{2}))\Z",
    re.IGNORECASE,
)


def _escapes(body: str, *, like: bool) -> list[tuple[str, bool]]:
    """Split a quoted string's body into (character, escaped) pairs, decoding backslash escapes."""
    out: list[tuple[str, bool]] = []
    i = 0
    while i < len(body):
        char = body[i]
        if char != "\\":
            out.append((char, False))
            i += 1
            continue
        if i + 1 >= len(body):
            raise ValueError("Invalid string literal: a backslash ends the string")
        code = body[i + 1]
        if code in _SIMPLE_ESCAPES:
            out.append((_SIMPLE_ESCAPES[code], True))
            i += 2
        elif code == "u":
            digits = body[i + 2 : i + 6]
            if not re.fullmatch(r"[0-9a-fA-F]{4}", digits):
                raise ValueError(f"Invalid unicode escape: \\u{digits}")
            out.append((chr(int(digits, 16)), True))
            i += 6
        elif code in _LIKE_ONLY_ESCAPES:
            # Outside LIKE, Salesforce keeps \% and \_ as written.
            out.append((code, True) if like else ("\\" + code, True))
            i += 2
        else:
            raise ValueError(f"Invalid string literal: illegal escape sequence \\{code}")
    return out


def unquote(token: str) -> str:
    """The value of a single-quoted SOQL string token (quotes included)."""
    return "".join(char for char, _ in _escapes(token[1:-1], like=False))


def like_pattern(token: str) -> LikePattern:
    """The LIKE pattern of a quoted token: `%` matches any run of characters and `_` exactly one;
    `\\%` and `\\_` match themselves."""
    return LikePattern.from_items(_escapes(token[1:-1], like=True))


def parse_datetime(text: str) -> dt.datetime:
    """An aware UTC datetime from `2024-01-01T00:00:00Z`, `…00.000+0000`, `…00-05:00` and the like."""
    match = _DATETIME_RE.match(text)
    if not match:
        raise ValueError(f"invalid datetime: {text}")
    year, month, day, hour, minute, second, fraction, zulu, sign, off_h, off_m = match.groups()
    micro = int((fraction or "0").ljust(6, "0"))
    if zulu:
        zone = dt.timezone.utc
    else:
        if int(off_h) > 23 or int(off_m) > 59:
            raise ValueError(f"invalid time zone offset in {text}")
        offset = dt.timedelta(hours=int(off_h), minutes=int(off_m))
        zone = dt.timezone(-offset if sign == "-" else offset)
    moment = dt.datetime(
        int(year), int(month), int(day), int(hour), int(minute), int(second), micro, tzinfo=zone
    )
    try:
        return moment.astimezone(dt.timezone.utc)
    except OverflowError:
        raise ValueError(f"date-time out of range in UTC: {text}") from None


def parse_date(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def parse_number(text: str) -> int | float:
    return float(text) if "." in text else int(text)
