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


def test_a_score_reads_to_one_decimal_and_never_across_its_bands_edge():
    """text.score_text, the one rule of every page and the workbook: one decimal, rounded down, so a
    figure is on the same side of the band edges (medium from 25, high from 60) as the score."""
    from crosswalk.text import score_text, shown_score

    assert [score_text(s) for s in (24.6, 24.96, 25, 25.04, 59.99, 60.0, 0, -0.0, 100, 0.1 + 0.2)] == [
        "24.6", "24.9", "25.0", "25.0", "59.9", "60.0", "0.0", "0.0", "100.0", "0.3"]
    assert score_text(None) == "" and shown_score(None) is None and shown_score(24.96) == 24.9
    for score in (i / 1000 for i in range(0, 100001, 7)):
        shown = float(score_text(score))
        assert (shown >= 25) == (score >= 25) and (shown >= 60) == (score >= 60) and score - 0.1 < shown <= score
