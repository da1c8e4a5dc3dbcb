"""Datasette metadata: finding ``metadata.yml``, applying it to served databases, and making it public.

``metadata.yml`` describes one database under the key ``crosswalk`` (table
descriptions, facets, the common questions as canned queries); :func:`load_metadata`
applies that block to whatever the served files are called, and
:func:`public_metadata` makes the copy that ``crosswalk publish`` writes beside
the public database: no write queries, no ``allow`` blocks, no sign-in
settings, only the tables and columns the public copy holds.

The site's title, description, license, source and attribution lines are not
in ``metadata.yml``: they come from the data (:func:`data_attribution`: the
frameworks' publisher, license, attribution and source_url; the programs' CIP
codes and Career Clusters) and from the user's settings (:func:`read_settings`:
a YAML file such as ``site.yml``, and ``publish --title`` / ``--description``).
A setting the user gives wins over the data; a metadata file given with
``--metadata`` is the user's too, so its own lines win as well.

Example::

    from crosswalk.metadata import load_metadata
    md = load_metadata(["district"], databases=["district.db"])   # metadata.yml, for district.db
"""

from __future__ import annotations

import copy
import html
import pathlib
import re
import sqlite3

import yaml

from .errors import CrosswalkError
from .outputs import read_only_connection

# The key of the database block in metadata.yml, and the name of the public database.
DB_KEY = "crosswalk"
# Where the public site serves its static files (the stylesheet).
STATIC_MOUNT = "assets"
PUBLIC_PLUGIN = "crosswalk-public"
PUBLIC_HOME_DESCRIPTION = (
    "<p>Which academic standards each Career and Technical Education (CTE) program certifies, "
    "through which credential tasks, as reviewed and accepted by curriculum teams.</p>"
)
DEFAULT_TITLE = "crosswalk"
# What a settings file (publish --settings site.yml) may set; Datasette's own names for them.
SITE_SETTINGS = ("title", "description", "license", "license_url", "source", "source_url")
# Sources of the programs' own fields, credited when the programs use them (both public domain).
CIP_NOTICE = ("Program codes: Classification of Instructional Programs (CIP 2020), National Center for Education "
              "Statistics (public domain).")
CLUSTER_NOTICE = ("Career Clusters: Perkins IV crosswalk, U.S. Department of Education, OVAE (public domain).")
# The one rule of the notices a crosswalk database asks its site to show, as SQL (each notice with its
# part: 0 the frameworks', 1 and 2 the programs' own fields'): every distinct attribution notice of its
# frameworks (academic first, then by name), then CIP 2020 when programs use CIP codes and the Perkins IV
# Career Clusters when they use Career Clusters. data_attribution reads it for Datasette's home page, and
# the metadata hands it to the crosswalk's pages (NOTICES_KEY), which read it live on the served database:
# on a working site, a framework imported while it serves is credited at once.
NOTICES_SQL = """
select notice, part from (
    select trim(attribution, char(32, 9, 10, 13)) as notice, 0 as part, min(position) as position
    from (select attribution, row_number() over (order by kind, name) as position from frameworks)
    where trim(attribution, char(32, 9, 10, 13)) != ''
    group by 1
    union all
    select :cip_notice, 1, 0 where exists (select 1 from programs where cip_code is not null)
    union all
    select :cluster_notice, 2, 0 where exists (select 1 from programs where career_cluster is not null)
)
order by part, position
"""
NOTICES_PARAMS = {"cip_notice": CIP_NOTICE, "cluster_notice": CLUSTER_NOTICE}
# The site-wide metadata key that hands the rule to the crosswalk's pages (crosswalk.public_plugin reads it;
# the published plugin imports nothing of crosswalk): {"sql": NOTICES_SQL, "params": NOTICES_PARAMS}.
NOTICES_KEY = "crosswalk_notices"
FTS_SHADOW_TABLES = ("standards_fts", "standards_fts_config", "standards_fts_data", "standards_fts_docsize",
                     "standards_fts_idx")


def metadata_path() -> pathlib.Path | None:
    """The project's metadata.yml (beside the package in a checkout, or inside it when installed)."""
    here = pathlib.Path(__file__).resolve().parent
    for candidate in (here.parent / "metadata.yml", here / "metadata.yml"):
        if candidate.exists():
            return candidate
    return None


def _read_yaml(path: pathlib.Path, what: str):
    """A YAML file's content; a file that cannot be read, or is not YAML, is an error naming it."""
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise CrosswalkError(f"{path.name}: cannot read the {what} file ({exc})") from None
    except yaml.YAMLError as exc:
        raise CrosswalkError(f"{path.name}: not valid YAML ({' '.join(str(exc).split())})") from None


def read_metadata(path=None) -> dict:
    """The metadata.yml at ``path`` (default: the project's), as a dict; {} when there is none."""
    path = pathlib.Path(path) if path else metadata_path()
    if path is None:
        return {}
    data = _read_yaml(path, "metadata")
    if data is not None and not isinstance(data, dict):
        raise CrosswalkError(f"{path.name}: Datasette metadata is a mapping ('title: ...', 'databases: ...'), "
                             f"not a {type(data).__name__}")
    return data or {}


def read_settings(path) -> dict:
    """The site settings of a YAML file: any of title, description, license, license_url, source,
    source_url, each a line of text. Anything else is an error naming the file and the key.

    Example (``site.yml``)::

        title: Capital Region CTE crosswalk
        description: Which academic standards our CTE programs certify.
        license: CC BY 4.0
        license_url: https://creativecommons.org/licenses/by/4.0/
    """
    path = pathlib.Path(path)
    data = _read_yaml(path, "settings")
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise CrosswalkError(f"{path.name}: the settings file holds 'key: value' lines, such as 'title: ...'")
    for key, value in data.items():
        if key not in SITE_SETTINGS:
            raise CrosswalkError(f"{path.name}: unknown setting {key!r}; the settings are: " + ", ".join(SITE_SETTINGS))
        if not isinstance(value, str) or not value.strip():
            raise CrosswalkError(f"{path.name}: the setting {key!r} needs a line of text")
    return {key: value.strip() for key, value in data.items()}


def data_attribution(*db_paths) -> dict:
    """The license, source and attribution lines the data in these databases asks for.

    From their frameworks (academic first): every distinct license, publisher (or the
    framework's name when it has none) and attribution notice, and the source_url when all
    share one; from their programs: CIP 2020 and the Perkins IV Career Clusters when programs
    use them. A file that is not a crosswalk database adds nothing.

    Example::

        data_attribution("district.db")
        # {'license': 'CC BY 4.0', 'source': 'Capital Region CTE', 'source_url': None, 'notices': [...]}
    """
    licenses, sources, urls = [], [], []
    parts: dict[int, list[str]] = {}  # the notices of each part of NOTICES_SQL, of every database

    def add(values, value):
        if value and value.strip() and value.strip() not in values:
            values.append(value.strip())

    for db_path in db_paths:
        try:
            conn = read_only_connection(db_path)
        except sqlite3.Error:
            continue
        try:
            frameworks = conn.execute(
                "select name, publisher, license, source_url from frameworks order by kind, name").fetchall()
            found = conn.execute(NOTICES_SQL, NOTICES_PARAMS).fetchall()
        except sqlite3.Error:
            continue
        finally:
            conn.close()
        for name, publisher, license_, url in frameworks:
            add(licenses, license_)
            add(sources, publisher or name)
            add(urls, url)
        for notice, part in found:
            add(parts.setdefault(part, []), notice)
    return {"license": "; ".join(licenses) or None, "source": "; ".join(sources) or None,
            "source_url": urls[0] if len(urls) == 1 else None,
            "notices": [notice for part in sorted(parts) for notice in parts[part]]}


def notices_setting() -> dict:
    """What the metadata key NOTICES_KEY holds: the rule of the notices, for the crosswalk's pages."""
    return {"sql": " ".join(NOTICES_SQL.split()), "params": dict(NOTICES_PARAMS)}  # one line in metadata.yml


def attribution_html(notices: list[str]) -> str:
    """The sources and attribution paragraph of a home page description, as HTML."""
    if not notices:
        return ""
    return "<p><small>Sources and attribution: " + " ".join(html.escape(n) for n in notices) + "</small></p>"


def _site_lines(md: dict, intro_html: str, attribution: dict, settings: dict | None) -> dict:
    """Title, description and license and source lines: the user's settings, else the metadata
    file's own (a user's --metadata), else the data's."""
    settings = settings or {}
    md["title"] = settings.get("title") or md.get("title") or DEFAULT_TITLE
    md.pop("description", None)
    if settings.get("description"):
        intro_html = f"<p>{html.escape(settings['description'])}</p>"
        md["description"] = settings["description"]  # the crosswalk's home page says it too (Datasette's
        # own pages show description_html)
    md["description_html"] = intro_html + attribution_html(attribution["notices"])
    md[NOTICES_KEY] = notices_setting()  # the crosswalk's pages' footer credits by the same rule, live
    for key in ("license", "license_url", "source", "source_url"):
        value = settings.get(key) or md.get(key) or attribution.get(key)
        if value:
            md[key] = value
        else:
            md.pop(key, None)
    return md


def load_metadata(db_names: list[str], path=None, *, databases=(), settings: dict | None = None) -> dict:
    """metadata.yml, with its ``databases.crosswalk`` block applied to each served database.

    The title, description, license and source lines come from ``settings``, and from the
    data of ``databases`` (the served files' paths; see :func:`data_attribution`). Links in the
    home page description point at ``/crosswalk/...``; they are rewritten to the first served
    database.
    """
    raw = read_metadata(path)
    block = (raw.get("databases") or {}).pop(DB_KEY, None)
    if block is not None:
        raw["databases"] = {name: copy.deepcopy(block) for name in db_names}
    intro = raw.get("description_html") or ""
    if db_names and intro:
        intro = intro.replace(f'href="/{DB_KEY}/', f'href="/{db_names[0]}/')
    return _site_lines(raw, intro, data_attribution(*databases), settings)


def public_metadata(db_path, *, suggestions: str = "omit", title: str | None = None, path=None,
                    settings: dict | None = None) -> dict:
    """metadata.yml made fit for the public copy at ``db_path``.

    Tables and canned queries that the copy does not hold, writable queries,
    ``allow`` blocks and sign-in plugin settings are removed; the public pages
    plugin is switched on. The title, description, license and source lines come from
    ``settings`` (``title`` wins over its title) and from the copy's data.
    """
    raw = copy.deepcopy(read_metadata(path))
    columns = _columns(db_path)
    settings = {**(settings or {}), **({"title": title} if title else {})}
    md = _public_site(raw)
    md = _site_lines(md, PUBLIC_HOME_DESCRIPTION, data_attribution(db_path), settings)
    block = copy.deepcopy((raw.get("databases") or {}).get(DB_KEY) or {})
    for key in ("allow", "allow_sql"):
        block.pop(key, None)
    block["tables"] = _public_tables(block.get("tables") or {}, columns, suggestions)
    block["queries"] = _public_queries(block.get("queries") or {}, db_path)
    md["databases"] = {DB_KEY: block}
    return md


def _columns(db_path) -> dict[str, set[str]]:
    """Each table and view of a database, with its columns."""
    conn = read_only_connection(db_path)
    try:
        present = [r[0] for r in conn.execute("select name from sqlite_master where type in ('table', 'view')")]
        return {name: {r[1] for r in conn.execute(f"pragma table_info([{name}])")} for name in present}
    finally:
        conn.close()


def _public_site(raw: dict) -> dict:
    """The site-wide settings: no permissions, only the public pages plugin and its stylesheet."""
    md = {k: v for k, v in raw.items()
          if k not in ("allow", "allow_sql", "permissions", "extra_js_urls", "databases")}
    md["plugins"] = {PUBLIC_PLUGIN: {"database": DB_KEY}}
    md["extra_css_urls"] = [f"/{STATIC_MOUNT}/crosswalk.css", f"/{STATIC_MOUNT}/public.css"]
    return md


def _public_tables(tables: dict, columns: dict, suggestions: str) -> dict:
    """The table settings of the tables the copy holds, naming only the columns it holds."""
    out = {}
    for name, table in tables.items():
        if name not in columns:
            continue
        table = {k: v for k, v in (table or {}).items() if k not in ("allow", "allow_sql")}
        if "facets" in table:
            table["facets"] = [f for f in table["facets"] if isinstance(f, str) and f in columns[name]]
        if isinstance(table.get("columns"), dict):
            table["columns"] = {c: d for c, d in table["columns"].items() if c in columns[name]}
        if table.get("sort") and table["sort"] not in columns[name]:
            table.pop("sort")
        out[name] = table
    if "alignments" in out:
        out["alignments"]["description"] = (
            "Reviewed alignments only: each CTE (industry) standard ↔ academic standard that reviewers "
            "accepted, with strength (full or partial), rationale, reviewer and date."
        )
    if suggestions == "label":
        out["unreviewed_suggestions"] = {
            "description": ("NOT REVIEWED: alignments suggested by crosswalk's matcher that no person has "
                            "checked yet. They do not certify anything."),
        }
    out["about"] = {"description": "When and how this public copy was made."}
    for internal in FTS_SHADOW_TABLES:
        out[internal] = {"hidden": True}
    return out


def _public_queries(queries: dict, db_path) -> dict:
    """The read-only canned queries that the public copy at ``db_path`` can run: a query that
    reads a table, view or column the copy does not hold (the review log, the embeddings, the
    review queue) is left out, however it names it, as SQLite itself judges it (the query is
    prepared with EXPLAIN, every parameter bound to null, nothing run)."""
    out = {}
    conn = read_only_connection(db_path)
    try:
        for name, query in queries.items():
            if isinstance(query, str):
                query = {"sql": query}
            if query.get("write") or "allow" in query:
                continue
            sql = query.get("sql", "")
            try:
                conn.execute("explain " + sql, dict.fromkeys(re.findall(r":(\w+)", sql)))
            except (sqlite3.Error, sqlite3.Warning) as error:
                # (Any other error, a function of a Datasette plugin say, or two statements, is the
                # site's to show, as Datasette shows it.)
                if str(error).startswith(("no such table", "no such column")):
                    continue
            out[name] = query
    finally:
        conn.close()
    return out
