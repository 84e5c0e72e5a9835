"""Field values at the model's boundary: decoded JSON in, Python natives inside, JSON-ready out.

Each input value is checked against its field (type, length, format, picklist, range) and a bad
one raises the error Salesforce gives for it.
"""

from __future__ import annotations

import json
import math
import re
from datetime import date, datetime, time, timedelta, timezone

from tandem.emulator.model.errors import ApiError
from tandem.emulator.model.fields import FieldDef
from tandem.salesforce import ids

_EMAIL_RE = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
                       r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$")
_DATE_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:Z|[+-]\d{2}:?\d{2})?$")
_DATETIME_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}(?::?\d{2})?)?$"
)
_SURROGATE = re.compile("[\ud800-\udfff]")
_MAX_OFFSET_MINUTES = 18 * 60
"""The widest UTC offset Java (and so Salesforce) reads: +18:00 or -18:00."""
_TIME_RE = re.compile(r"^(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?Z?$")


def _parser_error(f: FieldDef, value: object, java_type: str) -> ApiError:
    return ApiError(
        f"Cannot deserialize instance of {java_type} from VALUE_STRING value {value} or request may be missing "
        f"a required field at [line:1, column:1]",
        error_code="JSON_PARSER_ERROR",
    )


def _wrong_type(f: FieldDef, value: object) -> ApiError:
    shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return ApiError(f"{f.label}: value not of required type: {shown}", error_code="INVALID_TYPE_ON_FIELD_IN_RECORD",
                    fields=[f.name])


def parse_datetime(text: str) -> datetime | None:
    """ISO-8601 date-time with Z, +0000 or +00:00 (no offset means UTC); None when malformed."""
    m = _DATETIME_RE.match(text)
    if not m:
        return None
    year, month, day_, hour, minute = (int(m.group(i)) for i in range(1, 6))
    second = int(m.group(6) or 0)
    micros = int((m.group(7) or "0")[:6].ljust(6, "0"))
    try:
        moment = datetime(year, month, day_, hour, minute, second, micros, tzinfo=timezone.utc)
    except ValueError:
        return None
    offset = m.group(8)
    if offset and offset != "Z":
        digits = offset[1:].replace(":", "")
        minutes = int(digits[:2]) * 60 + int(digits[2:4] or 0)
        if minutes > _MAX_OFFSET_MINUTES or int(digits[2:4] or 0) > 59:
            return None
        delta = timedelta(minutes=minutes)
        try:
            moment = moment - delta if offset[0] == "+" else moment + delta
        except OverflowError:  # past the last (or before the first) moment a date can hold
            return None
    return moment.replace(microsecond=(moment.microsecond // 1000) * 1000)


def parse_date(text: str) -> date | None:
    m = _DATE_RE.match(text)
    if not m:
        return None
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


def coerce(f: FieldDef, value: object) -> object:
    """The native value for `value` written to field `f`, or the ApiError Salesforce answers with."""
    if value is None or (value == "" and f.type not in ("boolean",)):
        return False if f.type == "boolean" else None
    if isinstance(value, (dict, list)) and f.type != "multipicklist":
        raise _wrong_type(f, value)
    kind = f.type
    if f.is_text:
        return _coerce_text(f, value)
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        if isinstance(value, str):
            raise _parser_error(f, value, "boolean")
        raise _wrong_type(f, value)
    if kind in ("int", "long"):
        number = _number(f, value, "int")
        if number != int(number):
            raise _wrong_type(f, value)
        number = int(number)
        if f.digits and len(str(abs(number))) > f.digits:
            raise _out_of_range(f, value)
        return number
    if kind in ("double", "currency", "percent"):
        # the API keeps every decimal it is given: a field's scale is only how the UI shows it
        # (Salesforce Help 000212661); the digits before the point are checked
        number = float(_number(f, value, "double"))
        whole_digits = len(str(int(abs(number)))) if abs(number) >= 1 else 0
        if f.precision and whole_digits > f.precision - f.scale:
            raise _out_of_range(f, value)
        return number  # a double whatever the scale: 7 answers 7.0, as in Salesforce (Help 000221617)
    if kind == "date":
        if not isinstance(value, str):
            raise _wrong_type(f, value)
        parsed = parse_date(value)
        if parsed is None:
            moment = parse_datetime(value)
            if moment is None:
                raise _parser_error(f, value, "date")
            parsed = moment.date()
        return parsed
    if kind == "datetime":
        if not isinstance(value, str):
            raise _wrong_type(f, value)
        moment = parse_datetime(value)
        if moment is None:
            day_only = parse_date(value)
            if day_only is None:
                raise _parser_error(f, value, "datetime")
            moment = datetime(day_only.year, day_only.month, day_only.day, tzinfo=timezone.utc)
        return moment
    if kind == "time":
        m = _TIME_RE.match(value) if isinstance(value, str) else None
        if not m:
            raise _parser_error(f, value, "time")
        return time(int(m.group(1)), int(m.group(2)), int(m.group(3) or 0))
    if kind in ("reference", "id"):
        return coerce_id(f, value)
    raise _wrong_type(f, value)


def coerce_id(f: FieldDef, value: object) -> str:
    """An 18-character Id whose key prefix fits the field's targets, else MALFORMED_ID."""
    if not isinstance(value, str) or not ids.is_well_formed(value):
        raise ApiError(f"{f.label}: id value of incorrect type: {value}", error_code="MALFORMED_ID", fields=[f.name])
    return ids.to_18(value)


def _out_of_range(f: FieldDef, value: object) -> ApiError:
    return ApiError(f"{f.label}: value outside of valid range on numeric field: {value}",
                    error_code="NUMBER_OUTSIDE_VALID_RANGE", fields=[f.name])


def _number(f: FieldDef, value: object, java_type: str) -> float | int:
    if isinstance(value, bool):
        raise _wrong_type(f, value)
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            raise _wrong_type(f, value)
        return value
    if isinstance(value, str):
        try:
            number = int(value) if re.fullmatch(r"[+-]?\d+", value.strip()) else float(value)
        except ValueError:
            raise _parser_error(f, value, java_type) from None
        if isinstance(number, float) and not math.isfinite(number):  # "NaN", "Infinity": kept, they
            raise _parser_error(f, value, java_type)                  # would make later answers invalid JSON
        return number
    raise _wrong_type(f, value)


def _encodable(text: str) -> str:
    """Text as Salesforce stores it: a lone surrogate JSON let through becomes `?`, as Java's UTF-8
    encoder writes it (kept, it would break every later answer that holds the value)."""
    if text.isascii():
        return text
    return text.encode("utf-8", "replace").decode("utf-8") if _SURROGATE.search(text) else text


def _coerce_text(f: FieldDef, value: object) -> str:
    if f.type == "multipicklist" and isinstance(value, list):
        value = ";".join(str(v) for v in value)
    if isinstance(value, bool):
        value = "true" if value else "false"
    elif isinstance(value, (int, float)):
        value = repr(value) if isinstance(value, float) else str(value)
    elif not isinstance(value, str):
        raise _wrong_type(f, value)
    value = _encodable(value)
    if f.length and len(value) > f.length:
        raise ApiError(f"{f.label}: data value too large: {value} (max length={f.length})",
                       error_code="STRING_TOO_LONG", fields=[f.name])
    if f.type == "email" and not _EMAIL_RE.match(value):
        raise ApiError(f"{f.label}: invalid email address: {value}", error_code="INVALID_EMAIL_ADDRESS",
                       fields=[f.name])
    if f.restricted and f.picklist:
        allowed = {p.value for p in f.picklist if p.active}
        chosen = value.split(";") if f.type == "multipicklist" else [value]
        for item in chosen:
            if item not in allowed:
                raise ApiError(f"{f.label}: bad value for restricted picklist field: {item}",
                               error_code="INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", fields=[f.name])
    return value


def render(f: FieldDef, value: object) -> object:
    """The JSON value a record body carries for a native value."""
    if value is None:
        return False if f.type == "boolean" else None
    return render_native(value)


def render_datetime(value: datetime) -> str:
    """`2024-01-31T10:00:00.000+0000`: always UTC, milliseconds, offset without a colon."""
    if value.utcoffset():
        value = value.astimezone(timezone.utc)
    return value.isoformat(timespec="milliseconds")[:23] + "+0000"


def render_native(value: object) -> object:
    if isinstance(value, datetime):
        return render_datetime(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
    return value
