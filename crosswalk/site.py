"""Serving a crosswalk database with Datasette.

Example::

    from crosswalk.site import make_datasette
    ds = make_datasette("crosswalk-demo.db")
    response = await ds.client.get("/crosswalk-demo/standards.json")

``serve`` and ``serve_published`` run the site with uvicorn, by default one
worker process per core. Worker processes build their own Datasette from the
``CROSSWALK_SITE`` environment variable (see :func:`app_from_env`), all with
the same signing secret (``DATASETTE_SECRET``, or one made at start-up).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import errno
import json
import os
import pathlib
import re
import secrets
import socket
import sqlite3
import threading
import urllib.parse
from collections import OrderedDict

import uvicorn
import yaml
from datasette.app import Datasette
from datasette.plugins import pm
from datasette.utils import resolve_env_secrets, tilde_decode
from uvicorn.protocols.http.auto import AutoHTTPProtocol

from . import site_guard, usable_cores, working_plugin
from .db import serving
from .errors import CrosswalkError
from .metadata import STATIC_MOUNT, load_metadata
from .outputs import read_only_connection
from .publish import PUBLISHED_DB, is_published_dir, read_inspect_data

ENV_SITE = "CROSSWALK_SITE"
# Suggested facets cost a GROUP BY per column on every table page: too slow at 300,000 alignments.
# 20 rows a page: most of a table page's time is Datasette rendering its rows.
SETTINGS = {"default_page_size": 20, "facet_time_limit_ms": 500, "sql_time_limit_ms": 3000,
            "suggest_facets": False}


def datasette_settings(overrides: dict | None = None) -> dict:
    """The Datasette settings of every crosswalk site: working, review, public, and deployed.

    Example::

        datasette_settings()["default_page_size"]  # 20
    """
    return {**SETTINGS, **(overrides or {})}


# Which of a table page's queries are its counts (a Datasette that words them otherwise only counts
# afresh; whose queries may be kept at all is the request's kind, TABLE_PAGE below, never the text).
# Datasette's facet queries (column, array and date facets) all read
#   select ... as value, count(*) as count from (<the table's SQL>) ... group by ...
FACET_SQL_MARK = "as value, count(*) as count from ("
# and a table page without filters counts its rows with exactly  select count(*) from <table>
# (Datasette's escape_sqlite: a bare name, or one in brackets), which cannot depend on anything but the data.
TABLE_COUNT_SQL = re.compile(r"select count\(\*\) from (\w+|\[[^\]]+\]) ?")
FACET_CACHE_SIZE = 256
# Counts are kept only for Datasette's own table pages (/<database>/<table>, any format), as Datasette
# routes them; a visitor's ?sql=, a canned query (the same address shape) and a table page with _where=
# run SQL someone wrote, which may ask for random() or 'now': their results are never kept.
TABLE_PAGE = re.compile(r"^/(?P<database>[^/.]+)/(?P<table>[^/.]+)(\.\w+)?$")
VISITOR_SQL_ARGS = ("sql", "_where")
# The HTTP request being answered (its scope, and whether it is a table page once that is asked).
_REQUEST: contextvars.ContextVar = contextvars.ContextVar("crosswalk_request", default=None)


class DataVersions:
    """Whether a database file has changed: ``PRAGMA data_version`` from one read-only connection per file.

    SQLite changes a connection's data_version whenever another connection (any process) commits to
    the file, so an unchanged value means unchanged data. Immutable databases never change.
    """

    def __init__(self):
        self._conns: dict[str, sqlite3.Connection] = {}
        self._lock = threading.Lock()

    def get(self, db) -> int | None:
        if not db.is_mutable:
            return 0
        if db.is_memory or not db.path:
            return None
        with self._lock:
            try:
                conn = self._conns.get(db.path)
                if conn is None:
                    conn = read_only_connection(db.path, check_same_thread=False)
                    self._conns[db.path] = conn
                return conn.execute("pragma data_version").fetchone()[0]
            except sqlite3.Error:
                return None  # not known: no caching


class CrosswalkDatasette(Datasette):
    """Datasette, with facet and row counts kept until their database changes.

    A faceted page of 300,000 alignments spends most of its time in the facets' GROUP BY
    queries, and every table page of a database that can change counts the table's rows
    (``select count(*) from alignments``, 296,850 rows: 19 ms on a fresh connection; cached, a
    table page went from 37.7 to 31.8 ms in-process, and from 37.5 to 32.2 ms of server CPU under
    load). Their results are cached (per process, least recently used first out) under the
    query, its parameters and the database's data_version, so any commit makes them be counted
    afresh. Requests that ask for a count already being made wait for it. Only a table page's
    counts are kept (``TABLE_PAGE``): never those of SQL a visitor or a canned query wrote.
    """

    def __init__(self, *args, environ: dict | None = None, **kwargs):
        self._environ = environ or {}  # before Datasette's own start-up, which reads plugin settings
        self.facet_cache: OrderedDict = OrderedDict()
        self.facet_cache_hits = 0
        self._data_versions = DataVersions()
        super().__init__(*args, **kwargs)

    def data_version(self, db_name: str) -> int | None:
        """SQLite's data_version of a database: it changes whenever any connection commits to it
        (0 for an immutable database; None when not known)."""
        return self._data_versions.get(self.databases[db_name])

    def plugin_config(self, plugin_name, database=None, table=None, fallback=True):
        """As Datasette's, but ``{"$env": NAME}`` is also looked up in this site's own ``environ``.

        So a site can hold secrets (the reviewers' password hashes) that ``/-/metadata`` never
        shows, without putting them in the process's environment.
        """
        if not self._environ:
            return super().plugin_config(plugin_name, database=database, table=table, fallback=fallback)
        plugins = self.metadata("plugins", database=database, table=table, fallback=fallback)
        if plugins is None:
            return None
        return resolve_env_secrets(plugins.get(plugin_name), {**os.environ, **self._environ})

    def app(self):
        """As Datasette's, with the request being answered known to this site's counts (``_REQUEST``)."""
        asgi = super().app()

        async def answer(scope, receive, send):
            token = _REQUEST.set({"scope": scope} if scope["type"] == "http" else None)
            try:
                await asgi(scope, receive, send)
            finally:
                _REQUEST.reset(token)

        return answer

    async def _on_table_page(self) -> bool:
        """Whether the request being answered is a table page asked without anyone's SQL (see TABLE_PAGE);
        asked once per request, and only when a count could be kept."""
        request = _REQUEST.get()
        if request is None:
            return False
        if "table_page" not in request:
            request["table_page"] = await self._is_table_page(request["scope"])
        return request["table_page"]

    async def _is_table_page(self, scope) -> bool:
        found = TABLE_PAGE.match(scope.get("path", ""))
        if found is None or scope.get("method", "GET").upper() != "GET":
            return False
        args = urllib.parse.parse_qs(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        if any(name in VISITOR_SQL_ARGS for name in args):
            return False
        try:
            db = self.get_database(route=tilde_decode(found["database"]))
        except KeyError:
            return False
        return await self.get_canned_query(db.name, tilde_decode(found["table"]), None) is None

    def add_database(self, db, name=None, route=None):
        """As Datasette's, with this database's facet and row counts cached (see the class docstring).

        Datasette's facets and its table page both run their counts through the database's
        ``execute``, so it is this database object's ``execute`` that is wrapped (no other
        database object, and no class, is changed)."""
        db = super().add_database(db, name=name, route=route)
        run = db.execute

        async def execute(sql, *args, **kwargs):
            key = await self._count_key(db, sql, args, kwargs)
            if key is None:
                return await run(sql, *args, **kwargs)
            return await self._counted(key, lambda: run(sql, *args, **kwargs))

        db.execute = execute
        return db

    async def _counted(self, key, run):
        pending = self.facet_cache.get(key)
        if pending is not None and (pending.done() or pending.get_loop() is asyncio.get_running_loop()):
            # counted, or being counted by another request: wait for that instead of counting again
            # (one being counted in another event loop, which an app run by asyncio.run per request
            # can leave behind, is counted here)
            self.facet_cache.move_to_end(key)
            if not pending.done():
                await asyncio.wait({pending})
            if not pending.cancelled() and pending.exception() is None:
                self.facet_cache_hits += 1
                return pending.result()
            return await run()  # that count failed (timed out, client gone): count here
        pending = asyncio.get_running_loop().create_future()
        self.facet_cache[key] = pending
        while len(self.facet_cache) > FACET_CACHE_SIZE:
            self.facet_cache.popitem(last=False)
        try:
            results = await run()
        except BaseException:
            if self.facet_cache.get(key) is pending:
                del self.facet_cache[key]
            pending.cancel()
            raise
        pending.set_result(results)
        return results

    async def _count_key(self, db, sql, args, kwargs):
        """The cache key of a table page's facet or row count (None for any other query): the
        data_version is read first."""
        if not (TABLE_COUNT_SQL.fullmatch(sql)
                or (FACET_SQL_MARK in sql and sql.lstrip().lower().startswith("select"))):
            return None
        if not await self._on_table_page():
            return None
        version = self._data_versions.get(db)
        if version is None:
            return None
        params = args[0] if args else kwargs.get("params")
        frozen = tuple(sorted(params.items())) if isinstance(params, dict) else tuple(params or ())
        rest = tuple(args[1:]) + tuple(sorted((k, v) for k, v in kwargs.items() if k != "params"))
        key = (db.name, sql, frozen, rest, version)
        try:
            hash(key)
        except TypeError:
            return None
        return key


HERE = pathlib.Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"


def register_once(plugin, name: str) -> None:
    """Register a plugin module with Datasette's plugin manager, unless it (or one of that name) already is."""
    if not pm.is_registered(plugin) and pm.get_plugin(name) is None:
        pm.register(plugin, name=name)


def register_guard() -> None:
    """The limits of every crosswalk site (:mod:`crosswalk.site_guard`), registered once; they act only on a
    site whose metadata switches them on (``site_guard.guarded``, as :func:`make_datasette` does)."""
    register_once(site_guard, site_guard.NAME)


def register_working_pages() -> None:
    """The working site's pages (:mod:`crosswalk.working_plugin`), registered once; they act only on a site
    whose metadata configures them (:func:`working_metadata`)."""
    register_once(working_plugin, working_plugin.NAME)


def working_metadata(md: dict, db_name: str) -> dict:
    """``md`` with the working site's pages switched on for the database ``db_name``, and their stylesheet."""
    md = dict(md)
    md["plugins"] = {**(md.get("plugins") or {}), working_plugin.CONFIG_KEY: {"database": db_name}}
    css = f"/{STATIC_MOUNT}/crosswalk.css"
    md["extra_css_urls"] = [u for u in md.get("extra_css_urls") or [] if u != css] + [css]
    return md


def make_datasette(*paths, immutable: bool = False, metadata=None, plugins_dir=None,
                   template_dir=None, static=None, settings=None, inspect_data=None,
                   secret=None, environ=None, pages: bool = False) -> CrosswalkDatasette:
    """A Datasette app for crosswalk databases, with crosswalk's metadata and settings.

    ``inspect_data`` (what ``datasette inspect`` writes) gives immutable
    databases their table counts, so that table pages do not count rows.
    Facet counts are cached until the database changes (see ``CrosswalkDatasette``).
    ``environ``: values for ``$env`` references in plugin settings, kept by this app only.
    ``pages``: the crosswalk's own pages (home, program, standard, gaps, search, review) for
    the first database, a working one (:mod:`crosswalk.working_plugin`); its tables stay
    at ``/<name>``.
    """
    register_guard()
    files = [str(p) for p in paths]
    names = [pathlib.Path(p).stem for p in files]
    md = site_guard.guarded(metadata if isinstance(metadata, dict) else load_metadata(names, metadata, databases=files))
    if pages:
        register_working_pages()
        md = working_metadata(md, names[0])
        template_dir = template_dir or TEMPLATES
        static = list(static or []) + [(STATIC_MOUNT, str(STATIC))]
    kwargs = dict(metadata=md, settings=datasette_settings(settings), environ=environ)
    if inspect_data:
        kwargs["inspect_data"] = inspect_data
    if secret:
        kwargs["secret"] = secret
    if immutable:
        kwargs["immutables"] = files
    else:
        kwargs["files"] = files
    if plugins_dir:
        kwargs["plugins_dir"] = str(plugins_dir)
    if template_dir:
        kwargs["template_dir"] = str(template_dir)
    if static:
        kwargs["static_mounts"] = static
    return CrosswalkDatasette(**kwargs)


def public_datasette_kwargs(outdir) -> dict:
    """Arguments for :func:`make_datasette` that serve a published folder as published."""
    out = pathlib.Path(outdir)
    if not is_published_dir(out):
        raise CrosswalkError(f"{outdir} is not a published crosswalk (no {PUBLISHED_DB}); run crosswalk publish")
    return dict(
        immutable=True,
        metadata=yaml.safe_load((out / "metadata.yml").read_text(encoding="utf-8")),
        template_dir=out / "templates",
        plugins_dir=out / "plugins",
        static=[(STATIC_MOUNT, str(out / "static"))],
        inspect_data=read_inspect_data(out),
    )


def make_public_datasette(outdir, secret=None) -> CrosswalkDatasette:
    """The public site of a published folder, as a Datasette app (immutable, table counts from inspect-data.json)."""
    return make_datasette(pathlib.Path(outdir) / PUBLISHED_DB, secret=secret, **public_datasette_kwargs(outdir))


def default_workers() -> int:
    """One worker process per core this process may run on."""
    return usable_cores()


def datasette_from_config(config: dict):
    """The Datasette for a ``serve`` configuration (what :func:`app_from_env` reads)."""
    if config.get("published"):
        return make_public_datasette(config["published"], secret=config.get("secret"))
    return make_datasette(*config["paths"], immutable=config.get("immutable", False),
                          metadata=config.get("metadata"), secret=config.get("secret"),
                          pages=config.get("pages", False))


def app_from_env():
    """The ASGI app of one worker process: ``uvicorn --factory crosswalk.site:app_from_env``.

    Reads the site's configuration (JSON) from the ``CROSSWALK_SITE`` environment variable,
    as :func:`serve` and :func:`serve_published` set it.
    """
    try:
        config = json.loads(os.environ[ENV_SITE])
    except KeyError:
        raise RuntimeError(f"{ENV_SITE} is not set: start the site with crosswalk serve") from None
    return datasette_from_config(config).app()


class NoDelayHTTPProtocol(AutoHTTPProtocol):
    """uvicorn's HTTP protocol, with Nagle's algorithm off on every connection.

    With several workers uvicorn binds the listening socket itself, without naming the TCP
    protocol, and asyncio then leaves TCP_NODELAY off on the connections it accepts: every
    response then waits about 40 ms for the client's delayed ACK.
    """

    def connection_made(self, transport):
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:
                pass
        super().connection_made(transport)


def check_port(host: str, port: int) -> None:
    """Raise CrosswalkError if a site cannot listen on ``host``:``port`` (most often: another server
    already does). Asked before a site is built or announced: uvicorn finds out only when it binds,
    after "Serving ... at" was printed and, for the demo, after the demo was rebuilt."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                             flags=socket.AI_PASSIVE)[0]
    except (socket.gaierror, UnicodeError) as exc:
        raise CrosswalkError(f"cannot listen on {host!r}: {getattr(exc, 'strerror', None) or exc}") from None
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds: TIME_WAIT is no obstacle
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise CrosswalkError(f"port {port} on {host} is in use (is crosswalk already serving there?): "
                                     "stop that server, or choose another port") from None
            raise CrosswalkError(f"cannot listen on {host} port {port}: {exc.strerror or exc}") from None


def _run(config: dict, host: str, port: int, workers: int | None) -> None:
    workers = workers or default_workers()
    if workers < 1:
        raise ValueError("workers must be at least 1")
    # Every worker signs cookies and CSRF tokens with the same secret.
    secret = os.environ.get("DATASETTE_SECRET") or (secrets.token_hex(32) if workers > 1 else None)
    config = {**config, "secret": secret}
    ds = datasette_from_config(config)  # fails here, once, on a bad database or metadata
    if workers == 1:
        asyncio.run(ds.invoke_startup())
        uvicorn.run(ds.app(), host=host, port=port, log_level="warning", http=f"{__name__}:NoDelayHTTPProtocol")
        return
    # uvicorn starts each worker as a new Python that imports the app by name; the environment it
    # inherits is the only way to hand it the configuration. Set for the run, then put back.
    previous = os.environ.get(ENV_SITE)
    os.environ[ENV_SITE] = json.dumps(config)
    try:
        uvicorn.run(f"{__name__}:app_from_env", factory=True, host=host, port=port, workers=workers,
                    log_level="warning", http=f"{__name__}:NoDelayHTTPProtocol")
    finally:
        if previous is None:
            os.environ.pop(ENV_SITE, None)
        else:
            os.environ[ENV_SITE] = previous


def serve(*paths, host: str = "127.0.0.1", port: int = 8001, immutable: bool = False, metadata=None,
          workers: int | None = None, pages: bool = True) -> None:
    """Serve databases with Datasette until interrupted (like ``datasette serve``).

    ``workers``: uvicorn worker processes (default: one per core). ``pages``: the crosswalk's
    pages for the first database (the working site); its tables stay one click away.
    """
    config = {"paths": [str(pathlib.Path(p).resolve()) for p in paths], "immutable": immutable,
              "metadata": str(pathlib.Path(metadata).resolve()) if metadata else None, "pages": pages}
    with contextlib.ExitStack() as served:  # crosswalk demo --fresh will not replace them meanwhile
        for path in paths:
            served.enter_context(serving(path))
        _run(config, host, port, workers)


def serve_published(outdir, host: str = "127.0.0.1", port: int = 8001, workers: int | None = None) -> None:
    """Serve a folder made by ``crosswalk publish`` as the public site (immutable, read-only)."""
    _run({"published": str(pathlib.Path(outdir).resolve())}, host, port, workers)
