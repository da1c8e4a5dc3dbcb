"""Errors the library raises; the CLI turns them into one clear message each."""

from __future__ import annotations


class CrosswalkError(Exception):
    """Something the user can fix: bad input, an unknown name, a wrong value."""


class SourceError(CrosswalkError):
    """A problem in a file being read, located as precisely as we can.

    Example::

        raise SourceError("the statement is empty", file="welding.xlsx",
                          sheet="Tasks", row=12, column="C (Statement)")
    """

    def __init__(self, message, *, file=None, sheet=None, row=None, column=None, hint=None, line=None):
        self.message = message
        self.file = file
        self.sheet = sheet
        self.row = row
        # A line of a text file, where its rows cannot be counted (a quote left open in a CSV file)
        self.line = line
        self.column = column
        self.hint = hint
        super().__init__(str(self))

    def location(self) -> str:
        parts = []
        if self.file:
            parts.append(str(self.file))
        if self.sheet:
            parts.append(f"sheet {self.sheet!r}")
        if self.row is not None:
            parts.append(f"row {self.row}")
        elif self.line is not None:
            parts.append(f"line {self.line}")
        if self.column:
            parts.append(f"column {self.column}")
        return ", ".join(parts)

    def __str__(self) -> str:
        where = self.location()
        text = f"{where}: {self.message}" if where else self.message
        if self.hint:
            text += f" ({self.hint})"
        return text


class NotFound(CrosswalkError):
    """A framework, program, standard or alignment that does not exist."""


# SQLite errors a user can act on (a traceback otherwise), and what to do about them.
SQLITE_REFUSALS = {
    "readonly database": "the database is read only (the file, the folder it is in, or its -wal and -shm "
                         "files beside it): crosswalk writes to them; make them writable, or copy the "
                         "database to a folder you can write to",
    "unable to open database file": "the database cannot be opened: its folder is read only or missing",
    "database is locked": "the database stayed locked by another program writing to it for 30 seconds; "
                          "try again when it has finished",
    "disk is full": "the disk is full: nothing was written",
}


def sqlite_refusal(error: Exception) -> str | None:
    """What to tell a user of an SQLite error about the database file itself (read only, locked past
    the busy timeout, a full disk), or None for any other error (a bug, to be reported as it is)."""
    text = str(error)
    return next((said for key, said in SQLITE_REFUSALS.items() if key in text), None)
