"""Exports of the reviewed crosswalk: SSSOM TSV, CSV, and CASE 1.0 JSON (through :mod:`crosswalk.case`).

Only accepted alignments are exported unless ``include_suggestions=True``;
rejected alignments never are. Text that a spreadsheet would read as a
formula is neutralised in the SSSOM TSV and the CSV (:mod:`crosswalk.cells`).

Example::

    from crosswalk.db import open_db
    from crosswalk.exports import export
    result = export(open_db("crosswalk.db"), "crosswalk.sssom.tsv", "sssom")
    print(result.summary())
"""

from __future__ import annotations

import csv
import dataclasses
import datetime
import json
import pathlib
import re
import urllib.parse

import yaml

from .case import export_case, framework_uuid
from .cells import neutralise
from .db import framework_id, program_id, program_name
from .errors import CrosswalkError
from .outputs import check_output, csv_header_starts, replacing, text_has
from .text import plural

FORMATS = ("case", "sssom", "csv")
FORMAT_OF_ENDING = {".json": "case", ".tsv": "sssom", ".csv": "csv"}  # a file's ending -> its export format

# Where the identifiers of the published site live when no --base-url is given.
DEFAULT_BASE_URL = "http://127.0.0.1:8001/"

SSSOM_COLUMNS = [
    "subject_id", "subject_label", "predicate_id", "object_id", "object_label",
    "mapping_justification", "confidence", "author_id", "author_label", "mapping_date",
    "subject_source", "object_source", "comment",
]
# A CTE task (subject) certifies an academic standard (object): full is an exact
# match, partial a close one; a suggestion is only a related candidate.
SSSOM_PREDICATES = {"full": "skos:exactMatch", "partial": "skos:closeMatch", None: "skos:relatedMatch"}

CSV_COLUMNS = [
    "programs", "industry_framework", "cte_code", "cte_statement", "academic_framework",
    "standard_code", "standard", "subject", "grade", "status", "strength", "rationale",
    "reviewer", "reviewed_at", "score", "alignment_id",
]


@dataclasses.dataclass
class ExportResult:
    path: str
    format: str
    alignments: int
    detail: str = ""

    def summary(self) -> str:
        extra = f" ({self.detail})" if self.detail else ""
        return f"Exported {plural(self.alignments, 'alignment')} as {self.format.upper()} to {self.path}{extra}"


def _selection(db, program, statuses=()) -> tuple[list[str], list]:
    where = [f"status in ({', '.join('?' for _ in statuses)})"] if statuses else []
    params: list = list(statuses)
    if program is not None:
        where.append("industry_framework_id in (select framework_id from program_frameworks where program_id = ?)")
        params.append(program_id(db, program))
    return where, params


def _with_an_end_in(db, frameworks: list, industry_column: str) -> tuple[str, list]:
    """The condition (on ``industry_column`` and the target standard ``t``) and its parameters for the
    alignments a CASE export of ``frameworks`` (names) holds: an end in one."""
    ids = [framework_id(db, name) for name in frameworks]
    marks = ", ".join("?" for _ in ids)
    return f"{industry_column} in ({marks}) or t.framework_id in ({marks})", ids + ids


def to_rereview(db, *, program=None, frameworks=None) -> int:
    """The accepted alignments an export leaves out because they are to be reviewed again (the
    ``rereview_alignments`` view): of a program's frameworks, or (``frameworks``, names: a CASE
    export's selection) those with an end in them."""
    if frameworks is not None:
        ends, params = _with_an_end_in(db, frameworks, "r.industry_framework_id")
        return db.execute(f"select count(*) from rereview_alignments r join standards t on t.id = r.standard_id "
                          f"where {ends}", params).fetchone()[0]
    where, params = _selection(db, program)
    return db.execute("select count(*) from rereview_alignments" + "".join(f" where {w}" for w in where),
                      params).fetchone()[0]


def alignment_rows(db, *, program=None, include_suggestions: bool = False) -> list[dict]:
    """Accepted (and optionally suggested) alignments with both statements, oldest id first: the
    current ones (the ``current_alignments`` view: none to re-review, no retired statement), as
    program list, the report and the sites count them; a suggestion of a retired standard is no
    suggestion."""
    statuses = ("accepted", "suggested") if include_suggestions else ("accepted",)
    where, params = _selection(db, program, statuses)
    sql = f"""
        select id as alignment_id, status, strength, rationale, reviewer, reviewed_at, score, method, created_at,
               source_id as cte_id, cte_code, cte_statement, industry_framework, industry_framework_id,
               target_id as standard_id, standard_code, standard, academic_framework, subject, grade,
               (select framework_id from standards where id = target_id) as academic_framework_id,
               (select group_concat(p.name, '; ') from program_frameworks pf
                    join programs p on p.id = pf.program_id where pf.framework_id = industry_framework_id) as programs
        from current_alignments
        where {' and '.join(where)}
        order by id
    """
    return list(db.query(sql, params))


SSSOM_TITLE = "CTE industry standards certifying academic standards (crosswalk)"
ABSOLUTE_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[^\s]+\Z")


def _case_by_crosswalk(path) -> bool:
    """Whether the file at ``path`` is a CASE package crosswalk exported: its document is crosswalk's
    (several frameworks), or a single framework's under the identifier crosswalk gives it."""
    try:
        document = json.loads(pathlib.Path(path).read_text(encoding="utf-8-sig")).get("CFDocument") or {}
    except (OSError, ValueError, AttributeError):
        return False
    return document.get("creator") == "crosswalk" or (
        isinstance(document.get("title"), str) and document.get("identifier") == framework_uuid(document["title"]))


def _mapping_date(value) -> str | None:
    return str(value)[:10] if value else None


# SSSOM's own value for a mapping set whose license nobody stated (the spec requires one): the
# mappings are the district's, and their labels quote standards under their publishers' terms.
UNSPECIFIED_LICENSE = "https://w3id.org/sssom/license/unspecified"


def write_sssom(db, path, *, program=None, include_suggestions=False, base_url=DEFAULT_BASE_URL,
                license_url=None) -> ExportResult:
    """An SSSOM TSV: a YAML metadata header (``#`` lines), then one mapping per row.
    ``license_url``: the mapping set's license (default: SSSOM's "unspecified").

    Identifiers are CURIEs under ``std:`` that resolve to the standard's page on
    the published site (``<base_url>standard/<id>``).
    """
    base = base_url.rstrip("/") + "/"
    rows = alignment_rows(db, program=program, include_suggestions=include_suggestions)
    today = datetime.date.today().isoformat()
    # The frameworks the mappings come from and go to, named in the description (sources are CURIEs).
    frameworks = {f"framework:{row[f'{side}_framework_id']}": _one_line(row[f"{side}_framework"])
                  for row in rows for side in ("industry", "academic")}
    header = {
        "curie_map": {
            "std": f"{base}standard/",
            # A framework as the published site's row of it (SSSOM wants a URI or CURIE for a source).
            "framework": f"{base}crosswalk/frameworks/",
            "reviewer": f"{base}reviewer/",
            "skos": "http://www.w3.org/2004/02/skos/core#",
            "semapv": "https://w3id.org/semapv/vocab/",
        },
        # One id per selection (SSSOM: "a globally unique identifier for the mapping set"): every export
        # named the same set, a program's two mappings and the whole crosswalk's 12,855 alike.
        "mapping_set_id": f"{base}crosswalk" + (f"-{url_slug(program_name(db, program))}" if program is not None else "")
                          + ("-with-suggestions" if include_suggestions else "") + ".sssom.tsv",
        "mapping_set_title": SSSOM_TITLE,
        "mapping_set_description": (
            "Accepted alignments were reviewed by people (full = skos:exactMatch, partial = skos:closeMatch)."
            + (" Suggested alignments (semapv:LexicalMatching) were not reviewed." if include_suggestions else "")
            + "".join(f" {curie}: {name}." for curie, name in
                      sorted(frameworks.items(), key=lambda item: int(item[0].partition(":")[2])))
        ),
        "license": license_url or UNSPECIFIED_LICENSE,
        "mapping_date": today,
    }
    with replacing(path) as part, open(part, "w", encoding="utf-8", newline="") as fh:
        for line in yaml.safe_dump(header, sort_keys=False, allow_unicode=True).splitlines():
            fh.write(f"# {line}\n")
        writer = csv.DictWriter(fh, SSSOM_COLUMNS, delimiter="\t", lineterminator="\n", extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            accepted = row["status"] == "accepted"
            reviewer = row["reviewer"] or ""
            writer.writerow({key: neutralise(value) for key, value in {
                "subject_id": f"std:{row['cte_id']}",
                "subject_label": _one_line(f"{row['cte_code']}: {row['cte_statement']}"),
                "predicate_id": SSSOM_PREDICATES[row["strength"] if accepted else None],
                "object_id": f"std:{row['standard_id']}",
                "object_label": _one_line(f"{row['standard_code']}: {row['standard']}"),
                "mapping_justification": "semapv:ManualMappingCuration" if accepted else "semapv:LexicalMatching",
                "confidence": "1.0" if accepted else f"{(row['score'] or 0) / 100:.3f}",
                "author_id": f"reviewer:{url_slug(reviewer)}" if accepted and reviewer else "",
                "author_label": _one_line(reviewer) if accepted else "",
                "mapping_date": _mapping_date(row["reviewed_at"] if accepted else row["created_at"]) or today,
                "subject_source": f"framework:{row['industry_framework_id']}",
                "object_source": f"framework:{row['academic_framework_id']}",
                "comment": _one_line(
                    ((f"{row['strength']}: {row['rationale']}" if row["rationale"] else row["strength"] or "")
                     if accepted else "suggested by crosswalk's matcher; not reviewed")),
            }.items()})  # a label a spreadsheet would run as a formula stays text (crosswalk.cells)
    return ExportResult(str(path), "sssom", len(rows), _left_out(db, program))


def write_csv(db, path, *, program=None, include_suggestions=False) -> ExportResult:
    """Every exported alignment as one CSV row (UTF-8 with BOM so Excel reads it)."""
    rows = alignment_rows(db, program=program, include_suggestions=include_suggestions)
    with replacing(path) as part, open(part, "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.DictWriter(fh, CSV_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: neutralise(row.get(k)) for k in CSV_COLUMNS})
    return ExportResult(str(path), "csv", len(rows), _left_out(db, program))


def _rejected(db, program, frameworks=None) -> int:
    """The rejected decisions of the same selection as :func:`to_rereview`'s (an export holds none)."""
    if frameworks is not None:
        ends, params = _with_an_end_in(db, frameworks, "a.industry_framework_id")
        return db.execute(f"select count(*) from alignment_details a join standards t on t.id = a.target_id "
                          f"where a.status = 'rejected' and ({ends})", params).fetchone()[0]
    where, params = _selection(db, program, ("rejected",))
    return db.execute("select count(*) from alignment_details where " + " and ".join(where), params).fetchone()[0]


def _left_out(db, program, frameworks=None) -> str:
    """What the summary says an export left out: decisions to re-review, and the rejections."""
    n = to_rereview(db, program=program, frameworks=frameworks)
    r = _rejected(db, program, frameworks)
    parts = ([f"{plural(n, 'accepted alignment')} to re-review left out: {'it certifies' if n == 1 else 'they certify'} "
              "nothing until decided again"] if n else []) + (
        [f"{plural(r, 'rejected alignment')} not exported: an export holds what was accepted"] if r else [])
    return "; ".join(parts)


def write_case(db, path, *, frameworks=None, include_suggestions=False, base_url=None) -> ExportResult:
    """A CASE 1.0 CFPackage made by :func:`crosswalk.case.export_case`."""
    if include_suggestions:
        raise CrosswalkError("a CASE export holds reviewed alignments only; leave out --include-suggestions")
    kwargs = {"base_uri": base_url} if base_url else {}
    package = export_case(db, frameworks=frameworks or None, include_alignments=True, **kwargs)
    with replacing(path) as part:
        part.write_text(json.dumps(package, indent=2, ensure_ascii=False), encoding="utf-8")
    associations = [a for a in package.get("CFAssociations", []) if a.get("associationType") != "isChildOf"]
    left_out = _left_out(db, None, list(frameworks) if frameworks else None)  # (none: every framework's)
    return ExportResult(str(path), "case", len(associations),
                        f"{plural(len(package.get('CFItems', [])), 'item')}, "
                        f"{plural(len(package.get('CFAssociations', [])), 'association')}"
                        + (f"; {left_out}" if left_out else ""))


def export(db, path, format: str | None = None, *, program=None, frameworks=None, include_suggestions=False,
           base_url=None, license_url=None, force: bool = False) -> ExportResult:
    """Write the crosswalk to ``path`` as ``case``, ``sssom`` or ``csv``. An existing file there is
    replaced only where it is an earlier export of the same format, or with ``force``; the database
    never (:func:`crosswalk.outputs.check_output`). Without ``format``, the file's ending says it
    (.json, .tsv, .csv)."""
    if format is None:
        format = FORMAT_OF_ENDING.get(pathlib.Path(path).suffix.lower())
        if format is None:
            raise CrosswalkError(f"cannot tell the format from {str(path)!r}; name it .json (CASE), .tsv (SSSOM) "
                                 "or .csv, or use --format")
    fmt = format.lower()
    if fmt not in FORMATS:
        raise CrosswalkError(f"unknown export format {format!r}; use one of: {', '.join(FORMATS)}")
    ours = {"case": _case_by_crosswalk, "csv": csv_header_starts(CSV_COLUMNS),
            "sssom": text_has(re.escape(f"mapping_set_title: {SSSOM_TITLE}"))}[fmt]
    check_output(path, database=db, what=f"{'an' if fmt == 'sssom' else 'a'} {fmt.upper()} export", ours=ours,
                 force=force)
    if fmt == "case" and program is not None:
        raise CrosswalkError("a CASE export is chosen by --framework, not --program")
    if frameworks and fmt != "case":
        raise CrosswalkError("--framework applies to --format case only; use --program to narrow SSSOM or CSV")
    if license_url and fmt != "sssom":
        raise CrosswalkError("--license applies to --format sssom only (the mapping set's license)")
    if base_url and fmt == "csv":
        raise CrosswalkError("--base-url applies to --format sssom and case only (their identifiers); "
                             "a CSV export names standards by their codes")
    # SSSOM's license and mapping_set_id are URIs (sssom-py refuses 'CC BY 4.0', as a site.yml writes it).
    if license_url and not ABSOLUTE_URI.match(license_url):
        raise CrosswalkError(f"--license is the license's address (a URL such as "
                             f"https://creativecommons.org/licenses/by/4.0/), not {license_url!r}")
    if base_url and not re.match(r"https?://[^/\s]+", base_url):
        raise CrosswalkError(f"--base-url is the published site's address (https://...), not {base_url!r}")
    if fmt == "case":
        return write_case(db, path, frameworks=frameworks, include_suggestions=include_suggestions,
                          base_url=base_url)
    if fmt == "sssom":
        return write_sssom(db, path, program=program, include_suggestions=include_suggestions,
                           base_url=base_url or DEFAULT_BASE_URL, license_url=license_url)
    return write_csv(db, path, program=program, include_suggestions=include_suggestions)


def read_sssom(path) -> tuple[dict, list[dict]]:
    """The YAML header and rows of an SSSOM TSV (to check an export)."""
    header_lines, body = [], []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("#") and not body:
                header_lines.append(line[1:].removeprefix(" "))
            else:
                body.append(line)
    header = yaml.safe_load("".join(header_lines)) or {}
    rows = list(csv.DictReader(body, delimiter="\t"))
    return header, rows


def _one_line(text) -> str:
    return " ".join(str(text or "").split())


def url_slug(text: str) -> str:
    """A name as the last part of an SSSOM identifier: ``reviewer:M._Levesque`` (the public copy's
    /reviewer/ page finds the name again by it)."""
    return urllib.parse.quote(text.strip().replace(" ", "_"), safe="_.-")
