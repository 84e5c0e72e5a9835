"""Reading request parameters the way Marketo clients send them.

Multi-values arrive comma-joined, repeated, or both (MARKETO-API §9 quirk 2); booleans in any case;
bodies are JSON only where the content type says so (612), and bad JSON is 609, never a 500.
"""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qsl
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from starlette.requests import Request

from tandem.people.persons import MAX_PERSON_ID
from tandem.salesforce.ids import is_well_formed, to_18, with_case
from tandem.web.envelope import ApiFailure, Codes

MAX_ID = MAX_PERSON_ID
"""The largest id the API takes (the store's ids are PostgreSQL `integer`s)."""
MAX_JSON_DIGITS = 40
"""A JSON body's integers longer than this are refused (1001) before Python converts them."""
M = TypeVar("M", bound=BaseModel)


def multi(values: Iterable[str] | str | None) -> list[str]:
    """Comma lists and repeated parameters merged, whitespace trimmed, empty items dropped."""
    if values is None:
        return []
    if isinstance(values, str):
        values = [values]
    return [item.strip() for value in values for item in value.split(",") if item.strip()]


def integer(name: str, text: str | int) -> int:
    if isinstance(text, int) and not isinstance(text, bool):
        return text
    if isinstance(text, str) and re.fullmatch(r"[+-]?[0-9]{1,18}", text.strip()):
        return int(text.strip())
    raise ApiFailure(Codes.INVALID_VALUE, f"Invalid value '{str(text)[:60]}'. Required of type 'integer' ({name})")


def ids(name: str, values: Iterable[str | int]) -> list[int]:
    """Integer ids; those outside the id range match nothing, so they are dropped."""
    return [v for v in (integer(name, value) for value in values) if 0 < v <= MAX_ID]


def batch_size(text: str | None, cap: int) -> int:
    if text is None or str(text).strip() == "":
        return cap
    size = integer("batchSize", text)
    if not 1 <= size <= cap:
        raise ApiFailure(Codes.INVALID_DATA, f"batchSize must be between 1 and {cap}")
    return size


def boolean(name: str, value: Any, default: bool | None = None) -> bool | None:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in ("true", "1", "yes"):
        return True
    if word in ("false", "0", "no"):
        return False
    raise ApiFailure(Codes.INVALID_VALUE, f"Invalid value '{str(value)[:60]}'. Required of type 'boolean' ({name})")


def media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


async def json_body(request: Request, *, empty: Any = None) -> Any:
    """The JSON body; an empty body gives `empty` (merge and delete-by-query send none)."""
    raw = await request.body()
    if not raw.strip():
        return empty
    kind = media_type(request)
    if not kind:
        raise ApiFailure(Codes.CONTENT_TYPE, "Invalid Content Type: the body has none; send application/json")
    if kind not in ("application/json", "text/json"):
        raise ApiFailure(Codes.CONTENT_TYPE, f"Invalid Content Type '{kind[:60]}'; send application/json")
    try:
        return json.loads(raw, parse_int=_bounded_int)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise ApiFailure(Codes.INVALID_JSON, "Invalid JSON") from None


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_JSON_DIGITS:
        raise ApiFailure(Codes.INVALID_VALUE, f"Invalid value: a number in the body has {len(text.lstrip('-'))} "
                                              f"digits; at most {MAX_JSON_DIGITS}")
    return int(text)


def since_datetime(text: str | None) -> datetime:
    """`sinceDatetime` in any of the forms clients send (MARKETO-API §6.2); no offset means UTC."""
    if not text or not text.strip():
        raise ApiFailure(Codes.MISSING_VALUE, "Missing value for the required parameter 'sinceDatetime'")
    value = text.strip()
    value = re.sub(r" (\d\d:?\d\d)$", r"+\1", value)  # an unencoded '+' arrives as a space
    value = value.replace("Z", "+00:00").replace("z", "+00:00")
    value = re.sub(r"([+-]\d\d)(\d\d)$", r"\1:\2", value)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ApiFailure(Codes.INVALID_VALUE, f"Invalid value '{text[:60]}'. Required of type 'datetime' (sinceDatetime)") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except (OverflowError, ValueError):
        raise ApiFailure(Codes.INVALID_VALUE, f"Invalid value '{text[:60]}' (sinceDatetime)") from None


def validated(model: type[M], body: Any) -> M:
    """Validate a JSON body; the first problem becomes a 1001/1002 naming the member."""
    if not isinstance(body, dict):
        raise ApiFailure(Codes.INVALID_VALUE, "Invalid value: the body must be a JSON object")
    try:
        return model.model_validate(body)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "body"
        if first.get("type") == "extra_forbidden":
            raise ApiFailure(Codes.FIELD_NOT_FOUND, f"Field '{where}' not found (parameters: "
                                                    f"{', '.join(model.model_fields)})") from None
        if first.get("type") == "missing":
            raise ApiFailure(Codes.MISSING_VALUE, f"Missing value for the required parameter '{where}'") from None
        raise ApiFailure(Codes.INVALID_VALUE, f"Invalid value for '{where}': {first.get('msg', 'invalid')}") from None


async def form_params(request: Request) -> dict[str, list[str]]:
    """A url-encoded form body as lists per name (repeated names kept in order)."""
    raw = await request.body()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiFailure(Codes.INVALID_VALUE, "Invalid value: the form body is not UTF-8") from None
    params: dict[str, list[str]] = {}
    for name, value in parse_qsl(text, keep_blank_values=True):
        params.setdefault(name, []).append(value)
    return params


def salesforce_id(field: str, value: Any) -> Any:
    """A lookup value of a Salesforce Id field (`sfdcId`, `sfdcLeadId`, ...) in the 18-character form
    the store keeps, when given in the 15-character one or as 18 characters in another case; any
    other value as it is."""
    if not field.startswith("sfdc") or type(value) is not str:
        return value
    if len(value) == 15 and is_well_formed(value):
        return to_18(value)
    return with_case(value)


def as_named_in_body(name: str) -> str:
    """A Python name (`lead_id`) as a request names it (`leadId`)."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)
