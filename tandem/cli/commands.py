"""Imports every command module so that each registers itself on the `tandem` app."""

from tandem.cli import actions, check, demo, emulator, lifecycle, pausing, people, policy, serve, sync, users  # noqa: F401
