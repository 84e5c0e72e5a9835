"""SOQL execution: pick candidates from an index, filter, sort, page through server-side cursors.

Queries bounded on Id or SystemModstamp read only the matching slice of the object's indexes;
`rows_examined` counts the candidates a query looked at so tests can prove it.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tandem.emulator.model.errors import ApiError, InvalidField, InvalidType, MalformedQuery
from tandem.emulator.model.fields import FieldDef
from tandem.emulator.model.ids import make_id
from tandem.emulator.model.query_budget import CHECK_EVERY, QueryBudget
from tandem.emulator.model.query_fields import PathResolver, ResolvedPath, not_filterable, not_sortable
from tandem.emulator.model.reading import attributes
from tandem.emulator.model.records import to_ms
from tandem.emulator.model.schema import ObjectSchema
from tandem.emulator.model.security import Profile
from tandem.emulator.model.state import OrgState
from tandem.emulator.model.values import render_datetime, render_native
from tandem.emulator.soql import (
    CountAll,
    CountField,
    FieldsMacro,
    OrderItem,
    Query,
    SoqlError,
    SoqlFieldError,
    SoqlTypeError,
    compile_where,
    index_bounds,
    parse_soql,
    sort_key,
    where_fields,
)

MAX_PAGE = 2000
MIN_PAGE = 200
MAX_CURSORS = 10_000
MAX_CURSOR_ROWS = 20_000_000
"""Open cursors hold their result Ids; past either bound the least recently used are dropped."""


@dataclass
class QueryPage:
    total_size: int
    done: bool
    records: list[dict]
    next_locator: str | None = None


class QueryRows:
    """A query's rows for Bulk results, iterated once: dicts of output names (`Id`, `Account.Name`) to
    native values; `columns` names them in SELECT order (`FIELDS()` expanded) even when no row comes."""

    def __init__(self, columns: list[str], rows: Iterator[dict]) -> None:
        self.columns, self._rows = columns, rows

    def __iter__(self) -> Iterator[dict]:
        return self._rows


@dataclass
class QueryPlan:
    """A checked query: its object, output columns and the matching record Ids in result order."""

    obj: ObjectSchema
    columns: list[ResolvedPath]
    resolver: PathResolver
    ids: list[str]
    count_only: bool = False
    aggregate: list[tuple[str, int]] | None = None
    renderer: object = None


@dataclass
class Cursor:
    """A query's results kept for `query_more`; only the user who ran the query may page them."""

    plan: QueryPlan
    page_size: int
    api_version: str
    owner: str


def _converter(field_type: str):
    """How a native value of this type becomes JSON (None: it already is)."""
    if field_type == "datetime":
        return render_datetime
    if field_type in ("date", "time"):
        return render_native
    return None


def _picklist_rank(f: FieldDef) -> Callable[[str], tuple[int, str]]:
    """A picklist sorts by the order of its values in setup, values it does not list after them."""
    places = {entry.value.lower(): place for place, entry in enumerate(f.picklist)}
    return lambda text: (places.get(text, len(places)), text)


def _is_field(item: OrderItem, name: str) -> bool:
    return len(item.field.path) == 1 and item.field.path[0].lower() == name.lower()


def _orders_by_id(order: tuple[OrderItem, ...]) -> bool:
    """ORDER BY Id alone: Ids sort case-sensitively, the order `Id > '…'` keyset paging relies on."""
    return len(order) == 1 and _is_field(order[0], "Id")


def invalid_type(name: str) -> InvalidType:
    return InvalidType(f"sObject type '{name}' is not supported. If you are attempting to use a custom object, be "
                       "sure to append the '__c' after the entity name. Please reference your WSDL or the describe "
                       "call for the appropriate names.")


class QueryEngine:
    """Plans and runs the org's queries and keeps their cursors."""

    def __init__(self, state: OrgState, budget: QueryBudget | None = None) -> None:
        self.state = state
        self.budget = budget or QueryBudget()
        self.rows_examined = 0
        self.last_rows_examined = 0
        self._cursors: OrderedDict[str, Cursor] = OrderedDict()
        self._cursor_rows = 0
        self._cursor_numbers = itertools.count(1)

    def plan(self, profile: Profile, soql: str, include_deleted: bool, now: datetime | None = None) -> QueryPlan:
        try:
            query = parse_soql(soql)
        except SoqlError as exc:
            raise MalformedQuery(exc.message) from None
        _check_bounds(query)
        obj = self.state.schema.object(query.object_name)
        if obj is None:
            raise invalid_type(query.object_name)
        resolver = PathResolver(self.state, obj, profile, soql)
        columns, count_only, counted = self._columns(query, resolver)
        for path in query.referenced_fields():
            resolver.resolve(path)
        for path in sorted(where_fields(query.where)) if query.where is not None else ():
            if not resolver.resolve(path).field.filterable:
                raise not_filterable(soql, ".".join(path))
        for item in query.order_by:
            if not resolver.resolve(item.field.path).field.sortable:
                raise not_sortable(soql, ".".join(item.field.path))
        try:
            predicate = compile_where(query.where, resolver.field_type, now)
        except SoqlFieldError as exc:
            raise InvalidField(exc.message) from None
        except SoqlTypeError as exc:
            raise ApiError(exc.message, error_code=exc.error_code) from None
        matched = self._matching_ids(query, obj, resolver, predicate, include_deleted, now)
        aggregate = None
        if counted:
            store = self.state.stores[obj.name]
            aggregate = []
            for name, path in counted:
                getter = resolver.accessor(path.path)
                aggregate.append((name, sum(1 for rid in matched if getter(store.records[rid]) not in (None, ""))))
        return QueryPlan(obj, columns, resolver, matched, count_only, aggregate)

    @staticmethod
    def _columns(query: Query, resolver: PathResolver
                 ) -> tuple[list[ResolvedPath], bool, list[tuple[str, ResolvedPath]]]:
        """The record columns, whether the query is `COUNT()`, and its `COUNT(field)` columns by name
        (an alias, else `expr0`, `expr1`… in SELECT order, as Salesforce names them)."""
        columns: list[ResolvedPath] = []
        count_only = False
        counted: list[tuple[str, ResolvedPath]] = []
        unnamed = 0
        seen: set[str] = set()
        named: set[str] = set()  # the fields the SELECT names one by one (FIELDS() may overlap them)
        for item in query.select:
            if isinstance(item, CountAll):
                count_only = True
                continue
            if isinstance(item, CountField):
                counted.append((item.alias or f"expr{unnamed}", resolver.resolve(item.field.path)))
                unnamed += item.alias is None
                continue
            paths = resolver.visible_fields(item.kind) if isinstance(item, FieldsMacro) else [item.path]
            for path in paths:
                resolved = resolver.resolve(path)
                if not isinstance(item, FieldsMacro):
                    if resolved.output_name in named:
                        raise MalformedQuery(f"duplicate field selected: {resolved.output_name}")
                    named.add(resolved.output_name)
                if resolved.output_name not in seen:
                    seen.add(resolved.output_name)
                    columns.append(resolved)
        if counted and columns:  # no GROUP BY here: a field beside an aggregate is neither
            raise MalformedQuery(f"Field must be grouped or aggregated: {columns[0].output_name}")
        if counted and query.order_by:  # nor is one to order the one aggregate row by
            ordered = resolver.resolve(query.order_by[0].field.path).output_name
            raise MalformedQuery(f"Ordered field must be grouped or aggregated: {ordered}")
        return columns, count_only, counted

    def _candidates(self, query: Query, obj: ObjectSchema, now: datetime | None) -> tuple[object, bool]:
        """Candidate Ids from the narrowest index the WHERE clause allows, and whether they already
        come in the query's order (so a LIMIT can stop the scan early)."""
        store = self.state.stores[obj.name]
        order = query.order_by
        by_stamp = bool(order) and _is_field(order[0], "SystemModstamp")
        by_id = _orders_by_id(order)
        descending = bool(order) and order[0].descending
        id_bounds = index_bounds(query.where, "Id", now)
        if id_bounds is not None and id_bounds.exact is not None:
            return [rid for rid in dict.fromkeys(id_bounds.exact) if rid in store.records], not order
        if id_bounds is not None and (isinstance(id_bounds.low, str) or isinstance(id_bounds.high, str)):
            low = id_bounds.low if isinstance(id_bounds.low, str) else None
            high = id_bounds.high if isinstance(id_bounds.high, str) else None
            return store.id_range(low, high), not order or (by_id and not descending)
        low_ms, high_ms = self._stamp_window(query, now)
        if low_ms is not None or high_ms is not None:
            return (store.stamp_range(low_ms, high_ms, descending=by_stamp and descending),
                    by_stamp or not order)
        if by_id:
            return (reversed(store.sorted_ids) if descending else iter(store.sorted_ids)), True
        if by_stamp or not order:
            return store.stamp_range(None, None, descending=by_stamp and descending), True
        return list(store.records), False

    @staticmethod
    def _stamp_window(query: Query, now: datetime | None) -> tuple[int | None, int | None]:
        """Millisecond bounds on SystemModstamp implied by the WHERE clause (a superset of the matches).

        A record's SystemModstamp is never earlier than its CreatedDate or LastModifiedDate, so a
        lower bound on either is a lower bound on the stamp too.
        """
        low = high = None
        for field_name in ("SystemModstamp", "LastModifiedDate", "CreatedDate"):
            bounds = index_bounds(query.where, field_name, now)
            if bounds is None:
                continue
            if isinstance(bounds.low, datetime):
                low = max(low, to_ms(bounds.low)) if low is not None else to_ms(bounds.low)
            if field_name == "SystemModstamp" and isinstance(bounds.high, datetime):
                high = to_ms(bounds.high)
        return low, high

    def _matching_ids(self, query: Query, obj: ObjectSchema, resolver: PathResolver, predicate,
                      include_deleted: bool, now: datetime | None) -> list[str]:
        records = self.state.stores[obj.name].records
        accessors: dict[tuple[str, ...], object] = {}
        for path in query.referenced_fields():
            accessors[path] = resolver.accessor(path)
        if query.where is None and query.is_count and query.limit is None and not query.offset:
            self.last_rows_examined = 0
            if include_deleted:
                return list(records)
            return [rid for rid, record in records.items() if not record.get("IsDeleted")]
        candidates, ordered = self._candidates(query, obj, now)
        wanted = None
        if ordered and query.limit is not None:
            wanted = query.limit + (query.offset or 0)
        # candidates in SystemModstamp order come in no particular order within one stamp: when later
        # keys sort those, the scan reads the whole last stamp before it stops
        whole_last_stamp = len(query.order_by) > 1 and _is_field(query.order_by[0], "SystemModstamp")
        last_stamp = None
        matched: list[str] = []
        examined = 0
        current: dict = {}

        def get(path: tuple[str, ...]) -> object:
            return accessors[path](current)

        deadline = self.budget.deadline()
        for record_id in candidates:
            examined += 1
            if not examined % CHECK_EVERY:
                deadline.check()
            current = records.get(record_id)
            if current is None or (not include_deleted and current.get("IsDeleted")):
                continue
            if last_stamp is not None and current.get("SystemModstamp") != last_stamp:
                break
            if predicate(get):
                matched.append(record_id)
                if wanted is not None and len(matched) >= wanted and last_stamp is None:
                    if not whole_last_stamp:
                        break
                    last_stamp = current.get("SystemModstamp")
        self.last_rows_examined = examined
        self.rows_examined += examined
        if _orders_by_id(query.order_by):
            if not ordered:
                matched.sort(reverse=query.order_by[0].descending)
        elif query.order_by and (not ordered or len(query.order_by) > 1):
            fields = {item.field.path: resolver.resolve(item.field.path).field for item in query.order_by}
            key = sort_key(query.order_by,
                           {path: _picklist_rank(f) for path, f in fields.items() if f.type == "picklist"},
                           ids={path for path, f in fields.items() if f.type in ("id", "reference")})

            def record_key(record_id: str) -> tuple:
                nonlocal current
                current = records[record_id]
                return key(get)

            matched.sort(key=record_key)
        start = query.offset or 0
        stop = start + query.limit if query.limit is not None else None
        return matched[start:stop] if start or stop is not None else matched

    # -- pages ---------------------------------------------------------------------------------

    def first_page(self, plan: QueryPlan, batch_size: int, api_version: str, owner: str) -> QueryPage:
        if plan.count_only:
            return QueryPage(len(plan.ids), True, [])
        if plan.aggregate is not None:
            row = {"attributes": {"type": "AggregateResult"}, **dict(plan.aggregate)}
            return QueryPage(1, True, [row])
        size = min(max(int(batch_size or MAX_PAGE), MIN_PAGE), MAX_PAGE)
        cursor = Cursor(plan, size, api_version, owner)
        return self._page(cursor, None, 0, api_version)

    def next_page(self, locator: str, api_version: str, owner: str) -> QueryPage:
        cursor_id, _, offset_text = str(locator).rpartition("-")
        cursor = self._cursors.get(cursor_id)
        if cursor is None or not offset_text.isdigit() or cursor.owner != owner:
            raise ApiError("invalid query locator", error_code="INVALID_QUERY_LOCATOR")
        self._cursors.move_to_end(cursor_id)
        return self._page(cursor, cursor_id, int(offset_text), api_version or cursor.api_version)

    def drop_cursor(self, locator: str) -> None:
        cursor_id = str(locator).rpartition("-")[0]
        dropped = self._cursors.pop(cursor_id, None)
        if dropped is not None:
            self._cursor_rows -= len(dropped.plan.ids)

    def _page(self, cursor: Cursor, cursor_id: str | None, offset: int, api_version: str) -> QueryPage:
        plan = cursor.plan
        chunk = plan.ids[offset:offset + cursor.page_size]
        records = [self.render(plan, rid, api_version) for rid in chunk]
        end = offset + len(chunk)
        if end >= len(plan.ids):
            # the cursor stays: a client whose last page was lost in transit asks for it again
            return QueryPage(len(plan.ids), True, records)
        if cursor_id is None:
            cursor_id = make_id("01g", next(self._cursor_numbers))
            self._cursors[cursor_id] = cursor
            self._cursor_rows += len(plan.ids)
            while len(self._cursors) > MAX_CURSORS or (self._cursor_rows > MAX_CURSOR_ROWS and
                                                        len(self._cursors) > 1):
                _, dropped = self._cursors.popitem(last=False)
                self._cursor_rows -= len(dropped.plan.ids)
        return QueryPage(len(plan.ids), False, records, f"{cursor_id}-{end}")

    def render(self, plan: QueryPlan, record_id: str, api_version: str) -> dict:
        if plan.renderer is None:
            plan.renderer = self._renderer(plan)
        record = self.state.stores[plan.obj.name].records.get(record_id) or {"Id": record_id}
        return plan.renderer(record, api_version)

    def _renderer(self, plan: QueryPlan):
        """A function from a stored record to its JSON-ready row, built once per query."""
        object_name = plan.obj.name
        # (key, getter, converter, None) for a field of the record, (relationship, lookup field, None, its
        # fields) for a parent at its first field: in SELECT order, as Salesforce answers
        slots: list[tuple[str, Any, Any, list | None]] = []
        parents: dict[str, list[tuple[str, Any, Any]]] = {}
        for column in plan.columns:
            getter = plan.resolver.accessor(column.path)
            convert = _converter(column.field.type)
            if column.via is None:
                slots.append((column.field.name, getter, convert, None))
                continue
            nested = parents.get(column.via.relationship_name)
            if nested is None:
                nested = parents[column.via.relationship_name] = []
                slots.append((column.via.relationship_name, column.via.name, None, nested))
            nested.append((column.field.name, getter, convert))
        lookup = self.state.stored_parent

        def render_row(record: dict, api_version: str) -> dict:
            record_id = record["Id"]
            body: dict = {"attributes": {"type": object_name,
                                         "url": f"/services/data/v{api_version}/sobjects/{object_name}/{record_id}"}}
            for key, read, convert, nested in slots:
                if nested is None:
                    value = read(record)
                    body[key] = convert(value) if convert is not None and value is not None else value
                    continue
                parent_id = record.get(read)
                found = lookup(parent_id) if parent_id else None
                if found is None:
                    body[key] = None
                    continue
                part = {"attributes": attributes(api_version, found[0].name, found[1]["Id"])}
                for name, getter, to_json in nested:
                    value = getter(record)
                    part[name] = to_json(value) if to_json is not None and value is not None else value
                body[key] = part
            return body

        return render_row

    def raw_rows(self, plan: QueryPlan) -> Iterator[dict]:
        """Rows for Bulk query results: output names (`Account.Name`) to native values, in SELECT order."""
        records = self.state.stores[plan.obj.name].records
        names = [column.output_name for column in plan.columns]
        read = plan.resolver.row_reader([column.path for column in plan.columns])
        for record_id in plan.ids:
            record = records.get(record_id)
            if record is not None:
                yield dict(zip(names, read(record)))


FIELDS_LIMIT = 200
"""The largest LIMIT a query selecting `FIELDS(ALL)` or `FIELDS(CUSTOM)` may have (and it must have one)."""
MAX_OFFSET = 2000


def _check_bounds(query: Query) -> None:
    """What Salesforce refuses before it reads a row: an unbounded `FIELDS(ALL|CUSTOM)`, an OFFSET past 2,000."""
    unbounded = [item.kind for item in query.select if isinstance(item, FieldsMacro) and item.kind != "STANDARD"]
    if unbounded and (query.limit is None or query.limit > FIELDS_LIMIT):
        raise MalformedQuery(f"The SOQL FIELDS function must have a LIMIT of at most {FIELDS_LIMIT}")
    if query.offset is not None and query.offset > MAX_OFFSET:
        raise ApiError(f"Maximum SOQL offset allowed is {MAX_OFFSET}", error_code="NUMBER_OUTSIDE_VALID_RANGE")
