"""Datasette plugin for the public crosswalk site: program, standard, gaps and search pages.

``crosswalk publish`` copies this file into ``OUTDIR/plugins/`` so that
``datasette publish`` and ``datasette package`` ship it; the copy imports nothing
but Datasette and the standard library (publish writes ``grade_label`` into it
in place of its one import from crosswalk). Every program query reads the
``program_evidence`` view, as the report does. It does nothing unless the metadata
switches it on::

    plugins:
      crosswalk-public:
        database: crosswalk

Pages: ``/`` (programs and their coverage), ``/program/<id>`` (50 certified
standards and their evidence a page, ``?page=N``), ``/standard/<id>``,
``/gaps`` and ``/search?q=``. Every write (any method other than GET, HEAD or
OPTIONS) is refused with 403. Charts are server-side SVG; every value from the
database is escaped, so a statement holding HTML is shown as text.
"""

from __future__ import annotations

import collections
import json

from datasette import hookimpl
from datasette.utils.asgi import Response
from markupsafe import Markup, escape

from crosswalk.text import grade_label  # `crosswalk publish` writes this function here in the published copy

CONFIG_KEY = "crosswalk-public"
READ_METHODS = {"GET", "HEAD", "OPTIONS"}
STRENGTH_ORDER = {"full": 2, "partial": 1}


def _config(datasette):
    return datasette.plugin_config(CONFIG_KEY)


def _db(datasette):
    config = _config(datasette) or {}
    name = config.get("database") or "crosswalk"
    return datasette.get_database(name), name


async def _rows(datasette, sql, params=None):
    db, _ = _db(datasette)
    return [dict(r) for r in (await db.execute(sql, params or {})).rows]


async def _has_table(datasette, name):
    db, _ = _db(datasette)
    return name in await db.table_names()


def coverage_chart(rows, *, width=640):
    """A horizontal bar chart (inline SVG) of certified standards per subject.

    ``rows``: dicts with subject, total, full, partial. Dark bar: full
    alignment; light bar: partial; grey: not certified.
    """
    bar_x, bar_w, row_h = 130, width - 130 - 170, 34
    height = row_h * len(rows) + 40
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="coverage-chart" role="img" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" aria-label="Coverage per subject">',
        "<title>Academic standards certified per subject</title>",
    ]
    for i, row in enumerate(rows):
        y = 8 + i * row_h
        total = row["total"] or 0
        full, partial = row["full"] or 0, row["partial"] or 0
        full_w = bar_w * full / total if total else 0
        partial_w = bar_w * partial / total if total else 0
        # A covered subject always shows at least a sliver, so 1 of 500 is visible.
        if full and full_w < 2:
            full_w = 2
        if partial and partial_w < 2:
            partial_w = 2
        percent = 100 * (full + partial) / total if total else 0
        parts.append(
            f'<text x="{bar_x - 10}" y="{y + 17}" text-anchor="end" class="chart-label">{escape(row["subject"])}</text>'
            f'<rect x="{bar_x}" y="{y}" width="{bar_w}" height="24" class="bar-none"><title>{total} standards</title></rect>'
            f'<rect x="{bar_x}" y="{y}" width="{full_w:.1f}" height="24" class="bar-full">'
            f'<title>{full} fully certified</title></rect>'
            f'<rect x="{bar_x + full_w:.1f}" y="{y}" width="{partial_w:.1f}" height="24" class="bar-partial">'
            f'<title>{partial} partly certified</title></rect>'
            f'<text x="{bar_x + bar_w + 10}" y="{y + 17}" class="chart-value">'
            f'{full + partial} of {total} ({percent:.1f}%)</text>'
        )
    legend_y = height - 14
    parts.append(
        f'<rect x="{bar_x}" y="{legend_y - 10}" width="12" height="12" class="bar-full"/>'
        f'<text x="{bar_x + 18}" y="{legend_y}" class="chart-legend">full</text>'
        f'<rect x="{bar_x + 70}" y="{legend_y - 10}" width="12" height="12" class="bar-partial"/>'
        f'<text x="{bar_x + 88}" y="{legend_y}" class="chart-legend">partial</text>'
        f'<rect x="{bar_x + 160}" y="{legend_y - 10}" width="12" height="12" class="bar-none"/>'
        f'<text x="{bar_x + 178}" y="{legend_y}" class="chart-legend">not certified</text>'
    )
    parts.append("</svg>")
    return Markup("".join(parts))


def _fts_query(q):
    """Each word as a quoted FTS5 term, so punctuation in codes (HSG-GMD.A.3) cannot break the query."""
    words = [w.replace('"', "") for w in q.split()]
    return " ".join(f'"{w}"' for w in words if w)


# frameworks first (CROSS JOIN fixes the order): only the academic standards are read, through the
# (framework_id, status, subject) index that `crosswalk publish` creates.
SUBJECT_TOTALS = """
    select x.subject as subject, count(*) as total
    from frameworks f cross join standards x on x.framework_id = f.id
    where f.kind = 'academic' and x.status = 'active'
    group by x.subject order by x.subject
"""


async def _coverage(datasette, certified):
    """Certified standards per subject (full / partial), out of all: ``certified`` rows of CERTIFIED_STANDARDS."""
    totals = await _rows(datasette, SUBJECT_TOTALS)
    counts = collections.defaultdict(lambda: {"full": 0, "partial": 0})
    for row in certified:
        counts[row["subject"]]["full" if row["best"] == 2 else "partial"] += 1
    return [
        {"subject": t["subject"] or "(no subject)", "total": t["total"], **counts[t["subject"]],
         "certified": counts[t["subject"]]["full"] + counts[t["subject"]]["partial"]}
        for t in totals
    ]


async def _common(datasette, request):
    _, name = _db(datasette)
    frameworks = await _rows(datasette, "select name, attribution, license, source_url from frameworks order by kind, name")
    about = {r["key"]: r["value"] for r in await _rows(datasette, "select key, value from about")} \
        if await _has_table(datasette, "about") else {}
    notices, seen = [], set()
    for fw in frameworks:
        if fw["attribution"] and fw["attribution"] not in seen:
            seen.add(fw["attribution"])
            notices.append(fw["attribution"])
    return {
        "db_name": name,
        "attributions": notices,
        "about": about,
        "site_title": datasette.metadata("title") or "crosswalk",
        "metadata": datasette.metadata(),
        "has_suggestions": await _has_table(datasette, "unreviewed_suggestions"),
        "grade_label": grade_label,
    }


async def _render(datasette, request, template, context, status=200):
    context = {**await _common(datasette, request), **context}
    html = await datasette.render_template(template, context, request=request)
    return Response.html(html, status=status)


async def _not_found(datasette, request, message):
    return await _render(datasette, request, "crosswalk_not_found.html", {"message": message}, status=404)


async def home(datasette, request):
    programs = await _rows(datasette, """
        select p.id, p.name, p.cip_code, p.career_cluster,
               (select group_concat(f.name, '; ') from program_frameworks pf join frameworks f on f.id = pf.framework_id
                    where pf.program_id = p.id) as credentials,
               (select count(distinct e.standard_id) from program_evidence e
                    where e.program_id = p.id) as certified
        from programs p order by p.name
    """)
    totals = await _rows(datasette, SUBJECT_TOTALS)
    certified_any = (await _rows(datasette, "select count(distinct target_id) as n from alignments where status = 'accepted'"))[0]["n"]
    accepted = (await _rows(datasette, "select count(*) as n from alignments where status = 'accepted'"))[0]["n"]
    academic_total = sum(t["total"] for t in totals)
    return await _render(datasette, request, "crosswalk_home.html", {
        "programs": programs,
        "subjects": totals,
        "certified_any": certified_any,
        "academic_total": academic_total,
        "accepted": accepted,
    })


PROGRAM_PAGE_SIZE = 50  # certified standards (with their evidence) per program page

# The academic standards a program certifies through accepted alignments, in reading order,
# with the best strength of each (2 full, 1 partial).
CERTIFIED_STANDARDS = """
    select standard_id as id, subject,
           max(case strength when 'full' then 2 when 'partial' then 1 else 0 end) as best
    from program_evidence
    where program_id = :p
    group by standard_id
    order by subject, grade_low, grade_high, standard_position, standard_code, standard_id
"""


def _page_number(request):
    """The ``?page=`` number (1 when absent); None when it is not a positive whole number."""
    raw = request.args.get("page")
    if raw in (None, ""):
        return 1
    try:
        number = int(raw)
    except ValueError:
        return None
    return number if number >= 1 else None


async def program_page(datasette, request):
    program_id = int(request.url_vars["id"])
    found = await _rows(datasette, "select * from programs where id = :id", {"id": program_id})
    if not found:
        return await _not_found(datasette, request, f"There is no program number {program_id}.")
    program = found[0]
    page = _page_number(request)
    if page is None:
        return await _not_found(datasette, request, f"“{request.args.get('page')}” is not a page number.")
    credentials = await _rows(datasette, """
        select f.id, f.name, f.publisher, f.version, f.license,
               (select count(*) from standards s where s.framework_id = f.id and s.status = 'active') as tasks
        from program_frameworks pf join frameworks f on f.id = pf.framework_id
        where pf.program_id = :p order by f.name
    """, {"p": program_id})
    reviews = await _rows(datasette, """
        select reviewer, count(*) as alignments,
               min(substr(reviewed_at, 1, 10)) as first_date, max(substr(reviewed_at, 1, 10)) as last_date
        from program_evidence
        where program_id = :p
        group by reviewer
    """, {"p": program_id})
    dates = [d for r in reviews for d in (r["first_date"], r["last_date"]) if d]
    certified = await _rows(datasette, CERTIFIED_STANDARDS, {"p": program_id})
    standard_ids = [r["id"] for r in certified]
    pages = max(1, -(-len(standard_ids) // PROGRAM_PAGE_SIZE))
    if page > pages:
        return await _not_found(datasette, request,
                                f"{program['name']} has {pages} page{'' if pages == 1 else 's'} of certified "
                                f"standards, not {page}.")
    first = (page - 1) * PROGRAM_PAGE_SIZE
    on_page = standard_ids[first:first + PROGRAM_PAGE_SIZE]
    evidence = await _rows(datasette, """
        select standard_id, standard_code, standard, subject, grade, grade_low, grade_high, academic_framework,
               cte_id as task_id, cte_code as task_code, cte_statement as task, credential,
               strength, rationale, reviewer, reviewed_at
        from program_evidence
        where program_id = :p and standard_id in (select value from json_each(:ids))
        order by subject, grade_low, grade_high, standard_position, standard_code, standard_id, task_code
    """, {"p": program_id, "ids": json.dumps(on_page)})
    # subject -> grade group -> standard -> its evidence
    subjects = collections.OrderedDict()
    for row in evidence:
        grades = subjects.setdefault(row["subject"] or "(no subject)", collections.OrderedDict())
        standards = grades.setdefault(grade_label(row["grade_low"], row["grade_high"], row["grade"]),
                                      collections.OrderedDict())
        entry = standards.setdefault(row["standard_id"], {
            "id": row["standard_id"], "code": row["standard_code"], "statement": row["standard"],
            "framework": row["academic_framework"], "evidence": [], "strength": None,
        })
        entry["evidence"].append(row)
        if STRENGTH_ORDER.get(row["strength"], 0) > STRENGTH_ORDER.get(entry["strength"], 0):
            entry["strength"] = row["strength"]
    coverage = [
        {**row, "subject": row["subject"] or "(no subject)", "total": row["standards"]}
        for row in await _rows(datasette, "select * from program_coverage where program_id = :p order by subject",
                               {"p": program_id})
    ]
    return await _render(datasette, request, "crosswalk_program.html", {
        "program": program,
        "credentials": credentials,
        "subjects": subjects,
        "evidence": evidence,
        "alignment_count": sum(r["alignments"] for r in reviews),
        "coverage": coverage,
        "chart": coverage_chart(coverage),
        "certified": sum(c["certified"] for c in coverage),
        "reviewers": sorted(r["reviewer"] for r in reviews if r["reviewer"]),
        "first_date": min(dates) if dates else None,
        "last_date": max(dates) if dates else None,
        "page": page,
        "pages": pages,
        "page_first": first + 1,
        "page_last": first + len(on_page),
        "standard_total": len(standard_ids),
    })


async def standard_page(datasette, request):
    standard_id = int(request.url_vars["id"])
    found = await _rows(datasette, """
        select s.*, f.name as framework, f.kind, f.publisher, f.attribution
        from standards s join frameworks f on f.id = s.framework_id where s.id = :id
    """, {"id": standard_id})
    if not found:
        return await _not_found(datasette, request, f"There is no standard number {standard_id}.")
    standard = found[0]
    parent = None
    if standard.get("parent_id"):
        parents = await _rows(datasette, "select id, code, statement from standards where id = :id",
                              {"id": standard["parent_id"]})
        parent = parents[0] if parents else None
    if standard["kind"] == "academic":
        evidence = await _rows(datasette, """
            select p.id as program_id, p.name as program, sf.name as credential,
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
        side, other_side = "target_id", "source_id"
    else:
        evidence = await _rows(datasette, """
            select t.id as other_id, t.code as other_code, t.statement as other_statement,
                   tf.name as credential, t.subject, t.grade, t.grade_low, t.grade_high,
                   a.strength, a.rationale, a.reviewer, a.reviewed_at
            from alignments a
            join standards t on t.id = a.target_id
            join frameworks tf on tf.id = t.framework_id
            where a.source_id = :id and a.status = 'accepted'
            order by t.subject, t.code
        """, {"id": standard_id})
        side, other_side = "source_id", "target_id"
    programs = sorted({r["program"] for r in evidence if r.get("program")})
    teaching = []
    if standard["kind"] == "industry":
        teaching = await _rows(datasette, """
            select p.id, p.name from program_frameworks pf join programs p on p.id = pf.program_id
            where pf.framework_id = :f order by p.name
        """, {"f": standard["framework_id"]})
    suggestions = []
    if await _has_table(datasette, "unreviewed_suggestions"):
        suggestions = await _rows(datasette, f"""
            select o.id as other_id, o.code as other_code, o.statement as other_statement,
                   u.score, u.confidence, u.evidence
            from unreviewed_suggestions u join standards o on o.id = u.{other_side}
            where u.{side} = :id order by u.score desc limit 20
        """, {"id": standard_id})
    return await _render(datasette, request, "crosswalk_standard.html", {
        "standard": standard,
        "parent": parent,
        "grade": grade_label(standard.get("grade_low"), standard.get("grade_high"), standard.get("grade")),
        "evidence": evidence,
        "programs": programs,
        "teaching": teaching,
        "suggestions": suggestions,
    })


async def gaps_page(datasette, request):
    subject = request.args.get("subject")
    rows = await _rows(datasette, """
        select t.id, t.code, t.statement, t.subject, t.grade, t.grade_low, t.grade_high, f.name as framework,
               t.id in (select standard_id from program_evidence) as certified
        from standards t join frameworks f on f.id = t.framework_id
        where t.id in (select standard_id from program_standards)
        order by t.subject, t.grade_low, t.grade_high, t.position, t.code
    """)
    summary = collections.OrderedDict()
    listing = collections.OrderedDict()
    for row in rows:
        subj = row["subject"] or "(no subject)"
        label = grade_label(row["grade_low"], row["grade_high"], row["grade"])
        cell = summary.setdefault(subj, collections.OrderedDict()).setdefault(label, {"total": 0, "gaps": 0})
        cell["total"] += 1
        if not row["certified"]:
            cell["gaps"] += 1
            if subject in (None, "", subj):
                listing.setdefault(subj, collections.OrderedDict()).setdefault(label, []).append(row)
    gap_total = sum(c["gaps"] for g in summary.values() for c in g.values())
    if subject and subject not in summary:
        return await _not_found(datasette, request, f"There is no subject called “{subject}”.")
    return await _render(datasette, request, "crosswalk_gaps.html", {
        "summary": summary,
        "listing": listing,
        "subject": subject,
        "gap_total": gap_total,
        "total": len(rows),
    })


async def search_page(datasette, request):
    q = (request.args.get("q") or "").strip()
    kind = request.args.get("kind") or ""
    results = []
    if q:
        match = _fts_query(q)
        where_kind = "and f.kind = :kind" if kind in ("academic", "industry") else ""
        sql = f"""
            select s.id, s.code, s.statement, s.subject, s.grade, s.grade_low, s.grade_high,
                   f.name as framework, f.kind,
                   (select count(*) from alignments a where a.status = 'accepted'
                        and (a.target_id = s.id or a.source_id = s.id)) as accepted,
                   case when lower(s.code) = lower(:q) then 0 else 1 end as exact
            from standards_fts
            join standards s on s.rowid = standards_fts.rowid
            join frameworks f on f.id = s.framework_id
            where standards_fts match :match and s.status = 'active' {where_kind}
            order by exact, standards_fts.rank
            limit 200
        """
        if match:
            results = await _rows(datasette, sql, {"q": q, "match": match, "kind": kind})
    return await _render(datasette, request, "crosswalk_search.html", {
        "q": q, "kind": kind, "results": results,
    })


@hookimpl
def register_routes(datasette):
    if not _config(datasette):
        return []
    return [
        (r"^/$", home),
        (r"^/program/(?P<id>\d+)$", program_page),
        (r"^/standard/(?P<id>\d+)$", standard_page),
        (r"^/gaps$", gaps_page),
        (r"^/search$", search_page),
    ]


@hookimpl
def asgi_wrapper(datasette):
    def wrap(app):
        async def refuse_writes(scope, receive, send):
            if scope["type"] == "http" and scope.get("method", "GET").upper() not in READ_METHODS \
                    and _config(datasette):
                body = b"This is the public, read-only crosswalk: it accepts no changes."
                await send({"type": "http.response.start", "status": 403,
                            "headers": [(b"content-type", b"text/plain; charset=utf-8")]})
                await send({"type": "http.response.body", "body": body})
                return
            await app(scope, receive, send)

        return refuse_writes

    return wrap


@hookimpl
def extra_template_vars(datasette):
    if not _config(datasette):
        return {}
    return {"crosswalk_public": True}



