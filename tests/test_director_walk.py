"""A CTE director's day on the demo, in a real browser (Playwright driving Debian's Chromium).

`crosswalk demo` builds the demo and serves it; the director signs in with the name and the
password it prints, walks from the heat map to a gap and a suggestion, accepts it with a rationale,
sees the program's coverage change, approves the program, publishes, and finds the approval on the
public copy. axe-core (the npm package's build, shipped in the axe-playwright-python wheel) checks
the pages for serious and critical accessibility violations. With --screenshots: tests/artifacts/walk-*.png.
"""

import os
import pathlib
import re
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request

import pytest
from playwright.sync_api import sync_playwright

from crosswalk.db import being_served
from crosswalk.publish import publish

from .test_public_site import CHROMIUM, CHROMIUM_ARGS
from .test_site import free_port

# One test process runs this file (`./run test` runs pytest with --dist loadgroup):
# its demo server and Chromium start once per run, not once per process.
pytestmark = pytest.mark.xdist_group("director_walk")

PROGRAM = "Welding Technology"
PASSWORD_LINE = re.compile(r"sign in at (\S+) as '([^']+)' with the password (\S+)")


def axe_source():
    try:
        import axe_playwright_python
    except ImportError:
        pytest.skip("axe-playwright-python is not installed (pip install -e '.[test]')")
    return (pathlib.Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text(encoding="utf-8")


class Server:
    """A crosswalk command serving a site in a subprocess; its stderr lines are collected as they come."""

    def __init__(self, args, ready, timeout=600):
        env = {k: v for k, v in os.environ.items() if not k.startswith("CROSSWALK_REVIEWER")}
        self.proc = subprocess.Popen([sys.executable, "-m", "crosswalk.cli", *args], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, env=env)
        self.lines = []
        threading.Thread(target=self._drain, args=(self.proc.stderr,), daemon=True).start()
        threading.Thread(target=self._drain, args=(self.proc.stdout,), daemon=True).start()
        deadline = time.time() + timeout
        while not ready(self):
            if self.proc.poll() is not None or time.time() > deadline:
                self.stop()
                pytest.fail("the site did not start:\n" + "".join(self.lines))
            time.sleep(0.3)

    def _drain(self, stream):
        for line in stream:
            self.lines.append(line)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


def answers(url):
    try:
        urllib.request.urlopen(url, timeout=2).read()
        return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def demo_site(demo, tmp_path_factory):
    """`crosswalk demo` as a director runs it the second time: the demo it built before (a copy of the
    session's, built by `crosswalk demo`), served, with a password printed."""
    if not pathlib.Path(CHROMIUM).exists():
        pytest.skip(f"Chromium not installed at {CHROMIUM}")
    path = tmp_path_factory.mktemp("walk") / "crosswalk-demo.db"
    shutil.copy(demo.path, path)
    port = free_port()
    found = {}

    def ready(server):
        for line in server.lines:
            match = PASSWORD_LINE.search(line)
            if match:
                found.update(login=match.group(1), username=match.group(2), password=match.group(3))
        return bool(found) and answers(f"http://127.0.0.1:{port}/-/versions.json")

    server = Server(["demo", "--db", str(path), "--no-embeddings", "--silent", "--port", str(port)], ready)
    try:
        assert any(line.startswith(f"Kept the demo built earlier at {path}, with its decisions")
                   for line in server.lines)
        yield dict(base=f"http://127.0.0.1:{port}", path=path, **found)
    finally:
        server.stop()
    assert not being_served(path)  # stopped, it no longer holds the demo (`demo --fresh` may replace it)


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def read(path, sql, params=()):
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def coverage_table(page):
    """The program page's coverage table: subject -> (certified, standards, percent text)."""
    out = {}
    rows = page.locator(".xw-coverage tbody tr")
    for i in range(rows.count()):
        cells = rows.nth(i).locator("td").all_inner_texts()
        out[cells[0]] = (int(cells[1]) + int(cells[2]), int(cells[3]), cells[4])
    return out


def test_a_directors_day(demo_site, browser, tmp_path, shot):
    base, path = demo_site["base"], demo_site["path"]
    assert demo_site["login"] == base + "/-/login" and demo_site["username"] == "director"
    assert len(demo_site["password"]) >= 16
    program_id, low, high, status = read(path, "select id, grade_low, grade_high, status from programs where name = ?",
                                         [PROGRAM])[0]
    assert (low, high, status) == (9, 12, "draft")
    # A Math standard of the band that Welding does not certify yet, with a suggestion from a Welding task.
    gap_id, gap_code, alignment_id, task_code = read(path, """
        select ps.standard_id, ps.standard_code, a.id, s.code
        from program_standards ps
        join alignments a on a.target_id = ps.standard_id and a.status = 'suggested'
        join standards s on s.id = a.source_id
        join program_frameworks pf on pf.framework_id = s.framework_id and pf.program_id = ps.program_id
        where ps.program_id = ? and ps.subject = 'Math' and ps.strength is null
        order by ps.standard_position, ps.standard_code, a.score desc limit 1
    """, [program_id])[0]

    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=base)
    page = context.new_page()
    outside = []
    page.on("request", lambda r: None if r.url.startswith(base) or r.url.startswith("data:") else outside.append(r.url))

    # 1. Home: the programs with their review progress, and the heat map.
    page.goto("/")
    assert page.locator("h1").inner_text() == "CTE programs and the academic standards they certify"
    progress = dict(zip(["suggested", "accepted", "rejected"], read(path, """
        select suggested, accepted, rejected from program_progress where program_id = ?""", [program_id])[0]))
    row = page.locator(".xw-programs tbody tr", has=page.get_by_role("link", name=PROGRAM, exact=True))
    cells = row.locator("td").all_inner_texts()
    assert cells[2] == "Grades 9–12" and cells[3] == "Draft"
    assert [int(c) for c in cells[5:8]] == [progress["suggested"], progress["accepted"], progress["rejected"]]
    heat = page.locator(".xw-heat-map")
    assert heat.locator("tbody tr").count() == 8
    shot(page, "walk-01-home")

    # 2. A heat map cell: Welding × Math opens the program page, listing the band's Math standards.
    math_before = read(path, "select certified, standards, percent from program_coverage where program_id = ? "
                             "and subject = 'Math'", [program_id])[0]
    cell = heat.locator("tbody tr", has=page.get_by_role("link", name=PROGRAM, exact=True)).locator(
        "td a[href*='subject=Math']")
    assert cell.inner_text().startswith(f"{math_before[2]:.1f}%")
    cell.click()
    page.wait_for_url(re.compile(rf"/program/{program_id}\?subject=Math#certifies$"))
    assert page.locator("h1").inner_text() == PROGRAM
    assert page.locator("#certifies").inner_text() == "Math: the standards of Grades 9–12"
    shot(page, "walk-02-heat-map-cell")

    # 3. The program page: coverage of its grade band, as the store counts it, with a chart.
    page.goto(f"/program/{program_id}")
    expected = {s: (c, n, f"{p:.1f}%") for s, c, n, p in read(
        path, "select subject, certified, standards, percent from program_coverage where program_id = ?", [program_id])}
    assert coverage_table(page) == expected
    assert page.locator("svg.coverage-chart").count() == 1
    assert page.locator(".xw-coverage thead th").all_inner_texts()[1:3] == ["Accepted in full", "Accepted in part"]
    assert "Status: Draft" in page.locator(".xw-status-line").inner_text()
    assert f"{progress['suggested']} suggestions awaiting review" in page.locator(".xw-progress").inner_text()
    shot(page, "walk-03-program")

    # 4. A gap: the Math standard no one accepted, from the program's Math list.
    page.goto(f"/program/{program_id}?subject=Math")
    gap_row = page.locator(".xw-certifies tbody tr", has=page.get_by_role("link", name=gap_code, exact=True))
    pager = 1
    while gap_row.count() == 0:  # the list is paged: 50 standards a page
        pager += 1
        page.goto(f"/program/{program_id}?subject=Math&page={pager}")
    assert "not accepted" in gap_row.first.inner_text()  # (a draft: nothing of it certifies yet)
    gap_row.first.get_by_role("link", name=gap_code, exact=True).click()
    page.wait_for_url(re.compile(rf"/standard/{gap_id}$"))
    assert page.locator("h1").inner_text() == gap_code
    shot(page, "walk-04-gap")

    # 5. A suggestion for it, with its evidence; anonymous visitors read but cannot decide.
    suggestion = page.locator(f"#a{alignment_id}")
    assert task_code in suggestion.inner_text()
    assert suggestion.locator("form").count() == 0
    shot(page, "walk-05-suggestion")

    # 6. Sign in with the name and password the demo printed.
    page.get_by_role("link", name="Sign in to review").click()
    page.fill("input[name=username]", demo_site["username"])
    page.fill("input[name=password]", demo_site["password"])
    page.click("input[type=submit]")
    page.wait_for_url(base + f"/standard/{gap_id}")  # back on the page the director signed in from
    assert "Signed in as director" in page.locator("header").inner_text()
    shot(page, "walk-06-signed-in")

    # 7. Accept the suggestion with a rationale.
    form = page.locator(f"#a{alignment_id} form")
    form.locator("textarea").fill("Welders compute this when they lay out joints.")
    form.get_by_role("button", name="Accept (full)").click()
    # Back on the standard, at the suggestion listed next (the decided one has left the list).
    page.wait_for_url(re.compile(rf"/standard/{gap_id}#a\d+$"))
    assert page.locator(".xw-message").inner_text().startswith(f"Recorded: alignment {alignment_id}")
    assert read(path, "select status, strength, rationale, reviewer, review_via is null from alignments where id = ?",
                [alignment_id])[0] == ("accepted", "full", "Welders compute this when they lay out joints.",
                                       "director", 1)
    assert read(path, "select action, reviewer, via from review_log where alignment_id = ? order by id desc limit 1",
                [alignment_id])[0] == ("accept", "director", "site")
    assert PROGRAM in page.locator(".xw-evidence").inner_text()
    shot(page, "walk-07-accepted")

    # 8. The program's coverage changed: one more Math standard certified.
    page.goto(f"/program/{program_id}")
    after = coverage_table(page)
    assert after["Math"][0] == math_before[0] + 1 and after["Math"][1] == math_before[1]
    assert after == {s: (c, n, f"{p:.1f}%") for s, c, n, p in read(
        path, "select subject, certified, standards, percent from program_coverage where program_id = ?", [program_id])}
    shot(page, "walk-08-coverage-changed")

    # 9. Approve the program.
    page.select_option("#status", "approved")
    page.get_by_role("button", name="Set the status").click()
    page.wait_for_url(re.compile(rf"/program/{program_id}$"))
    today = read(path, "select substr(status_at, 1, 10) from programs where id = ?", [program_id])[0][0]
    assert page.locator(".xw-status-line").inner_text() == f"Status: Approved by director on {today}"
    assert read(path, "select status, status_by from programs where id = ?", [program_id])[0] == ("approved", "director")
    assert read(path, "select action, new_status, reviewer, via from review_log where program_id = ? "
                      "and alignment_id is null order by id desc limit 1",
                [program_id])[0] == ("approve", "approved", "director", "site")
    shot(page, "walk-09-approved")
    assert outside == []
    context.close()

    # 10. Publish, serve the public copy: it shows the approval, and the accepted evidence.
    out = tmp_path / "public"
    publish(path, out)
    port = free_port()
    public = Server(["serve", str(out), "--port", str(port), "--workers", "1"],
                    lambda s: answers(f"http://127.0.0.1:{port}/"), timeout=60)
    try:
        context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=f"http://127.0.0.1:{port}")
        page = context.new_page()
        page.goto(f"/program/{program_id}")
        assert page.locator(".xw-status-line").inner_text() == f"Status: Approved by director on {today}"
        assert page.locator(".xw-working").count() == 0 and page.locator("form.xw-decide").count() == 0
        assert "Welders compute this when they lay out joints." in page.locator(".xw-evidence").inner_text()
        shot(page, "walk-10-public-approved")
        context.close()
    finally:
        public.stop()


SERIOUS = ("serious", "critical")


def start_axe(page, source):
    """Start axe-core on the page and return at once: each page is its own renderer process, so
    the pages are checked side by side (the ten pages: 24 s one after another)."""
    page.add_script_tag(content=source)
    page.evaluate("() => { window.axeResult = axe.run(document, {resultTypes: ['violations']}); }")


def axe_violations(page):
    result = page.evaluate("window.axeResult")  # waits for the run started by start_axe
    return [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in result["violations"]
            if v["impact"] in SERIOUS]


def test_no_serious_accessibility_violations(demo_site, browser):
    source = axe_source()
    base, path = demo_site["base"], demo_site["path"]
    program_id = read(path, "select id from programs where name = ?", [PROGRAM])[0][0]
    standard_id = read(path, "select target_id from alignments where status = 'accepted' order by id limit 1")[0][0]
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=base)
    page = context.new_page()
    # Signed in, so that the pages carry their decision and sign-off forms too.
    page.goto("/-/login")
    page.fill("input[name=username]", demo_site["username"])
    page.fill("input[name=password]", demo_site["password"])
    page.click("input[type=submit]")
    page.wait_for_url(base + "/")
    pages = {}
    for name, url in [("home", "/"), ("program", f"/program/{program_id}"),
                      ("program-subject", f"/program/{program_id}?subject=Math"),
                      ("standard", f"/standard/{standard_id}"), ("gaps", "/gaps"), ("gaps-subject", "/gaps?subject=Math"),
                      ("search", "/search?q=measure"), ("search-empty", "/search?q="),
                      ("review", f"/program/{program_id}/review"), ("review-queue", "/-/review"),
                      # Datasette's own pages, as the site serves them (a row of standards scrolls sideways)
                      ("database", "/crosswalk-demo"), ("table", "/crosswalk-demo/standards"),
                      ("row", f"/crosswalk-demo/standards/{standard_id}"),
                      ("query", "/crosswalk-demo?sql=select+*+from+standards+limit+20"),
                      ("canned", "/crosswalk-demo/evidence_for_a_standard")]:
        pages[name] = context.new_page()
        response = pages[name].goto(url)
        assert response.status == 200, url
        start_axe(pages[name], source)
    # The sign-in page, as a visitor who is not signed in sees it.
    visitor = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=base)
    pages["login"] = visitor.new_page()
    assert pages["login"].goto("/-/login").status == 200
    assert pages["login"].locator("input[name=password]").count() == 1
    start_axe(pages["login"], source)
    found = {name: axe_violations(checked) for name, checked in pages.items()}
    context.close()
    visitor.close()
    assert found == {name: [] for name in found}
