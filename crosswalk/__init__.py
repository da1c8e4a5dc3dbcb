"""crosswalk: align industry credential standards with academic standards.

Import frameworks from spreadsheets, suggest alignments, review them, and
publish the reviewed crosswalk with Datasette. The library has no CLI
dependencies; ``crosswalk.cli`` is a thin face over it.
"""

__version__ = "0.1.0"
