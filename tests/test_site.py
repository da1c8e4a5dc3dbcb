import asyncio
import html
import json
import os
import pathlib
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.parse
import urllib.request

import pytest
from datasette.database import Database

from crosswalk import site
from crosswalk.cli import cli
from crosswalk.db import being_served, open_db
from crosswalk.programs import add_program
from crosswalk.review import decide
from crosswalk.site import make_datasette


def accept_first(path):
    db = open_db(path)
    add_program(db, "Welding Technology", cip_code="48.0508", frameworks=["Welding"])
    db.execute("update alignments set status = 'accepted', strength = 'full', rationale = 'measuring' "
               "where id = (select min(id) from alignments where rank = 1)")
    db.conn.commit()
    return db


def test_datasette_pages_show_labels_and_views(small_db):
    accept_first(small_db).close()
    ds = make_datasette(small_db)

    async def get(path):
        return await ds.client.get(path)

    async def run():
        home = await get("/")
        # The sources credited are the data's (its program has a CIP code), not the demo's O*NET.
        assert home.status_code == 200 and "O*NET" not in home.text and "(CIP 2020)" in home.text
        standards = await get("/small/standards.json?_shape=array&code=W.1")
        assert standards.json()[0]["label"].startswith("W.1: Measure and calculate")
        alignments = await get("/small/alignments?status=accepted")
        assert "W.1: Measure and calculate the dimensions" in alignments.text  # a label, not a bare id
        certifies = await get("/small/program_certifies.json?_shape=array")
        assert certifies.json()[0]["program"] == "Welding Technology"
        assert certifies.json()[0]["strength"] == "full"
        search = await get("/small/standards.json?_search=measuring&_shape=array")
        assert sorted(r["code"] for r in search.json()) == ["N-Q.1", "W.1"]  # stemmed: measuring finds measure
        # The named query "Search the standards": opened with nothing to search for, an empty form, not an error.
        for words in ("", "%22", "%20"):
            empty = await get(f"/small/search_standards.json?_shape=array&words={words}")
            assert empty.status_code == 200 and empty.json() == [], (words, empty.text)
        found = await get("/small/search_standards.json?_shape=array&words=measuring")
        assert sorted(r["code"] for r in found.json()) == ["N-Q.1", "W.1"]
        assert (await get("/small/search_standards")).status_code == 200
    asyncio.run(run())

    # A standard retired by a re-import is found neither by the named query nor by the site's search.
    db = open_db(small_db)
    db.execute("update standards set status = 'retired' where code = 'N-Q.1'")
    db.conn.commit()
    db.close()
    ds = make_datasette(small_db, pages=True)

    async def after():
        found = await get("/small/search_standards.json?_shape=array&words=measuring")
        page = await get("/search?q=measuring")
        return [r["code"] for r in found.json()], page.text
    codes, page = asyncio.run(after())
    assert codes == ["W.1"]
    assert "W.1" in page and "N-Q.1" not in page


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_table_pages_show_20_rows(reviewed_demo):
    ds = make_datasette(reviewed_demo)
    total = sqlite3.connect(reviewed_demo).execute("select count(*) from alignments").fetchone()[0]
    assert total > 100

    async def run():
        page = (await ds.client.get("/crosswalk-demo/alignments.json")).json()
        assert len(page["rows"]) == 20 and page["filtered_table_rows_count"] == total
        assert page["next"]
        more = (await ds.client.get("/crosswalk-demo/alignments.json?_size=100")).json()
        assert len(more["rows"]) == 100
    asyncio.run(run())


def test_facet_counts_are_cached_until_the_database_changes(small_db, monkeypatch):
    counted = []
    real_execute = Database.execute

    async def counting_execute(self, sql, *args, **kwargs):
        if site.FACET_SQL_MARK in sql:
            counted.append(sql)
        return await real_execute(self, sql, *args, **kwargs)

    monkeypatch.setattr(Database, "execute", counting_execute)
    ds = make_datasette(small_db)
    path = "/small/alignments.json?_facet=status&_facet=confidence"

    async def counts():
        facets = (await ds.client.get(path)).json()["facet_results"]
        return {name: {r["value"]: r["count"] for r in facets[name]["results"]} for name in ("status", "confidence")}

    async def run():
        conn = sqlite3.connect(small_db)
        n = conn.execute("select count(*) from alignments").fetchone()[0]
        expected = dict(conn.execute("select confidence, count(*) from alignments group by confidence"))
        first = await counts()
        assert n == 12 and first == {"status": {"suggested": 12}, "confidence": expected}
        assert ds.facet_cache_hits == 0 and len(counted) == 2
        assert await counts() == first
        # both facets and the table's row count, not counted again
        assert ds.facet_cache_hits == 3 and len(counted) == 2
        # Another connection (here: the CLI's way of deciding) commits: the counts are fresh.
        db = open_db(small_db)
        decide(db, db.query("select min(id) as id from alignments").__next__()["id"], "accept", strength="full",
               rationale="measuring", reviewer="alice")
        db.close()
        assert (await counts())["status"] == {"suggested": 11, "accepted": 1}
        assert ds.facet_cache_hits == 3 and len(counted) == 4
        # Five requests at once after a change: each facet is counted once, the others wait for it.
        db = open_db(small_db)
        decide(db, db.query("select max(id) as id from alignments").__next__()["id"], "reject",
               rationale="no", reviewer="alice")
        db.close()
        together = await asyncio.gather(*(counts() for _ in range(5)))
        assert all(c["status"] == {"suggested": 10, "accepted": 1, "rejected": 1} for c in together)
        assert ds.facet_cache_hits == 3 + 4 * 3 and len(counted) == 6
    asyncio.run(run())


def test_a_table_pages_row_count_is_counted_once_until_the_database_changes(small_db, monkeypatch):
    counted = []
    real_execute = Database.execute

    async def counting_execute(self, sql, *args, **kwargs):
        if sql.startswith("select count(*) from"):
            counted.append(sql)
        return await real_execute(self, sql, *args, **kwargs)

    monkeypatch.setattr(Database, "execute", counting_execute)
    ds = make_datasette(small_db)

    async def rows(path="/small/alignments.json?_size=1"):
        return (await ds.client.get(path)).json()["filtered_table_rows_count"]

    async def run():
        assert await rows() == 12 and len(counted) == 1
        assert await rows() == 12 and len(counted) == 1  # the same count, not counted again
        # A filtered count depends on its filter: counted each time, as Datasette does.
        assert await rows("/small/alignments.json?_size=1&rank=1") == 4 and len(counted) == 2
        assert await rows("/small/alignments.json?_size=1&rank=1") == 4 and len(counted) == 3
        # Another connection commits: the table is counted afresh.
        conn = sqlite3.connect(small_db)
        conn.execute("delete from alignments where id = (select max(id) from alignments)")
        conn.commit()
        conn.close()
        assert await rows() == 11 and len(counted) == 4
    asyncio.run(run())


def test_a_visitors_own_sql_is_never_kept(small_db):
    """Counts are kept for Datasette's table pages only: SQL that a visitor (?sql=, _where=) or a canned
    query wrote is run each time, even when it reads like a facet's (random() differs every run)."""
    lucky = "select random() as value, count(*) as count from (select 1)"
    md = {"databases": {"small": {"queries": {"lucky": {"sql": lucky}}}}}
    ds = make_datasette(small_db, metadata=md)
    where = "abs(random()) % 2 = 0"  # about half the 12 alignments, a different half each time

    async def values(path, read):
        return [read((await ds.client.get(path)).json()) for _ in range(8)]

    async def run():
        by_sql = await values(f"/small.json?_shape=array&sql={urllib.parse.quote(lucky)}", lambda r: r[0]["value"])
        canned = await values("/small/lucky.json?_shape=array", lambda r: r[0]["value"])
        faceted = await values(f"/small/alignments.json?_facet=status&_where={urllib.parse.quote(where)}",
                               lambda r: sum(f["count"] for f in r["facet_results"]["status"]["results"]))
        return by_sql, canned, faceted
    by_sql, canned, faceted = asyncio.run(run())
    assert len(set(by_sql)) > 1 and len(set(canned)) > 1 and len(set(faceted)) > 1
    # A table page's own counts are still kept.
    assert asyncio.run(values("/small/alignments.json?_facet=status", lambda r: r["filtered_table_rows_count"])) == [12] * 8
    assert ds.facet_cache


def test_the_working_site_keeps_an_answer_until_the_database_changes(small_db, monkeypatch):
    # Nobody signs in on the working site: a visitor without a cookie gets the same answer as the
    # last one, until any connection commits to the database.
    asked = []
    real_execute = Database.execute

    async def counting_execute(self, sql, *args, **kwargs):
        asked.append(sql)
        return await real_execute(self, sql, *args, **kwargs)

    monkeypatch.setattr(Database, "execute", counting_execute)
    ds = make_datasette(small_db, pages=True)

    async def page(headers=None):
        before = len(asked)
        response = await ds.client.get("/small/alignments?_size=3&_sort=id", headers=headers or {})
        assert response.status_code == 200
        return response.text, len(asked) - before

    async def run():
        first, queries = await page()
        assert queries > 0
        assert await page() == (first, 0)  # kept: not one query
        assert (await page({"cookie": "ds_messages=x"}))[1] > 0  # a visitor with a cookie: made afresh
        conn = sqlite3.connect(small_db)
        conn.execute("update alignments set rationale = 'CHANGED ELSEWHERE' where id = 1")
        conn.commit()
        conn.close()
        changed, queries = await page()
        assert queries > 0 and "CHANGED ELSEWHERE" in changed and "CHANGED ELSEWHERE" not in first
        assert await page() == (changed, 0)
    asyncio.run(run())


def test_an_answer_made_while_a_query_ran_out_of_time_is_not_kept(reviewed_demo, tmp_path):
    """A page whose facets timed out is sent as Datasette made it, but not kept: the next visitor
    gets a page made afresh, not the one missing its facets (on a public copy, whose data never
    changes, that would last until the site restarts)."""
    path = tmp_path / "crosswalk-demo.db"
    shutil.copy(reviewed_demo, path)
    ds = make_datasette(path, pages=True, settings={"facet_time_limit_ms": 1})  # 12,864 alignments: never in 1 ms
    faceted, plain = "/crosswalk-demo/alignments?_facet=evidence&_facet=target_id", "/crosswalk-demo/alignments"

    async def run():
        first = await ds.client.get(faceted)
        again = await ds.client.get(faceted)
        assert first.status_code == again.status_code == 200
        assert 'class="facets-timed-out"' in first.text and 'class="facets-timed-out"' in again.text
        cache = ds._crosswalk_answers
        assert cache.hits == 0 and cache.pages == {}  # made twice, kept never
        # A page made in time is kept as before.
        made, kept = await ds.client.get(plain), await ds.client.get(plain)
        assert kept.text == made.text and cache.hits == 1 and len(cache.pages) == 1
    asyncio.run(run())


def test_workers_share_one_secret(small_db, monkeypatch):
    """``_run`` hands every uvicorn worker process one configuration with one signing secret, so a cookie
    or CSRF token signed by one worker is read by the next. uvicorn.run is stood in for (it would start the
    processes); each worker is built as app_from_env builds it, from CROSSWALK_SITE."""
    workers = []

    def start_workers(app, **options):
        assert app == "crosswalk.site:app_from_env" and options["factory"] and options["workers"] == 2
        workers.extend(site.datasette_from_config(json.loads(os.environ[site.ENV_SITE]))
                       for _ in range(options["workers"]))

    monkeypatch.setattr(site.uvicorn, "run", start_workers)
    monkeypatch.delenv(site.ENV_SITE, raising=False)
    for given in (None, "s" * 64):  # a secret made at start-up, or DATASETTE_SECRET's
        if given:
            monkeypatch.setenv("DATASETTE_SECRET", given)
        else:
            monkeypatch.delenv("DATASETTE_SECRET", raising=False)
        workers.clear()
        site._run({"paths": [str(small_db)], "immutable": False, "metadata": None, "pages": False},
                  "127.0.0.1", free_port(), 2)
        one, two = workers
        assert two.unsign(one.sign({"a": "alice"}, "actor"), "actor") == {"a": "alice"}
        assert site.ENV_SITE not in os.environ  # put back after the run
    assert one.unsign(make_datasette(small_db, secret="s" * 64).sign("x", "csrftoken"), "csrftoken") == "x"

    async def run():
        page = await one.client.get("/small/frameworks.json?_shape=array")
        assert sorted(r["name"] for r in page.json()) == ["Academic", "Welding"]
    asyncio.run(run())
    with pytest.raises(RuntimeError, match="crosswalk serve"):
        site.app_from_env()


@pytest.mark.long
def test_real_server_with_two_workers(small_db, runner):
    """`crosswalk serve` over HTTP, as on a machine with two cores: two workers, each answering."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "crosswalk.cli", "serve", str(small_db), "--port", str(port),
                             "--workers", "2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/-/versions.json", timeout=2).read()
                break
            except OSError:
                if time.time() > deadline or proc.poll() is not None:
                    pytest.fail(proc.stderr.read().decode() if proc.poll() is not None else "server did not start")
                time.sleep(0.3)
        children = pathlib.Path(f"/proc/{proc.pid}/task/{proc.pid}/children")
        if children.exists():  # Linux: the supervisor, its two workers (and multiprocessing's resource tracker)
            workers = [pid for pid in children.read_text().split()
                       if b"spawn_main" in pathlib.Path(f"/proc/{pid}/cmdline").read_bytes()]
            assert len(workers) == 2
        assert being_served(small_db)  # crosswalk demo --fresh will not replace it
        for _ in range(6):  # each worker answers
            body = urllib.request.urlopen(
                f"http://127.0.0.1:{port}/small/alignments?_facet=status", timeout=10).read().decode()
            assert "12 rows" in body and "suggested" in body
        body = urllib.request.urlopen(f"http://127.0.0.1:{port}/small/frameworks", timeout=10).read().decode()
        assert "Welding" in body and "Academic" in body
        assert "One row per imported standards document" in body
    finally:
        proc.terminate()
        proc.wait(10)
    assert not being_served(small_db)
    result = runner.invoke(cli, ["serve", str(small_db), "--review", "--workers", "2"])
    assert result.exit_code == 2 and "the review site runs in one process" in result.stderr


def test_the_working_site_shows_the_crosswalk_pages(reviewed_demo, tmp_path):
    path = tmp_path / "working.db"
    shutil.copy(reviewed_demo, path)
    conn = sqlite3.connect(path)
    welding = conn.execute("select id from programs where name = 'Welding Technology'").fetchone()[0]
    conn.execute("""update alignments set needs_review = 1, needs_review_reason = 'the task changed' where id = (
        select a.id from alignments a join standards s on s.id = a.source_id
        join program_frameworks pf on pf.framework_id = s.framework_id
        where pf.program_id = ? and a.status = 'accepted' and a.rationale is not null order by a.id limit 1)""", [welding])
    conn.commit()
    ds = make_datasette(path, pages=True)
    suggested = conn.execute("select suggested from program_progress where program_id = ?", [welding]).fetchone()[0]

    async def get(url):
        return await ds.client.get(url)

    async def run():
        home = await get("/")
        assert home.status_code == 200 and 'class="xw-heat-map"' in home.text
        assert '<a href="/working">Tables and SQL</a>' in home.text
        assert "content-security-policy" in home.headers and "<script" not in home.text
        program = await get(f"/program/{welding}")
        assert program.status_code == 200 and "Coverage of Grades 9–12 by subject" in program.text
        assert f"<strong>{suggested}</strong> suggestions awaiting review" in program.text
        review = await get(f"/program/{welding}/review")
        best = conn.execute("""
            select a.id from alignments a join standards s on s.id = a.source_id
            join program_frameworks pf on pf.framework_id = s.framework_id
            join standards t on t.id = a.target_id
            where pf.program_id = ? and a.status = 'suggested' and s.status = 'active' and t.status = 'active'
            order by a.score desc, a.id limit 1""", [welding]).fetchone()[0]
        assert review.status_code == 200 and review.text.index(f'id="a{best}"') > 0
        # A decision to re-review says what it was (strength, rationale): what accepting it again confirms.
        [(strength, rationale)] = conn.execute(
            "select r.strength, a.rationale from program_rereview r join alignments a on a.id = r.alignment_id "
            "where r.program_id = ?", [welding]).fetchall()
        assert f"(accepted as {strength} by " in review.text and html.escape(rationale) in review.text
        assert "<form class=\"xw-decide\"" not in review.text  # read only: no decisions here
        assert (await get(f"/program/{welding}/review?band=nonsense")).status_code == 404
        # A program or standard that is not a number: the site's own 404 page, with its navigation.
        for path, said in (("/program/abc", "There is no program “abc”"), ("/program/abc/review", "program “abc”"),
                           ("/standard/x1", "There is no standard “x1”")):
            missing = await get(path)
            assert missing.status_code == 404 and said in missing.text and 'class="xw-nav"' in missing.text, path
        # Searching with nothing, or with what FTS5 cannot parse, answers a page, not an error.
        for q in ("", "%22", "NEAR(", "AND", "*", "%22%22%22"):
            page = await get(f"/search?q={q}")
            assert page.status_code == 200, q
        assert "Type a word or a standard" in (await get("/search?q=%22")).text
        gaps = await get("/gaps")
        assert gaps.status_code == 200 and len(gaps.content) < 60_000
        # A standard suggested for many tasks lists them 20 at a time, best first, and says how many.
        popular, many = conn.execute(
            "select target_id, count(*) from alignments where status = 'suggested' "
            "group by target_id order by 2 desc limit 1").fetchone()
        assert many > 40
        best_first = [r[0] for r in conn.execute(
            "select a.id from alignments a join standards s on s.id = a.source_id where a.target_id = ? "
            "and a.status = 'suggested' and s.status = 'active' order by a.score desc, a.id", [popular])]
        standard = await get(f"/standard/{popular}")
        assert f"best first: 1–20 of {many:,}." in standard.text
        assert re.findall(r'<tr id="a(\d+)"', standard.text) == [str(i) for i in best_first[:20]]
        assert f'<a rel="next" href="/standard/{popular}?page=2#awaiting">' in standard.text
        assert 'rel="prev"' not in standard.text
        second = await get(f"/standard/{popular}?page=2")
        assert f"best first: 21–40 of {many:,}." in second.text
        assert re.findall(r'<tr id="a(\d+)"', second.text) == [str(i) for i in best_first[20:40]]
        assert f'<a rel="prev" href="/standard/{popular}#awaiting">' in second.text
        last = -(-many // 20)
        last_rows = re.findall(r'<tr id="a(\d+)"', (await get(f"/standard/{popular}?page={last}")).text)
        assert last_rows == [str(i) for i in best_first[(last - 1) * 20:]]
        # Past the last page (a reviewer who decided the last page's last suggestion is sent back to
        # it): the last page there is. A page that is no page number is the site's 404.
        beyond = await get(f"/standard/{popular}?page={last + 1}")
        assert beyond.status_code == 200 and re.findall(r'<tr id="a(\d+)"', beyond.text) == last_rows
        assert 'rel="next"' not in beyond.text
        for nonsense in ("two", 0):
            assert (await get(f"/standard/{popular}?page={nonsense}")).status_code == 404, nonsense
        # The same on a program's review page, 25 at a time.
        reviewed = await get(f"/program/{welding}/review?page=999")
        total = conn.execute("""
            select count(*) from alignments a join standards s on s.id = a.source_id
            join program_frameworks pf on pf.framework_id = s.framework_id join standards t on t.id = a.target_id
            where pf.program_id = ? and a.status = 'suggested' and s.status = 'active' and t.status = 'active'""",
                             [welding]).fetchone()[0]
        assert reviewed.status_code == 200 and total > 25
        assert f"{(-(-total // 25) - 1) * 25 + 1}–{total} of {total}, highest chance first." in reviewed.text
        # The statements marked against some subject, said as such: such a statement may have
        # suggestions in another (it read "with no likely academic alignment"), and listed by subject.
        most, marked = conn.execute(
            "select pf.program_id, count(distinct n.source_id) from no_likely_alignment n join standards s on "
            "s.id = n.source_id join program_frameworks pf on pf.framework_id = s.framework_id "
            "group by pf.program_id order by 2 desc limit 1").fetchone()
        assert marked > 1
        assert (f'{marked} statements</a> with no likely alignment in one of the subjects searched (one may '
                "have suggestions in another).") in (await get(f"/program/{most}")).text
        listed = await get(f"/program/{most}/review?no_likely=1")
        assert f"No likely alignment in a subject ({marked})" in listed.text
        assert "Statements with no likely alignment in a subject searched" in listed.text
        # A task's suggestions come each framework's best in turn (the matcher's ranks): the page says
        # so (it said "best first" above scores out of order), and names each one's framework.
        task, frameworks = conn.execute(
            "select a.source_id, count(distinct t.framework_id) from alignments a join standards t on t.id = a.target_id "
            "where a.status = 'suggested' and a.rank is not null group by a.source_id order by 2 desc, 1 limit 1").fetchone()
        assert frameworks > 1
        ordered = [(str(i), name) for i, name in conn.execute(
            "select a.id, f.name from alignments a join standards t on t.id = a.target_id join frameworks f "
            "on f.id = t.framework_id where a.source_id = ? and a.status = 'suggested' and t.status = 'active' "
            "order by a.rank is null, a.rank, a.score desc, a.id limit 20", [task])]
        page = await get(f"/standard/{task}")
        assert "task, in its order: the best match in each framework first, then the next best in each" in page.text
        rows = re.findall(r'<tr id="a(\d+)">.*?</a> [^<]*<div class="xw-muted">([^<]+)</div>', page.text, re.S)
        assert [(i, html.unescape(name)) for i, name in rows] == ordered
        assert len({name for _, name in ordered[:frameworks]}) == frameworks  # each framework's best first
        # Writes need a signed-in reviewer: this site signs nobody in.
        refused = await ds.client.post("/-/decide", data={"alignment_id": str(best), "decision": "accept"})
        assert refused.status_code == 403
        assert conn.execute("select status from alignments where id = ?", [best]).fetchone()[0] == "suggested"
    asyncio.run(run())


def test_the_pages_show_a_change_made_elsewhere_at_once(small_db):
    accept_first(small_db).close()
    ds = make_datasette(small_db, pages=True)
    program = sqlite3.connect(small_db).execute("select id from programs").fetchone()[0]

    async def certified():
        page = (await ds.client.get(f"/program/{program}")).text
        return int(re.search(r"<strong>(\d+)</strong> academic standards? (?:certified|accepted so far)",
                             page).group(1))

    async def run():
        before = await certified()
        assert before == 1 and await certified() == before  # the second one is the kept page
        db = open_db(small_db)
        suggested = next(db.query("select a.id from alignments a join standards t on t.id = a.target_id "
                                  "where a.status = 'suggested' and t.grade_low >= 9 and a.target_id not in "
                                  "(select target_id from alignments where status = 'accepted') limit 1"))["id"]
        decide(db, suggested, "accept", strength="partial", rationale="shown at once", reviewer="alice")
        db.close()
        assert await certified() == before + 1
    asyncio.run(run())


def test_a_review_page_of_one_subject_counts_that_subject_or_says_the_count_is_the_whole_programs(small_db):
    """Found by an audit of the review pages: /program/1/review?subject=Math said "256 suggestions
    awaiting review, 3 accepted, 2 rejected" and "No likely alignment (13)", only the 256 Math's (1,056
    in every subject), the rest every subject's, unlabelled; its re-reviews were every subject's too."""
    db = open_db(small_db)
    program = add_program(db, "Welding Technology", cip_code="48.0508", frameworks=["Welding"])
    by_subject = {}
    for subject, alignment_id in db.execute("select t.subject, a.id from alignments a join standards t "
                                            "on t.id = a.target_id order by a.score desc, a.id"):
        by_subject.setdefault(subject, []).append(alignment_id)
    decide(db, by_subject["Math"][0], "accept", reviewer="bob")
    decide(db, by_subject["Science"][0], "reject", reviewer="bob")
    flagged = by_subject["ELA"][0]
    decide(db, flagged, "accept", reviewer="bob")
    db.execute("update alignments set needs_review = 1, needs_review_reason = 'the task changed' where id = ?",
               [flagged])
    first_task = db.execute("select min(id) from standards where framework_id = "
                            "(select id from frameworks where name = 'Welding')").fetchone()[0]
    academic = db.execute("select id from frameworks where name = 'Academic'").fetchone()[0]
    db.execute("insert into no_likely_alignment (source_id, target_framework_id, best_score) values (?, ?, 3)",
               [first_task, academic])
    db.conn.commit()
    program_id = program.id
    progress = dict(next(db.query("select * from program_progress where program_id = ?", [program_id])))
    math = db.execute("select count(*) from alignments a join standards t on t.id = a.target_id "
                      "where a.status = 'suggested' and t.subject = 'Math'").fetchone()[0]
    db.close()
    assert (progress["suggested"], math, progress["accepted"], progress["rejected"]) == (9, 8, 1, 1)
    ds = make_datasette(small_db, pages=True)

    def text(page):
        return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page.text)))

    async def run():
        whole = (f"{progress['statements_decided']} of {progress['statements']} credential statements decided; "
                 f"{progress['suggested']} suggestions awaiting review, 1 accepted, 1 rejected.")
        page = await ds.client.get(f"/program/{program_id}/review?subject=Math")
        assert page.status_code == 200
        assert f"In Math: {math} suggestions awaiting review. In the whole program, every subject: {whole}" in text(page)
        assert "No likely alignment in a subject (1, every subject)" in text(page)
        assert f'id="a{flagged}"' not in page.text and "Needs re-review" not in page.text  # an ELA decision
        everything = await ds.client.get(f"/program/{program_id}/review")
        assert f"Review Welding Technology {whole}" in text(everything) and "In the whole program" not in everything.text
        assert "No likely alignment in a subject (1)" in text(everything)
        assert f'id="a{flagged}"' in everything.text and "Needs re-review (1)" in text(everything)
        ela = await ds.client.get(f"/program/{program_id}/review?subject=ELA")
        assert f'id="a{flagged}"' in ela.text and "Needs re-review (1)" in text(ela)
        # The best chance in percent, as every other figure, and what it is compared with (an audit read
        # a 16.4 above most suggestions awaiting review as a contradiction).
        unlikely = await ds.client.get(f"/program/{program_id}/review?no_likely=1")
        assert '<td>Academic</td><td class="num">3.0%</td>' in unlikely.text
        assert "compare it with other statements' first suggestions" in text(unlikely)

    asyncio.run(run())


def test_a_domain_less_standard_is_listed_and_linked_under_no_domain(small_db, tmp_path):
    # A subject with standards under a domain and standards under none: the program page listed the
    # domain-less ones as "(no domain)", linked with no domain at all, which showed the whole subject.
    from crosswalk.importer import import_file
    from crosswalk.programs import add_program

    from .conftest import write_csv

    db = open_db(small_db)
    import_file(db, write_csv(tmp_path / "more.csv", [
        ["code", "statement", "grade", "subject", "domain"],
        ["M.1", "Prove theorems about triangles.", "9-12", "Math", "Geometry"],
        ["M.2", "Interpret the slope of a line.", "9-12", "Math", ""]]), framework="More math", kind="academic")
    add_program(db, "Welding Technology", frameworks=["Welding"])
    db.close()
    ds = make_datasette(small_db, pages=True)

    async def run():
        page = (await ds.client.get("/program/1?subject=Math")).text
        link = '/program/1?subject=Math&amp;domain=%28no+domain%29#certifies'
        assert f'<a href="{link}">(no domain)</a>' in page, page
        listed = (await ds.client.get("/program/1?subject=Math&domain=%28no+domain%29")).text
        geometry = (await ds.client.get("/program/1?subject=Math&domain=Geometry")).text
        gaps = (await ds.client.get("/gaps?program=1&subject=Math&domain=%28no+domain%29")).text
        return listed, geometry, gaps
    listed, geometry, gaps = asyncio.run(run())
    assert "M.2" in listed and "N-Q.1" in listed and "M.1" not in listed
    assert "M.1" in geometry and "M.2" not in geometry
    assert "M.2" in gaps and "M.1" not in gaps


# Datasette's templates that crosswalk/templates holds a whole copy of, each with a few changes (its
# header lists them), and the sha256 (first 16 hex digits) of the Datasette file each was copied
# from, Datasette 0.65.5's. A copy overrides the installed Datasette's template, so a Datasette
# that changes one would be served the old one unseen.
COPIED_TEMPLATES = {
    "base.html": "bb22df33caea147e",
    "table.html": "81cec4b0f7948bf0",
    "query.html": "bc3559df0e209da9",
    "database.html": "4fd5e97823bb5380",
    "_codemirror_foot.html": "57f0251b9c1fbe03",
    "_table.html": "f75a8872713f28fd",
}


def test_the_datasette_templates_crosswalk_copies_are_the_installed_datasettes():
    """pyproject pins Datasette below 1.0, not to 0.65.5: where an installed Datasette's template
    differs from the one crosswalk copied, copy it again with the changes its copy's header lists."""
    import hashlib

    import datasette

    from crosswalk.site import TEMPLATES

    installed = pathlib.Path(datasette.__file__).parent / "templates"
    changed = {name: hashlib.sha256((installed / name).read_bytes()).hexdigest()[:16]
               for name in COPIED_TEMPLATES}
    assert changed == COPIED_TEMPLATES, "copy these again from Datasette's templates: " + ", ".join(
        name for name in COPIED_TEMPLATES if changed[name] != COPIED_TEMPLATES[name])
    assert all((pathlib.Path(TEMPLATES) / name).exists() for name in COPIED_TEMPLATES)
