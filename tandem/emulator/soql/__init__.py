"""SOQL for the emulator: parse a query into an immutable tree, compile its WHERE into a
predicate, sort by its ORDER BY, and derive index bounds for the sync's range queries.

    query = parse_soql("SELECT Id FROM Contact WHERE Email LIKE '%@acme.example'")
    matches = compile_where(query.where, field_types)
    rows = sorted(filter(matches, getters), key=sort_key(query.order_by))
"""

from tandem.emulator.soql.bounds import Bounds, index_bounds
from tandem.emulator.soql.errors import SoqlError, SoqlFieldError, SoqlSyntaxError, SoqlTypeError
from tandem.emulator.soql.evaluate import compile_where, sort_key
from tandem.emulator.soql.parser import located_message, parse_soql
from tandem.emulator.soql.tree import (
    And,
    BooleanValue,
    Comparison,
    CountAll,
    CountField,
    DateLiteral,
    DateTimeValue,
    DateValue,
    Expr,
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
    SelectItem,
    StringValue,
    Value,
    where_fields,
)

__all__ = [
    "And", "BooleanValue", "Bounds", "Comparison", "CountAll", "CountField", "DateLiteral",
    "DateTimeValue", "DateValue", "Expr", "FieldRef", "FieldsMacro", "Includes", "InList", "Like",
    "Not", "NullValue", "NumberValue", "Or", "OrderItem", "Query", "SelectItem", "SoqlError",
    "SoqlFieldError", "SoqlSyntaxError", "SoqlTypeError", "StringValue", "Value", "compile_where",
    "index_bounds", "located_message", "parse_soql", "sort_key", "where_fields",
]
