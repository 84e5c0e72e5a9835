"""How formula operators treat native values: blanks, equality, ordering, arithmetic, text.

Salesforce's "treat blank fields as blanks": a blank number or date makes arithmetic blank and
comparisons false; blank text is the empty string. Text compares case-sensitively.
"""

from __future__ import annotations

import datetime as dt
import operator
from decimal import Decimal

from tandem.emulator.formula.errors import FormulaError

_ORDER = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


def kind_of(value: object) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, dt.datetime):
        return "datetime"
    if isinstance(value, dt.date):
        return "date"
    return "null" if value is None else type(value).__name__


def is_blank(value: object) -> bool:
    return value is None or value == ""


def _same_kind(left: object, right: object, op: str) -> None:
    left_kind, right_kind = kind_of(left), kind_of(right)
    if left_kind != right_kind:
        raise FormulaError(f"Incorrect parameter type for operator '{op}': {left_kind} and {right_kind}")


def equals(left: object, right: object) -> bool:
    """`=`: blank text equals blank text; any other blank is equal only to a blank."""
    if isinstance(left, str) or isinstance(right, str):
        left, right = left or "", right or ""
    if left is None or right is None:
        return left is None and right is None
    _same_kind(left, right, "=")
    return left == right


def not_equals(left: object, right: object) -> bool:
    """`!=`/`<>`: false when a non-text side is blank (comparisons with blanks are false)."""
    if isinstance(left, str) or isinstance(right, str):
        return (left or "") != (right or "")
    if left is None or right is None:
        return False
    _same_kind(left, right, "!=")
    return left != right


def compare(op: str, left: object, right: object) -> bool:
    if isinstance(left, str) or isinstance(right, str):
        left, right = left or "", right or ""
    if left is None or right is None:
        return False
    _same_kind(left, right, op)
    return _ORDER[op](left, right)


def _days(value: object) -> dt.timedelta:
    return dt.timedelta(days=value)  # type: ignore[arg-type]


def add(left: object, right: object) -> object:
    if isinstance(left, str) or isinstance(right, str):
        return concat(left, right)
    if left is None or right is None:
        return None
    kinds = (kind_of(left), kind_of(right))
    if kinds == ("number", "number"):
        return left + right  # type: ignore[operator]
    if kinds == ("date", "number"):
        return left + _days(int(right))  # type: ignore[operator,arg-type]
    if kinds == ("number", "date"):
        return right + _days(int(left))  # type: ignore[operator,arg-type]
    if kinds == ("datetime", "number"):
        return left + _days(right)  # type: ignore[operator]
    if kinds == ("number", "datetime"):
        return right + _days(left)  # type: ignore[operator]
    raise FormulaError(f"Incorrect parameter type for operator '+': {kinds[0]} and {kinds[1]}")


def subtract(left: object, right: object) -> object:
    if left is None or right is None:
        return None
    kinds = (kind_of(left), kind_of(right))
    if kinds == ("number", "number"):
        return left - right  # type: ignore[operator]
    if kinds == ("date", "number"):
        return left - _days(int(right))  # type: ignore[operator,arg-type]
    if kinds == ("datetime", "number"):
        return left - _days(right)  # type: ignore[operator]
    if kinds == ("date", "date"):
        return (left - right).days  # type: ignore[operator]
    if kinds == ("datetime", "datetime"):
        return (left - right).total_seconds() / 86400  # type: ignore[operator]
    raise FormulaError(f"Incorrect parameter type for operator '-': {kinds[0]} and {kinds[1]}")


def number(value: object, where: str) -> int | float | None:
    """A numeric operand or argument; None stays None, anything else not a number is an error."""
    if value is None or (isinstance(value, (int, float)) and not isinstance(value, bool)):
        return value  # type: ignore[return-value]
    raise FormulaError(f"Incorrect parameter type for {where}: expected Number, received {kind_of(value)}")


def text(value: object, where: str) -> str:
    """A text operand or argument; blank is the empty string."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    raise FormulaError(f"Incorrect parameter type for {where}: expected Text, received {kind_of(value)}")


def concat(left: object, right: object) -> str:
    return text(left, "operator '&'") + text(right, "operator '&'")


def arithmetic(op: str, left: object, right: object) -> object:
    left, right = number(left, f"operator '{op}'"), number(right, f"operator '{op}'")
    if left is None or right is None:
        return None
    if op == "*":
        return left * right
    if op == "/":
        if right == 0:
            raise FormulaError("Division by zero")
        return left / right
    try:
        return left**right
    except (OverflowError, ZeroDivisionError) as exc:
        raise FormulaError(f"Invalid power: {exc}") from None


def format_number(value: int | float) -> str:
    """Numbers as TEXT() shows them: no exponent, no trailing zeros (10.50 → "10.5", 3.0 → "3")."""
    if isinstance(value, int):
        return str(value)
    if value.is_integer():
        return str(int(value))
    return format(Decimal(repr(value)).normalize(), "f")


def to_text(value: object) -> str:
    """TEXT(): the value as Salesforce renders it in formulas."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return format_number(value)
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")
    if isinstance(value, dt.date):
        return value.isoformat()
    raise FormulaError(f"TEXT cannot convert {kind_of(value)}")


def truth(value: object, where: str) -> bool:
    """A logical argument; a blank counts as false."""
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    raise FormulaError(f"Incorrect parameter type for {where}: expected Boolean, received {kind_of(value)}")
