"""The same standards read alike from .xlsx, .xls, .ods and CSV: merged cells spread in every
workbook format, a header of merged cells over two rows, and a CSV with a BOM and a row in
another encoding."""

import shutil

import openpyxl
import pytest

from crosswalk.cli import cli
from crosswalk.errors import SourceError
from crosswalk.importer import import_file
from crosswalk.sources import cell_text, read_table

from .conftest import ROOT

WELDING_TASKS = ROOT / "examples" / "welding-tasks.xlsx"


def test_merged_cells_are_spread_in_xls_and_ods_as_in_xlsx(db, tmp_path, libreoffice):
    """The example workbook's duty areas are merged down over their tasks (B5:B9 and so on): saved by
    LibreOffice as .xls and .ods, every task gets its duty area as from the .xlsx, not only the first
    of each area."""
    source = shutil.copy(WELDING_TASKS, tmp_path / "welding-tasks.xlsx")
    [xls] = libreoffice(source, "xls", tmp_path / "xls")
    [ods] = libreoffice(source, "ods", tmp_path / "ods")
    domains = {}
    for path in (source, xls, ods):
        framework = f"Welding {path.suffix}"
        assert import_file(db, path, framework=framework).added == 31
        domains[path.suffix] = db.execute(
            "select s.code, s.domain from standards s join frameworks f on f.id = s.framework_id "
            "where f.name = ? order by s.source_row", [framework]).fetchall()
    assert domains[".xlsx"][:6] == [
        ("A.1", "A. Safety and shop practices"), ("A.2", "A. Safety and shop practices"),
        ("A.3", "A. Safety and shop practices"), ("A.4", "A. Safety and shop practices"),
        ("A.5", "A. Safety and shop practices"), ("B.1", "B. Drawings, symbols and layout")]
    assert all(domain for _, domain in domains[".xlsx"])
    assert domains[".xls"] == domains[".xlsx"]
    assert domains[".ods"] == domains[".xlsx"]


def test_a_csv_with_a_bom_and_a_row_in_another_encoding_is_the_same_error_as_without_a_bom(runner, tmp_path):
    """UTF-8 with a BOM and one row pasted from a Windows-1252 file (“right” café as \\x93 \\x94 \\xe9):
    the error naming the row, as for the same file without a BOM, never U+FFFD in the database."""
    rows = "Code,Statement\nA1,Measure café temps\n".encode() + b"A2,Use the \x93right\x94 tool caf\xe9\n"
    (tmp_path / "bom.csv").write_bytes(b"\xef\xbb\xbf" + rows)
    (tmp_path / "plain.csv").write_bytes(rows)
    # (and its column: an audit found the row named, not the cell)
    said = ("row 3, column 2 (Statement): is UTF-8 text but for this row, which is in another encoding "
            "(Windows-1252?) (save the whole "
            "file as UTF-8 (in Excel: Save As, CSV UTF-8) and import it again)")
    for name in ("plain.csv", "bom.csv"):
        with pytest.raises(SourceError) as info:
            read_table(tmp_path / name)
        assert str(info.value) == f"{name}, {said}"
    database = tmp_path / "district.db"
    good = tmp_path / "good.csv"
    good.write_bytes(b"\xef\xbb\xbf" + "Code,Statement\nA1,Measure café temps\n".encode())
    assert runner.invoke(cli, ["import", str(database), str(good), "--framework", "W", "--silent"]).exit_code == 0
    before = database.read_bytes()
    result = runner.invoke(cli, ["import", str(database), str(tmp_path / "bom.csv"), "--framework", "W"])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines()[-1] == f"Error: bom.csv, {said}"
    assert database.read_bytes() == before


def merged_two_row_header(path, repeat_header=False):
    """Code and Statement merged down over two rows; 'Academic connection' merged across C1:D1 with
    'Math' and 'ELA' under it."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Tasks"
    sheet.append(["Code", "Statement", "Academic connection", None])
    sheet.append([None, None, "Math", "ELA"])
    sheet.append(["A.1", "Weld a fillet joint.", "x", None])
    sheet.append(["A.2", "Cut plate with oxy-fuel.", None, "x"])
    for cells in ("A1:A2", "B1:B2", "C1:D1"):
        sheet.merge_cells(cells)
    if repeat_header:  # as a report printed in pages repeats it
        sheet.append(["Code", "Statement", "Academic connection", None])
        sheet.append([None, None, "Math", "ELA"])
        sheet.append(["A.3", "Grind a bevel.", "x", "x"])
        for cells in ("A5:A6", "B5:B6", "C5:D5"):
            sheet.merge_cells(cells)
    workbook.save(path)
    return path


def test_a_header_of_merged_cells_over_two_rows_is_one_header(db, tmp_path, libreoffice):
    """The row under the header, in which 'Code' and 'Statement' are the same merged cells again, is
    the header's second row, not a standard coded 'Code': its sub-headers name their columns
    ('Academic connection Math'), in .xlsx, .xls and .ods alike."""
    source = merged_two_row_header(tmp_path / "two-rows.xlsx")
    [xls] = libreoffice(source, "xls", tmp_path / "xls")
    [ods] = libreoffice(source, "ods", tmp_path / "ods")
    for path in (source, xls, ods):
        framework = f"Two rows {path.suffix}"
        result = import_file(db, path, framework=framework)
        assert db.execute(
            "select s.code, s.statement, s.source_row from standards s join frameworks f on f.id = s.framework_id "
            "where f.name = ? order by s.source_row", [framework]).fetchall() == [
            ("A.1", "Weld a fillet joint.", 3), ("A.2", "Cut plate with oxy-fuel.", 4)], path.name
        assert result.added == 2, path.name
        table = read_table(path)
        assert (table.header_row, table.headers[:4]) == (
            1, ["Code", "Statement", "Academic connection Math", "Academic connection ELA"]), path.name
        assert [number for number, _ in table.rows][:2] == [3, 4], path.name
    assert db.execute("select count(*) from standards "
                      "where code = 'Code' or statement = 'Statement'").fetchone()[0] == 0


def test_a_header_over_two_rows_repeated_further_down_is_skipped(db, tmp_path):
    """Both rows of the header, printed again above a page's rows, are skipped as a repeated header."""
    path = merged_two_row_header(tmp_path / "pages.xlsx", repeat_header=True)
    result = import_file(db, path, framework="Pages")
    assert db.execute("select code, statement, source_row from standards order by source_row").fetchall() == [
        ("A.1", "Weld a fillet joint.", 3), ("A.2", "Cut plate with oxy-fuel.", 4), ("A.3", "Grind a bevel.", 7)]
    assert result.added == 3
    assert "sheet 'Tasks' rows repeating the header (row 1) skipped: 5, 6" in result.warnings, result.warnings


def test_a_title_merged_across_the_columns_is_not_taken_for_the_header(db, tmp_path, libreoffice):
    """A title merged over A1:C1, spread to its three cells, is one text, not a row of column names: with
    no column name crosswalk knows, the header is still the first row of different texts, in .xlsx and
    .ods alike."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Tasks"
    sheet.append(["Riverbend welding program: task list", None, None])
    sheet.append([])
    sheet.append(["Competency Nbr", "What the student does", "Hours"])
    sheet.append(["C.1", "Weld a fillet joint.", 3])
    sheet.merge_cells("A1:C1")
    source = tmp_path / "titled.xlsx"
    workbook.save(source)
    [ods] = libreoffice(source, "ods", tmp_path / "ods")
    for path in (source, ods):
        framework = f"Titled {path.suffix}"
        import_file(db, path, framework=framework, columns={"statement": "What the student does"})
        assert db.execute(
            "select s.code, s.statement, s.source_row from standards s join frameworks f on f.id = s.framework_id "
            "where f.name = ?", [framework]).fetchall() == [("C.1", "Weld a fillet joint.", 4)], path.name


def zero_padded_codes(path):
    """Codes typed into number cells whose formats pad them with zeros, as a district's sheet of
    numbered tasks (000) or of CIP programs (00.0000) has them; and a 1.10 shown by 0.00."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Code", "Statement", "Grade"])
    for code, text, number_format in ((7, "Set up oxy-fuel cutting equipment", "000"),
                                      (10, "Inspect welds for surface defects", "000"),
                                      (1.0101, "Agricultural business and management", "00.0000"),
                                      (1.1, "Read welding symbols on drawings", "0.00"),
                                      (8, "Grind bevels on plate", "General")):
        sheet.append([code, text, 11])
        sheet.cell(sheet.max_row, 1).number_format = number_format
    workbook.save(path)
    return path


def test_codes_in_number_cells_read_as_the_sheet_shows_them_in_every_format(db, tmp_path, libreoffice):
    """A code 007 in a number cell formatted 000 reads as 007, as the spreadsheet shows it and as its
    CSV writes it, not 7 (then a re-import from the CSV would retire every such code and its reviews);
    the same from .xlsx, from LibreOffice's .xls, .ods and CSV of it."""
    source = zero_padded_codes(tmp_path / "tasks.xlsx")
    [xls] = libreoffice(source, "xls", tmp_path / "xls")
    [ods] = libreoffice(source, "ods", tmp_path / "ods")
    # (a CSV saved with the cells as shown, as Excel's Save As CSV writes it: the 9th filter option)
    [csv] = libreoffice(source, "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,true", tmp_path / "csv")
    expected = ["007", "010", "01.0101", "1.10", "8"]
    for path in (source, xls, ods, csv):
        codes = [cell_text(values[0]) for _, values in read_table(path).rows if values and values[0] is not None]
        assert codes == expected, path.suffix
    first = import_file(db, source, framework="Tasks")
    assert first.added == 5
    again = import_file(db, csv, framework="Tasks")
    assert (again.added, again.retired, again.unchanged) == (0, 0, 5)
    assert [r[0] for r in db.execute("select code from standards order by source_row")] == expected


def test_a_workbook_imported_before_codes_were_read_as_shown_keeps_its_standards_and_decisions(db, tmp_path):
    """Imported before number formats were read, the tasks 7 and 8 (formatted 000) were stored as 7
    and 8; the same workbook re-imported reads 007 and 008. They are the same standards, their codes
    padded: not two added and two retired, with the decision on 7 flagged and certifying nothing."""
    from crosswalk.matching import match
    from crosswalk.review import decide

    def tasks(path, number_format):
        workbook = openpyxl.Workbook()
        sheet = workbook.active
        sheet.append(["Code", "Statement", "Grade"])
        for code, text in ((7, "Measure and calculate the angle of a bevel"), (8, "Read welding symbols on drawings"),
                           ("A.1", "Keep the work area clean")):
            sheet.append([code, text, 11])
            sheet.cell(sheet.max_row, 1).number_format = number_format if isinstance(code, int) else "@"
            sheet.cell(sheet.max_row, 3).number_format = "0.0"  # (a grade shows 11.0; it is grade 11)
        workbook.save(path)
        return path

    # The plain reading, as crosswalk stored such codes before: General shows 7.
    import_file(db, tasks(tmp_path / "before.xlsx", "General"), framework="Tasks", kind="industry")
    import_file(db, ROOT / "data" / "ccss_math.csv", framework="Math", kind="academic")
    match(db, source="Tasks", target="Math", top=3, use_embeddings=False, grade="9-12")
    ids = dict(db.execute("select code, id from standards where framework_id = 1").fetchall())
    alignment = db.execute("select id from alignments where source_id = ? order by rank limit 1", [ids["7"]]).fetchone()[0]
    decide(db, alignment, "accept", reviewer="alice")

    result = import_file(db, tasks(tmp_path / "tasks.xlsx", "000"), framework="Tasks", kind="industry")
    assert (result.added, result.changed, result.retired, result.flagged) == (0, 2, 0, 0)
    assert ("codes from number cells written otherwise than before (their zeros) are the same standards (updated "
            "in place, their decisions kept): 7 → 007, 8 → 008") in result.warnings
    assert dict(db.execute("select code, id from standards where framework_id = 1").fetchall()) == {
        "007": ids["7"], "008": ids["8"], "A.1": ids["A.1"]}
    assert db.execute("select distinct grade_low, grade_high from standards where framework_id = 1").fetchall() == [(11, 11)]
    assert db.execute("select status, needs_review from alignments where id = ?", [alignment]).fetchone() == ("accepted", 0)
    assert db.execute("select count(*) from current_alignments where id = ?", [alignment]).fetchone()[0] == 1

    # Next year the column lost its format (typed as plain numbers): 7 is still 007 (a director's walk:
    # 007 and 010 were retired with their decisions, and 7 and 10 added).
    again = import_file(db, tasks(tmp_path / "year2.xlsx", "General"), framework="Tasks", kind="industry")
    assert (again.added, again.changed, again.retired, again.flagged) == (0, 2, 0, 0)
    assert dict(db.execute("select code, id from standards where framework_id = 1").fetchall()) == {
        "7": ids["7"], "8": ids["8"], "A.1": ids["A.1"]}
    assert db.execute("select count(*) from current_alignments where id = ?", [alignment]).fetchone()[0] == 1


def test_codes_formatted_with_their_decimals_are_not_called_numbers_a_spreadsheet_made(db, tmp_path):
    """1.01 ... 1.10 typed under 0.00 read as typed: the note that 'a code typed 1.10 reads as 1.1'
    named 1.01-1.09, which were right, and left out 1.10 (a director's walk)."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Code", "Statement"])
    for n in range(1, 11):
        sheet.append([round(1 + n / 100, 2), f"Task number {n} of the first duty area"])
        sheet.cell(sheet.max_row, 1).number_format = "0.00"
    sheet.append([2.1, "A task typed 2.10 in a General cell"])
    workbook.save(tmp_path / "decimals.xlsx")
    result = import_file(db, tmp_path / "decimals.xlsx", framework="Decimals", kind="industry")
    assert [r[0] for r in db.execute("select code from standards order by source_row")] == [
        "1.01", "1.02", "1.03", "1.04", "1.05", "1.06", "1.07", "1.08", "1.09", "1.10", "2.1"]
    assert [w for w in result.warnings if "stored as numbers" in w] == [
        "sheet 'Sheet' codes stored as numbers without a format that shows them on rows 12 (2.1): a code typed 1.10 reads as "
        "1.1; format the code column as Text"]
