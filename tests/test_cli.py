import asyncio
import csv
import json
import re
import shlex
import sqlite3

import click
import openpyxl
import pytest
import sqlite_utils

from crosswalk.cli import cli
from crosswalk.db import open_db
from crosswalk.programs import CAREER_CLUSTERS, canonical_cluster
from crosswalk.publish import publish
from crosswalk.site import make_datasette, make_public_datasette

from .conftest import DATA, write_csv


def test_every_command_help_has_an_example(runner):
    def walk(group, prefix):
        for name, command in group.commands.items():
            yield prefix + [name], command
            if hasattr(command, "commands"):
                yield from walk(command, prefix + [name])

    result = runner.invoke(cli, ["--help"])
    assert "Example:" in result.stdout
    for args, _ in walk(cli, []):
        result = runner.invoke(cli, args + ["--help"])
        assert result.exit_code == 0, args
        assert "Example:" in result.stdout, args


def test_import_match_program_cli(runner, tmp_path, welding_xlsx, academic_csv):
    path = str(tmp_path / "cli.db")
    result = runner.invoke(cli, ["import", path, str(welding_xlsx), "--framework", "Welding"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == (
        "Imported 4 standards into 'Welding' from welding.xlsx (sheet 'Tasks'): "
        "4 added, 0 changed, 0 unchanged, 0 retired")
    result = runner.invoke(cli, ["import", path, str(academic_csv), "--framework", "Academic", "--kind", "academic"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli, ["match", path, "--from", "Welding", "--to", "Academic", "--top", "2",
                                 "--no-embeddings", "--silent"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == (
        "Matched 4 standards of 'Welding' against 5 of 'Academic': 8 suggestions (tfidf); "
        "0 reviewed alignments left as they were")
    assert result.stderr == ""
    result = runner.invoke(cli, ["program", "add", path, "Welding Technology", "--cip", "48.0508",
                                 "--cluster", "Manufacturing", "--framework", "Welding"])
    assert result.exit_code == 0, result.output
    assert result.stdout == "Added program 'Welding Technology' (id 1, Grades 9–12); it teaches 'Welding'\n"
    result = runner.invoke(cli, ["program", "list", path])
    assert result.stdout == (
        "Welding Technology (Grades 9–12; CIP 48.0508; Manufacturing Career Cluster)\n"
        "  status: draft\n"
        "  review: 0 of 4 statements decided; 8 suggested, 0 accepted, 0 rejected, 0 to re-review\n"
        "  0 standards accepted so far, certified once the crosswalk is approved; teaches Welding\n"
        "1 program\n")


def test_progress_goes_to_stderr(runner, small_db):
    result = runner.invoke(cli, ["match", str(small_db), "--from", "Welding", "--to", "Academic", "--no-embeddings"])
    assert result.exit_code == 0
    assert "Matching" in result.stderr
    assert "Matching" not in result.stdout


def test_bad_file_is_one_clear_error_and_leaves_db_unchanged(runner, small_db, tmp_path):
    bad = tmp_path / "broken.csv"
    bad.write_text("Code,Statement\nA,First\nA,Second\n", encoding="utf-8")
    before = small_db.read_bytes()
    result = runner.invoke(cli, ["import", str(small_db), str(bad), "--framework", "Welding"])
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "Error: broken.csv, row 3, column 1 (Code): duplicate code 'A': it is also on row 2")
    assert "Traceback" not in result.output
    assert small_db.read_bytes() == before


def test_unknown_framework(runner, small_db):
    result = runner.invoke(cli, ["match", str(small_db), "--from", "Nope", "--to", "Academic"])
    assert result.exit_code == 1
    assert "no framework named 'Nope'; the frameworks are: 'Academic', 'Welding'" in result.stderr


def test_program_rejects_academic_framework(runner, small_db):
    result = runner.invoke(cli, ["program", "add", str(small_db), "P", "--framework", "Academic"])
    assert result.exit_code == 1
    assert "'Academic' is an academic framework" in result.stderr
    assert sqlite3.connect(small_db).execute("select count(*) from programs").fetchone()[0] == 0


def test_program_band_and_cluster(runner, small_db):
    path = str(small_db)
    result = runner.invoke(cli, ["program", "add", path, "Welding", "--grades", "11-12", "--cluster",
                                 "architecture & construction career cluster"])
    assert result.exit_code == 0, result.output
    assert result.stdout == "Added program 'Welding' (id 1, Grades 11–12); it teaches no frameworks yet\n"
    conn = sqlite3.connect(small_db)
    assert conn.execute("select grade_low, grade_high, career_cluster from programs").fetchall() == [
        (11, 12, "Architecture and Construction Career Cluster")]
    # Updating without --grades keeps the band.
    runner.invoke(cli, ["program", "add", path, "Welding", "--school", "Capital Region CTE"])
    assert conn.execute("select grade_low, grade_high, school from programs").fetchall() == [
        (11, 12, "Capital Region CTE")]
    # The band is what its coverage counts: of the small framework's five standards, grade 3 is out.
    assert conn.execute("select sum(standards) from program_coverage").fetchone()[0] == 3
    runner.invoke(cli, ["program", "add", path, "Welding", "--grades", "K-12"])
    assert conn.execute("select sum(standards) from program_coverage").fetchone()[0] == 5
    listed = json.loads(runner.invoke(cli, ["program", "list", path, "--json"]).stdout)
    assert [(p["name"], p["grades"], p["status"]) for p in listed] == [("Welding", "Grades K–12", "draft")]


def test_bad_band_or_cluster_is_one_error_and_changes_nothing(runner, small_db):
    before = small_db.read_bytes()
    result = runner.invoke(cli, ["program", "add", str(small_db), "Welding", "--grades", "college"])
    assert result.exit_code == 1
    assert result.stderr == ("Error: 'college' is not a grade band: give grades from K to 12, such as 9-12, "
                             "11-12 or 10\n")
    result = runner.invoke(cli, ["program", "add", str(small_db), "Welding", "--cluster", "Welding"])
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: 'Welding' is not one of the 16 Career Clusters (Perkins IV): Agriculture, Food and Natural "
        "Resource; Architecture and Construction; Arts, A/V Technology and Communication; Business and "
        "Administration; Education and Training; Finance and Insurance; Government and Public Administration; "
        "Health Science; Hospitality and Tourism; Human Services; Information Technology; Law and Public "
        "Safety; Manufacturing; Marketing Sales and Service; Scientific Research/Engineering; Transportation, "
        "Distribution, and Logistics\n")
    # A director's walk: --cip abc was stored and shown as the program's CIP code.
    result = runner.invoke(cli, ["program", "add", str(small_db), "Welding", "--cip", "abc"])
    assert (result.exit_code, result.stderr) == (1, "Error: 'abc' is not a CIP code: give it as the CIP 2020 "
                                                    "writes it, such as 48.0508 (a program), 48.05 (a series) or "
                                                    "48 (a family)\n")
    assert small_db.read_bytes() == before


def test_a_cluster_named_by_the_start_of_its_name_is_that_cluster(runner, small_db):
    """'Transportation' was refused with the 16 listed (a director's walk): the start of one cluster's
    name is that cluster."""
    result = runner.invoke(cli, ["program", "add", str(small_db), "Automotive Technology", "--cluster",
                                 "Transportation", "--cip", "47.0604"])
    assert result.exit_code == 0, result.output
    assert sqlite3.connect(small_db).execute(
        "select career_cluster, cip_code from programs where name = 'Automotive Technology'").fetchone() == (
        "Transportation, Distribution, and Logistics Career Cluster", "47.0604")


def test_demo_programs_name_career_clusters():
    with open(DATA / "programs.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 8
    assert {canonical_cluster(r["career_cluster"]) for r in rows} == {r["career_cluster"] for r in rows}
    assert set(CAREER_CLUSTERS) >= {r["career_cluster"] for r in rows} and len(CAREER_CLUSTERS) == 16


def test_career_clusters_are_known_by_the_names_directors_write():
    """The National Career Clusters Framework's names (and STEM) name the Perkins IV table's 16."""
    written = {
        "Agriculture, Food & Natural Resources": "Agriculture, Food and Natural Resource Career Cluster",
        "Architecture & Construction": "Architecture and Construction Career Cluster",
        "Arts, A/V Technology & Communications": "Arts, A/V Technology and Communication Career Cluster",
        "Business Management & Administration": "Business and Administration Career Cluster",
        "Education & Training": "Education and Training Career Cluster",
        "Finance": "Finance and Insurance Career Cluster",
        "Government & Public Administration": "Government and Public Administration Career Cluster",
        "Health Science": "Health Science Career Cluster",
        "Hospitality & Tourism": "Hospitality and Tourism Career Cluster",
        "Human Services": "Human Services Career Cluster",
        "Information Technology": "Information Technology Career Cluster",
        "Law, Public Safety, Corrections & Security": "Law and Public Safety Career Cluster",
        "Manufacturing": "Manufacturing Career Cluster",
        "marketing": "Marketing Sales and Service Career Cluster",
        "Science, Technology, Engineering & Mathematics": "Scientific Research/Engineering Career Cluster",
        "STEM": "Scientific Research/Engineering Career Cluster",
        "Transportation, Distribution & Logistics": "Transportation, Distribution, and Logistics Career Cluster",
    }
    assert {name: canonical_cluster(name) for name in written} == written
    assert set(written.values()) == set(CAREER_CLUSTERS)


def test_approve(runner, small_db, tmp_path):
    path = str(small_db)
    runner.invoke(cli, ["program", "add", path, "Welding Technology", "--framework", "Welding"])
    conn = sqlite3.connect(small_db)
    conn.execute("update alignments set status = 'accepted', strength = 'full', reviewer = 'A. Rivera', "
                 "needs_review = 1, needs_review_reason = 'the statement changed' where id = 1")
    conn.commit()
    result = runner.invoke(cli, ["approve", path, "--program", "welding technology", "--by", "M. Levesque"])
    assert result.exit_code == 0, result.output
    status_at = conn.execute("select status_at from programs").fetchone()[0]
    assert result.stdout == f"Welding Technology: approved by M. Levesque on {status_at[:10]}\n"
    assert result.stderr == (
        "Warning: Welding Technology has 11 suggestions still awaiting review\n"
        "Warning: Welding Technology has 1 accepted decision needing re-review (not counted as certified "
        "until decided again)\n")
    assert conn.execute("select status, status_by from programs").fetchall() == [("approved", "M. Levesque")]
    assert conn.execute("select action, old_status, new_status, reviewer, via, at from review_log "
                        "where program_id is not null").fetchall() == [
        ("approve", "draft", "approved", "M. Levesque", "cli", status_at)]
    result = runner.invoke(cli, ["approve", path, "--program", "1", "--by", "J. Chen", "--status", "In-Review"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Welding Technology: in review (set by J. Chen on ") and result.stderr == ""
    assert conn.execute("select status, status_by from programs").fetchall() == [("in review", "J. Chen")]
    # One wording on every surface: the command line, the report, the working site and the public copy.
    said = f"in review (set by J. Chen on {conn.execute('select status_at from programs').fetchone()[0][:10]})"
    assert f"  status: {said}\n" in runner.invoke(cli, ["program", "list", path]).stdout
    report = tmp_path / "welding-crosswalk.xlsx"
    assert said in runner.invoke(cli, ["report", path, str(report), "--program", "1"]).stdout
    block = {r[0]: r[1] for r in openpyxl.load_workbook(report)["Crosswalk"].iter_rows(max_row=14, values_only=True)}
    assert block["Status"] == "In" + said[2:]
    publish(small_db, tmp_path / "public")
    for ds in (make_datasette(small_db, pages=True), make_public_datasette(tmp_path / "public")):
        home = asyncio.run(ds.client.get("/")).text
        assert "In" + said[2:] in home, ds
    # A decision after the sign-off, which the sign-off did not see: the status says so wherever the
    # decisions' log is at hand (the command line, the report, the working site's program page).
    # (Counted by the log's order, not by the second: the acceptance made at the start of this test,
    # before the sign-off, is not a change since, even with the status dated back, as here for its text.)
    conn.execute("update programs set status_at = '2026-01-02T00:00:00+00:00'")
    conn.commit()
    assert runner.invoke(cli, ["decide", path, "2", "reject", "--reviewer", "A. Rivera"]).exit_code == 0
    changed = "in review (set by J. Chen on 2026-01-02); 1 change to its decisions since"
    assert f"  status: {changed}\n" in runner.invoke(cli, ["program", "list", path]).stdout
    assert changed in runner.invoke(cli, ["report", path, str(report), "--program", "1"]).stdout
    for url in ("/program/1", "/"):
        assert "In" + changed[2:] in asyncio.run(make_datasette(small_db, pages=True).client.get(url)).text, url
    # A comment changes no decision; a decision on a task retired since is a change all the same.
    assert runner.invoke(cli, ["comment", path, "3", "Ask the math department", "--reviewer", "B. Okafor"]).exit_code == 0
    assert f"  status: {changed}\n" in runner.invoke(cli, ["program", "list", path]).stdout
    conn.execute("update standards set status = 'retired' where id = (select source_id from alignments where id = 4)")
    conn.commit()
    assert runner.invoke(cli, ["decide", path, "4", "accept", "--reviewer", "A. Rivera"]).exit_code == 0
    assert "  status: in review (set by J. Chen on 2026-01-02); 2 changes to its decisions since\n" in runner.invoke(
        cli, ["program", "list", path]).stdout


def test_approve_errors(runner, small_db):
    path = str(small_db)
    runner.invoke(cli, ["program", "add", path, "Welding Technology"])
    before = small_db.read_bytes()
    result = runner.invoke(cli, ["approve", path, "--program", "Welding Tech", "--by", "M. Levesque"])
    assert result.exit_code == 1
    assert result.stderr == ("Error: no program named 'Welding Tech' (did you mean 'Welding Technology'?); "
                             "the programs are: 'Welding Technology'\n")
    result = runner.invoke(cli, ["approve", path, "--program", "Welding Technology", "--by", " "])
    assert result.exit_code == 1
    assert result.stderr == "Error: a status change needs the name of who makes it\n"
    result = runner.invoke(cli, ["approve", path, "--program", "Welding Technology", "--by", "X", "--status", "done"])
    assert result.exit_code == 2 and "'done': use one of 'draft', 'in review', 'approved'" in result.stderr
    result = runner.invoke(cli, ["approve", path, "--program", "Welding Technology"])
    assert result.exit_code == 2 and "Missing option '--by'" in result.stderr
    assert small_db.read_bytes() == before


def _decision(path, alignment_id):
    conn = sqlite3.connect(path)
    try:
        return conn.execute("select status, strength, reviewer from alignments where id = ?",
                            [alignment_id]).fetchone()
    finally:
        conn.close()


@pytest.mark.parametrize("word,status,strength", [
    ("yes", "accepted", "full"),
    (" Accepted ", "accepted", "full"),
    ("Accept", "accepted", "full"),
    ("FULL", "accepted", "full"),
    ("partial", "accepted", "partial"),
    ("no", "rejected", None),
    ("Rejected", "rejected", None),
])
def test_decide_reads_the_words_a_decision_is_read_with_everywhere(runner, small_db, word, status, strength):
    """The README's words for a decision (those of the review workbook and import-decisions) are read by
    `crosswalk decide` too, in any case and with spaces around them."""
    path = str(small_db)
    assert _decision(path, 1) == ("suggested", None, None)
    result = runner.invoke(cli, ["decide", path, "1", word, "--reviewer", "alice"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Recorded: alignment 1 (W.1 → ")
    assert _decision(path, 1) == (status, strength, "alice")


def test_decide_full_or_partial_sets_the_strength_an_alignment_had(runner, small_db):
    path = str(small_db)
    assert runner.invoke(cli, ["decide", path, "1", "accept", "--strength", "partial",
                               "--reviewer", "alice"]).exit_code == 0
    result = runner.invoke(cli, ["decide", path, "1", "full", "--reviewer", "bob"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().endswith("is now accepted, full (was accepted, partial)")
    assert _decision(path, 1) == ("accepted", "full", "bob")
    result = runner.invoke(cli, ["decide", path, "1", "Partial", "--strength", "partial", "--reviewer", "carol"])
    assert result.exit_code == 0, result.output
    assert _decision(path, 1) == ("accepted", "partial", "carol")
    # --strength says otherwise than the word: it wins, as a workbook's Strength cell does.
    result = runner.invoke(cli, ["decide", path, "1", "partial", "--strength", "full", "--reviewer", "dan"])
    assert result.exit_code == 0, result.output
    assert _decision(path, 1) == ("accepted", "full", "dan")


def test_decide_reads_strength_in_any_case_and_a_program_named_by_no_id_is_not_found(runner, small_db):
    """--strength is read as a workbook's Strength cell is ("Partial", "Moderate"); it refused any case
    but its two words. A program given as "²" (a digit to str.isdigit, no id) is a name not found:
    it ended in a traceback."""
    path = str(small_db)
    result = runner.invoke(cli, ["decide", path, "1", "accept", "--strength", "Partial", "--reviewer", "alice"])
    assert result.exit_code == 0, result.output
    assert _decision(path, 1) == ("accepted", "partial", "alice")
    result = runner.invoke(cli, ["decide", path, "2", "accept", "--strength", "Moderate", "--reviewer", "alice"])
    assert result.exit_code == 0, result.output
    assert _decision(path, 2) == ("accepted", "partial", "alice")
    assert runner.invoke(cli, ["program", "add", path, "Welding Technology", "--framework", "Welding"]).exit_code == 0
    result = runner.invoke(cli, ["report", path, str(small_db.parent / "r.xlsx"), "--program", "²"])
    assert (result.exit_code, result.stderr) == (1, "Error: no program named '²'; the programs are: "
                                                    "'Welding Technology'\n"), result.output


@pytest.mark.parametrize("args,message", [
    (["acept"], "Error: the decision must be accept or reject, not 'acept' "
                "(also read: accepted, rejected, yes, no, full, partial)\n"),
    (["no", "--strength", "full"], "Error: a strength (full or partial) is only for accepted alignments\n"),
])
def test_decide_with_a_word_it_cannot_read_is_one_error_and_records_nothing(runner, small_db, args, message):
    path = str(small_db)
    before = small_db.read_bytes()
    result = runner.invoke(cli, ["decide", path, "1", *args, "--reviewer", "alice"])
    assert (result.exit_code, result.stderr, result.stdout) == (1, message, "")
    assert small_db.read_bytes() == before
    assert _decision(path, 1) == ("suggested", None, None)


def test_a_file_that_is_not_a_crosswalk_database_is_refused_and_left_as_it_was(runner, small_db, tmp_path,
                                                                                  welding_xlsx):
    """Every command opens its DATABASE the same way: a text file, another program's SQLite
    database or a published copy gets one Error: line, exit status 1, and is not written to; a
    database in a folder that does not exist is not made."""
    text = tmp_path / "notes.db"
    text.write_text("minutes of the committee\n")
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("create table notes (line text)")
    conn.close()
    tool = tmp_path / "tool.db"  # another program that keeps sqlite-utils migrations too
    tool_migrations = sqlite_utils.Migrations("othertool")
    tool_migrations()(lambda db: db["users"].insert({"id": 1}, pk="id"))
    tool_migrations.apply(sqlite_utils.Database(tool))
    publish(small_db, tmp_path / "public")
    published = tmp_path / "public" / "crosswalk.db"
    cases = [(text, f"Error: {text} is not a crosswalk database (it is not an SQLite file)"),
             (other, f"Error: {other} is not a crosswalk database (an SQLite database of another program)"),
             (tool, f"Error: {tool} is not a crosswalk database (an SQLite database of another program)"),
             (published, f"Error: {published} is a published crosswalk (made by crosswalk publish), read only; "
                         f"serve it with: crosswalk serve {tmp_path / 'public'}")]
    for path, error in cases:
        before = path.read_bytes()
        for args in (["frameworks", str(path)], ["import", str(path), str(welding_xlsx), "--framework", "W"],
                     ["serve", str(path)]):
            result = runner.invoke(cli, args)
            assert result.exit_code == 1, (args, result.output)
            assert result.stderr == error + "\n", result.stderr
        assert path.read_bytes() == before
    for folder in (tmp_path, tmp_path / "public"):  # no -wal, -shm or -journal file beside them
        assert not [p.name for p in folder.iterdir() if p.name.endswith(("-wal", "-shm", "-journal"))]
    missing = tmp_path / "no such folder" / "district.db"
    result = runner.invoke(cli, ["import", str(missing), str(welding_xlsx), "--framework", "W"])
    assert result.exit_code == 1 and result.stderr == (
        f"Error: cannot create {missing}: the folder {missing.parent} does not exist\n"), result.output
    assert not missing.parent.exists()
    dangling = tmp_path / "link.db"
    dangling.symlink_to(missing)
    result = runner.invoke(cli, ["import", str(dangling), str(welding_xlsx), "--framework", "W"])
    assert result.exit_code == 1 and result.stderr == (
        f"Error: cannot create {dangling}: it is a link to {missing}, which does not exist\n"), result.output


def test_match_refuses_the_frameworks_the_wrong_way_round(runner, small_db, tmp_path):
    """Suggestions go from the industry standards a program teaches to academic standards: --from and
    --to swapped, one framework twice, or two of one kind (they went into the programs' review queues)
    is one error and writes nothing."""
    from crosswalk.importer import import_file

    db = open_db(small_db)
    import_file(db, write_csv(tmp_path / "carpentry.csv", [["Code", "Statement"], ["C.1", "Frame a wall."]]),
                framework="Carpentry", kind="industry")
    db.close()
    def alignments():
        with sqlite3.connect(small_db) as conn:
            rows = conn.execute("select * from alignments order by id").fetchall()
        conn.close()
        return rows

    before = alignments()
    for args, error in (
        (["--from", "academic", "--to", "Welding"],
         "Error: 'Academic' is academic and 'Welding' is industry: suggestions go from the industry standards a "
         "program teaches (--from) to academic standards (--to); swap them\n"),
        (["--from", "Welding", "--to", "welding"], "Error: --from and --to both name 'Welding': match a framework "
                                                   "to another one\n"),
        (["--from", "Welding", "--to", "Carpentry"],
         "Error: 'Welding' and 'Carpentry' are both industry: suggestions go from the industry standards a program "
         "teaches (--from) to academic standards (--to); a framework imported with the wrong kind is imported "
         "again with --kind\n"),
        (["--from", "Welding", "--to", "academic", "--grade", "13"],
         "Error: no active standard of 'Academic' is in grade '13'\n"),
    ):
        result = runner.invoke(cli, ["match", str(small_db), *args, "--no-embeddings", "--silent"])
        assert result.exit_code == 1 and result.stderr == error, result.output
    assert alignments() == before


def test_a_name_in_another_case_updates_the_framework_or_program_it_names(runner, tmp_path, welding_xlsx):
    """"welding tasks" is 'Welding tasks', on import as on every lookup: no second framework or program
    that only the case of its name tells apart (every later lookup of it would be ambiguous)."""
    path = str(tmp_path / "district.db")
    assert runner.invoke(cli, ["import", path, str(welding_xlsx), "--framework", "Welding tasks"]).exit_code == 0
    again = runner.invoke(cli, ["import", path, str(welding_xlsx), "--framework", " WELDING tasks ", "--silent"])
    assert again.exit_code == 0 and again.stdout.startswith("Imported 4 standards into 'Welding tasks' from "), again.output
    assert ": 0 added, 0 changed, 4 unchanged, 0 retired" in again.stdout
    added = runner.invoke(cli, ["program", "add", path, "Welding Technology", "--framework", "welding tasks"])
    assert added.exit_code == 0 and added.stdout.startswith("Added program 'Welding Technology' (id 1, Grades 9–12)")
    updated = runner.invoke(cli, ["program", "add", path, "welding technology", "--grades", "11-12"])
    assert updated.exit_code == 0, updated.output
    assert updated.stdout.startswith("Updated program 'Welding Technology' (id 1, Grades 11–12)")
    with sqlite3.connect(path) as conn:
        assert conn.execute("select name from frameworks").fetchall() == [("Welding tasks",)]
        assert conn.execute("select name, grade_low, grade_high from programs").fetchall() == [
            ("Welding Technology", 11, 12)]
    conn.close()
    report = runner.invoke(cli, ["report", path, str(tmp_path / "r.xlsx"), "--program", "WELDING TECHNOLOGY"])
    assert report.exit_code == 0, report.output
    blank = runner.invoke(cli, ["import", path, str(welding_xlsx), "--framework", "  ", "--silent"])
    assert blank.exit_code == 1 and blank.stderr == "Error: a framework needs a name (--framework)\n"
    # Beyond ASCII, as every lookup folds case (SQLite's lower() folds A-Z only).
    for name in ("Électricité tasks", "électricité TASKS"):
        assert runner.invoke(cli, ["import", path, str(welding_xlsx), "--framework", name]).exit_code == 0
    with sqlite3.connect(path) as conn:
        assert conn.execute("select name from frameworks order by id").fetchall() == [
            ("Welding tasks",), ("Électricité tasks",)]
    conn.close()


def test_an_approved_programs_band_or_credentials_change_only_once_its_sign_off_is_set_back(
        runner, small_db, tmp_path):
    """Widening an approved program's band (or adding a credential) changed what it certifies while it
    went on reading "approved by ...", nothing logged; refused now, until someone sets it back."""
    from crosswalk.importer import import_file

    path = str(small_db)
    db = open_db(small_db)
    import_file(db, write_csv(tmp_path / "machining.csv", [["Code", "Task"], ["M.1", "Measure a part."]]),
                framework="Machining", kind="industry")
    db.close()
    assert runner.invoke(cli, ["program", "add", path, "Welding", "--framework", "Welding",
                               "--grades", "11-12"]).exit_code == 0
    assert runner.invoke(cli, ["approve", path, "--program", "Welding", "--by", "M. Levesque"]).exit_code == 0
    before = small_db.read_bytes()
    for change, said in ((["--grades", "9-12"], "its grade band (Grades 11–12 → Grades 9–12)"),
                         (["--framework", "Machining"], "the credentials it teaches (+ 'Machining')")):
        result = runner.invoke(cli, ["program", "add", path, "welding", *change])
        assert result.exit_code == 1, result.output
        assert result.stderr.startswith("Error: 'Welding' is approved by M. Levesque on ")
        assert f"changing {said} changes what it certifies; set it back to in review first" in result.stderr
        assert small_db.read_bytes() == before
    # The command it names runs as written (NAME aside).
    suggested = re.search(r"\(crosswalk (approve .*) --by NAME (--status \"in review\")\)", result.stderr)
    assert suggested and shlex.split(suggested.group(1))[1] == path, result.stderr
    # What does not change what it certifies is changed as before.
    assert runner.invoke(cli, ["program", "add", path, "Welding", "--cip", "48.0508", "--grades", "11-12",
                               "--framework", "Welding"]).exit_code == 0
    assert runner.invoke(cli, ["approve", path, "--program", "Welding", "--by", "J. Chen",
                               "--status", "in review"]).exit_code == 0
    assert runner.invoke(cli, ["program", "add", path, "Welding", "--grades", "9-12"]).exit_code == 0


def test_program_add_with_a_framework_does_not_make_a_new_empty_database(runner, tmp_path):
    """A program's frameworks must be in the database: into one that does not exist yet, nothing is
    created (a later `crosswalk import` there would have found an empty file)."""
    result = runner.invoke(cli, ["program", "add", str(tmp_path / "new.db"), "Welding", "--framework", "Welding tasks"])
    assert result.exit_code == 1
    assert result.stderr == (f"Error: {tmp_path / 'new.db'} does not exist yet, so it has no framework 'Welding tasks': "
                             "import the program's frameworks first (crosswalk import)\n")
    assert not (tmp_path / "new.db").exists()


def test_what_the_database_file_refuses_is_one_clear_error_not_a_traceback():
    """A database left locked by another program for the whole busy timeout, or a read-only one: the
    command's error says what happened and what to do (a traceback before)."""
    from crosswalk.cli import fail_cleanly
    from crosswalk.errors import SQLITE_REFUSALS

    @fail_cleanly
    def refused(message):
        raise sqlite3.OperationalError(message)

    for message, said in (("attempt to write a readonly database", "the database is read only"),
                          ("database is locked", "the database stayed locked by another program")):
        with pytest.raises(click.ClickException) as info:
            refused(message)
        assert info.value.message.startswith(said) and info.value.message in SQLITE_REFUSALS.values()
    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        refused("no such table: x")  # a bug of crosswalk's own stays a traceback, to be reported


def test_eval_on_a_file_that_holds_no_crosswalk_is_one_error(runner, tmp_path):
    """eval reads only (no migration), and read another program's database or an empty file as far as
    'no such table: frameworks', a traceback; it now says what the file is, as every command does."""
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("create table t (x)")
    conn.commit()
    conn.close()
    (tmp_path / "empty.db").write_bytes(b"")
    (tmp_path / "gold.csv").write_text("source_code,target_code\nW.1,N-Q.1\n", encoding="utf-8")
    for name, said in (("other.db", "is not a crosswalk database (an SQLite database of another program)"),
                       ("empty.db", "holds no crosswalk yet (no frameworks): import them first")):
        before = (tmp_path / name).read_bytes()
        result = runner.invoke(cli, ["eval", str(tmp_path / name), "--gold", str(tmp_path / "gold.csv"),
                                     "--from", "A", "--to", "B"])
        assert result.exit_code == 1 and result.stderr == f"Error: {tmp_path / name} {said}\n", result.output
        assert (tmp_path / name).read_bytes() == before


def test_match_several_to_in_turn_and_one_from(runner, small_db, tmp_path):
    # A second --to (or --from) was taken for the first, silently: only the last was matched.
    from crosswalk.importer import import_file

    db = open_db(small_db)
    import_file(db, write_csv(tmp_path / "science.csv", [["Code", "Statement"], ["S.1", "Measure heat transfer."]]),
                framework="Science", kind="academic")
    source, academic = (db.execute(f"select name from frameworks where kind = '{kind}' order by id").fetchone()[0]
                        for kind in ("industry", "academic"))
    db.close()
    before = small_db.read_bytes()
    refused = runner.invoke(cli, ["match", str(small_db), "--from", source, "--to", academic, "--to", "Nope",
                                  "--no-embeddings", "--silent"])
    assert refused.exit_code == 1 and refused.stderr.startswith("Error: no framework named 'Nope'")
    assert small_db.read_bytes() == before  # every name checked before the first match writes
    # And what each match refuses: the first was written, then the second refused (exit 1).
    refused = runner.invoke(cli, ["match", str(small_db), "--from", source, "--to", academic, "--to", "Science",
                                  "--subject", "Math", "--no-embeddings", "--silent"])
    assert (refused.exit_code, refused.stderr, refused.stdout) == (
        1, "Error: no active standard of 'Science' is in subject 'Math'; its standards name no subject or domain\n", "")
    assert small_db.read_bytes() == before
    result = runner.invoke(cli, ["match", str(small_db), "--from", source, "--to", academic, "--to", "science",
                                 "--to", academic.upper(), "--no-embeddings", "--silent"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 2 and f"against 5 of '{academic}'" in lines[0] and "against 1 of 'Science'" in lines[1]
    twice = runner.invoke(cli, ["match", str(small_db), "--from", source, "--from", source, "--to", academic])
    assert (twice.exit_code, twice.stderr) == (1, "Error: --from names one framework; run match once for each\n")


def test_a_name_mistyped_is_named_with_what_it_may_mean(runner, small_db, tmp_path):
    path = str(small_db)
    result = runner.invoke(cli, ["match", path, "--from", "Weldin", "--to", "Academic"])
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: no framework named 'Weldin' (did you mean 'Welding'?); ")
    # A new name a typo away from one there is: made (it may be meant), with a note naming the one there is.
    before = small_db.read_bytes()
    result = runner.invoke(cli, ["import", path, str(tmp_path / "welding.xlsx"), "--framework", "Weldng", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert ("Note: 'Weldng' would be a new framework; 'Welding' is already there: to re-import into it, "
            "give --framework its name as written\n") in result.stderr
    assert small_db.read_bytes() == before
    result = runner.invoke(cli, ["program", "add", path, "Welding Technology"])
    assert result.stderr == ""
    result = runner.invoke(cli, ["program", "add", path, "Weldng Technology"])
    assert result.exit_code == 0
    assert result.stderr == ("Note: 'Weldng Technology' is a new program; 'Welding Technology' is already there: "
                             "to update it, give its name as written\n")
    # Names alike but meant (0.86 alike to difflib) get no note.
    result = runner.invoke(cli, ["program", "add", path, "Electrical Technology"])
    assert result.exit_code == 0 and result.stderr == ""


def test_close_names_rules():
    from crosswalk.db import close_names

    names = ["Welding Technology tasks", "Carpentry tasks", "Maine Learning Results: Mathematics (CCSS)",
             "Maine Learning Results: ELA and Literacy (CCSS)"]
    assert close_names("Weldng Technology tasks", names) == ["Welding Technology tasks"]
    assert close_names("Weldin", names) == ["Welding Technology tasks"]
    assert close_names("MLR Mathematics", names) == ["Maine Learning Results: Mathematics (CCSS)"]
    assert close_names("Welding tasks", names) == ["Welding Technology tasks"]
    assert close_names("Plumbing", names) == []
    assert close_names(" ", names) == []


def test_what_the_system_refuses_is_one_error(runner, small_db, tmp_path):
    path = str(small_db)
    (tmp_path / "a-file").write_text("")
    result = runner.invoke(cli, ["publish", path, str(tmp_path / "a-file" / "site")])
    assert result.exit_code == 1
    assert result.stderr == f"Error: {tmp_path / 'a-file' / 'site'}: Not a directory\n"
    runner.invoke(cli, ["decide", path, "1", "accept", "--reviewer", "A. Rivera"])
    result = runner.invoke(cli, ["export", path, "/dev/full", "--format", "csv", "--force"])
    assert result.exit_code == 1
    assert result.stderr == "Error: cannot write /dev/full: No space left on device\n"


def test_reviewer_password_and_port_are_checked(runner, small_db):
    path = str(small_db)
    before = small_db.read_bytes()
    for name in ("", "  "):
        result = runner.invoke(cli, ["comment", path, "1", "Ask the math department", "--reviewer", name])
        assert result.exit_code == 1
        assert result.stderr == "Error: say who comments: the reviewer's name is required\n"
    assert small_db.read_bytes() == before
    assert runner.invoke(cli, ["comment", path, "1", "Ask", "--reviewer", "  A. Rivera "]).exit_code == 0
    assert sqlite3.connect(path).execute("select reviewer from review_comments").fetchall() == [("A. Rivera",)]
    result = runner.invoke(cli, ["review", "password-hash", "--password", ""])
    assert (result.exit_code, result.stderr) == (1, "Error: the password is empty\n")
    result = runner.invoke(cli, ["serve", path, "--port", "99999"])
    assert result.exit_code == 2
    assert "Invalid value for '-p' / '--port': 99999 is not in the range 1<=x<=65535." in result.stderr
    runner.invoke(cli, ["program", "add", path, "Welding Technology"])
    result = runner.invoke(cli, ["approve", path, "--program", "Welding Technology", "--reviewer", "M. Levesque"])
    assert result.exit_code == 0, result.output


def test_database_and_file_swapped_says_so(runner, small_db, tmp_path):
    before = (tmp_path / "welding.xlsx").read_bytes()
    result = runner.invoke(cli, ["import", str(tmp_path / "welding.xlsx"), str(small_db), "--framework", "W"])
    assert result.exit_code == 1
    assert result.stderr == ("Error: small.db: is not a text or spreadsheet file (it contains binary data) "
                             "(it is a SQLite database: give the database first, then the file to import)\n")
    assert (tmp_path / "welding.xlsx").read_bytes() == before


def test_import_case_of_several_frameworks_refuses_framework_before_making_the_database(runner, small_db, tmp_path):
    path = str(small_db)
    assert runner.invoke(cli, ["decide", path, "1", "accept", "--reviewer", "A. Rivera"]).exit_code == 0
    result = runner.invoke(cli, ["export", path, str(tmp_path / "both.json"), "--format", "case"])
    assert result.exit_code == 0, result.output
    new = tmp_path / "new.db"
    result = runner.invoke(cli, ["import-case", str(new), str(tmp_path / "both.json"), "--framework", "X"])
    assert (result.exit_code, result.stderr) == (1, "Error: both.json holds 2 frameworks; leave out --framework\n")
    assert not new.exists()


def test_ctrl_c_during_a_second_match_says_what_was_saved(demo, tmp_path):
    """A real process, interrupted (SIGINT, as Ctrl+C) once its first --to is matched and said: the
    second match, a transaction, wrote nothing, and the message says which is saved."""
    import shutil
    import signal
    import subprocess
    import sys

    path = tmp_path / "demo.db"
    shutil.copy(demo.path, path)
    tasks, ela = "Machine Tool Technology tasks (O*NET 29.3)", "Maine Learning Results: ELA and Literacy (CCSS)"

    def ela_rows():
        return sqlite3.connect(path).execute(
            "select a.id, a.score, a.status from alignments a join standards s on s.id = a.source_id "
            "join standards t on t.id = a.target_id join frameworks f on f.id = t.framework_id "
            "join frameworks g on g.id = s.framework_id where f.name = ? and g.name = ? order by a.id",
            [ela, tasks]).fetchall()

    before = ela_rows()
    child = subprocess.Popen(
        [sys.executable, "-m", "crosswalk", "match", str(path), "--from", tasks,
         "--to", "Maine Learning Results: Guiding Principles", "--to", ela, "--silent"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = child.stdout.readline()
    assert first.startswith(f"Matched 235 standards of '{tasks}' against 28 of "), first
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=120)
    assert child.returncode == 130, (out, err)
    # (SIGINT may land in the first summary's write, as well as in the second match: the same is saved)
    assert err.endswith("Interrupted: the match against 'Maine Learning Results: Guiding Principles' is saved; "
                        f"nothing of the match against '{ela}' was written\n"), err
    assert ela_rows() == before


def test_a_subject_not_found_names_those_there(runner, small_db):
    before = small_db.read_bytes()
    result = runner.invoke(cli, ["match", str(small_db), "--from", "Welding", "--to", "Academic", "--subject", "Sciense",
                                 "--no-embeddings"])
    assert result.exit_code == 1
    assert result.stderr == ("Error: no active standard of 'Academic' is in subject 'Sciense' (did you mean "
                             "'Science'?); its subjects and domains are: 'ELA', 'Math', 'Science'\n")
    assert small_db.read_bytes() == before


def test_frameworks_json(runner, small_db):
    path = str(small_db)
    sqlite3.connect(path).execute("update standards set status = 'retired' where code = '3.OA.1'").connection.commit()
    listed = json.loads(runner.invoke(cli, ["frameworks", path, "--json"]).stdout)
    assert [(f["name"], f["kind"], f["standards"], f["retired"], f["subject"]) for f in listed] == [
        ("Academic", "academic", 4, 1, None), ("Welding", "industry", 4, 0, None)]
    assert runner.invoke(cli, ["frameworks", path]).stdout == (
        "academic       4  Academic\nindustry       4  Welding\n2 frameworks\n")
