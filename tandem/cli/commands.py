"""Imports every command module so that each registers itself on the `tandem` app."""

from tandem.cli import actions, demo, emulator, lifecycle, people, serve, sync, users  # noqa: F401
