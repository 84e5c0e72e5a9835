"""Opaque page tokens: upper-case base32 (with `=` padding, as Marketo's) over a small cursor.

Lead pages carry the last id served; activity pages the `sinceDatetime` they started from and the
feed position of the last activity served (`FeedPosition`: the last id, and on PostgreSQL its
writing transaction too). Positions only grow, so a token is never repeated and paging ends. A token that
is too long or carries an id out of range is refused as invalid (1003), never read further.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import UTC, datetime

from tandem.people.models import FeedPosition
from tandem.web.envelope import ApiFailure, Codes

MAX_TOKEN_LENGTH = 160
MAX_LEAD_ID = 2**31 - 1
MAX_ACTIVITY_ID = 2**63 - 1


@dataclass(frozen=True)
class LeadCursor:
    after_id: int


@dataclass(frozen=True)
class ActivityCursor:
    since: datetime
    after: FeedPosition = FeedPosition(0, 0)


def _encode(text: str) -> str:
    return base64.b32encode(text.encode()).decode()


def _invalid() -> ApiFailure:
    return ApiFailure(Codes.INVALID_DATA, "Invalid nextPageToken")


def _decode(token: str) -> str:
    if len(token) > MAX_TOKEN_LENGTH:
        raise _invalid()
    cleaned = token.strip().upper()
    cleaned += "=" * (-len(cleaned) % 8)
    try:
        return base64.b32decode(cleaned).decode("ascii")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise _invalid() from None


def _bounded_id(text: str, limit: int) -> int:
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(limit)) or int(text) > limit:
        raise _invalid()
    return int(text)


def lead_token(cursor: LeadCursor) -> str:
    return _encode(f"lead,{cursor.after_id}")


def read_lead_token(token: str) -> LeadCursor:
    kind, _, after = _decode(token).partition(",")
    if kind != "lead":
        raise _invalid()
    return LeadCursor(_bounded_id(after, MAX_LEAD_ID))


def activity_token(cursor: ActivityCursor) -> str:
    """The year always has four digits (`strftime("%Y")` writes year 1 as `1`, which the reader
    refuses); the transaction only when there is one (SQLite's tokens are as they always were)."""
    stamp = cursor.since.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="milliseconds") + "+0000"
    writer = f",{cursor.after.txid}" if cursor.after.txid else ""
    return _encode(f"{stamp},{cursor.after.id}{writer}")


def read_activity_token(token: str) -> ActivityCursor:
    """A token without a transaction (from SQLite, or from before transactions were named) stands
    where its id stood: every activity at or below that id was written before them."""
    stamp, _, position = _decode(token).partition(",")
    after, _, writer = position.partition(",")
    try:
        since = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%f%z")
    except ValueError:
        raise _invalid() from None
    txid = _bounded_id(writer, MAX_ACTIVITY_ID) if writer else 0
    return ActivityCursor(since.astimezone(UTC), FeedPosition(txid, _bounded_id(after, MAX_ACTIVITY_ID)))
