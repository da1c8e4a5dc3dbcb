"""The review workbook: suggestions out to a spreadsheet a committee works in, decisions back in.

The export has a cover sheet (what is in it, how to fill it in, counts) and a
``Suggestions`` sheet with one row per alignment: both statements side by
side, score, confidence and evidence, then the columns the committee fills
in (Decision, Strength, Rationale, Reviewer). Hidden, protected columns keep
each row's alignment, its two standards and a fingerprint of what the
committee saw, so that the import can tell a decision made on stale
information (a conflict, never applied) from a new one, and a Strength or
Rationale cell the committee emptied (an edit) from one the export left empty.

Example::

    from crosswalk.db import open_db
    from crosswalk.workbook import export_workbook, import_workbook
    db = open_db("district.db")
    export_workbook(db, "welding-review.xlsx", program="Welding Technology", statuses=["suggested"])
    result = import_workbook(db, "welding-review.xlsx", reviewer="Welding committee")
    print(result.summary())
"""

from __future__ import annotations

import copy
import dataclasses
import itertools
import pathlib
import re
import typing
import zipfile
import zlib
from xml.etree.ElementTree import ParseError

import openpyxl
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, NamedStyle, PatternFill, Protection
from openpyxl.styles.borders import DEFAULT_BORDER
from openpyxl.styles.fonts import DEFAULT_FONT
from openpyxl.utils import get_column_letter, range_boundaries
from openpyxl.worksheet.datavalidation import DataValidation

from .cells import is_formula_like, write_cell
from .db import (CONFIDENCES, STATUSES, database_identity, framework_id, now, program_id, program_name, row_id,
                 statement_order_sql, write_transaction)
from .errors import CrosswalkError, SourceError
from .outputs import check_output, database_file, has_sheets, mark, replacing, sheet_names
from .review import (
    DECISION_ALSO, clean_text, describe_state, fingerprint, normalise_strength, plan_decision, read_decision,
    record_decision, reviewer_name, seen_as_exported,
)
from .sources import check_input_file, code_number, file_kind
from .text import CHANCE, grade_label, parse_grades, plural, same_words, score_text, short_list, shown_score, visible

SHEET = "Suggestions"
COVER = "About this workbook"
NO_LIKELY = "No likely alignment"  # the statements match found nothing likely for (read by no import)
# A score cell holds text.shown_score (the figure the sites show) and shows its one decimal, 25.0 as the
# sites do, not 25; its column is named as the sites name the figure.
SCORE_FORMAT = "0.0"
SCORE = f"{CHANCE} (%)"
OLD_SCORE = "Score"  # its name in workbooks exported before 2026-12-01, still read


@dataclasses.dataclass(frozen=True)
class Column:
    header: str
    width: float
    key: str
    editable: bool = False
    hidden: bool = False
    wrap: bool = False
    number_format: str = "General"


COLUMNS = [
    Column("Alignment id", 11, "id"),
    Column("Industry framework", 18, "industry_framework", wrap=True),
    Column("CTE code", 12, "cte_code"),
    Column("CTE statement", 48, "cte_statement", wrap=True),
    Column("Academic code", 15, "standard_code"),
    Column("Academic standard", 48, "standard", wrap=True),
    Column("Subject", 12, "subject", wrap=True),
    Column("Grade", 8, "grade"),
    Column(SCORE, 11, "score", number_format=SCORE_FORMAT),
    Column("Confidence", 11, "confidence"),
    Column("Evidence", 40, "evidence", wrap=True),
    Column("Current status", 20, "current", wrap=True),
    # The columns to fill in hold text ("@"): in General, a rationale typed "3/4" was read as a date,
    # "1.10" as 1.1, a reviewer TRUE as True (an audit of the review workbook).
    Column("Decision", 11, "decision", editable=True, number_format="@"),
    Column("Strength", 10, "strength_cell", editable=True, number_format="@"),
    Column("Rationale", 40, "rationale_cell", editable=True, wrap=True, number_format="@"),
    Column("Reviewer", 16, "reviewer_cell", editable=True, number_format="@"),
    Column("Source id", 9, "source_id", hidden=True),
    Column("Target id", 9, "target_id", hidden=True),
    Column("Fingerprint", 18, "fingerprint", hidden=True),
]

INSTRUCTIONS = [
    "Each row of the 'Suggestions' sheet is one suggested alignment: an industry (CTE) statement on the "
    "left, an academic standard on the right, with the chance it is right (crosswalk's estimate, in percent), "
    "its confidence (high, medium or low) and the evidence for it. Each statement's suggestions are in "
    "the matcher's order: first its own best match (its words, its meaning, the decisions on statements "
    "like it), then by chance; a standard that decisions made likely for many statements may show a "
    "higher chance further down without heading every list.",
    "Decision: choose accept or reject from the list. Leave it empty to decide later; empty rows change "
    "nothing.",
    "Strength (accepted rows only): full when the CTE work fully teaches the standard, partial when it "
    "covers part of it; an accepted row left without one is full.",
    "Rationale: why, in a sentence (a lesson, an activity, an assessment); emptied on a decided row, "
    "the rationale is cleared. Reviewer: who decided; when "
    "empty, the name given to 'crosswalk review import' is recorded.",
    "Grey columns are locked; filter freely. To sort, first unprotect the sheet (Excel: Review > Unprotect "
    "Sheet; no password is set): Excel sorts only unlocked cells of a protected sheet. Do not delete the "
    "hidden columns: they let the "
    "import tell whether someone else changed an alignment since this export.",
    "Bring it back with: crosswalk review import DATABASE THIS_FILE.xlsx --reviewer \"Your name\". "
    "Rows that changed in the database since the export are reported as conflicts and not applied; "
    "importing the same workbook twice changes nothing the second time.",
]

BOLD = Font(bold=True)
LOCKED_FILL = PatternFill("solid", fgColor="EEEEEE")
EDITABLE_FILL = PatternFill("solid", fgColor="FFF8DC")
HEADER_FILL = PatternFill("solid", fgColor="D9E1F2")


def _industry_filter(db, column: str, program, framework) -> tuple[list[str], list]:
    """The SQL conditions (and their values) that keep the industry frameworks of ``program`` or
    ``framework`` (``column``: the industry framework id's column)."""
    where, params = [], []
    if program:
        where.append(f"{column} in (select framework_id from program_frameworks where program_id = ?)")
        params.append(program_id(db, program))
    if framework:
        where.append(f"{column} = ?")
        params.append(framework_id(db, framework))
    return where, params


def select_alignments(db, *, program=None, framework=None, statuses=None, min_score=None) -> list[dict]:
    """The alignments a review workbook holds, grouped by industry statement, each statement's in
    the matcher's order (:func:`crosswalk.db.statement_order_sql`)."""
    where, params = _industry_filter(db, "industry_framework_id", program, framework)
    where = ["cte_status = 'active'", "standard_status = 'active'", *where]
    if statuses:
        bad = [s for s in statuses if s not in STATUSES]
        if bad:
            raise CrosswalkError(f"unknown status {bad[0]!r}: use suggested, accepted or rejected")
        where.append(f"status in ({', '.join('?' for _ in statuses)})")
        params.extend(statuses)
    if min_score is not None:
        where.append("score >= ?")
        params.append(float(min_score))
    sql = (
        "select * from alignment_details where " + " and ".join(where)
        + f" order by industry_framework, cte_position, source_id, {statement_order_sql('alignment_details')}, id"
    )
    return list(db.query(sql, params))


@dataclasses.dataclass
class ExportResult:
    path: pathlib.Path
    rows: int
    counts: dict
    notes: list = dataclasses.field(default_factory=list)

    def summary(self) -> str:
        parts = ", ".join(f"{n} {status}" for status, n in self.counts.items() if n)
        return f"Wrote {plural(self.rows, 'alignment')} to {self.path}" + (f" ({parts})" if parts else "")


@dataclasses.dataclass
class Tally:
    """How many alignments of each status and confidence went into a workbook."""

    statuses: dict = dataclasses.field(default_factory=lambda: {status: 0 for status in STATUSES})
    confidence: dict = dataclasses.field(default_factory=lambda: {"high": 0, "medium": 0, "low": 0})
    flagged: int = 0
    flagged_rejected: int = 0  # of them, rejections (the programs' "to re-review" counts acceptances only)


def export_workbook(db, path, *, program=None, framework=None, statuses=None, min_score=None,
                    database_name=None, replace: bool = False) -> ExportResult:
    """Write a review workbook of the selected alignments.

    A review workbook already at ``path`` that holds decisions not yet imported is not written
    over (the committee's work would be lost), unless ``replace``; nor is the database, or a file
    crosswalk did not write (:func:`crosswalk.outputs.check_output`; ``replace`` for the latter).

    Example::

        export_workbook(db, "review.xlsx", program="Welding Technology", statuses=["suggested"], min_score=10)
    """
    path = pathlib.Path(path)
    if path.suffix.lower() != ".xlsx":
        raise CrosswalkError(f"the review workbook must be an .xlsx file, not {path.name!r}")
    if not replace and path.is_file():  # first: a committee's decisions say so, whatever else the file holds
        _refuse_to_lose_decisions(db, path)
    check_output(path, database=db, what="a review workbook", ours=has_sheets([SHEET]), force=replace)
    rows = select_alignments(db, program=program, framework=framework, statuses=statuses, min_score=min_score)

    # Written as a stream (openpyxl's write-only mode: each row goes to disk as it is appended, the
    # sheets in the order they are made, the cover first though written last). Every cell of a
    # workbook held in memory, the export of 93,950 alignments (one program of every O*NET task)
    # took 43 s and 1.13 GB; streamed, about a quarter less time and 316 MB (an audit's prototype,
    # 2026-11-30: the same values, styles, lists, filter and protection in every cell).
    workbook = openpyxl.Workbook(write_only=True)
    mark(workbook)
    cover = workbook.create_sheet(COVER)
    sheet = workbook.create_sheet(SHEET)
    unlikely = select_no_likely(db, program=program, framework=framework)
    _write_header(sheet)
    tally = _write_suggestions(sheet, rows)
    _add_dropdowns_and_protection(sheet, len(rows))
    filters = _describe_filters(framework, statuses, min_score)
    if unlikely:
        _write_no_likely(workbook.create_sheet(NO_LIKELY), unlikely)
    _write_cover(cover, _cover_lines(db, rows, tally, program=program, filters=filters, database_name=database_name,
                                     unlikely=unlikely))
    try:
        with replacing(path) as part:
            workbook.save(part)
    except OSError as exc:
        raise CrosswalkError(f"cannot write {path}: {exc.strerror or exc}") from None
    result = ExportResult(path, len(rows), tally.statuses)
    if not rows:  # an empty workbook: say why, where the score was the reason
        best = None
        if min_score is not None:
            others = select_alignments(db, program=program, framework=framework, statuses=statuses)
            best = max((r["score"] for r in others if r["score"] is not None), default=None)
        result.notes.append("no alignment matches these filters" + (
            f"; without --min-chance, {plural(len(others), 'alignment')} would, the best with a chance of "
            f"{score_text(best)}%"
            if best is not None else ""))
    return result


def _pending(db, items: list[WorkbookRow]) -> list[WorkbookRow]:
    pending = []
    for item in items:
        row = _find(db, item)
        if row is None:
            pending.append(item)
            continue
        strength, rationale = _asked(db, row, item)
        if plan_decision(db, row, item.decision, strength=strength, rationale=rationale).changed and not \
                _untouched(db, row, item):
            pending.append(item)  # (a row as exported, decided otherwise since: nothing the import would apply)
    return pending


def _refuse_to_lose_decisions(db, path: pathlib.Path) -> None:
    """Raise CrosswalkError if the file at ``path`` is a review workbook holding a decision the
    database does not hold yet, a strength or rationale written without a decision, or values that
    cannot be read, or if it is one that openpyxl cannot read at all (a committee's work each way)."""
    # Told by the zip's list of sheets, not by openpyxl: a review workbook saved by another program
    # with a part openpyxl cannot parse was taken for "no workbook" here, yet recognised as a review
    # workbook by check_output, and written over without --force, its decisions with it.
    sheets = sheet_names(path)
    if sheets is None or SHEET not in sheets:
        return  # not an .xlsx at all, or no review workbook: no decisions in it (check_output refuses it, unforced)
    advice = ("import it first (crosswalk review import), write the export to another file, "
              "or replace it with --force")
    try:
        _, items, undecided = read_workbook(path)
    except UnreadableWorkbook as exc:
        raise CrosswalkError(
            f"{path.name} is a review workbook that cannot be read ({exc.cause}), so the decisions in it cannot "
            "be checked; it was not written over: open it in Excel or LibreOffice and save it again as an Excel "
            "workbook (.xlsx), then import it (crosswalk review import); or write the export to another file, "
            "or replace it with --force") from None
    except SourceError as exc:
        raise CrosswalkError(f"{path.name} is a review workbook whose decisions could not be read ({exc}); "
                             f"it was not written over: {advice}") from None
    pending = _pending(db, items)
    if pending:
        first = pending[0]
        more = f", and {len(pending) - 1} more" if len(pending) > 1 else ""
        raise CrosswalkError(
            f"{path.name} holds {plural(len(pending), 'decision')} not yet imported (row {first.row}: "
            f"{first.decision}{more}); it was not written over: {advice}")
    notes = _unsaved_notes(db, undecided)
    if notes:
        more = f", and {len(notes) - 1} more" if len(notes) > 1 else ""
        raise CrosswalkError(
            f"{path.name} holds a strength or rationale written on {plural(len(notes), 'row')} without "
            f"a decision, which the database does not hold (row {notes[0]}{more}); it was not written over: "
            "give those rows a decision and import it (crosswalk review import), write the export to another "
            "file, or replace it with --force")


def _unsaved_notes(db, undecided: list[Undecided]) -> list[int]:
    """The rows of a review workbook where a strength or rationale was written on a suggestion left
    without a decision and the database holds another (a committee's writing that an export over
    the file would lose: the import keeps no note without a decision)."""
    held = _noted_suggestions(db, undecided)
    return sorted(u.row for u, (strength, rationale) in held if _differs(u, strength, rationale))


def _differs(u: Undecided, strength, rationale) -> bool:
    """Whether an undecided row's Strength or Rationale cell says otherwise than the database."""
    return u.rationale != clean_text(rationale or "") or bool(
        u.strength and u.strength.casefold() != (strength or "").casefold())


def _emptied(db, undecided: list[Undecided]) -> list[int]:
    """The rows without a decision where the export wrote one (the alignment decided, not flagged,
    as it was then): a decision is not undone by emptying its cell, and the import said nothing."""
    by_id = {u.alignment: u for u in undecided if u.alignment is not None and u.fingerprint}
    rows = []
    ids = list(by_id)
    for at in range(0, len(ids), 500):  # (SQLite's limit on parameters; the decided ones only, then read whole)
        part = ids[at:at + 500]
        for row in db.query(f"select * from alignment_details where id in ({', '.join('?' * len(part))}) "
                            "and status != 'suggested' and not needs_review", part):
            if seen_as_exported(row, by_id[row["id"]].fingerprint):
                rows.append(by_id[row["id"]].row)
    return sorted(rows)


def _noted_suggestions(db, undecided: list[Undecided]) -> list[tuple[Undecided, tuple]]:
    """The undecided rows with a strength or rationale written in them whose alignment is still a
    suggestion, or a decision to re-review (exported with its strength and rationale filled in and
    its Decision empty: only where the cells now say otherwise than the database), each with the
    (strength, rationale) the database holds for it."""
    noted = {u.alignment: u for u in undecided if u.noted and u.alignment is not None}
    held = []
    for at in range(0, len(noted), 500):  # (SQLite's limit on parameters)
        ids = list(noted)[at : at + 500]
        for row in db.execute(
                f"select id, strength, rationale, status from alignments "
                f"where (status = 'suggested' or needs_review = 1) "
                f"and id in ({', '.join('?' * len(ids))})", ids):
            u = noted[row[0]]
            if row[3] != "suggested" and not _differs(u, row[1], row[2]):
                continue  # (a re-review row as exported: its old strength and rationale, no decision)
            held.append((u, row[1:3]))
    return held


def _write_header(sheet) -> None:
    """The column widths, the frozen header row and the header (a streamed sheet writes its view
    before its first row)."""
    cells = []
    for index, column in enumerate(COLUMNS, start=1):
        cell = write_cell(WriteOnlyCell(sheet), column.header)
        cell.font = BOLD
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        cells.append(cell)
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = column.width
        if column.hidden:
            sheet.column_dimensions[letter].hidden = True
    sheet.freeze_panes = "A2"
    sheet.append(cells)


def _column_styles(workbook) -> list[str]:
    """Each column's cell style, registered once as a named style of the workbook (they show in
    the spreadsheet's list of cell styles as "Review: ..."). Set on each cell by name: setting a
    cell's alignment, fill and protection one by one made openpyxl hash each new style object
    against the workbook's, 53 of the 67 s (under cProfile) of exporting the demo's 12,883
    alignments, 20.7 s without the profiler."""
    names = []
    for column in COLUMNS:
        kind = "to fill in" if column.editable else "hidden" if column.hidden else "read only"
        name = (f"Review: {kind}{', wrapped' if column.wrap else ''}"
                f"{', one decimal' if column.number_format == SCORE_FORMAT else ''}")
        if name not in workbook.named_styles:
            # The workbook's default font and border, as a cell styled one attribute at a time keeps
            # (a named style has none of its own: LibreOffice showed such cells in Cambria).
            style = NamedStyle(name=name, font=copy.copy(DEFAULT_FONT), border=copy.copy(DEFAULT_BORDER),
                               alignment=Alignment(wrap_text=column.wrap, vertical="top"),
                               number_format=column.number_format)
            if column.editable:
                style.protection = Protection(locked=False)
                style.fill = EDITABLE_FILL
            elif not column.hidden:
                style.fill = LOCKED_FILL
            workbook.add_named_style(style)
        names.append(name)
    return names


def _write_suggestions(sheet, rows: list[dict]) -> Tally:
    """One row per alignment, from row 2: what the committee reads, then what it fills in."""
    tally = Tally()
    # One styled cell per column, and one more for a text that looks like a formula (kept as text
    # with a quote prefix), used again for every row: a streamed sheet writes a row when it is
    # appended. Setting each new cell's style took 45% of the export of 93,950 alignments.
    plain, quoted = [], []
    for style in _column_styles(sheet.parent):
        for cells, prefix in ((plain, False), (quoted, True)):
            cell = WriteOnlyCell(sheet)
            cell.style = style
            cell.quotePrefix = prefix
            cells.append(cell)
    for row in rows:
        tally.statuses[row["status"]] += 1
        if row["confidence"] in tally.confidence:
            tally.confidence[row["confidence"]] += 1
        tally.flagged += bool(row["needs_review"])
        tally.flagged_rejected += bool(row["needs_review"]) and row["status"] == "rejected"
        values = _cells_of(row)
        out = []
        for index, column in enumerate(COLUMNS):
            value = values.get(column.key)
            value = value if value != "" else None
            out.append(write_cell((quoted if is_formula_like(value) else plain)[index], value))
        sheet.append(out)
    return tally


def _cells_of(row: dict) -> dict:
    """The values of one alignment's row, by column key."""
    current = describe_state(row)
    if row["status"] != "suggested" and row["reviewer"]:
        current += f" (by {row['reviewer']})"
    if row["needs_review"]:
        current += "; NEEDS RE-REVIEW: " + (row["needs_review_reason"] or "a statement changed")
    return dict(
        row,
        # (as the sites and the report write grades: "Grades 9–12", whatever the source file wrote)
        grade=grade_label(*parse_grades(row["grade"]), row["grade"]) if row["grade"] else None,
        score=shown_score(row["score"]),
        current=current,
        # A flagged row starts empty so that nobody re-confirms it without looking.
        decision="" if row["needs_review"] else {"accepted": "accept", "rejected": "reject"}.get(row["status"], ""),
        strength_cell=row["strength"] or "",
        rationale_cell=row["rationale"] or "",
        reviewer_cell="",
        fingerprint=fingerprint(row),
    )


def _add_dropdowns_and_protection(sheet, count: int) -> None:
    """Lists for Decision and Strength, a frozen header, a filter, and locked id columns."""
    last_row = max(count + 1, 2)
    letters = {c.header: get_column_letter(i) for i, c in enumerate(COLUMNS, start=1)}
    for header, choices, prompt in (("Decision", "accept,reject", "accept or reject (empty: decide later)"),
                                    ("Strength", "full,partial", "full or partial (accepted rows)")):
        validation = DataValidation(
            type="list", formula1=f'"{choices}"', allow_blank=True, showErrorMessage=True,
            errorTitle=header, error=f"Choose {choices.replace(',', ' or ')}, or leave the cell empty.",
            promptTitle=header, prompt=prompt, showInputMessage=True,
        )
        validation.add(f"{letters[header]}2:{letters[header]}{last_row}")
        sheet.data_validations.append(validation)
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{last_row}"
    # Locked id columns, but sorting, filtering and resizing stay allowed (Excel still sorts only unlocked
    # cells of a protected sheet, so the cover sheet says how to unprotect it: no password).
    sheet.protection.sheet = True
    for permission in ("autoFilter", "sort", "formatColumns", "formatRows", "selectLockedCells",
                       "selectUnlockedCells"):
        setattr(sheet.protection, permission, False)


def select_no_likely(db, *, program=None, framework=None) -> list[dict]:
    """The statements (of the program's or the framework's industry frameworks) that the last match
    found no likely academic alignment for, with the framework searched and the best score."""
    where, params = _industry_filter(db, "s.framework_id", program, framework)
    return list(db.query(
        "select s.code, s.statement, sf.name as credential, tf.name as searched_in, n.best_score "
        "from no_likely_alignment n join standards s on s.id = n.source_id and s.status = 'active' "
        "join frameworks sf on sf.id = s.framework_id join frameworks tf on tf.id = n.target_framework_id"
        + (" where " + " and ".join(where) if where else "")
        + " order by sf.name, s.position, s.code, tf.name", params))


def _write_no_likely(sheet, rows: list[dict]) -> None:
    """One row per statement and framework searched, with a filter: the statements a committee may
    agree have no academic alignment, or look into (nothing here is imported)."""
    headers = (("Code", 14), ("Credential statement", 70), ("Credential", 30), ("Searched in", 40),
               (f"Best {CHANCE.lower()} (%)", 14))
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:E{len(rows) + 1}"
    header = []
    for index, (text, width) in enumerate(headers, start=1):
        cell = write_cell(WriteOnlyCell(sheet), text)
        cell.font, cell.fill = BOLD, HEADER_FILL
        header.append(cell)
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.append(header)
    wrapped = Alignment(wrap_text=True, vertical="top")
    for row in rows:
        cells = []
        for key in ("code", "statement", "credential", "searched_in"):
            cell = write_cell(WriteOnlyCell(sheet), row[key])
            cell.alignment = wrapped
            cells.append(cell)
        best = WriteOnlyCell(sheet, shown_score(row["best_score"]))
        best.number_format = SCORE_FORMAT
        sheet.append(cells + [best])


def _describe_filters(framework, statuses, min_score) -> str:
    filters = []
    if framework:
        filters.append(f"industry framework {framework}")
    if statuses:
        filters.append("status " + " or ".join(statuses))
    if min_score is not None:
        filters.append(f"{CHANCE.lower()} at least {min_score:g}%")
    return "; ".join(filters) or "none"


def _cover_lines(db, rows: list[dict], tally: Tally, *, program, filters: str, database_name,
                 unlikely: list | None = None) -> list[tuple]:
    """(label, value) lines of the cover sheet: what is in the workbook and how to fill it in."""
    frameworks = sorted({r["industry_framework"] for r in rows})
    academic = sorted({r["academic_framework"] for r in rows})
    if program:  # (as stored: the command line may give its id, or its name in another case)
        programs = [program_name(db, program)]
    else:
        programs = sorted({
            r[0] for r in db.execute(
                "select distinct p.name from programs p join program_frameworks pf on pf.program_id = p.id "
                "join frameworks f on f.id = pf.framework_id where f.name in "
                f"({', '.join('?' for _ in frameworks) or 'null'})", frameworks,
            )
        })
    return [
        ("crosswalk review workbook", None),
        (None, None),
        ("Program", ", ".join(programs) or "(no program selected)"),
        ("Industry frameworks", ", ".join(frameworks) or "(none)"),
        ("Academic frameworks", ", ".join(academic) or "(none)"),
        ("Database", database_name or ""),
        ("Database id", database_identity(db) or ""),  # (told apart from another file of the same name)
        ("Exported at", now()),
        ("Filters", filters),
        (None, None),
        ("Alignments in this workbook", len(rows)),
        ("Suggested (not decided yet)", tally.statuses["suggested"]),
        ("Accepted", tally.statuses["accepted"]),
        ("Rejected", tally.statuses["rejected"]),
        ("Needing re-review", tally.flagged if not tally.flagged_rejected else
         f"{tally.flagged} ({tally.flagged - tally.flagged_rejected} accepted, which certify nothing until decided "
         f"again, as a program's 'to re-review' counts; {tally.flagged_rejected} rejected)"),
        ("High confidence", tally.confidence["high"]),
        ("Medium confidence", tally.confidence["medium"]),
        ("Low confidence", tally.confidence["low"]),
        *([("Not scored by the matcher", f"{unscored}: pairs a reviewer or an earlier crosswalk added")]
          if (unscored := len(rows) - sum(tally.confidence.values())) else []),
        ("No likely alignment in a subject", _no_likely_line(unlikely)),
        (None, None),
        ("How to fill it in", None),
    ] + [(f"{i}.", text) for i, text in enumerate(INSTRUCTIONS, start=1)]


def _no_likely_line(unlikely: list[dict]):
    """The cover's count of the statements match found nothing likely for: statements, and where one
    was searched in several subjects, the sheet's rows apart (13 statements on 24 rows read as "24
    statements")."""
    if not unlikely:
        return 0
    statements = len({(row["credential"], row["code"]) for row in unlikely})
    rows = f", on {len(unlikely)} rows (one per subject searched)" if len(unlikely) != statements else ""
    return (f"{plural(statements, 'statement')}: match found nothing likely for "
            f"{'them' if statements != 1 else 'it'} in a subject (sheet '{NO_LIKELY}'{rows}; nothing to fill in there)")


def _write_cover(cover, lines: list[tuple]) -> None:
    cover.column_dimensions["A"].width = 30
    cover.column_dimensions["B"].width = 100
    cover.protection.sheet = True
    for r, (label, value) in enumerate(lines, start=1):
        cells = [None, None]
        if label is not None:
            cells[0] = write_cell(WriteOnlyCell(cover), label)
            cells[0].font = Font(bold=True, size=14) if r == 1 else BOLD
        if value is not None:
            cells[1] = write_cell(WriteOnlyCell(cover), value)
            cells[1].alignment = Alignment(wrap_text=True, vertical="top", horizontal="left")
        cover.append(cells)


# --- import ---------------------------------------------------------------------------------

REQUIRED = ["Alignment id", "Decision", "Strength", "Rationale", "Reviewer", "Source id", "Target id",
            "Fingerprint"]


@dataclasses.dataclass
class WorkbookRow:
    row: int
    alignment_id: int
    source_id: int
    target_id: int
    decision: str
    strength: str | None  # the Strength cell's, else the decision word's; None: neither says one
    rationale: str | None  # None: the cell is empty (kept, or cleared where the reviewer emptied it: _asked)
    reviewer: str | None
    fingerprint: str
    score: float | None = None
    confidence: str | None = None
    evidence: str | None = None
    statements: tuple = (None, None)  # the CTE statement and academic standard cells, as the row holds them
    codes: tuple = (None, None)  # the CTE code and academic code cells, as the row holds them
    rejected_strength: str | None = None  # a Strength cell on a rejected row (a rejection has none)


@dataclasses.dataclass
class Conflict:
    row: int
    alignment_id: int
    reason: str

    def describe(self) -> str:
        return f"row {self.row} (alignment {self.alignment_id}): {self.reason}; not applied"


@dataclasses.dataclass
class ImportResult:
    path: pathlib.Path
    recorded: dict = dataclasses.field(default_factory=lambda: {"accepted": 0, "rejected": 0})
    unchanged: int = 0
    undecided: int = 0
    recreated: int = 0
    conflicts: list = dataclasses.field(default_factory=list)
    exported_from: str | None = None  # the database the cover sheet names
    exported_id: str | None = None  # and its identifier (db.database_identity; None in older workbooks)
    database_id: str | None = None  # the identifier of the one imported into
    database: str | None = None  # the one imported into (its file name)
    forgotten: list = dataclasses.field(default_factory=list)  # rows of suggestions with a strength or rationale, no decision
    edited: list = dataclasses.field(default_factory=list)  # rows whose statement cells were edited (not imported)
    strength_left_out: list = dataclasses.field(default_factory=list)  # rejected rows with a strength typed in
    newer: list = dataclasses.field(default_factory=list)  # rows not edited, their alignment decided otherwise since
    emptied: list = dataclasses.field(default_factory=list)  # rows whose exported decision was emptied

    @property
    def notes(self) -> list[str]:
        """What the reviewer should know besides the conflicts: every row may conflict because the
        workbook came from another database; rows that look like a decision forgotten."""
        notes = []
        if self.conflicts and self.exported_id and self.database_id:
            if self.exported_id != self.database_id:  # (told by the identifiers, whatever the files are called)
                notes.append(f"{self.path.name} was exported from another database"
                             + (f" (named {self.exported_from})" if self.exported_from else "")
                             + f" than {self.database or 'this one'}: its rows name that database's alignments")
        elif self.conflicts and self.exported_from and self.database and self.exported_from != self.database:
            notes.append(f"{self.path.name} was exported from a database named {self.exported_from}, not "
                         f"{self.database}: if that is another database, its rows name that database's alignments")
        if self.forgotten:
            notes.append(f"{plural(len(self.forgotten), 'row')} with a strength or rationale but no decision "
                         f"(not imported; choose accept or reject and import again): "
                         f"{short_list(str(n) for n in self.forgotten)}")
        if self.strength_left_out:
            notes.append(f"{plural(len(self.strength_left_out), 'row')} rejected with a strength (a strength is for "
                         "accepted alignments: the rejections were imported, the strength left out; to accept in "
                         f"part, write accept and partial): {short_list(str(n) for n in self.strength_left_out)}")
        if self.emptied:
            notes.append(f"{plural(len(self.emptied), 'row')} whose decision was emptied (a decision is not undone "
                         "by emptying its cell: it stays as it is; to change it, write the other one): "
                         f"{short_list(str(n) for n in self.emptied)}")
        if self.newer:
            notes.append(f"{plural(len(self.newer), 'row')} as exported, not edited, whose alignment was decided "
                         "otherwise since (kept as the database has it; to decide it again here, change the row): "
                         f"{short_list(str(n) for n in self.newer)}")
        if self.edited:
            notes.append(f"{plural(len(self.edited), 'row')} where a statement was edited in the workbook (the "
                         "decisions were imported, the edits not: a statement changes with its framework's file, "
                         f"imported again): {short_list(str(n) for n in self.edited)}")
        return notes

    def summary(self) -> str:
        total = sum(self.recorded.values())
        text = (
            f"Imported {self.path.name}: {plural(total, 'decision')} recorded ({self.recorded['accepted']} accepted, "
            f"{self.recorded['rejected']} rejected), {self.unchanged} unchanged, "
            f"{plural(self.undecided, 'row')} without a decision"
        )
        if self.recreated:
            text += (f", {plural(self.recreated, 'alignment')} no longer suggested "
                     f"{'was' if self.recreated == 1 else 'were'} restored")
        n = len(self.conflicts)
        text += f"; {plural(n, 'conflict')}"
        return text + (" (not applied, see above)" if n else "")


def _int(value):
    """An id cell's row id (a spreadsheet may hold it as 12.0); ValueError for anything else (db.row_id)."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**63:
        value = int(value)
    number = row_id(value)
    if number is None:
        raise ValueError
    return number


MAX_ERRORS_SHOWN = 20


class Undecided(typing.NamedTuple):
    """A row of a review workbook without a decision, and what was written in it."""

    row: int
    alignment: int | None
    strength: str
    rationale: str
    fingerprint: str | None = None

    @property
    def noted(self) -> bool:
        return bool(self.strength or self.rationale)


class UnreadableWorkbook(SourceError):
    """An .xlsx file openpyxl cannot parse: a part of its zip damaged, or written in a way openpyxl
    rejects (``cause``: openpyxl's error, in words)."""

    def __init__(self, path: pathlib.Path, exc: Exception):
        self.cause = f"{exc.__class__.__name__}: {exc}"
        super().__init__(f"cannot be read as an .xlsx workbook ({self.cause})", file=path.name,
                         hint=READ_AS_XLSX)


READ_AS_XLSX = "save it in Excel or LibreOffice as an Excel workbook (.xlsx, 'Excel 2007-365') and import that"
# What a damaged part raises when a read-only workbook's sheet is read, row by row, after it opened.
DAMAGED = (ParseError, zipfile.BadZipFile, zlib.error, EOFError)


def read_workbook(path) -> tuple[tuple[str | None, str | None], list[WorkbookRow], list[Undecided]]:
    """Read and check every row of a review workbook; raise one error naming each bad value. Returns
    the database its cover sheet names (its file name and identifier, each None where not named),
    its decided rows, and its rows without a decision."""
    path = check_input_file(path, "a review workbook")  # not a folder, a device, a pipe, nor a zip bomb
    try:
        workbook = openpyxl.load_workbook(path, read_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not xlsx
        file_kind(path)  # a password-protected workbook: said so, as for a framework's file
        saved_as = {".ods": "an OpenDocument spreadsheet (.ods)", ".xls": "an old Excel workbook (.xls)",
                    ".csv": "a CSV file"}.get(path.suffix.lower())
        if saved_as:
            raise SourceError(f"is {saved_as}; a review workbook is read as .xlsx", file=path.name,
                              hint=READ_AS_XLSX) from None
        raise UnreadableWorkbook(path, exc) from None
    try:
        if SHEET not in workbook.sheetnames:
            if COVER in workbook.sheetnames:  # (one of ours, its sheet renamed)
                others = [name for name in workbook.sheetnames if name not in (COVER, NO_LIKELY)]
                raise SourceError(f"it has no sheet {SHEET!r}, where a review workbook holds its decisions (its "
                                  f"sheets: {', '.join(repr(n) for n in workbook.sheetnames)}); if "
                                  + (f"{others[0]!r} is it, " if len(others) == 1 else "one of them is it, ")
                                  + f"rename it back to {SHEET!r} and import again", file=path.name)
            raise SourceError(f"this is not a crosswalk review workbook: it has no sheet {SHEET!r} "
                              "(make one with 'crosswalk review export')", file=path.name)
        merged = _merged_ranges(workbook[SHEET])
        rows = workbook[SHEET].iter_rows()
        try:
            columns = _find_columns(next(rows, None) or [], path.name)
        except SourceError as exc:
            if "missing" not in exc.message:
                raise
            header_merges = [ref for ref, (_, top, _, _) in merged.items() if top == 1]
            if header_merges:
                raise SourceError(f"{exc.message}: row 1 has merged cells ({', '.join(header_merges)}); unmerge "
                                  "them", file=path.name, sheet=SHEET, row=1) from None
            # (a title typed above the header: the header is found a few rows down)
            for number, cells in enumerate(itertools.islice(rows, 5), start=2):
                try:
                    _find_columns(list(cells), path.name)
                except SourceError:
                    continue
                raise SourceError(f"the header is on row {number}, not row 1 (rows were inserted above it): "
                                  "delete them and import again", file=path.name, sheet=SHEET, row=number) from None
            raise
        errors: list[str] = []
        # A merged cell keeps its value in its first row only: the rows under it would be read undecided.
        editable = {columns.positions[name] + 1: name for name in ("Decision", "Strength", "Rationale", "Reviewer")}
        for ref, (left, top, right, bottom) in merged.items():
            if bottom > max(top, 1) and any(left <= c <= right for c in editable):
                errors.append(f"cells {ref} are merged: a merged cell holds its value in row {top} only, and the "
                              "rows under it would be read without it; unmerge them and fill each row")
        parsed: list[WorkbookRow] = []
        seen: dict[int, int] = {}  # alignment id -> the row that decides it
        undecided: list[Undecided] = []
        for number, cells in enumerate(rows, start=2):
            values = columns.values_of(list(cells))
            if all(v in (None, "") for v, _ in values.values()):
                continue
            item, row_errors = _read_row(number, values, columns, seen)
            errors.extend(row_errors)
            if item is None:
                if not row_errors:
                    try:
                        alignment = _int(values["Alignment id"][0])
                    except (TypeError, ValueError):
                        alignment = None
                    undecided.append(Undecided(number, alignment, clean_text(values["Strength"][0]),
                                               clean_text(values["Rationale"][0]),
                                               clean_text(values["Fingerprint"][0])))
                continue
            seen[item.alignment_id] = number
            parsed.append(item)
        if errors:
            more = f"; and {len(errors) - MAX_ERRORS_SHOWN} more" if len(errors) > MAX_ERRORS_SHOWN else ""
            raise SourceError(
                f"{plural(len(errors), 'bad value')}, nothing was imported: "
                + "; ".join(errors[:MAX_ERRORS_SHOWN]) + more,
                file=path.name, sheet=SHEET,
            )
        return _cover_database(workbook), parsed, undecided
    except DAMAGED as exc:  # (a sheet is parsed as its rows are read: a damaged one fails here, not on opening)
        raise UnreadableWorkbook(path, exc) from None
    finally:
        workbook.close()


def _merged_ranges(sheet) -> dict[str, tuple[int, int, int, int]]:
    """A read-only sheet's merged cells: 'M2:M4' -> (first column, first row, last column, last row),
    read from its XML (openpyxl's read-only sheets do not give them; none where it cannot be read)."""
    try:
        xml = sheet.parent._archive.read(sheet._worksheet_path)
    except (AttributeError, KeyError, OSError):
        return {}
    found = {}
    for ref in re.findall(rb'<(?:\w+:)?mergeCell\b[^>]*?\bref="([A-Z]+[0-9]+:[A-Z]+[0-9]+)"', xml):
        ref = ref.decode()
        left, top, right, bottom = range_boundaries(ref)
        found[ref] = (left, top, right, bottom)
    return found


def _cover_database(workbook) -> tuple[str | None, str | None]:
    """The database the cover sheet names: its file name and its identifier, as ``review export``
    wrote them there (None: not written, as in a workbook exported before the identifier)."""
    found = {}
    if COVER in workbook.sheetnames:
        for row in workbook[COVER].iter_rows(max_row=40, max_col=2, values_only=True):
            if row and row[0] in ("Database", "Database id") and row[0] not in found:
                found[row[0]] = (str(row[1]).strip() if len(row) > 1 and row[1] is not None else "") or None
    return found.get("Database"), found.get("Database id")


@dataclasses.dataclass
class Columns:
    """Where each column of a review workbook is (0-based), found by its header in row 1."""

    positions: dict

    def values_of(self, cells) -> dict:
        """Each column's (value, openpyxl data type) in one row."""
        out = {}
        for name, i in self.positions.items():
            out[name] = (cells[i].value, getattr(cells[i], "data_type", None)) if i < len(cells) else (None, None)
        return out

    def where(self, name) -> str:
        return f"column {get_column_letter(self.positions[name] + 1)} ({name})"


def _find_columns(header, file: str) -> Columns:
    found: dict[str, int] = {}
    read = {name.lower() for name in REQUIRED}  # (of the others, a committee's own "Evidence": the first is read)
    for i, cell in enumerate(header):
        name = str(cell.value).strip().lower() if cell.value is not None else None
        if name in read and name in found:
            # (a column copied beside its original, say as a backup: the copy was read, the decisions
            # typed in the original left out, and an export wrote over the workbook, found empty)
            raise SourceError(f"two columns are headed {str(cell.value).strip()!r}: "
                              f"{get_column_letter(found[name] + 1)} and {get_column_letter(i + 1)}; keep "
                              "one, or rename the other", file=file, sheet=SHEET, row=1,
                              column=get_column_letter(i + 1))
        if name is not None:
            found.setdefault(name, i)
    missing = [name for name in REQUIRED if name.lower() not in found]
    if missing:
        raise SourceError("the column" + ("s " if len(missing) > 1 else " ")
                          + ", ".join(repr(m) for m in missing) + (" are" if len(missing) > 1 else " is")
                          + " missing from row 1"
                          + (" (the hidden columns must stay)" if set(missing) & {"Source id", "Target id", "Fingerprint"} else ""),
                          file=file, sheet=SHEET, row=1)
    positions = {name: found[name.lower()] for name in REQUIRED}
    positions.update({name: found[name.lower()] for name in (SCORE, "Confidence", "Evidence", "CTE statement",
                                                             "Academic standard", "CTE code", "Academic code")
                      if name.lower() in found})
    if SCORE not in positions and OLD_SCORE.lower() in found:
        positions[SCORE] = found[OLD_SCORE.lower()]
    return Columns(positions)


def _read_row(number: int, values: dict, columns: Columns, seen: dict) -> tuple[WorkbookRow | None, list[str]]:
    """One row's decision (None when it has none) and what is wrong with its values."""
    errors = []
    for name in ("Decision", "Strength", "Rationale", "Reviewer"):
        value, kind = values[name]
        if kind == "f":
            errors.append(f"row {number}, {columns.where(name)}: a formula ({value}); type the text itself")
    if all(values[name][0] in (None, "") for name in ("Alignment id", "Source id", "Target id", "Fingerprint")):
        # A row typed in by hand: a note below the list is read for nothing; one with a decision is one
        # error (not one for each hidden cell it lacks).
        if str(values["Decision"][0] or "").strip() == "":
            return None, errors
        return None, errors + [f"row {number}: a row added by hand (its hidden id columns are empty) is not read: "
                               "the workbook decides the suggestions it lists; decide another pair with crosswalk "
                               "decide or crosswalk import-decisions"]
    ids = {}
    for name in ("Alignment id", "Source id", "Target id"):
        value = values[name][0]
        try:
            ids[name] = _int(value)
        except (TypeError, ValueError):
            errors.append(f"row {number}, {columns.where(name)}: {value!r} is not an id "
                          "(the id columns must not be edited)")
    decision_value = values["Decision"][0]
    decision = said = None
    if values["Decision"][1] == "f":
        pass  # (a formula: said above, once)
    elif decision_value not in (None, "") and str(decision_value).strip():
        try:
            decision, said = read_decision(decision_value)
        except CrosswalkError:
            errors.append(f"row {number}, {columns.where('Decision')}: {decision_value!r} is not accept or reject "
                          f"({DECISION_ALSO})")
    strength = None
    try:
        strength = None if values["Strength"][1] == "f" else normalise_strength(values["Strength"][0]) or said
    except CrosswalkError:
        errors.append(f"row {number}, {columns.where('Strength')}: {values['Strength'][0]!r} is not full or partial")
    fp = clean_text(values["Fingerprint"][0])
    if not fp:
        errors.append(f"row {number}, {columns.where('Fingerprint')}: empty (the hidden columns must not be edited)")
    if "Alignment id" in ids and not errors:
        first = seen.get(ids["Alignment id"])
        if first is not None and decision is not None:
            errors.append(f"row {number}, {columns.where('Alignment id')}: alignment {ids['Alignment id']} "
                          f"is also on row {first}")
    if errors or decision is None:
        return None, errors
    score = values.get(SCORE, (None, None))[0]
    return WorkbookRow(
        row=number, alignment_id=ids["Alignment id"], source_id=ids["Source id"], target_id=ids["Target id"],
        decision=decision, strength=strength if decision == "accept" else None,
        rejected_strength=strength if decision == "reject" else None,
        rationale=clean_text(values["Rationale"][0]), reviewer=clean_text(values["Reviewer"][0]), fingerprint=fp,
        score=float(score) if isinstance(score, (int, float)) and 0 <= score <= 100 else None,
        confidence=clean_text(values.get("Confidence", (None, None))[0]),
        evidence=clean_text(values.get("Evidence", (None, None))[0]),
        statements=tuple(values.get(name, (None, None))[0] for name in ("CTE statement", "Academic standard")),
        codes=tuple(values.get(name, (None, None))[0] for name in ("CTE code", "Academic code")),
    ), []


def _find(db, item: WorkbookRow):
    """The alignment a row is about: by id when the pair still matches, else by its pair."""
    rows = list(db.query("select * from alignment_details where id = ? and source_id = ? and target_id = ?",
                         [item.alignment_id, item.source_id, item.target_id]))
    if not rows:
        rows = list(db.query("select * from alignment_details where source_id = ? and target_id = ?",
                             [item.source_id, item.target_id]))
    return rows[0] if rows else None


def import_workbook(db, path, *, reviewer: str) -> ImportResult:
    """Apply the decisions of a review workbook; all or nothing for bad values.

    Rows whose alignment changed since the export are returned as conflicts
    and left alone; rows that ask for what is already recorded change
    nothing, so importing twice gives the same result. A Strength or
    Rationale cell that the export filled in and the reviewer emptied is an
    edit (:func:`_asked`); one the export left empty changes nothing.
    """
    reviewer = reviewer_name(reviewer, "imports the decisions (--reviewer)")
    path = pathlib.Path(path)
    (exported_from, exported_id), items, undecided = read_workbook(path)
    file = database_file(db)
    result = ImportResult(path, undecided=len(undecided), exported_from=exported_from,
                          database=file.name if file else None, exported_id=exported_id,
                          database_id=database_identity(db))
    # A strength or rationale written on a suggestion left without a decision: most likely a decision
    # forgotten (a re-review row comes with its old strength and rationale, and no decision, by design).
    result.forgotten = sorted(u.row for u, _ in _noted_suggestions(db, undecided))
    result.emptied = _emptied(db, undecided)
    via = f"workbook {path.name}"
    stamp = now()
    with write_transaction(db):
        for item in items:
            row = _find(db, item) or _restore(db, item, result, stamp)
            if row is None:
                continue
            if moved := _moved(db, row, item):
                result.conflicts.append(Conflict(item.row, row["id"], f"{moved}; the workbook says {item.decision}"))
                continue
            strength, rationale = _asked(db, row, item)
            outcome = plan_decision(db, row, item.decision, strength=strength, rationale=rationale)
            as_exported = seen_as_exported(row, item.fingerprint)
            if (not outcome.changed or as_exported) and _edited(row, item):  # (the statements as exported)
                result.edited.append(item.row)
            # A strength typed on a rejected row (not the one the export wrote there: a re-review row comes
            # with its accepted strength filled in) is said, not dropped unseen.
            if item.rejected_strength and (as_exported or not outcome.changed) and \
                    item.rejected_strength != _shown(db, row, item.fingerprint)[0]:
                result.strength_left_out.append(item.row)
            if not outcome.changed:
                result.unchanged += 1
            elif _untouched(db, row, item):
                result.newer.append(item.row)  # (decided otherwise since the export; the row not edited)
            elif not as_exported:
                result.conflicts.append(Conflict(item.row, row["id"], _conflict_reason(row, item, strength, rationale)))
            else:
                who = item.reviewer or reviewer
                record_decision(db, outcome, reviewer=who, at=stamp,
                                via=via if who == reviewer else f"{via}, imported by {reviewer}")
                result.recorded[outcome.new["status"]] += 1
    return result


def _asked(db, row, item: WorkbookRow) -> tuple[str | None, str | None]:
    """The strength and rationale a decided row asks of its alignment ``row``, as
    :func:`crosswalk.review.plan_decision` takes them (None: keep the alignment's).

    An empty cell is read by what the export had written in it: a Strength or Rationale cell the
    export filled in and the reviewer emptied asks for none (the rationale cleared; an accepted row's
    strength back to full, as the cover sheet says an accepted row without one is); a cell the export
    left empty changes nothing. (Where the alignment holds no strength, or no rationale, now, the two
    readings make the same decision: nothing to tell apart.)
    """
    strength, rationale = item.strength, item.rationale
    strength_emptied = strength is None and item.decision == "accept" and bool(row["strength"])
    rationale_emptied = rationale is None and bool(clean_text(row["rationale"]))
    if strength_emptied or rationale_emptied:
        shown_strength, shown_rationale = _shown(db, row, item.fingerprint)
        if strength_emptied and shown_strength:
            strength = "full"
        if rationale_emptied and clean_text(shown_rationale):
            rationale = ""
    return strength, rationale


def _shown(db, row, exported: str) -> tuple[str | None, str | None]:
    """The strength and rationale the export wrote in a row's cells, told by the row's fingerprint: the
    alignment's as it is now, or as it was before or after a change in its history (a workbook imported
    before, or one someone else's decision made stale). Where none matches (a statement changed since),
    the alignment's as it is now: an empty cell where it holds a value is then read as emptied, which
    makes the row a conflict (nothing applied, the reviewer told) rather than a decision left out."""
    state = _exported_state(db, row, exported)
    return (state[1], state[2]) if state else (row["strength"], row["rationale"])


def _exported_state(db, row, exported: str) -> tuple[str, str | None, str | None, bool] | None:
    """The status, strength and rationale the alignment had when the row's fingerprint was made (now,
    or a state of its history), and whether it was flagged for re-review then; None where none matches."""
    if seen_as_exported(row, exported):
        return row["status"], row["strength"], row["rationale"], bool(row["needs_review"])
    for entry in db.execute(
            "select old_status, old_strength, old_rationale, new_status, new_strength, new_rationale "
            "from review_log where alignment_id = ? and action != 'comment' order by id desc", [row["id"]]):
        for status, strength, rationale in (entry[:3], entry[3:]):
            for flagged in (0, 1):
                if status and seen_as_exported(dict(row, status=status, strength=strength, rationale=rationale,
                                                    needs_review=flagged), exported):
                    return status, strength, rationale, bool(flagged)
    return None


def _untouched(db, row, item: WorkbookRow) -> bool:
    """Whether a row says what the export wrote in it (its decision, strength and rationale as they
    were then, and no reviewer: the export leaves that cell empty), its alignment decided otherwise
    since: a row nobody edited, which asks for nothing. A row exported for re-review had its Decision
    left empty: one there now was typed."""
    if seen_as_exported(row, item.fingerprint):
        return False  # (the alignment as exported: the row asks what it asks)
    state = _exported_state(db, row, item.fingerprint)
    if state is None or state[3] or item.reviewer:
        return False
    status, strength, rationale, _ = state
    return ({"accepted": "accept", "rejected": "reject"}.get(status) == item.decision
            and (item.strength or item.rejected_strength) == (strength or None)
            and (item.rationale or None) == (clean_text(rationale) or None))


def _words(text) -> str:
    """A statement cell's words as the export wrote them (without the characters no one can see or
    type), compared as crosswalk compares statements (text.same_words)."""
    return same_words(visible(str(text or ""), nul=True))


def _edited(row, item: WorkbookRow) -> bool:
    """Whether the row's statement cells say otherwise than the database (spacing aside): a reviewer
    who unprotected the sheet and edited one took it for saved; the import only said nothing."""
    return any(cell is not None and _words(cell) != _words(row[key])
               for cell, key in zip(item.statements, ("cte_statement", "standard")))


def _moved(db, row, item: WorkbookRow) -> str | None:
    """Where a row's visible codes name another pair than its hidden ids (sorted or pasted without the
    hidden columns, which are the pair's key), what the row shows and what its ids name; else None.
    (A code a spreadsheet turned into a number, "1.10" read 1.1, is the same code; a code's
    invisible characters, which the export leaves out, are left out of the comparison. A code that
    a re-import changed, the statement beside it still the one its id names, word for word, is that
    statement recoded (importer._recoded), not a row moved; unless the code shown is another standard's
    of the same framework: a code typed over, which asks for another pair than the row's ids.)"""
    def same(cell, code):
        if cell is None or str(cell).strip() == "":
            return True  # (a column left out, or emptied: nothing to compare)
        written = visible(str(code), nul=True).strip()  # (the code as the export wrote it)
        if isinstance(cell, (int, float)) and not isinstance(cell, bool):
            try:  # (a number: compared as one; a text "1.1" is not the code "1.10")
                return float(cell) == float(written)
            except ValueError:
                return False
        # (a code written in another case is the same code, as import and import-decisions find one)
        return str(cell).strip().casefold() == written.casefold()

    def another_standards(cell, standard_id) -> bool:
        """Whether the code shown is another standard's of the framework (as same() reads a code: a
        number as a number, a text without the characters no one can see, in any case)."""
        others = db.execute("select code from standards where framework_id = (select framework_id from standards "
                            "where id = ?) and id != ?", [standard_id, standard_id]).fetchall()
        if isinstance(cell, (int, float)) and not isinstance(cell, bool):
            number = code_number(repr(cell))
            return number is not None and any(code_number(code) == number for code, in others)
        shown = visible(str(cell), nul=True).strip().casefold()
        return any(visible(code, nul=True).strip().casefold() == shown for code, in others)

    shown = item.codes
    if all(same(cell, code) or (said is not None and str(said).strip() != "" and _words(said) == _words(now)
                                and not another_standards(cell, standard_id))
           for cell, code, said, now, standard_id in zip(
               shown, (row["cte_code"], row["standard_code"]), item.statements,
               (row.get("cte_statement"), row.get("standard")), (item.source_id, item.target_id))):
        return None
    return (f"the row shows {shown[0]} → {shown[1]}, but its hidden columns name {row['cte_code']} → "
            f"{row['standard_code']} (were the rows sorted, or pasted, without the hidden columns?)")


def _conflict_reason(row, item: WorkbookRow, strength: str | None, rationale: str | None) -> str:
    """Why a row was not applied; ``strength`` and ``rationale``: what it asked (:func:`_asked`)."""
    wanted = item.decision + (f", {strength}" if strength else "") + (", no rationale" if rationale == "" else "")
    if row["needs_review"]:
        # (from the statements' statuses, not the flag's words, which quote the old statement)
        retired = row["cte_status"] != "active" or row["standard_status"] != "active"
        why = "a standard was retired since the export" if retired else "a statement changed since the export"
    else:
        by = f" by {row['reviewer']} at {row['reviewed_at']}" if row["reviewer"] and row["reviewed_at"] else ""
        why = f"changed since the export{by}: it is now {describe_state(row)}"
    return f"{row['cte_code']} → {row['standard_code']}: {why}; the workbook says {wanted}"


def _restore(db, item: WorkbookRow, result: ImportResult, stamp: str):
    """Bring back a suggestion that a later ``match`` dropped, so the decision is not lost."""
    found = db.execute(
        "select s.statement, t.statement, s.status, t.status, s.code, t.code from standards s, standards t "
        "where s.id = ? and t.id = ?", [item.source_id, item.target_id],
    ).fetchone()
    if found is None:
        result.conflicts.append(Conflict(item.row, item.alignment_id,
                                         f"no standard of this database has id {item.source_id} or "
                                         f"{item.target_id} (removed, or the row's hidden id columns were edited)"))
        return None
    if found[2] != "active" or found[3] != "active":
        result.conflicts.append(Conflict(item.row, item.alignment_id,
                                         "one of its standards is no longer in the database (retired)"))
        return None
    if moved := _moved(db, {"cte_code": found[4], "standard_code": found[5], "cte_statement": found[0],
                            "standard": found[1]}, item):
        result.conflicts.append(Conflict(item.row, item.alignment_id, f"{moved}; the workbook says {item.decision}"))
        return None
    seen = {"status": "suggested", "strength": None, "rationale": None,
            "cte_statement": found[0], "standard": found[1]}
    if not seen_as_exported(seen, item.fingerprint):
        result.conflicts.append(Conflict(item.row, item.alignment_id,
                                         f"{found[4]} → {found[5]}: no longer suggested, and its statements or "
                                         "decision changed since the export"))
        return None
    db.execute(
        "insert into alignments (source_id, target_id, score, confidence, method, evidence, created_at, updated_at) "
        "values (?, ?, ?, ?, 'workbook', ?, ?, ?)",
        [item.source_id, item.target_id, item.score,  # (none: a pair the matcher never scored)
         item.confidence if item.confidence in CONFIDENCES else None,
         item.evidence, stamp, stamp],
    )
    result.recreated += 1
    return _find(db, item)
