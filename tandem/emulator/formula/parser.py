"""Formula text → tree, with every function call's name and argument count checked.

A rule with a misspelt function or a wrong argument count is refused when the org file loads,
as Salesforce refuses to save it, rather than when a record happens to reach it.
"""

from __future__ import annotations

from lark import Lark, Token, Transformer
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError

from tandem.emulator.formula.errors import FormulaSyntaxError
from tandem.emulator.formula.functions import signature
from tandem.emulator.formula.grammar import GRAMMAR
from tandem.emulator.formula.tree import Binary, Call, FieldRef, Literal, Node, Unary

_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "'": "'", "\\": "\\"}
_OPERATORS = {"==": "=", "<>": "!="}


class _ShapeError(Exception):
    def __init__(self, token: Token, reason: str) -> None:
        super().__init__(reason)
        self.token = token
        self.reason = reason


def _unquote(token: str) -> str:
    body, out, i = token[1:-1], [], 0
    while i < len(body):
        if body[i] == "\\" and i + 1 < len(body):
            code = body[i + 1]
            # Unknown escapes stay as written, so regex classes such as "\d" survive.
            out.append(_ESCAPES.get(code, "\\" + code))
            i += 2
        else:
            out.append(body[i])
            i += 1
    return "".join(out)


def _check_call(token: Token, name: str, args: tuple[Node, ...]) -> None:
    """The argument shapes Salesforce checks when a formula is saved."""
    wanted = signature(name)
    if wanted is None:
        raise _ShapeError(token, f"Unknown function {token}")
    if not wanted.accepts(len(args)):
        raise _ShapeError(token, f"Incorrect number of parameters for function '{token}()'. Expected {wanted.describe()}, received {len(args)}")
    if name in ("ISCHANGED", "PRIORVALUE") and not isinstance(args[0], FieldRef):
        raise _ShapeError(token, f"{name} takes a field, not an expression")
    if name in ("ISPICKVAL", "INCLUDES"):
        first, second = args
        prior_field = isinstance(first, Call) and first.name == "PRIORVALUE"
        if not isinstance(first, FieldRef) and not prior_field:
            raise _ShapeError(token, f"{name} takes a picklist field as its first argument")
        if not (isinstance(second, Literal) and isinstance(second.value, str)):
            raise _ShapeError(token, f"{name} takes a text literal as its second argument")


class _TreeBuilder(Transformer):
    def number(self, items):
        text = str(items[0])
        return Literal(float(text) if "." in text else int(text))

    def string(self, items):
        return Literal(_unquote(str(items[0])))

    def true(self, _):
        return Literal(True)

    def false(self, _):
        return Literal(False)

    def null(self, _):
        return Literal(None)

    def field(self, names):
        return FieldRef(".".join(str(name) for name in names))

    def call(self, items):
        token, *args = items
        arguments = tuple(arg for arg in args if arg is not None)
        name = str(token).upper()
        _check_call(token, name, arguments)
        return Call(name, arguments)

    def unary(self, items):
        op, operand = items
        return Unary(str(op), operand)

    def binary(self, items):
        left, op, right = items
        return Binary(_OPERATORS.get(str(op), str(op)), left, right)

    def and_op(self, items):
        return Binary("&&", items[0], items[1])

    def or_op(self, items):
        return Binary("||", items[0], items[1])


_PARSER = Lark(GRAMMAR, parser="lalr", maybe_placeholders=True)
_BUILDER = _TreeBuilder()


def _position(text: str, exc: UnexpectedInput) -> tuple[int, int, str]:
    if isinstance(exc, UnexpectedEOF) or (isinstance(exc, UnexpectedToken) and exc.token.type == "$END"):
        lines = text.splitlines() or [""]
        return len(lines), len(lines[-1]) + 1, "Syntax error: missing ')' or operand at end of formula"
    if isinstance(exc, UnexpectedToken):
        return exc.token.line, exc.token.column, f"Syntax error. Found '{exc.token}'"
    if isinstance(exc, UnexpectedCharacters):
        return exc.line, exc.column, f"Syntax error. Found '{exc.char}'"
    return getattr(exc, "line", 1) or 1, getattr(exc, "column", 1) or 1, "Syntax error"


def parse_tree(text: str) -> Node:
    """The checked tree of a formula; FormulaSyntaxError with line and column on bad text."""
    if not text or not text.strip():
        raise FormulaSyntaxError("Formula is empty", 1, 1)
    try:
        tree = _PARSER.parse(text)
    except UnexpectedInput as exc:
        line, column, reason = _position(text, exc)
        raise FormulaSyntaxError(reason, line, column) from None
    try:
        return _BUILDER.transform(tree)
    except VisitError as exc:
        inner = exc.orig_exc
        if isinstance(inner, _ShapeError):
            raise FormulaSyntaxError(inner.reason, inner.token.line, inner.token.column) from None
        raise
