"""The crosswalk command line: a thin face over the library.

Every command takes the database path first, like sqlite-utils.
"""

from __future__ import annotations

import contextlib
import functools
import json
import pathlib
import sys

import click

from . import __version__
from .errors import CrosswalkError


def fail_cleanly(func):
    """Turn library errors into one clear message and exit status 1."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except CrosswalkError as exc:
            raise click.ClickException(str(exc)) from None

    return wrapper


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


def open_database(path):
    from .db import open_db

    return open_db(path)


@click.group(context_settings={"help_option_names": ["--help"]})
@click.version_option(__version__, prog_name="crosswalk")
def cli():
    """Align industry credential standards with academic standards.

    Import frameworks from spreadsheets, let crosswalk suggest alignments,
    review them, and publish the crosswalk as a Datasette site.

    Example:

    \b
        crosswalk demo
        crosswalk import district.db welding.xlsx --framework "Welding tasks"
        crosswalk match district.db --from "Welding tasks" --to "CCSS Math"
        crosswalk serve district.db
    """


@cli.command(name="import")
@click.argument("database", type=click.Path(dir_okay=False))
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--framework", required=True, help="Name of the framework (created, or updated in place)")
@click.option("--kind", type=click.Choice(["industry", "academic"]), default="industry", show_default=True,
              help="industry: what a CTE program teaches; academic: state standards")
@click.option("--sheet", help="Sheet of an .xlsx workbook (default: the first)")
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
@click.option("--dry-run", is_flag=True, help="Show the column mapping and first rows; write nothing")
@silent_option
@fail_cleanly
def import_(database, file, framework, kind, sheet, code_column, text_column, grade_column, subject_column,
            parent_column, domain_column, subject, publisher, version_, license_, attribution, source_url,
            dry_run, silent):
    """Import standards from a spreadsheet (.xlsx) or CSV file.

    The header row is found even below title rows; the code, statement,
    grade, subject and parent columns are found by their usual names, or
    named with the --*-column options. An import is all or nothing.
    Re-importing an edited file updates standards in place by code, retires
    removed ones and flags reviewed alignments whose statement changed.

    Example:

    \b
        crosswalk import district.db welding.xlsx --framework "Welding tasks" \\
            --sheet Tasks --code-column "Task ID" --text-column Task
    """
    from .db import open_db, memory_db
    from .importer import import_file

    columns = dict(code=code_column, statement=text_column, grade=grade_column, subject=subject_column,
                   parent=parent_column, domain=domain_column)
    if dry_run:
        db = open_db(database, migrate=False) if pathlib.Path(database).exists() else memory_db()
        if not db["frameworks"].exists():
            db = memory_db()
    else:
        # Read and check the file before touching the database.
        from .sources import map_columns, read_table
        from .importer import extract_rows

        table = read_table(file, sheet=sheet)
        extract_rows(table, map_columns(table, **columns))
        db = open_db(database)
    with progress_bar(silent or dry_run, 0, "Importing") as update:
        result = import_file(
            db, file, framework=framework, kind=kind, sheet=sheet, publisher=publisher, version=version_,
            subject=subject, license=license_, attribution=attribution, source_url=source_url,
            columns=columns, dry_run=dry_run, progress=update,
        )
    if dry_run:
        click.echo("Columns found:")
        for field, label in result.mapping.items():
            click.echo(f"  {field:<10} {label}")
        click.echo("First rows:")
        for row in result.preview:
            click.echo(f"  row {row['source_row']}: {row['code']}  {row['statement'][:90]}")
    for warning in result.warnings:
        click.echo(f"Note: {warning}", err=True)
    click.echo(result.summary())


@cli.command()
@click.argument("database", type=click.Path(dir_okay=False, exists=True))
@click.option("--from", "source", required=True, help="The industry framework to find alignments for")
@click.option("--to", "target", required=True, help="The academic framework to align to")
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
    rejected pair is never suggested again.

    Example:

    \b
        crosswalk match district.db --from "Welding tasks" \\
            --to "Maine Learning Results: Mathematics (CCSS)" --grade 9-12 --top 5
    """
    from .matching import framework_id, match as run_match

    db = open_database(database)
    count = db.execute(
        "select count(*) from standards where framework_id = ? and status = 'active'",
        [framework_id(db, source)],
    ).fetchone()[0]
    with progress_bar(silent, count, "Matching") as update:
        result = run_match(
            db, source=source, target=target, top=top, subject=subject, grade=grade,
            use_embeddings=not no_embeddings, progress=update,
        )
    click.echo(result.summary())


@cli.group()
def program():
    """Add and list CTE programs and the frameworks they teach.

    Example:

    \b
        crosswalk program add district.db "Welding Technology" --cip 48.0508 \\
            --cluster Manufacturing --framework "Welding tasks"
        crosswalk program list district.db
    """


@program.command(name="add")
@click.argument("database", type=click.Path(dir_okay=False))
@click.argument("name")
@click.option("--cip", "cip_code", help="CIP 2020 code, such as 48.0508")
@click.option("--cip-title", help="CIP title")
@click.option("--cluster", "career_cluster", help="Career Cluster")
@click.option("--school", help="School or CTE centre")
@click.option("--description", help="What the program teaches")
@click.option("--framework", "frameworks", multiple=True,
              help="An industry framework the program teaches (repeatable)")
@fail_cleanly
def program_add(database, name, cip_code, cip_title, career_cluster, school, description, frameworks):
    """Add a CTE program (or update it) and link the frameworks it teaches.

    Example:

    \b
        crosswalk program add district.db "Welding Technology" --cip 48.0508 \\
            --cluster "Manufacturing" --framework "Welding tasks"
    """
    from .programs import add_program

    db = open_database(database)
    result = add_program(db, name, cip_code=cip_code, cip_title=cip_title, career_cluster=career_cluster,
                         school=school, description=description, frameworks=list(frameworks))
    click.echo(result.summary())


@program.command(name="list")
@click.argument("database", type=click.Path(dir_okay=False, exists=True))
@click.option("--json", "as_json", is_flag=True, help="Print JSON")
@fail_cleanly
def program_list(database, as_json):
    """List programs, their frameworks and how many standards they certify.

    Example:

    \b
        crosswalk program list district.db
    """
    from .programs import list_programs

    rows = list_programs(open_database(database))
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        click.echo(f"{row['name']} (CIP {row['cip_code'] or '-'}, {row['career_cluster'] or '-'}): "
                   f"{row['standards_certified']} standards certified; teaches {row['frameworks'] or '-'}")
    click.echo(f"{len(rows)} programs")


@cli.command()
@click.argument("database", type=click.Path(dir_okay=False, exists=True))
@fail_cleanly
def frameworks(database):
    """List the frameworks in a database with their standard counts.

    Example:

    \b
        crosswalk frameworks district.db
    """
    db = open_database(database)
    rows = list(db.query(
        "select f.name, f.kind, count(s.id) as standards from frameworks f "
        "left join standards s on s.framework_id = f.id and s.status = 'active' group by f.id order by f.kind, f.name"
    ))
    for row in rows:
        click.echo(f"{row['kind']:<9} {row['standards']:>6}  {row['name']}")
    click.echo(f"{len(rows)} frameworks")


def serve_options(func):
    func = click.option("-h", "--host", default="127.0.0.1", show_default=True,
                        help="Host to listen on (0.0.0.0 to allow other machines)")(func)
    func = click.option("-p", "--port", type=int, default=8001, show_default=True, help="Port to listen on")(func)
    return func


@cli.command()
@click.argument("database", type=click.Path(dir_okay=False, exists=True))
@serve_options
@click.option("--metadata", type=click.Path(exists=True, dir_okay=False), help="Use this metadata.yml instead")
@fail_cleanly
def serve(database, host, port, metadata):
    """Serve a crosswalk database as a Datasette site.

    Example:

    \b
        crosswalk serve district.db --port 8001
    """
    from .site import serve as run_server

    open_database(database).close()  # bring the schema up to date first
    click.echo(f"Serving {database} at http://{host}:{port}/ (Ctrl+C to stop)", err=True)
    run_server(database, host=host, port=port, metadata=metadata)


@cli.command()
@click.option("--db", "database", default="crosswalk-demo.db", show_default=True, type=click.Path(dir_okay=False),
              help="Where to build the demo database")
@click.option("--serve/--no-serve", default=True, show_default=True, help="Serve the site when built")
@click.option("--top", type=click.IntRange(1, 50), default=5, show_default=True, help="Suggestions per task and subject")
@click.option("--no-embeddings", is_flag=True, help="Lexical scores only")
@serve_options
@silent_option
@fail_cleanly
def demo(database, serve, top, no_embeddings, host, port, silent):
    """Build the demo crosswalk from the bundled data and serve it.

    Imports the Maine Learning Results (CCSS mathematics and ELA, NGSS
    science), eight CTE programs with the O*NET tasks of the occupations
    they lead to, suggests alignments, and serves the result.

    Example:

    \b
        crosswalk demo
        crosswalk demo --db /tmp/demo.db --no-serve
    """
    from .demo import build_demo
    from .site import serve as run_server

    path = pathlib.Path(database)
    if path.exists():
        for suffix in ("", "-wal", "-shm"):
            pathlib.Path(str(path) + suffix).unlink(missing_ok=True)

    def log(text):
        if not silent:
            click.echo(text, err=True)

    summary = build_demo(path, top=top, use_embeddings=not no_embeddings, log=log)
    click.echo(summary.summary())
    if serve:
        click.echo(f"Serving {path} at http://{host}:{port}/ (Ctrl+C to stop)", err=True)
        run_server(path, host=host, port=port)


# --- import and CASE commands (import-case, import-decisions) go below this line ---


# --- matching quality commands (eval) go below this line ---


@cli.command(name="eval")
@click.argument("database", type=click.Path(dir_okay=False, exists=True))
@click.option("--gold", required=True, type=click.Path(dir_okay=False, exists=True),
              help="Gold crosswalk: CSV or xlsx with source_code and target_code columns")
@click.option("--from", "source", required=True, help="The framework the gold sources belong to")
@click.option("--to", "target", required=True, help="The framework the gold targets belong to")
@click.option("--folds", type=click.IntRange(0, 50), default=0, show_default=True,
              help="K-fold cross-validation: other folds' gold pairs act as accepted decisions (warm mode)")
@click.option("--top", type=click.IntRange(1, 100), default=10, show_default=True,
              help="Suggestions per source counted in the confidence-band figures")
@click.option("--subject", help="Only target standards of this subject")
@click.option("--grade", help="Only target standards for this grade band")
@click.option("--no-embeddings", is_flag=True, help="Lexical scores only")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object")
@silent_option
@fail_cleanly
def eval_(database, gold, source, target, folds, top, subject, grade, no_embeddings, as_json, silent):
    """Measure suggestion quality against a gold crosswalk.

    Reports hit@1, hit@5, hit@10 (a correct target among the first k),
    recall@10, MRR, and the precision of each confidence band. With --folds K
    the gold pairs of the other folds act as decisions already made (warm
    mode). Never writes to the database.

    Example:

    \b
        crosswalk eval onet.db --gold tasks_to_dwas.csv --from "O*NET tasks" \\
            --to "O*NET DWAs" --folds 5 --json
    """
    from .db import open_db
    from .evaluate import evaluate

    db = open_db(database, migrate=False)
    with progress_bar(silent, 0, "Evaluating") as update:
        report = evaluate(db, gold=gold, source=source, target=target, folds=folds, top=top,
                          subject=subject, grade=grade, use_embeddings=not no_embeddings)
    if as_json:
        data = report.as_dict()
        click.echo(json.dumps(data, indent=2))
    else:
        click.echo(report.table())


# --- review commands (review export/import, decide, history, serve --review) go below this line ---


# --- publishing commands (publish, report, export) go below this line ---


if __name__ == "__main__":
    cli()
