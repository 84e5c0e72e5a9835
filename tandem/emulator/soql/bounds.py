"""Index bounds: the range of one field a WHERE clause confines results to.

The sync reads `WHERE SystemModstamp > :a AND SystemModstamp <= :b ORDER BY SystemModstamp, Id`;
knowing the range lets the model scan an ordered index instead of every row. The bounds only
narrow the candidates: the full predicate is still applied to each of them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from tandem.emulator.soql import dates
from tandem.emulator.soql.tree import (
    And,
    Comparison,
    DateLiteral,
    DateTimeValue,
    DateValue,
    Expr,
    InList,
    NumberValue,
    StringValue,
    Value,
)
from tandem.salesforce.ids import is_well_formed, to_18


@dataclass(frozen=True)
class Bounds:
    """Native-valued bounds on one field; `None` on a side means unbounded.

    `exact` is set for Ids (`Id = '…'`, `Id IN (…)`): the 18-character Ids a matching row must have
    (an empty list means no row can match).
    """

    low: object = None
    low_inclusive: bool = True
    high: object = None
    high_inclusive: bool = True
    exact: list | None = None


def _conjuncts(where: Expr) -> list[Expr]:
    if isinstance(where, And):
        found: list[Expr] = []
        for item in where.items:
            found.extend(_conjuncts(item))
        return found
    return [where]


def _native(value: Value) -> object:
    if isinstance(value, (StringValue, NumberValue, DateValue, DateTimeValue)):
        return value.value
    return None


def _id_keys(values: tuple[Value, ...]) -> list[str]:
    return [to_18(v.value) for v in values if isinstance(v, StringValue) and is_well_formed(v.value)]


def index_bounds(where: Expr | None, field: str = "SystemModstamp", now: dt.datetime | None = None) -> Bounds | None:
    """Bounds on `field` implied by a top-level conjunction, or None when the WHERE cannot narrow it.

    Relative date literals (TODAY, LAST_N_DAYS:n) give datetime bounds anchored at `now`.
    """
    if where is None:
        return None
    now = now or dt.datetime.now(dt.timezone.utc)
    wanted = field.lower()
    low: object = None
    low_inclusive = True
    high: object = None
    high_inclusive = True
    exact: list[str] | None = None
    used = False

    def tighten_low(value: object, inclusive: bool) -> None:
        nonlocal low, low_inclusive
        if low is None or value > low or (value == low and not inclusive):  # type: ignore[operator]
            low, low_inclusive = value, inclusive

    def tighten_high(value: object, inclusive: bool) -> None:
        nonlocal high, high_inclusive
        if high is None or value < high or (value == high and not inclusive):  # type: ignore[operator]
            high, high_inclusive = value, inclusive

    def keep_exact(keys: list[str]) -> None:
        nonlocal exact
        exact = keys if exact is None else [key for key in exact if key in keys]

    for item in _conjuncts(where):
        if not isinstance(item, (Comparison, InList)) or len(item.field.path) != 1:
            continue
        if item.field.path[0].lower() != wanted:
            continue
        if isinstance(item, InList):
            if wanted == "id" and not item.negated:
                keep_exact(_id_keys(item.values))
                used = True
            continue
        op = item.op
        if wanted == "id" and op == "=":
            keep_exact(_id_keys((item.value,)))
            used = True
            continue
        if isinstance(item.value, DateLiteral):
            if wanted == "id":
                continue
            start, end = dates.datetime_range(item.value.name, item.value.n, now)
            ranges = {"=": (start, True, end, False), "<": (None, True, start, False),
                      "<=": (None, True, end, False), ">": (end, True, None, True), ">=": (start, True, None, True)}
            if op not in ranges:
                continue
            lo, lo_inc, hi, hi_inc = ranges[op]
        else:
            value = _native(item.value)
            if value is None or op == "!=":
                continue
            lo, lo_inc, hi, hi_inc = {
                "=": (value, True, value, True), ">": (value, False, None, True), ">=": (value, True, None, True),
                "<": (None, True, value, False), "<=": (None, True, value, True),
            }[op]
        if lo is not None:
            tighten_low(lo, lo_inc)
        if hi is not None:
            tighten_high(hi, hi_inc)
        used = True
    if not used:
        return None
    return Bounds(low, low_inclusive, high, high_inclusive, exact)
