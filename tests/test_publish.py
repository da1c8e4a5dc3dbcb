"""crosswalk publish: the public copy holds only what the public should see, and the site refuses writes."""

import asyncio
import sqlite3

import pytest
import yaml

from crosswalk.cli import cli
from crosswalk.errors import CrosswalkError
from crosswalk.publish import DATASETTE_PIN, make_public_datasette, publish, publish_command


def get(ds, path, method="GET", **kwargs):
    async def run():
        return await getattr(ds.client, method.lower())(path, **kwargs)
    return asyncio.run(run())


def test_public_copy_holds_only_public_tables(reviewed_demo, published):
    conn = sqlite3.connect(published / "crosswalk.db")
    names = {r[0] for r in conn.execute("select name from sqlite_master where type in ('table', 'view')")}
    assert {"frameworks", "standards", "programs", "program_frameworks", "alignments", "program_certifies",
            "standard_evidence", "coverage", "uncovered_standards", "standards_fts"} <= names
    assert not names & {"review_log", "import_log", "embeddings", "suggestions", "unreviewed_suggestions"}
    source = sqlite3.connect(reviewed_demo)
    accepted = source.execute("select count(*) from alignments where status = 'accepted'").fetchone()[0]
    assert accepted == 32
    assert conn.execute("select count(*) from alignments").fetchone()[0] == accepted
    assert conn.execute("select distinct status from alignments").fetchall() == [("accepted",)]
    columns = {r[1] for r in conn.execute("pragma table_info(alignments)")}
    assert columns == {"id", "source_id", "target_id", "status", "strength", "rationale", "reviewer", "reviewed_at"}
    dump = "\n".join(conn.iterdump())
    assert "SECRET-REJECT" not in dump and "SECRET-LOG" not in dump
    assert "text_hash" not in {r[1] for r in conn.execute("pragma table_info(standards)")}
    # The views give the same answers as in the source database.
    for view in ("program_certifies", "coverage", "uncovered_standards"):
        query = f"select * from {view} order by 1, 2, 3"
        assert conn.execute(query).fetchall() == source.execute(query).fetchall(), view
    metadata = yaml.safe_load((published / "metadata.yml").read_text())
    tables = metadata["databases"]["crosswalk"]["tables"]
    assert "review_log" not in tables and "suggestions" not in tables
    assert metadata["plugins"]["crosswalk-public"] == {"database": "crosswalk"}
    assert not any(q.get("write") for q in metadata["databases"]["crosswalk"]["queries"].values())


def test_suggestions_can_be_kept_clearly_labelled(reviewed_demo, tmp_path):
    result = publish(reviewed_demo, tmp_path / "labelled", suggestions="label")
    conn = sqlite3.connect(tmp_path / "labelled" / "crosswalk.db")
    suggested = sqlite3.connect(reviewed_demo).execute(
        "select count(*) from alignments where status = 'suggested'").fetchone()[0]
    assert result.suggested == suggested
    assert conn.execute("select count(*) from unreviewed_suggestions").fetchone()[0] == suggested
    assert conn.execute("select distinct reviewed from unreviewed_suggestions").fetchall() == [
        ("no: suggested by the matcher, not reviewed",)]
    assert conn.execute("select count(*) from alignments").fetchone()[0] == result.accepted == 32
    assert "labelled 'not reviewed'" in result.summary()
    ds = make_public_datasette(tmp_path / "labelled")
    page = get(ds, "/crosswalk/unreviewed_suggestions")
    assert "NOT REVIEWED" in page.text


def test_public_site_refuses_writes_and_hides_internals(published):
    ds = make_public_datasette(published)
    assert get(ds, "/").status_code == 200
    for path in ("/crosswalk/alignments", "/crosswalk", "/program/1", "/crosswalk/-/query"):
        response = get(ds, path, method="POST", data={"sql": "delete from alignments"})
        assert response.status_code == 403, path
    response = get(ds, "/crosswalk.json?sql=select+*+from+review_log")
    assert response.status_code == 400 and "no such table: review_log" in response.text
    response = get(ds, "/crosswalk.json?sql=delete+from+alignments")
    assert response.status_code == 400
    response = get(ds, "/crosswalk.json?sql=select+sql+from+sqlite_master&_shape=array")
    assert "review_log" not in response.text and "SECRET" not in response.text
    assert get(ds, "/crosswalk/alignments.json?_shape=array&_size=max").json()[0]["status"] == "accepted"


def test_hostile_statement_is_shown_as_text(published):
    ds = make_public_datasette(published)
    sid = sqlite3.connect(published / "crosswalk.db").execute(
        "select id from standards where statement like '<b>bold</b>%'").fetchone()[0]
    page = get(ds, f"/standard/{sid}").text
    assert "<script>window.xssRan" not in page
    assert "&lt;script&gt;window.xssRan = 1&lt;/script&gt;" in page
    assert "&lt;b&gt;bold&lt;/b&gt;" in page


def test_publish_refuses_to_overwrite_without_force(reviewed_demo, tmp_path):
    out = tmp_path / "site"
    publish(reviewed_demo, out)
    with pytest.raises(CrosswalkError, match="--force"):
        publish(reviewed_demo, out)
    publish(reviewed_demo, out, force=True)
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    with pytest.raises(CrosswalkError, match="not empty"):
        publish(reviewed_demo, other)


def test_publish_cli(runner, reviewed_demo, tmp_path):
    out = tmp_path / "public"
    result = runner.invoke(cli, ["publish", str(reviewed_demo), str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(
        f"Published {out / 'crosswalk.db'}: 11 frameworks, 2388 standards, 8 programs, 32 accepted alignments; "
        "suggested alignments left out")
    assert f"crosswalk serve {out}" in result.stdout
    result = runner.invoke(cli, ["publish", str(reviewed_demo), str(out)])
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ") and "--force" in result.stderr


def fake_datasette(tmp_path, monkeypatch):
    """A `datasette` first on PATH that records its arguments instead of publishing."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    record = tmp_path / "args.txt"
    script = bindir / "datasette"
    script.write_text(f"#!/bin/sh\nfor a in \"$@\"; do echo \"$a\"; done > {record}\necho fake datasette ran\n")
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bindir}:{__import__('os').environ['PATH']}")
    return record


def test_publish_to_cloudrun_pins_datasette(runner, reviewed_demo, tmp_path, monkeypatch):
    record = fake_datasette(tmp_path, monkeypatch)
    out = tmp_path / "public"
    result = runner.invoke(cli, ["publish", str(reviewed_demo), str(out), "--to", "cloudrun",
                                 "--service", "maine-crosswalk", "--title", "Maine CTE crosswalk"])
    assert result.exit_code == 0, result.output
    args = record.read_text().splitlines()
    out = out.resolve()
    assert args[:5] == ["publish", "cloudrun", str(out / "crosswalk.db"), "--service", "maine-crosswalk"]
    pairs = list(zip(args, args[1:]))
    assert ("--install", DATASETTE_PIN) in pairs
    assert ("--metadata", str(out / "metadata.yml")) in pairs
    assert ("--template-dir", str(out / "templates")) in pairs
    assert ("--plugins-dir", str(out / "plugins")) in pairs
    assert ("--static", f"assets:{out / 'static'}") in pairs
    assert ("--title", "Maine CTE crosswalk") in pairs


def test_publish_package_and_dry_run(runner, reviewed_demo, tmp_path, monkeypatch):
    record = fake_datasette(tmp_path, monkeypatch)
    out = tmp_path / "public"
    result = runner.invoke(cli, ["publish", str(reviewed_demo), str(out), "--to", "package",
                                 "--tag", "district/crosswalk:2026", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert not record.exists()  # a dry run prints the command and runs nothing
    assert "package" in result.stdout and "--install datasette==0.65.5" in result.stdout
    assert "--tag district/crosswalk:2026" in result.stdout
    result = runner.invoke(cli, ["publish", str(reviewed_demo), str(out), "--force", "--to", "package",
                                 "--tag", "district/crosswalk:2026"])
    assert result.exit_code == 0, result.output
    args = record.read_text().splitlines()
    assert args[:2] == ["package", str(out.resolve() / "crosswalk.db")]
    assert ("--install", DATASETTE_PIN) in list(zip(args, args[1:]))


def test_publish_option_conflicts(runner, reviewed_demo, tmp_path):
    result = runner.invoke(cli, ["publish", str(reviewed_demo), str(tmp_path / "a"), "--to", "cloudrun"])
    assert result.exit_code == 1
    assert "Error: --to cloudrun needs --service NAME" in result.stderr
    with pytest.raises(CrosswalkError, match="pinned"):
        publish(reviewed_demo, tmp_path / "b")
        publish_command(tmp_path / "b", "package", extra_install=["datasette>=1.0a1"])
    result = runner.invoke(cli, ["publish", str(reviewed_demo), str(tmp_path / "c"), "--service", "x"])
    assert result.exit_code == 2 and "--service" in result.stderr
