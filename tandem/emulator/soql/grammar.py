"""The SOQL grammar (Lark, LALR) for the subset the emulator serves.

Kept as a Python string so it ships with the package without package-data entries. Keywords
are case-insensitive terminals; because `NAME` is case-insensitive too, Lark re-types a NAME
that spells a keyword, so a keyword can never be used as a bare field name.

AND and OR cannot be mixed without parentheses, as in Salesforce (`a AND b OR c` is malformed).
"""

GRAMMAR = r"""
start: _SELECT select_list _FROM NAME where_clause? order_clause? limit_clause? offset_clause?

select_list: select_item ("," select_item)*
?select_item: field_path
    | _COUNT "(" ")"              -> count_all
    | _COUNT "(" field_path ")" NAME?  -> count_field
    | _FIELDS "(" NAME ")"        -> fields_macro

field_path: NAME ("." NAME)*

where_clause: _WHERE condition

?condition: unary
    | unary (_AND unary)+         -> and_
    | unary (_OR unary)+          -> or_

?unary: _NOT unary                -> not_
    | "(" condition ")"
    | field_path COMPARE value    -> comparison
    | field_path _LIKE STRING     -> like
    | field_path _IN "(" value ("," value)* ")"            -> in_list
    | field_path _NOT _IN "(" value ("," value)* ")"       -> not_in_list
    | field_path _INCLUDES "(" STRING ("," STRING)* ")"    -> includes
    | field_path _EXCLUDES "(" STRING ("," STRING)* ")"    -> excludes

?value: STRING                    -> string_value
    | NUMBER                      -> number_value
    | DATETIME                    -> datetime_value
    | DATE                        -> date_value
    | _NULL                       -> null_value
    | _TRUE                       -> true_value
    | _FALSE                      -> false_value
    | NAME (":" NUMBER)?          -> date_literal

order_clause: _ORDER _BY order_item ("," order_item)*
order_item: field_path (ASC | DESC)? (_NULLS (FIRST | LAST))?

limit_clause: _LIMIT NUMBER
offset_clause: _OFFSET NUMBER

_SELECT: "SELECT"i
_FROM: "FROM"i
_WHERE: "WHERE"i
_AND: "AND"i
_OR: "OR"i
_NOT: "NOT"i
_LIKE: "LIKE"i
_IN: "IN"i
_INCLUDES: "INCLUDES"i
_EXCLUDES: "EXCLUDES"i
_NULL: "NULL"i
_TRUE: "TRUE"i
_FALSE: "FALSE"i
_ORDER: "ORDER"i
_BY: "BY"i
_NULLS: "NULLS"i
_LIMIT: "LIMIT"i
_OFFSET: "OFFSET"i
_COUNT: "COUNT"i
_FIELDS: "FIELDS"i
ASC: "ASC"i
DESC: "DESC"i
FIRST: "FIRST"i
LAST: "LAST"i

COMPARE: /!=|<>|<=|>=|=|<|>/
NAME: /[a-z_][a-z0-9_]*/i
STRING: /'(?:[^'\\]|\\.)*'/s
DATETIME.3: /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})/i
DATE.2: /\d{4}-\d{2}-\d{2}/
NUMBER: /[+-]?(\d+(\.\d*)?|\.\d+)/

%ignore /\s+/
"""
