"""Imports every command module so that each registers itself on the `tandem` app."""

from tandem.cli import people, emulator, demo  # noqa: F401
