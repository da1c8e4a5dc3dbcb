import asyncio
import os
import pathlib
import re
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
from datasette_auth_passwords.utils import hash_password
from playwright.sync_api import sync_playwright

from crosswalk.cli import cli
from crosswalk.db import _serving_lock_path, being_served, open_db
from crosswalk.errors import CrosswalkError
from crosswalk.programs import add_program
from crosswalk import review
from crosswalk.review import decide
from crosswalk.review_site import load_reviewers, make_review_datasette

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
FAST_HASH = hash_password("correct horse", iterations=1000)  # quick to check in tests


def state(path, alignment_id):
    return sqlite3.connect(path).execute(
        "select status, strength, rationale, reviewer from alignments where id = ?", [alignment_id]).fetchone()


def log_count(path):
    return sqlite3.connect(path).execute("select count(*) from review_log").fetchone()[0]


@pytest.fixture
def review_db(small_db):
    db = open_db(small_db)
    add_program(db, "Welding Technology", cip_code="48.0508", frameworks=["Welding"])
    db.close()
    return small_db


@pytest.fixture
def ds(review_db):
    return make_review_datasette(review_db, reviewers={"alice": {"name": "Alice Martin", "password_hash": FAST_HASH}})


def actor_cookie(ds, actor=None):
    return "ds_actor=" + ds.crosswalk_sessions.cookie(ds, actor or {"id": "alice", "roles": ["reviewer"]})


async def form_token(ds, cookie, alignment_id=1):
    page = await ds.client.get(f"/-/review/{alignment_id}", headers={"cookie": cookie})
    assert page.status_code == 200
    field = re.search(r'name="csrftoken" value="([^"]+)"', page.text).group(1)
    return page, field, page.cookies.get("ds_csrftoken")


def test_reviewers_from_file_and_environment(tmp_path):
    path = tmp_path / "reviewers.yml"
    path.write_text(f"reviewers:\n  alice:\n    name: Alice Martin\n    password_hash: {FAST_HASH}\n"
                    f"  bob: {FAST_HASH}\n", encoding="utf-8")
    env = {"CROSSWALK_REVIEWER_CAROL_PASSWORD_HASH": FAST_HASH}
    reviewers = load_reviewers(path, environ=env)
    assert reviewers == {"alice": {"name": "Alice Martin", "password_hash": FAST_HASH},
                         "bob": {"name": "bob", "password_hash": FAST_HASH},
                         "carol": {"name": "carol", "password_hash": FAST_HASH}}
    assert set(load_reviewers(environ={"CROSSWALK_REVIEWERS_FILE": str(path)})) == {"alice", "bob"}
    path.write_text("reviewers:\n  alice: hunter2\n", encoding="utf-8")
    with pytest.raises(CrosswalkError, match="never the password itself"):
        load_reviewers(path, environ={})
    with pytest.raises(CrosswalkError, match="no reviewers are configured"):
        make_review_datasette(tmp_path / "x.db", environ={})


def test_the_review_site_keeps_the_hashes_out_of_the_process_environment(review_db):
    before = dict(os.environ)
    ds = make_review_datasette(review_db, reviewers={"alice": {"name": "Alice Martin", "password_hash": FAST_HASH}})
    assert dict(os.environ) == before
    # datasette-auth-passwords finds the hash; /-/metadata shows only where it is looked up.
    assert ds.plugin_config("datasette-auth-passwords")["alice_password_hash"] == FAST_HASH
    assert "$env" in str(ds.metadata("plugins")["datasette-auth-passwords"]["alice_password_hash"])


def test_serve_review_cli_checks_reviewers(runner, review_db, tmp_path, monkeypatch):
    for key in list(os.environ):
        if key.startswith("CROSSWALK_REVIEWER"):
            monkeypatch.delenv(key)
    result = runner.invoke(cli, ["serve", str(review_db), "--review"])
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: no reviewers are configured: give --reviewers FILE")
    result = runner.invoke(cli, ["serve", str(review_db), "--reviewers", str(review_db)])
    assert result.exit_code == 2 and "--reviewers is for the review site: add --review" in result.stderr
    result = runner.invoke(cli, ["review", "password-hash", "--password", "s3cret"])
    assert result.exit_code == 0 and result.stdout.startswith("pbkdf2_sha256$")


def test_sign_in_and_permissions(ds, review_db):
    async def run():
        c = ds.client
        # Anonymous visitors are sent to sign in, and see nothing.
        home = await c.get("/")
        assert home.status_code == 302 and home.headers["location"] == "/-/login"
        assert (await c.get("/small/alignments.json")).status_code in (302, 403)
        # Real sign-in through datasette-auth-passwords.
        login = await c.get("/-/login")
        token = re.search(r'name="csrftoken" value="([^"]+)"', login.text).group(1)
        bad = await c.post("/-/login", data={"username": "alice", "password": "wrong", "csrftoken": token},
                           headers={"cookie": f"ds_csrftoken={login.cookies['ds_csrftoken']}"})
        assert "Invalid username or password" in bad.text and "ds_actor" not in bad.cookies
        good = await c.post("/-/login", data={"username": "alice", "password": "correct horse", "csrftoken": token},
                            headers={"cookie": f"ds_csrftoken={login.cookies['ds_csrftoken']}"})
        assert good.status_code == 302
        cookie = f"ds_actor={good.cookies['ds_actor']}"
        assert (await c.get("/-/actor.json", headers={"cookie": cookie})).json()["actor"] == {
            "id": "alice", "name": "Alice Martin", "roles": ["reviewer"]}
        # The hashes are never shown.
        metadata = await c.get("/-/metadata.json", headers={"cookie": cookie})
        assert metadata.status_code == 200 and "pbkdf2" not in metadata.text

        page, field, csrf_cookie = await form_token(ds, cookie, 1)
        form = {"alignment_id": "1", "source_id": "1", "target_id": "", "decision": "accept", "strength": "full",
                "rationale": "Calipers measure quantities"}
        row = sqlite3.connect(review_db).execute("select source_id, target_id from alignments where id = 1").fetchone()
        form.update(source_id=str(row[0]), target_id=str(row[1]))
        before = state(review_db, 1)
        # Anonymous: refused.
        response = await c.post("/small/review_alignment", data=form)
        assert response.status_code == 403
        # Signed in but without the CSRF token: refused.
        response = await c.post("/small/review_alignment", data=form, headers={"cookie": f"{cookie}; ds_csrftoken={csrf_cookie}"})
        assert response.status_code == 403
        # Signed in, not a reviewer: refused.
        outsider = actor_cookie(ds, {"id": "mallory"})
        response = await c.post("/small/review_alignment", data=dict(form, csrftoken=field),
                                headers={"cookie": f"{outsider}; ds_csrftoken={csrf_cookie}"})
        assert response.status_code == 403
        assert state(review_db, 1) == before and log_count(review_db) == 0
        # A reviewer with the token: recorded, and logged by the trigger.
        response = await c.post("/small/review_alignment", data=dict(form, csrftoken=field),
                                headers={"cookie": f"{cookie}; ds_csrftoken={csrf_cookie}"})
        assert response.status_code == 302 and response.headers["location"] == "/-/review"
        assert state(review_db, 1) == ("accepted", "full", "Calipers measure quantities", "alice")
        entry = sqlite3.connect(review_db).execute(
            "select action, old_status, new_status, new_strength, reviewer, via from review_log").fetchall()
        assert entry == [("accept", "suggested", "accepted", "full", "alice", "site")]

        async def post(query, **data):
            r = await c.post(f"/small/{query}", data=dict(data, csrftoken=field, _json="1"),
                             headers={"cookie": f"{cookie}; ds_csrftoken={csrf_cookie}"})
            return r.json()

        assert (await post("set_strength", alignment_id="1", strength="partial"))["ok"]
        assert (await post("set_rationale", alignment_id="1", rationale="Only metric"))["ok"]
        assert (await post("reject_alignment", alignment_id="2", rationale="No"))["ok"]
        assert (await post("accept_alignment", alignment_id="3", strength="", rationale=""))["ok"]
        assert (await post("comment_on_alignment", alignment_id="1", comment="Ask math"))["ok"]
        bad_strength = await post("set_strength", alignment_id="1", strength="very")
        assert bad_strength == {"ok": False, "message": "the strength must be full or partial, not 'very'",
                                "redirect": None}
        missing = await post("comment_on_alignment", alignment_id="999", comment="x")
        assert missing == {"ok": False, "message": "there is no alignment with id 999", "redirect": None}
        unknown = await post("reject_alignment", alignment_id="999", rationale="x")
        assert unknown == {"ok": False, "message": "there is no alignment with id 999", "redirect": None}
        rows = sqlite3.connect(review_db).execute(
            "select alignment_id, action, reviewer, via, comment from review_log order by id").fetchall()
        assert rows == [(1, "accept", "alice", "site", None), (1, "set strength", "alice", "site", None),
                        (1, "set rationale", "alice", "site", None), (2, "reject", "alice", "site", None),
                        (3, "accept", "alice", "site", None), (1, "comment", "alice", "site", "Ask math")]
        assert state(review_db, 1) == ("accepted", "partial", "Only metric", "alice")
        # One time format (issue 16): the site's times are the CLI's, +00:00, not Datasette's Z.
        conn = sqlite3.connect(review_db)
        times = [r[0] for r in conn.execute("select at from review_log")]
        times += [r[0] for r in conn.execute("select reviewed_at from alignments where reviewer = 'alice'")]
        times += [r[0] for r in conn.execute("select at from review_comments")]
        assert len(times) == 6 + 3 + 1 and all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", t) for t in times), times
        # Turned round with the rationale the acceptance had (what a form shows): it is not kept under
        # the rejection, through the canned query as through crosswalk's own pages (review.DECIDE).
        assert (await post("reject_alignment", alignment_id="1", rationale="Only metric "))["ok"]
        assert state(review_db, 1) == ("rejected", None, None, "alice")
    asyncio.run(run())


def test_queue_filters_and_prefilled_form(ds, review_db):
    db = open_db(review_db)
    db.execute("update alignments set status = 'accepted', strength = 'partial', rationale = 'ok' where id = 2")
    db.conn.commit()
    suggested = db.execute("select count(*) from alignments where status = 'suggested'").fetchone()[0]
    math = db.execute("select count(*) from alignments a join standards t on t.id = a.target_id "
                      "where a.status = 'suggested' and t.subject = 'Math'").fetchone()[0]

    async def run():
        cookie = actor_cookie(ds)
        queue = await ds.client.get("/-/review", headers={"cookie": cookie})
        assert queue.status_code == 200
        assert queue.text.count('class="review-link"') == suggested
        # Each standard links to its page, where all of its suggestions are listed to be decided.
        first = db.execute("select target_id, t.code from alignments a join standards t on t.id = a.target_id "
                           "where a.status = 'suggested' order by a.score desc, a.id limit 1").fetchone()
        assert f'<a class="xw-code" href="/standard/{first[0]}"><strong>{first[1]}</strong></a>' in queue.text
        standard = await ds.client.get(f"/standard/{first[0]}", headers={"cookie": cookie})
        awaiting = db.execute("select count(*) from alignments where status = 'suggested' and target_id = ?",
                              [first[0]]).fetchone()[0]
        assert "Suggestions awaiting review" in standard.text
        assert standard.text.count('name="alignment_id"') == min(awaiting, 20)  # one decision form each
        scores = [float(s) for s in re.findall(r"<td>(\d+\.\d)% \(", queue.text)]
        assert len(scores) == suggested
        assert scores == sorted(scores, reverse=True)  # best first
        assert '<option value="Welding Technology">' in queue.text and '<option value="Math">' in queue.text
        only_math = await ds.client.get("/-/review?program=Welding+Technology&subject=Math", headers={"cookie": cookie})
        assert only_math.text.count('class="review-link"') == math
        assert f"<strong>{math}</strong> suggestions awaiting review in Welding Technology (Math)." in only_math.text
        assert f"<strong>{math}</strong> suggestions awaiting review (Math)." in (await ds.client.get(
            "/-/review?subject=Math", headers={"cookie": cookie})).text
        assert f"<strong>{suggested}</strong> suggestions awaiting review." in queue.text
        # A program named in another case is the program, as on the command line.
        other_case = await ds.client.get("/-/review?program=welding+technology&subject=Math", headers={"cookie": cookie})
        assert other_case.status_code == 200 and other_case.text.count('class="review-link"') == math
        unknown = await ds.client.get("/-/review?program=Other", headers={"cookie": cookie})
        assert unknown.status_code == 404 and "There is no program named “Other”." in unknown.text
        for missing in ("abc", "999999"):
            page = await ds.client.get(f"/-/review/{missing}", headers={"cookie": cookie})
            assert page.status_code == 404 and f"There is no alignment number “{missing}”." in page.text
        # Past the last page (as after deciding its last suggestion), the last page there is; a page
        # that is not a number is not there, as on the program pages.
        past = await ds.client.get("/-/review?page=7", headers={"cookie": cookie})
        assert past.status_code == 200 and past.text.count('class="review-link"') == suggested
        for bad in ("x", "0"):
            missing = await ds.client.get(f"/-/review?page={bad}", headers={"cookie": cookie})
            assert missing.status_code == 404 and f"“{bad}” is not a page number." in missing.text
        # A standard's grades read as on every other page ("Grades 9–12"), not as the file wrote them.
        from crosswalk.text import grade_label
        labels = {grade_label(low, high, raw) for low, high, raw in db.execute(
            "select t.grade_low, t.grade_high, t.grade from alignments a join standards t on t.id = a.target_id "
            "where a.status = 'suggested' and t.grade is not null")}
        assert labels and all(f"({label})" in queue.text for label in labels) and "(grade " not in queue.text
        target = db.execute("select t.grade_low, t.grade_high, t.grade from alignments a join standards t "
                            "on t.id = a.target_id where a.id = 2").fetchone()
        form = await ds.client.get("/-/review/2", headers={"cookie": cookie})
        assert target[2] is None or f", {grade_label(*target)}</small>" in form.text
        assert '<option value="accept" selected>accept</option>' in form.text
        assert 'value="partial" selected' in form.text
        assert '<textarea name="rationale" id="rationale">ok</textarea>' in form.text
        assert (await ds.client.get("/-/review/999", headers={"cookie": cookie})).status_code == 404
        assert (await ds.client.get("/-/review")).status_code == 302
    asyncio.run(run())


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.skipif(not pathlib.Path(CHROMIUM).exists(), reason="Chromium is not installed (.ci/run installs it)")
def test_sign_in_returns_to_the_page_of_this_site_it_was_asked_from():
    from crosswalk.text import local_path as _local_path

    assert _local_path("/program/3?subject=Math") == "/program/3?subject=Math"
    for elsewhere in ("https://evil.example/", "//evil.example/x", "/\\evil.example", "program/3", "", None,
                      "/x\r\nSet-Cookie: a=b"):
        assert _local_path(elsewhere) is None


@pytest.mark.long
def test_browser_sign_in_and_accept(review_db, tmp_path):
    reviewers = tmp_path / "reviewers.yml"
    reviewers.write_text(f"reviewers:\n  alice:\n    name: Alice Martin\n    password_hash: {FAST_HASH}\n",
                         encoding="utf-8")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CROSSWALK_REVIEWER")}
    server = subprocess.Popen([sys.executable, "-m", "crosswalk.cli", "serve", str(review_db), "--review",
                               "--reviewers", str(reviewers), "--port", str(port)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 30
        while True:
            try:
                urllib.request.urlopen(base + "/-/login", timeout=2)
                break
            except OSError:
                if time.time() > deadline or server.poll() is not None:
                    pytest.fail(server.stderr.read().decode() if server.poll() is not None else "no server")
                time.sleep(0.3)
        row = sqlite3.connect(review_db).execute(
            "select id, source_id, target_id from alignments where status = 'suggested' order by score desc, id "
            "limit 1").fetchone()
        alignment_id = row[0]
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page()
                page.goto(base + "/-/review")
                assert page.url == base + "/-/login?next=%2F-%2Freview"  # sent to sign in
                page.fill("input[name=username]", "alice")
                page.fill("input[name=password]", "correct horse")
                page.click("input[type=submit]")
                # A click need not wait for the navigation it starts: wait for the signed-in page. Signed in,
                # the reviewer is back on the queue they asked for.
                page.wait_for_url(base + "/-/review")
                page.click("a.review-link >> nth=0")  # the best suggestion
                page.wait_for_url(f"{base}/-/review/{alignment_id}")
                page.select_option("#decision", "accept")
                page.select_option("#strength", "partial")
                page.fill("#rationale", "Students measure parts with calipers")
                with page.expect_navigation():
                    page.click("#decision-form input[type=submit]")
                assert page.url == f"{base}/-/review/{alignment_id}"  # back on the alignment, saying what was done
                assert page.inner_text(".xw-message").startswith(f"Recorded: alignment {alignment_id} (")
                assert "is now accepted, partial, \"Students measure parts with calipers\"" in page.inner_text(
                    ".xw-message")
                with page.expect_navigation():
                    page.click("#decision-form input[type=submit]")  # the same again: nothing changes, said calmly
                assert page.inner_text(".xw-message").startswith(f"No change: alignment {alignment_id} (")
                assert page.inner_text("#current-status") == "accepted"
                assert "Students measure parts with calipers" in page.inner_text("table")

                # The same POST from the signed-in browser but without the CSRF token: 403.
                form = {"alignment_id": str(alignment_id), "source_id": str(row[1]), "target_id": str(row[2]),
                        "decision": "reject", "strength": "", "rationale": "forged"}
                forged = page.request.post(base + "/small/review_alignment", form=form)
                assert forged.status == 403
                # On a phone the queue's filter labels are whole (Datasette's CSS gave form labels 15% of
                # the width: "Progra"), and the page does not scroll sideways.
                page.set_viewport_size({"width": 375, "height": 800})
                page.goto(base + "/-/review")
                for label in ("program", "subject"):
                    clipped = page.eval_on_selector(f"label[for={label}]", "e => e.scrollWidth > e.clientWidth")
                    assert not clipped, label
                assert page.evaluate("document.documentElement.scrollWidth") <= 375
            finally:
                browser.close()
        # And anonymously (no cookies at all): 403.
        request = urllib.request.Request(base + "/small/review_alignment",
                                         data=urllib.parse.urlencode(form).encode(), method="POST")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10)
        assert refused.value.code == 403
        assert state(review_db, alignment_id) == ("accepted", "partial", "Students measure parts with calipers",
                                                  "alice")
        log = sqlite3.connect(review_db).execute("select action, reviewer, via from review_log").fetchall()
        assert log == [("accept", "alice", "site")]
    finally:
        server.terminate()
        server.wait(10)
    # Stopped (SIGTERM: uvicorn ends the process by the signal, so its own clean-up never runs), it no
    # longer serves the database, and the check removes the mark it left in the temporary folder.
    assert not being_served(review_db)
    assert not _serving_lock_path(review_db).exists()


def test_the_alignment_page_says_why_it_was_flagged(ds, review_db):
    conn = sqlite3.connect(review_db)
    conn.execute("update alignments set status = 'accepted', strength = 'full' where id = 1")
    conn.execute("update alignments set needs_review = 1, needs_review_reason = 'statement changed on re-import' "
                 "where id = 1")
    conn.commit()
    page = asyncio.run(ds.client.get("/-/review/1", headers={"cookie": actor_cookie(ds)}))
    assert page.status_code == 200
    assert "flagged for re-review: statement changed on re-import" in page.text
    # First in the queue, whatever its score: it certifies nothing until decided again.
    lowest = conn.execute("select min(score) from alignments where status = 'suggested'").fetchone()[0]
    conn.execute("update alignments set score = ? where id = 1", [lowest - 1])
    conn.commit()
    queue = asyncio.run(ds.client.get("/-/review", headers={"cookie": actor_cookie(ds)}))
    assert re.findall(r'href="/-/review/(\d+)"', queue.text)[0] == "1"


async def sign_in(c, username, password="correct horse", headers=None, address=None):
    login = await c.get("/-/login")
    token = re.search(r'name="csrftoken" value="([^"]+)"', login.text).group(1)
    return await c.post("/-/login", data={"username": username, "password": password, "csrftoken": token},
                        headers={"cookie": f"ds_csrftoken={login.cookies['ds_csrftoken']}", **(headers or {})})


def test_a_removed_or_disabled_reviewer_is_signed_out_at_once(review_db, tmp_path):
    path = tmp_path / "reviewers.yml"
    path.write_text(f"reviewers:\n  alice: {FAST_HASH}\n  bob: {FAST_HASH}\n", encoding="utf-8")
    ds = make_review_datasette(review_db, reviewers_file=path, secret="one secret, never changed")

    async def run():
        c = ds.client
        cookies = {}
        for name in ("alice", "bob"):
            signed_in = await sign_in(c, name)
            assert signed_in.status_code == 302
            cookies[name] = f"ds_actor={signed_in.cookies['ds_actor']}"
            assert (await c.get("/-/review", headers={"cookie": cookies[name]})).status_code == 200
        # bob is removed, alice disabled: their cookies stop working on the next request.
        path.write_text(f"reviewers:\n  alice:\n    password_hash: {FAST_HASH}\n    disabled: true\n"
                        f"  carol: {FAST_HASH}\n", encoding="utf-8")
        for name in ("alice", "bob"):
            page = await c.get("/-/review", headers={"cookie": cookies[name]})
            assert page.status_code == 302 and page.headers["location"] == "/-/login?next=%2F-%2Freview", name
            _, field, csrf = await form_token(ds, actor_cookie(ds, {"id": "carol", "roles": ["reviewer"]}))
            refused = await c.post("/small/reject_alignment", data={"alignment_id": "1", "rationale": "x",
                                                                     "csrftoken": field},
                                   headers={"cookie": f"{cookies[name]}; ds_csrftoken={csrf}"})
            assert refused.status_code == 403, name
            assert (await sign_in(c, name)).status_code == 200  # and cannot sign in again
        assert log_count(review_db) == 0
        # A reviewer added to the file can sign in without a restart.
        assert (await sign_in(c, "carol")).status_code == 302
    asyncio.run(run())


def test_the_session_cookie_expires_and_is_httponly(ds):
    async def run():
        c = ds.client
        signed_in = await sign_in(c, "alice")
        cookie = signed_in.headers["set-cookie"]
        assert "HttpOnly" in cookie and "Max-Age=43200" in cookie and "Secure" not in cookie
        assert "Secure" in (await sign_in(c, "alice", headers={"x-forwarded-proto": "https"})).headers["set-cookie"]
        # A cookie without an expiry (as the site signed them before) signs in nobody.
        old = "ds_actor=" + ds.sign({"a": {"id": "alice", "roles": ["reviewer"]}}, "actor")
        assert (await c.get("/-/review", headers={"cookie": old})).status_code == 302
        expired = "ds_actor=" + ds.sign({"a": {"id": "alice", "roles": ["reviewer"]}, "e": "1"}, "actor")
        assert (await c.get("/-/review", headers={"cookie": expired})).status_code == 302
        fresh = f"ds_actor={signed_in.cookies['ds_actor']}"
        assert (await c.get("/-/review", headers={"cookie": fresh})).status_code == 200
    asyncio.run(run())


def test_sign_in_needs_the_csrf_token(ds):
    async def run():
        response = await ds.client.post("/-/login", data={"username": "alice", "password": "correct horse"})
        assert response.status_code == 403 and "ds_actor" not in response.cookies
    asyncio.run(run())


def test_failed_sign_ins_slow_down_guessing(ds):
    now = [1000.0]
    ds.crosswalk_sessions.limits.clock = lambda: now[0]

    async def run():
        c = ds.client
        for _ in range(5):
            assert "Invalid username or password" in (await sign_in(c, "alice", "wrong")).text
        # The sixth failure makes the account wait 2 seconds; even the right password is not checked meanwhile.
        assert (await sign_in(c, "alice", "wrong")).status_code == 200
        refused = await sign_in(c, "alice")
        assert refused.status_code == 429 and refused.headers["retry-after"] == "3"
        assert "Too many failed sign-ins" in refused.text and "ds_actor" not in refused.cookies
        now[0] += 3
        assert (await sign_in(c, "alice", "wrong")).status_code == 200  # the seventh: 4 seconds
        now[0] += 2
        assert (await sign_in(c, "alice")).status_code == 429
        now[0] += 3
        assert (await sign_in(c, "alice")).status_code == 302  # and a success forgets the failures
        assert (await sign_in(c, "alice", "wrong")).status_code == 200
        # A name that is no reviewer's is slowed down just the same: a 429 tells no one which names exist.
        for _ in range(6):
            assert (await sign_in(c, "nobody", "wrong")).status_code == 200
        assert (await sign_in(c, "nobody", "wrong")).status_code == 429
        # Per address too: many names guessed from one address.
        for i in range(20):
            await sign_in(c, f"guess{i}", "x")
        assert (await sign_in(c, "alice")).status_code == 429
    asyncio.run(run())



def test_the_password_check_does_not_block_the_site(review_db):
    slow = hash_password("correct horse", iterations=300_000)
    ds = make_review_datasette(review_db, reviewers={"alice": {"name": "Alice", "password_hash": slow}})

    async def run():
        c = ds.client
        login = await c.get("/-/login")
        token = re.search(r'name="csrftoken" value="([^"]+)"', login.text).group(1)
        signing_in = asyncio.create_task(c.post(
            "/-/login", data={"username": "alice", "password": "correct horse", "csrftoken": token},
            headers={"cookie": f"ds_csrftoken={login.cookies['ds_csrftoken']}"}))
        answered = 0
        while not signing_in.done():
            await asyncio.sleep(0)  # let the sign-in run (ds.client's requests never wait on the loop)
            assert (await c.get("/-/login")).status_code == 200
            answered += 1
        assert (await signing_in).status_code == 302
        # Others were answered while the password was checked (checked on the loop, only 1 would be).
        assert answered >= 5
    asyncio.run(run())


def test_decide_and_sign_off_from_the_pages(ds, review_db):
    conn = sqlite3.connect(review_db)
    program = conn.execute("select id from programs").fetchone()[0]
    best, source, target = conn.execute(
        "select id, source_id, target_id from alignments where status = 'suggested' order by score desc, id "
        "limit 1").fetchone()

    async def run():
        c = ds.client
        cookie = actor_cookie(ds)
        page = await c.get(f"/program/{program}/review", headers={"cookie": cookie})
        assert page.status_code == 200 and f'id="a{best}"' in page.text and 'action="/-/decide"' in page.text
        field = re.search(r'name="csrftoken" value="([^"]+)"', page.text).group(1)
        csrf = page.cookies.get("ds_csrftoken")
        signed = {"cookie": f"{cookie}; ds_csrftoken={csrf}"}
        form = {"alignment_id": str(best), "source_id": str(source), "target_id": str(target), "decision": "partial",
                "rationale": "Only the measuring part", "next": f"/program/{program}/review"}
        # Without the CSRF token, or not signed in: refused, nothing written.
        assert (await c.post("/-/decide", data=form, headers=signed)).status_code == 403
        signed_out = await c.post("/-/decide", data=dict(form, csrftoken=field))  # to sign in, and back
        assert signed_out.status_code == 302 and signed_out.headers["location"] == (
            "/-/login?next=" + urllib.parse.quote(f"/program/{program}/review", safe=""))
        assert log_count(review_db) == 0
        # A pair that no longer matches (match replaced the suggestion): not saved, and said so.
        stale = await c.post("/-/decide", data=dict(form, target_id="999999", csrftoken=field), headers=signed)
        assert stale.status_code == 302 and state(review_db, best)[0] == "suggested"
        shown = await c.get(stale.headers["location"], headers={"cookie": f"{signed['cookie']}; ds_messages="
                                                                          f"{stale.cookies['ds_messages']}"})
        assert "Not saved: this suggestion was replaced by a new match" in shown.text
        # Accept as partial, with a rationale: review.decide's rule, logged as a site decision.
        saved = await c.post("/-/decide", data=dict(form, csrftoken=field), headers=signed)
        assert saved.status_code == 302 and saved.headers["location"] == f"/program/{program}/review"
        assert state(review_db, best) == ("accepted", "partial", "Only the measuring part", "alice")
        assert sqlite3.connect(review_db).execute(
            "select action, new_status, new_strength, reviewer, via from review_log").fetchall() == [
            ("accept", "accepted", "partial", "alice", "site")]
        # Only a path on this site is a place to go back to.
        away = await c.post("/-/decide", data=dict(form, decision="reject", next="https://evil.example/",
                                                   csrftoken=field), headers=signed)
        assert away.headers["location"] == "/" and state(review_db, best)[0] == "rejected"
        # Sign-off, by the rule `crosswalk approve` follows (programs.set_status), with its warnings.
        status = await c.post("/-/program-status", data={"program_id": str(program), "status": "approved",
                                                         "csrftoken": field}, headers=signed)
        assert status.status_code == 302 and status.headers["location"] == f"/program/{program}"
        name, waiting = sqlite3.connect(review_db).execute(
            "select program, suggested from program_progress where program_id = ?", [program]).fetchone()
        told = await c.get(f"/program/{program}",
                           headers={"cookie": f"{cookie}; ds_messages={status.cookies['ds_messages']}"})
        assert "The status is now: approved." in told.text
        assert f"{name} has {waiting} suggestions still awaiting review." in told.text and waiting > 1
        row = sqlite3.connect(review_db).execute("select status, status_by from programs where id = ?",
                                                 [program]).fetchone()
        assert row == ("approved", "alice")
        assert sqlite3.connect(review_db).execute(
            "select action, new_status, reviewer, via from review_log where program_id = ? and alignment_id is null",
            [program]).fetchall() == [("approve", "approved", "alice", "site")]
        bad = await c.post("/-/program-status", data={"program_id": str(program), "status": "done",
                                                      "csrftoken": field}, headers=signed)
        assert bad.status_code == 302 and sqlite3.connect(review_db).execute(
            "select status from programs where id = ?", [program]).fetchone()[0] == "approved"
        shown = await c.get(f"/program/{program}", headers={"cookie": cookie})
        assert re.search(r"Status: <span[^>]*>Approved by alice on \d{4}-\d\d-\d\d</span>", shown.text)
    asyncio.run(run())


def test_the_demo_reviewer_is_made_for_one_run(review_db):
    from datasette_auth_passwords.utils import verify_password

    from crosswalk.review_site import session_reviewer
    first, password = session_reviewer("director")
    second, other = session_reviewer("director")
    assert password != other and len(password) >= 16
    assert verify_password(password, first["director"]["password_hash"])
    assert not verify_password(password, second["director"]["password_hash"])
    # The demo's site: anyone reads, only the signed-in reviewer writes.
    ds = make_review_datasette(review_db, reviewers=first, open_reading=True)

    async def run():
        assert (await ds.client.get("/")).status_code == 200
        assert "Sign in to review" in (await ds.client.get("/")).text
        assert (await ds.client.post("/small/reject_alignment", data={"alignment_id": "1"})).status_code == 403
        assert (await sign_in(ds.client, "director", password)).status_code == 302
    asyncio.run(run())


def test_a_page_left_open_does_not_overwrite_a_decision_made_since_and_odd_ids_are_not_found(ds, review_db):
    """The alignment page and the program's review page send back the decision they showed: where another
    reviewer decided since, nothing is saved and the page says so. The alignment page's decision and
    comment go through the same rules as every other (control characters left out); ids no row can have,
    and page numbers past any list, are the site's 404, not a server error."""
    conn = sqlite3.connect(review_db)
    program = conn.execute("select id from programs").fetchone()[0]
    best = conn.execute("select id from alignments where status = 'suggested' order by score desc, id").fetchone()[0]
    conn.close()

    async def run():
        c = ds.client
        cookie = actor_cookie(ds)
        queue = await c.get("/-/review?program=Welding+Technology&page=1", headers={"cookie": cookie})
        assert f'href="/-/review/{best}?back=/-/review%3Fprogram%3DWelding%2BTechnology%26page%3D1"' in queue.text
        # The alignment page leads back to the queue as it was, and only to a path of this site.
        back = await c.get(f"/-/review/{best}?back=/-/review%3Fprogram%3DWelding%2BTechnology%26page%3D1",
                           headers={"cookie": cookie})
        assert '<a href="/-/review?program=Welding+Technology&amp;page=1">&larr; Review queue</a>' in back.text
        away = await c.get(f"/-/review/{best}?back=https://evil.example/", headers={"cookie": cookie})
        assert '<a href="/-/review">&larr; Review queue</a>' in away.text
        page = await c.get(f"/-/review/{best}", headers={"cookie": cookie})
        assert page.status_code == 200 and 'name="seen" value="suggested@"' in page.text
        field = re.search(r'name="csrftoken" value="([^"]+)"', page.text).group(1)
        signed = {"cookie": f"{cookie}; ds_csrftoken={page.cookies.get('ds_csrftoken')}"}
        form = {"alignment_id": str(best), "decision": "reject", "strength": "", "rationale": "Not\x01 math",
                "rationale_shown": "1", "seen": "suggested@", "next": f"/-/review/{best}", "csrftoken": field}
        # Bob decides on the command line while Alice's page is open.
        db = open_db(review_db)
        decide(db, best, "accept", strength="full", rationale="Measuring", reviewer="bob")
        db.close()
        refused = await c.post("/-/decide", data=form, headers=signed)
        assert refused.status_code == 302 and refused.headers["location"] == f"/-/review/{best}"
        assert state(review_db, best) == ("accepted", "full", "Measuring", "bob")
        shown = await c.get(refused.headers["location"], headers={
            "cookie": f"{signed['cookie']}; ds_messages={refused.cookies['ds_messages']}"})
        assert "was changed by bob after this page was shown: it is now accepted, full, &#34;Measuring&#34;" in shown.text
        assert "Nothing was saved" in shown.text and 'name="seen" value="accepted@' in shown.text
        # From the page as it is now: saved, the control character left out.
        form["seen"] = re.search(r'name="seen" value="([^"]+)"', shown.text).group(1)
        saved = await c.post("/-/decide", data=form, headers=signed)
        assert saved.status_code == 302 and state(review_db, best) == ("rejected", None, "Not math", "alice")
        commented = await c.post("/-/comment", data={"alignment_id": str(best), "comment": "Ask\x07 math",
                                                     "next": f"/-/review/{best}", "csrftoken": field}, headers=signed)
        assert commented.status_code == 302
        assert sqlite3.connect(review_db).execute("select comment, reviewer, via from review_comments").fetchall() == [
            ("Ask math", "alice", "site")]
        for path in ("/-/review/%C2%B2", "/-/review/99999999999999999999999", "/program/99999999999999999999",
                     "/standard/" + "1" * 5000,  # past the digits Python converts: a ValueError, a 500
                     "/standard/99999999999999999999", "/standard/1?page=99999999999999999999",
                     f"/program/{program}/review?page=99999999999999999999"):
            assert (await c.get(path, headers={"cookie": cookie})).status_code == 404, path

    asyncio.run(run())


def test_a_suggestion_given_a_rationale_can_still_be_decided_from_the_pages(ds, review_db):
    """A rationale set on a suggestion is a change logged for it: the review page's form sends that back,
    so the decision goes through (the page sent 'suggested@', and every decision was refused as made
    since)."""
    conn = sqlite3.connect(review_db)
    program = conn.execute("select id from programs").fetchone()[0]
    best, source, target = conn.execute("select id, source_id, target_id from alignments where status = 'suggested' "
                                        "order by score desc, id").fetchone()
    conn.execute("update alignments set rationale = 'Check the units', reviewer = 'bob', review_via = 'site', "
                 "reviewed_at = '2026-11-30T07:00:00+00:00' where id = ?", [best])
    conn.commit()
    conn.close()

    async def run():
        c = ds.client
        cookie = actor_cookie(ds)
        page = await c.get(f"/program/{program}/review", headers={"cookie": cookie})
        form_html = page.text[page.text.index(f'id="a{best}"'):]
        seen = re.search(r'name="seen" value="([^"]+)"', form_html).group(1)
        # Once decided, the page comes back to the suggestion listed next (this one leaves the list).
        listed = re.findall(r'<li id="a(\d+)" class="xw-suggestion">', page.text)
        after = listed[listed.index(str(best)) + 1]
        assert re.search(r'name="next" value="([^"]+)"', form_html).group(1) == f"/program/{program}/review#a{after}"
        logged = sqlite3.connect(review_db).execute(
            "select max(id) from review_log where alignment_id = ? and action != 'comment'", [best]).fetchone()[0]
        assert logged is not None and seen == f"suggested@{logged}"  # (the rationale's log row)
        field = re.search(r'name="csrftoken" value="([^"]+)"', page.text).group(1)
        signed = {"cookie": f"{cookie}; ds_csrftoken={page.cookies.get('ds_csrftoken')}"}
        saved = await c.post("/-/decide", data={"alignment_id": str(best), "source_id": str(source),
                                                "target_id": str(target), "decision": "partial", "seen": seen,
                                                "next": f"/program/{program}/review", "csrftoken": field},
                             headers=signed)
        assert saved.status_code == 302
        assert state(review_db, best) == ("accepted", "partial", "Check the units", "alice")

    asyncio.run(run())


def test_a_page_shown_before_a_flag_a_flip_and_a_reused_id_are_handled_as_the_other_ways_do(ds, review_db):
    """Found by an audit of the review site: a page shown before an import flagged the decision for
    re-review confirmed it (a judgement on a statement that has since changed); turning an accepted
    alignment into a rejected one on its page kept the acceptance's reason under the new reviewer's
    name (the box shows it); and a comment from a page whose id a re-run of match gave another pair
    landed on that pair."""
    db = open_db(review_db)
    decide(db, 1, "accept", strength="full", rationale="Reads a tape measure", reviewer="bob")
    decide(db, 2, "accept", strength="full", rationale="Measures angles", reviewer="bob")
    db.close()

    async def run():
        c = ds.client
        cookie = actor_cookie(ds)
        page, field, csrf = await form_token(ds, cookie, 1)
        seen = re.search(r'name="seen" value="([^"]+)"', page.text).group(1)
        assert "Reads a tape measure</textarea>" in page.text  # the box shows the current rationale
        signed = {"cookie": f"{cookie}; ds_csrftoken={csrf}"}
        form = {"alignment_id": "1", "source_id": "", "target_id": "", "decision": "accept", "strength": "full",
                "rationale": "Reads a tape measure", "rationale_shown": "1", "seen": seen, "next": "/-/review/1",
                "csrftoken": field}
        # An import flags the decision while the page is open: its answer is not saved.
        with sqlite3.connect(review_db) as conn:
            conn.execute("update alignments set needs_review = 1, needs_review_reason = 'statement changed on "
                         "re-import; it was: Measure the dimensions' where id = 1")
        conn.close()
        refused = await c.post("/-/decide", data=form, headers=signed)
        shown = await c.get(refused.headers["location"], headers={
            "cookie": f"{signed['cookie']}; ds_messages={refused.cookies['ds_messages']}"})
        assert ("was flagged for re-review after this page was shown (statement changed on re-import; it was: "
                "Measure the dimensions). Nothing was saved") in shown.text
        assert sqlite3.connect(review_db).execute("select needs_review from alignments where id = 1").fetchone() == (1,)
        # From the page as it is now (it shows the flag): saved, the flag cleared.
        form["seen"] = re.search(r'name="seen" value="([^"]+)"', shown.text).group(1)
        assert (await c.post("/-/decide", data=form, headers=signed)).status_code == 302
        assert sqlite3.connect(review_db).execute(
            "select needs_review, reviewer from alignments where id = 1").fetchone() == (0, "alice")
        # Rejected from its page, the box still holding the acceptance's reason: the reason is cleared.
        page, field, csrf = await form_token(ds, cookie, 2)
        seen = re.search(r'name="seen" value="([^"]+)"', page.text).group(1)
        flip = dict(form, alignment_id="2", decision="reject", strength="", rationale="Measures angles", seen=seen,
                    next="/-/review/2", csrftoken=field)
        assert (await c.post("/-/decide", data=flip, headers={"cookie": f"{cookie}; ds_csrftoken={csrf}"})
                ).status_code == 302
        assert state(review_db, 2) == ("rejected", None, None, "alice")
        # A comment whose page named another pair under this id: not saved on this one.
        other = sqlite3.connect(review_db).execute("select source_id, target_id from alignments where id = 3").fetchone()
        moved = await c.post("/-/comment", data={"alignment_id": "2", "source_id": str(other[0]),
                                                 "target_id": str(other[1]), "comment": "Fits well",
                                                 "next": "/-/review/2", "csrftoken": field},
                             headers={"cookie": f"{cookie}; ds_csrftoken={csrf}"})
        assert moved.status_code == 302
        assert sqlite3.connect(review_db).execute("select count(*) from review_comments").fetchone() == (0,)

    asyncio.run(run())


def test_a_refused_decision_returns_to_the_top_of_the_page_and_queue_links_say_what_they_review(ds, review_db):
    # An accessibility audit: refused on a list page, the decision went back to the next suggestion's
    # anchor, the message above the view (a keyboard or screen-reader reviewer took it for saved); and
    # the queue's 100 links were all named "Review".
    conn = sqlite3.connect(review_db)
    best = conn.execute("select id from alignments where status = 'suggested' order by score desc, id").fetchone()[0]
    code = conn.execute("select s.code from alignments a join standards s on s.id = a.source_id where a.id = ?",
                        [best]).fetchone()[0]
    conn.close()

    async def run():
        c = ds.client
        cookie = actor_cookie(ds)
        queue = await c.get("/-/review", headers={"cookie": cookie})
        assert re.search(rf'>Review<span class="xw-sr"> {re.escape(code)} and [^<]+</span></a>', queue.text)
        page, field, csrf = await form_token(ds, cookie, best)
        db = open_db(review_db)
        decide(db, best, "accept", reviewer="bob")
        db.close()
        refused = await c.post("/-/decide", data={"alignment_id": str(best), "decision": "reject", "seen": "suggested@",
                                                  "next": "/program/1/review#a99", "csrftoken": field},
                               headers={"cookie": f"{cookie}; ds_csrftoken={csrf}"})
        assert refused.status_code == 302 and refused.headers["location"] == "/program/1/review"

    asyncio.run(run())


def test_the_write_queries_read_words_clean_text_and_refuse_as_crosswalk_decide_does(ds, review_db):
    """Found by an audit of the review site: its write queries took 40,000 characters where `crosswalk
    decide` refuses more than 32,767 (and a later workbook round trip cut the rationale), and refused
    words every other way in reads ("Accepted", "yes", "moderate", "FULL" and a tab) with a bare
    "CHECK constraint failed"."""
    conn = sqlite3.connect(review_db)
    pairs = {i: conn.execute("select source_id, target_id from alignments where id = ?", [i]).fetchone()
             for i in range(1, 8)}
    conn.close()
    db = open_db(review_db)
    with pytest.raises(CrosswalkError) as cli:  # what `crosswalk decide` says of it
        decide(db, 1, "accept", rationale="x" * 40_000, reviewer="bob")
    with pytest.raises(CrosswalkError) as cli_word:
        decide(db, 1, "maybe", reviewer="bob")
    db.close()

    async def run():
        cookie = actor_cookie(ds)
        _, field, csrf = await form_token(ds, cookie, 1)

        async def post(query, **data):
            r = await ds.client.post(f"/small/{query}", data=dict(data, csrftoken=field, _json="1"),
                                     headers={"cookie": f"{cookie}; ds_csrftoken={csrf}"})
            return r.json()

        def pair(i):
            return {"alignment_id": str(i), "source_id": str(pairs[i][0]), "target_id": str(pairs[i][1])}

        # Too long: refused, with what `crosswalk decide` says; nothing written.
        refused = {"ok": False, "message": str(cli.value), "redirect": None}
        assert str(cli.value) == "the rationale is 40,000 characters long; at most 32,767 (what a spreadsheet cell holds)"
        assert await post("set_rationale", alignment_id="1", rationale="x" * 40_000) == refused
        assert await post("accept_alignment", alignment_id="1", strength="", rationale="x" * 40_000) == refused
        assert await post("review_alignment", **pair(1), decision="accept", strength="", rationale="x" * 40_000) == refused
        # (at a tilde-encoded address too, which Datasette's table route decodes to the same query)
        tilde = await ds.client.post("/small/set~5Frationale", data={"alignment_id": "1", "rationale": "x" * 40_000,
                                                                     "csrftoken": field, "_json": "1"},
                                     headers={"cookie": f"{cookie}; ds_csrftoken={csrf}"})
        assert tilde.json() == refused
        comment = await post("comment_on_alignment", alignment_id="1", comment="y" * 40_000)
        assert comment["message"] == "the comment is 40,000 characters long; at most 32,767 (what a spreadsheet cell holds)"
        assert log_count(review_db) == 0 and state(review_db, 1) == ("suggested", None, None, None)
        # The most a cell holds is taken.
        assert (await post("set_rationale", alignment_id="1", rationale="x" * 32_767))["ok"]
        assert len(state(review_db, 1)[2]) == 32_767
        # The words every other way reads: decisions, strengths as decisions, strengths; spacing and case.
        for i, word, strength, expected in [(2, "Accepted", "", ("accepted", "full")),
                                            (3, "yes", "moderate", ("accepted", "partial")),
                                            (4, "FULL\t", "", ("accepted", "full")),
                                            (5, " No ", "", ("rejected", None))]:
            answer = await post("review_alignment", **pair(i), decision=word, strength=strength, rationale="")
            assert answer == {"ok": True, "message": "Query executed, 1 row affected", "redirect": "/-/review"}, word
            assert state(review_db, i)[:2] == expected
        assert (await post("accept_alignment", alignment_id="6", strength="Moderate", rationale=""))["ok"]
        assert (await post("set_strength", alignment_id="6", strength=" strong "))["ok"]
        assert state(review_db, 6)[:2] == ("accepted", "full")
        # Cleaned as crosswalk cleans a rationale (a browser's CR LF, a control character, spaces).
        assert (await post("set_rationale", alignment_id="6", rationale="  Reads a\r\ntape\x07 measure ")
                )["ok"]
        assert state(review_db, 6)[2] == review.clean_text("Reads a\r\ntape\x07 measure") == "Reads a\ntape measure"
        # A word no one reads as a decision, or a strength for a rejection: refused, saying why.
        assert await post("review_alignment", **pair(7), decision="maybe", strength="", rationale="") == {
            "ok": False, "message": str(cli_word.value), "redirect": None}
        both = await post("review_alignment", **pair(7), decision="reject", strength="full", rationale="")
        assert both["message"] == "a strength (full or partial) is only for accepted alignments"
        assert state(review_db, 7) == ("suggested", None, None, None)
        # The query's own page is Datasette's form, as before.
        page = await ds.client.get("/small/set_rationale", headers={"cookie": cookie})
        assert page.status_code == 200 and 'name="rationale"' in page.text

    asyncio.run(run())


def test_the_queue_labels_as_re_review_what_the_counts_count(ds, review_db):
    """Found by an audit of the review site: /-/review labelled "re-review" every alignment flagged by an
    import, 4 rows where program list and the program's page said "2 to re-review": a rejected decision
    (it certified nothing, and certifies nothing) and a suggestion someone had commented on among them.
    What needs re-review is what rereview_alignments holds (of a program, program_rereview): the accepted
    decisions flagged, an accepted one whose standard was retired since too."""
    from crosswalk.programs import list_programs
    from crosswalk.review import add_comment

    db = open_db(review_db)
    ids = [r[0] for r in db.execute("select id from alignments where status = 'suggested' order by score desc, id")]
    flagged_accepted, retired_accepted, flagged_rejected, commented = ids[0], ids[1], ids[2], ids[-1]
    decide(db, flagged_accepted, "accept", reviewer="bob")
    decide(db, retired_accepted, "accept", reviewer="bob")
    decide(db, flagged_rejected, "reject", reviewer="bob")
    add_comment(db, commented, "Ask the math department", reviewer="bob")
    db.execute("update alignments set needs_review = 1, needs_review_reason = 'the task changed' where id in (?, ?, ?)",
               [flagged_accepted, flagged_rejected, commented])
    # (retired as a re-import retires a standard: its reviewed alignments flagged)
    db.execute("update standards set status = 'retired' where id = (select target_id from alignments where id = ?)",
               [retired_accepted])
    db.execute("update alignments set needs_review = 1, needs_review_reason = 'the standard left the file' "
               "where id = ?", [retired_accepted])
    # (and a task retired, whose suggestions leave the queue and its count)
    decided = {r[0] for r in db.execute(f"select source_id from alignments where id in "
                                        f"({flagged_accepted}, {retired_accepted}, {flagged_rejected}, {commented})")}
    retired_task = next(r[0] for r in db.execute("select source_id from alignments where status = 'suggested' "
                                                 "order by id") if r[0] not in decided)
    db.execute("update standards set status = 'retired' where id = ?", [retired_task])
    db.conn.commit()
    counted = list_programs(db)[0]["needs_rereview"]
    rereview = {r[0] for r in db.execute("select alignment_id from rereview_alignments")}
    suggested = [r[0] for r in db.execute(
        "select a.id from alignments a join standards s on s.id = a.source_id join standards t on t.id = a.target_id "
        "where a.status = 'suggested' and s.status = 'active' and t.status = 'active' order by a.score desc, a.id")]
    db.close()
    assert counted == 2 and rereview == {flagged_accepted, retired_accepted} and commented in suggested

    def listed(page):
        rows = re.findall(r'href="/-/review/(\d+)[^"]*">Review<span.*?</td>\s*</tr>', page.text, re.S)
        labelled = re.findall(r'href="/-/review/(\d+)[^"]*">Review<span[^<]*</span></a>\s*<br><span class="review-flag">'
                              r're-review</span>', page.text)
        return [int(i) for i in rows], {int(i) for i in labelled}

    async def run():
        cookie = actor_cookie(ds)
        for address in ("/-/review", "/-/review?program=Welding+Technology"):
            page = await ds.client.get(address, headers={"cookie": cookie})
            rows, labelled = listed(page)
            assert labelled == rereview and len(labelled) == counted, address
            # The decisions to re-review first, then the suggestions, best first, the commented one among them.
            assert set(rows[:2]) == rereview and rows[2:] == suggested, address
            assert flagged_rejected not in rows
            # The page says how much is left, as it lists it (the queue's count reads its own way).
            assert (f"<strong>2</strong> accepted decisions to re-review and <strong>{len(suggested)}</strong> "
                    "suggestions awaiting review") in page.text, address
        program = await ds.client.get("/program/1", headers={"cookie": cookie})
        assert "2 decisions need re-review" in program.text

    asyncio.run(run())


def test_a_score_reads_the_same_on_every_page_and_in_the_workbook(ds, review_db, tmp_path):
    """Found by an audit of the demo: alignment 3960 was "24.6 low" in the review workbook but "Score 25
    (low confidence)" on its review page, each template rounding with its own "%.0f", across the band's
    edge (medium from 25). Every page and the workbook show a score through text.score_text: one decimal,
    rounded down, so a 'low' figure never reads 25 and a 'medium' one never reads 60."""
    import openpyxl

    from crosswalk.publish import publish
    from crosswalk.site import make_public_datasette
    from crosswalk.workbook import export_workbook

    db = open_db(review_db)
    ids = [r[0] for r in db.execute("select id from alignments where status = 'suggested' order by score desc, id")]
    low, medium = ids[0], ids[1]
    # 24.6: the audit's figure; 59.96: finer than the matcher stores, which rounding would show as 60.0.
    db.execute("update alignments set score = 24.6, confidence = 'low' where id = ?", [low])
    db.execute("update alignments set score = 59.96, confidence = 'medium' where id = ?", [medium])
    low_target, medium_target = (db.execute("select target_id from alignments where id = ?", [i]).fetchone()[0]
                                 for i in (low, medium))
    program = db.execute("select id from programs where name = 'Welding Technology'").fetchone()[0]
    db.conn.commit()
    export_workbook(db, tmp_path / "review.xlsx", program="Welding Technology")
    db.close()
    out = tmp_path / "public"
    publish(review_db, out, suggestions="label")

    async def run():
        cookie = {"cookie": actor_cookie(ds)}
        one = await ds.client.get(f"/-/review/{low}", headers=cookie)
        assert "<p>Chance it is right 24.6% (low confidence)." in one.text and "25.0%" not in one.text
        assert "<p>Chance it is right 59.9% (medium confidence)." in (await ds.client.get(f"/-/review/{medium}", headers=cookie)).text
        queue = (await ds.client.get("/-/review", headers=cookie)).text
        assert "<th>Chance it is right</th>" in queue
        assert "<td>24.6% (low)</td>" in queue and "<td>59.9% (medium)</td>" in queue
        for target, figure, band in ((low_target, "24.6", "low"), (medium_target, "59.9", "medium")):
            standard = (await ds.client.get(f"/standard/{target}", headers=cookie)).text
            # The working site's list of suggestions awaiting review says it as the public one does.
            assert '<th scope="col" class="num">Chance it is right</th>' in standard
            assert f'<td class="num">{figure}%<div class="xw-muted">{band} confidence</div></td>' in standard
            listed = (await ds.client.get(f"/program/{program}/review?band={band}", headers=cookie)).text
            assert f'<span class="xw-score">Chance it is right {figure}%, {band} confidence.</span>' in listed
        public = make_public_datasette(out)
        for target, figure, band in ((low_target, "24.6", "low"), (medium_target, "59.9", "medium")):
            page = (await public.client.get(f"/standard/{target}")).text
            assert "Suggested, not reviewed" in page
            assert f'<td class="num">{figure}%<div class="xw-muted">{band} confidence</div></td>' in page

    asyncio.run(run())
    sheet = openpyxl.load_workbook(tmp_path / "review.xlsx")["Suggestions"]
    # The workbook names the figure as the pages do.
    column = [c.value for c in sheet[1]].index("Chance it is right (%)")
    cells = {row[0].value: row[column] for row in sheet.iter_rows(min_row=2)}
    assert (cells[low].value, cells[medium].value) == (24.6, 59.9)
    assert cells[low].number_format == cells[medium].number_format == "0.0"  # 25.0 reads 25.0, not 25


def test_a_pair_decided_from_an_imported_crosswalk_says_the_matcher_never_scored_it(ds, review_db, tmp_path):
    from crosswalk.decisions import apply_decisions, read_decisions

    from .conftest import write_csv

    db = open_db(review_db)
    (never,) = db.execute(
        "select s.code, t.code from standards s, standards t where s.framework_id != t.framework_id "
        "and s.code like 'W.%' and t.code not like 'W.%' and not exists (select 1 from alignments a "
        "where a.source_id = s.id and a.target_id = t.id) order by s.code, t.code limit 1").fetchall()
    apply_decisions(db, read_decisions(write_csv(tmp_path / "earlier.csv", [["source", "target", "decision"],
                                                                          [*never, "accept"]])), reviewer="Maine CTE")
    (alignment,) = db.execute("select id from alignments where method = 'import-decisions'").fetchone()
    db.close()

    async def run():
        page = await ds.client.get(f"/-/review/{alignment}", headers={"cookie": actor_cookie(ds)})
        assert page.status_code == 200
        assert "<p>Not scored by the matcher. decision imported from earlier.csv, row 2</p>" in page.text, page.text
        assert "Chance it is right 0" not in page.text and "0.0%" not in page.text
    asyncio.run(run())


def test_the_queue_offers_a_subject_whose_only_rows_are_decisions_to_re_review(ds, review_db):
    # The subject list offered only subjects with suggestions: a subject whose one row in the queue
    # was a decision to re-review could not be chosen.
    db = open_db(review_db)
    (alignment,) = db.execute("select a.id from alignments a join standards t on t.id = a.target_id "
                              "where t.subject = 'Science' order by a.id limit 1").fetchone()
    decide(db, alignment, "accept", reviewer="bob")
    db.execute("update alignments set needs_review = 1, needs_review_reason = 'the task changed' where id = ?",
               [alignment])
    db.execute("delete from alignments where status = 'suggested' and target_id in "
               "(select id from standards where subject = 'Science')")
    db.conn.commit()
    db.close()

    async def run():
        page = await ds.client.get("/-/review", headers={"cookie": actor_cookie(ds)})
        science = await ds.client.get("/-/review?subject=Science", headers={"cookie": actor_cookie(ds)})
        return page.text, science.text
    page, science = asyncio.run(run())
    assert '<option value="Science">Science</option>' in page, page
    assert f'href="/-/review/{alignment}' in science


def test_a_decide_form_counts_no_change_logged_after_its_page_began_to_read(ds, review_db):
    """A page's forms send back the last change logged before the page read what it shows: a change
    made while it was being read (and perhaps not shown) makes a decision from it refused, not saved
    over that change. (Read after the rows, the token counted such a change: another reviewer's
    rationale, saved while the page loaded, was replaced by the one the page showed, unseen; 94 of
    300 loads in a concurrency audit.)"""
    from datasette.utils.asgi import Request

    from crosswalk import working_plugin

    db = open_db(review_db)
    rereview = db.execute("select id from alignments where status = 'suggested' order by id").fetchone()[0]
    decide(db, rereview, "accept", strength="full", rationale="Measuring (bob 9)", reviewer="bob")
    logged = db.execute("select max(id) from review_log").fetchone()[0]
    decide(db, rereview, "accept", strength="full", rationale="Measuring (bob 10)", reviewer="bob")
    db.close()

    async def run():
        # The page began to read at `logged`; its rows were read after Bob's second change.
        request = Request.fake(f"/-/review/{rereview}")
        request.scope[working_plugin.LOGGED] = logged
        rows = await working_plugin._seen(ds, request, [{"alignment_id": rereview}], "accepted")
        assert rows[0]["seen"] == f"accepted@{logged}"
        # The alignment page reads its token first too: as it is now, Bob's last change.
        cookie = actor_cookie(ds)
        page, field, csrf = await form_token(ds, cookie, rereview)
        now = sqlite3.connect(review_db).execute("select max(id) from review_log").fetchone()[0]
        assert f'name="seen" value="accepted@{now}"' in page.text
        form = {"alignment_id": str(rereview), "decision": "accept", "strength": "full",
                "rationale": "Measuring (bob 9)", "rationale_shown": "1", "seen": rows[0]["seen"],
                "next": f"/-/review/{rereview}", "csrftoken": field}
        refused = await ds.client.post("/-/decide", data=form, headers={"cookie": f"{cookie}; ds_csrftoken={csrf}"})
        assert refused.status_code == 302
        assert state(review_db, rereview) == ("accepted", "full", "Measuring (bob 10)", "bob")

    asyncio.run(run())
