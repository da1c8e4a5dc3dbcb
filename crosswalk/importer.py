"""Importing a framework of standards into the database.

An import is one transaction: either every standard of the file lands, or
none does and the database is left exactly as it was. Re-importing an edited
file updates standards in place by their code (or by the one code that differs
from it in case only), so their ids (and every alignment and decision pointing
at them) stay put.

Example::

    from crosswalk.db import open_db
    from crosswalk.importer import import_file
    db = open_db("crosswalk.db")
    result = import_file(db, "welding.xlsx", framework="AWS SENSE Level 1", kind="industry")
    result.added, result.changed, result.retired
"""

from __future__ import annotations

import collections
import dataclasses
import datetime
import decimal
import hashlib
import json
import re

import sqlite_utils

from .db import KINDS, framework_name, named_row, now, typo_note, worked_on_sql, write_transaction
from .errors import CrosswalkError, SourceError
from .sources import (ColumnMapping, DateText, NoStatementColumn, ShownNumber, Table, cell_text, code_number,
                      header_names_with, map_columns, read_table, read_tables)
# parse_grades lives in text.py; it is imported here too because other modules import it from here.
from .text import parse_grades, plural, same_words, short_list


def standard_label(code: str, statement: str, width: int = 90) -> str:
    """What a link to a standard shows: its code and the start of its statement."""
    short = statement if len(statement) <= width else statement[: width - 1].rsplit(" ", 1)[0] + "…"
    return f"{code}: {short}"


# A date as Excel writes it into a CSV file: "10-Jan" (a code typed 1-10), "2-Jan" (1/2), "1/11/2024".
# In a workbook the cell says it is a date; in a CSV file only its shape does.
# Also "Apr-35" (a code typed 4-35: a month and a year), "1-Apr-35", and "04/01/24" (LibreOffice's dates).
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTH = "(?:" + "|".join(MONTHS) + ")"
EXCEL_DATE_TEXT = re.compile(rf"(?:\d{{1,2}}-{_MONTH}(?:-\d{{2}}|-\d{{4}})?|{_MONTH}-\d{{2}}"
                             r"|\d{1,2}/\d{1,2}/(?:\d{2}|\d{4}))\Z")
# A grade band a spreadsheet made a date of: 11-12 typed into Excel reads "12-Nov" in a CSV file.
DATE_GRADE_TEXT = re.compile(rf"(\d{{1,2}})-({_MONTH})\Z")
# A code kept as text the way Excel keeps one in a CSV file: ="007" (a formula whose value is the text 007,
# its quotes doubled inside), where 007 alone would read as the number 7.
EXCEL_TEXT_FORMULA = re.compile(r'="((?:[^"]|"")*)"\Z')


def text_hash(text: str) -> str:
    """A short, stable fingerprint of a statement's words (to notice edits on re-import), as
    :func:`crosswalk.text.same_words` compares them."""
    return hashlib.sha1(same_words(text).encode("utf-8")).hexdigest()[:16]


def _hash(text: str) -> str:
    normal = re.sub(r"\s+", " ", text).strip().lower()
    return hashlib.sha1(normal.encode("utf-8")).hexdigest()[:16]


@dataclasses.dataclass
class StandardRow:
    code: str
    statement: str
    parent_code: str | None
    grade: str | None
    subject: str | None
    domain: str | None
    cluster: str | None
    level: str | None
    source_row: int
    sheet: str | None = None
    # The number of a code read from a number cell (7 for a 7 formatted 000, read "007", or for a
    # plain 7): a standard stored under another writing of it ("7", "007") is this one (_diff). None
    # where the code is no number.
    number: float | None = None


@dataclasses.dataclass
class ImportResult:
    framework: str
    framework_id: int | None
    file: str
    sheet: str | None
    mapping: dict[str, str]
    rows: int = 0
    added: int = 0
    changed: int = 0
    unchanged: int = 0
    retired: int = 0
    flagged: int = 0
    unflagged: int = 0  # reviewed alignments no longer to re-review: their retired statement is back
    unknown_parents: int = 0
    dry_run: bool = False
    hierarchy: str | None = None
    preview: list[dict] = dataclasses.field(default_factory=list)
    warnings: list[str] = dataclasses.field(default_factory=list)
    added_codes: list[str] = dataclasses.field(default_factory=list)
    changed_codes: list[str] = dataclasses.field(default_factory=list)
    retired_codes: list[str] = dataclasses.field(default_factory=list)

    def summary(self) -> str:
        verb = "Would import" if self.dry_run else "Imported"
        text = (
            f"{verb} {plural(self.rows, 'standard')} into {self.framework!r} from {self.file}"
            + (f" (sheet {self.sheet!r})" if self.sheet else "")
            + f": {self.added} added, {self.changed} changed, {self.unchanged} unchanged, "
            f"{self.retired} retired"
        )
        if self.flagged:
            text += (f"; {plural(self.flagged, 'reviewed alignment')} "
                     f"{'would be ' if self.dry_run else ''}flagged for re-review")
        if self.unflagged:
            text += (f"; {plural(self.unflagged, 'reviewed alignment')} no longer to re-review "
                     "(the retired statement is back, in the same words)")
        return text

    def details(self, limit: int = 10) -> list[str]:
        """One line each for the codes added, changed and retired (at most ``limit`` codes a line)."""

        lines = []
        for label, items in (("added", self.added_codes), ("changed", self.changed_codes),
                             ("retired", self.retired_codes)):
            if items and (self.framework_id is not None or self.dry_run):
                lines.append(f"{label}: {short_list(items, limit)}")
        return lines


# Longer than this is not a standard's statement but a wrong column or a pasted document.
MAX_STATEMENT = 10_000
MAX_CODE = 200
# A row with text but no code, this short, is a section heading (domain) for the rows below.
MAX_HEADING = 150

DECIMAL_CODE = re.compile(r"^(\d+)\.(\d+)$")
# A row with no code whose text opens as a note does ("Note: all competencies must be demonstrated...",
# "* Hours are recommended", "Source: ..."): a note under the table, neither a standard nor a heading.
# (A line opening with "*" is a footnote only beside coded rows: a list without codes may bullet its statements.)
NOTE_ROW = re.compile(r"(?:notes?|source|sources|footnote|revised|updated)\b\s*[:\-–—]", re.IGNORECASE)
# What a spreadsheet holds in a cell whose formula failed: Excel's error values, and LibreOffice's
# own ("Err:502") where it saved one as text.
ERROR_VALUES = frozenset(("#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA",
                          "#SPILL!", "#CALC!", "#FIELD!", "#BLOCKED!", "#CONNECT!", "#BUSY!", "#UNKNOWN!"))
LIBREOFFICE_ERROR = re.compile(r"^Err:\d{3}$")


def _date_text(value) -> str:
    """A date as a person would read it: 2024-01-10, or with its time where it has one (an .ods
    date: its text as the spreadsheet shows it)."""
    if isinstance(value, DateText):
        return str(value)
    if isinstance(value, datetime.datetime) and value.time() == datetime.time(0):
        return value.date().isoformat()
    return value.isoformat(sep=" ") if isinstance(value, datetime.datetime) else value.isoformat()


class NoStandards(SourceError):
    """A sheet with a header and nothing below it."""


def extract_rows(table: Table, mapping: ColumnMapping, *, default_subject: str | None = None,
                 default_domain: str | None = None) -> list[StandardRow]:
    """Turn a table's rows into standards, checking each one.

    Blank rows and rows repeating the header are skipped (with a note); a
    short row with text and no code is read as a section heading (the domain
    of the rows below it); a code used twice, a NUL character, a
    formula never calculated or a cell far too long is an error naming the row
    and column. A code or parent code a CSV file keeps as text the way Excel does,
    ``="007"``, is read as ``007``. When no parent column is given, the hierarchy comes from the
    outline levels or indentation of the rows, or else from code prefixes
    (``1.2.a`` is a child of ``1.2``). Notes go to ``table.warnings``.

    Example::

        rows = extract_rows(table, map_columns(table))
    """

    def raw(values, index):
        return values[index] if index is not None and index < len(values) else None

    def get(values, index, number, field):
        if index is None:
            return ""
        if (number, index) in table.uncalculated:
            raise table.error(
                f"the {field} is a formula ({table.uncalculated[(number, index)][:60]}) that was never "
                "calculated, so the file holds no value for it",
                row=number, column=index,
                hint="open the file in Excel or LibreOffice, let it recalculate, and save it again",
            )
        if index >= len(values):
            return ""
        value = values[index]
        if field == "grade" and (band := _grade_band_from_date(value, table.file_format == "csv")):
            date_grades.append(f"{number} ({band})")
            return band
        if isinstance(value, ShownNumber) and field not in ("code", "parent"):
            value = value.number  # (a grade 10 under 0.0 is grade 10, not "10.0": only codes read as shown)
        text = cell_text(value)
        if text in ERROR_VALUES or LIBREOFFICE_ERROR.match(text):
            raise table.error(
                f"the {field} is the error value {text}: the formula in this cell failed, so the file "
                "holds no value for it", row=number, column=index,
                hint="fix the formula, or type the value, and import again")
        if field == "code" and (isinstance(values[index], (datetime.date, datetime.time, DateText))
                                or (table.file_format == "csv" and EXCEL_DATE_TEXT.match(text))):
            shown = _date_text(values[index]) if not isinstance(values[index], str) else text
            raise table.error(
                f"the code is a date ({shown}): a spreadsheet turns a code typed "
                "like 1-10 or 1/2 into a date", row=number, column=index,
                hint="format the code column as Text, type the codes again, and import again")
        if field in ("code", "parent") and table.file_format == "csv" and (kept := EXCEL_TEXT_FORMULA.match(text)):
            text = kept.group(1).replace('""', '"').strip()
        if "\x00" in text:
            raise table.error(
                f"the {field} holds a NUL character (byte 0) at position {text.index(chr(0)) + 1:,}; "
                "SQLite's search and text functions would stop there",
                row=number, column=index, hint="remove the character in the file and import it again",
            )
        limit = MAX_STATEMENT if field == "statement" else MAX_CODE if field == "code" else MAX_STATEMENT
        if len(text) > limit:
            raise table.error(
                f"the {field} is {len(text):,} characters long; expected at most {limit:,} "
                f"(is this the right column?)",
                row=number, column=index,
            )
        return text

    out: list[StandardRow] = []
    seen: dict[str, int] = {}
    seen_folded: dict[str, tuple[str, int]] = {}  # each code in any case: the first as written, its row
    case_only: list[str] = []
    numeric_codes: list[tuple[int, str]] = []
    date_grades: list[str] = []
    notes: list[int] = []
    headings: list[int] = []
    repeated_headers: list[int] = []
    heading = None
    # Each row's next code below it (a section's number is followed by its first task's).
    code_below: dict[int, str] = {}
    below = ""
    for number, values in reversed(table.rows):
        code_below[number] = below
        below = cell_text(raw(values, mapping.code)) or below
    for number, values in table.rows:
        if table.repeats_header(values):
            repeated_headers.append(number)
            continue
        statement = get(values, mapping.statement, number, "statement")
        code = get(values, mapping.code, number, "code") if mapping.code is not None else ""
        if not statement and not code:
            continue  # spacer row
        # A heading written across the row (merged over the code and statement columns, so both read
        # it) or in the code column alone, in words no code is written in: the domain of the rows below,
        # not a standard (a director's walk: "Unit 1: Kitchen Basics" was an error, or a standard of code
        # and statement "Unit 1: Kitchen Basics", matched and counted as a task).
        if mapping.code is not None and len(code) <= MAX_HEADING and "\n" not in code and (
                code == statement or (not statement and _heading_words(code))):
            heading = code
            headings.append(number)
            continue
        if mapping.code is not None and _section_heading(code, statement, code_below[number]):
            heading = f"{code} {statement}"
            headings.append(number)
            continue
        if not statement:
            raise table.error(
                f"the statement is empty for code {code!r} (expected the text of the standard)",
                row=number,
                column=mapping.statement,
            )
        if not code and (NOTE_ROW.match(statement) or mapping.code is not None and statement.startswith("*")):
            notes.append(number)
            continue
        if mapping.code is None:
            # No code column: key the standard by its text, so re-imports still match. (As first written:
            # codes made before text_hash read NFC stay what they were.)
            code = "T-" + _hash(statement)[:10]
        elif not code:
            if len(statement) <= MAX_HEADING and "\n" not in statement:
                heading = statement
                headings.append(number)
                continue
            raise table.error(
                "the code is empty (every standard needs a code so that re-imports keep its reviews)",
                row=number,
                column=mapping.code,
                hint=f"type its code, or delete the row if it is a note rather than a standard "
                     f"({statement[:60]!r}{'...' if len(statement) > 60 else ''})",
            )
        code_value = raw(values, mapping.code)
        if isinstance(code_value, float):
            numeric_codes.append((number, code))
        if code in seen and mapping.code is None:
            raise table.error(
                f"the same statement is also on row {seen[code]} (with no code column, a standard is known "
                "by its statement)", row=number, column=mapping.statement,
                hint="add a code column, or remove one of the two rows")
        if code in seen:
            hint = None
            if isinstance(code_value, float) or DECIMAL_CODE.match(code):
                hint = (f"the spreadsheet stores {code} as a number, so a code typed {code}0 "
                        f"also reads {code}; format the code column as Text and type the codes again")
            raise table.error(
                f"duplicate code {code!r}: it is also on row {seen[code]}",
                row=number,
                column=mapping.code if mapping.code is not None else mapping.statement,
                hint=hint,
            )
        same = seen_folded.setdefault(code.casefold(), (code, number))
        if same[0] != code:
            case_only.append(f"{same[0]} (row {same[1]}) and {code} (row {number})")
        seen[code] = number
        out.append(
            StandardRow(
                code=code,
                statement=statement,
                parent_code=get(values, mapping.parent, number, "parent") or None,
                grade=get(values, mapping.grade, number, "grade") or None,
                subject=get(values, mapping.subject, number, "subject") or default_subject,
                domain=get(values, mapping.domain, number, "domain") or heading or default_domain,
                cluster=get(values, mapping.cluster, number, "cluster") or None,
                level=get(values, mapping.level, number, "level") or None,
                source_row=number,
                sheet=table.sheet,
                number=(code_value.number if isinstance(code_value, ShownNumber) else
                        code_value if isinstance(code_value, (int, float)) and not isinstance(code_value, bool)
                        else None),
            )
        )
    if not out:
        raise NoStandards("has a header but no standards below it", file=table.file, sheet=table.sheet,
                          row=table.header_row)
    where = f"sheet {table.sheet!r} " if table.sheet else ""
    if mapping.code is None:
        table.warnings.append(
            f"{where or 'the file '}has no code column: each standard's code is made from its statement ({out[0].code} on row "
            f"{out[0].source_row}), so a statement edited later is a new standard and the old one's decisions "
            "are kept as retired, not flagged to re-review; add a code column (or name it with --code-column) "
            "to keep them")
    if repeated_headers:
        table.warnings.append(
            f"{where}rows repeating the header (row {table.header_row}) skipped: "
            + short_list([str(n) for n in repeated_headers])
        )
    if headings:
        table.warnings.append(
            f"{where}rows read as section headings (the domain of the rows below): "
            + short_list([str(n) for n in headings])
        )
    if notes:
        table.warnings.append(f"{where}rows without a code read as notes, not standards: "
                              + short_list([str(n) for n in notes]))
    unread = [f"{row.source_row} ({row.grade!r})" for row in out if row.grade and parse_grades(row.grade) == (None, None)]
    if unread:
        table.warnings.append(f"{where}grades not understood, left without a grade band (so counted in every "
                              "band): rows " + short_list(unread) + "; write them as 9-12, K-5, HS or Grade 8")
    if date_grades:
        table.warnings.append(
            f"{where}grades a spreadsheet had turned into dates (11-12 typed, saved as 12-Nov) read as the "
            "bands typed, on rows " + short_list(date_grades) + "; format the grade column as Text")
    if case_only:  # two standards, as written (a re-import tells them apart: _written_in_another_case)
        table.warnings.append(
            f"{where}codes that differ only in case are two standards: " + short_list(case_only)
            + "; a decision or code written in a third case (Ab.1 for ab.1 and AB.1) finds neither")
    _check_numeric_codes(table, out, numeric_codes)
    return out


def _grade_band_from_date(value, csv: bool) -> str | None:
    """The grade band a spreadsheet turned into a date, as it was typed: 11-12 became 12 November
    (a date cell, or "12-Nov" in a CSV file), 9-12 12 September; the two numbers in order, each a
    grade (the date's month and day: typed month first, or day first as Europe's Excel reads it).
    None for any other value. Left as it was, "12-Nov" read as grade 12 alone and "10-Sep" as 10."""
    if isinstance(value, (datetime.date, datetime.datetime)) and not isinstance(value, DateText):
        numbers = (value.month, value.day)
    elif isinstance(value, str) and csv and (match := DATE_GRADE_TEXT.match(value.strip())):
        numbers = (MONTHS.index(match.group(2)) + 1, int(match.group(1)))
    else:
        return None
    low, high = sorted(numbers)
    return f"{low}-{high}" if high <= 12 and low < high else None


def _check_numeric_codes(table: Table, rows: list[StandardRow], numeric_codes) -> None:
    """Report codes a spreadsheet turned into numbers (1.10 → 1.1), and likely victims."""
    where = f"sheet {table.sheet!r} " if table.sheet else ""
    if numeric_codes:
        table.warnings.append(
            f"{where}codes stored as numbers without a format that shows them on rows "
            + short_list([f"{n} ({c})" for n, c in numeric_codes])
            + ": a code typed 1.10 reads as 1.1; format the code column as Text"
        )
    # 1.8, 1.9, 1.1 in a row: the last one was almost certainly typed 1.10.
    suspects = []
    for before, after in zip(rows, rows[1:]):
        a, b = DECIMAL_CODE.match(before.code), DECIMAL_CODE.match(after.code)
        if a and b and a.group(1) == b.group(1) and before.code.endswith("9") and b.group(2) == "1" \
                and int(a.group(2)) >= 9:
            suspects.append(f"{after.code} on row {after.source_row} (after {before.code})")
    if suspects:
        table.warnings.append(
            f"{where}codes that were probably typed with a trailing 0 and lost it: " + short_list(suspects)
        )


def _heading_words(text: str) -> bool:
    """Whether a code cell with no statement beside it reads as a heading: three words or more ("Unit
    1: Kitchen Basics"), or a number and a word ("1.0 SAFETY", "Duty KNIVES"); not a code with a space
    ("AUT 101"), which is a standard missing its statement."""
    words = text.split()
    return len(words) >= 3 or len(words) == 2 and words[1].isalpha() and len(words[1]) >= 4


def _section_heading(code: str, statement: str, next_code: str) -> bool:
    """Whether a coded row is a section's title: "1.0 | SAFETY" above 1.1, 1.2... as programs of
    study number their duty areas, its words in capitals (a standard's statement has lower-case
    letters), the next code below it its own followed by more ("1.1", "A.1"; 1.0 read as 1).
    Read as a standard, the duty area was matched and reviewed as a task."""
    words = statement.split()
    if not words or len(words) > 12 or len(statement) > MAX_HEADING or not any(ch.isalpha() for ch in statement):
        return False
    if statement != statement.upper():
        return False
    stem = re.sub(r"\.0+$", "", code)
    if not stem or not next_code.startswith(stem) or next_code in (code, stem):
        return False
    rest = next_code[len(stem):]
    # "1.1", "A-1", or "A1" / "1a" (a letter beside a digit); not "10" after "1".
    return len(rest) > 1 and rest[0] in ".-_ " or rest[0].isalnum() and rest[0].isdigit() != stem[-1].isdigit()


def derive_hierarchy(table: Table, mapping: ColumnMapping, rows: list[StandardRow]) -> str | None:
    """Fill in parent codes when the file has no parent column; say where they came from.

    Outline levels (Excel's grouped rows) win, then indentation of the
    statement (or code) cells, then code prefixes: ``1.2.a`` → ``1.2`` → ``1``.
    """
    if mapping.parent is not None:
        return "parent column"
    levels = None
    if len({table.outline.get(r.source_row, 0) for r in rows}) > 1:
        levels, source = {r.source_row: table.outline.get(r.source_row, 0) for r in rows}, "outline levels"
    else:
        for column in (mapping.statement, mapping.code):
            if column is None:
                continue
            found = {r.source_row: table.indents.get((r.source_row, column), 0) for r in rows}
            if len(set(found.values())) > 1:
                levels, source = found, "indentation"
                break
    if levels is not None:
        stack: list[tuple[int, str]] = []  # (level, code) of the open ancestors
        for row in rows:
            level = levels[row.source_row]
            while stack and stack[-1][0] >= level:
                stack.pop()
            row.parent_code = stack[-1][1] if stack else None
            stack.append((level, row.code))
        return source
    codes = {r.code for r in rows}
    found_any = False
    for row in rows:
        candidate = row.code
        while True:
            match = re.match(r"^(.+?)[.\-_ ][^.\-_ ]+$", candidate)
            if not match:
                break
            candidate = match.group(1)
            # "1.0" numbers section 1 where its tasks are 1.1, 1.2...
            parent = candidate if candidate in codes else f"{candidate}.0" if f"{candidate}.0" in codes else None
            if parent is not None and parent != row.code:
                row.parent_code = parent
                found_any = True
                break
    return "code prefixes" if found_any else None


def drop_self_parents(rows: list[StandardRow]) -> list[StandardRow]:
    """Read standards that name themselves as their parent as having none; returns them.

    A slip of real files (the CCSS math file names MP1 as its own parent), with
    only one reading; a longer circle has no such reading and is refused.
    """
    slips = [row for row in rows if row.parent_code is not None and row.parent_code == row.code]
    for row in slips:
        row.parent_code = None
    return slips


def hierarchy_cycle(rows: list[StandardRow]) -> list[StandardRow] | None:
    """The standards of a chain of parents that comes back to where it started, if there is one.

    Example::

        hierarchy_cycle(rows)   # [A, B] when A's parent is B and B's parent is A
    """
    by_code = {row.code: row for row in rows}
    done: set[str] = set()
    for row in rows:
        chain: list[StandardRow] = []
        at: dict[str, int] = {}
        code = row.code
        while code in by_code and code not in done:
            if code in at:
                return chain[at[code]:]
            at[code] = len(chain)
            chain.append(by_code[code])
            code = by_code[code].parent_code
        done.update(at)
    return None


def describe_cycle(cycle: list[StandardRow], place) -> str:
    """``A (row 2) → B (row 3) → A``, each standard with its place in the file."""
    return " → ".join(f"{row.code} ({place(row)})" for row in cycle) + f" → {cycle[0].code}"


def _check_parents(rows: list[StandardRow], *, file: str, column: str | None, several_sheets: bool,
                   warnings: list[str]) -> None:
    """A standard that is its own parent gets none (with a note); a longer circle is an error."""

    def place(row):
        return (f"sheet {row.sheet!r}, " if several_sheets else "") + f"row {row.source_row}"

    slips = drop_self_parents(rows)
    if slips:
        warnings.append("standards naming themselves as their parent were imported without one: "
                        + short_list([f"{row.code} ({place(row)})" for row in slips]))
    cycle = hierarchy_cycle(rows)
    if cycle:
        raise SourceError(
            "the parent codes go round in a circle: " + describe_cycle(cycle, place),
            file=file, sheet=cycle[0].sheet, row=cycle[0].source_row, column=column,
            hint="a standard can not be its own ancestor: correct the parent code of one of them",
        )


@dataclasses.dataclass
class PreparedImport:
    """A file read and checked, ready to import: nothing has touched a database yet."""

    file: str
    sheet: str | None
    mapping: dict[str, str]
    rows: list[StandardRow]
    hierarchy: str | None
    warnings: list[str]
    encoding: str | None = None
    unread: list[str] = dataclasses.field(default_factory=list)  # named columns no field reads (first sheet)


def prepare_import(path, *, sheet: str | None = None, all_sheets: bool = False,
                   columns: dict[str, str | None] | None = None, subject: str | None = None) -> PreparedImport:
    """Read and check a spreadsheet or CSV file without touching any database.

    With ``all_sheets`` every sheet that has a statement column is read, and
    the sheet name becomes the domain of its standards (unless a domain column
    says otherwise); codes must be unique across sheets.

    Example::

        prepared = prepare_import("welding.xlsx", sheet="Tasks", columns={"code": "Task ID"})
        len(prepared.rows), prepared.mapping
    """
    columns = columns or {}
    if all_sheets and sheet:
        raise CrosswalkError("use either a sheet name or all sheets, not both")
    names = header_names_with(columns.values())
    tables = read_tables(path, names) if all_sheets else [read_table(path, sheet=sheet, header_names=names)]
    rows: list[StandardRow] = []
    warnings: list[str] = []
    mapping_shown: dict[str, str] = {}
    unread: list[str] = []
    hierarchy = None
    seen: dict[str, tuple[str | None, int]] = {}
    used_sheets = []
    for table in tables:
        try:
            mapping = map_columns(table, **columns)
        except NoStatementColumn as exc:
            if all_sheets and len(tables) > 1:
                warnings.append(f"sheet {table.sheet!r} left out: it has no statement column")
                continue
            others = [name for name in table.sheets or () if name != table.sheet]
            if sheet is None and not all_sheets and others:  # the first sheet: a cover, instructions
                exc.hint = (f"name it with --text-column, or read another sheet with --sheet "
                            f"({short_list([repr(name) for name in others])}) or every one with --all-sheets")
            raise
        default_domain = table.sheet if all_sheets and len(tables) > 1 else None
        try:
            these = extract_rows(table, mapping, default_subject=subject, default_domain=default_domain)
        except NoStandards:
            if all_sheets and len(tables) > 1:  # a template sheet, a tab kept for later
                warnings.append(f"sheet {table.sheet!r} left out: it has a header but no standards below it")
                continue
            raise
        hierarchy = derive_hierarchy(table, mapping, these) or hierarchy
        for row in these:
            if row.code in seen:
                other_sheet, other_row = seen[row.code]
                raise table.error(
                    f"duplicate code {row.code!r}: it is also on sheet {other_sheet!r}, row {other_row}",
                    row=row.source_row, column=mapping.code,
                    hint="with --all-sheets the codes must differ across sheets; where each sheet numbers "
                         "its own, import each with --sheet as a framework of its own",
                )
            seen[row.code] = (row.sheet, row.source_row)
        rows.extend(these)
        warnings.extend(table.warnings)
        used_sheets.append(table.sheet)
        if not mapping_shown:
            mapping_shown = mapping.describe(table)
            unread = mapping.unread(table)
    if not rows:
        raise SourceError("no sheet has a statement column", file=tables[0].file,
                          hint="name the column with --text-column")
    _check_parents(rows, file=tables[0].file, column=mapping_shown.get("parent"),
                   several_sheets=len(used_sheets) > 1, warnings=warnings)
    sheet_label = used_sheets[0] if len(used_sheets) == 1 else ", ".join(str(s) for s in used_sheets)
    encoding = tables[0].encoding
    if encoding and encoding != "utf-8":
        warnings.insert(0, f"read as {encoding}")
    return PreparedImport(file=tables[0].file, sheet=sheet_label, mapping=mapping_shown, rows=rows,
                          hierarchy=hierarchy, warnings=warnings, encoding=encoding, unread=unread)


def import_file(
    db: sqlite_utils.Database,
    path,
    *,
    framework: str,
    kind: str | None = None,
    sheet: str | None = None,
    all_sheets: bool = False,
    publisher: str | None = None,
    version: str | None = None,
    subject: str | None = None,
    license: str | None = None,
    attribution: str | None = None,
    source_url: str | None = None,
    columns: dict[str, str | None] | None = None,
    dry_run: bool = False,
    progress=None,
    prepared: PreparedImport | None = None,
    retire_missing: bool = False,
) -> ImportResult:
    """Read a spreadsheet or CSV and import (or re-import) it as a framework.

    ``columns`` names columns for fields (``{"code": "Task ID"}``); the rest are
    found by their usual names. With ``dry_run`` nothing is written. Pass a
    ``prepared`` import (from :func:`prepare_import`) to skip reading the file again.
    A re-import that leaves out more than half of the framework's standards is refused
    unless ``retire_missing`` (see :func:`import_rows`). ``kind``: industry or academic; None: the
    framework's own on a re-import, industry for a new one.
    """
    if kind is None:
        existing = named_row(db, "frameworks", framework)
        kind = existing["kind"] if existing else "industry"
    if kind not in KINDS:
        raise CrosswalkError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    if prepared is None:
        prepared = prepare_import(path, sheet=sheet, all_sheets=all_sheets, columns=columns, subject=subject)
    meta = dict(
        name=framework, kind=kind, publisher=publisher, version=version, subject=subject,
        license=license, attribution=attribution, source_url=source_url,
        source_file=prepared.file,
    )
    return import_rows(db, prepared.rows, meta, file=prepared.file, sheet=prepared.sheet,
                       mapping=prepared.mapping, hierarchy=prepared.hierarchy,
                       warnings=prepared.warnings, dry_run=dry_run, progress=progress,
                       retire_missing=retire_missing)


def import_rows(db, rows: list[StandardRow], meta: dict, *, file: str, sheet: str | None = None,
                mapping: dict | None = None, hierarchy: str | None = None, warnings=(),
                dry_run: bool = False, progress=None, retire_missing: bool = False) -> ImportResult:
    """Write checked standards into a framework (created, or updated in place by code).

    ``meta`` holds the framework's ``name``, ``kind`` and optional metadata.
    Used by spreadsheet and CASE imports alike; one transaction. A re-import that would retire
    more than half of the framework's active standards is refused (nothing written; a dry run says
    so) unless ``retire_missing``.

    Example::

        import_rows(db, rows, {"name": "Welding", "kind": "industry"}, file="welding.xlsx")
    """
    meta = {**meta, "name": str(meta["name"] or "").strip()}  # " Welding " names 'Welding', as every lookup reads it
    if not meta["name"]:
        raise CrosswalkError("a framework needs a name (--framework)")
    result = ImportResult(
        framework=meta["name"], framework_id=None, file=file, sheet=sheet, mapping=mapping or {},
        rows=len(rows), dry_run=dry_run, hierarchy=hierarchy, warnings=list(warnings),
    )
    if db is not None:
        result.warnings.extend(typo_note(db, "frameworks", meta["name"], would=dry_run))
    if dry_run:
        result.preview = [dataclasses.asdict(r) for r in rows[:5]]
        existing = _existing_framework(db, meta) if db is not None else None
        if existing:
            result.framework = existing["name"]
            _diff(db, existing["id"], rows, result, write=False, file=file, retire_missing=retire_missing)
        else:
            result.added = len(rows)
            result.added_codes = [r.code for r in rows]
        return result
    # BEGIN IMMEDIATE: with a deferred transaction, another writer's commit between this one's first read
    # and first write was 'database is locked' at once, the busy timeout never waited (a match running).
    with write_transaction(db):
        # One time for the whole import: its standards, their flags in the review log, the import log
        # (read at each step, a slow import's flags and its log entry fell a second apart).
        stamp = now()
        framework_id, described_anew = _upsert_framework(db, meta)
        result.framework_id = framework_id
        result.framework = framework_name(db, framework_id)
        _diff(db, framework_id, rows, result, write=True, file=file, progress=progress,
              retire_missing=retire_missing, stamp=stamp)
        # imported_at is a CASE export's lastChangeDateTime: it moves only where the import changed
        # something (a re-import that changes nothing leaves it; the import is logged below).
        if described_anew or result.added or result.changed or result.retired:
            db.execute("update frameworks set imported_at = ? where id = ?", [stamp, framework_id])
        db["import_log"].insert(
            dict(
                framework_id=framework_id, source_file=file, source_sheet=sheet,
                added=result.added, changed=result.changed, unchanged=result.unchanged,
                retired=result.retired, at=stamp,
            )
        )
    return result


def _existing_framework(db, meta: dict) -> dict | None:
    """The framework ``meta`` names already (None: a new one), if it is of the same kind."""
    row = named_row(db, "frameworks", meta["name"])
    if row and row["kind"] != meta["kind"]:
        raise CrosswalkError(f"framework {row['name']!r} already exists as {row['kind']}; "
                             f"re-import it with --kind {row['kind']}")
    return row


def _upsert_framework(db, meta: dict) -> tuple[int, bool]:
    """The framework's id, created or with ``meta`` written, and whether that changed its row."""
    row = _existing_framework(db, meta)
    values = {k: v for k, v in meta.items() if v is not None}
    if row:
        values["name"] = row["name"]  # the name as it was first written: "welding tasks" updates 'Welding tasks'
        if not any(row[k] != v for k, v in values.items()):
            return row["id"], False
        db["frameworks"].update(row["id"], values)
        return row["id"], True
    return db["frameworks"].insert(values).last_pk, True


def _diff(db, framework_id: int, rows: list[StandardRow], result: ImportResult, *, write: bool,
          file: str, progress=None, retire_missing: bool = False, stamp: str | None = None) -> None:
    existing = {
        r["code"]: r
        for r in db.query(
            "select id, code, statement, text_hash, status, parent_code, grade, subject, domain, "
            "cluster, level, position, source_row, source_sheet, source_file "
            "from standards where framework_id = ?",
            [framework_id],
        )
    }
    recased = _written_in_another_case(db, framework_id, rows, existing)
    if recased:
        result.warnings.append(
            "codes written in another case are the same standards (updated in place, their decisions kept): "
            + short_list([f"{old['code']} → {code}" for code, old in recased.items()]))
    renumbered = _same_number(rows, existing, recased)
    if renumbered:
        result.warnings.append(
            "codes from number cells written otherwise than before (their zeros) are the same standards "
            "(updated in place, their decisions kept): "
            + short_list([f"{old['code']} → {code}" for code, old in renumbered.items()]))
        recased = {**recased, **renumbered}
    # Each statement's words, stored and in the file, hashed once (text_hash): compared for each
    # standard, and across them for statements now under another code (_recoded, _statements_moved).
    words_before = {code: text_hash(old["statement"]) for code, old in existing.items()}
    words_now = {row.code: text_hash(row.statement) for row in rows}
    recoded = _recoded(rows, existing, recased, words_before, words_now)
    if recoded:
        result.warnings.append(
            "statements under a new code, word for word, are the same standards (updated in place, their "
            "decisions kept): " + short_list([f"{old['code']} → {code}" for code, old in recoded.items()]))
        recased = {**recased, **recoded}
    stamp = stamp or now()
    seen = set()
    new_rows = []
    # Updates by the columns they set, each run as one prepared statement: sqlite-utils' update()
    # read the table's columns and the row back for every call, 13.4 of the 16.8 s (under
    # cProfile) of re-importing the 20,000 rows of benchmarks' import_20000.xlsx with every
    # statement edited.
    updates: dict[tuple, list] = collections.defaultdict(list)
    to_write = 0  # rows written after the loop: their progress is counted once they are
    for position, row in enumerate(rows):
        later = False
        seen.add(row.code)
        low, high = parse_grades(row.grade)
        values = dict(
            framework_id=framework_id, code=row.code, statement=row.statement,
            label=standard_label(row.code, row.statement),
            parent_code=row.parent_code, grade=row.grade, grade_low=low, grade_high=high,
            subject=row.subject, domain=row.domain, cluster=row.cluster, level=row.level,
            position=position, source_file=file, source_sheet=row.sheet,
            source_row=row.source_row, text_hash=words_now[row.code], status="active",
        )
        old = existing.get(row.code) or recased.get(row.code)
        if old is not None:
            seen.add(old["code"])  # (the code as stored, if the file writes it in another case: not retired)
        if old is None:
            result.added += 1
            result.added_codes.append(row.code)
            if write:
                values["updated_at"] = stamp
                new_rows.append(values)
                later = True
        else:
            # (The stored statement's words, not its stored hash: a hash stored before text_hash read NFC
            # would tell an NFD statement from the same words in NFC.)
            text_changed = words_before[old["code"]] != values["text_hash"]
            # Written otherwise (case, spacing, NFC/NFD) but the same words: the text is updated and
            # counted as changed, and nobody is asked to review again.
            rewritten = not text_changed and old["statement"] != row.statement
            other_changed = any(
                old[k] != values[k]
                for k in ("code", "parent_code", "grade", "subject", "domain", "cluster", "level", "status")
            )
            if text_changed or other_changed or rewritten:
                result.changed += 1
                result.changed_codes.append(row.code)
            else:
                result.unchanged += 1
            moved = any(old[k] != values[k] for k in ("position", "source_row", "source_sheet", "source_file"))
            if write and (text_changed or other_changed or rewritten or moved):
                if text_changed or other_changed or rewritten:
                    values["updated_at"] = stamp
                updates[tuple(values)].append((*values.values(), old["id"]))
                if text_changed:
                    result.flagged += _flag_for_review(
                        db, old["id"], "statement changed on re-import; it was: " + old["statement"][:500], stamp)
                elif old["status"] == "retired":
                    result.unflagged += _lift_retirement_flags(db, old["id"], old["code"], stamp)
                later = True
            elif not write and text_changed:
                result.flagged += _would_flag(db, old["id"])
        if later:
            to_write += 1
        elif progress:
            progress(1)
    moved = _statements_moved(rows, existing, recased, words_before, words_now)
    if moved:
        result.warnings.append(
            "statements now under another code than before, word for word (were the codes renumbered?): "
            + short_list([f"{code} (was {was})" for code, was in moved])
            + "; decisions stay with their codes: those on the old codes are flagged for re-review where "
              "their statement changed or left, and the new codes have none of them")
    # (Statements found by their words alone do not lift the refusal: a file read without its code
    # column, or with another column's numbers for codes, is the same statements under new codes.)
    _refuse_to_retire_all(existing, seen - {old["code"] for old in recoded.values()}, rows, result, file)
    _refuse_to_retire_most(db, existing, seen, rows, result, file, write=write, retire_missing=retire_missing)
    if new_rows:
        _insert_standards(db, new_rows)
    for code, old in existing.items():
        if code not in seen and old["status"] == "active":
            result.retired += 1
            result.retired_codes.append(code)
            if write:
                # Retired, never deleted: reviewed alignments keep pointing at it, flagged.
                updates[("status", "updated_at")].append(("retired", stamp, old["id"]))
                result.flagged += _flag_for_review(db, old["id"], _retired_reason(code, file), stamp)
            else:
                result.flagged += _would_flag(db, old["id"])
    for columns, params in updates.items():
        db.conn.executemany(f"update standards set {', '.join(f'{c} = ?' for c in columns)} where id = ?", params)
    if write:
        _link_parents(db, framework_id, result)
    if progress and to_write:
        progress(to_write)


def _recoded(rows: list[StandardRow], existing: dict, recased: dict, words_before: dict,
             words_now: dict) -> dict[str, dict]:
    """The file's new codes whose statement is, word for word, one standard's that the file no longer
    has under its own code, each mapped to that standard (a row of ``existing``): the same standard
    under a new code (a credential's next edition recoded, "B.3" now "ENG-B.3", or a duty area now
    another letter), updated in place so that its decisions stay. Where the words are more than one
    standard's, or more than one row's of the file, or where the new code was another standard's (a
    duty area renumbered within its codes: _statements_moved), nothing is guessed."""
    codes = {row.code for row in rows}
    claimed = {old["code"] for old in recased.values()}
    before: dict[str, list[str]] = collections.defaultdict(list)
    for code, words in words_before.items():
        before[words].append(code)
    rows_with = collections.Counter(words_now.values())
    found: dict[str, dict] = {}
    for row in rows:
        words = words_now[row.code]
        if row.code in existing or row.code in recased or rows_with[words] > 1:
            continue
        olds = before.get(words, [])
        if len(olds) == 1 and olds[0] not in codes and olds[0] not in claimed:
            found[row.code] = existing[olds[0]]
            claimed.add(olds[0])
    return found


def _statements_moved(rows: list[StandardRow], existing: dict, recased: dict, words_before: dict,
                      words_now: dict) -> list[tuple[str, str]]:
    """(code, the code it had before) for each of the file's statements that is word for word another
    standard's statement before, where that code is no longer this statement in the file: a duty
    area renumbered, whose decisions follow the codes, not the tasks (a director's walk: the
    micrometer task's rationale ended on 'Repair fuel injectors', and nothing said so)."""
    before: dict[str, list[str]] = collections.defaultdict(list)
    for code, words in words_before.items():
        before[words].append(code)
    moved = []
    for row in rows:
        words = words_now[row.code]
        old = existing.get(row.code) or recased.get(row.code)
        if old is not None and words_before[old["code"]] == words:
            continue
        codes = before.get(words, [])
        if len(codes) == 1 and codes[0] != row.code and words_now.get(codes[0]) != words:
            moved.append((row.code, codes[0]))
    return moved


def _same_number(rows: list[StandardRow], existing: dict, recased: dict) -> dict[str, dict]:
    """The file's codes from number cells that are not the framework's, each mapped to its one
    standard whose code is the same number written otherwise ("7" for a 7 now formatted 000, read
    "007"; "007" for a 007 retyped as a plain 7), where the file has no code of its own for that
    standard and no other row claims it: a workbook re-imported after its code column gained or lost
    its number format keeps its standards and their decisions. (A 1.10 typed into a number cell
    reads 1.1, the same number: it is the standard stored as 1.10, where the framework has no 1.1.)"""
    by_number: dict[decimal.Decimal, list[str]] = collections.defaultdict(list)
    for code in existing:
        if (number := code_number(code)) is not None:
            by_number[number].append(code)
    codes = {row.code for row in rows}
    claimed = {old["code"] for old in recased.values()}
    found: dict[str, dict] = {}
    for row in rows:
        if row.number is None or row.code in existing or row.code in recased:
            continue
        stored = [code for code in by_number.get(code_number(repr(row.number)), ())
                  if code not in codes and code not in claimed]
        if len(stored) == 1:
            found[row.code] = existing[stored[0]]
            claimed.add(stored[0])
    return found


def _written_in_another_case(db, framework_id: int, rows: list[StandardRow], existing: dict) -> dict[str, dict]:
    """The file's codes that are not the framework's, each mapped to the framework's standard (a row
    of ``existing``) whose code differs from it in case only (``a.1`` for A.1), where that is one
    standard, not in the file as written, and no other code of the file differs from it in case only.
    Codes are compared as import-decisions finds one (decisions._resolve: SQLite's NOCASE), here
    for all of the file's codes in one query, grouped under that collation."""
    new = [row.code for row in rows if row.code not in existing]
    if not new or not existing:
        return {}
    codes = {row.code for row in rows}
    found = {}
    for (group,) in db.execute(
            "select json_group_array(json_array(new, code)) from ("
            "select 0 as new, code from standards where framework_id = ? "
            "union all select 1, value from json_each(?)) "
            "group by code collate nocase having count(*) > 1", [framework_id, json.dumps(new)]):
        olds = [code for is_new, code in json.loads(group) if not is_new]
        news = [code for is_new, code in json.loads(group) if is_new]
        # Two standards it could be, or two codes of the file for one standard: no guessing, a new standard.
        if len(olds) == 1 and len(news) == 1 and olds[0] not in codes:
            found[news[0]] = existing[olds[0]]
    return found


def _refuse_to_retire_all(existing: dict, seen: set, rows: list[StandardRow], result: ImportResult,
                         file: str) -> None:
    """A re-import that shares no code with the framework's standards would retire every one of
    them: that is a wrong column or a wrong file far more often than a new edition, so it is refused
    (nothing written). A file with a "Task #" column read as its statements retired all 31 tasks of
    the README's tour and emptied its program's certified standards."""
    active = [code for code, old in existing.items() if old["status"] == "active"]
    if not active or seen & set(active) or not rows:
        return
    spreadsheet, column = bool(result.mapping), (result.mapping or {}).get("code")  # (a CASE package has no columns)
    read = (f"codes read from column {column}" if column else
            "codes made from the statements (no code column)" if spreadsheet else "codes")
    hint = "a new edition with new codes goes under a new --framework name"
    raise SourceError(
        f"shares no code with the {len(active)} standards of {result.framework!r} ({read}: "
        f"{rows[0].code!r} here, {sorted(active)[0]!r} there), so importing it would retire every one of them; "
        "nothing was written",
        file=file, sheet=rows[0].sheet, row=rows[0].source_row if spreadsheet else None,
        hint=f"check the columns with --dry-run and name them with --code-column / --text-column; {hint}"
             if spreadsheet else hint)


def _refuse_to_retire_most(db, existing: dict, seen: set, rows: list[StandardRow], result: ImportResult,
                           file: str, *, write: bool, retire_missing: bool) -> None:
    """A re-import that would retire more than half of the framework's standards is refused unless
    ``retire_missing`` says the framework really lost them (a dry run says it would be): a workbook
    whose first sheet lists the two tasks reworded this year, read in place of its task list, retired
    28 of 30 tasks, flagged every reviewed decision and deleted every suggestion, exit 0; and the
    right file imported next did not bring the decisions back."""
    active = {code: old["id"] for code, old in existing.items() if old["status"] == "active"}
    gone = [active[code] for code in active if code not in seen]
    if retire_missing or len(gone) * 2 <= len(active):
        return
    marks = ", ".join("?" for _ in gone)
    reviewed = db.execute(
        f"select count(*) from alignments where status != 'suggested' and (source_id in ({marks}) "
        f"or target_id in ({marks}))", gone + gone).fetchone()[0]
    what = (f"would retire {len(gone)} of the {len(active)} standards of {result.framework!r}"
            + (f" and flag {plural(reviewed, 'reviewed alignment')} of theirs for re-review" if reviewed else "")
            + f": the file has {plural(len(rows), 'standard')}, {len(seen & set(active))} of them already there")
    hint = ("check the file and its sheet with --dry-run, or name the sheet with --sheet; if the framework "
            "really lost them, import it again with --retire-missing")
    if not write:
        result.warnings.append(f"{what}; refused without --retire-missing")
        return
    raise SourceError(f"{what}; nothing was written", file=file, sheet=rows[0].sheet if rows else None, hint=hint)


def _insert_standards(db, rows: list[dict]) -> None:
    """Insert new standards, and index them for search in one statement.

    One prepared insert run for every row (every row names the same columns): sqlite-utils'
    insert_all built the SQL again for each batch and looked at every value for JSON (the 20,000
    rows of benchmarks' import_20000.xlsx: 1.9-2.1 s, then 1.2-1.7 s). Of what was left, the
    search index's insert trigger, run once per row, took most: 1.45 s with it against 0.20 s
    without it plus 0.20 s to index the same rows in one ``insert ... select``. So the trigger
    is set aside for the insert and put back as it was, within the import's transaction: a
    failed import leaves it, like everything else, as it was. The columns indexed are those of
    the index itself, and the trigger's SQL is read back from the database (db.m003_search)."""
    columns = list(rows[0])
    insert = f"insert into standards ({', '.join(columns)}) values ({', '.join('?' * len(columns))})"
    values = [tuple(row[c] for c in columns) for row in rows]
    trigger = db.execute("select sql from sqlite_master where type = 'trigger' and name = 'standards_ai'").fetchone()
    if trigger is None or not db["standards_fts"].exists():
        db.conn.executemany(insert, values)
        return
    indexed = ", ".join(f'"{c}"' for c in db["standards_fts"].columns_dict)
    last = db.execute("select coalesce(max(rowid), 0) from standards").fetchone()[0]
    db.execute('drop trigger "standards_ai"')
    db.conn.executemany(insert, values)
    db.execute(f"insert into standards_fts (rowid, {indexed}) select rowid, {indexed} from standards where rowid > ?",
               [last])
    db.execute(trigger[0])


_COMMENTED = worked_on_sql("alignments")  # (a comment, a rationale, a history: see db.worked_on_sql)


def _flag_for_review(db, standard_id: int, reason: str, stamp: str) -> int:
    """Mark the reviewed alignments of a changed or retired standard for re-review (logged in
    ``review_log``), and drop its stale suggestions, except those a reviewer worked on (a comment, a
    rationale, a history: db.worked_on_sql): they are flagged too."""
    db.execute(
        f"delete from alignments where status = 'suggested' and (source_id = ? or target_id = ?) and not {_COMMENTED}",
        [standard_id, standard_id],
    )
    # The review-log trigger logs each flag with its reason, naming this path.
    cursor = db.execute(
        "update alignments set needs_review = 1, needs_review_reason = ?, updated_at = ?, review_via = 'import' "
        f"where {_FLAGGED_ON_CHANGE} and (source_id = ? or target_id = ?)",
        [reason, stamp, standard_id, standard_id],
    )
    return cursor.rowcount


# The alignments a change of one of their statements flags: those reviewed or worked on.
_FLAGGED_ON_CHANGE = f"(status != 'suggested' or {_COMMENTED})"


def _would_flag(db, standard_id: int) -> int:
    """How many alignments :func:`_flag_for_review` would flag (--dry-run)."""
    return db.execute(f"select count(*) from alignments where {_FLAGGED_ON_CHANGE} and (source_id = ? or target_id = ?)",
                      [standard_id, standard_id]).fetchone()[0]


def _retired_reason(code: str, file: str) -> str:
    """The flag a retirement leaves on its standard's reviewed alignments (the one place it is
    written: :func:`_lift_retirement_flags` knows its own by it)."""
    return f"standard {code} retired on re-import: it is no longer in {file}"


def _lift_retirement_flags(db, standard_id: int, code: str, stamp: str) -> int:
    """A retired standard is back in the same words: its reviewed alignments are as they were
    before it left, so the flags its retirement left are lifted (logged as the import's, 'unflag',
    by the review-log trigger). A flag raised since for another reason (a statement changed) stays,
    with that reason, and so does the flag of an alignment whose other statement is still retired.
    A flag's reason is over once what it says is no longer so: this standard's retirement, and,
    where the other statement is active again too, the other's retirement (both statements retired,
    both back: the flag stayed for ever, naming the retirement of a statement that was back). Only
    where every flag since the alignment was last decided is over, and the other statement is
    active, is it lifted; one still flagged gets the reason of its latest flag that is not over."""
    # (This standard's retirement is told by its code, as written, case and all: a retirement's
    # reason names only the code, and an academic standard may have the same code as a task, or one
    # differing in case only. Any retirement is over once both statements are active: every flag of
    # an alignment is about one of its two statements.)
    params = {"stamp": stamp, "id": standard_id, "prefix": _retired_reason(code, ""),
              "retirement": _retired_reason("*", "*")}
    other_active = ("(select status from standards where id = "
                    "(case when alignments.source_id = :id then alignments.target_id else alignments.source_id end))"
                    " = 'active'")

    def over(reason):
        return (f"(substr({reason}, 1, length(:prefix)) = :prefix "
                f"or ({reason} glob :retirement and {other_active}))")

    live_flags = f"""
        from review_log f
        where f.alignment_id = alignments.id and f.action = 'flag' and not {over("f.reason")}
          and f.id > coalesce((select max(d.id) from review_log d where d.alignment_id = alignments.id
                                and d.action not in ('flag', 'unflag', 'comment')), 0)"""
    flagged_over = f"(source_id = :id or target_id = :id) and needs_review = 1 and {over('needs_review_reason')}"
    cursor = db.execute(
        f"""
        update alignments set needs_review = 0, needs_review_reason = null, updated_at = :stamp, review_via = 'import'
        where {flagged_over} and {other_active} and not exists (select 1 {live_flags})
        """,
        params,
    )
    lifted = cursor.rowcount
    # Those still flagged say why by a reason still so, not by a retirement over.
    db.execute(
        f"""
        update alignments set needs_review_reason = (select f.reason {live_flags} order by f.id desc limit 1),
            updated_at = :stamp, review_via = 'import'
        where {flagged_over} and exists (select 1 {live_flags})
        """,
        params,
    )
    return lifted


def _link_parents(db, framework_id: int, result: ImportResult) -> None:
    # Only the rows whose parent changes: each update also runs the search index's update trigger
    # (a delete and an insert of the row's words), 0.41 s for the 20,000 rows of benchmarks'
    # import_20000.xlsx, none of whose parents changed.
    db.execute(
        """
        update standards set parent_id = (
            select p.id from standards p
            where p.framework_id = standards.framework_id and p.code = standards.parent_code
        )
        where framework_id = ? and parent_id is not (
            select p.id from standards p
            where p.framework_id = standards.framework_id and p.code = standards.parent_code
        )
        """,
        [framework_id],
    )
    result.unknown_parents = db.execute(
        "select count(*) from standards where framework_id = ? and parent_code is not null "
        "and parent_id is null and status = 'active'",
        [framework_id],
    ).fetchone()[0]
    if result.unknown_parents:
        result.warnings.append(
            f"{plural(result.unknown_parents, 'standard')} "
            f"{'names' if result.unknown_parents == 1 else 'name'} a parent code that is not in the file"
        )
