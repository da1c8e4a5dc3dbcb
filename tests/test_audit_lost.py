"""Regression tests for the audit of lost decisions (FINDINGS.md, findings 1 and 4)."""

import sqlite3

import openpyxl

from crosswalk.cli import cli

from .conftest import WELDING, write_xlsx
from .test_workbook import headers, rows_by_id, set_decision


def _accepted_then_flagged(small_db, tmp_path, runner):
    """W.1's first suggestion accepted (partial, with a rationale), then W.1 reworded by a re-import: flagged."""
    db = str(small_db)
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
    return db, aid


def test_a_re_review_rows_edits_without_a_decision_are_named_and_not_written_over(small_db, tmp_path, runner):
    db, aid = _accepted_then_flagged(small_db, tmp_path, runner)
    out = tmp_path / "r.xlsx"
    export = ["review", "export", db, str(out)]
    assert runner.invoke(cli, export).exit_code == 0
    assert runner.invoke(cli, export).exit_code == 0  # as exported (old strength and rationale): nothing to lose
    wb = openpyxl.load_workbook(out)
    ws = wb["Suggestions"]
    row = rows_by_id(ws)[aid]
    assert ws.cell(row, headers(ws)["Decision"]).value in (None, "")  # a re-review row: no decision, by design
    set_decision(ws, row, strength="full", rationale="Micrometer readings to 0.01 mm")
    wb.save(out)
    filled = out.read_bytes()
    result = runner.invoke(cli, ["review", "import", db, str(out), "--reviewer", "bob"])
    assert "no decision" in result.output and f"{row}" in result.output, result.output
    refused = runner.invoke(cli, export)
    assert refused.exit_code == 1, refused.output
    assert out.read_bytes() == filled


def test_a_code_reimported_in_another_case_keeps_the_workbooks_decisions(small_db, tmp_path, runner):
    db = str(small_db)
    out = tmp_path / "r.xlsx"
    assert runner.invoke(cli, ["review", "export", db, str(out)]).exit_code == 0
    (aid,) = sqlite3.connect(db).execute(
        "select a.id from alignments a join standards s on s.id = a.source_id where s.code = 'W.2' "
        "order by a.id limit 1").fetchone()
    wb = openpyxl.load_workbook(out)
    ws = wb["Suggestions"]
    set_decision(ws, rows_by_id(ws)[aid], "accept", "partial", "Angles")
    wb.save(out)
    rows = [r[:] for r in WELDING]
    rows[4][0] = "w.2"  # W.2 written in lower case: the same standard, its decisions kept
    result = runner.invoke(cli, ["import", db, str(write_xlsx(tmp_path / "w.xlsx", rows, sheet="Tasks")),
                                 "--framework", "Welding", "--silent"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli, ["review", "import", db, str(out), "--reviewer", "bob"])
    assert result.exit_code == 0 and "0 conflicts" in result.output, result.output
    assert sqlite3.connect(db).execute("select status, strength, rationale from alignments where id = ?",
                                       [aid]).fetchone() == ("accepted", "partial", "Angles")
