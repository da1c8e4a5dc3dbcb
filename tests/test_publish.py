"""crosswalk publish: the public copy holds only what the public should see, and the site refuses writes."""

import ast
import asyncio
import json
import re
import shutil
import sqlite3

import pytest
import yaml

from crosswalk.cli import cli
from crosswalk.errors import CrosswalkError
from crosswalk.deploy import DATASETTE_PIN, publish_command
from crosswalk.db import open_db
from crosswalk.programs import set_status
from crosswalk.publish import PUBLIC_VIEWS, publish
from crosswalk.site import make_datasette, make_public_datasette


def get(ds, path, method="GET", **kwargs):
    async def run():
        return await getattr(ds.client, method.lower())(path, **kwargs)
    return asyncio.run(run())


def test_public_copy_holds_only_public_tables(reviewed_demo, published):
    # The published plugin runs where crosswalk is not installed.
    for name, function in (("crosswalk_public.py", "grade_label"), ("crosswalk_site_guard.py", "neutralise")):
        plugin = ast.parse((published / "plugins" / name).read_text())
        imported = {node.module if isinstance(node, ast.ImportFrom) else alias.name
                    for node in ast.walk(plugin) if isinstance(node, (ast.Import, ast.ImportFrom))
                    for alias in node.names}
        assert not {name for name in imported if name.split(".")[0] == "crosswalk"}
        assert function in {node.name for node in plugin.body if isinstance(node, ast.FunctionDef)}
    conn = sqlite3.connect(published / "crosswalk.db")
    names = {r[0] for r in conn.execute("select name from sqlite_master where type in ('table', 'view')")}
    assert {"frameworks", "standards", "programs", "program_frameworks", "alignments", "program_certifies",
            "standard_evidence", "coverage", "uncovered_standards", "standards_fts"} <= names
    assert not names & {"review_log", "import_log", "embeddings", "suggestions", "unreviewed_suggestions"}
    source = sqlite3.connect(reviewed_demo)
    accepted = source.execute("select count(*) from alignments where status = 'accepted'").fetchone()[0]
    assert accepted == 50  # the demo's 18 accepted decisions, and the 32 the session accepts
    assert conn.execute("select count(*) from alignments").fetchone()[0] == accepted
    assert conn.execute("select distinct status from alignments").fetchall() == [("accepted",)]
    columns = {r[1] for r in conn.execute("pragma table_info(alignments)")}
    assert columns == {"id", "source_id", "target_id", "status", "strength", "rationale", "reviewer", "reviewed_at",
                       "needs_review", "needs_review_reason"}
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
    assert conn.execute("select count(*) from alignments").fetchone()[0] == result.accepted == 50
    assert "labelled 'not reviewed'" in result.summary()
    ds = make_public_datasette(tmp_path / "labelled")
    page = get(ds, "/crosswalk/unreviewed_suggestions")
    assert "NOT REVIEWED" in page.text
    # Their evidence is what the two statements say: what decisions say names reviewed statements
    # (a draft program's, which --approved-only leaves out; rejections, which are never public).
    working = dict(sqlite3.connect(reviewed_demo).execute(
        "select id, evidence from alignments where status = 'suggested'"))
    public = dict(conn.execute("select id, evidence from unreviewed_suggestions"))
    decisions_say = ("reviewed statement", "aligned so far", "rejected for", "learned together")
    taught = [i for i in working if public[i] != working[i]]
    assert len(taught) > 100
    for i in working:
        assert not any(words in public[i] for words in decisions_say), public[i]
        assert public[i].startswith(("shared terms: ", "no shared terms")) and "word overlap" in public[i]
    for i in taught:
        said = working[i][len(public[i]):]
        assert said.startswith("; ") and any(words in said for words in decisions_say), (working[i], public[i])


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
    # A metadata file that is not Datasette metadata: an error naming it, and nothing written.
    (tmp_path / "bad.yml").write_text("title: [unclosed\n")
    (tmp_path / "list.yml").write_text("- 1\n")
    (tmp_path / "photo.yml").write_bytes(b"\x89PNG\r\n\x1a\n")
    for name, said in (("bad.yml", "bad.yml: not valid YAML"),
                       ("list.yml", "list.yml: Datasette metadata is a mapping ('title: ...', 'databases: ...'), "
                                    "not a list"),
                       ("photo.yml", "photo.yml: cannot read the metadata file")):
        with pytest.raises(CrosswalkError) as info:
            publish(reviewed_demo, tmp_path / "fresh", metadata=tmp_path / name)
        assert str(info.value).startswith(said) and not (tmp_path / "fresh").exists(), name


def test_publish_cli(runner, reviewed_demo, tmp_path):
    out = tmp_path / "public"
    result = runner.invoke(cli, ["publish", str(reviewed_demo), str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(
        f"Published {out / 'crosswalk.db'}: 12 frameworks, 2416 standards, 8 programs, 50 accepted alignments; "
        "suggested alignments left out") and result.stdout.count("\n") == 1  # one summary line, as every command
    assert result.stderr == f"Serve it with: crosswalk serve {out}\n"
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
    # The deployed site runs with the settings of the site `crosswalk serve` runs.
    extra = args[args.index("--extra-options") + 1].split()
    deployed = dict(zip(extra[1::3], extra[2::3]))  # --setting NAME VALUE ...
    assert extra[::3] == ["--setting"] * len(deployed)
    served = make_public_datasette(out)

    def text(value):
        return ("on" if value else "off") if isinstance(value, bool) else str(value)

    assert deployed == {name: text(served.setting(name)) for name in deployed}
    assert {"default_page_size", "suggest_facets", "facet_time_limit_ms", "sql_time_limit_ms"} <= set(deployed)


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
    # Deploy options that do not fit --to are refused before the copy is written.
    for options, said in ((["--to", "cloudrun", "--service", "s", "--tag", "a/b", "--dry-run"],
                           "Error: --tag applies to --to package only\n"),
                          (["--to", "package", "--service", "s"], "Error: --service applies to --to cloudrun only\n"),
                          (["--to", "package", "--install", "Datasette==1.0a2"],
                           "Error: Datasette is pinned to datasette==0.65.5; do not --install 'Datasette==1.0a2'\n")):
        result = runner.invoke(cli, ["publish", str(reviewed_demo), str(tmp_path / "d"), *options])
        assert (result.exit_code, result.stdout, result.stderr) == (1, "", said) and not (tmp_path / "d").exists()


def test_inspect_data_gives_table_counts(published, tmp_path):
    data = json.loads((published / "inspect-data.json").read_text())
    conn = sqlite3.connect(published / "crosswalk.db")
    tables = [r[0] for r in conn.execute("select name from sqlite_master where type = 'table'")]
    assert {t: c["count"] for t, c in data["crosswalk"]["tables"].items()} == {
        t: conn.execute(f"select count(*) from [{t}]").fetchone()[0] for t in tables}
    assert data["crosswalk"]["size"] == (published / "crosswalk.db").stat().st_size
    ds = make_public_datasette(published)
    assert ds.inspect_data == data
    page = get(ds, "/crosswalk/alignments.json").json()
    assert page["filtered_table_rows_count"] == 50 and len(page["rows"]) == 20
    # A copy whose inspect file does not belong to its database counts rows itself.
    copy = tmp_path / "copy"
    shutil.copytree(published, copy)
    stale = json.loads((copy / "inspect-data.json").read_text())
    stale["crosswalk"]["size"] += 1
    stale["crosswalk"]["tables"]["alignments"]["count"] = 999
    (copy / "inspect-data.json").write_text(json.dumps(stale))
    ds = make_public_datasette(copy)
    assert ds.inspect_data is None
    assert get(ds, "/crosswalk/alignments.json").json()["filtered_table_rows_count"] == 50


def _certified_rows(html):
    """(standard ids of the certified-standards rows, number of evidence rows) on a program page."""
    certifies = re.findall(r'<table class="xw-table xw-certifies">.*?</table>', html, re.S)
    ids = [int(m) for table in certifies for m in re.findall(r'<tr>\s*<td><a class="xw-code" href="/standard/(\d+)"',
                                                           table)]
    evidence = re.search(r'<table class="xw-table xw-evidence">.*?</table>', html, re.S)
    return ids, (evidence.group(0).count("<tr>") - 1 if evidence else 0)


def test_program_page_is_paged(reviewed_demo, tmp_path):
    source = tmp_path / "many.db"
    shutil.copy(reviewed_demo, source)
    conn = sqlite3.connect(source)
    program_id, name = conn.execute(
        "select p.id, p.name from programs p join program_frameworks pf on pf.program_id = p.id "
        "join standards s on s.framework_id = pf.framework_id group by p.id order by count(*) desc limit 1").fetchone()
    conn.execute(
        "update alignments set status = 'accepted', strength = 'partial', rationale = 'paging', reviewer = 'B. Ortiz', "
        "reviewed_at = '2026-04-01T10:00:00+00:00' where status = 'suggested' and rank <= 2 and source_id in ("
        "select s.id from standards s join program_frameworks pf on pf.framework_id = s.framework_id "
        "where pf.program_id = ?)", [program_id])
    conn.commit()
    out = tmp_path / "public"
    publish(source, out)
    pub = sqlite3.connect(out / "crosswalk.db")
    standards = {r[0] for r in pub.execute(
        "select distinct standard_id from program_certifies where program_id = ?", [program_id])}
    accepted = pub.execute(
        "select count(*) from alignments a join standards s on s.id = a.source_id "
        "join program_frameworks pf on pf.framework_id = s.framework_id where pf.program_id = ?",
        [program_id]).fetchone()[0]
    pages = -(-len(standards) // 50)
    assert len(standards) > 100 and pages >= 3
    ds = make_public_datasette(out)
    seen, evidence_rows = [], 0
    for number in range(1, pages + 1):
        response = get(ds, f"/program/{program_id}" + (f"?page={number}" if number > 1 else ""))
        assert response.status_code == 200
        html = response.text
        ids, n_evidence = _certified_rows(html)
        assert len(ids) == (50 if number < pages else len(standards) - 50 * (pages - 1))
        seen += ids
        evidence_rows += n_evidence
        first, last = 50 * (number - 1) + 1, 50 * (number - 1) + len(ids)
        assert f"Standards {first}–{last} of {len(standards)} (page {number} of {pages})" in html
        assert (f'href="?page={number + 1}#certifies"' in html) == (number < pages)
        assert (f'href="?page={number - 1}#certifies"' in html) == (number > 1)
        # The totals are the whole program's, on every page.
        assert f"<strong>{len(standards)}</strong> academic standards accepted so far" in html  # (a draft)
        assert f"<strong>{accepted}</strong> reviewed alignments" in html
        assert "B. Ortiz" in html
    assert len(seen) == len(set(seen)) and set(seen) == standards
    assert evidence_rows == accepted
    assert get(ds, f"/program/{program_id}?page={pages + 1}").status_code == 404
    assert get(ds, f"/program/{program_id}?page=0").status_code == 404
    assert "is not a page number" in get(ds, f"/program/{program_id}?page=two").text


def test_approved_only_publishes_approved_programs(runner, reviewed_demo, tmp_path):
    source = tmp_path / "signed.db"
    shutil.copy(reviewed_demo, source)
    db = open_db(source)
    set_status(db, "Welding Technology", "approved", "M. Levesque")
    set_status(db, "Carpentry", "in review", "J. Chen")
    db.close()
    conn = sqlite3.connect(source)
    welding = conn.execute("select id from programs where name = 'Welding Technology'").fetchone()[0]
    welding_accepted = conn.execute(
        "select a.id from alignments a join standards s on s.id = a.source_id join program_frameworks pf "
        "on pf.framework_id = s.framework_id where pf.program_id = ? and a.status = 'accepted' order by a.id",
        [welding]).fetchall()
    assert len(welding_accepted) == 6
    out = tmp_path / "public"
    result = runner.invoke(cli, ["publish", str(source), str(out), "--approved-only"])
    assert result.exit_code == 0, result.output
    line = result.stdout.splitlines()[0]
    assert line == (f"Published {out / 'crosswalk.db'}: 12 frameworks, 2416 standards, 1 program, 6 accepted "
                    "alignments; suggested alignments left out; 7 programs left out because they are not approved "
                    "(6 draft, 1 in review)")
    pub = sqlite3.connect(out / "crosswalk.db")
    assert pub.execute("select name, status, status_by, grade_low, grade_high from programs").fetchall() == [
        ("Welding Technology", "approved", "M. Levesque", 9, 12)]
    assert pub.execute("select id from alignments order by id").fetchall() == welding_accepted
    assert pub.execute("select count(*) from frameworks").fetchone()[0] == 12
    assert pub.execute("select value from about where key = 'programs'").fetchone() == ("approved programs only",)
    # The public views answer as the working database does, for the program published.
    for view in ("program_certifies", "program_coverage", "program_domain_coverage", "program_standards",
                 "program_rereview", "coverage"):
        query = f"select * from {view} where program_id = ? order by 1, 2, 3, 4" if view != "coverage" else \
            "select * from coverage where program = 'Welding Technology' order by 1, 2"
        args = [welding] if view != "coverage" else []
        assert pub.execute(query, args).fetchall() == conn.execute(query, args).fetchall(), view
    # Suggestions kept with --suggestions label are those of the approved program's frameworks only.
    result = publish(source, tmp_path / "labelled", suggestions="label", approved_only=True)
    suggested = conn.execute(
        "select count(*) from alignments a join standards s on s.id = a.source_id join program_frameworks pf "
        "on pf.framework_id = s.framework_id where pf.program_id = ? and a.status = 'suggested'", [welding]).fetchone()[0]
    assert result.suggested == suggested > 0
    # Without the flag every program is published, with its status.
    result = publish(source, tmp_path / "all")
    assert result.left_out == {} and result.programs == 8
    everyone = sqlite3.connect(tmp_path / "all" / "crosswalk.db")
    assert everyone.execute("select status, count(*) from programs group by status order by 1").fetchall() == [
        ("approved", 1), ("draft", 6), ("in review", 1)]
    assert everyone.execute("select value from about where key = 'programs'").fetchone() == (
        "every program, with its status",)


def test_decisions_changed_since_a_sign_off_are_said_when_published(runner, reviewed_demo, tmp_path):
    # An approval did not see what was decided after it: publishing said nothing, and the public page
    # said only "Approved by M. Levesque" above the new decision.
    source = tmp_path / "signed.db"
    shutil.copy(reviewed_demo, source)
    db = open_db(source)
    set_status(db, "Welding Technology", "approved", "M. Levesque")
    welding = db.execute("select id from programs where name = 'Welding Technology'").fetchone()[0]
    (alignment,) = db.execute(
        "select a.id from alignments a join standards s on s.id = a.source_id join program_frameworks pf "
        "on pf.framework_id = s.framework_id where pf.program_id = ? and a.status = 'suggested' order by a.id "
        "limit 1", [welding]).fetchone()
    db.close()
    out = tmp_path / "public"
    assert runner.invoke(cli, ["publish", str(source), str(out), "--approved-only"]).stdout.splitlines()[0].endswith(
        "(7 draft)")
    page = get(make_public_datasette(out), f"/program/{welding}").text
    assert "Approved by M. Levesque on " in page and "since" not in page.split("Approved by M. Levesque")[1][:40]
    # (in the sign-off's second, most likely: counted all the same, by the log's order)
    assert runner.invoke(cli, ["decide", str(source), str(alignment), "accept", "--reviewer", "alice"]).exit_code == 0
    result = runner.invoke(cli, ["publish", str(source), str(out), "--approved-only", "--force"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0].endswith(
        "(7 draft); Welding Technology: 1 change to its decisions since its sign-off, published as they are now and "
        "said on its page (approve it again to sign them)")
    page = get(make_public_datasette(out), f"/program/{welding}").text
    assert re.search(r"Approved by M\. Levesque on [0-9-]+; 1 change to its decisions since", page)
    assert sqlite3.connect(out / "crosswalk.db").execute(
        "select changes_since_status from programs").fetchall() == [(1,)]
    # A decision a re-import flagged for re-review since (as an import flags it): said apart, no one changed it.
    conn = sqlite3.connect(source)
    conn.execute("update alignments set needs_review = 1, needs_review_reason = 'the task changed', "
                 "review_via = 'import' where id = ?", [alignment])
    conn.commit()
    conn.close()
    result = runner.invoke(cli, ["publish", str(source), str(out), "--approved-only", "--force"])
    assert result.stdout.splitlines()[0].endswith(
        "(7 draft); Welding Technology: 1 change to its decisions and 1 of its decisions flagged for re-review since "
        "its sign-off, "
        "published as they are now and said on its page (approve it again to sign them)")
    page = get(make_public_datasette(out), f"/program/{welding}").text
    assert re.search(r"Approved by M\. Levesque on [0-9-]+; 1 change to its decisions and 1 of its decisions "
                     "flagged for re-review since", page)


def test_every_public_view_answers_in_the_copy(published):
    conn = sqlite3.connect(published / "crosswalk.db")
    for view in PUBLIC_VIEWS:
        rows = conn.execute(f"select * from [{view}] limit 5").fetchall()
        assert view in ("rereview_alignments", "program_rereview") or rows, view  # (none to re-review there)


def test_evidence_for_a_standard_finds_a_code_typed_in_any_case(published):
    """A coordinator types hsn-q.a.3, or pastes " HSN-Q.A.3 ", and gets the standard's evidence, not "0 results"."""
    code = sqlite3.connect(published / "crosswalk.db").execute(
        "select standard_code from standard_evidence where standard_code != lower(standard_code) "
        "order by standard_code limit 1").fetchone()[0]
    ds = make_public_datasette(published)

    def evidence(typed):
        response = asyncio.run(ds.client.get("/crosswalk/evidence_for_a_standard.json",
                                             params={"code": typed, "_shape": "array"}))
        assert response.status_code == 200, response.text
        return [(r["standard_code"], r["cte_code"]) for r in response.json()]

    exact = evidence(code)
    assert exact and {c for c, _ in exact} == {code}
    for typed in (code.lower(), f" {code} ", f"  {code.swapcase()}\t"):
        assert evidence(typed) == exact, typed
    assert evidence("") == [] and evidence("no-such-code") == []


def test_a_table_pages_csv_link_downloads_every_row(published):
    """The CSV link on a table page gave 1,000 rows of 2,416 standards (Datasette's _size=max), saying nothing."""
    import csv
    import html
    import io

    ds = make_public_datasette(published)
    conn = sqlite3.connect(published / "crosswalk.db")
    for path, where in (("/crosswalk/standards", ""), ("/crosswalk/program_standards", ""),
                        ("/crosswalk/standards?subject=Math", "where subject = 'Math'")):
        table = path.split("/")[2].split("?")[0]
        total = conn.execute(f"select count(*) from {table} {where}").fetchone()[0]
        page = asyncio.run(ds.client.get(path))
        link = html.unescape(re.search(r'<a href="([^"]+)">CSV</a>', page.text).group(1))
        response = asyncio.run(ds.client.get(link))
        assert response.status_code == 200, link
        rows = list(csv.reader(io.StringIO(response.text)))
        assert len(rows) - 1 == total, (link, len(rows) - 1, total)
    assert conn.execute("select count(*) from standards").fetchone()[0] > 1000


def test_a_districts_canned_queries_are_published_only_where_the_copy_can_answer(reviewed_demo, tmp_path):
    # A district adds its own read-only queries to metadata.yml. Those that read what the public copy
    # does not hold (the review queue, the review log, in any case or spacing) are left out; the
    # others are published and answer there.
    metadata = yaml.safe_load(open("metadata.yml"))
    metadata["databases"]["crosswalk"]["queries"].update({
        "progress_by_program": "select name, suggested from program_progress",
        "who_decided": {"sql": "select reviewer, count(*) from [REVIEW_LOG] group by 1"},
        "accepted_in_grade": {"sql": "select count(*) from current_alignments a join standards s on s.id = a.target_id"
                                     " where s.grade_low <= :grade"},
        # (SQLite cannot prepare two statements: Datasette shows the error on the site, as it did.)
        "two_statements": "select 1; select 2",
    })
    (tmp_path / "district.yml").write_text(yaml.safe_dump(metadata))
    # (A folder name with '#' in it: the copy is read as that file, not as a file 'site' made beside it.)
    publish(reviewed_demo, tmp_path / "site#2", metadata=tmp_path / "district.yml")
    assert not (tmp_path / "site").exists()
    queries = yaml.safe_load((tmp_path / "site#2" / "metadata.yml").read_text())["databases"]["crosswalk"]["queries"]
    assert "progress_by_program" not in queries and "who_decided" not in queries
    assert {"accepted_in_grade", "what_a_program_certifies", "search_standards", "two_statements"} <= set(queries)
    conn = sqlite3.connect(tmp_path / "site#2" / "crosswalk.db")
    assert conn.execute(queries["accepted_in_grade"]["sql"], {"grade": 12}).fetchone()[0] > 0


def test_the_public_copy_makes_each_answer_once(published):
    # A published copy never changes and its visitors never sign in: an answer is made once, and
    # asked for again it is sent as it was (headers included), without a query.
    ds = make_public_datasette(published)
    asked = []

    async def run(requests):
        await ds.invoke_startup()
        db = ds.get_database("crosswalk")
        execute = db.execute

        async def counted(sql, *args, **kwargs):
            asked.append(sql)
            return await execute(sql, *args, **kwargs)

        db.execute = counted
        answers = []
        for path, headers in requests:
            before = len(asked)
            response = await ds.client.get(path, headers=headers)
            answers.append((response.status_code, response.content, dict(response.headers), len(asked) - before))
        return answers

    table, program = "/crosswalk/alignments?_size=5", "/program/1"
    first, again, with_cookie, missing, missing_again, home, home_again = asyncio.run(run([
        (table, {}), (table, {}), (table, {"cookie": "visited=1"}), ("/crosswalk/nope", {}), ("/crosswalk/nope", {}),
        (program, {}), (program, {})]))
    assert first[0] == 200 and first[3] > 0
    assert again[:3] == first[:3] and again[3] == 0
    assert "content-security-policy" in again[2]
    assert with_cookie[0] == 200 and with_cookie[3] > 0  # a request with a cookie is answered afresh
    assert missing[0] == missing_again[0] == 404 and missing_again[3] > 0  # only 200 answers are kept
    assert home[0] == 200 and home_again[1] == home[1] and home_again[3] == 0  # crosswalk's own pages too
    cache = ds._crosswalk_answers
    assert cache.hits == 2 and len(cache.pages) == 2

    # Bounded: an answer larger than the largest kept is sent but not kept; the oldest goes first.
    small = make_public_datasette(published)
    small._crosswalk_answers = type(cache)(limit=len(first[1]) + 1, largest=len(first[1]))
    asked.clear()
    ds = small
    small_json = "/crosswalk/alignments.json?_size=1"
    kept, big, other, again_first = asyncio.run(run([
        (table, {}), ("/crosswalk/alignments?_size=50", {}), (small_json, {}), (table, {})]))
    assert big[0] == 200 and len(big[1]) > len(first[1])
    assert other[0] == 200 and len(other[1]) < len(first[1])
    # the first page was kept, the big one not; keeping the JSON sent the first page out
    assert kept[3] > 0 and again_first[3] > 0
    assert list(small._crosswalk_answers.pages) == [(0, "/crosswalk/alignments", b"_size=5")]


def test_the_public_copy_says_a_decision_is_reviewed_again_without_the_districts_file_names(reviewed_demo, tmp_path):
    """A decision flagged for re-review shows on the public pages as such, in words for the public:
    the working reason names the district's import file ('it is no longer in welding-edit.csv')."""
    db_path = tmp_path / "district.db"
    shutil.copy(reviewed_demo, db_path)
    conn = sqlite3.connect(db_path)
    alignment, program = conn.execute(
        "select a.id, pf.program_id from alignments a join standards s on s.id = a.source_id "
        "join program_frameworks pf on pf.framework_id = s.framework_id where a.status = 'accepted' "
        "order by a.id limit 1").fetchone()
    reason = "the task 23607 retired on re-import: it is no longer in welding-edit.csv"
    conn.execute("update alignments set needs_review = 1, needs_review_reason = ? where id = ?", [reason, alignment])
    conn.commit()
    conn.close()
    publish(db_path, tmp_path / "site")
    public = asyncio.run(make_public_datasette(tmp_path / "site").client.get(f"/program/{program}")).text
    assert "needs re-review</span> a statement changed or was retired after the decision" in public
    assert "welding-edit.csv" not in public
    working = asyncio.run(make_datasette(db_path, pages=True).client.get(f"/program/{program}")).text
    assert reason in working


def _notices(html):
    """The footer's attribution notices and its "Published … with crosswalk" line, as a page shows them."""
    footer = html.split('<div class="xw-footer">', 1)[1]
    notices = re.findall(r"<li>(.*?)</li>", footer.split("</ul>", 1)[0]) if 'id="attribution"' in footer else []
    published = re.search(r"Published [0-9-]+ with crosswalk\.", footer)
    return notices, published.group(0) if published else None


def test_datasettes_own_pages_carry_the_attribution_notices_the_crosswalks_pages_do(published, reviewed_demo):
    """Datasette's table, row, query and database pages show the standards' text word for word (CCSS, NGSS,
    O*NET), but their footer held only the bare license list: no "© Copyright 2010 NGA Center / CCSSO"
    notice, no O*NET attribution statement, no "Published … with crosswalk" line (site audit 1)."""
    ds = make_public_datasette(published)
    home = get(ds, "/").text
    notices, published_line = _notices(home)
    assert any("National Governors Association" in n for n in notices) and any("O*NET" in n for n in notices), notices
    assert published_line is not None
    welding = sqlite3.connect(published / "crosswalk.db").execute(
        "select id from standards where code = 'HSN-Q.A.3'").fetchone()[0]
    for path in ("/crosswalk/standards", f"/crosswalk/standards/{welding}", "/crosswalk",
                 "/crosswalk/what_a_program_certifies?program=Welding+Technology"):
        page = get(ds, path)
        assert page.status_code == 200, path
        assert _notices(page.text) == (notices, published_line), path
    # The working site's Datasette pages too (it holds no `about` row saying when it was published).
    working = make_datasette(reviewed_demo, pages=True)
    notices = _notices(get(working, "/").text)[0]
    assert notices and _notices(get(working, "/crosswalk-demo/standards").text)[0] == notices


def test_the_counts_of_decisions_to_decide_again_say_what_the_site_and_the_program_list_say(small_db, tmp_path, runner):
    """After a re-import flagged decisions, publish said '3 accepted alignments' where the site says 1
    certifies, and the review workbook's cover '3 needing re-review' where the program list says 1 to
    re-review (it counts flagged rejections too): a director's walk. Each now says how its count splits."""
    import openpyxl

    from crosswalk.programs import add_program
    from crosswalk.review import decide

    db = open_db(small_db)
    add_program(db, "Welding Technology", frameworks=["Welding"])
    for alignment, decision in ((1, "accept"), (2, "accept"), (3, "reject")):
        decide(db, alignment, decision, reviewer="alice")
    db.execute("update alignments set needs_review = 1, needs_review_reason = 'statement changed on re-import' "
               "where id in (2, 3)")
    db.conn.commit()
    db.close()
    result = runner.invoke(cli, ["publish", str(small_db), str(tmp_path / "public")])
    assert result.exit_code == 0, result.output
    assert "2 accepted alignments (1 certifying, 1 to decide again); suggested alignments left out" in result.stdout
    out = tmp_path / "review.xlsx"
    assert runner.invoke(cli, ["review", "export", str(small_db), str(out)]).exit_code == 0
    cover = {r[0]: r[1] for r in openpyxl.load_workbook(out)["About this workbook"].iter_rows(values_only=True) if r[0]}
    assert cover["Needing re-review"] == ("2 (1 accepted, which certify nothing until decided again, as a program's "
                                          "'to re-review' counts; 1 rejected)")
    listed = runner.invoke(cli, ["program", "list", str(small_db)]).stdout
    assert "1 to re-review" in listed
