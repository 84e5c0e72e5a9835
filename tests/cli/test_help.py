"""Help reads as prose: every option explained, values named rather than typed, `--version`."""

from __future__ import annotations

import click
from click.testing import CliRunner

from tandem.cli import command
from tests.cli.running import tandem


def _commands(group: click.Command, path: tuple[str, ...] = ()):
    yield path, group
    for name, sub in getattr(group, "commands", {}).items():
        yield from _commands(sub, (*path, name))


def test_every_option_of_every_command_has_help():
    missing = [f"{' '.join(path)} {param.opts[0]}" for path, cmd in _commands(command())
               for param in cmd.params if param.param_type_name == "option" and not param.help]
    assert missing == []


def test_help_shows_no_type_tags():
    runner = CliRunner()
    for path, cmd in _commands(command()):
        shown = runner.invoke(command(), [*path, "--help"], terminal_width=80, env={"COLUMNS": "80"})
        assert shown.exit_code == 0, shown.output
        for tag in ("<bool>", "<str>", "<int>", "<list", "<float>", "<path>"):
            assert tag not in shown.stdout, (path, tag)
        assert all(len(line) <= 80 for line in shown.stdout.splitlines()), path


def test_version(tmp_path):
    from importlib.metadata import version

    shown = tandem(tmp_path, "--version")
    assert shown.returncode == 0 and shown.stdout == f"tandem {version('tandem')}\n"
