"""Running a text search (SOSL, parameterizedSearch) over the org's records, as one user sees them.

Each returned object runs two SOQL queries through the org: one reading the searched text fields of
the rows its WHERE allows, one rendering the matches with the requested fields and order. Only
fields the user can see are searched or returned, so field-level security holds as in queries.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tandem.emulator.model.errors import ApiError, InvalidType
from tandem.emulator.soql.sosl import ObjectSpec, Search

_NAME_FIELDS = {"Name", "FirstName", "LastName", "MiddleName", "Suffix", "Company"}
_SEARCHED_TYPES = {"string", "textarea", "email", "phone", "url", "combobox"}


def _searched(field: dict, scope: str) -> bool:
    kind = field["type"]
    if scope == "EMAIL":
        return kind == "email"
    if scope == "PHONE":
        return kind == "phone"
    if scope == "NAME":
        return field["nameField"] or field["name"] in _NAME_FIELDS
    return kind in _SEARCHED_TYPES and not field.get("encrypted")


def _quote(record_id: str) -> str:
    return "'" + record_id.replace("\\", "\\\\").replace("'", "\\'") + "'"


def search_objects(org: Any, ctx: Any, search: Search) -> list[ObjectSpec]:
    """The RETURNING list, or every searchable object when the search names none."""
    if search.returning:
        for spec in search.returning:
            if org.schema.object(spec.name) is None:
                raise InvalidType(f"sObject type '{spec.name}' is not supported.")
        return list(search.returning)
    return [ObjectSpec(entry["name"], search.default_fields) for entry in org.describe_global(ctx)["sobjects"] if entry["searchable"]]


@contextmanager
def _unlocated() -> Iterator[None]:
    """An error of a query the search wrote keeps its reason but not the echo of that query (with a
    caret under a column of it), which the caller never wrote."""
    try:
        yield
    except ApiError as exc:
        for each in exc.each():
            if each.message.startswith("\n"):
                each.message = each.message.rsplit("\n", 1)[-1]
        raise


def run_search(org: Any, ctx: Any, search: Search, api_version: str) -> list[dict]:
    """Matching rows of every returned object, in RETURNING order, at most `search.limit` in all."""
    found: list[dict] = []
    for spec in search_objects(org, ctx, search):
        room = search.limit - len(found)
        if room <= 0:
            break
        found.extend(_search_one(org, ctx, search, spec, min(room, spec.limit or room), api_version))
    return found


def _search_one(org: Any, ctx: Any, search: Search, spec: ObjectSpec, limit: int, api_version: str) -> list[dict]:
    described = org.describe(ctx, spec.name)
    texts = [f["name"] for f in described["fields"] if _searched(f, search.scope)]
    if not texts:
        return []
    where = f" WHERE {spec.where}" if spec.where else ""
    with _unlocated():
        matched = [
            row["Id"]
            for row in org.query_all_rows(ctx, f"SELECT Id, {', '.join(texts)} FROM {spec.name}{where}")
            if search.terms.matches([str(row[name]) for name in texts if row.get(name) not in (None, "")])
        ]
    if not matched:
        return []
    columns = ", ".join(spec.fields or ("Id",))
    order = f" ORDER BY {spec.order_by}" if spec.order_by else ""
    rows: list[dict] = []
    for start in range(0, len(matched), 500):
        chunk = ", ".join(_quote(i) for i in matched[start:start + 500])
        soql = f"SELECT {columns} FROM {spec.name} WHERE Id IN ({chunk}){order}"
        with _unlocated():
            rows.extend(org.query(ctx, soql, api_version=api_version).records)
    if order and len(matched) > 500:
        raise ApiError("ORDER BY in a search is limited to 500 matching rows per object",
                       error_code="MALFORMED_SEARCH")
    return rows[:limit]
