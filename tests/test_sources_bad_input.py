"""Files that were read wrong without a word: each is now read right, or refused with one error naming
the file, sheet, row and column, exit status 1 and the database left as it was.

Every test failed on the code before its fix.
"""

import os
import pathlib
import zipfile

import openpyxl
import pytest

from crosswalk import sources
from crosswalk.cli import cli
from crosswalk.db import open_db



def refused(runner, db: pathlib.Path, args: list, expected: str) -> str:
    """Run the command: one ``Error:`` line holding ``expected``, exit 1, the database unchanged."""
    before = db.read_bytes()
    result = runner.invoke(cli, [str(a) for a in args])
    assert "Traceback" not in result.output
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert expected in lines[0], lines[0]
    assert db.read_bytes() == before
    return lines[0]


def imported(runner, db: pathlib.Path, path, framework="New", *options) -> tuple[str, dict]:
    """Import ``path``: the output and {code: statement} of the framework."""
    result = runner.invoke(cli, ["import", str(db), str(path), "--framework", framework, *options])
    assert result.exit_code == 0, result.output
    rows = open_db(db).execute(
        "select s.code, s.statement from standards s join frameworks f on f.id = s.framework_id "
        "where f.name = ? and s.status = 'active' order by s.code", [framework]).fetchall()
    return result.output, dict(rows)


# --- 1. a CSV quote left open ------------------------------------------------------------------------


def test_a_quote_never_closed_is_refused_on_the_row_it_opened(runner, tmp_path, base_db):
    """Read before: 2 standards, A.2's statement holding rows A.3-A.5, exit 0."""
    path = tmp_path / "unclosed.csv"
    path.write_text('Code,Statement\nA.1,Measure.\nA.2,"Use a 6 ruler to mark\nA.3,Weld a joint.\n'
                    'A.4,Grind.\nA.5,Paint.\n')
    refused(runner, base_db, ["import", base_db, path, "--framework", "New"],
            "unclosed.csv, line 3, column 2 (Statement): a quote opens this cell and is never closed, so the rest "
            "of the file (lines 4-6) is read into this one cell")


def test_a_quote_never_closed_on_the_last_row_is_refused(runner, tmp_path, base_db):
    path = tmp_path / "last.csv"
    path.write_text('Code,Statement\nA.1,Measure.\nA.2,Cut.\nA.3,"Weld a joint')
    refused(runner, base_db, ["import", base_db, path, "--framework", "New"],
            "last.csv, line 4, column 2 (Statement): a quote opens this cell and is never closed, so the file "
            "ends inside it")


def test_a_quote_closed_rows_later_is_refused_when_rows_are_inside(runner, tmp_path, base_db):
    """The quote before "Grind" closed A.2's cell: rows A.3 and A.4 were read as its statement."""
    path = tmp_path / "later.csv"
    path.write_text('Code,Statement\nA.1,Measure.\nA.2,"Use a 6 ruler to mark\nA.3,Weld a joint.\n'
                    'A.4,"Grind" the bead.\nA.5,Paint.\n')
    refused(runner, base_db, ["import", base_db, path, "--framework", "New"],
            "later.csv, line 3, column 2 (Statement): the quote that opens this cell closes only on line 5, so "
            "lines 4-5 (such as line 4: 'A.3,Weld a joint.') are read into this one cell: is a closing quote missing?")


def test_a_quoted_cell_that_closes_cleanly_with_a_line_like_a_row_is_read_with_a_note(runner, tmp_path, base_db):
    """A real multi-line cell whose text has a line shaped like a row ('1.3, 1.4, and 1.5'), its quote
    closing right before the next cell in a row of the usual width, was refused as a runaway quote (a
    review of the fix above): it is read, with a note saying where to look."""
    path = tmp_path / "legit.csv"
    path.write_text('Code,Statement,Grade\n1.1,Measure stock,9\n1.2,"Cut stock to length; see also\n'
                    '1.3, 1.4, and 1.5",9\n1.3,Weld joints,10\n1.4,Grind welds,10\n1.5,Inspect welds,11\n')
    output, rows = imported(runner, base_db, path)
    assert rows["1.2"] == "Cut stock to length; see also\n1.3, 1.4, and 1.5" and len(rows) == 5
    assert ("Note: line 3, column 2 (Statement): a quoted cell runs over lines 3-4 and holds a line shaped like a "
            "row ('1.3, 1.4, and 1.5'); if a closing quote is missing, rows were read into it") in output


def test_a_quote_names_lines_and_every_other_error_rows_as_a_spreadsheet_counts_them(runner, tmp_path, base_db):
    """Below a cell of three lines, the row a spreadsheet shows and the file's line differ: an error
    about a quote names lines (a text editor's, where such a file is mended), every other one rows
    (one a record, as Excel shows them). Read before: the quote's error said "row 7" of the row Excel
    shows as 4, beside a duplicate's "row 5" of the row it shows as 5 (a director's-own-files audit)."""
    three_lines = 'Code,Statement\nA.1,"Line one\nline two\nline three"\n'
    path = tmp_path / "quote.csv"
    path.write_text(three_lines + 'A.2,"Use a 6 ruler\nA.3,Measure stock\nA.4,"Deburr"\nA.5,Weld\n')
    refused(runner, base_db, ["import", base_db, path, "--framework", "New"],
            "quote.csv, line 5, column 2 (Statement): the quote that opens this cell closes only on line 7")
    path = tmp_path / "twice.csv"
    path.write_text(three_lines + "A.2,Measure stock\nA.2,Cut stock\n")
    refused(runner, base_db, ["import", base_db, path, "--framework", "New"],
            "twice.csv, row 4, column 1 (Code): duplicate code 'A.2': it is also on row 3")
    path = tmp_path / "mixed.csv"
    path.write_bytes(three_lines.encode() + "A.2,Façade\n".encode("cp1252") + "A.3,Façade\n".encode())
    refused(runner, base_db, ["import", base_db, path, "--framework", "New"], "mixed.csv, row 3, column 2")


def test_a_quote_left_open_early_in_a_big_file_is_named(runner, tmp_path, base_db):
    """Read before: "row 3705: could not be read as CSV: field larger than field limit (131072)"."""
    path = tmp_path / "early.csv"
    path.write_text('Code,Statement\nA.1,"Use a 6 ruler\n'
                    + "".join(f"A.{i},Measure part {i} and cut it to length.\n" for i in range(2, 5001)))
    refused(runner, base_db, ["import", base_db, path, "--framework", "New"],
            "early.csv, line 2, column 2 (Statement): a quote opens this cell and is never closed, so the rest "
            "of the file (lines 3-5001)")


def test_a_quote_left_open_in_decisions_is_refused(runner, tmp_path, base_db):
    """Read before: the decisions below it swallowed into the first one's rationale."""
    path = tmp_path / "decisions.csv"
    path.write_text('source code,target code,decision,rationale\nW.1,W.2,accept,"Angles of the bevel\n'
                    'W.1,W.3,accept,Reads the weld symbol.\nW.2,W.3,reject,Not angles.\n')
    refused(runner, base_db, ["import-decisions", base_db, path],
            "decisions.csv, line 2, column 4 (rationale): a quote opens this cell and is never closed, so the rest "
            "of the file (lines 3-4)")


def test_stray_quotes_and_quoted_line_breaks_read_as_before(runner, tmp_path, base_db):
    path = tmp_path / "quotes.csv"
    path.write_text('Code,Statement\nA.1,"He said ""measure"" twice"\nA.2,"Cut" the part\nA.3,Weld "a" joint\n'
                    'A.4,Use a 6" ruler\nA.5,"Measure:\n- length, width\n- the A.1 mark, twice"\nA.6,Paint.\n')
    output, rows = imported(runner, base_db, path)
    assert rows == {"A.1": 'He said "measure" twice', "A.2": "Cut the part", "A.3": 'Weld "a" joint',
                    "A.4": 'Use a 6" ruler', "A.5": "Measure:\n- length, width\n- the A.1 mark, twice",
                    "A.6": "Paint."}


# --- 2. "Standard, Description": the bare name heads the codes ----------------------------------------


@pytest.mark.parametrize("header,rows", [
    (["Standard", "Description", "Grade"],
     [["HS-PS1-1", "Use the periodic table as a model to predict the relative properties of elements.", "9-12"],
      ["HS-PS1-2", "Construct and revise an explanation for the outcome of a simple chemical reaction.", "9-12"]]),
    (["Standard", "Standard Description"], [["HS-PS1-1", "Use the periodic table as a model."],
                                            ["HS-PS1-2", "Construct an explanation."]]),
    (["Task", "Task Description"], [["101", "Measure a part."], ["102", "Cut a part."]]),
    (["Competency", "Competency Description"], [["A.1", "Measure a part."], ["A.2", "Cut a part."]]),
    (["Objective", "Objective Description"], [["1.01", "Use the periodic table as a model."],
                                              ["1.02", "Construct an explanation."]]),
])
def test_a_bare_name_beside_a_description_heads_the_codes(runner, tmp_path, base_db, header, rows):
    """Read before: the codes as the statements (with codes T-...), the descriptions not at all."""
    path = tmp_path / "standards.csv"
    path.write_text("\n".join(",".join(row) for row in [header, *rows]) + "\n")
    output, standards = imported(runner, base_db, path)
    assert f"code       1 ({header[0]})" in runner.invoke(
        cli, ["import", str(base_db), str(path), "--framework", "Other", "--dry-run"]).output
    assert standards == {row[0]: row[1] for row in rows}
    assert "no code column" not in output


def test_a_bare_name_holding_sentences_still_heads_the_statements(runner, tmp_path, base_db):
    """A "Task" column of sentences (no digits, many words) beside "Task Text" holds the tasks, as before."""
    path = tmp_path / "tasks.csv"
    path.write_text("Task,Task Text\nWeld a lap joint in the flat position.,Covers the lap joint.\n"
                    "Cut plate with an oxy-fuel torch.,Straight cuts.\n")
    output, standards = imported(runner, base_db, path)
    assert "no code column" in output
    assert sorted(standards.values()) == ["Cut plate with an oxy-fuel torch.", "Weld a lap joint in the flat position."]


# --- 3. a workbook over 20 MB for a picture is read as one without it ------------------------------


def duties_workbook(path, code_b3="=\"B.\"&3", picture_mb=0):
    """The safety and cutting tasks, their duties in cells merged down, row 6 hidden, B.3's code a
    formula never calculated (openpyxl saves no value), and ``picture_mb`` MB of picture beside them."""
    workbook = openpyxl.Workbook()
    ws = workbook.active
    ws.title = "Tasks"
    for row in (["Duty", "Code", "Statement"], ["Safety", "A.1", "Wear PPE."], [None, "A.2", "Set up a fire watch."],
                [None, "A.3", "Read an SDS."], ["Cutting", "B.1", "Cut with oxy-fuel."],
                [None, "B.2", "Cut with plasma."], [None, code_b3, "Gouge with carbon arc."]):
        ws.append(row)
    ws.merge_cells("A2:A4")
    ws.merge_cells("A5:A7")
    ws.row_dimensions[6].hidden = True
    workbook.save(path)
    if picture_mb:
        with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_STORED) as archive:
            archive.writestr("xl/media/image1.png", os.urandom(picture_mb * 1024 * 1024))
    return path


def domains(db_path, framework):
    return dict(open_db(db_path).execute(
        "select s.code, s.domain from standards s join frameworks f on f.id = s.framework_id "
        "where f.name = ? and s.status = 'active'", [framework]).fetchall())


def test_a_workbook_big_for_its_picture_keeps_merged_cells_and_hidden_rows(runner, tmp_path, base_db):
    """Read before (streamed, for its 21 MB): the duties of rows 3, 4, 6, 7 empty, no note of row 6 hidden;
    re-imported over the same tasks without the picture, it wiped their duties."""
    small = duties_workbook(tmp_path / "tasks.xlsx", code_b3="B.3")
    big = duties_workbook(tmp_path / "tasks_with_picture.xlsx", code_b3="B.3", picture_mb=21)
    assert big.stat().st_size > 21 * 1024 * 1024
    imported(runner, base_db, small, "Cutting")
    expected = {"A.1": "Safety", "A.2": "Safety", "A.3": "Safety", "B.1": "Cutting", "B.2": "Cutting", "B.3": "Cutting"}
    assert domains(base_db, "Cutting") == expected
    output, _ = imported(runner, base_db, big, "Cutting")
    assert "hidden rows (imported all the same): 6" in output
    assert "6 unchanged, 0 retired" in output
    assert domains(base_db, "Cutting") == expected


def test_a_formula_never_calculated_in_a_workbook_big_for_its_picture_is_refused(runner, tmp_path, base_db):
    """Read before: B.3's formula code read as a section heading, the row dropped (and retired on a re-import)."""
    big = duties_workbook(tmp_path / "tasks_with_picture.xlsx", picture_mb=21)
    refused(runner, base_db, ["import", base_db, big, "--framework", "Cutting"],
            "tasks_with_picture.xlsx, sheet 'Tasks', row 7, column B (Code): the code is a formula (=\"B.\"&3) that "
            "was never calculated")


def test_a_streamed_workbook_still_refuses_a_formula_never_calculated(runner, tmp_path, base_db, monkeypatch):
    """A workbook whose sheets inflate past FULL_READ_LIMIT is streamed: its formulas are read all the same."""
    monkeypatch.setattr(sources, "FULL_READ_LIMIT", 1)
    path = duties_workbook(tmp_path / "tasks.xlsx")
    refused(runner, base_db, ["import", base_db, path, "--framework", "Cutting"],
            "tasks.xlsx, sheet 'Tasks', row 7, column B (Code): the code is a formula (=\"B.\"&3) that was never")


# --- 4. hidden sheets ---------------------------------------------------------------------------------


@pytest.fixture
def hidden_sheets(tmp_path, request):
    """``hidden_sheets(fmt)``: a workbook (xlsx, or xls or ods saved by LibreOffice) whose first sheet, 'Old',
    and last, 'Lookup', are hidden; the tasks are on 'Tasks' between them."""
    def build(fmt):
        path = tmp_path / "tasks.xlsx"
        workbook = openpyxl.Workbook()
        old = workbook.active
        old.title = "Old"
        for row in (["Code", "Statement"], ["OLD.1", "Old list."]):
            old.append(row)
        tasks = workbook.create_sheet("Tasks")
        for row in (["Code", "Statement"], ["A.1", "Measure a part."], ["A.2", "Cut a part."]):
            tasks.append(row)
        lookup = workbook.create_sheet("Lookup")
        for row in (["Code", "Statement"], ["L.1", "A lookup value."]):
            lookup.append(row)
        old.sheet_state = lookup.sheet_state = "hidden"
        workbook.active = 1
        workbook.save(path)
        if fmt == "xlsx":
            return path
        folder = tmp_path / fmt
        folder.mkdir()
        [converted] = request.getfixturevalue("libreoffice")(path, fmt, folder)
        return converted
    return build


@pytest.mark.parametrize("fmt", ["xlsx", "xls", "ods"])
def test_hidden_sheets_are_left_out_unless_named(runner, base_db, hidden_sheets, fmt):
    """Read before: the hidden sheet 'Old' imported by default, and --all-sheets took 'Old' and 'Lookup'."""
    path = hidden_sheets(fmt)
    output, standards = imported(runner, base_db, path, "First")
    assert standards == {"A.1": "Measure a part.", "A.2": "Cut a part."}
    assert "(sheet 'Tasks')" in output
    assert "Note: hidden sheets left out: 'Old' (name one with --sheet to read it)" in output
    output, standards = imported(runner, base_db, path, "All", "--all-sheets")
    assert standards == {"A.1": "Measure a part.", "A.2": "Cut a part."}
    assert "Note: hidden sheets left out: 'Old', 'Lookup' (name one with --sheet to read it)" in output
    output, standards = imported(runner, base_db, path, "Old", "--sheet", "Old")
    assert standards == {"OLD.1": "Old list."}
    assert "hidden sheets" not in output
    output, standards = imported(runner, base_db, path, "Tasks", "--sheet", "Tasks")
    assert "hidden sheets" not in output


# --- 5. a CSV in neither UTF-8 nor Windows-1252 ----------------------------------------------------------


def test_a_byte_windows_1252_has_no_character_for_is_refused(runner, tmp_path, base_db):
    """Mac Roman "Façade très légère": ç is 0x8D and è 0x8F, no characters in Windows-1252. Read before:
    "Fa�ade tr�s lŽg�re" stored, with only the note "read as windows-1252"."""
    path = tmp_path / "macroman.csv"
    path.write_bytes("Code,Statement\nA.1,Measure.\nA.2,Façade très légère\nA.3,Cut.\n".encode("mac_roman"))
    refused(runner, base_db, ["import", base_db, path, "--framework", "New"],
            "macroman.csv, row 3, column 2 (Statement): is neither UTF-8 nor Windows-1252 text: this cell holds "
            "the byte 0x8D, which is no character in either (a Mac Roman file?) (save the file as UTF-8")


def test_windows_1252_and_utf_16_read_as_before(runner, tmp_path, base_db):
    path = tmp_path / "cp1252.csv"
    path.write_bytes("Code;Statement\nA.1;Café – 90°\n".encode("cp1252"))
    output, standards = imported(runner, base_db, path, "Cp")
    assert standards == {"A.1": "Café – 90°"} and "read as windows-1252" in output
    path = tmp_path / "utf16.txt"
    path.write_bytes("Code\tStatement\r\nA.1\tMesure l’angle — 90°\r\n".encode("utf-16"))
    assert imported(runner, base_db, path, "Wide")[1] == {"A.1": "Mesure l’angle — 90°"}


def test_utf_16_with_a_broken_character_is_refused(runner, tmp_path, base_db):
    """A lone surrogate (half of a character) in UTF-16: read before as U+FFFD, without a word."""
    path = tmp_path / "utf16.txt"
    path.write_bytes("Code\tStatement\r\nA.1\tMeasure.\r\n".encode("utf-16")
                     + "A.2\tCut ".encode("utf-16-le") + b"\x00\xd8" + "a part.\r\n".encode("utf-16-le"))
    refused(runner, base_db, ["import", base_db, path, "--framework", "New"],
            "utf16.txt, row 3, column 2 (Statement): is UTF-16 text (its byte order mark says so) but for this "
            "cell, which is not (illegal UTF-16 surrogate)")


# --- 6. hidden rows and columns of an .xls --------------------------------------------------------------


def test_hidden_rows_and_columns_of_an_xls_are_reported(runner, tmp_path, base_db, libreoffice):
    """Read before: no note (an .xlsx and an .ods had one)."""
    source = tmp_path / "hidden.xlsx"
    workbook = openpyxl.Workbook()
    ws = workbook.active
    ws.title = "Tasks"
    for row in (["Code", "Statement", "Notes"], ["A.1", "Measure a part.", "x"], ["A.2", "Cut a part.", "y"],
                ["A.3", "Weld a joint.", "z"]):
        ws.append(row)
    ws.row_dimensions[3].hidden = True
    ws.column_dimensions["C"].hidden = True
    workbook.save(source)
    [path] = libreoffice(source, "xls", tmp_path / "xls")
    output, standards = imported(runner, base_db, path)
    assert len(standards) == 3
    assert "Note: sheet 'Tasks' has hidden rows (imported all the same): 3" in output
    assert "Note: sheet 'Tasks' has hidden columns: C (Notes)" in output


# --- 7. what a file that is no spreadsheet is ---------------------------------------------------------


@pytest.mark.parametrize("name,data,expected", [
    ("zero.xlsx", b"", "zero.xlsx: is empty (0 bytes): no .xlsx workbook was saved in it"),
    ("tasks.xlsx", b"Code,Statement\nA.1,Measure.\n",
     "tasks.xlsx: is CSV text, not an .xlsx workbook (only its name says .xlsx) (rename it .csv to import it as it is)"),
    ("report.xls", b"<html><body><table><tr><td>Code</td><td>Statement</td></tr></table></body></html>",
     "report.xls: is an HTML page (as web sites export 'Excel' files), not an .xls workbook (only its name says "
     ".xls) (open it in Excel or LibreOffice and save it as .xlsx)"),
    ("tabbed.xls", b"Code\tStatement\nA.1\tMeasure.\n",
     "tabbed.xls: is tab-separated text, not an .xls workbook (only its name says .xls) (rename it .tsv"),
    ("unicode.txt", "Code\tStatement\r\nA.1\tMesure l’angle — 90°\r\nA.2\tCut a part.\r\n".encode("utf-16-le"),
     "unicode.txt: is UTF-16 text without a byte order mark (BOM), so its encoding can not be told for sure "
     "(save it as UTF-8"),
    ("photo.xlsx", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "photo.xlsx: is not a readable .xlsx workbook"),
    # (an audit: a PDF named .xlsx was "not a readable .xlsx workbook", or, all ASCII, "text ... rename it .txt")
    ("report.xlsx", b"%PDF-1.4\n%abc\n1 0 obj\n<< /Type /Catalog >>\n",
     "report.xlsx: is a PDF document, not a spreadsheet"),
], ids=["empty", "csv", "html", "tabs", "utf-16", "png", "pdf"])
def test_a_file_that_is_no_spreadsheet_is_named_for_what_it_is(runner, tmp_path, base_db, name, data, expected):
    """Read before: "is not a readable .xlsx workbook (its content is not a spreadsheet)" for each workbook
    name, and "contains binary data" for UTF-16 text."""
    path = tmp_path / name
    path.write_bytes(data)
    refused(runner, base_db, ["import", base_db, path, "--framework", "New"], expected)


def test_a_comma_inside_a_cell_not_in_quotes_is_refused_not_read_as_another_column(runner, tmp_path, base_db):
    """An audit: "W.1,Measure, cut and bevel plate,11" (the statement's comma not in quotes) stored the
    statement "Measure" and the grade "cut and bevel plate", exit 0; in a decisions file, a rationale
    "ok, really" kept "ok". Empty cells beyond the header (a trailing comma) are left, as before."""
    path = tmp_path / "tasks.csv"
    path.write_text("Code,Statement,Grade\nW.1,Measure, cut and bevel plate,11\nW.2,Set up a MIG welder,11\n",
                    encoding="utf-8")
    refused(runner, base_db, ["import", base_db, path, "--framework", "New"],
            "tasks.csv, row 2, column 4: has 4 cells where its header has 3: a comma inside a cell that is not in "
            "quotes? (the cell beyond the header holds '11')")
    decisions = tmp_path / "decisions.csv"
    decisions.write_text("CTE code,Academic standard,Decision,Rationale\nW.1,N.1,accept,ok, really\n", encoding="utf-8")
    refused(runner, base_db, ["import-decisions", base_db, decisions], "decisions.csv, row 2, column 5: has 5 cells")
    trailing = tmp_path / "trailing.csv"
    trailing.write_text("Code,Statement,Grade,\nW.1,Measure a plate,11,\nW.2,Set up a welder,11,,\n", encoding="utf-8")
    _, rows = imported(runner, base_db, trailing)
    assert rows == {"W.1": "Measure a plate", "W.2": "Set up a welder"}


def test_a_damaged_workbook_whose_parser_fails_its_own_way_is_one_error(runner, tmp_path, base_db):
    """An audit: a zip that names a version Python cannot read (NotImplementedError), a file name flagged
    UTF-8 that is not (UnicodeDecodeError), a damaged .ods part (zlib.error) each ended in a traceback."""
    good = tmp_path / "good.xlsx"
    workbook = openpyxl.Workbook()
    workbook.active.append(["Code", "Statement"])
    workbook.active.append(["N.1", "Measure a plate."])
    workbook.save(good)
    data = bytearray(good.read_bytes())
    central = data.find(b"PK\x01\x02")
    version = bytearray(data)
    version[central + 6:central + 8] = (234).to_bytes(2, "little")
    (tmp_path / "version.xlsx").write_bytes(version)
    refused(runner, base_db, ["import", base_db, tmp_path / "version.xlsx", "--framework", "New"],
            "version.xlsx: is not a readable .xlsx workbook (NotImplementedError: zip file version 23.4)")
    name = bytearray(data)
    name[central + 9] |= 0x08
    name[central + 46] = 0xBC
    (tmp_path / "name.xlsx").write_bytes(name)
    refused(runner, base_db, ["import", base_db, tmp_path / "name.xlsx", "--framework", "New"],
            "name.xlsx: is not a readable .xlsx workbook (UnicodeDecodeError:")
    ods = tmp_path / "bad.ods"
    content = b"<?xml version='1.0'?><office:document-content/>" * 200
    with zipfile.ZipFile(ods, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet",
                         compress_type=zipfile.ZIP_STORED)
        archive.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
    data = bytearray(ods.read_bytes())
    info = zipfile.ZipFile(ods).getinfo("content.xml")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    data[start + 10:start + 40] = bytes(b ^ 0xFF for b in data[start + 10:start + 40])
    ods.write_bytes(data)
    refused(runner, base_db, ["import", base_db, ods, "--framework", "New"], "bad.ods: is not a readable .ods")


def test_import_case_names_a_workbook_or_a_pdf_for_what_it_is(runner, tmp_path, base_db):
    """An audit: `import-case` given a workbook or a PDF said "is not UTF-8 text ... (save it as UTF-8)"."""
    workbook = tmp_path / "tasks.xlsx"
    openpyxl.Workbook().save(workbook)
    refused(runner, base_db, ["import-case", base_db, workbook],
            "tasks.xlsx: is a workbook (.xlsx or .ods) or another zip file, not a CASE JSON package")
    pdf = tmp_path / "standards.pdf"
    pdf.write_bytes(b"%PDF-1.4\n\xe2\xe3\xcf\xd3\n")
    refused(runner, base_db, ["import-case", base_db, pdf], "standards.pdf: is a PDF document, not a CASE JSON package")
