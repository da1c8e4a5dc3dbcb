"""``python -m crosswalk``: the command line, as the ``crosswalk`` command runs it."""

from .cli import cli

cli(prog_name="crosswalk")
