"""A program's grade band: `program list`, the signed report and the site count the same standards certified,
those of the band (the program_coverage view), and the report lists no standard outside it."""

import asyncio
import csv
import pathlib
import re

import openpyxl
import sqlite_utils
import yaml

from crosswalk.db import open_db
from crosswalk.importer import import_file
from crosswalk.matching import match
from crosswalk.programs import add_program, list_programs
from crosswalk.publish import publish
from crosswalk.report import write_report
from crosswalk.review import decide
from crosswalk.site import make_datasette


def accept(db, task, standard, strength):
    """Accept the suggestion of the academic ``standard`` for the Welding ``task`` (by their codes)."""
    [alignment] = db.query(
        "select a.id from alignments a join standards s on s.id = a.source_id join standards t on t.id = a.target_id "
        "where s.code = ? and t.code = ?", [task, standard])
    decide(db, alignment["id"], "accept", strength=strength, rationale=f"{task} teaches {standard}",
           reviewer="A. Rivera")


def site_counts(path, program_id):
    """What the site says of the program: its home page row and its own page, as (certified, of in band)."""
    ds = make_datasette(path, pages=True)

    async def get(url):
        response = await ds.client.get(url)
        assert response.status_code == 200, url
        return response.text

    async def run():
        return await get("/"), await get(f"/program/{program_id}")
    home, page = asyncio.run(run())
    row = re.search(r'<td class="num">(\d+) of (\d+)</td>', home)
    stats = re.search(r"<strong>(\d+)</strong> academic standards? (?:certified|accepted so far), of the (\d+) of",
                      page)
    assert row and stats, (home, page)
    return tuple(map(int, row.groups())), tuple(map(int, stats.groups()))


def report_figures(db, out):
    """The report's summary line, its header cell, its Crosswalk and Evidence rows and its Summary's certified."""
    result = write_report(db, out, program="Welding Technology")
    wb = openpyxl.load_workbook(out)
    rows = list(wb["Crosswalk"].iter_rows(values_only=True))
    block = {r[0]: r[1] for r in rows[:16] if r[0]}
    # (a draft's: accepted so far; an approved crosswalk's: certified)
    header = block.get("Academic standards certified") or block["Academic standards accepted so far"]
    start = next(i for i, r in enumerate(rows) if r[0] == "Academic standard")
    listed = [r[0] for r in rows[start + 1:] if r[0]]
    evidence = [r[3] for r in list(wb["Evidence"].iter_rows(values_only=True))[1:] if r[0]]
    summary = list(wb["Summary"].iter_rows(values_only=True))
    start = next(i for i, r in enumerate(summary) if r[0] == "Subject")
    end = next(i for i in range(start + 1, len(summary)) if summary[i][0] is None)
    by_subject = [dict(zip(summary[start], r)) for r in summary[start + 1:end]]  # the table by subject
    return result, header, listed, evidence, sum(r.get("Certified", r.get("Accepted so far")) for r in by_subject)


def test_program_list_report_and_site_count_the_standards_of_the_band(small_db, tmp_path):
    db = open_db(small_db)
    pid = add_program(db, "Welding Technology", frameworks=["Welding"], grades="11-12").id
    accept(db, "W.1", "N-Q.1", "full")        # grades 9-12: in the band
    accept(db, "W.4", "HS-PS3-4", "partial")  # HS (9-12): in the band
    accept(db, "W.3", "W.9-10.2", "full")     # grades 9-10: certified, but outside 11-12
    accept(db, "W.4", "W.9-10.2", "partial")
    # The band's standards: N-Q.1, G-MG.1 and HS-PS3-4 (W.9-10.2 is 9-10, 3.OA.1 is grade 3); two certified.
    in_band, certified = next(db.query(
        "select sum(standards), sum(certified) from program_coverage where program_id = ?", [pid])).values()
    assert (certified, in_band) == (2, 3)

    [listed] = list_programs(db)
    assert listed["standards_certified"] == certified

    result, header, rows, evidence, summary_certified = report_figures(db, tmp_path / "report.xlsx")
    assert result.summary() == (
        f"Wrote the Welding Technology crosswalk (draft) to {tmp_path / 'report.xlsx'}: 2 academic standards of "
        "Grades 11–12 accepted so far by 2 reviewed alignments (Math 1/2, Science 1/1); they certify once the "
        "crosswalk is approved; 2 accepted decisions to standards outside Grades 11–12 (not counted)")
    # (a draft's: its committee's work so far, as program list and the site's program page say)
    assert header == "2 of 3 in Grades 11–12; they certify once the crosswalk is approved"
    assert summary_certified == certified
    summary_titles = next(r for r in openpyxl.load_workbook(tmp_path / "report.xlsx")["Summary"].iter_rows(
        values_only=True) if r[0] == "Subject")
    assert summary_titles[2:5] == ("Accepted in full", "Accepted in part", "Accepted so far")  # (not "certified")
    assert sorted(rows) == sorted(evidence) == ["HS-PS3-4", "N-Q.1"]  # W.9-10.2 is not in the band's document
    write_report(db, tmp_path / "report.csv", program="Welding Technology", format="csv")
    with open(tmp_path / "report.csv", encoding="utf-8-sig") as fh:
        assert sorted(r["Academic standard"] for r in csv.DictReader(fh)) == ["HS-PS3-4", "N-Q.1"]
    db.close()

    assert site_counts(small_db, pid) == ((certified, in_band), (certified, in_band))


def test_widening_the_band_counts_the_standard_it_now_takes_in(small_db, tmp_path):
    db = open_db(small_db)
    pid = add_program(db, "Welding Technology", frameworks=["Welding"], grades="11-12").id
    accept(db, "W.1", "N-Q.1", "full")
    accept(db, "W.3", "W.9-10.2", "full")
    assert list_programs(db)[0]["standards_certified"] == 1
    add_program(db, "Welding Technology", grades="9-12")
    assert list_programs(db)[0]["standards_certified"] == 2
    result, header, rows, evidence, summary_certified = report_figures(db, tmp_path / "report.xlsx")
    assert (result.standards, result.alignments, header, summary_certified) == (
        2, 2, "2 of 4 in Grades 9–12; they certify once the crosswalk is approved", 2)
    assert sorted(rows) == sorted(evidence) == ["N-Q.1", "W.9-10.2"]
    db.close()
    assert site_counts(small_db, pid) == ((2, 4), (2, 4))


def test_what_a_program_certifies_and_the_gaps_are_the_bands_and_only_current_decisions(
        small_db, tmp_path, academic_csv):
    """The views the site's tables and the named queries read say what the program's page says: a
    program of grades 11-12 certifies no grade 9-10 standard (program_certifies, the
    what_a_program_certifies query), which stays a gap of the band that takes it in; and a decision
    flagged for re-review (its standard's statement changed) certifies nothing, in standard_evidence
    (the evidence_for_a_standard query) as on the program's page, in the full database and the public copy."""
    queries = yaml.safe_load(open(pathlib.Path(__file__).parents[1] / "metadata.yml"))["databases"]["crosswalk"]["queries"]
    db = open_db(small_db)
    add_program(db, "Welding Technology", frameworks=["Welding"], grades="11-12")
    add_program(db, "Welding Foundations", frameworks=["Welding"], grades="9-10")
    accept(db, "W.1", "N-Q.1", "full")      # grades 9-12: in both bands
    accept(db, "W.3", "W.9-10.2", "full")   # grades 9-10: Foundations' band only
    accept(db, "W.4", "HS-PS3-4", "partial")
    text = academic_csv.read_text(encoding="utf-8")
    assert "Plan an investigation of the transfer" in text
    changed = tmp_path / "academic-edited.csv"
    changed.write_text(text.replace("Plan an investigation of the transfer", "Plan and carry out an investigation of "
                                    "the transfer"), encoding="utf-8")
    assert import_file(db, changed, framework="Academic", kind="academic").flagged == 1  # HS-PS3-4's decision
    db.conn.commit()
    db.close()
    publish(small_db, tmp_path / "public")
    for path in (small_db, tmp_path / "public" / "crosswalk.db"):
        db = sqlite_utils.Database(path)
        certifies = {(r["program"], r["standard_code"]) for r in db.query(
            queries["what_a_program_certifies"]["sql"], {"program": "Welding"})}
        assert certifies == {("Welding Technology", "N-Q.1"), ("Welding Foundations", "N-Q.1"),
                             ("Welding Foundations", "W.9-10.2")}
        assert {r["standard_code"] for r in db.query("select * from program_certifies")} == {"N-Q.1", "W.9-10.2"}
        evidence = {code: [r["cte_code"] for r in db.query(queries["evidence_for_a_standard"]["sql"], {"code": code})]
                    for code in ("N-Q.1", "W.9-10.2", "HS-PS3-4")}
        assert evidence == {"N-Q.1": ["W.1"], "W.9-10.2": ["W.3"], "HS-PS3-4": []}
        gaps = {r["standard_code"] for r in db.query("select standard_code from uncovered_standards")}
        assert "HS-PS3-4" in gaps and "N-Q.1" not in gaps and "W.9-10.2" not in gaps
        db.close()


def test_suggestions_awaiting_review_are_counted_as_the_review_page_lists_them(small_db, tmp_path):
    """A suggestion someone commented on is kept, flagged, when its standard is retired; the review
    page does not list it (its standard is gone), and program list and the program's page counted it
    as awaiting review all the same (13 against 12)."""
    from crosswalk.review import add_comment
    from crosswalk.working_plugin import AWAITING_COUNTS

    db = open_db(small_db)
    pid = add_program(db, "Welding Technology", frameworks=["Welding"], grades="9-12").id
    [aid] = [r["id"] for r in db.query(
        "select a.id from alignments a join standards t on t.id = a.target_id where t.code = 'HS-PS3-4' limit 1")]
    add_comment(db, aid, "Ask the science department", reviewer="A. Rivera", via="cli")
    kept = [r for r in db.query("select code, statement, grade, subject from standards "
                                "where framework_id = (select id from frameworks where name = 'Academic') "
                                "and code != 'HS-PS3-4'")]
    import_file(db, _csv(tmp_path / "fewer.csv", kept), framework="Academic", kind="academic")
    assert db.execute("select status from alignments where id = ?", [aid]).fetchone()[0] == "suggested"
    listed = sum(r["n"] for r in db.query(AWAITING_COUNTS, {"p": pid, "subject": None}))
    [row] = list_programs(db)
    assert row["suggested"] == listed == db.execute(
        "select count(*) from alignments a join standards t on t.id = a.target_id "
        "where a.status = 'suggested' and t.status = 'active'").fetchone()[0]
    db.close()


def _csv(path, rows):
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["code", "statement", "grade", "subject"])
        writer.writerows([list(r.values()) for r in rows])
    return path


def _both_flagged(path):
    """A program of grades 11-12 with two accepted decisions flagged for re-review: one on a standard
    of its band (N-Q.1, 9-12), one outside it (W.9-10.2, 9-10)."""
    db = open_db(path)
    pid = add_program(db, "Welding Technology", frameworks=["Welding"], grades="11-12").id
    accept(db, "W.1", "N-Q.1", "full")
    accept(db, "W.3", "W.9-10.2", "full")
    db.execute("update alignments set needs_review = 1, needs_review_reason = 'the task changed' "
               "where status = 'accepted'")
    db.conn.commit()
    return db, pid


def test_a_programs_decisions_to_decide_again_are_those_of_its_band(small_db, tmp_path):
    """A decision flagged for re-review on a standard outside the program's band could never certify
    anything for it: it was listed and counted among the program's decisions to re-review."""
    db, pid = _both_flagged(small_db)
    listed = [r["standard_code"] for r in db.query("select standard_code from program_rereview where program_id = ?",
                                                   [pid])]
    assert listed == ["N-Q.1"]
    assert list_programs(db)[0]["needs_rereview"] == 1
    db.close()


def test_a_programs_review_queue_lists_the_decisions_to_re_review_it_counts(small_db):
    """A program's queue (/-/review?program=) listed first, as to re-review, decisions flagged on
    standards outside its band, which program list and its page do not count (nor could they ever
    certify for it); the whole queue still lists them."""
    import sqlite3

    from crosswalk.review_plugin import queue_sql

    db, pid = _both_flagged(small_db)
    counted = list_programs(db)[0]["needs_rereview"]
    db.close()
    conn = sqlite3.connect(small_db)
    flagged = ("select t.code from alignments a join standards t on t.id = a.target_id where a.id in ({}) "
               "and a.needs_review = 1 order by t.code")

    def listed(program):
        ids = [r[0] for r in conn.execute(queue_sql(bool(program)), {"program": program, "subject": "",
                                                                    "limit": 100, "offset": 0})]
        return [r[0] for r in conn.execute(flagged.format(",".join(map(str, ids))))]

    assert listed("Welding Technology") == ["N-Q.1"] and counted == 1 and pid
    assert listed("") == ["N-Q.1", "W.9-10.2"]


def test_the_named_queries_list_grades_in_grade_order_not_as_text(tmp_path):
    # Grades as published ("K", "03", "09,10", "9-12") sort as text with K after 12: the gaps and
    # what a program certifies are listed from the lowest grade up.
    queries = yaml.safe_load((pathlib.Path(__file__).parent.parent / "metadata.yml").read_text())[
        "databases"]["crosswalk"]["queries"]
    db = open_db(tmp_path / "grades.db")
    import_file(db, _csv(tmp_path / "tasks.csv", [{"code": "T.1", "statement": "Measure a board.", "grade": "", "subject": ""}]),
                framework="Shop", kind="industry")
    grades = {"K.1": "K", "3.1": "03", "9.1": "09,10", "9.2": "9-12", "11.1": "11,12"}
    import_file(db, _csv(tmp_path / "academic.csv", [
        {"code": code, "statement": f"Standard {code} on measuring.", "grade": grade, "subject": "Math"}
        for code, grade in grades.items()]), framework="Academic", kind="academic")
    add_program(db, "Shop", frameworks=["Shop"], grades="K-12")
    db.conn.commit()
    gaps = [(r["subject"], r["grade"]) for r in db.query(queries["gaps_by_subject_and_grade"]["sql"])]
    assert gaps == [("Math", "K"), ("Math", "03"), ("Math", "09,10"), ("Math", "9-12"), ("Math", "11,12")]
    match(db, source="Shop", target="Academic", top=5, use_embeddings=False)
    for code in grades:
        accept(db, "T.1", code, "full")
    certified = [r["standard_code"] for r in db.query(queries["what_a_program_certifies"]["sql"], {"program": "Shop"})]
    assert certified == ["K.1", "3.1", "9.1", "9.2", "11.1"]
