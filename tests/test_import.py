import hashlib
import sqlite3
import unicodedata

import openpyxl
import pytest

from crosswalk.errors import SourceError
from crosswalk.importer import import_file
from crosswalk.sources import read_table
from crosswalk.text import parse_grades

from crosswalk.cli import cli

from .conftest import ACADEMIC, WELDING, write_csv, write_welding_xlsx, write_xlsx


def test_header_found_below_title_rows(db, welding_xlsx):
    result = import_file(db, welding_xlsx, framework="Welding", kind="industry")
    assert (result.rows, result.added) == (4, 4)
    assert result.mapping == {"code": "A (Task ID)", "statement": "B (Task)", "domain": "C (Duty Area)"}
    row = db.execute("select code, statement, domain, source_file, source_sheet, source_row from standards "
                     "where code = 'W.2'").fetchone()
    assert row == ("W.2", "Read blueprints and technical drawings to determine the angles of joints.",
                   "Layout", "welding.xlsx", "Tasks", 5)


def test_named_columns_and_sheet(db, tmp_path):
    path = write_xlsx(tmp_path / "two.xlsx", [["x"]], sheet="Cover", extra_sheets={
        "Competencies": [["Ref", "What the student does", "Band"], ["A1", "Calculate area of a floor plan.", "9-12"]]})
    result = import_file(db, path, framework="Carpentry", sheet="Competencies",
                         columns={"code": "Ref", "statement": "What the student does", "grade": "Band"})
    assert result.added == 1
    assert db.execute("select code, grade_low, grade_high, source_sheet from standards").fetchone() == (
        "A1", 9, 12, "Competencies")


def test_csv_windows_1252_and_semicolons(db, tmp_path):
    path = write_csv(tmp_path / "excel.csv", [["Code", "Statement"], ["C1", "Mesure l’angle — 90° café"]],
                     encoding="cp1252", delimiter=";")
    result = import_file(db, path, framework="French", kind="industry")
    assert result.added == 1
    assert db.execute("select statement from standards").fetchone()[0] == "Mesure l’angle — 90° café"
    assert "read as windows-1252" in result.warnings


def test_reimport_updates_in_place_and_retires(db, tmp_path, welding_xlsx):
    import_file(db, welding_xlsx, framework="Welding", kind="industry")
    ids = dict(db.execute("select code, id from standards").fetchall())
    edited = [r[:] for r in WELDING]
    edited[3][1] = "Measure the dimensions of workpieces with calipers."  # W.1 changed
    del edited[5]  # W.3 removed
    edited.append(["W.5", "Inspect welds for cracks.", "Quality"])
    path = write_xlsx(tmp_path / "welding2.xlsx", edited, sheet="Tasks")
    result = import_file(db, path, framework="Welding", kind="industry")
    assert (result.added, result.changed, result.unchanged, result.retired) == (1, 1, 2, 1)
    after = dict(db.execute("select code, id from standards").fetchall())
    assert all(after[code] == ids[code] for code in ids)  # stable ids
    assert db.execute("select status from standards where code = 'W.3'").fetchone()[0] == "retired"


def test_a_number_sign_names_the_code_and_a_description_the_statement(db, tmp_path):
    # "Task #" was normalised to "task", a statement name: the task numbers became the statements.
    path = write_xlsx(tmp_path / "tasks.xlsx", [["Duty Area", "Task #", "Task Description"],
                                                ["Safety", "A.1", "Inspect personal protective equipment."],
                                                ["Safety", "A.2", "Set up a fire watch before hot work."]])
    result = import_file(db, path, framework="Welding", kind="industry")
    assert result.mapping == {"code": "B (Task #)", "statement": "C (Task Description)", "domain": "A (Duty Area)"}
    assert db.execute("select code, statement from standards order by code").fetchall() == [
        ("A.1", "Inspect personal protective equipment."), ("A.2", "Set up a fire watch before hot work.")]
    other = write_xlsx(tmp_path / "other.xlsx", [["Competency No.", "Competency", "Parent ID"],
                                                 ["7", "Weld a lap joint.", ""]])
    assert import_file(db, other, framework="Other", kind="industry").mapping == {
        "code": "A (Competency No.)", "statement": "B (Competency)", "parent": "C (Parent ID)"}


def test_a_reimport_that_shares_no_code_is_refused_and_writes_nothing(db, tmp_path, welding_xlsx, runner):
    # A wrong column or a wrong file would retire every standard and put every review up again.
    import_file(db, welding_xlsx, framework="Welding", kind="industry")
    before = "\n".join(db.conn.iterdump())
    wrong = write_csv(tmp_path / "numbers.csv", [["Number", "Task"], ["1", "Weld a joint."], ["2", "Cut plate."]])
    with pytest.raises(SourceError) as error:
        import_file(db, wrong, framework="Welding", kind="industry")
    assert str(error.value).startswith(
        "numbers.csv, row 2: shares no code with the 4 standards of 'Welding' (codes read from column 1 (Number): "
        "'1' here, 'W.1' there), so importing it would retire every one of them; nothing was written")
    assert "\n".join(db.conn.iterdump()) == before
    path = str(tmp_path / "crosswalk.db")
    assert runner.invoke(cli, ["import", path, str(welding_xlsx), "--framework", "Welding", "--silent"]).exit_code == 0
    before = "\n".join(sqlite3.connect(path).iterdump())
    result = runner.invoke(cli, ["import", path, str(wrong), "--framework", "Welding", "--silent"])
    assert result.exit_code == 1 and "shares no code with the 4 standards" in result.output
    assert "\n".join(sqlite3.connect(path).iterdump()) == before
    # One code in common would retire 3 of 4: refused too (below), unless the framework really lost them.
    wrong = write_csv(tmp_path / "numbers.csv", [["Number", "Task"], ["W.1", "Weld a joint."], ["2", "Cut plate."]])
    with pytest.raises(SourceError, match="would retire 3 of the 4 standards of 'Welding'"):
        import_file(db, wrong, framework="Welding", kind="industry")
    result = import_file(db, wrong, framework="Welding", kind="industry", retire_missing=True)
    assert (result.added, result.changed, result.retired) == (1, 1, 3)


def test_a_reimport_that_would_retire_most_of_a_framework_is_refused_unless_said(runner, tmp_path):
    """A workbook whose first sheet lists this year's two reworded tasks, before the task list:
    read in its place, it retired 28 of 30 tasks, flagged every reviewed decision and deleted
    every suggestion (exit 0). Refused now (nothing written), a dry run says so, and the task
    list itself, or --retire-missing, imports."""
    tasks = [["Task ID", "Task"]] + [[f"W.{i}", f"Task number {i} of the welding program."] for i in range(1, 31)]
    path = str(tmp_path / "w.db")
    first = write_xlsx(tmp_path / "tasks.xlsx", tasks, sheet="Tasks")
    assert runner.invoke(cli, ["import", path, str(first), "--framework", "Welding", "--silent"]).exit_code == 0
    book = openpyxl.Workbook()
    changes = book.active
    changes.title = "Changes"
    for row in [["Task ID", "Task", "Change"], ["W.1", "Task number 1, reworded.", "reworded"],
                ["W.2", "Task number 2, reworded.", "reworded"]]:
        changes.append(row)
    listing = book.create_sheet("Tasks")
    for row in tasks:
        listing.append(row)
    book.save(tmp_path / "tasks-2025.xlsx")
    before = "\n".join(sqlite3.connect(path).iterdump())
    result = runner.invoke(cli, ["import", path, str(tmp_path / "tasks-2025.xlsx"), "--framework", "Welding",
                                 "--silent"])
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: tasks-2025.xlsx, sheet 'Changes': would retire 28 of the 30 standards "
                                    "of 'Welding': the file has 2 standards, 2 of them already there; nothing was "
                                    "written"), result.stderr
    assert "--retire-missing" in result.stderr
    assert "\n".join(sqlite3.connect(path).iterdump()) == before
    dry = runner.invoke(cli, ["import", path, str(tmp_path / "tasks-2025.xlsx"), "--framework", "Welding", "--dry-run"])
    assert dry.exit_code == 0 and "would retire 28 of the 30 standards" in dry.output
    right = runner.invoke(cli, ["import", path, str(tmp_path / "tasks-2025.xlsx"), "--framework", "Welding",
                                "--sheet", "Tasks", "--silent"])
    assert right.exit_code == 0 and "30 unchanged" in right.stdout, right.output
    said = runner.invoke(cli, ["import", path, str(tmp_path / "tasks-2025.xlsx"), "--framework", "Welding",
                               "--retire-missing", "--silent"])
    assert said.exit_code == 0 and "28 retired" in said.stdout, said.output


def test_a_statement_written_otherwise_is_updated_and_nobody_is_asked_to_review_again(db, tmp_path):
    # Case ("ph" -> "pH") was not applied at all, and the same words in NFD (a Mac's copy and paste)
    # flagged the accepted alignments for re-review, so they stopped certifying.
    nfc = "Prepare a résumé and measure the ph of a solution."
    first = write_csv(tmp_path / "tasks.csv", [["Code", "Statement"], ["T.1", nfc], ["T.2", "Weld a joint."]])
    import_file(db, first, framework="Tasks", kind="industry")
    import_file(db, write_csv(tmp_path / "math.csv", [["Code", "Statement"], ["N.1", "Use units."]]),
                framework="Math", kind="academic")
    (sid,) = db.execute("select id from standards where code = 'T.1'").fetchone()
    (tid,) = db.execute("select id from standards where code = 'N.1'").fetchone()
    db.execute("insert into alignments (source_id, target_id, score, status, strength) values (?, ?, 50, 'accepted', "
               "'full')", [sid, tid])
    db.conn.commit()
    # Autocorrect's quotes and dashes, and a full stop left off, are the same words too (each flagged before).
    for statement in (unicodedata.normalize("NFD", nfc), nfc.replace("ph", "pH"), nfc.replace("pH.", "pH")):
        again = write_csv(tmp_path / "tasks.csv", [["Code", "Statement"], ["T.1", statement], ["T.2", "Weld a joint."]])
        result = import_file(db, again, framework="Tasks", kind="industry")
        assert (result.changed, result.flagged) == (1, 0)
        assert db.execute("select statement from standards where id = ?", [sid]).fetchone()[0] == statement
        assert db.execute("select needs_review from alignments").fetchone()[0] == 0
    for statement in ("Prepare a résumé – and measure the “pH” of a solution’s sample",
                      "Prepare a résumé - and measure the \"pH\" of a solution's sample."):
        import_file(db, write_csv(tmp_path / "tasks.csv", [["Code", "Statement"], ["T.1", statement],
                                                          ["T.2", "Weld a joint."]]), framework="Tasks")
    db.execute("update alignments set needs_review = 0")
    db.conn.commit()
    for statement in ("Prepare a résumé — and measure the “pH” of a solution’s sample",
                      "Prepare a résumé – and measure the \"pH\" of a solution's sample."):
        again = write_csv(tmp_path / "tasks.csv", [["Code", "Statement"], ["T.1", statement], ["T.2", "Weld a joint."]])
        assert import_file(db, again, framework="Tasks").flagged == 0
    nfc = "Prepare a résumé – and measure the \"pH\" of a solution's sample."
    # A database from before text_hash read NFC holds the hash of the NFD text as it was: the same words.
    nfd = unicodedata.normalize("NFD", nfc)
    db.execute("update standards set statement = ?, text_hash = ? where id = ?",
               [nfd, hashlib.sha1(nfd.lower().encode("utf-8")).hexdigest()[:16], sid])
    db.conn.commit()
    again = write_csv(tmp_path / "tasks.csv", [["Code", "Statement"], ["T.1", nfc], ["T.2", "Weld a joint."]])
    result = import_file(db, again, framework="Tasks", kind="industry")
    assert (result.changed, result.flagged) == (1, 0)
    edited = write_csv(tmp_path / "tasks.csv", [["Code", "Statement"], ["T.1", "Prepare a cover letter."],
                                               ["T.2", "Weld a joint."]])
    assert import_file(db, edited, framework="Tasks", kind="industry").flagged == 1  # other words: flagged


@pytest.mark.parametrize("code", ["10-Jan", "2-Jan", "1/11/2024"])
def test_a_code_excel_turned_into_a_date_is_refused_in_a_csv_file_too(db, tmp_path, code):
    # In a workbook the cell says it is a date; in a CSV file saved from Excel only its shape does.
    path = write_csv(tmp_path / "tasks.csv", [["Code", "Statement"], ["1-9", "Weld a joint."], [code, "Cut plate."]])
    with pytest.raises(SourceError) as error:
        import_file(db, path, framework="Tasks", kind="industry")
    assert str(error.value) == (
        f"tasks.csv, row 3, column 1 (Code): the code is a date ({code}): a spreadsheet turns a code typed like 1-10 "
        "or 1/2 into a date (format the code column as Text, type the codes again, and import again)")
    assert db.execute("select count(*) from standards").fetchone()[0] == 0
    ok = write_csv(tmp_path / "ok.csv", [["Code", "Statement"], ["10-Janitorial", "Mop."], ["MAR-10", "Sell."],
                                          ["1/11", "Grind."]])
    assert import_file(db, ok, framework="Tasks", kind="industry").added == 3


def test_a_reimport_that_changes_nothing_leaves_the_frameworks_last_change(db, tmp_path, welding_xlsx):
    # imported_at is a CASE export's lastChangeDateTime: a consumer that syncs by it must not see a
    # change where none was made; a changed standard or changed metadata moves it.
    import_file(db, welding_xlsx, framework="Welding", kind="industry")
    long_ago = "2001-02-03T04:05:06+00:00"

    def last_change():
        return db.execute("select imported_at from frameworks where name = 'Welding'").fetchone()[0]

    db.execute("update frameworks set imported_at = ?", [long_ago])
    db.conn.commit()
    result = import_file(db, welding_xlsx, framework="Welding", kind="industry")
    assert (result.added, result.changed, result.retired, last_change()) == (0, 0, 0, long_ago)
    assert db.execute("select count(*) from import_log").fetchone()[0] == 2  # the import itself is logged
    import_file(db, welding_xlsx, framework="Welding", kind="industry", publisher="AWS")
    assert last_change() > long_ago
    db.execute("update frameworks set imported_at = ?", [long_ago])
    db.conn.commit()
    edited = [r[:] for r in WELDING]
    edited[3][1] = "Measure the dimensions of workpieces with calipers."
    result = import_file(db, write_xlsx(welding_xlsx, edited, sheet="Tasks"), framework="Welding",  # the same file, edited
                         kind="industry", publisher="AWS")
    assert result.changed == 1 and last_change() > long_ago


def test_a_retired_standard_back_in_the_file_is_active_again_under_its_id(db, tmp_path, welding_xlsx):
    import_file(db, welding_xlsx, framework="Welding", kind="industry")
    ids = dict(db.execute("select code, id from standards").fetchall())
    without = [r[:] for r in WELDING]
    del without[5]  # W.3 removed
    import_file(db, write_xlsx(tmp_path / "without.xlsx", without, sheet="Tasks"), framework="Welding", kind="industry")
    back = [r[:] for r in WELDING]
    back[5][1] = "Set up oxy-fuel cutting equipment and check its hoses."  # W.3 returns, reworded
    result = import_file(db, write_xlsx(tmp_path / "back.xlsx", back, sheet="Tasks"), framework="Welding",
                         kind="industry")
    assert (result.added, result.changed, result.retired, result.changed_codes) == (0, 1, 0, ["W.3"])
    assert db.execute("select id, status, statement, source_file from standards where code = 'W.3'").fetchone() == (
        ids["W.3"], "active", "Set up oxy-fuel cutting equipment and check its hoses.", "back.xlsx")
    assert dict(db.execute("select code, source_file from standards").fetchall()) == dict.fromkeys(ids, "back.xlsx")


def test_the_progress_of_an_import_is_complete_only_once_its_rows_are_written(db, tmp_path, welding_xlsx):
    # New and changed standards are written after the rows are compared: their progress is counted then.
    def progress(n):
        ticks.append((n, db.execute("select count(*) from standards where statement like 'Measure the dim%'"
                                    ).fetchone()[0], db.execute("select count(*) from standards").fetchone()[0]))

    ticks = []
    import_file(db, welding_xlsx, framework="Welding", kind="industry", progress=progress)
    assert ticks == [(4, 0, 4)]
    edited = [r[:] for r in WELDING]
    edited[3][1] = "Measure the dimensions of workpieces with calipers."  # W.1 changed, the others as they were
    (tmp_path / "v2").mkdir()
    ticks = []
    import_file(db, write_xlsx(tmp_path / "v2" / "welding.xlsx", edited, sheet="Tasks"), framework="Welding",
                kind="industry", progress=progress)  # the same file name: the unchanged rows are not moved
    assert ticks == [(1, 0, 4)] * 3 + [(1, 1, 4)]


def test_search_finds_imported_and_edited_standards_and_a_failed_import_leaves_the_index(db, tmp_path, welding_xlsx):
    # The importer indexes new standards in one statement, its insert trigger set aside meanwhile.
    def found(words):
        return sorted(r[0] for r in db.execute(
            "select s.code from standards_fts join standards s on s.rowid = standards_fts.rowid "
            "where standards_fts match ?", [words]))

    triggers = db.execute("select name, sql from sqlite_master where type = 'trigger' order by name").fetchall()
    import_file(db, welding_xlsx, framework="Welding", kind="industry")
    assert found("blueprints") == ["W.2"]
    assert db.execute("select name, sql from sqlite_master where type = 'trigger' order by name").fetchall() == triggers
    edited = [r[:] for r in WELDING]
    edited[3][1] = "Measure the dimensions of workpieces with calipers."  # W.1 changed: the update trigger
    edited.append(["W.5", "Inspect welds for porosity.", "Quality"])  # added: the bulk insert again
    import_file(db, write_xlsx(tmp_path / "welding2.xlsx", edited, sheet="Tasks"), framework="Welding", kind="industry")
    assert (found("calipers"), found("porosity"), found("blueprints")) == (["W.1"], ["W.5"], ["W.2"])
    db.execute("insert into standards (framework_id, code, statement) select framework_id, 'W.9', "
               "'Grind bevels on plate edges.' from standards limit 1")  # the trigger is back in place
    assert found("bevels") == ["W.9"]
    # An import rolled back with the transaction around it leaves the trigger and the index as they were.
    more = write_xlsx(tmp_path / "welding3.xlsx", edited + [["W.6", "Braze copper tubing.", "Joining"]], sheet="Tasks")
    with pytest.raises(ZeroDivisionError):
        with db.atomic():
            import_file(db, more, framework="Welding", kind="industry")
            assert found("copper") == ["W.6"]
            1 / 0
    assert found("copper") == []
    assert db.execute("select name, sql from sqlite_master where type = 'trigger' order by name").fetchall() == triggers
    db.execute("insert into standards_fts (standards_fts) values ('integrity-check')")  # raises if the index is off


def test_reimport_keeps_and_flags_commented_suggestions_of_changed_and_retired_standards(
        db, tmp_path, welding_xlsx, academic_csv):
    from crosswalk.matching import match
    from crosswalk.review import add_comment

    import_file(db, welding_xlsx, framework="Welding", kind="industry")
    import_file(db, academic_csv, framework="Academic", kind="academic")
    match(db, source="Welding", target="Academic", top=2, use_embeddings=False)
    by_code = {code: aid for code, aid in db.execute(
        "select s.code, a.id from alignments a join standards s on s.id = a.source_id where a.rank = 1")}
    add_comment(db, by_code["W.1"], "Calipers: yes; rulers: no.", reviewer="ana")
    add_comment(db, by_code["W.3"], "Ask the welding teacher.", reviewer="ben")
    edited = [r[:] for r in WELDING]
    edited[3][1] = "Measure the dimensions of workpieces with calipers."  # W.1 changed
    del edited[5]  # W.3 removed
    result = import_file(db, write_xlsx(tmp_path / "welding2.xlsx", edited, sheet="Tasks"),
                         framework="Welding", kind="industry")
    assert (result.changed, result.retired, result.flagged) == (1, 1, 2)
    rows = db.execute("select s.code, a.status, a.needs_review, a.needs_review_reason from alignments a "
                      "join standards s on s.id = a.source_id where s.code in ('W.1', 'W.3') order by s.code").fetchall()
    assert [r[:3] for r in rows] == [("W.1", "suggested", 1), ("W.3", "suggested", 1)]
    assert rows[0][3].startswith("statement changed on re-import; it was: Measure ")
    assert rows[1][3] == "standard W.3 retired on re-import: it is no longer in welding2.xlsx"
    assert db["review_comments"].count == 2


def test_duplicate_code_names_both_rows(db, tmp_path):
    path = write_xlsx(tmp_path / "dup.xlsx", [["Code", "Statement"], ["A", "One"], ["A", "Two"]], sheet="S")
    with pytest.raises(SourceError) as info:
        import_file(db, path, framework="X")
    assert str(info.value) == "dup.xlsx, sheet 'S', row 3, column A (Code): duplicate code 'A': it is also on row 2"
    assert db["standards"].count == 0 and db["frameworks"].count == 0


def test_missing_statement_column(db, tmp_path):
    path = write_csv(tmp_path / "bad.csv", [["Code", "Points"], ["A", "3"]])
    with pytest.raises(SourceError) as info:
        import_file(db, path, framework="X")
    assert "bad.csv, row 1: has no statement column" in str(info.value)


def test_not_a_spreadsheet(db, tmp_path):
    path = tmp_path / "photo.xlsx"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100)
    with pytest.raises(SourceError) as info:
        read_table(path)
    assert str(info.value).startswith("photo.xlsx: is not")


@pytest.mark.parametrize("text,expected", [
    ("9-12", (9, 12)), ("K,01,02,03", (0, 3)), ("HS", (9, 12)), ("MS", (6, 8)), ("09,10", (9, 10)),
    ("K", (0, 0)), ("", (None, None)), ("Grade 7", (7, 7)),
    # Numbers no grade has (a year; a huge number, which SQLite cannot even store): the range is unknown.
    ("2020", (None, None)), ("9223372036854775808", (None, None)), ("9-99", (9, 9)),
    # In words, as some states' documents write them (read before: no grade band, counted in every one).
    ("Grades Nine through Twelve", (9, 12)), ("ninth through twelfth", (9, 12)), ("Eleventh grade", (11, 11)),
    ("9th-12th", (9, 12)),
])
def test_parse_grades(text, expected):
    assert parse_grades(text) == expected


def test_two_statement_columns_are_refused_and_the_text_column_chooses_one(db, tmp_path):
    path = write_xlsx(tmp_path / "two.xlsx", [["Code", "Standard", "Grade", "Standard"],
                                             ["A.1", "Measure a part.", "9", "Mesurer une pièce."]])
    with pytest.raises(SourceError, match="has 2 statement columns named 'Standard'"):
        import_file(db, path, framework="F")
    for name, statement in (("Standard", "Measure a part."), ("Standard (2)", "Mesurer une pièce."),
                            ("D", "Mesurer une pièce.")):
        import_file(db, path, framework=name, columns={"statement": name})
        assert db.execute("select s.code, s.statement, s.grade from standards s join frameworks f "
                          "on f.id = s.framework_id where f.name = ?", [name]).fetchall() == [("A.1", statement, "9")]


def test_a_header_merged_over_the_codes_and_the_statements_reads_both(db, tmp_path):
    # "Standard" merged over A:B, the codes in A and the statements in B, as state task lists have it.
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in (["Standard", None, "Grade"], ["W.1", "Weld a fillet joint.", "9-12"], ["W.2", "Read a print.", "9-12"]):
        sheet.append(row)
    sheet.merge_cells("A1:B1")
    workbook.save(tmp_path / "merged.xlsx")
    result = import_file(db, tmp_path / "merged.xlsx", framework="Welding")
    assert db.execute("select code, statement, grade from standards order by code").fetchall() == [
        ("W.1", "Weld a fillet joint.", "9-12"), ("W.2", "Read a print.", "9-12")]
    assert "columns A and B share the header 'Standard': A read as the codes, B as the statements" in result.warnings
    # The same two columns typed, the statements on the left: no reading is sure, so the import asks.
    path = write_csv(tmp_path / "swapped.csv", [["Task", "Task"], ["Weld a fillet joint.", "W.1"]])
    with pytest.raises(SourceError, match="has 2 statement columns named 'Task'"):
        import_file(db, path, framework="Swapped")
    # Beside a column named for the codes, two "Standard" columns are two statements: asked as before.
    path = write_csv(tmp_path / "coded.csv", [["Code", "Standard", "Standard"], ["A.1", "W.1", "Weld."]])
    with pytest.raises(SourceError, match="has 2 statement columns named 'Standard'"):
        import_file(db, path, framework="Coded")


def test_the_header_is_found_below_a_details_block(db, tmp_path):
    details = [["Program", "Automotive Technology"], ["Description", "Prepares students for entry-level work."],
               ["Updated", "2024-25"], []]
    path = write_xlsx(tmp_path / "auto.xlsx", details + [["Task #", "Task Description", "Priority (P-1/P-2)"],
                                                         ["AUT-01", "Measure coolant freeze point.", "P-1"],
                                                         ["AUT-02", "Calculate labor cost.", "P-2"]])
    import_file(db, path, framework="Auto")
    assert db.execute("select code, statement from standards order by code").fetchall() == [
        ("AUT-01", "Measure coolant freeze point."), ("AUT-02", "Calculate labor cost.")]
    # Columns of names no list holds: those the user names find the header.
    path = write_xlsx(tmp_path / "skills.xlsx", details + [["Skill #", "Skill Wording"], ["S-1", "Weld a joint."]])
    import_file(db, path, framework="Skills", columns={"statement": "Skill Wording"})
    assert db.execute("select s.code, s.statement from standards s join frameworks f on f.id = s.framework_id "
                      "where f.name = 'Skills'").fetchall() == [("S-1", "Weld a joint.")]


def test_a_program_of_study_reads_its_numbered_duty_areas_as_headings(db, tmp_path):
    path = write_xlsx(tmp_path / "pos.xlsx", [
        ["Standard", "Competency", "Hours"],
        ["1.0", "SAFETY", None],
        ["1.1", "Demonstrate safe use of PPE in the welding lab.", 4],
        ["1.1.a", "Inspect a welding helmet lens for damage.", 1],
        ["2.0", "SHIELDED METAL ARC WELDING", None],
        ["2.1", "Strike and maintain an arc.", 6],
        ["3.0", "Blueprint reading and measurement", 2],  # a standard with its tasks (not in capitals)
        ["3.1", "Read dimensions on a shop drawing.", 2],
        ["4.1", "CPR", 1],  # an acronym as a task, not a title: 4.2 is no part of 4.1
        ["4.2", "Treat a burn.", 1],
        ["5.0", "FIRST AID", 1], ["5", "Apply a bandage.", 1]])  # (5 after 5.0: no section of its own
    result = import_file(db, path, framework="POS")
    rows = db.execute("select s.code, s.statement, s.domain, p.code from standards s "
                      "left join standards p on p.id = s.parent_id order by s.code").fetchall()
    assert rows == [
        ("1.1", "Demonstrate safe use of PPE in the welding lab.", "1.0 SAFETY", None),
        ("1.1.a", "Inspect a welding helmet lens for damage.", "1.0 SAFETY", "1.1"),
        ("2.1", "Strike and maintain an arc.", "2.0 SHIELDED METAL ARC WELDING", None),
        ("3.0", "Blueprint reading and measurement", "2.0 SHIELDED METAL ARC WELDING", None),
        ("3.1", "Read dimensions on a shop drawing.", "2.0 SHIELDED METAL ARC WELDING", "3.0"),
        ("4.1", "CPR", "2.0 SHIELDED METAL ARC WELDING", None),
        ("4.2", "Treat a burn.", "2.0 SHIELDED METAL ARC WELDING", None),
        ("5", "Apply a bandage.", "2.0 SHIELDED METAL ARC WELDING", None),
        ("5.0", "FIRST AID", "2.0 SHIELDED METAL ARC WELDING", "5")]
    assert "sheet 'Sheet1' rows read as section headings (the domain of the rows below): 2, 5" in result.warnings


def test_a_column_of_yes_and_no_is_not_taken_for_the_header(db, tmp_path):
    # As NCES's CIP 2020 list has it: a TextChange column of yes / no, "no" being a code column's name.
    path = write_csv(tmp_path / "cip.csv", [["CIPCode", "TextChange", "CIPTitle"], ["01", "yes", "Agriculture."],
                                            ["01.00", "no", "Agriculture, General."], ["01.01", "no", "Business."],
                                            ["01.02", "no", "Mechanization."]])
    with pytest.raises(SourceError) as info:
        import_file(db, path, framework="CIP")
    assert str(info.value).startswith("cip.csv, row 1: has no statement column (expected a header such as")
    assert "its columns are: 'CIPCode', 'TextChange', 'CIPTitle'" in str(info.value)


@pytest.mark.parametrize("code", ["Apr-35", "1-Apr-35", "04/01/24", "10-Jan", "1/11/2024"])
def test_a_code_a_spreadsheet_made_a_date_of_in_a_csv_file_is_refused(db, tmp_path, code):
    path = write_csv(tmp_path / "dates.csv", [["Code", "Statement"], ["4.1", "Face a part."], [code, "Cut a thread."]])
    with pytest.raises(SourceError) as info:
        import_file(db, path, framework="Lathe")
    assert str(info.value).startswith(f"dates.csv, row 3, column 1 (Code): the code is a date ({code})")
    assert db["standards"].count == 0


def test_grade_bands_a_spreadsheet_made_dates_of_are_read_as_typed(db, tmp_path):
    import datetime
    rows = [["Code", "Statement", "Grade"], ["A.1", "Measure.", "12-Nov"], ["A.2", "Cut.", "10-Sep"],
            ["A.3", "Weld.", "9-12"], ["A.4", "Read.", "Dec-40"]]
    import_file(db, write_csv(tmp_path / "grades.csv", rows), framework="CSV")
    rows[1][2], rows[2][2] = datetime.datetime(2024, 11, 12), datetime.datetime(2024, 9, 10)  # Excel's own cells
    result = import_file(db, write_xlsx(tmp_path / "grades.xlsx", rows), framework="Workbook")
    for framework in ("CSV", "Workbook"):
        assert db.execute("select s.code, s.grade, s.grade_low, s.grade_high from standards s join frameworks f "
                          "on f.id = s.framework_id where f.name = ? order by s.code", [framework]).fetchall() == [
            ("A.1", "11-12", 11, 12), ("A.2", "9-10", 9, 10), ("A.3", "9-12", 9, 12), ("A.4", "Dec-40", None, None)]
    assert ("sheet 'Sheet1' grades a spreadsheet had turned into dates (11-12 typed, saved as 12-Nov) read as the "
            "bands typed, on rows 2 (11-12), 3 (9-10); format the grade column as Text") in result.warnings


def test_headings_in_the_code_cell_and_notes_under_the_table(db, tmp_path):
    note = ("Note: all competencies must be demonstrated in a commercial kitchen setting under instructor "
            "supervision, per the state program approval rules for secondary culinary programs (2023).")
    path = write_xlsx(tmp_path / "culinary.xlsx", [
        ["Code", "Task Statement"], ["1.0 SAFETY", None], ["1.1", "Identify kitchen hazards."],
        ["AUT 101", None], ["2.1", "Wash hands correctly."], [None, note], [None, "* Hours are recommended."]])
    with pytest.raises(SourceError, match="row 4, column B \\(Task Statement\\): the statement is empty for code 'AUT 101'"):
        import_file(db, path, framework="Culinary")  # a code with a space, its statement missing
    path = write_xlsx(tmp_path / "culinary.xlsx", [
        ["Code", "Task Statement"], ["1.0 SAFETY", None], ["1.1", "Identify kitchen hazards."],
        ["2.1", "Wash hands correctly."], [None, note], [None, "* Hours are recommended."]])
    result = import_file(db, path, framework="Culinary")
    assert db.execute("select code, domain from standards order by code").fetchall() == [
        ("1.1", "1.0 SAFETY"), ("2.1", "1.0 SAFETY")]
    assert "sheet 'Sheet1' rows without a code read as notes, not standards: 5, 6" in result.warnings
    # Without a code column, a bulleted statement is a standard; a note still is not.
    path = write_csv(tmp_path / "bullets.csv", [["Task"], ["* Wash hands."], ["Note: see the program guide."]])
    import_file(db, path, framework="Bullets")
    assert [row[0] for row in db.execute("select s.statement from standards s join frameworks f "
                                         "on f.id = s.framework_id where f.name = 'Bullets'")] == ["* Wash hands."]


def test_all_sheets_leaves_out_a_sheet_with_only_a_header_and_a_cover_sheet_names_the_others(db, tmp_path):
    path = write_xlsx(tmp_path / "nims.xlsx", [["How to use this task list"], ["Read each sheet."]],
                      sheet="Instructions", extra_sheets={"Lathe": [["Task #", "Task"], ["L-1", "Face a part."]],
                                                          "Mill": [["Task #", "Task"]]})
    with pytest.raises(SourceError) as info:
        import_file(db, path, framework="NIMS")
    assert str(info.value).endswith("(name it with --text-column, or read another sheet with --sheet ('Lathe', 'Mill') "
                                    "or every one with --all-sheets)")
    result = import_file(db, path, framework="NIMS", all_sheets=True)
    assert db.execute("select code, domain from standards").fetchall() == [("L-1", "Lathe")]
    assert "sheet 'Mill' left out: it has a header but no standards below it" in result.warnings


def test_a_grade_not_understood_is_named(db, tmp_path):
    path = write_csv(tmp_path / "grades.csv", [["Code", "Statement", "Grade"], ["A.1", "Measure.", "Nine to twelve"],
                                               ["A.2", "Cut.", "Adult ed"], ["A.3", "Weld.", ""]])
    result = import_file(db, path, framework="G")
    assert db.execute("select code, grade_low, grade_high from standards order by code").fetchall() == [
        ("A.1", 9, 12), ("A.2", None, None), ("A.3", None, None)]
    assert result.warnings == ["grades not understood, left without a grade band (so counted in every band): "
                               "rows 3 ('Adult ed'); write them as 9-12, K-5, HS or Grade 8"]


def test_all_sheets_refuses_a_sheet_with_two_statement_columns_rather_than_leaving_it_out(db, tmp_path):
    path = write_xlsx(tmp_path / "two.xlsx", [["Code", "Statement"], ["A.1", "Measure."]],
                      extra_sheets={"French": [["Code", "Task", "Task"], ["B.1", "Mesurer.", "Couper."]]})
    with pytest.raises(SourceError, match="sheet 'French', row 1: has 2 statement columns named 'Task'"):
        import_file(db, path, framework="F", all_sheets=True)
    assert db["standards"].count == 0


def test_a_standard_named_as_its_own_parent_is_a_root_and_a_longer_circle_is_refused(db, tmp_path):
    path = write_csv(tmp_path / "math.csv", [["code", "statement", "parent"], ["MP1", "Make sense of problems.", "MP1"],
                                            ["MP2", "Reason abstractly.", "MP1"]])
    result = import_file(db, path, framework="Math", kind="academic")
    assert result.warnings == ["standards naming themselves as their parent were imported without one: MP1 (row 2)"]
    assert db.execute("select s.code, p.code from standards s left join standards p on p.id = s.parent_id "
                      "order by s.id").fetchall() == [("MP1", None), ("MP2", "MP1")]
    circle = write_csv(tmp_path / "circle.csv", [["code", "statement", "parent"], ["A", "One.", "C"],
                                                ["B", "Two.", "A"], ["C", "Three.", "B"], ["D", "Four.", "C"]])
    with pytest.raises(SourceError) as info:
        import_file(db, circle, framework="Circle")
    assert str(info.value) == (
        "circle.csv, row 2, column 3 (parent): the parent codes go round in a circle: A (row 2) → C (row 4) → "
        "B (row 3) → A (a standard can not be its own ancestor: correct the parent code of one of them)")
    assert db["frameworks"].count == 1


def test_without_a_code_column_a_standard_is_known_by_its_statement_and_the_import_says_so(db, tmp_path):
    """No code column: codes made from the statements, which a re-import of the same file finds
    again; the import says what an edited statement then means, and one statement twice is named
    as such, not as a code the user never typed."""
    path = write_csv(tmp_path / "tasks.csv", [["Task", "Hours"], ["Weld a joint.", "3"], ["Cut steel plate.", "2"]])
    result = import_file(db, path, framework="Tasks")
    codes = [code for (code,) in db.execute("select code from standards order by id")]
    assert len(codes) == 2 and all(code.startswith("T-") and len(code) == 12 for code in codes)
    assert result.warnings == [
        f"the file has no code column: each standard's code is made from its statement ({codes[0]} on row 2), so a "
        "statement edited later is a new standard and the old one's decisions are kept as retired, not flagged "
        "to re-review; add a code column (or name it with --code-column) to keep them"]
    again = import_file(db, path, framework="Tasks")
    assert (again.added, again.unchanged, again.retired) == (0, 2, 0)
    twice = write_csv(tmp_path / "twice.csv", [["Task"], ["Weld a joint."], ["Weld a joint."]])
    with pytest.raises(SourceError) as info:
        import_file(db, twice, framework="Twice")
    assert str(info.value) == ("twice.csv, row 3, column 1 (Task): the same statement is also on row 2 (with no code "
                               "column, a standard is known by its statement) (add a code column, or remove one of "
                               "the two rows)")


def test_what_a_spreadsheet_garbled_is_an_error_naming_the_cell(db, tmp_path):
    """A formula's error value, a code a spreadsheet turned into a date, UTF-8 with a row in another
    encoding, a PDF named .csv: each an error naming the file, the row and the column; nothing imported."""
    import datetime

    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Tasks"
    ws.append(["Code", "Statement"])
    ws.append(["X.1", "Measure a part."])
    ws.append(["X.2", "#REF!"])
    ws["B3"].data_type = "e"  # as Excel saves a formula that failed
    wb.save(tmp_path / "errors.xlsx")
    wb = openpyxl.Workbook()
    wb.active.append(["Code", "Statement"])
    wb.active.append([datetime.datetime(2024, 1, 10), "Measure a part."])  # "1-10", as Excel reads it
    wb.save(tmp_path / "dates.xlsx")
    (tmp_path / "mixed.csv").write_bytes("Code,Statement\nX.1,Weld a joint — café\nX.2,Cut a pipe\n".encode()
                                         + b"X.3,Caf\xe9 work\n")
    (tmp_path / "report.csv").write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\n")
    for name, said in (
        ("errors.xlsx", "errors.xlsx, sheet 'Tasks', row 3, column B (Statement): the statement is the error value "
                        "#REF!: the formula in this cell failed, so the file holds no value for it"),
        ("dates.xlsx", "dates.xlsx, sheet 'Sheet', row 2, column A (Code): the code is a date (2024-01-10): a "
                       "spreadsheet turns a code typed like 1-10 or 1/2 into a date"),
        ("mixed.csv", "mixed.csv, row 4, column 2 (Statement): is UTF-8 text but for this row, which is in another "
                      "encoding"),
        ("report.csv", "report.csv: is a PDF document, not a spreadsheet"),
    ):
        with pytest.raises(SourceError) as info:
            import_file(db, tmp_path / name, framework="X")
        assert str(info.value).startswith(said), name
    assert db["standards"].count == 0 and db["frameworks"].count == 0
    # A Windows-1252 file whose letters happen to make a valid UTF-8 pair ("groß“": \xdf\x93) is still
    # read as Windows-1252: it takes most of the accented lines reading as UTF-8 to call a file UTF-8.
    (tmp_path / "de.csv").write_bytes(b"Code,Statement\nD.1,Messen Sie die Gr\xf6\xdfe des Werkst\xfccks.\n"
                                      b"D.2,Ein gro\xdf\x93er Teil.\n")
    assert read_table(tmp_path / "de.csv").rows == [(2, ["D.1", "Messen Sie die Größe des Werkstücks."]),
                                                    (3, ["D.2", "Ein groß“er Teil."])]
    # UTF-8 rows of mathematics (≤, ∠: three bytes) or of Polish (ł, ę: two bytes, most lines) beside a
    # Windows-1252 row are still named, not garbled ("x â‰¤ 5").
    (tmp_path / "math.csv").write_bytes("Code,Statement\nM.1,Solve x ≤ 5\nM.2,Find ∠ABC\n".encode() + b"M.3,Caf\xe9\n")
    (tmp_path / "pl.csv").write_bytes("Code,Statement\nP.1,Spawanie łukowe\nP.2,Cięcie\n".encode() + b"P.3,Caf\xe9\n")
    for name in ("math.csv", "pl.csv"):
        with pytest.raises(SourceError, match=f"{name}, row 4, column 2 \\(Statement\\): is UTF-8 text but for this row"):
            read_table(tmp_path / name)


def test_characters_no_one_can_see_are_left_out_and_a_workbook_named_csv_or_with_a_chart_is_read(db, tmp_path):
    """A vertical tab (Mac Excel's line break) is a line break, other control characters and zero-width
    spaces are left out (so "X.3" and "X.3" + zero-width space are one code, and the review workbook
    can hold every statement); a workbook saved under a .csv name is read as the workbook it is; a
    chart sheet is not a table."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Tasks"
    for row in (["Code", "Statement"], ["X.1\u200b", "Measure a part"], ["X.2", "Compute area"]):
        ws.append(row)
    chart = openpyxl.chart.BarChart()
    chart.add_data(openpyxl.chart.Reference(ws, min_col=1, min_row=1, max_row=3))
    wb.create_chartsheet("Chart").add_chart(chart)
    wb.save(tmp_path / "tasks.csv")
    assert import_file(db, tmp_path / "tasks.csv", framework="X").added == 2
    (tmp_path / "vt.csv").write_bytes(b"Code,Statement\nV.1,Measure a part\x0bwith calipers\nV.2,Compute\x01 area\n")
    assert import_file(db, tmp_path / "vt.csv", framework="V").added == 2
    # C1 characters stay (Windows-1252 read as Latin-1 upstream: "welder\x92s"): a statement imported
    # before keeps its text, and its reviews are not flagged by a re-import.
    from crosswalk.sources import cell_text

    assert cell_text("the welder\x92s checks") == "the welder\x92s checks"
    assert [tuple(r) for r in db.execute("select code, statement from standards order by code").fetchall()] == [
        ("V.1", "Measure a part\nwith calipers"), ("V.2", "Compute area"), ("X.1", "Measure a part"),
        ("X.2", "Compute area")]
    with pytest.raises(SourceError) as info:
        read_table(tmp_path / "tasks.csv", sheet="Chart")
    assert str(info.value).startswith("tasks.csv, sheet 'Chart': is a chart, not a table of standards")
    wb = openpyxl.Workbook()
    wb.active.append(["Code", "Statement"])
    wb.active.append(["X.3", "One"])
    wb.active.append(["X.3\u200b", "Two"])
    wb.save(tmp_path / "dup.xlsx")
    with pytest.raises(SourceError, match="duplicate code 'X.3': it is also on row 2"):
        import_file(db, tmp_path / "dup.xlsx", framework="Y")


def test_an_import_waits_for_another_writer_rather_than_failing(runner, small_db, tmp_path):
    """Another command writing (a match, the review site) while an import starts: the import waits for
    it and then writes (BEGIN IMMEDIATE). With a deferred transaction, the other writer's commit between
    the import's first read and its first write was 'database is locked' at once, with a traceback."""
    import sqlite3
    import threading
    import time

    from crosswalk.cli import cli

    edited = [row[:] for row in WELDING]
    edited[3][1] = "Measure and calculate the dimensions of workpieces using rulers, tapes and calipers."
    path = write_xlsx(tmp_path / "welding.xlsx", edited, sheet="Tasks")
    other = sqlite3.connect(small_db, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    other.execute("update programs set description = 'busy' where 0")  # holds the write lock
    other.execute("update alignments set status = 'accepted', strength = 'full', rationale = 'From the site' "
                  "where id = (select min(a.id) from alignments a join standards s on s.id = a.source_id "
                  "where s.code = 'W.4')")

    def commit_later():
        time.sleep(1.0)
        other.execute("COMMIT")

    writer = threading.Thread(target=commit_later)
    writer.start()
    result = runner.invoke(cli, ["import", str(small_db), str(path), "--framework", "Welding", "--silent"])
    writer.join()
    other.close()
    assert result.exit_code == 0, result.output
    assert "1 changed" in result.stdout
    conn = sqlite3.connect(small_db)
    assert conn.execute("select count(*) from alignments where rationale = 'From the site'").fetchone()[0] == 1


def test_a_code_calc_turned_into_a_date_is_named_and_a_date_elsewhere_stays_its_text(db, tmp_path, libreoffice):
    """The same workbook saved by LibreOffice as .ods: a code that became a date is an error naming the
    cell, as in .xlsx; a date in another column imports as the text Calc shows (as it always did, so a
    re-import changes nothing)."""
    import datetime

    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.append(["Code", "Statement", "Note"])
    wb.active.append(["X.1", "Measure a part.", datetime.datetime(2024, 9, 12)])
    wb.save(tmp_path / "notes.xlsx")
    wb = openpyxl.Workbook()
    wb.active.append(["Code", "Statement"])
    wb.active.append([datetime.datetime(2024, 1, 10), "Measure a part."])
    wb.save(tmp_path / "codes.xlsx")
    notes, codes = libreoffice([tmp_path / "notes.xlsx", tmp_path / "codes.xlsx"], "ods", tmp_path / "ods")
    table = read_table(notes)
    assert table.rows[0][1][2] == "2024-09-12 0:00:00"  # as Calc shows it (the format openpyxl gave the cell)
    with pytest.raises(SourceError) as info:
        import_file(db, codes, framework="X")
    assert str(info.value).startswith(
        "codes.ods, sheet 'Sheet', row 2, column A (Code): the code is a date (2024-01-10 0:00:00)")


def test_a_retired_tasks_decisions_decided_again_leave_the_rereview_list_and_the_task_back_lifts_its_flags(
        small_db, tmp_path, runner):
    db = str(small_db)

    def rows(sql, *params):
        return sqlite3.connect(db).execute(sql, params).fetchall()

    a1, a2, a3 = (r[0] for r in rows(
        "select a.id from alignments a join standards s on s.id = a.source_id where s.code = 'W.1' order by a.id"))
    (other,) = rows("select t.code from alignments a join standards t on t.id = a.target_id where a.id = ?", a3)[0]
    for alignment in (a1, a2, a3):
        assert runner.invoke(cli, ["decide", db, str(alignment), "accept", "--reviewer", "alice"]).exit_code == 0
    # The standard of a3 changes first: W.1's retirement writes over that flag's reason, and the
    # flag stays when W.1 comes back.
    academic = [r[:] for r in ACADEMIC]
    changed = next(r for r in academic if r[0] == other)
    changed[1] = changed[1] + " Revised."
    assert runner.invoke(cli, ["import", db, str(write_csv(tmp_path / "academic2.csv", academic)),
                               "--framework", "Academic", "--kind", "academic", "--silent"]).exit_code == 0
    # W.1 leaves the task list: its three decisions are to decide again.
    without = write_xlsx(tmp_path / "without.xlsx", [r for r in WELDING if not (r and r[0] == "W.1")], sheet="Tasks")
    assert runner.invoke(cli, ["import", db, str(without), "--framework", "Welding", "--silent"]).exit_code == 0
    rereview = "select alignment_id from rereview_alignments order by 1"
    assert rows(rereview) == [(a1,), (a2,), (a3,)]
    # Accepted again: off the list (it was kept there until rejected), certifying nothing while W.1 is retired.
    result = runner.invoke(cli, ["decide", db, str(a1), "accept", "--strength", "partial", "--reviewer", "bob"])
    assert result.exit_code == 0
    assert result.stdout.endswith("; it certifies nothing while W.1 is retired (a re-import that brings it back "
                                  "makes it count again)\n")
    assert rows(rereview) == [(a2,), (a3,)]
    assert rows("select count(*) from current_alignments where id = ?", a1) == [(0,)]
    # W.1 back in the same words: the flags its retirement left are lifted, logged as the import's.
    result = runner.invoke(cli, ["import", db, str(write_welding_xlsx(tmp_path)), "--framework", "Welding"])
    assert result.exit_code == 0
    assert "; 1 reviewed alignment no longer to re-review (the retired statement is back, in the same words)" in (
        result.stdout)
    assert rows("select alignment_id, reason from rereview_alignments") == [
        (a3, f"statement changed on re-import; it was: {changed[1][:-len(' Revised.')]}")]
    assert rows("select id from current_alignments where id in (?, ?, ?) order by id", a1, a2, a3) == [(a1,), (a2,)]
    assert rows("select status, strength, reviewer, needs_review from alignments where id in (?, ?) order by id",
                a1, a2) == [("accepted", "partial", "bob", 0), ("accepted", "full", "alice", 0)]
    history = runner.invoke(cli, ["history", db, str(a2)]).stdout.splitlines()
    assert history[-1].endswith("the import (import)  no longer to re-review, the statement is back (the flag was: "
                                "standard W.1 retired on re-import: it is no longer in without.xlsx)")
    assert rows("select reviewer, via, action from review_log where alignment_id = ? order by id desc limit 1",
                a2) == [(None, "import", "unflag")]


def test_a_code_written_in_another_case_is_the_same_standard_and_keeps_its_decisions(tmp_path, runner):
    # A.1 written a.1 in the next file was retired and a.1 added: the accepted decision stayed on the
    # retired A.1, to re-review, while import-decisions found a.1 for A.1.
    db = str(tmp_path / "crosswalk.db")
    tasks = [["Code", "Statement"], ["A.1", "Measure a part."], ["A.2", "Cut a part."], ["A.3", "Weld a joint."]]
    write_xlsx(tmp_path / "tasks.xlsx", tasks)
    write_csv(tmp_path / "math.csv", [["Code", "Statement"], ["M.1", "Measure lengths in metric units."]])
    write_csv(tmp_path / "decisions.csv", [["Source", "Target", "Decision"], ["A.1", "M.1", "accepted"]])
    for args in (["import", db, str(tmp_path / "tasks.xlsx"), "--framework", "Welding"],
                 ["import", db, str(tmp_path / "math.csv"), "--framework", "Math", "--kind", "academic"],
                 ["import-decisions", db, str(tmp_path / "decisions.csv"), "--reviewer", "ann"]):
        assert runner.invoke(cli, args).exit_code == 0

    def rows(sql):
        return sqlite3.connect(db).execute(sql).fetchall()

    ids = rows("select code, id from standards order by id")
    lower = write_csv(tmp_path / "lower.csv", [tasks[0], ["a.1", "Measure a part."], *tasks[2:]])
    result = runner.invoke(cli, ["import", db, str(lower), "--framework", "Welding"])
    assert result.exit_code == 0, result.output
    assert "Imported 3 standards into 'Welding' from lower.csv: 0 added, 1 changed, 2 unchanged, 0 retired\n" in (
        result.stdout)
    assert ("codes written in another case are the same standards (updated in place, their decisions kept): "
            "A.1 → a.1") in result.stderr
    assert rows("select code, id, status from standards order by id") == [
        ("a.1", ids[0][1], "active"), ("A.2", ids[1][1], "active"), ("A.3", ids[2][1], "active"),
        ("M.1", ids[3][1], "active")]
    assert rows("select s.code, a.status, a.needs_review from alignments a join standards s on s.id = a.source_id") == [
        ("a.1", "accepted", 0)]
    assert rows("select count(*) from rereview_alignments") == [(0,)]
    # The decision file that names A.1 finds it still, as it is written now.
    again = runner.invoke(cli, ["import-decisions", db, str(tmp_path / "decisions.csv"), "--reviewer", "ann"])
    assert "1 already recorded" in again.stdout

    # Two standards a code could be (ab.1 and AB.1 for Ab.1): no guessing, a new standard as before.
    both = [*tasks, ["ab.1", "Grind a bevel."], ["AB.1", "Grind a bevel again."]]
    result = runner.invoke(cli, ["import", db, str(write_xlsx(tmp_path / "both.xlsx", both)), "--framework", "Welding"])
    assert result.exit_code == 0
    assert ("Note: sheet 'Sheet1' codes that differ only in case are two standards: ab.1 (row 5) and AB.1 (row 6); "
            "a decision or code written in a third case (Ab.1 for ab.1 and AB.1) finds neither\n") in result.stderr
    result = runner.invoke(cli, ["import", db, str(write_xlsx(tmp_path / "one.xlsx", [*tasks, ["Ab.1", "Grind."]])),
                                 "--framework", "Welding"])
    assert result.exit_code == 0, result.output
    assert ": 1 added, 0 changed, 3 unchanged, 2 retired" in result.stdout
    assert rows("select code, status from standards where code like 'ab.%' order by id") == [
        ("ab.1", "retired"), ("AB.1", "retired"), ("Ab.1", "active")]


def test_a_code_excel_kept_as_text_in_a_csv_file_is_read_as_its_text(db, tmp_path):
    # ="007" is how Excel keeps 007 from reading as the number 7 in a CSV file: it was imported as ="007".
    path = tmp_path / "codes.csv"
    path.write_text('Code,Statement,Parent\n="007",Seven.,\n="007.1","=""Seven"" point one.",="007"\n'
                    '="08 ""b""",Eight.,\n', encoding="utf-8")
    result = import_file(db, path, framework="Welding")
    assert result.added == 3
    assert db.execute("select s.code, s.statement, p.code from standards s left join standards p on p.id = s.parent_id "
                      "order by s.id").fetchall() == [
        ("007", "Seven.", None), ("007.1", '="Seven" point one.', "007"), ('08 "b"', "Eight.", None)]


def test_all_sheets_names_the_sheets_it_imported_not_one_it_left_out(tmp_path, runner):
    # The summary and the import log named 'Export Summary', the sheet left out for having no statements.
    db = str(tmp_path / "crosswalk.db")
    path = write_xlsx(tmp_path / "tasks.xlsx", [["Exported", "2024-05-01"], ["Rows", "2"]], sheet="Export Summary",
                      extra_sheets={"Tasks": [["Code", "Statement"], ["A.1", "Measure a part."], ["A.2", "Cut a part."]]})
    result = runner.invoke(cli, ["import", db, str(path), "--framework", "Welding", "--all-sheets"])
    assert result.exit_code == 0, result.output
    assert "Note: sheet 'Export Summary' left out: it has no statement column" in result.stderr
    assert "Imported 2 standards into 'Welding' from tasks.xlsx (sheet 'Tasks'): 2 added" in result.stdout
    assert sqlite3.connect(db).execute("select source_sheet from import_log").fetchall() == [("Tasks",)]


def test_a_standard_back_does_not_lift_the_flag_of_a_task_of_the_same_code_still_retired(tmp_path, runner):
    # A task and an academic standard both coded 1.1, their alignment accepted, both retired; the
    # standard back lifted the flag the task's retirement left (the reason names only the code), and
    # the decision left the re-review list though its task was still retired (a review found it).
    db = str(tmp_path / "same.db")
    tasks = [["code", "statement"], ["1.1", "Measure stock with a tape."], ["1.2", "Cut stock."], ["1.3", "Weld."]]
    math = [["code", "statement"], ["1.1", "Use units to understand problems."], ["1.2", "Add fractions."],
            ["1.3", "Graph lines."]]
    for name, rows, kind in (("Tasks", tasks, "industry"), ("Math", math, "academic")):
        assert runner.invoke(cli, ["import", db, str(write_csv(tmp_path / f"{name}.csv", rows)), "--framework", name,
                                   "--kind", kind, "--silent"]).exit_code == 0
    decisions = write_csv(tmp_path / "d.csv", [["source", "target", "decision"], ["1.1", "1.1", "accept"]])
    assert runner.invoke(cli, ["import-decisions", db, str(decisions), "--from", "Tasks", "--to", "Math",
                               "--reviewer", "alice"]).exit_code == 0
    for name, rows, kind in (("Tasks", tasks, "industry"), ("Math", math, "academic")):
        assert runner.invoke(cli, ["import", db, str(write_csv(tmp_path / f"{name}-no11.csv", [rows[0], *rows[2:]])),
                                   "--framework", name, "--kind", kind, "--retire-missing", "--silent"]).exit_code == 0
    result = runner.invoke(cli, ["import", db, str(tmp_path / "Math.csv"), "--framework", "Math", "--kind", "academic"])
    assert result.exit_code == 0 and "no longer to re-review" not in result.stdout, result.stdout
    rows = sqlite3.connect(db).execute("select alignment_id from rereview_alignments").fetchall()
    assert len(rows) == 1
    # The task back too: both statements active, the flags are lifted.
    result = runner.invoke(cli, ["import", db, str(tmp_path / "Tasks.csv"), "--framework", "Tasks"])
    assert "1 reviewed alignment no longer to re-review" in result.stdout, result.stdout
    assert sqlite3.connect(db).execute("select count(*) from rereview_alignments").fetchone() == (0,)
    assert sqlite3.connect(db).execute("select count(*) from current_alignments").fetchone() == (1,)


def test_a_re_import_keeps_the_frameworks_kind_without_kind_being_given(tmp_path, runner):
    db = str(tmp_path / "kinds.db")
    math = write_csv(tmp_path / "math.csv", [["code", "statement"], ["1.1", "Use units."], ["1.2", "Add fractions."]])
    assert runner.invoke(cli, ["import", db, str(math), "--framework", "Math", "--kind", "academic"]).exit_code == 0
    # It said: "framework 'Math' already exists as academic; re-import it with --kind academic".
    result = runner.invoke(cli, ["import", db, str(math), "--framework", "Math"])
    assert result.exit_code == 0 and ": 0 added, 0 changed, 2 unchanged, 0 retired" in result.stdout, result.output
    assert sqlite3.connect(db).execute("select name, kind from frameworks").fetchall() == [("Math", "academic")]
    # A new framework is industry; a kind given that is not the framework's is still refused.
    assert runner.invoke(cli, ["import", db, str(math), "--framework", "Tasks"]).exit_code == 0
    refused = runner.invoke(cli, ["import", db, str(math), "--framework", "Math", "--kind", "industry"])
    assert refused.exit_code == 1 and "already exists as academic" in refused.stderr
    assert sqlite3.connect(db).execute("select name, kind from frameworks order by id").fetchall() == [
        ("Math", "academic"), ("Tasks", "industry")]


@pytest.mark.parametrize("retired_first", ["Tasks", "Math"])
@pytest.mark.parametrize("back_first", ["Tasks", "Math"])
def test_both_statements_retired_and_both_back_in_the_same_words_lift_their_flags_in_any_order(
        tmp_path, runner, retired_first, back_first):
    # Both statements of an accepted decision retired, both back in the same words: the decision
    # stayed flagged for ever, its reason the retirement of a statement that was active again
    # ("standard M.1 retired ..."), and the last import logged that untrue reason as a new 'flag'.
    db = str(tmp_path / "both.db")
    header = ["code", "statement"]
    tasks = [["T.1", "Measure stock with a tape."], ["T.2", "Cut stock."], ["T.3", "Weld."]]
    math = [["M.1", "Use units to understand problems."], ["M.2", "Add fractions."], ["M.3", "Graph lines."]]
    edition = [math[0], ["M.2", "Add and subtract fractions."], math[2]]  # the next edition: M.2 reworded
    kinds = {"Tasks": "industry", "Math": "academic"}
    full = {"Tasks": write_csv(tmp_path / "tasks.csv", [header, *tasks]),
            "Math": write_csv(tmp_path / "math.csv", [header, *edition])}
    without = {"Tasks": write_csv(tmp_path / "tasks-no1.csv", [header, *tasks[1:]]),
               "Math": write_csv(tmp_path / "math-no1.csv", [header, *edition[1:]])}
    other = {"Tasks": "Math", "Math": "Tasks"}

    def imported(name, path):
        result = runner.invoke(cli, ["import", db, str(path), "--framework", name, "--kind", kinds[name]])
        assert result.exit_code == 0, result.output
        return result

    def rows(sql, *params):
        return sqlite3.connect(db).execute(sql, params).fetchall()

    imported("Tasks", full["Tasks"])
    imported("Math", write_csv(tmp_path / "math0.csv", [header, *math]))
    decisions = write_csv(tmp_path / "d.csv", [["source", "target", "decision"], ["T.1", "M.1", "accept"],
                                               ["T.1", "M.2", "accept"]])
    assert runner.invoke(cli, ["import-decisions", db, str(decisions), "--from", "Tasks", "--to", "Math",
                               "--reviewer", "alice"]).exit_code == 0
    ((both, changed),) = rows("select max(case when t.code = 'M.1' then a.id end), "
                              "max(case when t.code = 'M.2' then a.id end) from alignments a "
                              "join standards t on t.id = a.target_id")
    # T.1 and M.1 retired (M.2 reworded in the edition that retires M.1: the other decision is flagged
    # for another reason too).
    imported(retired_first, without[retired_first])
    imported(other[retired_first], without[other[retired_first]])
    assert rows("select count(*) from rereview_alignments") == [(2,)]
    # One back, the other still retired: still flagged, and its reason is the one still so.
    imported(back_first, full[back_first])
    still = {"Tasks": "T.1", "Math": "M.1"}[other[back_first]]
    assert rows("select needs_review, needs_review_reason from alignments where id = ?", both) == [
        (1, f"standard {still} retired on re-import: it is no longer in {without[other[back_first]].name}")]
    # Both back: the flags their retirements left are lifted.
    last_logged = rows("select max(id) from review_log")[0][0]
    result = imported(other[back_first], full[other[back_first]])
    assert "1 reviewed alignment no longer to re-review" in result.stdout, result.stdout
    assert rows("select needs_review, needs_review_reason from alignments where id = ?", both) == [(0, None)]
    assert rows("select count(*) from current_alignments where id = ?", both) == [(1,)]
    # The flag raised for another reason stays, with that reason.
    assert rows("select alignment_id, reason from rereview_alignments") == [
        (changed, "statement changed on re-import; it was: Add fractions.")]
    # The last import logged the lift, and no flag of a reason that is not so (the other decision's
    # flag, where it named T.1's retirement, now names its statement's change).
    assert rows("select action, via from review_log where id > ? and alignment_id = ?", last_logged, both) == [
        ("unflag", "import")]
    assert rows("select distinct action, reason from review_log where id > ? and alignment_id != ?",
                last_logged, both) in ([], [("flag", "statement changed on re-import; it was: Add fractions.")])


def test_a_duty_area_renumbered_is_said_so_where_its_decisions_stay_with_the_codes(db, tmp_path):
    """Next year's list renumbers a duty area (B.2 removed, B.3 and B.4 now B.2 and B.3): decisions
    follow the codes, so the micrometer task's went with B.3 to another task, and the import only
    said '2 changed, 1 retired' (a director's walk). It now says which statements moved."""
    from .conftest import write_csv

    header = ["code", "statement"]
    first = write_csv(tmp_path / "year1.csv", [header, ["B.1", "Clean and inspect the engine block"],
                                               ["B.2", "Replace the timing belt"],
                                               ["B.3", "Measure crankshaft journals with a micrometer"],
                                               ["B.4", "Repair or replace fuel injectors"]])
    import_file(db, first, framework="Engines", kind="industry")
    second = write_csv(tmp_path / "year2.csv", [header, ["B.1", "Clean and inspect the engine block"],
                                                ["B.2", "Measure crankshaft journals with a micrometer"],
                                                ["B.3", "Repair or replace fuel injectors"]])
    result = import_file(db, second, framework="Engines", kind="industry")
    assert (result.changed, result.retired) == (2, 1)
    assert ("statements now under another code than before, word for word (were the codes renumbered?): "
            "B.2 (was B.3), B.3 (was B.4); decisions stay with their codes: those on the old codes are flagged "
            "for re-review where their statement changed or left, and the new codes have none of them"
            ) in result.warnings
    # The same statement kept under its code, and one added beside it, are no move.
    third = write_csv(tmp_path / "year3.csv", [header, ["B.1", "Clean and inspect the engine block"],
                                               ["B.2", "Measure crankshaft journals with a micrometer"],
                                               ["B.3", "Repair or replace fuel injectors"],
                                               ["B.9", "Measure crankshaft journals with a micrometer"]])
    assert not [w for w in import_file(db, third, framework="Engines", kind="industry").warnings if "renumbered" in w]


def test_a_statement_under_a_new_code_word_for_word_keeps_its_decisions(db, tmp_path):
    """Next edition's list recodes some tasks ("B.3" now "C.3"), the words unchanged: the same
    standards, updated in place with their decisions. A re-import retired the recoded ones, flagging
    their decisions, and added the same tasks again with none. Where the words are two standards', or
    the new code was another standard's, nothing is guessed; where no code is left, it is refused as
    before (a wrong code column far more often than a new edition)."""
    header = ["code", "statement"]
    tasks = ["Clean and inspect the engine block", "Replace the timing belt", "Measure crankshaft journals"]
    import_file(db, write_csv(tmp_path / "year1.csv", [header] + [[f"B.{i}", t] for i, t in enumerate(tasks, 1)]),
                framework="Engines", kind="industry")
    import_file(db, write_csv(tmp_path / "math.csv", [header, ["N.1", "Use units to understand problems."]]),
                framework="Math", kind="academic")
    ids = dict(db.execute("select code, id from standards where code like 'B.%'").fetchall())
    (math,) = db.execute("select id from standards where code = 'N.1'").fetchone()
    for code in ("B.1", "B.3"):
        db.execute("insert into alignments (source_id, target_id, score, status, strength, rationale) values "
                   "(?, ?, 40, 'accepted', 'full', 'measures with units')", [ids[code], math])
    db.conn.commit()
    decisions = "select s.id, s.code, a.status, a.rationale, a.needs_review from alignments a " \
                "join standards s on s.id = a.source_id order by s.id"

    # One duty area's code changed, the others kept.
    second = write_csv(tmp_path / "year2.csv", [header, ["B.1", tasks[0]], ["B.2", tasks[1]], ["C.3", tasks[2]]])
    result = import_file(db, second, framework="Engines", kind="industry")
    assert (result.added, result.changed, result.retired, result.flagged) == (0, 1, 0, 0)
    assert ("statements under a new code, word for word, are the same standards (updated in place, their "
            "decisions kept): B.3 → C.3") in result.warnings
    assert db.execute(decisions).fetchall() == [(ids["B.1"], "B.1", "accepted", "measures with units", 0),
                                                (ids["B.3"], "C.3", "accepted", "measures with units", 0)]
    # Two codes new, one kept.
    third = write_csv(tmp_path / "year3.csv", [header, ["ENG-B.1", tasks[0]], ["B.2", tasks[1]], ["ENG-C.3", tasks[2]]])
    result = import_file(db, third, framework="Engines", kind="industry")
    assert (result.added, result.changed, result.retired, result.flagged) == (0, 2, 0, 0)
    assert db.execute(decisions).fetchall() == [(ids["B.1"], "ENG-B.1", "accepted", "measures with units", 0),
                                                (ids["B.3"], "ENG-C.3", "accepted", "measures with units", 0)]
    assert [c for (c,) in db.execute("select code from standards where framework_id = (select framework_id from "
                                     "standards where id = ?) order by id", [ids["B.1"]])] == [
        "ENG-B.1", "B.2", "ENG-C.3"]
    # Every code new, the statements the same: a file read without its code column (codes made from the
    # statements) or with another column's numbers is refused as before, the words notwithstanding.
    for rows in ([["Task"]] + [[t] for t in tasks], [["Number", "Task"]] + [[i, t] for i, t in enumerate(tasks, 1)]):
        with pytest.raises(SourceError, match="shares no code with the 3 standards of 'Engines'"):
            import_file(db, write_csv(tmp_path / "wrong.csv", rows), framework="Engines", kind="industry")
    assert db.execute(decisions).fetchall() == [(ids["B.1"], "ENG-B.1", "accepted", "measures with units", 0),
                                                (ids["B.3"], "ENG-C.3", "accepted", "measures with units", 0)]
    # The same words twice in the file: which one the decisions belong to is not guessed.
    fourth = write_csv(tmp_path / "year4.csv", [header, ["ENG-B.1", tasks[0]], ["B.2", tasks[1]],
                                                ["X.1", tasks[2]], ["X.2", tasks[2]]])
    result = import_file(db, fourth, framework="Engines", kind="industry")
    assert (result.added, result.retired, result.flagged) == (2, 1, 1)
    assert not [w for w in result.warnings if "under a new code" in w]


def test_a_heading_merged_across_the_row_or_in_the_code_column_alone_is_a_heading(db, tmp_path):
    """A duty area merged across the row read as a standard whose code and statement were both
    'Unit 1: Kitchen Basics' (matched, and counted as a task); written in the code column alone it
    was an error ('the statement is empty for code ...'). Both are the domain of the rows below."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Code", "Task"])
    sheet.append(["Unit 1: Kitchen Basics"])
    sheet.merge_cells("A2:B2")
    sheet.append(["001", "Wash, peel, and cut vegetables"])
    sheet.append(["Unit 2: Cooking Methods and Heat"])
    sheet.append(["002", "Turn or stir foods to ensure even cooking"])
    workbook.save(tmp_path / "culinary.xlsx")
    result = import_file(db, tmp_path / "culinary.xlsx", framework="Culinary", kind="industry")
    assert result.added == 2
    assert db.execute("select code, domain from standards order by source_row").fetchall() == [
        ("001", "Unit 1: Kitchen Basics"), ("002", "Unit 2: Cooking Methods and Heat")]
    assert "rows read as section headings (the domain of the rows below): 2, 4" in " ".join(
        result.warnings)
