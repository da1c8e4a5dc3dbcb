"""A corpus of awkward and broken files, each with its expected outcome.

Every file goes through the real command line (``import``, ``import-case`` or
``import-decisions``) into a database that already holds a framework: a good
file imports the expected standards, a bad one gives one ``Error:`` line naming
the place and leaves the database byte-for-byte as it was. Property-based
tests feed random cells and never get a traceback.
"""

import json
import os
import pathlib
import zipfile

import openpyxl
import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st
from openpyxl.styles import Alignment

from crosswalk.cli import cli
from crosswalk.db import open_db
from crosswalk.errors import SourceError
from crosswalk.importer import import_file

from .conftest import write_welding_xlsx, write_xlsx

GOOD = [["Code", "Statement"], ["A.1", "Measure a part."], ["A.2", "Cut a part."]]


def xlsx(rows, sheet="Sheet1", setup=None):
    def build(path):
        workbook = openpyxl.Workbook()
        ws = workbook.active
        ws.title = sheet
        for row in rows:
            ws.append(row)
        if setup:
            setup(workbook, ws)
        workbook.save(path)
    return build


def csv_text(text, encoding="utf-8"):
    def build(path):
        path.write_bytes(text.encode(encoding))
    return build


def raw_bytes(data):
    def build(path):
        path.write_bytes(data)
    return build


def merged_header(workbook, ws):
    ws.insert_rows(1)
    ws["A1"] = "Standard"
    ws.merge_cells("A1:B1")


def merged_domain(workbook, ws):
    ws.merge_cells("C2:C3")


def outline(workbook, ws):
    ws.row_dimensions[3].outline_level = 1
    ws.row_dimensions[4].outline_level = 1


def indent(workbook, ws):
    for row in (3, 4):
        ws.cell(row, 2).alignment = Alignment(indent=2)


def hidden(workbook, ws):
    ws.row_dimensions[3].hidden = True
    ws.column_dimensions["C"].hidden = True


def formula_uncalculated(workbook, ws):
    ws["B3"] = '=CONCATENATE("Cut ", "a part.")'


def second_sheet(workbook, ws):
    other = workbook.create_sheet("Safety")
    other.append(["Code", "Statement"])
    other.append(["S.1", "Wear eye protection."])
    cover = workbook.create_sheet("About", 0)
    cover.append(["This workbook lists the tasks."])


def formula_cached(path):
    """An xlsx whose formula has a cached value, as Excel saves it."""
    xlsx([["Code", "Statement"], ["A.1", "Measure a part."], ["A.2", "=B2"]])(path)
    with zipfile.ZipFile(path) as src:
        files = {n: src.read(n) for n in src.namelist()}
    sheet = files["xl/worksheets/sheet1.xml"].decode()
    sheet = sheet.replace('<c r="B3"><f>B2</f><v /></c>', '<c r="B3" t="str"><f>B2</f><v>Copied statement.</v></c>')
    assert "Copied statement." in sheet
    files["xl/worksheets/sheet1.xml"] = sheet.encode()
    with zipfile.ZipFile(path, "w") as out:
        for name, data in files.items():
            out.writestr(name, data)


def password_protected(path):
    # An encrypted xlsx is an OLE compound file holding an "EncryptedPackage" stream.
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 500 + "EncryptedPackage".encode("utf-16-le")
                     + b"\x00" * 500)


def corrupt_xlsx(path):
    xlsx(GOOD)(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def ods(rows, hidden_row=None):
    def build(path):
        cells = []
        for number, row in enumerate(rows, start=1):
            attrs = ' table:visibility="collapse"' if number == hidden_row else ""
            tds = "".join(
                f'<table:table-cell office:value-type="float" office:value="{v}"><text:p>{v}</text:p></table:table-cell>'
                if isinstance(v, (int, float)) else
                f'<table:table-cell office:value-type="string"><text:p>{v}</text:p></table:table-cell>'
                for v in row)
            cells.append(f"<table:table-row{attrs}>{tds}</table:table-row>")
        content = (
            '<?xml version="1.0" encoding="UTF-8"?><office:document-content '
            'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
            'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
            'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body><office:spreadsheet>'
            '<table:table table:name="Tasks">' + "".join(cells) + "</table:table></office:spreadsheet>"
            "</office:body></office:document-content>")
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
            archive.writestr("content.xml", content)
    return build


def huge_cell(path):
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("Code,Statement\nA.1,Measure a part.\nA.2,")
        block = "x" * (1024 * 1024)
        for _ in range(50):
            fh.write(block)
        fh.write("\n")


# (name, file name, builder, extra CLI args, expected)
# expected: ("ok", standards imported, text in stdout+stderr or None) or ("error", text in the error line)
CORPUS = [
    ("plain xlsx", "plain.xlsx", xlsx(GOOD), [], ("ok", 2, None)),
    ("title rows above header", "title.xlsx", xlsx([["Welding tasks"], [], ["Code", "Statement"],
                                                    ["A.1", "Measure."]]), [], ("ok", 1, None)),
    ("merged header cell", "merged.xlsx", xlsx(GOOD, setup=merged_header), [], ("ok", 2, None)),
    ("merged domain cells down", "mergeddomain.xlsx",
     xlsx([["Code", "Statement", "Domain"], ["A.1", "Measure.", "Layout"], ["A.2", "Cut.", None]],
          setup=merged_domain), [], ("ok", 2, None)),
    ("blank spacer rows", "spacers.xlsx", xlsx([["Code", "Statement"], [], ["A.1", "Measure."], [None, None],
                                                 [], ["A.2", "Cut."]]), [], ("ok", 2, None)),
    ("multi-line cells", "multiline.xlsx", xlsx([["Code", "Statement"], ["A.1", "Measure:\n- length\n- width"]]),
     [], ("ok", 1, None)),
    ("section heading rows", "headings.xlsx", xlsx([["Code", "Statement"], [None, "Layout"], ["A.1", "Measure."],
                                                     [None, "Safety"], ["S.1", "Wear goggles."]]),
     [], ("ok", 2, "read as section headings")),
    ("code prefix hierarchy", "prefix.xlsx", xlsx([["Code", "Statement"], ["1", "Layout"], ["1.2", "Measure."],
                                                    ["1.2.a", "Measure length."]]),
     ["--dry-run"], ("ok", 3, "Hierarchy from: code prefixes")),
    ("outline level hierarchy", "outline.xlsx", xlsx([["Code", "Statement"], ["L", "Layout"], ["L1", "Measure."],
                                                       ["L2", "Mark."]], setup=outline),
     ["--dry-run"], ("ok", 3, "row 3: L1 (parent L)")),
    ("indentation hierarchy", "indent.xlsx", xlsx([["Code", "Statement"], ["L", "Layout"], ["L1", "Measure."],
                                                    ["L2", "Mark."]], setup=indent),
     ["--dry-run"], ("ok", 3, "Hierarchy from: indentation")),
    ("hidden rows and columns reported", "hidden.xlsx",
     xlsx([["Code", "Statement", "Notes"], ["A.1", "Measure.", "x"], ["A.2", "Cut.", "y"]], setup=hidden),
     [], ("ok", 2, "hidden rows (imported all the same): 3")),
    ("formula with cached value", "cached.xlsx", formula_cached, [], ("ok", 2, None)),
    ("formula with a line break, never calculated", "formula_lines.xlsx",
     xlsx(GOOD, setup=lambda wb, ws: ws.cell(3, 2, '="Cut"\n&" a part."')), [],
     ("error", "row 3, column B (Statement): the statement is a formula (=\"Cut\" &\" a part.\") that was never")),
    ("formula never calculated", "formula.xlsx", xlsx(GOOD, setup=formula_uncalculated), [],
     ("error", "formula.xlsx, sheet 'Sheet1', row 3, column B (Statement): the statement is a formula")),
    ("codes turned into numbers", "numbers.xlsx", xlsx([["Code", "Statement"]] + [[1 + i / 10, f"Task {i}."]
                                                         for i in range(1, 10)] + [[1.1, "Task ten."]]), [],
     ("error", "duplicate code '1.1': it is also on row 2 (the spreadsheet stores 1.1 as a number")),
    ("numeric codes reported", "numcodes.xlsx", xlsx([["Code", "Statement"], [1.1, "One."], [1.2, "Two."]]), [],
     ("ok", 2, "codes stored as numbers without a format that shows them on rows 2 (1.1), 3 (1.2)")),
    ("csv code 1.9 then 1.1", "seq.csv", csv_text("Code,Statement\n1.8,A\n1.9,B\n1.1,C\n"), [],
     ("ok", 3, "1.1 on row 4 (after 1.9)")),
    ("pick a sheet", "sheets.xlsx", xlsx(GOOD, setup=second_sheet), ["--sheet", "Safety"], ("ok", 1, None)),
    ("all sheets", "allsheets.xlsx", xlsx(GOOD, setup=second_sheet), ["--all-sheets"],
     ("ok", 3, "sheet 'About' left out")),
    ("unknown sheet", "nosheet.xlsx", xlsx(GOOD), ["--sheet", "Tasks"],
     ("error", "nosheet.xlsx: has no sheet named 'Tasks'; its sheets are: 'Sheet1'")),
    ("csv utf-8 with BOM", "bom.csv", csv_text("\ufeffCode,Statement\nA.1,Mesure l’angle\n"), [], ("ok", 1, None)),
    ("csv windows-1252", "cp1252.csv", csv_text("Code;Statement\nA.1;Café – 90°\n", "cp1252"), [],
     ("ok", 1, "read as windows-1252")),
    ("csv tabs", "tabs.csv", csv_text("Code\tStatement\nA.1\tMeasure, then cut.\n"), [], ("ok", 1, None)),
    ("csv semicolons with commas inside", "semi.csv", csv_text("Code;Statement\nA.1;Measure, mark, cut\n"), [],
     ("ok", 1, None)),
    ("csv quoted multi-line", "quoted.csv", csv_text('Code,Statement\nA.1,"Line one\nline two"\n'), [],
     ("ok", 1, None)),
    ("ods spreadsheet", "tasks.ods", ods([["Code", "Statement"], ["A.1", "Measure."], ["A.2", "Cut."]], 3), [],
     ("ok", 2, "hidden rows")),
    ("not a spreadsheet", "photo.xlsx", raw_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64), [],
     ("error", "photo.xlsx: is not a readable .xlsx workbook")),
    ("binary with csv name", "data.csv", raw_bytes(b"\x00\x01\x02binary\x00" * 10), [],
     ("error", "data.csv: is not a text or spreadsheet file")),
    ("password-protected xlsx", "secret.xlsx", password_protected, [],
     ("error", "secret.xlsx: is password-protected")),
    ("corrupt xlsx", "broken.xlsx", corrupt_xlsx, [], ("error", "broken.xlsx: is not a readable .xlsx workbook")),
    ("empty sheet", "empty.xlsx", xlsx([]), [], ("error", "empty.xlsx, sheet 'Sheet1': is empty")),
    ("empty csv", "empty.csv", csv_text(""), [], ("error", "empty.csv: is empty")),
    ("header only", "headeronly.csv", csv_text("Code,Statement\n"), [],
     ("error", "headeronly.csv, row 1: has a header but no standards below it")),
    ("no statement column", "nostatement.xlsx", xlsx([["Code", "Points"], ["A.1", 3]]), [],
     ("error", "nostatement.xlsx, sheet 'Sheet1', row 1: has no statement column")),
    ("duplicate codes", "dup.xlsx", xlsx([["Code", "Statement"], ["A.1", "One."], ["A.1", "Two."]]), [],
     ("error", "dup.xlsx, sheet 'Sheet1', row 3, column A (Code): duplicate code 'A.1': it is also on row 2")),
    ("duplicate codes across sheets", "dupsheets.xlsx",
     xlsx(GOOD, setup=lambda wb, ws: wb.create_sheet("More").append(["Code", "Statement"]) or
          wb["More"].append(["A.1", "Again."])), ["--all-sheets"],
     ("error", "sheet 'More', row 2, column A (Code): duplicate code 'A.1': it is also on sheet 'Sheet1', row 2")),
    ("statement missing for a code", "nostmt.csv", csv_text("Code,Statement\nA.1,\n"), [],
     ("error", "nostmt.csv, row 2, column 2 (Statement): the statement is empty for code 'A.1'")),
    ("long codeless row", "codeless.csv", csv_text("Code,Statement\n," + "word " * 60 + "\n"), [],
     ("error", "codeless.csv, row 2, column 1 (Code): the code is empty")),
    ("statement far too long", "long.xlsx", xlsx([["Code", "Statement"], ["A.1", "x" * 20000]]), [],
     ("error", "row 2, column B (Statement): the statement is 20,000 characters long; expected at most 10,000")),
    ("50 MB cell", "huge.csv", huge_cell, [], ("error", "huge.csv, line 3, column 2 (Statement): holds a cell of "
                                                        "52,428,800 characters")),
    ("quoted cell past the CSV field limit", "notes.csv",
     csv_text('Code,Statement,Notes\nA.1,Measure a part.,"a ""long"" note' + "y" * 200_000 + '"\n'), [],
     ("error", "notes.csv, line 2, column 3 (Notes): holds a cell of 200,013 characters")),
    ("json given to import", "case.json", csv_text('{"CFDocument": {}}'), [],
     ("error", "case.json: is JSON; use `crosswalk import-case`")),
    ("missing file", "missing.xlsx", None, [], ("error", "missing.xlsx: file not found")),
    ("named column not there", "named.xlsx", xlsx(GOOD), ["--code-column", "Task ID"],
     ("error", "named.xlsx, sheet 'Sheet1', row 1: has no column named 'Task ID' for the code")),
]


# --- what a probe still got through (issue 16): every case below failed before its fix -------------


def folder(path):
    path.mkdir()


def fifo(path):
    os.mkfifo(path)  # reading it waited for ever for a writer


def device(name):
    def build(path):
        return pathlib.Path(name)
    return build


def sparse(size):
    def build(path):
        with open(path, "wb") as fh:
            fh.truncate(size)  # takes no disk space; reading it took all of its size in memory
    return build


def xlsx_holding(megabytes):
    """A small xlsx whose one statement is ``megabytes`` MB of text: it inflates 1,000 times."""
    def build(path):
        xlsx([["Code", "Statement"], ["A.1", "PLACEHOLDER"]])(path.with_suffix(".src.xlsx"))
        with zipfile.ZipFile(path.with_suffix(".src.xlsx")) as src, \
                zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
            for info in src.infolist():
                data = src.read(info.filename)
                if b"PLACEHOLDER" not in data:
                    out.writestr(info, data)
                    continue
                head, tail = data.split(b"PLACEHOLDER")
                with out.open(info.filename, "w", force_zip64=True) as fh:
                    fh.write(head)
                    for _ in range(megabytes):
                        fh.write(b"x" * (1024 * 1024))
                    fh.write(tail)
    return build


def safety_sheet_under_a(workbook, ws):
    other = workbook.create_sheet("Safety")
    other.append(["Code", "Statement", "Parent"])
    other.append(["S", "Wear goggles.", "A"])


def declaring(part, compressed, inflated):
    """An xlsx whose zip directory declares other sizes for one part (nothing is inflated to see it)."""
    def build(path):
        xlsx(GOOD)(path)
        data = bytearray(path.read_bytes())
        name = part.encode()
        at = 0
        while True:
            at = data.index(b"PK\x01\x02", at)
            name_length = int.from_bytes(data[at + 28:at + 30], "little")
            if data[at + 46:at + 46 + name_length] == name:
                break
            at += 4
        data[at + 20:at + 24] = compressed.to_bytes(4, "little")
        data[at + 24:at + 28] = inflated.to_bytes(4, "little")
        path.write_bytes(bytes(data))
    return build


def nested_json(path):
    """50 MB of nested arrays where CFItems should be."""
    depth = 25_000_000
    path.write_text('{"CFDocument": {"title": "T"}, "CFItems": ' + "[" * depth + "]" * depth + "}")


def case_json(package):
    def build(path):
        path.write_text(json.dumps(package), encoding="utf-8")
    return build


def case_item(n, code, statement=None):
    return {"identifier": f"00000000-0000-4000-8000-{n:012d}", "fullStatement": statement or f"Statement {code}.",
            "humanCodingScheme": code, "uri": f"urn:item:{n}", "lastChangeDateTime": "2020-01-01T00:00:00+00:00"}


def child_of(child, parent):
    return {"identifier": f"00000000-0000-4000-9000-{child:06d}{parent:06d}", "associationType": "isChildOf",
            "uri": "urn:association", "lastChangeDateTime": "2020-01-01T00:00:00+00:00",
            "originNodeURI": {"identifier": f"00000000-0000-4000-8000-{child:012d}"},
            "destinationNodeURI": {"identifier": f"00000000-0000-4000-8000-{parent:012d}"}}


CORPUS += [
    ("folder given as FILE", "folder.xlsx", folder, [],
     ("error", "folder.xlsx: is a folder, not a spreadsheet")),
    ("named pipe given as FILE", "pipe.csv", fifo, [],
     ("error", "pipe.csv: is a named pipe (FIFO), not a spreadsheet")),
    ("/dev/zero given as FILE", "zero", device("/dev/zero"), [],
     ("error", "/dev/zero: is a character device, not a spreadsheet")),
    ("/dev/null given as FILE", "null", device("/dev/null"), [],
     ("error", "/dev/null: is a character device, not a spreadsheet")),
    ("file over 1 GB", "big.csv", sparse(3 * 1024 ** 3 // 2), [],
     ("error", "big.csv: is 1.5 GB (1,610,612,736 bytes); crosswalk reads files up to 1 GB (1,073,741,824 bytes)")),
    # (just over the limit: it read "is 1 GB; crosswalk reads files up to 1 GB", an audit)
    ("file just over 1 GB", "over.csv", sparse(1024 ** 3 + 1), [],
     ("error", "over.csv: is 1 GB (1,073,741,825 bytes); crosswalk reads files up to 1 GB (1,073,741,824 bytes)")),
    # The probe's file held 300 MB in 310 KB (refused after 58 s and 950 MB); 64 MB inflates as many times.
    ("small xlsx holding a 64 MB statement", "bomb.xlsx", xlsx_holding(64), [],
     ("error", "KB, but its part xl/worksheets/sheet1.xml would inflate to 64 MB (")),
    ("xlsx whose parts would inflate to 600 MB", "huge.xlsx",
     declaring("xl/worksheets/sheet1.xml", 10 * 1024 ** 2, 600 * 1024 ** 2), [],
     ("error", "huge.xlsx: would inflate to 600 MB; crosswalk reads workbooks up to 512 MB inflated")),
    ("NUL byte in a statement after the first 4 KB", "nul.csv",
     csv_text("Code,Statement\n" + "".join(f"A.{i},Measure part {i}.\n" for i in range(1, 300))
              + "B.1,Measure\x00 a part.\n"), [],
     ("error", "nul.csv, row 301, column 2 (Statement): the statement holds a NUL character (byte 0) at "
               "position 8; SQLite's search and text functions would stop there")),
    ("NUL byte in a statement of a small file", "nulsmall.csv", csv_text("Code,Statement\nA.1,Cut\x00 a part.\n"), [],
     ("error", "nulsmall.csv, row 2, column 2 (Statement): the statement holds a NUL character")),
    ("NUL byte in a code", "nulcode.csv", csv_text("Code,Statement\nA.1,Measure.\nA\x00.2,Cut a part.\n"), [],
     ("error", "nulcode.csv, row 3, column 1 (Code): the code holds a NUL character (byte 0) at position 2")),
    ("header row repeated mid-sheet", "pages.xlsx",
     xlsx([["Code", "Statement", "Grade"], ["A.1", "Measure.", "9"], ["Code", "Statement", "Grade"],
           ["A.2", "Cut.", "10"], ["code", "STATEMENT"], ["A.3", "Weld."]]), [],
     ("ok", 3, "Note: sheet 'Sheet1' rows repeating the header (row 1) skipped: 3, 5")),
    ("header row repeated in a CSV", "pages.csv", csv_text("Code,Statement\nA.1,Measure.\nCode,Statement\nA.2,Cut.\n"),
     [], ("ok", 2, "Note: rows repeating the header (row 1) skipped: 3")),
    ("two Standard columns", "twostd.xlsx",
     xlsx([["Code", "Standard", "Grade", "Standard"], ["A.1", "Measure.", "9", "Mesurer."]]), [],
     ("error", "twostd.xlsx, sheet 'Sheet1', row 1: has 2 statement columns named 'Standard': B (Standard), "
               "D (Standard (2)); which one holds the statements? (name it with --text-column \"Standard\" for B, "
               "--text-column \"Standard (2)\" for D)")),
    ("two statement columns in a CSV", "twostd.csv", csv_text("Code,Task,Task\nA.1,Measure.,Mesurer.\n"), [],
     ("error", "twostd.csv, row 1: has 2 statement columns named 'Task': 2 (Task), 3 (Task (2)); which one holds")),
    ("two Code columns", "twocode.xlsx", xlsx([["Code", "Statement", "Code"], ["A.1", "Measure.", "M-1"]]), [],
     ("error", "twocode.xlsx, sheet 'Sheet1', row 1: has 2 code columns named 'Code': A (Code), C (Code (2))")),
    ("parent-column cycle", "cycle.xlsx",
     xlsx([["Code", "Statement", "Parent"], ["C", "Cut.", None], ["A", "Layout.", "B"], ["B", "Measure.", "A"]]), [],
     ("error", "cycle.xlsx, sheet 'Sheet1', row 3, column C (Parent): the parent codes go round in a circle: "
               "A (row 3) → B (row 4) → A (a standard can not be its own ancestor: correct the parent code")),
    # A slip with one reading (as the CCSS math source's MP1 is its own parent): no parent, and a note.
    ("standard that is its own parent", "self.csv", csv_text("Code,Statement,Parent\nA,Layout.,\nA.1,Measure.,A.1\n"),
     [], ("ok", 2, "Note: standards naming themselves as their parent were imported without one: A.1 (row 3)")),
    ("parent cycle across sheets", "cyclesheets.xlsx",
     xlsx([["Code", "Statement", "Parent"], ["A", "Layout.", "S"]], setup=safety_sheet_under_a),
     ["--all-sheets"], ("error", "circle: A (sheet 'Sheet1', row 2) → S (sheet 'Safety', row 2) → A")),
]

# import-case: (name, file name, builder, extra CLI args, expected), as above
CASE_CORPUS = [
    ("CASE file of 50 MB nested arrays", "nested.json", nested_json, [],
     ("error", "nested.json: is not a CASE package: its arrays or objects are nested too deeply")),
    ("CASE number of 5,000 digits", "digits.json",
     csv_text('{"CFDocument": {"title": "T", "version": ' + "9" * 5000 + '}, "CFItems": []}'), [],
     ("error", "digits.json: is not valid JSON: Exceeds the limit (4300 digits)")),
    ("folder given to import-case", "folder.json", folder, [],
     ("error", "folder.json: is a folder, not a CASE JSON file")),
    ("named pipe given to import-case", "pipe.json", fifo, [],
     ("error", "pipe.json: is a named pipe (FIFO), not a CASE JSON file")),
    ("/dev/zero given to import-case", "zero", device("/dev/zero"), [],
     ("error", "/dev/zero: is a character device, not a CASE JSON file")),
    ("NUL character in a CASE statement", "nul.json",
     case_json({"CFDocument": {"title": "T"},
                "CFItems": [case_item(1, "A.1"), case_item(2, "A.2", "Cut\x00 a part.")]}),
     [], ("error", "nul.json, column CFItems[1].fullStatement: holds a NUL character")),
    ("isChildOf cycle", "cycle.json",
     case_json({"CFDocument": {"title": "T"},
                "CFItems": [case_item(1, "1"), case_item(2, "1.1"), case_item(3, "1.1.a")],
                "CFAssociations": [child_of(2, 1), child_of(3, 2), child_of(1, 3)]}), [],
     ("error", "cycle.json, column CFAssociations: isChildOf associations go round in a circle: 1 (CFItems[0]) → "
               "1.1.a (CFItems[2]) → 1.1 (CFItems[1]) → 1 (an item can not be its own ancestor)")),
    ("item that isChildOf itself", "selfchild.json",
     case_json({"CFDocument": {"title": "T"}, "CFItems": [case_item(1, "1"), case_item(2, "1.1")],
                "CFAssociations": [child_of(2, 1), child_of(1, 1)]}), [],
     ("ok", 2, "Note: isChildOf associations of an item to itself were left out: CFAssociations[1]")),
]

# import-decisions: (name, file name, builder, extra CLI args, expected), as above
DECISIONS_CORPUS = [
    ("folder given to import-decisions", "folder.csv", folder, [],
     ("error", "folder.csv: is a folder, not a spreadsheet")),
    ("/dev/zero given to import-decisions", "zero", device("/dev/zero"), [],
     ("error", "/dev/zero: is a character device, not a spreadsheet")),
    ("decisions naming no known code", "unknown.csv", csv_text("source code,target code,decision\nZ.1,Q.1,yes\n"
                                                               "Z.2,Q.2,no\n"), [],
     ("error", "Error: none of the decisions in unknown.csv (2 rows) is between two standards in the database, "
               "so nothing was applied (row 2 (Z.1 → Q.1): no standard with code 'Z.1'); import the frameworks "
               "first, or name them with --from and --to")),
    ("decisions naming known sources but no known target", "notarget.csv",
     csv_text("source code,target code,decision\nW.1,Q.1,yes\n"), [],
     ("error", "none of the decisions in notarget.csv (1 row) is between two standards in the database, so "
               "nothing was applied (row 2 (W.1 → Q.1): no standard with code 'Q.1')")),
]

# What each command needs besides the database and the file.
COMMAND_ARGS = {"import": ["--framework", "New"], "import-case": ["--framework", "New"], "import-decisions": []}
ALL = ([("import", *case) for case in CORPUS] + [("import-case", *case) for case in CASE_CORPUS]
       + [("import-decisions", *case) for case in DECISIONS_CORPUS])


def test_corpus_is_big_enough():
    assert len(ALL) >= 60
    assert len({case[1] for case in ALL}) == len(ALL)  # each case has its own name


@pytest.mark.parametrize("command,name,filename,build,args,expected", ALL, ids=[c[1] for c in ALL])
def test_corpus(runner, tmp_path, base_db, command, name, filename, build, args, expected):
    path = tmp_path / filename
    if build:
        path = build(path) or path
    before = base_db.read_bytes()
    result = runner.invoke(cli, [command, str(base_db), str(path), *COMMAND_ARGS[command], *args])
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    if expected[0] == "error":
        assert result.exit_code == 1, result.output
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
        assert expected[1] in lines[0], lines[0]
        assert base_db.read_bytes() == before
    else:
        assert result.exit_code == 0, result.output
        noun = "standard" if expected[1] == 1 else "standards"
        assert f" {expected[1]} {noun} into 'New'" in result.stdout, result.stdout
        if expected[2]:
            assert expected[2] in result.output, result.output
        if "--dry-run" in args:
            assert base_db.read_bytes() == before
        else:
            count = open_db(base_db).execute(
                "select count(*) from standards s join frameworks f on f.id = s.framework_id "
                "where f.name = 'New'").fetchone()[0]
            assert count == expected[1]


def test_hierarchy_and_merged_values_land_in_the_database(db, tmp_path):
    path = tmp_path / "p.xlsx"
    xlsx([["Code", "Statement", "Domain"], ["1", "Layout", "Shop"], ["1.2", "Measure.", None],
          ["1.2.a", "Measure length.", None]], setup=lambda wb, ws: ws.merge_cells("C2:C4"))(path)
    result = import_file(db, path, framework="P")
    assert result.hierarchy == "code prefixes"
    rows = db.execute("select s.code, p.code, s.domain from standards s left join standards p on p.id = s.parent_id "
                      "order by s.id").fetchall()
    assert rows == [("1", None, "Shop"), ("1.2", "1", "Shop"), ("1.2.a", "1.2", "Shop")]


def test_all_sheets_use_sheet_as_domain(db, tmp_path):
    path = tmp_path / "s.xlsx"
    xlsx(GOOD, sheet="Layout", setup=second_sheet)(path)
    import_file(db, path, framework="S", all_sheets=True)
    assert db.execute("select code, domain, source_sheet from standards order by id").fetchall() == [
        ("A.1", "Layout", "Layout"), ("A.2", "Layout", "Layout"), ("S.1", "Safety", "Safety")]


def test_real_xls_and_ods_from_libreoffice(db, tmp_path, libreoffice):
    source = write_welding_xlsx(tmp_path)
    for fmt in ("xls", "ods"):
        [converted] = libreoffice(source, fmt, tmp_path)
        result = import_file(db, converted, framework=f"Welding {fmt}")
        assert (result.added, result.sheet) == (4, "Tasks")
    assert db.execute("select count(distinct statement) from standards").fetchone()[0] == 4


cells = st.one_of(
    st.none(), st.text(max_size=60), st.integers(-10**6, 10**6),
    st.floats(allow_nan=True, allow_infinity=True), st.booleans(),
    st.sampled_from(["Code", "Statement", "Grade", "=SUM(A1)", "1.10", "", " ", "\n", "Parent"]),
)


@pytest.mark.long
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(cells, max_size=5), max_size=8))
# Found by this test: a grade of 2**63 went to SQLite as a grade number (OverflowError).
@example(rows=[[None, None, "GRADE", None, "STATEMENT"], [None, None, 9.223372036854776e18, None, "0"]])
def test_random_xlsx_cells_never_traceback(runner, tmp_path_factory, rows):
    tmp = tmp_path_factory.mktemp("h")
    path = tmp / "random.xlsx"
    clean = [[c.replace("\x00", "") if isinstance(c, str) else c for c in row] for row in rows]
    clean = [[c if not isinstance(c, str) or openpyxl.cell.cell.ILLEGAL_CHARACTERS_RE.search(c) is None else "x"
              for c in row] for row in clean]
    write_xlsx(path, clean)
    result = runner.invoke(cli, ["import", str(tmp / "r.db"), str(path), "--framework", "R"])
    assert result.exit_code in (0, 1), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    if result.exit_code == 1:
        assert result.stderr.startswith("Error: ") and len(result.stderr.strip().splitlines()) == 1
        assert not (tmp / "r.db").exists()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=300), encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]))
def test_random_csv_never_traceback(runner, tmp_path_factory, text, encoding):
    tmp = tmp_path_factory.mktemp("c")
    path = tmp / "random.csv"
    path.write_bytes(("Code,Statement\n" + text).encode(encoding, errors="replace"))
    result = runner.invoke(cli, ["import", str(tmp / "r.db"), str(path), "--framework", "R"])
    assert result.exit_code in (0, 1), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)


def test_a_formula_never_calculated_is_found_whatever_the_xml_prefix(tmp_path):
    """Formulas are read a second time only from workbooks that hold one; a writer that puts its
    cells in a prefixed namespace (<x:c><x:f>…) still has its uncalculated formula refused."""
    plain = tmp_path / "plain.xlsx"
    write_xlsx(plain, [["Code", "Statement"], ["A.1", "Cut a part."]])
    with_formula = tmp_path / "formula.xlsx"
    workbook = openpyxl.load_workbook(plain)
    workbook.active["B2"] = '=CONCATENATE("Cut ", "a part.")'
    workbook.save(with_formula)
    prefixed = tmp_path / "prefixed.xlsx"
    with zipfile.ZipFile(with_formula) as src, zipfile.ZipFile(prefixed, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            data = src.read(info)
            if info.filename.startswith("xl/worksheets/"):
                text = data.decode()
                text = text.replace('<worksheet xmlns="', '<x:worksheet xmlns:x="').replace("</worksheet>", "</x:worksheet>")
                for tag in ("sheetPr", "outlinePr", "pageSetUpPr", "dimension", "sheetViews", "sheetView", "selection",
                            "sheetFormatPr", "sheetData", "row", "c", "f", "v", "is", "t", "pageMargins"):
                    text = text.replace(f"<{tag}>", f"<x:{tag}>").replace(f"<{tag} ", f"<x:{tag} ")
                    text = text.replace(f"</{tag}>", f"</x:{tag}>")
                assert "<x:f>" in text
                data = text.encode()
            out.writestr(info, data)
    db = open_db(tmp_path / "t.db")
    assert import_file(db, plain, framework="Plain", kind="industry").added == 1
    for path in (with_formula, prefixed):
        with pytest.raises(SourceError, match=r"formula \(=CONCATENATE"):
            import_file(db, path, framework="Formula", kind="industry")
    assert db["standards"].count == 1
