"""`tandem demo` commands."""

from tandem.cli import app  # noqa: F401
