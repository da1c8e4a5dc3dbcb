"""CASE 1.0 JSON (1EdTech Competencies and Academic Standards Exchange).

:func:`export_case` writes frameworks and their reviewed alignments as one
``CFPackage``; :func:`import_case` reads a ``CFPackage`` into frameworks.
Identifiers are deterministic (uuid5 over a fixed namespace and each
standard's stable key, framework name + code), so the same data always
exports the same identifiers. The tests check exports against the official
schema vendored in ``crosswalk/schemas/``.

CASE has no alignment strength: an accepted full alignment becomes
``exactMatchOf``, a partial one ``isRelatedTo``, and strength, rationale and
reviewer go in the association's ``notes``.

Example::

    from crosswalk.case import export_case
    package = export_case(db, ["Welding tasks"])
"""

from __future__ import annotations

import collections
import contextlib
import datetime
import json
import pathlib
import re
import uuid

from .db import KINDS, framework_id, named_row, write_transaction
from .errors import CrosswalkError, SourceError
from .importer import StandardRow, describe_cycle, hierarchy_cycle, import_rows
from .sources import check_input_file
from .text import plural, short_list

# Fixed for ever: changing it would change every exported identifier.
CASE_NAMESPACE = "5b0f3c56-8a51-4d2e-9a8e-7c3f1d2b6e40"
FRAMEWORK_ITEM_TYPE = "Framework"
STRENGTH_TYPES = {"full": "exactMatchOf", "partial": "isRelatedTo"}
EPOCH = "2000-01-01T00:00:00+00:00"


def standard_uuid(framework: str, code: str) -> str:
    """The CASE identifier of a standard: the same framework and code give the same UUID.

    >>> standard_uuid("Welding", "W.1") == standard_uuid("Welding", "W.1")
    True
    """
    return case_uuid("standard", framework, code)


def framework_uuid(name: str) -> str:
    return case_uuid("framework", name)


def case_uuid(*parts: str) -> str:
    """A CASE identifier of crosswalk's: uuid5 of its parts under crosswalk's namespace, so the same
    parts give the same identifier (the export's, and the public copy's, which resolves them)."""
    return str(uuid.uuid5(uuid.UUID(CASE_NAMESPACE), "\x1f".join(parts)))



def _when(value: str | None) -> str:
    """An ISO date-time with a zone, as CASE wants it."""
    if not value:
        return EPOCH
    try:
        parsed = datetime.datetime.fromisoformat(value)
    except ValueError:
        return EPOCH
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.timezone.utc)
    return parsed.replace(microsecond=0).isoformat()


def education_levels(low: int | None, high: int | None) -> list[str]:
    """CASE education levels for a grade band: K → "KG", 9 → "09".

    >>> education_levels(9, 12)
    ['09', '10', '11', '12']
    """
    if low is None:
        return []
    high = low if high is None else high
    names = {-1: "PK", 0: "KG"}
    levels = [names.get(g, f"{g:02d}" if g <= 12 else "PS") for g in range(max(low, -1), min(high, 13) + 1)]
    return _dedupe_levels(levels)


def _dedupe_levels(levels: list[str]) -> list[str]:
    out = []
    for level in levels:
        if level not in out:
            out.append(level)
    return out


def export_case(db, frameworks: list[str] | None = None, include_alignments: bool = True,
                base_uri: str | None = None) -> dict:
    """Frameworks (all, or those named) and their accepted alignments as one CASE ``CFPackage``.

    With one framework the package's ``CFDocument`` is that framework; with
    several, the document is the crosswalk and each framework is a top-level
    item of type ``Framework`` (which :func:`import_case` turns back into
    frameworks). Alignments with an end in the chosen frameworks are included.
    ``base_uri`` (such as ``https://example.org/case/``) makes ``uri`` fields
    web addresses; by default they are ``urn:uuid:`` URIs.

    Example::

        package = export_case(db, ["Welding tasks", "CCSS Math"])
        json.dump(package, open("crosswalk.json", "w"), indent=2)
    """
    rows = list(db.query("select * from frameworks order by kind desc, name"))
    if frameworks:
        # By name in any case or by id, as every command finds a framework (db.framework_id).
        by_id = {r["id"]: r for r in rows}
        rows = [by_id[i] for i in dict.fromkeys(framework_id(db, name) for name in frameworks)]  # one framework named twice: once
    if not rows:
        raise CrosswalkError("there are no frameworks to export")

    def uri(kind: str, identifier: str) -> str:
        return f"{base_uri.rstrip('/')}/{kind}/{identifier}" if base_uri else f"urn:uuid:{identifier}"

    def link(kind, identifier, title):
        return {"title": title, "identifier": identifier, "uri": uri(kind, identifier)}

    single = len(rows) == 1
    if single:
        fw = rows[0]
        doc_id = framework_uuid(fw["name"])
        document = {
            "identifier": doc_id, "uri": uri("CFDocuments", doc_id),
            "creator": fw["publisher"] or "crosswalk", "title": fw["name"],
            "lastChangeDateTime": _when(fw["imported_at"]),
        }
        document.update(_framework_fields(fw))
    else:
        names = [r["name"] for r in rows]
        doc_id = case_uuid("crosswalk", *names)
        document = {
            "identifier": doc_id, "uri": uri("CFDocuments", doc_id), "creator": "crosswalk",
            "title": "Crosswalk: " + "; ".join(names),
            "lastChangeDateTime": max(_when(r["imported_at"]) for r in rows),
            "description": "Frameworks and reviewed alignments exported by crosswalk. Each framework is a "
                           "top-level item of type 'Framework'.",
        }
    document_link = link("CFDocuments", doc_id, document["title"])
    items, associations = [], []

    def child_of(child_link, parent_link, sequence, stamp):
        identifier = case_uuid("isChildOf", child_link["identifier"], parent_link["identifier"])
        return {
            "identifier": identifier, "associationType": "isChildOf", "uri": uri("CFAssociations", identifier),
            "originNodeURI": child_link, "destinationNodeURI": parent_link, "sequenceNumber": sequence,
            "lastChangeDateTime": stamp, "CFDocumentURI": document_link,
        }

    for fw in rows:
        parent_of_roots = document_link
        if not single:
            fid = framework_uuid(fw["name"])
            stamp = _when(fw["imported_at"])
            fw_item = {
                "identifier": fid, "uri": uri("CFItems", fid), "fullStatement": fw["name"],
                "CFItemType": FRAMEWORK_ITEM_TYPE, "lastChangeDateTime": stamp,
                "notes": json.dumps(_framework_notes(fw), ensure_ascii=False, sort_keys=True),
                "CFDocumentURI": document_link,
            }
            items.append(fw_item)
            parent_of_roots = link("CFItems", fid, fw["name"])
            associations.append(child_of(parent_of_roots, document_link, len(items), stamp))
        standards = list(db.query(
            "select s.*, p.code as parent_real_code from standards s left join standards p on p.id = s.parent_id "
            "where s.framework_id = ? and s.status = 'active' order by s.position, s.id", [fw["id"]]))
        for sequence, st in enumerate(standards, start=1):
            sid = standard_uuid(fw["name"], st["code"])
            item = {
                "identifier": sid, "uri": uri("CFItems", sid), "fullStatement": st["statement"],
                "humanCodingScheme": st["code"], "lastChangeDateTime": _when(st["updated_at"]),
                "CFDocumentURI": document_link,
            }
            if st["level"]:
                item["CFItemType"] = st["level"]
            levels = education_levels(st["grade_low"], st["grade_high"])
            if levels:
                item["educationLevel"] = _dedupe_levels(levels)
            extra = {k: st[k] for k in ("grade", "subject", "domain", "cluster") if st[k]}
            if not single:
                extra["framework"] = fw["name"]  # even where the parent chain is broken or circular
            if extra:
                item["notes"] = json.dumps(extra, ensure_ascii=False, sort_keys=True)
            items.append(item)
            parent_link = parent_of_roots
            if st["parent_real_code"]:
                parent_link = link("CFItems", standard_uuid(fw["name"], st["parent_real_code"]),
                                   st["parent_real_code"])
            associations.append(child_of(link("CFItems", sid, st["code"]), parent_link, sequence,
                                         _when(st["updated_at"])))
    if include_alignments:
        ids = [r["id"] for r in rows]
        marks = ", ".join("?" for _ in ids)
        for a in db.query(
            f"""
            select a.*, a.cte_code as s_code, a.standard_code as t_code, a.industry_framework as s_fw,
                   a.academic_framework as t_fw
            from current_alignments a join standards t on t.id = a.target_id
            where a.status = 'accepted' and (a.industry_framework_id in ({marks}) or t.framework_id in ({marks}))
            order by a.industry_framework, a.cte_code, a.academic_framework, a.standard_code
            """,
            ids + ids,
        ):
            strength = a["strength"]  # (every accepted alignment has one: db.m021)
            origin = standard_uuid(a["s_fw"], a["s_code"])
            destination = standard_uuid(a["t_fw"], a["t_code"])
            identifier = case_uuid("alignment", origin, destination)
            notes = {"strength": strength, "rationale": a["rationale"] or "", "reviewer": a["reviewer"] or "",
                     "reviewed_at": a["reviewed_at"] or "", "source_framework": a["s_fw"],
                     "target_framework": a["t_fw"]}
            associations.append({
                "identifier": identifier, "associationType": STRENGTH_TYPES.get(strength, "isRelatedTo"),
                "uri": uri("CFAssociations", identifier),
                "originNodeURI": link("CFItems", origin, a["s_code"]),
                "destinationNodeURI": link("CFItems", destination, a["t_code"]),
                "lastChangeDateTime": _when(a["reviewed_at"] or a["updated_at"]),
                "notes": json.dumps(notes, ensure_ascii=False, sort_keys=True),
                "CFDocumentURI": document_link,
            })
    # The document changed when anything in it did: a decision after the last import too (a CASE
    # consumer that syncs by this date would miss it).
    document["lastChangeDateTime"] = max([document["lastChangeDateTime"], *(
        x["lastChangeDateTime"] for x in (*items, *associations) if x.get("lastChangeDateTime"))],
        key=datetime.datetime.fromisoformat)
    return {"CFDocument": document, "CFItems": items, "CFAssociations": associations}


def _framework_fields(fw: dict) -> dict:
    out = {}
    if fw["publisher"]:
        out["publisher"] = fw["publisher"]
    if fw["version"]:
        out["version"] = fw["version"]
    if fw["subject"]:
        out["subject"] = [fw["subject"]]
    if fw["source_url"] and re.match(r"^[a-z][a-z0-9+.-]*:", fw["source_url"], re.I):
        out["officialSourceURL"] = fw["source_url"]
    notes = _framework_notes(fw)
    out["notes"] = json.dumps(notes, ensure_ascii=False, sort_keys=True)
    return out


def _framework_notes(fw: dict) -> dict:
    keys = ("kind", "publisher", "version", "subject", "license", "attribution", "source_url")
    return {"crosswalk_framework": fw["name"], **{k: fw[k] for k in keys if fw[k]}}


# --- import -------------------------------------------------------------------------------


def read_case(path) -> dict:
    """Read a CASE JSON file, with a clear error for anything that is not a ``CFPackage``."""
    path = check_input_file(path, "a CASE JSON file")
    data = path.read_bytes()
    # (a workbook or a PDF given for a package was "not UTF-8 text ... save it as UTF-8")
    for magic, what in ((b"PK\x03\x04", "a workbook (.xlsx or .ods) or another zip file"),
                        (b"\xd0\xcf\x11\xe0", "an old Excel workbook (.xls)"), (b"%PDF", "a PDF document")):
        if data.startswith(magic):
            raise SourceError(f"is {what}, not a CASE JSON package", file=path.name,
                              hint="import a framework's spreadsheet with crosswalk import; import-case reads "
                                   "CASE JSON (a CFPackage)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        # (where, as a JSON error says it: the line and the column, counted in characters)
        line_start = data.rfind(b"\n", 0, exc.start) + 1
        column = len(data[line_start:exc.start].decode("utf-8-sig", "replace")) + 1
        line = data.count(b"\n", 0, exc.start) + 1
        raise SourceError(f"is not UTF-8 text at line {line}, column {column}", file=path.name,
                          hint="save it as UTF-8; expected a CASE JSON package") from None
    try:
        package = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SourceError(f"is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}",
                          file=path.name, hint="expected a CASE JSON package") from None
    except RecursionError:
        raise SourceError("is not a CASE package: its arrays or objects are nested too deeply to read "
                          "(a CASE package nests a few levels)", file=path.name) from None
    except ValueError as exc:  # a number too long to read (over 4,300 digits), and the like
        raise SourceError(f"is not valid JSON: {str(exc).split(';')[0]}", file=path.name,
                          hint="expected a CASE JSON package") from None
    if not isinstance(package, dict) or not isinstance(package.get("CFDocument"), dict):
        raise SourceError("is not a CASE CFPackage (expected an object with a CFDocument)", file=path.name)
    for key in ("CFItems", "CFAssociations"):
        if not isinstance(package.get(key, []), list):
            raise SourceError(f"{key} is not a list", file=path.name, column=key)
    return package


def case_frameworks(package: dict, *, file: str = "package.json", framework: str | None = None,
                    kind: str | None = None, taken=None):
    """The frameworks in a ``CFPackage``: ``[(meta, [StandardRow...], notes)]``.

    Hierarchy comes from ``isChildOf`` associations (a circle of them is
    refused); codes from ``humanCodingScheme`` (or the identifier where it is
    missing or repeated); grades from ``educationLevel``. A package exported by
    crosswalk with several frameworks (top-level items of type ``Framework``)
    gives them back one by one.

    ``taken(name, codes)``, where given, says which of ``codes`` the framework of that name has
    standards of already: ``(its name, {code: the standard's code})``, or None. A code several
    items share that is one of them is refused (see :func:`_refuse_a_standards_code_shared`).
    """
    document = package["CFDocument"]
    _check_texts(document, DOCUMENT_TEXT, "CFDocument", file)
    by_id = _items_by_identifier(package.get("CFItems") or [], file)
    notes: list[str] = []
    parent = _child_of_links(package.get("CFAssociations") or [], by_id, file, notes)
    # Which framework each item belongs to: its top-level Framework item, or the document.
    groups = {i: it for i, (_, it) in by_id.items() if it.get("CFItemType") == FRAMEWORK_ITEM_TYPE}
    group_by_item = _group_of_items(by_id, parent, groups)
    holders = _holders(by_id, group_by_item)
    code_of = _codes(by_id, group_by_item, holders, notes)
    out = []
    for group in list(groups) if groups else [None]:
        meta = _framework_meta(document, groups.get(group), framework=framework, kind=kind, file=file)
        if taken is not None:
            _refuse_a_standards_code_shared(holders, group, by_id, meta["name"], taken, file)
        members = [(index, identifier, item) for identifier, (index, item) in by_id.items()
                   if identifier not in groups and group_by_item[identifier] == group]
        rows = _standard_rows(members, parent, by_id, groups, code_of, meta)
        cycle = hierarchy_cycle(rows)
        if cycle:
            raise SourceError(
                "isChildOf associations go round in a circle: "
                + describe_cycle(cycle, lambda row: f"CFItems[{row.source_row - 1}]"), file=file,
                column="CFAssociations", hint="an item can not be its own ancestor")
        if rows:
            out.append((meta, rows, [] if out else notes))  # the package's notes, told once
    if not out:
        raise SourceError("has no CFItems to import", file=file, column="CFItems")
    if framework and len(out) > 1:  # (here, so that the command refuses before it makes the database)
        raise CrosswalkError(f"{file} holds {len(out)} frameworks; leave out --framework")
    return out


def _items_by_identifier(items: list, file: str) -> dict[str, tuple[int, dict]]:
    """Each item by its identifier, with its index in ``CFItems``; every item checked."""
    by_id: dict[str, tuple[int, dict]] = {}
    for index, item in enumerate(items):
        where = f"CFItems[{index}]"
        if not isinstance(item, dict):
            raise SourceError("is not an object", file=file, column=where)
        for field in ("identifier", "fullStatement"):
            if not isinstance(item.get(field), str) or not item[field].strip():
                if field == "fullStatement" and item.get("CFItemType") == FRAMEWORK_ITEM_TYPE:
                    continue
                raise SourceError(f"has no {field} (expected a non-empty string)", file=file,
                                  column=f"{where}.{field}")
        if item["identifier"] in by_id:
            raise SourceError(f"repeats identifier {item['identifier']!r}", file=file, column=where)
        _check_texts(item, ITEM_TEXT, where, file)
        for field, value in item.items():
            texts = value if isinstance(value, list) else [value]
            if any(isinstance(text, str) and "\x00" in text for text in texts):
                raise SourceError("holds a NUL character (\\u0000); SQLite's search and text functions would "
                                  "stop there", file=file, column=f"{where}.{field}")
        by_id[item["identifier"]] = (index, item)
    return by_id


# The fields crosswalk reads as text: a number is read as its digits ("humanCodingScheme": 12), a
# list or an object is an error naming the field (it reached SQLite as a value it cannot store, or
# was stored as "['A']"). Fields of several texts (subject, educationLevel) take a list of them or one.
DOCUMENT_TEXT = {"title": 1, "publisher": 1, "version": 1, "officialSourceURL": 1, "notes": 1, "subject": "*"}
ITEM_TEXT = {"humanCodingScheme": 1, "CFItemType": 1, "notes": 1, "educationLevel": "*"}


def _check_texts(obj: dict, fields: dict, where: str, file: str) -> None:
    for field, many in fields.items():
        value = obj.get(field)
        if value is None:
            continue
        values = value if many == "*" and isinstance(value, list) else [value]
        for text in values:
            if isinstance(text, bool) or not isinstance(text, (str, int, float)):
                raise SourceError(f"is {type(text).__name__ if text is not None else 'null'} where text is "
                                  "expected", file=file, column=f"{where}.{field}")
        texts = [str(text) for text in values]
        obj[field] = texts if isinstance(value, list) else texts[0]


def _child_of_links(associations: list, by_id: dict, file: str, notes: list[str]) -> dict[str, str]:
    """Item identifier → its parent's identifier, from the ``isChildOf`` associations (the first one wins).

    An item that is a child of itself says nothing about where it sits: that
    association is left out, with a note.
    """
    parent: dict[str, str] = {}
    to_itself = []
    others: collections.Counter = collections.Counter()  # associations of other kinds: left out, said so
    for index, assoc in enumerate(associations):
        if isinstance(assoc, dict) and assoc.get("associationType") not in (None, "isChildOf"):
            others[str(assoc.get("associationType"))] += 1
        if not isinstance(assoc, dict) or assoc.get("associationType") != "isChildOf":
            continue
        try:
            child = assoc["originNodeURI"]["identifier"]
            up = assoc["destinationNodeURI"]["identifier"]
        except (KeyError, TypeError):
            child = None
        if not isinstance(child, str) or not isinstance(up, str):
            raise SourceError("isChildOf association without originNodeURI/destinationNodeURI identifiers",
                              file=file, column=f"CFAssociations[{index}]") from None
        if child == up:
            to_itself.append(f"CFAssociations[{index}]")
        elif child in by_id and child not in parent:
            parent[child] = up
    if to_itself:
        notes.append("isChildOf associations of an item to itself were left out: "
                     + short_list(to_itself))
    if others:
        notes.append("associations other than isChildOf were not imported ("
                     + ", ".join(f"{n} {kind}" for kind, n in sorted(others.items()))
                     + "): import-case reads standards and their hierarchy; bring alignments in with "
                       "crosswalk import-decisions")
    return parent


def _group_of_items(by_id: dict, parent: dict, groups: dict) -> dict[str, str | None]:
    """Item identifier → the identifier of the Framework item it sits under (None: the document)."""

    def group_of(identifier):
        seen = set()
        while identifier in parent and identifier not in seen:
            seen.add(identifier)
            identifier = parent[identifier]
            if identifier in groups:
                return identifier
        return None

    group_names = {it.get("fullStatement"): i for i, it in groups.items()}
    return {
        identifier: group_of(identifier) or group_names.get(_notes(item.get("notes")).get("framework"))
        for identifier, (_, item) in by_id.items()
    }


def _holders(by_id: dict, group_by_item: dict) -> dict[tuple, list[str]]:
    """(framework item, code) → the identifiers of the items of that ``humanCodingScheme``, in
    ``CFItems`` order (the same code may be in two frameworks)."""
    holders: dict[tuple, list[str]] = collections.defaultdict(list)
    for identifier, (_, item) in by_id.items():
        code = (item.get("humanCodingScheme") or "").strip()
        if code:
            holders[(group_by_item[identifier], code)].append(identifier)
    return holders


def _codes(by_id: dict, group_by_item: dict, holders: dict, notes: list[str] | None = None) -> dict[str, str]:
    """Item identifier → its code: ``humanCodingScheme`` where it is unique within its framework
    (the same code may be in two frameworks), else the identifier (with a note, counted)."""
    code_of = {}
    missing = repeated = 0
    for identifier, (_, item) in by_id.items():
        code = (item.get("humanCodingScheme") or "").strip()
        shared = bool(code) and len(holders[(group_by_item[identifier], code)]) > 1
        code_of[identifier] = code if code and not shared else identifier
        if item.get("CFItemType") != FRAMEWORK_ITEM_TYPE:
            missing += not code
            repeated += shared
    if notes is not None and (missing or repeated):
        notes.append("CASE identifiers are the codes of " + " and ".join(
            part for part in (f"{plural(missing, 'item')} without a humanCodingScheme" if missing else "",
                              f"{plural(repeated, 'item')} that share one" if repeated else "") if part))
    return code_of


def _refuse_a_standards_code_shared(holders: dict, group, by_id: dict, name: str, taken, file: str) -> None:
    """Several items sharing a code are known by their CASE identifiers (a package may repeat a
    code; a first import takes it, with a note). But where that code is a standard's of the
    framework already (active or retired, in any case, as a re-import finds a code), the import
    can not tell which item is that standard: known by their identifiers, both would be new
    standards and the standard retired, its decisions flagged and certifying nothing, though its
    item did not change (a typo in the next edition: W.5's item coded W.4 retired W.4 and W.5). So
    it is refused, as a spreadsheet's duplicate code is: one error naming the items, nothing written."""
    shared = {code: identifiers for (g, code), identifiers in holders.items() if g == group and len(identifiers) > 1}
    found = taken(name, list(shared)) if shared else None
    if not found or not found[1]:
        return
    framework, standards = found
    # The first repeat in CFItems order, as a spreadsheet names the first duplicate row.
    code = min(standards, key=lambda c: by_id[shared[c][1]][0])
    (first, second, *more), stored = [(by_id[i][0], i) for i in shared[code]], standards[code]
    others = f" and {plural(len(more), 'other item')}" if more else ""
    raise SourceError(
        f"duplicate code {code!r} (item {second[1]}): it is also the humanCodingScheme of CFItems[{first[0]}] "
        f"(item {first[1]}){others}, and {framework!r} has a standard {stored!r} already, so the import can not "
        f"tell which item it is (known by their CASE identifiers, they would be new standards, and {stored!r} "
        "would be left retired, its decisions flagged); nothing was written",
        file=file, column=f"CFItems[{second[0]}].humanCodingScheme",
        hint=f"correct the humanCodingScheme of the item{'s' if more else ''} that "
             f"{'are' if more else 'is'} not {stored}, and import again")


def _framework_meta(document: dict, group_item: dict | None, *, framework: str | None, kind: str | None,
                    file: str) -> dict:
    """A framework's name, kind and details: from the CFDocument, or from its Framework item."""
    if group_item is None:
        notes = _notes(document.get("notes"))
        name = framework or notes.get("crosswalk_framework") or document.get("title") or ""
        meta = dict(name=name, kind=kind or notes.get("kind") or "academic",
                    publisher=document.get("publisher") or notes.get("publisher"),
                    version=document.get("version"), subject=_first(document.get("subject")),
                    license=notes.get("license") or _title(document.get("licenseURI")),
                    attribution=notes.get("attribution"),
                    source_url=document.get("officialSourceURL") or notes.get("source_url"),
                    source_file=file)
    else:
        notes = _notes(group_item.get("notes"))
        name = group_item.get("fullStatement") or notes.get("crosswalk_framework")
        meta = dict(name=name, kind=kind or notes.get("kind") or "academic", publisher=notes.get("publisher"),
                    version=notes.get("version"), subject=notes.get("subject"), license=notes.get("license"),
                    attribution=notes.get("attribution"), source_url=notes.get("source_url"),
                    source_file=file)
    if not meta["name"]:
        raise SourceError("the CFDocument has no title; name the framework with --framework", file=file,
                          column="CFDocument.title")
    if meta["kind"] not in KINDS:
        raise SourceError(f"its framework's kind is {meta['kind']!r} (expected industry or academic); "
                          "name it with --kind", file=file, column="notes")
    return meta


def _standard_rows(members: list, parent: dict, by_id: dict, groups: dict, code_of: dict, meta: dict) -> list:
    """The standards of one framework, from its items."""
    rows = []
    for index, identifier, item in members:
        up = parent.get(identifier)
        parent_code = code_of[up] if up in by_id and up not in groups else None
        levels = item.get("educationLevel") or []
        if isinstance(levels, str):
            levels = [levels]
        item_notes = _notes(item.get("notes"))
        grade = item_notes.get("grade") or _grade_text(levels)
        rows.append(StandardRow(
            code=code_of[identifier], statement=item["fullStatement"].strip(), parent_code=parent_code,
            grade=grade, subject=item_notes.get("subject") or meta["subject"],
            domain=item_notes.get("domain"), cluster=item_notes.get("cluster"),
            level=item.get("CFItemType") or None, source_row=index + 1, sheet=None,
        ))
    return rows


def _notes(text) -> dict:
    """crosswalk keeps its own fields as JSON in ``notes``; other notes are left alone."""
    if not isinstance(text, str) or not text.startswith("{"):
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    # (its values are read as text: a number as its digits, anything else left out)
    return {k: v if isinstance(v, str) else str(v) for k, v in value.items()
            if isinstance(v, (str, int, float)) and not isinstance(v, bool)} if isinstance(value, dict) else {}


def _first(value):
    if isinstance(value, list):
        return value[0] if value else None
    return value or None


def _title(link):
    return link.get("title") if isinstance(link, dict) else None


def _grade_text(levels: list[str]) -> str | None:
    names = {"KG": "K", "PK": "PK", "PS": "Postsecondary"}
    values = [names.get(str(level).upper(), str(level)) for level in levels if str(level).strip()]
    return ",".join(values) or None


def import_case(db, path, *, framework: str | None = None, kind: str | None = None, dry_run: bool = False,
                package: dict | None = None, retire_missing: bool = False) -> list:
    """Import (or re-import) the frameworks of a CASE ``CFPackage`` file.

    Re-importing updates standards in place by code, like a spreadsheet import.
    Returns one :class:`crosswalk.importer.ImportResult` per framework.

    Example::

        results = import_case(db, "maine-math.json", kind="academic")

    ``kind`` defaults to what a crosswalk export recorded, else ``academic``.
    A code several items share is refused where the framework has a standard of that code
    already; elsewhere (a first import) they are known by their CASE identifiers.
    """
    path = pathlib.Path(path)
    if package is None:
        package = read_case(path)
    groups = case_frameworks(package, file=path.name, framework=framework, kind=kind,
                             taken=(lambda name, codes: _taken(db, name, codes)) if db is not None else None)
    results = []
    with write_transaction(db) if not dry_run else contextlib.nullcontext():  # (see importer.import_rows)
        for meta, rows, notes in groups:
            hierarchy = "isChildOf associations" if any(r.parent_code for r in rows) else None
            results.append(import_rows(db, rows, meta, file=path.name, hierarchy=hierarchy, warnings=notes,
                                       dry_run=dry_run, retire_missing=retire_missing))
    return results


def _taken(db, name: str, codes: list[str]) -> tuple[str, dict[str, str]] | None:
    """The framework ``name`` names (as an import finds it) and which of ``codes`` it has standards
    of, active or retired: {code: the standard's code}, a code in another case as a re-import
    takes it for the same standard (SQLite's NOCASE, importer._written_in_another_case)."""
    row = named_row(db, "frameworks", str(name or ""))
    if row is None:
        return None
    found = db.execute(
        "select j.value, coalesce("
        "(select s.code from standards s where s.framework_id = :id and s.code = j.value), "
        "(select min(s.code) from standards s where s.framework_id = :id and s.code = j.value collate nocase)) "
        "from json_each(:codes) j", {"id": row["id"], "codes": json.dumps(codes)})
    return row["name"], {code: stored for code, stored in found if stored is not None}
