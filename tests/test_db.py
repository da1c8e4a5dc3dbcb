import sqlite3

import pytest
import sqlite_utils

from crosswalk.db import framework_id, migrations, open_db, program_id
from crosswalk.errors import NotFound
from crosswalk.matching import match
from crosswalk.text import program_status_text

from .conftest import WELDING, write_xlsx


def _alignments_sql(db) -> str:
    return db.execute("select sql from sqlite_master where type = 'table' and name = 'alignments'").fetchone()[0]


def _insert(db, source_id, target_id, confidence="high", status="suggested"):
    db.execute("insert into alignments (source_id, target_id, score, confidence, status) values (?, ?, 50, ?, ?)",
               [source_id, target_id, confidence, status])


def test_an_older_database_gets_the_or_checks_and_keeps_its_rows_and_constraints(tmp_path):
    path = tmp_path / "old.db"
    old = sqlite_utils.Database(path)
    migrations.apply(old, stop_before="m006_alignment_checks_without_lookup_tables")
    assert "CHECK (confidence IN ('high', 'medium', 'low'))" in _alignments_sql(old)
    old.execute("insert into frameworks (id, name, kind) values (1, 'F', 'industry')")
    old.conn.executemany("insert into standards (id, framework_id, code, statement) values (?, 1, ?, 'x')",
                    [(1, "A"), (2, "B"), (3, "C")])
    _insert(old, 1, 2, "medium", "accepted")
    old.conn.commit()
    old.close()

    db = open_db(path)
    sql = _alignments_sql(db)
    assert "CHECK (confidence = 'high' OR confidence = 'medium' OR confidence = 'low')" in sql
    assert "CHECK (status = 'suggested' OR status = 'accepted' OR status = 'rejected')" in sql
    assert db.execute("pragma integrity_check").fetchall() == [("ok",)]
    assert db.execute("select source_id, target_id, confidence, status from alignments").fetchall() == [
        (1, 2, "medium", "accepted")]
    # The same values are refused and accepted as before, NULL confidence included.
    for confidence, status in (("certain", "suggested"), ("low", "maybe"), ("High", "suggested")):
        with pytest.raises(sqlite3.IntegrityError, match="CHECK constraint failed"):
            _insert(db, 1, 3, confidence, status)
    _insert(db, 1, 3, None, "rejected")
    _insert(db, 2, 3, "low", "suggested")
    assert db.execute("select count(*) from alignments").fetchone()[0] == 3


def test_a_new_database_has_no_three_value_in_checks(tmp_path):
    db = open_db(tmp_path / "new.db")
    assert " IN ('high'" not in _alignments_sql(db) and " IN ('suggested'" not in _alignments_sql(db)
    # Applied once: opening it again changes nothing.
    version = db.execute("pragma schema_version").fetchone()[0]
    db.close()
    assert open_db(tmp_path / "new.db").execute("pragma schema_version").fetchone()[0] == version


def test_a_big_write_keeps_its_pages_in_memory_until_it_commits(tmp_path):
    """What a match's one big transaction relies on: its pages are not spilled to disk and read back."""
    db = open_db(tmp_path / "big.db")
    db.execute("create table big (id integer primary key, text text)")
    db.conn.commit()
    wal = tmp_path / "big.db-wal"
    before = wal.stat().st_size
    db.execute("begin")
    # 8 MiB: four times what SQLite keeps in memory by default.
    db.conn.executemany("insert into big (text) values (?)", [("x" * 1000,) for _ in range(8000)])
    assert wal.stat().st_size == before
    db.execute("commit")
    assert wal.stat().st_size > before + 8_000_000


def test_one_lookup_for_a_name_in_any_case_or_an_id(db):
    db["frameworks"].insert_all([{"name": "Welding tasks", "kind": "industry"},
                                 {"name": "Academic", "kind": "academic"}, {"name": "ACADEMIC", "kind": "academic"}])
    db["programs"].insert({"name": "Welding Technology"})
    assert [framework_id(db, name) for name in ("Welding tasks", "  welding TASKS ", 1, "2")] == [1, 1, 1, 2]
    assert (framework_id(db, "Academic"), framework_id(db, "ACADEMIC")) == (2, 3)
    assert program_id(db, "welding technology") == program_id(db, 1) == 1
    with pytest.raises(NotFound) as found:
        program_id(db, "Weldng Technology")
    assert str(found.value) == ("no program named 'Weldng Technology' (did you mean 'Welding Technology'?); "
                                "the programs are: 'Welding Technology'")
    with pytest.raises(NotFound, match="'ACADEMIC', 'Academic' differ only in case"):
        framework_id(db, "academic")
    db["programs"].delete(1)
    with pytest.raises(NotFound, match=r"the programs are: none yet \(add one with 'crosswalk program add'\)"):
        program_id(db, "Plumbing")


def _band_db(tmp_path):
    """Welding (grades 9–12 by default) with two tasks; math standards of grades 8, 9–12 and none."""
    db = open_db(tmp_path / "band.db")
    db.execute("insert into frameworks (id, name, kind) values (1, 'Welding tasks', 'industry')")
    db.execute("insert into frameworks (id, name, kind, subject) values (2, 'Math', 'academic', 'Math')")
    db.conn.executemany(
        "insert into standards (id, framework_id, code, statement, grade_low, grade_high, subject, domain) "
        "values (?, ?, ?, ?, ?, ?, ?, ?)",
        [(1, 1, "W1", "Measure the joint", None, None, None, None),
         (2, 1, "W2", "Read the blueprint", None, None, None, None),
         (10, 2, "8.G.1", "Grade 8 geometry", 8, 8, "Math", "Geometry"),
         (11, 2, "HSG.1", "High-school geometry", 9, 12, "Math", "Geometry"),
         (12, 2, "HSN.1", "Quantities", 9, 12, "Math", "Number"),
         (13, 2, "MP.1", "Make sense of problems (no grade)", None, None, "Math", "Practice")])
    db.execute("insert into programs (id, name) values (1, 'Welding')")
    db.execute("insert into program_frameworks values (1, 1)")
    db.execute("insert into alignments (id, source_id, target_id, score, status, strength, reviewer, needs_review) "
               "values (1, 1, 11, 80, 'accepted', 'full', 'Ann', 0), (2, 2, 10, 60, 'accepted', 'partial', 'Ann', 0), "
               "(3, 2, 12, 50, 'suggested', null, null, 0)")
    db.conn.commit()
    return db


def test_coverage_counts_the_standards_of_the_programs_grade_band(tmp_path):
    db = _band_db(tmp_path)
    # 9–12 by default: the grade-8 standard is neither counted nor a gap; the ungraded one is both.
    assert list(db.query("select subject, standards, full, partial, certified, percent from program_coverage")) == [
        {"subject": "Math", "standards": 3, "full": 1, "partial": 0, "certified": 1, "percent": 33.3}]
    assert [r["standard_code"] for r in db.query("select * from uncovered_standards order by standard_code")] == [
        "HSN.1", "MP.1"]
    assert list(db.query("select domain, standards, certified from program_domain_coverage order by domain")) == [
        {"domain": "Geometry", "standards": 1, "certified": 1}, {"domain": "Number", "standards": 1, "certified": 0},
        {"domain": "Practice", "standards": 1, "certified": 0}]
    # Widened to grades 6–12, the grade-8 standard and its partial evidence count.
    db.execute("update programs set grade_low = 6")
    db.conn.commit()
    assert list(db.query("select standards, full, partial, certified from program_coverage")) == [
        {"standards": 4, "full": 1, "partial": 1, "certified": 2}]
    assert list(db.query("select * from coverage")) == [
        {"program": "Welding", "subject": "Math", "standards_certified": 2, "standards_in_subject": 4}]
    progress = next(db.query("select * from program_progress"))
    assert (progress["statements"], progress["suggested"], progress["accepted"], progress["rejected"],
            progress["statements_decided"], progress["status"]) == (2, 1, 2, 0, 2, "draft")


def test_a_decision_whose_statement_changed_no_longer_certifies_until_decided_again(tmp_path):
    from crosswalk.review import decide

    db = _band_db(tmp_path)
    db.execute("update alignments set needs_review = 1, needs_review_reason = 'statement W1 changed on re-import' "
               "where id = 1")
    db.conn.commit()
    assert db.execute("select count(*) from program_evidence where alignment_id = 1").fetchone()[0] == 0
    assert next(db.query("select certified from program_coverage"))["certified"] == 0
    assert [(r["alignment_id"], r["reason"]) for r in db.query("select * from program_rereview")] == [
        (1, "statement W1 changed on re-import")]
    assert next(db.query("select needs_rereview, accepted from program_progress")) == {"needs_rereview": 1,
                                                                                      "accepted": 1}
    decide(db, 1, "accept", reviewer="Ben", strength="full")
    assert db.execute("select count(*) from program_rereview").fetchone()[0] == 0
    assert next(db.query("select certified from program_coverage"))["certified"] == 1
    # A retired task's decision is not certified either, and says why (flagged, as a re-import flags
    # it; one flagged without a reason says which statement was retired).
    db.execute("update standards set status = 'retired' where id = 1")
    db.execute("update alignments set needs_review = 1 where id = 1")
    db.conn.commit()
    assert [r["reason"] for r in db.query("select * from program_rereview")] == ["the CTE statement W1 was retired"]
    assert next(db.query("select certified from program_coverage"))["certified"] == 0
    # One count of what to re-review: `program list`, `approve` and the program page count the list
    # the report and the page show (it left out a retired task's decisions: 0 against 1).
    assert next(db.query("select needs_rereview from program_progress"))["needs_rereview"] == 1
    # Decided again, it leaves the list, and still certifies nothing while its task is retired.
    assert decide(db, 1, "accept", reviewer="Ben", strength="partial").summary().endswith(
        "; it certifies nothing while W1 is retired (a re-import that brings it back makes it count again)")
    assert db.execute("select count(*) from program_rereview").fetchone()[0] == 0
    assert next(db.query("select needs_rereview, accepted from program_progress")) == {"needs_rereview": 0,
                                                                                      "accepted": 1}  # (W2's)
    assert next(db.query("select certified from program_coverage"))["certified"] == 0


def test_sign_off_is_stored_and_logged_and_the_log_stays_append_only(tmp_path):
    from crosswalk.db import set_program_status

    db = _band_db(tmp_path)
    row = set_program_status(db, "welding", "approved", "M. Levesque")
    assert (row["status"], row["status_by"], row["status_via"]) == ("approved", "M. Levesque", None)
    set_program_status(db, 1, "approved", "J. Roy", via="site")  # a second approval is logged too
    db.execute("update programs set status = 'draft'")  # by hand: logged, anonymous
    db.conn.commit()
    log = [(r["program_id"], r["alignment_id"], r["action"], r["old_status"], r["new_status"], r["reviewer"], r["via"])
           for r in db.query("select * from review_log where program_id is not null order by id")]
    assert log == [(1, None, "approve", "draft", "approved", "M. Levesque", "cli"),
                   (1, None, "approve", "approved", "approved", "J. Roy", "site"),
                   (1, None, "set status", "approved", "draft", None, "sql")]
    with pytest.raises(ValueError, match="'done': use one of 'draft', 'in review', 'approved'"):
        set_program_status(db, 1, "done", "Ann")
    # As `crosswalk program status` reads it (it was the CLI's rule only): any case, a hyphen.
    assert set_program_status(db, 1, "In-Review", "Ann")["status"] == "in review"
    with pytest.raises(ValueError, match="needs the name"):
        set_program_status(db, 1, "approved", "  ")
    with pytest.raises(NotFound):
        set_program_status(db, "Plumbing", "approved", "Ann")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute("delete from review_log where program_id = 1")


def test_the_sign_off_migration_keeps_every_logged_decision(tmp_path):
    path = tmp_path / "old.db"
    old = sqlite_utils.Database(path)
    migrations.apply(old, stop_before="m010_program_band_signoff_stale")
    old.execute("insert into frameworks (id, name, kind) values (1, 'F', 'industry'), (2, 'G', 'academic')")
    old.execute("insert into standards (id, framework_id, code, statement) values (1, 1, 'A', 'x'), (2, 2, 'B', 'y')")
    old.execute("insert into programs (id, name) values (1, 'P')")
    old.execute("insert into alignments (id, source_id, target_id, score) values (1, 1, 2, 50)")
    old.execute("update alignments set status = 'accepted', strength = 'full', reviewer = 'Ann', review_via = 'cli' "
                "where id = 1")
    old.conn.commit()
    before = old.execute("select * from review_log").fetchall()
    assert len(before) == 1
    old.close()

    db = open_db(path)
    assert [tuple(r)[:13] for r in db.execute(
        "select id, alignment_id, action, old_status, new_status, old_strength, new_strength, old_rationale, "
        "new_rationale, reviewer, via, at, comment from review_log").fetchall()] == [tuple(before[0])[:13]]
    assert next(db.query("select grade_low, grade_high, status from programs")) == {
        "grade_low": 9, "grade_high": 12, "status": "draft"}
    # The decision trigger still logs after the rebuild.
    db.execute("update alignments set rationale = 'measured', review_via = 'cli' where id = 1")
    db.conn.commit()
    assert db.execute("select action from review_log order by id").fetchall() == [("accept",), ("set rationale",)]


def test_a_match_leaves_the_planner_statistics_of_what_it_wrote(small_db):
    # The gaps pages ask, for each standard, whether any of its alignments is accepted: SQLite
    # plans that well only when its statistics know how alignments spread over standards.
    db = open_db(small_db)
    stats = dict(db.execute("select idx, stat from sqlite_stat1 where tbl = 'alignments'").fetchall())
    alignments = db.execute("select count(*) from alignments").fetchone()[0]
    assert int(stats["idx_alignments_target_status"].split()[0]) == alignments
    before = db.execute("select count(*) from alignments where status = 'accepted'").fetchone()[0]
    db.execute("update alignments set status = 'accepted', strength = 'full', reviewer = 'A. Rivera' where id = 1")
    db.execute("pragma analysis_limit = 50")
    match(db, source="Welding", target="Academic", top=2, use_embeddings=False)
    # the library put the connection's own limit back
    assert db.execute("pragma analysis_limit").fetchone()[0] == 50
    now = dict(db.execute("select idx, stat from sqlite_stat1 where tbl = 'alignments'").fetchall())
    assert int(now["idx_alignments_target_status"].split()[0]) == db.execute(
        "select count(*) from alignments").fetchone()[0] < alignments
    assert db.execute("select count(*) from alignments where status = 'accepted'").fetchone()[0] == before + 1


def test_a_decision_in_the_second_of_the_sign_off_is_a_change_since(small_db):
    # Times are to the second: a decision made in the approval's second was not counted as after it.
    from crosswalk.programs import add_program, set_status
    from crosswalk.review import decide

    db = open_db(small_db)
    add_program(db, "Welding Technology", frameworks=["Welding"])
    set_status(db, "Welding Technology", "approved", "M. Levesque")
    stamp = db.execute("select status_at from programs").fetchone()[0]
    decide(db, 1, "accept", reviewer="alice")
    logged = db.execute("select at from review_log where alignment_id = 1").fetchall()
    assert db.execute("select changes_since_status from program_progress").fetchone()[0] == 1, (stamp, logged)
    decide(db, 2, "reject", reviewer="alice")
    db.execute("insert into review_log (alignment_id, action, comment, reviewer, via, at) "
               "values (3, 'comment', 'Fits?', 'alice', 'cli', '2000-01-01T00:00:00+00:00')")
    assert db.execute("select changes_since_status from program_progress").fetchone()[0] == 2  # (comments: none)
    set_status(db, "Welding Technology", "approved", "M. Levesque")
    assert db.execute("select changes_since_status from program_progress").fetchone()[0] == 0


def test_decisions_a_re_import_flagged_since_the_sign_off_are_counted_apart_from_changes(small_db, tmp_path):
    # A re-import that changes a task flags its decisions for re-review: the approval did not see
    # that either, but no one changed a decision. The status said "2 changes to its decisions since".
    from crosswalk.importer import import_file
    from crosswalk.programs import add_program, list_programs, set_status
    from crosswalk.review import add_comment, decide

    def since():
        [row] = list_programs(db)
        counts = (row["changes_since_status"], row["flagged_since_status"])
        return counts, program_status_text(row["status"], row["status_by"], row["status_at"], *counts)

    def reimport(rows, **options):
        return import_file(db, write_xlsx(tmp_path / "welding.xlsx", rows, sheet="Tasks"), framework="Welding",
                           kind="industry", **options)

    db = open_db(small_db)
    add_program(db, "Welding Technology", frameworks=["Welding"])
    ids = {code: [r["id"] for r in db.query("select a.id from alignments a join standards s on s.id = a.source_id "
                                             "where s.code = ? order by a.id", [code])] for code in ("W.1", "W.2", "W.4")}
    decide(db, ids["W.1"][0], "accept", strength="full", reviewer="alice")
    decide(db, ids["W.1"][1], "accept", strength="partial", reviewer="alice")
    decide(db, ids["W.4"][0], "accept", strength="full", reviewer="alice")
    add_comment(db, ids["W.2"][0], "Fits geometry?", reviewer="bob")  # a suggestion, commented: flagged too
    set_status(db, "Welding Technology", "approved", "M. Levesque")
    edited = [row[:] for row in WELDING]
    edited[3][1] = "Measure and calculate the dimensions of workpieces using rulers, calipers and gauges."
    edited[4][1] = "Read blueprints and technical drawings to determine the angles and sizes of joints."
    assert reimport(edited).flagged == 3
    counts, text = since()
    assert counts == (0, 2) and text.endswith("; 2 of its decisions flagged for re-review since")
    decide(db, ids["W.1"][0], "accept", strength="full", reviewer="alice")  # decided again: a change, no longer waiting
    counts, text = since()
    assert counts == (1, 1) and text.endswith("; 1 change to its decisions and 1 of its decisions flagged for re-review since")
    set_status(db, "Welding Technology", "approved", "M. Levesque")
    assert since()[0] == (0, 0)
    # An upgrade's change (m021 gave strengthless acceptances full) is no one's change.
    db.execute("update alignments set strength = 'partial', review_via = 'upgrade' where id = ?", [ids["W.4"][0]])
    assert db.execute("select action, via from review_log order by id desc limit 1").fetchone() == ("set strength", "upgrade")
    assert since()[0] == (0, 0)
    # A task retired, then back in the same words: its decision's flag lifted, nothing waits.
    without = [row for row in edited if not row or row[0] != "W.4"]
    assert reimport(without, retire_missing=True).flagged == 1
    assert since()[0] == (0, 1)
    reimport(edited)
    assert since()[0] == (0, 0)


def test_a_pair_the_matcher_never_scored_has_no_score_and_an_older_database_loses_its_zero(tmp_path):
    path = tmp_path / "old.db"
    old = sqlite_utils.Database(path)
    migrations.apply(old, stop_before="m020_an_alignment_the_matcher_never_scored_has_no_score")
    old.execute("insert into frameworks (id, name, kind) values (1, 'F', 'industry')")
    old.conn.executemany("insert into standards (id, framework_id, code, statement) values (?, 1, ?, 'x')",
                         [(1, "A"), (2, "B"), (3, "C")])
    old.execute("insert into alignments (source_id, target_id, score, method, status) "
                "values (1, 2, 0, 'import-decisions', 'accepted'), (1, 3, 0, 'tfidf', 'suggested')")
    old.conn.commit()
    old.close()

    db = open_db(path)
    assert db.execute("pragma integrity_check").fetchall() == [("ok",)]
    # The imported decision's 0 was no score; a matcher's 0 stays a score.
    assert db.execute("select target_id, score from alignments order by target_id").fetchall() == [(2, None), (3, 0.0)]
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        db.execute("update alignments set score = 101 where target_id = 3")


def test_an_accepted_alignment_without_a_strength_becomes_full_and_can_no_longer_be_stored(tmp_path):
    """Accepted without a strength (before every decision got one, or by bare SQL), an alignment read
    as full on the review pages, partial in the CASE export and certified nothing: an older database
    makes it full, logs the change as nobody's, and the table refuses the state from then on."""
    path = tmp_path / "old.db"
    old = sqlite_utils.Database(path)
    migrations.apply(old, stop_before="m021_an_accepted_alignment_has_a_strength")
    old.execute("insert into frameworks (id, name, kind) values (1, 'F', 'industry')")
    old.conn.executemany("insert into standards (id, framework_id, code, statement) values (?, 1, ?, 'x')",
                         [(1, "A"), (2, "B"), (3, "C"), (4, "D")])
    old.execute("insert into alignments (source_id, target_id, score, status, strength, reviewer) values "
                "(1, 2, 50, 'accepted', null, 'alice'), (1, 3, 40, 'accepted', 'partial', 'bob'), "
                "(1, 4, 30, 'rejected', null, 'carol')")
    old.conn.commit()
    old.close()

    db = open_db(path)
    assert db.execute("pragma integrity_check").fetchall() == [("ok",)]
    assert db.execute("select target_id, status, strength, reviewer from alignments order by target_id").fetchall() == [
        (2, "accepted", "full", "alice"), (3, "accepted", "partial", "bob"), (4, "rejected", None, "carol")]
    assert db.execute("select alignment_id, action, old_strength, new_strength, reviewer, via from review_log").fetchall() == [
        (1, "set strength", None, "full", None, "upgrade")]
    from crosswalk.review import history
    assert history(db, 1).lines()[-1].endswith(
        "crosswalk's upgrade of the database (upgrade)  set strength: strength (none) → full")
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        db.execute("update alignments set strength = null where target_id = 3")
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        db.execute("update alignments set status = 'accepted' where target_id = 4")
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        db.execute("update alignments set strength = 'most' where target_id = 3")
    db.execute("update alignments set status = 'accepted', strength = 'partial' where target_id = 4")


def test_two_commands_opening_a_new_or_older_database_at_once_both_run(tmp_path):
    # Each used to apply the same migrations: one failed with a traceback ("duplicate column name:
    # grade_low") or as locked for 30 seconds after one, in 10 of 11 trials (a concurrency audit).
    import subprocess
    import sys

    files = []
    for name, code in (("math.csv", "N.1"), ("tasks.csv", "W.1")):
        (tmp_path / name).write_text(f"Code,Statement\n{code},Measure a part.\n", encoding="utf-8")
        files.append(tmp_path / name)
    older = tmp_path / "older.db"
    db = sqlite_utils.Database(older)
    migrations.apply(db, stop_before="m010_program_band_signoff_stale")
    db.close()
    for trial in range(4):
        path = tmp_path / f"new{trial}.db"
        if trial % 2:  # an older database, opened by two commands after an upgrade
            path.write_bytes(older.read_bytes())
        runs = [subprocess.Popen([sys.executable, "-m", "crosswalk", "import", str(path), str(file), "--framework",
                                  file.stem, "--silent"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                for file in files]
        said = [run.communicate(timeout=120) for run in runs]
        assert [run.returncode for run in runs] == [0, 0], said
        assert open_db(path).execute("select name from frameworks order by name").fetchall() == [("math",), ("tasks",)]


def test_an_alignment_id_names_one_pair_for_good(small_db, tmp_path):
    # A re-match deleted the highest suggestions and SQLite gave the next rows their ids: an id a
    # reviewer had seen then named another pair, and `crosswalk decide` decided that one.
    from crosswalk.review import decide

    db = open_db(small_db)
    before = dict(db.execute("select id, source_id || '>' || target_id from alignments").fetchall())
    highest = max(before)
    db.execute("delete from alignments where id >= ?", [highest - 1])
    db.conn.commit()
    match(db, source="Welding", target="Academic", top=5, use_embeddings=False)
    after = dict(db.execute("select id, source_id || '>' || target_id from alignments").fetchall())
    assert all(before[i] == pair for i, pair in after.items() if i in before)  # an old id: the same pair
    assert min(set(after) - set(before)) > highest
    with pytest.raises(NotFound):
        decide(db, highest, "accept", reviewer="ann")
    # An older database: the sequence starts above the ids its log names, though their rows are gone.
    older = sqlite_utils.Database(tmp_path / "older.db")
    migrations.apply(older, stop_before="m024_an_alignment_id_is_never_used_again")
    older.execute("insert into frameworks (id, name, kind) values (1, 'W', 'industry'), (2, 'M', 'academic')")
    older.execute("insert into standards (id, framework_id, code, statement) values (1, 1, 'W.1', 'Weld.'), "
                  "(2, 2, 'N.1', 'Count.'), (3, 2, 'N.2', 'Add.')")
    older.execute("insert into alignments (id, source_id, target_id, score) values (7, 1, 2, 50)")
    older.execute("insert into review_log (alignment_id, action, at) values (9, 'accept', '2026-01-01T00:00:00+00:00')")
    older.conn.commit()
    older.close()
    upgraded = open_db(tmp_path / "older.db")
    upgraded.execute("insert into alignments (source_id, target_id, score) values (1, 3, 40)")
    assert upgraded.execute("select id from alignments where target_id = 3").fetchone()[0] == 10
    assert upgraded.execute("pragma integrity_check").fetchone()[0] == "ok"
