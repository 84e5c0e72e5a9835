"""SOQL text → `Query` tree: the Lark parse, the tree building, and syntax errors in Salesforce's words.

Parsed queries are cached: the same sync query text arrives on every page of every cycle.
"""

from __future__ import annotations

import functools

from lark import Lark, Token, Transformer, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError

from tandem.emulator.soql import dates, literals
from tandem.emulator.soql.errors import SoqlSyntaxError
from tandem.emulator.soql.grammar import GRAMMAR
from tandem.emulator.soql.tree import (
    And,
    BooleanValue,
    Comparison,
    CountAll,
    CountField,
    DateLiteral,
    DateTimeValue,
    DateValue,
    FieldRef,
    FieldsMacro,
    Includes,
    InList,
    Like,
    Not,
    NullValue,
    NumberValue,
    Or,
    OrderItem,
    Query,
    StringValue,
)

_FIELDS_KINDS = {"STANDARD", "ALL", "CUSTOM"}
MAX_LENGTH = 100_000
"""Salesforce's limit on the length of a SOQL statement."""
MAX_NESTING = 100
"""How deep NOT, AND and OR may nest; the tree is built recursively, so deeper is refused up front."""
_NESTING_RULES = {"not_", "and_", "or_"}


class _LiteralError(Exception):
    """A literal that lexed but is not a valid value; carries the token for the error position."""

    def __init__(self, token: Token, reason: str) -> None:
        super().__init__(reason)
        self.token = token
        self.reason = reason


def _checked(token: Token, convert):
    try:
        return convert(str(token))
    except ValueError as exc:
        raise _LiteralError(token, str(exc)) from None


class _TreeBuilder(Transformer):
    """Builds the typed tree from Lark's parse tree, one method per grammar rule."""

    def start(self, items):
        select, object_name, *clauses = items
        parts = {"where": None, "order_by": (), "limit": None, "offset": None}
        for name, value in clauses:
            parts[name] = value
        return Query(object_name=str(object_name), select=tuple(select), **parts)

    def select_list(self, items):
        return items

    def field_path(self, names):
        return FieldRef(tuple(str(name) for name in names))

    def count_all(self, _):
        return CountAll()

    def count_field(self, items):
        return CountField(items[0], str(items[1]) if len(items) > 1 else None)

    def fields_macro(self, items):
        kind = str(items[0]).upper()
        if kind not in _FIELDS_KINDS:
            raise _LiteralError(items[0], f"FIELDS() takes STANDARD, ALL or CUSTOM, not {items[0]}")
        return FieldsMacro(kind)

    def where_clause(self, items):
        return ("where", items[0])

    def and_(self, items):
        return And(tuple(items))

    def or_(self, items):
        return Or(tuple(items))

    def not_(self, items):
        return Not(items[0])

    def comparison(self, items):
        field, op, value = items
        op = "!=" if op == "<>" else str(op)
        return Comparison(field, op, value)

    def like(self, items):
        field, token = items
        return Like(field, _checked(token, literals.unquote), _checked(token, literals.like_pattern))

    def in_list(self, items):
        return InList(items[0], tuple(items[1:]), negated=False)

    def not_in_list(self, items):
        return InList(items[0], tuple(items[1:]), negated=True)

    def includes(self, items):
        return Includes(items[0], tuple(_checked(t, literals.unquote) for t in items[1:]), excludes=False)

    def excludes(self, items):
        return Includes(items[0], tuple(_checked(t, literals.unquote) for t in items[1:]), excludes=True)

    def string_value(self, items):
        return StringValue(_checked(items[0], literals.unquote))

    def number_value(self, items):
        return NumberValue(_checked(items[0], literals.parse_number))

    def datetime_value(self, items):
        return DateTimeValue(_checked(items[0], literals.parse_datetime))

    def date_value(self, items):
        return DateValue(_checked(items[0], literals.parse_date))

    def null_value(self, _):
        return NullValue()

    def true_value(self, _):
        return BooleanValue(True)

    def false_value(self, _):
        return BooleanValue(False)

    def date_literal(self, items):
        name = str(items[0]).upper()
        if name in dates.WITHOUT_N and len(items) == 1:
            return DateLiteral(name)
        if name in dates.WITH_N and len(items) == 2:
            n = _checked(items[1], literals.parse_number)
            if not isinstance(n, int) or n < 0:
                raise _LiteralError(items[1], f"{name} needs a whole number of days, not {items[1]}")
            return DateLiteral(name, n)
        if name in dates.WITH_N:
            raise _LiteralError(items[0], f"{name} needs a number, as in {name}:7")
        raise _LiteralError(items[0], f"unexpected token: {items[0]}")

    def order_clause(self, items):
        return ("order_by", tuple(items))

    def order_item(self, items):
        field, *words = items
        kinds = {token.type for token in words}
        descending = "DESC" in kinds
        nulls_first = "FIRST" in kinds if kinds & {"FIRST", "LAST"} else not descending
        return OrderItem(field, descending=descending, nulls_first=nulls_first)

    def limit_clause(self, items):
        return ("limit", _count(items[0], "LIMIT"))

    def offset_clause(self, items):
        return ("offset", _count(items[0], "OFFSET"))


def _count(token: Token, clause: str) -> int:
    value = _checked(token, literals.parse_number)
    if not isinstance(value, int) or value < 0 or str(token).startswith(("+", "-")):
        raise _LiteralError(token, f"{clause} must be a non-negative integer, found: {token}")
    return value


_PARSER = Lark(GRAMMAR, parser="lalr", maybe_placeholders=False)
_BUILDER = _TreeBuilder()


def located_message(text: str, line: int, column: int, reason: str) -> str:
    """Salesforce's layout: the query line, a caret under the column, the position, the reason."""
    lines = text.splitlines() or [""]
    source = lines[line - 1] if 0 < line <= len(lines) else lines[-1]
    return f"\n{source}\n{' ' * max(column - 1, 0)}^\nERROR at Row:{line}:Column:{column}\n{reason}"


def _syntax_error(text: str, exc: UnexpectedInput) -> SoqlSyntaxError:
    if isinstance(exc, UnexpectedEOF) or (isinstance(exc, UnexpectedToken) and exc.token.type == "$END"):
        lines = text.splitlines() or [""]
        line, column = len(lines), len(lines[-1]) + 1
        reason = "unexpected token: <EOF>"
    elif isinstance(exc, UnexpectedToken):
        line, column = exc.token.line, exc.token.column
        reason = f"unexpected token: {exc.token}"
    elif isinstance(exc, UnexpectedCharacters):
        line, column = exc.line, exc.column
        reason = f"unexpected token: {text.splitlines()[line - 1][column - 1]!r}"
    else:
        line, column = getattr(exc, "line", 1) or 1, getattr(exc, "column", 1) or 1
        reason = str(exc)
    return SoqlSyntaxError(located_message(text, line, column, reason), line, column)


def _nesting(tree: Tree) -> int:
    """The deepest nesting of NOT, AND and OR, measured without recursion."""
    deepest = 0
    stack = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if node.data in _NESTING_RULES:
            depth += 1
            deepest = max(deepest, depth)
        stack.extend((child, depth) for child in node.children if isinstance(child, Tree))
    return deepest


@functools.lru_cache(maxsize=1024)
def parse_soql(text: str) -> Query:
    """Parse one SOQL query; raises SoqlSyntaxError (the model's MALFORMED_QUERY) on bad text."""
    if not text or not text.strip():
        raise SoqlSyntaxError("empty query", 1, 1)
    if len(text) > MAX_LENGTH:
        raise SoqlSyntaxError(f"the query is {len(text)} characters long; at most {MAX_LENGTH} are allowed")
    try:
        tree = _PARSER.parse(text)
    except UnexpectedInput as exc:
        raise _syntax_error(text, exc) from None
    if _nesting(tree) > MAX_NESTING:
        raise SoqlSyntaxError(f"the WHERE clause nests NOT, AND and OR more than {MAX_NESTING} levels deep")
    try:
        return _BUILDER.transform(tree)
    except VisitError as exc:
        inner = exc.orig_exc
        if isinstance(inner, _LiteralError):
            line, column = inner.token.line or 1, inner.token.column or 1
            raise SoqlSyntaxError(located_message(text, line, column, inner.reason), line, column) from None
        raise
