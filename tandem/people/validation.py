"""Turn a value as given (CLI text, JSON, Python) into the typed value stored for a person field.

Every check raises `InvalidInput` naming the field, and runs before anything is written, so that bad
input changes nothing. Text must be storable on every database: no NUL (PostgreSQL refuses it) and
no lone surrogate (JSON's `"\\ud800"` decodes to one; it has no UTF-8 form, so no database takes
it). `to_json_value` is the inverse used where values leave as JSON (activity attributes, pending
changes, field bases).
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime
from enum import Enum
from collections.abc import Callable
from typing import Any, TypeVar

from tandem.errors import InvalidInput
from tandem.people.fields import FieldType, PersonField

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_WHOLE_NUMBER = re.compile(r"^[+-]?[0-9]+$")
_DECIMAL_NUMBER = re.compile(r"^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$")
"""Numbers as text: ASCII digits only (Python's int() and float() also read other scripts' digits
and `1_000`, which no API or CSV means)."""
INTEGER_LIMIT = 2**31 - 1
"""The largest magnitude an integer field holds (the databases' `integer`)."""
_TRUE = frozenset({"true", "yes", "1", "y", "on"})
_FALSE = frozenset({"false", "no", "0", "n", "off"})
E = TypeVar("E", bound=Enum)
TEXT_TYPES = frozenset(
    {FieldType.STRING, FieldType.TEXT, FieldType.EMAIL, FieldType.PHONE, FieldType.URL, FieldType.PICKLIST}
)
"""The types `coerce` checks as text."""


def coerce(field: PersonField, raw: Any) -> Any:
    """The stored form of `raw` for `field`; `None` and `""` clear the field."""
    if raw is None or raw == "":
        return None
    match field.type:
        case FieldType.INTEGER:
            return _integer(field, raw)
        case FieldType.FLOAT | FieldType.CURRENCY:
            return _number(field, raw)
        case FieldType.BOOLEAN:
            return _boolean(field, raw)
        case FieldType.DATE:
            return _date(field, raw)
        case FieldType.DATETIME:
            return _datetime(field, raw)
        case _:
            return _text(field, raw)


def converter(field: PersonField) -> Callable[[Any], Any]:
    """`coerce` bound to one field, its checks chosen once: a pull converts millions of values.

    Same results and same errors as `coerce(field, raw)`.
    """
    if field.type not in TEXT_TYPES:
        check = _TYPED_CHECKS[field.type]
        boolean = field.type is FieldType.BOOLEAN

        def typed(raw: Any) -> Any:
            if boolean and (raw is True or raw is False):
                return raw
            return None if raw is None or raw == "" else check(field, raw)
        return typed
    name, limit = field.name, field.max_length
    email = field.type is FieldType.EMAIL
    picklist = field.picklist_values if field.type is FieldType.PICKLIST else ()

    def text(raw: Any) -> Any:
        if raw is None or raw == "":
            return None
        if type(raw) is not str:
            return _text(field, raw)  # the slow path names the problem
        if not storable(raw):
            check_storable(name, raw)
        if limit is not None and len(raw) > limit or email and not _EMAIL.match(raw) \
                or picklist and raw not in picklist:
            return _text(field, raw)
        return raw
    return text


def to_json_value(value: Any) -> Any:
    """A JSON-ready form: dates and datetimes as ISO 8601 (datetimes in UTC with `Z`)."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    return value


def enum_member(kind: type[E], value: object, name: str) -> E:
    """The member of `kind` that `value` names, or an `InvalidInput` listing the allowed ones."""
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(str(member.value) for member in kind)
        raise InvalidInput(name, f"expected one of {allowed}, got {value!r}") from None


def storable(text: str) -> bool:
    """False for text holding a character no database here stores (NUL, a lone surrogate)."""
    # ASCII without NUL first: one pass in C, several times quicker than the search
    return "\x00" not in text and text.isascii() or _UNSTORABLE.search(text) is None


def check_storable(name: str, text: str) -> None:
    """Refuse text holding NUL or a lone surrogate, naming the field and the first such character."""
    found = _UNSTORABLE.search(text)
    if found is None:
        return
    char = found.group()
    what = "a NUL character" if char == "\x00" else f"a lone surrogate (U+{ord(char):04X})"
    raise InvalidInput(name, f"contains {what} at position {found.start() + 1}, which cannot be stored")


def _shown(raw: Any) -> str:
    text = repr(raw)
    return text if len(text) <= 60 else text[:57] + "..."


def _integer(field: PersonField, raw: Any) -> int:
    if isinstance(raw, bool):
        raise InvalidInput(field.name, f"expected a whole number, got {_shown(raw)}")
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    if isinstance(raw, str) and _WHOLE_NUMBER.match(raw.strip()):
        if len(raw.strip().lstrip("+-")) > 19:
            raise InvalidInput(field.name, f"{_shown(raw)} is out of range (at most {INTEGER_LIMIT} either way)")
        raw = int(raw.strip())
    if not isinstance(raw, int):
        raise InvalidInput(field.name, f"expected a whole number, got {_shown(raw)}")
    if abs(raw) > INTEGER_LIMIT:
        raise InvalidInput(field.name, f"{raw} is out of range (at most {INTEGER_LIMIT} either way)")
    return raw


def _number(field: PersonField, raw: Any) -> float:
    value: float | None = None
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        value = float(raw)
    elif isinstance(raw, str) and _DECIMAL_NUMBER.match(raw.strip()):
        value = float(raw.strip())
    if value is None or not math.isfinite(value):
        raise InvalidInput(field.name, f"expected a number, got {_shown(raw)}")
    return value


def _boolean(field: PersonField, raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int) and raw in (0, 1):
        return bool(raw)
    if isinstance(raw, str):
        word = raw.strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
    raise InvalidInput(field.name, f"expected true or false, got {_shown(raw)}")


def _date(field: PersonField, raw: Any) -> date:
    if isinstance(raw, datetime):
        raise InvalidInput(field.name, f"expected a date (YYYY-MM-DD), got a date and time {_shown(raw)}")
    if isinstance(raw, date):
        return raw
    if isinstance(raw, str):
        try:
            return date.fromisoformat(raw.strip())
        except ValueError:
            pass
    raise InvalidInput(field.name, f"expected a date (YYYY-MM-DD), got {_shown(raw)}")


def _datetime(field: PersonField, raw: Any) -> datetime:
    value: datetime | None = None
    if isinstance(raw, datetime):
        value = raw
    elif isinstance(raw, str):
        try:
            value = datetime.fromisoformat(raw.strip())
        except ValueError:
            value = None
    if value is None:
        raise InvalidInput(field.name, f"expected an ISO 8601 date and time, got {_shown(raw)}")
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise InvalidInput(field.name, f"{_shown(raw)} is out of range in UTC (years 1 to 9999)") from None


_TYPED_CHECKS = {FieldType.INTEGER: _integer, FieldType.FLOAT: _number, FieldType.CURRENCY: _number,
                 FieldType.BOOLEAN: _boolean, FieldType.DATE: _date, FieldType.DATETIME: _datetime}
"""The check `coerce` runs for each type that is not text."""


def _trimmed_email(field: PersonField, raw: str) -> str:
    """An email without the spaces around it, as the lookups compare it; spaces inside are refused."""
    email = raw.strip()
    if not _EMAIL.match(email):
        raise InvalidInput(field.name, f"not an email address: {_shown(raw)}")
    return email


def _text(field: PersonField, raw: Any) -> str:
    if not isinstance(raw, str):
        raise InvalidInput(field.name, f"expected text, got {_shown(raw)}")
    check_storable(field.name, raw)
    if field.type is FieldType.EMAIL:
        raw = _trimmed_email(field, raw)
    limit = field.max_length
    if limit is not None and len(raw) > limit:
        raise InvalidInput(field.name, f"longer than {limit} characters ({len(raw)})")
    if field.type is FieldType.PICKLIST and field.picklist_values and raw not in field.picklist_values:
        allowed = ", ".join(field.picklist_values)
        raise InvalidInput(field.name, f"{_shown(raw)} is not one of the allowed values ({allowed})")
    return raw
