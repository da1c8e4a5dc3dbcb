"""Small text helpers that every command's messages share."""

from crosswalk.cli import cli
from crosswalk.text import plural


def test_plural_reads_one_as_singular():
    assert [plural(n, "program") for n in (0, 1, 2)] == ["0 programs", "1 program", "2 programs"]
    assert [plural(n, "entry") for n in (1, 3)] == ["1 entry", "3 entries"]
    assert plural(2, "reviewed alignment") == "2 reviewed alignments"
    assert plural(1, "reviewed alignment") == "1 reviewed alignment"
    assert (plural(2, "day"), plural(2, "match"), plural(2, "box")) == ("2 days", "2 matches", "2 boxes")
    assert plural(2, "criterion", "criteria") == "2 criteria"


def test_commands_count_one_in_the_singular(runner, small_db):
    path = str(small_db)
    result = runner.invoke(cli, ["program", "add", path, "Welding Technology", "--framework", "Welding"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli, ["program", "list", path])
    assert result.stdout.splitlines()[-1] == "1 program"
    result = runner.invoke(cli, ["comment", path, "1", "Ask the math department", "--reviewer", "bob"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli, ["history", path, "1"])
    assert "History (1 entry, oldest first):" in result.stdout.splitlines()
    result = runner.invoke(cli, ["decide", path, "1", "accept", "--reviewer", "alice"])
    result = runner.invoke(cli, ["match", path, "--from", "Welding", "--to", "Academic", "--no-embeddings",
                                 "--silent"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().endswith("; 1 reviewed alignment left as it was")
