"""Errors a SOQL query can raise, one per Salesforce error code the model maps them to.

SoqlError
 ├── SoqlSyntaxError   the text does not parse           → MALFORMED_QUERY
 ├── SoqlFieldError    a field the object does not have  → INVALID_FIELD
 └── SoqlTypeError     a literal or operator that does not
                       fit the field's type              → INVALID_FIELD / INVALID_QUERY_FILTER_OPERATOR
"""

from __future__ import annotations


class SoqlError(ValueError):
    """Base of every SOQL error; `message` is the text Salesforce would put in the error body."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class SoqlSyntaxError(SoqlError):
    """The query does not parse; `line` and `column` are 1-based when known."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None) -> None:
        super().__init__(message)
        self.line = line
        self.column = column


class SoqlFieldError(SoqlError):
    """A field path the schema does not know; `path` is the path as written in the query."""

    def __init__(self, path: tuple[str, ...]) -> None:
        self.path = path
        super().__init__(f"No such column '{'.'.join(path)}'")


class SoqlTypeError(SoqlError):
    """A literal or operator that does not fit the field's type (e.g. a date against a datetime).

    `error_code` is the code Salesforce answers with: INVALID_FIELD for a literal of the wrong
    type, INVALID_QUERY_FILTER_OPERATOR for an operator the field does not support or a bad Id.
    """

    def __init__(self, message: str, error_code: str = "INVALID_FIELD") -> None:
        super().__init__(message)
        self.error_code = error_code
