"""Datasette plugin for the crosswalk's pages: programs, a program, a standard, gaps and search.

The public copy and the working site show the same pages. ``crosswalk publish``
copies this file into ``OUTDIR/plugins/`` so that ``datasette publish`` and
``datasette package`` ship it; the copy imports nothing but Datasette and the
standard library (publish writes the functions it imports from crosswalk into it,
``crosswalk.publish.PLUGIN_IMPORTS``). Its hooks do nothing unless the metadata switches them on::

    plugins:
      crosswalk-public:
        database: crosswalk

The working site (``crosswalk serve DB``) calls the page functions below from
:mod:`crosswalk.working_plugin`, which adds what a committee needs (suggestions
awaiting review, decisions, sign-off); its configuration key is ``crosswalk-site``.

Every figure comes from the store's views (``program_coverage``,
``program_domain_coverage``, ``program_standards``, ``program_evidence``,
``program_progress``, ``program_rereview``), as the report reads them: nothing
here counts coverage itself. Coverage is out of the standards of each program's
grade band.

Pages: ``/`` (programs, their coverage as a heat map programs × subjects),
``/program/<id>`` (coverage per subject and domain; ``?subject=`` and ``&domain=``
list that part of the band, 50 standards a page, ``?page=N``),
``/standard/<id>``, ``/gaps`` (``?program=``, ``?subject=``, ``&domain=``) and
``/search?q=``. On the public copy every write (any method other than GET, HEAD
or OPTIONS) is refused with 403. Charts are server-side SVG and HTML; every value
from the database is escaped, so a statement holding HTML is shown as text.
"""

from __future__ import annotations

import asyncio
import collections
import contextvars
import json
import re
import sqlite3
import urllib.parse
import uuid  # noqa: F401  (crosswalk.case_uuid, written here when published, uses it)

from datasette import hookimpl
from datasette.database import QueryInterrupted
from datasette.utils.asgi import Response
from markupsafe import Markup, escape

from crosswalk.case import CASE_NAMESPACE, case_uuid  # noqa: F401  (`crosswalk publish` writes these here)
from crosswalk.db import OUTSIDE_BAND_SQL, row_id, statement_order_sql  # `crosswalk publish` writes these here in the published copy
from crosswalk.exports import url_slug  # `crosswalk publish` writes this here
from crosswalk.text import NO_DOMAIN, NO_SUBJECT, coverage_titles, empty_crosswalk_text, grade_label, program_status_text, score_text, signed_off  # `crosswalk publish` writes these here

CONFIG_KEY = "crosswalk-public"
WORKING_KEY = "crosswalk-site"  # the working site's pages (crosswalk.working_plugin)
READ_METHODS = {"GET", "HEAD", "OPTIONS"}
PAGE_SIZE = 50  # standards (with their evidence) per program page, and gaps per gaps page


def _public_config(datasette):
    return datasette.plugin_config(CONFIG_KEY)


def _config(datasette):
    """The pages' settings: the public copy's, or the working site's."""
    return _public_config(datasette) or datasette.plugin_config(WORKING_KEY)


def is_working(datasette) -> bool:
    """Whether these pages show a working database (review internals and all) rather than a public copy."""
    return not _public_config(datasette) and bool(datasette.plugin_config(WORKING_KEY))


def _db(datasette):
    config = _config(datasette) or {}
    name = config.get("database") or "crosswalk"
    return datasette.get_database(name), name


CACHE_SIZE = 512  # query results kept per site (a page runs about ten queries)


def _data_version(datasette, db):
    """What changes whenever the database does: 0 for an immutable one; None when not known (no caching).

    A crosswalk site (crosswalk.site.CrosswalkDatasette) reads SQLite's data_version, which any
    commit, from any process, changes.
    """
    if not db.is_mutable:
        return 0
    known = getattr(datasette, "data_version", None)
    return known(db.name) if known else None


async def rows(datasette, sql, params=None, log_sql_errors=True):
    """The rows of a read query on the crosswalk database, as dicts.

    The pages' queries aggregate views over every program and standard, and under load the same
    page is asked for again and again: results are kept (per process, least recently used out)
    until the database changes, and requests asking for a result being made wait for it.
    """
    db, _ = _db(datasette)
    params = params or {}
    version = _data_version(datasette, db)
    if version is None:
        return [dict(r) for r in (await db.execute(sql, params, log_sql_errors=log_sql_errors)).rows]
    cache = datasette.__dict__.setdefault("_crosswalk_pages_cache", collections.OrderedDict())
    key = (db.name, version, sql, tuple(sorted(params.items())))
    loop = asyncio.get_running_loop()
    kept = cache.get(key)
    if isinstance(kept, list):
        cache.move_to_end(key)
        return [dict(r) for r in kept]
    if kept is not None and kept.get_loop() is loop:  # being read by another request: wait for it
        await asyncio.wait({kept})
        if not kept.cancelled() and kept.exception() is None:
            return [dict(r) for r in kept.result()]
    pending = loop.create_future()
    cache[key] = pending
    while len(cache) > CACHE_SIZE:
        cache.popitem(last=False)
    try:
        found = [dict(r) for r in (await db.execute(sql, params, log_sql_errors=log_sql_errors)).rows]
    except BaseException:
        if cache.get(key) is pending:
            del cache[key]
        pending.cancel()
        raise
    pending.set_result(found)
    if cache.get(key) is pending:
        cache[key] = found
    return [dict(r) for r in found]


async def one(datasette, sql, params=None):
    found = await rows(datasette, sql, params)
    return found[0] if found else None


async def has(datasette, name):
    """Whether the database has a table or view called ``name``."""
    db, _ = _db(datasette)
    return bool((await db.execute(
        "select 1 from sqlite_master where name = :n and type in ('table', 'view')", {"n": name})).rows)


def bar_chart(bars, *, title, label, legend=("full", "partial", "not certified"), width=640):
    """A horizontal bar chart (inline SVG), one bar a row.

    ``bars``: dicts with label, total, full, partial. Dark: full (or covered); light:
    partial; grey: the rest. A bar that is not empty always shows at least a sliver.
    """
    label_w = 190
    bar_x, bar_w, row_h = label_w, width - label_w - 170, 34
    height = row_h * len(bars) + 40
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="coverage-chart" role="img" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" aria-label="{escape(label)}">',
        f"<title>{escape(title)}</title>",
    ]
    for i, row in enumerate(bars):
        y = 8 + i * row_h
        total = row["total"] or 0
        full, partial = row["full"] or 0, row["partial"] or 0
        full_w = bar_w * full / total if total else 0
        partial_w = bar_w * partial / total if total else 0
        if full and full_w < 2:
            full_w = 2
        if partial and partial_w < 2:
            partial_w = 2
        percent = 100 * (full + partial) / total if total else 0
        name = str(row["label"])
        short = name if len(name) <= 24 else name[:23] + "…"
        parts.append(
            f'<text x="{bar_x - 10}" y="{y + 17}" text-anchor="end" class="chart-label">{escape(short)}'
            f'<title>{escape(name)}</title></text>'
            f'<rect x="{bar_x}" y="{y}" width="{bar_w}" height="24" class="bar-none"><title>{total} standards</title></rect>'
            f'<rect x="{bar_x}" y="{y}" width="{full_w:.1f}" height="24" class="bar-full">'
            f'<title>{full} {escape(legend[0])}</title></rect>'
            f'<rect x="{bar_x + full_w:.1f}" y="{y}" width="{partial_w:.1f}" height="24" class="bar-partial">'
            f'<title>{partial} {escape(legend[1])}</title></rect>'
            f'<text x="{bar_x + bar_w + 10}" y="{y + 17}" class="chart-value">'
            f'{full + partial} of {total} ({percent:.1f}%)</text>'
        )
    legend_y = height - 14
    x = bar_x
    for css, text in zip(("bar-full", "bar-partial", "bar-none"), legend):
        if not text:
            continue
        parts.append(f'<rect x="{x}" y="{legend_y - 10}" width="12" height="12" class="{css}"/>'
                     f'<text x="{x + 18}" y="{legend_y}" class="chart-legend">{escape(text)}</text>')
        x += 30 + 8 * len(text)
    parts.append("</svg>")
    return Markup("".join(parts))


def coverage_chart(coverage, *, band="", signed=True, width=640):
    """The chart of a program's coverage per subject (rows of ``program_coverage``); ``signed``: its
    crosswalk is approved, so the standards are certified, not accepted so far (text.coverage_titles)."""
    either, none = coverage_titles(signed)[2:]
    return bar_chart([{"label": c["subject"] or NO_SUBJECT, "total": c["standards"], "full": c["full"],
                       "partial": c["partial"]} for c in coverage],
                     title=f"Academic standards {either.lower()} per subject{', ' + band if band else ''}",
                     label="Coverage per subject", legend=("full", "partial", none), width=width)


HEAT_STEPS = (0, 2, 5, 15, 40)  # percent: the heat map's colour steps


def heat_step(percent) -> int:
    """The colour step (0–5) of a heat map cell: 0 for nothing certified."""
    if not percent:
        return 0
    return sum(1 for step in HEAT_STEPS if percent > step)


# Words too common to narrow a search: every term of the query must match, so "volume of a cylinder"
# missed "Use volume formulas for cylinders" (HSG-GMD.A.3), which has no "of" and no "a".
STOP_WORDS = frozenset("""
    a an and are as at be by can for from how in into is it its of on or that the their them then these this
    to was what when where which with
""".split())


def _fts_query(q):
    """Each word as a quoted FTS5 term, so punctuation in codes (HSG-GMD.A.3) cannot break the query;
    a "quoted phrase" as an FTS5 phrase, word for word; a quote left open runs to the end of the
    search, as search engines read it (read as words, its common words were dropped). Common English
    words (STOP_WORDS) outside a phrase are left out, unless nothing else is asked for (a search for
    "the" finds "the")."""
    terms = []  # (text, whether it can be left out)
    for phrase, word in re.findall(r'"([^"]*)(?:"|$)|(\S+)', q):
        text = " ".join((phrase or word).replace('"', "").split())
        if text:
            terms.append((text, bool(word) and text.lower() in STOP_WORDS))
    kept = [text for text, common in terms if not common] or [text for text, _ in terms]
    return " ".join(f'"{t}"' for t in kept)


def page_number(request):
    """The ``?page=`` number (1 when absent); None when it is not a positive whole number."""
    raw = request.args.get("page")
    if raw in (None, ""):
        return 1
    try:
        number = int(raw)
    except ValueError:
        return None
    return number if 1 <= number <= MAX_PAGE else None


MAX_PAGE = 10**9  # more pages than any list has, and an offset SQLite can hold


def url_id(request) -> int:
    """The id of a page's URL (/program/7, /standard/12): a number SQLite can hold, else this page is
    not found (an id past SQLite's integers is no row's; sqlite3 would refuse to pass it)."""
    number = row_id(request.url_vars["id"])
    if number is None:
        raise NotFoundPage(f"There is nothing numbered {request.url_vars['id'][:40]}.")
    return number


def last_page(total: int, size: int) -> int:
    """The number of the last page of ``total`` items, ``size`` to a page (1 when there are none)."""
    return max(1, -(-total // size))


def query_string(**params) -> str:
    """``?a=1&b=2`` of the parameters that have a value (for links that keep the page's filters)."""
    kept = {k: v for k, v in params.items() if v not in (None, "")}
    return ("?" + urllib.parse.urlencode(kept)) if kept else ""


def band_label(row) -> str:
    """A program's grade band as it reads everywhere: "Grades 9–12"."""
    low, high = row.get("grade_low"), row.get("grade_high")
    return grade_label(low, high) if low is not None and high is not None else ""


def not_approved_text(status) -> str:
    """What a program's work says where it would certify, when its crosswalk is not signed off:
    "draft, not yet approved", "in review, not yet approved"; "" for an approved program (or one of a
    copy that holds no status)."""
    return f"{status}, not yet approved" if not signed_off(status) else ""


def status_text(row) -> str:
    """A program's sign-off as a page shows it: "Approved by A. Rivera on 2026-03-02", "Draft"
    (:func:`crosswalk.text.program_status_text`; the public copy may hold no status). On the working
    site, with what happened to its decisions since (``changes_since_status`` and ``flagged_since_status``
    of ``program_progress``, copied onto the public copy's programs)."""
    text = program_status_text(row.get("status"), row.get("status_by"), row.get("status_at"),
                               row.get("changes_since_status") or 0, row.get("flagged_since_status") or 0)
    return text[:1].upper() + text[1:]


NOTICES_KEY = "crosswalk_notices"  # crosswalk.metadata.NOTICES_KEY


async def attribution_notices(datasette) -> list[str]:
    """The sources and attribution notices the database asks the site to show, read now (a framework
    or program added while a working site serves is credited at once).

    By the one rule of crosswalk.metadata (its NOTICES_SQL: the frameworks' notices, then CIP 2020 and the
    Perkins IV Career Clusters when programs use them), which crosswalk writes into the site's metadata
    (NOTICES_KEY) when it serves or publishes a database: this file holds no copy of it, nor of the
    notices' words. A site whose metadata does not hold it credits nothing here."""
    rule = datasette.metadata(NOTICES_KEY)
    if not isinstance(rule, dict) or not rule.get("sql"):
        return []
    return [r["notice"] for r in await rows(datasette, rule["sql"], dict(rule.get("params") or {}))]


async def footer(datasette) -> dict:
    """What the footer (templates/_footer.html) of every page shows, crosswalk's and Datasette's alike:
    the sources' attribution notices, when and how the copy was published (the ``about`` table), and
    whether suggestions are shown. Datasette's table, row, query and database pages show the standards'
    text word for word, so they owe the same notices (extra_template_vars)."""
    about = {r["key"]: r["value"] for r in await rows(datasette, "select key, value from about")} \
        if await has(datasette, "about") else {}
    return {
        "attributions": await attribution_notices(datasette),
        "about": about,
        "has_suggestions": await has(datasette, "unreviewed_suggestions"),
    }


def no_program_text(about) -> str:
    """What a page says where the site has no program: on an --approved-only copy, that none is approved
    yet and how many are being decided (publish writes them in ``about``), not "No programs yet"."""
    if (about or {}).get("programs") != "approved programs only":
        return "No programs yet."
    text = "No program's crosswalk is approved yet, so none is published here"
    waiting = int((about or {}).get("programs_not_approved") or 0)
    if waiting:
        text += (f"; {waiting} program{' is' if waiting == 1 else 's are'} in progress"
                 f" ({about.get('programs_not_approved_status')})")
    return text + "."


async def common(datasette, request):
    """What every page shows: the site's title, the sources' attributions, who is signed in."""
    _, name = _db(datasette)
    return {
        "db_name": name,
        **await footer(datasette),
        "site_title": datasette.metadata("title") or "crosswalk",
        "site_description": datasette.metadata("description") or "",  # publish --description
        "metadata": datasette.metadata(),
        "grade_label": grade_label,
        "score_text": score_text,  # every score a page shows, as the workbook shows it
        "band_label": band_label,
        "status_text": status_text,
        "no_program_text": no_program_text,
        "query_string": query_string,
        "working": is_working(datasette),
        "sign_in_available": offers_sign_in(datasette),
        "reviewer": reviewer_of(request),
    }


def offers_sign_in(datasette) -> bool:
    """Whether anyone can sign in on this site: only a review site (crosswalk.review_site gives it its
    reviewers' sessions). The public copy never does, nor a working site served without --review: their
    /-/login is the site's 404 saying so (no_sign_in)."""
    return getattr(datasette, "crosswalk_sessions", None) is not None


def reviewer_of(request):
    """The signed-in reviewer (an actor with the reviewer role), or None."""
    actor = request.actor if request is not None else None
    roles = (actor or {}).get("roles") or []
    return actor if "reviewer" in (roles if isinstance(roles, list) else [roles]) else None


async def check_visible(datasette, request):
    """Raises Forbidden unless the visitor may see the database (a review site asks reviewers to sign in)."""
    _, name = _db(datasette)
    await datasette.ensure_permissions(request.actor, [("view-database", name), "view-instance"])


async def render(datasette, request, template, context, status=200):
    """A page, once the visitor may see the database."""
    await check_visible(datasette, request)
    context = {**await common(datasette, request), **context}
    html = await datasette.render_template(template, context, request=request)
    return Response.html(html, status=status)


PAGE_CACHE_SIZE = 256  # whole pages kept per site, for visitors who are not signed in


async def page(datasette, request, template, context_fn, extras=None):
    """A page: ``context_fn(datasette, request)`` (and ``extras(datasette, request, context)``) rendered.

    What a visitor who is not signed in sees is the same for everyone until the database changes:
    such pages are kept whole (per process, least recently used out) under their URL and the
    database's data_version. Signed-in reviewers' pages carry their CSRF tokens and are never kept.
    (A public copy also keeps every answer to a request without a cookie, in front: PageCache.)
    """
    await check_visible(datasette, request)
    db, _ = _db(datasette)
    version = _data_version(datasette, db)
    key = None
    if version is not None and request.actor is None and "ds_messages" not in request.cookies:
        key = (db.name, version, request.path, request.query_string)
        kept = datasette.__dict__.setdefault("_crosswalk_page_cache", collections.OrderedDict())
        if key in kept:
            kept.move_to_end(key)
            status, html = kept[key]
            return Response.html(html, status=status)
    try:
        context = await context_fn(datasette, request)
        if extras:
            context.update(await extras(datasette, request, context))
        response = await render(datasette, request, template, context)
    except NotFoundPage as missing:
        response = await not_found(datasette, request, str(missing))
    if key is not None:
        kept = datasette.__dict__["_crosswalk_page_cache"]
        kept[key] = (response.status, response.body)
        while len(kept) > PAGE_CACHE_SIZE:
            kept.popitem(last=False)
    return response


async def not_found(datasette, request, message):
    return await render(datasette, request, "crosswalk_not_found.html", {"message": message}, status=404)


class NotFoundPage(Exception):
    """A page that does not exist: answered with the site's own 404 page and this message."""


# --- home ---------------------------------------------------------------------------------------

async def home_context(datasette, request) -> dict:
    programs = await rows(datasette, """
        select p.*,
               (select group_concat(f.name, '; ') from program_frameworks pf join frameworks f on f.id = pf.framework_id
                    where pf.program_id = p.id) as credentials
        from programs p order by p.name
    """)
    coverage = await rows(datasette, """
        select program_id, subject, standards, full, partial, certified, percent
        from program_coverage order by subject
    """)
    subjects = sorted({c["subject"] or NO_SUBJECT for c in coverage})
    cells = {(c["program_id"], c["subject"] or NO_SUBJECT): c for c in coverage}
    for p in programs:
        mine = [c for c in coverage if c["program_id"] == p["id"]]
        p["standards"] = sum(c["standards"] or 0 for c in mine)
        p["certified"] = sum(c["certified"] or 0 for c in mine)
        p["cells"] = [cells.get((p["id"], s)) for s in subjects]
        p["signed_off"] = signed_off(p.get("status"))  # (a draft's shares: accepted so far)
    totals = await one(datasette, """
        select count(*) as standards, sum(certified) as certified
        from (select standard_id, max(strength is not null) as certified from program_standards group by standard_id)
    """)
    accepted = await one(datasette,
                         "select count(distinct alignment_id) as n from program_evidence")
    # Where some crosswalk is a draft or in review, its accepted alignments certify once it is
    # approved: the figures say how much of them is approved (every program approved, or none with a
    # status: not asked).
    approved = None
    all_signed_off = all(p["signed_off"] for p in programs)
    if not all_signed_off:
        approved = await one(datasette, """
            select count(distinct e.alignment_id) as alignments, count(distinct e.standard_id) as standards
            from program_evidence e join programs p on p.id = e.program_id where p.status = 'approved'
        """)
    progress = {}
    if is_working(datasette):
        for r in await rows(datasette, "select * from program_progress"):
            progress[r["program_id"]] = dict(r, left=(r["statements"] or 0) - (r["statements_decided"] or 0))
        for p in programs:  # the status as the program's page shows it, with what happened since its sign-off
            for since in ("changes_since_status", "flagged_since_status"):
                p[since] = (progress.get(p["id"]) or {}).get(since)
    return {
        "progress": progress,
        "programs": programs,
        "subjects": subjects,
        "certified_any": (totals or {}).get("certified") or 0,
        "band_total": (totals or {}).get("standards") or 0,
        "accepted": accepted["n"] if accepted else 0,
        "all_signed_off": all_signed_off,
        "accepted_approved": approved["alignments"] if approved else None,
        "certified_approved": approved["standards"] if approved else None,
        "heat_step": heat_step,
    }


async def home(datasette, request):
    return await page(datasette, request, "crosswalk_home.html", home_context)


# --- a program ----------------------------------------------------------------------------------

# A program's standards (its band's), in reading order.
# A row of the subject asked for (:subject), a standard with none (NULL or '') under NO_SUBJECT
# (:no_subject), as the pages list and link it.
SUBJECT_IS = "coalesce(nullif(subject, ''), :no_subject) = :subject"
# The same for a domain (:domain), a standard without one under NO_DOMAIN (:no_domain).
DOMAIN_IS = "coalesce(nullif(domain, ''), :no_domain) = :domain"
PROGRAM_STANDARDS = f"""
    select standard_id, standard_code, standard, subject, domain, grade, grade_low, grade_high, academic_framework,
           strength, evidence_count
    from program_standards
    where program_id = :p and (:subject is null or {SUBJECT_IS})
      and (:domain is null or {DOMAIN_IS}) and (:all or strength is not null)
    order by subject, domain, grade_low, grade_high, standard_position, standard_code, standard_id
    limit :limit offset :offset
"""
PROGRAM_STANDARDS_COUNT = f"""
    select count(*) as n from program_standards
    where program_id = :p and (:subject is null or {SUBJECT_IS})
      and (:domain is null or {DOMAIN_IS}) and (:all or strength is not null)
"""


async def program_context(datasette, request) -> dict:
    """Everything the program page shows; raises NotFoundPage for a program, page, subject or domain not there."""
    program_id = url_id(request)
    program = await one(datasette, "select * from programs where id = :id", {"id": program_id})
    if program is None:
        raise NotFoundPage(f"There is no program number {program_id}.")
    page = page_number(request)
    if page is None:
        raise NotFoundPage(f"“{request.args.get('page')}” is not a page number.")
    p = {"p": program_id}
    credentials = await rows(datasette, """
        select f.id, f.name, f.publisher, f.version, f.license,
               (select count(*) from standards s where s.framework_id = f.id and s.status = 'active') as tasks
        from program_frameworks pf join frameworks f on f.id = pf.framework_id
        where pf.program_id = :p order by f.name
    """, p)
    coverage = await rows(datasette, """
        select subject, standards, full, partial, certified, percent from program_coverage
        where program_id = :p order by subject
    """, p)
    domains = await rows(datasette, """
        select subject, domain, standards, full, partial, certified, percent from program_domain_coverage
        where program_id = :p order by subject, domain
    """, p)
    for r in (*coverage, *domains):  # (a standard without a subject: listed, and linked, under NO_SUBJECT)
        r["subject"] = r["subject"] or NO_SUBJECT
    for d in domains:  # (and without a domain, under NO_DOMAIN)
        d["domain"] = d["domain"] or NO_DOMAIN
    clusters = collections.defaultdict(list)
    for c in await rows(datasette, """
        select subject, domain, cluster, standards, certified, percent from program_cluster_coverage
        where program_id = :p and cluster is not null and cluster != '' order by subject, domain, cluster
    """, p):
        clusters[(c["subject"] or NO_SUBJECT, c["domain"] or NO_DOMAIN)].append(c)
    by_subject = collections.OrderedDict()
    for d in domains:
        d = dict(d, clusters=clusters.get((d["subject"], d["domain"]), []))
        by_subject.setdefault(d["subject"], []).append(d)

    subject = request.args.get("subject") or None
    domain = request.args.get("domain") or None
    if subject is not None and subject not in {c["subject"] for c in coverage}:
        raise NotFoundPage(f"{program['name']} has no standards in a subject called “{subject}” in its grade band.")
    if domain is not None and (subject is None or domain not in {d["domain"] for d in by_subject.get(subject, [])}):
        raise NotFoundPage(f"{program['name']} has no {subject or ''} domain called “{domain}” in its grade band.")
    listing = {"p": program_id, "subject": subject, "domain": domain, "all": 1 if subject else 0,
               "no_subject": NO_SUBJECT, "no_domain": NO_DOMAIN}
    total = (await one(datasette, PROGRAM_STANDARDS_COUNT, listing))["n"]
    pages = last_page(total, PAGE_SIZE)
    if page > pages:
        raise NotFoundPage(f"{program['name']} has {pages} page{'' if pages == 1 else 's'} of standards here, not {page}.")
    first = (page - 1) * PAGE_SIZE
    standards = await rows(datasette, PROGRAM_STANDARDS, dict(listing, limit=PAGE_SIZE, offset=first))
    ids = json.dumps([s["standard_id"] for s in standards])
    evidence = await rows(datasette, """
        select standard_id, standard_code, standard, subject, grade, grade_low, grade_high, academic_framework,
               cte_id as task_id, cte_code as task_code, cte_statement as task, credential, alignment_id,
               strength, rationale, reviewer, reviewed_at
        from program_evidence
        where program_id = :p and standard_id in (select value from json_each(:ids))
        order by subject, grade_low, grade_high, standard_position, standard_code, standard_id, task_code
    """, {"p": program_id, "ids": ids})
    rereview = []
    if await has(datasette, "program_rereview"):
        rereview = await rows(datasette, """
            select alignment_id, cte_code, cte_statement, credential, standard_id, standard_code, standard, subject,
                   reason, reviewer, reviewed_at, strength
            from program_rereview where program_id = :p order by subject, standard_code, cte_code
        """, p)
    stale_by_standard = collections.defaultdict(list)
    for r in rereview:
        stale_by_standard[r["standard_id"]].append(r)
    # subject -> domain -> the standards of this page, each with its evidence
    grouped = collections.OrderedDict()
    by_id = {}
    for s in standards:
        entry = dict(s, evidence=[], stale=stale_by_standard.get(s["standard_id"], []),
                     grade_text=grade_label(s["grade_low"], s["grade_high"], s["grade"]))
        by_id[s["standard_id"]] = entry
        grouped.setdefault(s["subject"] or NO_SUBJECT, collections.OrderedDict()) \
            .setdefault(s["domain"] or "", []).append(entry)
    for e in evidence:
        if e["standard_id"] in by_id:
            by_id[e["standard_id"]]["evidence"].append(e)
    # The reviewed alignments that certify its band's standards.
    reviews = await rows(datasette, """
        select reviewer, count(*) as alignments,
               min(substr(reviewed_at, 1, 10)) as first_date, max(substr(reviewed_at, 1, 10)) as last_date
        from program_evidence where program_id = :p
        group by reviewer
    """, p)
    dates = [d for r in reviews for d in (r["first_date"], r["last_date"]) if d]
    band = band_label(program)
    progress = None
    if is_working(datasette):
        progress = await one(datasette, "select * from program_progress where program_id = :p", p)
        if progress:
            progress["left"] = (progress["statements"] or 0) - (progress["statements_decided"] or 0)
    signed = signed_off(program.get("status"))  # (a draft's figures: accepted so far)
    return {
        "program": program,
        "signed_off": signed,
        "titles": coverage_titles(signed),
        "progress": progress,
        "band": band,
        "status": status_text({**program, **(progress or {})}),
        "credentials": credentials,
        "coverage": coverage,
        "domains": by_subject,
        "chart": coverage_chart(coverage, band=band, signed=signed),
        "standards_in_band": sum(c["standards"] or 0 for c in coverage),
        # (asked only where the page has nothing to list: the count reads every accepted decision of its credentials)
        "empty_text": empty_crosswalk_text((await one(datasette, OUTSIDE_BAND_SQL, p))["outside"], band)
        if not grouped and subject is None else "",
        "certified": sum(c["certified"] or 0 for c in coverage),
        "subject": subject,
        "domain": domain,
        "grouped": grouped,
        "evidence": evidence,
        "rereview": rereview,
        "alignment_count": sum(r["alignments"] for r in reviews),
        "reviewers": sorted(r["reviewer"] for r in reviews if r["reviewer"]),
        "first_date": min(dates) if dates else None,
        "last_date": max(dates) if dates else None,
        "page": page,
        "pages": pages,
        "page_first": first + 1,
        "page_last": first + len(standards),
        "standard_total": total,
    }


async def program_page(datasette, request):
    return await page(datasette, request, "crosswalk_program.html", program_context)


# --- a standard ---------------------------------------------------------------------------------

AWAITING_SHOWN = 20  # a standard's suggestions awaiting review shown on its page at a time, best first


def awaiting_review_sql(side: str, suggestions: str = "alignments") -> tuple[str, str]:
    """The one rule for a statement's (``:id``) suggestions awaiting review, as SQL: ``from … where …``
    and ``order by`` of the suggestions ``a`` joined to the statement ``o`` at their other end. Only
    suggestions to active statements: one to a statement retired since certifies nothing and no one
    can decide it. An industry statement's in the matcher's order; the statements suggested for an
    academic standard best first; then by id, so that pages of them never share or skip one.
    ``side``: the statement's column (``source_id`` for a task, ``target_id`` for a standard);
    ``suggestions``: the working database's ``alignments`` (status 'suggested'), or the public
    copy's ``unreviewed_suggestions`` (suggestions only).

    Example::

        where, order = awaiting_review_sql("target_id")
        f"select a.score, o.code {where} order by {order} limit 20"
    """
    suggested = " and a.status = 'suggested'" if suggestions == "alignments" else ""
    other = "target_id" if side == "source_id" else "source_id"
    where = (f"from {suggestions} a join standards o on o.id = a.{other} "
             f"where a.{side} = :id{suggested} and o.status = 'active'")
    order = (statement_order_sql("a") if side == "source_id" else "a.score desc") + ", a.id"
    return where, order


async def standard_context(datasette, request) -> dict:
    standard_id = url_id(request)
    standard = await one(datasette, """
        select s.*, f.name as framework, f.kind, f.publisher, f.attribution
        from standards s join frameworks f on f.id = s.framework_id where s.id = :id
    """, {"id": standard_id})
    if standard is None:
        raise NotFoundPage(f"There is no standard number {standard_id}.")
    parent = None
    if standard.get("parent_id"):
        parent = await one(datasette, "select id, code, statement from standards where id = :id",
                           {"id": standard["parent_id"]})
    if standard["kind"] == "academic":
        evidence = await rows(datasette, """
            select a.id as alignment_id, p.id as program_id, p.name as program, p.status as program_status,
                   sf.name as credential,
                   s.id as other_id, s.code as other_code, s.statement as other_statement,
                   a.strength, a.rationale, a.reviewer, a.reviewed_at
            from alignments a
            join standards s on s.id = a.source_id
            join frameworks sf on sf.id = s.framework_id
            left join program_frameworks pf on pf.framework_id = sf.id
            left join programs p on p.id = pf.program_id
            where a.target_id = :id and a.status = 'accepted'
            order by p.name, s.code
        """, {"id": standard_id})
    else:
        evidence = await rows(datasette, """
            select a.id as alignment_id, t.id as other_id, t.code as other_code, t.statement as other_statement,
                   tf.name as credential, t.subject, t.grade, t.grade_low, t.grade_high,
                   a.strength, a.rationale, a.reviewer, a.reviewed_at
            from alignments a
            join standards t on t.id = a.target_id
            join frameworks tf on tf.id = t.framework_id
            where a.source_id = :id and a.status = 'accepted'
            order by t.subject, t.code
        """, {"id": standard_id})
    # An accepted decision on a statement that changed or was retired since certifies nothing until
    # decided again (rereview_alignments); one for a program certifies the standard for it where its
    # grade band holds the standard (program_evidence), as the program's page and the gaps count.
    stale, certifies = {}, set()
    if evidence:
        ids = {"ids": json.dumps([e["alignment_id"] for e in evidence])}
        if await has(datasette, "rereview_alignments"):
            stale = {r["alignment_id"]: r["reason"] for r in await rows(datasette, """
                select alignment_id, reason from rereview_alignments
                where alignment_id in (select value from json_each(:ids))
            """, ids)}
        certifies = {(r["program_id"], r["alignment_id"]) for r in await rows(datasette, """
            select program_id, alignment_id from program_evidence
            where alignment_id in (select value from json_each(:ids))
        """, ids)}
    for e in evidence:
        e["stale"] = e["alignment_id"] in stale
        e["stale_reason"] = stale.get(e["alignment_id"])
        e["outside_band"] = bool(e.get("program_id")) and not e["stale"] and (
            (e["program_id"], e["alignment_id"]) not in certifies)
    # Only an approved program's crosswalk certifies for the public; a draft's or one in review is its
    # committee's work so far, said as such (a copy published without --approved-only holds them).
    programs = {(r["program"], r["program_status"]) for r in evidence
                if (r.get("program_id"), r["alignment_id"]) in certifies}
    for e in evidence:
        e["not_approved"] = not_approved_text(e.get("program_status")) if e.get("program_id") else ""
    teaching = []
    if standard["kind"] == "industry":
        teaching = await rows(datasette, """
            select p.id, p.name from program_frameworks pf join programs p on p.id = pf.program_id
            where pf.framework_id = :f order by p.name
        """, {"f": standard["framework_id"]})
    suggestions = []
    side, other_side = ("target_id", "source_id") if standard["kind"] == "academic" else ("source_id", "target_id")
    if await has(datasette, "unreviewed_suggestions"):
        where, order = awaiting_review_sql(side, "unreviewed_suggestions")
        suggestions = await rows(datasette, f"""
            select o.id as other_id, o.code as other_code, o.statement as other_statement,
                   a.score, a.confidence, a.evidence,
                   (select f.name from frameworks f where f.id = o.framework_id) as other_framework
            {where} order by {order} limit {AWAITING_SHOWN}
        """, {"id": standard_id})
    # /gaps lists the standards of some program's grade band that no program certifies: one outside
    # every band is not among them (and on a copy with no program, /gaps has no subject to link to).
    in_a_band = standard["kind"] == "academic" and not evidence and (await one(datasette, """
        select exists (select 1 from program_standards where standard_id = :id) as n
    """, {"id": standard_id}))["n"]
    return {
        "standard": standard,
        "parent": parent,
        "in_a_band": bool(in_a_band),
        "gaps_subject": standard.get("subject") or NO_SUBJECT,
        "grade": grade_label(standard.get("grade_low"), standard.get("grade_high"), standard.get("grade")),
        "evidence": evidence,
        "certifying": [e for e in evidence if not e["stale"]],
        "programs": sorted(name for name, status in programs if not not_approved_text(status)),
        "unapproved": [f"{name} ({status})" for name, status in sorted(programs) if not_approved_text(status)],
        "teaching": teaching,
        "suggestions": suggestions,
        "side": side,
        "other_side": other_side,
    }


async def standard_page(datasette, request):
    return await page(datasette, request, "crosswalk_standard.html", standard_context)


# --- gaps ---------------------------------------------------------------------------------------

# Each standard of the band (of one program, or of any program). One program's gap: a standard it does not
# certify (program_standards); the crosswalk's: one no program certifies (the uncovered_standards view).
GAP_STANDARDS = """
    select standard_id, standard_code, standard, subject, domain, grade, grade_low, grade_high, standard_position,
           case when :program is null then standard_id not in (select standard_id from uncovered_standards)
                else max(strength is not null) end as covered
    from program_standards
    where (:program is null or program_id = :program)
    group by standard_id
"""


async def gaps_context(datasette, request) -> dict:
    programs = await rows(datasette, "select * from programs order by name")
    program = None
    raw_program = request.args.get("program") or None
    if raw_program is not None:
        program = next((p for p in programs if str(p["id"]) == raw_program), None)
        if program is None:
            raise NotFoundPage(f"There is no program number {raw_program}.")
    subject = request.args.get("subject") or None
    domain = request.args.get("domain") or None
    params = {"program": program["id"] if program else None}
    summary_rows = await rows(datasette, f"""
        select subject, domain, count(*) as standards, sum(covered) as covered
        from ({GAP_STANDARDS}) group by subject, domain order by subject, domain
    """, params)
    summary = collections.OrderedDict()
    for r in summary_rows:
        entry = summary.setdefault(r["subject"] or NO_SUBJECT, {"standards": 0, "covered": 0, "domains": []})
        entry["standards"] += r["standards"]
        entry["covered"] += r["covered"]
        entry["domains"].append(dict(r, domain=r["domain"] or NO_DOMAIN, gaps=r["standards"] - r["covered"]))
    if subject is not None and subject not in summary:
        raise NotFoundPage(f"There is no subject called “{subject}” in the grade band here.")
    if domain is not None and (subject is None or domain not in {d["domain"] for d in summary[subject]["domains"]}):
        raise NotFoundPage(f"There is no {subject or ''} domain called “{domain}” in the grade band here.")
    page = page_number(request)
    if page is None:
        raise NotFoundPage(f"“{request.args.get('page')}” is not a page number.")
    listing, total_listed, pages = [], 0, 1
    if subject is not None:
        where = {"subject": subject, "domain": domain, "no_subject": NO_SUBJECT, "no_domain": NO_DOMAIN, **params}
        total_listed = (await one(datasette, f"""
            select count(*) as n from ({GAP_STANDARDS}) where not covered and {SUBJECT_IS}
              and (:domain is null or {DOMAIN_IS})
        """, where))["n"]
        pages = last_page(total_listed, PAGE_SIZE)
        if page > pages:
            raise NotFoundPage(f"There are {pages} page{'' if pages == 1 else 's'} of gaps here, not {page}.")
        found = await rows(datasette, f"""
            select * from ({GAP_STANDARDS}) where not covered and {SUBJECT_IS}
              and (:domain is null or {DOMAIN_IS})
            order by domain, grade_low, grade_high, standard_position, standard_code
            limit :limit offset :offset
        """, dict(where, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE))
        grouped = collections.OrderedDict()
        for r in found:
            r["grade_text"] = grade_label(r["grade_low"], r["grade_high"], r["grade"])
            grouped.setdefault(r["domain"] or NO_DOMAIN, []).append(r)
        listing = list(grouped.items())
    bands = sorted({band_label(p) for p in ([program] if program else programs) if band_label(p)})
    standards = sum(s["standards"] for s in summary.values())
    covered = sum(s["covered"] for s in summary.values())
    # A standard some draft or crosswalk in review accepted is no gap, but certifies nothing yet.
    signed = all(signed_off(p.get("status")) for p in ([program] if program else programs))
    titles = coverage_titles(signed)
    chart = bar_chart([{"label": subj, "total": s["standards"], "full": s["covered"], "partial": 0}
                       for subj, s in summary.items()],
                      title=f"Standards of the grade band {titles[2].lower()} per subject", label="Gaps per subject",
                      legend=(titles[2].lower(), "", f"{titles[3]} (gap)"))
    return {
        "programs": programs,
        "program": program,
        "signed_off": signed,
        "titles": titles,
        "bands": bands,
        "summary": summary,
        "subject": subject,
        "domain": domain,
        "listing": listing,
        "listed": total_listed,
        "page": page,
        "pages": pages,
        "gap_total": standards - covered,
        "total": standards,
        "chart": chart,
    }


async def gaps_page(datasette, request):
    return await page(datasette, request, "crosswalk_gaps.html", gaps_context)


# --- search -------------------------------------------------------------------------------------

SEARCH_LIMIT = 200


async def search_context(datasette, request) -> dict:
    q = (request.args.get("q") or "").strip()
    kind = request.args.get("kind") or ""
    results, problem = [], None
    match = _fts_query(q) if q else ""
    if match:
        where_kind = "and f.kind = :kind" if kind in ("academic", "industry") else ""
        sql = f"""
            select s.id, s.code, s.statement, s.subject, s.grade, s.grade_low, s.grade_high,
                   f.name as framework, f.kind,
                   (select count(*) from current_alignments a where a.status = 'accepted'
                        and (a.target_id = s.id or a.source_id = s.id)) as accepted,
                   case when lower(s.code) = lower(:q) then 0 else 1 end as exact,
                   -- Outside every program's grade band (a grade 2 standard where the programs are high
                   -- school's), after those in one: no program certifies it, and the short statements of
                   -- the early grades headed a search for "measure" (an audit). With no program, or no
                   -- grade, a standard is in.
                   case when s.grade_low is null or not exists (select 1 from programs)
                        or exists (select 1 from programs p where s.grade_low <= p.grade_high
                                   and s.grade_high >= p.grade_low) then 0 else 1 end as outside
            from standards_fts
            join standards s on s.rowid = standards_fts.rowid
            join frameworks f on f.id = s.framework_id
            where standards_fts match :match and s.status = 'active' {where_kind}
            order by exact, outside, standards_fts.rank
            limit {SEARCH_LIMIT}
        """
        try:
            results = await rows(datasette, sql, {"q": q, "match": match, "kind": kind}, log_sql_errors=False)
        except (sqlite3.Error, QueryInterrupted):
            problem = "That search could not be run. Try other words, or a standard's code."
        if results and await has(datasette, "rereview_alignments"):
            # (either side: a task's decisions too, in a credential any program teaches or none)
            stale = {r["id"] for r in await rows(datasette, """
                select standard_id as id from rereview_alignments where standard_id in (select value from json_each(:ids))
                union select cte_id from rereview_alignments where cte_id in (select value from json_each(:ids))
            """, {"ids": json.dumps([r["id"] for r in results])})}
            for r in results:
                r["stale"] = r["id"] in stale
    elif q:
        problem = "Type a word or a standard's code to search for."
    return {"q": q, "kind": kind, "results": results, "problem": problem, "limit": SEARCH_LIMIT,
            "searched": bool(match) and problem is None}


async def search_page(datasette, request):
    return await page(datasette, request, "crosswalk_search.html", search_context)


# --- CASE identifiers ------------------------------------------------------------------------------

async def case_identifier(datasette, request):
    """A CASE export's ``uri`` (``crosswalk export --format case --base-url`` this site), resolved: a
    standard's item to its page, an alignment to its academic standard's page (which names the tasks
    that certify it), a framework's document or item to its standards, the whole crosswalk's document
    to the home page. The identifiers are computed as the export computes them (crosswalk.case)."""
    kind, wanted = request.url_vars["kind"], request.url_vars["identifier"].lower()
    standards = await rows(datasette, "select s.id, s.code, s.parent_id, f.id as framework_id, f.name as framework "
                                      "from standards s join frameworks f on f.id = s.framework_id")
    db, name = _db(datasette)
    # Each standard's identifier, computed once while the database stays as it is (41,000 standards:
    # 0.4 s), as the queries' results are kept.
    kept = datasette.__dict__.setdefault("_crosswalk_case_items", {})
    key = (name, _data_version(datasette, db))
    item = kept.get(key) if key[1] is not None else None
    if item is None:
        item = {case_uuid("standard", s["framework"], s["code"]): s for s in standards}
        kept.clear()
        if key[1] is not None:
            kept[key] = item
    frameworks = await rows(datasette, "select id, name from frameworks order by kind desc, name")
    framework = {case_uuid("framework", f["name"]): f for f in frameworks}
    target = None
    if kind in ("CFItems", "CFDocuments") and wanted in framework:
        target = datasette.urls.table(name, "standards") + f"?framework_id={framework[wanted]['id']}"
    elif kind == "CFItems" and wanted in item:
        target = f"/standard/{item[wanted]['id']}"
    elif kind == "CFDocuments" and wanted == case_uuid("crosswalk", *(f["name"] for f in frameworks)):
        target = "/"
    elif kind == "CFAssociations":
        uuid_of = {s["id"]: u for u, s in item.items()}
        for a in await rows(datasette, "select source_id, target_id from alignments where status = 'accepted'"):
            ends = uuid_of.get(a["source_id"]), uuid_of.get(a["target_id"])  # (both published, as a rule)
            if None not in ends and case_uuid("alignment", *ends) == wanted:
                target = f"/standard/{a['target_id']}"
                break
        else:  # (an item's place in its framework: isChildOf, from the item to its parent)
            target = next((f"/standard/{s['id']}" for s in standards if s["parent_id"] in uuid_of
                           and case_uuid("isChildOf", uuid_of[s["id"]], uuid_of[s["parent_id"]]) == wanted), None)
    if target is None:
        return await not_found(datasette, request, (
            f"Nothing in this crosswalk has the CASE identifier {wanted} (among its {kind}): it may name a "
            "standard since retired and left out, or come from another crosswalk's export."))
    return Response.redirect(target)


async def reviewer_page(datasette, request):
    """An SSSOM export's reviewer (``reviewer:M._Levesque``, under ``--base-url`` this site), resolved:
    the alignments that reviewer decided, Datasette's table of them."""
    slug = request.url_vars["slug"]
    _, name = _db(datasette)
    for r in await rows(datasette, "select distinct reviewer from alignments where reviewer is not null"):
        if slug in (url_slug(r["reviewer"]), urllib.parse.unquote(url_slug(r["reviewer"]))):
            return Response.redirect(datasette.urls.table(name, "alignments") + "?"
                                     + urllib.parse.urlencode({"reviewer": r["reviewer"]}))
    return await not_found(datasette, request, "No alignment of this crosswalk was decided by that reviewer.")


ROUTES = [
    (r"^/$", home),
    (r"^/program/(?P<id>\d+)$", program_page),
    (r"^/standard/(?P<id>\d+)$", standard_page),
    (r"^/gaps$", gaps_page),
    (r"^/search$", search_page),
    (r"^/(?P<kind>CFItems|CFDocuments|CFAssociations)/(?P<identifier>[0-9A-Fa-f-]{36})$", case_identifier),
    (r"^/reviewer/(?P<slug>[^/]+)$", reviewer_page),
]


async def no_sign_in(datasette, request):
    """/-/login where no one signs in (the public copy; a working site served without --review): the
    site's own 404 saying so, not datasette-auth-passwords' form over "This instance does not have
    any configured accounts". Routed here on the public copy, and by crosswalk.review_site's sign-in
    (which comes first on every site of a process that made a review site)."""
    return await not_found(datasette, request, (
        "There is nothing to sign in to here: this is the public copy of the crosswalk."
        if _public_config(datasette) else
        "There is nothing to sign in to here: this site is read only. Serve it with "
        "crosswalk serve DATABASE --review to decide on it."))


async def not_a_number(datasette, request):
    """/program/abc, /standard/abc: the site's own 404, as /program/99 gets, not Datasette's bare one."""
    kind, text = request.url_vars["kind"], urllib.parse.unquote(request.url_vars["id"])
    return await not_found(datasette, request, f"There is no {kind} “{text}”: {kind}s go by their number.")


def numbered_fallbacks(datasette, suffix: str = "") -> list:
    """Routes for /program/... and /standard/... whose id is not a number (after the numbered
    routes), unless a database of that name needs those paths for its tables."""
    return [(rf"^/(?P<kind>{kind})/(?P<id>[^/]+){suffix}$", not_a_number)
            for kind in ("program", "standard") if kind not in datasette.databases]


# Datasette's pages about the server rather than the crosswalk: /-/databases gives the database
# file's path on the server, /-/versions and /-/plugins what it runs; the public copy has none of them.
SERVER_PAGES = r"^/-/(databases|threads|versions|plugins|allow-debug|permissions|patterns|actor|messages|api)(\.json)?$"


async def no_server_page(datasette, request):
    return await not_found(datasette, request, "This page is not part of the public crosswalk.")


# tryfirst: /-/login is datasette-auth-passwords' route too, and the first route that matches is taken.
@hookimpl(tryfirst=True)
def register_routes(datasette):
    if not _public_config(datasette):
        return []
    return (ROUTES + [(r"^/-/login$", no_sign_in), (SERVER_PAGES, no_server_page)]
            + numbered_fallbacks(datasette))


# A site's answers to visitors who carry no cookie (no one signed in, no message, no form token),
# each made once per process until the database changes: such an answer depends only on its address
# and the data (a public copy's never changes: its data_version is 0). Datasette's own table page of
# the suggestions (20 rows) takes 25 ms of CPU, most of it in Jinja; kept, 0.4 ms (in process, the
# demo's public copy). Kept: 200 answers that set no cookie, up to PAGE_MAX_BYTES each and
# PAGE_CACHE_BYTES in all per process, least recently asked for out first. On the public copy and
# the working site (crosswalk.working_plugin); crosswalk's own pages are also kept by page.
PAGE_CACHE_BYTES = 32 * 1024 * 1024
PAGE_MAX_BYTES = 512 * 1024
PRIVATE_HEADERS = {b"cookie", b"authorization"}  # a request with these is answered afresh, and not kept


class PageCache:
    """Whole answers of a site, by address and data_version (see PAGE_CACHE_BYTES)."""

    def __init__(self, limit: int = PAGE_CACHE_BYTES, largest: int = PAGE_MAX_BYTES):
        self.pages: collections.OrderedDict = collections.OrderedDict()  # address -> (start message, body)
        self.size, self.limit, self.largest = 0, limit, largest
        self.hits = 0

    @staticmethod
    def address(scope, version_of):
        """The key of a request whose answer can be kept, or None. ``version_of()`` gives the
        database's data_version; it is asked only for a request that could be kept."""
        if scope.get("method", "GET").upper() != "GET":
            return None
        if any(k.lower() in PRIVATE_HEADERS for k, _ in scope.get("headers", [])):
            return None
        version = version_of()
        return None if version is None else (version, scope.get("path", ""), scope.get("query_string", b""))

    async def serve(self, key, send) -> bool:
        kept = self.pages.get(key)
        if kept is None:
            return False
        self.pages.move_to_end(key)
        self.hits += 1
        start, body = kept
        await send(start)
        await send({"type": "http.response.body", "body": body})
        return True

    def recorder(self, key, send, whole=lambda: True):
        """``send``, keeping a copy of the answer when it can be kept (and ``whole()`` says that
        nothing was left out of it)."""
        parts, state = [], {"keep": True, "start": None, "size": 0}

        async def recording(message):
            if state["keep"]:
                if message["type"] == "http.response.start":
                    headers = message.get("headers", [])
                    state["keep"] = message.get("status") == 200 and not any(
                        k.lower() == b"set-cookie" for k, _ in headers)
                    state["start"] = {"type": message["type"], "status": message["status"], "headers": list(headers)}
                elif message["type"] == "http.response.body":
                    body = message.get("body", b"")
                    state["size"] += len(body)
                    state["keep"] = state["size"] <= self.largest
                    parts.append(body)
                    if not state["keep"]:
                        parts.clear()  # too large to keep: a CSV of every row streams on untouched
                    elif not message.get("more_body", False) and whole():
                        self._add(key, state["start"], b"".join(parts))
            await send(message)

        return recording

    def _add(self, key, start, body):
        old = self.pages.pop(key, None)
        if old is not None:
            self.size -= len(old[1])
        self.pages[key] = (start, body)
        self.size += len(body)
        while self.size > self.limit and self.pages:
            _, (_, dropped) = self.pages.popitem(last=False)
            self.size -= len(dropped)


# The queries that ran out of time while the current request was answered (a facet, a count, a
# suggested facet, each with its own time limit): Datasette answers without them, and such an
# answer is not kept, or every later visitor would get it (on a public copy, whose data never
# changes, until the site restarts). A list per request, shared with the tasks it starts.
_TIMED_OUT: contextvars.ContextVar = contextvars.ContextVar("crosswalk_timed_out", default=None)


def _note_time_outs(db) -> None:
    """Wrap this database object's ``execute`` (no other object, and no class, is changed) so that a
    query interrupted by its time limit is noted for the request that ran it."""
    run = db.execute
    if getattr(run, "notes_time_outs", False):
        return

    async def execute(*args, **kwargs):
        try:
            return await run(*args, **kwargs)
        except QueryInterrupted:
            noted = _TIMED_OUT.get()
            if noted is not None:
                noted.append(True)
            raise

    execute.notes_time_outs = True
    db.execute = execute


# The key of every request's scope, on the public copy and the working site, that says whether the site
# offers a sign-in (offers_sign_in): Datasette's own pages read it (templates/base.html), so that their
# menu offers no "Log in" (datasette-auth-passwords' link, on every site of the process) where no one can.
SIGN_IN_SCOPE = "crosswalk_sign_in"


async def answer_kept(datasette, app, scope, receive, send) -> None:
    """Answer an HTTP request from the site's PageCache, or make the answer and keep it if it can be
    kept: a 200 that sets no cookie, made without any query running out of time. The request's scope
    says whether the site offers a sign-in (SIGN_IN_SCOPE)."""
    scope = {**scope, SIGN_IN_SCOPE: offers_sign_in(datasette)}
    cache = datasette.__dict__.get("_crosswalk_answers")
    if cache is None:
        cache = datasette.__dict__["_crosswalk_answers"] = PageCache()
        for db in datasette.databases.values():
            _note_time_outs(db)
    key = cache.address(scope, lambda: _data_version(datasette, _db(datasette)[0]))
    if key is None:
        await app(scope, receive, send)
    elif not await cache.serve(key, send):
        noted = []
        token = _TIMED_OUT.set(noted)
        try:
            await app(scope, receive, cache.recorder(key, send, whole=lambda: not noted))
        finally:
            _TIMED_OUT.reset(token)


# The full-text index's own tables (SQLite's shadow tables of standards_fts): Datasette lists them
# under "hidden tables", and their rows, keyed by bytes, link to pages that are not there (a crawl of
# the public copy: 20 links "1,b'0aa'" answered 404). The search reads them; no visitor needs to.
FTS_SHADOW_TABLES = frozenset(f"standards_fts_{part}" for part in ("data", "idx", "docsize", "config"))


def shows_table(action, resource) -> bool | None:
    """False where ``action`` views one of the FTS_SHADOW_TABLES; else no opinion (None)."""
    if action == "view-table" and isinstance(resource, tuple) and resource[-1] in FTS_SHADOW_TABLES:
        return False
    return None


@hookimpl
def permission_allowed(datasette, actor, action, resource):
    return shows_table(action, resource) if _public_config(datasette) else None


@hookimpl
def asgi_wrapper(datasette):
    def wrap(app):
        async def refuse_writes(scope, receive, send):
            if scope["type"] != "http" or not _public_config(datasette):
                await app(scope, receive, send)
                return
            if scope.get("method", "GET").upper() not in READ_METHODS:
                body = b"This is the public, read-only crosswalk: it accepts no changes."
                await send({"type": "http.response.start", "status": 403,
                            "headers": [(b"content-type", b"text/plain; charset=utf-8")]})
                await send({"type": "http.response.body", "body": body})
                return
            await answer_kept(datasette, app, scope, receive, send)

        return refuse_writes

    return wrap


# crosswalk's own pages (rendered with :func:`common`), by their templates' names.
OWN_TEMPLATES = ("crosswalk_", "site/", "review/")


async def footer_of(template, datasette) -> dict:
    """The footer's notices (:func:`footer`) for a page Datasette renders (extra_template_vars): its
    own pages need them; crosswalk's own (OWN_TEMPLATES) have them from :func:`common` already (run
    again there, the footer's four queries ran twice on each review page)."""
    return {} if (template or "").startswith(OWN_TEMPLATES) else await footer(datasette)


@hookimpl
def extra_template_vars(template, datasette):
    if not _public_config(datasette):
        return {}

    async def inner():
        return {"crosswalk_public": True, **await footer_of(template, datasette)}
    return inner
