import sqlite3


def test_demo_builds_the_whole_pipeline(demo):
    """The session's demo (conftest.py), built by `crosswalk demo` as a user runs it."""
    path, result = demo.path, demo
    alignments = sqlite3.connect(path).execute("select count(*) from alignments").fetchone()[0]
    assert 9000 < alignments <= 9663  # top 5 of 644 tasks x 3 frameworks, less the marked statements
    assert result.stdout.strip() == (
        f"Built {path}: 11 frameworks, 2388 standards, 8 programs, {alignments} alignments "
        "(18 accepted, 3 rejected, the rest suggested)")
    assert "Applied 21 decisions from demo_decisions.csv" in result.stderr
    db = sqlite3.connect(path)
    clusters = db.execute("select count(distinct career_cluster) from programs").fetchone()[0]
    assert clusters >= 4
    # Each program teaches one framework of O*NET tasks, linked through CIP -> SOC.
    assert db.execute("select count(*) from program_frameworks").fetchone()[0] == 8
    # The illustrative decisions certify standards for programs ...
    certified = dict(db.execute("select program, count(*) from program_certifies group by program").fetchall())
    assert certified["Machine Tool Technology"] == 5
    # ... a rejected pair is never suggested again by the re-match ...
    assert db.execute(
        "select count(*) from alignments a join standards s on s.id = a.source_id "
        "join standards t on t.id = a.target_id where s.code = '10272' and t.code = 'HSS-IC.B.6'"
    ).fetchone()[0] == 1
    # ... and the re-match learned from them: suggestions cite the decisions.
    cited = db.execute("select count(*) from alignments where status = 'suggested' "
                       "and evidence like '%reviewed statement%'").fetchone()[0]
    assert cited > 50
    # Attribution of every source is in the database.
    notices = " ".join(r[0] for r in db.execute("select attribution from frameworks"))
    for text in ("National Governors Association", "NGSS Lead States", "O*NET 29.3 Database"):
        assert text in notices
