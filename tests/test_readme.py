"""The README documents every command and every option (as STYLE.md asks)."""

import os
import pathlib
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request

import click
import openpyxl
import pytest

from crosswalk.cli import cli

from .test_site import free_port

ROOT = pathlib.Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def commands(group, prefix):
    for name, command in group.commands.items():
        yield prefix + [name], command
        if isinstance(command, click.Group):
            yield from commands(command, prefix + [name])


def test_every_command_is_in_the_readme():
    missing = [" ".join(path) for path, _ in commands(cli, []) if "crosswalk " + " ".join(path) not in README]
    assert missing == []


def test_every_option_is_in_the_readme():
    missing = []
    for path, command in commands(cli, []):
        for param in command.params:
            if isinstance(param, click.Option):
                longs = [o for o in param.opts + param.secondary_opts if o.startswith("--")]
                if longs and not any(o in README for o in longs):
                    missing.append(f"{' '.join(path)} {longs[0]}")
    assert missing == []


# ---- the tour runs as written ----------------------------------------------------------------

def tour_commands():
    """The tour's commands, in order: continuation lines joined, comments left out."""
    section = README.split("## A tour: from spreadsheets to a published crosswalk", 1)[1]
    block = section.split("```bash\n", 1)[1].split("```", 1)[0]
    commands, current = [], ""
    for line in block.splitlines():
        if line.lstrip().startswith("#") and not current:
            continue
        current += line.rstrip("\\").rstrip() + " " if line.endswith("\\") else line
        if not line.endswith("\\"):
            commands.append(re.sub(r"\s+# .*$", "", current).strip())
            current = ""
    return commands


def committee_decides(path):
    """What the tour leaves to the committee: two tasks' best suggestions accepted, one rejected."""
    workbook = openpyxl.load_workbook(path)
    sheet = workbook["Suggestions"]
    column = {cell.value: cell.column for cell in sheet[1]}
    first = {}
    for row in range(2, sheet.max_row + 1):
        first.setdefault(sheet.cell(row, column["CTE code"]).value, row)
    decided = {}
    for code, decision, strength in (("B.3", "accept", "partial"), ("B.4", "accept", "full"), ("G.1", "reject", None)):
        row = first[code]
        sheet.cell(row, column["Decision"]).value = decision
        sheet.cell(row, column["Strength"]).value = strength
        sheet.cell(row, column["Rationale"]).value = f"Decided by the tour's committee for {code}."
        decided[code] = sheet.cell(row, column["Academic code"]).value
    workbook.save(path)
    return decided


def test_the_tour_runs_as_written(tmp_path):
    """Every command of the README's tour, run in a copy of the files it names, as a user would."""
    commands = tour_commands()
    assert commands[0] == 'export PATH="$PWD/.venv/bin:$PATH"'
    assert len(commands) == 12
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    shutil.copytree(ROOT / "data", tmp_path / "data")
    # `crosswalk` on PATH runs this checkout's code (PYTHONPATH), as .venv/bin/crosswalk would.
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "crosswalk").write_text(f'#!/bin/sh\nexec "{sys.executable}" -m crosswalk.cli "$@"\n')
    (bindir / "crosswalk").chmod(0o755)
    env = dict(os.environ, PATH=f"{bindir}{os.pathsep}{os.environ['PATH']}", PYTHONPATH=str(ROOT))
    env.pop("CROSSWALK_REVIEWERS_FILE", None)
    prelude, out = "", {}
    for command in commands:
        if command.startswith("export "):
            prelude += command + "\n"
            continue
        if command.startswith("crosswalk review import"):
            decided = committee_decides(tmp_path / "welding-review.xlsx")
        if command.startswith("crosswalk serve"):
            out["serve"] = serve_and_read(prelude, command, tmp_path, env)
            continue
        result = subprocess.run(["bash", "-c", prelude + command], cwd=tmp_path, env=env,
                                capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, f"{command}\n{result.stderr}"
        out.setdefault(command.split(" district.db")[0], []).append(result.stdout.strip())

    assert out["crosswalk import"] == [
        "Imported 31 standards into 'Welding tasks' from welding-tasks.xlsx (sheet 'Tasks'): "
        "31 added, 0 changed, 0 unchanged, 0 retired",
        "Imported 517 standards into 'MLR Mathematics' from ccss_math.csv: 517 added, 0 changed, 0 unchanged, 0 retired"]
    assert out["crosswalk program add"] == [
        "Added program 'Welding Technology' (id 1, Grades 9–12); it teaches 'Welding tasks'"]
    first_match, second_match = out["crosswalk match"]
    # Six tasks of doing the welding match no mathematics likely ("Set up a GMAW machine: install the
    # wire, ...": its best, HSG-GPE.B.5, at meaning similarity 11/100), and get no suggestions.
    assert first_match.startswith("Matched 31 standards of 'Welding tasks' against 200 of 'MLR Mathematics': "
                                  "125 suggestions")
    assert first_match.endswith("; 6 statements with no likely alignment (no suggestions; see the "
                                "no_likely_alignment table)")
    assert second_match.endswith(
        "; 3 reviewed alignments left as they were; 6 statements with no likely alignment (no suggestions; see the "
        "no_likely_alignment table); checked on 2 reviewed statements (each ranked with the others' "
        "decisions): an accepted standard in the first 5 for 100% with the decisions, 100% without; what is "
        "accepted most counts once 10 statements have an accepted alignment (2 so far)")
    assert out["crosswalk review export"] == ["Wrote 125 alignments to welding-review.xlsx (125 suggested)"]
    assert out["crosswalk review import"][0].startswith(
        "Imported welding-review.xlsx: 3 decisions recorded (2 accepted, 1 rejected)")
    db = sqlite3.connect(tmp_path / "district.db")
    # The title rows were skipped and each task has its duty area, though the duty cells are merged.
    assert db.execute("select domain from standards where code = 'A.5'").fetchone() == ("A. Safety and shop practices",)
    accepted = dict(db.execute(
        "select s.code, t.code from alignments a join standards s on s.id = a.source_id "
        "join standards t on t.id = a.target_id where a.status = 'accepted' and a.reviewer = 'Welding committee'"))
    assert accepted == {"B.3": decided["B.3"], "B.4": decided["B.4"]}
    report = openpyxl.load_workbook(tmp_path / "welding-crosswalk.xlsx")
    report_text = " ".join(str(v) for ws in report for row in ws.iter_rows(values_only=True) for v in row if v)
    assert "Welding Technology" in report_text and decided["B.3"] in report_text and decided["B.4"] in report_text
    assert out["crosswalk publish"][0].startswith(f"Published {pathlib.Path('public', 'crosswalk.db')}: ")
    assert "2 accepted alignments" in out["crosswalk publish"][0]
    assert out["crosswalk approve"][0].startswith("Welding Technology: approved by M. Levesque on ")
    assert "Status Approved by M. Levesque on " in " ".join(report_text.split())
    home, program = out["serve"]
    assert "Welding Technology" in home
    assert decided["B.4"] in program and "M. Levesque" in program


def serve_and_read(prelude, command, cwd, env):
    """Run `crosswalk serve` on a free port (8001 may be taken), read the home and program pages, stop it."""
    port = free_port()
    proc = subprocess.Popen(["bash", "-c", f"{prelude}exec {command} --port {port}"], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                home = urllib.request.urlopen(base + "/", timeout=5).read().decode()
                break
            except OSError:
                assert proc.poll() is None, proc.stderr.read().decode()
                assert time.monotonic() < deadline, "the published site did not start"
                time.sleep(0.3)
        program = urllib.request.urlopen(base + "/program/1", timeout=10).read().decode()
        return home, program
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(20)


def test_run_works_in_the_folder_it_is_called_from(tmp_path):
    """`./run` keeps its environment in the checkout but runs the command where it was called."""
    checkout = tmp_path / "checkout"
    (checkout / ".venv" / "bin").mkdir(parents=True)
    shutil.copy(ROOT / "run", checkout / "run")
    (checkout / "pyproject.toml").write_text("")
    # The checkout's .venv/bin/crosswalk, here one that says where it ran and with what.
    fake = checkout / ".venv" / "bin" / "crosswalk"
    fake.write_text('#!/bin/sh\necho "in $PWD: $*"\n')
    fake.chmod(0o755)
    (checkout / ".venv" / ".installed").touch()
    os.utime(checkout / "pyproject.toml", (1, 1))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = subprocess.run(["../checkout/run", "import", "my.db", "../welding.xlsx"], cwd=elsewhere,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"in {elsewhere.resolve()}: import my.db ../welding.xlsx"
    assert not (checkout / "my.db").exists()


def test_what_the_tour_writes_is_git_ignored():
    if not (ROOT / ".git").exists() or shutil.which("git") is None:
        pytest.skip("not a git checkout")
    written = ["district.db", "district.db-wal", "district.db-shm", "welding-review.xlsx", "welding-crosswalk.xlsx",
               "welding-crosswalk.csv", "crosswalk.json", "crosswalk.sssom.tsv", "public/crosswalk.db",
               "crosswalk-demo.db"]
    result = subprocess.run(["git", "check-ignore", *written], cwd=ROOT, capture_output=True, text=True)
    assert result.stdout.split() == written
    shipped = ["examples/welding-tasks.xlsx", "data/ccss_math.csv", "data/guiding_principles.csv"]
    assert subprocess.run(["git", "check-ignore", *shipped], cwd=ROOT, capture_output=True).returncode == 1
