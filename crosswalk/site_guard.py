"""The limits every crosswalk site keeps, whoever asks: a Datasette plugin.

Registered by :func:`crosswalk.site.make_datasette`, so the working, review and
public sites all have it (``crosswalk publish`` copies it into the published
folder's plugins too, for a site deployed without crosswalk installed). Datasette's
plugin manager is one for the whole process, so the guard acts only on a site whose
metadata names it (:func:`guarded`, as ``make_datasette`` and ``crosswalk publish``
write it); any other Datasette in the process is left as it is. On a crosswalk site:

- every SQLite connection refuses a value longer than ``MAX_VALUE_BYTES``
  (``select randomblob(1000000000)`` is an error at once, not gigabytes), a
  result wider than ``MAX_COLUMNS`` columns, and a result whose values add up to
  more than ``MAX_RESULT_BYTES`` (a thousand rows of the longest values would be
  a gigabyte); the time limit stays Datasette's ``sql_time_limit_ms``
  (``crosswalk.site.SETTINGS``);
- ``pragma_database_list`` shows no file path (its ``file`` column reads as NULL);
- every response carries hardening headers (``HEADERS``: a Content-Security-Policy
  that the site's own pages and SVG charts satisfy, ``frame-ancestors 'none'``,
  nosniff, a Referrer-Policy);
- Datasette's ``.csv`` downloads write a cell that a spreadsheet would run as a
  formula with a leading ``'`` (the one guard, :mod:`crosswalk.cells`);
- a ``_sort`` by a column the table does not have answers 400, not 500; a POST to a table, 405.

Example::

    from crosswalk.site import make_datasette
    ds = make_datasette("district.db")   # the guard is on
"""

from __future__ import annotations

import csv
import io
import re
import sqlite3
import sys
import weakref

from datasette import hookimpl
from datasette.utils.asgi import Response
from datasette.views.base import DatasetteError

from crosswalk.cells import is_formula_like, neutralise  # noqa: I001  (the published copy inlines this line)

NAME = "crosswalk-site-guard"
MAX_VALUE_BYTES = 1_000_000  # the longest text or blob any query may make or return
MAX_COLUMNS = 100  # the widest result (crosswalk's widest table has fewer than 30 columns)
# The most text and blob one query may return. A page of 1,000 alignments with their evidence is
# about 1 MB; a worker that held 20 MB of values renders them in about 100 MB.
MAX_RESULT_BYTES = 20_000_000
CSP = "; ".join([
    "default-src 'self'",
    # Datasette's pages and crosswalk's review page run small inline scripts; nothing from elsewhere.
    "script-src 'self' 'unsafe-inline'",
    "style-src 'self' 'unsafe-inline'",  # the SVG charts and Datasette's pages set style attributes
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])
HEADERS = {
    b"content-security-policy": CSP.encode(),
    b"x-frame-options": b"DENY",
    b"x-content-type-options": b"nosniff",
    b"referrer-policy": b"no-referrer",
}
SORT_ERRORS = ("Cannot sort table by ", "Cannot use _sort and _sort_desc")
SQLITE_READ = 20
NUMBER = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")


def guarded(md: dict) -> dict:
    """Datasette metadata ``md`` with the guard switched on (its plugin setting, which it checks).

    Example::

        guarded({"title": "x"})["plugins"]  # {'crosswalk-site-guard': {}}
    """
    return {**md, "plugins": {**(md.get("plugins") or {}), NAME: {}}}


def _on(datasette) -> bool:
    """Whether ``datasette`` is a crosswalk site (the plugin is registered for every Datasette in the
    process). The copy a published folder holds (publish.GUARD_FILE, loaded by Datasette from the
    folder's plugins) guards every site of a process that has not imported crosswalk's own, metadata
    or none: a folder served by plain Datasette without its metadata.yml was left unguarded (no CSP,
    a 100 MB answer, formulas in CSV). Where crosswalk's is imported, crosswalk names the guard in
    the metadata of every site it makes, and the copy, registered for the process as well, leaves
    the rest alone."""
    if datasette.plugin_config(NAME) is not None:
        return True
    return __name__ != "crosswalk.site_guard" and "crosswalk.site_guard" not in sys.modules


def _hide_paths(action, table, column, database, trigger):
    # Datasette's own "PRAGMA database_list" (the database page's attached databases) reads no file.
    if action == SQLITE_READ and table == "pragma_database_list" and column == "file":
        return sqlite3.SQLITE_IGNORE
    return sqlite3.SQLITE_OK


def bounded_rows(budget: int = MAX_RESULT_BYTES):
    """A row factory (rows as ``sqlite3.Row``) that refuses a result once its values pass ``budget`` bytes.

    The count starts again with each cursor. A connection serves one query at a time, so the
    factory remembers only the cursor it is counting for (weakly: a new cursor starts a new count).
    """
    counting = {"cursor": lambda: None, "bytes": 0}

    def row(cursor, values):
        if counting["cursor"]() is not cursor:
            counting["cursor"], counting["bytes"] = weakref.ref(cursor), 0
        counting["bytes"] += sum(len(v) if isinstance(v, (str, bytes)) else 8 for v in values)
        if counting["bytes"] > budget:
            raise sqlite3.DataError(f"result too big: its values pass {budget:,} bytes;"
                                    " ask for fewer rows or shorter values")
        return sqlite3.Row(cursor, values)

    return row


@hookimpl
def prepare_connection(conn, database, datasette):
    if not _on(datasette):
        return
    conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_VALUE_BYTES)
    conn.setlimit(sqlite3.SQLITE_LIMIT_COLUMN, MAX_COLUMNS)
    conn.row_factory = bounded_rows()  # after Datasette's own sqlite3.Row, which it replaces
    conn.set_authorizer(_hide_paths)


@hookimpl(tryfirst=True)
def handle_exception(datasette, request, exception):
    if not _on(datasette):
        return None
    # A bad _sort is the visitor's mistake: Datasette's error page, with 400 instead of 500.
    if isinstance(exception, DatasetteError) and exception.status == 500 \
            and str(exception.message).startswith(SORT_ERRORS):
        exception.status = 400
    # A POST to a table or a read-only page: Datasette asserts it is a canned query (a 500 and a
    # traceback). It is a request this site does not take.
    if isinstance(exception, AssertionError) and "POST to a canned query" in str(exception):
        return Response.text("Nothing is written here: decisions are made on the crosswalk's pages (served "
                             "with --review), in the review workbook or with crosswalk decide.", status=405)


def safe_cell(value: str) -> str:
    """A CSV cell that no spreadsheet runs: formula-like text gets a leading ``'``; numbers stay numbers."""
    return neutralise(value) if is_formula_like(value) and not NUMBER.match(value) else value


def safe_csv(data: bytes) -> bytes:
    """Whole CSV records (as Datasette writes them) with every formula-like cell neutralised."""
    out = io.StringIO()
    writer = csv.writer(out)
    for row in csv.reader(io.StringIO(data.decode("utf-8"), newline="")):
        writer.writerow([safe_cell(v) for v in row])
    return out.getvalue().encode("utf-8")


def complete_records(buffer: bytes) -> int:
    """How many bytes at the start of ``buffer`` are whole CSV records (they end outside quotes)."""
    quotes, end, position = 0, 0, 0
    for line in buffer.split(b"\n")[:-1]:
        position += len(line) + 1
        quotes += line.count(b'"')
        if quotes % 2 == 0:
            end = position
    return end


# A site that serves a published folder has two copies of the guard: this module, and the folder's
# plugins/crosswalk_site_guard.py. The first to see a request marks it, and the other passes it on.
GUARDED = "crosswalk.guarded"


def _is_csv(scope) -> bool:
    return scope["type"] == "http" and scope.get("path", "").endswith(".csv")


@hookimpl
def asgi_wrapper(datasette):
    if not _on(datasette):
        return None  # (asked once, when the site's app is made)

    def wrap(app):
        async def guarded(scope, receive, send):
            if scope["type"] != "http" or scope.get(GUARDED):
                await app(scope, receive, send)
                return
            scope = {**scope, GUARDED: True}
            csv_body = {"on": False, "buffer": b""}

            async def send_guarded(message):
                if message["type"] == "http.response.start":
                    headers = [(k, v) for k, v in message.get("headers", [])]
                    present = {k.lower() for k, _ in headers}
                    if b"content-length" in present and b"transfer-encoding" in present:
                        # Datasette's database download sends both (simonw/datasette#2663), which HTTP
                        # forbids (RFC 9112, 6.2) and strict clients refuse: the file's length stays.
                        headers = [(k, v) for k, v in headers if k.lower() != b"transfer-encoding"]
                        present.discard(b"transfer-encoding")
                    headers += [(k, v) for k, v in HEADERS.items() if k not in present]
                    content_type = dict((k.lower(), v) for k, v in headers).get(b"content-type", b"")
                    if _is_csv(scope) and message.get("status") == 200 and \
                            content_type.startswith((b"text/csv", b"text/plain")):
                        csv_body["on"] = True
                        headers = [(k, v) for k, v in headers if k.lower() != b"content-length"]
                    message = {**message, "headers": headers}
                elif message["type"] == "http.response.body" and csv_body["on"]:
                    buffer = csv_body["buffer"] + message.get("body", b"")
                    more = message.get("more_body", False)
                    end = complete_records(buffer) if more else len(buffer)
                    csv_body["buffer"] = buffer[end:]
                    message = {**message, "body": safe_csv(buffer[:end]) if end else b""}
                await send(message)

            await app(scope, receive, send_guarded)

        return guarded

    return wrap
