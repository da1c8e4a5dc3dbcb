"""The review workbook: suggestions out to a spreadsheet a committee works in, decisions back in.

The export has a cover sheet (what is in it, how to fill it in, counts) and a
``Suggestions`` sheet with one row per alignment: both statements side by
side, score, confidence and evidence, then the columns the committee fills
in (Decision, Strength, Rationale, Reviewer). Hidden, protected columns keep
each row's alignment, its two standards and a fingerprint of what the
committee saw, so that the import can tell a decision made on stale
information (a conflict, never applied) from a new one.

Example::

    from crosswalk.db import open_db
    from crosswalk.workbook import export_workbook, import_workbook
    db = open_db("district.db")
    export_workbook(db, "welding-review.xlsx", program="Welding Technology", statuses=["suggested"])
    result = import_workbook(db, "welding-review.xlsx", reviewer="Welding committee")
    print(result.summary())
"""

from __future__ import annotations

import dataclasses
import pathlib

from .db import now
from .errors import CrosswalkError, NotFound, SourceError
from .review import (
    ALIGNMENT_SQL, apply_decision, clean_text, describe_state, fingerprint, normalise_decision,
    normalise_strength, write_transaction,
)

SHEET = "Suggestions"
COVER = "About this workbook"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "|")
STATUSES = ("suggested", "accepted", "rejected")


@dataclasses.dataclass(frozen=True)
class Column:
    header: str
    width: float
    key: str
    editable: bool = False
    hidden: bool = False
    wrap: bool = False


COLUMNS = [
    Column("Alignment id", 11, "id"),
    Column("Industry framework", 18, "industry_framework", wrap=True),
    Column("CTE code", 12, "cte_code"),
    Column("CTE statement", 48, "cte_statement", wrap=True),
    Column("Academic code", 15, "standard_code"),
    Column("Academic standard", 48, "standard", wrap=True),
    Column("Subject", 12, "subject", wrap=True),
    Column("Grade", 8, "grade"),
    Column("Score", 7, "score"),
    Column("Confidence", 11, "confidence"),
    Column("Evidence", 40, "evidence", wrap=True),
    Column("Current status", 20, "current", wrap=True),
    Column("Decision", 11, "decision", editable=True),
    Column("Strength", 10, "strength_cell", editable=True),
    Column("Rationale", 40, "rationale_cell", editable=True, wrap=True),
    Column("Reviewer", 16, "reviewer_cell", editable=True),
    Column("Source id", 9, "source_id", hidden=True),
    Column("Target id", 9, "target_id", hidden=True),
    Column("Fingerprint", 18, "fingerprint", hidden=True),
]

INSTRUCTIONS = [
    "Each row of the 'Suggestions' sheet is one suggested alignment: an industry (CTE) statement on the "
    "left, an academic standard on the right, with crosswalk's score (0-100), confidence and the evidence "
    "for it.",
    "Decision: choose accept or reject from the list. Leave it empty to decide later; empty rows change "
    "nothing.",
    "Strength (accepted rows only): full when the CTE work fully teaches the standard, partial when it "
    "covers part of it.",
    "Rationale: why, in a sentence (a lesson, an activity, an assessment). Reviewer: who decided; when "
    "empty, the name given to 'crosswalk review import' is recorded.",
    "Grey columns are locked; sort and filter freely, but do not delete the hidden columns: they let the "
    "import tell whether someone else changed an alignment since this export.",
    "Bring it back with: crosswalk review import DATABASE THIS_FILE.xlsx --reviewer \"Your name\". "
    "Rows that changed in the database since the export are reported as conflicts and not applied; "
    "importing the same workbook twice changes nothing the second time.",
]


def _safe(cell, value):
    """Write a value so that no spreadsheet reads text as a formula."""
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"
        if value.startswith(FORMULA_STARTS):
            cell.quotePrefix = True
    return cell


def _lookup_program(db, name):
    row = db.execute("select id from programs where name = ?", [name]).fetchone()
    if row is None:
        names = [r[0] for r in db.execute("select name from programs order by name")]
        known = ", ".join(repr(n) for n in names) or "none yet (add one with 'crosswalk program add')"
        raise NotFound(f"no program named {name!r}; the programs are: {known}")
    return row[0]


def _lookup_framework(db, name):
    row = db.execute("select id from frameworks where name = ?", [name]).fetchone()
    if row is None:
        names = [r[0] for r in db.execute("select name from frameworks order by name")]
        raise NotFound(f"no framework named {name!r}; the frameworks are: " + ", ".join(repr(n) for n in names))
    return row[0]


def select_alignments(db, *, program=None, framework=None, statuses=None, min_score=None) -> list[dict]:
    """The alignments a review workbook holds, grouped by industry statement, best first."""
    where = ["s.status = 'active'", "t.status = 'active'"]
    params: list = []
    if program:
        where.append("s.framework_id in (select framework_id from program_frameworks where program_id = ?)")
        params.append(_lookup_program(db, program))
    if framework:
        where.append("s.framework_id = ?")
        params.append(_lookup_framework(db, framework))
    if statuses:
        bad = [s for s in statuses if s not in STATUSES]
        if bad:
            raise CrosswalkError(f"unknown status {bad[0]!r}: use suggested, accepted or rejected")
        where.append(f"a.status in ({', '.join('?' for _ in statuses)})")
        params.extend(statuses)
    if min_score is not None:
        where.append("a.score >= ?")
        params.append(float(min_score))
    sql = (
        ALIGNMENT_SQL
        + " where " + " and ".join(where)
        + " order by sf.name, s.position, s.id, a.score desc, a.id"
    )
    return list(db.query(sql, params))


@dataclasses.dataclass
class ExportResult:
    path: pathlib.Path
    rows: int
    counts: dict

    def summary(self) -> str:
        parts = ", ".join(f"{n} {status}" for status, n in self.counts.items() if n)
        return f"Wrote {self.rows} alignments to {self.path.name}" + (f" ({parts})" if parts else "")


def export_workbook(db, path, *, program=None, framework=None, statuses=None, min_score=None,
                    database_name=None) -> ExportResult:
    """Write a review workbook of the selected alignments.

    Example::

        export_workbook(db, "review.xlsx", program="Welding Technology", statuses=["suggested"], min_score=40)
    """
    import openpyxl
    from openpyxl.styles import Alignment, Font, PatternFill, Protection
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    path = pathlib.Path(path)
    if path.suffix.lower() != ".xlsx":
        raise CrosswalkError(f"the review workbook must be an .xlsx file, not {path.name!r}")
    rows = select_alignments(db, program=program, framework=framework, statuses=statuses, min_score=min_score)

    workbook = openpyxl.Workbook()
    cover = workbook.active
    cover.title = COVER
    sheet = workbook.create_sheet(SHEET)

    bold = Font(bold=True)
    locked_fill = PatternFill("solid", fgColor="EEEEEE")
    editable_fill = PatternFill("solid", fgColor="FFF8DC")
    header_fill = PatternFill("solid", fgColor="D9E1F2")

    for index, column in enumerate(COLUMNS, start=1):
        cell = _safe(sheet.cell(row=1, column=index), column.header)
        cell.font = bold
        cell.fill = header_fill
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = column.width
        if column.hidden:
            sheet.column_dimensions[letter].hidden = True

    counts = {status: 0 for status in STATUSES}
    confidence = {"high": 0, "medium": 0, "low": 0}
    flagged = 0
    for r, row in enumerate(rows, start=2):
        counts[row["status"]] += 1
        if row["confidence"] in confidence:
            confidence[row["confidence"]] += 1
        current = describe_state(row)
        if row["status"] != "suggested" and row["reviewer"]:
            current += f" (by {row['reviewer']})"
        if row["needs_review"]:
            flagged += 1
            current += "; NEEDS RE-REVIEW: " + (row["needs_review_reason"] or "a statement changed")
        values = dict(
            row,
            score=round(row["score"], 1),
            current=current,
            # A flagged row starts empty so that nobody re-confirms it without looking.
            decision="" if row["needs_review"] else {"accepted": "accept", "rejected": "reject"}.get(row["status"], ""),
            strength_cell=row["strength"] or "",
            rationale_cell=row["rationale"] or "",
            reviewer_cell="",
            fingerprint=fingerprint(row),
        )
        for index, column in enumerate(COLUMNS, start=1):
            value = values.get(column.key)
            cell = _safe(sheet.cell(row=r, column=index), value if value != "" else None)
            cell.alignment = Alignment(wrap_text=column.wrap, vertical="top")
            if column.editable:
                cell.protection = Protection(locked=False)
                cell.fill = editable_fill
            elif not column.hidden:
                cell.fill = locked_fill

    last_row = max(len(rows) + 1, 2)
    letters = {c.header: get_column_letter(i) for i, c in enumerate(COLUMNS, start=1)}
    decision_list = DataValidation(
        type="list", formula1='"accept,reject"', allow_blank=True, showErrorMessage=True,
        errorTitle="Decision", error="Choose accept or reject, or leave the cell empty.",
        promptTitle="Decision", prompt="accept or reject (empty: decide later)", showInputMessage=True,
    )
    strength_list = DataValidation(
        type="list", formula1='"full,partial"', allow_blank=True, showErrorMessage=True,
        errorTitle="Strength", error="Choose full or partial, or leave the cell empty.",
        promptTitle="Strength", prompt="full or partial (accepted rows)", showInputMessage=True,
    )
    decision_list.add(f"{letters['Decision']}2:{letters['Decision']}{last_row}")
    strength_list.add(f"{letters['Strength']}2:{letters['Strength']}{last_row}")
    sheet.add_data_validation(decision_list)
    sheet.add_data_validation(strength_list)
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{last_row}"
    # Locked id columns, but sorting, filtering and resizing stay allowed.
    sheet.protection.sheet = True
    for permission in ("autoFilter", "sort", "formatColumns", "formatRows", "selectLockedCells",
                       "selectUnlockedCells"):
        setattr(sheet.protection, permission, False)

    # The cover sheet.
    frameworks = sorted({r["industry_framework"] for r in rows})
    academic = sorted({r["academic_framework"] for r in rows})
    filters = []
    if framework:
        filters.append(f"industry framework {framework}")
    if statuses:
        filters.append("status " + " or ".join(statuses))
    if min_score is not None:
        filters.append(f"score at least {min_score:g}")
    if program:
        programs = [program]
    else:
        programs = sorted({
            r[0] for r in db.execute(
                "select distinct p.name from programs p join program_frameworks pf on pf.program_id = p.id "
                "join frameworks f on f.id = pf.framework_id where f.name in "
                f"({', '.join('?' for _ in frameworks) or 'null'})", frameworks,
            )
        })
    lines = [
        ("crosswalk review workbook", None),
        (None, None),
        ("Program", ", ".join(programs) or "(no program selected)"),
        ("Industry frameworks", ", ".join(frameworks) or "(none)"),
        ("Academic frameworks", ", ".join(academic) or "(none)"),
        ("Database", database_name or ""),
        ("Exported at", now()),
        ("Filters", "; ".join(filters) or "none"),
        (None, None),
        ("Alignments in this workbook", len(rows)),
        ("Suggested (not decided yet)", counts["suggested"]),
        ("Accepted", counts["accepted"]),
        ("Rejected", counts["rejected"]),
        ("Needing re-review", flagged),
        ("High confidence", confidence["high"]),
        ("Medium confidence", confidence["medium"]),
        ("Low confidence", confidence["low"]),
        (None, None),
        ("How to fill it in", None),
    ] + [(f"{i}.", text) for i, text in enumerate(INSTRUCTIONS, start=1)]
    for r, (label, value) in enumerate(lines, start=1):
        if label is not None:
            _safe(cover.cell(row=r, column=1), label).font = bold
        if value is not None:
            cell = _safe(cover.cell(row=r, column=2), value)
            cell.alignment = Alignment(wrap_text=True, vertical="top", horizontal="left")
    cover["A1"].font = Font(bold=True, size=14)
    cover.column_dimensions["A"].width = 30
    cover.column_dimensions["B"].width = 100
    cover.protection.sheet = True
    workbook.active = 0
    try:
        workbook.save(path)
    except OSError as exc:
        raise CrosswalkError(f"cannot write {path}: {exc.strerror or exc}") from None
    return ExportResult(path, len(rows), counts)


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
    strength: str | None
    rationale: str | None
    reviewer: str | None
    fingerprint: str
    score: float | None = None
    confidence: str | None = None
    evidence: str | None = None


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

    def summary(self) -> str:
        total = sum(self.recorded.values())
        text = (
            f"Imported {self.path.name}: {total} decisions recorded ({self.recorded['accepted']} accepted, "
            f"{self.recorded['rejected']} rejected), {self.unchanged} unchanged, "
            f"{self.undecided} rows without a decision"
        )
        if self.recreated:
            text += f", {self.recreated} alignments no longer suggested were restored"
        n = len(self.conflicts)
        text += f"; {n} conflict{'' if n == 1 else 's'}"
        return text + (" (not applied, see above)" if n else "")


def _int(value):
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError
        return int(value)
    return int(str(value).strip())


def read_workbook(path) -> tuple[str, list[WorkbookRow], int]:
    """Read and check every row of a review workbook; raise one error naming each bad value."""
    import openpyxl
    from openpyxl.utils import get_column_letter

    path = pathlib.Path(path)
    if not path.exists():
        raise SourceError("no such file", file=path.name)
    try:
        workbook = openpyxl.load_workbook(path, read_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not xlsx
        raise SourceError(f"cannot be read as an .xlsx workbook ({exc.__class__.__name__}: {exc})",
                          file=path.name) from None
    try:
        sheet_name = SHEET if SHEET in workbook.sheetnames else None
        if sheet_name is None:
            raise SourceError(f"this is not a crosswalk review workbook: it has no sheet {SHEET!r} "
                              "(make one with 'crosswalk review export')", file=path.name)
        sheet = workbook[sheet_name]
        rows = sheet.iter_rows()
        header = next(rows, None) or []
        positions = {}
        for index, cell in enumerate(header):
            if cell.value is not None:
                positions[str(cell.value).strip().lower()] = index
        missing = [name for name in REQUIRED if name.lower() not in positions]
        if missing:
            raise SourceError("the column" + ("s " if len(missing) > 1 else " ")
                              + ", ".join(repr(m) for m in missing) + " is missing from row 1"
                              + (" (the hidden columns must stay)" if set(missing) & {"Source id", "Target id", "Fingerprint"} else ""),
                              file=path.name, sheet=sheet_name, row=1)
        col = {name: positions[name.lower()] for name in REQUIRED}
        for optional in ("Score", "Confidence", "Evidence"):
            if optional.lower() in positions:
                col[optional] = positions[optional.lower()]

        def where(name):
            return f"column {get_column_letter(col[name] + 1)} ({name})"

        errors: list[str] = []
        parsed: list[WorkbookRow] = []
        seen: dict[int, int] = {}
        undecided = 0
        for number, cells in enumerate(rows, start=2):
            cells = list(cells)

            def get(name):
                i = col.get(name)
                if i is None or i >= len(cells):
                    return None, None
                return cells[i].value, getattr(cells[i], "data_type", None)

            values = {name: get(name) for name in col}
            if all(v in (None, "") for v, _ in values.values()):
                continue
            row_errors = []
            for name in ("Decision", "Strength", "Rationale", "Reviewer"):
                value, kind = values[name]
                if kind == "f" or (isinstance(value, str) and value.startswith("=") and kind == "f"):
                    row_errors.append(f"row {number}, {where(name)}: a formula ({value}); type the text itself")
            ids = {}
            for name in ("Alignment id", "Source id", "Target id"):
                value = values[name][0]
                try:
                    ids[name] = _int(value)
                except (TypeError, ValueError):
                    row_errors.append(f"row {number}, {where(name)}: {value!r} is not an id "
                                      "(the id columns must not be edited)")
            decision_value = values["Decision"][0]
            decision = None
            if decision_value not in (None, "") and str(decision_value).strip():
                try:
                    decision = normalise_decision(decision_value)
                except CrosswalkError:
                    row_errors.append(f"row {number}, {where('Decision')}: {decision_value!r} is not accept or reject")
            strength = None
            try:
                strength = normalise_strength(values["Strength"][0])
            except CrosswalkError:
                row_errors.append(f"row {number}, {where('Strength')}: {values['Strength'][0]!r} is not full or partial")
            fp = clean_text(values["Fingerprint"][0])
            if not fp:
                row_errors.append(f"row {number}, {where('Fingerprint')}: empty (the hidden columns must not be edited)")
            if "Alignment id" in ids and not row_errors:
                first = seen.get(ids["Alignment id"])
                if first is not None and decision is not None:
                    row_errors.append(f"row {number}, {where('Alignment id')}: alignment {ids['Alignment id']} "
                                      f"is also on row {first}")
            errors.extend(row_errors)
            if row_errors:
                continue
            if decision is None:
                undecided += 1
                continue
            seen[ids["Alignment id"]] = number
            score = values.get("Score", (None, None))[0]
            parsed.append(WorkbookRow(
                row=number, alignment_id=ids["Alignment id"], source_id=ids["Source id"],
                target_id=ids["Target id"], decision=decision,
                strength=strength if decision == "accept" else None,
                rationale=clean_text(values["Rationale"][0]), reviewer=clean_text(values["Reviewer"][0]),
                fingerprint=fp,
                score=float(score) if isinstance(score, (int, float)) and 0 <= score <= 100 else None,
                confidence=clean_text(values.get("Confidence", (None, None))[0]),
                evidence=clean_text(values.get("Evidence", (None, None))[0]),
            ))
        if errors:
            shown = errors[:20]
            more = f"; and {len(errors) - 20} more" if len(errors) > 20 else ""
            raise SourceError(
                f"{len(errors)} bad value{'s' if len(errors) > 1 else ''}, nothing was imported: "
                + "; ".join(shown) + more,
                file=path.name, sheet=sheet_name,
            )
        return sheet_name, parsed, undecided
    finally:
        workbook.close()


def _find(db, item: WorkbookRow):
    """The alignment a row is about: by id when the pair still matches, else by its pair."""
    base = ALIGNMENT_SQL
    rows = list(db.query(base + " where a.id = ? and a.source_id = ? and a.target_id = ?",
                         [item.alignment_id, item.source_id, item.target_id]))
    if not rows:
        rows = list(db.query(base + " where a.source_id = ? and a.target_id = ?", [item.source_id, item.target_id]))
    return rows[0] if rows else None


def import_workbook(db, path, *, reviewer: str) -> ImportResult:
    """Apply the decisions of a review workbook; all or nothing for bad values.

    Rows whose alignment changed since the export are returned as conflicts
    and left alone; rows that ask for what is already recorded change
    nothing, so importing twice gives the same result.
    """
    reviewer = clean_text(reviewer)
    if not reviewer:
        raise CrosswalkError("say who imports the decisions: --reviewer is required")
    path = pathlib.Path(path)
    _, items, undecided = read_workbook(path)
    result = ImportResult(path, undecided=undecided)
    via = f"workbook {path.name}"
    stamp = now()
    with write_transaction(db):
        for item in items:
            row = _find(db, item)
            if row is None:
                row = _restore(db, item, result, stamp)
                if row is None:
                    continue
            status = {"accept": "accepted", "reject": "rejected"}[item.decision]
            wanted_strength = item.strength if item.strength is not None else row["strength"]
            if status == "rejected":
                wanted_strength = None
            wanted_rationale = item.rationale if item.rationale is not None else row["rationale"]
            if (row["status"], row["strength"], row["rationale"]) == (status, wanted_strength, wanted_rationale) \
                    and not row["needs_review"]:
                result.unchanged += 1
                continue
            if fingerprint(row) != item.fingerprint:
                result.conflicts.append(Conflict(item.row, row["id"], _conflict_reason(row, item)))
                continue
            who = item.reviewer or reviewer
            apply_decision(
                db, row, item.decision, strength=item.strength, rationale=item.rationale, reviewer=who,
                via=via if who == reviewer else f"{via}, imported by {reviewer}", at=stamp,
            )
            result.recorded[status] += 1
    return result


def _conflict_reason(row, item: WorkbookRow) -> str:
    wanted = item.decision + (f", {item.strength}" if item.strength else "")
    if row["needs_review"]:
        why = "a statement changed since the export"
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
    if found is None or found[2] != "active" or found[3] != "active":
        result.conflicts.append(Conflict(item.row, item.alignment_id,
                                         "one of its standards is no longer in the database (retired or removed)"))
        return None
    seen = {"status": "suggested", "strength": None, "rationale": None,
            "cte_statement": found[0], "standard": found[1]}
    if fingerprint(seen) != item.fingerprint:
        result.conflicts.append(Conflict(item.row, item.alignment_id,
                                         f"{found[4]} → {found[5]}: no longer suggested, and its statements or "
                                         "decision changed since the export"))
        return None
    db.execute(
        "insert into alignments (source_id, target_id, score, confidence, method, evidence, created_at, updated_at) "
        "values (?, ?, ?, ?, 'workbook', ?, ?, ?)",
        [item.source_id, item.target_id, item.score if item.score is not None else 0,
         item.confidence if item.confidence in ("high", "medium", "low") else None,
         item.evidence, stamp, stamp],
    )
    result.recreated += 1
    return list(db.query(ALIGNMENT_SQL + " where a.source_id = ? and a.target_id = ?",
                         [item.source_id, item.target_id]))[0]
