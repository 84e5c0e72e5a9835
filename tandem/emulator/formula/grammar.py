"""The Salesforce formula grammar (Lark, LALR), kept as a string so it ships with the package.

Precedence, loosest first: `||`, `&&`, comparisons, `+ - &`, `* /`, unary `- + !`, `^`.
Keywords and function names are case-insensitive.
"""

GRAMMAR = r"""
?start: expr

?expr: or_expr
?or_expr: and_expr
    | or_expr "||" and_expr         -> or_op
?and_expr: compare_expr
    | and_expr "&&" compare_expr    -> and_op
?compare_expr: sum_expr
    | compare_expr COMPARE sum_expr -> binary
?sum_expr: product_expr
    | sum_expr SUM_OP product_expr  -> binary
?product_expr: unary_expr
    | product_expr PRODUCT_OP unary_expr -> binary
?unary_expr: power_expr
    | UNARY_OP unary_expr           -> unary
?power_expr: atom
    | atom POWER_OP unary_expr      -> binary

?atom: NUMBER                       -> number
    | STRING                        -> string
    | _TRUE                         -> true
    | _FALSE                        -> false
    | _NULL                         -> null
    | NAME "(" [expr ("," expr)*] ")" -> call
    | NAME ("." NAME)*              -> field
    | "(" expr ")"

_TRUE: "TRUE"i
_FALSE: "FALSE"i
_NULL: "NULL"i

COMPARE: /==|=|!=|<>|<=|>=|<|>/
SUM_OP: /[+\-&]/
PRODUCT_OP: /[*\/]/
UNARY_OP: /[-+!]/
POWER_OP: "^"
NAME: /\$?[a-z_][a-z0-9_]*/i
NUMBER: /\d+(\.\d*)?|\.\d+/
STRING: /"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/s

%ignore /\s+/
%ignore /\/\*(.|\n)*?\*\//
"""
