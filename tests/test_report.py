"""crosswalk report: the program crosswalk document (xlsx, csv); LibreOffice opens it; figures match the database."""

import csv
import os
import pathlib
import re
import shutil
import sqlite3
import subprocess

import openpyxl
import pytest

from crosswalk.cli import cli
from crosswalk.db import open_db
from crosswalk.programs import add_program
from crosswalk.report import write_report


SOFFICE = shutil.which("soffice") or "/usr/bin/soffice"
ARTIFACTS = pathlib.Path(__file__).resolve().parent / "artifacts"
FORMULA = '=HYPERLINK("http://evil.example","click")'


@pytest.fixture
def report_db(reviewed_demo, tmp_path):
    """A copy of the reviewed demo where one Welding rationale is a spreadsheet formula."""
    path = tmp_path / "report.db"
    shutil.copy(reviewed_demo, path)
    conn = sqlite3.connect(path)
    conn.execute("""update alignments set rationale = ? where id = (
        select a.id from alignments a join standards s on s.id = a.source_id
        join program_frameworks pf on pf.framework_id = s.framework_id
        join programs p on p.id = pf.program_id
        where p.name = 'Welding Technology' and a.status = 'accepted' order by a.id limit 1)""", [FORMULA])
    conn.commit()
    conn.close()
    return path


def sheet_table(ws, header_first_cell):
    """Rows (as dicts) of the table whose header row starts with header_first_cell."""
    rows = list(ws.iter_rows(values_only=True))
    start = next(i for i, r in enumerate(rows) if r[0] == header_first_cell)
    header = rows[start]
    return [dict(zip(header, r)) for r in rows[start + 1:] if any(v is not None for v in r)]


def test_xlsx_report_matches_the_database(runner, report_db, tmp_path):
    out = tmp_path / "welding.xlsx"
    result = runner.invoke(cli, ["report", str(report_db), str(out), "--program", "Welding Technology"])
    assert result.exit_code == 0, result.output
    conn = sqlite3.connect(report_db)
    # Every academic subject, with the standards the program certifies in it (the coverage view lists
    # only the subjects where it certifies one).
    subjects = conn.execute(
        "select x.subject, coalesce(c.standards_certified, 0), count(*) from standards x "
        "join frameworks f on f.id = x.framework_id left join coverage c "
        "on c.subject = x.subject and c.program = 'Welding Technology' "
        "where f.kind = 'academic' and x.status = 'active' group by x.subject order by x.subject").fetchall()
    per_subject = ", ".join(f"{s} {n}/{t}" for s, n, t in subjects)
    certified, reviewed = conn.execute(
        "select count(distinct standard_id), count(*) from program_evidence "
        "where program_id = (select id from programs where name = 'Welding Technology')").fetchone()
    assert certified >= 4  # the demo's two decisions and the sample's accepted first suggestions
    assert result.stdout.strip() == (f"Wrote the Welding Technology crosswalk to {out}: {certified} academic "
                                     f"standards certified by {reviewed} reviewed alignments ({per_subject})")
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["Crosswalk", "Summary", "Evidence"]
    ws = wb["Crosswalk"]
    assert ws["A1"].value == "Crosswalk: Welding Technology"
    block = {r[0]: r[1] for r in ws.iter_rows(min_row=3, max_row=11, values_only=True)}
    assert block["CIP code"] == "48.0508"
    assert block["Credentials"] == "Welding Technology tasks (O*NET 29.3)"
    reviewers = [r[0] for r in conn.execute(
        "select distinct reviewer from standard_evidence where programs like '%Welding Technology%' order by 1")]
    assert len(reviewers) == 3  # two people, and the demo's illustrative decisions
    assert [part.rsplit(" (", 1)[0] for part in block["Reviewed by"].split("; ")] == reviewers
    assert all(re.fullmatch(r".+ \(\d{4}-\d\d-\d\d\)", part) for part in block["Reviewed by"].split("; "))
    # Sign-off block: every reviewer, then the signatures the state asks for.
    sign_off = sheet_table(ws, "Role")
    roles = [r["Role"] for r in sign_off[: len(reviewers) + 3]]
    assert roles == ["Reviewer"] * len(reviewers) + ["CTE director", "Academic content lead",
                                                     "CTE advisory committee chair"]
    # The crosswalk rows are exactly what program_certifies says.
    rows = sheet_table(ws, "Academic standard")
    expected = {r[0]: (r[1], set(r[2].split(","))) for r in conn.execute(
        "select standard_code, strength, cte_codes from program_certifies where program = 'Welding Technology'")}
    assert {r["Academic standard"]: (r["Strength"].lower(), set(r["Aligned CTE codes"].split("; "))) for r in rows} \
        == expected
    assert all(r["Rationale"] and r["Reviewed by"] and re.fullmatch(r"\d{4}-\d\d-\d\d", r["Review date"]) for r in rows)
    # Formula injection: the rationale is stored as text, never as a formula.
    cell = next(c for row in ws.iter_rows() for c in row if c.value == FORMULA)
    assert cell.data_type == "s" and cell.quotePrefix
    # Summary: coverage per subject equals the coverage view, with a chart.
    summary = wb["Summary"]
    table = sheet_table(summary, "Subject")
    assert {r["Subject"]: (r["Certified"], r["Standards in subject"]) for r in table} == {
        s: (n, t) for s, n, t in subjects}
    assert all(r["Fully certified"] + r["Partly certified"] == r["Certified"] for r in table)
    assert len(summary._charts) == 1
    evidence = sheet_table(wb["Evidence"], "CTE code")
    assert len(evidence) == 6  # the demo's two Welding decisions, and the four the session accepts


def test_report_opens_in_libreoffice(report_db, tmp_path):
    if not pathlib.Path(SOFFICE).exists():
        pytest.skip("LibreOffice (soffice) is not installed (./run test installs it on Debian)")
    out = tmp_path / "welding.xlsx"
    write_report(open_db(report_db), out, program="Welding Technology")
    profile = tmp_path / "lo-profile"
    completed = subprocess.run(
        [SOFFICE, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "pdf",
         "--outdir", str(tmp_path / "pdf"), str(out)],
        capture_output=True, text=True, timeout=180, env={**os.environ, "HOME": str(tmp_path)})
    pdf = tmp_path / "pdf" / "welding.pdf"
    assert completed.returncode == 0, completed.stderr
    assert pdf.exists() and pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 10_000
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copy(pdf, ARTIFACTS / "report-welding.pdf")
    # LibreOffice reads the same figures back (its CSV of the first sheet).
    completed = subprocess.run(
        [SOFFICE, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "csv",
         "--outdir", str(tmp_path / "csv"), str(out)],
        capture_output=True, text=True, timeout=180, env={**os.environ, "HOME": str(tmp_path)})
    assert completed.returncode == 0, completed.stderr
    text = (tmp_path / "csv" / "welding.csv").read_text(encoding="utf-8", errors="replace")
    assert "Crosswalk: Welding Technology" in text and "CTE director" in text
    assert FORMULA.replace('"', '""') in text  # kept as text: LibreOffice did not evaluate it


def test_csv_report_neutralises_formulas(runner, report_db, tmp_path):
    out = tmp_path / "welding.csv"
    result = runner.invoke(cli, ["report", str(report_db), str(out), "--program", "welding technology"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(open(out, encoding="utf-8-sig")))
    certified = sqlite3.connect(report_db).execute(
        "select count(distinct standard_id) from program_evidence "
        "where program_id = (select id from programs where name = 'Welding Technology')").fetchone()[0]
    assert len(rows) == certified >= 4 and {r["Program"] for r in rows} == {"Welding Technology"}
    assert {r["Strength"] for r in rows} <= {"Full", "Partial"}
    assert "'" + FORMULA in {r["Rationale"] for r in rows}
    assert not any(v.startswith(("=", "+", "-", "@")) for r in rows for v in r.values())


def test_report_errors(runner, report_db, tmp_path):
    result = runner.invoke(cli, ["report", str(report_db), str(tmp_path / "x.xlsx"), "--program", "Plumbing"])
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: no program named 'Plumbing'; the programs are: 'Automotive Technology'")
    result = runner.invoke(cli, ["report", str(report_db), str(tmp_path / "x.pdf"), "--program", "Carpentry"])
    assert result.exit_code == 2 and "name it .xlsx or .csv" in result.stderr


def test_program_without_decisions_still_gets_a_document(db, tmp_path):
    add_program(db, "Plumbing")
    out = tmp_path / "plumbing.xlsx"
    result = write_report(db, out, program="Plumbing")
    assert result.standards == 0
    ws = openpyxl.load_workbook(out)["Crosswalk"]
    assert "No alignment for this program has been reviewed" in str([c.value for c in ws["A"]])
