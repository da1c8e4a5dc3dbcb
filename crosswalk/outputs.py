"""What a file crosswalk writes (an export, a report, a review workbook) may write over.

One rule for them all: never over a database (the crosswalk's own DATABASE, or any SQLite file),
whatever the options; over an existing file only where it is an earlier file of the same kind that
crosswalk wrote (a re-run of the same command), or with ``force``. A director's own task list,
standards CSV or notes named as OUT by mistake stay as they were, and so does a review workbook
named as a report's OUT.

How crosswalk knows its own files: a workbook by its sheets (a review workbook's, a report's); a
CSV by its first line, the header crosswalk writes; an SSSOM file by its metadata, which names
crosswalk's mapping set; a CASE package by its document, created by crosswalk. Workbooks are
signed too (:func:`mark`: their author is crosswalk, as Excel's file properties show).

Example::

    check_output("welding.csv", database="district.db", kind="csv", what="a CSV export",
                 header=["programs", "cte_code"])
"""

from __future__ import annotations

import csv
import html
import io
import os
import pathlib
import re
import zipfile

from .errors import CrosswalkError

AUTHOR = "crosswalk"
SQLITE_HEADER = b"SQLite format 3\x00"
SSSOM_TITLE = "CTE industry standards certifying academic standards (crosswalk)"
KINDS = ("workbook", "csv", "sssom", "case")
_READ = 4096  # bytes read to recognise a text file (every mark is in its first lines)


def mark(workbook) -> None:
    """Sign an openpyxl workbook as crosswalk's (its author)."""
    workbook.properties.creator = AUTHOR


def check_output(path, *, database=None, kind: str, what: str, header=None, force: bool = False,
                 sheets: tuple[str, ...] = ()) -> None:
    """Raise CrosswalkError unless crosswalk may write a ``kind`` file at ``path`` (module docstring).

    ``database``: its path, or the open database; ``what``: the file in words ("a review
    workbook"), for the error; ``header``: the columns of the CSV about to be
    written (kind "csv"); ``sheets``: the sheets of the workbook about to be written (kind
    "workbook")."""
    path = pathlib.Path(path)
    if path.is_dir():
        raise CrosswalkError(f"{path} is a folder; name the file to write")
    if not path.exists():
        if not path.parent.is_dir():
            raise CrosswalkError(f"cannot write {path}: the folder {path.parent} does not exist")
        return
    if database is not None and _same_file(path, database):
        raise CrosswalkError(f"{path} is the crosswalk's database; name another file to write")
    if _starts_with(path, SQLITE_HEADER):
        raise CrosswalkError(f"{path} is a database; crosswalk does not write over a database")
    if force or _written_by_crosswalk(path, kind, header, sheets):
        return
    raise CrosswalkError(f"{path} already exists and is not {what} that crosswalk wrote; "
                         "name another file, or use --force to replace it")


def _database_file(database) -> pathlib.Path | None:
    """The file of a database given as a path or as an open sqlite_utils Database (None: in memory)."""
    if hasattr(database, "execute"):
        files = [row[2] for row in database.execute("pragma database_list").fetchall() if row[1] == "main"]
        return pathlib.Path(files[0]) if files and files[0] else None
    return pathlib.Path(database)


def _same_file(path: pathlib.Path, database) -> bool:
    database = _database_file(database)
    if database is None:
        return False
    for candidate in (database, database.with_name(database.name + "-wal"), database.with_name(database.name + "-shm")):
        try:
            if candidate.exists() and os.path.samefile(path, candidate):
                return True
        except OSError:
            continue
    return False


def _starts_with(path: pathlib.Path, prefix: bytes) -> bool:
    try:
        with path.open("rb") as f:
            return f.read(len(prefix)) == prefix
    except OSError:
        return False


def _head(path: pathlib.Path) -> str:
    try:
        with path.open("rb") as f:
            return f.read(_READ).decode("utf-8-sig", errors="replace")
    except OSError:
        return ""


def _written_by_crosswalk(path: pathlib.Path, kind: str, header, sheets) -> bool:
    if kind == "workbook":
        return _sheets(path) == list(sheets)
    head = _head(path)
    if kind == "csv":
        first = next(csv.reader(io.StringIO(head.split("\n", 1)[0])), [])
        return header is not None and first == list(header)
    if kind == "sssom":
        return head.startswith("# ") and f"mapping_set_title: {SSSOM_TITLE}" in head
    if kind == "case":
        return head.lstrip().startswith("{") and re.search(r'"creator":\s*"crosswalk"', head) is not None
    raise ValueError(f"unknown kind {kind!r}; one of {KINDS}")


def _sheets(path: pathlib.Path) -> list[str] | None:
    """A workbook's sheet names, in order, read from its zip (None: not an .xlsx workbook)."""
    try:
        with zipfile.ZipFile(path) as z:
            book = z.read("xl/workbook.xml").decode("utf-8", errors="replace")
    except (OSError, zipfile.BadZipFile, KeyError):
        return None
    return [html.unescape(name) for name in re.findall(r'<(?:\w+:)?sheet\b[^>]*?\bname="([^"]*)"', book)]
