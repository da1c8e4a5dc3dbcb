"""The limits every crosswalk site keeps (crosswalk.site_guard), against the real published site (issue 16)."""

import asyncio
import csv
import io
import pathlib
import shutil
import json
import sqlite3

import pytest
from datasette.plugins import pm

from crosswalk.site import make_datasette, make_public_datasette
from crosswalk.site_guard import complete_records, safe_csv

# One test process runs this file (`./run test` runs pytest with --dist loadgroup):
# its hostile copy of the published site is made once per run.
pytestmark = pytest.mark.xdist_group("site_guard")

FORMULA = '=HYPERLINK("http://evil.example","x")'


def get(ds, path):
    return asyncio.run(ds.client.get(path))


@pytest.fixture(scope="module")
def evil_published(published, tmp_path_factory):
    """The published demo with a formula as one alignment's rationale and one standard's statement."""
    out = tmp_path_factory.mktemp("evil") / "site"
    shutil.copytree(published, out)
    conn = sqlite3.connect(out / "crosswalk.db")
    conn.execute("update alignments set rationale = ? where id = (select min(id) from alignments)", [FORMULA])
    conn.execute("update standards set statement = ? where id = (select min(id) from standards)", ["@SUM(1+1)"])
    conn.commit()
    conn.close()
    return out


@pytest.fixture(scope="module")
def ds(evil_published):
    return make_public_datasette(evil_published)


def test_a_huge_value_is_an_error_at_once(ds):
    response = get(ds, "/crosswalk.json?sql=select+randomblob(1000000000)")
    assert response.status_code == 400
    assert "too big" in response.json()["error"]
    # A result as wide as it likes is refused too; ordinary queries are not.
    wide = ",".join(f"{i} as c{i}" for i in range(200))
    assert get(ds, f"/crosswalk.json?sql=select+{wide}").status_code == 400
    ok = get(ds, "/crosswalk.json?sql=select+length(randomblob(1000))+as+n&_shape=array")
    assert ok.status_code == 200 and ok.json() == [{"n": 1000}]


def test_a_result_too_big_in_total_is_an_error_not_gigabytes(ds):
    # 300 values of almost 1 MB each: every one within the value limit, 300 MB together.
    rows = "with+recursive+c(x)+as+(select+1+union+all+select+x%2B1+from+c+where+x<300)"
    response = get(ds, f"/crosswalk.json?sql={rows}+select+randomblob(999999)+from+c")
    assert response.status_code == 400
    assert "result too big" in response.json()["error"]
    # The same rows with short values are an ordinary answer, and the next query counts afresh.
    # (zeroblob: 300 random megabytes took 1.4 s alone and passed the 3 s time limit under the
    # suite's load, failing the test for the wrong reason.)
    small = get(ds, f"/crosswalk.json?sql={rows}+select+length(zeroblob(999999))+as+n+from+c&_shape=array")
    assert small.status_code == 200 and len(small.json()) == 300
    fifteen = get(ds, f"/crosswalk.json?sql={rows}+select+randomblob(999999)+from+c+limit+15&_shape=array")
    assert fifteen.status_code == 200 and len(fifteen.json()) == 15


def test_the_result_budget_counts_each_query_on_its_own():
    from crosswalk.site_guard import bounded_rows
    conn = sqlite3.connect(":memory:")
    conn.row_factory = bounded_rows(budget=1000)
    assert conn.execute("select 'x' as a, 2 as b").fetchone()["a"] == "x"  # rows are sqlite3.Row
    for _ in range(3):  # 900 bytes each time: the count starts again with every cursor
        assert len(conn.execute("select zeroblob(300) from (values (1), (2), (3))").fetchall()) == 3
    with pytest.raises(sqlite3.DataError, match="result too big"):
        conn.execute("select zeroblob(300) from (values (1), (2), (3), (4))").fetchall()


def test_no_server_path_in_sql_results(ds, evil_published):
    response = get(ds, "/crosswalk.json?sql=select+*+from+pragma_database_list&_shape=array")
    assert response.status_code == 200
    rows = response.json()
    assert rows and rows[0]["name"] == "main" and rows[0]["file"] is None
    assert str(evil_published) not in response.text
    assert get(ds, "/crosswalk").status_code == 200  # the database page still lists attached databases


def test_hardening_headers_on_every_page(ds):
    for path in ("/", "/crosswalk", "/crosswalk/standards", "/crosswalk/standards.json", "/-/static/app.css",
                 "/nope", "/crosswalk.json?sql=select+1"):
        headers = get(ds, path).headers
        assert "frame-ancestors 'none'" in headers["content-security-policy"], path
        assert "default-src 'self'" in headers["content-security-policy"], path
        assert headers["x-content-type-options"] == "nosniff", path
        assert headers["referrer-policy"], path
        assert headers["x-frame-options"] == "DENY", path
    # One of each, not two (Datasette sets its own Referrer-Policy on some pages).
    assert get(ds, "/crosswalk").headers.get_list("referrer-policy").__len__() == 1


def test_a_program_or_standard_that_is_not_a_number_gets_the_sites_404(ds):
    for path, said in (("/program/abc", "There is no program “abc”"), ("/standard/%C3%A9", "There is no standard “é”")):
        page = get(ds, path)
        assert page.status_code == 404 and said in page.text and 'class="xw-nav"' in page.text, path
    assert get(ds, "/crosswalk/programs").status_code == 200  # the database's own tables are still there


def test_no_sign_in_page_on_the_public_copy(ds):
    """No one signs in to the public copy: /-/login is the site's own 404 saying so, not a sign-in
    form over "This instance does not have any configured accounts"."""
    page = get(ds, "/-/login")
    assert page.status_code == 404 and "this is the public copy of the crosswalk" in page.text
    assert 'type="password"' not in page.text


def test_the_public_copy_has_no_pages_about_the_server(ds, evil_published):
    """Datasette's /-/databases gave the database file's path on the server; /-/versions and /-/plugins
    what it runs. The public copy answers them with its 404; its data and metadata stay."""
    for path in ("/-/databases.json", "/-/databases", "/-/versions.json", "/-/plugins.json", "/-/threads.json",
                 "/-/allow-debug", "/-/permissions", "/-/patterns", "/-/actor.json"):
        page = get(ds, path)
        assert page.status_code == 404 and str(evil_published) not in page.text, path
    assert get(ds, "/-/metadata.json").status_code == 200 and get(ds, "/crosswalk.json").status_code == 200


def test_the_database_download_has_its_length_and_no_chunked_encoding(ds, evil_published):
    """Datasette sends both Content-Length and Transfer-Encoding: chunked for the database file
    (simonw/datasette#2663); HTTP forbids the pair and strict clients refuse it."""
    response = get(ds, "/crosswalk.db")
    assert response.status_code == 200
    assert response.headers["content-length"] == str((evil_published / "crosswalk.db").stat().st_size)
    assert "transfer-encoding" not in response.headers
    assert response.content == (evil_published / "crosswalk.db").read_bytes()


def test_csv_downloads_hold_no_formula(ds):
    for path in ("/crosswalk/alignments.csv?_size=max", "/crosswalk/standards.csv?_stream=1",
                 "/crosswalk/alignments.csv?_dl=1&_size=max",
                 "/crosswalk.csv?sql=select+rationale+from+alignments+where+rationale+like+'%25HYPERLINK%25'"):
        response = get(ds, path)
        assert response.status_code == 200, path
        rows = list(csv.reader(io.StringIO(response.text)))
        cells = [c for row in rows for c in row]
        assert not [c for c in cells if c[:1] in ("=", "+", "@", "|")], path
        if "alignments" in path:
            assert "'" + FORMULA in cells, path
    standards = list(csv.reader(io.StringIO(get(ds, "/crosswalk/standards.csv?_stream=1").text)))
    assert "'@SUM(1+1)" in [c for row in standards for c in row]


def test_csv_records_are_kept_whole_across_chunks():
    data = b'a,b\r\n"=x\r\ny",-3\r\n@z,"q""=r"\r\n'
    assert safe_csv(data) == b'a,b\r\n"\'=x\r\ny",-3\r\n\'@z,"q""=r"\r\n'
    assert complete_records(b'a,b\r\n"=x\r\ny",') == len(b"a,b\r\n")  # the quoted line break is no end
    assert complete_records(data) == len(data)


def test_a_bad_sort_is_400_with_a_message(ds):
    for path in ("/crosswalk/standards?_sort=nope", "/crosswalk/standards.json?_sort_desc=nope"):
        response = get(ds, path)
        assert response.status_code == 400, path
        assert "Cannot sort table by nope" in response.text, path


def test_the_working_site_has_the_guard_too(reviewed_demo):
    ds = make_datasette(reviewed_demo)
    name = reviewed_demo.stem if hasattr(reviewed_demo, "stem") else "crosswalk-demo"
    assert get(ds, f"/{name}.json?sql=select+randomblob(1000000000)").status_code == 400
    assert "frame-ancestors" in get(ds, "/").headers["content-security-policy"]


def test_a_post_to_a_table_is_refused_not_a_server_error(reviewed_demo):
    ds = make_datasette(reviewed_demo, pages=True)
    name = reviewed_demo.stem
    response = asyncio.run(ds.client.post(f"/{name}/alignments", data={"status": "accepted"}))
    assert response.status_code == 405 and "Nothing is written here" in response.text


def test_no_sign_in_page_on_a_working_site_served_without_review(reviewed_demo):
    """The working site without --review: /-/login says how to review on it, rather than showing
    datasette-auth-passwords' form over no accounts (the review site's sign-in: test_review_site)."""
    page = get(make_datasette(reviewed_demo, pages=True), "/-/login")
    assert page.status_code == 404 and "crosswalk serve DATABASE --review" in page.text
    assert 'type="password"' not in page.text


def test_a_served_public_copy_guards_each_request_once(ds, monkeypatch):
    # `crosswalk serve OUTDIR` registers the package's guard and loads the published folder's copy:
    # both are plugins of the site, and one of them guards each request.
    copies = [m for m in pm.get_plugins() if getattr(m, "safe_csv", None) and getattr(m, "GUARDED", None)]
    assert {pathlib.Path(m.__file__).name for m in copies} == {"site_guard.py", "crosswalk_site_guard.py"}
    guards = []  # which copy wrote each part of the download
    for module in copies:
        monkeypatch.setattr(module, "safe_csv", lambda data, m=module, real=module.safe_csv: guards.append(m) or real(data))
    response = get(ds, "/crosswalk/standards.csv?_size=5")
    assert response.status_code == 200 and "'@SUM(1+1)" in response.text
    assert guards and len(set(guards)) == 1
    assert response.headers["x-frame-options"] == "DENY"


def test_a_plain_datasette_in_the_same_process_keeps_none_of_the_guard(ds, reviewed_demo, tmp_path):
    """Datasette's plugin manager is one for the process: the guard (the package's and the published
    folder's copy, both registered by now) acts on crosswalk's sites only, not on a user's own Datasette."""
    from datasette.app import Datasette
    assert get(ds, "/").headers["x-frame-options"] == "DENY"
    assert get(make_datasette(reviewed_demo), "/").headers["x-frame-options"] == "DENY"
    path = tmp_path / "mine.db"
    conn = sqlite3.connect(path)
    conn.execute("create table notes (id integer primary key, body text)")
    conn.execute("insert into notes (body) values ('=1+1')")
    conn.commit()
    conn.close()
    plain = Datasette([str(path)])
    headers = get(plain, "/").headers
    assert not {"content-security-policy", "x-frame-options", "x-content-type-options"} & set(headers), headers
    assert get(plain, "/mine.json?sql=select+length(zeroblob(2000000))+as+n&_shape=array").json() == [{"n": 2000000}]
    wide = ",".join(f"{i} as c{i}" for i in range(200))
    assert get(plain, f"/mine.json?sql=select+{wide}").status_code == 200
    files = get(plain, "/mine.json?sql=select+file+from+pragma_database_list&_shape=array").json()
    assert files == [{"file": str(path)}]
    assert "=1+1" in get(plain, "/mine/notes.csv").text.splitlines()[1]


def test_a_published_folder_served_by_plain_datasette_without_its_metadata_is_still_guarded(evil_published):
    """Its plugins hold the guard's copy: served by Datasette alone (a host that ignores metadata.yml,
    in a process that never imports crosswalk), it still guards the site. It acted only where the
    metadata named it: no CSP, a 100 MB answer, and formulas in CSV (diff review)."""
    import subprocess
    import sys

    script = (
        "import asyncio, json, sys\n"
        "from datasette.app import Datasette\n"
        "folder = sys.argv[1]\n"
        "ds = Datasette(immutables=[folder + '/crosswalk.db'], plugins_dir=folder + '/plugins')\n"
        "async def main():\n"
        "    out = {}\n"
        "    for url in ('/crosswalk/standards', '/crosswalk.json?sql=select+length(randomblob(100000000))',\n"
        "                '/crosswalk.csv?sql=select+%27%3D1%2B1%27+as+x'):\n"
        "        r = await ds.client.get(url)\n"
        "        out[url] = [r.status_code, r.headers.get('content-security-policy', '')[:11], r.text[-12:]]\n"
        "    print(json.dumps(out))\n"
        "asyncio.run(main())\n"
        "assert 'crosswalk' not in sys.modules and 'crosswalk.site_guard' not in sys.modules\n")
    done = subprocess.run([sys.executable, "-c", script, str(evil_published)], capture_output=True, text=True,
                          timeout=120, cwd=evil_published)
    assert done.returncode == 0, done.stderr
    answers = json.loads(done.stdout)
    assert answers["/crosswalk/standards"][:2] == [200, "default-src"]
    assert answers["/crosswalk.json?sql=select+length(randomblob(100000000))"][0] == 400
    assert answers["/crosswalk.csv?sql=select+%27%3D1%2B1%27+as+x"][2].strip().endswith("'=1+1")
