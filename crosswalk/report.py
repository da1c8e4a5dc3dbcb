"""The crosswalk document for one program, in the shape state CTE offices use.

An xlsx workbook with three sheets:

- **Crosswalk**: a header and sign-off block (program, CIP code, credentials,
  reviewers and review dates, signature lines), then one row per academic
  standard the program certifies: code, text, subject, grade, the aligned CTE
  codes and tasks, strength (Full / Partial), rationale, reviewers, dates.
- **Summary**: coverage per subject (full, partial, of how many) and a bar chart.
- **Evidence**: one row per reviewed alignment (task ↔ standard).

``format="csv"`` writes the Crosswalk rows only. Text a spreadsheet would run as
a formula is stored as text (xlsx) or prefixed with an apostrophe (CSV).

Example::

    from crosswalk.db import open_db
    from crosswalk.report import write_report
    result = write_report(open_db("district.db"), "welding-crosswalk.xlsx", program="Welding Technology")
    print(result.summary())
"""

from __future__ import annotations

import collections
import csv
import dataclasses
import datetime
import pathlib

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from .cells import neutralise, write_cell
from .db import program_id
from .errors import CrosswalkError
from .text import grade_label

REPORT_FORMATS = ("xlsx", "csv")
CROSSWALK_COLUMNS = [
    ("Academic standard", "standard_code", 18),
    ("Standard text", "standard", 60),
    ("Subject", "subject", 10),
    ("Grade", "grade", 10),
    ("Academic framework", "academic_framework", 28),
    ("Aligned CTE codes", "cte_codes", 18),
    ("CTE tasks", "cte_tasks", 60),
    ("Strength", "strength", 10),
    ("Rationale", "rationale", 50),
    ("Reviewed by", "reviewers", 18),
    ("Review date", "review_date", 12),
]
EVIDENCE_COLUMNS = [
    ("CTE code", "cte_code", 14), ("CTE task", "cte_statement", 60), ("Credential", "credential", 30),
    ("Academic standard", "standard_code", 18), ("Standard text", "standard", 60), ("Strength", "strength", 10),
    ("Rationale", "rationale", 50), ("Reviewed by", "reviewer", 18), ("Review date", "reviewed_at", 12),
]
STRENGTH_RANK = {"full": 2, "partial": 1}


@dataclasses.dataclass
class ReportResult:
    path: str
    format: str
    program: str
    standards: int
    alignments: int
    coverage: list

    def summary(self) -> str:
        parts = ", ".join(f"{c['subject']} {c['certified']}/{c['total']}" for c in self.coverage)
        return (f"Wrote the {self.program} crosswalk to {self.path}: {self.standards} academic standards "
                f"certified by {self.alignments} reviewed alignments ({parts or 'no subjects'})")


def crosswalk_data(db, program) -> dict:
    """Everything the report shows for one program, straight from the database."""
    pid = program_id(db, program)
    info = next(db.query("select * from programs where id = ?", [pid]))
    credentials = [r["name"] for r in db.query(
        "select f.name from program_frameworks pf join frameworks f on f.id = pf.framework_id "
        "where pf.program_id = ? order by f.name", [pid])]
    evidence = program_evidence(db, pid)
    rows = [_crosswalk_row(standard, items) for standard, items in _by_standard(evidence)]
    dates = sorted(r["reviewed_at"] for r in evidence if r["reviewed_at"])
    return {
        "program": info, "credentials": credentials, "rows": rows, "evidence": evidence,
        "coverage": _coverage(db, rows), "reviewers": _reviewers(evidence),
        "first_date": dates[0] if dates else "", "last_date": dates[-1] if dates else "",
    }


def program_evidence(db, pid: int) -> list[dict]:
    """The program's reviewed alignments (the ``program_evidence`` view), in the order standards are read."""
    evidence = list(db.query("""
        select standard_id, standard_code, standard, subject, grade as raw_grade, grade_low, grade_high,
               academic_framework, cte_code, cte_statement, credential, strength, rationale, reviewer,
               substr(reviewed_at, 1, 10) as reviewed_at
        from program_evidence
        where program_id = ?
        order by subject, grade_low, grade_high, standard_position, standard_code, cte_code
    """, [pid]))
    for row in evidence:
        row["grade"] = grade_label(row["grade_low"], row["grade_high"], row["raw_grade"])
    return evidence


def _by_standard(evidence: list[dict]):
    """(standard, its evidence rows) for each certified standard, in order."""
    standards = collections.OrderedDict()
    for row in evidence:
        entry = standards.setdefault(row["standard_id"], (
            {k: row[k] for k in ("standard_code", "standard", "subject", "grade", "academic_framework")}, []))
        entry[1].append(row)
    return standards.values()


def _crosswalk_row(standard: dict, items: list[dict]) -> dict:
    """One row of the Crosswalk sheet: a standard with all the CTE evidence that certifies it."""
    best = max(items, key=lambda r: STRENGTH_RANK.get(r["strength"], 0))["strength"]
    dates = sorted(r["reviewed_at"] for r in items if r["reviewed_at"])
    rationales = [r["rationale"] if len(items) == 1 else f"{r['cte_code']}: {r['rationale']}"
                  for r in items if r["rationale"]]
    return {
        **standard,
        "cte_codes": "; ".join(r["cte_code"] for r in items),
        "cte_tasks": "\n".join(f"{r['cte_code']}: {r['cte_statement']}" for r in items),
        "strength": (best or "").capitalize(),
        "rationale": "\n".join(rationales),
        "reviewers": "; ".join(sorted({r["reviewer"] for r in items if r["reviewer"]})),
        "review_date": dates[-1] if dates else "",
    }


def _coverage(db, rows: list[dict]) -> list[dict]:
    """Per subject: standards certified fully and partly, of all the active academic standards."""
    totals = {r["subject"]: r["n"] for r in db.query(
        "select x.subject, count(*) as n from standards x join frameworks f on f.id = x.framework_id "
        "where f.kind = 'academic' and x.status = 'active' group by x.subject order by x.subject")}
    counts = collections.defaultdict(lambda: {"full": 0, "partial": 0})
    for row in rows:
        counts[row["subject"]][row["strength"].lower()] += 1
    coverage = []
    for subject, total in totals.items():
        c = counts[subject]
        coverage.append({"subject": subject or "(no subject)", "full": c["full"], "partial": c["partial"],
                         "certified": c["full"] + c["partial"], "total": total,
                         "percent": round(100 * (c["full"] + c["partial"]) / total, 1) if total else 0.0})
    return coverage


def _reviewers(evidence: list[dict]) -> dict:
    """Each reviewer and the date of their latest review, by name."""
    reviewers = collections.OrderedDict()
    for r in sorted(evidence, key=lambda r: (r["reviewer"] or "", r["reviewed_at"] or "")):
        if r["reviewer"]:
            reviewers[r["reviewer"]] = r["reviewed_at"] or ""
    return reviewers


def write_report(db, path, *, program, format: str | None = None) -> ReportResult:
    """Write the crosswalk document of ``program`` to ``path`` (xlsx, or csv)."""
    path = pathlib.Path(path)
    fmt = (format or path.suffix.lstrip(".") or "xlsx").lower()
    if fmt not in REPORT_FORMATS:
        raise CrosswalkError(f"unknown report format {fmt!r}; use one of: {', '.join(REPORT_FORMATS)}")
    data = crosswalk_data(db, program)
    if fmt == "csv":
        _write_csv(data, path)
    else:
        _write_xlsx(data, path)
    return ReportResult(str(path), fmt, data["program"]["name"], len(data["rows"]), len(data["evidence"]),
                        data["coverage"])


def _write_csv(data, path):
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["Program"] + [title for title, _, _ in CROSSWALK_COLUMNS])
        for row in data["rows"]:
            writer.writerow([neutralise(data["program"]["name"])]
                            + [neutralise(row[key]) for _, key, _ in CROSSWALK_COLUMNS])


BOLD = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DCE6F0")
WRAP = Alignment(wrap_text=True, vertical="top")
SIGNATURE_LINE = Border(bottom=Side(style="thin", color="808080"))


def _write_xlsx(data, path):
    wb = Workbook()
    _crosswalk_sheet(wb.active, data)
    _summary_sheet(wb.create_sheet("Summary"), data)
    _evidence_sheet(wb.create_sheet("Evidence"), data)
    wb.save(path)


def _header_cell(cell, title):
    cell = write_cell(cell, title)
    cell.font = BOLD
    cell.fill = HEADER_FILL
    return cell


def _crosswalk_sheet(ws, data) -> None:
    """The program's header and sign-off block, then one row per certified standard."""
    program = data["program"]
    ws.title = "Crosswalk"
    write_cell(ws.cell(1, 1), f"Crosswalk: {program['name']}").font = Font(bold=True, size=14)
    block = [
        ("Program", program["name"]),
        ("CIP code", program["cip_code"] or ""),
        ("Career Cluster", program["career_cluster"] or ""),
        ("School", program["school"] or ""),
        ("Credentials", "; ".join(data["credentials"])),
        ("Academic standards certified", len(data["rows"])),
        ("Reviewed by", "; ".join(f"{name} ({date})" if date else name for name, date in data["reviewers"].items())),
        ("Review dates", f"{data['first_date']} to {data['last_date']}" if data["first_date"] else ""),
        ("Prepared", f"{datetime.date.today().isoformat()} by crosswalk from the reviewed alignments"),
    ]
    row_no = 3
    for label, value in block:
        write_cell(ws.cell(row_no, 1), label).font = BOLD
        write_cell(ws.cell(row_no, 2), value)
        row_no += 1
    row_no = _sign_off(ws, row_no + 1, data["reviewers"]) + 1
    header_row = row_no
    for col, (title, _, width) in enumerate(CROSSWALK_COLUMNS, start=1):
        _header_cell(ws.cell(header_row, col), title).alignment = WRAP
        ws.column_dimensions[get_column_letter(col)].width = width
    for i, row in enumerate(data["rows"], start=header_row + 1):
        for col, (_, key, _) in enumerate(CROSSWALK_COLUMNS, start=1):
            write_cell(ws.cell(i, col), row[key]).alignment = WRAP
    if not data["rows"]:
        write_cell(ws.cell(header_row + 1, 1), "No alignment for this program has been reviewed and accepted yet.")
    ws.freeze_panes = ws.cell(header_row + 1, 1)
    ws.print_title_rows = f"{header_row}:{header_row}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True


def _sign_off(ws, row_no: int, reviewers: dict) -> int:
    """The sign-off table from ``row_no``: the reviewers, then the roles that sign; returns the next free row."""
    write_cell(ws.cell(row_no, 1), "Sign-off").font = Font(bold=True, size=12)
    row_no += 1
    for col, title in enumerate(["Role", "Name", "Signature", "Date"], start=1):
        _header_cell(ws.cell(row_no, col), title)
    row_no += 1
    roles = [("Reviewer", name, date) for name, date in reviewers.items()]
    roles += [("CTE director", "", ""), ("Academic content lead", "", ""), ("CTE advisory committee chair", "", "")]
    for role, name, date in roles:
        write_cell(ws.cell(row_no, 1), role)
        write_cell(ws.cell(row_no, 2), name)
        for col in (3, 4):
            ws.cell(row_no, col).border = SIGNATURE_LINE
        if date:
            write_cell(ws.cell(row_no, 4), date)
        row_no += 1
    return row_no


def _summary_sheet(summary, data) -> None:
    """Coverage per subject, and a stacked bar chart of it."""
    write_cell(summary.cell(1, 1), f"Coverage by subject: {data['program']['name']}").font = Font(bold=True, size=14)
    titles = ["Subject", "Fully certified", "Partly certified", "Certified", "Standards in subject", "Coverage (%)"]
    for col, title in enumerate(titles, start=1):
        _header_cell(summary.cell(3, col), title)
        summary.column_dimensions[get_column_letter(col)].width = 20
    for i, c in enumerate(data["coverage"], start=4):
        for col, key in enumerate(["subject", "full", "partial", "certified", "total", "percent"], start=1):
            write_cell(summary.cell(i, col), c[key])
    last = 3 + len(data["coverage"])
    if data["coverage"]:
        chart = BarChart()
        chart.type = "bar"
        chart.grouping = "stacked"
        chart.overlap = 100
        chart.title = "Academic standards certified, by subject"
        chart.y_axis.title = "Standards"
        chart.add_data(Reference(summary, min_col=2, max_col=3, min_row=3, max_row=last), titles_from_data=True)
        chart.set_categories(Reference(summary, min_col=1, min_row=4, max_row=last))
        chart.height, chart.width = 7.5, 16
        summary.add_chart(chart, f"A{last + 3}")


def _evidence_sheet(evidence, data) -> None:
    """One row per reviewed alignment."""
    for col, (title, _, width) in enumerate(EVIDENCE_COLUMNS, start=1):
        _header_cell(evidence.cell(1, col), title)
        evidence.column_dimensions[get_column_letter(col)].width = width
    for i, row in enumerate(data["evidence"], start=2):
        for col, (_, key, _) in enumerate(EVIDENCE_COLUMNS, start=1):
            value = row[key]
            if key == "strength" and value:
                value = value.capitalize()
            write_cell(evidence.cell(i, col), value).alignment = WRAP
    evidence.freeze_panes = "A2"
