"""SOQL literals built from values, quoted so that a value can never change the query."""

from __future__ import annotations


def soql_text(value: str) -> str:
    """A SOQL string literal: backslashes and quotes escaped."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
