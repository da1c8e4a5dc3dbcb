"""The site's title, description, license, source and attribution lines come from the data and the
user's settings, never from the demo's sources: a district's site credits only what it imported."""

import asyncio
import re
from html import unescape

import pytest
import yaml

from crosswalk.cli import cli
from crosswalk.db import open_db
from crosswalk.errors import CrosswalkError
from crosswalk.importer import import_file
from crosswalk.metadata import CIP_NOTICE, CLUSTER_NOTICE, data_attribution, read_settings
from crosswalk.programs import add_program
from crosswalk.publish import publish
from crosswalk.site import make_datasette, make_public_datasette

from .conftest import write_csv

# What the demo's sources would add to a site that did not import them (CIP 2020 and Perkins IV are
# credited only when programs use CIP codes or Career Clusters; a column description may name them).
DEMO_FRAMEWORKS = ("O*NET", "onetcenter", "NGSS", "Next Generation Science", "CCSS", "Common Core", "corestandards",
                   "National Governors", "maine.gov", "Maine Learning Results")
DEMO_SOURCES = DEMO_FRAMEWORKS + ("CIP 2020", "Perkins")
TASKS_NOTICE = "Welding task list © 2026 Capital Region CTE. Used with permission."
STATE_NOTICE = "Example State Learning Standards, Example State Department of Education."
READINESS_NOTICE = "Career readiness standards, Example State Workforce Board."


def get(ds, path):
    async def run():
        return await ds.client.get(path)
    return asyncio.run(run())


@pytest.fixture
def own_db(tmp_path, welding_xlsx, academic_csv):
    """A district's database: its own task list and its state's standards, nothing of the demo's."""
    path = tmp_path / "district.db"
    db = open_db(path)
    import_file(db, welding_xlsx, framework="Welding tasks", kind="industry", publisher="Capital Region CTE",
                license="CC BY-NC 4.0", attribution=TASKS_NOTICE, source_url="https://cte.example.org/welding")
    import_file(db, academic_csv, framework="Example State Learning Standards", kind="academic",
                publisher="Example State DOE", license="Public domain", attribution=STATE_NOTICE,
                source_url="https://doe.example.gov/standards")
    add_program(db, "Welding Technology", frameworks=["Welding tasks"])
    db.close()
    return path


def test_attribution_is_read_from_the_frameworks(own_db):
    assert data_attribution(own_db) == {
        "license": "Public domain; CC BY-NC 4.0",
        "source": "Example State DOE; Capital Region CTE",
        "source_url": None,  # two sources: no one link
        "notices": [STATE_NOTICE, TASKS_NOTICE],
    }


def test_a_districts_site_credits_only_its_own_sources(own_db, tmp_path):
    out = tmp_path / "public"
    publish(own_db, out)
    metadata = yaml.safe_load((out / "metadata.yml").read_text(encoding="utf-8"))
    assert metadata["title"] == "crosswalk"
    assert metadata["license"] == "Public domain; CC BY-NC 4.0"
    assert metadata["source"] == "Example State DOE; Capital Region CTE"
    assert "license_url" not in metadata and "source_url" not in metadata
    assert f"Sources and attribution: {STATE_NOTICE} {TASKS_NOTICE}</small>" in metadata["description_html"]
    lines = " ".join(metadata[key] for key in ("title", "license", "source", "description_html"))
    assert not [source for source in DEMO_SOURCES if source in lines]
    ds = make_public_datasette(out)
    for path in ("/", "/program/1", "/gaps", "/-/metadata.json"):
        page = get(ds, path)
        assert page.status_code == 200, path
        sources = DEMO_FRAMEWORKS if path == "/-/metadata.json" else DEMO_SOURCES
        assert not [source for source in sources if source in page.text], path
    home = get(ds, "/").text
    assert TASKS_NOTICE in home and STATE_NOTICE in home
    assert "Data license:\n    Public domain; CC BY-NC 4.0" in home
    # The working database's site says the same.
    ds = make_datasette(own_db)
    assert ds.metadata("license") == "Public domain; CC BY-NC 4.0"
    assert ds.metadata("source") == "Example State DOE; Capital Region CTE"
    for path in ("/", "/-/metadata.json"):
        page = get(ds, path)
        assert page.status_code == 200 and not [source for source in DEMO_FRAMEWORKS if source in page.text], path
    assert not [source for source in DEMO_SOURCES if source in ds.metadata("description_html")]
    assert TASKS_NOTICE in ds.metadata("description_html") and STATE_NOTICE in get(ds, "/").text


def test_the_demo_still_credits_its_sources(published, demo):
    metadata = yaml.safe_load((published / "metadata.yml").read_text(encoding="utf-8"))
    assert metadata["license"] == ("CCSS Public License; A state regulation, public; NGSS Lead States attribution; "
                                   "ASN terms of use; CC BY 4.0")
    assert metadata["source"] == ("NGA Center and CCSSO; Maine Department of Education; NGSS Lead States; "
                                  "USDOL/ETA O*NET (stand-in for a credential task list)")
    for text in ("National Governors Association Center", "NGSS Lead States. 2013", "O*NET 29.3 Database",
                 "Rule Chapter 132 (05-071 CMR 132)", "Classification of Instructional Programs (CIP 2020)",
                 "Perkins IV"):
        assert text in metadata["description_html"], text
    footer = get(make_public_datasette(published), "/").text
    assert "O*NET 29.3 Database" in footer and "CCSS Public License" in footer and "NGSS Lead States" in footer
    assert "O*NET 29.3 Database" in make_datasette(demo.path).metadata("description_html")
    # The crosswalk's own pages credit what the home page's description does, in its order: the frameworks'
    # notices, then CIP 2020 and the Perkins IV Career Clusters, which the demo's programs use.
    credited = data_attribution(published / "crosswalk.db")["notices"]
    assert len(credited) == 6 and credited[-2:] == [CIP_NOTICE, CLUSTER_NOTICE]
    for ds in (make_public_datasette(published), make_datasette(demo.path, pages=True)):
        for path in ("/", "/gaps"):
            notices = footer_notices(get(ds, path).text)
            assert notices == credited, path
            assert "Classification of Instructional Programs (CIP 2020)" in notices[-2] and "Perkins IV" in notices[-1]


def footer_notices(html):
    """The notices of a crosswalk page's "Sources and attribution" footer, as they read."""
    found = re.search(r'<ul class="xw-attributions">(.*?)</ul>', html, re.S)
    return [unescape(n) for n in re.findall(r"<li>(.*?)</li>", found.group(1), re.S)] if found else []


def test_the_footer_credits_cip_and_perkins_only_where_programs_use_them(own_db, tmp_path):
    """A district's programs with no CIP code or Career Cluster: its site credits neither. The working site
    credits a source as soon as the data uses it, while it serves."""
    out = tmp_path / "public"
    publish(own_db, out)
    working = make_datasette(own_db, pages=True)
    for ds in (make_public_datasette(out), working):
        home = get(ds, "/").text
        assert footer_notices(home) == [STATE_NOTICE, TASKS_NOTICE]
        assert "Classification of Instructional Programs (CIP 2020)" not in home and "Perkins IV" not in home
    db = open_db(own_db)
    add_program(db, "Welding Technology", cip_code="48.0508")
    assert footer_notices(get(working, "/").text) == [STATE_NOTICE, TASKS_NOTICE, CIP_NOTICE]
    readiness = write_csv(tmp_path / "readiness.csv", [["code", "statement", "grade", "subject"],
                                                       ["CR.1", "Plan the steps of a job before starting it.", "9-12",
                                                        "Career readiness"]])
    import_file(db, readiness, framework="Career readiness", kind="academic", attribution=READINESS_NOTICE)
    add_program(db, "Welding Technology", career_cluster="Manufacturing")
    db.close()
    assert footer_notices(get(working, "/").text) == [READINESS_NOTICE, STATE_NOTICE, TASKS_NOTICE, CIP_NOTICE,
                                                      CLUSTER_NOTICE]


def test_no_link_to_a_sources_section_that_no_page_has(runner, tmp_path, welding_xlsx, academic_csv):
    # With no attribution notice, every page's footer linked to /#attribution, which no page holds.
    path = tmp_path / "plain.db"
    db = open_db(path)
    import_file(db, welding_xlsx, framework="Welding tasks", kind="industry")
    import_file(db, academic_csv, framework="State standards", kind="academic")
    db.close()
    out = tmp_path / "public"
    assert runner.invoke(cli, ["publish", str(path), str(out)]).exit_code == 0
    for page in (get(make_public_datasette(out), "/"), get(make_datasette(path), "/")):
        assert page.status_code == 200 and "Powered by" in page.text
        assert "#attribution" not in page.text and 'id="attribution"' not in page.text


def test_the_users_settings_win(runner, own_db, tmp_path):
    settings = tmp_path / "site.yml"
    settings.write_text("title: Capital Region CTE crosswalk\n"
                        "description: Which academic standards our programs certify <for the board>.\n"
                        "license: CC BY 4.0\nlicense_url: https://creativecommons.org/licenses/by/4.0/\n",
                        encoding="utf-8")
    out = tmp_path / "public"
    result = runner.invoke(cli, ["publish", str(own_db), str(out), "--settings", str(settings),
                                 "--title", "Welding at Capital Region CTE"])
    assert result.exit_code == 0, result.output
    metadata = yaml.safe_load((out / "metadata.yml").read_text(encoding="utf-8"))
    assert metadata["title"] == "Welding at Capital Region CTE"  # --title over the file's
    assert metadata["license"] == "CC BY 4.0"
    assert metadata["license_url"] == "https://creativecommons.org/licenses/by/4.0/"
    assert metadata["source"] == "Example State DOE; Capital Region CTE"  # not set: from the data
    assert metadata["description_html"].startswith(
        "<p>Which academic standards our programs certify &lt;for the board&gt;.</p><p><small>Sources and "
        f"attribution: {STATE_NOTICE}")
    home = get(make_public_datasette(out), "/").text
    assert "Welding at Capital Region CTE" in home
    # The description is the home page's first words too (it was only on Datasette's own index page).
    assert '<p class="xw-lead">Which academic standards our programs certify &lt;for the board&gt;.</p>' in home
    result = runner.invoke(cli, ["publish", str(own_db), str(out), "--force", "--description", "Our crosswalk."])
    assert result.exit_code == 0, result.output
    metadata = yaml.safe_load((out / "metadata.yml").read_text(encoding="utf-8"))
    assert metadata["description_html"].startswith("<p>Our crosswalk.</p>") and metadata["title"] == "crosswalk"


def test_a_bad_settings_file_is_one_error(runner, own_db, tmp_path):
    settings = tmp_path / "site.yml"
    settings.write_text("title: Ours\ncolour: blue\n", encoding="utf-8")
    out = tmp_path / "public"
    result = runner.invoke(cli, ["publish", str(own_db), str(out), "--settings", str(settings)])
    assert result.exit_code == 1
    assert result.stderr == ("Error: site.yml: unknown setting 'colour'; the settings are: title, description, "
                             "license, license_url, source, source_url\n")
    assert not out.exists()
    settings.write_text("title: [a, list]\n", encoding="utf-8")
    with pytest.raises(CrosswalkError, match="site.yml: the setting 'title' needs a line of text"):
        read_settings(settings)
    settings.write_text("title: 'unclosed\n", encoding="utf-8")
    with pytest.raises(CrosswalkError, match="site.yml: not valid YAML"):
        read_settings(settings)
