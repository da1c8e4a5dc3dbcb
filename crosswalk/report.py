"""The crosswalk document for one program, in the shape state CTE offices use.

An xlsx workbook with five sheets:

- **Crosswalk**: a header and sign-off block (program, grade band, CIP code,
  credentials, status and who approved it when, reviewers and review dates,
  signature lines), then one row per academic standard of its grade band the
  program certifies: code, text, subject, grade, the aligned CTE codes and
  tasks, strength (Full / Partial), rationale, reviewers, dates.
- **Summary**: coverage of the program's grade band by subject and by domain
  (full, partial, of how many), each with a bar chart.
- **By cluster**: the same figures for each domain's clusters.
- **Needs re-review**: accepted decisions whose statement changed or was retired
  since; they are not counted as certified until decided again.
- **Evidence**: one row per reviewed alignment (task ↔ standard) that certifies
  a standard of the band.

``format="csv"`` writes the Crosswalk rows to the file named, the coverage
figures beside it (``NAME-coverage.csv``: by subject, domain and cluster) and
the decisions to re-review (``NAME-rereview.csv``). Every figure is read from
the database's views (``program_coverage``, ``program_domain_coverage``,
``program_cluster_coverage``, ``program_rereview``, ``program_evidence``), so
the report, the site and SQL agree: the standards certified are those of
``program_standards``, the band's, wherever the report counts or lists them
(an accepted decision for a standard outside the band certifies nothing here,
as on the site and in ``program list``). Text a spreadsheet
would run as a formula is stored as text (xlsx) or prefixed with an apostrophe (CSV).

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

from .cells import fit_cell, neutralise, write_cell
from .db import OUTSIDE_BAND_SQL, program_id
from .errors import CrosswalkError
from .outputs import check_output, csv_header_starts, has_sheets, mark, replacing
from .text import (NO_DOMAIN, NO_SUBJECT, NOT_YET_CERTIFIED, coverage_titles, empty_crosswalk_text, grade_label, plural,
                   program_status_text, signed_off)

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
REREVIEW_COLUMNS = [
    ("CTE code", "cte_code", 14), ("CTE task", "cte_statement", 60), ("Credential", "credential", 30),
    ("Academic standard", "standard_code", 18), ("Standard text", "standard", 60), ("Subject", "subject", 10),
    ("Strength", "strength", 10), ("Why it needs re-review", "reason", 50), ("Reviewed by", "reviewer", 18),
    ("Review date", "reviewed_at", 12), ("Alignment id", "alignment_id", 11),
]


def coverage_columns(signed: bool, cluster: bool = False) -> list[tuple[str, str]]:
    """A coverage table's (title, key) columns: its figures certify where the crosswalk is approved,
    and are accepted so far where not (text.coverage_titles)."""
    full, partial, either, _ = coverage_titles(signed)
    return ([("Subject", "subject"), ("Domain", "domain")] + ([("Cluster", "cluster")] if cluster else [])
            + [("Standards in band", "standards"), (full, "full"), (partial, "partial"), (either, "certified"),
               ("Coverage (%)", "percent")])


# A CSV report's three tables: the crosswalk, its coverage figures (by subject, domain, cluster), the
# decisions to re-review; each table's header (its first columns are how crosswalk knows its own file).
CSV_HEADERS = (  # (an approved crosswalk's; crosswalk knows its files by their first three columns)
    ["Program"] + [title for title, _, _ in CROSSWALK_COLUMNS],
    ["Program", "Grade band"] + [title for title, _ in coverage_columns(True, cluster=True)],
    ["Program"] + [title for title, _, _ in REREVIEW_COLUMNS],
)
STRENGTH_RANK = {"full": 2, "partial": 1}


@dataclasses.dataclass
class ReportResult:
    path: str
    format: str
    program: str
    grades: str
    status: str
    standards: int
    alignments: int
    coverage: list
    rereview: int
    also: list = dataclasses.field(default_factory=list)
    outside_band: int = 0  # accepted decisions to standards outside the program's grade band
    signed_off: bool = True  # the crosswalk approved: its accepted standards certify (text.signed_off)

    def summary(self) -> str:
        parts = ", ".join(f"{c['subject'] or NO_SUBJECT} {c['certified']}/{c['standards']}" for c in self.coverage)
        text = (f"Wrote the {self.program} crosswalk ({self.status}) to {self.path}: "
                f"{plural(self.standards, 'academic standard')} of {self.grades} "
                f"{'certified' if self.signed_off else 'accepted so far'} by "
                f"{plural(self.alignments, 'reviewed alignment')} ({parts or 'no subjects'})")
        if not self.signed_off:  # (text.NOT_YET_CERTIFIED, said of the alignments)
            text += f"; {'it certifies' if self.alignments == 1 else 'they certify'} once the crosswalk is approved"
        if self.rereview:
            text += f"; {plural(self.rereview, 'accepted decision')} to re-review (not counted)"
        if self.outside_band:
            text += (f"; {plural(self.outside_band, 'accepted decision')} to standards outside {self.grades} "
                     "(not counted)")
        if self.also:
            text += f"; coverage figures in {self.also[0]}, decisions to re-review in {self.also[1]}"
        return text


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
    coverage = list(db.query(
        "select subject, standards, full, partial, certified, percent from program_coverage "
        "where program_id = ? order by subject", [pid]))
    domains = list(db.query(
        "select subject, coalesce(nullif(domain, ''), ?) as domain, standards, full, partial, certified, percent "
        "from program_domain_coverage where program_id = ? order by subject, domain is null, domain",
        [NO_DOMAIN, pid]))
    clusters = list(db.query(
        "select subject, coalesce(nullif(domain, ''), ?) as domain, cluster, standards, full, partial, certified, "
        "percent from program_cluster_coverage where program_id = ? and cluster is not null and cluster != '' "
        "order by subject, domain is null, domain, cluster", [NO_DOMAIN, pid]))
    rereview = list(db.query(
        "select cte_code, cte_statement, credential, standard_code, standard, subject, strength, reason, reviewer, "
        "substr(reviewed_at, 1, 10) as reviewed_at, alignment_id from program_rereview where program_id = ? "
        "order by subject, standard_code, cte_code", [pid]))
    # The standards certified, counted as program list and the site count them (program_coverage); the
    # rows list the same standards (program_standards, of which the coverage views are the counts).
    certified = sum(c["certified"] for c in coverage)
    outside = db.execute(OUTSIDE_BAND_SQL, {"p": pid}).fetchone()[0]
    return {
        "program": info, "grades": grade_label(info["grade_low"], info["grade_high"]),
        "status": program_status_text(info["status"], info["status_by"], info["status_at"], *db.execute(
            "select changes_since_status, flagged_since_status from program_progress where program_id = ?",
            [pid]).fetchone()),
        "credentials": credentials, "rows": rows, "evidence": evidence, "coverage": coverage, "domains": domains,
        "clusters": clusters, "in_band": sum(c["standards"] for c in coverage), "certified": certified,
        "signed_off": signed_off(info["status"]),
        "rereview": [dict(r, strength=strength_text(r["strength"])) for r in rereview],
        "reviewers": _reviewers(evidence), "outside_band": outside,
        "first_date": dates[0] if dates else "", "last_date": dates[-1] if dates else "",
    }


def program_evidence(db, pid: int) -> list[dict]:
    """The program's reviewed alignments that certify a standard of its grade band (the
    ``program_evidence`` view, as the program's page lists them), in the order standards are read."""
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
        "strength": strength_text(best),
        "rationale": "\n".join(rationales),
        "reviewers": "; ".join(sorted({r["reviewer"] for r in items if r["reviewer"]})),
        "review_date": dates[-1] if dates else "",
    }


def _reviewers(evidence: list[dict]) -> dict:
    """Each reviewer and the date of their latest review, by name."""
    reviewers = collections.OrderedDict()
    for r in sorted(evidence, key=lambda r: (r["reviewer"] or "", r["reviewed_at"] or "")):
        if r["reviewer"]:
            reviewers[r["reviewer"]] = r["reviewed_at"] or ""
    return reviewers


REPORT_SHEETS = ("Crosswalk", "Summary", "By cluster", "Needs re-review", "Evidence")


def write_report(db, path, *, program, format: str | None = None, force: bool = False) -> ReportResult:
    """Write the crosswalk document of ``program`` to ``path`` (xlsx, or csv). An existing file there
    (or beside it, for a CSV report's two companions) is replaced only where it is an earlier report
    crosswalk wrote, or with ``force``; the database never (:func:`crosswalk.outputs.check_output`)."""
    path = pathlib.Path(path)
    if format is None and path.suffix.lower().lstrip(".") not in REPORT_FORMATS:
        raise CrosswalkError(f"cannot tell the format from {str(path)!r}; name it .xlsx or .csv, or use --format")
    fmt = (format or path.suffix.lstrip(".")).lower()
    if fmt not in REPORT_FORMATS:
        raise CrosswalkError(f"unknown report format {fmt!r}; use one of: {', '.join(REPORT_FORMATS)}")
    data = crosswalk_data(db, program)
    also = []
    if fmt == "csv":
        for target, header in zip((path, *csv_companions(path)), CSV_HEADERS):
            check_output(target, database=db, what="a CSV report", ours=csv_header_starts(header), force=force)
        also = [str(p) for p in _write_csv(data, path)]
    else:
        check_output(path, database=db, what="a report", ours=has_sheets(REPORT_SHEETS), force=force)
        _write_xlsx(data, path)
    return ReportResult(str(path), fmt, data["program"]["name"], data["grades"], data["status"], data["certified"],
                        len(data["evidence"]), data["coverage"], len(data["rereview"]), also, data["outside_band"],
                        data["signed_off"])


def csv_companions(path) -> tuple[pathlib.Path, pathlib.Path]:
    """Where a CSV report's coverage figures and re-review list go: beside it, named after it."""
    path = pathlib.Path(path)
    return (path.with_name(f"{path.stem}-coverage{path.suffix}"), path.with_name(f"{path.stem}-rereview{path.suffix}"))


def _write_csv(data, path) -> tuple[pathlib.Path, pathlib.Path]:
    name = data["program"]["name"]
    coverage_path, rereview_path = csv_companions(path)
    crosswalk_header, _, rereview_header = CSV_HEADERS
    coverage = coverage_columns(data["signed_off"], cluster=True)
    _csv_table(path, crosswalk_header,
               ([name] + [row[key] for _, key, _ in CROSSWALK_COLUMNS] for row in data["rows"]))
    # One row per subject (Domain and Cluster empty), then per subject and domain (the Summary
    # sheet's figures), then per cluster of each domain (the By cluster sheet's).
    figures = ([{**c, "domain": "", "cluster": ""} for c in data["coverage"]]
               + [{**d, "cluster": ""} for d in data["domains"]] + data["clusters"])
    _csv_table(coverage_path, ["Program", "Grade band"] + [title for title, _ in coverage],
               ([name, data["grades"]] + [c[key] for _, key in coverage] for c in figures))
    _csv_table(rereview_path, rereview_header,
               ([name] + [r[key] for _, key, _ in REREVIEW_COLUMNS] for r in data["rereview"]))
    return coverage_path, rereview_path


def _csv_table(path, header, rows) -> None:
    with replacing(path) as part, open(part, "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        for row in rows:
            writer.writerow([neutralise(value) for value in row])


BOLD = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DCE6F0")
WRAP = Alignment(wrap_text=True, vertical="top")
SIGNATURE_LINE = Border(bottom=Side(style="thin", color="808080"))


def _write_xlsx(data, path):
    wb = Workbook()
    mark(wb)
    _crosswalk_sheet(wb.active, data)
    _summary_sheet(wb.create_sheet("Summary"), data)
    _cluster_sheet(wb.create_sheet("By cluster"), data)
    _rereview_sheet(wb.create_sheet("Needs re-review"), data)
    _evidence_sheet(wb.create_sheet("Evidence"), data)
    with replacing(path) as part:
        wb.save(part)


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
        ("Grade band", data["grades"]),
        ("Status", data["status"][0].upper() + data["status"][1:]),
        ("CIP code", program["cip_code"] or ""),
        ("Career Cluster", program["career_cluster"] or ""),
        ("School", program["school"] or ""),
        ("Credentials", "; ".join(data["credentials"])),
        ("Academic standards certified" if data["signed_off"] else "Academic standards accepted so far",
         f"{data['certified']} of {data['in_band']} in {data['grades']}"
         + ("" if data["signed_off"] else
            f"; {'it certifies' if data['certified'] == 1 else 'they certify'} once the crosswalk is approved")),
        ("Needs re-review", _rereview_count(len(data["rereview"]))),
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
            # (a standard certified by hundreds of tasks: every one, and its rationale, is on the Evidence sheet)
            value = fit_cell(row[key], "each task and rationale is on the Evidence sheet") \
                if isinstance(row[key], str) else row[key]
            _write_value(ws.cell(i, col), key, value)
    if not data["rows"]:
        write_cell(ws.cell(header_row + 1, 1), empty_crosswalk_text(data["outside_band"], data["grades"]))
    ws.freeze_panes = ws.cell(header_row + 1, 1)
    ws.print_title_rows = f"{header_row}:{header_row}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True


def _rereview_count(n: int) -> str:
    if not n:
        return "none"
    return f"{plural(n, 'accepted decision')} (not counted as certified; see 'Needs re-review')"


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
    """Coverage of the grade band by subject, then by domain, each with a bar chart of its percentages."""
    title = f"Coverage of {data['grades']}: {data['program']['name']}"
    write_cell(summary.cell(1, 1), title).font = Font(bold=True, size=14)
    columns = coverage_columns(data["signed_off"])
    either = columns[-2][0]
    counted = ("certified by accepted alignments" if data["signed_off"]
               else f"with accepted alignments, {NOT_YET_CERTIFIED}")
    write_cell(summary.cell(2, 1), f"Academic standards of the program's grade band {counted}; "
               "decisions that need re-review are not counted.")
    by_subject = [c for c in columns if c[1] != "domain"]
    last = _figures_table(summary, 4, by_subject, data["coverage"])
    _percent_chart(summary, 4, last, by_subject, "subject", f"{either} (%) by subject")
    start = max(last, 4 + _chart_rows(len(data["coverage"]))) + 3
    write_cell(summary.cell(start, 1), "By domain").font = Font(bold=True, size=12)
    last = _figures_table(summary, start + 1, columns, data["domains"])
    _percent_chart(summary, start + 1, last, columns, "domain", f"{either} (%) by domain")
    for col, width in zip("ABCDEFG", (12, 44, 12, 12, 12, 12, 12)):
        summary.column_dimensions[col].width = width


def _percent_chart(ws, header_row: int, last: int, columns, label: str, title: str) -> None:
    """A bar chart of a coverage table's percentages, one bar per row, beside the table."""
    if last == header_row:
        return
    keys = [key for _, key in columns]
    chart = BarChart()
    chart.type = "bar"
    chart.title = title
    chart.legend = None
    chart.y_axis.title = title.split(" by ")[0]  # ("Certified (%)", or "Accepted so far (%)")
    chart.y_axis.scaling.min, chart.y_axis.scaling.max = 0, 100
    chart.x_axis.scaling.orientation = "maxMin"  # first row at the top, as in the table
    chart.add_data(Reference(ws, min_col=keys.index("percent") + 1, min_row=header_row, max_row=last),
                   titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=keys.index(label) + 1, min_row=header_row + 1, max_row=last))
    chart.height, chart.width = _chart_rows(last - header_row) * 0.5, 22
    ws.add_chart(chart, f"I{header_row}")


def _chart_rows(n: int) -> int:
    """Rows of the sheet a bar chart of n bars takes (about 0.5 cm a row)."""
    return max(15, 2 * n + 6)


def _figures_table(ws, header_row: int, columns, rows) -> int:
    """A coverage table from ``header_row``; returns its last row."""
    for col, (title, _) in enumerate(columns, start=1):
        _header_cell(ws.cell(header_row, col), title)
    for i, row in enumerate(rows, start=header_row + 1):
        for col, (_, key) in enumerate(columns, start=1):
            write_cell(ws.cell(i, col), row[key])
    return header_row + len(rows)


def _cluster_sheet(ws, data) -> None:
    """Coverage of the grade band by cluster, the groups of standards within each domain."""
    write_cell(ws.cell(1, 1), f"Coverage of {data['grades']} by cluster: {data['program']['name']}").font = Font(
        bold=True, size=14)
    _figures_table(ws, 3, coverage_columns(data["signed_off"], cluster=True), data["clusters"])
    for col, width in zip("ABCDEFGH", (12, 36, 44, 12, 12, 12, 12, 12)):
        ws.column_dimensions[col].width = width
    ws.freeze_panes = "A4"


def _rereview_sheet(ws, data) -> None:
    """Accepted decisions to decide again: they certify nothing until then."""
    write_cell(ws.cell(1, 1), "Needs re-review: accepted decisions whose statement changed or was retired; "
               "not counted as certified until decided again").font = BOLD
    write_cell(ws.cell(2, 1), "Decide again on the program's page of the review site, in a review workbook (changed "
               "statements), or with: crosswalk decide DATABASE ALIGNMENT_ID accept|reject --reviewer NAME")
    _rows_table(ws, 3, REREVIEW_COLUMNS, data["rereview"])
    if not data["rereview"]:
        write_cell(ws.cell(4, 1), "None: every accepted decision of this program is current.")
    ws.freeze_panes = "A4"


def _evidence_sheet(evidence, data) -> None:
    """One row per reviewed alignment."""
    _rows_table(evidence, 1, EVIDENCE_COLUMNS, data["evidence"])
    evidence.freeze_panes = "A2"


# The columns that hold a day: written as dates (a spreadsheet sorts and filters them as dates), not text.
DATE_KEYS = ("review_date", "reviewed_at")


def _write_value(cell, key: str, value) -> None:
    """One cell of a table of the report: a day as a date, text wrapped."""
    if key in DATE_KEYS and isinstance(value, str) and value:
        try:
            day = datetime.date.fromisoformat(value[:10])
        except ValueError:
            day = None
        if day is not None:
            cell.value = day
            cell.number_format = "yyyy-mm-dd"
            cell.alignment = WRAP
            return
    write_cell(cell, value).alignment = WRAP


def strength_text(strength: str | None) -> str:
    """A strength as the report writes it, in the xlsx and the CSV alike: Full, Partial."""
    return (strength or "").capitalize()


def _rows_table(ws, header_row: int, columns, rows) -> None:
    """A table of alignments from ``header_row``: (title, key, width) columns, text wrapped, strength as written."""
    for col, (title, _, width) in enumerate(columns, start=1):
        _header_cell(ws.cell(header_row, col), title)
        ws.column_dimensions[get_column_letter(col)].width = width
    for i, row in enumerate(rows, start=header_row + 1):
        for col, (_, key, _) in enumerate(columns, start=1):
            _write_value(ws.cell(i, col), key, strength_text(row[key]) if key == "strength" else row[key])
