"""The README documents every command and every option (as STYLE.md asks)."""

import pathlib

import click

from crosswalk.cli import cli

README = (pathlib.Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def commands(group, prefix):
    for name, command in group.commands.items():
        yield prefix + [name], command
        if isinstance(command, click.Group):
            yield from commands(command, prefix + [name])


def test_every_command_is_in_the_readme():
    missing = [" ".join(path) for path, _ in commands(cli, []) if "crosswalk " + " ".join(path) not in README]
    assert missing == []


def test_every_option_is_in_the_readme():
    missing = []
    for path, command in commands(cli, []):
        for param in command.params:
            if isinstance(param, click.Option):
                longs = [o for o in param.opts + param.secondary_opts if o.startswith("--")]
                if longs and not any(o in README for o in longs):
                    missing.append(f"{' '.join(path)} {longs[0]}")
    assert missing == []
