"""What a file crosswalk writes (an export, a report, a review workbook) may write over.

One rule for them all: never over a database (the crosswalk's own DATABASE, or any SQLite file),
whatever the options; over an existing file only where it is an earlier file of the same kind that
crosswalk wrote (a re-run of the same command), or with ``force``. A director's own task list,
standards CSV or notes named as OUT by mistake stay as they were, and so does a review workbook
named as a report's OUT.

Each writer says how it knows its own kind of file (``ours``), with the recognisers here: a
workbook by its sheets (:func:`has_sheets`: a review workbook's, a report's, whatever sheets a
committee added), a CSV by the first columns of its header (:func:`csv_header_starts`: a column
added by a later version does not make an earlier file a stranger), a text file by a line of
crosswalk's own (:func:`text_has`). Workbooks are signed too (:func:`mark`: their author is
crosswalk, as Excel's file properties show).

Example::

    check_output("welding.csv", database="district.db", what="a CSV export",
                 ours=csv_header_starts(["programs", "industry_framework", "cte_code"]))
"""

from __future__ import annotations

import contextlib
import csv
import html
import io
import os
import pathlib
import re
import sqlite3
import zipfile
from collections.abc import Callable, Iterator

from .errors import CrosswalkError

AUTHOR = "crosswalk"
SQLITE_HEADER = b"SQLite format 3\x00"  # the first 16 bytes of every SQLite database file
_READ = 4096  # bytes read to recognise a text file (every mark is in its first lines)


def mark(workbook) -> None:
    """Sign an openpyxl workbook as crosswalk's (its author)."""
    workbook.properties.creator = AUTHOR


def check_output(path, *, database=None, what: str, ours: Callable[[pathlib.Path], bool],
                 force: bool = False) -> None:
    """Raise CrosswalkError unless crosswalk may write ``what`` at ``path`` (module docstring).

    ``database``: its path, or the open database; ``what``: the file in words ("a review
    workbook"), for the error; ``ours``: whether an existing file is an earlier one of this kind."""
    path = pathlib.Path(path)
    if not file_there(path, "write"):
        return
    if database is not None and _same_file(path, database):
        raise CrosswalkError(f"{path} is the crosswalk's database; name another file to write")
    if is_sqlite_file(path):
        raise CrosswalkError(f"{path} is a database; crosswalk does not write over a database")
    if force or ours(path):
        return
    raise CrosswalkError(f"{path} already exists and is not {what} that crosswalk wrote; "
                         "name another file, or use --force to replace it")


@contextlib.contextmanager
def replacing(path) -> Iterator[pathlib.Path]:
    """The path to write a file at ``path`` through: a file beside it, put in its place (os.replace)
    once written whole. A write that fails half way (a full disk, Ctrl+C, an error) leaves the file
    that was there as it was, not a report or review workbook cut short, and no part file behind.
    What is not a regular file (/dev/stdout, a pipe) is written in place; a symbolic link's target
    is replaced, not the link."""
    path = pathlib.Path(path)
    if path.exists() and not path.is_file():
        yield path
        return
    target = path.resolve() if path.is_symlink() else path
    part = target.with_name(f".{target.name}.{os.getpid()}.part")
    try:
        yield part
        os.replace(part, target)
    finally:
        part.unlink(missing_ok=True)


def file_there(path: pathlib.Path, verb: str) -> bool:
    """Whether a file is at ``path`` already; CrosswalkError ("cannot {verb} ...") where none can be
    made there: a folder, a link to nothing, a folder that does not exist."""
    if path.is_dir():
        raise CrosswalkError(f"cannot {verb} {path}: it is a folder, not a file")
    if path.exists():
        return True
    if path.is_symlink():
        raise CrosswalkError(f"cannot {verb} {path}: it is a link to {os.readlink(path)}, which does not exist")
    if not path.parent.is_dir():
        raise CrosswalkError(f"cannot {verb} {path}: the folder {path.parent} does not exist")
    return False


def is_sqlite_file(path) -> bool:
    """Whether the file at ``path`` begins as an SQLite database does."""
    try:
        with open(path, "rb") as f:
            return f.read(len(SQLITE_HEADER)) == SQLITE_HEADER
    except OSError:
        return False


def database_file(database) -> pathlib.Path | None:
    """The file of a database given as a path or as an open sqlite_utils Database (None: in memory)."""
    if hasattr(database, "execute"):
        files = [row[2] for row in database.execute("pragma database_list").fetchall() if row[1] == "main"]
        return pathlib.Path(files[0]) if files and files[0] else None
    return pathlib.Path(database)


def _same_file(path: pathlib.Path, database) -> bool:
    database = database_file(database)
    if database is None:
        return False
    for candidate in (database, database.with_name(database.name + "-wal"), database.with_name(database.name + "-shm")):
        try:
            if candidate.exists() and os.path.samefile(path, candidate):
                return True
        except OSError:
            continue
    return False


def head(path: pathlib.Path, size: int | None = None) -> str:
    """The first few kilobytes (``size`` bytes) of a file as text (BOM dropped; what is not UTF-8
    replaced); "" where it cannot be read."""
    try:
        with open(path, "rb") as f:
            return f.read(size or _READ).decode("utf-8-sig", errors="replace")
    except OSError:
        return ""


def csv_header_starts(columns, first: int = 3) -> Callable[[pathlib.Path], bool]:
    """Recognises a CSV whose header begins with the ``first`` columns of ``columns``."""
    wanted = list(columns)[:first]

    def ours(path: pathlib.Path) -> bool:
        lines = head(path).splitlines()
        try:
            header = next(csv.reader(io.StringIO(lines[0])), []) if lines else []
        except csv.Error:  # not a CSV at all (a workbook, say)
            return False
        return header[:len(wanted)] == wanted

    return ours


def text_has(pattern: str) -> Callable[[pathlib.Path], bool]:
    """Recognises a text file whose first lines match the regular expression ``pattern``."""
    return lambda path: re.search(pattern, head(path)) is not None


def has_sheets(sheets) -> Callable[[pathlib.Path], bool]:
    """Recognises a workbook that holds these sheets (and maybe more)."""
    return lambda path: set(sheets) <= set(sheet_names(path) or ())


def sheet_names(path: pathlib.Path) -> list[str] | None:
    """A workbook's sheet names, in order, read from its zip (None: not an .xlsx workbook)."""
    try:
        with zipfile.ZipFile(path) as z:
            book = z.read("xl/workbook.xml").decode("utf-8", errors="replace")
    except (OSError, zipfile.BadZipFile, KeyError):
        return None
    return [html.unescape(name) for name in re.findall(r'<(?:\w+:)?sheet\b[^>]*?\bname="([^"]*)"', book)]


def read_only_connection(path, **kwargs) -> sqlite3.Connection:
    """A connection that can only read the SQLite file at ``path``: the one way crosswalk opens a file
    so (a URI made from the full path, percent-encoded: written raw, 'site#2/crosswalk.db' opened, and
    made, an empty file 'site', whose missing tables left every canned query out of a publish)."""
    return sqlite3.connect(pathlib.Path(path).resolve().as_uri() + "?mode=ro", uri=True, **kwargs)
