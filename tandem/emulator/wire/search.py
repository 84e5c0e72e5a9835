"""Text search over REST: `search?q=<SOSL>` and `parameterizedSearch` (GET with query parameters, or POST
with a JSON body), both answering `{"searchRecords": [...]}`."""

from __future__ import annotations

from tandem.emulator.model.errors import ApiError
from tandem.emulator.model.search import run_search
from tandem.emulator.soql.sosl import MAX_LIMIT, SCOPES, ObjectSpec, Search, SoslError, parse_sosl, parse_terms

from tandem.emulator.wire.calls import ApiCall, require_json_object
from tandem.emulator.wire.replies import Reply
from tandem.emulator.wire.routing import ApiRequest, RouteTable

routes = RouteTable()


def _malformed(message: str) -> ApiError:
    return ApiError(message, error_code="MALFORMED_SEARCH")


def _answer(call: ApiCall, search: Search) -> Reply:
    return Reply(200, {"searchRecords": run_search(call.org, call.ctx, search, call.version)})


@routes.route("GET", "search")
def sosl_search(call: ApiCall, request: ApiRequest) -> Reply:
    text = request.query.get("q", "")
    if not text.strip():
        raise _malformed("No search term found. The search term must be enclosed in braces.")
    try:
        search = parse_sosl(text)
    except SoslError as exc:
        raise _malformed(exc.message) from None
    return _answer(call, search)


def _number(name: str, raw: object, default: int) -> int:
    if raw in (None, ""):
        return default
    try:
        number = int(raw)
    except (TypeError, ValueError):
        raise ApiError(f"{name}: not a number: {raw}", error_code="INVALID_SEARCH") from None
    if number < 1:
        raise ApiError(f"{name}: must be positive, got {number}", error_code="INVALID_SEARCH")
    return number


def _names(raw: object) -> tuple[str, ...]:
    if isinstance(raw, list):
        return tuple(str(name).strip() for name in raw if str(name).strip())
    return tuple(part.strip() for part in str(raw or "").split(",") if part.strip())


def _parameterized(body: dict) -> Search:
    """One Search from parameterizedSearch's parameters (GET) or JSON body (POST)."""
    q = body.get("q")
    if not isinstance(q, str) or not q.strip():
        raise ApiError("q: a search string is required", error_code="INVALID_SEARCH")
    scope = str(body.get("in") or "ALL").upper()
    if scope not in SCOPES:
        raise ApiError(f"in: must be one of {', '.join(SCOPES)}, got {body.get('in')}", error_code="INVALID_SEARCH")
    default_fields = _names(body.get("fields"))
    default_limit = _number("defaultLimit", body.get("defaultLimit"), MAX_LIMIT)
    specs = []
    for i, entry in enumerate(body.get("sobjects") or []):
        if not isinstance(entry, dict) or not entry.get("name"):
            raise ApiError(f"sobjects[{i}].name: an object name is required", error_code="INVALID_SEARCH")
        specs.append(ObjectSpec(str(entry["name"]), _names(entry.get("fields")) or default_fields,
                                limit=_number(f"sobjects[{i}].limit", entry.get("limit"), default_limit)))
    try:
        terms = parse_terms(q)
    except SoslError as exc:
        raise ApiError(exc.message, error_code="INVALID_SEARCH") from None
    return Search(terms, scope, tuple(specs), _number("overallLimit", body.get("overallLimit"), MAX_LIMIT),
                  default_fields)


@routes.route("GET", "parameterizedSearch")
def parameterized_get(call: ApiCall, request: ApiRequest) -> Reply:
    params = dict(request.query)
    names = [n.strip() for n in params.get("sobject", "").split(",") if n.strip()]
    params["sobjects"] = [{"name": name, "fields": params.get(f"{name}.fields"), "limit": params.get(f"{name}.limit")}
                          for name in names]
    return _answer(call, _parameterized(params))


@routes.route("POST", "parameterizedSearch")
def parameterized_post(call: ApiCall, request: ApiRequest) -> Reply:
    return _answer(call, _parameterized(require_json_object(request.json())))
