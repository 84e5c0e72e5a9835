"""The type check Salesforce runs when a formula is saved, before any record is seen.

`result_kind(tree, field_type)` walks a parsed formula with each field's Salesforce type and
answers the kind of value it yields ("boolean", "number", "text", "date", "datetime", "time"), or
raises FormulaError naming the first operator or function given the wrong kind: a rule comparing a
number with text, or reading a picklist outside ISPICKVAL/TEXT/CASE, is refused when the org is
loaded instead of silently never firing.

NULL fits any kind; "any" is used where Salesforce accepts several kinds (TEXT, ISBLANK).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from tandem.emulator.formula.errors import FormulaError
from tandem.emulator.formula.tree import Binary, Call, FieldRef, Literal, Node, Unary

FieldTypes = Callable[[str], "str | None"]

_KINDS = {
    "boolean": "boolean", "int": "number", "long": "number", "double": "number", "currency": "number",
    "percent": "number", "date": "date", "datetime": "datetime", "time": "time", "picklist": "picklist",
    "multipicklist": "multipicklist",
}
_LABELS = {"boolean": "Boolean", "number": "Number", "text": "Text", "date": "Date", "datetime": "DateTime",
           "time": "Time", "picklist": "Picklist", "multipicklist": "Picklist (Multi-Select)"}
_PICKLIST_FIRST = {"ISPICKVAL", "CASE", "TEXT", "ISBLANK", "ISCHANGED", "PRIORVALUE", "INCLUDES"}
_ORDERED = {"number", "text", "date", "datetime", "time"}

# Plain functions: name → (kind of each argument, the last repeating; result kind).
_EAGER: dict[str, tuple[tuple[str, ...], str]] = {
    "LEN": (("text",), "number"), "BEGINS": (("text", "text"), "boolean"),
    "CONTAINS": (("text", "text"), "boolean"), "REGEX": (("text", "text"), "boolean"),
    "LOWER": (("text", "text"), "text"), "UPPER": (("text", "text"), "text"), "TRIM": (("text",), "text"),
    "LEFT": (("text", "number"), "text"), "RIGHT": (("text", "number"), "text"),
    "MID": (("text", "number", "number"), "text"), "FIND": (("text", "text", "number"), "number"),
    "SUBSTITUTE": (("text", "text", "text"), "text"), "ISNUMBER": (("text",), "boolean"),
    "VALUE": (("text",), "number"), "DATE": (("number", "number", "number"), "date"),
    "YEAR": (("date",), "number"), "MONTH": (("date",), "number"), "DAY": (("date",), "number"),
    "ABS": (("number",), "number"), "ROUND": (("number", "number"), "number"), "FLOOR": (("number",), "number"),
    "CEILING": (("number",), "number"), "MOD": (("number", "number"), "number"), "MAX": (("number",), "number"),
    "MIN": (("number",), "number"),
}


def _label(kind: str) -> str:
    return _LABELS.get(kind, kind)


def _fits(kind: str, wanted: str) -> bool:
    return kind in ("null", "any") or wanted == "any" or kind == wanted


def _same(left: str, right: str) -> str | None:
    """The common kind of two operands, or None when they do not mix."""
    if left in ("null", "any"):
        return right
    if right in ("null", "any") or left == right:
        return left
    return None


def _wrong_argument(function: str, wanted: str, got: str) -> FormulaError:
    return FormulaError(f"Incorrect parameter type for function '{function}()'. Expected {_label(wanted)}, "
                        f"received {_label(got)}")


def _wrong_operands(op: str, left: str, right: str) -> FormulaError:
    return FormulaError(f"Incorrect parameter type for operator '{op}'. {_label(left)} and {_label(right)} "
                        "cannot be used together")


class _Checker:
    def __init__(self, field_type: FieldTypes) -> None:
        self.field_type = field_type

    def kind(self, node: Node, picklist_ok: bool = False) -> str:
        if isinstance(node, Literal):
            return _literal_kind(node.value)
        if isinstance(node, FieldRef):
            return self.field(node.name, picklist_ok)
        if isinstance(node, Unary):
            return self.unary(node)
        if isinstance(node, Binary):
            return self.binary(node)
        return self.call(node, picklist_ok)

    def field(self, name: str, picklist_ok: bool) -> str:
        raw = self.field_type(name)
        if raw is None:
            raise FormulaError(f"Field {name} does not exist. Check spelling.")
        kind = _KINDS.get(raw.lower(), "text")
        if kind in ("picklist", "multipicklist") and not picklist_ok:
            raise FormulaError(f"Field {name} is a picklist field. Picklist fields are only supported in certain "
                               "functions (ISPICKVAL, TEXT, CASE, ISBLANK, ISCHANGED, PRIORVALUE).")
        return kind

    def unary(self, node: Unary) -> str:
        operand = self.kind(node.operand)
        wanted = "boolean" if node.op == "!" else "number"
        if not _fits(operand, wanted):
            raise FormulaError(f"Incorrect parameter type for operator '{node.op}'. Expected {_label(wanted)}, "
                               f"received {_label(operand)}")
        return wanted

    def binary(self, node: Binary) -> str:
        op, left, right = node.op, self.kind(node.left), self.kind(node.right)
        if op in ("&&", "||"):
            for side in (left, right):
                if not _fits(side, "boolean"):
                    raise FormulaError(f"Incorrect parameter type for operator '{op}'. Expected Boolean, "
                                       f"received {_label(side)}")
            return "boolean"
        if op in ("=", "!="):
            if _same(left, right) is None:
                raise _wrong_operands(op, left, right)
            return "boolean"
        if op in ("<", "<=", ">", ">="):
            common = _same(left, right)
            if common is None or common not in _ORDERED | {"null", "any"}:
                raise _wrong_operands(op, left, right)
            return "boolean"
        if op == "&":
            for side in (left, right):
                if not _fits(side, "text"):
                    raise _wrong_operands(op, left, right)
            return "text"
        return _arithmetic(op, left, right)

    def call(self, node: Call, picklist_ok: bool) -> str:
        name = node.name
        if name == "REGEX":
            _check_pattern(node.args[1])
        if name in _EAGER:
            wanted, result = _EAGER[name]
            for i, arg in enumerate(node.args):
                got = self.kind(arg)
                expected = wanted[min(i, len(wanted) - 1)]
                if not _fits(got, expected):
                    raise _wrong_argument(name, expected, got)
            return result
        if name == "DATEVALUE":
            got = self.kind(node.args[0])
            if got not in ("text", "date", "datetime", "null", "any"):
                raise _wrong_argument(name, "datetime", got)
            return "date"
        kinds = [self.kind(arg, picklist_ok=(i == 0 and name in _PICKLIST_FIRST)) for i, arg in enumerate(node.args)]
        return self.special(node, kinds, picklist_ok)

    def special(self, node: Call, kinds: list[str], picklist_ok: bool) -> str:
        name = node.name
        if name in ("AND", "OR", "NOT"):
            for got in kinds:
                if not _fits(got, "boolean"):
                    raise _wrong_argument(name, "boolean", got)
            return "boolean"
        if name == "IF":
            if not _fits(kinds[0], "boolean"):
                raise _wrong_argument(name, "boolean", kinds[0])
            return self._common(name, kinds[1:])
        if name == "CASE":
            subject = "text" if kinds[0] == "picklist" else kinds[0]
            if subject == "multipicklist":
                raise _wrong_argument(name, "text", subject)
            for got in kinds[1:-1:2]:
                if _same(subject, got) is None:
                    raise _wrong_argument(name, subject, got)
            return self._common(name, kinds[2:-1:2] + [kinds[-1]])
        if name in ("ISBLANK", "ISNULL", "ISCHANGED", "ISNEW"):
            return "boolean"
        if name in ("BLANKVALUE", "NULLVALUE"):
            return self._common(name, kinds)
        if name == "ISPICKVAL":
            if kinds[0] != "picklist":
                raise _wrong_argument(name, "picklist", kinds[0])
            return "boolean"
        if name == "INCLUDES":
            if kinds[0] != "multipicklist":
                raise _wrong_argument(name, "multipicklist", kinds[0])
            return "boolean"
        if name == "TEXT":
            return "text"
        if name == "PRIORVALUE":
            if kinds[0] in ("picklist", "multipicklist") and not picklist_ok:
                raise FormulaError(f"PRIORVALUE of picklist {node.args[0].name} can only be used in "  # type: ignore[union-attr]
                                   "ISPICKVAL, TEXT or CASE")
            return kinds[0]
        if name == "TODAY":
            return "date"
        if name == "NOW":
            return "datetime"
        return "any"

    @staticmethod
    def _common(name: str, kinds: list[str]) -> str:
        result = "null"
        for got in kinds:
            common = _same(result, got)
            if common is None:
                raise _wrong_argument(name, result, got)
            result = common
        return result


def _check_pattern(node: Node) -> None:
    """A REGEX pattern written in the formula must compile here, or the rule could never fire."""
    if isinstance(node, Literal) and isinstance(node.value, str):
        try:
            re.compile(node.value)
        except re.error as exc:
            raise FormulaError(f"REGEX: the pattern {node.value!r} cannot be used here: {exc}") from None


def _literal_kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return "text"


_SUMS = {
    "+": {("number", "number"): "number", ("date", "number"): "date", ("number", "date"): "date",
          ("datetime", "number"): "datetime", ("number", "datetime"): "datetime", ("text", "text"): "text"},
    "-": {("number", "number"): "number", ("date", "number"): "date", ("datetime", "number"): "datetime",
          ("date", "date"): "number", ("datetime", "datetime"): "number"},
}


def _arithmetic(op: str, left: str, right: str) -> str:
    table = _SUMS.get(op, {("number", "number"): "number"})
    if left in ("null", "any") or right in ("null", "any"):
        known = right if left in ("null", "any") else left
        if known in ("null", "any"):
            return "number"
        matches = {result for (a, b), result in table.items() if known in (a, b)}
        if not matches:
            raise _wrong_operands(op, left, right)
        return known if len(matches) > 1 else matches.pop()
    result = table.get((left, right))
    if result is None:
        raise _wrong_operands(op, left, right)
    return result


def result_kind(tree: Node, field_type: FieldTypes) -> str:
    """The kind of value the formula yields; FormulaError at the first misused operator or function."""
    return _Checker(field_type).kind(tree)


def check_condition(tree: Node, field_type: FieldTypes) -> None:
    """A rule condition (validation, assignment) must be true or false, as Salesforce requires."""
    kind = result_kind(tree, field_type)
    if kind not in ("boolean", "null", "any"):
        raise FormulaError(f"Formula result is data type ({_label(kind)}), incompatible with expected data type "
                           "(true or false).")
