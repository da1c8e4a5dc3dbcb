"""The crosswalk command line: a thin face over the library.

Every command takes the database path first, like sqlite-utils.

Each command imports the library modules it uses inside its function: importing them all here
would make every start (``crosswalk --help`` included) load sqlite-utils, numpy, scipy,
scikit-learn, openpyxl, Datasette and uvicorn; measured on this project's machine, that is
0.1 s for ``import crosswalk.cli`` as it is, and about 4 s with everything at the top (on 2 busy cores).
"""

from __future__ import annotations

import contextlib
import functools
import json
import pathlib
import shlex
import sqlite3
import sys

import click

from . import __version__
from .errors import CrosswalkError, sqlite_refusal


def fail_cleanly(func):
    """Turn library errors into one clear message and exit status 1.

    The message is one line even when it quotes a cell that holds line breaks.
    """

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except CrosswalkError as exc:
            raise click.ClickException(" ".join(str(exc).splitlines())) from None
        except sqlite3.OperationalError as exc:  # what the database file itself refused, said plainly
            said = sqlite_refusal(exc)
            if said is None:
                raise
            raise click.ClickException(said) from None
        except OSError as exc:  # a file the system refused (a folder that is a file, a full disk)
            if isinstance(exc, BrokenPipeError) or not exc.strerror:
                raise
            out = kwargs.get("out") or kwargs.get("outdir")  # a full disk names no file: the one being written
            where = f"{exc.filename}: " if exc.filename else f"cannot write {out}: " if out else ""
            raise click.ClickException(f"{where}{exc.strerror}") from None

    return wrapper


# The exit status of an import of decisions (review import, import-decisions) that applied what it
# could and left conflicts (rows decided otherwise since) for a person: not 0, so that a script can
# tell; not 1, which says nothing was written.
CONFLICTS_LEFT = 3


def _report_import(result) -> None:
    """An import's notes (stderr), its summary and, where a framework was there before, the codes
    added, changed and retired (ImportResult.details says which it can name)."""
    for warning in result.warnings:
        click.echo(f"Note: {warning}", err=True)
    click.echo(result.summary())
    if result.changed or result.retired or result.unchanged:
        for line in result.details():
            click.echo(f"  {line}")


def silent_option(func):
    return click.option("--silent", is_flag=True, help="Hide progress bars and step messages")(func)


@contextlib.contextmanager
def progress_bar(silent: bool, length: int, label: str):
    """A progress bar on stderr (never stdout), or nothing when --silent."""
    if silent or length == 0:
        yield lambda n=1: None
        return
    with click.progressbar(length=length, label=label, file=sys.stderr) as bar:
        yield bar.update


def open_database(path, migrate: bool = True):
    """The database at ``path``, closed when the command ends: run in-process too (a test's
    CliRunner), nothing stays open, and no -wal or -shm file is left beside it."""
    from .db import open_db

    db = open_db(path, migrate=migrate)
    context = click.get_current_context(silent=True)
    if context is not None:
        context.call_on_close(db.close)
    return db


def _import_database(path, dry_run: bool):
    """The database an import writes to; for --dry-run, the one there read as it is (not migrated:
    a dry run writes nothing), or an empty one in memory where there is none yet."""
    from .db import memory_db

    if not dry_run:
        return open_database(path)
    db = open_database(path, migrate=False) if pathlib.Path(path).exists() else memory_db()
    return db if db["frameworks"].exists() else memory_db()


@click.group(context_settings={"help_option_names": ["--help"]})
@click.version_option(__version__, prog_name="crosswalk")
def cli():
    """Align industry credential standards with academic standards.

    Import frameworks from spreadsheets, let crosswalk suggest alignments,
    review them, and publish the crosswalk as a Datasette site.

    Example:

    \b
        crosswalk demo
        crosswalk import district.db welding.xlsx --framework "Welding tasks" --kind industry
        crosswalk import district.db data/ccss_math.csv --framework "MLR Mathematics" --kind academic
        crosswalk match district.db --from "Welding tasks" --to "MLR Mathematics"
        crosswalk serve district.db
    """


@cli.command(name="import")
@click.argument("database", type=click.Path(dir_okay=False))
# Any path: the library refuses a folder, a device or a pipe with one Error: line (exit 1).
@click.argument("file", type=click.Path())
@click.option("--framework", required=True, help="Name of the framework (created, or updated in place)")
@click.option("--kind", type=click.Choice(["industry", "academic"]),
              help="industry: what a CTE program teaches; academic: state standards (default: the framework's "
                   "kind on a re-import, industry for a new one)")
@click.option("--sheet", help="Sheet of a workbook (.xlsx, .xls, .ods; default: the first one shown, hidden sheets passed over)")
@click.option("--all-sheets", is_flag=True, help="Import every sheet; the sheet name becomes the domain")
@click.option("--code-column", help="Column holding the code (header text or letter)")
@click.option("--text-column", help="Column holding the statement")
@click.option("--grade-column", help="Column holding the grade or grade band")
@click.option("--subject-column", help="Column holding the subject")
@click.option("--parent-column", help="Column holding the parent's code")
@click.option("--domain-column", help="Column holding the domain, strand or duty area")
@click.option("--subject", help="Subject for every standard of the file (when there is no subject column)")
@click.option("--publisher", help="Who publishes the framework")
@click.option("--version", "version_", help="The framework's version or year")
@click.option("--license", "license_", help="The framework's license")
@click.option("--attribution", help="The attribution notice its publisher requires")
@click.option("--source-url", help="Where the framework is published")
@click.option("--retire-missing", is_flag=True,
              help="Retire the standards the file leaves out even when they are more than half of the framework "
                   "(refused without it: most often a wrong file or sheet)")
@click.option("--dry-run", is_flag=True, help="Show the column mapping and first rows; write nothing")
@silent_option
@fail_cleanly
def import_(database, file, framework, kind, sheet, all_sheets, code_column, text_column, grade_column,
            subject_column, parent_column, domain_column, subject, publisher, version_, license_, attribution,
            source_url, retire_missing, dry_run, silent):
    """Import standards from a spreadsheet (.xlsx, .xls, .ods) or CSV file.

    The header row is found even below title rows; the code, statement,
    grade, subject and parent columns are found by their usual names, or
    named with the --*-column options. Workbooks may be .xlsx, .xls or .ods;
    CSV may be UTF-8 or Windows-1252, with commas, semicolons or tabs. The
    hierarchy comes from a parent column, outline levels, indentation or code
    prefixes (1.2.a under 1.2). An import is all or nothing. Re-importing an
    edited file updates standards in place by code (or, under a new code, by
    their words), retires removed ones and flags reviewed alignments whose
    statement changed (logged in review_log).
    A re-import that would retire more than half of the framework is refused
    unless --retire-missing.

    Example:

    \b
        crosswalk import district.db welding.xlsx --framework "Welding tasks" \\
            --sheet Tasks --code-column "Task ID" --text-column Task
    """
    from .importer import import_file, prepare_import

    if sheet and all_sheets:
        raise click.UsageError("Cannot use both --sheet and --all-sheets")
    columns = dict(code=code_column, statement=text_column, grade=grade_column, subject=subject_column,
                   parent=parent_column, domain=domain_column)
    # Read and check the whole file before touching the database.
    prepared = prepare_import(file, sheet=sheet, all_sheets=all_sheets, columns=columns, subject=subject)
    db = _import_database(database, dry_run)
    with progress_bar(silent or dry_run, len(prepared.rows), "Importing") as update:
        result = import_file(
            db, file, framework=framework, kind=kind, publisher=publisher, version=version_,
            subject=subject, license=license_, attribution=attribution, source_url=source_url,
            dry_run=dry_run, progress=update, prepared=prepared, retire_missing=retire_missing,
        )
    if dry_run:
        click.echo("Columns found:")
        for field, label in result.mapping.items():
            click.echo(f"  {field:<10} {label}")
        if prepared.unread:  # (a grade column under a name not known is read with --grade-column)
            click.echo(f"Not read: {', '.join(prepared.unread)} (name one with a --*-column option if it holds "
                       "a code, statement, grade, subject, parent or domain)")
        if result.hierarchy:
            click.echo(f"Hierarchy from: {result.hierarchy}")
        click.echo("First rows:")
        for row in result.preview:
            parent = f" (parent {row['parent_code']})" if row["parent_code"] else ""
            click.echo(f"  row {row['source_row']}: {row['code']}{parent}  {row['statement'][:90]}")
    _report_import(result)


@cli.command()
@click.argument("database", type=click.Path(dir_okay=False, exists=True))
@click.option("--from", "source", required=True, multiple=True, help="The industry framework to find alignments for")
@click.option("--to", "target", required=True, multiple=True,
              help="The academic framework to align to (repeatable: one match each, in turn)")
@click.option("--top", type=click.IntRange(1, 100), default=5, show_default=True,
              help="Suggestions per source standard")
@click.option("--subject", help="Only target standards of this subject or domain")
@click.option("--grade", help="Only target standards for this grade band (9-12, HS, 8)")
@click.option("--no-embeddings", is_flag=True, help="Lexical scores only, even if the embedding model is installed")
@silent_option
@fail_cleanly
def match(database, source, target, top, subject, grade, no_embeddings, silent):
    """Suggest academic standards for every standard of an industry framework.

    Each suggestion gets a 0-100 score, a confidence band and its evidence
    in words. Accepted and rejected alignments are never changed, and a
    rejected pair is never suggested again. A suggestion that falls out of
    the top is deleted, unless a reviewer worked on it (a comment, a
    rationale, anything in its history).

    Decisions already made teach the match, as far as the committee's own
    held-out decisions show they help: at first for the statements like
    the decided ones and those under the same heading (duty area) only;
    what is accepted most counts once 10 statements have an accepted
    alignment (the summary says how many so far).

    Several --to are matched one after the other, each with its own
    summary line.

    Example:

    \b
        crosswalk match district.db --from "Welding tasks" --to "MLR Mathematics" \\
            --grade 9-12 --top 5
    """
    from .db import framework_id, framework_name
    from .matching import check_match
    from .matching import match as run_match

    if len(source) > 1:  # (a second --from was taken for the first, silently)
        raise CrosswalkError("--from names one framework; run match once for each")
    db = open_database(database)
    # Every name (--from first, as the command reads), and what each match would refuse, checked
    # before the first match writes anything; one framework named twice, once.
    source_id = framework_id(db, source[0])
    targets = list(dict.fromkeys(framework_id(db, name) for name in target))
    for target_id in targets:
        check_match(db, source=source[0], target=str(target_id), subject=subject, grade=grade)
    count = db.execute(
        "select count(*) from standards where framework_id = ? and status = 'active'",
        [source_id],
    ).fetchone()[0]
    saved = 0
    try:
        for target_id in targets:
            with progress_bar(silent, count, "Matching") as update:
                result = run_match(
                    db, source=source[0], target=str(target_id), top=top, subject=subject, grade=grade,
                    use_embeddings=not no_embeddings, progress=update,
                )
            saved += 1
            click.echo(result.summary())
    except KeyboardInterrupt:  # Ctrl+C. A match writes in one transaction: the one under way wrote nothing.
        click.echo("\nInterrupted: " + _matches_saved([framework_name(db, t) for t in targets], saved), err=True)
        sys.exit(130)


def _matches_saved(names: list[str], saved: int) -> str:
    """Which of a `match`'s several --to were saved when it was interrupted: the first ``saved``."""
    def against(some):
        return f"the match{'es' if len(some) > 1 else ''} against {', '.join(map(repr, some))}"

    said = [f"{against(names[:saved])} {'is' if saved == 1 else 'are'} saved"] if saved else []
    if names[saved:]:
        said.append(f"nothing of {against(names[saved:])} was written")
    return "; ".join(said)


NOTES_SHOWN = 20  # the rows a command could not use, named one by one before "and N more"


def _notes_not_found(lines: list, more: str = "more pair", why: str = "codes not found") -> None:
    """The first NOTES_SHOWN rows a command could not use, on stderr, and how many more: eval's gold
    pairs whose code names no standard, import-decisions' rows."""
    from .text import plural

    shown = NOTES_SHOWN
    for line in lines[:shown]:
        click.echo(f"Note: {line}", err=True)
    if len(lines) > shown:
        click.echo(f"Note: and {plural(len(lines) - shown, more)} with {why}", err=True)


@cli.group()
def program():
    """Add and list CTE programs, their grade band and the frameworks they teach.

    Example:

    \b
        crosswalk program add district.db "Welding Technology" --cip 48.0508 \\
            --cluster Manufacturing --grades 9-12 --framework "Welding tasks"
        crosswalk program list district.db
    """


@program.command(name="add")
@click.argument("database", type=click.Path(dir_okay=False))
@click.argument("name")
@click.option("--cip", "cip_code", help="CIP 2020 code, such as 48.0508")
@click.option("--cip-title", help="CIP title")
@click.option("--cluster", "career_cluster",
              help="One of the 16 Career Clusters (Perkins IV), such as Manufacturing (any case)")
@click.option("--grades", help="The grade band its coverage counts, such as 9-12 or 11-12  [new program: 9-12]")
@click.option("--school", help="School or CTE centre")
@click.option("--description", help="What the program teaches")
@click.option("--framework", "frameworks", multiple=True,
              help="An industry framework the program teaches (repeatable)")
@fail_cleanly
def program_add(database, name, cip_code, cip_title, career_cluster, grades, school, description, frameworks):
    """Add a CTE program (or update it) and link the frameworks it teaches.

    Its coverage counts the academic standards of its grade band (--grades;
    9-12 for a new program unless given). --cluster is one of the 16 Career
    Clusters, stored as the Perkins IV table spells it ("Manufacturing"
    becomes "Manufacturing Career Cluster").

    Example:

    \b
        crosswalk program add district.db "Welding Technology" --cip 48.0508 \\
            --cluster Manufacturing --grades 9-12 --framework "Welding tasks"
    """
    from .programs import add_program, canonical_cluster, grade_band

    # Check the values before opening (and so creating) the database.
    if career_cluster is not None:
        canonical_cluster(career_cluster)
    if grades is not None:
        grade_band(grades)
    if frameworks and not pathlib.Path(database).exists():
        raise CrosswalkError(f"{database} does not exist yet, so it has no framework {frameworks[0]!r}: "
                             "import the program's frameworks first (crosswalk import)")
    db = open_database(database)
    result = add_program(db, name, cip_code=cip_code, cip_title=cip_title, career_cluster=career_cluster,
                         school=school, description=description, grades=grades, frameworks=list(frameworks))
    for warning in result.warnings:
        click.echo(f"Note: {warning}", err=True)
    click.echo(result.summary())


@program.command(name="list")
@click.argument("database", type=click.Path(dir_okay=False, exists=True))
@click.option("--json", "as_json", is_flag=True, help="Print JSON")
@fail_cleanly
def program_list(database, as_json):
    """List programs: band, status, review progress and what they certify.

    Example:

    \b
        crosswalk program list district.db
        crosswalk program list district.db --json
    """
    from .programs import list_programs
    from .text import NOT_YET_CERTIFIED, plural, program_status_text, signed_off

    rows = list_programs(open_database(database))
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        status = program_status_text(row["status"], row["status_by"], row["status_at"], row["changes_since_status"],
                                     row["flagged_since_status"])
        click.echo(f"{row['name']} ({row['grades']}; CIP {row['cip_code'] or '-'}; {row['career_cluster'] or '-'})")
        click.echo(f"  status: {status}")
        click.echo(f"  review: {row['statements_decided']} of {row['statements']} statements decided; "
                   f"{row['suggested']} suggested, {row['accepted']} accepted, {row['rejected']} rejected, "
                   f"{row['needs_rereview']} to re-review")
        certified = "certified" if signed_off(row["status"]) else NOT_YET_CERTIFIED
        click.echo(f"  {plural(row['standards_certified'], 'standard')} {certified}; "
                   f"teaches {row['frameworks'] or '-'}")
    click.echo(plural(len(rows), "program"))


def _program_status(ctx, param, value):
    """draft, in review or approved; 'in-review' and any case are understood."""
    from .db import program_status

    try:
        return program_status(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@cli.command()
@click.argument("database", type=click.Path(dir_okay=False, exists=True))
@click.option("--program", required=True, help="The program (name or id) whose crosswalk is signed off")
@click.option("--by", "--reviewer", "by", required=True,
              help="Who approves it (or sets its status); recorded with the date")
@click.option("--status", default="approved", show_default=True, callback=_program_status,
              help="approved, 'in review' or draft (to reopen a crosswalk)")
@fail_cleanly
def approve(database, program, by, status):
    """Sign off a program's crosswalk: approved, in review or draft.

    Who and when are stored on the program and logged in review_log.
    Approving while suggestions still await review, or while accepted
    decisions need re-review (a statement changed or was retired), is
    allowed, with a warning giving the counts. `publish --approved-only`
    publishes only approved programs.

    Example:

    \b
        crosswalk approve district.db --program "Welding Technology" --by "M. Levesque"
        crosswalk approve district.db --program "Welding Technology" --by "M. Levesque" --status "in review"
    """
    from .programs import set_status

    result = set_status(open_database(database), program, status, by, via="cli")
    for warning in result.warnings():
        click.echo(f"Warning: {warning}", err=True)
    click.echo(result.summary())


@cli.command()
@click.argument("database", type=click.Path(dir_okay=False, exists=True))
@click.option("--json", "as_json", is_flag=True, help="Print JSON: each framework's id, details and counts")
@fail_cleanly
def frameworks(database, as_json):
    """List the frameworks in a database with their standard counts.

    Example:

    \b
        crosswalk frameworks district.db
        crosswalk frameworks district.db --json
    """
    from .text import plural

    db = open_database(database)
    rows = list(db.query(
        "select f.id, f.name, f.kind, f.publisher, f.version, f.subject, f.imported_at, "
        "count(s.id) filter (where s.status = 'active') as standards, "
        "count(s.id) filter (where s.status = 'retired') as retired "
        "from frameworks f left join standards s on s.framework_id = f.id group by f.id order by f.kind, f.name"
    ))
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    for row in rows:
        click.echo(f"{row['kind']:<9} {row['standards']:>6}  {row['name']}")
    click.echo(plural(len(rows), "framework"))


PORT = click.IntRange(1, 65535)  # what a socket can bind: --port 99999 was uvicorn's OverflowError traceback


def serve_options(func):
    func = click.option("-h", "--host", default="127.0.0.1", show_default=True,
                        help="Host to listen on (0.0.0.0 to allow other machines)")(func)
    func = click.option("-p", "--port", type=PORT, default=8001, show_default=True, help="Port to listen on")(func)
    return func


@cli.command()
@click.argument("database", type=click.Path(exists=True))
@serve_options
@click.option("--metadata", type=click.Path(exists=True, dir_okay=False), help="Use this metadata.yml instead")
@click.option("--workers", type=click.IntRange(1, 64), default=None,
              help="Worker processes  [default: one per core; the review site uses one]")
@click.option("--review", is_flag=True,
              help="Serve the review site: reviewers sign in, then accept, reject and comment")
@click.option("--reviewers", "reviewers_file", type=click.Path(exists=True, dir_okay=False),
              help="With --review: YAML/JSON file of reviewers and password hashes (or CROSSWALK_REVIEWERS_FILE)")
@fail_cleanly
def serve(database, host, port, metadata, workers, review, reviewers_file):
    """Serve a crosswalk database, or a published folder, as a web site.

    The site shows the crosswalk's pages: the programs with their review
    progress and a coverage heat map (programs × subjects), each program's
    coverage of its grade band by subject and domain, its evidence, status
    and what is left to review (the suggestions awaiting review, best
    first, by confidence band; the decisions that need re-review), every
    standard's evidence, the gaps, and search. The raw tables and SQL stay
    at "Tables and SQL" (/DATABASE-NAME).

    DATABASE may be a folder made by `crosswalk publish`: it is then served
    as the public site, immutable, with its own metadata and pages.

    Example:

    \b
        crosswalk serve district.db --port 8001
        crosswalk serve public/ --workers 4
        crosswalk serve district.db --review --reviewers ~/crosswalk-reviewers.yml

    The site runs in --workers processes (default: one per core). With
    --review, reviewers sign in (names and password hashes from --reviewers
    FILE or the environment, never from the repository), then accept,
    reject or accept as partial with a rationale on the program and
    standard pages, sign a program off (draft, in review, approved), and
    work through the review queue at /-/review; it runs in one process.
    """
    from .site import check_port, serve as run_server

    if reviewers_file and not review:
        raise click.UsageError("--reviewers is for the review site: add --review")
    if review:
        if pathlib.Path(database).is_dir():
            raise click.UsageError("--review serves a database file, not a published folder")
        if workers and workers > 1:
            raise click.UsageError("the review site runs in one process: leave out --workers")
    check_port(host, port)
    if review:
        from .review_site import make_review_datasette, serve_review

        open_database(database).close()  # bring the schema up to date first
        make_review_datasette(database, reviewers_file=reviewers_file, metadata=metadata)  # check reviewers first
        click.echo(f"Serving the review site for {database} at http://{host}:{port}/ (Ctrl+C to stop)",
                   err=True)
        serve_review(database, host=host, port=port, reviewers_file=reviewers_file, metadata=metadata)
        return

    if pathlib.Path(database).is_dir():
        from .site import serve_published

        if metadata:
            raise click.UsageError("--metadata cannot be used with a published folder; it has its own metadata.yml")
        click.echo(f"Serving the public crosswalk in {database} at http://{host}:{port}/ (Ctrl+C to stop)", err=True)
        serve_published(database, host=host, port=port, workers=workers)
        return
    open_database(database).close()  # bring the schema up to date first
    click.echo(f"Serving {database} at http://{host}:{port}/ (Ctrl+C to stop)", err=True)
    run_server(database, host=host, port=port, metadata=metadata, workers=workers)


@cli.command()
@click.option("--db", "database", default="crosswalk-demo.db", show_default=True, type=click.Path(dir_okay=False),
              help="The demo database: kept with its decisions if it was built there before")
@click.option("--fresh", is_flag=True, help="Build the demo anew, even if it was built at --db before")
@click.option("--serve/--no-serve", default=True, show_default=True, help="Serve the site when built")
@click.option("--top", type=click.IntRange(1, 50), default=5, show_default=True, help="Suggestions per task and subject")
@click.option("--no-embeddings", is_flag=True, help="Lexical scores only")
@click.option("--reviewer", default="director", show_default=True,
              help="The name to sign in with; its password is made afresh for each run and printed")
@serve_options
@silent_option
@fail_cleanly
def demo(database, fresh, serve, top, no_embeddings, reviewer, host, port, silent):
    """Build the demo crosswalk from the bundled data and serve it.

    Imports the Maine Learning Results (CCSS mathematics and ELA, NGSS
    science, the Guiding Principles), eight CTE programs with the O*NET
    tasks of the occupations they lead to, suggests alignments, and serves
    the working site (see `crosswalk serve`): programs, coverage heat map,
    program, standard, gaps and search pages, and the suggestions awaiting
    review.

    Run again, it serves the demo it built before, with every decision made
    in it since; --fresh builds it anew (--top and --no-embeddings apply to a
    build). It never replaces a database that is not the demo's.

    Anyone who reaches the site may read it; to decide and sign off, sign
    in as the --reviewer name with the password printed on the terminal,
    made for this run only (it is never stored, and stops working when the
    demo stops).

    Example:

    \b
        crosswalk demo
        crosswalk demo --fresh
        crosswalk demo --db /tmp/demo.db --no-serve
    """
    from .demo import open_demo
    from .site import check_port

    def log(text):
        if not silent:
            click.echo(text, err=True)

    if serve:
        check_port(host, port)  # before building: a demo rebuilt for a port in use would serve no one
    summary = open_demo(database, fresh=fresh, top=top, use_embeddings=not no_embeddings, log=log)
    click.echo(summary.summary())
    context = click.get_current_context()
    unused = [f"--{name.replace('_', '-')}" for name in ("top", "no_embeddings")
              if context.get_parameter_source(name) is click.core.ParameterSource.COMMANDLINE]
    if summary.reused and unused:
        click.echo(f"Note: {' and '.join(unused)} {'apply' if len(unused) > 1 else 'applies'} when the demo is "
                   f"built; add --fresh to build it anew with {'them' if len(unused) > 1 else 'it'}", err=True)
    if serve:
        from .review_site import serve_review, session_reviewer

        reviewers, password = session_reviewer(reviewer)
        click.echo(f"Serving {database} at http://{host}:{port}/ (Ctrl+C to stop)", err=True)
        click.echo(f"To decide and sign off, sign in at http://{host}:{port}/-/login as {reviewer!r} with the "
                   f"password {password} (made for this run only)", err=True)
        serve_review(database, host=host, port=port, reviewers=reviewers, open_reading=True)


@cli.command(name="import-case")
@click.argument("database", type=click.Path(dir_okay=False))
@click.argument("file", type=click.Path())
@click.option("--framework", help="Name of the framework (default: the CFDocument's title)")
@click.option("--kind", type=click.Choice(["industry", "academic"]),
              help="industry or academic (default: what a crosswalk export recorded, else academic)")
@click.option("--retire-missing", is_flag=True,
              help="Retire the standards the package leaves out even when they are more than half of a framework")
@click.option("--dry-run", is_flag=True, help="Show what would be imported; write nothing")
@fail_cleanly
def import_case_command(database, file, framework, kind, retire_missing, dry_run):
    """Import standards from a CASE 1.0 JSON package (CFPackage).

    Items become standards (code from humanCodingScheme, grades from
    educationLevel), the hierarchy comes from isChildOf associations and the
    framework's details from the CFDocument. A package exported by crosswalk
    with several frameworks gives them all back. Re-importing updates
    standards in place by code, like `crosswalk import`. Items that share a
    humanCodingScheme are known by their CASE identifiers; a re-import where
    such a code is already one of the framework's standards is refused. A
    circle of isChildOf associations is refused.

    Example:

    \b
        crosswalk import-case district.db maine-math-case.json --kind academic
    """
    from .case import case_frameworks, import_case, read_case

    package = read_case(file)
    # Check every framework in the package before touching the database.
    case_frameworks(package, file=pathlib.Path(file).name, framework=framework, kind=kind)
    db = _import_database(database, dry_run)
    results = import_case(db, file, framework=framework, kind=kind, dry_run=dry_run, package=package,
                          retire_missing=retire_missing)
    for result in results:
        _report_import(result)


@cli.command(name="import-decisions")
@click.argument("database", type=click.Path(dir_okay=False, exists=True))
@click.argument("file", type=click.Path())
@click.option("--sheet", help="Sheet of a workbook (default: the first one shown)")
@click.option("--from", "source_framework", help="Industry framework of the source codes (default: the one "
              "the file names, else any); over the file's names: rows it places in another one are left out")
@click.option("--to", "target_framework", help="Academic framework of the target codes (default: the one "
              "the file names, else any); over the file's names: rows it places in another one are left out")
@click.option("--source-column", help="Column holding the industry (source) code")
@click.option("--target-column", help="Column holding the academic (target) code")
@click.option("--decision-column", help="Column holding the decision")
@click.option("--strength-column", help="Column holding the strength (full / partial)")
@click.option("--rationale-column", help="Column holding the rationale")
@click.option("--reviewer-column", help="Column holding the reviewer")
@click.option("--reviewer", help="Reviewer for rows that name none")
@fail_cleanly
def import_decisions_command(database, file, sheet, source_framework, target_framework, source_column,
                             target_column, decision_column, strength_column, rationale_column,
                             reviewer_column, reviewer):
    """Seed decisions from an earlier crosswalk (source code, target code, decision...).

    Each row becomes an accepted or rejected alignment with its strength,
    rationale and reviewer, and a review_log entry. Decisions such as yes /
    no, full / partial, strong / moderate / weak are understood. A CASE
    JSON package's alignments (exactMatchOf: full, isRelatedTo: partial,
    as `crosswalk export --format case` writes them) are read too, and an
    SSSOM TSV's mappings made by a person (exactMatch: full, closeMatch:
    partial, as `crosswalk export --format sssom` writes them; codes from
    the labels). A pair already decided differently is reported as a
    conflict and left alone (the other rows are applied, and the exit
    status is 3); importing the same file twice changes nothing. A file in
    which no decision is between two known standards is an error.

    --from and --to win over the frameworks the file names (a CSV's
    industry_framework / academic_framework, an SSSOM set's description, a
    CASE export's notes): a name this database lacks gives way to them, a
    note says so; rows the file places in another framework of the
    database are left out, counted.

    Example:

    \b
        crosswalk import-decisions district.db state-crosswalk.xlsx \\
            --from "Welding tasks" --to "MLR Mathematics"
        crosswalk import-decisions district.db crosswalk-case.json
        crosswalk import-decisions district.db crosswalk.sssom.tsv
    """
    from .decisions import apply_decisions, read_decisions

    columns = dict(source=source_column, target=target_column, decision=decision_column,
                   strength=strength_column, rationale=rationale_column, reviewer=reviewer_column)
    # Read and check the whole file before touching the database.
    decisions = read_decisions(file, sheet=sheet, columns=columns)
    db = open_database(database)
    result = apply_decisions(db, decisions, source_framework=source_framework,
                             target_framework=target_framework, reviewer=reviewer)
    for line in result.notes:
        click.echo(f"Note: {line}", err=True)
    for line in result.conflicts:
        click.echo(f"Conflict: {line}", err=True)
    _notes_not_found(result.unknown, "more row", "unknown codes")
    click.echo(result.summary())
    if result.conflicts:
        sys.exit(CONFLICTS_LEFT)


def _counts(ctx, param, value):
    """A comma-separated list of whole numbers, such as 0,10,50."""
    if value is None:
        return None
    try:
        counts = [int(part) for part in value.split(",") if part.strip()]
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a comma-separated list of whole numbers, such as 0,10,50")
    if not counts or min(counts) < 0:
        raise click.BadParameter(f"{value!r}: give at least one number, none below 0")
    return counts


@cli.command(name="eval")
@click.argument("database", type=click.Path(dir_okay=False, exists=True))
@click.option("--gold", required=True, type=click.Path(dir_okay=False, exists=True),
              help="Gold crosswalk: CSV or xlsx with source_code and target_code columns")
@click.option("--from", "source", required=True, help="The framework the gold sources belong to")
@click.option("--to", "target", required=True, help="The framework the gold targets belong to")
@click.option("--folds", type=click.IntRange(0, 50), default=0, show_default=True,
              help="K-fold cross-validation: other folds' gold pairs act as accepted decisions (warm mode)")
@click.option("--decisions", "decisions", callback=_counts,
              help="A committee's learning curve: after it reviewed N statements, for each N of a "
                   "comma-separated list (e.g. 0,10,50)")
@click.option("--held-out", type=click.IntRange(1), help="With --decisions: statements ranked after the "
              "committee's decisions (default: half of the gold's statements, at most 400)")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the folds or of the committee's sample")
@click.option("--top", type=click.IntRange(1, 100), default=10, show_default=True,
              help="Suggestions per source counted in the confidence-band figures")
@click.option("--subject", help="Only target standards of this subject")
@click.option("--grade", help="Only target standards for this grade band")
@click.option("--no-embeddings", is_flag=True, help="Lexical scores only")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object")
@silent_option
@fail_cleanly
def eval_(database, gold, source, target, folds, decisions, held_out, seed, top, subject, grade, no_embeddings,
          as_json, silent):
    """Measure suggestion quality against a gold crosswalk.

    Reports hit@1, hit@5, hit@10 (a correct target among the first k),
    recall@10, MRR, and the precision of each confidence band. With --folds K
    the gold pairs of the other folds act as decisions already made (warm
    mode). With --decisions N,N... a simulated committee reviews N statements
    (sees each one's top 5, accepts the gold ones, rejects the others, adds a
    gold standard where none was shown), then held-out statements are ranked
    with those decisions; "collapse" is the share of their top-1 suggestions
    that go to a standard the committee accepted, beside the share whose gold
    has one; "by score" gives hit@1 and collapse for each statement's
    highest-scored suggestion, which lists sorted by score show first.
    A decisions file as gold (an earlier crosswalk's, the demo's) counts
    its accepted rows of --from and --to only. Never writes to the database.

    Example:

    \b
        crosswalk eval onet.db --gold tasks_to_dwas.csv --from "O*NET tasks" \\
            --to "O*NET DWAs" --folds 5 --json
        crosswalk eval ngss.db --gold ngss_to_ccss.csv --from "NGSS performance expectations" \\
            --to "CCSS math and ELA" --decisions 0,10,25,50
    """
    from .evaluate import evaluate, learning_curve

    if decisions is not None and folds:
        raise click.UsageError("Cannot use both --folds and --decisions")
    if held_out is not None and decisions is None:
        raise click.UsageError("--held-out goes with --decisions")
    db = open_database(database, migrate=False)
    if not db["frameworks"].exists():
        raise CrosswalkError(f"{database} holds no crosswalk yet (no frameworks): import them first")
    if decisions is not None:
        curve = learning_curve(db, gold=gold, source=source, target=target, decisions=decisions,
                               held_out=held_out, top=top, subject=subject, grade=grade,
                               use_embeddings=not no_embeddings, seed=seed)
        _notes_not_found(curve.not_found)
        click.echo(json.dumps(curve.as_dict(), indent=2) if as_json else curve.table())
        return
    report = evaluate(db, gold=gold, source=source, target=target, folds=folds, top=top,
                      subject=subject, grade=grade, use_embeddings=not no_embeddings, seed=seed)
    _notes_not_found(report.not_found)
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2))
    else:
        click.echo(report.table())


@cli.group()
def review():
    """Review suggestions in a workbook: export them, import the decisions.

    Example:

    \b
        crosswalk review export district.db welding-review.xlsx \\
            --program "Welding Technology" --status suggested
        crosswalk review import district.db welding-review.xlsx --reviewer "Welding committee"
    """


@review.command(name="export")
@click.argument("database", type=click.Path(dir_okay=False, exists=True))
@click.argument("out", type=click.Path(dir_okay=False))
@click.option("--program", help="Only the industry frameworks this CTE program teaches")
@click.option("--from", "framework", help="Only alignments from this industry framework")
@click.option("--status", "statuses", multiple=True, type=click.Choice(["suggested", "accepted", "rejected"]),
              help="Only alignments with this status (repeatable; default: all)")
@click.option("--min-chance", "--min-score", "min_score", type=click.FloatRange(0, 100),
              help="Only suggestions whose chance it is right is at least this, in percent (0-100; --min-score: "
                   "its earlier name)")
@click.option("--force", is_flag=True,
              help="Write over OUT: a review workbook holding decisions not yet imported, or a file crosswalk did not write")
@fail_cleanly
def review_export(database, out, program, framework, statuses, min_score, force):
    """Write suggested alignments to a workbook a committee can review.

    A cover sheet tells what is in it and how to fill it in; the
    'Suggestions' sheet has one row per alignment with both statements side
    by side, the chance it is right (the sites' figure, in percent),
    confidence and evidence, and Decision (accept / reject),
    Strength (full / partial), Rationale and Reviewer columns to fill in.

    A review workbook already at OUT that holds decisions not yet imported,
    or one that cannot be read, is not written over (import it first, or
    --force); nor is a file crosswalk did not write (--force), or a
    database (never).

    Example:

    \b
        crosswalk review export district.db welding-review.xlsx \\
            --program "Welding Technology" --status suggested --min-chance 10
    """
    from .workbook import export_workbook

    db = open_database(database)
    result = export_workbook(db, out, program=program, framework=framework, statuses=list(statuses) or None,
                             min_score=min_score, database_name=pathlib.Path(database).name, replace=force)
    click.echo(result.summary())
    for note in result.notes:
        click.echo(f"Note: {note}", err=True)


@review.command(name="import")
@click.argument("database", type=click.Path(dir_okay=False, exists=True))
# Any path: the library refuses a missing file, a folder, a device or a pipe with one Error: line (exit 1).
@click.argument("file", type=click.Path())
@click.option("--reviewer", required=True, help="Who is importing the decisions (recorded when a row names nobody)")
@fail_cleanly
def review_import(database, file, reviewer):
    """Apply the decisions of a review workbook.

    Every value is checked first; a bad one is reported with its row and
    nothing is imported. A row whose alignment changed since the export is
    a conflict: it is reported and not applied (the other rows are, and the
    exit status is 3). Importing the same workbook twice changes nothing the
    second time. Every change is logged.

    Example:

    \b
        crosswalk review import district.db welding-review.xlsx --reviewer "Welding committee"
    """
    from .workbook import import_workbook

    result = import_workbook(open_database(database), file, reviewer=reviewer)
    for conflict in result.conflicts:
        click.echo(f"Conflict: {conflict.describe()}", err=True)
    for note in result.notes:
        click.echo(f"Note: {note}", err=True)
    click.echo(result.summary())
    if result.conflicts:
        sys.exit(CONFLICTS_LEFT)


@review.command(name="password-hash")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="The password (asked for when not given)")
@fail_cleanly
def review_password_hash(password):
    """Print the hash of a reviewer's password, for the reviewers file.

    Example:

    \b
        crosswalk review password-hash
        (then in reviewers.yml, outside the repository:)
        reviewers:
          alice:
            password_hash: pbkdf2_sha256$480000$...
    """
    from .review_site import hash_password

    click.echo(hash_password(password))


@cli.command()
@click.argument("database", type=click.Path(dir_okay=False, exists=True))
@click.argument("alignment_id", type=int)
@click.argument("decision")
@click.option("--strength",
              help="How fully the CTE work covers the standard: full or partial, read as a workbook's Strength "
                   "cell is (accepting without one: the strength DECISION says, else the one it had, else full)")
@click.option("--rationale", help="Why, in a sentence")
@click.option("--reviewer", required=True, help="Who decides")
@fail_cleanly
def decide(database, alignment_id, decision, strength, rationale, reviewer):
    """Accept or reject one alignment.

    DECISION is accept or reject, and also (in any case, as in a review
    workbook or an earlier crosswalk) accepted, rejected, yes, no, or full
    and partial (accepted with that strength, unless --strength says
    otherwise, as a workbook's Strength cell does).

    The change, with the old and new values, is logged; see it with
    'crosswalk history'.

    Example:

    \b
        crosswalk decide district.db 12 accept --strength partial \\
            --rationale "Layout uses metric units only" --reviewer alice
    """
    from .review import decide as run_decide

    # (the word is read by the library, as a workbook's or an earlier crosswalk's: an unknown one is
    # an error naming the words it reads)
    outcome = run_decide(open_database(database), alignment_id, decision, strength=strength,
                         rationale=rationale, reviewer=reviewer, via="cli")
    click.echo(outcome.summary())


@cli.command()
@click.argument("database", type=click.Path(dir_okay=False, exists=True))
@click.argument("alignment_id", type=int)
@click.argument("comment")
@click.option("--reviewer", required=True, help="Who comments")
@fail_cleanly
def comment(database, alignment_id, comment, reviewer):
    """Add a comment to an alignment's history without deciding it.

    Example:

    \b
        crosswalk comment district.db 12 "Ask the math department" --reviewer alice
    """
    from .review import add_comment

    add_comment(open_database(database), alignment_id, comment, reviewer=reviewer, via="cli")
    click.echo(f"Comment added to alignment {alignment_id}")


@cli.command()
@click.argument("database", type=click.Path(dir_okay=False, exists=True))
@click.argument("alignment_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print JSON")
@fail_cleanly
def history(database, alignment_id, as_json):
    """Show an alignment's decision and every change and comment on it.

    Example:

    \b
        crosswalk history district.db 12
    """
    from .review import history as read_history
    from .text import visible

    result = read_history(open_database(database), alignment_id)
    if as_json:
        click.echo(json.dumps(result.as_dict(), indent=2))
        return
    for line in result.lines():
        # (without control characters: a rationale written into the database by hand, or by a review
        # site before its writes were read as `decide` reads them, may hold an escape sequence, which a
        # terminal would run)
        click.echo(visible(line, terminal=True))


@cli.command()
@click.argument("database", type=click.Path(dir_okay=False, exists=True))
@click.argument("outdir", type=click.Path(file_okay=False))
@click.option("--suggestions", type=click.Choice(["omit", "label"]), default="omit", show_default=True,
              help="Leave suggested (unreviewed) alignments out, or keep them labelled 'not reviewed'")
@click.option("--force", is_flag=True, help="Replace an earlier published copy in OUTDIR")
@click.option("--approved-only", is_flag=True,
              help="Publish only approved programs (crosswalk approve), and only their frameworks' alignments")
@click.option("--title", help="Site title (overrides the settings file's)")
@click.option("--description", help="A sentence or two for the home page (overrides the settings file's)")
@click.option("--settings", "settings", type=click.Path(exists=True, dir_okay=False),
              help="YAML file of site settings: title, description, license, license_url, source, source_url")
@click.option("--metadata", type=click.Path(exists=True, dir_okay=False), help="Start from this metadata.yml")
@click.option("--to", "to", type=click.Choice(["cloudrun", "package"]),
              help="Then hand the copy to `datasette publish cloudrun` or `datasette package`")
@click.option("--service", help="Cloud Run service name (--to cloudrun)")
@click.option("--memory", help="Cloud Run memory, e.g. 1Gi (--to cloudrun)")
@click.option("--max-instances", type=int, help="Cloud Run maximum instances (--to cloudrun)")
@click.option("--tag", help="Docker image tag (--to package)")
@click.option("--port", type=PORT, help="Port the packaged image listens on (--to package)")
@click.option("--install", "install", multiple=True, help="Extra package for the image (Datasette stays pinned)")
@click.option("--dry-run", is_flag=True,
              help="With --to: write OUTDIR, then print the datasette command instead of running it")
@fail_cleanly
def publish(database, outdir, suggestions, force, approved_only, title, description, settings, metadata, to, service,
            memory, max_instances, tag, port, install, dry_run):
    """Make the public copy of a crosswalk in OUTDIR, and optionally deploy it.

    OUTDIR gets crosswalk.db (frameworks, standards, programs with their
    band and sign-off status, and accepted alignments only: no review log,
    rejected alignments or reviewer settings), a complete metadata.yml, and
    the public pages (program, standard, gaps, search). With --approved-only,
    only approved programs (see `crosswalk approve`) and the alignments of
    their frameworks. The site's license, source and attribution lines come
    from the frameworks in the database; its title and description from
    --title, --description or a --settings file (title, description,
    license, license_url, source, source_url), which win over the data.
    Serve it with `crosswalk serve OUTDIR`; it is served immutable and
    refuses every write. With --to, Datasette's own publisher deploys it
    with Datasette pinned to 0.65.5.

    Example:

    \b
        crosswalk publish district.db public/
        crosswalk serve public/
        crosswalk publish district.db public/ --force --approved-only --settings site.yml
        crosswalk publish district.db public/ --force --title "Capital Region CTE crosswalk"
        crosswalk publish district.db public/ --force --to cloudrun --service cte-crosswalk
        crosswalk publish district.db public/ --force --to package --tag district/crosswalk --dry-run
    """
    from .deploy import check_deploy_options, format_command, publish_command, run_publish_command
    from .publish import publish as make_public

    cloudrun_only = {"--service": service, "--memory": memory, "--max-instances": max_instances}
    package_only = {"--tag": tag, "--port": port}
    if not to:
        used = [name for name, value in {**cloudrun_only, **package_only}.items() if value]
        if install:
            used.append("--install")
        if dry_run:
            used.append("--dry-run")
        if used:
            raise click.UsageError(f"{', '.join(used)} {'make' if len(used) > 1 else 'makes'} sense only with --to cloudrun or --to package")
    else:  # (checked before the copy is made: a refused deploy writes nothing)
        check_deploy_options(to, service=service, tag=tag, memory=memory, max_instances=max_instances, port=port,
                             extra_install=install)
    result = make_public(database, outdir, suggestions=suggestions, force=force, approved_only=approved_only,
                         title=title, description=description, settings=settings, metadata=metadata)
    click.echo(result.summary())
    if not to:
        click.echo(f"Serve it with: crosswalk serve {shlex.quote(str(outdir))}", err=True)  # a hint: stdout ends with the summary
        return
    command = publish_command(outdir, to, service=service, tag=tag, title=title, memory=memory,
                              max_instances=max_instances, port=port, extra_install=install)
    if dry_run:
        click.echo(format_command(command))
        return
    click.echo(f"Running: {format_command(command)}", err=True)
    run_publish_command(command, cwd=outdir)


@cli.command()
@click.argument("database", type=click.Path(dir_okay=False, exists=True))
@click.argument("out", type=click.Path(dir_okay=False))
@click.option("--program", required=True, help="The program (name or id) whose crosswalk to write")
@click.option("--format", "format_", type=click.Choice(["xlsx", "csv"]),
              help="xlsx or csv (default: from OUT's extension, .xlsx or .csv)")
@click.option("--force", is_flag=True, help="Write over OUT (and a CSV report's companions) though crosswalk did not write it")
@fail_cleanly
def report(database, out, program, format_, force):
    """Write a program's crosswalk document (xlsx or CSV).

    The shape state CTE offices use: the program, its grade band and its
    sign-off (who approved it, when); per academic standard its code and
    text, the aligned CTE codes and tasks, strength (Full / Partial),
    rationale, reviewers and dates; a sign-off block; a Summary sheet with
    the coverage of the program's grade band by subject and by domain, with
    charts; a 'By cluster' sheet (each domain's clusters); a 'Needs re-review'
    sheet (accepted decisions whose statement changed or was retired: not
    counted as certified); an Evidence sheet. A CSV report holds the
    crosswalk rows, with the coverage figures (by subject, domain and
    cluster) in NAME-coverage.csv and the decisions to re-review in
    NAME-rereview.csv beside it. An earlier report at OUT is replaced; any
    other file only with --force, and a database never.

    Example:

    \b
        crosswalk report district.db welding-crosswalk.xlsx --program "Welding Technology"
        crosswalk report district.db welding-crosswalk.csv --program "Welding Technology"
    """
    from .report import write_report

    result = write_report(open_database(database), out, program=program, format=format_, force=force)
    click.echo(result.summary())


@cli.command()
@click.argument("database", type=click.Path(dir_okay=False, exists=True))
@click.argument("out", type=click.Path(dir_okay=False))
@click.option("--format", "format_", type=click.Choice(["case", "sssom", "csv"]),
              help="case: CASE 1.0 CFPackage JSON; sssom: SSSOM TSV; csv: one row per alignment "
                   "(default: from OUT's name, .json, .tsv or .csv)")
@click.option("--program", help="Only the alignments of this program's credentials (sssom, csv)")
@click.option("--framework", "frameworks", multiple=True, help="Frameworks to include (case; repeatable)")
@click.option("--include-suggestions", is_flag=True,
              help="Also export suggested, unreviewed alignments, marked as such (sssom, csv)")
@click.option("--base-url", help="The public site's address, for identifiers that resolve there: SSSOM's "
              "std:N to its standard pages and reviewer: to what each decided (default: http://127.0.0.1:8001/), "
              "CASE's uri fields (default: urn:uuid:) to the pages of their standards")
@click.option("--license", "license_url",
              help="SSSOM: the mapping set's license, as a URL (default: SSSOM's 'unspecified')")
@click.option("--force", is_flag=True, help="Write over OUT though it is not an earlier export of the same format")
@fail_cleanly
def export(database, out, format_, program, frameworks, include_suggestions, base_url, license_url, force):
    """Export the reviewed crosswalk as CASE 1.0 JSON, SSSOM TSV or CSV.

    Only accepted alignments are exported unless --include-suggestions;
    rejected alignments never are. In SSSOM, full alignments are
    skos:exactMatch and partial ones skos:closeMatch; in CASE, full is
    exactMatchOf and partial isRelatedTo. An earlier export of the same
    format at OUT is replaced; any other file only with --force, and a
    database never.

    Example:

    \b
        crosswalk export district.db crosswalk.sssom.tsv --base-url https://crosswalk.example.org/
        crosswalk export district.db crosswalk.json --format case
        crosswalk export district.db welding.csv --program "Welding Technology"
    """
    from .exports import export as write_export

    result = write_export(open_database(database), out, format_, program=program, frameworks=list(frameworks),
                          include_suggestions=include_suggestions, base_url=base_url, license_url=license_url,
                          force=force)
    click.echo(result.summary())


if __name__ == "__main__":
    cli()
