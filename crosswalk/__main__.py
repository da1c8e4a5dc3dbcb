"""``python -m crosswalk ...`` runs the command line, as the ``crosswalk`` script does."""

from .cli import cli

cli(prog_name="crosswalk")
