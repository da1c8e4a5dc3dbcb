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

    def __init__(self, message, *, file=None, sheet=None, row=None, column=None, hint=None):
        self.message = message
        self.file = file
        self.sheet = sheet
        self.row = row
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
