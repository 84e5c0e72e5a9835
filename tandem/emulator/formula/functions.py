"""Formula functions: their signatures (checked at parse time) and the ones that are plain
functions of already-evaluated arguments.

Functions that decide which arguments to evaluate (IF, AND, CASE…) or that need the record
(ISCHANGED, PRIORVALUE, ISPICKVAL…) are compiled in `evaluate.py`; they are listed here only for
their arity.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from tandem.emulator.formula.errors import FormulaError
from tandem.emulator.formula.values import kind_of, number, text


@dataclass(frozen=True)
class Signature:
    min_args: int
    max_args: int | None = None  # None: any number
    even: bool = False  # CASE: expression, pairs, else

    def accepts(self, count: int) -> bool:
        if count < self.min_args or (self.max_args is not None and count > self.max_args):
            return False
        return not self.even or count % 2 == 0

    def describe(self) -> str:
        if self.even:
            return f"an even number of arguments, at least {self.min_args}"
        if self.max_args is None:
            return f"at least {self.min_args} argument(s)"
        if self.min_args == self.max_args:
            return f"{self.min_args} argument(s)"
        return f"{self.min_args} to {self.max_args} arguments"


def _fixed(n: int) -> Signature:
    return Signature(n, n)


def _blank_none(fn: Callable) -> Callable:
    """Blank in, blank out: the "treat blank fields as blanks" rule for numeric and date functions."""

    def wrapped(*args):
        return None if any(arg is None for arg in args) else fn(*args)

    wrapped.__name__ = fn.__name__
    return wrapped


def _round(value, digits):
    value, digits = number(value, "ROUND"), number(digits, "ROUND")
    quantum = Decimal(1).scaleb(-int(digits))
    result = Decimal(repr(value)).quantize(quantum, rounding=ROUND_HALF_UP)
    return int(result) if digits <= 0 else float(result)


def _date(year, month, day):
    try:
        return dt.date(int(number(year, "DATE")), int(number(month, "DATE")), int(number(day, "DATE")))
    except ValueError as exc:
        raise FormulaError(f"DATE: {exc}") from None


def _date_part(name: str, attribute: str) -> Callable:
    def part(value):
        if kind_of(value) != "date":
            raise FormulaError(f"Incorrect parameter type for {name}: expected Date, received {kind_of(value)}")
        return getattr(value, attribute)

    return _blank_none(part)


def _value(source):
    source = text(source, "VALUE").strip()
    if not source:
        return None
    if not _NUMBER.fullmatch(source):
        raise FormulaError(f"VALUE: not a number: {source!r}")
    result = float(source)
    return int(result) if result.is_integer() and "." not in source and "e" not in source.lower() else result


_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def _regex(source, pattern):
    try:
        return re.fullmatch(text(pattern, "REGEX"), text(source, "REGEX"), re.DOTALL) is not None
    except re.error as exc:
        raise FormulaError(f"REGEX: invalid pattern: {exc}") from None


def _contains(source, wanted):
    wanted = text(wanted, "CONTAINS")
    return wanted == "" or wanted in text(source, "CONTAINS")


def _begins(source, prefix):
    prefix = text(prefix, "BEGINS")
    return prefix == "" or text(source, "BEGINS").startswith(prefix)


def _left(source, count):
    count = number(count, "LEFT")
    return text(source, "LEFT")[: max(int(count or 0), 0)]


def _right(source, count):
    count = max(int(number(count, "RIGHT") or 0), 0)
    source = text(source, "RIGHT")
    return source[len(source) - count :] if count else ""


def _mid(source, start, count):
    start = max(int(number(start, "MID") or 1), 1)
    count = max(int(number(count, "MID") or 0), 0)
    return text(source, "MID")[start - 1 : start - 1 + count]


def _find(search, source, start=1):
    start = max(int(number(start, "FIND") or 1), 1)
    search, source = text(search, "FIND"), text(source, "FIND")
    if not search:
        return 0
    return source.find(search, start - 1) + 1


def _substitute(source, old, new):
    source, old = text(source, "SUBSTITUTE"), text(old, "SUBSTITUTE")
    return source.replace(old, text(new, "SUBSTITUTE")) if old else source


def _extreme(pick: Callable) -> Callable:
    def extreme(*args):
        values = [number(arg, pick.__name__.upper()) for arg in args]
        return None if any(v is None for v in values) else pick(values)

    return extreme


def _datevalue(value):
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.timezone.utc).date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(text(value, "DATEVALUE").strip()[:10])
    except ValueError:
        raise FormulaError(f"DATEVALUE: not a date: {value!r}") from None


def _mod(dividend, divisor):
    dividend, divisor = number(dividend, "MOD"), number(divisor, "MOD")
    if divisor == 0:
        raise FormulaError("Division by zero")
    return math.fmod(dividend, divisor) if isinstance(dividend, float) or isinstance(divisor, float) else int(
        math.fmod(dividend, divisor)
    )


def _is_number(value):
    return isinstance(value, str) and _NUMBER.fullmatch(value.strip()) is not None and value.strip() != ""


# Plain functions: name → (signature, implementation over evaluated arguments).
EAGER: dict[str, tuple[Signature, Callable]] = {
    "LEN": (_fixed(1), lambda s: len(text(s, "LEN"))),
    "BEGINS": (_fixed(2), _begins),
    "CONTAINS": (_fixed(2), _contains),
    "REGEX": (_fixed(2), _regex),
    "LOWER": (Signature(1, 2), lambda s, locale=None: text(s, "LOWER").lower()),
    "UPPER": (Signature(1, 2), lambda s, locale=None: text(s, "UPPER").upper()),
    "TRIM": (_fixed(1), lambda s: text(s, "TRIM").strip(" \t")),
    "LEFT": (_fixed(2), _left),
    "RIGHT": (_fixed(2), _right),
    "MID": (_fixed(3), _mid),
    "FIND": (Signature(2, 3), _find),
    "SUBSTITUTE": (_fixed(3), _substitute),
    "ISNUMBER": (_fixed(1), _is_number),
    "VALUE": (_fixed(1), _value),
    "DATE": (_fixed(3), _blank_none(_date)),
    "DATEVALUE": (_fixed(1), _blank_none(_datevalue)),
    "YEAR": (_fixed(1), _date_part("YEAR", "year")),
    "MONTH": (_fixed(1), _date_part("MONTH", "month")),
    "DAY": (_fixed(1), _date_part("DAY", "day")),
    "ABS": (_fixed(1), _blank_none(lambda n: abs(number(n, "ABS")))),
    "ROUND": (_fixed(2), _blank_none(_round)),
    "FLOOR": (_fixed(1), _blank_none(lambda n: math.floor(number(n, "FLOOR")))),
    "CEILING": (_fixed(1), _blank_none(lambda n: math.ceil(number(n, "CEILING")))),
    "MOD": (_fixed(2), _blank_none(_mod)),
    "MAX": (Signature(1), _extreme(max)),
    "MIN": (Signature(1), _extreme(min)),
}

# Compiled in evaluate.py: name → signature.
SPECIAL: dict[str, Signature] = {
    "NOT": _fixed(1),
    "AND": Signature(1),
    "OR": Signature(1),
    "IF": _fixed(3),
    "CASE": Signature(4, None, even=True),
    "ISBLANK": _fixed(1),
    "ISNULL": _fixed(1),
    "BLANKVALUE": _fixed(2),
    "NULLVALUE": _fixed(2),
    "ISPICKVAL": _fixed(2),
    "INCLUDES": _fixed(2),
    "TEXT": _fixed(1),
    "ISCHANGED": _fixed(1),
    "PRIORVALUE": _fixed(1),
    "ISNEW": _fixed(0),
    "TODAY": _fixed(0),
    "NOW": _fixed(0),
}


def signature(name: str) -> Signature | None:
    if name in SPECIAL:
        return SPECIAL[name]
    entry = EAGER.get(name)
    return entry[0] if entry else None

