"""Imports every command module so that each registers itself on the `tandem` app."""

from tandem.cli import actions, demo, emulator, people, serve, sync  # noqa: F401
