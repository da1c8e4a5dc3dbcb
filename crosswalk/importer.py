"""Importing a framework of standards into the database.

An import is one transaction: either every standard of the file lands, or
none does and the database is left exactly as it was. Re-importing an edited
file updates standards in place by their code, so their ids (and every
alignment and decision pointing at them) stay put.

Example::

    from crosswalk.db import open_db
    from crosswalk.importer import import_file
    db = open_db("crosswalk.db")
    result = import_file(db, "welding.xlsx", framework="AWS SENSE Level 1", kind="industry")
    result.added, result.changed, result.retired
"""

from __future__ import annotations

import dataclasses
import hashlib
import pathlib
import re

import sqlite_utils

from .db import KINDS, now
from .errors import CrosswalkError
from .sources import ColumnMapping, Table, cell_text, map_columns, read_table

GRADE_WORDS = {
    "k": 0, "kindergarten": 0, "pk": -1, "prek": -1, "pre k": -1,
    "hs": 9, "high school": 9, "ms": 6, "middle school": 6, "es": 0, "elementary": 0,
}
BANDS = {"hs": (9, 12), "high school": (9, 12), "ms": (6, 8), "middle school": (6, 8),
         "es": (0, 5), "elementary": (0, 5), "postsecondary": (13, 16), "adult": (13, 16)}


def parse_grades(text: str | None) -> tuple[int | None, int | None]:
    """The lowest and highest grade a grade cell names (K = 0).

    >>> parse_grades("9-12"), parse_grades("K,01,02"), parse_grades("HS"), parse_grades("MS")
    ((9, 12), (0, 2), (9, 12), (6, 8))
    """
    if not text:
        return None, None
    value = str(text).strip().lower()
    if value in BANDS:
        return BANDS[value]
    numbers = []
    for part in re.split(r"[,;/\s]+|(?<=\w)-(?=\w)|–|\bto\b", value):
        part = part.strip().replace("grade", "").replace("th", "").strip()
        if not part:
            continue
        if part in GRADE_WORDS:
            if part in BANDS:
                numbers.extend(BANDS[part])
            else:
                numbers.append(GRADE_WORDS[part])
        elif part.isdigit():
            numbers.append(int(part))
    if not numbers:
        return None, None
    return min(numbers), max(numbers)


def standard_label(code: str, statement: str, width: int = 90) -> str:
    """What a link to a standard shows: its code and the start of its statement."""
    short = statement if len(statement) <= width else statement[: width - 1].rsplit(" ", 1)[0] + "…"
    return f"{code}: {short}"


def text_hash(text: str) -> str:
    """A short, stable fingerprint of a statement (to notice edits on re-import)."""
    normal = re.sub(r"\s+", " ", text).strip().lower()
    return hashlib.sha1(normal.encode("utf-8")).hexdigest()[:16]


@dataclasses.dataclass
class StandardRow:
    code: str
    statement: str
    parent_code: str | None
    grade: str | None
    subject: str | None
    domain: str | None
    cluster: str | None
    level: str | None
    source_row: int


@dataclasses.dataclass
class ImportResult:
    framework: str
    framework_id: int | None
    file: str
    sheet: str | None
    mapping: dict[str, str]
    rows: int = 0
    added: int = 0
    changed: int = 0
    unchanged: int = 0
    retired: int = 0
    flagged: int = 0
    unknown_parents: int = 0
    dry_run: bool = False
    preview: list[dict] = dataclasses.field(default_factory=list)
    warnings: list[str] = dataclasses.field(default_factory=list)

    def summary(self) -> str:
        verb = "Would import" if self.dry_run else "Imported"
        text = (
            f"{verb} {self.rows} standards into {self.framework!r} from {self.file}"
            + (f" (sheet {self.sheet!r})" if self.sheet else "")
            + f": {self.added} added, {self.changed} changed, {self.unchanged} unchanged, "
            f"{self.retired} retired"
        )
        if self.flagged:
            text += f"; {self.flagged} reviewed alignments flagged for re-review"
        return text


def extract_rows(table: Table, mapping: ColumnMapping, *, default_subject: str | None = None) -> list[StandardRow]:
    """Turn a table's rows into standards, checking each one.

    Blank rows are skipped; a row with a code and no statement, or a code used
    twice, is an error naming the row and column.
    """

    def get(values, index):
        if index is None or index >= len(values):
            return ""
        return cell_text(values[index])

    out: list[StandardRow] = []
    seen: dict[str, int] = {}
    for number, values in table.rows:
        statement = get(values, mapping.statement)
        code = get(values, mapping.code) if mapping.code is not None else ""
        if not statement and not code:
            continue  # spacer row
        if not statement:
            raise table.error(
                f"the statement is empty for code {code!r} (expected the text of the standard)",
                row=number,
                column=mapping.statement,
            )
        if mapping.code is None:
            # No code column: key the standard by its text, so re-imports still match.
            code = "T-" + text_hash(statement)[:10]
        elif not code:
            raise table.error(
                "the code is empty (every standard needs a code so that re-imports keep its reviews)",
                row=number,
                column=mapping.code,
            )
        if code in seen:
            raise table.error(
                f"duplicate code {code!r}: it is also on row {seen[code]}",
                row=number,
                column=mapping.code if mapping.code is not None else mapping.statement,
            )
        seen[code] = number
        out.append(
            StandardRow(
                code=code,
                statement=statement,
                parent_code=get(values, mapping.parent) or None,
                grade=get(values, mapping.grade) or None,
                subject=get(values, mapping.subject) or default_subject,
                domain=get(values, mapping.domain) or None,
                cluster=get(values, mapping.cluster) or None,
                level=get(values, mapping.level) or None,
                source_row=number,
            )
        )
    if not out:
        raise table.error("has a header but no standards below it", row=table.header_row)
    return out


def import_file(
    db: sqlite_utils.Database,
    path,
    *,
    framework: str,
    kind: str = "industry",
    sheet: str | None = None,
    publisher: str | None = None,
    version: str | None = None,
    subject: str | None = None,
    license: str | None = None,
    attribution: str | None = None,
    source_url: str | None = None,
    columns: dict[str, str | None] | None = None,
    dry_run: bool = False,
    progress=None,
) -> ImportResult:
    """Read a spreadsheet or CSV and import (or re-import) it as a framework.

    ``columns`` names columns for fields (``{"code": "Task ID"}``); the rest are
    found by their usual names. With ``dry_run`` nothing is written.
    """
    if kind not in KINDS:
        raise CrosswalkError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    table = read_table(path, sheet=sheet)
    mapping = map_columns(table, **(columns or {}))
    rows = extract_rows(table, mapping, default_subject=subject)
    result = ImportResult(
        framework=framework,
        framework_id=None,
        file=table.file,
        sheet=table.sheet,
        mapping=mapping.describe(table),
        rows=len(rows),
        dry_run=dry_run,
    )
    if table.encoding and table.encoding not in ("utf-8",):
        result.warnings.append(f"read as {table.encoding}")
    meta = dict(
        name=framework, kind=kind, publisher=publisher, version=version, subject=subject,
        license=license, attribution=attribution, source_url=source_url,
        source_file=table.file,
    )
    if dry_run:
        result.preview = [dataclasses.asdict(r) for r in rows[:5]]
        existing = db["frameworks"].rows_where("name = ?", [framework]) if db is not None else []
        existing = list(existing)
        if existing:
            _diff(db, existing[0]["id"], rows, result, write=False, table=table)
        else:
            result.added = len(rows)
        return result
    with db.atomic():
        framework_id = _upsert_framework(db, meta, table)
        result.framework_id = framework_id
        _diff(db, framework_id, rows, result, write=True, table=table, progress=progress)
        db["import_log"].insert(
            dict(
                framework_id=framework_id, source_file=table.file, source_sheet=table.sheet,
                added=result.added, changed=result.changed, unchanged=result.unchanged,
                retired=result.retired, at=now(),
            )
        )
    return result


def _upsert_framework(db, meta: dict, table: Table) -> int:
    existing = list(db["frameworks"].rows_where("name = ?", [meta["name"]]))
    values = {k: v for k, v in meta.items() if v is not None}
    values["imported_at"] = now()
    if existing:
        row = existing[0]
        if row["kind"] != meta["kind"]:
            raise CrosswalkError(
                f"framework {meta['name']!r} already exists as {row['kind']}; "
                f"re-import it with --kind {row['kind']}"
            )
        db["frameworks"].update(row["id"], values)
        return row["id"]
    return db["frameworks"].insert(values).last_pk


def _diff(db, framework_id: int, rows: list[StandardRow], result: ImportResult, *, write: bool,
          table: Table, progress=None) -> None:
    existing = {
        r["code"]: r
        for r in db.query(
            "select id, code, statement, text_hash, status, parent_code, grade, subject, domain, "
            "cluster, level, position, source_row, source_sheet, source_file "
            "from standards where framework_id = ?",
            [framework_id],
        )
    }
    stamp = now()
    seen = set()
    for position, row in enumerate(rows):
        seen.add(row.code)
        low, high = parse_grades(row.grade)
        values = dict(
            framework_id=framework_id, code=row.code, statement=row.statement,
            label=standard_label(row.code, row.statement),
            parent_code=row.parent_code, grade=row.grade, grade_low=low, grade_high=high,
            subject=row.subject, domain=row.domain, cluster=row.cluster, level=row.level,
            position=position, source_file=table.file, source_sheet=table.sheet,
            source_row=row.source_row, text_hash=text_hash(row.statement), status="active",
        )
        old = existing.get(row.code)
        if old is None:
            result.added += 1
            if write:
                values["updated_at"] = stamp
                db["standards"].insert(values)
        else:
            text_changed = old["text_hash"] != values["text_hash"]
            other_changed = any(
                old[k] != values[k]
                for k in ("parent_code", "grade", "subject", "domain", "cluster", "level", "status")
            )
            if text_changed or other_changed:
                result.changed += 1
            else:
                result.unchanged += 1
            if write:
                if text_changed or other_changed:
                    values["updated_at"] = stamp
                db["standards"].update(old["id"], values)
                if text_changed:
                    result.flagged += _flag_for_review(db, old["id"], old["statement"], stamp)
        if progress:
            progress(1)
    for code, old in existing.items():
        if code not in seen and old["status"] == "active":
            result.retired += 1
            if write:
                # Retired, never deleted: reviewed alignments keep pointing at it.
                db["standards"].update(old["id"], {"status": "retired", "updated_at": stamp})
                db.execute(
                    "delete from alignments where status = 'suggested' and (source_id = ? or target_id = ?)",
                    [old["id"], old["id"]],
                )
    if write:
        _link_parents(db, framework_id, result)


def _flag_for_review(db, standard_id: int, old_statement: str, stamp: str) -> int:
    """Mark decided alignments of a changed standard for re-review; drop stale suggestions."""
    db.execute(
        "delete from alignments where status = 'suggested' and (source_id = ? or target_id = ?)",
        [standard_id, standard_id],
    )
    reason = "statement changed on re-import; it was: " + old_statement[:500]
    cursor = db.execute(
        "update alignments set needs_review = 1, needs_review_reason = ?, updated_at = ? "
        "where status != 'suggested' and (source_id = ? or target_id = ?)",
        [reason, stamp, standard_id, standard_id],
    )
    return cursor.rowcount


def _link_parents(db, framework_id: int, result: ImportResult) -> None:
    db.execute(
        """
        update standards set parent_id = (
            select p.id from standards p
            where p.framework_id = standards.framework_id and p.code = standards.parent_code
        )
        where framework_id = ?
        """,
        [framework_id],
    )
    result.unknown_parents = db.execute(
        "select count(*) from standards where framework_id = ? and parent_code is not null "
        "and parent_id is null and status = 'active'",
        [framework_id],
    ).fetchone()[0]
    if result.unknown_parents:
        result.warnings.append(
            f"{result.unknown_parents} standards name a parent code that is not in the file"
        )
