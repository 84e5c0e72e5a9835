"""Errors from formulas (validation rules, assignment rules).

FormulaError          the formula cannot be evaluated on this record (unknown field, wrong type,
 │                    division by zero): Salesforce shows "#Error!" or refuses the rule
 └── FormulaSyntaxError  the text does not parse, or calls a function wrongly; raised when the
                         rule is loaded, with the 1-based line and column
"""

from __future__ import annotations


class FormulaError(ValueError):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class FormulaSyntaxError(FormulaError):
    def __init__(self, message: str, line: int | None = None, column: int | None = None) -> None:
        where = f" (line {line}, column {column})" if line is not None else ""
        super().__init__(f"{message}{where}")
        self.reason = message
        self.line = line
        self.column = column
