"""The review site: the crosswalk database in Datasette, with signed-in reviewers.

Reviewers sign in with datasette-auth-passwords. Their names and password
hashes come from a reviewers file (``--reviewers FILE`` or the
``CROSSWALK_REVIEWERS_FILE`` environment variable) or from environment
variables ``CROSSWALK_REVIEWER_<NAME>_PASSWORD_HASH``; never from the
repository. Writes are Datasette canned queries (``write: true``) that only
actors with the ``reviewer`` role may run, with Datasette's CSRF protection
on; the ``alignments_review_log`` trigger logs every change.

A reviewers file (YAML or JSON)::

    reviewers:
      alice:
        name: Alice Martin
        password_hash: pbkdf2_sha256$480000$...   # crosswalk review password-hash
      bob: pbkdf2_sha256$480000$...

Example::

    from crosswalk.review_site import make_review_datasette
    ds = make_review_datasette("district.db", reviewers_file="/etc/crosswalk/reviewers.yml")
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import os
import pathlib
import re

import uvicorn
import yaml
from datasette.plugins import pm
from datasette_auth_passwords.utils import hash_password as _hash

from . import review, review_plugin
from .db import SQL_NOW
from .errors import CrosswalkError
from .metadata import load_metadata
from .review_plugin import PLUGIN, ROLE
from .site import make_datasette

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
        entries = data.get("reviewers") if isinstance(data, dict) else None
        if not isinstance(entries, dict):
            raise CrosswalkError(f"{path.name}: expected a 'reviewers:' mapping of usernames to password hashes")
        for username, entry in entries.items():
            if isinstance(entry, str):
                entry = {"password_hash": entry}
            if not isinstance(entry, dict):
                raise CrosswalkError(f"{path.name}: reviewer {username!r}: expected a password hash")
            reviewers[str(username)] = _checked(str(username), entry, f"{path.name}: ")
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


# What the review site's form values become in the rules' SQL: decisions and strengths in any
# case and spacing; an empty strength or rationale keeps the current one; the signed-in reviewer
# comes from Datasette's magic parameter; the time is SQLite's, in crosswalk's one format (SQL_NOW).
SITE_VALUES = {
    "decision": "lower(trim(:decision))",
    "strength": "nullif(lower(trim(:strength)), '')",
    "rationale": "nullif(trim(:rationale), '')",
    "reviewer": ":_actor_id",
    "at": SQL_NOW,
    "via": "'site'",
}


def canned_queries() -> dict:
    """The review site's write queries: review.py's rules, each one statement, checked by CHECK constraints
    and logged by the trigger."""

    def query(title, sql, description, redirect=None):
        q = {"title": title, "sql": sql, "write": True, "allow": ONLY_REVIEWERS, "description": description}
        if redirect:
            q["on_success_redirect"] = redirect
        return q

    return {
        "review_alignment": query(
            "Decide an alignment",
            # The pair too: a re-run of match replaces suggestions, and SQLite may reuse their ids.
            review.DECIDE.update_sql(**SITE_VALUES) + "\n  AND source_id = :source_id AND target_id = :target_id",
            "decision: accept or reject; strength: full or partial (empty keeps it); rationale (empty keeps it); "
            "source_id and target_id: the alignment's two standards, checked against it",
            "/-/review",
        ),
        "accept_alignment": query(
            "Accept an alignment",
            review.DECIDE.update_sql(**dict(SITE_VALUES, decision="'accept'")),
            "strength: full or partial (empty keeps it); rationale (empty keeps it)",
            "/-/review",
        ),
        "reject_alignment": query(
            "Reject an alignment",
            review.DECIDE.update_sql(**dict(SITE_VALUES, decision="'reject'", strength="NULL")),
            "rationale: why it does not align (empty keeps the current one)",
            "/-/review",
        ),
        "set_strength": query(
            "Set the strength of an accepted alignment",
            # An empty strength is refused by the CHECK constraint, not taken as "keep".
            review.SET_STRENGTH.update_sql(**dict(SITE_VALUES, strength="lower(trim(:strength))")),
            "strength: full or partial (only accepted alignments have one)",
        ),
        "set_rationale": query(
            "Set the rationale of an alignment",
            review.SET_RATIONALE.update_sql(**dict(SITE_VALUES, rationale="trim(:rationale)")),
            "rationale: why (empty clears it)",
        ),
        "comment_on_alignment": query(
            "Comment on an alignment",
            review.with_parameters(review.COMMENT_SQL, SITE_VALUES),
            "A comment is added to the alignment's history; it does not change the decision",
        ),
    }


def review_metadata(db_name: str, reviewers: dict, base: dict | None = None) -> tuple[dict, dict]:
    """Datasette metadata for the review site, and the hashes under the names it gives them.

    The hashes are referenced with ``$env`` so that ``/-/metadata`` never shows them; the
    site looks those names up in its own ``environ`` (see :func:`crosswalk.site.make_datasette`).
    """
    md = copy.deepcopy(base or {})
    md["title"] = (md.get("title") or "crosswalk") + " (review)"
    md["description_html"] = (
        f'<p>Signed-in reviewers decide here. Start with the <a href="/-/review">review queue</a>.</p>'
        + (md.get("description_html") or "")
    )
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
    if not pm.is_registered(review_plugin):
        pm.register(review_plugin, name=PLUGIN)


def make_review_datasette(path, *, reviewers: dict | None = None, reviewers_file=None, metadata=None,
                          secret: str | None = None, environ=None):
    """A Datasette app serving one crosswalk database for signed-in reviewers.

    The password hashes stay in the app (never in ``/-/metadata``, never in the
    process's environment).

    Example::

        ds = make_review_datasette("district.db", reviewers_file="reviewers.yml")
    """
    if reviewers is None:
        reviewers = load_reviewers(reviewers_file, environ)
    if not reviewers:
        raise CrosswalkError(
            "no reviewers are configured: give --reviewers FILE (or set CROSSWALK_REVIEWERS_FILE), or set "
            "CROSSWALK_REVIEWER_<NAME>_PASSWORD_HASH; make hashes with 'crosswalk review password-hash'"
        )
    path = pathlib.Path(path)
    name = path.stem
    base = metadata if isinstance(metadata, dict) else load_metadata([name], metadata)
    md, hashes = review_metadata(name, reviewers, base)
    register_plugin()
    return make_datasette(path, metadata=md, template_dir=TEMPLATES, environ=hashes,
                          secret=secret or os.environ.get("DATASETTE_SECRET"))


def serve_review(path, *, host: str = "127.0.0.1", port: int = 8001, reviewers_file=None, metadata=None) -> None:
    """Serve the review site until interrupted."""
    ds = make_review_datasette(path, reviewers_file=reviewers_file, metadata=metadata)
    asyncio.run(ds.invoke_startup())
    uvicorn.run(ds.app(), host=host, port=port, log_level="warning")
