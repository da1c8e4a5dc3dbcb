"""Datasette metadata: finding ``metadata.yml``, applying it to served databases, and making it public.

``metadata.yml`` describes one database under the key ``crosswalk``;
:func:`load_metadata` applies that block to whatever the served files are
called, and :func:`public_metadata` makes the copy that ``crosswalk publish``
writes beside the public database: no write queries, no ``allow`` blocks, no
sign-in settings, only the tables and columns the public copy holds.

Example::

    from crosswalk.metadata import load_metadata
    md = load_metadata(["district"])      # metadata.yml, for district.db
"""

from __future__ import annotations

import copy
import pathlib
import sqlite3

import yaml

# The key of the database block in metadata.yml, and the name of the public database.
DB_KEY = "crosswalk"
# Where the public site serves its static files (the stylesheet).
STATIC_MOUNT = "assets"
PUBLIC_PLUGIN = "crosswalk-public"
PUBLIC_HOME_DESCRIPTION = (
    "<p>Which academic standards each Career and Technical Education (CTE) program certifies, "
    "through which credential tasks, as reviewed and accepted by curriculum teams.</p>"
)
# Tables a public query must not read, even where the public copy would not have them.
PRIVATE_TABLES = ("review_log", "comments", "embeddings", "import_log")
FTS_SHADOW_TABLES = ("standards_fts", "standards_fts_config", "standards_fts_data", "standards_fts_docsize",
                     "standards_fts_idx")


def metadata_path() -> pathlib.Path | None:
    """The project's metadata.yml (beside the package in a checkout, or inside it when installed)."""
    here = pathlib.Path(__file__).resolve().parent
    for candidate in (here.parent / "metadata.yml", here / "metadata.yml"):
        if candidate.exists():
            return candidate
    return None


def read_metadata(path=None) -> dict:
    """The metadata.yml at ``path`` (default: the project's), as a dict; {} when there is none."""
    path = pathlib.Path(path) if path else metadata_path()
    if path is None:
        return {}
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def load_metadata(db_names: list[str], path=None) -> dict:
    """metadata.yml, with its ``databases.crosswalk`` block applied to each served database.

    Links in the home page description point at ``/crosswalk/...``; they are
    rewritten to the first served database.
    """
    raw = read_metadata(path)
    if not raw:
        return {"title": "crosswalk"}
    block = (raw.get("databases") or {}).pop(DB_KEY, None)
    if block is not None:
        raw["databases"] = {name: copy.deepcopy(block) for name in db_names}
    if db_names and raw.get("description_html"):
        raw["description_html"] = raw["description_html"].replace(f'href="/{DB_KEY}/', f'href="/{db_names[0]}/')
    return raw


def public_metadata(db_path, *, suggestions: str = "omit", title: str | None = None, path=None) -> dict:
    """metadata.yml made fit for the public copy at ``db_path``.

    Tables and canned queries that the copy does not hold, writable queries,
    ``allow`` blocks and sign-in plugin settings are removed; the public pages
    plugin is switched on.
    """
    raw = copy.deepcopy(read_metadata(path))
    columns = _columns(db_path)
    md = _public_site(raw, title)
    block = copy.deepcopy((raw.get("databases") or {}).get(DB_KEY) or {})
    for key in ("allow", "allow_sql"):
        block.pop(key, None)
    block["tables"] = _public_tables(block.get("tables") or {}, columns, suggestions)
    block["queries"] = _public_queries(block.get("queries") or {})
    md["databases"] = {DB_KEY: block}
    return md


def _columns(db_path) -> dict[str, set[str]]:
    """Each table and view of a database, with its columns."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        present = [r[0] for r in conn.execute("select name from sqlite_master where type in ('table', 'view')")]
        return {name: {r[1] for r in conn.execute(f"pragma table_info([{name}])")} for name in present}
    finally:
        conn.close()


def _public_site(raw: dict, title: str | None) -> dict:
    """The site-wide settings: no permissions, only the public pages plugin, the public home page."""
    md = {k: v for k, v in raw.items() if k not in ("allow", "allow_sql", "permissions", "extra_js_urls")}
    md["plugins"] = {PUBLIC_PLUGIN: {"database": DB_KEY}}
    if title:
        md["title"] = title
    md["extra_css_urls"] = [f"/{STATIC_MOUNT}/crosswalk.css"]
    md["description_html"] = PUBLIC_HOME_DESCRIPTION + _attribution_html(raw.get("description_html", ""))
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


def _public_queries(queries: dict) -> dict:
    """The read-only canned queries that read nothing private."""
    out = {}
    for name, query in queries.items():
        if isinstance(query, str):
            query = {"sql": query}
        if query.get("write") or "allow" in query:
            continue
        sql = query.get("sql", "").lower()
        if any(table in sql for table in PRIVATE_TABLES):
            continue
        out[name] = query
    return out


def _attribution_html(description_html: str) -> str:
    """Keep the sources and attribution paragraph of the home description."""
    start = description_html.find("<p><small>")
    return description_html[start:] if start >= 0 else ""
