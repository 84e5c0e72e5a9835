"""Sync filter conditions: SOQL `WHERE` conditions, parsed once into a tree and checked before use.

A pull filter is sent to Salesforce as written (appended to the pull query), so here it is only
parsed, to refuse a typo at load instead of at the first cycle, and to know which fields it reads.
A push filter is evaluated here, on a person's Tandem field names, with SOQL's semantics: a
comparison with a blank value is false except `!= value` (true) and `= null`; `!=` therefore
also matches persons whose field is empty.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any

from lark import Lark, Token, Transformer, UnexpectedInput

from tandem.errors import ConfigError

_GRAMMAR = r"""
?start: or_expr
?or_expr: and_expr (_OR and_expr)*   -> any_of
?and_expr: not_expr (_AND not_expr)* -> all_of
?not_expr: _NOT not_expr              -> negated
         | atom
?atom: "(" or_expr ")"
     | comparison
comparison: FIELD OP value                 -> compare
          | FIELD _LIKE value               -> like
          | FIELD _NOT _IN "(" values ")"   -> not_in
          | FIELD _IN "(" values ")"        -> in_list
          | FIELD _INCLUDES "(" values ")"  -> includes
          | FIELD _EXCLUDES "(" values ")"  -> excludes
values: value ("," value)*
?value: STRING      -> string
      | DATETIME    -> datetime_
      | DATE        -> date_
      | NUMBER      -> number
      | _TRUE       -> true
      | _FALSE      -> false
      | _NULL       -> null
      | DATE_LITERAL -> date_literal

OP: "!=" | "<>" | "<=" | ">=" | "=" | "<" | ">"
_OR.2: /OR\b/i
_AND.2: /AND\b/i
_NOT.2: /NOT\b/i
_IN.2: /IN\b/i
_LIKE.2: /LIKE\b/i
_INCLUDES.2: /INCLUDES\b/i
_EXCLUDES.2: /EXCLUDES\b/i
_TRUE.2: /TRUE\b/i
_FALSE.2: /FALSE\b/i
_NULL.2: /NULL\b/i
DATE_LITERAL.2: /(YESTERDAY|TODAY|TOMORROW|LAST_WEEK|THIS_WEEK|NEXT_WEEK|LAST_MONTH|THIS_MONTH|NEXT_MONTH|LAST_YEAR|THIS_YEAR|NEXT_YEAR|LAST_90_DAYS|NEXT_90_DAYS)\b/i
    | /(LAST_N_DAYS|NEXT_N_DAYS|LAST_N_WEEKS|NEXT_N_WEEKS|LAST_N_MONTHS|NEXT_N_MONTHS|LAST_N_YEARS|NEXT_N_YEARS):\d+/i
DATETIME.3: /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})/
DATE.2: /\d{4}-\d{2}-\d{2}/
NUMBER: /-?\d+(\.\d+)?/
STRING: /'(\\.|[^'\\])*'/
FIELD: /[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)*/
%import common.WS
%ignore WS
"""


@cache
def _parser() -> Lark:
    """The filter grammar's parser, built when a filter is first read (a sync without filters never builds it)."""
    return Lark(_GRAMMAR, parser="lalr", maybe_placeholders=False)


_UNESCAPE = re.compile(r"\\(.)")
_ESCAPED = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f"}


class SoqlString(str):
    """A string literal's value, keeping its text as written (a LIKE pattern reads its escapes)."""

    raw: str

    def __new__(cls, value: str, raw: str) -> SoqlString:
        made = super().__new__(cls, value)
        made.raw = raw
        return made


@dataclass(frozen=True)
class DateLiteral:
    """A relative date literal (TODAY, LAST_N_DAYS:30): Salesforce resolves it; Tandem does not."""

    text: str


@dataclass(frozen=True)
class Comparison:
    field: str
    op: str
    value: Any


@dataclass(frozen=True)
class Negated:
    inner: Node


@dataclass(frozen=True)
class AllOf:
    parts: tuple[Node, ...]


@dataclass(frozen=True)
class AnyOf:
    parts: tuple[Node, ...]


Node = Comparison | Negated | AllOf | AnyOf


class _Tree(Transformer[Token, Node]):
    def any_of(self, parts: list[Node]) -> Node:
        return parts[0] if len(parts) == 1 else AnyOf(tuple(parts))

    def all_of(self, parts: list[Node]) -> Node:
        return parts[0] if len(parts) == 1 else AllOf(tuple(parts))

    def negated(self, parts: list[Node]) -> Node:
        return Negated(parts[0])

    def compare(self, parts: list[Any]) -> Node:
        op = "!=" if str(parts[1]) == "<>" else str(parts[1])
        return Comparison(str(parts[0]), op, parts[2])

    def like(self, parts: list[Any]) -> Node:
        return Comparison(str(parts[0]), "like", parts[1])

    def in_list(self, parts: list[Any]) -> Node:
        return Comparison(str(parts[0]), "in", tuple(parts[1]))

    def not_in(self, parts: list[Any]) -> Node:
        return Comparison(str(parts[0]), "not in", tuple(parts[1]))

    def includes(self, parts: list[Any]) -> Node:
        return Comparison(str(parts[0]), "includes", tuple(parts[1]))

    def excludes(self, parts: list[Any]) -> Node:
        return Comparison(str(parts[0]), "excludes", tuple(parts[1]))

    def values(self, parts: list[Any]) -> list[Any]:
        return list(parts)

    def string(self, parts: list[Token]) -> str:
        body = str(parts[0])[1:-1]
        return SoqlString(_UNESCAPE.sub(lambda m: _ESCAPED.get(m.group(1), m.group(1)), body), body)

    def number(self, parts: list[Token]) -> Decimal:
        return Decimal(str(parts[0]))

    def date_(self, parts: list[Token]) -> date:
        return date.fromisoformat(str(parts[0]))

    def datetime_(self, parts: list[Token]) -> datetime:
        return datetime.fromisoformat(str(parts[0]).replace("Z", "+00:00"))

    def date_literal(self, parts: list[Token]) -> DateLiteral:
        return DateLiteral(str(parts[0]).upper())

    def true(self, parts: list[Token]) -> bool:
        return True

    def false(self, parts: list[Token]) -> bool:
        return False

    def null(self, parts: list[Token]) -> None:
        return None


@dataclass(frozen=True)
class Condition:
    """A parsed condition and the text it came from (sent as written when it filters a pull)."""

    text: str
    tree: Node

    @property
    def fields(self) -> frozenset[str]:
        return frozenset(_fields(self.tree))

    def matches(self, values: Mapping[str, Any]) -> bool:
        """Whether a record whose fields hold `values` satisfies the condition (SOQL semantics)."""
        return _matches(self.tree, values)


def parse_condition(text: str, key: str) -> Condition:
    """The condition `text`, or a ConfigError naming `key` and where the text stops making sense."""
    if not text.strip():
        raise ConfigError(key, "the condition is empty")
    try:
        tree = _Tree().transform(_parser().parse(text))
    except UnexpectedInput as exc:
        column = getattr(exc, "column", "?")
        raise ConfigError(key, f"not a SOQL condition (at column {column} of {text!r})") from None
    return Condition(text.strip(), tree)


def _fields(node: Node) -> list[str]:
    if isinstance(node, Comparison):
        return [node.field]
    if isinstance(node, Negated):
        return _fields(node.inner)
    return [name for part in node.parts for name in _fields(part)]


def _matches(node: Node, values: Mapping[str, Any]) -> bool:
    if isinstance(node, AllOf):
        return all(_matches(p, values) for p in node.parts)
    if isinstance(node, AnyOf):
        return any(_matches(p, values) for p in node.parts)
    if isinstance(node, Negated):
        return not _matches(node.inner, values)
    return _compare(node, values.get(node.field))


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value == "")


def _compare(node: Comparison, actual: Any) -> bool:
    op, wanted = node.op, node.value
    if isinstance(wanted, DateLiteral):
        raise ConfigError("sync.filter.push", f"{wanted.text} is resolved by Salesforce; a push filter "
                                              "compares with a date like 2024-01-31")
    if op in ("in", "not in", "includes", "excludes"):
        if _blank(actual):
            return op in ("not in", "excludes") and None not in wanted
        if op in ("includes", "excludes"):
            chosen = {v.strip() for v in str(actual).split(";")}
            hit = any(str(w) in chosen for w in wanted)
            return hit if op == "includes" else not hit
        hit = any(_equal(actual, w) for w in wanted)
        return hit if op == "in" else not hit
    if wanted is None:
        return _blank(actual) if op == "=" else (not _blank(actual) if op == "!=" else False)
    if _blank(actual):
        return op == "!="  # SOQL: a null field is "not equal" to every value, and nothing else
    if op == "=":
        return _equal(actual, wanted)
    if op == "!=":
        return not _equal(actual, wanted)
    if op == "like":
        return _like(str(actual), getattr(wanted, "raw", str(wanted)))
    left, right = _comparable(actual, wanted)
    if left is None:
        return False
    return {"<": left < right, "<=": left <= right, ">": left > right, ">=": left >= right}[op]


def _equal(actual: Any, wanted: Any) -> bool:
    if isinstance(wanted, str):
        return str(actual).lower() == wanted.lower()  # SOQL compares text case-insensitively
    left, right = _comparable(actual, wanted)
    return left is not None and left == right


def _comparable(actual: Any, wanted: Any) -> tuple[Any, Any]:
    """Both sides as one comparable type, or (None, None) when they cannot be compared."""
    if isinstance(wanted, bool):
        return (actual, wanted) if isinstance(actual, bool) else (None, None)
    if isinstance(wanted, Decimal):
        try:
            return Decimal(str(actual)), wanted
        except InvalidOperation:
            return None, None
    if isinstance(wanted, datetime):
        moment = actual if isinstance(actual, datetime) else _parse_datetime(actual)
        return (moment, wanted) if moment is not None else (None, None)
    if isinstance(wanted, date):
        day = actual.date() if isinstance(actual, datetime) else actual if isinstance(actual, date) else None
        if day is None:
            try:
                day = date.fromisoformat(str(actual)[:10])
            except ValueError:
                return None, None
        return day, wanted
    return str(actual).lower(), str(wanted).lower()


def _parse_datetime(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


def _like(actual: str, pattern: str) -> bool:
    out, escaped = [], False
    for char in pattern:
        if escaped:
            out.append(re.escape(char))
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "%":
            out.append(".*")
        elif char == "_":
            out.append(".")
        else:
            out.append(re.escape(char))
    return re.fullmatch("".join(out), actual, flags=re.IGNORECASE | re.DOTALL) is not None
