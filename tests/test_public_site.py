"""The published demo in a real browser (Playwright driving Debian's Chromium), through `crosswalk serve OUTDIR`;
and, in process, what the public copy and the working site show alike."""

import asyncio
import concurrent.futures
import csv
import os
import pathlib
import re
import shutil
import sqlite3
import subprocess
import sys
import time
import urllib.parse
import urllib.request

import pytest
from datasette_auth_passwords.utils import hash_password
from playwright.sync_api import sync_playwright

from crosswalk.db import open_db
from crosswalk.programs import add_program, set_status
from crosswalk.publish import publish
from crosswalk.review_site import make_review_datasette
from crosswalk.site import make_datasette, make_public_datasette

from .conftest import HOSTILE
from .test_site import free_port

# One test process runs this file (`./run test` runs pytest with --dist loadgroup):
# its server and Chromium start once per run, not once per process.
pytestmark = pytest.mark.xdist_group("public_site")

CHROMIUM = os.environ.get("CROSSWALK_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def site(published):
    """`crosswalk serve OUTDIR` running on a free port; yields its base URL."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "crosswalk.cli", "serve", str(published), "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 30
        while True:
            try:
                urllib.request.urlopen(base + "/", timeout=2).read()
                break
            except OSError:
                if time.time() > deadline or proc.poll() is not None:
                    pytest.fail(proc.stderr.read().decode() if proc.poll() is not None else "server did not start")
                time.sleep(0.3)
        yield base
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture(scope="module")
def browser():
    if not pathlib.Path(CHROMIUM).exists():
        pytest.skip(f"Chromium not installed at {CHROMIUM} (./run test installs it on Debian)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, site):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=site)
    page = context.new_page()
    page.outside_requests = []
    page.on("request", lambda r: None if r.url.startswith(site) or r.url.startswith("data:")
            else page.outside_requests.append(r.url))
    yield page
    context.close()


def test_walk_home_program_standard_evidence(page, published, shot):
    conn = sqlite3.connect(published / "crosswalk.db")
    certified = conn.execute(
        "select count(*) from program_certifies where program = 'Welding Technology'").fetchone()[0]
    assert certified >= 4  # the demo's two decisions and the sample's accepted first suggestions

    page.goto("/")
    assert page.title().startswith("CTE programs and the academic standards they certify")
    assert page.locator("h1").inner_text() == "CTE programs and the academic standards they certify"
    assert page.locator(".xw-programs tbody tr").count() == 8
    assert "O*NET 29.3 Database" in page.locator("footer").inner_text()
    shot(page, "public-1-home")

    page.locator(".xw-programs").get_by_role("link", name="Welding Technology").click()
    page.wait_for_url(re.compile(r"/program/\d+$"))
    assert page.locator("h1").inner_text() == "Welding Technology"
    assert "CIP 48.0508" in page.locator(".xw-kicker").inner_text()
    assert "Welding Technology tasks (O*NET 29.3)" in page.locator(".xw-credentials").inner_text()
    stats = page.locator(".xw-stats").inner_text()
    assert f"{certified}\nacademic standards accepted so far" in stats  # (a draft)
    # Coverage per subject: as a table with the database's numbers, and as an SVG chart.
    coverage = {r[0]: r[1:] for r in conn.execute(
        "select subject, standards_certified, standards_in_subject from coverage where program = 'Welding Technology'")}
    rows = page.locator(".xw-coverage tbody tr")
    seen = {}
    for i in range(rows.count()):
        cells = rows.nth(i).locator("td").all_inner_texts()
        seen[cells[0]] = (int(cells[1]) + int(cells[2]), int(cells[3]))
    for subject, numbers in coverage.items():
        assert seen[subject] == numbers
    chart = page.locator("svg.coverage-chart")
    assert chart.count() == 1 and chart.locator("rect.bar-full").count() >= 3
    assert "Science" in chart.text_content()
    # By domain, each domain's clusters under it: the view's figures.
    math_clusters = conn.execute(
        "select cluster, certified, standards from program_cluster_coverage c join programs p on p.id = c.program_id "
        "where p.name = 'Welding Technology' and subject = 'Math' and cluster != '' order by domain, cluster").fetchall()
    page.locator("details.xw-domains summary", has_text="Math").click()
    shown = page.locator("details.xw-domains[open] tr.xw-cluster")
    assert [tuple(shown.nth(i).locator("td").all_inner_texts()[:3]) for i in range(shown.count())] == [
        (c, str(n), str(t)) for c, n, t in math_clusters]
    # Grouped by subject and grade; the evidence names reviewer and date.
    assert page.locator(".xw-subject h3").all_inner_texts() == sorted(coverage)
    evidence = page.locator(".xw-evidence tbody tr")
    assert evidence.count() == 6  # the demo's two Welding decisions, and the four the session accepts
    reviewers = {r[0] for r in conn.execute("select reviewer from program_evidence e join programs p "
                                            "on p.id = e.program_id where p.name = 'Welding Technology'")}
    first = evidence.nth(0).inner_text()
    assert any(re.search(re.escape(name) + r"\s+\d{4}-\d\d-\d\d", first) for name in reviewers)
    shot(page, "public-2-program")

    link = page.locator(".xw-certifies a.xw-code").first
    code = link.inner_text()
    link.click()
    page.wait_for_url(re.compile(r"/standard/\d+$"))
    assert page.locator("h1").inner_text() == code
    assert "Which CTE work certifies it" in page.content()
    standard_id = int(page.url.rsplit("/", 1)[1])
    evidence = conn.execute("select programs, rationale from standard_evidence where standard_id = ?",
                            [standard_id]).fetchall()
    rows = page.locator(".xw-evidence tbody tr").all_inner_texts()
    assert len(rows) == len(evidence)
    assert any("Welding Technology" in row and rationale in row for row in rows for programs, rationale in evidence
               if "Welding Technology" in programs)
    shot(page, "public-3-standard")

    page.get_by_role("link", name="its evidence").click()
    page.wait_for_url(re.compile(r"/crosswalk/standard_evidence\?standard_id=\d+$"))
    assert f"{len(evidence)} row" in page.content()
    assert code in page.locator("table.rows-and-columns").inner_text()
    shot(page, "public-4-evidence-table")
    assert page.outside_requests == []


def test_hostile_statement_shown_as_text(page, published, shot):
    sid = sqlite3.connect(published / "crosswalk.db").execute(
        "select id from standards where statement like '<b>bold</b>%'").fetchone()[0]
    page.goto(f"/standard/{sid}")
    assert page.evaluate("typeof window.xssRan") == "undefined"
    assert page.locator(".xw-statement").inner_text().startswith(HOSTILE.split(" and ")[0])
    assert page.locator(".xw-statement b").count() == 0
    shot(page, "public-5-hostile-text")


def test_search_is_stemmed(page, shot):
    page.goto("/")
    page.fill("#q", "measuring volume")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url(re.compile(r"/search\?q=measuring\+volume"))
    heading = page.locator("h2").first.inner_text()
    assert re.match(r"\d+ results? for “measuring volume”", heading)
    text = page.locator(".xw-results").inner_text()
    assert "Measure volumes by counting unit cubes" in text  # "measuring" found "Measure"
    page.goto("/search?q=HSG-GMD.A.3")
    assert page.locator(".xw-results tbody tr a.xw-code").first.inner_text() == "HSG-GMD.A.3"
    shot(page, "public-6-search")
    page.locator(".xw-results tbody tr a.xw-code").first.click()
    page.wait_for_url(re.compile(r"/standard/\d+$"))
    assert "Use volume formulas for cylinders, pyramids, cones, and spheres" in page.locator(".xw-statement").inner_text()


def test_gaps_by_subject_and_domain(page, published, shot):
    conn = sqlite3.connect(published / "crosswalk.db")
    total_gaps = conn.execute("select count(*) from uncovered_standards").fetchone()[0]
    math_gaps = conn.execute("select count(*) from uncovered_standards where subject = 'Math'").fetchone()[0]
    in_bands = conn.execute("select count(distinct standard_id) from program_standards").fetchone()[0]
    assert in_bands == 559  # the demo's programs teach grades 9–12: not the 1,772 standards of K–12
    algebra = conn.execute("select count(*) from uncovered_standards u join standards s on s.id = u.standard_id "
                           "where s.subject = 'Math' and s.domain = 'Seeing Structure in Expressions'").fetchone()[0]
    page.goto("/")
    page.locator(".xw-nav").get_by_role("link", name="Gaps").click()
    page.wait_for_url(re.compile(r"/gaps$"))
    # (the demo's crosswalks are drafts: what they accepted is no gap, but certifies nothing yet)
    assert conn.execute("select count(*) from programs where status = 'approved'").fetchone()[0] == 0
    assert page.locator("h1").inner_text() == "Gaps: academic standards no program has accepted"
    assert page.locator(".xw-lead").inner_text().startswith(
        f"{total_gaps} of {in_bands} academic standards of Grades 9–12 are not yet accepted")
    # Counts by subject and domain, and a chart; no list of every standard (the page was 483 KB).
    assert page.locator("svg.coverage-chart").count() == 1
    assert len(page.content()) < 60_000 and page.locator(".xw-gaps").count() == 0
    page.locator("summary", has_text="Math").click()
    shot(page, "public-7-gaps")
    page.get_by_role("link", name="List the Math gaps").click()
    page.wait_for_url(re.compile(r"/gaps\?subject=Math#list$"))
    pages = -(-math_gaps // 50)
    assert f"{math_gaps} standards (page 1 of {pages})" in page.locator(".xw-pager").first.inner_text()
    assert page.locator(".xw-gaps tbody tr").count() == min(50, math_gaps)
    grades = set(page.locator(".xw-gaps td:nth-child(3)").all_inner_texts())
    assert grades == {"Grades 9–12"}  # the band's (the practices, K–12, are under their own domain); no "K"
    page.goto("/gaps?subject=Math&domain=Standards+for+Mathematical+Practice")
    practices = page.locator(".xw-gaps tbody tr")
    assert practices.count() == conn.execute(
        "select count(*) from uncovered_standards u join standards s on s.id = u.standard_id "
        "where s.domain = 'Standards for Mathematical Practice'").fetchone()[0] > 0
    assert set(page.locator(".xw-gaps td:nth-child(3)").all_inner_texts()) == {"Grades K–12"}  # spanning the band
    # One domain, from its row in the summary.
    page.goto("/gaps?subject=Math")
    page.get_by_role("link", name="Seeing Structure in Expressions", exact=True).click()
    # A click returns once the navigation starts: wait for the page's load, or the table may not be parsed yet
    # (CI once counted 0 rows of 9 here).
    page.wait_for_url(re.compile(r"/gaps\?subject=Math&domain=Seeing\+Structure\+in\+Expressions#list$"))
    assert page.locator(".xw-gaps tbody tr").count() == algebra
    assert page.locator(".xw-subject h3").all_inner_texts() == ["Seeing Structure in Expressions"]


def test_common_questions_are_named_queries(page, published, shot):
    page.goto("/crosswalk")
    text = page.locator("body").inner_text()
    for title in ("What does a program certify?", "Which CTE work certifies a standard?", "Where are the gaps?"):
        assert title in text
    errors, scripts = [], []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("request", lambda request: scripts.append(request.url.rsplit("/", 1)[-1]))
    page.goto("/crosswalk/what_a_program_certifies?program=Welding")
    certified = sqlite3.connect(published / "crosswalk.db").execute(
        "select count(*) from program_certifies where program = 'Welding Technology'").fetchone()[0]
    assert page.locator("table.rows-and-columns tbody tr").count() == certified >= 4
    shot(page, "public-8-canned-query")
    # Its SQL is read only: no SQL editor loaded (306 KB), and its "Format SQL" button still formats it.
    assert not [name for name in scripts if name.startswith("codemirror")] and "sql-formatter-2.3.3.min.js" in scripts
    page.click("button#sql-format")
    assert page.locator("pre#sql-query").inner_text().startswith("select\n")
    assert errors == []
    page.goto("/crosswalk?sql=select+1")  # a visitor's own SQL: the editor
    assert page.locator(".CodeMirror").count() == 1 and errors == []
    # The write-protected site: the browser gets 403 for a POST.
    status = page.evaluate("fetch('/crosswalk/alignments', {method: 'POST', body: 'x'}).then(r => r.status)")
    assert status == 403


# Every form control a visitor can reach, with no name a screen reader could read; and the heading levels.
UNLABELLED = """() => [...document.querySelectorAll('select, textarea, input')]
    .filter(e => !['hidden', 'submit', 'button', 'checkbox'].includes(e.type) || (e.type === 'checkbox' && !e.closest('label')))
    .filter(e => !e.getAttribute('aria-label') && !(e.id && document.querySelector(`label[for="${e.id}"]`)) && !e.closest('label'))
    .map(e => e.outerHTML.slice(0, 80))"""
HEADINGS = "() => [...document.querySelectorAll('h1, h2, h3, h4, h5, h6')].map(h => Number(h.tagName[1]))"


def test_datasettes_own_pages_have_a_title_labels_and_heading_order(page, shot):
    """The Datasette pages a program page links to (tables, the database's SQL box, the common questions):
    a canned query's title is its title, not its SQL; every filter, sort and SQL control has a name;
    headings go down one level at a time (they went from h1 to h3)."""
    page.goto("/crosswalk/what_a_program_certifies?program=Welding")
    assert page.title() == "What does a program certify?: crosswalk"
    for path in ("/crosswalk/standards", "/crosswalk/standards?subject=Math&_sort=code", "/crosswalk",
                 "/crosswalk/what_a_program_certifies?program=Welding", "/crosswalk?sql=select+1",
                 "/crosswalk/program_certifies?program_id=1"):
        page.goto(path)
        assert page.evaluate(UNLABELLED) == [], path
        levels = page.evaluate(HEADINGS)
        assert levels[0] == 1 and all(b - a <= 1 for a, b in zip(levels, levels[1:])), (path, levels)
    page.goto("/crosswalk/standards?subject=Math")
    for name in ("Filter 1: column", "Filter 1: how to compare", "New filter: column", "Sort by"):
        assert page.get_by_label(name, exact=True).count() == 1, name
    assert page.locator("textarea[name=sql]").count() == 0  # (a table page has no SQL box)
    page.goto("/crosswalk")
    assert page.locator("textarea#sql-editor").get_attribute("aria-label") == "SQL query"
    shot(page, "public-9-database-page")


def test_on_a_phone_no_page_scrolls_sideways(browser, site, published, shot):
    """At 375 px a wide table scrolls inside its own box and a chart shrinks: the page itself is
    never wider than the screen (it was 1,196 px wide on the home page)."""
    conn = sqlite3.connect(published / "crosswalk.db")
    program = conn.execute("select id from programs order by id limit 1").fetchone()[0]
    standard = conn.execute("select target_id from alignments where status = 'accepted' limit 1").fetchone()[0]
    conn.close()
    context = browser.new_context(viewport={"width": 375, "height": 800}, base_url=site)
    page = context.new_page()
    try:
        for path in ("/", f"/program/{program}", f"/standard/{standard}", "/gaps", "/gaps?subject=Math",
                     "/search?q=measure"):
            page.goto(path)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 375, (path, width)
            # No label squeezed into Datasette's 15% of a form's width ("Search all standards" on 3 lines).
            squeezed = page.evaluate("[...document.querySelectorAll('main label')].filter("
                                     "l => l.getBoundingClientRect().height > 2 * parseFloat(getComputedStyle(l)"
                                     ".lineHeight || 20)).map(l => l.textContent)")
            assert squeezed == [], (path, squeezed)
        shot(page, "public-phone-search")
    finally:
        context.close()


def test_datasettes_menu_offers_no_sign_in_on_the_public_copy(page):
    """datasette-auth-passwords adds "Log in" to Datasette's menu on every page; the public copy signs
    no one in (the route is its 404), so the link, and a menu holding only it, are not in the page."""
    page.goto("/crosswalk/standards")
    assert page.locator('a[href$="/-/login"]').count() == 0
    assert page.locator("details.nav-menu").count() == 0
    assert "Log in" not in page.content()


# ---- in process: the sites as Datasette answers them (no browser)

def get(ds, path):
    """Datasette's answer to a GET, from an event loop of its own thread (Playwright's sync API keeps one
    running in this thread while its browser is open)."""
    with concurrent.futures.ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, ds.client.get(path)).result()


def accept(db, task, standard, reviewer, at):
    """Accept the suggestion of the academic ``standard`` for the Welding ``task`` (by their codes), as
    ``reviewer`` decided it at ``at``."""
    changed = db.execute(
        "update alignments set status = 'accepted', strength = 'full', rationale = ?, reviewer = ?, reviewed_at = ? "
        "where source_id = (select id from standards where code = ?) and target_id = (select id from standards "
        "where code = ?)", [f"{task} teaches {standard}", reviewer, at, task, standard]).rowcount
    assert changed == 1, (task, standard)


def test_a_programs_page_counts_and_credits_only_the_alignments_that_certify_its_band(small_db, tmp_path):
    """An accepted alignment to a standard outside the program's grade band certifies nothing there (the
    program_standards view, the report): the program's page neither counts it nor names its reviewer or
    date, and the home page does not count it either."""
    db = open_db(small_db)
    pid = add_program(db, "Welding Technology", frameworks=["Welding"], grades="11-12").id
    accept(db, "W.1", "N-Q.1", "A. Rivera", "2026-03-02T15:00:00+00:00")   # grades 9-12: in the band
    accept(db, "W.3", "W.9-10.2", "J. Chen", "2025-01-15T15:00:00+00:00")  # grades 9-10: outside 11-12
    db.conn.commit()
    certified = [r["standard_code"] for r in db.query(
        "select standard_code from program_standards where program_id = ? and strength is not null", [pid])]
    assert certified == ["N-Q.1"]
    assert [r["standard_code"] for r in db.query("select * from program_evidence where program_id = ?", [pid])] \
        == certified
    db.close()
    # A draft's figures are its committee's work so far (an audit: a draft's page said "1 academic
    # standard certified", read by a school board as signed off); once approved, they certify.
    for status in ("draft", "approved"):
        db = open_db(small_db)
        set_status(db, pid, status, "M. Levesque")
        db.close()
        out = tmp_path / status
        publish(small_db, out)
        for ds in (make_datasette(small_db, pages=True), make_public_datasette(out)):
            page, home, gaps = get(ds, f"/program/{pid}"), get(ds, "/"), get(ds, f"/gaps?program={pid}")
            assert page.status_code == home.status_code == gaps.status_code == 200
            if status == "draft":
                assert ("<strong>1</strong> academic standard accepted so far, of the 3 of Grades 11–12: it "
                        "certifies once the crosswalk is approved") in page.text
                assert "<strong>1</strong> reviewed alignment accepted so far</div>" in page.text
                assert ">What this program has accepted so far</h2>" in page.text
                assert "Academic standards this program has accepted so far, out of" in page.text
                assert "certified" not in page.text.split('class="xw-stats"')[1].split("</div>\n</div>")[0]
                # (its coverage table and chart too, and its gaps: an audit found "Fully certified" there)
                assert ('<th scope="col" class="num">Accepted in full</th><th scope="col" class="num">Accepted in '
                        'part</th>') in page.text
                assert "<title>Academic standards accepted so far per subject, Grades 11–12</title>" in page.text
                assert "certified" not in page.text.split('class="xw-table xw-coverage"')[1].split("</table>")[0]
                assert "<h1>Gaps: academic standards Welding Technology has not accepted</h1>" in gaps.text
                assert "<strong>1</strong> reviewed alignment accepted, 0 in approved crosswalks</div>" in home.text
                assert '<th scope="col" class="num">Standards accepted (certified once approved)</th>' in home.text
                assert re.search(r'title="Welding Technology, \w+: \d+ of \d+ standards accepted so far"', home.text)
                assert "Share accepted:" in home.text and "standards certified\"" not in home.text
                assert ("<strong>1</strong> of 3 academic standards of the programs' grade bands accepted, 0 "
                        "certified by an approved crosswalk</div>") in home.text
            else:
                assert "<strong>1</strong> academic standard certified, of the 3 of Grades 11–12</div>" in page.text
                assert "<strong>1</strong> reviewed alignment certifies it</div>" in page.text
                assert ">What this program certifies</h2>" in page.text
                assert ('<th scope="col" class="num">Fully certified</th><th scope="col" class="num">Partly '
                        'certified</th>') in page.text
                assert "<title>Academic standards certified per subject, Grades 11–12</title>" in page.text
                assert "<h1>Gaps: academic standards Welding Technology does not certify</h1>" in gaps.text
                assert "<strong>1</strong> reviewed alignment certifies</div>" in home.text
                assert '<th scope="col" class="num">Standards certified</th>' in home.text
                assert re.search(r'title="Welding Technology, \w+: \d+ of \d+ standards certified"', home.text)
                assert "Share certified:" in home.text and "accepted so far" not in home.text
            assert "Reviewed by A. Rivera, 2026-03-02." in page.text
            assert "J. Chen" not in page.text and "2025-01-15" not in page.text


def test_datasettes_menu_offers_a_sign_in_only_where_someone_can_sign_in(published, small_db, tmp_path):
    """The public copy and a working site served without --review sign no one in (their /-/login is
    the site's 404): Datasette's pages offer no "Log in" there, nor a menu holding only it. A review
    site's do, and its sign-in works."""
    for ds, path in ((make_public_datasette(published), "/crosswalk/standards"),
                     (make_datasette(small_db, pages=True), "/small/standards"),
                     (make_datasette(small_db, pages=True), "/small")):
        page = get(ds, path)
        assert page.status_code == 200, path
        assert "/-/login" not in page.text and "Log in" not in page.text and 'class="nav-menu"' not in page.text
        assert "There is nothing to sign in to here" in get(ds, "/-/login").text
        # And they say their language, with a main landmark, as crosswalk's own pages do (WCAG 3.1.1).
        assert '<html lang="en">' in page.text and page.text.count("<main>") == 1, path
    review_db = tmp_path / "review.db"
    shutil.copy(small_db, review_db)
    reviewers = {"alice": {"name": "Alice Martin", "password_hash": hash_password("pw", iterations=1000)}}
    review = make_review_datasette(review_db, reviewers=reviewers, open_reading=True)
    page = get(review, "/review/standards")
    assert page.status_code == 200 and '<a href="/-/login">Log in</a>' in page.text
    assert '<html lang="en">' in page.text and page.text.count("<main>") == 1
    login = get(review, "/-/login")
    assert login.status_code == 200 and 'name="password"' in login.text


def test_datasettes_own_pages_pass_contrast_in_a_real_browser(page):
    """An accessibility audit (axe-core, by hand in Chromium) found Datasette's own pages, behind "Tables
    and SQL", under WCAG's 4.5:1: its blue buttons (#007bff, 3.97:1 with white), its greyed ids (#aaa,
    2.2:1), its light green focused links (1.9:1): crosswalk.css darkens them there too."""
    page.goto("/crosswalk/standards")
    apply = page.locator('form input[type=submit]').first
    assert apply.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(23, 68, 95)"
    greyed = page.locator("td em").first
    assert greyed.evaluate("e => getComputedStyle(e).color") == "rgb(90, 107, 117)"
    link = page.locator("table.rows-and-columns td a").first
    link.focus()
    assert link.evaluate("e => getComputedStyle(e).color") == "rgb(11, 58, 87)"


def test_a_standards_page_says_which_programs_it_certifies_for_as_their_pages_and_the_gaps_do(small_db, tmp_path):
    """A standard's page names the programs for which its reviewed alignments certify it: those whose
    grade band holds it (program_evidence), as the program's page and the gaps count. It named every
    program teaching the credential (W.9-10.2 "certified by Welding Technology", grades 11-12, while
    its program's page counts it out); and it marked a decision to re-review only where a program taught the
    credential, so a task of a credential no program teaches listed a flagged decision as certifying."""
    db = open_db(small_db)
    add_program(db, "Welding Technology", frameworks=["Welding"], grades="11-12")
    accept(db, "W.3", "W.9-10.2", "J. Chen", "2025-01-15T15:00:00+00:00")  # grades 9-10: outside 11-12
    db.conn.commit()
    [w910] = [r["id"] for r in db.query("select id from standards where code = 'W.9-10.2'")]
    db.close()
    for ds in (make_datasette(small_db, pages=True),):
        page = get(ds, f"/standard/{w910}").text
        assert "Certified by" not in page
        assert "No program certifies it yet" in page
        assert "outside this program&#39;s grade band" in page or "outside this program's grade band" in page
    # A credential no program teaches: its flagged decision is marked, on the task's page and the standard's.
    db = open_db(small_db)
    db.execute("delete from program_frameworks")
    accept(db, "W.1", "N-Q.1", "A. Rivera", "2026-03-02T15:00:00+00:00")
    db.execute("update alignments set needs_review = 1, needs_review_reason = 'statement changed on re-import' "
               "where status = 'accepted' and target_id = (select id from standards where code = 'N-Q.1')")
    db.conn.commit()
    [w1, nq1] = [r["id"] for r in db.query("select id from standards where code in ('W.1', 'N-Q.1') order by code desc")]
    db.close()
    out = tmp_path / "public"
    publish(small_db, out)
    for ds in (make_datasette(small_db, pages=True), make_public_datasette(out)):
        task, standard = get(ds, f"/standard/{w1}").text, get(ds, f"/standard/{nq1}").text
        assert "needs re-review" in task and "needs re-review" in standard
        assert "No decision certifies it now: every one needs re-review." in standard


def test_standards_without_a_subject_are_listed_and_linked_under_no_subject(tmp_path, welding_xlsx):
    """Academic standards imported without a subject: the program page's domain links (which named no
    subject) were 404s, '(no subject)' was a 404, the gaps page listed none of them, and the report
    said "(None 1/3)"."""
    import urllib.parse

    from crosswalk.importer import import_file
    from crosswalk.matching import match
    from crosswalk.report import write_report

    from .conftest import write_csv

    path = tmp_path / "nosubject.db"
    db = open_db(path)
    import_file(db, welding_xlsx, framework="Welding", kind="industry")
    import_file(db, write_csv(tmp_path / "dwa.csv", [
        ["Code", "Statement", "Domain"],
        ["D.1", "Measure dimensions of workpieces with rulers and calipers.", "Measuring"],
        ["D.2", "Read technical drawings of joints.", "Reading"],
        ["D.3", "Write reports of workplace incidents.", "Reading"]]), framework="DWAs", kind="academic")
    match(db, source="Welding", target="DWAs", top=3, use_embeddings=False)
    pid = add_program(db, "Welding", frameworks=["Welding"]).id
    accept(db, "W.1", "D.1", "A. Rivera", "2026-03-02T15:00:00+00:00")
    db.conn.commit()
    result = write_report(db, tmp_path / "r.xlsx", program="Welding")
    assert result.summary().endswith("((no subject) 1/3); it certifies once the crosswalk is approved")  # (a draft)
    db.close()
    publish(path, tmp_path / "public")
    no_subject = urllib.parse.quote_plus("(no subject)")
    for ds in (make_datasette(path, pages=True), make_public_datasette(tmp_path / "public")):
        page = get(ds, f"/program/{pid}")
        assert page.status_code == 200
        link = f"/program/{pid}?subject={no_subject}&amp;domain=Reading#certifies"
        assert link in page.text
        reading = get(ds, link.replace("&amp;", "&").split("#")[0])
        assert reading.status_code == 200 and "D.2" in reading.text and "D.3" in reading.text
        assert "D.1" not in reading.text
        gaps = get(ds, f"/gaps?subject={no_subject}")
        assert gaps.status_code == 200 and "D.2" in gaps.text and "D.3" in gaps.text and "D.1" not in gaps.text
    # A subject stored empty ('') rather than NULL is no subject too.
    with sqlite3.connect(path) as conn:
        conn.execute("update standards set subject = '' where code = 'D.2'")
    ds = make_datasette(path, pages=True)
    reading = get(ds, f"/program/{pid}?subject={no_subject}&domain=Reading")
    assert reading.status_code == 200 and "D.2" in reading.text and "D.3" in reading.text


def _listed(html, section):
    """The codes a standard's page lists in its section whose heading has the id ``section``."""
    part = html.split(f'id="{section}"', 1)[1].split("</section>", 1)[0]
    return re.findall(r'<a class="xw-code" href="/standard/\d+">([^<]+)</a>', part)


def test_a_standards_suggestions_awaiting_review_are_the_same_on_the_public_copy_and_the_working_site(small_db, tmp_path):
    """The query was written twice: the public page listed suggestions to statements retired since (3.OA.1
    after a re-import dropped it) that the working site hides (code audit 4)."""
    db = open_db(small_db)
    db.execute("update standards set status = 'retired' where code in ('3.OA.1', 'W.4')")
    db.conn.commit()
    [w1, gmg1] = [r["id"] for r in db.query("select id from standards where code in ('W.1', 'G-MG.1') order by code desc")]
    db.close()
    out = tmp_path / "public"
    publish(small_db, out, suggestions="label")
    working, public = make_datasette(small_db, pages=True), make_public_datasette(out)
    for standard, expected in ((w1, ["N-Q.1", "G-MG.1"]), (gmg1, ["W.2", "W.3", "W.1"])):
        assert _listed(get(working, f"/standard/{standard}").text, "awaiting") == expected
        assert _listed(get(public, f"/standard/{standard}").text, "not-reviewed") == expected


def test_a_standards_page_says_when_the_programs_aligning_it_are_not_approved(small_db, tmp_path):
    """Published without --approved-only, a standard's page said "Certified by 3 programs" when all three
    were drafts, and never showed a status (site audit 4): it names approved programs as certifying, and
    the others with their status."""
    db = open_db(small_db)
    add_program(db, "Welding Technology", frameworks=["Welding"])
    add_program(db, "Metal Fabrication", frameworks=["Welding"])
    set_status(db, "Metal Fabrication", "in review", "J. Chen")
    accept(db, "W.1", "N-Q.1", "A. Rivera", "2026-03-02T15:00:00+00:00")
    db.conn.commit()
    [nq1] = [r["id"] for r in db.query("select id from standards where code = 'N-Q.1'")]
    db.close()
    publish(small_db, tmp_path / "drafts")
    for ds in (make_datasette(small_db, pages=True), make_public_datasette(tmp_path / "drafts")):
        page = get(ds, f"/standard/{nq1}").text
        assert "Certified by" not in page
        assert ("Aligned in 2 programs&#39; crosswalks not yet approved: Metal Fabrication (in review), "
                "Welding Technology (draft).") in page
        assert page.count("(draft, not yet approved)") == page.count("(in review, not yet approved)") == 1
        assert "<em>approved</em> once signed off" in get(ds, "/").text  # the home page says what a status means
    db = open_db(small_db)
    set_status(db, "Welding Technology", "approved", "M. Levesque")
    db.close()
    publish(small_db, tmp_path / "approved")
    for ds in (make_datasette(small_db, pages=True), make_public_datasette(tmp_path / "approved")):
        page = get(ds, f"/standard/{nq1}").text
        assert "Certified by 1 approved program: Welding Technology." in page
        assert "Aligned in 1 program&#39;s crosswalk not yet approved: Metal Fabrication (in review)." in page
        assert "(draft, not yet approved)" not in page


def test_a_standard_is_called_a_gap_only_where_the_gaps_page_lists_it(small_db, tmp_path):
    """A standard outside every program's grade band (3.OA.1, grade 3, beside a 9-12 program) was "one of
    the gaps", linked to a /gaps page that does not list it; on an --approved-only copy with nothing
    approved the link was a 404 (site audit 7)."""
    db = open_db(small_db)
    add_program(db, "Welding Technology", frameworks=["Welding"])
    db.conn.commit()
    ids = {r["code"]: r["id"] for r in db.query("select id, code from standards where code in ('3.OA.1', 'G-MG.1')")}
    db.close()
    publish(small_db, tmp_path / "public")
    publish(small_db, tmp_path / "none-approved", approved_only=True)
    for ds in (make_datasette(small_db, pages=True), make_public_datasette(tmp_path / "public")):
        grade3 = get(ds, f"/standard/{ids['3.OA.1']}").text
        assert "No program's grade band includes it (Grade 3), so no program certifies it and it is not one of " \
               "the gaps." in grade3
        assert "/gaps?" not in grade3
        in_band = get(ds, f"/standard/{ids['G-MG.1']}").text
        assert 'it is one of the <a href="/gaps?subject=Math#list">gaps</a>' in in_band
        gaps = get(ds, "/gaps?subject=Math")
        assert gaps.status_code == 200 and "G-MG.1" in gaps.text and "3.OA.1" not in gaps.text
    nothing = get(make_public_datasette(tmp_path / "none-approved"), f"/standard/{ids['G-MG.1']}").text
    assert "No program's grade band includes it (Grades 9–12)" in nothing and "/gaps?" not in nothing


def test_search_counts_the_accepted_decisions_in_force_as_the_stores_view_does(small_db, tmp_path):
    """The search page counted accepted alignments itself, so a decision flagged for re-review (a statement
    changed since) was counted beside its "needs re-review" tag (code audit 13): it reads current_alignments."""
    db = open_db(small_db)
    accept(db, "W.1", "N-Q.1", "A. Rivera", "2026-03-02T15:00:00+00:00")
    accept(db, "W.2", "N-Q.1", "J. Chen", "2026-03-02T15:00:00+00:00")
    db.execute("update alignments set needs_review = 1, needs_review_reason = 'statement changed on re-import' "
               "where source_id = (select id from standards where code = 'W.2') and status = 'accepted'")
    db.conn.commit()
    in_force = db.execute("select count(*) from current_alignments where standard_code = 'N-Q.1' "
                          "and status = 'accepted'").fetchone()[0]
    db.close()
    assert in_force == 1
    publish(small_db, tmp_path / "public")
    for ds in (make_datasette(small_db, pages=True), make_public_datasette(tmp_path / "public")):
        found = get(ds, "/search?q=N-Q.1").text
        row = found.split(">N-Q.1</a>", 1)[1].split("</tr>", 1)[0]
        assert re.search(r'<td class="num">(\d+)', row).group(1) == str(in_force)
        assert "needs re-review" in row


def test_a_search_lists_the_standards_of_the_programs_bands_first(tmp_path):
    """An audit: /search?q=measure listed Grade 4, K and Grade 2 standards first (their statements are
    short, and the text search ranks short statements high) on a site whose programs are high school's,
    where no program certifies them. The standards of a program's band come first; the others follow,
    and with no program the text search's order is all there is."""
    from crosswalk.importer import import_file

    from .conftest import write_csv

    path = tmp_path / "search.db"
    db = open_db(path)
    import_file(db, write_csv(tmp_path / "math.csv", [
        ["code", "statement", "grade", "subject"],
        ["K.MD.1", "Measure lengths.", "K", "Math"],
        ["N-Q.1", "Use units to understand problems; choose units and measure quantities in a model.", "9-12", "Math"],
        ["MP.5", "Use tools to measure.", "", "Math"]]), framework="Math", kind="academic")
    import_file(db, write_csv(tmp_path / "tasks.csv", [["code", "statement"], ["W.1", "Weld a joint."]]),
                framework="Welding", kind="industry")
    db.close()

    def found(ds):
        page = get(ds, "/search?q=measure")
        assert page.status_code == 200
        return re.findall(r'<a class="xw-code" href="/standard/\d+">([^<]+)</a>', page.text)

    publish(path, tmp_path / "none")
    no_program = [found(ds) for ds in (make_datasette(path, pages=True), make_public_datasette(tmp_path / "none"))]
    assert no_program[0] == no_program[1] and no_program[0][0] == "K.MD.1" and len(no_program[0]) == 3
    db = open_db(path)
    add_program(db, "Welding Technology", frameworks=["Welding"])  # grades 9-12
    db.close()
    publish(path, tmp_path / "public")
    for ds in (make_datasette(path, pages=True), make_public_datasette(tmp_path / "public")):
        assert found(ds) == ["MP.5", "N-Q.1", "K.MD.1"]


def test_an_approved_only_copy_with_nothing_approved_says_so(small_db, tmp_path):
    """Published --approved-only before any program was approved, the home page said "No programs yet." and
    "0 of 0 academic standards … certified", and /gaps "0 of 0 … are not yet certified" over an empty
    chart: it read as broken (site audit 9)."""
    publish(small_db, tmp_path / "none")  # a database with no program at all: that is what it says
    for ds in (make_datasette(small_db, pages=True), make_public_datasette(tmp_path / "none")):
        assert "No programs yet." in get(ds, "/").text
    db = open_db(small_db)
    add_program(db, "Welding Technology", frameworks=["Welding"])
    add_program(db, "Metal Fabrication", frameworks=["Welding"])
    set_status(db, "Metal Fabrication", "in review", "J. Chen")
    db.close()
    publish(small_db, tmp_path / "public", approved_only=True)
    ds = make_public_datasette(tmp_path / "public")
    said = ("No program&#39;s crosswalk is approved yet, so none is published here; 2 programs are in progress "
            "(1 draft, 1 in review).")
    home, gaps = get(ds, "/").text, get(ds, "/gaps").text
    assert home.count(said) == gaps.count(said) == 1
    for page in (home, gaps):
        assert "No programs yet" not in page and "0 of 0" not in page and "<svg" not in page


def test_a_search_in_words_leaves_out_the_common_ones(tmp_path):
    """The home page's own example, "volume of a cylinder", missed HSG-GMD.A.3 ("Use volume formulas for
    cylinders…"), because "of" and "a" had to match too (site audit 8). A "quoted phrase" stays exact, and
    a search of common words alone still searches them."""
    from crosswalk.importer import import_file

    from .conftest import DATA, write_csv

    with open(DATA / "ccss_math.csv", encoding="utf-8") as fh:
        demo = [[r["code"], r["statement"], r["grade"], r["subject"]] for r in csv.DictReader(fh)
                if r["code"].startswith("HSG-GMD.A.") or r["code"] == "8.G.C.9"]
    assert len(demo) == 4
    path = tmp_path / "search.db"
    db = open_db(path)
    import_file(db, write_csv(tmp_path / "math.csv", [["code", "statement", "grade", "subject"], *demo]),
                framework="CCSS Math", kind="academic")
    db.close()
    publish(path, tmp_path / "public")

    def found(ds, q):
        page = get(ds, "/search?" + urllib.parse.urlencode({"q": q}))
        assert page.status_code == 200
        return sorted(re.findall(r'<a class="xw-code" href="/standard/\d+">([^<]+)</a>', page.text))

    for ds in (make_datasette(path, pages=True), make_public_datasette(tmp_path / "public")):
        assert found(ds, "volume of a cylinder") == ["8.G.C.9", "HSG-GMD.A.1", "HSG-GMD.A.3"]
        assert found(ds, '"volume of a cylinder"') == ["HSG-GMD.A.1"]
        assert found(ds, '"volume of a cylinder') == ["HSG-GMD.A.1"]  # a quote left open: a phrase to the end
        assert found(ds, "the") == ["8.G.C.9", "HSG-GMD.A.1", "HSG-GMD.A.2"]


def test_a_programs_page_links_the_table_of_the_evidence_it_shows(small_db, tmp_path):
    """A program's "same data as tables" linked its standards, what it certifies and its record, but not
    program_evidence, the only one holding the rationale, reviewer and date its evidence table shows
    (site audit 12)."""
    db = open_db(small_db)
    pid = add_program(db, "Welding Technology", frameworks=["Welding"]).id
    accept(db, "W.1", "N-Q.1", "A. Rivera", "2026-03-02T15:00:00+00:00")
    accept(db, "W.2", "G-MG.1", "J. Chen", "2026-03-04T15:00:00+00:00")
    db.conn.commit()
    db.close()
    publish(small_db, tmp_path / "public")
    for ds, name in ((make_datasette(small_db, pages=True), "small"), (make_public_datasette(tmp_path / "public"), "crosswalk")):
        link = f"/{name}/program_evidence?program_id={pid}"
        assert f'<a href="{link}">the evidence (tasks, rationales, reviewers, dates)</a>' in get(ds, f"/program/{pid}").text
        table = get(ds, link.replace("?", ".csv?") + "&_labels=off")
        assert table.status_code == 200
        rows = [(r["standard_code"], r["cte_code"], r["rationale"], r["reviewer"], r["reviewed_at"][:10])
                for r in csv.DictReader(table.text.splitlines())]
        assert sorted(rows) == [("G-MG.1", "W.2", "W.2 teaches G-MG.1", "J. Chen", "2026-03-04"),
                                ("N-Q.1", "W.1", "W.1 teaches N-Q.1", "A. Rivera", "2026-03-02")]


def test_the_public_suggestions_say_what_their_figure_is_and_how_they_are_ordered(small_db, tmp_path):
    """Published with --suggestions label, a standard's "Suggested, not reviewed" list showed a bare "Score"
    (15.9, 14.9, 17.0 …) with no unit, left out the confidence it selects, and did not say that a task's
    list is in the matcher's order, not by score (site audit 10)."""
    from crosswalk.text import score_text

    db = open_db(small_db)
    [w1] = [r["id"] for r in db.query("select id from standards where code = 'W.1'")]
    expected = [(r["code"], f"{score_text(r['score'])}%", f"{r['confidence']} confidence") for r in db.query(
        "select t.code, a.score, a.confidence from alignments a join standards t on t.id = a.target_id "
        "where a.source_id = ? order by a.rank", [w1])]
    db.close()
    assert len(expected) == 3
    publish(small_db, tmp_path / "public", suggestions="label")
    page = get(make_public_datasette(tmp_path / "public"), f"/standard/{w1}").text
    listed = page.split('id="not-reviewed"', 1)[1].split("</section>", 1)[0]
    assert '<th scope="col" class="num">Chance it is right</th>' in listed
    assert "this task's best match in each framework first, then the next best in each" in listed
    shown = re.findall(r'<a class="xw-code" href="/standard/\d+">([^<]+)</a>.*?<td class="num">([^<]+)'
                       r'<div class="xw-muted">([^<]+)</div>', listed, re.S)
    assert shown == expected
    # Each names its framework, under its statement (a task's list takes each framework's in turn).
    assert re.findall(r'</a> [^<]*<div class="xw-muted">([^<]+)</div></td>', listed) == ["Academic"] * 3


def test_a_case_exports_identifiers_resolve_on_the_public_copy(small_db, tmp_path):
    """`export --format case --base-url` the public site writes uri fields under it: an audit found the
    site served none of them. A standard's item leads to its page, an alignment to its academic
    standard's page, a framework's document to its standards, the crosswalk's document home."""
    from crosswalk.case import export_case, framework_uuid

    db = open_db(small_db)
    accept(db, "W.1", "N-Q.1", "A. Rivera", "2026-03-02T15:00:00+00:00")
    db.execute("update standards set parent_code = 'W.1', parent_id = (select id from standards where code = 'W.1') "
               "where code = 'W.2'")  # (a task under another: an isChildOf association)
    db.conn.commit()
    ids = dict(db.execute("select code, id from standards where code in ('W.1', 'N-Q.1', 'W.2')").fetchall())
    welding = db.execute("select id from frameworks where name = 'Welding'").fetchone()[0]
    package = export_case(db, base_uri="https://crosswalk.example.org/")
    single = export_case(db, ["Welding"], base_uri="https://crosswalk.example.org/")
    db.close()
    out = tmp_path / "public"
    publish(small_db, out)
    ds = make_public_datasette(out)

    def lands(uri):
        answer = get(ds, urllib.parse.urlsplit(uri).path)
        return answer.status_code, answer.headers.get("location")

    by_code = {i.get("humanCodingScheme"): i["uri"] for i in package["CFItems"]}
    aligned = next(a for a in package["CFAssociations"] if a["associationType"] == "exactMatchOf")
    child = next(a for a in package["CFAssociations"] if a["associationType"] == "isChildOf"
                 and a["originNodeURI"]["title"] == "W.2")
    assert child["destinationNodeURI"]["title"] == "W.1"
    assert lands(by_code["W.1"]) == (302, f"/standard/{ids['W.1']}")
    assert lands(aligned["uri"]) == (302, f"/standard/{ids['N-Q.1']}")
    assert lands(child["uri"]) == (302, f"/standard/{ids['W.2']}")
    assert lands(package["CFDocument"]["uri"]) == (302, "/")
    assert single["CFDocument"]["identifier"] == framework_uuid("Welding")
    assert lands(single["CFDocument"]["uri"]) == (302, f"/crosswalk/standards?framework_id={welding}")
    missing = get(ds, "/CFItems/00000000-0000-0000-0000-000000000000")
    assert missing.status_code == 404 and "Nothing in this crosswalk has the CASE identifier" in missing.text


def test_the_full_text_indexs_own_tables_are_not_browsed(small_db, tmp_path):
    """A crawl of both sites: Datasette listed the search index's shadow tables under "hidden tables",
    and their rows, keyed by bytes ("1,b'0aa'"), linked to pages answering 404. They are not shown,
    and not served; the search, which reads them, still finds."""
    out = tmp_path / "public"
    publish(small_db, out)
    for ds, name in ((make_public_datasette(out), "crosswalk"), (make_datasette(small_db, pages=True), "small")):
        listed = get(ds, f"/{name}?_show_hidden=1")
        assert listed.status_code == 200 and "standards_fts_idx" not in listed.text, name
        for table in ("standards_fts_idx", "standards_fts_data", "standards_fts_docsize", "standards_fts_config"):
            assert get(ds, f"/{name}/{table}").status_code == 403, (name, table)
        found = get(ds, "/search?q=calipers")
        assert found.status_code == 200 and ">W.1</a>" in found.text, name


def test_an_sssom_exports_reviewers_resolve_on_the_public_copy(small_db, tmp_path):
    """An SSSOM export's author_id (reviewer:A._Rivera, under --base-url the public site) named a page
    the site did not serve: it leads to the alignments that reviewer decided."""
    from crosswalk.exports import write_sssom

    db = open_db(small_db)
    accept(db, "W.1", "N-Q.1", "Å. Rivera", "2026-03-02T15:00:00+00:00")
    db.conn.commit()
    write_sssom(db, tmp_path / "x.sssom.tsv", base_url="https://crosswalk.example.org/")
    db.close()
    text = (tmp_path / "x.sssom.tsv").read_text(encoding="utf-8")
    base = re.search(r"reviewer: (\S+)", text).group(1)
    header = next(line for line in text.splitlines() if not line.startswith("#")).split("\t")
    row = next(line for line in text.splitlines() if "N-Q.1" in line).split("\t")
    author = row[header.index("author_id")]
    assert author == "reviewer:%C3%85._Rivera" and base == "https://crosswalk.example.org/reviewer/"
    out = tmp_path / "public"
    publish(small_db, out)
    ds = make_public_datasette(out)
    answer = get(ds, urllib.parse.urlsplit(base + author.split(":", 1)[1]).path)
    assert (answer.status_code, answer.headers["location"]) == (
        302, "/crosswalk/alignments?reviewer=%C3%85.+Rivera")
    assert "Å. Rivera" in get(ds, answer.headers["location"]).text
    assert get(ds, "/reviewer/Nobody").status_code == 404
