import shutil
import socket
import sqlite3

from click.testing import CliRunner

from crosswalk.cli import cli
from crosswalk.db import _serving_lock_path, being_served, serving

from .conftest import DATA


def test_demo_builds_the_whole_pipeline(demo):
    """The session's demo (conftest.py), built by `crosswalk demo` as a user runs it."""
    path, result = demo.path, demo
    alignments = sqlite3.connect(path).execute("select count(*) from alignments").fetchone()[0]
    # top 5 of 644 tasks x 4 frameworks, less the marked statements, plus the 3 rejected pairs
    assert 12000 < alignments <= 12883
    assert result.stdout.strip() == (
        f"Built {path}: 12 frameworks, 2416 standards, 8 programs, {alignments} alignments "
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
    for text in ("National Governors Association", "NGSS Lead States", "O*NET 29.3 Database", "05-071 CMR 132"):
        assert text in notices


def test_demo_matches_programs_against_the_guiding_principles(demo):
    """Maine's Guiding Principles (data/guiding_principles.csv) are the demo's fourth academic framework."""
    db = sqlite3.connect(demo.path)
    framework = db.execute(
        "select id, publisher, license, source_url from frameworks where name = ?",
        ["Maine Learning Results: Guiding Principles"]).fetchone()
    assert framework[1:] == ("Maine Department of Education", "A state regulation, public",
                             "https://www.maine.gov/doe/learning/guidingprinciples")
    rows = db.execute(
        "select code, domain, grade_low, grade_high, subject from standards where framework_id = ? order by id",
        [framework[0]]).fetchall()
    # The indicators are the standards; each principle is their heading (domain), like a CCSS domain.
    indicators = {}
    for code, domain, *_ in rows:
        assert domain.startswith(code[3] + ". ")  # GP-C.2 sits under "C. A creative and practical problem solver"
        indicators[code[:4]] = indicators.get(code[:4], 0) + 1
    assert indicators == {"GP-A": 4, "GP-B": 7, "GP-C": 7, "GP-D": 6, "GP-E": 4}
    assert {row[2:] for row in rows} == {(9, 12, "Guiding Principles")}
    # Welding's tasks are matched against them like the other subjects.
    suggested = db.execute(
        "select count(distinct a.source_id) from alignments a join standards t on t.id = a.target_id "
        "join standards s on s.id = a.source_id join frameworks f on f.id = s.framework_id "
        "where t.framework_id = ? and f.name = 'Welding Technology tasks (O*NET 29.3)'", [framework[0]]).fetchone()[0]
    assert suggested > 50


def test_the_demo_run_again_keeps_its_decisions_and_replaces_nothing_else(demo, tmp_path):
    """`crosswalk demo` run a second time serves the demo it built, with what was decided in it since;
    --fresh builds it anew; a database that is not the demo's, or a file that is no database, is left
    exactly as it was, with one error."""
    path = tmp_path / "crosswalk-demo.db"
    shutil.copy(demo.path, path)
    db = sqlite3.connect(path)
    decided = db.execute("select min(id) from alignments where status = 'suggested'").fetchone()[0]
    db.execute("update alignments set status = 'accepted', strength = 'full', reviewer = 'director' where id = ?",
               [decided])
    db.commit()
    db.close()
    runner = CliRunner()
    again = runner.invoke(cli, ["demo", "--db", str(path), "--no-serve", "--no-embeddings"])
    assert again.exit_code == 0, again.output
    assert again.stdout.startswith(f"Kept the demo built earlier at {path}, with its decisions: 12 frameworks, ")
    assert "(19 accepted, 3 rejected, the rest suggested) (--fresh builds it anew)" in again.stdout
    # What applies only to a build is said to be unused, not silently dropped.
    assert again.stderr == ("Note: --no-embeddings applies when the demo is built; "
                            "add --fresh to build it anew with it\n")
    both = runner.invoke(cli, ["demo", "--db", str(path), "--no-serve", "--top", "3", "--no-embeddings"])
    assert both.stderr == ("Note: --top and --no-embeddings apply when the demo is built; "
                           "add --fresh to build it anew with them\n")
    assert runner.invoke(cli, ["demo", "--db", str(path), "--no-serve"]).stderr == ""
    assert sqlite3.connect(path).execute("select status, reviewer from alignments where id = ?",
                                         [decided]).fetchone() == ("accepted", "director")

    # (One suggestion per task and framework: a quicker build, 5.4 s against 6.9.)
    fresh = runner.invoke(cli, ["demo", "--db", str(path), "--no-serve", "--no-embeddings", "--fresh", "--silent",
                                "--top", "1"])
    assert fresh.exit_code == 0, fresh.output
    assert fresh.stdout.startswith(f"Built {path}: 12 frameworks") and "(18 accepted, 3 rejected" in fresh.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["crosswalk-demo.db"]  # built aside, moved into place
    assert sqlite3.connect(path).execute("select count(*) from alignments where id = ? and reviewer = 'director'",
                                         [decided]).fetchone() == (0,)

    district = tmp_path / "district.db"
    assert runner.invoke(cli, ["import", str(district), str(DATA / "ccss_math.csv"), "--framework", "Our math",
                               "--kind", "academic"]).exit_code == 0
    not_a_db = tmp_path / "notes.db"
    not_a_db.write_text("minutes of the committee")
    for other, error in [(district, f"Error: {district} is a crosswalk database that is not the demo's"),
                         (not_a_db, f"Error: {not_a_db} is not a crosswalk database")]:
        before = other.read_bytes()
        for fresh_flag in ([], ["--fresh"]):
            result = runner.invoke(cli, ["demo", "--db", str(other), "--no-serve", *fresh_flag])
            assert result.exit_code == 1 and result.stderr.startswith(error), result.output
            assert other.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["crosswalk-demo.db", "district.db", "notes.db"]


def test_a_port_in_use_is_found_before_anything_is_built_or_served(demo, tmp_path):
    """With the port taken (another demo still serving), `crosswalk demo` builds or replaces nothing and
    `crosswalk serve` announces nothing: one error, exit status 1."""
    kept = tmp_path / "crosswalk-demo.db"
    shutil.copy(demo.path, kept)
    before = kept.read_bytes()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        in_use = f"Error: port {port} on 127.0.0.1 is in use (is crosswalk already serving there?)"
        runner = CliRunner()
        for args in (["demo", "--db", str(tmp_path / "new.db"), "--no-embeddings"],
                     ["demo", "--db", str(kept), "--fresh", "--no-embeddings"],
                     ["serve", str(kept)], ["serve", str(kept), "--review"]):
            result = runner.invoke(cli, [*args, "--port", port])
            assert result.exit_code == 1, result.output
            assert result.stderr.startswith(in_use) and result.stderr.count("\n") == 1, result.stderr
            assert result.stdout == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["crosswalk-demo.db"]
    assert kept.read_bytes() == before


def test_the_demo_is_not_built_anew_under_a_site_that_serves_it(demo, tmp_path):
    """`crosswalk demo --fresh` while a site serves the demo (on another port, or `crosswalk serve`) would
    replace the file under it, and the decisions made there since would go with the old file."""
    path = tmp_path / "crosswalk-demo.db"
    shutil.copy(demo.path, path)
    before = path.read_bytes()
    runner = CliRunner()
    with serving(path):
        assert being_served(path)
        result = runner.invoke(cli, ["demo", "--db", str(path), "--no-serve", "--fresh", "--no-embeddings"])
        assert result.exit_code == 1, result.output
        assert result.stderr.startswith(f"Error: {path} is being served (a crosswalk demo or serve still running)")
        assert path.read_bytes() == before
        assert not [p.name for p in tmp_path.iterdir() if ".building" in p.name]  # nothing was built
        # Kept as it is, the demo may be served twice.
        assert runner.invoke(cli, ["demo", "--db", str(path), "--no-serve"]).exit_code == 0
        with serving(path):  # served twice: the first to stop leaves the mark to the other
            pass
        assert being_served(path)
    assert not being_served(path)
    assert not _serving_lock_path(path).exists()  # the last to stop took its mark away


def test_a_district_database_made_at_db_while_the_demo_builds_is_not_replaced(tmp_path, welding_xlsx):
    """A crosswalk database made where the demo is being built (another terminal's `crosswalk import`):
    the finished demo does not replace it. What killed builds left behind is cleared."""
    import pytest

    from crosswalk.db import open_db
    from crosswalk.demo import open_demo
    from crosswalk.errors import CrosswalkError
    from crosswalk.importer import import_file

    path = tmp_path / "x.db"
    stopped = tmp_path / "x.db.building-999999999-wal"  # a pid no process has
    stopped.write_bytes(b"")
    made = []

    def log(_text):
        if not made:
            db = open_db(path)
            import_file(db, welding_xlsx, framework="District welding", kind="industry")
            db.close()
            made.append(path)

    with pytest.raises(CrosswalkError, match="became a crosswalk database that is not the demo's while the demo"):
        open_demo(path, use_embeddings=False, log=log)
    conn = sqlite3.connect(path)
    assert conn.execute("select name from frameworks").fetchall() == [("District welding",)]
    conn.close()
    assert not [p.name for p in tmp_path.iterdir() if ".building" in p.name]


def test_a_build_killed_and_not_yet_reaped_is_not_taken_as_running():
    # `timeout -s KILL 12 crosswalk demo` run again at once: the killed build, a zombie until its
    # parent reaps it, was taken as running, and its files stayed (a concurrency audit).
    import os
    import signal
    import subprocess
    import sys

    import pytest

    from crosswalk.demo import _running

    if not os.path.exists("/proc/self/stat"):
        pytest.skip("no /proc on this system: a zombie cannot be told from a running process")
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        assert _running(child.pid)
        os.kill(child.pid, signal.SIGKILL)
        for _ in range(200):  # until the kernel has made it a zombie (not reaped: no wait yet)
            with open(f"/proc/{child.pid}/stat") as stat:
                if stat.read().rpartition(")")[2].split()[0] == "Z":
                    break
            __import__("time").sleep(0.01)
        assert not _running(child.pid)
    finally:
        child.kill()
        child.wait()
