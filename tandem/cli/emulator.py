"""`tandem emulator` commands."""

from tandem.cli import app  # noqa: F401
