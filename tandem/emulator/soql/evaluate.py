"""WHERE trees compiled once into nested closures, and ORDER BY into a sort key.

Compiling checks every field against the schema and every literal against its field's type, so
a query that would fail in Salesforce fails before any row is read; the resulting predicate is a
plain function of a field getter, cheap enough to run over thousands of rows per page.

Salesforce semantics kept here: text compares case-insensitively and an empty string is null;
`= null`/`!= null` test for null; `!=` and NOT IN are true for a null field; every other
comparison with a null field is false; Ids compare on their first 15 characters.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Callable, Collection, Mapping

from tandem.emulator.soql import dates
from tandem.emulator.soql.errors import SoqlFieldError, SoqlTypeError
from tandem.emulator.soql.tree import (
    And,
    BooleanValue,
    Comparison,
    DateLiteral,
    DateTimeValue,
    DateValue,
    Expr,
    FieldRef,
    Includes,
    InList,
    Like,
    Not,
    NullValue,
    NumberValue,
    Or,
    OrderItem,
    StringValue,
    Value,
)
from tandem.salesforce.ids import is_well_formed

Getter = Callable[[tuple[str, ...]], object]
Predicate = Callable[[Getter], bool]
FieldTypes = Callable[[tuple[str, ...]], "str | None"]

TEXT_TYPES = {"string", "email", "picklist", "textarea", "phone", "url", "combobox", "encryptedstring"}
ID_TYPES = {"id", "reference"}
NUMBER_TYPES = {"double", "currency", "int", "integer", "long", "percent"}

_OPERATOR = "INVALID_QUERY_FILTER_OPERATOR"
_OPS = {"=": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


def compile_where(where: Expr | None, field_types: FieldTypes, now: dt.datetime | None = None) -> Predicate:
    """A predicate over a record getter; raises SoqlFieldError / SoqlTypeError for a bad condition.

    `now` (aware) anchors relative date literals such as TODAY; it defaults to the current time.
    """
    if where is None:
        return lambda get: True
    return _Compiler(field_types, now or dt.datetime.now(dt.timezone.utc)).compile(where)


class _Compiler:
    def __init__(self, field_types: FieldTypes, now: dt.datetime) -> None:
        self.field_types = field_types
        self.now = now

    def field_type(self, field: FieldRef) -> str:
        found = self.field_types(field.path)
        if found is None:
            raise SoqlFieldError(field.path)
        return found.lower()

    def compile(self, expr: Expr) -> Predicate:
        if isinstance(expr, And):
            return _all([self.compile(item) for item in expr.items])
        if isinstance(expr, Or):
            return _any([self.compile(item) for item in expr.items])
        if isinstance(expr, Not):
            inner = self.compile(expr.item)
            return lambda get: not inner(get)
        if isinstance(expr, Comparison):
            return self.comparison(expr)
        if isinstance(expr, Like):
            return self.like(expr)
        if isinstance(expr, InList):
            return self.in_list(expr)
        if isinstance(expr, Includes):
            return self.includes(expr)
        raise TypeError(f"not a condition: {expr!r}")

    def comparison(self, expr: Comparison) -> Predicate:
        path, op, literal = expr.field.path, expr.op, expr.value
        kind = self.field_type(expr.field)
        if isinstance(literal, NullValue):
            return _null_test(path, op, kind)
        if isinstance(literal, DateLiteral):
            return self.date_range(expr, kind)
        if kind == "boolean" and op not in ("=", "!="):
            raise SoqlTypeError(f"invalid operator on boolean field: {expr.field.name} {op}", _OPERATOR)
        normalise = _normaliser(kind)
        target = self.literal(expr.field, kind, literal)
        if kind in TEXT_TYPES | ID_TYPES and target is None:
            return _null_test(path, op, kind)
        compare = _OPS[op]
        null_result = op == "!="

        def predicate(get: Getter) -> bool:
            value = normalise(get(path))
            if value is None:
                return null_result
            return compare(value, target)

        return predicate

    def literal(self, field: FieldRef, kind: str, literal: Value) -> object:
        """The literal as a native value comparable with the field's normalised values."""
        if kind in TEXT_TYPES | ID_TYPES | {"multipicklist"}:
            if not isinstance(literal, StringValue):
                raise SoqlTypeError(
                    f"value of filter criterion for field '{field.name}' must be of type string "
                    "and should be enclosed in quotes"
                )
            if kind in ID_TYPES:
                if literal.value and not is_well_formed(literal.value):
                    raise SoqlTypeError(f"invalid ID field: {literal.value}", _OPERATOR)
                return literal.value[:15] or None
            return literal.value.lower() or None
        expected = {"boolean": BooleanValue, "date": DateValue, "datetime": DateTimeValue}.get(kind)
        if kind in NUMBER_TYPES:
            expected = NumberValue
        if expected is None:
            raise SoqlTypeError(f"field '{field.name}' of type {kind} can not be filtered in a query call")
        if not isinstance(literal, expected):
            wanted = {NumberValue: "number", BooleanValue: "boolean", DateValue: "date", DateTimeValue: "dateTime"}
            raise SoqlTypeError(
                f"value of filter criterion for field '{field.name}' must be of type {wanted[expected]} "
                "and should not be enclosed in quotes"
            )
        return literal.value

    def date_range(self, expr: Comparison, kind: str) -> Predicate:
        literal = expr.value
        assert isinstance(literal, DateLiteral)
        if kind == "date":
            low, last = dates.date_range(literal.name, literal.n, self.now.date())
            high = last + dt.timedelta(days=1)
        elif kind == "datetime":
            low, high = dates.datetime_range(literal.name, literal.n, self.now)
        else:
            raise SoqlTypeError(f"date literal {literal.name} can only filter a date or dateTime field")
        path, op = expr.field.path, expr.op
        inside: Callable[[object], bool] = {
            "=": lambda v: low <= v < high,
            "!=": lambda v: not (low <= v < high),
            "<": lambda v: v < low,
            "<=": lambda v: v < high,
            ">": lambda v: v >= high,
            ">=": lambda v: v >= low,
        }[op]
        null_result = op == "!="

        def predicate(get: Getter) -> bool:
            value = get(path)
            return null_result if value is None else inside(value)

        return predicate

    def like(self, expr: Like) -> Predicate:
        kind = self.field_type(expr.field)
        if kind not in TEXT_TYPES | ID_TYPES:
            raise SoqlTypeError(f"invalid operator on field '{expr.field.name}': LIKE needs a text field", _OPERATOR)
        matches = expr.matcher.matches
        path = expr.field.path

        def predicate(get: Getter) -> bool:
            value = get(path)
            return isinstance(value, str) and matches(value)

        return predicate

    def in_list(self, expr: InList) -> Predicate:
        kind = self.field_type(expr.field)
        if kind == "multipicklist":
            raise SoqlTypeError(f"use INCLUDES or EXCLUDES on multi-select picklist '{expr.field.name}'", _OPERATOR)
        normalise = _normaliser(kind)
        wanted: set = set()
        with_null = False
        for literal in expr.values:
            if isinstance(literal, DateLiteral):
                raise SoqlTypeError("date literals are not allowed in an IN list")
            target = None if isinstance(literal, NullValue) else self.literal(expr.field, kind, literal)
            if target is None:
                with_null = True
            else:
                wanted.add(target)
        path, negated = expr.field.path, expr.negated
        frozen = frozenset(wanted)

        def predicate(get: Getter) -> bool:
            value = normalise(get(path))
            found = with_null if value is None else value in frozen
            return found != negated

        return predicate

    def includes(self, expr: Includes) -> Predicate:
        kind = self.field_type(expr.field)
        if kind != "multipicklist":
            raise SoqlTypeError(f"INCLUDES and EXCLUDES need a multi-select picklist, not '{expr.field.name}'", _OPERATOR)
        groups = [frozenset(part.strip().lower() for part in value.split(";") if part.strip()) for value in expr.values]
        path, excludes = expr.field.path, expr.excludes

        def predicate(get: Getter) -> bool:
            value = get(path)
            chosen = {part.strip().lower() for part in value.split(";")} if value else set()
            hit = any(group <= chosen for group in groups)
            return hit != excludes

        return predicate


def _all(preds: list[Predicate]) -> Predicate:
    if len(preds) == 2:
        first, second = preds
        return lambda get: first(get) and second(get)
    return lambda get: all(pred(get) for pred in preds)


def _any(preds: list[Predicate]) -> Predicate:
    if len(preds) == 2:
        first, second = preds
        return lambda get: first(get) or second(get)
    return lambda get: any(pred(get) for pred in preds)


def _lower_text(value: object) -> object:
    return value.lower() or None if isinstance(value, str) else value


def _id_prefix(value: object) -> object:
    return value[:15] or None if isinstance(value, str) else value


def _as_bool(value: object) -> object:
    return bool(value)


def _identity(value: object) -> object:
    return value


def _normaliser(kind: str) -> Callable[[object], object]:
    """How a stored value is put into the form its literals were put into."""
    if kind in TEXT_TYPES or kind == "multipicklist":
        return _lower_text
    if kind in ID_TYPES:
        return _id_prefix
    if kind == "boolean":
        return _as_bool
    return _identity


def _null_test(path: tuple[str, ...], op: str, kind: str) -> Predicate:
    """`= null` / `!= null`; on a checkbox Salesforce reads null as false (`= null` ≡ `= false`)."""
    if kind == "boolean":
        if op == "=":
            return lambda get: not get(path)
        if op == "!=":
            return lambda get: bool(get(path))
        return lambda get: False
    normalise = _normaliser(kind)
    if op == "=":
        return lambda get: normalise(get(path)) is None
    if op == "!=":
        return lambda get: normalise(get(path)) is not None
    return lambda get: False


class _Descending:
    """Wraps a value so it sorts in reverse; tuples of keys stay comparable item by item."""

    __slots__ = ("value",)

    def __init__(self, value: object) -> None:
        self.value = value

    def __lt__(self, other: _Descending) -> bool:
        return other.value < self.value  # type: ignore[operator]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Descending) and self.value == other.value

    def __hash__(self) -> int:
        return hash(self.value)


def sort_key(order_by: tuple[OrderItem, ...] | list[OrderItem],
             ranks: Mapping[tuple[str, ...], Callable[[str], object]] | None = None,
             ids: Collection[tuple[str, ...]] = ()) -> Callable[[Getter], tuple]:
    """A key function for `sorted`: ASC/DESC, NULLS FIRST/LAST, text case-insensitive; `ranks` maps a
    path to what its lower-cased text sorts by (a picklist's values by their place in the picklist);
    the paths in `ids` hold record Ids, which sort case-sensitively, as `ORDER BY Id` and `Id >` compare."""
    plan = [
        (item.field.path, item.descending, 0 if item.nulls_first else 2, (ranks or {}).get(item.field.path),
         item.field.path in ids)
        for item in order_by
    ]

    def key(get: Getter) -> tuple:
        parts = []
        for path, descending, null_rank, rank, is_id in plan:
            value = get(path)
            if isinstance(value, str):
                value = (value if is_id else value.lower()) or None
                if value is not None and rank is not None:
                    value = rank(value)
            if value is None:
                parts.append((null_rank,))
            else:
                parts.append((1, _Descending(value) if descending else value))
        return tuple(parts)

    return key
