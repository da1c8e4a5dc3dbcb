import pathlib
import sqlite3
import zipfile
from xml.etree.ElementTree import ParseError

import openpyxl
from openpyxl.utils import get_column_letter
import pytest

from crosswalk.cli import cli
from crosswalk.db import open_db
from crosswalk.errors import SourceError
from crosswalk.matching import match
from crosswalk.programs import add_program
from crosswalk.review import decide
from crosswalk.text import score_text
from crosswalk.workbook import COLUMNS, COVER, export_workbook, import_workbook

from .conftest import WELDING, write_xlsx


def headers(ws):
    return {cell.value: cell.column for cell in ws[1]}


def rows_by_id(ws):
    h = headers(ws)
    return {ws.cell(r, h["Alignment id"]).value: r for r in range(2, ws.max_row + 1)
            if ws.cell(r, h["Alignment id"]).value is not None}


def set_decision(ws, row, decision=None, strength=None, rationale=None, reviewer=None):
    h = headers(ws)
    for name, value in (("Decision", decision), ("Strength", strength), ("Rationale", rationale),
                        ("Reviewer", reviewer)):
        if value is not None:
            ws.cell(row, h[name]).value = value


def log(path):
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    return [dict(r) for r in conn.execute("select * from review_log order by id")]


def test_export_layout(small_db, tmp_path, runner):
    db = open_db(small_db)
    add_program(db, "Welding Technology", cip_code="48.0508", frameworks=["Welding"])
    decide(db, 1, "accept", strength="full", rationale="ok", reviewer="alice")
    db.close()
    out = tmp_path / "review.xlsx"
    result = runner.invoke(cli, ["review", "export", str(small_db), str(out), "--program", "Welding Technology"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"Wrote 12 alignments to {out} (11 suggested, 1 accepted)"  # the path as given
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["About this workbook", "Suggestions"]
    cover = {r[0]: r[1] for r in wb["About this workbook"].iter_rows(values_only=True) if r[0]}
    assert cover["Program"] == "Welding Technology"
    assert cover["Industry frameworks"] == "Welding" and cover["Academic frameworks"] == "Academic"
    assert cover["Alignments in this workbook"] == 12 and cover["Accepted"] == 1
    assert cover["Suggested (not decided yet)"] == 11
    assert "crosswalk review import" in " ".join(str(v) for v in cover.values())
    ws = wb["Suggestions"]
    assert [c.value for c in ws[1]] == [c.header for c in COLUMNS]
    h = headers(ws)
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:S13"
    validations = {str(dv.sqref): dv.formula1 for dv in ws.data_validations.dataValidation}
    assert validations == {"M2:M13": '"accept,reject"', "N2:N13": '"full,partial"'}
    assert ws.protection.sheet and not ws.protection.autoFilter and not ws.protection.sort
    assert not ws.protection.password  # the cover sheet tells a reviewer to unprotect it to sort in Excel
    assert ws.cell(2, h["Alignment id"]).protection.locked
    assert not ws.cell(2, h["Decision"]).protection.locked and not ws.cell(2, h["Rationale"]).protection.locked
    for name in ("Source id", "Target id", "Fingerprint"):
        assert ws.column_dimensions[openpyxl.utils.get_column_letter(h[name])].hidden
    assert ws.column_dimensions["D"].width == 48 and ws.cell(2, h["CTE statement"]).alignment.wrap_text
    # Every cell in the workbook's default font (a named style without one showed in Cambria).
    assert {(c.font.name, c.font.sz) for row in ws.iter_rows(min_row=2) for c in row} == {("Calibri", 11)}
    assert ws.cell(2, h["Decision"]).fill.fgColor.rgb != ws.cell(2, h["CTE statement"]).fill.fgColor.rgb
    accepted = ws.cell(rows_by_id(ws)[1], h["Decision"]).value
    assert accepted == "accept"
    assert ws.cell(rows_by_id(ws)[1], h["Current status"]).value == 'accepted, full, "ok" (by alice)'
    # Filters.
    result = runner.invoke(cli, ["review", "export", str(small_db), str(out), "--status", "accepted"])
    assert result.stdout.strip() == f"Wrote 1 alignment to {out} (1 accepted)"
    result = runner.invoke(cli, ["review", "export", str(small_db), str(out), "--from", "Welding", "--min-chance", "101"])
    assert result.exit_code == 2  # out of range
    result = runner.invoke(cli, ["review", "export", str(small_db), str(out), "--program", "Nope"])
    assert result.exit_code == 1
    assert result.stderr.strip() == "Error: no program named 'Nope'; the programs are: 'Welding Technology'"


def test_text_that_looks_like_a_formula_stays_text(small_db, tmp_path):
    db = open_db(small_db)
    nasty = {"W.1": '=HYPERLINK("http://evil.example","click")', "W.2": "+1+2", "W.3": "-2-3", "W.4": "@SUM(A1)"}
    for code, text in nasty.items():
        db.execute("update standards set statement = ? where code = ?", [text, code])
    db.conn.commit()
    decide(db, 1, "accept", rationale="=1+1", reviewer="alice")
    out = export_workbook(db, tmp_path / "r.xlsx").path
    ws = openpyxl.load_workbook(out)["Suggestions"]
    h = headers(ws)
    cells = [ws.cell(r, h["CTE statement"]) for r in range(2, ws.max_row + 1)]
    cells.append(ws.cell(rows_by_id(ws)[1], h["Rationale"]))
    assert {c.value for c in cells} >= set(nasty.values()) | {"=1+1"}
    for cell in cells:
        assert cell.data_type == "s", cell.value
        assert cell.quotePrefix
    # The raw XML holds no formula at all.
    with zipfile.ZipFile(out) as z:
        assert "<f>" not in z.read("xl/worksheets/sheet2.xml").decode()


def test_import_applies_logs_and_is_idempotent(small_db, tmp_path, runner):
    out = tmp_path / "r.xlsx"
    export_workbook(open_db(small_db), out)
    wb = openpyxl.load_workbook(out)
    ws = wb["Suggestions"]
    rows = rows_by_id(ws)
    set_decision(ws, rows[1], "accept", "full", "Measuring with calipers", "Ms Lee")
    set_decision(ws, rows[2], "Reject", None, None, None)
    set_decision(ws, rows[3], "accept", "partial", "+cost-benefit", None)
    wb.save(out)
    result = runner.invoke(cli, ["review", "import", str(small_db), str(out), "--reviewer", "Welding committee"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == ("Imported r.xlsx: 3 decisions recorded (2 accepted, 1 rejected), 0 unchanged, "
                                     "9 rows without a decision; 0 conflicts")
    conn = sqlite3.connect(small_db)
    state = {r[0]: r[1:] for r in conn.execute("select id, status, strength, rationale, reviewer from alignments "
                                               "where status != 'suggested'")}
    assert state == {1: ("accepted", "full", "Measuring with calipers", "Ms Lee"),
                     2: ("rejected", None, None, "Welding committee"),
                     3: ("accepted", "partial", "+cost-benefit", "Welding committee")}
    entries = log(small_db)
    assert [(e["alignment_id"], e["action"], e["reviewer"], e["via"]) for e in entries] == [
        (1, "accept", "Ms Lee", "workbook r.xlsx, imported by Welding committee"),
        (2, "reject", "Welding committee", "workbook r.xlsx"),
        (3, "accept", "Welding committee", "workbook r.xlsx"),
    ]
    assert all(e["old_status"] == "suggested" for e in entries)
    # Twice: the same result, nothing logged.
    result = runner.invoke(cli, ["review", "import", str(small_db), str(out), "--reviewer", "Welding committee"])
    assert result.stdout.strip() == ("Imported r.xlsx: 0 decisions recorded (0 accepted, 0 rejected), 3 unchanged, "
                                     "9 rows without a decision; 0 conflicts")
    assert log(small_db) == entries


def test_an_export_never_writes_over_decisions_not_yet_imported(small_db, tmp_path, runner):
    """Exporting again to the workbook a committee filled in, before its decisions were imported,
    would throw their work away: refused, the file untouched, until they are imported (or --force)."""
    out = tmp_path / "r.xlsx"
    export = ["review", "export", str(small_db), str(out)]
    assert runner.invoke(cli, export).exit_code == 0
    wb = openpyxl.load_workbook(out)
    ws = wb["Suggestions"]
    rows = rows_by_id(ws)
    set_decision(ws, rows[2], "accept", "full", "Reads a tape measure")
    set_decision(ws, rows[3], "reject")
    wb.save(out)
    filled = out.read_bytes()
    refused = runner.invoke(cli, export)
    assert refused.exit_code == 1
    assert refused.stderr.strip() == (
        f"Error: r.xlsx holds 2 decisions not yet imported (row {rows[2]}: accept, and 1 more); it was not "
        "written over: import it first (crosswalk review import), write the export to another file, "
        "or replace it with --force")
    assert out.read_bytes() == filled
    # A sheet of the committee's own, or the cover sheet deleted: still their decisions, and said so.
    wb.create_sheet("Committee notes")
    del wb["About this workbook"]
    wb.save(out)
    filled = out.read_bytes()
    again = runner.invoke(cli, export)
    assert again.exit_code == 1 and again.stderr == refused.stderr and out.read_bytes() == filled
    # A value the import could not read is the committee's work too.
    set_decision(ws, rows[2], "acept")
    wb.save(out)
    unreadable = runner.invoke(cli, export)
    assert unreadable.exit_code == 1 and "is a review workbook whose decisions could not be read" in unreadable.stderr
    set_decision(ws, rows[2], "accept")
    wb.save(out)
    assert runner.invoke(cli, ["review", "import", str(small_db), str(out), "--reviewer", "Committee"]).exit_code == 0
    again = runner.invoke(cli, export)  # imported: nothing left to lose
    assert again.exit_code == 0, again.output
    assert again.stdout.startswith("Wrote 12 alignments to ") and "r.xlsx (" in again.stdout
    # --force writes over decisions not yet imported; a file that is no review workbook only with --force.
    set_decision(ws, rows[4], "reject")
    wb.save(out)
    assert runner.invoke(cli, [*export, "--force"]).exit_code == 0
    replaced = openpyxl.load_workbook(out)["Suggestions"]
    assert replaced.cell(rows_by_id(replaced)[4], headers(replaced)["Decision"]).value is None
    notes = tmp_path / "notes.xlsx"
    openpyxl.Workbook().save(notes)
    before = notes.read_bytes()
    refused = runner.invoke(cli, ["review", "export", str(small_db), str(notes)])
    assert refused.exit_code == 1 and refused.stderr == (
        f"Error: {notes} already exists and is not a review workbook that crosswalk wrote; name another file, "
        "or use --force to replace it\n")
    assert notes.read_bytes() == before
    assert runner.invoke(cli, ["review", "export", str(small_db), str(notes), "--force"]).exit_code == 0
    assert openpyxl.load_workbook(notes).sheetnames == ["About this workbook", "Suggestions"]


def test_an_export_never_writes_over_rationales_written_without_a_decision(small_db, tmp_path, runner):
    """A committee that wrote its reasons before deciding loses them to an export over the file: the
    import keeps no note without a decision, so the export is refused as for a decision."""
    out = tmp_path / "r.xlsx"
    export = ["review", "export", str(small_db), str(out)]
    assert runner.invoke(cli, export).exit_code == 0
    assert runner.invoke(cli, export).exit_code == 0  # as exported: nothing to lose
    wb = openpyxl.load_workbook(out)
    ws = wb["Suggestions"]
    rows, columns = rows_by_id(ws), headers(ws)
    ws.cell(rows[2], columns["Rationale"]).value = "Reads a tape measure: measurement to the 1/16 inch"
    ws.cell(rows[5], columns["Strength"]).value = "partial"
    wb.save(out)
    filled = out.read_bytes()
    refused = runner.invoke(cli, export)
    assert refused.exit_code == 1
    first, second = sorted((rows[2], rows[5]))
    assert refused.stderr.strip() == (
        f"Error: r.xlsx holds a strength or rationale written on 2 rows without a decision, which the "
        f"database does not hold (row {first}, and 1 more); it was not written over: give those rows a decision "
        "and import it (crosswalk review import), write the export to another file, or replace it with --force")
    assert out.read_bytes() == filled
    assert runner.invoke(cli, [*export, "--force"]).exit_code == 0
    replaced = openpyxl.load_workbook(out)["Suggestions"]
    assert replaced.cell(rows_by_id(replaced)[2], headers(replaced)["Rationale"]).value in (None, "")


def _accepted_then_reworded(db, tmp_path, runner):
    """W.1's first suggestion accepted (partial, "Calipers") by alice, then W.1 reworded by a re-import of
    the task list: the decision is flagged for re-review. Returns its alignment id."""
    (aid,) = sqlite3.connect(db).execute(
        "select a.id from alignments a join standards s on s.id = a.source_id where s.code = 'W.1' "
        "order by a.id limit 1").fetchone()
    assert runner.invoke(cli, ["decide", db, str(aid), "accept", "--strength", "partial",
                               "--rationale", "Calipers", "--reviewer", "alice"]).exit_code == 0
    rows = [r[:] for r in WELDING]
    rows[3][1] = "Measure workpieces with micrometers to check tolerances."
    result = runner.invoke(cli, ["import", db, str(write_xlsx(tmp_path / "w.xlsx", rows, sheet="Tasks")),
                                 "--framework", "Welding", "--silent"])
    assert result.exit_code == 0 and "flagged" in result.stdout, result.output
    return aid


def _damage(path, part, change):
    """Rewrite one part of the zip of the workbook at ``path`` with ``change(bytes)``: a workbook as
    another program may save it, which openpyxl cannot parse."""
    damaged = path.with_name("damaged.tmp")
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(damaged, "w") as copy:
        for item in source.infolist():
            data = source.read(item.filename)
            copy.writestr(item, change(data) if item.filename == part else data)
    damaged.replace(path)


@pytest.mark.parametrize("part, change", [
    ("xl/styles.xml", lambda data: data.replace(b"<numFmts", b"<numFmts bogus", 1)),  # read as the workbook opens
    ("xl/worksheets/sheet2.xml", lambda data: data[:-20]),  # the Suggestions sheet: read row by row, later
], ids=["styles", "sheet"])
def test_a_review_workbook_that_cannot_be_read_is_not_written_over(small_db, tmp_path, runner, part, change):
    """A filled-in review workbook with a part openpyxl cannot parse: the check for decisions not yet
    imported gave up on it, the export still took it for a review workbook, and wrote over it without
    --force ("Wrote 12 alignments"): the committee's decisions were gone (code audit, item 1)."""
    db = str(small_db)
    out = tmp_path / "r.xlsx"
    export = ["review", "export", db, str(out)]
    assert runner.invoke(cli, export).exit_code == 0
    wb = openpyxl.load_workbook(out)
    ws = wb["Suggestions"]
    set_decision(ws, rows_by_id(ws)[2], "accept", "full", "Reads a tape measure")
    wb.save(out)
    _damage(out, part, change)
    with pytest.raises(ParseError):  # (the damage is real: openpyxl cannot read this workbook)
        for _ in openpyxl.load_workbook(out, read_only=True)["Suggestions"].iter_rows(values_only=True):
            pass
    damaged = out.read_bytes()
    refused = runner.invoke(cli, export)
    assert refused.exit_code == 1, refused.output
    assert refused.stderr.startswith("Error: r.xlsx is a review workbook that cannot be read (ParseError: ")
    assert refused.stderr.endswith(
        "), so the decisions in it cannot be checked; it was not written over: open it in Excel or LibreOffice "
        "and save it again as an Excel workbook (.xlsx), then import it (crosswalk review import); or write the "
        "export to another file, or replace it with --force\n")
    assert out.read_bytes() == damaged
    # Its import says the same, without a traceback, and records nothing.
    before = small_db.read_bytes()
    unread = runner.invoke(cli, ["review", "import", db, str(out), "--reviewer", "bob"])
    assert unread.exit_code == 1 and unread.stderr.startswith(
        "Error: r.xlsx: cannot be read as an .xlsx workbook (ParseError: "), unread.output
    assert small_db.read_bytes() == before
    # --force replaces it; a file that is no xlsx at all holds no decisions, and is no review workbook.
    assert runner.invoke(cli, [*export, "--force"]).exit_code == 0
    assert openpyxl.load_workbook(out).sheetnames == ["About this workbook", "Suggestions"]
    out.write_bytes(b"not a workbook")
    refused = runner.invoke(cli, export)
    assert refused.exit_code == 1 and refused.stderr == (
        f"Error: {out} already exists and is not a review workbook that crosswalk wrote; name another file, "
        "or use --force to replace it\n")


def test_a_rationale_rewritten_on_a_re_review_row_without_a_decision_is_pointed_out_and_not_written_over(
        small_db, tmp_path, runner):
    """A decision to re-review is exported with its old strength and rationale and an empty Decision. A
    committee that rewrote them and picked no decision again was told nothing by the import, and the
    next export wrote over the workbook: their text was gone (audit of lost decisions, finding 1)."""
    db = str(small_db)
    aid = _accepted_then_reworded(db, tmp_path, runner)
    out = tmp_path / "r.xlsx"
    export = ["review", "export", db, str(out)]
    assert runner.invoke(cli, export).exit_code == 0
    assert runner.invoke(cli, export).exit_code == 0  # as exported (the old strength and rationale): nothing to lose
    wb = openpyxl.load_workbook(out)
    ws = wb["Suggestions"]
    row, columns = rows_by_id(ws)[aid], headers(ws)
    assert [ws.cell(row, columns[name]).value for name in ("Decision", "Strength", "Rationale")] == [
        None, "partial", "Calipers"]  # a re-review row: no decision, by design
    set_decision(ws, row, strength="full", rationale="Micrometer readings to 0.01 mm")
    wb.save(out)
    filled = out.read_bytes()
    before = small_db.read_bytes()
    result = runner.invoke(cli, ["review", "import", db, str(out), "--reviewer", "bob"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == (
        f"Note: 1 row with a strength or rationale but no decision (not imported; choose accept or reject and "
        f"import again): {row}")
    assert small_db.read_bytes() == before
    refused = runner.invoke(cli, export)
    assert refused.exit_code == 1, refused.output
    assert refused.stderr.startswith(
        f"Error: r.xlsx holds a strength or rationale written on 1 row without a decision, which the "
        f"database does not hold (row {row}); it was not written over")
    assert out.read_bytes() == filled


def test_a_decision_flipped_in_the_workbook_does_not_keep_the_other_decisions_reason(small_db, tmp_path, runner):
    """The export writes each decided alignment's rationale in; sent back under the opposite decision,
    it was read as the reviewer's own, so a rejection went into the report with the acceptance's reason."""
    db = str(small_db)
    for alignment, decision, why in ((1, "accept", "Reads a tape measure"), (2, "reject", "No computation")):
        assert runner.invoke(cli, ["decide", db, str(alignment), decision, "--rationale", why,
                                   "--reviewer", "alice"]).exit_code == 0
    out = tmp_path / "r.xlsx"
    assert runner.invoke(cli, ["review", "export", db, str(out), "--status", "accepted",
                               "--status", "rejected"]).exit_code == 0
    wb = openpyxl.load_workbook(out)
    ws = wb["Suggestions"]
    rows = rows_by_id(ws)
    assert ws.cell(rows[1], headers(ws)["Rationale"]).value == "Reads a tape measure"
    set_decision(ws, rows[1], "reject")
    set_decision(ws, rows[2], "accept", "partial", "Counts the cost of materials")
    wb.save(out)
    result = runner.invoke(cli, ["review", "import", db, str(out), "--reviewer", "bob"])
    assert result.exit_code == 0, result.output
    conn = sqlite3.connect(db)
    assert conn.execute("select id, status, strength, rationale, reviewer from alignments where id in (1, 2) "
                        "order by id").fetchall() == [
        (1, "rejected", None, None, "bob"), (2, "accepted", "partial", "Counts the cost of materials", "bob")]


def test_a_stale_workbook_does_not_confirm_a_decision_whose_standard_was_retired_since(
        small_db, tmp_path, runner, welding_xlsx):
    """A retired standard changes no statement, so the row's fingerprint matched, and the export's
    pre-filled 'accept', imported untouched, cleared the flag as if a reviewer had looked again."""
    db = str(small_db)
    source = sqlite3.connect(db).execute(
        "select s.code from alignments a join standards s on s.id = a.source_id where a.id = 1").fetchone()[0]
    assert runner.invoke(cli, ["decide", db, "1", "accept", "--reviewer", "alice"]).exit_code == 0
    out = tmp_path / "r.xlsx"
    assert runner.invoke(cli, ["review", "export", db, str(out), "--status", "accepted"]).exit_code == 0
    # The task list re-imported without the decided task: its decision is flagged for re-review.
    rows = [r[:] for r in WELDING if not (r and r[0] == source)]
    fewer = write_xlsx(tmp_path / "welding.xlsx", rows, sheet="Tasks")
    framework = sqlite3.connect(db).execute("select name from frameworks where kind = 'industry'").fetchone()[0]
    assert runner.invoke(cli, ["import", db, str(fewer), "--framework", framework, "--silent"]).exit_code == 0
    flagged = "select status, needs_review, reviewer from alignments where id = 1"
    assert sqlite3.connect(db).execute(flagged).fetchone() == ("accepted", 1, "alice")
    result = runner.invoke(cli, ["review", "import", db, str(out), "--reviewer", "bob"])
    assert result.exit_code == 3, result.output  # (conflicts left)
    assert "a standard was retired since the export; the workbook says accept" in result.output
    assert sqlite3.connect(db).execute(flagged).fetchone() == ("accepted", 1, "alice")
    # Decided again by a reviewer who saw the flag: cleared.
    assert runner.invoke(cli, ["decide", db, "1", "accept", "--reviewer", "bob"]).exit_code == 0
    assert sqlite3.connect(db).execute(flagged).fetchone() == ("accepted", 0, "bob")
    # A workbook exported while a decision is flagged shows the flag: its answer is applied.
    (other,) = sqlite3.connect(db).execute(
        "select a.id from alignments a join standards s on s.id = a.source_id join standards t on t.id = a.target_id "
        "where s.status = 'active' and t.status = 'active' order by a.id limit 1").fetchone()
    assert runner.invoke(cli, ["decide", db, str(other), "accept", "--reviewer", "alice"]).exit_code == 0
    with sqlite3.connect(db) as conn:
        conn.execute("update alignments set needs_review = 1, needs_review_reason = 'the task changed' where id = ?",
                     [other])
    conn.close()
    again = tmp_path / "again.xlsx"
    assert runner.invoke(cli, ["review", "export", db, str(again), "--status", "accepted"]).exit_code == 0
    wb = openpyxl.load_workbook(again)
    ws = wb["Suggestions"]
    set_decision(ws, rows_by_id(ws)[other], "accept")
    wb.save(again)
    assert runner.invoke(cli, ["review", "import", db, str(again), "--reviewer", "bob"]).exit_code == 0
    assert sqlite3.connect(db).execute("select status, needs_review, reviewer from alignments where id = ?",
                                       [other]).fetchone() == ("accepted", 0, "bob")


def _fingerprint_as_workbooks_hold_it(row: dict) -> str:
    """A row's fingerprint as every review workbook exported so far holds it (written out here, as
    those workbooks have it): the decision, both statements' words, and "re-review" where flagged."""
    import hashlib

    from crosswalk.text import same_words

    parts = [row["status"] or "", row["strength"] or "", row["rationale"] or "",
             same_words(row["cte_statement"]), same_words(row["standard"])] + (["re-review"] if row["needs_review"] else [])
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:16]


def test_a_stale_workbook_does_not_confirm_a_decision_on_a_task_retired_after_it_was_exported(
        small_db, tmp_path, runner):
    """A decision flagged because its task was reworded, exported (its Decision empty, "NEEDS RE-REVIEW:
    statement changed"), then its task retired: the committee's "accept", made without seeing the
    retirement, was recorded ("1 decision recorded", the flag cleared), as the row's fingerprint said
    only that it was flagged, not why (audit of lost decisions, finding 5). The decision would have
    certified again, unseen, once the task came back."""
    db = str(small_db)
    aid = _accepted_then_reworded(db, tmp_path, runner)
    out = tmp_path / "r.xlsx"
    assert runner.invoke(cli, ["review", "export", db, str(out)]).exit_code == 0
    wb = openpyxl.load_workbook(out)
    ws = wb["Suggestions"]
    row, columns = rows_by_id(ws)[aid], headers(ws)
    assert ws.cell(row, columns["Current status"]).value.startswith(
        'accepted, partial, "Calipers" (by alice); NEEDS RE-REVIEW: statement changed on re-import')
    # The rows a workbook holds (both statements active, as the export selects them) keep the fingerprint
    # workbooks exported before this fix hold: those still import.
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    for alignment, line in rows_by_id(ws).items():
        shown = dict(conn.execute("select * from alignment_details where id = ?", [alignment]).fetchone())
        assert ws.cell(line, columns["Fingerprint"]).value == _fingerprint_as_workbooks_hold_it(shown)
    conn.close()
    set_decision(ws, row, "accept")
    wb.save(out)
    rows = [r[:] for r in WELDING if not (r and r[0] == "W.1")]
    result = runner.invoke(cli, ["import", db, str(write_xlsx(tmp_path / "no_w1.xlsx", rows, sheet="Tasks")),
                                 "--framework", "Welding", "--silent"])
    assert result.exit_code == 0 and "retired" in result.stdout, result.output
    state = ("select a.status, a.strength, a.reviewer, a.needs_review, a.needs_review_reason, s.status "
             "from alignments a join standards s on s.id = a.source_id where a.id = ?")
    retired = sqlite3.connect(db).execute(state, [aid]).fetchone()
    assert retired == ("accepted", "partial", "alice", 1,
                       "standard W.1 retired on re-import: it is no longer in no_w1.xlsx", "retired")
    result = runner.invoke(cli, ["review", "import", db, str(out), "--reviewer", "bob"])
    assert result.exit_code == 3, result.output
    assert result.output.splitlines()[0] == (
        f"Conflict: row {row} (alignment {aid}): W.1 → N-Q.1: a standard was retired since the export; the "
        "workbook says accept, partial; not applied")
    assert sqlite3.connect(db).execute(state, [aid]).fetchone() == retired


def test_a_changed_statement_is_told_from_a_retired_one_by_its_status_not_its_words(small_db, tmp_path, runner):
    """The conflict of a stale workbook's row says why the decision was flagged: a statement changed,
    or one was retired. It was read from the flag's words, which quote the old statement: a task
    that said "retired" was reported retired when only its wording changed."""
    db = str(small_db)
    rows = [r[:] for r in WELDING]
    rows[5][1] = "Write an incident report for retired and active workers describing a workplace accident."
    assert runner.invoke(cli, ["import", db, str(write_xlsx(tmp_path / "a.xlsx", rows, sheet="Tasks")),
                               "--framework", "Welding", "--silent"]).exit_code == 0
    assert runner.invoke(cli, ["match", db, "--from", "Welding", "--to", "Academic", "--no-embeddings"]).exit_code == 0
    (aid,) = sqlite3.connect(db).execute(
        "select a.id from alignments a join standards s on s.id = a.source_id where s.code = 'W.3' "
        "order by a.id limit 1").fetchone()
    assert runner.invoke(cli, ["decide", db, str(aid), "accept", "--reviewer", "alice"]).exit_code == 0
    out = tmp_path / "r.xlsx"
    assert runner.invoke(cli, ["review", "export", db, str(out), "--status", "accepted"]).exit_code == 0
    rows[5][1] = "Write an incident report describing the cause of an accident."  # reworded: nothing retired
    assert runner.invoke(cli, ["import", db, str(write_xlsx(tmp_path / "b.xlsx", rows, sheet="Tasks")),
                               "--framework", "Welding", "--silent"]).exit_code == 0
    reason = sqlite3.connect(db).execute("select needs_review_reason from alignments where id = ?", [aid]).fetchone()[0]
    assert " retired " in reason  # the old statement's words
    wb = openpyxl.load_workbook(out)
    ws = wb["Suggestions"]
    set_decision(ws, rows_by_id(ws)[aid], "reject")
    wb.save(out)
    result = runner.invoke(cli, ["review", "import", db, str(out), "--reviewer", "bob"])
    assert result.exit_code == 3, result.output  # (conflicts left)
    assert "a statement changed since the export; the workbook says reject" in result.output
    assert "retired since" not in result.output


def test_rows_sorted_without_their_hidden_columns_decide_nothing(small_db, tmp_path, runner):
    """Sorting only the visible columns (a selection that stops before the hidden ones) leaves each
    row's hidden ids, the pair's key, under another pair's codes: the decision was applied to the pair
    the hidden ids named, not the one the reviewer read. Such a row is a conflict now, and a row
    whose codes match its ids is applied as before."""
    db = str(small_db)
    out = tmp_path / "r.xlsx"
    assert runner.invoke(cli, ["review", "export", db, str(out)]).exit_code == 0
    wb = openpyxl.load_workbook(out)
    ws = wb["Suggestions"]
    col = headers(ws)
    visible = range(1, col["Reviewer"] + 1)
    values = [[ws.cell(r, c).value for c in visible] for r in range(2, ws.max_row + 1)]
    first, second = values[0], values[1]
    assert (first[col["CTE code"] - 1], first[col["Academic code"] - 1]) != (
        second[col["CTE code"] - 1], second[col["Academic code"] - 1])
    for c in visible:  # rows 2 and 3 swapped in the visible columns only
        ws.cell(2, c).value, ws.cell(3, c).value = second[c - 1], first[c - 1]
    ws.cell(2, col["Decision"]).value = "accept"
    ws.cell(2, col["Rationale"]).value = "the one I read"
    shown = (second[col["Alignment id"] - 1], ws.cell(2, col["CTE code"]).value, ws.cell(2, col["Academic code"]).value)
    hidden = (ws.cell(2, col["Source id"]).value, ws.cell(2, col["Target id"]).value)
    wb.save(out)
    before = sqlite3.connect(db).execute("select id, status from alignments order by id").fetchall()
    result = runner.invoke(cli, ["review", "import", db, str(out), "--reviewer", "bob"])
    assert result.exit_code == 3, result.output  # (conflicts left)
    assert f"the row shows {shown[1]} → {shown[2]}, but its hidden columns name " in result.output
    assert "1 conflict" in result.output
    assert sqlite3.connect(db).execute("select id, status from alignments order by id").fetchall() == before
    # The same workbook with the row put back as exported: applied to the pair it shows.
    wb = openpyxl.load_workbook(out)
    ws = wb["Suggestions"]
    for c in visible:
        ws.cell(2, c).value, ws.cell(3, c).value = first[c - 1], second[c - 1]
    ws.cell(2, col["Decision"]).value = "accept"
    wb.save(out)
    assert runner.invoke(cli, ["review", "import", db, str(out), "--reviewer", "bob"]).exit_code == 0
    assert sqlite3.connect(db).execute("select status from alignments where source_id = ? and target_id = ?",
                                       hidden).fetchone() == ("accepted",)
    assert sqlite3.connect(db).execute("select status from alignments where id = ?", [shown[0]]).fetchone() \
        == ("suggested",)


def _exported_with_a_decision(runner, db, tmp_path, code, rationale):
    """A review workbook (r.xlsx) of every alignment, its first row on task ``code`` accepted, partial,
    with ``rationale``; and that alignment's id."""
    out = tmp_path / "r.xlsx"
    assert runner.invoke(cli, ["review", "export", db, str(out)]).exit_code == 0
    (aid,) = sqlite3.connect(db).execute(
        "select a.id from alignments a join standards s on s.id = a.source_id where s.code = ? "
        "order by a.id limit 1", [code]).fetchone()
    wb = openpyxl.load_workbook(out)
    ws = wb["Suggestions"]
    set_decision(ws, rows_by_id(ws)[aid], "accept", "partial", rationale)
    wb.save(out)
    return out, aid


def test_a_statement_reimported_in_another_case_keeps_the_workbooks_decisions(small_db, tmp_path, runner):
    """A re-import that writes a task otherwise only in case or spacing updates it without asking for
    re-review; a review workbook exported before it was then refused row by row ("changed since the
    export: it is now not decided yet", exit 0) and blamed its reviewer for editing the statement."""
    db = str(small_db)
    out, aid = _exported_with_a_decision(runner, db, tmp_path, "W.3", "Writes the report")
    rows = [r[:] for r in WELDING]
    rows[5][1] = rows[5][1].upper().replace(" ", "  ")  # W.3, in capitals and double spaces
    result = runner.invoke(cli, ["import", db, str(write_xlsx(tmp_path / "w.xlsx", rows, sheet="Tasks")),
                                 "--framework", "Welding", "--silent"])
    assert result.exit_code == 0 and "1 changed" in result.stdout and "flagged" not in result.stdout
    result = runner.invoke(cli, ["review", "import", db, str(out), "--reviewer", "bob"])
    assert result.exit_code == 0, result.output
    assert "0 conflicts" in result.output and "edited in the workbook" not in result.output, result.output
    assert sqlite3.connect(db).execute("select status, strength, rationale from alignments where id = ?",
                                       [aid]).fetchone() == ("accepted", "partial", "Writes the report")


def test_a_task_code_reimported_in_lower_case_keeps_the_workbooks_decisions_on_it(small_db, tmp_path, runner):
    """A re-import that writes a code in another case keeps the standard and its decisions ("the same
    standards"); a review workbook exported before it made every decided row on that code a conflict
    ("were the rows sorted, or pasted, without the hidden columns?"), exit 3, nothing applied, and could
    never be imported (audit of lost decisions, finding 4)."""
    db = str(small_db)
    out, aid = _exported_with_a_decision(runner, db, tmp_path, "W.2", "Angles")
    rows = [r[:] for r in WELDING]
    rows[4][0] = "w.2"  # W.2 written in lower case: the same standard, its decisions kept
    result = runner.invoke(cli, ["import", db, str(write_xlsx(tmp_path / "w.xlsx", rows, sheet="Tasks")),
                                 "--framework", "Welding", "--silent"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli, ["review", "import", db, str(out), "--reviewer", "bob"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Imported r.xlsx: 1 decision recorded (1 accepted, 0 rejected)"), result.output
    assert result.output.rstrip().endswith("; 0 conflicts"), result.output
    assert sqlite3.connect(db).execute("select s.code, a.status, a.strength, a.rationale, a.reviewer from alignments a "
                                       "join standards s on s.id = a.source_id where a.id = ?",
                                       [aid]).fetchone() == ("w.2", "accepted", "partial", "Angles", "bob")


def test_a_workbook_exported_before_fingerprints_read_words_is_still_read(small_db, tmp_path, runner):
    """Workbooks exported before 2026-11-30 hold fingerprints of the statements as written: their
    rows are still the alignments as exported."""
    from crosswalk.review import fingerprint

    db = str(small_db)
    out = tmp_path / "r.xlsx"
    assert runner.invoke(cli, ["review", "export", db, str(out)]).exit_code == 0
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    row = dict(conn.execute("select * from alignment_details where id = 1").fetchone())
    assert fingerprint(row) != fingerprint(row, as_written=True)  # (W.1's statement has capitals)
    wb = openpyxl.load_workbook(out)
    ws = wb["Suggestions"]
    line = rows_by_id(ws)[1]
    ws.cell(line, headers(ws)["Fingerprint"]).value = fingerprint(row, as_written=True)
    set_decision(ws, line, "reject")
    wb.save(out)
    result = runner.invoke(cli, ["review", "import", db, str(out), "--reviewer", "bob"])
    assert result.exit_code == 0 and "1 decision recorded" in result.output, result.output


def test_a_password_protected_review_workbook_is_said_to_be_so(small_db, tmp_path, runner):
    # (It said "cannot be read as an .xlsx workbook (BadZipFile: File is not a zip file)".) An encrypted
    # xlsx is an OLE compound file holding an "EncryptedPackage" stream, as tests/test_sources_corpus.py makes.
    secret = tmp_path / "review.xlsx"
    secret.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 500 + "EncryptedPackage".encode("utf-16-le")
                       + b"\x00" * 500)
    before = small_db.read_bytes()
    result = runner.invoke(cli, ["review", "import", str(small_db), str(secret), "--reviewer", "bob"])
    assert result.exit_code == 1
    assert result.stderr == ("Error: review.xlsx: is password-protected (an encrypted workbook), so it can not be "
                             "read (open it in Excel, remove the password (File > Info > Protect Workbook) and save "
                             "it again)\n")
    assert small_db.read_bytes() == before


def test_bad_values_are_named_and_nothing_is_imported(small_db, tmp_path, runner):
    out = tmp_path / "r.xlsx"
    export_workbook(open_db(small_db), out)
    wb = openpyxl.load_workbook(out)
    ws = wb["Suggestions"]
    set_decision(ws, 2, "accept", "full")
    set_decision(ws, 3, "acept")
    set_decision(ws, 5, "accept", "medium")
    ws.cell(6, headers(ws)["Alignment id"]).value = "x12"
    set_decision(ws, 7, "reject", rationale="=A1")  # a formula typed into the rationale
    set_decision(ws, 8, '=IF(1,"accept","reject")')  # and into a decision: one error, not two
    wb.save(out)
    before = pathlib.Path(small_db).read_bytes()
    result = runner.invoke(cli, ["review", "import", str(small_db), str(out), "--reviewer", "x"])
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "Error: r.xlsx, sheet 'Suggestions': 5 bad values, nothing was imported: "
        "row 3, column M (Decision): 'acept' is not accept or reject (also read: accepted, rejected, yes, "
        "no, full, partial); "
        "row 5, column N (Strength): 'medium' is not full or partial; "
        "row 6, column A (Alignment id): 'x12' is not an id (the id columns must not be edited); "
        "row 7, column O (Rationale): a formula (=A1); type the text itself; "
        "row 8, column M (Decision): a formula (=IF(1,\"accept\",\"reject\")); type the text itself")
    assert log(small_db) == []
    assert pathlib.Path(small_db).read_bytes() == before
    # A missing file, a folder or a device: one Error: line, exit 1, nothing read (issue 16).
    (tmp_path / "folder.xlsx").mkdir()
    for given, error in ((tmp_path / "nope.xlsx", "file not found"),
                         (tmp_path / "folder.xlsx", "is a folder, not a review workbook"),
                         (pathlib.Path("/dev/zero"), "is a character device, not a review workbook")):
        result = runner.invoke(cli, ["review", "import", str(small_db), str(given), "--reviewer", "x"])
        assert result.exit_code == 1, result.output
        assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1 and error in result.stderr
    assert pathlib.Path(small_db).read_bytes() == before
    other = tmp_path / "other.xlsx"
    openpyxl.Workbook().save(other)
    result = runner.invoke(cli, ["review", "import", str(small_db), str(other), "--reviewer", "x"])
    assert result.stderr.strip() == ("Error: other.xlsx: this is not a crosswalk review workbook: it has no sheet "
                                     "'Suggestions' (make one with 'crosswalk review export')")


def test_changed_since_export_is_a_conflict_and_not_overwritten(small_db, tmp_path, runner):
    db = open_db(small_db)
    out = export_workbook(db, tmp_path / "r.xlsx").path
    decide(db, 1, "accept", strength="full", rationale="site decision", reviewer="bob")  # after the export
    db.execute("update standards set statement = statement || ' (revised)' where code = 'W.2'")
    db.conn.commit()
    wb = openpyxl.load_workbook(out)
    ws = wb["Suggestions"]
    rows = rows_by_id(ws)
    w2 = [r[0] for r in db.execute("select a.id from alignments a join standards s on s.id = a.source_id "
                                   "where s.code = 'W.2' order by a.id")]
    set_decision(ws, rows[1], "reject", rationale="workbook decision")
    set_decision(ws, rows[w2[0]], "accept", "full")
    set_decision(ws, rows[w2[-1] + 1], "accept", "partial")  # an unchanged alignment of another statement
    wb.save(out)
    db.close()
    result = runner.invoke(cli, ["review", "import", str(small_db), str(out), "--reviewer", "committee"])
    assert result.exit_code == 3, result.output  # (conflicts left)
    conflicts = result.stderr.strip().splitlines()
    assert len(conflicts) == 2
    assert conflicts[0].startswith(f"Conflict: row {rows[1]} (alignment 1): W.1 → ")
    assert "changed since the export by bob at " in conflicts[0]
    assert conflicts[0].endswith('it is now accepted, full, "site decision"; the workbook says reject; not applied')
    assert conflicts[1].startswith(f"Conflict: row {rows[w2[0]]} (alignment {w2[0]}): W.2 → ")
    assert "its statements or decision" in conflicts[1] or "changed since the export" in conflicts[1]
    assert result.stdout.strip().endswith("; 2 conflicts (not applied, see above)")
    assert "1 decision recorded (1 accepted, 0 rejected)" in result.stdout
    conn = sqlite3.connect(small_db)
    assert conn.execute("select status, rationale, reviewer from alignments where id = 1").fetchone() == (
        "accepted", "site decision", "bob")
    assert conn.execute("select status from alignments where id = ?", [w2[0]]).fetchone() == ("suggested",)


def test_a_suggestion_dropped_by_match_keeps_its_decision(small_db, tmp_path):
    db = open_db(small_db)
    out = export_workbook(db, tmp_path / "r.xlsx").path
    pair = db.execute("select source_id, target_id, score from alignments where id = 3").fetchone()
    match(db, source="Welding", target="Academic", top=1, use_embeddings=False)  # replaces suggestions
    wb = openpyxl.load_workbook(out)
    ws = wb["Suggestions"]
    set_decision(ws, rows_by_id(ws)[3], "accept", "partial", "still true")
    wb.save(out)
    result = import_workbook(db, out, reviewer="committee")
    assert result.conflicts == []
    assert sum(result.recorded.values()) == 1
    row = db.execute("select status, strength, rationale, score from alignments where source_id = ? and "
                     "target_id = ?", pair[:2]).fetchone()
    assert row == ("accepted", "partial", "still true", pytest.approx(round(pair[2], 1)))


def test_a_workbook_exported_when_its_score_column_was_named_score_is_read_as_well(small_db, tmp_path):
    """The column "Chance it is right (%)" was "Score" in workbooks exported before 2026-12-01: a
    committee's workbook from then still brings back a suggestion that match dropped, with its score."""
    db = open_db(small_db)
    out = export_workbook(db, tmp_path / "r.xlsx").path
    pair = db.execute("select source_id, target_id, score from alignments where id = 3").fetchone()
    match(db, source="Welding", target="Academic", top=1, use_embeddings=False)
    wb = openpyxl.load_workbook(out)
    ws = wb["Suggestions"]
    h = headers(ws)
    assert ws.cell(1, h["Chance it is right (%)"]).value == "Chance it is right (%)"
    ws.cell(1, h["Chance it is right (%)"]).value = "Score"
    set_decision(ws, rows_by_id(ws)[3], "accept", "full", "as before")
    wb.save(out)
    result = import_workbook(db, out, reviewer="committee")
    assert result.conflicts == [] and result.recreated == 1
    row = db.execute("select status, score from alignments where source_id = ? and target_id = ?", pair[:2]).fetchone()
    assert row == ("accepted", pytest.approx(round(pair[2], 1)))


def test_a_workbook_exported_before_a_task_was_recoded_still_decides_it(small_db, tmp_path):
    """A re-import recoded W.3 (its words the same: the same standard, importer._recoded); the
    committee's workbook, exported before, shows W.3 where its hidden ids now name W.30. It was a
    conflict blaming a sort ("were the rows sorted ... without the hidden columns?"); the statement
    beside the code is still the one its id names, so the decision applies. A row whose statement is
    another's (sorted without its hidden columns) is still refused."""
    from crosswalk.importer import import_file

    db = open_db(small_db)
    out = export_workbook(db, tmp_path / "r.xlsx").path
    recoded = [[("W.30" if cell == "W.3" else cell) for cell in row] for row in WELDING]
    result = import_file(db, write_xlsx(tmp_path / "welding2.xlsx", recoded, sheet="Tasks"),
                         framework="Welding", kind="industry")
    assert any("are the same standards (updated in place, their decisions kept): W.3 → W.30" in w
               for w in result.warnings), result.warnings
    wb = openpyxl.load_workbook(out)
    ws = wb["Suggestions"]
    h = headers(ws)
    rows = {ws.cell(r, h["CTE code"]).value: r for r in range(2, ws.max_row + 1)}
    w3, w1 = rows["W.3"], rows["W.1"]
    set_decision(ws, w3, "accept", "partial", "incident reports explain a cause")
    set_decision(ws, w1, "reject")
    for name in ("CTE code", "CTE statement"):  # W.1's row shows W.3's task, its hidden ids W.1's
        ws.cell(w1, h[name]).value = ws.cell(w3, h[name]).value
    wb.save(out)
    result = import_workbook(db, out, reviewer="committee")
    assert sum(result.recorded.values()) == 1
    assert [c.reason for c in result.conflicts] == [
        f"the row shows W.3 → {ws.cell(w1, h['Academic code']).value}, but its hidden columns name W.1 → "
        f"{ws.cell(w1, h['Academic code']).value} (were the rows sorted, or pasted, without the hidden columns?); "
        "the workbook says reject"]
    assert db.execute("select s.code, a.status, a.rationale from alignments a join standards s on s.id = a.source_id "
                      "where a.id = ?", [ws.cell(w3, h["Alignment id"]).value]).fetchone() == (
        "W.30", "accepted", "incident reports explain a cause")


def test_read_workbook_needs_the_hidden_columns(small_db, tmp_path):
    out = export_workbook(open_db(small_db), tmp_path / "r.xlsx").path
    wb = openpyxl.load_workbook(out)
    wb["Suggestions"].delete_cols(19)
    wb.save(out)
    with pytest.raises(SourceError, match="'Fingerprint' is missing from row 1 \\(the hidden columns must stay\\)"):
        import_workbook(open_db(small_db), out, reviewer="x")
    wb["Suggestions"].delete_cols(17, 2)
    wb.save(out)
    with pytest.raises(SourceError, match="the columns 'Source id', 'Target id', 'Fingerprint' are missing from row 1"):
        import_workbook(open_db(small_db), out, reviewer="x")


def test_libreoffice_round_trip(small_db, tmp_path, runner, libreoffice):
    db = open_db(small_db)
    db.execute("update standards set statement = '=2+2 ' || statement where code = 'W.3'")
    db.conn.commit()
    db.close()
    exported = tmp_path / "export" / "review.xlsx"
    exported.parent.mkdir()
    assert runner.invoke(cli, ["review", "export", str(small_db), str(exported)]).exit_code == 0
    [resaved] = libreoffice(exported, "xlsx:Calc MS Excel 2007 XML", tmp_path / "resaved")
    assert resaved.read_bytes() != exported.read_bytes()

    wb = openpyxl.load_workbook(resaved)
    ws = wb["Suggestions"]
    h = headers(ws)
    # LibreOffice kept the text as text, the dropdowns, and the hidden columns.
    formula_like = [ws.cell(r, h["CTE statement"]) for r in range(2, ws.max_row + 1)
                    if str(ws.cell(r, h["CTE statement"]).value).startswith("=2+2")]
    assert formula_like and all(c.data_type == "s" for c in formula_like)
    assert {dv.formula1 for dv in ws.data_validations.dataValidation} >= {'"accept,reject"', '"full,partial"'}
    rows = rows_by_id(ws)
    ids = sorted(rows)
    plan = {ids[0]: ("accept", "full", "Uses calipers", "Ms Lee"),
            ids[1]: ("reject", None, "Different skill", None),
            ids[2]: ("accept", "partial", "-partly: metric only", None),
            ids[5]: ("reject", None, None, "Mr Roy")}
    for alignment_id, (decision, strength, rationale, reviewer) in plan.items():
        set_decision(ws, rows[alignment_id], decision, strength, rationale, reviewer)
    wb.save(resaved)

    result = runner.invoke(cli, ["review", "import", str(small_db), str(resaved), "--reviewer", "Committee"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == ("Imported review.xlsx: 4 decisions recorded (2 accepted, 2 rejected), "
                                     "0 unchanged, 8 rows without a decision; 0 conflicts")
    conn = sqlite3.connect(small_db)
    for alignment_id, (decision, strength, rationale, reviewer) in plan.items():
        row = conn.execute("select status, strength, rationale, reviewer from alignments where id = ?",
                           [alignment_id]).fetchone()
        assert row == ({"accept": "accepted", "reject": "rejected"}[decision], strength, rationale,
                       reviewer or "Committee")
    entries = log(small_db)
    assert len(entries) == 4
    for entry in entries:
        decision, strength, rationale, reviewer = plan[entry["alignment_id"]]
        assert entry["action"] == decision
        assert (entry["old_status"], entry["old_strength"], entry["old_rationale"]) == ("suggested", None, None)
        assert (entry["new_strength"], entry["new_rationale"]) == (strength, rationale)
        assert entry["reviewer"] == (reviewer or "Committee")
        assert entry["via"].startswith("workbook review.xlsx") and entry["at"]
    assert conn.execute("select count(*) from alignments where status = 'suggested'").fetchone()[0] == 8
    # Importing it again changes nothing.
    result = runner.invoke(cli, ["review", "import", str(small_db), str(resaved), "--reviewer", "Committee"])
    assert "0 decisions recorded" in result.stdout and "4 unchanged" in result.stdout
    assert len(log(small_db)) == 4


def test_a_statements_suggestions_are_listed_in_the_matchers_order(tmp_path):
    # The topic crosswalk: the committee accepted S0 for thirteen measuring tasks (ten different
    # statements, enough for what is accepted most to count), so S0 outscores a
    # writing task's (T56) own standard (S1) on that task. The workbook and the task's page list the
    # task's own best match first, as the matcher ranked it; the academic standard's page lists
    # the tasks suggested for it best first.
    import asyncio

    from crosswalk.importer import import_file
    from crosswalk.publish import publish
    from crosswalk.site import make_datasette, make_public_datasette

    from .test_matching import topic_crosswalk

    tasks, standards, _ = topic_crosswalk(tmp_path)
    path = tmp_path / "topics.db"
    db = open_db(path)
    import_file(db, tasks, framework="Tasks", kind="industry")
    import_file(db, standards, framework="Academic", kind="academic")
    match(db, source="Tasks", target="Academic", use_embeddings=False)
    for n in range(13):
        (alignment,) = db.execute("select a.id from alignments a join standards s on s.id = a.source_id "
                                  "join standards t on t.id = a.target_id where s.code = ? and t.code = 'S0'",
                                  [f"T{n}"]).fetchall()
        decide(db, alignment[0], "accept", "full", reviewer="Committee")
    match(db, source="Tasks", target="Academic", use_embeddings=False)
    ranked = db.execute("select t.code, a.rank, a.score from alignments a join standards s on s.id = a.source_id "
                        "join standards t on t.id = a.target_id where s.code = 'T56' and a.status = 'suggested' "
                        "order by a.rank").fetchall()
    assert ranked[0][:2] == ("S1", 1)
    assert dict((c, s) for c, _, s in ranked)["S0"] > ranked[0][2]  # popularity outscores the task's own match

    export_workbook(db, tmp_path / "review.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "review.xlsx")["Suggestions"]
    column = {c.value: c.column for c in ws[1]}
    first = {}
    for row in range(2, ws.max_row + 1):
        first.setdefault(ws.cell(row, column["CTE code"]).value, ws.cell(row, column["Academic code"]).value)
    assert first["T56"] == "S1" and first["T57"] == "S2" and first["T13"] == "S0"

    task, s0 = (db.execute("select id from standards where code = ?", [c]).fetchone()[0] for c in ("T56", "S0"))
    best_for_s0 = [c for (c,) in db.execute(
        "select s.code from alignments a join standards s on s.id = a.source_id where a.target_id = ? "
        "and a.status = 'suggested' order by a.score desc, a.id limit 3", [s0])]
    db.close()
    # The public copy's plugin holds its own copy of the rule (publish writes it in).
    publish(path, tmp_path / "public", suggestions="label")
    working, public = make_datasette(path, pages=True), make_public_datasette(tmp_path / "public")

    async def pages(ds):
        task_page = await ds.client.get(f"/standard/{task}")
        assert task_page.status_code == 200
        assert task_page.text.index(">S1<") < task_page.text.index(">S0<")
        standard_page = (await ds.client.get(f"/standard/{s0}")).text
        places = [standard_page.index(f">{code}<") for code in best_for_s0]
        assert places == sorted(places)
    asyncio.run(pages(working))
    asyncio.run(pages(public))


def test_a_workbook_from_another_database_says_so(small_db, tmp_path, runner, welding_xlsx, academic_csv):
    """Imported into another database than the one it was exported from, every row is a conflict, and
    the import says why (the cover sheet names the database), writing nothing."""
    out = tmp_path / "r.xlsx"
    assert runner.invoke(cli, ["review", "export", str(small_db), str(out)]).exit_code == 0
    wb = openpyxl.load_workbook(out)
    ws = wb["Suggestions"]
    first = min(rows_by_id(ws).values())
    set_decision(ws, first, "accept", "full")
    wb.save(out)
    other = tmp_path / "district.db"  # the same files, imported the other way round: other ids
    for args in (["import", str(other), str(academic_csv), "--framework", "Academic", "--kind", "academic"],
                 ["import", str(other), str(welding_xlsx), "--framework", "Welding"],
                 ["match", str(other), "--from", "Welding", "--to", "Academic", "--no-embeddings"]):
        assert runner.invoke(cli, args).exit_code == 0
    before = other.read_bytes()
    result = runner.invoke(cli, ["review", "import", str(other), str(out), "--reviewer", "committee"])
    assert result.exit_code == 3, result.output  # (conflicts left)
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith(f"Conflict: row {first} (alignment ") and len(lines) == 2
    assert lines[1] == ("Note: r.xlsx was exported from another database (named small.db) than district.db: its "
                        "rows name that database's alignments")
    assert "0 decisions recorded" in result.stdout and result.stdout.strip().endswith("; 1 conflict (not applied, see above)")
    assert other.read_bytes() == before
    # Told by the database's identifier, not its name: another database called small.db too (an audit:
    # no note, every row a conflict blaming a sort).
    namesake = tmp_path / "elsewhere" / "small.db"
    namesake.parent.mkdir()
    namesake.write_bytes(other.read_bytes())
    result = runner.invoke(cli, ["review", "import", str(namesake), str(out), "--reviewer", "committee"])
    assert result.exit_code == 3 and ("Note: r.xlsx was exported from another database (named small.db) than "
                                      "small.db") in result.stderr, result.output
    # Into the database it came from, no note.
    back = runner.invoke(cli, ["review", "import", str(small_db), str(out), "--reviewer", "committee"])
    assert back.exit_code == 0 and "Note:" not in back.stderr and "1 decision recorded" in back.stdout


def _exported_with_a_re_review_row(small_db, tmp_path, runner, strength):
    """Alignment 1 accepted with ``strength`` and flagged for re-review, exported: (path, workbook, its
    Suggestions sheet, rows by alignment id); the re-review row comes with its strength filled in."""
    db = open_db(small_db)
    decide(db, 1, "accept", strength=strength, rationale="measures", reviewer="bob")
    db.execute("update alignments set needs_review = 1, needs_review_reason = 'the task W.1 changed' where id = 1")
    db.conn.commit()
    db.close()
    out = tmp_path / "r.xlsx"
    assert runner.invoke(cli, ["review", "export", str(small_db), str(out)]).exit_code == 0
    wb = openpyxl.load_workbook(out)
    ws = wb["Suggestions"]
    rows = rows_by_id(ws)
    assert ws.cell(rows[1], headers(ws)["Strength"]).value == strength  # the re-review row, prefilled
    return out, wb, ws, rows


def test_a_strength_or_rationale_without_a_decision_is_pointed_out(small_db, tmp_path, runner):
    """A strength or rationale on a suggestion with no decision is most likely a decision forgotten: not
    imported, and named. A re-review row keeps its old strength without a decision, by design: no note."""
    out, wb, ws, rows = _exported_with_a_re_review_row(small_db, tmp_path, runner, "full")
    set_decision(ws, rows[2], strength="partial")
    set_decision(ws, rows[3], rationale="Students read the blueprint")
    set_decision(ws, rows[4], "reject")
    wb.save(out)
    result = runner.invoke(cli, ["review", "import", str(small_db), str(out), "--reviewer", "committee"])
    assert result.exit_code == 0, result.output
    assert result.stderr == (f"Note: 2 rows with a strength or rationale but no decision (not imported; choose accept "
                             f"or reject and import again): {rows[2]}, {rows[3]}\n")
    assert "1 decision recorded (0 accepted, 1 rejected)" in result.stdout
    with sqlite3.connect(small_db) as conn:
        assert conn.execute("select id, status from alignments where id in (2, 3, 4) order by id").fetchall() == [
            (2, "suggested"), (3, "suggested"), (4, "rejected")]
    conn.close()


def test_a_strength_typed_on_a_rejected_row_is_said_left_out(small_db, tmp_path, runner):
    """A rejection has no strength: one typed on a rejected row was dropped unseen (a director's walk).
    The rejection is imported and a note names the row; a re-review row rejected with the strength the
    export filled in gets no note (the reviewer typed none)."""
    out, wb, ws, rows = _exported_with_a_re_review_row(small_db, tmp_path, runner, "partial")
    set_decision(ws, rows[1], "reject")
    set_decision(ws, rows[2], "reject", strength="Partial")
    set_decision(ws, rows[3], "reject")
    wb.save(out)
    result = runner.invoke(cli, ["review", "import", str(small_db), str(out), "--reviewer", "committee"])
    assert result.exit_code == 0, result.output
    assert result.stderr == (f"Note: 1 row rejected with a strength (a strength is for accepted alignments: the "
                             f"rejections were imported, the strength left out; to accept in part, write accept and "
                             f"partial): {rows[2]}\n")
    with sqlite3.connect(small_db) as conn:
        assert conn.execute("select id, status, strength from alignments where id in (1, 2, 3) order by id"
                            ).fetchall() == [(1, "rejected", None), (2, "rejected", None), (3, "rejected", None)]
    conn.close()


def test_a_decision_is_read_with_the_same_words_in_the_workbook_on_the_command_line_and_in_a_file(
        small_db, tmp_path, runner):
    """One vocabulary for a decision (review.DECISION_WORDS): 'yes' and 'Partial' in a review workbook
    mean what they mean in an earlier crosswalk's file and to `crosswalk decide`; a strength written
    in its own column wins over the one a word implies."""
    out = tmp_path / "r.xlsx"
    export_workbook(open_db(small_db), out)
    wb = openpyxl.load_workbook(out)
    ws = wb["Suggestions"]
    rows = rows_by_id(ws)
    set_decision(ws, rows[1], "Yes")
    set_decision(ws, rows[2], "Partial")
    set_decision(ws, rows[3], "partial", "Full")
    set_decision(ws, rows[4], "No")
    wb.save(out)
    result = runner.invoke(cli, ["review", "import", str(small_db), str(out), "--reviewer", "committee"])
    assert result.exit_code == 0, result.output
    with sqlite3.connect(small_db) as conn:
        state = conn.execute("select id, status, strength from alignments where id <= 5 order by id").fetchall()
    conn.close()
    assert state == [(1, "accepted", "full"), (2, "accepted", "partial"), (3, "accepted", "full"),
                     (4, "rejected", None), (5, "suggested", None)]
    outcome = decide(open_db(small_db), 5, "partial", reviewer="alice")
    assert (outcome.new["status"], outcome.new["strength"]) == ("accepted", "partial")


def test_a_control_character_a_huge_id_and_a_workbook_saved_as_ods(small_db, tmp_path, runner):
    """A rationale typed with a control character is kept without it (a workbook cannot hold one: the
    export failed), and one already stored does not stop the export; an id past SQLite's integers is a
    bad value like any other; a workbook saved as .ods is told to be saved as .xlsx."""
    db = open_db(small_db)
    assert decide(db, 1, "accept", rationale="Measuring\x01 in layout", reviewer="bob").new["rationale"] == (
        "Measuring in layout")
    db.execute("update alignments set rationale = 'Old\x02 note' where id = 1")  # stored before the rule
    db.conn.commit()
    db.close()
    out = tmp_path / "r.xlsx"
    result = runner.invoke(cli, ["review", "export", str(small_db), str(out)])
    assert result.exit_code == 0, result.output
    wb = openpyxl.load_workbook(out)
    ws = wb["Suggestions"]
    rows = rows_by_id(ws)
    assert ws.cell(rows[1], headers(ws)["Rationale"]).value == "Old note"
    ws.cell(rows[2], headers(ws)["Alignment id"]).value = str(2 ** 70)
    set_decision(ws, rows[2], "accept")
    wb.save(out)
    result = runner.invoke(cli, ["review", "import", str(small_db), str(out), "--reviewer", "x"])
    assert result.exit_code == 1
    assert f"row {rows[2]}, column A (Alignment id): {str(2 ** 70)!r} is not an id" in result.stderr
    (tmp_path / "r.ods").write_bytes(b"PK\x03\x04 not really")
    result = runner.invoke(cli, ["review", "import", str(small_db), str(tmp_path / "r.ods"), "--reviewer", "x"])
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: r.ods: is an OpenDocument spreadsheet (.ods); a review workbook is "
                                    "read as .xlsx (save it in Excel or LibreOffice as an Excel workbook")


def test_an_export_with_nothing_to_review_says_why(small_db, tmp_path, runner):
    """Filters that leave nothing (a --min-chance above every score): the empty workbook is written,
    and a note says how many alignments the score left out and the best chance among them. The
    option's earlier name, --min-score, still works."""
    conn = sqlite3.connect(small_db)
    count, best = conn.execute("select count(*), max(score) from alignments").fetchone()
    conn.close()
    for option in ("--min-chance", "--min-score"):
        result = runner.invoke(cli, ["review", "export", str(small_db), str(tmp_path / "r.xlsx"), option, "99",
                                     "--force"])
        assert result.exit_code == 0 and result.stdout == f"Wrote 0 alignments to {tmp_path / 'r.xlsx'}\n"
        assert result.stderr == (f"Note: no alignment matches these filters; without --min-chance, {count} "
                                 f"alignments would, the best with a chance of {score_text(best)}%\n")
    cover = {row[0]: row[1] for row in openpyxl.load_workbook(tmp_path / "r.xlsx")["About this workbook"]
             .iter_rows(values_only=True) if row[0]}
    assert cover["Filters"] == "chance it is right at least 99%"


def test_statements_with_no_likely_alignment_have_their_own_sheet(small_db, tmp_path, runner):
    """The statements match marked as having no likely academic alignment are listed on a sheet of
    their own, with a filter, so a committee can go through them at once; importing ignores it."""
    conn = sqlite3.connect(small_db)
    source, target_framework = conn.execute(
        "select s.id, t.framework_id from standards s, standards t where s.code = 'W.3' and t.code = 'N-Q.1'").fetchone()
    conn.execute("insert into no_likely_alignment (source_id, target_framework_id, best_score, method, marked_at) "
                 "values (?, ?, 9.46, 'tfidf+embedding', '2026-11-30T07:00:00+00:00')", [source, target_framework])
    conn.commit()
    conn.close()
    out = tmp_path / "r.xlsx"
    assert runner.invoke(cli, ["review", "export", str(small_db), str(out)]).exit_code == 0
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["About this workbook", "Suggestions", "No likely alignment"]
    sheet = wb["No likely alignment"]
    # The best score as every page shows it (text.score_text: 9.46 reads 9.4), with one decimal.
    assert [[c.value for c in row] for row in sheet.iter_rows()] == [
        ["Code", "Credential statement", "Credential", "Searched in", "Best chance it is right (%)"],
        ["W.3", "Write an incident report describing the cause of a workplace accident.", "Welding", "Academic", 9.4]]
    assert sheet["E2"].number_format == "0.0"
    assert sheet.auto_filter.ref == "A1:E2"
    cover = {row[0]: row[1] for row in wb["About this workbook"].iter_rows(values_only=True) if row[0]}
    assert cover["No likely alignment in a subject"].startswith("1 statement: match found nothing likely")
    result = runner.invoke(cli, ["review", "import", str(small_db), str(out), "--reviewer", "x"])
    assert result.exit_code == 0 and "0 decisions recorded" in result.stdout


def test_the_cover_counts_statements_and_unscored_pairs_and_grades_read_as_on_the_sites(small_db, tmp_path):
    """An audit of the demo's workbook: the cover said "24 statements" with no likely alignment where
    its sheet's 24 rows were 13 statements, each searched in several subjects; its confidence counts
    added up to one less than its alignments (a pair an earlier crosswalk added has no score); and
    its Grade column said '9,10,11,12' or '09,10' where the sites say 'Grades 9–12'."""
    from crosswalk.importer import import_file

    from .conftest import write_csv

    db = open_db(small_db)
    import_file(db, write_csv(tmp_path / "science.csv", [["code", "statement", "grade"],
                                                         ["S.1", "Explain energy in systems.", "09,10,11,12"]]),
                framework="Science", kind="academic")
    ids = dict(db.execute("select code, id from standards").fetchall())
    frameworks = dict(db.execute("select name, id from frameworks").fetchall())
    for code, framework in (("W.3", "Academic"), ("W.3", "Science"), ("W.4", "Science")):
        db.execute("insert into no_likely_alignment (source_id, target_framework_id, best_score, method, marked_at) "
                   "values (?, ?, 9.46, 'tfidf', '2026-11-30T07:00:00+00:00')", [ids[code], frameworks[framework]])
    db.execute("insert into alignments (source_id, target_id, status, strength, method) values (?, ?, 'accepted', "
               "'full', 'import')", [ids["W.1"], ids["S.1"]])
    db.conn.commit()
    export_workbook(db, tmp_path / "r.xlsx")
    wb = openpyxl.load_workbook(tmp_path / "r.xlsx")
    cover = {row[0]: row[1] for row in wb["About this workbook"].iter_rows(values_only=True) if row[0]}
    assert cover["No likely alignment in a subject"] == (
        "2 statements: match found nothing likely for them in a subject (sheet 'No likely alignment', on 3 rows "
        "(one per subject searched); nothing to fill in there)")
    counted = sum(cover[f"{band} confidence"] for band in ("High", "Medium", "Low"))
    assert cover["Not scored by the matcher"] == "1: pairs a reviewer or an earlier crosswalk added"
    assert counted + 1 == cover["Alignments in this workbook"]
    ws = wb["Suggestions"]
    h = headers(ws)
    grades = {ws.cell(r, h["Academic code"]).value: ws.cell(r, h["Grade"]).value for r in range(2, ws.max_row + 1)}
    assert grades["S.1"] == "Grades 9–12" and grades["N-Q.1"] == "Grades 9–12" and grades["W.9-10.2"] == "Grades 9–10"


def test_a_statement_edited_in_the_workbook_is_said_not_imported(small_db, tmp_path, runner):
    # The statement cells are locked, but the sheet is unprotected to sort; an edited statement was
    # ignored without a word, and a reviewer took the edit for saved.
    out = tmp_path / "r.xlsx"
    assert runner.invoke(cli, ["review", "export", str(small_db), str(out)]).exit_code == 0
    wb = openpyxl.load_workbook(out)
    ws = wb["Suggestions"]
    rows, columns = rows_by_id(ws), headers(ws)
    before = ws.cell(rows[1], columns["CTE statement"]).value
    ws.cell(rows[1], columns["CTE statement"]).value = "Measure workpieces in metric units only."
    set_decision(ws, rows[1], "accept")
    ws.cell(rows[2], columns["Academic standard"]).value = "  " + ws.cell(rows[2], columns["Academic standard"]).value
    set_decision(ws, rows[2], "reject")  # (spacing only: not an edit)
    wb.save(out)
    result = runner.invoke(cli, ["review", "import", str(small_db), str(out), "--reviewer", "bob"])
    assert result.exit_code == 0 and "2 decisions recorded" in result.stdout
    assert result.stderr == (f"Note: 1 row where a statement was edited in the workbook (the decisions were "
                             f"imported, the edits not: a statement changes with its framework's file, imported "
                             f"again): {rows[1]}\n")
    assert sqlite3.connect(small_db).execute(
        "select s.statement from alignments a join standards s on s.id = a.source_id where a.id = 1").fetchone() == (
        before,)


def test_a_rows_codes_are_compared_as_written_text_as_text_and_numbers_as_numbers():
    """The check that a row's visible codes are its hidden pair's: a text "1.1" is not the code
    "1.10" (a numbered task list sorted without its hidden columns passed it, and 1.1's decision went
    to 1.10); a number a spreadsheet made of "1.10" is; and a code's invisible characters, which the
    export leaves out, are no difference (every row of a CASE framework whose codes held one was a
    conflict)."""
    from crosswalk.workbook import WorkbookRow, _moved

    def row(cte, standard):
        return WorkbookRow(row=2, alignment_id=1, source_id=1, target_id=2, decision="accept", strength=None,
                           rationale=None, reviewer=None, fingerprint="x", codes=(cte, standard))

    pair = {"cte_code": "1.10", "standard_code": "3.MD.C.7a"}
    assert _moved(None, pair, row("1.1", "3.MD.C.7a")) == (
        "the row shows 1.1 → 3.MD.C.7a, but its hidden columns name 1.10 → 3.MD.C.7a (were the rows sorted, "
        "or pasted, without the hidden columns?)")
    assert _moved(None, pair, row(1.1, "3.MD.C.7a")) is None
    assert _moved(None, pair, row(" 1.10 ", None)) is None
    assert _moved(None, {"cte_code": "W.1", "standard_code": "A.1\u200b"}, row("W.1", "A.1")) is None
    assert _moved(None, {"cte_code": "W.1", "standard_code": "A.1"}, row("W.1", "A.2")) is not None


def test_the_cover_names_the_program_as_stored_however_the_command_line_gave_it(small_db, tmp_path, runner):
    """`--program` takes a program's id or its name in any case; the cover sheet wrote what was typed
    ("Program: 1", "welding technology") instead of the program's name."""
    db = open_db(small_db)
    add_program(db, "Welding Technology", cip_code="48.0508", frameworks=["Welding"])
    (number,) = db.execute("select id from programs where name = 'Welding Technology'").fetchone()
    db.close()
    for given in (str(number), "welding technology", " Welding Technology "):
        out = tmp_path / "r.xlsx"
        result = runner.invoke(cli, ["review", "export", str(small_db), str(out), "--program", given, "--force"])
        assert result.exit_code == 0, result.output
        cover = {r[0]: r[1] for r in openpyxl.load_workbook(out)[COVER].iter_rows(values_only=True) if r[0]}
        assert cover["Program"] == "Welding Technology", given


def _decided(db_path, decisions):
    """``decisions``: alignment id -> (decision, strength, rationale), decided by alice."""
    db = open_db(db_path)
    for alignment, (decision, strength, rationale) in decisions.items():
        decide(db, alignment, decision, strength=strength, rationale=rationale, reviewer="alice")
    db.close()


def test_a_strength_or_rationale_emptied_in_the_workbook_is_an_edit(small_db, tmp_path, runner):
    """An empty cell was read as "keep": a reviewer who emptied the Strength or Rationale of a decided
    row was told "3 unchanged" and the database kept partial and the rationale, though the cover says
    an accepted row left without a strength is full. An emptied cell that the export had filled is an
    edit, recorded and counted like any other; a cell the export left empty changes nothing."""
    db = str(small_db)
    _decided(db, {1: ("accept", "partial", "Reads a tape measure"), 2: ("accept", "partial", "Counts the cost"),
                  3: ("accept", "partial", "Estimates the angle"), 4: ("accept", "partial", "Measures the gap"),
                  5: ("accept", "partial", None), 6: ("reject", None, "Not math")})
    out = tmp_path / "r.xlsx"
    assert runner.invoke(cli, ["review", "export", db, str(out)]).exit_code == 0
    wb = openpyxl.load_workbook(out)
    ws = wb["Suggestions"]
    rows, col = rows_by_id(ws), headers(ws)
    ws.cell(rows[1], col["Strength"]).value = None  # the strength emptied: back to full
    ws.cell(rows[2], col["Rationale"]).value = ""  # the rationale emptied (an empty string, as some programs save)
    ws.cell(rows[3], col["Strength"]).value = ws.cell(rows[3], col["Rationale"]).value = None  # both
    set_decision(ws, rows[4], "Partial")  # the decision cell says the strength: the emptied cell takes it from there
    ws.cell(rows[4], col["Strength"]).value = None
    assert ws.cell(rows[5], col["Rationale"]).value is None  # never filled, still empty: nothing changes
    ws.cell(rows[6], col["Rationale"]).value = None  # a rejection's reason emptied
    set_decision(ws, rows[7], "accept")  # a suggestion accepted, its empty cells left empty
    wb.save(out)
    # Not imported yet: an export over it would lose the emptied cells, and is refused like a decision.
    refused = runner.invoke(cli, ["review", "export", db, str(out)])
    assert refused.exit_code == 1 and "holds 5 decisions not yet imported" in refused.stderr, refused.output
    result = runner.invoke(cli, ["review", "import", db, str(out), "--reviewer", "bob"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == ("Imported r.xlsx: 5 decisions recorded (4 accepted, 1 rejected), 2 unchanged, "
                                     "5 rows without a decision; 0 conflicts")
    conn = sqlite3.connect(db)
    assert conn.execute("select id, status, strength, rationale, reviewer from alignments where id <= 7 "
                        "order by id").fetchall() == [
        (1, "accepted", "full", "Reads a tape measure", "bob"),
        (2, "accepted", "partial", None, "bob"),
        (3, "accepted", "full", None, "bob"),
        (4, "accepted", "partial", "Measures the gap", "alice"),
        (5, "accepted", "partial", None, "alice"),
        (6, "rejected", None, None, "bob"),
        (7, "accepted", "full", None, "bob")]
    entries = [e for e in log(db) if e["reviewer"] == "bob"]
    assert [(e["alignment_id"], e["action"], e["old_strength"], e["new_strength"], e["old_rationale"],
             e["new_rationale"], e["via"]) for e in entries] == [
        (1, "set strength", "partial", "full", "Reads a tape measure", "Reads a tape measure", "workbook r.xlsx"),
        (2, "set rationale", "partial", "partial", "Counts the cost", None, "workbook r.xlsx"),
        (3, "set strength", "partial", "full", "Estimates the angle", None, "workbook r.xlsx"),
        (6, "set rationale", None, None, "Not math", None, "workbook r.xlsx"),
        (7, "accept", None, "full", None, None, "workbook r.xlsx")]
    # Twice: nothing more (the fingerprints are stale now: the history tells what the export showed).
    again = runner.invoke(cli, ["review", "import", db, str(out), "--reviewer", "bob"])
    assert again.stdout.strip() == ("Imported r.xlsx: 0 decisions recorded (0 accepted, 0 rejected), 7 unchanged, "
                                    "5 rows without a decision; 0 conflicts")
    assert [e for e in log(db) if e["reviewer"] == "bob"] == entries


def test_an_emptied_cell_on_a_row_changed_since_the_export_is_a_conflict(small_db, tmp_path, runner):
    """Emptied on a row someone else changed since the export, a rationale is a conflict, not
    "unchanged" (the reviewer's clearing lost without a word); a cell that was empty in the export
    stays a cell that asks nothing, whatever was decided since."""
    db = str(small_db)
    _decided(db, {1: ("accept", "partial", "Reads a tape measure")})
    out = tmp_path / "r.xlsx"
    assert runner.invoke(cli, ["review", "export", db, str(out)]).exit_code == 0
    wb = openpyxl.load_workbook(out)
    ws = wb["Suggestions"]
    rows, col = rows_by_id(ws), headers(ws)
    ws.cell(rows[1], col["Rationale"]).value = None  # emptied here, while alice rewrote it
    set_decision(ws, rows[2], "accept")  # exported a suggestion, empty; carol accepted it meanwhile
    wb.save(out)
    _decided(db, {1: ("accept", "partial", "Reads a tape measure to 1/16 inch")})
    db_ = open_db(db)
    decide(db_, 2, "accept", strength="partial", rationale="Counts the cost", reviewer="carol")
    db_.close()
    result = runner.invoke(cli, ["review", "import", db, str(out), "--reviewer", "bob"])
    assert result.exit_code == 3, result.output  # (conflicts left)
    assert result.stderr.startswith(f"Conflict: row {rows[1]} (alignment 1): ")
    assert result.stderr.rstrip().endswith('it is now accepted, partial, "Reads a tape measure to 1/16 inch"; the '
                                           'workbook says accept, partial, no rationale; not applied')
    assert result.stdout.strip() == ("Imported r.xlsx: 0 decisions recorded (0 accepted, 0 rejected), 1 unchanged, "
                                     "10 rows without a decision; 1 conflict (not applied, see above)")
    assert sqlite3.connect(db).execute("select id, strength, rationale, reviewer from alignments where id <= 2 "
                                       "order by id").fetchall() == [
        (1, "partial", "Reads a tape measure to 1/16 inch", "alice"), (2, "partial", "Counts the cost", "carol")]


def test_cells_emptied_in_libreoffice_are_edits(small_db, tmp_path, runner, libreoffice):
    """A workbook edited and saved by LibreOffice: its emptied cells read as emptied, and a round trip
    of the rest changes nothing."""
    db = str(small_db)
    _decided(db, {1: ("accept", "partial", "Reads a tape measure"), 2: ("accept", "partial", "Counts the cost")})
    exported = tmp_path / "export" / "r.xlsx"
    exported.parent.mkdir()
    assert runner.invoke(cli, ["review", "export", db, str(exported)]).exit_code == 0
    [resaved] = libreoffice(exported, "xlsx:Calc MS Excel 2007 XML", tmp_path / "once")
    wb = openpyxl.load_workbook(resaved)
    ws = wb["Suggestions"]
    rows, col = rows_by_id(ws), headers(ws)
    ws.cell(rows[1], col["Strength"]).value = ""
    ws.cell(rows[1], col["Rationale"]).value = ""
    wb.save(resaved)
    [twice] = libreoffice(resaved, "xlsx:Calc MS Excel 2007 XML", tmp_path / "twice")
    result = runner.invoke(cli, ["review", "import", db, str(twice), "--reviewer", "bob"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == ("Imported r.xlsx: 1 decision recorded (1 accepted, 0 rejected), 1 unchanged, "
                                     "10 rows without a decision; 0 conflicts")
    assert sqlite3.connect(db).execute("select id, strength, rationale from alignments where id <= 2 "
                                       "order by id").fetchall() == [
        (1, "full", None), (2, "partial", "Counts the cost")]


def test_a_copied_column_a_code_typed_over_and_merged_cells_are_refused_not_read_otherwise(small_db, tmp_path, runner):
    """An audit of the review workbook: (1) a second column headed 'Rationale' (a copy kept beside
    the original) was read instead of it, the committee's rationales left out and the decided ones
    read as emptied; a copy of the Decision column made an export write over the workbook, found
    empty; (2) an Academic code typed over (HSN-Q.A.1 for the row's standard) decided the row's own
    pair; (3) a decision in cells merged over three rows decided the first row only, silently."""
    db = open_db(small_db)
    out = export_workbook(db, tmp_path / "r.xlsx").path
    before = list(db.conn.iterdump())

    def edited(change, name):
        wb = openpyxl.load_workbook(out)
        ws = wb["Suggestions"]
        change(ws, headers(ws))
        path = tmp_path / name
        wb.save(path)
        return path

    def copy_rationale(ws, h):
        set_decision(ws, 2, "accept", None, "main")
        ws.cell(1, ws.max_column + 1).value = "Rationale"
        ws.cell(2, ws.max_column).value = "other note"

    with pytest.raises(SourceError) as info:
        import_workbook(db, edited(copy_rationale, "copy.xlsx"), reviewer="committee")
    column = get_column_letter(headers(openpyxl.load_workbook(out)["Suggestions"])["Rationale"])
    assert str(info.value).startswith("copy.xlsx, sheet 'Suggestions', row 1, column ") and (
        f"two columns are headed 'Rationale': {column} and ") in str(info.value), str(info.value)

    def backup_decisions(ws, h):
        ws.cell(1, ws.max_column + 1).value = "Decision"
        for r in range(2, 5):
            set_decision(ws, r, "accept")
    backup = edited(backup_decisions, "backup.xlsx")
    result = runner.invoke(cli, ["review", "export", str(small_db), str(backup)])
    assert result.exit_code == 1 and "it was not written over" in result.stderr, result.output

    def code_typed_over(ws, h):
        codes = {ws.cell(r, h["Academic code"]).value for r in range(2, ws.max_row + 1)}
        other = next(c for c in ("N-Q.1", "G-MG.1", "HS-PS3-4") if c != ws.cell(2, h["Academic code"]).value
                     and c in codes)
        ws.cell(2, h["Academic code"]).value = other + "\u200b"  # (pasted with a character no one sees)
        set_decision(ws, 2, "accept", None, f"really {other}")
    result = import_workbook(db, edited(code_typed_over, "typed.xlsx"), reviewer="committee")
    assert sum(result.recorded.values()) == 0 and len(result.conflicts) == 1
    assert "but its hidden columns name" in result.conflicts[0].reason

    def merged(ws, h):
        set_decision(ws, 2, "accept")
        letter = get_column_letter(h["Decision"])
        ws.merge_cells(f"{letter}2:{letter}4")
    with pytest.raises(SourceError) as info:
        import_workbook(db, edited(merged, "merged.xlsx"), reviewer="committee")
    letter = get_column_letter(headers(openpyxl.load_workbook(out)["Suggestions"])["Decision"])
    assert (f"cells {letter}2:{letter}4 are merged: a merged cell holds its value in row 2 only, and the rows "
            "under it would be read without it; unmerge them and fill each row") in str(info.value)
    assert list(db.conn.iterdump()) == before


def test_a_row_nobody_edited_is_no_conflict_where_the_database_decided_otherwise_since(small_db, tmp_path, runner):
    """An audit of the review workbook: a row exported as "accept, partial" and not touched, its
    alignment decided again since (alice: full, another rationale), made the import a conflict, exit 3,
    "the workbook says accept, partial". The row asks for nothing: the database's decision stays, a note
    says so; a row the committee did edit is still a conflict."""
    assert runner.invoke(cli, ["decide", str(small_db), "1", "accept", "--strength", "partial", "--rationale",
                               "measures", "--reviewer", "bob"]).exit_code == 0
    assert runner.invoke(cli, ["decide", str(small_db), "2", "reject", "--reviewer", "bob"]).exit_code == 0
    out = tmp_path / "r.xlsx"
    assert runner.invoke(cli, ["review", "export", str(small_db), str(out)]).exit_code == 0
    assert runner.invoke(cli, ["decide", str(small_db), "1", "accept", "--strength", "full", "--rationale",
                               "alice changed it", "--reviewer", "alice"]).exit_code == 0
    assert runner.invoke(cli, ["decide", str(small_db), "2", "accept", "--reviewer", "alice"]).exit_code == 0
    wb = openpyxl.load_workbook(out)
    ws = wb["Suggestions"]
    rows = rows_by_id(ws)
    untouched = tmp_path / "untouched.xlsx"
    wb.save(untouched)
    result = runner.invoke(cli, ["review", "import", str(small_db), str(untouched), "--reviewer", "committee"])
    assert result.exit_code == 0, result.output
    assert (f"2 rows as exported, not edited, whose alignment was decided otherwise since (kept as the database "
            f"has it; to decide it again here, change the row): {rows[1]}, {rows[2]}") in result.stderr, result.stderr
    assert sqlite3.connect(small_db).execute("select status, strength, rationale, reviewer from alignments "
                                             "where id = 1").fetchone() == ("accepted", "full", "alice changed it",
                                                                            "alice")
    set_decision(ws, rows[1], "accept", "partial", "the committee still says partial")
    wb.save(out)
    result = runner.invoke(cli, ["review", "import", str(small_db), str(out), "--reviewer", "committee"])
    assert result.exit_code == 3 and f"Conflict: row {rows[1]}" in result.output, result.output


def test_a_renamed_sheet_a_title_row_a_row_typed_in_and_an_emptied_decision_are_each_said_plainly(
        small_db, tmp_path, runner):
    """An audit of the review workbook: its sheet renamed was "not a crosswalk review workbook"; a
    title row above the header made the hidden columns "missing"; a row typed in by hand gave four
    errors (each hidden cell) and blocked the import; a decided row's Decision emptied was passed over
    without a word; and a rationale typed 3/4 in a General cell became a date."""
    assert runner.invoke(cli, ["decide", str(small_db), "1", "accept", "--reviewer", "bob"]).exit_code == 0
    out = tmp_path / "r.xlsx"
    assert runner.invoke(cli, ["review", "export", str(small_db), str(out)]).exit_code == 0
    wb = openpyxl.load_workbook(out)
    h = headers(wb["Suggestions"])
    assert {wb["Suggestions"].cell(2, h[name]).number_format for name in
            ("Decision", "Strength", "Rationale", "Reviewer")} == {"@"}  # (text: typed 3/4 stays 3/4)

    def imported(change, name):
        wb = openpyxl.load_workbook(out)
        change(wb, wb["Suggestions"])
        path = tmp_path / name
        wb.save(path)
        return runner.invoke(cli, ["review", "import", str(small_db), str(path), "--reviewer", "committee"])

    result = imported(lambda wb, ws: setattr(ws, "title", "Welding review"), "renamed.xlsx")
    assert result.exit_code == 1 and result.stderr.startswith(
        "Error: renamed.xlsx: it has no sheet 'Suggestions', where a review workbook holds its decisions (its "
        "sheets: ") and result.stderr.strip().endswith(
        "if 'Welding review' is it, rename it back to 'Suggestions' and import again"), result.stderr
    result = imported(lambda wb, ws: ws.insert_rows(1, 2), "title.xlsx")
    assert (result.exit_code, result.stderr.strip()) == (
        1, "Error: title.xlsx, sheet 'Suggestions', row 3: the header is on row 3, not row 1 (rows were inserted "
           "above it): delete them and import again"), result.stderr

    def typed_in(wb, ws):
        last = ws.max_row + 1
        ws.cell(last, h["CTE code"]).value, ws.cell(last, h["Academic code"]).value = "W.1", "3.OA.1"
        ws.cell(last, h["Decision"]).value = "accept"
        ws.cell(last + 2, h["CTE statement"]).value = "Reviewed by the committee, March 2026"  # (a note: read for nothing)
    result = imported(typed_in, "typed.xlsx")
    assert result.exit_code == 1 and (
        "1 bad value, nothing was imported: row 14: a row added by hand (its hidden id columns are empty) is not "
        "read") in result.stderr, result.stderr

    rows = rows_by_id(openpyxl.load_workbook(out)["Suggestions"])
    result = imported(lambda wb, ws: setattr(ws.cell(rows[1], h["Decision"]), "value", None), "emptied.xlsx")
    assert result.exit_code == 0 and (
        f"1 row whose decision was emptied (a decision is not undone by emptying its cell: it stays as it is; to "
        f"change it, write the other one): {rows[1]}") in result.stderr, result.stderr
    assert sqlite3.connect(small_db).execute("select status from alignments where id = 1").fetchone() == ("accepted",)


def test_a_row_signed_typed_on_a_re_review_row_or_exported_again_is_not_taken_for_untouched(small_db, tmp_path, runner):
    """A review of the rule above: a decision typed on a row exported for re-review (its Decision left
    empty by the export), or a row only signed in the Reviewer column, was taken for a row nobody
    edited and left out without a conflict; and an export over a workbook whose rows are all as
    exported refused ("holds 2 decisions not yet imported"), though importing it changes nothing. A
    committee's own "Evidence" column beside the export's is read for nothing, not refused."""
    from crosswalk.importer import import_file

    other = sqlite3.connect(small_db).execute(
        "select min(id) from alignments where source_id != (select source_id from alignments where id = 1)"
    ).fetchone()[0]  # (an alignment of another task)
    for alignment in (1, other):
        assert runner.invoke(cli, ["decide", str(small_db), str(alignment), "accept", "--reviewer", "bob"]).exit_code == 0
    db = open_db(small_db)
    task_of_1 = db.execute("select s.code from alignments a join standards s on s.id = a.source_id where a.id = 1"
                           ).fetchone()[0]
    reworded = [[(cell + " Again." if row and row[0] == task_of_1 and cell == row[1] else cell) for cell in row]
                for row in WELDING]
    import_file(db, write_xlsx(tmp_path / "welding2.xlsx", reworded, sheet="Tasks"), framework="Welding",
                kind="industry")
    db.conn.commit()
    flagged = {r[0] for r in db.execute("select id from alignments where needs_review = 1")}
    db.close()
    assert 1 in flagged and other not in flagged, flagged
    out = tmp_path / "r.xlsx"
    assert runner.invoke(cli, ["review", "export", str(small_db), str(out)]).exit_code == 0
    for alignment in (1, other):
        assert runner.invoke(cli, ["decide", str(small_db), str(alignment), "reject", "--reviewer", "alice"]).exit_code == 0
    wb = openpyxl.load_workbook(out)
    ws = wb["Suggestions"]
    h, rows = headers(ws), rows_by_id(ws)
    assert ws.cell(rows[1], h["Decision"]).value is None  # (exported for re-review: its Decision left empty)
    ws.cell(rows[1], h["Decision"]).value = "accept"
    ws.cell(rows[other], h["Reviewer"]).value = "Pat (chair)"  # (the row as exported, signed)
    ws.cell(1, ws.max_column + 1).value = "Evidence"  # (the committee's own)
    wb.save(out)
    result = runner.invoke(cli, ["review", "import", str(small_db), str(out), "--reviewer", "committee"])
    assert result.exit_code == 3 and f"Conflict: row {rows[1]}" in result.output and (
        f"Conflict: row {rows[other]}" in result.output) and "as exported, not edited" not in result.output, result.output
    untouched = tmp_path / "untouched.xlsx"
    assert runner.invoke(cli, ["review", "export", str(small_db), str(untouched)]).exit_code == 0
    assert runner.invoke(cli, ["decide", str(small_db), str(other), "accept", "--reviewer", "alice"]).exit_code == 0
    result = runner.invoke(cli, ["review", "import", str(small_db), str(untouched), "--reviewer", "committee"])
    assert result.exit_code == 0 and "as exported, not edited" in result.stderr, result.output
    again = runner.invoke(cli, ["review", "export", str(small_db), str(untouched)])
    assert again.exit_code == 0, again.output  # (nothing in it the import would apply: no --force needed)
