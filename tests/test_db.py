import sqlite3

import pytest
import sqlite_utils

from crosswalk.db import framework_id, migrations, open_db, program_id
from crosswalk.errors import NotFound


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
