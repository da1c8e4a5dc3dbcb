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

import csv
import dataclasses
import io
import pathlib
import re
import zipfile

from .errors import SourceError

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


@dataclasses.dataclass
class Table:
    """The header and data rows of one sheet (or CSV file)."""

    path: pathlib.Path
    sheet: str | None
    header_row: int
    headers: list[str]
    rows: list[tuple[int, list]]  # (row number in the file, cell values)
    sheets: list[str] = dataclasses.field(default_factory=list)
    encoding: str | None = None
    delimiter: str | None = None

    @property
    def file(self) -> str:
        return self.path.name

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


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def normalise_header(value) -> str:
    text = "" if value is None else str(value)
    text = re.sub(r"([a-z])([A-Z])", r"\1 \2", text)  # humanCodingScheme → human Coding Scheme
    text = re.sub(r"[^0-9a-zA-Z]+", " ", text).strip().lower()
    return text


def cell_text(value) -> str:
    """A cell's value as clean text: numbers without a trailing .0, whitespace collapsed."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).replace("\r\n", "\n").replace("\r", "\n").replace("\xa0", " ")
    lines = [re.sub(r"[ \t]+", " ", line).strip() for line in text.split("\n")]
    return "\n".join(line for line in lines if line).strip()


def read_table(path, sheet: str | None = None) -> Table:
    """Read one sheet of an .xlsx workbook, or a .csv/.tsv/.txt file.

    Example::

        table = read_table("standards.csv")
    """
    path = pathlib.Path(path)
    if not path.exists():
        raise SourceError("file not found", file=str(path))
    if path.is_dir():
        raise SourceError("is a folder, not a spreadsheet", file=str(path))
    suffix = path.suffix.lower()
    head = path.open("rb").read(8)
    if suffix in (".xlsx", ".xlsm") or head.startswith(b"PK\x03\x04"):
        if suffix == ".ods":
            raise SourceError(
                "is an OpenDocument spreadsheet (.ods)",
                file=path.name,
                hint="save it as .xlsx or .csv from LibreOffice or Excel and import that",
            )
        return _read_xlsx(path, sheet)
    if suffix in (".xls",) or head.startswith(b"\xd0\xcf\x11\xe0"):
        raise SourceError(
            "is an old-style Excel .xls file (or an encrypted workbook)",
            file=path.name,
            hint="open it in Excel or LibreOffice and save it as .xlsx, or remove its password",
        )
    if suffix == ".json":
        raise SourceError("is JSON; use `crosswalk import-case` for CASE JSON packages", file=path.name)
    if sheet is not None:
        raise SourceError("a CSV file has no sheets; leave out --sheet", file=path.name)
    return _read_csv(path)


def _read_xlsx(path: pathlib.Path, sheet: str | None) -> Table:
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise SourceError(
            f"is not a readable .xlsx workbook ({exc.__class__.__name__}: {exc})",
            file=path.name,
            hint="check that it opens in Excel or LibreOffice and save it again as .xlsx",
        ) from None
    try:
        names = workbook.sheetnames
        if sheet is None:
            worksheet = workbook.worksheets[0]
        elif sheet in names:
            worksheet = workbook[sheet]
        else:
            raise SourceError(
                f"has no sheet named {sheet!r}; its sheets are: " + ", ".join(repr(n) for n in names),
                file=path.name,
            )
        raw = [
            (number, list(values))
            for number, values in enumerate(worksheet.iter_rows(values_only=True), start=1)
        ]
    finally:
        workbook.close()
    table = _table_from_rows(path, worksheet.title, raw)
    table.sheets = names
    return table


def _decode(data: bytes) -> tuple[str, str]:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8"), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "utf-16"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        # What Excel writes on Windows.
        return data.decode("cp1252", errors="replace"), "windows-1252"


def _read_csv(path: pathlib.Path) -> Table:
    data = path.read_bytes()
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise SourceError("is not a text or spreadsheet file (it contains binary data)", file=path.name)
    text, encoding = _decode(data)
    sample = text[:20000]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    raw = []
    try:
        for values in reader:
            raw.append((reader.line_num, values))
    except csv.Error as exc:
        raise SourceError(f"could not be read as CSV: {exc}", file=path.name, row=reader.line_num) from None
    table = _table_from_rows(path, None, raw)
    table.encoding = encoding
    table.delimiter = delimiter
    return table


def _looks_like_header(values: list) -> int:
    """How many cells of a row are known column names."""
    known = {syn for names in SYNONYMS.values() for syn in names}
    return sum(1 for v in values if isinstance(v, str) and normalise_header(v) in known)


def _table_from_rows(path: pathlib.Path, sheet: str | None, raw: list[tuple[int, list]]) -> Table:
    nonempty = [(n, vals) for n, vals in raw if any(cell_text(v) for v in vals)]
    where = dict(file=path.name, sheet=sheet)
    if not nonempty:
        raise SourceError("is empty: no rows with any values", **where)
    candidates = nonempty[:HEADER_SEARCH_ROWS]
    # The header is the first row naming known columns; failing that, the first row
    # with at least two text cells (title rows above it usually have one).
    best = max(candidates, key=lambda item: _looks_like_header(item[1]))
    if _looks_like_header(best[1]) == 0:
        best = next(
            (
                item for item in candidates
                if sum(1 for v in item[1] if isinstance(v, str) and cell_text(v)) >= 2
            ),
            candidates[0],
        )
    header_row, header_values = best
    headers = [cell_text(v).replace("\n", " ") for v in header_values]
    while headers and not headers[-1]:
        headers.pop()
    if not headers:
        raise SourceError("has no header row", **where)
    rows = [(n, vals) for n, vals in raw if n > header_row]
    return Table(path=path, sheet=sheet, header_row=header_row, headers=headers, rows=rows)


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
    for field in FIELDS:
        if getattr(mapping, field) is not None:
            continue
        for synonym in SYNONYMS[field]:
            matches = [i for i, h in enumerate(normalised) if h == synonym and i not in taken]
            if matches:
                setattr(mapping, field, matches[0])
                taken.add(matches[0])
                break
    if mapping.statement is None:
        raise table.error(
            "has no statement column (expected a header such as 'Statement', 'Text', "
            "'Description', 'Task' or 'Standard'); its columns are: "
            + ", ".join(repr(h) for h in table.headers if h),
            row=table.header_row,
            hint="name it with --text-column",
        )
    return mapping
