"""The public copy of a crosswalk, and handing it to Datasette's publishers.

``publish(db_path, outdir)`` writes a folder that holds everything the public
site needs and nothing it must not show::

    OUTDIR/crosswalk.db          frameworks, standards (+ stemmed full-text search), programs with
                                 their band and sign-off status (only the approved ones with
                                 approved_only=True, and then only their frameworks' alignments),
                                 accepted alignments (suggestions only with suggestions="label");
                                 no review_log, comments, import log, embeddings or sign-in config
    OUTDIR/inspect-data.json     row counts of every table (``datasette inspect``), so that table
                                 pages do not count 300,000 rows on every request
    OUTDIR/metadata.yml          complete Datasette metadata, with the public pages switched on
    OUTDIR/templates/            the public page templates
    OUTDIR/plugins/              the public pages plugin (program, standard, gaps, search pages)
    OUTDIR/static/               the stylesheet (nothing is loaded from a CDN)

The folder is served immutable (``crosswalk serve OUTDIR``, see :mod:`crosswalk.site`) or
handed to ``datasette publish cloudrun`` / ``datasette package`` with Datasette pinned
(:mod:`crosswalk.deploy`). Its metadata comes from :mod:`crosswalk.metadata`.

Example::

    from crosswalk.publish import publish
    result = publish("district.db", "public/")
    print(result.summary())
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import pathlib
import shutil
import sqlite3

import yaml
from datasette.inspect import inspect_hash

from . import cells, site_guard
from .case import CASE_NAMESPACE, case_uuid
from .db import OUTSIDE_BAND_SQL, now, open_db, row_id, statement_order_sql
from .errors import CrosswalkError
from .exports import url_slug
from .metadata import DB_KEY as DB_NAME
from .metadata import public_metadata, read_metadata, read_settings
from .outputs import read_only_connection
from .text import (NO_DOMAIN, NO_SUBJECT, coverage_titles, empty_crosswalk_text, grade_label, plural,
                   program_status_text, score_text, signed_off, since_sign_off_text)

PUBLISHED_DB = "crosswalk.db"
PLUGIN_FILE = "crosswalk_public.py"
# crosswalk's imports in the public plugin, and the functions (and constants) written in their place
# when published.
PLUGIN_IMPORTS = {
    "from crosswalk.text import NO_DOMAIN, NO_SUBJECT, coverage_titles, empty_crosswalk_text, grade_label, "
    "program_status_text, score_text": {
        "NO_DOMAIN": NO_DOMAIN, "NO_SUBJECT": NO_SUBJECT, "coverage_titles": coverage_titles,
        "empty_crosswalk_text": empty_crosswalk_text,
        "grade_label": grade_label, "program_status_text": program_status_text,
        "since_sign_off_text": since_sign_off_text,  # (program_status_text's)
        "score_text": score_text, "signed_off": signed_off},
    "from crosswalk.case import CASE_NAMESPACE, case_uuid": {"CASE_NAMESPACE": CASE_NAMESPACE, "case_uuid": case_uuid},
    "from crosswalk.exports import url_slug": {"url_slug": url_slug},
    "from crosswalk.db import OUTSIDE_BAND_SQL, row_id, statement_order_sql": {
        "OUTSIDE_BAND_SQL": OUTSIDE_BAND_SQL, "row_id": row_id, "statement_order_sql": statement_order_sql},
}
GUARD_FILE = "crosswalk_site_guard.py"
GUARD_IMPORT = "from crosswalk.cells import is_formula_like, neutralise"
INSPECT_FILE = "inspect-data.json"
SUGGESTION_MODES = ("omit", "label")

HERE = pathlib.Path(__file__).resolve().parent

# Columns copied to the public copy; anything not listed (hashes, review flags) stays private.
PUBLIC_COLUMNS = {
    "frameworks": ["id", "name", "kind", "publisher", "version", "subject", "license", "attribution",
                   "source_url", "source_file", "imported_at"],
    "standards": ["id", "framework_id", "code", "statement", "label", "parent_code", "parent_id", "grade",
                  "grade_low", "grade_high", "subject", "domain", "cluster", "level", "position",
                  "source_file", "source_sheet", "source_row", "status", "updated_at"],
    "programs": ["id", "name", "cip_code", "cip_title", "career_cluster", "school", "description", "grade_low",
                 "grade_high", "status", "status_by", "status_at"],
    "program_frameworks": ["program_id", "framework_id"],
}
ACCEPTED_COLUMNS = ["id", "source_id", "target_id", "status", "strength", "rationale", "reviewer", "reviewed_at",
                    "needs_review", "needs_review_reason"]
# In the order they are made: each reads only those before it.
PUBLIC_VIEWS = ("alignment_details", "current_alignments", "program_evidence", "rereview_alignments",
                "program_rereview", "program_certifies", "program_standards", "program_coverage",
                "program_domain_coverage", "program_cluster_coverage", "standard_evidence", "coverage",
                "uncovered_standards")


@dataclasses.dataclass
class PublishResult:
    outdir: str
    database: str
    frameworks: int
    standards: int
    programs: int
    accepted: int
    suggested: int
    suggestions: str
    left_out: dict = dataclasses.field(default_factory=dict)  # status -> programs not published (approved_only)
    certifying: int | None = None  # of the accepted, those that certify (current_alignments); None: all
    # program -> (changes made to its decisions, its decisions flagged for re-review and waiting) since its
    # sign-off, published as they are now
    changed_since: dict = dataclasses.field(default_factory=dict)

    def summary(self) -> str:
        if self.suggestions == "label":
            extra = f", {plural(self.suggested, 'suggested alignment')} labelled 'not reviewed'"
        else:
            extra = "; suggested alignments left out"
        text = (
            f"Published {self.database}: {plural(self.frameworks, 'framework')}, "
            f"{plural(self.standards, 'standard')}, {plural(self.programs, 'program')}, "
            f"{plural(self.accepted, 'accepted alignment')}"
            # (as the site counts: one flagged for re-review, or to a retired statement, certifies nothing)
            + (f" ({self.certifying} certifying, {self.accepted - self.certifying} to decide again)"
               if self.certifying is not None and self.certifying != self.accepted else "")
            + extra
        )
        if self.left_out:
            n = sum(self.left_out.values())
            why = ", ".join(f"{count} {status}" for status, count in self.left_out.items())
            text += f"; {plural(n, 'program')} left out because {'it is' if n == 1 else 'they are'} not approved ({why})"
        for name, (changes, flagged) in self.changed_since.items():
            text += (f"; {name}: {since_sign_off_text(changes, flagged)} since its sign-off, published as "
                     "they are now and said on its page (approve it again to sign them)")
        return text


def _table_columns(conn, schema: str, table: str) -> list[str]:
    return [r[1] for r in conn.execute(f"pragma {schema}.table_info([{table}])")]


def _create_sql(conn, table: str) -> str:
    row = conn.execute("select sql from src.sqlite_master where type in ('table', 'view') and name = ?",
                       [table]).fetchone()
    if row is None:
        raise CrosswalkError(f"the database has no {table!r} table; is it a crosswalk database?")
    return row[0]


def publish(database, outdir, *, suggestions: str = "omit", force: bool = False, approved_only: bool = False,
            title: str | None = None, description: str | None = None, settings=None, metadata=None) -> PublishResult:
    """Write the public copy of ``database`` into the folder ``outdir``.

    ``suggestions="label"`` keeps the matcher's suggested alignments, in a
    separate ``unreviewed_suggestions`` table labelled as not reviewed;
    ``"omit"`` (the default) leaves them out. Rejected alignments, the review
    log and everything else internal never leave the source database.
    ``approved_only=True`` publishes only the programs whose crosswalk is
    approved, and only the alignments of the frameworks they teach (every
    framework and standard stays); otherwise every program is published with
    its status.

    The site's title, description, license and source lines come from the
    frameworks of the copy and from the user: ``settings`` (a settings file's
    path, see :func:`crosswalk.metadata.read_settings`, or a dict), which
    ``title`` and ``description`` override; ``metadata`` is another
    metadata.yml to start from.
    """
    if suggestions not in SUGGESTION_MODES:
        raise CrosswalkError(f"suggestions must be one of {', '.join(SUGGESTION_MODES)}, not {suggestions!r}")
    source = pathlib.Path(database)
    if not source.is_file():
        raise CrosswalkError(f"{database}: no such database file")
    out = pathlib.Path(outdir)
    if out.exists() and not out.is_dir():
        raise CrosswalkError(f"{outdir} is a file; publish needs a folder")
    if out.exists() and any(out.iterdir()):
        if not (out / PUBLISHED_DB).exists():
            raise CrosswalkError(f"{outdir} is not empty and is not a published crosswalk; choose an empty folder")
        if not force:
            raise CrosswalkError(f"{outdir} already holds a published crosswalk; use --force to replace it")
    if out.resolve() == source.resolve().parent and source.name == PUBLISHED_DB:
        raise CrosswalkError(f"{database} is inside {outdir}; publish to another folder")
    site = dict(settings) if isinstance(settings, dict) else read_settings(settings) if settings else {}
    site.update({k: v for k, v in (("title", title), ("description", description)) if v})
    read_metadata(metadata)  # a bad metadata file is an error before anything is written

    open_db(source).close()  # bring an older database's schema up to date first
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / (PUBLISHED_DB + ".tmp")
    tmp.unlink(missing_ok=True)
    conn = sqlite3.connect(tmp)
    try:
        counts = _copy_public(conn, source, suggestions, approved_only)
        conn.commit()
    finally:
        conn.close()
    for suffix in ("", "-wal", "-shm"):
        (out / (PUBLISHED_DB + suffix)).unlink(missing_ok=True)
    (out / INSPECT_FILE).unlink(missing_ok=True)
    tmp.replace(out / PUBLISHED_DB)
    write_inspect_data(out)

    for sub in ("templates", "plugins", "static"):
        if (out / sub).exists():
            shutil.rmtree(out / sub)
    (out / "templates").mkdir()
    for template in (HERE / "templates").glob("*.html"):
        shutil.copy2(template, out / "templates" / template.name)
    (out / "plugins").mkdir()
    (out / "plugins" / PLUGIN_FILE).write_text(plugin_source(), encoding="utf-8")
    (out / "plugins" / GUARD_FILE).write_text(guard_source(), encoding="utf-8")
    (out / "static").mkdir()
    for asset in (HERE / "static").iterdir():
        if asset.is_file():
            shutil.copy2(asset, out / "static" / asset.name)

    # the guard acts only on a site whose metadata names it (a site deployed without crosswalk too)
    public_md = site_guard.guarded(public_metadata(out / PUBLISHED_DB, suggestions=suggestions, path=metadata,
                                                   settings=site))
    (out / "metadata.yml").write_text(
        "# Datasette metadata for the public crosswalk, written by `crosswalk publish`.\n"
        + yaml.safe_dump(public_md, sort_keys=False, allow_unicode=True, width=100),
        encoding="utf-8",
    )
    return PublishResult(outdir=str(out), database=str(out / PUBLISHED_DB), suggestions=suggestions, **counts)


# With approved_only: the rows of each table that belong to an approved program (the others have none).
APPROVED_ONLY = {
    "programs": "status = 'approved'",
    "program_frameworks": "program_id in (select id from src.programs where status = 'approved')",
}
# ... and the alignments (accepted or suggested) of the frameworks those programs teach.
APPROVED_ALIGNMENTS = (
    "source_id in (select s.id from src.standards s join src.program_frameworks pf on pf.framework_id = s.framework_id "
    "join src.programs p on p.id = pf.program_id where p.status = 'approved')"
)


def _copy_public(conn: sqlite3.Connection, source: pathlib.Path, suggestions: str, approved_only: bool) -> dict:
    conn.execute("attach database ? as src", [str(source)])
    left_out = {}
    if approved_only:
        left_out = dict(conn.execute(
            "select status, count(*) from src.programs where status != 'approved' group by status "
            "order by case status when 'draft' then 0 else 1 end").fetchall())
    for table, wanted in PUBLIC_COLUMNS.items():
        available = set(_table_columns(conn, "src", table))
        columns = [c for c in wanted if c in available]
        create = _create_sql(conn, table)
        conn.execute(create)
        # Drop the columns not published by rebuilding with only the wanted ones.
        keep = ", ".join(f"[{c}]" for c in columns)
        where = f" where {APPROVED_ONLY[table]}" if approved_only and table in APPROVED_ONLY else ""
        conn.execute(f"insert into main.[{table}] ({keep}) select {keep} from src.[{table}]{where}")
        extra = [c for c in _table_columns(conn, "main", table) if c not in columns]
        for column in extra:
            conn.execute(f"alter table main.[{table}] drop column [{column}]")
    # What a sign-off did not see: the changes to a program's decisions since, and its decisions flagged
    # for re-review since (program_progress reads the review log, which stays private), so that its page
    # says "approved by ...; 1 change to its decisions since", as the working site does, and the summary
    # says so.
    for since in ("changes_since_status", "flagged_since_status"):
        conn.execute(f"alter table main.programs add column {since} integer")
        conn.execute(f"update main.programs set {since} = (select g.{since} from src.program_progress g "
                     "where g.program_id = programs.id)")
    changed_since = {name: (changes, flagged) for name, changes, flagged in conn.execute(
        "select name, changes_since_status, flagged_since_status from main.programs where status is not null "
        "and status != 'draft' and changes_since_status + flagged_since_status > 0 order by name")}

    conn.execute(
        """
        create table alignments (
            id integer primary key,
            source_id integer not null references standards(id),
            target_id integer not null references standards(id),
            status text not null check (status = 'accepted'),
            strength text check (strength in ('full', 'partial')),
            rationale text,
            reviewer text,
            reviewed_at text,
            needs_review integer not null default 0,
            needs_review_reason text
        )
        """
    )
    cols = ", ".join(ACCEPTED_COLUMNS)
    only = f" and {APPROVED_ALIGNMENTS}" if approved_only else ""
    conn.execute(f"insert into alignments ({cols}) select {cols} from src.alignments where status = 'accepted'{only}")
    conn.execute("create index idx_alignments_target on alignments(target_id)")
    conn.execute("create index idx_alignments_source on alignments(source_id)")
    conn.execute("create index idx_standards_framework on standards(framework_id)")
    # the public pages' totals per subject read only this index
    conn.execute("create index idx_standards_framework_subject on standards(framework_id, status, subject)")
    conn.execute("create index idx_standards_parent on standards(parent_id)")

    suggested = 0
    if suggestions == "label":
        conn.execute(
            """
            create table unreviewed_suggestions (
                id integer primary key,
                source_id integer not null references standards(id),
                target_id integer not null references standards(id),
                reviewed text not null default 'no: suggested by the matcher, not reviewed',
                score real,
                confidence text,
                method text,
                evidence text,
                rank integer
            )
            """
        )
        # The evidence as read from the two statements: what decisions say names reviewed statements,
        # which may be a draft program's (--approved-only leaves those out) or rejections (never public).
        from .matching.evidence import from_statements  # (the matcher's modules only where suggestions go)

        conn.create_function("from_statements", 1, from_statements, deterministic=True)
        conn.execute(
            "insert into unreviewed_suggestions (id, source_id, target_id, score, confidence, method, evidence, rank) "
            "select id, source_id, target_id, score, confidence, method, from_statements(evidence), rank "
            "from src.alignments where status = 'suggested'" + only
        )
        conn.execute("create index idx_suggestions_target on unreviewed_suggestions(target_id)")
        conn.execute("create index idx_suggestions_source on unreviewed_suggestions(source_id)")
        suggested = conn.execute("select count(*) from unreviewed_suggestions").fetchone()[0]

    for view in PUBLIC_VIEWS:
        conn.execute(_create_sql(conn, view))

    conn.execute("create table about (key text primary key, value text)")
    conn.executemany("insert into about values (?, ?)", [
        ("published_at", now()),
        ("source_database", source.name),
        ("suggestions", "labelled as not reviewed" if suggestions == "label" else "left out"),
        ("programs", "approved programs only" if approved_only else "every program, with its status"),
    ] + ([  # what the copy's pages say while it holds none (or few): how many are still being decided
        ("programs_not_approved", str(sum(left_out.values()))),
        ("programs_not_approved_status", ", ".join(f"{count} {status}" for status, count in left_out.items())),
    ] if approved_only else []))
    conn.commit()
    conn.execute("detach database src")

    # Porter stemming so that "measuring" finds "measure" (the same search as the source database).
    conn.execute(
        "create virtual table standards_fts using fts5 (code, statement, domain, cluster, "
        "content=[standards], tokenize='porter')"
    )
    conn.execute("insert into standards_fts (rowid, code, statement, domain, cluster) "
                 "select rowid, code, statement, domain, cluster from standards")
    conn.commit()
    conn.execute("vacuum")

    def count(sql):
        return conn.execute(sql).fetchone()[0]

    return dict(
        frameworks=count("select count(*) from frameworks"),
        standards=count("select count(*) from standards"),
        programs=count("select count(*) from programs"),
        accepted=count("select count(*) from alignments"),
        certifying=count("select count(*) from current_alignments"),
        suggested=suggested,
        left_out=left_out,
        changed_since=changed_since,
    )


def inspect_data(db_path) -> dict:
    """What ``datasette inspect`` writes for the published database: its hash, size and table counts."""
    path = pathlib.Path(db_path)
    conn = read_only_connection(path)
    try:
        tables = [r[0] for r in conn.execute("select name from sqlite_master where type = 'table'")]
        counts = {t: conn.execute(f"select count(*) from [{t}]").fetchone()[0] for t in tables}
    finally:
        conn.close()
    return {DB_NAME: {"hash": inspect_hash(path), "size": path.stat().st_size, "file": path.name,
                      "tables": {t: {"count": n} for t, n in counts.items()}}}


def write_inspect_data(outdir) -> pathlib.Path:
    out = pathlib.Path(outdir)
    target = out / INSPECT_FILE
    target.write_text(json.dumps(inspect_data(out / PUBLISHED_DB), indent=2), encoding="utf-8")
    return target


def read_inspect_data(outdir) -> dict | None:
    """The folder's inspect data, or None when it is missing or does not match its database (size)."""
    out = pathlib.Path(outdir)
    try:
        data = json.loads((out / INSPECT_FILE).read_text(encoding="utf-8"))
        if data[DB_NAME]["size"] != (out / PUBLISHED_DB).stat().st_size:
            return None
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return data


def is_published_dir(path) -> bool:
    path = pathlib.Path(path)
    return path.is_dir() and (path / PUBLISHED_DB).is_file()


def plugin_source() -> str:
    """The public pages plugin as published: crosswalk's imports replaced by the functions they import.

    So the published plugin runs where crosswalk is not installed (``datasette package``), and
    each function of ``PLUGIN_IMPORTS`` is still written once, in :mod:`crosswalk.text` or
    :mod:`crosswalk.db`.
    """
    source = (HERE / "public_plugin.py").read_text(encoding="utf-8")
    for start, names in PLUGIN_IMPORTS.items():
        line = next(line for line in source.splitlines() if line.startswith(start))
        source = source.replace(line, "\n\n".join(inspect.getsource(f).rstrip() if callable(f) else f"{name} = {f!r}"
                                                   for name, f in names.items()), 1)
    return source


def guard_source() -> str:
    """The site guard (:mod:`crosswalk.site_guard`) as published: the formula guard of :mod:`crosswalk.cells`
    written into it, so that a site deployed without crosswalk keeps the same limits."""
    source = (HERE / "site_guard.py").read_text(encoding="utf-8")
    line = next(line for line in source.splitlines() if line.startswith(GUARD_IMPORT))
    guard = "\n\n".join([f"FORMULA_STARTS = {cells.FORMULA_STARTS!r}"] + [
        inspect.getsource(f).rstrip() for f in (cells.is_formula_like, cells.neutralise, cells._guarded)])
    return source.replace(line, guard, 1)
