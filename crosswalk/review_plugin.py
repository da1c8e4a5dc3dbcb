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


# What the queue lists: the decisions to re-review, as every count of them reads them
# (rereview_alignments: the accepted decisions flagged because a statement changed or was retired
# since, until decided again; of one program, program_rereview: those on standards of its grade band, as the program counts
# them), then the suggestions between two active statements. A rejected decision flagged by an import
# certified nothing and certifies nothing: it is not to re-review, and not listed; a suggestion
# someone commented on, flagged when its statement changed, is a suggestion like the others.
QUEUE_REREVIEW = {
    False: """
select r.alignment_id as id, a.score as score
from rereview_alignments r join alignments a on a.id = r.alignment_id
where (:subject = '' or r.subject = :subject)""",
    True: """
select r.alignment_id as id, a.score as score
from programs p join program_rereview r on r.program_id = p.id and p.name = :program
join alignments a on a.id = r.alignment_id
where (:subject = '' or r.subject = :subject)""",
}
# The suggestions of every framework are read in the queue's order from its own index
# (idx_alignments_queue, migration m017; named, since with sampled statistics the planner read the
# status index and sorted), in its two parts (flagged or not) merged by score without a sort; of one
# program's frameworks, read from its statements (through that index, a program of 150 suggestions
# walked the whole queue of 90,000: 0.004 -> 0.081 s a page; an audit, 2026-11-30). "+a.status" and
# the cross joins keep that order: without them the planner read every suggestion through the status
# index, or paired each statement with every active standard (the first page of a program of 8,730
# suggestions among 94,875 alignments: 0.006-0.014 s, against 0.03-0.05 s before).
_SUGGESTED_WHERE = """
cross join standards t on t.id = a.target_id and t.status = 'active'
where {status} = 'suggested' and (:subject = '' or t.subject = :subject)"""
QUEUE_SUGGESTED = {
    False: "\nunion all\n".join(f"""
select a.id as id, a.score as score
from alignments a indexed by idx_alignments_queue
join standards s on s.id = a.source_id and s.status = 'active'{_SUGGESTED_WHERE.format(status="a.status")}
  and a.needs_review = {flag}"""
                                 for flag in (0, 1)),
    True: """
select a.id as id, a.score as score
from programs p
join program_frameworks pf on pf.program_id = p.id and p.name = :program
join standards s on s.framework_id = pf.framework_id and s.status = 'active'
cross join alignments a on a.source_id = s.id""" + _SUGGESTED_WHERE.format(status="+a.status"),
}


def queue_sql(program: bool) -> str:
    """A page of the queue (``:limit``, ``:offset``), of every program or of ``:program``'s.

    Decisions to re-review first: they certify nothing until decided again (listed by score among
    the suggestions, one flagged on the demo was on page 3 of its program's math); then the
    suggestions, best first. The page's ids first, then their details: sorting the view's wide rows
    (statements, evidence) sorted all 87,687 suggestions of a 93,950-alignment crosswalk for each
    page. There, in process: first page 0.125 -> 0.009 s, the 100th 0.256 -> 0.043 s, the last 0.54
    -> 0.20 s. The decisions to re-review and the suggestions are each paged on their own (the
    suggestions from where the decisions end): sorted together, every suggestion was sorted for each
    page (the first page's ids, of 94,875 alignments: 0.054 s against 0.0003 s)."""
    return f"""
with rereview as ({QUEUE_REREVIEW[program]}
),
page as (
  select * from (select id, 1 as rereview, score from rereview order by score desc, id limit :limit offset :offset)
  union all
  select * from (
    select id, 0 as rereview, score from ({QUEUE_SUGGESTED[program]}
      order by score desc, id)
    limit max(0, :limit - max(0, (select count(*) from rereview) - :offset))
    offset max(0, :offset - (select count(*) from rereview))
  )
)
select d.id, d.score, d.confidence, d.evidence, page.rereview, d.status, d.cte_code, d.cte_statement,
       d.industry_framework, d.target_id, d.standard_code, d.standard, d.subject, d.grade,
       (select grade_low from standards where id = d.target_id) as grade_low,
       (select grade_high from standards where id = d.target_id) as grade_high
from page join alignment_details d on d.id = page.id
order by page.rereview desc, page.score desc, page.id
"""


# The queue's suggestions of every framework, counted: those to the active standards (of the
# subject), each standard's read from its own index without a row of alignments, less those from a
# retired statement to them. Counted as the queue reads them (QUEUE_SUGGESTED), every suggestion's
# two statements were looked up: 0.53 s on benchmarks' 187,900 suggestions, against 0.04 s (0.02 s
# for a subject), so the page can say how much is left.
_SUGGESTED_COUNT = """
select (select count(*) from standards t cross join alignments a on a.target_id = t.id and a.status = 'suggested'
        where t.status = 'active' and (:subject = '' or t.subject = :subject))
     - (select count(*) from standards s cross join alignments a on a.source_id = s.id and a.status = 'suggested'
        cross join standards t on t.id = a.target_id and t.status = 'active' and (:subject = '' or t.subject = :subject)
        where s.status != 'active')"""


def queue_count_sql(program: bool) -> str:
    """The queue's decisions to re-review and its suggestions, counted (two columns)."""
    suggested = _SUGGESTED_COUNT if not program else f"select count(*) from ({QUEUE_SUGGESTED[program]})"
    return f"select (select count(*) from ({QUEUE_REREVIEW[program]})), ({suggested})"


async def review_queue(datasette, request):
    db = _database(datasette, request)
    program = request.args.get("program") or ""
    subject = request.args.get("subject") or ""
    page = pages.page_number(request)
    if page is None:
        return await pages.not_found(datasette, request, f"“{request.args.get('page')}” is not a page number.")
    programs = [r[0] for r in (await db.execute("select name from programs order by name")).rows]
    if program and program not in programs:
        # A name in another case names the program it names everywhere else (db.named_row's rule).
        same = [name for name in programs if name.strip().casefold() == program.strip().casefold()]
        if len(same) != 1:
            return await pages.not_found(datasette, request, f"There is no program named “{program}”.")
        program = same[0]
    params = {"program": program, "subject": subject, "limit": PAGE_SIZE + 1, "offset": (page - 1) * PAGE_SIZE}
    sql = queue_sql(bool(program))
    rows = [dict(r) for r in (await db.execute(sql, params)).rows]
    rereview, suggested = (await db.execute(queue_count_sql(bool(program)), params)).rows[0]
    last = pages.last_page(rereview + suggested, PAGE_SIZE)
    if page > 1 and not rows:
        # Past the last page (as after deciding a last page's last suggestion): the last page there
        # is, as on a program's review page.
        page = last
        params["offset"] = (page - 1) * PAGE_SIZE
        rows = [dict(r) for r in (await db.execute(sql, params)).rows]
    # (each subject's standards asked whether one has a suggestion, through idx_alignments_target_status:
    # 0.064 -> 0.005 s, against reading every suggestion's standard)
    # (and the subjects of the decisions to re-review, which the queue lists first: a subject with only
    # those was not offered)
    subjects = [r[0] for r in (await db.execute(
        "select subject from (select distinct t.subject from standards t where t.subject is not null and exists "
        "(select 1 from alignments a where a.target_id = t.id and a.status = 'suggested') "
        "union select subject from rereview_alignments where subject is not null) order by subject")).rows]
    return Response.html(await datasette.render_template(
        "review/queue.html",
        {
            **await pages.common(datasette, request),
            "rows": rows[:PAGE_SIZE], "more": len(rows) > PAGE_SIZE, "page": page, "pages": last,
            "rereview": rereview, "suggested": suggested,
            "program": program, "subject": subject, "programs": programs, "subjects": subjects,
            "database": db.name,
        },
        request=request,
    ))


async def review_alignment(datasette, request):
    db = _database(datasette, request)
    text = urllib.parse.unquote(request.url_vars["alignment_id"])
    alignment_id = row_id(text)
    # The last change first, then what the page shows (review.LAST_CHANGES_LOGGED says why).
    last_change = (await db.execute(review.LAST_CHANGE, [alignment_id])).first()
    rows = (await db.execute(
        "select d.*, t.grade_low, t.grade_high from alignment_details d join standards t on t.id = d.target_id "
        "where d.id = ?", [alignment_id])).rows if alignment_id is not None else []
    if not rows:
        return await pages.not_found(datasette, request, f"There is no alignment number “{text}”.")
    log = [dict(r) for r in (await db.execute(
        "select * from review_log where alignment_id = ? order by id", [alignment_id])).rows]
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
