"""Datasette plugin for the working site: the public pages, plus what a committee needs.

``crosswalk serve DB`` (and so ``crosswalk demo``) shows the same program, standard,
gaps and search pages as the public copy (:mod:`crosswalk.public_plugin`), and on
them, for the working database: per program, review progress, the suggestions
awaiting review (``/program/<id>/review``: best first, ``?band=high|medium|low``,
``?no_likely=1`` for the statements with no likely alignment in a subject searched), the
decisions that need re-review, and the program's status. On a review site
(:mod:`crosswalk.review_site`) a signed-in reviewer decides from those pages
(``POST /-/decide``, through :func:`crosswalk.review.decide`) and signs the
program off (``POST /-/program-status``, through :func:`crosswalk.db.set_program_status`);
Datasette checks the CSRF token of every such POST.

Registered by :func:`crosswalk.site.make_datasette` for a working database; it acts
only on a Datasette whose metadata configures it::

    plugins:
      crosswalk-site:
        database: district
"""

from __future__ import annotations

import sqlite3
import urllib.parse

import sqlite_utils
from datasette import hookimpl
from datasette.utils.asgi import Response

from . import db as store
from . import public_plugin as pages
from . import review
from .programs import set_status
from .errors import CrosswalkError, NotFound, sqlite_refusal
from .text import local_path

NAME = "crosswalk-working-site"
REVIEW_SESSIONS = "crosswalk-review-sessions"  # crosswalk.review_site's name as a plugin (its SESSIONS_PLUGIN)
CONFIG_KEY = pages.WORKING_KEY
BANDS = store.CONFIDENCES
# A decision as the pages' buttons name it: (decision, strength)
DECISIONS = {"accept": ("accept", "full"), "partial": ("accept", "partial"), "reject": ("reject", None)}
REVIEW_PAGE_SIZE = 25


def _on(datasette) -> bool:
    return bool(datasette.plugin_config(CONFIG_KEY))


def _next_path(value, fallback="/") -> str:
    """Where to go back after a write: a path on this site, never another site."""
    return local_path(value) or fallback


# Where a page keeps the review log's last id before it read what it shows (review.LAST_CHANGES_LOGGED).
LOGGED = "crosswalk.logged"


async def _page(datasette, request, template, context_fn, extras=None):
    request.scope[LOGGED] = (await pages.one(datasette, review.LAST_LOGGED))["logged"]
    return await pages.page(datasette, request, template, context_fn, extras)


async def home(datasette, request):
    return await _page(datasette, request, "crosswalk_home.html", pages.home_context)


async def _seen(datasette, request, rows: list, status: str) -> list:
    """Each row with the decision its page shows (review.seen_token: its status and the last change
    logged for it before the page read its rows), for its decide form; ``status`` where the row's
    query leaves it out (a list of decisions to re-review)."""
    ids = [row["alignment_id"] for row in rows if row.get("alignment_id") is not None]  # (a no-likely list has none)
    last = {r["alignment_id"]: r["last_change"] for r in await pages.rows(
        datasette, review.LAST_CHANGES_LOGGED.format(ids=", ".join(str(int(i)) for i in ids)),
        {"logged": request.scope[LOGGED]})} if ids else {}
    for row in rows:
        row["seen"] = review.seen_token(row.get("status", status), last.get(row.get("alignment_id")))
    return rows


async def _program_extras(datasette, request, context):
    await _seen(datasette, request, context.get("rereview") or [], "accepted")
    return {}


async def program_page(datasette, request):
    return await _page(datasette, request, "crosswalk_program.html", pages.program_context, _program_extras)


async def _standard_extras(datasette, request, context):
    """The suggestions awaiting review for this standard: an industry statement's in the matcher's
    order, the statements suggested for an academic standard best first; ``?page=`` for the next
    ones."""
    page = pages.page_number(request)
    if page is None:
        raise pages.NotFoundPage(f"“{request.args.get('page')}” is not a page number.")
    suggested, order = pages.awaiting_review_sql(context["side"])

    async def awaiting_on(page):
        return await pages.rows(datasette, f"""
            select a.id as alignment_id, a.source_id, a.target_id, a.score, a.confidence, a.evidence,
                   a.status, a.reviewed_at, o.id as other_id, o.code as other_code, o.statement as other_statement,
                   (select group_concat(p.name, '; ') from program_frameworks pf join programs p on p.id = pf.program_id
                        where pf.framework_id = o.framework_id) as program_names,
                   (select f.name from frameworks f where f.id = o.framework_id) as other_framework
            {suggested}
            order by {order} limit {pages.AWAITING_SHOWN + 1} offset :offset
        """, {"id": context["standard"]["id"], "offset": (page - 1) * pages.AWAITING_SHOWN})

    awaiting = await awaiting_on(page)
    total = (page - 1) * pages.AWAITING_SHOWN + len(awaiting)
    if page > 1 or len(awaiting) > pages.AWAITING_SHOWN:  # there are more: the page says how many
        total = (await pages.one(datasette, f"select count(*) as n {suggested}", {"id": context["standard"]["id"]}))["n"]
    if page > 1 and not awaiting:  # past the last page, as after deciding a last page's last suggestion
        page = pages.last_page(total, pages.AWAITING_SHOWN)
        awaiting = await awaiting_on(page)
    return {"awaiting": await _seen(datasette, request, awaiting[:pages.AWAITING_SHOWN], "suggested"), "awaiting_total": total, "awaiting_page": page,
            "awaiting_first": (page - 1) * pages.AWAITING_SHOWN + 1, "awaiting_more": len(awaiting) > pages.AWAITING_SHOWN}


async def standard_page(datasette, request):
    return await _page(datasette, request, "crosswalk_standard.html", pages.standard_context, _standard_extras)


async def gaps_page(datasette, request):
    return await _page(datasette, request, "crosswalk_gaps.html", pages.gaps_context)


async def search_page(datasette, request):
    return await _page(datasette, request, "crosswalk_search.html", pages.search_context)


# Suggestions awaiting review for a program's statements, best first; "+a.id" keeps SQLite from
# reading them through the (source_id, target_id) index one row at a time.
AWAITING = """
    select a.id as alignment_id, a.source_id, a.target_id, a.score, a.confidence, a.evidence, a.rank,
           a.status, a.reviewed_at,
           s.code as cte_code, s.statement as cte_statement, sf.name as credential,
           t.code as standard_code, t.statement as standard, t.subject, t.domain, t.grade, t.grade_low, t.grade_high
    from program_frameworks pf
    join standards s on s.framework_id = pf.framework_id and s.status = 'active'
    join alignments a on a.source_id = s.id and a.status = 'suggested'
    join standards t on t.id = a.target_id and t.status = 'active'
    join frameworks sf on sf.id = s.framework_id
    where pf.program_id = :p and (:band is null or a.confidence = :band)
      and (:subject is null or t.subject = :subject)
    order by a.score desc, +a.id
    limit :limit offset :offset
"""
AWAITING_COUNTS = """
    select a.confidence as band, count(*) as n
    from program_frameworks pf
    join standards s on s.framework_id = pf.framework_id and s.status = 'active'
    join alignments a on a.source_id = s.id and a.status = 'suggested'
    join standards t on t.id = a.target_id and t.status = 'active'
    where pf.program_id = :p and (:subject is null or t.subject = :subject)
    group by a.confidence
"""
NO_LIKELY = """
    select s.id as cte_id, s.code as cte_code, s.statement as cte_statement, sf.name as credential,
           tf.name as academic_framework, n.best_score, n.marked_at
    from program_frameworks pf
    join standards s on s.framework_id = pf.framework_id and s.status = 'active'
    join no_likely_alignment n on n.source_id = s.id
    join frameworks sf on sf.id = s.framework_id
    join frameworks tf on tf.id = n.target_framework_id
    where pf.program_id = :p
    order by s.position, s.code, tf.name
    limit :limit offset :offset
"""


async def review_context(datasette, request) -> dict:
    """A program's suggestions awaiting review (or its statements with no likely alignment), and its re-reviews."""
    program_id = pages.url_id(request)
    program = await pages.one(datasette, "select * from programs where id = :id", {"id": program_id})
    if program is None:
        raise pages.NotFoundPage(f"There is no program number {program_id}.")
    page = pages.page_number(request)
    if page is None:
        raise pages.NotFoundPage(f"“{request.args.get('page')}” is not a page number.")
    band = request.args.get("band") or None
    if band is not None and band not in BANDS:
        raise pages.NotFoundPage(f"“{band}” is not a band: choose high, medium or low.")
    subject = request.args.get("subject") or None
    no_likely = request.args.get("no_likely") == "1"
    p = {"p": program_id, "subject": subject}
    counts = {r["band"]: r["n"] for r in await pages.rows(datasette, AWAITING_COUNTS, p)}
    progress = await pages.one(datasette, "select * from program_progress where program_id = :p", p)
    subjects = [r["subject"] for r in await pages.rows(datasette, """
        select distinct subject from program_coverage where program_id = :p and subject is not null order by subject
    """, p)]
    if subject is not None and subject not in subjects:
        raise pages.NotFoundPage(f"{program['name']} has no standards in a subject called “{subject}”.")
    if no_likely:
        total, listing, listed = (progress or {}).get("no_likely_alignment") or 0, NO_LIKELY, p
    else:
        total, listing, listed = counts.get(band, 0) if band else sum(counts.values()), AWAITING, dict(p, band=band)
    # Past the last page (as after deciding a last page's last suggestion): the last page there is.
    page = min(page, pages.last_page(total, REVIEW_PAGE_SIZE))
    offset = (page - 1) * REVIEW_PAGE_SIZE
    items = await pages.rows(datasette, listing, dict(listed, limit=REVIEW_PAGE_SIZE + 1, offset=offset))
    if not no_likely:
        for item in items:
            item["grade_text"] = pages.grade_label(item["grade_low"], item["grade_high"], item["grade"])
    more = len(items) > REVIEW_PAGE_SIZE
    # (with the strength and rationale decided: what "Accept" confirms, or "Accept (full)" changes;
    # of the subject chosen, as the suggestions are)
    rereview = await pages.rows(datasette, """
        select r.alignment_id, r.cte_code, r.cte_statement, r.credential, r.standard_id, r.standard_code, r.standard,
               r.subject, r.reason, r.reviewer, r.reviewed_at, r.strength, a.rationale
        from program_rereview r join alignments a on a.id = r.alignment_id
        where r.program_id = :p and (:subject is null or r.subject = :subject)
        order by r.subject, r.standard_code, r.cte_code
    """, p)
    # The headline's counts are the whole program's (program_progress); with a subject chosen, the
    # suggestions awaiting review in every subject too, said as such beside those of the subject
    # (program_progress counts them as AWAITING_COUNTS does: active statements at both ends).
    program_awaiting = (progress or {}).get("suggested", 0)
    return {
        "program": program,
        "band_text": pages.band_label(program),
        "status": pages.status_text({**program, **(progress or {})}),
        "progress": progress,
        "counts": counts,
        "awaiting_total": sum(counts.values()),
        "program_awaiting": program_awaiting,
        "bands": BANDS,
        "band": band,
        "subject": subject,
        "subjects": subjects,
        "no_likely": no_likely,
        "items": await _seen(datasette, request, items[:REVIEW_PAGE_SIZE], "suggested"),
        "total": total,
        "page": page,
        "more": more,
        "first": offset + 1,
        "rereview": await _seen(datasette, request, rereview, "accepted"),
    }


async def review_page(datasette, request):
    return await _page(datasette, request, "site/review.html", review_context)


def _signed_out(datasette, request, back: str, doing: str):
    """A write sent without a sign-in (it expired, or the cookie went): to the sign-in page, then back,
    with a message saying what was not done (not Datasette's bare "Forbidden"). Where no one signs in
    (a working site served without --review): refused."""
    if getattr(datasette, "crosswalk_sessions", None) is None:
        return Response.text("No one signs in to this site: serve it with --review to decide on it.", status=403)
    datasette.add_message(request, f"Not saved: your sign-in has expired; sign in and {doing} again.",
                          datasette.ERROR)
    return Response.redirect(datasette.urls.path("/-/login") + "?next=" + urllib.parse.quote(back, safe=""))


REPLACED = " (a new match since the page was shown may have replaced its suggestions; reload the page)."


async def _alignment_form(datasette, request, doing: str, where: str):
    """A signed-in reviewer's form about one alignment: (its values, where to go back, the reviewer,
    the alignment's id), or the response that refuses it (not a POST; signed out; no such id)."""
    if request.method != "POST":
        return Response.text(where, status=405)
    post = await request.post_vars()
    back = _next_path(post.get("next"))
    reviewer = pages.reviewer_of(request)
    if reviewer is None:
        return _signed_out(datasette, request, back, doing)
    alignment_id = store.row_id(post.get("alignment_id"))
    if alignment_id is None:
        datasette.add_message(request, "Not saved: which alignment? (its id is missing or not a number; "
                                       "reload the page)", datasette.ERROR)
        return Response.redirect(back)
    return post, back, reviewer, alignment_id


async def _write(datasette, request, back: str, write, gone: str = ""):
    """Run ``write`` (a connection -> an outcome) in the database's write thread; (outcome, None), or
    (None, a redirect back with the reason it was not saved; ``gone``: what to add where what it
    writes to is not there)."""
    db, _ = pages._db(datasette)
    try:
        return await db.execute_write_fn(write, block=True), None
    except NotFound as error:
        datasette.add_message(request, f"Not saved: {error}{gone}", datasette.ERROR)
    except (CrosswalkError, ValueError) as error:
        datasette.add_message(request, f"Not saved: {error}", datasette.ERROR)
    except sqlite3.OperationalError as error:  # the database file refused (read only, locked): said so
        said = sqlite_refusal(error)
        if said is None:
            raise
        datasette.add_message(request, f"Not saved: {said}.", datasette.ERROR)
    return None, Response.redirect(back)


def _same_pair(db, alignment_id: int, pair: dict) -> None:
    """Refuse a form about an alignment whose id now names another pair: a re-run of match replaces
    suggestions, and SQLite may reuse their ids (``pair``: the source_id and target_id the page showed)."""
    row = review.get_alignment(db, alignment_id)
    if any(str(row[k]) != v for k, v in pair.items()):
        raise CrosswalkError("this suggestion was replaced by a new match since the page was shown; reload the page")


async def decide(datasette, request):
    """POST /-/decide: a signed-in reviewer's decision, through review.decide (the one set of rules).

    Form: ``alignment_id``, ``source_id`` and ``target_id`` (checked against it), ``decision``
    (accept, partial, reject), ``strength`` (the alignment page's choice; empty keeps it),
    ``rationale`` (empty keeps it, unless ``rationale_shown``: the box showed the current one, so
    what it holds is the rationale), ``seen`` (the decision the page showed: review.seen_token),
    ``next`` (where to go back)."""
    form = await _alignment_form(datasette, request, "decide", "Decide from a program's or a standard's page.")
    if isinstance(form, Response):
        return form
    post, back, reviewer, alignment_id = form
    choice = DECISIONS.get(post.get("decision") or "")
    if choice is None:
        datasette.add_message(request, "Not saved: choose accept, accept as partial or reject.", datasette.ERROR)
        return Response.redirect(back)
    decision, strength = choice
    if "strength" in post and decision == "accept":
        strength = post.get("strength") or None
    pair = {k: post.get(k) for k in ("source_id", "target_id") if post.get(k)}
    rationale = post.get("rationale") or ""
    if not rationale.strip() and not post.get("rationale_shown"):
        rationale = None

    def write(conn):
        db = sqlite_utils.Database(conn)
        with store.write_transaction(db):
            _same_pair(db, alignment_id, pair)
            return review.decide(db, alignment_id, decision, strength, rationale, reviewer=reviewer["id"],
                                 via="site", seen=post.get("seen") or None)

    # Refused, back to the top of the page, where the message says why: to the next suggestion's anchor
    # ('#a157', where a saved decision goes on), the message sat above the view, and a keyboard or
    # screen-reader reviewer could take the refused decision for saved.
    outcome, refused = await _write(datasette, request, back.partition("#")[0], write, REPLACED)
    if refused is not None:
        return refused
    datasette.add_message(request, outcome.summary(), datasette.INFO)
    return Response.redirect(back)


async def comment(datasette, request):
    """POST /-/comment: a signed-in reviewer's comment on an alignment (review.add_comment)."""
    form = await _alignment_form(datasette, request, "comment", "Comment from an alignment's page.")
    if isinstance(form, Response):
        return form
    post, back, reviewer, alignment_id = form
    pair = {k: post.get(k) for k in ("source_id", "target_id") if post.get(k)}

    def write(conn):
        db = sqlite_utils.Database(conn)
        with store.write_transaction(db):
            _same_pair(db, alignment_id, pair)  # (a comment on a reused id landed on another pair)
            return review.add_comment(db, alignment_id, post.get("comment") or "", reviewer=reviewer["id"],
                                      via="site")

    _, refused = await _write(datasette, request, back, write, REPLACED)
    if refused is not None:
        return refused
    datasette.add_message(request, "Comment added.", datasette.INFO)
    return Response.redirect(back)


async def program_status(datasette, request):
    """POST /-/program-status: a signed-in reviewer sets a program's status (draft, in review, approved)."""
    if request.method != "POST":
        return Response.text("Set a program's status from its page.", status=405)
    post = await request.post_vars()
    status = post.get("status") or ""
    program_id = store.row_id(post.get("program_id"))
    if program_id is None:
        return Response.text("Which program? (program_id)", status=400)
    back = _next_path(post.get("next"), f"/program/{program_id}")
    reviewer = pages.reviewer_of(request)
    if reviewer is None:
        return _signed_out(datasette, request, back, "set its status")
    try:
        status = store.program_status(status or "")
    except ValueError:
        datasette.add_message(request, "Not saved: the status is draft, in review or approved.", datasette.ERROR)
        return Response.redirect(back)

    def write(conn):  # the rule `crosswalk approve` follows, with the same warnings
        return set_status(sqlite_utils.Database(conn), program_id, status, reviewer["id"], via="site")

    result, refused = await _write(datasette, request, back, write)
    if refused is not None:
        return refused
    datasette.add_message(request, f"The status is now: {status}.", datasette.INFO)
    for warning in result.warnings():
        datasette.add_message(request, f"{warning}.", datasette.WARNING)
    return Response.redirect(back)


@hookimpl
def extra_template_vars(template, datasette):
    """Datasette's own pages of the working database carry the notices crosswalk's pages do."""
    if not _on(datasette):
        return {}

    async def inner():
        return await pages.footer_of(template, datasette)
    return inner


@hookimpl
def permission_allowed(datasette, actor, action, resource):
    """The full-text index's own tables are nobody's to browse, as on the public copy (pages.shows_table)."""
    return pages.shows_table(action, resource) if _on(datasette) else None


@hookimpl
def asgi_wrapper(datasette):
    """Answers to visitors without a cookie are kept until the database changes (pages.answer_kept):
    Datasette's table page of 296,850 alignments costs 30 ms of CPU a request."""
    def wrap(app):
        async def kept(scope, receive, send):
            if scope["type"] == "http" and _on(datasette):
                await pages.answer_kept(datasette, app, scope, receive, send)
            else:
                await app(scope, receive, send)

        return kept

    return wrap


async def sign_in(request, datasette):
    """/-/login on a working site: the review site's sign-in where it is served with --review, else
    the site's page saying there is nothing to sign in to (not datasette-auth-passwords' form, over
    "This instance does not have any configured accounts")."""
    from datasette.plugins import pm

    # The review site's module, if this process made one (it imports this module: not imported here).
    review_site = pm.get_plugin(REVIEW_SESSIONS)
    if review_site is not None:
        return await review_site.login(request, datasette)
    return await pages.no_sign_in(datasette, request)


# tryfirst: /-/login is datasette-auth-passwords' route too, and the first route that matches is taken
# (crosswalk.review_site routes it to the same sign-in: which of the two comes first does not matter).
@hookimpl(tryfirst=True)
def register_routes(datasette):
    if not _on(datasette):
        return []
    return [
        (r"^/-/login$", sign_in),
        (r"^/$", home),
        (r"^/program/(?P<id>\d+)$", program_page),
        (r"^/program/(?P<id>\d+)/review$", review_page),
        (r"^/standard/(?P<id>\d+)$", standard_page),
        (r"^/gaps$", gaps_page),
        (r"^/search$", search_page),
        (r"^/-/decide$", decide),
        (r"^/-/comment$", comment),
        (r"^/-/program-status$", program_status),
        *pages.numbered_fallbacks(datasette, suffix="(?:/review)?"),  # last: after the numbered ones
    ]
