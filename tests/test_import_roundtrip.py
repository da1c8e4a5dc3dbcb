"""Import, match, accept, re-import an edited file: every decision survives."""

from crosswalk.cli import cli
from crosswalk.db import open_db

from .conftest import WELDING, write_xlsx


def test_reimport_keeps_every_decision_and_flags_changed_ones(runner, small_db, tmp_path):
    db = open_db(small_db)
    decided = {}
    for code in ("W.1", "W.2", "W.3"):
        alignment_id = db.execute(
            "select a.id from alignments a join standards s on s.id = a.source_id where s.code = ? "
            "order by a.rank limit 1", [code]).fetchone()[0]
        status = "rejected" if code == "W.2" else "accepted"
        db.execute("update alignments set status = ?, strength = ?, rationale = 'agreed', reviewer = 'ann' "
                   "where id = ?", [status, "full" if status == "accepted" else None, alignment_id])
        decided[code] = alignment_id
    db.conn.commit()
    db.close()

    edited = [row[:] for row in WELDING]
    edited[3][1] = "Measure the dimensions of workpieces with calipers and micrometers."  # W.1 changed
    del edited[5]  # W.3 removed
    edited.append(["W.5", "Inspect finished welds for cracks and porosity.", "Quality"])
    path = write_xlsx(tmp_path / "welding-2025.xlsx", edited, sheet="Tasks")
    result = runner.invoke(cli, ["import", str(small_db), str(path), "--framework", "Welding"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "Imported 4 standards into 'Welding' from welding-2025.xlsx (sheet 'Tasks'): 1 added, 1 changed, "
        "2 unchanged, 1 retired; 2 reviewed alignments flagged for re-review",
        "  added: W.5",
        "  changed: W.1",
        "  retired: W.3",
    ]
    db = open_db(small_db)
    rows = {r[0]: r[1:] for r in db.execute(
        "select s.code, a.status, a.strength, a.rationale, a.needs_review, a.needs_review_reason, s.status "
        "from alignments a join standards s on s.id = a.source_id where a.id in (?, ?, ?)",
        list(decided.values())).fetchall()}
    assert set(rows) == {"W.1", "W.2", "W.3"}  # every decision survived
    assert rows["W.1"][:4] == ("accepted", "full", "agreed", 1)
    assert rows["W.1"][4].startswith("statement changed on re-import; it was: Measure and calculate")
    assert rows["W.2"][:4] == ("rejected", None, "agreed", 0)
    assert rows["W.3"][:4] == ("accepted", "full", "agreed", 1)
    assert rows["W.3"][4] == "standard W.3 retired on re-import: it is no longer in welding-2025.xlsx"
    assert rows["W.3"][5] == "retired"

    # Re-importing the same file again changes nothing and flags nothing more.
    result = runner.invoke(cli, ["import", str(small_db), str(path), "--framework", "Welding"])
    assert "0 added, 0 changed, 4 unchanged, 0 retired" in result.stdout


def test_dry_run_shows_mapping_and_writes_nothing(runner, small_db, tmp_path):
    edited = [row[:] for row in WELDING]
    edited.append(["W.5", "Inspect welds.", "Quality"])
    path = write_xlsx(tmp_path / "w.xlsx", edited, sheet="Tasks")
    before = small_db.read_bytes()
    result = runner.invoke(cli, ["import", str(small_db), str(path), "--framework", "Welding", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[:4] == ["Columns found:", "  code       A (Task ID)",
                                              "  statement  B (Task)", "  domain     C (Duty Area)"]
    assert "  row 4: W.1  Measure and calculate" in result.stdout
    assert "Would import 5 standards into 'Welding' from w.xlsx (sheet 'Tasks'): 1 added, 0 changed, 4 unchanged" \
        in result.stdout
    assert small_db.read_bytes() == before
