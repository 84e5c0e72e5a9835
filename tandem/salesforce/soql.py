"""SOQL literals built from values: the only way a value goes into a query Tandem writes.

In a quoted string SOQL reads `\\` escapes, so quotes, backslashes and control characters are
escaped; in a LIKE pattern `%` and `_` are wildcards, so a value's own are escaped too and match
only themselves.
"""

from __future__ import annotations

_STRING_ESCAPES = {"\\": "\\\\", "'": "\\'", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t",
                   "\b": "\\b", "\f": "\\f"}
_LIKE_ESCAPES = {**_STRING_ESCAPES, "%": "\\%", "_": "\\_"}


def quoted(value: str) -> str:
    """The SOQL string literal for `value`, for `=`, `!=` and `IN`."""
    return "'" + "".join(_STRING_ESCAPES.get(char, char) for char in value) + "'"


def like_pattern(value: str, *, any_before: bool = False, any_after: bool = False) -> str:
    """A quoted LIKE pattern matching `value` literally, with `%` added before and/or after it."""
    body = "".join(_LIKE_ESCAPES.get(char, char) for char in value)
    return "'" + ("%" if any_before else "") + body + ("%" if any_after else "") + "'"
