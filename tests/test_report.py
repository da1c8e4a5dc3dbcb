"""crosswalk report: the program crosswalk document (xlsx, csv); LibreOffice opens it; figures match the database."""

import csv
import datetime
import re
import shutil
import sqlite3

import openpyxl
import pytest

from crosswalk.cli import cli
from crosswalk.db import open_db
from crosswalk.programs import add_program, set_status
from crosswalk.report import write_report
from crosswalk.text import grade_label

from .conftest import ARTIFACTS


FORMULA = '=HYPERLINK("http://evil.example","click")'


WELDING_ACCEPTED = """select a.id from alignments a join standards s on s.id = a.source_id
    join program_frameworks pf on pf.framework_id = s.framework_id join programs p on p.id = pf.program_id
    where p.name = 'Welding Technology' and a.status = 'accepted' order by a.id"""


@pytest.fixture
def report_db(reviewed_demo, tmp_path):
    """A copy of the reviewed demo where one Welding rationale is a spreadsheet formula, one Welding
    decision needs re-review (its task changed), and the director approved Welding."""
    path = tmp_path / "report.db"
    shutil.copy(reviewed_demo, path)
    conn = sqlite3.connect(path)
    conn.execute(f"update alignments set rationale = ? where id = ({WELDING_ACCEPTED} limit 1)", [FORMULA])
    conn.execute(f"update alignments set needs_review = 1, needs_review_reason = 'the task W.17 changed' "
                 f"where id = ({WELDING_ACCEPTED} desc limit 1)")
    conn.commit()
    conn.close()
    db = open_db(path)
    set_status(db, "Welding Technology", "approved", "M. Levesque")
    db.close()
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
    pid, status_at = conn.execute("select id, status_at from programs where name = 'Welding Technology'").fetchone()
    # Coverage counts the program's band (9-12): fewer standards than the subjects hold in all grades.
    subjects = conn.execute("select subject, certified, standards, full, partial, percent from program_coverage "
                            "where program_id = ? order by subject", [pid]).fetchall()
    assert [s[0] for s in subjects] == ["ELA", "Guiding Principles", "Math", "Science"]
    all_grades = dict(conn.execute("select x.subject, count(*) from standards x join frameworks f on "
                                   "f.id = x.framework_id where f.kind = 'academic' and x.status = 'active' "
                                   "group by x.subject"))
    band = {subject: standards for subject, _, standards, *_ in subjects}
    assert all(band[subject] < all_grades[subject] for subject in ("ELA", "Math", "Science"))
    assert band["Guiding Principles"] == all_grades["Guiding Principles"]  # no grade: in every band
    per_subject = ", ".join(f"{s} {n}/{t}" for s, n, t, *_ in subjects)
    certified, reviewed = conn.execute(
        "select count(distinct standard_id), count(*) from program_evidence where program_id = ?", [pid]).fetchone()
    assert certified >= 4  # the demo's two decisions and the sample's accepted first suggestions, less the stale one
    in_band = sum(s[2] for s in subjects)
    assert result.stdout.strip() == (
        f"Wrote the Welding Technology crosswalk (approved by M. Levesque on {status_at[:10]}) to {out}: "
        f"{certified} academic standards of Grades 9–12 certified by {reviewed} reviewed alignments ({per_subject}); "
        "1 accepted decision to re-review (not counted)")
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["Crosswalk", "Summary", "By cluster", "Needs re-review", "Evidence"]
    ws = wb["Crosswalk"]
    assert ws["A1"].value == "Crosswalk: Welding Technology"
    block = {r[0]: r[1] for r in ws.iter_rows(min_row=3, max_row=14, values_only=True)}
    assert block["Grade band"] == "Grades 9–12"
    assert block["Status"] == f"Approved by M. Levesque on {status_at[:10]}"
    assert block["CIP code"] == "48.0508"
    assert block["Career Cluster"] == "Manufacturing Career Cluster"
    assert block["Credentials"] == "Welding Technology tasks (O*NET 29.3)"
    assert block["Academic standards certified"] == f"{certified} of {in_band} in Grades 9–12"
    assert block["Needs re-review"] == "1 accepted decision (not counted as certified; see 'Needs re-review')"
    reviewers = [r[0] for r in conn.execute(
        "select distinct reviewer from program_evidence where program_id = ? order by 1", [pid])]
    assert len(reviewers) == 3  # two people, and the demo's illustrative decisions
    assert [part.rsplit(" (", 1)[0] for part in block["Reviewed by"].split("; ")] == reviewers
    assert all(re.fullmatch(r".+ \(\d{4}-\d\d-\d\d\)", part) for part in block["Reviewed by"].split("; "))
    # Sign-off block: every reviewer, then the signatures the state asks for.
    sign_off = sheet_table(ws, "Role")
    roles = [r["Role"] for r in sign_off[: len(reviewers) + 3]]
    assert roles == ["Reviewer"] * len(reviewers) + ["CTE director", "Academic content lead",
                                                     "CTE advisory committee chair"]
    # The crosswalk rows are exactly what program_certifies says (the stale decision is not among them).
    rows = sheet_table(ws, "Academic standard")
    expected = {r[0]: (r[1], set(r[2].split(","))) for r in conn.execute(
        "select standard_code, strength, cte_codes from program_certifies where program = 'Welding Technology'")}
    assert {r["Academic standard"]: (r["Strength"].lower(), set(r["Aligned CTE codes"].split("; "))) for r in rows} \
        == expected
    # A review date is a date a spreadsheet sorts and filters as one (it was text), shown as 2026-11-28.
    assert all(r["Rationale"] and r["Reviewed by"] and isinstance(r["Review date"], datetime.datetime) for r in rows)
    dated = [c for row in ws.iter_rows() for c in row if isinstance(c.value, datetime.datetime)]
    assert dated and {c.number_format for c in dated} == {"yyyy-mm-dd"}
    assert all(isinstance(r["Review date"], datetime.datetime) for r in sheet_table(wb["Evidence"], "CTE code"))
    # Grade labels in the one format.
    labels = {r["Grade"] for r in rows}
    assert labels and labels <= {grade_label(low, high) for low in range(13) for high in range(low, 13)}
    # Formula injection: the rationale is stored as text, never as a formula.
    cell = next(c for row in ws.iter_rows() for c in row if c.value == FORMULA)
    assert cell.data_type == "s" and cell.quotePrefix
    # Summary: coverage by subject and by domain are the views' figures, each with a chart.
    summary = wb["Summary"]
    assert summary["A1"].value == "Coverage of Grades 9–12: Welding Technology"
    table = sheet_table(summary, "Subject")
    by_subject = table[: len(subjects)]
    assert [(r["Subject"], r["Certified"], r["Standards in band"], r["Fully certified"], r["Partly certified"],
             r["Coverage (%)"]) for r in by_subject] == subjects
    domains = conn.execute(
        "select subject, coalesce(nullif(domain, ''), '(no domain)'), standards, certified, percent "
        "from program_domain_coverage where program_id = ? order by subject, domain is null, domain", [pid]).fetchall()
    rows = list(summary.iter_rows(values_only=True))
    start = next(i for i, r in enumerate(rows) if r[:2] == ("Subject", "Domain"))
    table = [dict(zip(rows[start], r)) for r in rows[start + 1:start + 1 + len(domains)]]
    assert [(r["Subject"], r["Domain"], r["Standards in band"], r["Certified"], r["Coverage (%)"]) for r in table] \
        == domains
    assert len(domains) > 40 and sum(d[3] for d in domains) == certified
    assert [c.title.tx.rich.p[0].r[0].t for c in summary._charts] == ["Certified (%) by subject",
                                                                         "Certified (%) by domain"]
    # By cluster: the view's figures, each cluster under its domain.
    clusters = conn.execute(
        "select subject, coalesce(nullif(domain, ''), '(no domain)'), cluster, standards, certified "
        "from program_cluster_coverage where program_id = ? and cluster is not null and cluster != '' "
        "order by subject, domain is null, domain, cluster", [pid]).fetchall()
    by_cluster = sheet_table(wb["By cluster"], "Subject")
    assert [(r["Subject"], r["Domain"], r["Cluster"], r["Standards in band"], r["Certified"]) for r in by_cluster] \
        == clusters
    assert len(clusters) > 90 and ("Math", "Quantities★", "Reason quantitatively and use units to solve problems.",
                                    3) in [c[:4] for c in clusters]
    # Needs re-review: the stale decision, with its reason; it is not in the Evidence sheet.
    rereview = sheet_table(wb["Needs re-review"], "CTE code")
    stale = conn.execute(f"select s.code, t.code from alignments a join standards s on s.id = a.source_id "
                         f"join standards t on t.id = a.target_id where a.id = ({WELDING_ACCEPTED} desc limit 1)"
                         ).fetchone()
    assert [(r["CTE code"], r["Academic standard"], r["Why it needs re-review"]) for r in rereview] == [
        (stale[0], stale[1], "the task W.17 changed")]
    # Its id, for `crosswalk decide` (a retired statement's decision is in no review workbook).
    assert [r["Alignment id"] for r in rereview] == [conn.execute(f"{WELDING_ACCEPTED} desc limit 1").fetchone()[0]]
    evidence = sheet_table(wb["Evidence"], "CTE code")
    assert len(evidence) == reviewed == 5  # the demo's two Welding decisions, the session's four, less the stale one
    assert (stale[0], stale[1]) not in {(r["CTE code"], r["Academic standard"]) for r in evidence}


def test_report_counts_the_programs_band(runner, report_db, tmp_path):
    conn = sqlite3.connect(report_db)
    nine_to_twelve = conn.execute("select sum(standards) from program_coverage where program = 'Welding Technology'"
                                  ).fetchone()[0]
    # (the approved program's sign-off set back first: a band change changes what it certifies)
    assert runner.invoke(cli, ["approve", str(report_db), "--program", "Welding Technology", "--by", "J. Chen",
                               "--status", "in review"]).exit_code == 0
    assert runner.invoke(cli, ["program", "add", str(report_db), "Welding Technology", "--grades", "11-12"]
                         ).exit_code == 0
    eleven_twelve = conn.execute("select sum(standards) from program_coverage where program = 'Welding Technology'"
                                 ).fetchone()[0]
    assert 0 < eleven_twelve < nine_to_twelve
    out = tmp_path / "welding.xlsx"
    write_report(open_db(report_db), out, program="Welding Technology")
    summary = openpyxl.load_workbook(out)["Summary"]
    assert summary["A1"].value == "Coverage of Grades 11–12: Welding Technology"
    assert sum(r["Standards in band"] for r in sheet_table(summary, "Subject")[:4]) == eleven_twelve


def test_report_opens_in_libreoffice(report_db, tmp_path, libreoffice):
    out = tmp_path / "welding.xlsx"
    write_report(open_db(report_db), out, program="Welding Technology")
    [pdf] = libreoffice(out, "pdf", tmp_path / "pdf")
    assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 10_000
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copy(pdf, ARTIFACTS / "report-welding.pdf")
    # LibreOffice reads the same figures back (its CSV of the first sheet).
    [csv_out] = libreoffice(out, "csv", tmp_path / "csv")
    text = csv_out.read_text(encoding="utf-8", errors="replace")
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
    # The figures beside it: per subject, then per subject and domain, as the views give them ...
    assert result.stdout.strip().endswith(
        f"; coverage figures in {tmp_path / 'welding-coverage.csv'}, decisions to re-review in "
        f"{tmp_path / 'welding-rereview.csv'}")
    figures = list(csv.DictReader(open(tmp_path / "welding-coverage.csv", encoding="utf-8-sig")))
    conn = sqlite3.connect(report_db)
    expected = [(s, "", "", str(n), str(c), str(p)) for s, n, c, p in conn.execute(
        "select subject, standards, certified, percent from program_coverage where program = 'Welding Technology' "
        "order by subject")] + [
        (s, d, "", str(n), str(c), str(p)) for s, d, n, c, p in conn.execute(
            "select subject, coalesce(nullif(domain, ''), '(no domain)'), standards, certified, percent "
            "from program_domain_coverage where program = 'Welding Technology' order by subject, domain is null, domain")]
    # ... then per cluster of each domain, as the By cluster sheet.
    clusters = [(s, d, k, str(n), str(c), str(p)) for s, d, k, n, c, p in conn.execute(
        "select subject, coalesce(nullif(domain, ''), '(no domain)'), cluster, standards, certified, percent "
        "from program_cluster_coverage where program = 'Welding Technology' and cluster is not null and cluster != '' "
        "order by subject, domain is null, domain, cluster")]
    assert len(clusters) > 10
    assert [(r["Subject"], r["Domain"], r["Cluster"], r["Standards in band"], r["Certified"], r["Coverage (%)"])
            for r in figures] == expected + clusters
    assert {(r["Program"], r["Grade band"]) for r in figures} == {("Welding Technology", "Grades 9–12")}
    rereview = list(csv.DictReader(open(tmp_path / "welding-rereview.csv", encoding="utf-8-sig")))
    assert [r["Why it needs re-review"] for r in rereview] == ["the task W.17 changed"]
    # Its strength as the xlsx writes it (the CSV wrote 'partial' where the xlsx wrote 'Partial').
    assert [r["Strength"] for r in rereview] in (["Full"], ["Partial"])


def test_report_errors(runner, report_db, tmp_path):
    result = runner.invoke(cli, ["report", str(report_db), str(tmp_path / "x.xlsx"), "--program", "Plumbing"])
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: no program named 'Plumbing'; the programs are: 'Automotive Technology'")
    result = runner.invoke(cli, ["report", str(report_db), str(tmp_path / "x.pdf"), "--program", "Carpentry"])
    assert result.exit_code == 1 and "name it .xlsx or .csv" in result.stderr
    # The library's rule, not only the command's: it wrote a file named "report" as an .xlsx, where the command refused it.
    from crosswalk.errors import CrosswalkError
    from crosswalk.report import write_report

    for name in ("x.pdf", "report"):
        with pytest.raises(CrosswalkError, match=f"cannot tell the format from '.*{name}'; name it .xlsx or .csv"):
            write_report(open_db(report_db), tmp_path / name, program="Carpentry")
        assert not (tmp_path / name).exists()


def test_program_without_decisions_still_gets_a_document(db, tmp_path):
    add_program(db, "Plumbing")
    out = tmp_path / "plumbing.xlsx"
    result = write_report(db, out, program="Plumbing")
    assert result.standards == 0
    ws = openpyxl.load_workbook(out)["Crosswalk"]
    assert "No alignment for this program has been reviewed" in str([c.value for c in ws["A"]])


def test_a_cell_longer_than_a_spreadsheet_holds_says_it_is_cut(runner, small_db, tmp_path):
    # An audit: 235 tasks accepted for one standard, their rationales joined in one Crosswalk cell of
    # 75,000 characters, which openpyxl cut at 32,767 without a word ("…Long rationa").
    from .conftest import write_csv

    db = open_db(small_db)
    add_program(db, "Welding Technology", frameworks=["Welding"], grades="9-12")
    db.close()
    rows = [["source", "target", "decision", "rationale"]] + [
        [f"W.{n}", "N-Q.1", "accept", f"Task W.{n} measures with units. " + "x" * 12_000] for n in range(1, 5)]
    assert runner.invoke(cli, ["import-decisions", str(small_db), str(write_csv(tmp_path / "d.csv", rows)),
                               "--reviewer", "alice"]).exit_code == 0
    out = tmp_path / "report.xlsx"
    assert runner.invoke(cli, ["report", str(small_db), str(out), "--program", "Welding Technology"]).exit_code == 0
    wb = openpyxl.load_workbook(out)
    cells = [c.value for r in wb["Crosswalk"].iter_rows() for c in r if isinstance(c.value, str) and len(c.value) > 30_000]
    assert len(cells) == 1 and len(cells[0]) <= 32_767
    assert cells[0].endswith("more characters; each task and rationale is on the Evidence sheet)"), cells[0][-120:]
    evidence = [c.value for r in wb["Evidence"].iter_rows() for c in r if isinstance(c.value, str) and "x" * 12_000 in c.value]
    assert len(evidence) == 4  # every rationale whole


def test_a_program_whose_decisions_are_all_outside_its_band_is_told_so(runner, small_db, tmp_path):
    # An audit: a program of grades 11-12 whose one accepted decision is to a grade 9-10 standard got
    # "No alignment for this program has been reviewed and accepted yet" on its report and its page,
    # while program list counted "1 accepted".
    import asyncio

    from crosswalk.site import make_datasette

    from .conftest import write_csv

    db = open_db(small_db)
    add_program(db, "Welding Technology", frameworks=["Welding"], grades="11-12")
    db.close()
    rows = [["source", "target", "decision"], ["W.3", "W.9-10.2", "accept"]]
    assert runner.invoke(cli, ["import-decisions", str(small_db), str(write_csv(tmp_path / "d.csv", rows)),
                               "--reviewer", "alice"]).exit_code == 0
    out = tmp_path / "report.xlsx"
    result = runner.invoke(cli, ["report", str(small_db), str(out), "--program", "Welding Technology"])
    assert result.exit_code == 0 and result.stdout.rstrip().endswith(
        "; 1 accepted decision to standards outside Grades 11–12 (not counted)"), result.stdout
    said = ("No accepted alignment is to a standard of this program's grade band ({}): 1 accepted alignment of its "
            "credentials is to standards outside it, and certify nothing for it.")
    cells = [c.value for r in openpyxl.load_workbook(out)["Crosswalk"].iter_rows() for c in r]
    assert said.format("Grades 11–12") in cells

    async def page():
        return (await make_datasette(small_db, pages=True).client.get("/program/1")).text
    assert said.format("Grades 11–12").replace("'", "&#39;") in asyncio.run(page())
