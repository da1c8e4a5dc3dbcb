"""Datasette hooks for the review site (registered by crosswalk.review_site).

They act only on a Datasette whose metadata configures the
``crosswalk-review`` plugin, so a public site in the same process is unchanged.
"""

from __future__ import annotations

import urllib.parse

from datasette import hookimpl
from datasette.utils.asgi import Forbidden, NotFound, Response

from . import public_plugin as pages
from . import review
from .db import row_id
from .text import local_path

PLUGIN = "crosswalk-review"
ROLE = "reviewer"
PAGE_SIZE = 100


def review_config(datasette) -> dict | None:
    return datasette.plugin_config(PLUGIN)


def is_reviewer(actor) -> bool:
    roles = (actor or {}).get("roles") or []
    return ROLE in (roles if isinstance(roles, list) else [roles])


@hookimpl
def prepare_connection(conn, database, datasette):
    if review_config(datasette):
        # The CLI may be writing at the same moment: wait for it instead of failing.
        conn.execute("PRAGMA busy_timeout = 30000")


@hookimpl
def forbidden(datasette, request, message):
    # Anonymous visitors are sent to sign in, and back to the page they asked for once signed in
    # (the sign-in page keeps only a path of this site: review_site.login); a POST keeps its plain 403.
    if review_config(datasette) and request.method == "GET" and not request.actor:
        login = datasette.urls.path("/-/login")
        back = request.full_path
        return Response.redirect(login if back in ("", "/") else f"{login}?next={urllib.parse.quote(back, safe='')}")


@hookimpl
def menu_links(datasette, actor):
    if review_config(datasette) and is_reviewer(actor):
        return [{"href": datasette.urls.path("/-/review"), "label": "Review queue"}]


@hookimpl
def register_routes(datasette):
    if not review_config(datasette):
        return []
    return [
        (r"^/-/review$", review_queue),
        (r"^/-/review/(?P<alignment_id>[^/]+)$", review_alignment),  # (db.row_id: not a number is a 404)
    ]


def _database(datasette, request):
    config = review_config(datasette)
    if not config:
        raise NotFound("No review site here")
    if not is_reviewer(request.actor):
        raise Forbidden("Sign in as a reviewer to review alignments")
    return datasette.get_database(config["database"])


QUEUE_SQL = """
select id, score, confidence, evidence, needs_review, status, cte_code, cte_statement, industry_framework,
       target_id, standard_code, standard, subject, grade,
       (select grade_low from standards where id = target_id) as grade_low,
       (select grade_high from standards where id = target_id) as grade_high
from alignment_details
where (status = 'suggested' or needs_review = 1)
  and cte_status = 'active' and standard_status = 'active'
  and (:program = '' or industry_framework_id in (
        select pf.framework_id from program_frameworks pf join programs p on p.id = pf.program_id
        where p.name = :program))
  and (:subject = '' or subject = :subject)
order by needs_review desc, score desc, +id
limit :limit offset :offset
"""
# Decisions to re-review first: they certify nothing until decided again (listed by score among the
# suggestions, one flagged on the demo was on page 3 of its program's math). "+id": without it SQLite
# reads the view's alignments in (source_id, target_id) index order, one table lookup per row, instead
# of scanning the table: 1.5x as long on the demo's 9,663 alignments.


async def review_queue(datasette, request):
    db = _database(datasette, request)
    program = request.args.get("program") or ""
    subject = request.args.get("subject") or ""
    page = pages.page_number(request)
    if page is None:
        return await pages.not_found(datasette, request, f"“{request.args.get('page')}” is not a page number.")
    programs = [r[0] for r in (await db.execute("select name from programs order by name")).rows]
    if program and program not in programs:
        return await pages.not_found(datasette, request, f"There is no program named “{program}”.")
    params = {"program": program, "subject": subject, "limit": PAGE_SIZE + 1, "offset": (page - 1) * PAGE_SIZE}
    rows = [dict(r) for r in (await db.execute(QUEUE_SQL, params)).rows]
    if page > 1 and not rows:
        # Past the last page (as after deciding a last page's last suggestion): the last page there
        # is, as on a program's review page.
        total = (await db.execute(f"select count(*) from ({QUEUE_SQL})", dict(params, limit=-1, offset=0))).rows[0][0]
        page = pages.last_page(total, PAGE_SIZE)
        params["offset"] = (page - 1) * PAGE_SIZE
        rows = [dict(r) for r in (await db.execute(QUEUE_SQL, params)).rows]
    subjects = [r[0] for r in (await db.execute(
        "select distinct t.subject from alignments a join standards t on t.id = a.target_id "
        "where a.status = 'suggested' and t.subject is not null order by t.subject")).rows]
    return Response.html(await datasette.render_template(
        "review/queue.html",
        {
            **await pages.common(datasette, request),
            "rows": rows[:PAGE_SIZE], "more": len(rows) > PAGE_SIZE, "page": page,
            "program": program, "subject": subject, "programs": programs, "subjects": subjects,
            "database": db.name,
        },
        request=request,
    ))


async def review_alignment(datasette, request):
    db = _database(datasette, request)
    text = urllib.parse.unquote(request.url_vars["alignment_id"])
    alignment_id = row_id(text)
    rows = (await db.execute(
        "select d.*, t.grade_low, t.grade_high from alignment_details d join standards t on t.id = d.target_id "
        "where d.id = ?", [alignment_id])).rows if alignment_id is not None else []
    if not rows:
        return await pages.not_found(datasette, request, f"There is no alignment number “{text}”.")
    log = [dict(r) for r in (await db.execute(
        "select * from review_log where alignment_id = ? order by id", [alignment_id])).rows]
    last_change = (await db.execute(review.LAST_CHANGE, [alignment_id])).first()
    return Response.html(await datasette.render_template(
        "review/alignment.html",
        {
            **await pages.common(datasette, request),
            "a": dict(rows[0]), "log": log, "database": db.name,
            "decision": {"accepted": "accept", "rejected": "reject"}.get(rows[0]["status"], ""),
            "seen": review.seen_token(rows[0]["status"], last_change[0] if last_change else None),
            # Back to the queue as it was (its program, subject and page), where it was opened from.
            "back": local_path(request.args.get("back")) or datasette.urls.path("/-/review"),
        },
        request=request,
    ))
