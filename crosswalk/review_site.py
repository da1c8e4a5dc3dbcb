"""The review site: the crosswalk database in Datasette, with signed-in reviewers.

Reviewers sign in with datasette-auth-passwords. Their names and password
hashes come from a reviewers file (``--reviewers FILE`` or the
``CROSSWALK_REVIEWERS_FILE`` environment variable) or from environment
variables ``CROSSWALK_REVIEWER_<NAME>_PASSWORD_HASH``; never from the
repository. Writes are Datasette canned queries (``write: true``) that only
actors with the ``reviewer`` role may run, with Datasette's CSRF protection
on, each run through crosswalk's rules as ``crosswalk decide`` is (:func:`write_query`);
the ``alignments_review_log`` trigger logs every change.

Sessions: the sign-in page is the site's own (``/-/login``): it needs the CSRF
token, checks the password in a thread (never blocking the site), and slows
down guessing (``LoginLimits``: per account and per address, with back-off).
The ``ds_actor`` cookie it sets expires (``SESSION_SECONDS``), is HttpOnly, and
Secure when the site is served over https. Every request is checked against
the reviewers file as it is now: a reviewer removed from it, or marked
``disabled: true``, is signed out at once, without changing the secret.

A reviewers file (YAML or JSON)::

    reviewers:
      alice:
        name: Alice Martin
        password_hash: pbkdf2_sha256$480000$...   # crosswalk review password-hash
      bob: pbkdf2_sha256$480000$...
      carol:
        password_hash: pbkdf2_sha256$480000$...
        disabled: true        # signed out at once, and cannot sign in

Example::

    from crosswalk.review_site import make_review_datasette
    ds = make_review_datasette("district.db", reviewers_file="/etc/crosswalk/reviewers.yml")
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import json
import os
import pathlib
import re
import secrets
import sqlite3
import sys
import threading
import time
import urllib.parse
from collections import OrderedDict

import sqlite_utils
import uvicorn
import yaml
from datasette import hookimpl
from datasette.utils import baseconv, tilde_decode
from datasette.utils.asgi import Forbidden, Response
from datasette.views.table import TableView
from datasette_auth_passwords import password_login
from datasette_auth_passwords.utils import hash_password as _hash
from datasette_auth_passwords.utils import verify_password
from itsdangerous import BadSignature

from . import public_plugin as pages
from . import review, review_plugin
from .db import SQL_NOW, serving, write_transaction
from .errors import CrosswalkError, sqlite_refusal
from .metadata import load_metadata
from .review_plugin import PLUGIN, ROLE
from .site import make_datasette, register_once
from .text import local_path
from .working_plugin import REVIEW_SESSIONS
from .working_plugin import _same_pair as same_pair

ENV_FILE = "CROSSWALK_REVIEWERS_FILE"
ENV_PREFIX = "CROSSWALK_REVIEWER_"
ENV_SUFFIX = "_PASSWORD_HASH"
HASH_RE = re.compile(r"^pbkdf2_sha256\$\d+\$[^$]+\$[A-Za-z0-9+/=]+$")
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]*$")
TEMPLATES = pathlib.Path(__file__).resolve().parent / "templates"

ONLY_REVIEWERS = {"roles": [ROLE]}


def hash_password(password: str) -> str:
    """A password hash for the reviewers file (PBKDF2-SHA256, as datasette-auth-passwords checks it)."""
    if not password:
        raise CrosswalkError("the password is empty")
    return _hash(password)


def session_reviewer(username: str = "director", name: str | None = None) -> tuple[dict, str]:
    """A reviewer for one run of a site (the demo's): ``({username: entry}, password)``.

    The password is random, made afresh each time, and only its hash is kept (in memory):
    nothing is written, so the account ends with the process.
    """
    if not NAME_RE.match(username or ""):
        raise CrosswalkError(f"reviewer name {username!r}: use letters, digits, '.', '_', '-' or '@'")
    password = secrets.token_urlsafe(12)
    return {username: {"name": name or username, "password_hash": hash_password(password)}}, password


def load_reviewers(path=None, environ=None) -> dict[str, dict]:
    """Reviewers as ``{username: {"name": ..., "password_hash": ...}}`` from a file and the environment.

    Example::

        load_reviewers("reviewers.yml")
        load_reviewers(environ={"CROSSWALK_REVIEWER_ALICE_PASSWORD_HASH": "pbkdf2_sha256$..."})
    """
    environ = os.environ if environ is None else environ
    reviewers: dict[str, dict] = {}
    path = path or environ.get(ENV_FILE)
    if path:
        path = pathlib.Path(path)
        if not path.is_file():
            raise CrosswalkError(f"the reviewers file {str(path)!r} does not exist")
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise CrosswalkError(f"{path.name}: not valid YAML or JSON ({exc.__class__.__name__})") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise CrosswalkError(f"{path.name}: cannot read the reviewers file ({exc})") from None
        entries = data.get("reviewers") if isinstance(data, dict) else None
        if not isinstance(entries, dict):
            raise CrosswalkError(f"{path.name}: expected a 'reviewers:' mapping of usernames to password hashes")
        for username, entry in entries.items():
            if isinstance(entry, str):
                entry = {"password_hash": entry}
            if not isinstance(entry, dict):
                raise CrosswalkError(f"{path.name}: reviewer {username!r}: expected a password hash")
            checked = _checked(str(username), entry, f"{path.name}: ")
            if entry.get("disabled") is not True:  # a disabled reviewer is no reviewer
                reviewers[str(username)] = checked
    for key, value in environ.items():
        if key.startswith(ENV_PREFIX) and key.endswith(ENV_SUFFIX) and len(key) > len(ENV_PREFIX + ENV_SUFFIX):
            username = key[len(ENV_PREFIX):-len(ENV_SUFFIX)].lower()
            reviewers[username] = _checked(username, {"password_hash": value}, f"{key}: ")
    return reviewers


def _checked(username: str, entry: dict, where: str) -> dict:
    if not NAME_RE.match(username):
        raise CrosswalkError(f"{where}reviewer name {username!r}: use letters, digits, '.', '_', '-' or '@'")
    password_hash = str(entry.get("password_hash") or "").strip()
    if not HASH_RE.match(password_hash):
        raise CrosswalkError(
            f"{where}reviewer {username!r}: password_hash must be a hash made by "
            "'crosswalk review password-hash' (pbkdf2_sha256$...), never the password itself"
        )
    return {"name": str(entry.get("name") or username), "password_hash": password_hash}


# The review site's write queries. Datasette canned queries in name, address, form and permission
# (only reviewers may run them, each POST with Datasette's CSRF token), but Datasette does not run
# their SQL: each POST goes to write_query, which reads the form as every other way in does and runs
# the rule through review.py (review.decide, review.add_comment; set_strength and set_rationale by
# their rule): the same decision and strength words ("Accepted", "yes", "moderate"), the same
# cleaning (review.clean_text) and the same limit (review.MAX_TEXT) as `crosswalk decide`, and a
# refusal that says why. The SQL a query's page shows is the rule it runs, the signed-in reviewer
# given as Datasette's magic parameter and the time in crosswalk's one format (SQL_NOW).
SITE_VALUES = {"reviewer": ":_actor_id", "at": SQL_NOW, "via": "'site'"}
WRITE_SQL = {
    # The pair too: a re-run of match replaces suggestions, and SQLite may reuse their ids.
    "review_alignment": review.DECIDE.update_sql(**SITE_VALUES)
    + "\n  AND source_id = :source_id AND target_id = :target_id",
    "accept_alignment": review.DECIDE.update_sql(**dict(SITE_VALUES, decision="'accept'")),
    "reject_alignment": review.DECIDE.update_sql(**dict(SITE_VALUES, decision="'reject'", strength="NULL")),
    "set_strength": review.SET_STRENGTH.update_sql(**SITE_VALUES),
    "set_rationale": review.SET_RATIONALE.update_sql(**SITE_VALUES),
    "comment_on_alignment": review.with_parameters(review.COMMENT_SQL, SITE_VALUES),
}


def canned_queries() -> dict:
    """The review site's write queries (see WRITE_SQL): logged by the trigger."""

    def query(title, description, redirect=None):
        return {"title": title, "write": True, "allow": ONLY_REVIEWERS, "description": description,
                **({"on_success_redirect": redirect} if redirect else {})}

    queries = {
        "review_alignment": query(
            "Decide an alignment",
            f"decision: accept or reject ({review.DECISION_ALSO}); strength: full or partial (empty keeps it); "
            "rationale (empty keeps it, but a decision turned round clears the old one); "
            "source_id and target_id: the alignment's two standards, checked against it",
            "/-/review",
        ),
        "accept_alignment": query(
            "Accept an alignment",
            "strength: full or partial (empty keeps it); rationale (empty keeps it, unless it was rejected)",
            "/-/review",
        ),
        "reject_alignment": query(
            "Reject an alignment",
            "rationale: why it does not align (empty keeps a rejection's, clears an acceptance's)",
            "/-/review",
        ),
        "set_strength": query(
            "Set the strength of an accepted alignment",
            "strength: full or partial (only accepted alignments have one)",
        ),
        "set_rationale": query("Set the rationale of an alignment", "rationale: why (empty clears it)"),
        "comment_on_alignment": query(
            "Comment on an alignment",
            "A comment is added to the alignment's history; it does not change the decision",
        ),
    }
    limit = f". A rationale or comment holds at most {review.MAX_TEXT:,} characters."
    for name, q in queries.items():
        q["sql"] = WRITE_SQL[name]
        q["description"] += limit if name != "set_strength" else ""
    return queries


def _rationale(form) -> str | None:
    """A decision's rationale from a form: None (keep the current one) where the box was left empty."""
    return form.get("rationale") if review.clean_text(form.get("rationale")) else None


def _decision(decision: str | None = None, *, strength: bool = True, pair: bool = False):
    """A write query that decides, through review.decide: ``decision`` fixed, or the form's."""

    def write(db, form, reviewer):
        with write_transaction(db):
            if pair:
                sides = {k: (form.get(k) or "").strip() for k in ("source_id", "target_id")}
                if not all(sides.values()):
                    raise CrosswalkError("give source_id and target_id: the alignment's two standards")
                same_pair(db, form.get("alignment_id"), sides)
            outcome = review.decide(db, form.get("alignment_id"), decision or form.get("decision") or "",
                                    (form.get("strength") or None) if strength else None, _rationale(form),
                                    reviewer=reviewer, via="site")
        return int(outcome.changed)

    return write


def _set(column: str):
    """set_strength or set_rationale: the value read as `crosswalk decide` reads it, then the rule."""

    def write(db, form, reviewer):
        if column == "strength":
            value = review.normalise_strength(form.get("strength"))
            if value is None:
                raise CrosswalkError("the strength must be full or partial, not empty")
        else:
            value = review.checked_text(review.clean_text(form.get("rationale")), "rationale")
        with write_transaction(db):
            row = review.get_alignment(db, form.get("alignment_id"))
            if column == "strength" and row["status"] != "accepted":
                raise CrosswalkError(f"alignment {row['id']} is {review.STATUS_WORDS[row['status']]}: "
                                     "only an accepted alignment has a strength")
            return db.execute(WRITE_SQL[f"set_{column}"], {"alignment_id": row["id"], column: value or "",
                                                           "_actor_id": reviewer}).rowcount

    return write


def _comment(db, form, reviewer):
    review.add_comment(db, form.get("alignment_id"), form.get("comment") or "", reviewer=reviewer, via="site")
    return 1


WRITES = {
    "review_alignment": _decision(pair=True),
    "accept_alignment": _decision("accept"),
    "reject_alignment": _decision("reject", strength=False),
    "set_strength": _set("strength"),
    "set_rationale": _set("rationale"),
    "comment_on_alignment": _comment,
}
# A write query's address as Datasette's table route takes it (TableView): its name, any character
# of it perhaps tilde-encoded ("review~5Falignment"), with a format or not; never under /-/.
WRITE_ROUTE = (r"(?i)^/(?P<database>(?!-/)[^/.]+)/(?P<table>"
               + "|".join("".join(f"(?:{re.escape(c)}|~{ord(c):02x})" for c in name) for name in WRITES)
               + r")(\.(?P<format>\w+))?$")


async def write_query(request, datasette, send):
    """A POST to a write query of a review site, run by crosswalk's rules (WRITES), answered as Datasette
    answers a canned query's POST: JSON ``{ok, message, redirect}`` where asked for (``_json``), else a
    message and a redirect. Anything else at such an address (its form, another site's table) is
    Datasette's own page."""
    config = review_plugin.review_config(datasette)
    name = tilde_decode(request.url_vars["table"])
    try:
        db = datasette.get_database(route=tilde_decode(request.url_vars["database"]))
    except KeyError:
        db = None
    if request.method != "POST" or not config or db is None or db.name != config["database"] or name not in WRITES:
        return await TableView.as_view(datasette)(request, send)
    # Datasette's own checks of a canned query's POST (QueryView): who may run it, a file it may write.
    visible, _ = await datasette.check_visibility(request.actor, permissions=[
        ("view-query", (db.name, name)), ("view-database", db.name), "view-instance"])
    if not visible:
        raise Forbidden("You do not have permission to view this query")
    if not db.is_mutable:
        raise Forbidden("Database is immutable")
    query = await datasette.get_canned_query(db.name, name, request.actor) or {}
    body = (await request.post_body()).decode("utf-8").strip()
    if body.startswith("{") and body.endswith("}"):  # (a JSON body, as Datasette takes one)
        form = {key: str(value) for key, value in json.loads(body).items()}
    else:
        form = dict(urllib.parse.parse_qsl(body, keep_blank_values=True))
    reviewer = (request.actor or {}).get("id")
    try:
        rows = await db.execute_write_fn(lambda conn: WRITES[name](sqlite_utils.Database(conn), form, reviewer),
                                         block=True)
        ok, kind, redirect = True, datasette.INFO, query.get("on_success_redirect")
        message = f"Query executed, {rows} row{'' if rows == 1 else 's'} affected"
    except (CrosswalkError, sqlite3.Error) as error:
        ok, kind, redirect = False, datasette.ERROR, query.get("on_error_redirect")
        message = sqlite_refusal(error) or str(error)  # (a file read only, or locked: said so)
    if request.headers.get("accept") == "application/json" or request.args.get("_json") or form.get("_json"):
        return Response.json({"ok": ok, "message": message, "redirect": redirect})
    datasette.add_message(request, message, kind)
    path = redirect or request.path
    return Response.redirect(f"{path}?{request.query_string}" if request.query_string and "?" not in path else path)


def review_metadata(db_name: str, reviewers: dict, base: dict | None = None,
                    open_reading: bool = False) -> tuple[dict, dict]:
    """Datasette metadata for the review site, and the hashes under the names it gives them.

    The hashes are referenced with ``$env`` so that ``/-/metadata`` never shows them; the
    site looks those names up in its own ``environ`` (see :func:`crosswalk.site.make_datasette`).
    ``open_reading``: anyone who reaches the site reads it (as ``crosswalk serve DB``); only
    signed-in reviewers write. Otherwise reading needs sign-in too.
    """
    md = copy.deepcopy(base or {})
    md["title"] = (md.get("title") or "crosswalk") + " (review)"
    md["description_html"] = (
        '<p>Signed-in reviewers decide here. Start with the <a href="/-/review">review queue</a>.</p>'
        + (md.get("description_html") or "")
    )
    if not open_reading:
        # Reading needs sign-in too: the review site shows review internals.
        md["allow"] = ONLY_REVIEWERS
        md["allow_sql"] = ONLY_REVIEWERS
    databases = md.setdefault("databases", {})
    db_md = databases.setdefault(db_name, {})
    db_md.setdefault("queries", {}).update(canned_queries())
    plugin_config: dict = {"actors": {}}
    env: dict[str, str] = {}
    for username, reviewer in reviewers.items():
        var = "CROSSWALK_REVIEW_HASH_" + hashlib.sha256(username.encode("utf-8")).hexdigest()[:16].upper()
        env[var] = reviewer["password_hash"]
        plugin_config[f"{username}_password_hash"] = {"$env": var}
        plugin_config["actors"][username] = {"id": username, "name": reviewer["name"], "roles": [ROLE]}
    plugins = md.setdefault("plugins", {})
    plugins["datasette-auth-passwords"] = plugin_config
    plugins[PLUGIN] = {"database": db_name}
    return md, env


def register_plugin() -> None:
    register_once(review_plugin, PLUGIN)
    register_once(sys.modules[__name__], SESSIONS_PLUGIN)


# --- sessions -----------------------------------------------------------------------------------
SESSIONS_PLUGIN = REVIEW_SESSIONS  # the working site's sign-in finds this module by it
SESSION_SECONDS = 12 * 3600  # a sign-in lasts a working day
COOKIE = "ds_actor"


class Reviewers:
    """The reviewers a review site lets in, as they are now: the reviewers file is read again when it
    changes. A file that has gone or become unreadable lets nobody in."""

    def __init__(self, reviewers: dict, path=None, environ=None):
        self._reviewers = reviewers
        self._path = pathlib.Path(path) if path else None
        self._environ = environ
        self._seen = self._stamp()
        self._lock = threading.Lock()

    def _stamp(self):
        if self._path is None:
            return None
        try:
            info = self._path.stat()
        except OSError:
            return None
        return (info.st_mtime_ns, info.st_size, info.st_ino)

    def current(self) -> dict:
        if self._path is None:
            return self._reviewers
        with self._lock:
            stamp = self._stamp()
            if stamp != self._seen:
                self._seen = stamp
                try:
                    self._reviewers = load_reviewers(self._path, self._environ)
                except CrosswalkError:
                    self._reviewers = {}
            return self._reviewers


class LoginLimits:
    """Failed sign-ins, per account and per address: after ``FREE`` failures each further try waits
    twice as long as the one before (2, 4, 8 ... seconds, at most ``MAX_WAIT``); a success forgets them."""

    FREE = {"account": 5, "address": 20}
    MAX_WAIT = 900
    FORGET_AFTER = 3600
    SIZE = 10_000

    def __init__(self, clock=time.monotonic):
        self.clock = clock
        self._failures: OrderedDict = OrderedDict()  # key -> (failures, may try again at)
        self._lock = threading.Lock()

    def wait(self, keys) -> float:
        """Seconds before any of ``keys`` may try again (0: now)."""
        now = self.clock()
        with self._lock:
            return max([0.0] + [self._failures[k][1] - now for k in keys if k in self._failures])

    def failed(self, keys) -> None:
        now = self.clock()
        with self._lock:
            for key in keys:
                count, until = self._failures.pop(key, (0, now))
                count = 0 if now - until > self.FORGET_AFTER else count
                count += 1
                free = self.FREE[key[0]]
                self._failures[key] = (count, now + (min(self.MAX_WAIT, 2 ** (count - free)) if count > free else 0))
            while len(self._failures) > self.SIZE:
                self._failures.popitem(last=False)

    def succeeded(self, keys) -> None:
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)


class Sessions:
    """A review site's sign-in: who may be signed in now, and how fast one may guess."""

    def __init__(self, reviewers: Reviewers, limits: LoginLimits | None = None):
        self.reviewers = reviewers
        self.limits = limits or LoginLimits()

    def actor_of(self, datasette, cookie: str):
        """The reviewer a ds_actor cookie signs in, or None: unsigned, expired, without an expiry, or no
        longer (or never) a reviewer in the reviewers file."""
        try:
            decoded = datasette.unsign(cookie, "actor")
            expires = int(baseconv.base62.decode(decoded["e"]))
            actor = decoded["a"]
        except (BadSignature, KeyError, TypeError, ValueError):
            return None
        if expires < time.time() or not isinstance(actor, dict):
            return None
        return actor if actor.get("id") in self.reviewers.current() else None

    def cookie(self, datasette, actor: dict) -> str:
        expires = baseconv.base62.encode(int(time.time()) + SESSION_SECONDS)
        return datasette.sign({"a": actor, "e": expires}, "actor")


def _sessions(datasette) -> Sessions | None:
    return getattr(datasette, "crosswalk_sessions", None)


def _without_cookie(header: bytes, name: str) -> bytes:
    parts = [p for p in header.split(b";") if p.strip().split(b"=", 1)[0].strip() != name.encode()]
    return b";".join(parts)


def _is_https(request) -> bool:
    return request.scheme == "https" or request.headers.get("x-forwarded-proto", "").split(",")[0].strip() == "https"


NEXT_COOKIE = "xw_next"


async def login(request, datasette):
    """The review site's sign-in: CSRF token required, guesses slowed down, the password checked in a thread."""
    sessions = _sessions(datasette)
    if sessions is None and pages._config(datasette):  # a crosswalk site without reviewers
        return await pages.no_sign_in(datasette, request)
    if sessions is None:  # not a crosswalk site: datasette-auth-passwords' own sign-in
        return await password_login(request, datasette)
    error, status, headers = None, 200, {}
    if request.method != "POST":
        back = local_path(request.args.get("next"))
        if back:
            # Where to go once signed in: kept in a cookie of the sign-in page, as the form is Datasette's.
            response = Response.html(await datasette.render_template("password_login.html", {"error": None},
                                                                     request=request))
            response.set_cookie(NEXT_COOKIE, back, max_age=600, httponly=True, secure=_is_https(request),
                                path="/-/login", samesite="lax")
            return response
    else:
        # Datasette checks the token against its cookie, but lets a POST with no cookies at all through.
        if "ds_csrftoken" not in request.cookies:
            return Response.text("Sign in from the sign-in page: this form needs its CSRF token.", status=403)
        post = await request.post_vars()
        username, password = post.get("username") or "", post.get("password") or ""
        reviewers = sessions.reviewers.current()
        address = (request.scope.get("client") or ("unknown",))[0]
        # Every name tried is an account to the limits, one that exists or not: counted only for real
        # accounts, a 429 after five tries told which names are reviewers'.
        keys = [("address", address)] + ([("account", username[:200])] if username else [])
        wait = sessions.limits.wait(keys)
        if wait > 0:
            error, status = f"Too many failed sign-ins: try again in {int(wait) + 1} seconds.", 429
            headers["retry-after"] = str(int(wait) + 1)
        else:
            reviewer = reviewers.get(username)
            # PBKDF2 takes a while: in a thread, so that the site goes on answering meanwhile.
            if reviewer and await asyncio.to_thread(verify_password, password, reviewer["password_hash"]):
                sessions.limits.succeeded(keys)
                response = Response.redirect(local_path(request.cookies.get(NEXT_COOKIE)) or datasette.urls.path("/"))
                response.set_cookie(NEXT_COOKIE, "", max_age=0, path="/-/login")
                actor = {"id": username, "name": reviewer["name"], "roles": [ROLE]}
                response.set_cookie(COOKIE, sessions.cookie(datasette, actor), max_age=SESSION_SECONDS,
                                    httponly=True, secure=_is_https(request))
                return response
            sessions.limits.failed(keys)
            error = "Invalid username or password"
    html = await datasette.render_template("password_login.html", {"error": error}, request=request)
    return Response.html(html, status=status, headers=headers)


# Datasette builds its routes and wrappers with the app, before make_review_datasette gives the site its
# Sessions: the hooks below look for them when a request comes.
@hookimpl(tryfirst=True)
def register_routes(datasette):
    # Before datasette-auth-passwords' own /-/login (the first route that matches is taken), and before
    # Datasette's table route, which would run a write query's SQL as it stands.
    return [(r"^/-/login$", login), (WRITE_ROUTE, write_query)]


@hookimpl
def asgi_wrapper(datasette):
    def wrap(app):
        async def checked_session(scope, receive, send):
            # A ds_actor cookie that no longer signs in a reviewer is dropped: the request is anonymous.
            sessions = _sessions(datasette)
            if sessions is not None and scope["type"] == "http":
                headers = list(scope.get("headers") or [])
                changed = False
                for i, (key, value) in enumerate(headers):
                    if key.lower() != b"cookie" or COOKIE.encode() not in value:
                        continue
                    for part in value.split(b";"):
                        name, _, cookie = part.strip().partition(b"=")
                        if name == COOKIE.encode() and sessions.actor_of(datasette, cookie.decode("latin-1")) is None:
                            headers[i] = (key, _without_cookie(value, COOKIE))
                            changed = True
                            break
                if changed:
                    scope = dict(scope, headers=headers)
            await app(scope, receive, send)

        return checked_session

    return wrap


def make_review_datasette(path, *, reviewers: dict | None = None, reviewers_file=None, metadata=None,
                          secret: str | None = None, environ=None, open_reading: bool = False):
    """A Datasette app serving one crosswalk database for signed-in reviewers.

    The crosswalk's pages (:mod:`crosswalk.working_plugin`) with, for a signed-in
    reviewer, decisions and sign-off on them; the review queue at ``/-/review``.
    The password hashes stay in the app (never in ``/-/metadata``, never in the
    process's environment). ``open_reading``: see :func:`review_metadata`.

    Example::

        ds = make_review_datasette("district.db", reviewers_file="reviewers.yml")
    """
    environ = os.environ if environ is None else environ
    watched = None  # the reviewers file, read again when it changes: who may be signed in now
    if reviewers is None:
        reviewers = load_reviewers(reviewers_file, environ)
        watched = reviewers_file or environ.get(ENV_FILE)
    if not reviewers:
        raise CrosswalkError(
            "no reviewers are configured: give --reviewers FILE (or set CROSSWALK_REVIEWERS_FILE), or set "
            "CROSSWALK_REVIEWER_<NAME>_PASSWORD_HASH; make hashes with 'crosswalk review password-hash'"
        )
    db_path = pathlib.Path(path)
    name = db_path.stem
    base = metadata if isinstance(metadata, dict) else load_metadata([name], metadata, databases=[str(db_path)])
    md, hashes = review_metadata(name, reviewers, base, open_reading=open_reading)
    register_plugin()
    ds = make_datasette(db_path, metadata=md, template_dir=TEMPLATES, environ=hashes,
                        secret=secret or os.environ.get("DATASETTE_SECRET"), pages=True)
    ds.crosswalk_sessions = Sessions(Reviewers(reviewers, watched, environ))
    return ds


def serve_review(path, *, host: str = "127.0.0.1", port: int = 8001, reviewers_file=None, metadata=None,
                 reviewers: dict | None = None, open_reading: bool = False) -> None:
    """Serve the review site until interrupted (one process: sign-ins and their limits live in it)."""
    ds = make_review_datasette(path, reviewers=reviewers, reviewers_file=reviewers_file, metadata=metadata,
                               open_reading=open_reading)
    asyncio.run(ds.invoke_startup())
    with serving(path):  # crosswalk demo --fresh will not replace it meanwhile
        uvicorn.run(ds.app(), host=host, port=port, log_level="warning")
