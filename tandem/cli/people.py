"""`tandem people` commands."""

from tandem.cli import app  # noqa: F401
