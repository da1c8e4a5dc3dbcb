import sqlite3

from crosswalk.cli import cli


def test_every_command_help_has_an_example(runner):
    def walk(group, prefix):
        for name, command in group.commands.items():
            yield prefix + [name], command
            if hasattr(command, "commands"):
                yield from walk(command, prefix + [name])

    result = runner.invoke(cli, ["--help"])
    assert "Example:" in result.stdout
    for args, _ in walk(cli, []):
        result = runner.invoke(cli, args + ["--help"])
        assert result.exit_code == 0, args
        assert "Example:" in result.stdout, args


def test_import_match_program_cli(runner, tmp_path, welding_xlsx, academic_csv):
    path = str(tmp_path / "cli.db")
    result = runner.invoke(cli, ["import", path, str(welding_xlsx), "--framework", "Welding"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == (
        "Imported 4 standards into 'Welding' from welding.xlsx (sheet 'Tasks'): "
        "4 added, 0 changed, 0 unchanged, 0 retired")
    result = runner.invoke(cli, ["import", path, str(academic_csv), "--framework", "Academic", "--kind", "academic"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli, ["match", path, "--from", "Welding", "--to", "Academic", "--top", "2",
                                 "--no-embeddings", "--silent"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == (
        "Matched 4 standards of 'Welding' against 5 of 'Academic': 8 suggestions (tfidf); "
        "0 reviewed alignments left as they were")
    assert result.stderr == ""
    result = runner.invoke(cli, ["program", "add", path, "Welding Technology", "--cip", "48.0508",
                                 "--cluster", "Manufacturing", "--framework", "Welding"])
    assert result.exit_code == 0, result.output
    assert "Added program 'Welding Technology' (id 1); it teaches 'Welding'" in result.stdout
    result = runner.invoke(cli, ["program", "list", path])
    assert "Welding Technology (CIP 48.0508, Manufacturing): 0 standards certified; teaches Welding" in result.stdout


def test_progress_goes_to_stderr(runner, small_db):
    result = runner.invoke(cli, ["match", str(small_db), "--from", "Welding", "--to", "Academic", "--no-embeddings"])
    assert result.exit_code == 0
    assert "Matching" in result.stderr
    assert "Matching" not in result.stdout


def test_bad_file_is_one_clear_error_and_leaves_db_unchanged(runner, small_db, tmp_path):
    bad = tmp_path / "broken.csv"
    bad.write_text("Code,Statement\nA,First\nA,Second\n", encoding="utf-8")
    before = small_db.read_bytes()
    result = runner.invoke(cli, ["import", str(small_db), str(bad), "--framework", "Welding"])
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "Error: broken.csv, row 3, column 1 (Code): duplicate code 'A': it is also on row 2")
    assert "Traceback" not in result.output
    assert small_db.read_bytes() == before


def test_unknown_framework(runner, small_db):
    result = runner.invoke(cli, ["match", str(small_db), "--from", "Nope", "--to", "Academic"])
    assert result.exit_code == 1
    assert "no framework named 'Nope'; the frameworks are: 'Academic', 'Welding'" in result.stderr


def test_program_rejects_academic_framework(runner, small_db):
    result = runner.invoke(cli, ["program", "add", str(small_db), "P", "--framework", "Academic"])
    assert result.exit_code == 1
    assert "'Academic' is an academic framework" in result.stderr
    assert sqlite3.connect(small_db).execute("select count(*) from programs").fetchone()[0] == 0
