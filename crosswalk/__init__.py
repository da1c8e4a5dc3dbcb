"""crosswalk: align industry credential standards with academic standards.

Import frameworks from spreadsheets, suggest alignments, review them, and
publish the reviewed crosswalk with Datasette. The library has no CLI
dependencies; ``crosswalk.cli`` is a thin face over it.
"""

import os

__version__ = "0.1.0"


def usable_cores() -> int:
    """How many cores this process may run on (its CPU affinity where the system has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not Linux
        return max(1, os.cpu_count() or 1)
