"""The typed tree a SOQL query parses into.

Every node is a frozen dataclass holding tuples, so a parsed `Query` is immutable and can be
shared from the parse cache by any number of requests.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Union

from tandem.emulator.soql.like import LikePattern


@dataclass(frozen=True)
class FieldRef:
    """A field as written: `("Email",)` or a relationship path `("Account", "Name")`."""

    path: tuple[str, ...]

    @property
    def name(self) -> str:
        return ".".join(self.path)


@dataclass(frozen=True)
class CountAll:
    """`COUNT()`: the query answers only a total size."""


@dataclass(frozen=True)
class CountField:
    """`COUNT(field)`: an aggregate over one field, under its alias when it has one (`expr0`, `expr1`…
    in SELECT order otherwise)."""

    field: FieldRef
    alias: str | None = None


@dataclass(frozen=True)
class FieldsMacro:
    """`FIELDS(STANDARD|ALL|CUSTOM)`; `kind` is upper-cased."""

    kind: str


SelectItem = Union[FieldRef, CountAll, CountField, FieldsMacro]


# Literal values on the right-hand side of a condition.


@dataclass(frozen=True)
class StringValue:
    value: str


@dataclass(frozen=True)
class NumberValue:
    value: int | float


@dataclass(frozen=True)
class BooleanValue:
    value: bool


@dataclass(frozen=True)
class NullValue:
    pass


@dataclass(frozen=True)
class DateValue:
    value: dt.date


@dataclass(frozen=True)
class DateTimeValue:
    """A datetime literal, already converted to an aware UTC datetime."""

    value: dt.datetime


@dataclass(frozen=True)
class DateLiteral:
    """A relative range such as `TODAY` or `LAST_N_DAYS:7`; resolved against "now" when compiled."""

    name: str
    n: int | None = None


Value = Union[StringValue, NumberValue, BooleanValue, NullValue, DateValue, DateTimeValue, DateLiteral]


# Conditions.


@dataclass(frozen=True)
class Comparison:
    """`field op value` with op one of = != < <= > >= (`<>` is normalised to `!=`)."""

    field: FieldRef
    op: str
    value: Value


@dataclass(frozen=True)
class Like:
    """`field LIKE 'pattern'`; `matcher` is the pattern compiled once at parse time."""

    field: FieldRef
    pattern: str
    matcher: LikePattern


@dataclass(frozen=True)
class InList:
    field: FieldRef
    values: tuple[Value, ...]
    negated: bool = False


@dataclass(frozen=True)
class Includes:
    """`INCLUDES`/`EXCLUDES` on a multi-select picklist; each value may itself be `'a;b'` (all of)."""

    field: FieldRef
    values: tuple[str, ...]
    excludes: bool = False


@dataclass(frozen=True)
class And:
    items: tuple[Expr, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Expr, ...]


@dataclass(frozen=True)
class Not:
    item: Expr


Expr = Union[Comparison, Like, InList, Includes, And, Or, Not]


@dataclass(frozen=True)
class OrderItem:
    """One ORDER BY item; SOQL puts nulls first ascending and last descending unless told."""

    field: FieldRef
    descending: bool = False
    nulls_first: bool = True


@dataclass(frozen=True)
class Query:
    object_name: str
    select: tuple[SelectItem, ...]
    where: Expr | None = None
    order_by: tuple[OrderItem, ...] = ()
    limit: int | None = None
    offset: int | None = None

    @property
    def is_count(self) -> bool:
        """True for `SELECT COUNT() FROM …`, which answers a total size and no records."""
        return any(isinstance(item, CountAll) for item in self.select)

    def referenced_fields(self) -> set[tuple[str, ...]]:
        """Every field path in SELECT, WHERE and ORDER BY, as written (for INVALID_FIELD checks)."""
        paths: set[tuple[str, ...]] = set()
        for item in self.select:
            if isinstance(item, FieldRef):
                paths.add(item.path)
            elif isinstance(item, CountField):
                paths.add(item.field.path)
        if self.where is not None:
            paths.update(where_fields(self.where))
        paths.update(item.field.path for item in self.order_by)
        return paths


def where_fields(expr: Expr) -> set[tuple[str, ...]]:
    """The field paths a condition tree reads."""
    if isinstance(expr, (And, Or)):
        found: set[tuple[str, ...]] = set()
        for item in expr.items:
            found |= where_fields(item)
        return found
    if isinstance(expr, Not):
        return where_fields(expr.item)
    return {expr.field.path}
