"""Seeding a crosswalk with decisions already made elsewhere.

A state or district often has an earlier crosswalk: a spreadsheet with the
industry (source) code, the academic (target) code, a decision, a strength,
a rationale and a reviewer (or a CASE JSON package's alignments, or an SSSOM
TSV's mappings, as crosswalk exports them). :func:`read_decisions` reads and
checks such a file without touching a database; :func:`apply_decisions` records each row
as a decision (an accepted or rejected alignment) through the same rule as
every other decision (logged by the review-log trigger), reports rows that disagree with a decision
already in the database as conflicts (and leaves those alone), and does
nothing the second time it is given the same file.

Example::

    from crosswalk.decisions import read_decisions, apply_decisions
    decisions = read_decisions("maine-welding-crosswalk.xlsx")
    result = apply_decisions(db, decisions, source_framework="Welding tasks")
    print(result.summary())
"""

from __future__ import annotations

import csv
import dataclasses
import datetime
import io
import json
import pathlib
import re

import yaml
from rapidfuzz import fuzz

from .cells import restored
from .db import STRENGTHS, framework_id, framework_name, now, stored_time, write_transaction
from .errors import CrosswalkError, NotFound, SourceError
from .outputs import head
from .review import (DECISIONS, clean_text, normalise_strength, plan_decision, read_decision, record_decision,
                     says_undecided, too_long)
from .sources import (PAIR_COLUMNS, Table, cell_text, check_input_file, code_number, find_column, normalise_header,
                      read_table)
from .text import plural

COLUMNS = {
    **PAIR_COLUMNS,
    "decision": ["decision", "status", "aligned", "alignment", "content alignment", "recommendation",
                 "review", "outcome"],
    "strength": ["strength", "level of coverage", "coverage", "alignment strength", "degree"],
    "rationale": ["rationale", "reason", "justification", "comment", "comments", "notes",
                  "mapping justification"],
    "reviewer": ["reviewer", "reviewed by", "author", "author id", "decided by", "approved by"],
    "reviewed_at": ["reviewed at", "date reviewed", "review date", "decided at"],
    "source_framework": ["source framework", "industry framework", "credential"],
    "target_framework": ["target framework", "academic framework"],
}

@dataclasses.dataclass
class Decision:
    source_code: str
    target_code: str
    status: str
    strength: str | None
    rationale: str | None
    reviewer: str | None
    row: int
    source_framework: str | None = None
    target_framework: str | None = None
    reviewed_at: str | None = None  # when it was decided, where the file says (else: when it is imported)


@dataclasses.dataclass
class Decisions:
    """The checked rows of a decisions file."""

    file: str
    sheet: str | None
    decisions: list[Decision]
    mapping: dict[str, str]
    undecided: int = 0  # rows whose decision cell says nobody decided ("suggested"), left out
    unit: str = "row"  # what a decision's number counts: a row, or a CASE package's association
    repeated: int = 0  # rows that decide a pair an earlier row decides the same way: read once


def read_decisions(path, *, sheet: str | None = None, columns: dict[str, str | None] | None = None) -> Decisions:
    """Read and check an earlier crosswalk (xlsx, xls, ods, CSV, CASE JSON or SSSOM TSV); touches no database.

    Columns are found by their usual names (``Source code``, ``Target code``,
    ``Decision``, ``Strength``, ``Rationale``, ``Reviewer``) or named in
    ``columns``. A row with a strength and no decision is accepted. A CASE JSON
    package is read for its alignments, an SSSOM TSV for its mappings, each by its
    own fields: ``sheet`` or ``columns`` given with one is an error (they were ignored).

    Example::

        decisions = read_decisions("earlier.csv", columns={"source": "CTE code"})
    """
    kind = "case" if _is_json(path) else "sssom" if _is_sssom(path) else None
    if kind:
        given = (["--sheet"] if sheet is not None else []) + [
            f"--{field}-column" for field, name in (columns or {}).items() if name]
        if given:
            named = " and ".join([", ".join(given[:-1]), given[-1]] if len(given) > 1 else given)
            what, short = {"case": ("a CASE JSON package", "a CASE package"),
                           "sssom": ("an SSSOM mapping set", "an SSSOM file (its columns are SSSOM's own)")}[kind]
            raise SourceError(f"is {what}, read for its alignments: {named} "
                              f"appl{'ies' if len(given) == 1 else 'y'} to spreadsheets and CSV files, not to "
                              f"{short}", file=pathlib.Path(path).name, hint=f"leave out {named}")
        return _case_decisions(path) if kind == "case" else _sssom_decisions(path)
    names = {syn for synonyms in COLUMNS.values() for syn in synonyms}
    names.update(normalise_header(v) for v in (columns or {}).values() if v)
    table = read_table(path, sheet=sheet, header_names=names)
    index = _map(table, columns or {})
    out: list[Decision] = []
    seen: dict[tuple, Decision] = {}
    undecided = repeated = 0

    csv_file = table.file_format == "csv"

    def get(values, field, *, as_typed=False):
        i = index.get(field)
        # (a rationale as typed, its spacing and empty lines kept, as the review pages store it:
        # collapsed, crosswalk's own CSV export read back differed from the decisions it wrote)
        read = (lambda value: clean_text(value) or "") if as_typed else cell_text
        if i is None or i >= len(values):
            return ""
        # (a CSV crosswalk wrote: its formula guard off, before the spacing is tidied, which would hide it)
        return read(restored(values[i]) if csv_file else values[i])

    for number, values in table.rows:
        source, target = get(values, "source"), get(values, "target")
        if not source and not target:
            continue
        for field, value in (("source", source), ("target", target)):
            if not value:
                raise table.error(f"the {field} code is empty (expected the code of a standard)",
                                  row=number, column=index[field])
        decision_text = get(values, "decision")
        strength_text = get(values, "strength")
        if decision_text and says_undecided(decision_text):  # (a crosswalk export's suggestions)
            undecided += 1
            continue
        status, strength = None, None
        if decision_text:
            try:
                word, strength = read_decision(decision_text)
            except CrosswalkError as exc:
                raise table.error(str(exc), row=number, column=index["decision"]) from None
            status = DECISIONS[word]
        if strength_text:
            try:
                strength = normalise_strength(strength_text)
            except CrosswalkError as exc:
                raise table.error(str(exc), row=number, column=index["strength"]) from None
            status = status or "accepted"
        if status is None:
            raise table.error("the row has no decision and no strength (expected accepted/rejected or "
                              "full/partial)", row=number, column=index.get("decision", index.get("strength")))
        # An acceptance without a strength keeps the pair's own, else is full: review.DECIDE says so.
        if status == "rejected":
            strength = None
        try:
            reviewed_at = decision_time(get(values, "reviewed_at"))
        except CrosswalkError as exc:
            raise table.error(str(exc), row=number, column=index["reviewed_at"]) from None
        rationale = clean_text(get(values, "rationale", as_typed=True))
        if problem := too_long(rationale, "rationale"):
            raise table.error(problem, row=number, column=index["rationale"])
        decision = Decision(
            source_code=source, target_code=target, status=status, strength=strength,
            rationale=rationale, reviewer=clean_text(get(values, "reviewer")), row=number,
            source_framework=get(values, "source_framework") or None,
            target_framework=get(values, "target_framework") or None, reviewed_at=reviewed_at,
        )
        # The same codes twice (written otherwise, such as b.3 for B.3, they are found twice when
        # applied: apply_decisions checks the pairs the codes name).
        key = (decision.source_framework, source, decision.target_framework, target)
        if key in seen:
            other = seen[key]
            if _disagree(other, decision):
                raise table.error(_twice(other, decision, "row"), row=number, column=index["source"])
            other.strength = other.strength or strength  # (a 'Yes' row and a 'Partial' row: partial)
            repeated += 1
            continue
        seen[key] = decision
        out.append(decision)
    if not out:
        raise table.error("has a header but no decisions below it", row=table.header_row)
    mapping = {field: table.column_label(i) for field, i in index.items()}
    return Decisions(file=table.file, sheet=table.sheet, decisions=out, mapping=mapping, undecided=undecided,
                     repeated=repeated)


def _disagree(first: Decision, then: Decision) -> bool:
    """Whether two decisions on one pair say different things (a 'Yes' and a 'Partial' agree: partial)."""
    return (first.status, first.rationale) != (then.status, then.rationale) or bool(
        first.strength and then.strength and first.strength != then.strength)


def _twice(first: Decision, then: Decision, unit: str) -> str:
    """The error for a pair decided twice, differently: the later row's codes, and the earlier row."""
    written = "" if (first.source_code, first.target_code) == (then.source_code, then.target_code) \
        else f" (as {first.source_code} → {first.target_code})"
    return (f"the pair {then.source_code} → {then.target_code} is also {'on' if unit == 'row' else 'in'} {unit} "
            f"{first.row}{written} with a different decision")


def decision_time(value) -> str | None:
    """When a file says a decision was made, in the format crosswalk stores (None: it says nothing);
    a value that is no ISO date, or a time to come, is an error."""
    text = str(value or "").strip()
    if not text:
        return None
    when = stored_time(text)
    if when is None:
        raise CrosswalkError(f"{text!r} is not a date written as 2025-01-15 or 2025-01-15T09:30:00+00:00 "
                             "(in a spreadsheet, format the column as yyyy-mm-dd and save it again)")
    tomorrow = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)
    if datetime.datetime.fromisoformat(when) > tomorrow:
        raise CrosswalkError(f"{text!r} is a time to come")
    return when


def _is_json(path) -> bool:
    """A JSON file (a CASE package), by its name, else (no suffix a table has) by its first character."""
    path = pathlib.Path(path)
    if path.suffix.lower() == ".json":
        return True
    if path.suffix.lower() in (".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".xls", ".ods"):
        return False
    try:
        with open(path, "rb") as fh:
            return fh.read(64).decode("utf-8-sig", "replace").lstrip()[:1] == "{"
    except OSError:
        return False


def _case_decisions(path) -> Decisions:
    """The alignments of a CASE package (CFAssociations exactMatchOf: accepted, full; isRelatedTo:
    accepted, partial) as decisions between the codes their two ends name, with the rationale and
    reviewer a crosswalk export notes in them. ``crosswalk export --format case`` is read back so.
    The codes are those of the package's CFItems the ends name (humanCodingScheme), else the ends'
    titles (crosswalk's export writes the code there; other tools a statement), else their
    identifiers (so that an end outside the package is a code not found, as in a spreadsheet)."""
    from .case import STRENGTH_TYPES, read_case

    package = read_case(path)
    name = pathlib.Path(path).name
    kinds = {association: strength for strength, association in STRENGTH_TYPES.items()}
    codes = {item.get("identifier"): item.get("humanCodingScheme")
             for item in package.get("CFItems") or [] if isinstance(item, dict)}
    out = []
    for number, association in enumerate(package.get("CFAssociations") or [], start=1):
        kind = association.get("associationType") if isinstance(association, dict) else None
        if kind not in kinds:
            # (an item's place in its framework, or a package's own kind of link: no alignment; a type
            # CASE does not have is a file to mend, not an alignment to leave out without a word)
            if isinstance(kind, str) and kind not in CASE_ASSOCIATION_TYPES and not kind.startswith("ext:"):
                raise SourceError(f"association {number}: the associationType {kind!r} is not one of CASE's "
                                  "(an alignment is exactMatchOf, full, or isRelatedTo, partial)", file=name)
            continue
        ends = []
        for key in ("originNodeURI", "destinationNodeURI"):
            end = association.get(key)
            if not isinstance(end, dict) or not any(end.get(k) for k in ("identifier", "title", "uri")):
                raise SourceError(f"association {number}: its {key} names no item (a LinkURI object with an "
                                  "identifier is expected)", file=name)
            ends.append(clean_text(codes.get(end.get("identifier")) or end.get("title") or end.get("identifier")
                                   or end.get("uri")))
        notes = _case_notes(association.get("notes"), number, name)
        strength = notes.get("strength") or kinds[kind]
        if strength not in STRENGTHS:
            raise SourceError(f"association {number}: the strength {strength!r} in its notes is not full or "
                              "partial", file=name)
        if strength != kinds[kind]:
            raise SourceError(f"association {number}: its associationType {kind} says {kinds[kind]}, its notes "
                              f"say {strength}", file=name)
        try:
            reviewed_at = decision_time(notes.get("reviewed_at"))
        except CrosswalkError as exc:
            raise SourceError(f"association {number}: reviewed_at {exc}", file=name) from None
        out.append(Decision(
            source_code=ends[0], target_code=ends[1], status="accepted", strength=strength,
            rationale=clean_text(notes.get("rationale")), reviewer=clean_text(notes.get("reviewer")), row=number,
            source_framework=clean_text(notes.get("source_framework")),
            target_framework=clean_text(notes.get("target_framework")), reviewed_at=reviewed_at))
    if not out:
        raise SourceError("holds no alignment (no exactMatchOf or isRelatedTo association); its standards are "
                          "imported with crosswalk import-case", file=name)
    return Decisions(file=name, sheet=None, decisions=out, mapping={"alignments": "CFAssociations"},
                     unit="association")


# The association types of CASE 1.0 and 1.1 (CFAssociation.associationType); a package's own are
# written "ext:...".
CASE_ASSOCIATION_TYPES = ("isChildOf", "isPeerOf", "isPartOf", "exactMatchOf", "precedes", "isRelatedTo",
                          "replacedBy", "exemplar", "hasSkillLevel", "isTranslationOf")


# What crosswalk's export notes in an alignment (a JSON object).
CASE_NOTES = ("strength", "rationale", "reviewer", "reviewed_at", "source_framework", "target_framework")


def _case_notes(text, number: int, name: str) -> dict:
    """What an alignment's ``notes`` say: crosswalk's export writes a JSON object (strength, rationale,
    reviewer, date, frameworks); another tool's words are its rationale. crosswalk's notes that cannot
    be read are an error (cut short, their rationale and reviewer were left out without a word)."""
    text = text if isinstance(text, str) else ""
    try:
        notes = json.loads(text) if text.lstrip().startswith("{") else None
    except ValueError as exc:
        if any(f'"{key}"' in text for key in CASE_NOTES):
            raise SourceError(f"association {number}: its notes cannot be read as JSON ({exc})", file=name) from None
        notes = None  # ("{Draft} aligned by the committee": words)
    if isinstance(notes, dict):
        return notes
    return {"rationale": text} if text.strip() else {}


# The columns of an SSSOM TSV that make it one (the four a mapping cannot be without).
SSSOM_REQUIRED = ("subject_id", "predicate_id", "object_id", "mapping_justification")
# A mapping decided by a person; any other justification (semapv:LexicalMatching: a matcher's
# suggestion, as `export --include-suggestions` writes them) decides nothing.
SSSOM_DECIDED = ("ManualMappingCuration", "MappingReview")
# A justification within this similarity (rapidfuzz's ratio, 0-100) of one of those, but not it, is
# a typo to mend: semapv:ManualMapingCuration, read as a matcher's, left a person's decision out.
# (Any other, semapv:LexicalMatching or one of SEMAPV's other matching processes, is a matcher's.)
SSSOM_TYPO = 85
# A person's mapping of a CTE statement (subject) to an academic standard (object): exactMatch is a
# full alignment, as `export --format sssom` writes one; a close, related, broader or narrower one partial.
SSSOM_STRENGTHS = {"exactMatch": "full", "closeMatch": "partial", "relatedMatch": "partial",
                   "broadMatch": "partial", "narrowMatch": "partial"}
_SSSOM_HEAD = 1024 * 1024  # the header line is looked for in the file's first megabyte


def _is_sssom(path) -> bool:
    """An SSSOM TSV: a text file whose first line after its ``#`` metadata has SSSOM's columns (or its
    subject, predicate and object below a ``curie_map``: an SSSOM TSV missing its justification)."""
    path = pathlib.Path(path)
    if path.suffix.lower() in (".xlsx", ".xlsm", ".xls", ".ods") or not path.is_file():
        return False
    lines = head(path, _SSSOM_HEAD).splitlines()
    line = next((line for line in lines if line.strip() and not line.startswith("#")), "")
    columns = {cell.strip().lower() for cell in line.split("\t")}
    # (subject_id, predicate_id and object_id alone may be a table of decisions with those headers)
    return set(SSSOM_REQUIRED) <= columns or (
        set(SSSOM_REQUIRED[:3]) <= columns and any(line.startswith("#") and "curie_map" in line for line in lines))


def _local(curie: str) -> str:
    """A CURIE's or URI's local name: 'skos:exactMatch' and '.../core#exactMatch' are 'exactMatch'."""
    return curie.rsplit("#", 1)[-1].rsplit("/", 1)[-1].rsplit(":", 1)[-1]


def _sssom_frameworks(header: list[str], file: str) -> dict[str, str]:
    """The frameworks an SSSOM set's description names ("framework:3: Welding Technology tasks."):
    CURIE -> name; none where the header is not crosswalk's. A header of crosswalk's (it names its
    frameworks) that is not YAML is an error: its frameworks lost, a task in two of them was read as
    one pair decided twice. Another tool's comments that are not YAML are read for nothing."""
    try:
        meta = yaml.safe_load("".join(line[2:] if line.startswith("# ") else line[1:]
                                      for line in header if line.startswith("#"))) or {}
    except yaml.YAMLError as exc:
        if not any("mapping_set_description" in line or "framework:" in line for line in header):
            return {}  # (another tool's comments: no frameworks of crosswalk's to read)
        mark = getattr(exc, "problem_mark", None)
        raise SourceError(f"its metadata (the lines starting with #) cannot be read as YAML: "
                          f"{getattr(exc, 'problem', None) or exc}", file=file,
                          row=mark.line + 1 if mark is not None else None) from None
    description = str(meta.get("mapping_set_description") or "") if isinstance(meta, dict) else ""
    return dict(re.findall(r"(framework:\d+): (.*?)\.(?= framework:\d+: |$)", description))


def _sssom_decisions(path) -> Decisions:
    """The mappings a person made in an SSSOM TSV (mapping_justification semapv:ManualMappingCuration,
    as ``crosswalk export --format sssom`` writes accepted alignments) as accepted decisions:
    skos:exactMatch full, closeMatch (or related, broad, narrow) partial; ``predicate_modifier`` Not:
    rejected. A matcher's mapping (semapv:LexicalMatching, an export's suggestions) decides nothing
    and is left out. The reviewer is ``author_label`` (else ``author_id``), the rationale the
    ``comment`` (without the strength crosswalk writes before it), the date ``mapping_date``.

    The codes are taken from the labels, where crosswalk writes "W.1: Measure and calculate..."
    (the text before the first ": "): its ``std:N`` identifiers are row ids of the database that
    exported them, which name other standards (or none) in another database. A label without a code
    leaves the identifier as the code (a code not found, as in a spreadsheet). The frameworks are
    named by the set's description, where crosswalk writes "framework:3: Welding Technology tasks."
    for each ``subject_source`` and ``object_source`` (a row id too, so read by the name): a task two
    programs share is two mappings, one in each framework, as a CASE package's notes name them."""
    path = check_input_file(path, "an SSSOM TSV")
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[:exc.start].count(b"\n") + 1
        raise SourceError("is not UTF-8, as an SSSOM TSV is", file=path.name, row=line) from None
    lines = text.splitlines(keepends=True)
    header_at = next(i for i, line in enumerate(lines) if line.strip() and not line.startswith("#"))
    frameworks = _sssom_frameworks(lines[:header_at], path.name)
    reader = csv.reader(io.StringIO("".join(lines[header_at:]), newline=""), delimiter="\t")
    rows = []
    try:
        headers = [cell.strip() for cell in next(reader)]
        for values in reader:
            rows.append((header_at + reader.line_num, values))
    except csv.Error as exc:  # a cell over the csv module's limit: no label or comment is that long
        raise SourceError(f"could not be read as a TSV: {exc}", file=path.name,
                          row=header_at + reader.line_num) from None
    table = Table(path=path, sheet=None, header_row=header_at + 1, headers=headers, rows=rows, file_format="csv")
    index = {name.lower(): i for i, name in reversed(list(enumerate(headers)))}
    if missing := [name for name in SSSOM_REQUIRED if name not in index]:
        raise SourceError(f"is an SSSOM TSV without its {', '.join(missing)} column (each mapping says why it "
                          "was made: semapv:ManualMappingCuration for a person's decision)", file=path.name,
                          row=header_at + 1)
    out: list[Decision] = []
    seen: dict[tuple, Decision] = {}
    undecided = repeated = 0

    def get(values, name):
        i = index.get(name)
        return cell_text(restored(values[i])) if i is not None and i < len(values) else ""

    def code(values, side, number):
        label, identifier = get(values, f"{side}_label"), get(values, f"{side}_id")
        found = label.split(": ", 1)[0].strip() if ": " in label else ""
        if not (found or identifier):
            raise table.error(f"the {side}_id is empty, and the {side}_label {label!r} has no code before a ': '",
                              row=number, column=index[f"{side}_id"])
        return found or identifier

    for number, values in rows:
        if not any(cell_text(v) for v in values):
            continue
        justification = get(values, "mapping_justification")
        if not justification:
            raise table.error("the mapping_justification is empty (expected semapv:ManualMappingCuration for "
                              "a person's decision)", row=number, column=index["mapping_justification"])
        source, target = code(values, "subject", number), code(values, "object", number)
        by = _local(justification).lower()
        if by not in {name.lower() for name in SSSOM_DECIDED}:
            if near := next((name for name in SSSOM_DECIDED if fuzz.ratio(by, name.lower()) >= SSSOM_TYPO), None):
                raise table.error(f"the mapping_justification {justification!r} is not a SEMAPV justification: "
                                  f"semapv:{near}, a person's decision, misspelt?", row=number,
                                  column=index["mapping_justification"])
            undecided += 1
            continue
        predicate = get(values, "predicate_id")
        strength = SSSOM_STRENGTHS.get(_local(predicate))
        if strength is None:
            raise table.error(f"the predicate {predicate!r} is not read (expected skos:exactMatch, a full "
                              "alignment, or skos:closeMatch, a partial one)", row=number,
                              column=index["predicate_id"])
        status = "accepted"
        modifier = get(values, "predicate_modifier")
        if modifier.strip().lower() == "not":
            status, strength = "rejected", None
        elif modifier.strip():  # (SSSOM has one modifier: a mistyped "Not" read as nothing accepted a rejection)
            raise table.error(f"the predicate_modifier {modifier!r} is not SSSOM's Not (a rejected mapping) "
                              "nor empty (an accepted one)", row=number, column=index["predicate_modifier"])
        rationale = clean_text(get(values, "comment"))
        if rationale and strength and (rationale == strength or rationale.startswith(f"{strength}: ")):
            rationale = clean_text(rationale[len(strength) + 1:])  # (crosswalk writes "partial: why")
        if problem := too_long(rationale, "comment"):
            raise table.error(problem, row=number, column=index["comment"])
        try:
            reviewed_at = decision_time(get(values, "mapping_date"))
        except CrosswalkError as exc:
            raise table.error(str(exc), row=number, column=index["mapping_date"]) from None
        decision = Decision(
            source_code=source, target_code=target, status=status, strength=strength, rationale=rationale,
            reviewer=clean_text(get(values, "author_label") or get(values, "author_id")), row=number,
            source_framework=frameworks.get(get(values, "subject_source")),
            target_framework=frameworks.get(get(values, "object_source")), reviewed_at=reviewed_at)
        key = (decision.source_framework, source, decision.target_framework, target)
        if key in seen:
            other = seen[key]
            if _disagree(other, decision):
                raise table.error(_twice(other, decision, "row"), row=number,
                                  column=index.get("subject_label", index["subject_id"]))
            repeated += 1
            continue
        seen[key] = decision
        out.append(decision)
    if not out:
        raise table.error("holds no mapping a person made (mapping_justification semapv:ManualMappingCuration)"
                          + (f"; {plural(undecided, 'mapping')} below it "
                             + ("is a matcher's suggestion" if undecided == 1 else "are a matcher's suggestions")
                             if undecided else ""), row=table.header_row)
    label = {name: table.column_label(i) for name, i in index.items()}
    mapping = {"source": label.get("subject_label", label["subject_id"]),
               "target": label.get("object_label", label["object_id"]),
               "decision": label["mapping_justification"], "strength": label["predicate_id"]}
    return Decisions(file=table.file, sheet=None, decisions=out, mapping=mapping, undecided=undecided,
                     repeated=repeated)


NAMED_COLUMNS = ("source", "target", "decision", "strength", "rationale", "reviewer")  # (--<field>-column)


def _map(table: Table, named: dict) -> dict[str, int]:
    index: dict[str, int] = {}
    for field, name in named.items():
        if name:
            index[field] = find_column(table, name, field + " column")
    normalised = [normalise_header(h) for h in table.headers]
    # (as written: headers tells a repeated name apart, "Decision (2)")
    written = [normalise_header(h) for h in (table.header_texts or table.headers)]
    for field, synonyms in COLUMNS.items():
        if field in index:
            continue
        for synonym in synonyms:
            hits = [i for i, h in enumerate(normalised) if h == synonym and i not in index.values()]
            if hits:
                twins = [i for i, h in enumerate(written) if h == written[hits[0]]]
                if len(twins) > 1:  # (an audit: two Decision columns, the first read and the other left unsaid)
                    raise table.error(
                        f"two columns are headed {table.headers[hits[0]]!r}: "
                        + " and ".join(table.column_label(i) for i in twins[:2])
                        + "; keep one" + (f", or name the one to read with --{field}-column" if field in NAMED_COLUMNS
                                          else ""), row=table.header_row)
                index[field] = hits[0]
                break
    for field in ("source", "target"):
        if field not in index:
            raise table.error(
                f"has no {field} code column (expected a header such as "
                f"{COLUMNS[field][0].title()!r}); its columns are: "
                + ", ".join(repr(h) for h in table.headers if h),
                row=table.header_row, hint=f"name it with --{field}-column")
    if "decision" not in index and "strength" not in index:
        raise table.error(
            "has no decision or strength column (expected a header such as 'Decision' or 'Strength'); "
            "its columns are: " + ", ".join(repr(h) for h in table.headers if h),
            row=table.header_row)
    return index


@dataclasses.dataclass
class DecisionsResult:
    file: str
    applied: int = 0
    created: int = 0
    unchanged: int = 0
    conflicts: list[str] = dataclasses.field(default_factory=list)
    unknown: list[str] = dataclasses.field(default_factory=list)
    undecided: int = 0  # rows that say nobody decided (a crosswalk export's suggestions), left out
    repeated: int = 0  # rows deciding a pair as an earlier row does (codes written alike or not): read once
    left_out: int = 0  # rows the file places in another framework of the database than --from or --to
    notes: list[str] = dataclasses.field(default_factory=list)  # the file's framework names, and the options
    unit: str = "row"

    def summary(self) -> str:
        return (
            f"Applied {plural(self.applied, 'decision')} from {self.file} "
            f"({plural(self.created, 'new alignment')}); {self.unchanged} already recorded, "
            f"{plural(len(self.conflicts), 'conflict')} left as {'it was' if len(self.conflicts) == 1 else 'they were'}, "
            f"{plural(len(self.unknown), self.unit)} with codes not in the database"
            + (f"; {plural(self.undecided, 'suggestion')} without a decision left out" if self.undecided else "")
            + (f"; {plural(self.repeated, self.unit)} deciding a pair as an earlier one does, read once"
               if self.repeated else "")
            + (f"; {plural(self.left_out, self.unit)} of "
               f"{'another framework' if self.left_out == 1 else 'other frameworks'} left out" if self.left_out else "")
        )


def _with_code(db, code: str, framework: str | None, kind: str, default_framework_id: int | None, status: str):
    """The standards a decision's code may name, as lists of (id, framework name) rows: first the code
    as written, then the codes that differ from it in case only ('hsn-q.a.1' for HSN-Q.A.1, as a
    spreadsheet or a person may have written it; looked up only where the first finds none, since
    NOCASE cannot use the (framework_id, code) index), then, for a code of digits, the codes that are
    the same number (007 for a 7: a spreadsheet drops a code's zeros when it opens the CSV it is
    saved from; sources.code_number). In the framework the row names (none if that name is unknown),
    else ``default_framework_id``, else every framework of ``kind``; of ``status``. Yields (exact, rows)."""
    if framework:  # named on the row: an unknown name leaves the row's codes unknown
        try:
            default_framework_id = framework_id(db, framework)
        except NotFound:
            return
    number = code_number(code)
    passes = [(True, "code = ?", [code], False), (False, "code = ? collate nocase", [code], False)]
    if number is not None:
        # (cast reads '7A' as 7 and long digit strings inexactly: the codes it finds are checked exactly)
        passes.append((False, "cast(code as real) between ? and ?", [float(number) * (1 - 1e-9) - 1e-12,
                                                                     float(number) * (1 + 1e-9) + 1e-12], True))
    where = "framework_id = ?" if default_framework_id is not None else \
        "framework_id in (select id from frameworks where kind = ?)"
    scope = [default_framework_id if default_framework_id is not None else kind]
    name = "(select name from frameworks f where f.id = standards.framework_id)"
    for exact, same, values, by_number in passes:
        if by_number and db.execute(
                f"select 1 from standards where {where} and code = ? collate nocase", [*scope, code]).fetchone():
            return  # the code as written is a standard (retired, or of another status): no number is guessed
        # Framework ids first, so that SQLite searches the (framework_id, code) index: written as a join, it
        # scanned every standard for each row: 1,000 decisions between the O*NET gold's tasks and DWAs spent
        # 8.9 of 10.0 s here (under cProfile); 5,000 took 46.8 s, now 2.9 s.
        rows = db.execute(f"select id, {name}, code from standards where {where} and {same} and status = ?",
                          [*scope, *values, status]).fetchall()
        if by_number:
            rows = [row for row in rows if code_number(row[2]) == number]
        yield exact, [(standard_id, framework) for standard_id, framework, _ in rows]


def _resolve(db, code: str, framework: str | None, kind: str, default_framework_id: int | None):
    """The id of the one active standard a decision's code names (:func:`_with_code`), None if none or
    several that differ from it in case only; a code as written in several frameworks is an error."""
    for exact, rows in _with_code(db, code, framework, kind, default_framework_id, "active"):
        if len(rows) > 1 and exact and (default_framework_id is None and not framework):
            raise CrosswalkError(
                f"code {code!r} is in several {kind} frameworks; name the framework with "
                f"{'--from' if kind == 'industry' else '--to'}")
        if len(rows) == 1:
            return rows[0][0]
        if rows:  # several codes that differ from it in case only: none is meant more than another
            return None
    return None


def apply_decisions(db, decisions: Decisions, *, source_framework: str | None = None,
                    target_framework: str | None = None, reviewer: str | None = None) -> DecisionsResult:
    """Record decisions as alignments, in one transaction, each logged by the review-log trigger.

    Source codes are looked up in industry frameworks (or ``source_framework``),
    target codes in academic ones (or ``target_framework``). A pair already
    decided differently is a conflict: reported, never overwritten. Each
    decision is applied by :mod:`crosswalk.review`'s rule, as any other is. A file in
    which no row names a known standard, or that decides one pair twice differently
    (however its codes are written: ``B.3`` and ``b.3``), is an error (nothing is applied).

    Example::

        result = apply_decisions(db, read_decisions("earlier.xlsx"), reviewer="State CTE office")
    """
    source_fid = framework_id(db, source_framework) if source_framework else None
    target_fid = framework_id(db, target_framework) if target_framework else None
    result = DecisionsResult(file=decisions.file, undecided=decisions.undecided, unit=decisions.unit,
                             repeated=decisions.repeated)
    options = {"industry": (source_fid, "--from"), "academic": (target_fid, "--to")}
    # The frameworks a row's names place it in, where --from or --to is given: they win (the user's
    # word over the file's). A name this database does not have (a new year's frameworks named
    # otherwise) gives way to the option; a row the file places in another framework of the database
    # is left out, counted (it overrode the option: --to "MLR Mathematics" imported the ELA rows too,
    # and a file naming 'Welding' was refused in a database of 'Welding 2025' given as --from).
    here: dict[str, int | None] = {}  # a name the file gives -> its framework's id here, None: none
    replaced: dict[tuple[str, str], int] = {}  # (kind, the file's name) -> rows read in the option's framework
    outside: dict[tuple[str, str], int] = {}  # (kind, the file's name) -> rows left out

    def placed(named: str | None, kind: str) -> str | None:
        """None: the row's code is looked up as usual; 'replaced': in the option's framework, not the
        file's; 'outside': the file's framework is another one of the database, the row left out."""
        fid = options[kind][0]
        if not named or fid is None:
            return None
        if named not in here:
            try:
                here[named] = framework_id(db, named)
            except NotFound:
                here[named] = None
        return None if here[named] == fid else "replaced" if here[named] is None else "outside"

    stamp = now()
    with write_transaction(db):
        # Every row's pair of standards first: two rows whose codes are written differently (B.3 and
        # b.3) may name one pair, which the file then decides twice; differently, that is an error
        # before anything is written (applied in turn, the second was a conflict with the first).
        pairs: dict[tuple[int, int], Decision] = {}
        for d in decisions.decisions:
            ends = [("industry", d.source_framework, placed(d.source_framework, "industry")),
                    ("academic", d.target_framework, placed(d.target_framework, "academic"))]
            away = next(((kind, named) for kind, named, state in ends if state == "outside"), None)
            if away:
                outside[away] = outside.get(away, 0) + 1
                result.left_out += 1
                continue
            for kind, named, state in ends:
                if state == "replaced":
                    replaced[(kind, named)] = replaced.get((kind, named), 0) + 1
            # Where an option is given, its framework is the one searched.
            d = dataclasses.replace(d, source_framework=None if source_fid else d.source_framework,
                                    target_framework=None if target_fid else d.target_framework)
            try:
                source_id = _resolve(db, d.source_code, d.source_framework, "industry", source_fid)
                target_id = _resolve(db, d.target_code, d.target_framework, "academic", target_fid)
            except SourceError:
                raise
            except CrosswalkError as exc:  # a code in several frameworks: where it is in the file
                raise _error(decisions, d, str(exc)) from None
            if source_id is None or target_id is None:
                where = f"{decisions.unit} {d.row} ({d.source_code} → {d.target_code})"
                missing = source_id is None
                result.unknown.append(f"{where}: " + _not_found(db, d, missing, decisions.unit,
                                                                source_fid if missing else target_fid))
                continue
            other = pairs.get((source_id, target_id))
            if other is None:
                pairs[(source_id, target_id)] = d  # (a copy: merged below, not the caller's)
            elif _disagree(other, d):
                raise _error(decisions, d, _twice(other, d, decisions.unit), column="source")
            else:
                other.strength = other.strength or d.strength  # (a 'Yes' row and a 'Partial' row: partial)
                result.repeated += 1
        for (source_id, target_id), d in pairs.items():
            where = f"{decisions.unit} {d.row} ({d.source_code} → {d.target_code})"
            existing = _alignment(db, source_id, target_id)
            if existing is None:
                # A new pair is first a suggestion of this file, then decided like any other (with no
                # score: the matcher never scored it).
                db["alignments"].insert(dict(
                    source_id=source_id, target_id=target_id, score=None, method="import-decisions",
                    evidence=f"decision imported from {decisions.file}, row {d.row}", created_at=stamp,
                    updated_at=stamp,
                ))
                existing = _alignment(db, source_id, target_id)
                result.created += 1
            if d.rationale and existing["rationale"] and d.rationale.split() == existing["rationale"].split():
                # (the same words spaced otherwise: an SSSOM export writes a rationale on one line)
                d.rationale = existing["rationale"]
            outcome = plan_decision(db, existing, "accept" if d.status == "accepted" else "reject",
                                    strength=d.strength, rationale=d.rationale)
            if existing["status"] == "suggested":
                record_decision(db, outcome, reviewer=d.reviewer or reviewer, via="import-decisions",
                                at=d.reviewed_at or stamp)
                result.applied += 1
            elif outcome.new == outcome.old:
                result.unchanged += 1
            else:
                said, has = (_describe(d.status, d.strength), _describe(existing["status"], existing["strength"]))
                if said == has:  # the decision is the same: the rationale differs
                    said += f', "{d.rationale}"' if d.rationale else ", no rationale"
                    has += f', "{existing["rationale"]}"' if existing["rationale"] else ", no rationale"
                result.conflicts.append(f"{where}: the file says {said}, the database has {has}"
                                        + (f" by {existing['reviewer']}" if existing["reviewer"] else ""))
        for (kind, named), n in replaced.items():
            fid, flag = options[kind]
            result.notes.append(f"{plural(n, decisions.unit)} name{'s' if n == 1 else ''} the {kind} framework "
                                f"{named!r}, which is not in this database: {'its' if n == 1 else 'their'} codes "
                                f"are looked up in {framework_name(db, fid)} ({flag})")
        for (kind, named), n in outside.items():
            fid, flag = options[kind]
            result.notes.append(f"{plural(n, decisions.unit)} name{'s' if n == 1 else ''} the {kind} framework "
                                f"{named!r}, not {framework_name(db, fid)} ({flag}): left out")
        if len(result.unknown) + result.left_out == len(decisions.decisions):
            # Nothing applied and nothing to apply: a wrong file or database, not a success.
            given = [f"{framework_name(db, fid)} ({flag})" for fid, flag in options.values() if fid]
            rows = plural(len(decisions.decisions), decisions.unit)
            if not result.unknown:  # every row in another framework than the options'
                raise CrosswalkError(f"none of the decisions in {decisions.file} ({rows}) is in "
                                     f"{' and '.join(given)}, so nothing was applied ({result.notes[-1]})")
            wanted = [flag for fid, flag in options.values() if not fid]
            raise CrosswalkError(
                f"none of the decisions in {decisions.file} ({rows}) is between two standards in the database, "
                f"so nothing was applied ({result.unknown[0]}); "
                + (f"are they the codes of {' and '.join(given)}?" if not wanted else "import the frameworks first, "
                   + ("or name them with --from and --to" if len(wanted) == 2 else
                      f"or name the {'industry' if wanted == ['--from'] else 'academic'} framework with {wanted[0]}")))
    return result


def _error(decisions: Decisions, d: Decision, message: str, column: str | None = None) -> SourceError:
    """An error about one decision, where it is in the file (a row and its column, or a CASE association)."""
    if decisions.unit != "row":
        return SourceError(f"{decisions.unit} {d.row}: {message}", file=decisions.file)
    return SourceError(message, file=decisions.file, sheet=decisions.sheet, row=d.row,
                       column=decisions.mapping.get(column) if column else None)


def _not_found(db, d: Decision, source_missing: bool, unit: str = "row",
               default_framework_id: int | None = None) -> str:
    """Why a decision's code names no standard on its side: a re-import retired it, none has it, or
    the code is a standard of the other kind (the two codes the other way round, as a CASE
    association from academic to CTE runs; or a relation between two standards of one kind), the
    framework the file names is not in the database, or the code is in another framework than the
    one searched."""
    code = d.source_code if source_missing else d.target_code
    kind = "industry" if source_missing else "academic"
    framework = d.source_framework if source_missing else d.target_framework
    if framework:
        try:
            default_framework_id = framework_id(db, framework)
        except NotFound:  # (no --from or --to given: the file's name is the one searched)
            return f"the file's {kind} framework {framework!r} is not in this database"
    retired = _retired(db, code, None, kind, default_framework_id)
    if retired:
        return f"{code!r} was retired by a re-import of {' and '.join(retired)}; its {unit} is not applied"

    def kinds(text):
        return {r[0] for r in db.execute(
            "select distinct f.kind from standards s join frameworks f on f.id = s.framework_id "
            "where s.code = ? and s.status = 'active'", [text])}

    found = kinds(code)
    if not found:
        # The standards of that number _with_code found and guessed none of: two codes, or one in several frameworks.
        passes = [rows for _, rows in _with_code(db, code, None, kind, default_framework_id, "active")]
        if len(passes) == 3 and len(passes[2]) > 1:
            same_number = passes[2]
            codes = sorted({db.execute("select code from standards where id = ?", [i]).fetchone()[0]
                            for i, _ in same_number})
            if len(codes) > 1:
                return f"no standard with code {code!r} ({' and '.join(codes)} are that number: which one is not guessed)"
            option = "--from" if source_missing else "--to"
            return (f"no standard with code {code!r} ({codes[0]} is that number in "
                    f"{' and '.join(sorted({name for _, name in same_number}))}: name the framework with {option})")
        return f"no standard with code {code!r}"
    if source_missing and "academic" in found:
        if "industry" in kinds(d.target_code):
            return (f"{d.source_code!r} is an academic standard and {d.target_code!r} a CTE one: the pair runs "
                    "the other way round (CTE first), left out")
        return f"{code!r} is an academic standard, not a CTE (industry) one: a pair of two academic standards, left out"
    if not source_missing and "industry" in found:
        return f"{code!r} is a CTE (industry) standard, not an academic one: left out"
    if default_framework_id is not None:  # in another framework than the one searched
        others = [r[0] for r in db.execute(
            "select distinct f.name from standards s join frameworks f on f.id = s.framework_id "
            "where s.code = ? and s.status = 'active' and f.kind = ? and f.id != ? order by f.name",
            [code, kind, default_framework_id])]
        if others:
            return (f"no standard with code {code!r} in {framework_name(db, default_framework_id)} "
                    f"(it is in {' and '.join(others)})")
    return f"no standard with code {code!r} here"


def _retired(db, code: str, framework: str | None, kind: str, default_framework_id: int | None) -> list[str]:
    """The frameworks where a re-import retired a standard with this code, searched as
    :func:`_resolve` searches (:func:`_with_code`)."""
    for _, rows in _with_code(db, code, framework, kind, default_framework_id, "retired"):
        if rows:
            return sorted({name for _, name in rows})
    return []


def _alignment(db, source_id: int, target_id: int) -> dict | None:
    return next(iter(db.query("select * from alignment_details where source_id = ? and target_id = ?",
                              [source_id, target_id])), None)


def _describe(status, strength) -> str:
    return f"{status} ({strength})" if strength else str(status)


__all__ = ["Decision", "Decisions", "DecisionsResult", "apply_decisions", "read_decisions", "SourceError"]
