"""Formula trees compiled once into closures over a `FormulaContext`.

Field types are known only from the context, so type rules that depend on them (picklists only
inside ISPICKVAL, TEXT, CASE…; unknown fields) are checked as each field is read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from tandem.emulator.formula import values
from tandem.emulator.formula.context import FormulaContext
from tandem.emulator.formula.errors import FormulaError
from tandem.emulator.formula.functions import EAGER
from tandem.emulator.formula.tree import Binary, Call, FieldRef, Literal, Node, Unary

Compiled = Callable[[FormulaContext], object]

PICKLIST_TYPES = {"picklist", "multipicklist"}
TEXT_TYPES = {"string", "textarea", "email", "phone", "url", "picklist", "multipicklist", "combobox",
              "id", "reference", "encryptedstring"}
# Functions whose first argument may be a picklist field.
_PICKLIST_FIRST = {"ISPICKVAL", "CASE", "TEXT", "ISBLANK", "ISCHANGED", "PRIORVALUE", "INCLUDES"}


def _now(ctx: FormulaContext) -> dt.datetime:
    return getattr(ctx, "now", None) or dt.datetime.now(dt.timezone.utc)


def _field_type(ctx: FormulaContext, name: str) -> str:
    kind = ctx.field_type(name)
    if kind is None:
        raise FormulaError(f"Field {name} does not exist. Check spelling.")
    return kind.lower()


def compile_node(node: Node, picklist_ok: bool = False) -> Compiled:
    if isinstance(node, Literal):
        value = node.value
        return lambda ctx: value
    if isinstance(node, FieldRef):
        return _field(node.name, picklist_ok)
    if isinstance(node, Unary):
        return _unary(node)
    if isinstance(node, Binary):
        return _binary(node)
    if isinstance(node, Call):
        return _call(node, picklist_ok)
    raise TypeError(f"not a formula node: {node!r}")


def _field(name: str, picklist_ok: bool) -> Compiled:
    def read(ctx: FormulaContext) -> object:
        kind = _field_type(ctx, name)
        if kind in PICKLIST_TYPES and not picklist_ok:
            raise FormulaError(
                f"Field {name} is a picklist field. Picklist fields are only supported in certain "
                "functions (ISPICKVAL, TEXT, CASE, ISBLANK, ISCHANGED, PRIORVALUE)."
            )
        return ctx.get(name)

    return read


def _unary(node: Unary) -> Compiled:
    operand = compile_node(node.operand)
    if node.op == "!":
        return lambda ctx: not values.truth(operand(ctx), "operator '!'")
    sign = -1 if node.op == "-" else 1

    def signed(ctx: FormulaContext) -> object:
        value = values.number(operand(ctx), f"operator '{node.op}'")
        return None if value is None else sign * value

    return signed


def _binary(node: Binary) -> Compiled:
    left, right, op = compile_node(node.left), compile_node(node.right), node.op
    if op == "&&":
        return lambda ctx: values.truth(left(ctx), "operator '&&'") and values.truth(right(ctx), "operator '&&'")
    if op == "||":
        return lambda ctx: values.truth(left(ctx), "operator '||'") or values.truth(right(ctx), "operator '||'")
    null_literal = _is_null(node.left) or _is_null(node.right)
    if op == "!=" and null_literal:
        # `x != NULL` asks "is x present", the one comparison with a blank that can be true.
        other = right if _is_null(node.left) else left
        return lambda ctx: not values.is_blank(other(ctx))
    simple = {
        "=": values.equals, "!=": values.not_equals, "+": values.add, "-": values.subtract, "&": values.concat,
    }
    if op in simple:
        fn = simple[op]
        return lambda ctx: fn(left(ctx), right(ctx))
    if op in ("<", "<=", ">", ">="):
        return lambda ctx: values.compare(op, left(ctx), right(ctx))
    return lambda ctx: values.arithmetic(op, left(ctx), right(ctx))


def _is_null(node: Node) -> bool:
    return isinstance(node, Literal) and node.value is None


def _call(node: Call, picklist_ok: bool) -> Compiled:
    name = node.name
    if name in EAGER:
        fn = EAGER[name][1]
        args = [compile_node(arg) for arg in node.args]
        if len(args) == 1:
            only = args[0]
            return lambda ctx: fn(only(ctx))
        return lambda ctx: fn(*(arg(ctx) for arg in args))
    args = [compile_node(arg, picklist_ok=(i == 0 and name in _PICKLIST_FIRST)) for i, arg in enumerate(node.args)]
    return _SPECIAL[name](node, args, picklist_ok)


def _and(node, args, _):
    return lambda ctx: all(values.truth(arg(ctx), "AND") for arg in args)


def _or(node, args, _):
    return lambda ctx: any(values.truth(arg(ctx), "OR") for arg in args)


def _not(node, args, _):
    (arg,) = args
    return lambda ctx: not values.truth(arg(ctx), "NOT")


def _if(node, args, _):
    test, then, otherwise = args
    return lambda ctx: then(ctx) if values.truth(test(ctx), "IF") else otherwise(ctx)


def _case(node, args, _):
    subject, *rest = args
    pairs, fallback = list(zip(rest[:-1:2], rest[1:-1:2])), rest[-1]

    def case(ctx: FormulaContext) -> object:
        value = subject(ctx)
        for candidate, result in pairs:
            if values.equals(value, candidate(ctx)):
                return result(ctx)
        return fallback(ctx)

    return case


def _isblank(node, args, _):
    (arg,) = args
    return lambda ctx: values.is_blank(arg(ctx))


def _isnull(node, args, _):
    (arg,) = args
    target = node.args[0]
    if isinstance(target, FieldRef):
        name = target.name
        # Salesforce: text fields are never null, so ISNULL of one is always false.
        return lambda ctx: False if _field_type(ctx, name) in TEXT_TYPES else arg(ctx) is None
    return lambda ctx: arg(ctx) is None


def _blankvalue(node, args, _):
    arg, substitute = args

    def blankvalue(ctx: FormulaContext) -> object:
        value = arg(ctx)
        return substitute(ctx) if values.is_blank(value) else value

    return blankvalue


def _nullvalue(node, args, _):
    arg, substitute = args

    def nullvalue(ctx: FormulaContext) -> object:
        value = arg(ctx)
        return substitute(ctx) if value is None else value

    return nullvalue


def _picklist_name(node: Call) -> str:
    first = node.args[0]
    return first.name if isinstance(first, FieldRef) else first.args[0].name  # PRIORVALUE(field)


def _ispickval(node, args, _):
    field_value, wanted = args
    name = _picklist_name(node)

    def ispickval(ctx: FormulaContext) -> bool:
        if _field_type(ctx, name) != "picklist":
            raise FormulaError(f"ISPICKVAL needs a picklist field; {name} is not one")
        return (field_value(ctx) or "") == wanted(ctx)

    return ispickval


def _includes(node, args, _):
    field_value, wanted = args
    name = _picklist_name(node)

    def includes(ctx: FormulaContext) -> bool:
        if _field_type(ctx, name) != "multipicklist":
            raise FormulaError(f"INCLUDES needs a multi-select picklist field; {name} is not one")
        chosen = (field_value(ctx) or "").split(";")
        return wanted(ctx) in chosen

    return includes


def _text(node, args, _):
    (arg,) = args
    return lambda ctx: values.to_text(arg(ctx))


def _ischanged(node, args, _):
    name = node.args[0].name

    def ischanged(ctx: FormulaContext) -> bool:
        _field_type(ctx, name)
        return bool(ctx.is_changed(name))

    return ischanged


def _priorvalue(node, args, picklist_ok):
    name = node.args[0].name

    def priorvalue(ctx: FormulaContext) -> object:
        if _field_type(ctx, name) in PICKLIST_TYPES and not picklist_ok:
            raise FormulaError(f"PRIORVALUE of picklist {name} can only be used in ISPICKVAL, TEXT or CASE")
        return ctx.prior(name)

    return priorvalue


def _isnew(node, args, _):
    return lambda ctx: bool(ctx.is_new)


def _today(node, args, _):
    """The date of `now` in its own time zone: the org hands formulas its users' now, as Salesforce
    counts TODAY() in the user's time zone."""
    return lambda ctx: _now(ctx).date()


def _now_fn(node, args, _):
    return lambda ctx: _now(ctx).astimezone(dt.timezone.utc)


_SPECIAL = {
    "AND": _and, "OR": _or, "NOT": _not, "IF": _if, "CASE": _case, "ISBLANK": _isblank, "ISNULL": _isnull,
    "BLANKVALUE": _blankvalue, "NULLVALUE": _nullvalue, "ISPICKVAL": _ispickval, "INCLUDES": _includes,
    "TEXT": _text, "ISCHANGED": _ischanged, "PRIORVALUE": _priorvalue, "ISNEW": _isnew, "TODAY": _today,
    "NOW": _now_fn,
}
