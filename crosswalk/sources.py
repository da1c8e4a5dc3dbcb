"""Reading standards from the spreadsheets and CSV files people really have.

:func:`read_table` turns a file into a :class:`Table` (the header and the
rows below it, each with its row number in the file); :func:`map_columns`
finds which column holds the code, the statement, the grade and so on.

Example::

    table = read_table("welding.xlsx", sheet="Tasks")
    mapping = map_columns(table, code="Task ID")
    mapping.statement   # index of the statement column
"""

from __future__ import annotations

import bisect
import collections
import csv
import dataclasses
import decimal
import io
import pathlib
import re
import stat
import zipfile
import zlib

from .errors import CrosswalkError, SourceError
from .text import visible

# How far down a sheet the header may be (title rows above it are common).
HEADER_SEARCH_ROWS = 30

FIELDS = ("code", "statement", "grade", "subject", "parent", "domain", "cluster", "level")

# Column names seen in real standards spreadsheets, best first.
SYNONYMS = {
    "code": [
        "code", "standard code", "human coding scheme", "humancodingscheme", "short code",
        "standard id", "standard number", "competency code", "task code", "task id",
        "task number", "statement code", "notation", "id", "number", "no", "ref",
        "reference", "item", "element id", "dwa id", "identifier",
    ],
    "statement": [
        "statement", "full statement", "fullstatement", "standard text", "standard statement",
        "text", "standard", "description", "task", "task statement", "competency",
        "performance expectation", "performance", "indicator", "objective", "expectation",
        "skill", "element name", "dwa title", "title", "content",
    ],
    "grade": [
        "grade", "grades", "grade level", "grade levels", "grade band", "education level",
        "educationlevel", "grade span",
    ],
    "subject": ["subject", "content area", "discipline", "subject area"],
    "parent": [
        "parent", "parent code", "parent id", "parent standard", "ischildof", "is child of",
        "child of", "childof",
    ],
    "domain": [
        "domain", "strand", "category", "conceptual category", "duty", "duty area", "unit",
        "section", "topic", "parent topic", "area", "occupation", "program area",
    ],
    "cluster": ["cluster", "heading", "sub domain", "subdomain", "subcategory", "sub category"],
    "level": ["level", "item type", "cfitemtype", "type"],
}

# The last word of a header naming a column of codes ("Competency No.", "Element ID", "Task #"), or of
# statements ("Task Description", "Competency Statement"), where the whole name is not in SYNONYMS.
CODE_LAST_WORDS = frozenset({"number", "no", "num", "nbr", "id", "code", "identifier"})
STATEMENT_LAST_WORDS = frozenset({"statement", "description", "text", "title"})
LAST_WORDS = {"code": CODE_LAST_WORDS, "statement": STATEMENT_LAST_WORDS}  # in this order (map_columns)
# Each of those fields' columns' names that are another field's whole name ("Parent ID": no code column).
_OTHER_FIELDS_NAMES = {field: {name for other, names in SYNONYMS.items() if other != field for name in names}
                       for field in LAST_WORDS}

# The bare name of what a row is ("Standard", "Task") heads its code where another column holds its
# text ("Description", "Task Description"), as NGSS lists have "Standard, Description"; alone, it
# heads the text (a SYNONYMS name of the statement).
BARE_NAMES = frozenset({"standard", "task", "competency", "objective"})
DESCRIPTION_WORDS = frozenset({"description", "statement", "text"})


@dataclasses.dataclass
class Table:
    """The header and data rows of one sheet (or CSV file).

    Besides the values, a table remembers what a spreadsheet hides from a
    quick look: formulas never calculated, hidden rows and columns, and each
    row's outline level or indentation (which can give the hierarchy).
    """

    path: pathlib.Path
    sheet: str | None
    header_row: int
    headers: list[str]
    rows: list[tuple[int, list]]  # (row number in the file, cell values)
    sheets: list[str] = dataclasses.field(default_factory=list)
    encoding: str | None = None
    delimiter: str | None = None
    file_format: str = "xlsx"
    # (row, column index) -> formula, for formula cells with no calculated value
    uncalculated: dict = dataclasses.field(default_factory=dict)
    # row -> outline level (Excel's grouped rows), only where not 0
    outline: dict = dataclasses.field(default_factory=dict)
    # (row, column index) -> indent, only where not 0
    indents: dict = dataclasses.field(default_factory=dict)
    hidden_rows: list[int] = dataclasses.field(default_factory=list)
    hidden_columns: list[int] = dataclasses.field(default_factory=list)
    warnings: list[str] = dataclasses.field(default_factory=list)
    # The header cells as written: ``headers`` tells a repeated name apart ("Standard (2)").
    header_texts: list[str] = dataclasses.field(default_factory=list)
    # A header of merged cells over several rows: each row's cells as written, from the top (empty
    # for a header of one row).
    header_lines: list[list[str]] = dataclasses.field(default_factory=list)

    @property
    def file(self) -> str:
        return self.path.name

    def same_name(self, index: int) -> list[int]:
        """The columns whose header is written like this one's (itself included)."""
        texts = self.header_texts or self.headers
        name = texts[index].casefold() if index < len(texts) else ""
        return [i for i, text in enumerate(texts) if name and text.casefold() == name]

    def repeats_header(self, values: list) -> bool:
        """Whether a row below the header is the header again (as a report printed in pages has it)."""
        texts = self.header_texts or self.headers
        matched = 0
        for index, value in enumerate(values):
            text = cell_text(value)
            if not text:
                continue
            written = text.replace("\n", " ").casefold()
            names = [texts[index]] if index < len(texts) else []
            names += [line[index] for line in self.header_lines if index < len(line)]
            if not any(written == name.casefold() for name in names):
                return False
            matched += 1
        return matched >= min(2, sum(1 for text in texts if text))

    def column_label(self, index: int) -> str:
        """Column letter and header, as a user sees it: ``C (Statement)``."""
        letter = column_letter(index) if self.sheet is not None else str(index + 1)
        name = self.headers[index] if index < len(self.headers) else ""
        return f"{letter} ({name})" if name else letter

    def error(self, message, *, row=None, column=None, hint=None) -> SourceError:
        col = self.column_label(column) if isinstance(column, int) else column
        return SourceError(message, file=self.file, sheet=self.sheet, row=row, column=col, hint=hint)


@dataclasses.dataclass
class ColumnMapping:
    """Which column (0-based index) holds each field; ``None`` when absent."""

    code: int | None = None
    statement: int | None = None
    grade: int | None = None
    subject: int | None = None
    parent: int | None = None
    domain: int | None = None
    cluster: int | None = None
    level: int | None = None

    def describe(self, table: Table) -> dict[str, str]:
        return {
            field: table.column_label(getattr(self, field))
            for field in FIELDS
            if getattr(self, field) is not None
        }

    def unread(self, table: Table) -> list[str]:
        """The named columns no field reads (a director's Hours or Notes, or a grade column under a
        name crosswalk does not know), as the user sees them: ``C (Hours)``."""
        read = {getattr(self, field) for field in FIELDS}
        return [table.column_label(index) for index, name in enumerate(table.headers)
                if index not in read and str(name or "").strip()]


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


# The columns of a file of pairs of codes (an earlier crosswalk, a gold crosswalk), by the names
# people give them.
PAIR_COLUMNS = {
    "source": ["source code", "source", "industry code", "cte code", "cte standard", "task id", "task code",
               "aligned cte standards", "aligned cte code", "industry standard", "from", "subject id"],
    "target": ["target code", "target", "academic code", "academic standard", "standard code", "standard",
               "object id", "to", "state standard"],
}


def normalise_header(value) -> str:
    """A header as the names in SYNONYMS are written: "Task #" → "task number", "humanCodingScheme"
    → "human coding scheme"."""
    text = "" if value is None else str(value)
    text = text.replace("#", " number ")  # "Task #" is the task's number, not its statement
    text = re.sub(r"([a-z])([A-Z])", r"\1 \2", text)  # humanCodingScheme → human Coding Scheme
    text = re.sub(r"[^0-9a-zA-Z]+", " ", text).strip().lower()
    return text


def cell_text(value) -> str:
    """A cell's value as clean text: numbers without a trailing .0, whitespace collapsed, the characters
    no one can see or type left out (:func:`crosswalk.text.visible`)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = visible(str(value)).replace("\xa0", " ")  # (visible makes every CR a line break; empty lines go)
    lines = [_collapse(line).strip() for line in text.split("\n")]
    return "\n".join(line for line in lines if line).strip()


_BLANKS = re.compile(r"[ \t]+")

# A number format that pads with zeros and nothing else: 000 (a code 007), 00.0000 (a CIP code 01.0101),
# 0.00 (a code 1.10). Such a cell shows its zeros, and an Excel CSV of the sheet writes them.
_ZERO_PADDED = re.compile(r"^(0+)(?:\.(0+))?$")


class ShownNumber(str):
    """A number as its cell's format shows it, zeros and all ("007"), with ``number`` (7), which
    crosswalk read before it read the format: a code is the former, a grade or a statement the
    latter (importer)."""

    number: float

    def __new__(cls, shown: str, number):
        text = super().__new__(cls, shown)
        text.number = number
        return text


_NUMBER_CODE = re.compile(r"[0-9]+(?:\.[0-9]+)?")


def code_number(code: str) -> decimal.Decimal | None:
    """The number a code of digits (and one point) is, as a spreadsheet reads it: 7 for "007", 1.01 for
    "01.0100"; None for any other code. Two codes of one number are the same code written in a
    number cell with and without its zeros (the one rule: importer._same_number, decisions._with_code).
    Exact (a Decimal): 12345678901234567891 is not 12345678901234567890, as two floats would be."""
    return decimal.Decimal(code) if _NUMBER_CODE.fullmatch(code) else None


def as_shown(value, number_format) -> object:
    """A number as a zero-padding number format shows it ("007" for 7 under 000, "01.0101" for 1.0101
    under 00.0000: a :class:`ShownNumber`), so that a code typed into a number cell reads as the
    spreadsheet shows it and as its CSV writes it; any other value, or a number the format would
    round, as it is."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not number_format:
        return value
    match = _ZERO_PADDED.match(str(number_format).split(";")[0])
    if not match:
        return value
    places = len(match.group(2) or "")
    shown = f"{value:0{len(match.group(1)) + (places + 1 if places else 0)}.{places}f}"
    # (a 1.01 under 0.00 too, shown as read: a code formatted so is no code a spreadsheet turned into a
    # number, and the importer's note on those leaves it out)
    return ShownNumber(shown, value) if float(shown) == value and value >= 0 else value


def _collapse(line: str) -> str:
    """Runs of spaces and tabs as one space. Most lines have none to collapse, and testing for one
    is a fast scan where the regex walks every character: cell_text of a 50 MB cell took 0.14 s
    against 0.9-1.1 s."""
    return _BLANKS.sub(" ", line) if "\t" in line or "  " in line else line


# Workbooks whose XML (their cells, not their pictures) inflates to at most this are read in full
# (merged cells, hidden rows, outline levels, indentation); bigger ones are streamed for memory's sake
# (a full read of 88 MB of sheet XML, 1.2 million cells, took 730 MB). Formulas never calculated are
# found either way. The size is what a workbook of 20 MB inflates to, at most, as one of cells
# inflates 3 to 11 times: counted on the file's size, a 21 MB workbook of one small sheet and a
# picture was streamed, and lost its merged cells and hidden rows.
FULL_READ_LIMIT = 200 * 1024 * 1024

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ENCRYPTED_MARK = "EncryptedPackage".encode("utf-16-le")


def read_table(path, sheet: str | None = None, header_names=None) -> Table:
    """Read one sheet of a workbook (.xlsx, .xlsm, .xls, .ods): the one named, or the first one
    shown (not hidden); or a .csv/.tsv/.txt file.

    Example::

        table = read_table("standards.csv")
        table = read_table("welding.xlsx", sheet="Tasks")
    """
    path = check_input_file(path)
    kind = file_kind(path)
    if kind == "csv":
        if sheet is not None:
            raise SourceError("a CSV file has no sheets; leave out --sheet", file=path.name)
        return _read_csv(path, header_names)
    return _read_sheets(path, kind, [sheet] if sheet is not None else [None], header_names)[0]


def read_tables(path, header_names=None) -> list[Table]:
    """Every sheet of a workbook that has a header row, in order (one table for a CSV).

    Sheets that are empty, and hidden ones, are left out with a note on the first table.

    Example::

        for table in read_tables("credential.xlsx"):
            print(table.sheet, len(table.rows))
    """
    path = check_input_file(path)
    kind = file_kind(path)
    if kind == "csv":
        return [_read_csv(path, header_names)]
    return _read_sheets(path, kind, "all", header_names)


# No list of standards comes near this; a bigger file is a wrong file, read into memory for nothing.
MAX_FILE_BYTES = 1024 * 1024 * 1024

SPECIAL_FILES = {stat.S_ISFIFO: "a named pipe (FIFO)", stat.S_ISCHR: "a character device",
                 stat.S_ISBLK: "a block device", stat.S_ISSOCK: "a socket"}


def check_input_file(path, what: str = "a spreadsheet") -> pathlib.Path:
    """The path of a regular file that can be read: not a folder, a device or a pipe, not too big,
    and, for a zip (xlsx, ods), not one that would inflate far too much.

    Checked before anything reads it: reading a pipe waits for ever, reading
    ``/dev/zero`` never ends, and a small zip can inflate to gigabytes.

    Example::

        path = check_input_file("welding.xlsx")
    """
    path = pathlib.Path(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise SourceError("file not found", file=str(path)) from None
    except OSError as exc:
        raise SourceError(f"can not be read ({exc.strerror or exc})", file=str(path)) from None
    if stat.S_ISDIR(info.st_mode):
        raise SourceError(f"is a folder, not {what}", file=str(path))
    if not stat.S_ISREG(info.st_mode):
        kind = next((name for test, name in SPECIAL_FILES.items() if test(info.st_mode)), "not a regular file")
        raise SourceError(f"is {kind}, not {what}", file=str(path),
                          hint="give the path of a file saved on disk")
    if info.st_size > MAX_FILE_BYTES:
        # (in bytes too: rounded, a file just over the limit read "is 1 GB; crosswalk reads files up to 1 GB")
        raise SourceError(f"is {_size(info.st_size)} ({info.st_size:,} bytes); crosswalk reads files up to "
                          f"{_size(MAX_FILE_BYTES)} ({MAX_FILE_BYTES:,} bytes)", file=path.name, hint=f"is this {what}?")
    try:
        with path.open("rb") as fh:
            head = fh.read(4)
    except OSError as exc:  # no permission to read it, most often
        raise SourceError(f"can not be read ({exc.strerror or exc})", file=str(path)) from None
    if head == b"PK\x03\x04":
        _check_inflated_sizes(path)
    return path


def _size(n: int) -> str:
    """1536 → '1.5 KB'; sizes as people read them (1 KB = 1,024 bytes)."""
    if n < 1024:
        return f"{n:,} bytes"
    for unit in ("KB", "MB", "GB"):
        n /= 1024
        if n < 1024 or unit == "GB":
            break
    return f"{n:,.1f} {unit}".replace(".0 ", " ")


def file_kind(path: pathlib.Path) -> str:
    """xlsx, xls, ods or csv, from the file's first bytes more than its name."""
    suffix = path.suffix.lower()
    with path.open("rb") as fh:
        head = fh.read(8)
    if head.startswith(b"PK\x03\x04"):
        if suffix == ".ods" or _zip_mimetype(path) == "application/vnd.oasis.opendocument.spreadsheet":
            return "ods"
        return "xlsx"
    if head.startswith(OLE_MAGIC):
        data = path.read_bytes()
        if ENCRYPTED_MARK in data:
            raise SourceError(
                "is password-protected (an encrypted workbook), so it can not be read",
                file=path.name,
                hint="open it in Excel, remove the password (File > Info > Protect Workbook) and save it again",
            )
        return "xls"
    if head.startswith(b"%PDF"):  # (whatever its name says: a PDF renamed .xlsx was "not a readable .xlsx")
        raise SourceError("is a PDF document, not a spreadsheet", file=path.name,
                          hint="import the spreadsheet the PDF was made from, or copy its table into one")
    if suffix in (".xlsx", ".xlsm", ".xls", ".ods"):
        if not head:
            raise SourceError(f"is empty (0 bytes): no {suffix} workbook was saved in it", file=path.name,
                              hint="save the workbook again from Excel or LibreOffice, or check the path")
        with path.open("rb") as fh:
            what = _what_text(fh.read(4096))
        if what:
            rename = {"CSV text": ".csv", "tab-separated text": ".tsv", "text": ".txt"}.get(what)
            raise SourceError(
                f"is {what}, not an {suffix} workbook (only its name says {suffix})", file=path.name,
                hint=f"rename it {rename} to import it as it is" if rename
                else "open it in Excel or LibreOffice and save it as .xlsx")
        raise SourceError(
            f"is not a readable {suffix} workbook (its content is not a spreadsheet)",
            file=path.name,
            hint="check that it opens in Excel or LibreOffice and save it again as .xlsx",
        )
    if suffix == ".json" or head.lstrip()[:1] in (b"{", b"["):
        raise SourceError("is JSON; use `crosswalk import-case` for CASE JSON packages", file=path.name)
    return "csv"


def _what_text(head: bytes) -> str | None:
    """What text a file's first bytes are, as a user would name it ("CSV text", "an HTML page"); None
    for bytes that are not text."""
    if _utf16_without_bom(head):
        return "UTF-16 text without a byte order mark"
    if len(head) - len(head.translate(None, CONTROL_BYTES)) > 0:
        return None
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:200].lower()
    if start.startswith((b"<!doctype html", b"<html")) or b"<table" in start or b"<html" in start:
        return "an HTML page (as web sites export 'Excel' files)"
    if start.startswith(b"<?xml"):
        return "XML (an Excel 2003 XML spreadsheet, or other XML)"
    first = head.split(b"\n", 1)[0]
    if b"\t" in first:
        return "tab-separated text"
    if b"," in first or b";" in first:
        return "CSV text"
    return "text"


def _utf16_without_bom(head: bytes) -> bool:
    """Whether bytes look like UTF-16 text without a byte order mark: mostly ASCII letters with a NUL
    byte before (big-endian) or after (little-endian) each."""
    if len(head) < 4 or head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return False
    even, odd = head[0::2], head[1::2]
    return any(zeros.count(0) >= 0.8 * len(zeros) and others.count(0) <= 0.05 * len(others)
               for zeros, others in ((odd, even), (even, odd)))


# The parts of real workbooks inflate 3 to 11 times (measured on the O*NET and CIP workbooks;
# a sheet of a million formatted empty rows, about 30 times). A part that would inflate more
# than 100 times holds something else (a 300 MB cell in a 310 KB file inflates 1,000 times:
# reading it took 58 s and 950 MB before being refused), so it is refused before anything
# inflates, from the sizes the zip's directory declares (the zip reader never gives more).
MAX_INFLATE_RATIO = 100
INFLATE_RATIO_FROM = 10 * 1024 * 1024  # smaller parts are never refused for their ratio
MAX_INFLATED = 512 * 1024 * 1024  # all the parts of one workbook


def _check_inflated_sizes(path: pathlib.Path) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError):
        return  # a damaged file: the workbook reader says so
    hint = "a cell or sheet this big is not a list of standards: check that this is the right file"
    for part in parts:
        ratio = part.file_size / max(part.compress_size, 1)
        if part.file_size > INFLATE_RATIO_FROM and ratio > MAX_INFLATE_RATIO:
            raise SourceError(
                f"is {_size(path.stat().st_size)}, but its part {part.filename} would inflate to "
                f"{_size(part.file_size)} ({ratio:,.0f} times; a spreadsheet inflates about 10 times), "
                "so it is not read", file=path.name, hint=hint)
    total = sum(part.file_size for part in parts)
    if total > MAX_INFLATED:
        raise SourceError(
            f"would inflate to {_size(total)}; crosswalk reads workbooks up to {_size(MAX_INFLATED)} inflated",
            file=path.name, hint="split it into several workbooks, or save its sheet as CSV")


def _zip_mimetype(path: pathlib.Path) -> str | None:
    try:
        with zipfile.ZipFile(path) as archive:
            return archive.read("mimetype").decode("ascii", "replace").strip()
    except (KeyError, zipfile.BadZipFile, OSError, ValueError, NotImplementedError, zlib.error):
        return None  # (a damaged zip, a name not in its encoding, a zip version Python cannot read)


def _read_sheets(path: pathlib.Path, kind: str, wanted, header_names=None) -> list[Table]:
    readers = {"xlsx": _xlsx_sheets, "xls": _xls_sheets, "ods": _ods_sheets}
    # the names of all sheets, [(name, raw rows, extras)] of those wanted, and the names of the hidden ones
    try:
        names, loaded, hidden = readers[kind](path, wanted)
    except (CrosswalkError, MemoryError):
        raise
    except Exception as exc:  # a damaged file's parser failing its own way (an audit: zlib.error in a
        # damaged .ods, struct.error, AssertionError, IndexError from a damaged .xls, NotImplementedError
        # for an unknown zip version), a traceback each: one error instead
        raise SourceError(f"is not a readable .{kind} workbook ({exc.__class__.__name__}: {str(exc)[:200]})",
                          file=path.name, hint="open it in Excel or LibreOffice and save it as .xlsx, then import "
                                               "that") from None
    tables, empty = [], []
    for name, raw, extras in loaded:
        merges = extras.pop("merges", ())
        try:
            table = _table_from_rows(path, name, raw, header_names, merges)
        except SourceError:
            if wanted == "all":
                empty.append(name)
                continue
            raise
        for key, value in extras.items():
            setattr(table, key, value)
        table.sheets = names
        table.file_format = kind
        _note_hidden(table)
        tables.append(table)
    # Hidden sheets passed over: by --all-sheets, or before the first sheet shown (none when one is named).
    left_out = [name for name in names if name in hidden and name not in {n for n, _, _ in loaded}]
    if wanted != "all":
        before = names.index(loaded[0][0]) if wanted[0] is None and loaded else 0
        left_out = [name for name in left_out if names.index(name) < before]
    hint = "name one with --sheet to read it"
    if not tables:
        raise SourceError("is empty: no sheet has any values"
                          + (f" but the hidden ones ({', '.join(map(repr, left_out))})" if left_out else ""),
                          file=path.name, hint=hint if left_out else None)
    if left_out:
        tables[0].warnings.append(f"hidden sheets left out: {', '.join(map(repr, left_out))} ({hint})")
    if empty:
        tables[0].warnings.append("empty sheets left out: " + ", ".join(repr(n) for n in empty))
    return tables


def _pick_sheets(path: pathlib.Path, names: list[str], wanted, hidden=frozenset()) -> list[str]:
    """The sheets to read: every one shown ("all"), the first one shown (``[None]``), or the one
    named (``[name]``, hidden or not). Hidden sheets (old lists, lookups) are left out unless named;
    where every sheet is hidden, none is left out."""
    shown = [name for name in names if name not in hidden] or names
    if wanted == "all":
        return shown
    sheet = wanted[0]
    if sheet is None:
        return shown[:1]
    if sheet in names:
        return [sheet]
    raise SourceError(
        f"has no sheet named {sheet!r}; its sheets are: " + ", ".join(repr(n) for n in names),
        file=path.name,
    )


def _xlsx_sheets(path: pathlib.Path, wanted):
    import openpyxl

    full = _xml_size(path) <= FULL_READ_LIMIT

    handles = []

    def load(data_only, read_only=not full):
        try:
            if path.suffix.lower() in (".xlsx", ".xlsm"):
                return openpyxl.load_workbook(path, read_only=read_only, data_only=data_only)
            # A workbook named otherwise (.csv, no suffix): openpyxl refuses a path by its suffix, not a file.
            handles.append(path.open("rb"))
            return openpyxl.load_workbook(handles[-1], read_only=read_only, data_only=data_only)
        except Exception as exc:  # openpyxl raises many kinds on a damaged file
            raise SourceError(
                f"is not a readable .xlsx workbook ({exc.__class__.__name__}: {str(exc)[:200]})",
                file=path.name,
                hint="check that it opens in Excel or LibreOffice and save it again as .xlsx",
            ) from None

    workbook = load(True)
    # The formulas themselves are only needed to spot ones never calculated: stream them, when a
    # sheet has any (on a 20,000-row workbook without one, reading them cost 4.6 s of 10).
    formulas = load(False, read_only=True) if _has_formulas(path) else None
    try:
        names = workbook.sheetnames
        # A chart sheet holds no cells: left out of "every sheet" and of the first one, named if asked for.
        charts = {sheet.title for sheet in workbook.chartsheets}
        if charts and wanted != "all" and wanted[0] in charts:
            raise SourceError("is a chart, not a table of standards", file=path.name, sheet=wanted[0],
                              hint="name the sheet that holds the standards with --sheet")
        hidden = {sheet.title for sheet in workbook.worksheets if sheet.sheet_state != "visible"}
        loaded = []
        for name in _pick_sheets(path, [n for n in names if n not in charts] or names, wanted, hidden):
            worksheet = workbook[name]
            if name in charts:
                loaded.append((name, [], {}))
                continue
            extras: dict = {}
            if full:
                raw = _full_sheet_rows(worksheet, formulas[name] if formulas is not None else None, extras)
            else:
                raw = [(n, _streamed_values(row)) for n, row in enumerate(worksheet.iter_rows(), start=1)]
                if formulas is not None:
                    extras["uncalculated"] = _uncalculated(dict(raw), formulas[name])
            loaded.append((worksheet.title, raw, extras))
    finally:
        workbook.close()
        if formulas is not None:
            formulas.close()
        for handle in handles:
            handle.close()
    return names, loaded, hidden


# A cell's formula element, <f> or <x:f>, whatever namespace prefix the writer chose.
FORMULA_ELEMENT = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f[\s>/]")


def _has_formulas(path: pathlib.Path) -> bool:
    """Whether any worksheet of the workbook holds a formula (a scan of its XML, with no parsing);
    True when it cannot tell."""
    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                if info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml"):
                    with archive.open(info) as part:
                        tail = b""
                        while chunk := part.read(1 << 20):
                            if FORMULA_ELEMENT.search(tail + chunk):
                                return True
                            tail = chunk[-64:]
    except (OSError, zipfile.BadZipFile, RuntimeError):
        return True
    return False


def _xml_size(path: pathlib.Path) -> int:
    """How big a workbook's XML parts (its sheets and their text) inflate to, from its zip directory;
    its file size where that can not be read."""
    try:
        with zipfile.ZipFile(path) as archive:
            return sum(part.file_size for part in archive.infolist() if part.filename.lower().endswith(".xml"))
    except (zipfile.BadZipFile, OSError, ValueError):
        return path.stat().st_size


def _uncalculated(grid: dict[int, list], formula_sheet) -> dict[tuple[int, int], str]:
    """(row, column index) → formula, for the formulas Excel never calculated (openpyxl-written files,
    some exports): the cell has a formula in ``formula_sheet`` (the sheet read for its formulas) and no
    value in ``grid`` (row number → values)."""
    uncalculated = {}
    for number, row in enumerate(formula_sheet.iter_rows(values_only=True), start=1):
        for index, value in enumerate(row):
            if isinstance(value, str) and value.startswith("="):
                values = grid.get(number, [])
                if index >= len(values) or values[index] is None:
                    uncalculated[(number, index)] = value
    return uncalculated


def _shown(cell):
    """A cell's value, a number as its zero-padding format shows it (:func:`as_shown`; the format is
    looked up only for numbers: 200,000 rows of four columns, one of numbers, streamed as cells took
    15.5-16.4 s of CPU against 14.1-14.7 s as values alone)."""
    value = cell.value
    return as_shown(value, cell.number_format) if isinstance(value, (int, float)) else value


def _streamed_values(row) -> list:
    """A streamed row's values, as shown (:func:`_shown`)."""
    return [_shown(cell) for cell in row]


def _full_sheet_rows(worksheet, formula_sheet, extras: dict) -> list[tuple[int, list]]:
    grid: dict[int, list] = {}
    indents = {}
    for row in worksheet.iter_rows():
        for cell in row:
            if cell.value is None and not cell.has_style:
                continue
            number, index = cell.row, cell.column - 1
            if cell.value is not None:
                values = grid.setdefault(number, [])
                values.extend([None] * (index + 1 - len(values)))
                values[index] = _shown(cell)
            indent = cell.alignment.indent if cell.has_style and cell.alignment is not None else 0
            if indent:
                indents[(number, index)] = int(indent)
    uncalculated = _uncalculated(grid, formula_sheet) if formula_sheet is not None else {}
    merges = [(m.min_row, m.min_col, m.max_row, m.max_col) for m in worksheet.merged_cells.ranges]
    _spread_merges(grid, merges)
    extras["merges"] = merges
    last = max(grid) if grid else 0
    raw = [(number, grid.get(number, [])) for number in range(1, last + 1)]
    extras["uncalculated"] = uncalculated
    extras["indents"] = indents
    extras["outline"] = {
        number: dim.outline_level
        for number, dim in worksheet.row_dimensions.items()
        if dim.outline_level
    }
    extras["hidden_rows"] = sorted(n for n, dim in worksheet.row_dimensions.items() if dim.hidden and n in grid)
    hidden_columns = set()
    for letter, dim in worksheet.column_dimensions.items():
        if dim.hidden:
            low, high = dim.min or 0, dim.max or 0
            if not low:
                from openpyxl.utils import column_index_from_string

                low = high = column_index_from_string(letter)
            hidden_columns.update(range(low - 1, high))
    extras["hidden_columns"] = sorted(hidden_columns)
    return raw


def _spread_merges(grid: dict[int, list], merges) -> None:
    """A merged cell keeps its value only in its top-left cell: give it to every cell it covers, as
    the spreadsheet shows it. ``grid`` maps a row number to its values (from column 1); ``merges``
    are (first row, first column, last row, last column), 1-based, inclusive. The same rule for
    .xlsx, .xls and .ods. (Each row's list is changed in place: no two rows may share one.)"""
    for min_row, min_col, max_row, max_col in merges:
        top = grid.get(min_row, [])
        value = top[min_col - 1] if min_col - 1 < len(top) else None
        if value is None:
            continue
        for number in range(min_row, max_row + 1):
            values = grid.setdefault(number, [])
            values.extend([None] * (max_col - len(values)))
            for col in range(min_col, max_col + 1):
                if values[col - 1] is None:
                    values[col - 1] = value


def _spread_raw_merges(raw: list[tuple[int, list]], merges) -> list[tuple[int, list]]:
    """:func:`_spread_merges` on rows as the readers list them, (row number, values)."""
    if not merges:
        return raw
    grid = dict(raw)
    _spread_merges(grid, merges)
    return sorted(grid.items()) if len(grid) > len(raw) else list(grid.items())


def _note_hidden(table: Table) -> None:
    rows = [n for n in table.hidden_rows if n > table.header_row]
    if rows:
        table.warnings.append(
            f"sheet {table.sheet!r} has hidden rows (imported all the same): {_ranges(rows)}"
        )
    columns = [i for i in table.hidden_columns if i < len(table.headers)]
    if columns:
        table.warnings.append(
            f"sheet {table.sheet!r} has hidden columns: " + ", ".join(table.column_label(i) for i in columns)
        )


def _ranges(numbers: list[int]) -> str:
    """[3, 4, 5, 9] → '3-5, 9'."""
    parts, start, prev = [], None, None
    for n in sorted(numbers):
        if start is None:
            start = prev = n
        elif n == prev + 1:
            prev = n
        else:
            parts.append(f"{start}-{prev}" if prev != start else str(start))
            start = prev = n
    if start is not None:
        parts.append(f"{start}-{prev}" if prev != start else str(start))
    return ", ".join(parts)


def _xls_number_format(book, cell) -> str | None:
    """An .xls cell's number format (None where xlrd read the workbook without its formatting)."""
    try:
        return book.format_map[book.xf_list[cell.xf_index].format_key].format_str
    except (AttributeError, IndexError, KeyError, TypeError):
        return None


def _xls_sheets(path: pathlib.Path, wanted):
    try:
        import xlrd
    except ImportError:  # pragma: no cover - xlrd is a dependency
        raise SourceError(
            "is an old-style Excel .xls workbook",
            file=path.name,
            hint="open it in Excel or LibreOffice and save it as .xlsx, then import that",
        ) from None
    try:
        # formatting_info: xlrd reads merged cells only with it (an .xls it can read only without it is
        # read so, its merged cells left as they are).
        # (logfile: xlrd writes its warnings about a damaged file to stdout, before crosswalk's error)
        try:
            book = xlrd.open_workbook(str(path), on_demand=True, formatting_info=True, logfile=io.StringIO())
        except Exception:
            book = xlrd.open_workbook(str(path), on_demand=True, logfile=io.StringIO())
    except Exception as exc:
        raise SourceError(
            f"is not a readable .xls workbook ({str(exc)[:200]})",
            file=path.name,
            hint="open it in Excel or LibreOffice and save it as .xlsx, then import that",
        ) from None
    names = book.sheet_names()
    # (Sheet.visibility, for every sheet without loading each one: 0 shown, 1 hidden, 2 very hidden)
    hidden = {name for name, shown in zip(names, getattr(book, "_sheet_visibility", ())) if shown}
    loaded = []
    for name in _pick_sheets(path, names, wanted, hidden):
        sheet = book.sheet_by_name(name)
        raw = []
        for r in range(sheet.nrows):
            values = []
            for c, cell in enumerate(sheet.row(r)):
                if cell.ctype == xlrd.XL_CELL_DATE:
                    value = xlrd.xldate.xldate_as_datetime(cell.value, book.datemode)
                elif cell.ctype == xlrd.XL_CELL_BOOLEAN:
                    value = bool(cell.value)
                elif cell.ctype == xlrd.XL_CELL_ERROR:  # a formula that failed: its error value, as Excel shows it
                    value = xlrd.error_text_from_code.get(cell.value, "#N/A")
                elif cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
                    value = None
                elif cell.ctype == xlrd.XL_CELL_NUMBER:
                    value = as_shown(cell.value, _xls_number_format(book, cell))
                else:
                    value = cell.value
                values.append(value)
            raw.append((r + 1, values))
        # xlrd's merged ranges: (first row, row after the last, first column, column after the last), 0-based.
        merges = [(rlo + 1, clo + 1, rhi, chi) for rlo, rhi, clo, chi in sheet.merged_cells]
        # Hidden rows (with values) and columns, as for .xlsx and .ods (xlrd knows them with formatting_info).
        hidden_rows = sorted(r + 1 for r, info in sheet.rowinfo_map.items()
                             if info.hidden and r < len(raw) and any(v not in (None, "") for v in raw[r][1]))
        hidden_columns = sorted(c for c, info in sheet.colinfo_map.items() if info.hidden)
        loaded.append((name, _spread_raw_merges(raw, merges),
                       {"merges": merges, "hidden_rows": hidden_rows, "hidden_columns": hidden_columns}))
    book.release_resources()
    return names, loaded, hidden


ODS = {
    "table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
    "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
    "text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0",
    "style": "urn:oasis:names:tc:opendocument:xmlns:style:1.0",
}


def _ods_shown(value, text: str):
    """An .ods number as its cell shows it where the cell's text only pads it with zeros ("007" for 7,
    "1.10" for 1.1): the file keeps the text beside the number, not the format's name (:func:`as_shown`)."""
    if code_number(text) is not None and float(text) == value and text != str(value):
        return ShownNumber(text, value)  # (the text alone tells no format: a 1.01 shown 1.01 stays a number)
    return value


def _ods_text(element) -> str:
    """The text of an .ods cell: its paragraphs joined by line breaks."""
    tag_s, tag_tab, tag_br = (f"{{{ODS['text']}}}{t}" for t in ("s", "tab", "line-break"))
    lines = []
    for paragraph in element.iter(f"{{{ODS['text']}}}p"):
        parts = [paragraph.text or ""]
        for child in paragraph.iter():
            if child is paragraph:
                continue
            if child.tag == tag_s:
                parts.append(" " * int(child.get(f"{{{ODS['text']}}}c", "1")))
            elif child.tag == tag_tab:
                parts.append("\t")
            elif child.tag == tag_br:
                parts.append("\n")
            elif child.text:
                parts.append(child.text)
            if child.tail:
                parts.append(child.tail)
        lines.append("".join(parts))
    return "\n".join(lines)


class DateText(str):
    """A date cell's text as the spreadsheet shows it (.ods), known to have been a date: read as the
    text it always was, and the importer can still tell a code that Calc turned into a date."""


def _ods_sheets(path: pathlib.Path, wanted):
    import xml.etree.ElementTree as ET

    try:
        with zipfile.ZipFile(path) as archive:
            root = ET.fromstring(archive.read("content.xml"))
    except (KeyError, zipfile.BadZipFile, ET.ParseError, OSError) as exc:
        raise SourceError(
            f"is not a readable .ods spreadsheet ({exc.__class__.__name__})",
            file=path.name,
            hint="open it in LibreOffice and save it as .xlsx, then import that",
        ) from None
    t = ODS["table"]
    sheets = {el.get(f"{{{t}}}name"): el for el in root.iter(f"{{{t}}}table")}
    names = list(sheets)
    # A hidden sheet's style says table:display="false".
    styles = {style.get(f"{{{ODS['style']}}}name") for style in root.iter(f"{{{ODS['style']}}}style")
              for properties in style.iter(f"{{{ODS['style']}}}table-properties")
              if properties.get(f"{{{t}}}display") == "false"}
    hidden = {name for name, sheet in sheets.items() if sheet.get(f"{{{t}}}style-name") in styles}
    loaded = []
    for name in _pick_sheets(path, names, wanted, hidden):
        raw, hidden_rows, number, merges, spans = [], [], 0, [], []
        for row in sheets[name].iter(f"{{{t}}}table-row"):
            repeat = int(row.get(f"{{{t}}}number-rows-repeated", "1"))
            values = []
            spans.clear()
            for cell in row:
                if cell.tag not in (f"{{{t}}}table-cell", f"{{{t}}}covered-table-cell"):
                    continue
                times = int(cell.get(f"{{{t}}}number-columns-repeated", "1"))
                if cell.tag == f"{{{t}}}covered-table-cell":  # hidden by a merged cell: given its value below
                    values.extend([None] * min(times, 1000))
                    continue
                down = int(cell.get(f"{{{t}}}number-rows-spanned", "1"))
                across = int(cell.get(f"{{{t}}}number-columns-spanned", "1"))
                if down > 1 or across > 1:  # a merged cell: (its column, 1-based; rows; columns)
                    spans.append((len(values) + 1, down, across))
                kind = cell.get(f"{{{ODS['office']}}}value-type")
                if kind in ("float", "percentage", "currency"):
                    value = float(cell.get(f"{{{ODS['office']}}}value"))
                    value = int(value) if value.is_integer() else value
                    if kind == "float":  # 007, 01.0101: as the cell shows it, zeros and all (as_shown)
                        value = _ods_shown(value, _ods_text(cell))
                elif kind is None:
                    value = None
                elif kind == "date":  # a date (a code Calc turned into one?): its text, marked as a date
                    value = DateText(_ods_text(cell))
                else:
                    value = _ods_text(cell)
                if value is None and times > 1:
                    values.extend([None] * min(times, 1000))
                else:
                    values.extend([value] * times)
            has_values = any(v not in (None, "") for v in values)
            for again in range(repeat if has_values else 1):
                number += 1
                raw.append((number, list(values) if again else values))  # (merged cells spread into each)
                if row.get(f"{{{t}}}visibility") == "collapse" and has_values:
                    hidden_rows.append(number)
                merges.extend((number, col, number + down - 1, col + across - 1) for col, down, across in spans)
            if not has_values:
                number += repeat - 1
        loaded.append((name, _spread_raw_merges(raw, merges), {"hidden_rows": hidden_rows, "merges": merges}))
    return names, loaded, hidden


UTF8_SIGN = re.compile(rb"[\xc2\xc3][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")  # see _decode


def _mostly_utf8(data: bytes) -> bool:
    """Whether most of the lines with letters beyond ASCII read as UTF-8 (two of them at least)."""
    utf8 = other = 0
    for line in data.split(b"\n"):
        if not line.isascii():
            try:
                line.decode("utf-8")
                utf8 += 1
            except UnicodeDecodeError:
                other += 1
    return utf8 >= 2 and utf8 > other


def _row_not_utf8(data: bytes, file: str) -> None:
    """Raise the error naming the first row of ``data`` that is not UTF-8 (a row pasted from a file in
    another encoding); nothing if every row is."""
    lines = data.split(b"\n")
    for number, line in enumerate(lines, start=1):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            raise SourceError("is UTF-8 text but for this row, which is in another encoding "
                              "(Windows-1252?)", file=file, row=_record_of_line(data, lines[0], number),
                              column=_cell_not_utf8(lines[0], line),
                              hint="save the whole file as UTF-8 (in Excel: Save As, CSV UTF-8) and "
                                   "import it again") from None


def _header_delimiter(header: bytes) -> str:
    """The delimiter a CSV file's header line has most of (before the file is read as CSV)."""
    return max(",;\t", key=header.decode("utf-8", "replace").count)


def _record_of_line(data: bytes, header: bytes, number: int) -> int:
    """The row, as a spreadsheet counts them (one a record), that holds line ``number`` of a CSV
    file: below a cell of several lines, the two differ."""
    reader = csv.reader(io.StringIO(data.decode("utf-8", "replace"), newline=""), delimiter=_header_delimiter(header))
    record = 0
    try:
        for record, _ in enumerate(reader, start=1):
            if reader.line_num >= number:
                return record
    except csv.Error:  # (a file the csv module cannot read: its line, as good a guess as any)
        return number
    return max(record, 1)


def _cell_not_utf8(header: bytes, line: bytes) -> str | None:
    """The column, '2 (Statement)', of a line's first cell that is not UTF-8, read on the delimiter
    the header line has most of, and named by the header (within one line: a quoted cell may hold a
    line break; then none)."""
    first = header.decode("utf-8", "replace").lstrip("\ufeff")
    delimiter = _header_delimiter(header)
    try:
        names = next(csv.reader([first.rstrip("\r")], delimiter=delimiter), [])
        cells = next(csv.reader([line.decode("utf-8", "replace").rstrip("\r")], delimiter=delimiter), [])
    except csv.Error:
        return None
    index = next((i for i, cell in enumerate(cells) if "\ufffd" in cell), None)
    if index is None:
        return None
    name = names[index].strip() if index < len(names) else ""
    return f"{index + 1} ({name})" if name else str(index + 1)


def _decode(data: bytes, file: str) -> tuple[str, str, tuple[int, str] | None]:
    """The text of a CSV file, its encoding, and where it could not be decoded: (the position in the
    text of the first character read as U+FFFD, what was wrong there), or None. A file that is neither
    UTF-8 nor Windows-1252 is read so only to name the row and column that are not, in an error."""
    if data.startswith(b"\xef\xbb\xbf"):
        # A BOM says UTF-8: a row that is not (pasted from another file) is named, never read as U+FFFD.
        try:
            return data[3:].decode("utf-8"), "utf-8-sig", None
        except UnicodeDecodeError:
            _row_not_utf8(data[3:], file)
            raise  # (not reached: the bad bytes are on some row, and that row is named)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16", None
        except UnicodeDecodeError as exc:  # (the text before the bad bytes decodes: its length is where)
            return data.decode("utf-16", errors="replace"), "utf-16", (
                len(data[:exc.start].decode("utf-16")),
                f"is UTF-16 text (its byte order mark says so) but for this cell, which is not ({exc.reason})")
    try:
        return data.decode("utf-8"), "utf-8", None
    except UnicodeDecodeError:
        # UTF-8 text with some rows in another encoding (rows pasted from another file): read as
        # Windows-1252, every UTF-8 row would be garbled ("cafÃ©"), so the row is named instead. A sign
        # of UTF-8: a Latin-1 letter or any character of three or four bytes as UTF-8 writes it (é as
        # \xc3\xa9; —, ≤, √ as \xe2...), which in Windows-1252 read as "Ã©", "â€”", "â‰¤": never
        # written on purpose; or, for the other letters of two bytes (ł, ę, Greek, Cyrillic), most
        # of the lines with such letters reading as UTF-8. One valid pair is no sign: "groß“" is
        # \xdf\x93, valid UTF-8 by chance.
        if UTF8_SIGN.search(data) or _mostly_utf8(data):
            _row_not_utf8(data, file)
    # What Excel writes on Windows. Five bytes are no character in it (0x81, 0x8D, 0x8F, 0x90, 0x9D): a file
    # holding one is in yet another encoding (Mac Roman writes "ç" as 0x8D), refused rather than read with
    # U+FFFD in their place. (Mac Roman text without them reads as Windows-1252 with other letters,
    # "lÕangle" for "l’angle", and nothing in the bytes tells it apart.)
    try:
        return data.decode("cp1252"), "windows-1252", None
    except UnicodeDecodeError as exc:
        return data.decode("cp1252", errors="replace"), "windows-1252", (
            exc.start, f"is neither UTF-8 nor Windows-1252 text: this cell holds the byte "
                       f"0x{data[exc.start]:02X}, which is no character in either (a Mac Roman file?)")


def _oversized_cell(text: str, line: int, delimiter: str) -> tuple[int, int] | None:
    """Where the csv module stopped at a cell over its field limit (131,072 characters, four times
    what an Excel cell can hold; crosswalk keeps it, since the limit is process-wide state): the
    0-based column and length of the first such cell of the record starting on ``line``, found
    by a scan with ``re``; None if the scan cannot tell. A CSV with a 50 MB cell is refused in 0.8 s
    (the scan 0.6 s of it), against 1.0 s when the limit was raised for the read to take it in."""
    lines = io.StringIO(text, newline="")
    pos = sum(len(lines.readline()) for _ in range(line - 1))  # line ends as the csv reader counts them
    d = re.escape(delimiter)
    field = re.compile(rf'"[^"]*(?:""[^"]*)*"[^{d}\r\n]*|[^{d}\r\n]*')
    limit = csv.field_size_limit()
    column = 0
    while True:
        match = field.match(text, pos)
        value = match.group()
        if len(value) > limit:
            return column, (len(value) - 2 - value.count('""') if value.startswith('"') else len(value))
        pos = match.end()
        if text[pos:pos + 1] != delimiter:  # the record ended, every cell within the limit
            return None
        pos += 1
        column += 1


# A cell of a CSV record as Python's csv reader reads it: quoted (its text, the closing quote if any,
# then any text after that quote, which the reader joins to the cell), or not.
def _csv_cell(delimiter: str) -> re.Pattern:
    d = re.escape(delimiter)
    return re.compile(rf'"([^"]*(?:""[^"]*)*)("?)([^{d}\r\n]*)|[^{d}\r\n]*')


LINE_BREAK = re.compile(r"\r\n|\r|\n")


def _shape(text: str) -> str:
    """A cell's text with each run of letters as 'a' and of digits as '9': 'A.3' and 'B.12' → 'a.9'."""
    return re.sub(r"[0-9]+", "9", re.sub(r"[^\W\d_]+", "a", text.strip()))


def _check_quotes(path: pathlib.Path, text: str, delimiter: str, raw: list[tuple[int, list]], spans,
                  header_names=None) -> list[str]:
    """Refuse a CSV in which a quote left open reads the rows after it into one cell.

    A quote that starts a cell runs on over line breaks until the next quote, so a quote typed at the
    start of a cell and never closed (``A.2,"Use a 6 ruler``) swallows every row below it, or up to
    the next quote, which the csv module accepts without a word. Such a cell is refused, on the row
    where its quote opened, when its quote never closes before the end of the file, or when a line
    inside it has the shape of the rows around it: as many cells, and one written like the cells of
    its column there ('A.3' where the codes are 'A.1', 'A.2'; only cells with a digit count, as words
    are no sign of a row). A quoted cell with line breaks of its own stays one cell, and a quote
    inside a cell that does not start with one (``Weld "a" joint``, ``6" ruler``) is text, as ever.

    Where the quote closes cleanly all the same (right before a delimiter or the end of its line, in a
    record of the usual number of cells), the cell may be a real one whose text has such a line ("see
    also\n1.3, 1.4, and 1.5"): it is read, and a note returned says where to look.

    ``spans`` are the records to look at, by their first and last lines (None: to the end of the file).
    """
    cell = _csv_cell(delimiter)
    numbers = starts = None
    notes = []
    for first, last in spans:
        if last is None or first < last:
            if starts is None:  # where each line starts in text (lines end as the csv reader reads them)
                starts = [0, *(match.end() for match in LINE_BREAK.finditer(text))]
            record = text[starts[first - 1]:starts[last] if last is not None and last < len(starts) else None]
        else:  # the last record, on one line: from the line break before it (no list of every line needed)
            end = len(text) - (2 if text.endswith("\r\n") else 1 if text.endswith(("\r", "\n")) else 0)
            record = text[max(text.rfind("\n", 0, end), text.rfind("\r", 0, end)) + 1:]
        pos, column = 0, 0
        while True:
            match = cell.match(record, pos)
            if match.group(1) is not None and (not match.group(2) or LINE_BREAK.search(match.group(1))):
                break
            pos = match.end()
            if record[pos:pos + 1] != delimiter:
                match = None
                break
            pos += 1
            column += 1
        if match is None:
            continue
        lines = LINE_BREAK.split(match.group(1).replace('""', '"'))
        while len(lines) > 1 and not lines[-1]:  # (the line break that ends the file)
            lines.pop()
        below = f"lines {first + 1}-{first + len(lines) - 1}" if len(lines) > 2 else f"line {first + 1}"
        if not match.group(2):
            message = "a quote opens this cell and is never closed, so " + (
                f"the rest of the file ({below}) is read into this one cell" if len(lines) > 1
                else "the file ends inside it")
        else:
            rowlike, shapes = None, None
            for i, line in enumerate(lines[1:1001], start=1):
                if delimiter not in line:  # (most lines of a cell: no need to look further)
                    continue
                if shapes is None:
                    if numbers is None:
                        numbers = [number for number, _ in raw]
                    at = bisect.bisect_left(numbers, first)  # this record's place in raw
                    shapes = _row_shapes(raw[max(0, at - 20):at] + raw[at + 1:at + 21])
                if _shaped_like_row(line, delimiter, *shapes):
                    rowlike = i
                    break
            if rowlike is None:
                continue
            record_width = len(raw[at][1]) if at < len(raw) and raw[at][0] >= first else None
            if not match.group(3) and record_width == shapes[0]:
                label = _csv_column_label(path, [r for r in raw if r[0] < first], column, header_names)
                notes.append(f"line {first}, column {label}: a quoted cell runs over lines {first}-"
                             f"{first + len(lines) - 1} and holds a line shaped like a row "
                             f"({lines[rowlike][:60]!r}); if a closing quote is missing, rows were read into it")
                continue
            message = (f"the quote that opens this cell closes only on line {first + len(lines) - 1}, so "
                       f"{below} (such as line {first + rowlike}: {lines[rowlike][:80]!r}) "
                       f"{'are' if len(lines) > 2 else 'is'} read into this one cell: is a closing quote missing?")
        # (Lines, as a text editor shows them: where a quote is left open, the rows are what is in doubt.)
        raise SourceError(message, file=path.name, line=first,
                          column=_csv_column_label(path, [r for r in raw if r[0] < first], column, header_names),
                          hint='end the cell with a quote, or remove the quote that opens it; a quote inside '
                               'a quoted cell is written as two ("")')
    return notes


def _row_shapes(rows: list[tuple[int, list]]) -> tuple[int, list[set[str]]]:
    """The number of cells most of ``rows`` of one line have, and for each column the shapes of its
    cells holding a digit (codes, numbers), from those rows."""
    widths: dict[int, int] = {}
    columns: list[set[str]] = []
    for _, values in rows:
        if len(values) < 2 or any("\n" in v or "\r" in v for v in values):
            continue
        widths[len(values)] = widths.get(len(values), 0) + 1
        columns.extend(set() for _ in range(len(values) - len(columns)))
        for index, value in enumerate(values):
            if any(ch.isdigit() for ch in value) and len(value) <= 40:
                columns[index].add(_shape(value))
    return (max(widths, key=widths.get) if widths else 0), columns


def _shaped_like_row(line: str, delimiter: str, width: int, columns: list[set[str]]) -> bool:
    if width < 2 or line.count(delimiter) < width - 1:
        return False
    values = next(csv.reader([line], delimiter=delimiter), [])
    return len(values) == width and any(
        index < len(columns) and any(ch.isdigit() for ch in value) and _shape(value) in columns[index]
        for index, value in enumerate(values))


def _csv_column_label(path: pathlib.Path, raw: list[tuple[int, list]], column: int, header_names=None) -> str:
    """A CSV column as the user sees it, '2 (Statement)', by the header among ``raw``; its number
    without one."""
    try:
        return _table_from_rows(path, None, raw, header_names).column_label(column)
    except SourceError:  # no header row above it
        return str(column + 1)


CONTROL_BYTES = bytes([*range(0x00, 0x09), *range(0x0e, 0x20)])  # no text file has many of them


def _read_csv(path: pathlib.Path, header_names=None) -> Table:
    data = path.read_bytes()
    # Binary files are full of NUL bytes; a stray one in a text file is reported with its row.
    head = data[:4096]
    # (and other control bytes: a PDF's compressed streams have few NULs)
    controls = len(head) - len(head.translate(None, CONTROL_BYTES))
    if controls > max(2, len(head) // 100) and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        if _utf16_without_bom(head):
            raise SourceError("is UTF-16 text without a byte order mark (BOM), so its encoding can not be told "
                              "for sure", file=path.name,
                              hint="save it as UTF-8 (in Excel: Save As, CSV UTF-8) and import it again")
        raise SourceError(
            "is not a text or spreadsheet file (it contains binary data)",
            file=path.name,
            # (the two arguments swapped: `import welding.csv district.db`)
            hint="it is a SQLite database: give the database first, then the file to import"
            if data.startswith(b"SQLite format 3\x00") else "import an .xlsx, .xls, .ods or .csv file",
        )
    text, encoding, undecoded = _decode(data, path.name)
    del data
    sample = text[:20000]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    # The sniffer guesses from a sample; a header row with more fields on another delimiter wins.
    first_line = sample.split("\n", 1)[0]
    counts = {d: first_line.count(d) for d in ",;\t"}
    if counts.get(delimiter, 0) == 0 and max(counts.values()) > 0:
        delimiter = max(counts, key=counts.get)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    raw = []
    # The records a quote left open may have run on in, by their first and last lines: each over several
    # lines (a quoted cell holding a line break), and the last one (its quote may reach the end of the file).
    spans: list[tuple[int, int]] = []
    try:
        for values in reader:
            if raw and reader.line_num > raw[-1][0] + 1 or not raw and reader.line_num > 1:
                spans.append((raw[-1][0] + 1 if raw else 1, reader.line_num))
            raw.append((reader.line_num, values))
    except csv.Error as exc:
        row = raw[-1][0] + 1 if raw else 1
        # (A quote left open early in a big file reads on past the field limit: that quote is named.)
        _check_quotes(path, text, delimiter, raw, [*spans, (row, None)], header_names)
        found = _oversized_cell(text, row, delimiter) if "field larger than field limit" in str(exc) else None
        if found is None:
            raise SourceError(f"could not be read as CSV: {exc}", file=path.name, line=reader.line_num + 1) from None
        column, length = found
        try:
            label = _table_from_rows(path, None, raw, header_names).column_label(column)
        except SourceError:  # no header row above it
            label = str(column + 1)
        raise SourceError(f"holds a cell of {length:,} characters: no standard's text is that long "
                          "(is this the right file?)", file=path.name, line=row, column=label) from None
    if undecoded is not None:
        at, message = undecoded
        row = len(LINE_BREAK.findall(text, 0, at)) + 1
        # the record holding that line, and the first of its cells holding the character put in its place
        index, values = next(((i, values) for i, (number, values) in enumerate(raw) if number >= row),
                             (len(raw), []))
        column = next((c for c, value in enumerate(values) if "\ufffd" in value), 0)
        # (the row as a spreadsheet numbers them: the record's, not its line's)
        raise SourceError(message, file=path.name, row=index + 1,
                          column=_csv_column_label(path, raw[:index], column, header_names),
                          hint="save the file as UTF-8 (in Excel: Save As, CSV UTF-8) and import it again")
    if raw and (not spans or spans[-1][1] != raw[-1][0]):
        spans.append((raw[-2][0] + 1 if len(raw) > 1 else 1, raw[-1][0]))
    notes = _check_quotes(path, text, delimiter, raw, spans, header_names)
    # Rows as a spreadsheet numbers them, one a record (the checks above read lines): a cell holding a
    # line break (crosswalk's own export of a rationale of two lines) made every later row's number its
    # last line's, one more than the row the spreadsheet shows (an audit of import-decisions).
    raw = [(number, values) for number, (_, values) in enumerate(raw, start=1)]
    table = _table_from_rows(path, None, raw, header_names)
    _check_row_widths(table, delimiter)
    table.warnings.extend(notes)
    table.encoding = encoding
    table.delimiter = delimiter
    table.file_format = "csv"
    return table


DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "bar"}


def _check_row_widths(table: Table, delimiter: str) -> None:
    """A CSV row with values beyond its header's last column: most likely a delimiter inside a cell that
    is not in quotes ("Measure, cut and bevel plate" unquoted: the statement was cut at the comma, the
    grade read from the rest, and the import said nothing; an audit). Empty cells beyond it are left."""
    width = len(table.headers)
    for number, values in table.rows:
        extra = next((i for i in range(width, len(values)) if str(values[i] or "").strip()), None)
        if extra is not None:
            name = DELIMITER_NAMES.get(delimiter, repr(delimiter))
            raise SourceError(f"has {len(values)} cells where its header has {width}: a {name} inside a cell that "
                              f"is not in quotes? (the cell beyond the header holds {str(values[extra])[:60]!r})",
                              file=table.path.name, row=number, column=str(extra + 1),
                              hint=f'put a cell holding a {name} in double quotes ("Measure, cut and bevel plate"), '
                                   "as a spreadsheet's Save As CSV does")


KNOWN_HEADERS = frozenset(syn for names in SYNONYMS.values() for syn in names)


def header_names_with(names) -> frozenset[str]:
    """The usual column names and those the user gave (``--text-column "Task Wording"``), by which
    the header row is found; a column letter ("C") names no header."""
    given = {normalise_header(name) for name in names if name and not re.fullmatch(r"[A-Za-z]{1,3}", name)}
    return KNOWN_HEADERS | given


# A column name is a few words: a longer cell is no header, and is not normalised to find out (a CSV
# with an unclosed quote holds the rest of the file in one cell: normalising its 50 MB took 3 s).
MAX_HEADER_LENGTH = 200


def _looks_like_header(values: list, known=KNOWN_HEADERS, data=frozenset()) -> int:
    """How many cells of a row are known column names: with the usual names, also those that name
    the codes or the statements by their last word ("Task Description", "Competency No."). Cells in
    ``data`` ((column, text) found again and again down their column) are a column's values, not its
    name: NCES's CIP list has a column of "yes" and "no", and "no" (a code column's usual name) made
    its first such row the header.

    Counted by the exact names only, a details block above the table ("Description | Prepares
    students for...") named as many columns as the header "Task # | Task Description" and, first,
    was taken for it: the header's row became a standard.
    """
    # Distinct names: a merged cell spread over several columns counts once.
    names = {normalise_header(v) for i, v in enumerate(values)
             if isinstance(v, str) and len(v) <= MAX_HEADER_LENGTH and (i, v) not in data}
    by_last_word = KNOWN_HEADERS <= known
    return sum(1 for name in names
               if name in known or by_last_word and (_by_last_word(name, "code") or _by_last_word(name, "statement")))


def _has_text(value) -> bool:
    """Whether ``cell_text(value)`` is not empty, without cleaning the whole cell."""
    return value is not None and bool(str(value).strip())


# The most rows a header of merged cells may span ('Code' merged down over two rows beside 'Academic
# connection' over 'Math' and 'ELA'); a merged cell reaching further down is a label beside the table.
MAX_HEADER_LINES = 3


def _header_last_row(header_row: int, header_values: list, merges) -> int:
    """The last row of a header whose named cells are merged down over the rows below: those rows are
    the header's too (the sub-headers under a merged group), never data."""
    last = header_row
    for min_row, min_col, max_row, _ in merges:
        if (min_row <= header_row < max_row < header_row + MAX_HEADER_LINES
                and min_col <= len(header_values) and _has_text(header_values[min_col - 1])):
            last = max(last, max_row)
    return last


def _table_from_rows(path: pathlib.Path, sheet: str | None, raw: list[tuple[int, list]],
                     header_names=None, merges=()) -> Table:
    known = KNOWN_HEADERS if header_names is None else frozenset(header_names)
    nonempty = [(n, vals) for n, vals in raw if any(_has_text(v) for v in vals)]
    where = dict(file=path.name, sheet=sheet)
    if not nonempty:
        raise SourceError("is empty: no rows with any values", **where)
    candidates = nonempty[:HEADER_SEARCH_ROWS]
    # The header is the first row naming known columns; failing that, the first row
    # with at least two different texts (title rows above it usually have one, a merged
    # title spread over its columns too).
    seen = collections.Counter((i, v) for _, values in candidates for i, v in enumerate(values)
                               if isinstance(v, str) and _has_text(v))
    data = frozenset(cell for cell, count in seen.items() if count >= 3)
    best = max(candidates, key=lambda item: _looks_like_header(item[1], known, data))
    if _looks_like_header(best[1], known, data) == 0:
        best = next(
            (
                item for item in candidates
                if len({v for v in item[1] if isinstance(v, str) and _has_text(v)}) >= 2
            ),
            candidates[0],
        )
    header_row, header_values = best
    headers = [cell_text(v).replace("\n", " ") for v in header_values]
    last = _header_last_row(header_row, header_values, merges)
    header_lines = []
    if last > header_row:
        # A header over several rows: a column is named by its cells from the top down, a cell merged
        # down named once ('Code'), a group's name before each of its own ('Academic connection Math').
        by_number = dict(raw)
        header_lines = [headers] + [[cell_text(v).replace("\n", " ") for v in by_number.get(n, [])]
                                    for n in range(header_row + 1, last + 1)]
        width = max(len(line) for line in header_lines)
        headers = []
        for index in range(width):
            names: list[str] = []
            for line in header_lines:
                text = line[index] if index < len(line) else ""
                if text and (not names or names[-1] != text):
                    names.append(text)
            headers.append(" ".join(names))
    while headers and not headers[-1]:
        headers.pop()
    header_texts = list(headers)
    seen: dict[str, int] = {}
    for index, header in enumerate(headers):
        if header:
            seen[header] = seen.get(header, 0) + 1
            if seen[header] > 1:  # a merged header cell, or a repeated name
                headers[index] = f"{header} ({seen[header]})"
    if not headers:
        raise SourceError("has no header row", **where)
    rows = [(n, vals) for n, vals in raw if n > last]
    return Table(path=path, sheet=sheet, header_row=header_row, headers=headers, rows=rows,
                 header_texts=header_texts, header_lines=header_lines)


class NoStatementColumn(SourceError):
    """A sheet with no column that could hold the statements."""


# The import option that names each field's column.
COLUMN_OPTIONS = {"code": "--code-column", "statement": "--text-column", "grade": "--grade-column",
                  "subject": "--subject-column", "parent": "--parent-column", "domain": "--domain-column"}


def find_column(table: Table, name: str, field: str) -> int:
    """The index of a column named by the user (header text or column letter)."""
    wanted = normalise_header(name)
    for index, header in enumerate(table.headers):
        if normalise_header(header) == wanted:
            return index
    if re.fullmatch(r"[A-Za-z]{1,3}", name) and table.sheet is not None:
        index = 0
        for ch in name.upper():
            index = index * 26 + (ord(ch) - 64)
        if index - 1 < len(table.headers):
            return index - 1
    raise table.error(
        f"has no column named {name!r} for the {field}; its columns are: "
        + ", ".join(repr(h) for h in table.headers if h),
        row=table.header_row,
    )


def map_columns(table: Table, **named: str | None) -> ColumnMapping:
    """Find the code, statement, grade, subject, parent... columns by their names.

    Columns named by the user (``code="Task ID"``) win; the rest are found by
    the usual names of such columns. A statement column is required.
    """
    mapping = ColumnMapping()
    taken: set[int] = set()
    for field, name in named.items():
        if name:
            index = find_column(table, name, field)
            setattr(mapping, field, index)
            taken.add(index)
    normalised = [normalise_header(h) for h in table.headers]
    if mapping.code is None and mapping.statement is None:
        pair = _codes_beside_statements(table, normalised)
        if pair is not None:
            mapping.code, mapping.statement = pair
            taken.update(pair)
            code, text = (table.column_label(i).split(" ")[0] for i in pair)
            table.warnings.append(f"columns {code} and {text} share the header {table.header_texts[pair[0]]!r}: "
                                  f"{code} read as the codes, {text} as the statements")
    if mapping.code is None:
        bare = _bare_code_column(table, normalised, taken, mapping.statement)
        if bare is not None:
            _check_one_column_named(table, "code", bare)
            mapping.code = bare
            taken.add(bare)
    for field in FIELDS:
        if getattr(mapping, field) is not None:
            continue
        for synonym in SYNONYMS[field]:
            matches = [i for i, h in enumerate(normalised) if h == synonym and i not in taken]
            if matches:
                _check_one_column_named(table, field, matches[0])
                setattr(mapping, field, matches[0])
                taken.add(matches[0])
                break
    # Names SYNONYMS cannot all list: "Competency No.", "Element ID", "Task #" hold codes and "Task
    # Description" statements, by their last word, unless the whole name is another field's ("Parent
    # ID"). Left to the exact names, "Task #" was read as the statements and "Task Description" not at all.
    for field in LAST_WORDS:
        if getattr(mapping, field) is not None:
            continue
        for i, h in enumerate(normalised):
            if i not in taken and _by_last_word(h, field):
                _check_one_column_named(table, field, i)
                setattr(mapping, field, i)
                taken.add(i)
                break
    if mapping.statement is None:
        raise NoStatementColumn(
            "has no statement column (expected a header such as 'Statement', 'Text', "
            "'Description', 'Task' or 'Standard'); its columns are: "
            + ", ".join(repr(h) for h in table.headers if h),
            file=table.file, sheet=table.sheet, row=table.header_row,
            hint="name it with --text-column",
        )
    return mapping


def _by_last_word(header: str, field: str) -> bool:
    """Whether a (normalised) header names ``field``'s column by its last word ("Competency No.",
    "Task Description"; LAST_WORDS), its whole name being no other field's ("Parent ID")."""
    words = header.split()
    return len(words) > 1 and words[-1] in LAST_WORDS[field] and header not in _OTHER_FIELDS_NAMES[field]


def _bare_code_column(table: Table, normalised: list[str], taken: set[int], statement: int | None) -> int | None:
    """The column named "Standard", "Task", "Competency" or "Objective" where another column holds the
    text ("Description", "Task Description", or the one named for the statements) and none is named
    as the codes are: it holds the codes, if most of its cells read as codes do (a digit, three words
    at most: "HS-PS1-1", "101"). None where they read as text, where the codes have a column of their
    own ("Code", "Task #"), or where there is no such column.

    Left to SYNONYMS, "Standard, Description" had the codes read as the statements (each given a code
    made from it) and the descriptions not read at all.
    """
    for i, h in enumerate(normalised):
        if i not in taken and (h in SYNONYMS["code"] or _by_last_word(h, "code")):
            return None
    for i, h in enumerate(normalised):
        if h not in BARE_NAMES or i in taken:
            continue
        text = statement is not None and statement != i or any(
            j != i and h2 and (h2.split()[-1] in DESCRIPTION_WORDS
                               or h2 in SYNONYMS["statement"] and not _reads_as_codes(table, j))
            for j, h2 in enumerate(normalised))
        if not text:
            continue
        return i if _reads_as_codes(table, i) else None
    return None


def _reads_as_codes(table: Table, index: int) -> bool:
    """Whether most of a column's first 100 filled cells read as codes do (a digit, three words at
    most: "HS-PS1-1", "101")."""
    cells = [cell_text(values[index]) for _, values in table.rows[:200] if index < len(values)]
    cells = [cell for cell in cells if cell][:100]
    codes = sum(len(cell.split()) <= 3 and any(ch.isdigit() for ch in cell) for cell in cells)
    return codes * 2 > len(cells)


def _codes_beside_statements(table: Table, normalised: list[str]) -> tuple[int, int] | None:
    """Two neighbouring columns under one header naming the statements or the codes ("Standard"
    merged over "HS-PS1-1 | Plan and conduct an investigation...", or typed twice), no other column
    named for either: (the codes' column, the statements'), where the left one's cells read as codes
    and the right one's do not. Left to the names, the import asked which of the two held the codes,
    then which held the statements."""
    names = SYNONYMS["statement"] + SYNONYMS["code"]
    if any(h in names or _by_last_word(h, "code") or _by_last_word(h, "statement")
           for i, h in enumerate(normalised) if len(table.same_name(i)) == 1):
        return None
    for i, h in enumerate(normalised):
        if h in names and table.same_name(i) == [i, i + 1]:
            if _reads_as_codes(table, i) and not _reads_as_codes(table, i + 1):
                return i, i + 1
            return None
    return None


def _check_one_column_named(table: Table, field: str, index: int) -> None:
    """Two columns with the same header, found by that name: refuse to guess which one is meant.

    (Fields no option can name keep the first such column, with a note.)
    """
    same = table.same_name(index)
    if len(same) < 2:
        return
    labels = ", ".join(table.column_label(i) for i in same)
    name = table.header_texts[index] if table.header_texts else table.headers[index]
    option = COLUMN_OPTIONS.get(field)
    if option is None:
        table.warnings.append(f"{len(same)} columns are named {name!r} ({labels}): the first is read as the {field}")
        return
    choices = ", ".join(f'{option} "{table.headers[i]}" for {table.column_label(i).split(" ")[0]}' for i in same)
    raise table.error(
        f"has {len(same)} {field} columns named {name!r}: {labels}; which one holds the {field}s?",
        row=table.header_row, hint=f"name it with {choices}",
    )
