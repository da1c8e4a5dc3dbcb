"""Import, match, accept, re-import an edited file: every decision survives, every flag is logged."""

import re

import sqlite_utils

from crosswalk.cli import cli
from crosswalk.db import SQL_NOW, migrations, now, open_db
from crosswalk.review import decide

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
    for row, extra in zip(edited[2:], ["Hours", 4, 6, 2, 1, 3]):  # (below the title): a column no field reads
        row.append(extra)
    path = write_xlsx(tmp_path / "w.xlsx", edited, sheet="Tasks")
    before = small_db.read_bytes()
    result = runner.invoke(cli, ["import", str(small_db), str(path), "--framework", "Welding", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[:4] == ["Columns found:", "  code       A (Task ID)",
                                              "  statement  B (Task)", "  domain     C (Duty Area)"]
    assert result.stdout.splitlines()[4] == ("Not read: D (Hours) (name one with a --*-column option if it holds "
                                             "a code, statement, grade, subject, parent or domain)")
    assert "  row 4: W.1  Measure and calculate" in result.stdout
    assert "Would import 5 standards into 'Welding' from w.xlsx (sheet 'Tasks'): 1 added, 0 changed, 4 unchanged" \
        in result.stdout
    assert small_db.read_bytes() == before


# --- the audit trail: a re-import's flags are logged, and every time has one format (issue 16) ---------

ONE_FORMAT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$")


def test_re_review_flags_of_a_re_import_are_logged_with_their_reasons(runner, small_db, tmp_path):
    db = open_db(small_db)
    ids = {}
    for code in ("W.1", "W.3"):
        ids[code] = db.execute("select a.id from alignments a join standards s on s.id = a.source_id "
                               "where s.code = ? order by a.rank limit 1", [code]).fetchone()[0]
        decide(db, ids[code], "accept", strength="full", rationale="agreed", reviewer="ann")
    db.close()
    edited = [row[:] for row in WELDING]
    edited[3][1] = "Measure the dimensions of workpieces with calipers and micrometers."  # W.1 changed
    del edited[5]  # W.3 retired
    path = write_xlsx(tmp_path / "welding-2025.xlsx", edited, sheet="Tasks")
    before = small_db.read_bytes()
    dry = runner.invoke(cli, ["import", str(small_db), str(path), "--framework", "Welding", "--dry-run"])
    assert "1 changed, 2 unchanged, 1 retired; 2 reviewed alignments would be flagged for re-review" in dry.stdout
    assert small_db.read_bytes() == before
    result = runner.invoke(cli, ["import", str(small_db), str(path), "--framework", "Welding"])
    assert "2 reviewed alignments flagged for re-review" in result.stdout

    db = open_db(small_db)
    imported_at = db.execute("select at from import_log order by id desc limit 1").fetchone()[0]
    flags = db.execute("select alignment_id, action, reviewer, via, reason, at, old_status, new_status "
                       "from review_log where action = 'flag' order by alignment_id").fetchall()
    assert flags == sorted([
        (ids["W.1"], "flag", None, "import",
         "statement changed on re-import; it was: Measure and calculate the dimensions of workpieces using rulers "
         "and calipers.", imported_at, "accepted", "accepted"),
        (ids["W.3"], "flag", None, "import", "standard W.3 retired on re-import: it is no longer in welding-2025.xlsx",
         imported_at, "accepted", "accepted"),
    ])
    assert ONE_FORMAT.match(imported_at)
    # The history says why, and who flagged it (issue 16).
    shown = runner.invoke(cli, ["history", str(small_db), str(ids["W.3"])])
    assert shown.exit_code == 0
    assert (f"{imported_at}  the import (import)  flagged for re-review: standard W.3 retired on re-import: "
            "it is no longer in welding-2025.xlsx") in shown.stdout
    # The flag is the import's: the reviewer who decided is not logged as its author, nor left as the next writer.
    assert db.execute("select count(*) from alignments where review_via is not null").fetchone()[0] == 0
    # A reviewer's confirmation follows it in the history.
    decide(db, ids["W.1"], "accept", reviewer="bob")
    assert [r[0] for r in db.execute("select action from review_log where alignment_id = ? order by id",
                                     [ids["W.1"]])] == ["accept", "flag", "confirm"]

    # Importing the same file again flags nothing more, and logs nothing more.
    count = db["review_log"].count
    runner.invoke(cli, ["import", str(small_db), str(path), "--framework", "Welding"])
    assert open_db(small_db)["review_log"].count == count


def test_every_time_in_the_review_log_has_the_format_of_now(small_db):
    db = open_db(small_db)
    first, second = [r[0] for r in db.execute("select id from alignments order by id limit 2")]
    db.execute("update alignments set status = 'rejected' where id = ?", [first])  # a write by hand, in SQL
    db.execute("update alignments set needs_review = 1, needs_review_reason = 'checked by hand' where id = ?",
               [second])
    decide(db, second, "accept", reviewer="ann")
    db.conn.commit()
    rows = db.execute("select action, via, at from review_log order by id").fetchall()
    assert [r[:2] for r in rows] == [("reject", "sql"), ("flag", "sql"), ("accept", "cli")]
    assert all(ONE_FORMAT.match(r[2]) for r in rows), rows
    assert ONE_FORMAT.match(now()) and ONE_FORMAT.match(db.execute(f"select {SQL_NOW}").fetchone()[0])


def test_a_database_made_before_flags_were_logged_keeps_its_log_and_logs_flags_from_now_on(tmp_path):
    path = tmp_path / "old.db"
    old = sqlite_utils.Database(path)
    migrations.apply(old, stop_before="m007_review_log_flags_and_one_time_format")
    framework = old["frameworks"].insert({"name": "F", "kind": "industry"}).last_pk
    for code in ("A", "B"):
        old["standards"].insert({"framework_id": framework, "code": code, "statement": code})
    old["alignments"].insert({"source_id": 1, "target_id": 2, "score": 50})
    old.execute("update alignments set status = 'accepted', strength = 'full'")
    old.conn.commit()
    logged = old.execute("select * from review_log").fetchall()
    assert logged[0][-2].endswith("Z")  # the old trigger's time format
    old.close()

    db = open_db(path)
    # kept as it was written (later migrations add reason and program_id, empty for it)
    assert db.execute("select * from review_log").fetchall() == [logged[0] + (None, None)]
    db.execute("update alignments set needs_review = 1, needs_review_reason = 'A changed'")
    db.conn.commit()
    assert db.execute("select action, reason from review_log order by id desc limit 1").fetchone() == (
        "flag", "A changed")
