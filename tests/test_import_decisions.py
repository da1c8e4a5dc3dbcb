import re
import shutil
import sqlite3

from crosswalk.cli import cli
from crosswalk.db import open_db

from .conftest import write_csv, write_xlsx

EARLIER = [
    ["State crosswalk, Welding, 2023"],
    ["CTE code", "Academic standard", "Content alignment", "Rationale", "Reviewed by"],
    ["W.1", "N-Q.1", "Strong", "Students measure workpieces with units.", "Maine CTE"],
    ["W.2", "G-MG.1", "Moderate", "Angles of joints.", "Maine CTE"],
    ["W.3", "3.OA.1", "No", "", "Maine CTE"],
    ["W.9", "N-Q.1", "Strong", "", "Maine CTE"],
]


def test_import_decisions_applies_logs_and_is_idempotent(runner, small_db, tmp_path):
    path = write_xlsx(tmp_path / "earlier.xlsx", EARLIER)
    result = runner.invoke(cli, ["import-decisions", str(small_db), str(path)])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == (
        "Applied 3 decisions from earlier.xlsx (" + result.stdout.split("(")[1].split(")")[0] + "); "
        "0 already recorded, 0 conflicts left as they were, 1 row with codes not in the database")
    assert "Note: row 6 (W.9 → N-Q.1): no standard with code 'W.9'" in result.stderr
    db = open_db(small_db)
    rows = db.execute(
        "select s.code, t.code, a.status, a.strength, a.rationale, a.reviewer from alignments a "
        "join standards s on s.id = a.source_id join standards t on t.id = a.target_id "
        "where a.status != 'suggested' order by s.code").fetchall()
    assert rows == [
        ("W.1", "N-Q.1", "accepted", "full", "Students measure workpieces with units.", "Maine CTE"),
        ("W.2", "G-MG.1", "accepted", "partial", "Angles of joints.", "Maine CTE"),
        ("W.3", "3.OA.1", "rejected", None, None, "Maine CTE"),
    ]
    # A pair the matcher never suggested has no score (it had 0, shown as "Score 0.0 (- confidence)").
    assert db.execute("select s.code, t.code, a.score, a.confidence from alignments a join standards s on s.id = "
                      "a.source_id join standards t on t.id = a.target_id where a.method = 'import-decisions'"
                      ).fetchall() == [("W.3", "3.OA.1", None, None)]
    log = db.execute("select action, old_status, new_status, new_strength, via from review_log order by id").fetchall()
    assert len(log) == 3 and all(r[4] == "import-decisions" for r in log)
    assert sorted(r[0] for r in log) == ["accept", "accept", "reject"]
    assert log[0][2:4] == ("accepted", "full")
    db.close()

    again = runner.invoke(cli, ["import-decisions", str(small_db), str(path)])
    assert "Applied 0 decisions from earlier.xlsx (0 new alignments); 3 already recorded, 0 conflicts" in again.stdout
    assert open_db(small_db)["review_log"].count == 3


def test_conflict_is_reported_not_overwritten(runner, small_db, tmp_path):
    first = write_csv(tmp_path / "a.csv", [["source code", "target code", "decision"], ["W.1", "N-Q.1", "full"]])
    runner.invoke(cli, ["import-decisions", str(small_db), str(first)])
    second = write_csv(tmp_path / "b.csv", [["source code", "target code", "decision"], ["W.1", "N-Q.1", "reject"]])
    result = runner.invoke(cli, ["import-decisions", str(small_db), str(second)])
    assert result.exit_code == 3  # applied what it could, a conflict left for a person
    assert "Conflict: row 2 (W.1 → N-Q.1): the file says rejected, the database has accepted (full)" in result.stderr
    assert "1 conflict left as it was" in result.stdout
    # Where only the rationale differs, the conflict shows the rationales (and a NUL in one is left out).
    third = write_csv(tmp_path / "c.csv", [["source code", "target code", "decision", "rationale"],
                                          ["W.1", "N-Q.1", "full", "Measuring\x00 in layout"]])
    result = runner.invoke(cli, ["import-decisions", str(small_db), str(third)])
    assert ('Conflict: row 2 (W.1 → N-Q.1): the file says accepted (full), "Measuring in layout", the database '
            "has accepted (full), no rationale") in result.stderr
    # A rationale longer than a spreadsheet cell holds (it would not survive the review workbook): refused.
    long = write_csv(tmp_path / "d.csv", [["source code", "target code", "decision", "rationale"],
                                         ["W.2", "G-MG.1", "full", "x" * 40_000]])
    before = small_db.read_bytes()
    result = runner.invoke(cli, ["import-decisions", str(small_db), str(long)])
    assert result.exit_code == 1 and result.stderr == (
        "Error: d.csv, row 2, column 4 (rationale): the rationale is 40,000 characters long; at most 32,767 "
        "(what a spreadsheet cell holds)\n")
    assert small_db.read_bytes() == before
    db = open_db(small_db)
    assert db.execute("select a.status from alignments a join standards s on s.id = a.source_id "
                      "join standards t on t.id = a.target_id where s.code = 'W.1' and t.code = 'N-Q.1'"
                      ).fetchone()[0] == "accepted"


def test_bad_decisions_file_leaves_database_unchanged(runner, small_db, tmp_path):
    path = write_csv(tmp_path / "bad.csv", [["source code", "target code", "decision"], ["W.1", "N-Q.1", "maybe"]])
    before = small_db.read_bytes()
    result = runner.invoke(cli, ["import-decisions", str(small_db), str(path)])
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "Error: bad.csv, row 2, column 3 (decision): the decision must be accept or reject, not 'maybe' "
        "(also read: accepted, rejected, yes, no, full, partial)")
    assert small_db.read_bytes() == before
    path = write_csv(tmp_path / "nocols.csv", [["a", "b"], ["W.1", "N-Q.1"]])
    result = runner.invoke(cli, ["import-decisions", str(small_db), str(path)])
    assert result.exit_code == 1 and "nocols.csv, row 1: has no source code column" in result.stderr
    assert small_db.read_bytes() == before


def test_a_code_in_two_academic_frameworks_needs_the_framework_named_and_a_retired_one_does_not_count(
        runner, small_db, tmp_path):
    from crosswalk.importer import import_file

    db = open_db(small_db)
    framework = db.execute("select name from frameworks where kind = 'academic'").fetchone()[0]
    other = write_csv(tmp_path / "other.csv", [["Code", "Statement"], ["N-Q.1", "Use units to understand problems."],
                                               ["X.1", "Something else."]])
    import_file(db, other, framework="Other math", kind="academic")
    db.close()
    path = write_csv(tmp_path / "d.csv", [["source code", "target code", "decision"], ["W.1", "N-Q.1", "full"]])
    result = runner.invoke(cli, ["import-decisions", str(small_db), str(path)])
    assert result.exit_code == 1
    assert result.stderr == ("Error: d.csv, row 2: code 'N-Q.1' is in several academic frameworks; name the "
                             "framework with --to\n")
    named = runner.invoke(cli, ["import-decisions", str(small_db), str(path), "--to", framework])
    assert named.exit_code == 0 and "Applied 1 decision" in named.stdout, named.output
    # Retired from the other framework (re-imported without it), the code is no longer ambiguous.
    db = open_db(small_db)
    import_file(db, write_csv(tmp_path / "other2.csv", [["Code", "Statement"], ["X.1", "Something else."]]),
                framework="Other math", kind="academic")
    db.close()
    again = write_csv(tmp_path / "e.csv", [["source code", "target code", "decision"], ["W.2", "N-Q.1", "reject"]])
    result = runner.invoke(cli, ["import-decisions", str(small_db), str(again)])
    assert result.exit_code == 0 and "Applied 1 decision" in result.stdout, result.output
    assert open_db(small_db).execute(
        "select f.name, a.status from alignments a join standards s on s.id = a.source_id "
        "join standards t on t.id = a.target_id join frameworks f on f.id = t.framework_id "
        "where s.code = 'W.2' and t.code = 'N-Q.1'").fetchall() == [(framework, "rejected")]


def test_a_code_written_in_another_case_is_found_when_it_names_one_standard(runner, small_db, tmp_path):
    """'w.1' and 'n-q.1' are W.1 and N-Q.1 where no code is written exactly so; where two codes differ
    from it in case only, neither is meant more than the other: the row's code is unknown."""
    path = write_csv(tmp_path / "lower.csv", [["source_code", "target_code", "decision"], ["w.1", "n-q.1", "accept"]])
    result = runner.invoke(cli, ["import-decisions", str(small_db), str(path)])
    assert result.exit_code == 0 and result.stdout.startswith("Applied 1 decision from lower.csv"), result.output
    db = open_db(small_db)
    assert db.execute("select s.code, t.code from alignments a join standards s on s.id = a.source_id "
                      "join standards t on t.id = a.target_id where a.status = 'accepted'").fetchall() == [
        ("W.1", "N-Q.1")]
    db.execute("update standards set code = 'g-mg.1' where code = '3.OA.1'")  # G-MG.1 and g-mg.1 both
    db.conn.commit()
    db.close()
    twice = write_csv(tmp_path / "twice.csv", [["source_code", "target_code", "decision"], ["W.2", "G-mg.1", "accept"],
                                               ["W.2", "g-mg.1", "reject"]])
    result = runner.invoke(cli, ["import-decisions", str(small_db), str(twice)])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Applied 1 decision") and "1 row with codes not in the database" in result.stdout
    assert "no standard with code 'G-mg.1'" in result.stderr


def test_a_code_that_lost_its_zeros_finds_its_one_standard_of_the_same_number(runner, tmp_path):
    """A decisions CSV opened and saved by a spreadsheet turns the codes 007 and 01.0100 into 7 and
    1.01; each is the standard of that number, where the framework has one. 1.01 is also the number
    of 01.01: two standards it could be, none is guessed (and 7A is no number: not 007)."""
    db_path = tmp_path / "numbers.db"
    tasks = write_csv(tmp_path / "tasks.csv", [["code", "statement"], ["007", "Weld a lap joint."],
                                               ["01.0100", "Read a welding symbol."], ["01.01", "Read a print."],
                                               ["7A", "Grind a bevel."]])
    academic = write_csv(tmp_path / "math.csv", [["code", "statement"], ["N-Q.1", "Use units to solve problems."]])
    for path, name, kind in ((tasks, "Welding", "industry"), (academic, "Math", "academic")):
        assert runner.invoke(cli, ["import", str(db_path), str(path), "--framework", name, "--kind", kind]
                             ).exit_code == 0
    decisions = write_csv(tmp_path / "saved.csv", [["source code", "target code", "decision"], ["7", "N-Q.1", "accept"],
                                                   ["1.01", "N-Q.1", "accept"], ["7.0", "N-Q.1", "accept"]])
    result = runner.invoke(cli, ["import-decisions", str(db_path), str(decisions)])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Applied 1 decision from saved.csv"), result.stdout
    assert ("Note: row 3 (1.01 → N-Q.1): no standard with code '1.01' (01.01 and 01.0100 are that number: "
            "which one is not guessed)") in result.stderr
    assert "row 4" not in result.stderr  # 7.0: 007 again, already recorded by row 2
    assert sqlite3.connect(db_path).execute(
        "select s.code, t.code, a.status from alignments a join standards s on s.id = a.source_id "
        "join standards t on t.id = a.target_id").fetchall() == [("007", "N-Q.1", "accepted")]
    # A code a re-import retired is that standard, retired: never another of its number (1.10 for 1.1).
    outline = write_csv(tmp_path / "outline.csv", [["code", "statement"], ["1.1", "Weld a butt joint."],
                                                   ["1.10", "Grind a bevel."]])
    assert runner.invoke(cli, ["import", str(db_path), str(outline), "--framework", "Outline", "--kind",
                               "industry"]).exit_code == 0
    outline.write_text("code,statement\n1.10,Grind a bevel.\n2,Cut a plate.\n3,Drill a hole.\n", encoding="utf-8")
    assert runner.invoke(cli, ["import", str(db_path), str(outline), "--framework", "Outline", "--kind",
                               "industry"]).exit_code == 0  # 1.1 retired
    retired = write_csv(tmp_path / "retired.csv", [["source code", "target code", "decision"], ["1.1", "N-Q.1", "accept"],
                                                   ["2", "N-Q.1", "accept"]])
    result = runner.invoke(cli, ["import-decisions", str(db_path), str(retired), "--from", "Outline"])
    assert result.exit_code == 0 and result.stdout.startswith("Applied 1 decision"), result.output
    assert "'1.1' was retired by a re-import of Outline; its row is not applied" in result.stderr
    # The codes a note names are those of the framework searched; one number in two frameworks asks for it.
    elsewhere = write_csv(tmp_path / "elsewhere.csv", [["source code", "target code", "decision"],
                                                       ["1.01", "N-Q.1", "accept"], ["2", "N-Q.1", "reject"]])
    result = runner.invoke(cli, ["import-decisions", str(db_path), str(elsewhere), "--from", "Outline"])
    assert "Note: row 2 (1.01 → N-Q.1): no standard with code '1.01'\n" in result.stderr + "\n", result.stderr
    both = write_csv(tmp_path / "both.csv", [["source code", "target code", "decision"], ["10", "N-Q.1", "accept"],
                                             ["007", "N-Q.1", "accept"]])
    ten = write_csv(tmp_path / "ten.csv", [["code", "statement"], ["010", "Tack a joint."]])
    for name in ("Welding", "Outline"):
        assert runner.invoke(cli, ["import", str(db_path), str(ten), "--framework", name + " 2", "--kind",
                                   "industry"]).exit_code == 0
    result = runner.invoke(cli, ["import-decisions", str(db_path), str(both)])
    assert ("Note: row 2 (10 → N-Q.1): no standard with code '10' (010 is that number in Outline 2 and Welding 2: "
            "name the framework with --from)") in result.stderr, result.output


def test_a_csv_export_read_back_loses_nothing_to_the_formula_guard(runner, small_db, tmp_path):
    # The export guards a cell a spreadsheet would run ("- measures angles" as "'- measures angles");
    # read back by import-decisions, the apostrophe stayed in the rationale and the reviewer's name.
    source = tmp_path / "source.db"
    source.write_bytes(small_db.read_bytes())
    assert runner.invoke(cli, ["decide", str(source), "1", "accept", "--rationale", "- measures angles\n- records",
                               "--reviewer", "@alice"]).exit_code == 0
    out = tmp_path / "earlier.csv"
    assert runner.invoke(cli, ["export", str(source), str(out)]).exit_code == 0
    assert "'- measures angles" in out.read_text(encoding="utf-8-sig")  # guarded in the file
    result = runner.invoke(cli, ["import-decisions", str(small_db), str(out)])
    assert result.exit_code == 0, result.output
    assert sqlite3.connect(small_db).execute(
        "select status, rationale, reviewer from alignments where id = 1").fetchone() == (
        "accepted", "- measures angles\n- records", "@alice")


def test_an_apostrophe_before_a_formula_start_survives_the_round_trip(runner, small_db, tmp_path):
    """An audit of the exports: a rationale "'+/- tolerance' is what the task measures" and a reviewer
    "'-ops team" came back from crosswalk's CSV and SSSOM without their apostrophe (the guard left
    text that starts with one as it was; reading back took it for the guard's)."""
    rationale, reviewer = "'+/- tolerance' is what the task measures", "'-ops team"
    source = tmp_path / "source.db"
    source.write_bytes(small_db.read_bytes())
    assert runner.invoke(cli, ["decide", str(source), "1", "accept", "--rationale", rationale,
                               "--reviewer", reviewer]).exit_code == 0
    # (and an apostrophe before a tab, in a name whose spacing is tidied as it is read: the guard came
    # off after the tidying, which hid it, and the name gained an apostrophe)
    assert runner.invoke(cli, ["decide", str(source), "2", "accept", "--reviewer", "'\t=tabbed"]).exit_code == 0
    for name in ("earlier.csv", "earlier.sssom.tsv"):
        out = tmp_path / name
        assert runner.invoke(cli, ["export", str(source), str(out)]).exit_code == 0
        fresh = tmp_path / f"fresh-{name}.db"
        fresh.write_bytes(small_db.read_bytes())
        result = runner.invoke(cli, ["import-decisions", str(fresh), str(out)])
        assert result.exit_code == 0, result.output
        assert sqlite3.connect(fresh).execute(
            "select status, rationale, reviewer from alignments where id = 1").fetchone() == (
            "accepted", rationale, reviewer), name
        assert sqlite3.connect(fresh).execute("select reviewer from alignments where id = 2").fetchone() == (
            "' =tabbed",), name
        again = runner.invoke(cli, ["import-decisions", str(source), str(out)])
        assert (again.exit_code, "2 already recorded, 0 conflicts" in again.stdout) == (0, True), again.output


def test_a_csv_export_read_back_keeps_a_rationales_spacing_and_empty_lines(runner, small_db, tmp_path):
    """A rationale written with two spaces and an empty line (a pasted paragraph) was collapsed when
    crosswalk's own CSV export was read back: into the same database, a false conflict (exit 3);
    into a new one, the rationale stored altered."""
    rationale = "Layout uses  metric units.\n\nSee the shop's\tprint reading unit."
    source = tmp_path / "source.db"
    source.write_bytes(small_db.read_bytes())
    assert runner.invoke(cli, ["decide", str(source), "1", "accept", "--rationale", rationale,
                               "--reviewer", "alice"]).exit_code == 0
    out = tmp_path / "earlier.csv"
    assert runner.invoke(cli, ["export", str(source), str(out)]).exit_code == 0
    again = runner.invoke(cli, ["import-decisions", str(source), str(out)])
    assert (again.exit_code, "1 already recorded, 0 conflicts" in again.stdout) == (0, True), again.output
    result = runner.invoke(cli, ["import-decisions", str(small_db), str(out)])
    assert result.exit_code == 0, result.output
    assert sqlite3.connect(small_db).execute("select rationale from alignments where id = 1").fetchone() == (rationale,)


def test_a_plain_yes_keeps_the_strength_recorded_and_a_retired_standard_takes_no_decision(runner, small_db, tmp_path):
    """An earlier crosswalk's "Yes" for a pair accepted as partial is the decision recorded, as
    `crosswalk decide ID yes` says (it was read as "full" and reported as a conflict); and a standard
    retired since is no standard to decide on, framework named or not (named, it took an accepted
    alignment that certified nothing)."""
    from crosswalk.importer import import_file

    first = write_csv(tmp_path / "first.csv", [["source code", "target code", "decision"], ["W.2", "G-MG.1", "partial"]])
    assert runner.invoke(cli, ["import-decisions", str(small_db), str(first)]).exit_code == 0
    again = write_csv(tmp_path / "again.csv", [["source code", "target code", "decision"], ["W.2", "G-MG.1", "Yes"]])
    result = runner.invoke(cli, ["import-decisions", str(small_db), str(again)])
    assert result.exit_code == 0, result.output
    assert "1 already recorded, 0 conflicts" in result.stdout
    pair = ("select a.status, a.strength from alignments a join standards s on s.id = a.source_id "
            "join standards t on t.id = a.target_id where s.code = ? and t.code = ?")
    assert open_db(small_db).execute(pair, ["W.2", "G-MG.1"]).fetchall() == [("accepted", "partial")]

    db = open_db(small_db)
    framework = db.execute("select name from frameworks where kind = 'academic'").fetchone()[0]
    kept = [row for row in db.query("select code, statement, grade, subject from standards t "
                                    "where framework_id = (select id from frameworks where name = ?) "
                                    "and code != 'HS-PS3-4'", [framework])]
    import_file(db, write_csv(tmp_path / "fewer.csv", [["code", "statement", "grade", "subject"]]
                              + [list(r.values()) for r in kept]), framework=framework, kind="academic")
    db.close()
    late = write_csv(tmp_path / "late.csv", [["source code", "target code", "decision"], ["W.4", "HS-PS3-4", "full"],
                                             ["W.1", "N-Q.1", "full"]])
    for named in ([], ["--to", framework]):
        result = runner.invoke(cli, ["import-decisions", str(small_db), str(late), *named])
        assert result.exit_code == 0, result.output
        assert result.stderr == (f"Note: row 2 (W.4 → HS-PS3-4): 'HS-PS3-4' was retired by a re-import of "
                                 f"{framework}; its row is not applied\n")
    assert open_db(small_db).execute(pair, ["W.4", "HS-PS3-4"]).fetchall() == []


def test_a_csv_export_with_its_suggestions_is_read_back_without_them(runner, small_db, tmp_path):
    """`export --format csv --include-suggestions` wrote rows whose status is 'suggested': the whole
    file was refused ("not accept or reject"). Those rows decide nothing and are left out, said so."""
    path = str(small_db)
    assert runner.invoke(cli, ["decide", path, "1", "accept", "--strength", "partial", "--reviewer", "alice"]).exit_code == 0
    assert runner.invoke(cli, ["decide", path, "2", "reject", "--reviewer", "alice"]).exit_code == 0
    out = tmp_path / "all.csv"
    assert runner.invoke(cli, ["export", path, str(out), "--format", "csv", "--include-suggestions"]).exit_code == 0
    suggested = sqlite3.connect(path).execute(
        "select count(*) from current_alignments where status = 'suggested'").fetchone()[0]
    assert suggested > 0
    other = tmp_path / "other.db"
    shutil.copy(small_db, other)
    with sqlite3.connect(other) as conn:
        conn.execute("update alignments set status = 'suggested', strength = null, reviewer = null where id = 1")
    result = runner.invoke(cli, ["import-decisions", str(other), str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().endswith(f"; {suggested} suggestions without a decision left out"), result.stdout
    assert sqlite3.connect(other).execute("select status, strength from alignments where id = 1").fetchone() == (
        "accepted", "partial")


def test_a_pair_given_yes_then_partial_is_accepted_as_partial_in_either_order(runner, small_db, tmp_path):
    """A 'Yes' row and a 'Partial' row for one pair are one decision: partial (the first row won, so
    the file's order decided the strength)."""
    pair = ("select a.status, a.strength from alignments a join standards s on s.id = a.source_id "
            "join standards t on t.id = a.target_id where s.code = 'W.2' and t.code = 'G-MG.1'")
    for rows in ((["W.2", "G-MG.1", "Yes"], ["W.2", "G-MG.1", "Partial"]),
                 (["W.2", "G-MG.1", "Partial"], ["W.2", "G-MG.1", "Yes"])):
        with sqlite3.connect(small_db) as conn:
            conn.execute("update alignments set status = 'suggested', strength = null where status != 'suggested'")
        path = write_csv(tmp_path / "twice.csv", [["source code", "target code", "decision"], *rows])
        result = runner.invoke(cli, ["import-decisions", str(small_db), str(path)])
        assert result.exit_code == 0, result.output
        assert sqlite3.connect(small_db).execute(pair).fetchall() == [("accepted", "partial")]
        # (and the summary says why two rows made one decision: "Applied 1 decision" from 2 rows)
        assert result.stdout.startswith("Applied 1 decision from twice.csv")
        assert result.stdout.rstrip().endswith("; 1 row deciding a pair as an earlier one does, read once")


def test_when_a_decision_was_made_comes_with_it(runner, small_db, tmp_path):
    """A crosswalk's 'Reviewed at' column (the CSV export's reviewed_at) is when the decision was
    made: it was the time of the import. A value that is no date is an error naming its cell."""
    path = write_csv(tmp_path / "dated.csv", [["source code", "target code", "decision", "reviewed at"],
                                               ["W.1", "N-Q.1", "full", "2025-01-15T09:30:00Z"],
                                               ["W.2", "G-MG.1", "no", "2024-06-01"]])
    result = runner.invoke(cli, ["import-decisions", str(small_db), str(path)])
    assert result.exit_code == 0, result.output
    got = sqlite3.connect(small_db).execute(
        "select s.code, a.reviewed_at from alignments a join standards s on s.id = a.source_id "
        "where a.status != 'suggested' order by s.code").fetchall()
    assert got == [("W.1", "2025-01-15T09:30:00+00:00"), ("W.2", "2024-06-01T00:00:00+00:00")]
    before = small_db.read_bytes()
    bad = write_csv(tmp_path / "bad.csv", [["source code", "target code", "decision", "reviewed at"],
                                            ["W.3", "3.OA.1", "no", "spring 2023"]])
    result = runner.invoke(cli, ["import-decisions", str(small_db), str(bad)])
    assert (result.exit_code, result.stderr) == (
        1, "Error: bad.csv, row 2, column 4 (reviewed at): 'spring 2023' is not a date written as 2025-01-15 or "
           "2025-01-15T09:30:00+00:00 (in a spreadsheet, format the column as yyyy-mm-dd and save it again)\n")
    assert small_db.read_bytes() == before
    later = write_csv(tmp_path / "later.csv", [["source code", "target code", "decision", "reviewed at"],
                                              ["W.3", "3.OA.1", "no", "2099-01-01"]])
    result = runner.invoke(cli, ["import-decisions", str(small_db), str(later)])
    assert result.exit_code == 1 and "'2099-01-01' is a time to come" in result.stderr
    assert small_db.read_bytes() == before


def test_a_pair_the_other_way_round_or_of_one_kind_is_said_so(runner, small_db, tmp_path):
    """A pair whose codes run academic → CTE (as a CASE association may), or join two academic
    standards, was reported as 'no standard with code', which exists."""
    path = write_csv(tmp_path / "odd.csv", [["source code", "target code", "decision"],
                                             ["N-Q.1", "W.1", "full"], ["N-Q.1", "G-MG.1", "full"],
                                             ["W.2", "W.3", "full"], ["W.4", "HS-PS3-4", "full"]])
    result = runner.invoke(cli, ["import-decisions", str(small_db), str(path)])
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        "Note: row 2 (N-Q.1 → W.1): 'N-Q.1' is an academic standard and 'W.1' a CTE one: the pair runs the other "
        "way round (CTE first), left out",
        "Note: row 3 (N-Q.1 → G-MG.1): 'N-Q.1' is an academic standard, not a CTE (industry) one: a pair of two "
        "academic standards, left out",
        "Note: row 4 (W.2 → W.3): 'W.3' is a CTE (industry) standard, not an academic one: left out"]
    assert "Applied 1 decision" in result.stdout


def test_a_pair_decided_twice_in_codes_written_otherwise_is_an_error(runner, small_db, tmp_path):
    """`W.1,N-Q.1,accepted` and `w.1, n-q.1 ,rejected` name one pair: the second row was applied after
    the first and reported as a conflict with it (exit 0, the file's order deciding). It is the error
    an exact duplicate is, naming both rows, and nothing is written; agreeing rows are one decision."""
    path = write_csv(tmp_path / "twice.csv", [["source code", "target code", "decision"],
                                              ["W.1", "N-Q.1", "accepted"], ["w.1", " n-q.1 ", "rejected"]])
    before = small_db.read_bytes()
    result = runner.invoke(cli, ["import-decisions", str(small_db), str(path)])
    assert (result.exit_code, result.stdout, result.stderr) == (
        1, "", "Error: twice.csv, row 3, column 1 (source code): the pair w.1 → n-q.1 is also on row 2 "
               "(as W.1 → N-Q.1) with a different decision\n")
    assert small_db.read_bytes() == before
    exact = write_csv(tmp_path / "exact.csv", [["source code", "target code", "decision"],
                                               ["W.1", "N-Q.1", "accepted"], ["W.1", "N-Q.1", "rejected"]])
    result = runner.invoke(cli, ["import-decisions", str(small_db), str(exact)])
    assert (result.exit_code, result.stderr) == (
        1, "Error: exact.csv, row 3, column 1 (source code): the pair W.1 → N-Q.1 is also on row 2 with a "
           "different decision\n")
    assert small_db.read_bytes() == before
    # A 'Yes' row and a 'Partial' row in another case agree: one decision, partial, not "1 already recorded".
    agree = write_csv(tmp_path / "agree.csv", [["source code", "target code", "decision"],
                                               ["W.2", "G-MG.1", "Yes"], ["w.2", "g-mg.1", "Partial"]])
    result = runner.invoke(cli, ["import-decisions", str(small_db), str(agree)])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Applied 1 decision from agree.csv") and "0 already recorded, 0 conflicts" \
        in result.stdout, result.stdout
    assert sqlite3.connect(small_db).execute(
        "select a.status, a.strength from alignments a join standards s on s.id = a.source_id "
        "join standards t on t.id = a.target_id where s.code = 'W.2' and t.code = 'G-MG.1'").fetchall() == [
        ("accepted", "partial")]


def test_a_code_retired_by_a_reimport_is_said_so_not_unknown(runner, small_db, tmp_path):
    """A CTE statement a re-import retired (W.4, gone from the task list) was "no standard with code
    'W.4'", which the database holds, retired: the note says so, and that the row is not applied,
    framework named or not, the code written as it is or in another case."""
    from crosswalk.importer import import_file

    from .conftest import WELDING

    db = open_db(small_db)
    import_file(db, write_xlsx(tmp_path / "fewer.xlsx", [r for r in WELDING if not r or r[0] != "W.4"],
                               sheet="Tasks"), framework="Welding", kind="industry")
    assert db.execute("select status from standards where code = 'W.4'").fetchall() == [("retired",)]
    db.close()
    path = write_csv(tmp_path / "late.csv", [["source code", "target code", "decision"],
                                             ["W.4", "HS-PS3-4", "full"], ["w.4", "N-Q.1", "no"],
                                             ["W.1", "N-Q.1", "full"], ["W.8", "N-Q.1", "full"]])
    for named in ([], ["--from", "Welding"]):
        result = runner.invoke(cli, ["import-decisions", str(small_db), str(path), *named])
        assert result.exit_code == 0, result.output
        assert result.stderr.splitlines() == [
            "Note: row 2 (W.4 → HS-PS3-4): 'W.4' was retired by a re-import of Welding; its row is not applied",
            "Note: row 3 (w.4 → N-Q.1): 'w.4' was retired by a re-import of Welding; its row is not applied",
            "Note: row 5 (W.8 → N-Q.1): no standard with code 'W.8'"]
        assert "3 rows with codes not in the database" in result.stdout
    assert sqlite3.connect(small_db).execute(
        "select count(*) from alignments a join standards s on s.id = a.source_id "
        "where s.code = 'W.4' and a.status != 'suggested'").fetchone() == (0,)


def test_sheet_and_column_options_with_a_case_package_are_an_error_not_ignored(runner, small_db, tmp_path):
    """A CASE JSON package has no sheets or columns: `--sheet` and `--source-column` were ignored
    without a word, the package read as if they were not given. They are an error, nothing written."""
    source = tmp_path / "source.db"
    shutil.copy(small_db, source)
    assert runner.invoke(cli, ["decide", str(source), "1", "accept", "--reviewer", "alice"]).exit_code == 0
    package = tmp_path / "crosswalk-case.json"
    assert runner.invoke(cli, ["export", str(source), str(package), "--format", "case"]).exit_code == 0
    before = small_db.read_bytes()
    result = runner.invoke(cli, ["import-decisions", str(small_db), str(package), "--sheet", "Tasks",
                                 "--source-column", "CTE code", "--reviewer-column", "Reviewed by"])
    assert (result.exit_code, result.stdout, result.stderr) == (
        1, "", "Error: crosswalk-case.json: is a CASE JSON package, read for its alignments: --sheet, --source-column "
               "and --reviewer-column apply to spreadsheets and CSV files, not to a CASE package (leave out "
               "--sheet, --source-column and --reviewer-column)\n")
    result = runner.invoke(cli, ["import-decisions", str(small_db), str(package), "--decision-column", "Decision"])
    assert (result.exit_code, result.stderr) == (
        1, "Error: crosswalk-case.json: is a CASE JSON package, read for its alignments: --decision-column applies "
           "to spreadsheets and CSV files, not to a CASE package (leave out --decision-column)\n")
    assert small_db.read_bytes() == before
    # Without them, the package's alignment comes in.
    result = runner.invoke(cli, ["import-decisions", str(small_db), str(package)])
    assert result.exit_code == 0 and result.stdout.startswith("Applied 1 decision"), result.output


def test_an_sssom_export_is_read_back_as_decisions(runner, small_db, tmp_path):
    """`export --format sssom` wrote a file import-decisions refused ("has no decision or strength
    column"), though its rows say what a person decided: mapping_justification ManualMappingCuration,
    exactMatch full and closeMatch partial, author_label the reviewer, comment "partial: why". Its
    std:N ids are row ids of the database that exported them: the codes come from the labels."""
    source = tmp_path / "source.db"
    shutil.copy(small_db, source)
    pair = ("select s.code, t.code from alignments a join standards s on s.id = a.source_id "
            "join standards t on t.id = a.target_id where a.id = ?")
    accepted, rejected = (sqlite3.connect(source).execute(pair, [i]).fetchone() for i in (1, 2))
    assert runner.invoke(cli, ["decide", str(source), "1", "accept", "--strength", "partial", "--rationale",
                               "- measures: angles\nand units", "--reviewer", "@A. Rivera"]).exit_code == 0
    assert runner.invoke(cli, ["decide", str(source), "2", "reject", "--reviewer", "J. Chen"]).exit_code == 0
    out = tmp_path / "crosswalk.sssom.tsv"
    assert runner.invoke(cli, ["export", str(source), str(out), "--format", "sssom",
                               "--include-suggestions"]).exit_code == 0
    suggested = sum(1 for line in out.read_text().splitlines()
                    if "\tsemapv:LexicalMatching\t" in line and not line.startswith("#"))
    assert suggested > 0 and "\t'@A. Rivera\t" in out.read_text()  # (a label a spreadsheet would run, guarded)

    result = runner.invoke(cli, ["import-decisions", str(small_db), str(out)])
    assert (result.exit_code, result.stderr) == (0, ""), result.output
    assert result.stdout == (f"Applied 1 decision from crosswalk.sssom.tsv (0 new alignments); 0 already recorded, "
                             f"0 conflicts left as they were, 0 rows with codes not in the database; "
                             f"{suggested} suggestions without a decision left out\n")
    decided = sqlite3.connect(small_db).execute(
        "select s.code, t.code, a.status, a.strength, a.rationale, a.reviewer, a.reviewed_at from alignments a "
        "join standards s on s.id = a.source_id join standards t on t.id = a.target_id "
        "where a.status != 'suggested'").fetchall()
    today = sqlite3.connect(source).execute(
        "select substr(reviewed_at, 1, 10) from alignments where id = 1").fetchone()[0]
    # (the export writes a rationale on one line and the day only; a rejection it never writes)
    assert decided == [(*accepted, "accepted", "partial", "- measures: angles and units", "@A. Rivera",
                        f"{today}T00:00:00+00:00")]
    assert rejected not in [row[:2] for row in decided]
    again = runner.invoke(cli, ["import-decisions", str(small_db), str(out)])
    assert again.exit_code == 0 and "Applied 0 decisions" in again.stdout and "1 already recorded, 0 conflicts" \
        in again.stdout, again.output

    # Another tool's mapping set: a negated mapping is a rejection; an id with no code in its label stays
    # the code (not found); a predicate that is no alignment, or a --sheet, is an error, nothing written.
    header = ("subject_id\tsubject_label\tpredicate_id\tpredicate_modifier\tobject_id\tobject_label\t"
              "mapping_justification\n")
    other = tmp_path / "other.sssom.tsv"
    other.write_text("#curie_map:\n#  x: https://example.org/\n" + header
                     + "x:1\tW.3: Write an incident report\tskos:exactMatch\tNot\tx:9\t3.OA.1: Products\t"
                       "semapv:ManualMappingCuration\n"
                     + "x:2\tA task\tskos:exactMatch\t\tx:8\tN-Q.1: Units\tsemapv:ManualMappingCuration\n",
                     encoding="utf-8")
    result = runner.invoke(cli, ["import-decisions", str(small_db), str(other), "--reviewer", "State office"])
    assert result.exit_code == 0, result.output
    assert result.stderr == "Note: row 5 (x:2 → N-Q.1): no standard with code 'x:2'\n"
    assert sqlite3.connect(small_db).execute(
        "select a.status, a.reviewer from alignments a join standards s on s.id = a.source_id "
        "join standards t on t.id = a.target_id where s.code = 'W.3' and t.code = '3.OA.1'").fetchall() == [
        ("rejected", "State office")]
    before = small_db.read_bytes()
    bad = tmp_path / "bad.sssom.tsv"
    bad.write_text(header + "x:1\tW.2: Read blueprints\towl:sameAs\t\tx:9\tG-MG.1: Shapes\t"
                            "semapv:ManualMappingCuration\n", encoding="utf-8")
    result = runner.invoke(cli, ["import-decisions", str(small_db), str(bad)])
    assert (result.exit_code, result.stderr) == (
        1, "Error: bad.sssom.tsv, row 2, column 3 (predicate_id): the predicate 'owl:sameAs' is not read (expected "
           "skos:exactMatch, a full alignment, or skos:closeMatch, a partial one)\n")
    result = runner.invoke(cli, ["import-decisions", str(small_db), str(out), "--sheet", "Sheet1"])
    assert (result.exit_code, result.stderr) == (
        1, "Error: crosswalk.sssom.tsv: is an SSSOM mapping set, read for its alignments: --sheet applies to "
           "spreadsheets and CSV files, not to an SSSOM file (its columns are SSSOM's own) (leave out --sheet)\n")
    assert small_db.read_bytes() == before


def test_an_sssom_export_of_a_task_two_programs_share_is_read_back_into_each_framework(runner, small_db, tmp_path):
    """The demo's whole-crosswalk SSSOM could not be imported back ('the pair 11424 → RST.11-12.3 is also
    on row 34 with a different decision'): O*NET task 11424 is in two programs' frameworks. The set's
    description names each framework:N; and a rationale ending in ':' came back without it."""
    from crosswalk.importer import import_file

    from .conftest import WELDING

    db = open_db(small_db)
    import_file(db, write_xlsx(tmp_path / "w2.xlsx", WELDING, sheet="Tasks"), framework="Welding 2", kind="industry")
    a, b = (db.execute("select id from standards where code = 'W.1' and framework_id = "
                       "(select id from frameworks where name = ?)", [name]).fetchone()[0] for name in ("Welding",
                                                                                                     "Welding 2"))
    target = db.execute("select id from standards where code = 'N-Q.1'").fetchone()[0]
    db.execute("insert into alignments (source_id, target_id, score, method) values (?, ?, 50, 'test')", [b, target])
    db.conn.commit()
    ids = [db.execute("select id from alignments where source_id = ? and target_id = ?", [s, target]).fetchone()[0]
           for s in (a, b)]
    db.close()
    blank = tmp_path / "blank.db"
    shutil.copy(small_db, blank)
    assert runner.invoke(cli, ["decide", str(small_db), str(ids[0]), "accept", "--strength", "full", "--rationale",
                               "Covers the following:", "--reviewer", "alice"]).exit_code == 0
    assert runner.invoke(cli, ["decide", str(small_db), str(ids[1]), "accept", "--strength", "partial",
                               "--reviewer", "bob"]).exit_code == 0
    out = tmp_path / "all.sssom.tsv"
    assert runner.invoke(cli, ["export", str(small_db), str(out), "--format", "sssom"]).exit_code == 0
    result = runner.invoke(cli, ["import-decisions", str(blank), str(out)])
    assert result.exit_code == 0, result.output
    assert sqlite3.connect(blank).execute(
        "select f.name, s.code, t.code, a.strength, a.rationale, a.reviewer from alignments a join standards s on "
        "s.id = a.source_id join frameworks f on f.id = s.framework_id join standards t on t.id = a.target_id "
        "where a.status = 'accepted' order by f.name").fetchall() == [
        ("Welding", "W.1", "N-Q.1", "full", "Covers the following:", "alice"),
        ("Welding 2", "W.1", "N-Q.1", "partial", None, "bob")]


def _renamed_db(tmp_path, industry="Welding 2025", math="Maine Math", ela="Maine ELA"):
    """A database holding the small frameworks under other names, as a new year's database would, the
    academic one split in two (its Math standards, its ELA one)."""
    from crosswalk.importer import import_file

    from .conftest import ACADEMIC, WELDING

    path = tmp_path / "renamed.db"
    db = open_db(path)
    import_file(db, write_xlsx(tmp_path / "w.xlsx", WELDING, sheet="Tasks"), framework=industry, kind="industry")
    for name, subject in ((math, "Math"), (ela, "ELA")):
        rows = [ACADEMIC[0]] + [row for row in ACADEMIC[1:] if row[3] == subject]
        import_file(db, write_csv(tmp_path / f"{subject}.csv", rows), framework=name, kind="academic")
    db.close()
    return path


# An earlier crosswalk that names its frameworks, as crosswalk's CSV export does: two Math rows, one ELA.
NAMED = [
    ["industry_framework", "cte_code", "academic_framework", "standard_code", "status", "strength", "reviewer"],
    ["Welding", "W.1", "MLR Mathematics", "N-Q.1", "accepted", "full", "Maine CTE"],
    ["Welding", "W.2", "MLR Mathematics", "G-MG.1", "accepted", "partial", "Maine CTE"],
    ["Welding", "W.3", "MLR ELA", "W.9-10.2", "accepted", "full", "Maine CTE"],
]
DECIDED = ("select f.name, s.code, t.code, a.status, a.strength from alignments a join standards s on "
           "s.id = a.source_id join standards t on t.id = a.target_id join frameworks f on f.id = t.framework_id "
           "where a.status != 'suggested' order by s.code")


def test_from_and_to_win_over_framework_names_the_database_does_not_have(runner, tmp_path):
    """Into a database whose frameworks are named otherwise, a file naming its frameworks was refused
    ("no standard with code 'W.1' here ... name them with --from and --to") though W.1 is there and
    --from and --to were given: the file's names overrode the options. The options win; a note says
    which of the file's names they replaced. Likewise an SSSOM export, whose description names them."""
    db = _renamed_db(tmp_path)
    path = write_csv(tmp_path / "earlier.csv", NAMED)
    result = runner.invoke(cli, ["import-decisions", str(db), str(path), "--from", "Welding 2025",
                                 "--to", "Maine Math"])
    assert result.exit_code == 0, result.output
    assert result.stderr == (
        "Note: 3 rows name the industry framework 'Welding', which is not in this database: their codes are "
        "looked up in Welding 2025 (--from)\n"
        "Note: 2 rows name the academic framework 'MLR Mathematics', which is not in this database: their codes "
        "are looked up in Maine Math (--to)\n"
        "Note: 1 row names the academic framework 'MLR ELA', which is not in this database: its codes are "
        "looked up in Maine Math (--to)\n"
        "Note: row 4 (W.3 → W.9-10.2): no standard with code 'W.9-10.2' in Maine Math (it is in Maine ELA)\n")
    assert result.stdout == ("Applied 2 decisions from earlier.csv (2 new alignments); 0 already recorded, "
                             "0 conflicts left as they were, 1 row with codes not in the database\n")
    assert sqlite3.connect(db).execute(DECIDED).fetchall() == [
        ("Maine Math", "W.1", "N-Q.1", "accepted", "full"), ("Maine Math", "W.2", "G-MG.1", "accepted", "partial")]

    # The same decisions exported as SSSOM by a database with the file's names (whose description names
    # the frameworks): read so too (`--from` alone was refused the same way).
    (tmp_path / "old").mkdir()
    source = _renamed_db(tmp_path / "old", industry="Welding", math="MLR Mathematics", ela="MLR ELA")
    assert runner.invoke(cli, ["import-decisions", str(source), str(path)]).exit_code == 0
    out = tmp_path / "earlier.sssom.tsv"
    assert runner.invoke(cli, ["export", str(source), str(out), "--format", "sssom"]).exit_code == 0
    (tmp_path / "new").mkdir()
    fresh = _renamed_db(tmp_path / "new")
    result = runner.invoke(cli, ["import-decisions", str(fresh), str(out), "--from", "Welding 2025",
                                 "--to", "Maine ELA"])
    assert result.exit_code == 0, result.output
    assert result.stderr == (
        "Note: 3 rows name the industry framework 'Welding', which is not in this database: their codes are "
        "looked up in Welding 2025 (--from)\n"
        "Note: 2 rows name the academic framework 'MLR Mathematics', which is not in this database: their codes "
        "are looked up in Maine ELA (--to)\n"
        "Note: 1 row names the academic framework 'MLR ELA', which is not in this database: its codes are "
        "looked up in Maine ELA (--to)\n"
        "Note: row 15 (W.1 → N-Q.1): no standard with code 'N-Q.1' in Maine ELA (it is in Maine Math)\n"
        "Note: row 16 (W.2 → G-MG.1): no standard with code 'G-MG.1' in Maine ELA (it is in Maine Math)\n")
    assert result.stdout.startswith("Applied 1 decision from earlier.sssom.tsv (1 new alignment)")
    assert sqlite3.connect(fresh).execute(DECIDED).fetchall() == [("Maine ELA", "W.3", "W.9-10.2", "accepted", "full")]


def test_to_one_framework_leaves_out_the_rows_of_another_with_a_note(runner, tmp_path):
    """`--to "MLR Mathematics"` imported a file's ELA rows too, silently: a row's framework name
    overrode --to. The rows the file places in another framework of the database are left out, counted."""
    db = _renamed_db(tmp_path, industry="Welding", math="MLR Mathematics", ela="MLR ELA")
    path = write_csv(tmp_path / "earlier.csv", NAMED)
    result = runner.invoke(cli, ["import-decisions", str(db), str(path), "--to", "MLR Mathematics"])
    assert result.exit_code == 0, result.output
    assert result.stderr == "Note: 1 row names the academic framework 'MLR ELA', not MLR Mathematics (--to): left out\n"
    assert result.stdout == ("Applied 2 decisions from earlier.csv (2 new alignments); 0 already recorded, "
                             "0 conflicts left as they were, 0 rows with codes not in the database; "
                             "1 row of another framework left out\n")
    assert sqlite3.connect(db).execute(DECIDED).fetchall() == [
        ("MLR Mathematics", "W.1", "N-Q.1", "accepted", "full"),
        ("MLR Mathematics", "W.2", "G-MG.1", "accepted", "partial")]
    # A file none of whose rows is in --to's framework applies nothing: an error, the database as it was.
    before = db.read_bytes()
    result = runner.invoke(cli, ["import-decisions", str(db), str(write_csv(tmp_path / "ela.csv", [NAMED[0], NAMED[3]])),
                                 "--to", "MLR Mathematics"])
    assert (result.exit_code, result.stderr) == (1, (
        "Error: none of the decisions in ela.csv (1 row) is in MLR Mathematics (--to), so nothing was applied "
        "(1 row names the academic framework 'MLR ELA', not MLR Mathematics (--to): left out)\n"))
    assert db.read_bytes() == before


def test_codes_really_missing_are_said_so_without_asking_for_options_given(runner, tmp_path):
    """The error asked for --from and --to when they had been given, and said "no standard with code
    'W.1' here" where W.1 was in the database under another name than the file's."""
    db = _renamed_db(tmp_path)
    path = write_csv(tmp_path / "earlier.csv", NAMED)
    before = db.read_bytes()
    # Without options, the file's names are not in the database: said so, and what to do.
    result = runner.invoke(cli, ["import-decisions", str(db), str(path)])
    assert (result.exit_code, result.stderr) == (1, (
        "Error: none of the decisions in earlier.csv (3 rows) is between two standards in the database, so "
        "nothing was applied (row 2 (W.1 → N-Q.1): the file's industry framework 'Welding' is not in this "
        "database); import the frameworks first, or name them with --from and --to\n"))
    # With both given, codes that are in neither framework: no request for the options given.
    missing = write_csv(tmp_path / "missing.csv", [["source code", "target code", "decision"],
                                                   ["W.7", "N-Q.1", "full"], ["W.1", "A.9", "full"]])
    result = runner.invoke(cli, ["import-decisions", str(db), str(missing), "--from", "Welding 2025",
                                 "--to", "Maine Math"])
    assert (result.exit_code, result.stderr) == (1, (
        "Error: none of the decisions in missing.csv (2 rows) is between two standards in the database, so "
        "nothing was applied (row 2 (W.7 → N-Q.1): no standard with code 'W.7'); are they the codes of "
        "Welding 2025 (--from) and Maine Math (--to)?\n"))
    assert db.read_bytes() == before


def _decided_and_exported(runner, small_db, tmp_path, rationale: str, name: str):
    """A copy of ``small_db`` with alignment 1 accepted (full, by alice, ``rationale``), exported to
    ``name`` (its format by its name): (the copy, the export)."""
    source = tmp_path / "source.db"
    source.write_bytes(small_db.read_bytes())
    assert runner.invoke(cli, ["decide", str(source), "1", "accept", "--strength", "full", "--rationale",
                               rationale, "--reviewer", "alice"]).exit_code == 0
    out = tmp_path / name
    assert runner.invoke(cli, ["export", str(source), str(out)]).exit_code == 0
    return source, out


def _dump(path) -> list:
    conn = sqlite3.connect(path)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def test_a_case_package_that_says_its_alignments_wrongly_is_an_error_not_a_decision_changed(runner, small_db, tmp_path):
    """An audit of the interchange formats: in a CASE package read back by import-decisions, an
    association of a type CASE does not have was left out without a word, notes cut short lost the
    rationale, reviewer and date, notes saying partial on an exactMatchOf went through as partial, and
    an association with no origin named '(none)' as a code not found, each with exit status 0."""
    import json

    _, package = _decided_and_exported(runner, small_db, tmp_path, "Measures with units.", "crosswalk-case.json")
    exported = json.loads(package.read_text(encoding="utf-8"))
    at = next(i for i, a in enumerate(exported["CFAssociations"]) if a["associationType"] == "exactMatchOf")
    before = _dump(small_db)

    def mended(**change):
        document = json.loads(json.dumps(exported))
        association = document["CFAssociations"][at]
        for key, value in change.items():
            if value is None:
                association.pop(key)
            else:
                association[key] = value
        path = tmp_path / "mended.json"
        path.write_text(json.dumps(document), encoding="utf-8")
        result = runner.invoke(cli, ["import-decisions", str(small_db), str(path)])
        return result.exit_code, result.stderr.strip()

    notes = json.loads(exported["CFAssociations"][at]["notes"])
    n = at + 1
    assert mended(associationType="isAlignedTo") == (
        1, f"Error: mended.json: association {n}: the associationType 'isAlignedTo' is not one of CASE's (an "
           "alignment is exactMatchOf, full, or isRelatedTo, partial)")
    code, message = mended(notes=exported["CFAssociations"][at]["notes"][:20])  # (cut short)
    assert code == 1 and message.startswith(
        f"Error: mended.json: association {n}: its notes cannot be read as JSON (Unterminated string"), message
    assert mended(notes=json.dumps({**notes, "strength": "partial"})) == (
        1, f"Error: mended.json: association {n}: its associationType exactMatchOf says full, its notes say partial")
    assert mended(notes=json.dumps({**notes, "strength": "ful"})) == (
        1, f"Error: mended.json: association {n}: the strength 'ful' in its notes is not full or partial")
    assert mended(originNodeURI=None) == (
        1, f"Error: mended.json: association {n}: its originNodeURI names no item (a LinkURI object with an "
           "identifier is expected)")
    assert _dump(small_db) == before  # (nothing written by any of them)
    # Another tool's notes in plain words are the rationale; a structural association is no alignment.
    extra = {"identifier": "x-1", "associationType": "isChildOf", "uri": "x",
             "originNodeURI": exported["CFAssociations"][at]["originNodeURI"],
             "destinationNodeURI": exported["CFAssociations"][at]["destinationNodeURI"]}
    exported["CFAssociations"].append(extra)
    assert mended(notes="Students measure with units (committee, 2024).")[0] == 0
    assert sqlite3.connect(small_db).execute("select status, strength, rationale from alignments where id = 1"
                                             ).fetchone() == ("accepted", "full",
                                                              "Students measure with units (committee, 2024).")
    # (words that begin with a brace are words too: only crosswalk's own notes cut short are an error)
    with sqlite3.connect(small_db) as conn:
        conn.execute("update alignments set status = 'suggested', strength = null, rationale = null where id = 1")
    assert mended(notes="{Draft} aligned by the state committee")[0] == 0
    assert sqlite3.connect(small_db).execute("select rationale from alignments where id = 1").fetchone() == (
        "{Draft} aligned by the state committee",)


def test_an_sssom_file_that_says_its_decisions_wrongly_is_an_error_and_spacing_is_no_conflict(runner, small_db,
                                                                                             tmp_path):
    """An audit of the interchange formats: in an SSSOM file, a misspelt semapv:ManualMappingCuration
    was read as a matcher's suggestion (the decision left out), a mistyped predicate_modifier 'NOT!'
    accepted a rejection, a file without its mapping_justification column got the spreadsheet reader's
    message, a metadata block that was not YAML lost its frameworks without a word; and the export's
    rationale, written on one line, was a conflict read back into the database it came from."""
    source, out = _decided_and_exported(runner, small_db, tmp_path, "line one\nline two\twith a tab",
                                        "earlier.sssom.tsv")
    again = runner.invoke(cli, ["import-decisions", str(source), str(out)])
    assert (again.exit_code, "1 already recorded, 0 conflicts" in again.stdout) == (0, True), again.output
    assert sqlite3.connect(source).execute("select rationale from alignments where id = 1").fetchone() == (
        "line one\nline two\twith a tab",)

    text = out.read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    header_at = next(i for i, line in enumerate(lines) if not line.startswith("#"))
    header = lines[header_at].rstrip("\n").split("\t")
    row = header_at + 2  # (the first mapping's line)
    before = _dump(small_db)

    def edited(column, value, name="bad.sssom.tsv"):
        cells = lines[header_at + 1].rstrip("\n").split("\t")
        if column not in header:
            heads, cells = header + [column], cells + [value]
        else:
            heads = header
            cells[header.index(column)] = value
        path = tmp_path / name
        path.write_text("".join(lines[:header_at]) + "\t".join(heads) + "\n" + "\t".join(cells) + "\n",
                        encoding="utf-8")
        result = runner.invoke(cli, ["import-decisions", str(small_db), str(path)])
        return result.exit_code, result.stderr.strip()

    column = header.index("mapping_justification") + 1
    assert edited("mapping_justification", "semapv:ManualMapingCuration") == (
        1, f"Error: bad.sssom.tsv, row {row}, column {column} (mapping_justification): the mapping_justification "
           "'semapv:ManualMapingCuration' is not a SEMAPV justification: semapv:ManualMappingCuration, a person's "
           "decision, misspelt?")
    code, message = edited("predicate_modifier", "NOT!")
    assert code == 1 and message.endswith(
        "(predicate_modifier): the predicate_modifier 'NOT!' is not SSSOM's Not (a rejected mapping) nor empty "
        "(an accepted one)"), message
    without = tmp_path / "without.sssom.tsv"
    kept = [i for i, name in enumerate(header) if name != "mapping_justification"]
    without.write_text("".join(lines[:header_at]) + "".join(
        "\t".join(line.rstrip("\n").split("\t")[i] for i in kept) + "\n" for line in lines[header_at:]),
        encoding="utf-8")
    result = runner.invoke(cli, ["import-decisions", str(small_db), str(without)])
    assert (result.exit_code, result.stderr.strip()) == (
        1, f"Error: without.sssom.tsv, row {header_at + 1}: is an SSSOM TSV without its mapping_justification "
           "column (each mapping says why it was made: semapv:ManualMappingCuration for a person's decision)")
    broken = tmp_path / "broken.sssom.tsv"
    broken.write_text("".join(lines[:header_at]) + "# license: [unclosed\n" + "".join(lines[header_at:]),
                      encoding="utf-8")
    result = runner.invoke(cli, ["import-decisions", str(small_db), str(broken)])
    assert result.exit_code == 1 and re.match(
        r"Error: broken\.sssom\.tsv, row \d+: its metadata \(the lines starting with #\) cannot be read as YAML",
        result.stderr), result.stderr
    assert _dump(small_db) == before
    # (the review of that: another tool's comments that are not YAML name no frameworks of crosswalk's,
    # and are read for nothing; a table of decisions headed subject_id, object_id is no SSSOM TSV)
    other = tmp_path / "other.db"
    other.write_bytes(small_db.read_bytes())
    comments = tmp_path / "comments.sssom.tsv"
    comments.write_text("# Exported from MapTool v2\n# Reviewed by: Jane Doe, state office: CTE\n"
                        + "".join(lines[header_at:]), encoding="utf-8")
    assert runner.invoke(cli, ["import-decisions", str(other), str(comments)]).exit_code == 0
    table = tmp_path / "handmade.tsv"
    table.write_text("subject_id\tpredicate_id\tobject_id\tdecision\nW.2\tskos:closeMatch\tG-MG.1\treject\n",
                     encoding="utf-8")
    result = runner.invoke(cli, ["import-decisions", str(other), str(table)])
    assert result.exit_code == 0 and result.stdout.startswith("Applied 1 decision from handmade.tsv"), result.output
    # Not, in any case, is a rejection.
    assert edited("predicate_modifier", "not", name="rejected.sssom.tsv")[0] == 0
    assert sqlite3.connect(small_db).execute("select status from alignments where id = 1").fetchone() == (
        "rejected",)


def test_a_csv_row_is_numbered_as_a_spreadsheet_shows_it(runner, small_db, tmp_path):
    """An audit: after a rationale of two lines (as crosswalk's own CSV export writes one), a bad
    decision on the spreadsheet's row 3 was reported on "row 4", the file's line."""
    path = write_csv(tmp_path / "earlier.csv", [["source code", "target code", "decision", "rationale"],
                                                ["W.1", "N-Q.1", "accept", "Measures.\nWith units."],
                                                ["W.2", "G-MG.1", "maybe later", ""]])
    before = _dump(small_db)
    result = runner.invoke(cli, ["import-decisions", str(small_db), str(path)])
    assert result.exit_code == 1 and result.stderr.startswith("Error: earlier.csv, row 3, column 3 (decision)"), \
        result.stderr
    assert _dump(small_db) == before


def test_two_decision_columns_are_an_error_not_the_first_read(runner, small_db, tmp_path):
    """An audit: a decisions file with two Decision columns (accept, reject) applied the first,
    exit 0, as `import` refuses two columns of one name."""
    path = write_csv(tmp_path / "twice.csv", [["CTE code", "Academic standard", "Decision", "Decision"],
                                              ["W.1", "N-Q.1", "accept", "reject"]])
    before = _dump(small_db)
    result = runner.invoke(cli, ["import-decisions", str(small_db), str(path)])
    assert (result.exit_code, result.stderr.strip()) == (
        1, "Error: twice.csv, row 1: two columns are headed 'Decision': 3 (Decision) and 4 (Decision (2)); keep "
           "one, or name the one to read with --decision-column"), result.output
    assert _dump(small_db) == before
    named = runner.invoke(cli, ["import-decisions", str(small_db), str(path), "--decision-column", "Decision (2)"])
    assert named.exit_code == 0 and sqlite3.connect(small_db).execute(
        "select status from alignments where id = 1").fetchone() == ("rejected",), named.output
