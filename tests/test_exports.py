"""crosswalk export: SSSOM TSV (header and column set), CSV, and CASE 1.0 through crosswalk.case."""

import csv
import json
import pathlib
import shutil
import sqlite3

import openpyxl
import pytest

from crosswalk.cells import neutralise, write_cell
from crosswalk.cli import cli
from crosswalk.db import open_db
from crosswalk.errors import CrosswalkError
from crosswalk.exports import SSSOM_COLUMNS, export, read_sssom
from crosswalk.report import write_report

from .conftest import validate_case

REQUIRED_SSSOM = ["subject_id", "subject_label", "predicate_id", "object_id", "object_label",
                  "mapping_justification", "confidence", "author_id", "mapping_date"]


def test_sssom_export_of_the_demo(runner, reviewed_demo, tmp_path):
    out = tmp_path / "crosswalk.sssom.tsv"
    result = runner.invoke(cli, ["export", str(reviewed_demo), str(out), "--format", "sssom",
                                 "--base-url", "https://crosswalk.example.org"])
    assert result.exit_code == 0, result.output
    # The demo's 18 accepted decisions, and the 32 alignments the session accepts.
    assert result.stdout.strip() == (f"Exported 50 alignments as SSSOM to {out} (4 rejected alignments not exported: "
                                     "an export holds what was accepted)")
    header, rows = read_sssom(out)
    assert header["curie_map"]["std"] == "https://crosswalk.example.org/standard/"
    assert header["mapping_set_id"] == "https://crosswalk.example.org/crosswalk.sssom.tsv"
    # No license was stated: SSSOM's "unspecified", not a license nobody chose (the labels quote CCSS text).
    assert header["license"] == "https://w3id.org/sssom/license/unspecified"
    licensed = tmp_path / "licensed.sssom.tsv"
    assert runner.invoke(cli, ["export", str(reviewed_demo), str(licensed), "--license",
                               "https://creativecommons.org/licenses/by/4.0/"]).exit_code == 0
    assert read_sssom(licensed)[0]["license"] == "https://creativecommons.org/licenses/by/4.0/"
    # One mapping set id per selection (every export named the same set).
    for extra, expected in ((["--program", "welding technology"], "crosswalk-Welding_Technology.sssom.tsv"),
                            (["--include-suggestions"], "crosswalk-with-suggestions.sssom.tsv")):
        one = tmp_path / "one.sssom.tsv"
        assert runner.invoke(cli, ["export", str(reviewed_demo), str(one), "--base-url", "https://crosswalk.example.org",
                                   *extra, "--force"]).exit_code == 0
        assert read_sssom(one)[0]["mapping_set_id"] == f"https://crosswalk.example.org/{expected}"
    refused = runner.invoke(cli, ["export", str(reviewed_demo), str(tmp_path / "x.csv"), "--license", "https://x"])
    assert refused.exit_code == 1 and refused.stderr == (
        "Error: --license applies to --format sssom only (the mapping set's license)\n")
    refused = runner.invoke(cli, ["export", str(reviewed_demo), str(tmp_path / "x.csv"), "--base-url", "https://x.org/"])
    assert refused.exit_code == 1 and refused.stderr == (
        "Error: --base-url applies to --format sssom and case only (their identifiers); "
        "a CSV export names standards by their codes\n") and not (tmp_path / "x.csv").exists()
    assert set(REQUIRED_SSSOM) <= set(rows[0]) and list(rows[0]) == SSSOM_COLUMNS
    conn = sqlite3.connect(reviewed_demo)
    accepted = {(f"std:{s}", f"std:{t}"): (strength, reviewer, at) for s, t, strength, reviewer, at in conn.execute(
        "select source_id, target_id, strength, reviewer, reviewed_at from alignments where status = 'accepted'")}
    assert len(rows) == len(accepted) == 50
    for row in rows:
        strength, reviewer, reviewed_at = accepted[(row["subject_id"], row["object_id"])]
        assert row["predicate_id"] == {"full": "skos:exactMatch", "partial": "skos:closeMatch"}[strength]
        assert row["mapping_justification"] == "semapv:ManualMappingCuration"
        assert row["author_label"] == reviewer and row["author_id"].startswith("reviewer:")
        assert row["mapping_date"] == reviewed_at[:10] and float(row["confidence"]) == 1.0
        # Identifiers and sources are CURIEs the header maps (SSSOM refuses a framework's plain name
        # as subject_source: sssom-py's validator dropped every mapping).
        for column in ("subject_id", "object_id", "subject_source", "object_source"):
            prefix, _, local = row[column].partition(":")
            assert prefix in header["curie_map"] and local.isdigit(), column
    frameworks = dict(conn.execute("select 'framework:' || id, name from frameworks"))
    for row in rows:
        for column in ("subject_source", "object_source"):
            assert f" {row[column]}: {frameworks[row[column]]}." in header["mapping_set_description"]
        assert "\t" not in row["subject_label"] and "\n" not in row["object_label"]


def test_sssom_with_suggestions_marks_them_unreviewed(reviewed_demo, tmp_path):
    out = tmp_path / "all.sssom.tsv"
    result = export(open_db(reviewed_demo), out, "sssom", program="Welding Technology", include_suggestions=True)
    _, rows = read_sssom(out)
    lexical = [r for r in rows if r["mapping_justification"] == "semapv:LexicalMatching"]
    assert len(rows) == result.alignments and len(lexical) == len(rows) - 6  # 6 accepted for Welding
    assert all(r["predicate_id"] == "skos:relatedMatch" and r["author_id"] == "" for r in lexical)
    assert all(0 <= float(r["confidence"]) <= 1 for r in lexical)


def test_csv_export(runner, reviewed_demo, tmp_path):
    out = tmp_path / "welding.csv"
    result = runner.invoke(cli, ["export", str(reviewed_demo), str(out), "--format", "csv",
                                 "--program", "Welding Technology"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(open(out, encoding="utf-8-sig")))
    assert len(rows) == 6
    assert {r["status"] for r in rows} == {"accepted"} and {r["programs"] for r in rows} == {"Welding Technology"}
    assert all(r["reviewer"] and r["rationale"] for r in rows)


def test_neutralise():
    assert neutralise("=1+1") == "'=1+1"
    assert neutralise("+33") == "'+33" and neutralise("-x") == "'-x" and neutralise("@SUM(A1)") == "'@SUM(A1)"
    assert neutralise("|calc") == "'|calc" and neutralise("\t=1") == "'\t=1"
    assert neutralise("Measure angles") == "Measure angles" and neutralise(3) == 3 and neutralise(None) is None


def test_formula_like_text_stays_text_in_xlsx(tmp_path):
    sheet = openpyxl.Workbook().active
    for row, value in enumerate(["=1+1", "|calc", "@SUM(A1)", "#N/A", "Measure angles", 3], start=1):
        write_cell(sheet.cell(row=row, column=1), value)
    sheet.parent.save(tmp_path / "x.xlsx")
    cells = [c for (c,) in openpyxl.load_workbook(tmp_path / "x.xlsx").active.iter_rows()]
    assert [c.value for c in cells] == ["=1+1", "|calc", "@SUM(A1)", "#N/A", "Measure angles", 3]
    assert [c.data_type for c in cells] == ["s", "s", "s", "s", "s", "n"]
    assert [bool(c.quotePrefix) for c in cells] == [True, True, True, False, False, False]


def test_export_format_from_the_file_name(runner, reviewed_demo, tmp_path):
    for name, first in (("x.csv", "programs,industry_framework"), ("x.sssom.tsv", "# curie_map:"), ("x.JSON", "{")):
        result = runner.invoke(cli, ["export", str(reviewed_demo), str(tmp_path / name)])
        assert result.exit_code == 0, result.output
        assert (tmp_path / name).read_text(encoding="utf-8-sig").lstrip().startswith(first), name
    result = runner.invoke(cli, ["export", str(reviewed_demo), str(tmp_path / "x.txt")])
    assert result.exit_code == 1 and "cannot tell the format from" in result.stderr and not (tmp_path / "x.txt").exists()
    with pytest.raises(CrosswalkError, match="cannot tell the format from '.*x.txt'"):  # the library's rule
        export(open_db(reviewed_demo), tmp_path / "x.txt")


def test_export_errors(runner, reviewed_demo, tmp_path):
    result = runner.invoke(cli, ["export", str(reviewed_demo), str(tmp_path / "x.tsv"), "--format", "sssom",
                                 "--program", "Plumbing"])
    assert result.exit_code == 1 and result.stderr.startswith("Error: no program named 'Plumbing'")
    result = runner.invoke(cli, ["export", str(reviewed_demo), str(tmp_path / "x.tsv"), "--format", "sssom",
                                 "--framework", "Welding"])
    assert result.exit_code == 1 and "--framework applies to --format case only" in result.stderr


def test_case_export_validates_against_the_official_schema(runner, reviewed_demo, tmp_path):
    out = tmp_path / "crosswalk.json"
    result = runner.invoke(cli, ["export", str(reviewed_demo), str(out), "--format", "case"])
    assert result.exit_code == 0, result.output
    package = json.loads(out.read_text())
    validate_case(package)
    types = [a["associationType"] for a in package["CFAssociations"]]
    assert types.count("exactMatchOf") + types.count("isRelatedTo") == 50


FORMULA = '=HYPERLINK("http://evil.example","x")'


def formula_cells(path):
    """The cells of an xlsx that are formulas."""
    workbook = openpyxl.load_workbook(path)
    return [(ws.title, c.coordinate, c.value) for ws in workbook for row in ws.iter_rows() for c in row
            if c.data_type == "f"]


def test_every_text_export_opens_in_libreoffice_without_a_formula(reviewed_demo, tmp_path, libreoffice):
    # A standard's code, a rationale and a reviewer's name that a spreadsheet would run (issue 16).
    path = tmp_path / "evil.db"
    shutil.copy(reviewed_demo, path)
    conn = sqlite3.connect(path)
    target = """(select a.id from alignments a join standards s on s.id = a.source_id
        join program_frameworks pf on pf.framework_id = s.framework_id join programs p on p.id = pf.program_id
        where p.name = 'Welding Technology' and a.status = 'accepted' order by a.id limit 1)"""
    conn.execute(f"update alignments set rationale = ?, reviewer = ? where id = {target}", [FORMULA, "@SUM(1+1)"])
    conn.execute(f"update standards set code = ? where id = (select source_id from alignments where id = {target})",
                 ["=1+1"])
    conn.commit()
    conn.close()
    db = open_db(path)
    export(db, tmp_path / "crosswalk.sssom.tsv", "sssom")
    export(db, tmp_path / "crosswalk.csv", "csv")
    write_report(db, tmp_path / "report.csv", program="Welding Technology", format="csv")
    texts = {name: (tmp_path / name).read_text(encoding="utf-8-sig")
             for name in ("crosswalk.sssom.tsv", "crosswalk.csv", "report.csv")}
    for name, text in texts.items():  # the evil text is there, as text
        assert "'=1+1" in text and "HYPERLINK" in text, name
    out = tmp_path / "xlsx"
    workbooks = {}  # each exported file -> LibreOffice's xlsx of it
    for infilter, names in (("CSV:9,34,76", ["crosswalk.sssom.tsv"]), ("CSV:44,34,76", ["crosswalk.csv", "report.csv"])):
        workbooks.update(zip(names, libreoffice([tmp_path / n for n in names], "xlsx", out, infilter=infilter)))
    assert sorted(workbooks) == sorted(texts)
    for name, workbook in workbooks.items():
        assert formula_cells(workbook) == [], name
        values = [c.value for ws in openpyxl.load_workbook(workbook) for row in ws.iter_rows() for c in row]
        assert any("=1+1" in v for v in values if isinstance(v, str)), name  # shown as text


def test_a_file_crosswalk_did_not_write_is_not_written_over(runner, reviewed_demo, tmp_path):
    """export, report and review export replace an earlier file of their own kind (a re-run); any
    other file only with --force; the database (or any SQLite file) never."""
    database = tmp_path / "district.db"
    shutil.copy(reviewed_demo, database)
    tasks = tmp_path / "welding-tasks.xlsx"  # a director's own spreadsheet, named as OUT by mistake
    openpyxl.Workbook().save(tasks)
    standards = tmp_path / "ccss_math.csv"
    standards.write_text("code,statement\nHSN-Q.A.1,Use units as a way to understand problems\n", encoding="utf-8")
    other_db = tmp_path / "notes.db"
    with sqlite3.connect(other_db) as conn:
        conn.execute("create table notes (line text)")
    conn.close()
    welding = ["--program", "Welding Technology"]
    # OUT -> the command (its words before and after DATABASE OUT), and what it writes, in words
    commands = {
        "x.csv": (["export"], ["--format", "csv"], "a CSV export"),
        "x.tsv": (["export"], ["--format", "sssom"], "an SSSOM export"),
        "x.json": (["export"], ["--format", "case"], "a CASE export"),
        "r.xlsx": (["report"], [*welding, "--format", "xlsx"], "a report"),
        "r.csv": (["report"], [*welding, "--format", "csv"], "a CSV report"),
        "q.xlsx": (["review", "export"], welding, "a review workbook"),
    }

    def write(name, out, *more):
        before, after, _ = commands[name]
        return runner.invoke(cli, [*before, str(database), str(out), *after, *more])

    for name in commands:  # a first run, then a re-run, which replaces its own file
        for _ in range(2):
            result = write(name, tmp_path / name)
            assert result.exit_code == 0, (name, result.output)
    before = {p: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    for name, (_, _, what) in commands.items():
        # Over the other commands' files of the same ending, and a director's own.
        suffix = pathlib.Path(name).suffix
        for existing in [p for p in [*before, tasks, standards] if p.suffix == suffix and p.name != name]:
            result = write(name, existing)
            assert result.exit_code == 1, (name, existing.name, result.output)
            assert result.stderr == (f"Error: {existing} already exists and is not {what} that crosswalk wrote; "
                                     "name another file, or use --force to replace it\n"), result.stderr
        if name == "q.xlsx":  # a review workbook is an .xlsx file: a database is refused by its name
            continue
        for existing, error in ((database, f"{database} is the crosswalk's database; name another file to write"),
                                (other_db, f"{other_db} is a database; crosswalk does not write over a database")):
            for force in ([], ["--force"]):
                result = write(name, existing, *force)
                assert result.exit_code == 1 and result.stderr == f"Error: {error}\n", (name, result.output)
    assert {p: p.read_bytes() for p in before} == before
    # A CSV report's companions are checked too: with a director's file beside it, nothing is written.
    companion = tmp_path / "new-rereview.csv"
    companion.write_text("my notes\n", encoding="utf-8")
    result = write("r.csv", tmp_path / "new.csv")
    assert result.exit_code == 1 and result.stderr.startswith(f"Error: {companion} already exists"), result.output
    assert not (tmp_path / "new.csv").exists() and companion.read_text(encoding="utf-8") == "my notes\n"
    # An earlier file of the same kind by an older crosswalk, whose CSV header had fewer columns, is replaced;
    # so is a single framework's CASE package (its document's creator is the framework's publisher).
    old_header = "\ufeffProgram,CTE code,CTE task,Credential\nWelding Technology,W.1,Weld,Welding\n"
    for name in ("old.csv", "old-coverage.csv", "old-rereview.csv"):
        (tmp_path / name).write_text(old_header if name == "old-rereview.csv" else (tmp_path / name.replace(
            "old", "r")).read_text(encoding="utf-8-sig"), encoding="utf-8")
    assert write("r.csv", tmp_path / "old.csv").exit_code == 0
    assert (tmp_path / "old-rereview.csv").read_text(encoding="utf-8-sig").splitlines()[0].endswith(",Alignment id")
    math = ["--framework", "Maine Learning Results: Mathematics (CCSS)"]
    for _ in range(2):
        result = write("x.json", tmp_path / "one.json", *math)
        assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "one.json").read_text(encoding="utf-8"))["CFDocument"]["creator"] != "crosswalk"
    # A workbook, or a CSV whose lines end in a lone CR, named as a CSV's OUT: one error, no traceback.
    (tmp_path / "mac.csv").write_bytes(b"a,b\rc,d\r")
    for existing in (tasks, tmp_path / "mac.csv"):
        for name in ("x.csv", "r.csv"):
            result = write(name, existing, "--format", "csv") if name == "x.csv" else write(name, existing)
            assert result.exit_code == 1 and result.stderr.startswith(f"Error: {existing} already exists"), \
                result.output
    # With --force, a file crosswalk did not write is replaced.
    assert write("x.csv", standards, "--force").exit_code == 0
    assert standards.read_text(encoding="utf-8-sig").startswith("programs,industry_framework,")
    assert write("q.xlsx", tasks, "--force").exit_code == 0
    replaced = openpyxl.load_workbook(tasks)
    assert replaced.sheetnames == ["About this workbook", "Suggestions"] and replaced.properties.creator == "crosswalk"


def test_a_decision_to_re_review_is_left_out_of_every_export_and_said_so(small_db, tmp_path, runner):
    """A decision whose statement changed since certifies nothing until decided again (program list,
    the report and the sites count so); every export presented it as a current, reviewed alignment."""
    db = str(small_db)
    for alignment in (1, 2):
        assert runner.invoke(cli, ["decide", db, str(alignment), "accept", "--reviewer", "alice"]).exit_code == 0
    with sqlite3.connect(db) as conn:
        conn.execute("update alignments set needs_review = 1, needs_review_reason = 'the task changed' where id = 2")
    conn.close()
    said = "(1 accepted alignment to re-review left out: it certifies nothing until decided again)"
    for name in ("x.csv", "x.sssom.tsv"):
        result = runner.invoke(cli, ["export", db, str(tmp_path / name)])
        assert result.exit_code == 0 and result.stdout.strip() == (
            f"Exported 1 alignment as {'CSV' if name.endswith('csv') else 'SSSOM'} to {tmp_path / name} {said}")
    with open(tmp_path / "x.csv", encoding="utf-8-sig") as fh:
        assert [row["alignment_id"] for row in csv.DictReader(fh)] == ["1"]
    assert [m["subject_id"] for m in read_sssom(tmp_path / "x.sssom.tsv")[1]] == [
        f"std:{sqlite3.connect(db).execute('select source_id from alignments where id = 1').fetchone()[0]}"]
    result = runner.invoke(cli, ["export", db, str(tmp_path / "x.json")])
    assert result.exit_code == 0
    package = json.loads((tmp_path / "x.json").read_text(encoding="utf-8"))
    alignments = [a for a in package["CFAssociations"] if a["associationType"] != "isChildOf"]
    assert len(alignments) == 1 and result.stdout.startswith("Exported 1 alignment as CASE")
    # Decided again: exported again.
    assert runner.invoke(cli, ["decide", db, "2", "accept", "--reviewer", "bob"]).exit_code == 0
    result = runner.invoke(cli, ["export", db, str(tmp_path / "x.csv")])
    assert result.stdout.strip() == f"Exported 2 alignments as CSV to {tmp_path / 'x.csv'}"


def test_an_sssom_license_or_base_url_that_is_not_a_url_is_refused(small_db, tmp_path, runner):
    # sssom-py refuses the file: "'CC BY 4.0': is not a valid URI" (license and mapping_set_id are URIs).
    db = str(small_db)
    out = tmp_path / "x.sssom.tsv"
    for option, value, said in (
            ("--license", "CC BY 4.0", "Error: --license is the license's address (a URL such as "
                                       "https://creativecommons.org/licenses/by/4.0/), not 'CC BY 4.0'\n"),
            ("--base-url", "not a url", "Error: --base-url is the published site's address (https://...), "
                                        "not 'not a url'\n")):
        result = runner.invoke(cli, ["export", db, str(out), option, value])
        assert (result.exit_code, result.stderr) == (1, said) and not out.exists()
    result = runner.invoke(cli, ["export", db, str(out), "--license", "https://creativecommons.org/licenses/by/4.0/"])
    assert result.exit_code == 0 and read_sssom(out)[0]["license"] == "https://creativecommons.org/licenses/by/4.0/"


def test_a_case_export_refuses_a_license_and_a_base_url_that_is_not_a_url(small_db, tmp_path, runner):
    """As SSSOM does: a CASE package has no license field to write --license to (it was ignored, exit
    0), and a --base-url of 'not a url' wrote identifiers such as 'not a url/CFItems/...'."""
    db = str(small_db)
    out = tmp_path / "x.json"
    for option, value, said in (
            ("--license", "https://creativecommons.org/licenses/by/4.0/",
             "Error: --license applies to --format sssom only (the mapping set's license)\n"),
            ("--base-url", "not a url", "Error: --base-url is the published site's address (https://...), "
                                        "not 'not a url'\n")):
        result = runner.invoke(cli, ["export", db, str(out), option, value])
        assert (result.exit_code, result.stderr) == (1, said) and not out.exists()


def test_a_framework_named_twice_is_exported_once_and_labels_are_one_line(small_db, tmp_path, runner):
    db = str(small_db)
    assert runner.invoke(cli, ["decide", db, "1", "accept", "--reviewer", "Dana\nLee"]).exit_code == 0
    framework = sqlite3.connect(db).execute("select name from frameworks where kind = 'industry'").fetchone()[0]
    out = tmp_path / "x.json"
    result = runner.invoke(cli, ["export", db, str(out), "--framework", framework, "--framework", framework.upper()])
    assert result.exit_code == 0, result.output
    package = json.loads(out.read_text(encoding="utf-8"))
    identifiers = [item["identifier"] for item in package["CFItems"]]
    assert len(identifiers) == len(set(identifiers)) == sqlite3.connect(db).execute(
        "select count(*) from standards s join frameworks f on f.id = s.framework_id where f.name = ?",
        [framework]).fetchone()[0]
    assert runner.invoke(cli, ["import-case", str(tmp_path / "back.db"), str(out)]).exit_code == 0
    sssom = tmp_path / "x.sssom.tsv"
    assert runner.invoke(cli, ["export", db, str(sssom)]).exit_code == 0
    assert [m["author_label"] for m in read_sssom(sssom)[1]] == ["Dana Lee"]


def test_a_write_that_fails_leaves_the_file_that_was_there(tmp_path):
    """Every export, report and review workbook is written beside its OUT and put in its place
    whole (outputs.replacing): a failure half way (a full disk, Ctrl+C) left the file cut short."""
    from crosswalk.outputs import replacing

    out = tmp_path / "welding-review.xlsx"
    out.write_bytes(b"the committee's decisions")
    with pytest.raises(KeyboardInterrupt):
        with replacing(out) as part:
            part.write_bytes(b"half a workbo")
            raise KeyboardInterrupt
    assert out.read_bytes() == b"the committee's decisions"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["welding-review.xlsx"]  # no part file left
    with replacing(out) as part:
        part.write_bytes(b"the new workbook")
    assert out.read_bytes() == b"the new workbook"
    # A link stays a link, to the file written; what is not a regular file is written in place.
    (tmp_path / "link.xlsx").symlink_to(out)
    with replacing(tmp_path / "link.xlsx") as part:
        part.write_bytes(b"through the link")
    assert (tmp_path / "link.xlsx").is_symlink() and out.read_bytes() == b"through the link"
    with replacing("/dev/null") as part:
        assert str(part) == "/dev/null"


def test_exports_and_reports_are_written_whole_with_no_part_file(runner, reviewed_demo, tmp_path):
    for args in (["export", str(reviewed_demo), str(tmp_path / "a.csv")],
                 ["export", str(reviewed_demo), str(tmp_path / "a.tsv")],
                 ["export", str(reviewed_demo), str(tmp_path / "a.json")],
                 ["report", str(reviewed_demo), str(tmp_path / "r.xlsx"), "--program", "Welding Technology"],
                 ["review", "export", str(reviewed_demo), str(tmp_path / "w.xlsx"), "--status", "accepted"]):
        for _ in range(2):  # new, then over the earlier one
            result = runner.invoke(cli, args + ["--force"])
            assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv", "a.json", "a.tsv", "r.xlsx", "w.xlsx"]
    assert openpyxl.load_workbook(tmp_path / "w.xlsx").sheetnames[:2] == ["About this workbook", "Suggestions"]
