"""The crosswalk database: schema, migrations and connection settings.

One SQLite file is the single source of truth. Every command opens it with
:func:`open_db`, which applies pending migrations so that a database made by
an older version of crosswalk is upgraded in place.

The vocabulary every module shares lives here too: :func:`framework_id` and
:func:`program_id` (a name, in any case, or an id, to a row id),
:func:`write_transaction`, and the views that join an alignment to its two
standards (``alignment_details``) and a program to its reviewed evidence
(``program_evidence``).

Example::

    from crosswalk.db import open_db
    db = open_db("crosswalk.db")
    db["standards"].count
"""

from __future__ import annotations

import contextlib
import datetime
import difflib
import hashlib
import os
import pathlib
import re
import shlex
import sqlite3
import tempfile

try:
    import fcntl
except ImportError:  # Windows: no flock, databases are not marked as served
    fcntl = None

import sqlite_utils
from rapidfuzz.distance import Levenshtein

from .errors import CrosswalkError, NotFound
from .outputs import file_there, is_sqlite_file

migrations = sqlite_utils.Migrations("crosswalk")

STATUSES = ("suggested", "accepted", "rejected")
CONFIDENCES = ("high", "medium", "low")  # a suggestion's confidence band, best first (matching.learning)
MAX_NAMES_SHOWN = 30  # an unknown name lists at most this many of the known ones
STRENGTHS = ("full", "partial")
KINDS = ("industry", "academic")


@migrations()
def m001_core_tables(db: sqlite_utils.Database) -> None:
    db.execute(
        """
        CREATE TABLE frameworks (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL CHECK (kind IN ('industry', 'academic')),
            publisher TEXT,
            version TEXT,
            subject TEXT,
            license TEXT,
            attribution TEXT,
            source_url TEXT,
            source_file TEXT,
            imported_at TEXT
        )
        """
    )
    db.execute(
        """
        CREATE TABLE standards (
            id INTEGER PRIMARY KEY,
            framework_id INTEGER NOT NULL REFERENCES frameworks(id),
            code TEXT NOT NULL,
            statement TEXT NOT NULL,
            label TEXT,
            parent_code TEXT,
            parent_id INTEGER REFERENCES standards(id),
            grade TEXT,
            grade_low INTEGER,
            grade_high INTEGER,
            subject TEXT,
            domain TEXT,
            cluster TEXT,
            level TEXT,
            position INTEGER,
            source_file TEXT,
            source_sheet TEXT,
            source_row INTEGER,
            text_hash TEXT,
            status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'retired')),
            updated_at TEXT,
            UNIQUE (framework_id, code)
        )
        """
    )
    db.execute("CREATE INDEX idx_standards_parent ON standards(parent_id)")
    db.execute(
        """
        CREATE TABLE programs (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            cip_code TEXT,
            cip_title TEXT,
            career_cluster TEXT,
            school TEXT,
            description TEXT
        )
        """
    )
    db.execute(
        """
        CREATE TABLE program_frameworks (
            program_id INTEGER NOT NULL REFERENCES programs(id),
            framework_id INTEGER NOT NULL REFERENCES frameworks(id),
            PRIMARY KEY (program_id, framework_id)
        )
        """
    )
    db.execute(
        """
        CREATE TABLE alignments (
            id INTEGER PRIMARY KEY,
            source_id INTEGER NOT NULL REFERENCES standards(id),
            target_id INTEGER NOT NULL REFERENCES standards(id),
            score REAL NOT NULL CHECK (score >= 0 AND score <= 100),
            confidence TEXT CHECK (confidence IN ('high', 'medium', 'low')),
            method TEXT,
            evidence TEXT,
            rank INTEGER,
            status TEXT NOT NULL DEFAULT 'suggested'
                CHECK (status IN ('suggested', 'accepted', 'rejected')),
            strength TEXT CHECK (strength IN ('full', 'partial')),
            rationale TEXT,
            reviewer TEXT,
            reviewed_at TEXT,
            needs_review INTEGER NOT NULL DEFAULT 0,
            needs_review_reason TEXT,
            created_at TEXT,
            updated_at TEXT,
            UNIQUE (source_id, target_id)
        )
        """
    )
    db.execute("CREATE INDEX idx_alignments_target ON alignments(target_id)")
    db.execute("CREATE INDEX idx_alignments_status ON alignments(status)")
    db.execute(
        """
        CREATE TABLE review_log (
            id INTEGER PRIMARY KEY,
            alignment_id INTEGER NOT NULL,
            action TEXT NOT NULL,
            old_status TEXT,
            new_status TEXT,
            old_strength TEXT,
            new_strength TEXT,
            old_rationale TEXT,
            new_rationale TEXT,
            reviewer TEXT,
            via TEXT,
            at TEXT NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX idx_review_log_alignment ON review_log(alignment_id)")
    # The log is append-only: nothing may change or remove a row of it.
    db.execute(
        """
        CREATE TRIGGER review_log_no_update BEFORE UPDATE ON review_log
        BEGIN SELECT RAISE(ABORT, 'review_log is append-only'); END
        """
    )
    db.execute(
        """
        CREATE TRIGGER review_log_no_delete BEFORE DELETE ON review_log
        BEGIN SELECT RAISE(ABORT, 'review_log is append-only'); END
        """
    )
    db.execute(
        """
        CREATE TABLE import_log (
            id INTEGER PRIMARY KEY,
            framework_id INTEGER REFERENCES frameworks(id),
            source_file TEXT,
            source_sheet TEXT,
            added INTEGER,
            changed INTEGER,
            unchanged INTEGER,
            retired INTEGER,
            at TEXT
        )
        """
    )


@migrations()
def m002_views(db: sqlite_utils.Database) -> None:
    db.execute(
        """
        CREATE VIEW program_certifies AS
        SELECT
            p.id AS program_id,
            p.name AS program,
            af.name AS academic_framework,
            t.subject AS subject,
            t.grade AS grade,
            t.code AS standard_code,
            t.statement AS standard,
            group_concat(DISTINCT s.code) AS cte_codes,
            count(DISTINCT s.id) AS evidence_count,
            max(CASE a.strength WHEN 'full' THEN 2 WHEN 'partial' THEN 1 ELSE 0 END) AS best_strength_rank,
            CASE max(CASE a.strength WHEN 'full' THEN 2 WHEN 'partial' THEN 1 ELSE 0 END)
                WHEN 2 THEN 'full' WHEN 1 THEN 'partial' ELSE NULL END AS strength,
            t.id AS standard_id
        FROM programs p
        JOIN program_frameworks pf ON pf.program_id = p.id
        JOIN standards s ON s.framework_id = pf.framework_id
        JOIN alignments a ON a.source_id = s.id AND a.status = 'accepted'
        JOIN standards t ON t.id = a.target_id
        JOIN frameworks af ON af.id = t.framework_id
        GROUP BY p.id, t.id
        """
    )
    db.execute(
        """
        CREATE VIEW standard_evidence AS
        SELECT
            t.code AS standard_code,
            t.statement AS standard,
            tf.name AS academic_framework,
            s.code AS cte_code,
            s.statement AS cte_statement,
            sf.name AS industry_framework,
            (SELECT group_concat(p.name, '; ') FROM program_frameworks pf
                JOIN programs p ON p.id = pf.program_id
                WHERE pf.framework_id = sf.id) AS programs,
            a.strength,
            a.rationale,
            a.reviewer,
            a.reviewed_at,
            a.id AS alignment_id,
            t.id AS standard_id,
            s.id AS cte_standard_id
        FROM alignments a
        JOIN standards s ON s.id = a.source_id
        JOIN standards t ON t.id = a.target_id
        JOIN frameworks sf ON sf.id = s.framework_id
        JOIN frameworks tf ON tf.id = t.framework_id
        WHERE a.status = 'accepted'
        """
    )
    db.execute(
        """
        CREATE VIEW suggestions AS
        SELECT
            a.id AS alignment_id,
            sf.name AS industry_framework,
            s.code AS cte_code,
            s.statement AS cte_statement,
            t.code AS standard_code,
            t.statement AS standard,
            t.subject AS subject,
            t.grade AS grade,
            a.rank,
            a.score,
            a.confidence,
            a.evidence,
            a.status,
            a.strength,
            a.rationale,
            a.reviewer,
            a.needs_review
        FROM alignments a
        JOIN standards s ON s.id = a.source_id
        JOIN standards t ON t.id = a.target_id
        JOIN frameworks sf ON sf.id = s.framework_id
        """
    )
    db.execute(
        """
        CREATE VIEW coverage AS
        SELECT
            p.name AS program,
            t.subject AS subject,
            count(DISTINCT t.id) AS standards_certified,
            (SELECT count(*) FROM standards x
                JOIN frameworks xf ON xf.id = x.framework_id
                WHERE xf.kind = 'academic' AND x.subject = t.subject
                AND x.status = 'active') AS standards_in_subject
        FROM programs p
        JOIN program_frameworks pf ON pf.program_id = p.id
        JOIN standards s ON s.framework_id = pf.framework_id
        JOIN alignments a ON a.source_id = s.id AND a.status = 'accepted'
        JOIN standards t ON t.id = a.target_id
        GROUP BY p.id, t.subject
        """
    )
    db.execute(
        """
        CREATE VIEW uncovered_standards AS
        SELECT t.id AS standard_id, f.name AS framework, t.subject, t.grade,
               t.code AS standard_code, t.statement AS standard
        FROM standards t
        JOIN frameworks f ON f.id = t.framework_id
        WHERE f.kind = 'academic' AND t.status = 'active'
        AND NOT EXISTS (
            SELECT 1 FROM alignments a WHERE a.target_id = t.id AND a.status = 'accepted'
        )
        """
    )


@migrations()
def m003_search(db: sqlite_utils.Database) -> None:
    # Porter stemming so that "measuring" finds "measure"; triggers keep it current.
    db["standards"].enable_fts(
        ["code", "statement", "domain", "cluster"],
        tokenize="porter",
        create_triggers=True,
    )


@migrations()
def m004_embedding_cache(db: sqlite_utils.Database) -> None:
    db.execute(
        """
        CREATE TABLE embeddings (
            model TEXT NOT NULL,
            text_hash TEXT NOT NULL,
            vector BLOB NOT NULL,
            PRIMARY KEY (model, text_hash)
        )
        """
    )


@migrations()
def m005_review_log_trigger_and_comments(db: sqlite_utils.Database) -> None:
    # Who wrote a decision and through what (cli, workbook, site); the log
    # trigger reads it and clears it, so both write paths log exactly once.
    db.execute("ALTER TABLE alignments ADD COLUMN review_via TEXT")
    db.execute("ALTER TABLE review_log ADD COLUMN comment TEXT")
    changed = (
        "old.status IS NOT new.status OR old.strength IS NOT new.strength "
        "OR old.rationale IS NOT new.rationale OR (old.needs_review = 1 AND new.needs_review = 0)"
    )
    db.execute(
        f"""
        CREATE TRIGGER alignments_review_log
        AFTER UPDATE OF status, strength, rationale, needs_review ON alignments
        WHEN {changed}
        BEGIN
            INSERT INTO review_log (alignment_id, action, old_status, new_status, old_strength,
                new_strength, old_rationale, new_rationale, reviewer, via, at)
            VALUES (
                new.id,
                CASE
                    WHEN old.status IS NOT new.status THEN
                        CASE new.status WHEN 'accepted' THEN 'accept' WHEN 'rejected' THEN 'reject'
                        ELSE 'reopen' END
                    WHEN old.strength IS NOT new.strength THEN 'set strength'
                    WHEN old.rationale IS NOT new.rationale THEN 'set rationale'
                    ELSE 'confirm'
                END,
                old.status, new.status, old.strength, new.strength, old.rationale, new.rationale,
                CASE WHEN new.review_via IS NULL THEN NULL ELSE new.reviewer END,
                coalesce(new.review_via, 'sql'),
                CASE WHEN new.review_via IS NOT NULL AND new.reviewed_at IS NOT NULL
                    THEN new.reviewed_at ELSE strftime('%Y-%m-%dT%H:%M:%SZ', 'now') END
            );
            UPDATE alignments SET review_via = NULL WHERE id = new.id AND review_via IS NOT NULL;
        END
        """
    )
    # A write that changed nothing must not leave its reviewer for the next one.
    db.execute(
        f"""
        CREATE TRIGGER alignments_review_via_reset
        AFTER UPDATE OF review_via ON alignments
        WHEN new.review_via IS NOT NULL AND NOT ({changed})
        BEGIN
            UPDATE alignments SET review_via = NULL WHERE id = new.id;
        END
        """
    )
    db.execute(
        """
        CREATE TABLE review_comments (
            id INTEGER PRIMARY KEY,
            alignment_id INTEGER NOT NULL REFERENCES alignments(id),
            comment TEXT NOT NULL CHECK (length(trim(comment)) > 0),
            reviewer TEXT NOT NULL CHECK (length(trim(reviewer)) > 0),
            via TEXT NOT NULL DEFAULT 'site',
            at TEXT NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX idx_review_comments_alignment ON review_comments(alignment_id)")
    # Datasette's connections do not enforce foreign keys: check the id here.
    db.execute(
        """
        CREATE TRIGGER review_comments_alignment_exists BEFORE INSERT ON review_comments
        WHEN NOT EXISTS (SELECT 1 FROM alignments WHERE id = new.alignment_id)
        BEGIN SELECT RAISE(ABORT, 'there is no alignment with this id'); END
        """
    )
    db.execute(
        """
        CREATE TRIGGER review_comments_log AFTER INSERT ON review_comments
        BEGIN
            INSERT INTO review_log (alignment_id, action, comment, reviewer, via, at)
            VALUES (new.alignment_id, 'comment', new.comment, new.reviewer, new.via, new.at);
        END
        """
    )
    # A decided pair is never suggested again, whoever inserts the suggestion
    # and whenever (even a match that read the decisions just before a reviewer decided).
    db.execute(
        """
        CREATE TRIGGER alignments_keep_decisions BEFORE INSERT ON alignments
        WHEN coalesce(new.status, 'suggested') = 'suggested' AND EXISTS (
            SELECT 1 FROM alignments WHERE source_id = new.source_id AND target_id = new.target_id
            AND status != 'suggested')
        BEGIN SELECT RAISE(IGNORE); END
        """
    )
    for trigger in ("review_comments_no_update", "review_comments_no_delete"):
        event = "UPDATE" if trigger.endswith("update") else "DELETE"
        db.execute(
            f"CREATE TRIGGER {trigger} BEFORE {event} ON review_comments "
            "BEGIN SELECT RAISE(ABORT, 'review comments are append-only'); END"
        )


# A CHECK of the form ``x IN ('a', 'b', 'c')`` makes SQLite build a small lookup table each
# time the statement runs (lists of two or fewer are compared directly); an ``executemany``
# runs it once per row. On a match that writes 188,000 suggestions, the two below cost
# 0.6 s of a 1.7 s insert. The same constraints written as OR chains cost nothing, and
# accept and refuse exactly the same values (NULL included).
_CHECKS_AS_OR = {
    "CHECK (confidence IN ('high', 'medium', 'low'))":
        "CHECK (confidence = 'high' OR confidence = 'medium' OR confidence = 'low')",
    "CHECK (status IN ('suggested', 'accepted', 'rejected'))":
        "CHECK (status = 'suggested' OR status = 'accepted' OR status = 'rejected')",
}


@migrations()
def m006_alignment_checks_without_lookup_tables(db: sqlite_utils.Database) -> None:
    # Every stored row stays valid and nothing on disk changes but the table's CREATE
    # statement, so it is edited in place, as SQLite documents for such constraint changes
    # (https://www.sqlite.org/lang_altertable.html#otheralter), instead of copying the table.
    conn = db.conn
    (sql,) = conn.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'alignments'").fetchone()
    new = sql
    for check, as_or in _CHECKS_AS_OR.items():
        new = new.replace(check, as_or)
    if new == sql:
        return
    (version,) = conn.execute("PRAGMA schema_version").fetchone()
    conn.execute("PRAGMA writable_schema = ON")
    try:
        conn.execute("UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'alignments'", [new])
        conn.execute(f"PRAGMA schema_version = {version + 1}")
    finally:
        conn.execute("PRAGMA writable_schema = OFF")


# The one format of every time crosswalk writes, 2026-11-22T14:03:09+00:00: now() in Python,
# SQL_NOW in SQL (in triggers, and for writers that are SQL only).
SQL_NOW = "strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now')"


@migrations()
def m008_one_alignment_join(db: sqlite_utils.Database) -> None:
    # An alignment with both of its standards and their frameworks: the join written once. Review,
    # the review site, the workbook, the exports and the views below read it. Every standard has
    # its framework, so LEFT JOIN gives the rows JOIN gives, and lets SQLite leave the frameworks
    # out of a query that reads none of their columns. Only columns the public copy also has.
    db.execute(
        """
        CREATE VIEW alignment_details AS
        SELECT
            a.*,
            s.code AS cte_code,
            s.statement AS cte_statement,
            s.status AS cte_status,
            s.position AS cte_position,
            s.framework_id AS industry_framework_id,
            t.code AS standard_code,
            t.statement AS standard,
            t.status AS standard_status,
            t.subject AS subject,
            t.grade AS grade,
            sf.name AS industry_framework,
            tf.name AS academic_framework
        FROM alignments a
        JOIN standards s ON s.id = a.source_id
        JOIN standards t ON t.id = a.target_id
        LEFT JOIN frameworks sf ON sf.id = s.framework_id
        LEFT JOIN frameworks tf ON tf.id = t.framework_id
        """
    )
    # Each accepted alignment through which a program certifies an academic standard: what the
    # report, the public program page and the program views read.
    db.execute(
        """
        CREATE VIEW program_evidence AS
        SELECT
            pf.program_id AS program_id,
            t.id AS standard_id,
            t.code AS standard_code,
            t.statement AS standard,
            t.subject AS subject,
            t.grade AS grade,
            t.grade_low AS grade_low,
            t.grade_high AS grade_high,
            t.position AS standard_position,
            tf.name AS academic_framework,
            s.id AS cte_id,
            s.code AS cte_code,
            s.statement AS cte_statement,
            sf.name AS credential,
            a.id AS alignment_id,
            a.strength AS strength,
            a.rationale AS rationale,
            a.reviewer AS reviewer,
            a.reviewed_at AS reviewed_at
        FROM program_frameworks pf
        JOIN standards s ON s.framework_id = pf.framework_id
        JOIN alignments a ON a.source_id = s.id AND a.status = 'accepted'
        JOIN standards t ON t.id = a.target_id
        LEFT JOIN frameworks sf ON sf.id = s.framework_id
        LEFT JOIN frameworks tf ON tf.id = t.framework_id
        """
    )
    # The views of m002, the same columns and rows, now read from the two above.
    for view in ("suggestions", "standard_evidence", "program_certifies", "coverage"):
        db.execute(f"DROP VIEW {view}")
    db.execute(
        """
        CREATE VIEW suggestions AS
        SELECT id AS alignment_id, industry_framework, cte_code, cte_statement, standard_code, standard,
            subject, grade, rank, score, confidence, evidence, status, strength, rationale, reviewer, needs_review
        FROM alignment_details
        """
    )
    db.execute(
        """
        CREATE VIEW standard_evidence AS
        SELECT standard_code, standard, academic_framework, cte_code, cte_statement, industry_framework,
            (SELECT group_concat(p.name, '; ') FROM program_frameworks pf
                JOIN programs p ON p.id = pf.program_id
                WHERE pf.framework_id = industry_framework_id) AS programs,
            strength, rationale, reviewer, reviewed_at, id AS alignment_id, target_id AS standard_id,
            source_id AS cte_standard_id
        FROM alignment_details
        WHERE status = 'accepted'
        """
    )
    db.execute(
        """
        CREATE VIEW program_certifies AS
        SELECT
            e.program_id AS program_id,
            p.name AS program,
            e.academic_framework AS academic_framework,
            e.subject AS subject,
            e.grade AS grade,
            e.standard_code AS standard_code,
            e.standard AS standard,
            group_concat(DISTINCT e.cte_code) AS cte_codes,
            count(DISTINCT e.cte_id) AS evidence_count,
            max(CASE e.strength WHEN 'full' THEN 2 WHEN 'partial' THEN 1 ELSE 0 END) AS best_strength_rank,
            CASE max(CASE e.strength WHEN 'full' THEN 2 WHEN 'partial' THEN 1 ELSE 0 END)
                WHEN 2 THEN 'full' WHEN 1 THEN 'partial' ELSE NULL END AS strength,
            e.standard_id AS standard_id
        FROM program_evidence e
        JOIN programs p ON p.id = e.program_id
        GROUP BY e.program_id, e.standard_id
        """
    )
    db.execute(
        """
        CREATE VIEW coverage AS
        SELECT
            p.name AS program,
            e.subject AS subject,
            count(DISTINCT e.standard_id) AS standards_certified,
            (SELECT count(*) FROM standards x
                JOIN frameworks xf ON xf.id = x.framework_id
                WHERE xf.kind = 'academic' AND x.subject = e.subject
                AND x.status = 'active') AS standards_in_subject
        FROM program_evidence e
        JOIN programs p ON p.id = e.program_id
        GROUP BY e.program_id, e.subject
        """
    )


def now() -> str:
    """The current UTC time as an ISO 8601 string, to the second (the format of SQL_NOW too)."""
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat()


def stored_time(text) -> str | None:
    """A time read from a file (an ISO 8601 date or date and time; without a zone, UTC) in the format
    :func:`now` writes; None when the text is no such time.

    Example::

        stored_time("2025-01-15T09:30:00Z"), stored_time("2025-01-15"), stored_time("spring")
        # '2025-01-15T09:30:00+00:00', '2025-01-15T00:00:00+00:00', None
    """
    value = str(text or "").strip()
    try:
        parsed = datetime.datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None
    except ValueError:
        return None
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.timezone.utc)
    return parsed.astimezone(datetime.timezone.utc).replace(microsecond=0).isoformat()


@migrations()
def m007_review_log_flags_and_one_time_format(db: sqlite_utils.Database) -> None:
    # A re-import that flags a reviewed alignment for re-review was in no log: the trigger now
    # logs a flag ('flag', with the reason) like any decision, and writes its own times in the
    # format of now() (it wrote 2026-01-01T10:00:00Z). Rows already logged stay as they are.
    db.execute("ALTER TABLE review_log ADD COLUMN reason TEXT")
    db.execute("DROP TRIGGER alignments_review_log")
    db.execute("DROP TRIGGER alignments_review_via_reset")
    decided = (
        "old.status IS NOT new.status OR old.strength IS NOT new.strength "
        "OR old.rationale IS NOT new.rationale OR (old.needs_review = 1 AND new.needs_review = 0)"
    )
    flagged = (
        "new.needs_review = 1 AND (old.needs_review = 0 "
        "OR old.needs_review_reason IS NOT new.needs_review_reason)"
    )
    only_flagged = f"NOT ({decided}) AND ({flagged})"
    db.execute(
        f"""
        CREATE TRIGGER alignments_review_log
        AFTER UPDATE OF status, strength, rationale, needs_review, needs_review_reason ON alignments
        WHEN ({decided}) OR ({flagged})
        BEGIN
            INSERT INTO review_log (alignment_id, action, old_status, new_status, old_strength,
                new_strength, old_rationale, new_rationale, reviewer, via, reason, at)
            VALUES (
                new.id,
                CASE
                    WHEN old.status IS NOT new.status THEN
                        CASE new.status WHEN 'accepted' THEN 'accept' WHEN 'rejected' THEN 'reject'
                        ELSE 'reopen' END
                    WHEN old.strength IS NOT new.strength THEN 'set strength'
                    WHEN old.rationale IS NOT new.rationale THEN 'set rationale'
                    WHEN {flagged} THEN 'flag'
                    ELSE 'confirm'
                END,
                old.status, new.status, old.strength, new.strength, old.rationale, new.rationale,
                -- A flag is the writer's (an import), not the reviewer's who decided.
                CASE WHEN new.review_via IS NULL OR ({only_flagged}) THEN NULL ELSE new.reviewer END,
                coalesce(new.review_via, 'sql'),
                CASE WHEN {flagged} THEN new.needs_review_reason END,
                CASE
                    WHEN new.review_via IS NULL THEN {SQL_NOW}
                    WHEN ({only_flagged}) THEN coalesce(new.updated_at, {SQL_NOW})
                    ELSE coalesce(new.reviewed_at, {SQL_NOW})
                END
            );
            UPDATE alignments SET review_via = NULL WHERE id = new.id AND review_via IS NOT NULL;
        END
        """
    )
    # A write that changed nothing must not leave its writer for the next one.
    db.execute(
        f"""
        CREATE TRIGGER alignments_review_via_reset
        AFTER UPDATE OF review_via ON alignments
        WHEN new.review_via IS NOT NULL AND NOT (({decided}) OR ({flagged}))
        BEGIN
            UPDATE alignments SET review_via = NULL WHERE id = new.id;
        END
        """
    )



@migrations()
def m009_no_likely_alignment(db: sqlite_utils.Database) -> None:
    """Statements a match found no likely alignment for in a target framework (a mark a
    committee can dismiss in one step; replaced by the next match of the same frameworks)."""
    db.execute(
        """
        create table if not exists no_likely_alignment (
            source_id integer not null references standards(id) on delete cascade,
            target_framework_id integer not null references frameworks(id) on delete cascade,
            best_score real,
            method text,
            marked_at text,
            primary key (source_id, target_framework_id)
        )
        """
    )

PROGRAM_STATUSES = ("draft", "in review", "approved")
DEFAULT_BAND = (9, 12)  # a CTE program is a high-school program unless it says otherwise


def in_band_sql(alias: str, low: str, high: str) -> str:
    """The one rule for "a standard is in a grade band", as SQL: it has no grade (it applies to
    every band) or its grade range overlaps the band. ``low``/``high`` are SQL expressions
    (parameters or columns); ``high`` comes first in the text, so positional parameters go
    ``[high, low]``. ``match --grade``, coverage and the gaps read it.

    Example::

        in_band_sql("t", "p.grade_low", "p.grade_high")
    """
    return f"({alias}.grade_low IS NULL OR ({alias}.grade_low <= {high} AND {alias}.grade_high >= {low}))"


def row_id(value) -> int | None:
    """The id of a row from what a page, a form or a spreadsheet cell gave: a whole number SQLite can
    hold (ASCII digits: "²" is a digit to str.isdigit), else None. The one rule for an id from outside:
    a number past SQLite's integers is no row's, and sqlite3 refuses to pass it (a 500 on the site).

    Example::

        row_id("12"), row_id("99999999999999999999"), row_id("x")  # 12, None, None
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    else:
        text = str(value).strip() if value is not None else ""
        if not (text.isascii() and text.isdigit()) or len(text) > 19:
            return None
        number = int(text)
    return number if 0 < number < 2**63 else None


def worked_on_sql(alias: str) -> str:
    """The one rule, as SQL, for a suggestion a reviewer has worked on without deciding it: a comment,
    a rationale, or anything in its history (reopened, flagged, a rationale set and cleared). A new
    match or an import keeps it rather than deleting it with the suggestions that fell out, so that
    the reviewer's words stay, and stay with their pair: SQLite gives a deleted alignment's id to
    the next one inserted, and its history would have become another pair's.

    Example::

        f"delete from alignments a where a.status = 'suggested' and not {worked_on_sql('a')}"
    """
    return (f"({alias}.rationale is not null"
            f" or exists (select 1 from review_comments c where c.alignment_id = {alias}.id)"
            f" or exists (select 1 from review_log l where l.alignment_id = {alias}.id))")


# A program's accepted decisions that certify nothing for it because their standard is outside its
# grade band (:p): what the program's pages and report say where it certifies nothing.
OUTSIDE_BAND_SQL = """
    select count(*) as outside from current_alignments a
    join program_frameworks pf on pf.framework_id = a.industry_framework_id and pf.program_id = :p
    where a.status = 'accepted'
      and not exists (select 1 from program_evidence e where e.program_id = :p and e.alignment_id = a.id)
"""


def statement_order_sql(alias: str) -> str:
    """The one rule for the order of one statement's suggestions, as SQL: the matcher's order
    (``rank``: the statement's own best match first, then by score; matching/ranking.py), so that
    a standard that decisions made popular, and that outscores the statement's own best match,
    does not head every statement's list. Alignments without a rank (added by a reviewer) follow.

    Example::

        f"... order by {statement_order_sql('a')}"
    """
    return f"{alias}.rank is null, {alias}.rank, {alias}.score desc"


def _program_coverage_view(db: sqlite_utils.Database, name: str, keys: str) -> None:
    """A view of each program's band coverage grouped by ``keys`` (subject; subject and domain;
    subject, domain and cluster), counted the same way at every level."""
    db.execute(
        f"""
        CREATE VIEW {name} AS
        SELECT
            program_id, program, {keys},
            count(*) AS standards,
            coalesce(sum(strength = 'full'), 0) AS "full",
            coalesce(sum(strength = 'partial'), 0) AS partial,
            sum(strength IS NOT NULL) AS certified,
            round(100.0 * sum(strength IS NOT NULL) / count(*), 1) AS percent
        FROM program_standards
        GROUP BY program_id, {keys}
        """
    )


@migrations()
def m010_program_band_signoff_stale(db: sqlite_utils.Database) -> None:
    """A program's grade band (the denominator of its coverage) and its sign-off status, logged
    in review_log like a decision; an accepted alignment that needs re-review, or whose statement
    is retired, no longer certifies; coverage views read against the band."""
    db.execute(f"ALTER TABLE programs ADD COLUMN grade_low INTEGER NOT NULL DEFAULT {DEFAULT_BAND[0]}")
    db.execute(f"ALTER TABLE programs ADD COLUMN grade_high INTEGER NOT NULL DEFAULT {DEFAULT_BAND[1]}")
    db.execute(
        "ALTER TABLE programs ADD COLUMN status TEXT NOT NULL DEFAULT 'draft' "
        "CHECK (status IN ('draft', 'in review', 'approved'))"
    )
    for column in ("status_by", "status_at", "status_via"):
        db.execute(f"ALTER TABLE programs ADD COLUMN {column} TEXT")

    # review_log gets program rows (a sign-off), so alignment_id becomes nullable: the table is
    # rebuilt, keeping every row (its old columns first, in their order: `select *` reads as before).
    # The triggers that write it are set aside and put back as they were.
    writers = db.execute(
        "select name, sql from sqlite_master where type = 'trigger' and tbl_name != 'review_log' "
        "and sql like '%review_log%'"
    ).fetchall()
    for name, _ in writers:
        db.execute(f"DROP TRIGGER [{name}]")
    db.execute("DROP TRIGGER review_log_no_update")
    db.execute("DROP TRIGGER review_log_no_delete")
    columns = ", ".join(row[1] for row in db.execute("PRAGMA table_info(review_log)").fetchall())
    db.execute(
        """
        CREATE TABLE review_log_new (
            id INTEGER PRIMARY KEY,
            alignment_id INTEGER,
            action TEXT NOT NULL,
            old_status TEXT,
            new_status TEXT,
            old_strength TEXT,
            new_strength TEXT,
            old_rationale TEXT,
            new_rationale TEXT,
            reviewer TEXT,
            via TEXT,
            at TEXT NOT NULL,
            comment TEXT,
            reason TEXT,
            program_id INTEGER,
            CHECK (alignment_id IS NOT NULL OR program_id IS NOT NULL)
        )
        """
    )
    db.execute(f"INSERT INTO review_log_new ({columns}) SELECT {columns} FROM review_log")
    db.execute("DROP TABLE review_log")
    db.execute("ALTER TABLE review_log_new RENAME TO review_log")
    db.execute("CREATE INDEX idx_review_log_alignment ON review_log(alignment_id)")
    db.execute("CREATE INDEX idx_review_log_program ON review_log(program_id)")
    db.execute(
        """
        CREATE TRIGGER review_log_no_update BEFORE UPDATE ON review_log
        BEGIN SELECT RAISE(ABORT, 'review_log is append-only'); END
        """
    )
    db.execute(
        """
        CREATE TRIGGER review_log_no_delete BEFORE DELETE ON review_log
        BEGIN SELECT RAISE(ABORT, 'review_log is append-only'); END
        """
    )
    for _, sql in writers:
        db.execute(sql)
    # Every status change of a program is logged, by whoever made it (status_via names the
    # writer, as review_via does for a decision; a bare SQL update is logged as 'sql', anonymous).
    # A writer that sets the same status again (a second approval) is logged too.
    db.execute(
        f"""
        CREATE TRIGGER programs_status_log
        AFTER UPDATE OF status, status_via ON programs
        WHEN old.status IS NOT new.status OR new.status_via IS NOT NULL
        BEGIN
            INSERT INTO review_log (program_id, action, old_status, new_status, reviewer, via, at)
            VALUES (
                new.id,
                CASE new.status WHEN 'approved' THEN 'approve' ELSE 'set status' END,
                old.status, new.status,
                CASE WHEN new.status_via IS NULL THEN NULL ELSE new.status_by END,
                coalesce(new.status_via, 'sql'),
                CASE WHEN new.status_via IS NULL THEN {SQL_NOW} ELSE coalesce(new.status_at, {SQL_NOW}) END
            );
            UPDATE programs SET status_via = NULL WHERE id = new.id AND status_via IS NOT NULL;
        END
        """
    )

    for view in ("coverage", "program_certifies", "program_evidence"):
        db.execute(f"DROP VIEW {view}")
    # What certifies: an accepted decision nobody has to look at again. A re-import that changed
    # or retired one of its statements flags it (needs_review); it certifies again once decided again.
    db.execute(
        """
        CREATE VIEW program_evidence AS
        SELECT
            pf.program_id AS program_id,
            t.id AS standard_id,
            t.code AS standard_code,
            t.statement AS standard,
            t.subject AS subject,
            t.domain AS domain,
            t.cluster AS cluster,
            t.grade AS grade,
            t.grade_low AS grade_low,
            t.grade_high AS grade_high,
            t.position AS standard_position,
            tf.name AS academic_framework,
            s.id AS cte_id,
            s.code AS cte_code,
            s.statement AS cte_statement,
            sf.name AS credential,
            a.id AS alignment_id,
            a.strength AS strength,
            a.rationale AS rationale,
            a.reviewer AS reviewer,
            a.reviewed_at AS reviewed_at
        FROM program_frameworks pf
        JOIN standards s ON s.framework_id = pf.framework_id AND s.status = 'active'
        JOIN alignments a ON a.source_id = s.id AND a.status = 'accepted' AND a.needs_review = 0
        JOIN standards t ON t.id = a.target_id AND t.status = 'active'
        LEFT JOIN frameworks sf ON sf.id = s.framework_id
        LEFT JOIN frameworks tf ON tf.id = t.framework_id
        """
    )
    db.execute(
        """
        CREATE VIEW program_rereview AS
        SELECT
            pf.program_id AS program_id,
            a.id AS alignment_id,
            s.code AS cte_code,
            s.statement AS cte_statement,
            sf.name AS credential,
            t.id AS standard_id,
            t.code AS standard_code,
            t.statement AS standard,
            t.subject AS subject,
            coalesce(a.needs_review_reason,
                CASE WHEN s.status != 'active' THEN 'the CTE statement ' || s.code || ' was retired'
                     ELSE 'the standard ' || t.code || ' was retired' END) AS reason,
            a.strength AS strength,
            a.reviewer AS reviewer,
            a.reviewed_at AS reviewed_at
        FROM program_frameworks pf
        JOIN standards s ON s.framework_id = pf.framework_id
        JOIN alignments a ON a.source_id = s.id AND a.status = 'accepted'
        JOIN standards t ON t.id = a.target_id
        LEFT JOIN frameworks sf ON sf.id = s.framework_id
        WHERE a.needs_review = 1 OR s.status != 'active' OR t.status != 'active'
        """
    )
    db.execute(
        """
        CREATE VIEW program_certifies AS
        SELECT
            e.program_id AS program_id,
            p.name AS program,
            e.academic_framework AS academic_framework,
            e.subject AS subject,
            e.grade AS grade,
            e.standard_code AS standard_code,
            e.standard AS standard,
            group_concat(DISTINCT e.cte_code) AS cte_codes,
            count(DISTINCT e.cte_id) AS evidence_count,
            max(CASE e.strength WHEN 'full' THEN 2 WHEN 'partial' THEN 1 ELSE 0 END) AS best_strength_rank,
            CASE max(CASE e.strength WHEN 'full' THEN 2 WHEN 'partial' THEN 1 ELSE 0 END)
                WHEN 2 THEN 'full' WHEN 1 THEN 'partial' ELSE NULL END AS strength,
            e.standard_id AS standard_id
        FROM program_evidence e
        JOIN programs p ON p.id = e.program_id
        GROUP BY e.program_id, e.standard_id
        """
    )
    # Every academic standard of a program's grade band, certified or not: the denominator.
    db.execute(
        f"""
        CREATE VIEW program_standards AS
        SELECT
            p.id AS program_id,
            p.name AS program,
            t.id AS standard_id,
            t.code AS standard_code,
            t.statement AS standard,
            tf.name AS academic_framework,
            t.subject AS subject,
            t.domain AS domain,
            t.cluster AS cluster,
            t.grade AS grade,
            t.grade_low AS grade_low,
            t.grade_high AS grade_high,
            t.position AS standard_position,
            CASE c.best WHEN 2 THEN 'full' WHEN 1 THEN 'partial' END AS strength,
            coalesce(c.evidence_count, 0) AS evidence_count
        FROM programs p
        JOIN frameworks tf ON tf.kind = 'academic'
        JOIN standards t ON t.framework_id = tf.id AND t.status = 'active'
            AND {in_band_sql("t", "p.grade_low", "p.grade_high")}
        LEFT JOIN (
            SELECT program_id, standard_id, count(DISTINCT cte_id) AS evidence_count,
                max(CASE strength WHEN 'full' THEN 2 WHEN 'partial' THEN 1 ELSE 0 END) AS best
            FROM program_evidence GROUP BY program_id, standard_id
        ) c ON c.program_id = p.id AND c.standard_id = t.id
        """
    )
    _program_coverage_view(db, "program_coverage", "subject")
    _program_coverage_view(db, "program_domain_coverage", "subject, domain")
    db.execute(
        """
        CREATE VIEW coverage AS
        SELECT program, subject, certified AS standards_certified, standards AS standards_in_subject
        FROM program_coverage
        WHERE certified > 0
        """
    )
    # The gaps: standards of some program's band that no program certifies.
    db.execute("DROP VIEW uncovered_standards")
    db.execute(
        f"""
        CREATE VIEW uncovered_standards AS
        SELECT t.id AS standard_id, f.name AS framework, t.subject, t.domain, t.cluster, t.grade,
               t.grade_low, t.grade_high, t.position AS standard_position,
               t.code AS standard_code, t.statement AS standard
        FROM standards t
        JOIN frameworks f ON f.id = t.framework_id
        WHERE f.kind = 'academic' AND t.status = 'active'
        AND EXISTS (SELECT 1 FROM programs p WHERE {in_band_sql("t", "p.grade_low", "p.grade_high")})
        AND NOT EXISTS (SELECT 1 FROM program_evidence e WHERE e.standard_id = t.id)
        """
    )
    # A program's review at a glance: the home page and `program list` read it.
    db.execute(
        """
        CREATE VIEW program_progress AS
        WITH own AS (
            SELECT pf.program_id, s.id AS source_id
            FROM program_frameworks pf JOIN standards s ON s.framework_id = pf.framework_id AND s.status = 'active'
        ),
        tally AS (
            SELECT own.program_id,
                sum(a.status = 'suggested') AS suggested,
                sum(a.status = 'accepted' AND a.needs_review = 0) AS accepted,
                sum(a.status = 'rejected') AS rejected,
                sum(a.status = 'accepted' AND a.needs_review = 1) AS needs_rereview,
                count(DISTINCT CASE WHEN a.status != 'suggested' THEN a.source_id END) AS statements_decided
            FROM own JOIN alignments a ON a.source_id = own.source_id
            GROUP BY own.program_id
        )
        SELECT
            p.id AS program_id,
            p.name AS program,
            p.grade_low AS grade_low,
            p.grade_high AS grade_high,
            p.status AS status,
            p.status_by AS status_by,
            p.status_at AS status_at,
            (SELECT count(*) FROM own WHERE own.program_id = p.id) AS statements,
            coalesce(tally.suggested, 0) AS suggested,
            coalesce(tally.accepted, 0) AS accepted,
            coalesce(tally.rejected, 0) AS rejected,
            coalesce(tally.needs_rereview, 0) AS needs_rereview,
            (SELECT count(DISTINCT n.source_id) FROM no_likely_alignment n
                JOIN own ON own.source_id = n.source_id AND own.program_id = p.id) AS no_likely_alignment,
            coalesce(tally.statements_decided, 0) AS statements_decided,
            (SELECT count(*) FROM review_log l JOIN alignments a ON a.id = l.alignment_id
                JOIN own ON own.source_id = a.source_id AND own.program_id = p.id
                WHERE p.status_at IS NOT NULL AND l.at > p.status_at) AS changes_since_status
        FROM programs p
        LEFT JOIN tally ON tally.program_id = p.id
        """
    )


@migrations()
def m011_cluster_coverage(db: sqlite_utils.Database) -> None:
    """Coverage of a program's band by cluster (the group of standards within a domain, as CCSS
    names them), beside by subject and by domain."""
    _program_coverage_view(db, "program_cluster_coverage", "subject, domain, cluster")


@migrations()
def m012_alignments_by_target_and_status(db: sqlite_utils.Database) -> None:
    """A standard's accepted alignments found without reading its suggestions: the gaps pages and
    the uncovered_standards view ask, for each standard, whether any of its alignments is accepted.
    On a crosswalk of 296,850 alignments (141 a standard) the first /gaps?subject=Math of the
    working site ran three queries of 1.1, 1.7 and 1.7 s; with this index 0.30, 0.26 and 0.26 s
    (uncovered_standards 0.57 -> 0.05 s). It replaces the index on target_id alone, its prefix."""
    db.execute("CREATE INDEX IF NOT EXISTS idx_alignments_target_status ON alignments(target_id, status)")
    db.execute("DROP INDEX IF EXISTS idx_alignments_target")


@migrations()
def m013_program_progress_counts_what_its_pages_list(db: sqlite_utils.Database) -> None:
    """A program's decisions to re-review are counted from ``program_rereview``, the list the report,
    the program page and the review site show: the count left out accepted decisions whose CTE
    statement was retired, so `program list`, `approve` and the page's summary said 2 where the list
    below it held 4. Its changes since its sign-off (shown with its status) count what changed a
    decision (a comment does not), on its statements retired since too."""
    db.execute("DROP VIEW program_progress")
    db.execute(
        """
        CREATE VIEW program_progress AS
        WITH own AS (
            SELECT pf.program_id, s.id AS source_id
            FROM program_frameworks pf JOIN standards s ON s.framework_id = pf.framework_id AND s.status = 'active'
        ),
        tally AS (
            SELECT own.program_id,
                sum(a.status = 'suggested') AS suggested,
                sum(a.status = 'accepted' AND a.needs_review = 0) AS accepted,
                sum(a.status = 'rejected') AS rejected,
                count(DISTINCT CASE WHEN a.status != 'suggested' THEN a.source_id END) AS statements_decided
            FROM own JOIN alignments a ON a.source_id = own.source_id
            GROUP BY own.program_id
        )
        SELECT
            p.id AS program_id,
            p.name AS program,
            p.grade_low AS grade_low,
            p.grade_high AS grade_high,
            p.status AS status,
            p.status_by AS status_by,
            p.status_at AS status_at,
            (SELECT count(*) FROM own WHERE own.program_id = p.id) AS statements,
            coalesce(tally.suggested, 0) AS suggested,
            coalesce(tally.accepted, 0) AS accepted,
            coalesce(tally.rejected, 0) AS rejected,
            (SELECT count(*) FROM program_rereview r WHERE r.program_id = p.id) AS needs_rereview,
            (SELECT count(DISTINCT n.source_id) FROM no_likely_alignment n
                JOIN own ON own.source_id = n.source_id AND own.program_id = p.id) AS no_likely_alignment,
            coalesce(tally.statements_decided, 0) AS statements_decided,
            (SELECT count(*) FROM review_log l JOIN alignments a ON a.id = l.alignment_id
                JOIN standards s ON s.id = a.source_id
                JOIN program_frameworks pf ON pf.framework_id = s.framework_id AND pf.program_id = p.id
                WHERE p.status_at IS NOT NULL AND l.at > p.status_at AND l.action != 'comment'
            ) AS changes_since_status
        FROM programs p
        LEFT JOIN tally ON tally.program_id = p.id
        """
    )


@migrations()
def m014_changes_since_sign_off_by_log_order(db: sqlite_utils.Database) -> None:
    """A program's changes since its sign-off are the decisions logged after the sign-off's own log
    row, not at a later second: times are to the second, so a decision made in the second of the
    approval was not counted (5 times of 5 when run one after the other), and the approval's page
    and `program list` said nothing of it. (A program signed off before its status was logged, by
    SQL, falls back to the time.)"""
    sql = db.execute("SELECT sql FROM sqlite_master WHERE type = 'view' AND name = 'program_progress'").fetchone()[0]
    old = "WHERE p.status_at IS NOT NULL AND l.at > p.status_at AND l.action != 'comment'"
    new = ("WHERE p.status_at IS NOT NULL AND l.action != 'comment' AND coalesce("
           "l.id > (SELECT max(g.id) FROM review_log g WHERE g.program_id = p.id), l.at > p.status_at)")
    if old not in sql:
        raise RuntimeError("program_progress is not the view m013 made")
    db.execute("DROP VIEW program_progress")
    db.execute(sql.replace(old, new))



@migrations()
def m015_what_certifies_written_once(db: sqlite_utils.Database) -> None:
    """What certifies, written once: ``current_alignments``, the alignments between two active
    statements that nobody has to look at again (a re-import that changed or retired one of their
    statements flags them); an accepted one certifies. The program views, the exports and the CASE
    package read it, where each wrote the rule out before.

    And a program certifies only the standards of its grade band: ``program_evidence`` holds the
    accepted alignments to them alone. ``program_certifies`` (the program page's "what it
    certifies" and the what_a_program_certifies query) listed a grade 9-10 standard for a program of
    grades 11-12, beside a page, a report and ``program list`` that count only the band's; the
    report and the site each filtered the view by the band themselves.

    ``standard_evidence`` (the evidence_for_a_standard query: "Which CTE work certifies a standard?")
    listed accepted decisions flagged for re-review beside those that certify."""
    db.execute(
        """
        CREATE VIEW current_alignments AS
        SELECT * FROM alignment_details
        WHERE needs_review = 0 AND cte_status = 'active' AND standard_status = 'active'
        """
    )
    for view in ("program_evidence", "program_rereview", "standard_evidence"):
        db.execute(f"DROP VIEW {view}")
    db.execute(
        """
        CREATE VIEW standard_evidence AS
        SELECT standard_code, standard, academic_framework, cte_code, cte_statement, industry_framework,
            (SELECT group_concat(p.name, '; ') FROM program_frameworks pf
                JOIN programs p ON p.id = pf.program_id
                WHERE pf.framework_id = industry_framework_id) AS programs,
            strength, rationale, reviewer, reviewed_at, id AS alignment_id, target_id AS standard_id,
            source_id AS cte_standard_id
        FROM current_alignments
        WHERE status = 'accepted'
        """
    )
    db.execute(
        f"""
        CREATE VIEW program_evidence AS
        SELECT
            p.id AS program_id,
            t.id AS standard_id,
            t.code AS standard_code,
            t.statement AS standard,
            t.subject AS subject,
            t.domain AS domain,
            t.cluster AS cluster,
            t.grade AS grade,
            t.grade_low AS grade_low,
            t.grade_high AS grade_high,
            t.position AS standard_position,
            a.academic_framework AS academic_framework,
            a.source_id AS cte_id,
            a.cte_code AS cte_code,
            a.cte_statement AS cte_statement,
            a.industry_framework AS credential,
            a.id AS alignment_id,
            a.strength AS strength,
            a.rationale AS rationale,
            a.reviewer AS reviewer,
            a.reviewed_at AS reviewed_at
        FROM programs p
        JOIN program_frameworks pf ON pf.program_id = p.id
        JOIN current_alignments a ON a.industry_framework_id = pf.framework_id AND a.status = 'accepted'
        JOIN standards t ON t.id = a.target_id AND {in_band_sql("t", "p.grade_low", "p.grade_high")}
        """
    )
    # The accepted decisions that are not current: to be decided again (with why).
    db.execute(
        """
        CREATE VIEW program_rereview AS
        SELECT
            pf.program_id AS program_id,
            a.id AS alignment_id,
            s.code AS cte_code,
            s.statement AS cte_statement,
            sf.name AS credential,
            t.id AS standard_id,
            t.code AS standard_code,
            t.statement AS standard,
            t.subject AS subject,
            coalesce(a.needs_review_reason,
                CASE WHEN s.status != 'active' THEN 'the CTE statement ' || s.code || ' was retired'
                     ELSE 'the standard ' || t.code || ' was retired' END) AS reason,
            a.strength AS strength,
            a.reviewer AS reviewer,
            a.reviewed_at AS reviewed_at
        FROM program_frameworks pf
        JOIN standards s ON s.framework_id = pf.framework_id
        JOIN alignments a ON a.source_id = s.id AND a.status = 'accepted'
        JOIN standards t ON t.id = a.target_id
        LEFT JOIN frameworks sf ON sf.id = s.framework_id
        WHERE NOT EXISTS (SELECT 1 FROM current_alignments c WHERE c.id = a.id)
        """
    )
    sql = db.execute("SELECT sql FROM sqlite_master WHERE type = 'view' AND name = 'program_progress'").fetchone()[0]
    old = "sum(a.status = 'accepted' AND a.needs_review = 0) AS accepted"
    # CASE, not AND: SQLite ran the subquery for every alignment under AND (on 93,950 alignments, 6,263
    # accepted: 186 ms against 22 ms; the rule written out, 18 ms).
    new = ("sum(CASE WHEN a.status = 'accepted' THEN EXISTS (SELECT 1 FROM current_alignments c WHERE c.id = a.id) "
           "END) AS accepted")
    if old not in sql:
        raise RuntimeError("program_progress is not the view m014 made")
    db.execute("DROP VIEW program_progress")
    db.execute(sql.replace(old, new))


def _edit_stored(db, kind: str, name: str, made_by: str, edits) -> None:
    """Remake a view or trigger from its stored SQL with each (old, new) text replaced: a migration
    that changes a line of one, rather than writing it all out again. Each old text must be there
    once (else the object is not the one ``made_by`` made, and the migration stops)."""
    sql = db.execute("SELECT sql FROM sqlite_master WHERE type = ? AND name = ?", [kind, name]).fetchone()[0]
    for old, new in edits:
        if sql.count(old) != 1:
            raise RuntimeError(f"{name} is not the {kind} {made_by} made")
        sql = sql.replace(old, new)
    db.execute(f"DROP {kind.upper()} {name}")
    db.execute(sql)


def _edit_table(db, name: str, made_by: str, old: str, new: str) -> None:
    """A table's stored CREATE statement with ``old`` (there once, else the table is not the one
    ``made_by`` made, and the migration stops) replaced by ``new``, in place, as SQLite documents
    for constraint changes every stored row already meets (m006), instead of copying the table."""
    conn = db.conn
    (sql,) = conn.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", [name]).fetchone()
    if sql.count(old) != 1:
        raise RuntimeError(f"{name} is not the table {made_by} made")
    (version,) = conn.execute("PRAGMA schema_version").fetchone()
    conn.execute("PRAGMA writable_schema = ON")
    try:
        conn.execute("UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?", [sql.replace(old, new), name])
        conn.execute(f"PRAGMA schema_version = {version + 1}")
    finally:
        conn.execute("PRAGMA writable_schema = OFF")


@migrations()
def m016_decisions_to_decide_again_and_who_certifies(db: sqlite_utils.Database) -> None:
    """The accepted decisions that certify nothing until decided again, with why, written once
    (``rereview_alignments``, every framework's; ``program_rereview`` is its rows for each program):
    a standard's page marked them only where a program taught the credential, so an acceptance
    flagged for re-review in a credential no program teaches was listed as certifying.

    ``standard_evidence`` names the programs for which an alignment certifies the standard (those
    whose grade band holds it, ``program_evidence``), not every program that teaches the credential,
    as the program pages and the gaps count. And a program's suggestions awaiting review are those
    between two active statements, as its review page lists them (a suggestion someone commented on
    is kept when its standard is retired, flagged)."""
    db.execute(
        """
        CREATE VIEW rereview_alignments AS
        SELECT
            a.id AS alignment_id,
            a.source_id AS cte_id,
            a.cte_code AS cte_code,
            a.cte_statement AS cte_statement,
            a.industry_framework AS credential,
            a.industry_framework_id AS industry_framework_id,
            a.target_id AS standard_id,
            a.standard_code AS standard_code,
            a.standard AS standard,
            a.subject AS subject,
            coalesce(a.needs_review_reason,
                CASE WHEN a.cte_status != 'active' THEN 'the CTE statement ' || a.cte_code || ' was retired'
                     ELSE 'the standard ' || a.standard_code || ' was retired' END) AS reason,
            a.strength AS strength,
            a.reviewer AS reviewer,
            a.reviewed_at AS reviewed_at
        FROM alignment_details a
        WHERE a.status = 'accepted' AND NOT EXISTS (SELECT 1 FROM current_alignments c WHERE c.id = a.id)
        """
    )
    for view in ("program_rereview", "standard_evidence"):
        db.execute(f"DROP VIEW {view}")
    db.execute(
        """
        CREATE VIEW program_rereview AS
        SELECT pf.program_id AS program_id, r.alignment_id, r.cte_code, r.cte_statement, r.credential,
            r.standard_id, r.standard_code, r.standard, r.subject, r.reason, r.strength, r.reviewer, r.reviewed_at
        FROM program_frameworks pf
        JOIN rereview_alignments r ON r.industry_framework_id = pf.framework_id
        """
    )
    db.execute(
        """
        CREATE VIEW standard_evidence AS
        SELECT standard_code, standard, academic_framework, cte_code, cte_statement, industry_framework,
            (SELECT group_concat(p.name, '; ') FROM program_evidence e
                JOIN programs p ON p.id = e.program_id
                WHERE e.alignment_id = c.id) AS programs,
            strength, rationale, reviewer, reviewed_at, id AS alignment_id, target_id AS standard_id,
            source_id AS cte_standard_id
        FROM current_alignments c
        WHERE status = 'accepted'
        """
    )
    # (The retired standards' ids, read once: on 93,950 alignments the tally took 23 ms so, 44 ms
    # joined to each alignment's standard, 8 ms counting every suggestion.)
    _edit_stored(db, "view", "program_progress", "m015", (
        ("sum(a.status = 'suggested') AS suggested",
         "sum(a.status = 'suggested' AND a.target_id NOT IN (SELECT id FROM standards WHERE status != 'active'))"
         " AS suggested"),))


@migrations()
def m017_review_queue_index(db: sqlite_utils.Database) -> None:
    """The review queue's order (decisions to re-review first, then by score) as an index of what it
    lists: a page of the queue sorted every suggestion's wide row (see review_plugin.queue_sql).
    Built in 0.14 s, 1.5 MB, on a crosswalk of 93,950 alignments."""
    db.execute("CREATE INDEX IF NOT EXISTS idx_alignments_queue ON alignments(needs_review DESC, score DESC) "
               "WHERE status = 'suggested' OR needs_review = 1")


@migrations()
def m018_a_programs_decisions_to_decide_again_are_its_bands(db: sqlite_utils.Database) -> None:
    """A program's decisions to decide again are those on standards of its grade band, as what it
    certifies is (m015): a program of grades 11-12 listed and counted "4 to re-review", two of them
    on grade 4 and grade 7 standards that could never certify anything for it."""
    db.execute("DROP VIEW program_rereview")
    db.execute(
        f"""
        CREATE VIEW program_rereview AS
        SELECT pf.program_id AS program_id, r.alignment_id, r.cte_code, r.cte_statement, r.credential,
            r.standard_id, r.standard_code, r.standard, r.subject, r.reason, r.strength, r.reviewer, r.reviewed_at
        FROM programs p
        JOIN program_frameworks pf ON pf.program_id = p.id
        JOIN rereview_alignments r ON r.industry_framework_id = pf.framework_id
        JOIN standards t ON t.id = r.standard_id AND {in_band_sql("t", "p.grade_low", "p.grade_high")}
        """
    )


@migrations()
def m019_decided_again_leaves_the_rereview_list_and_a_restored_statement_lifts_its_flags(
        db: sqlite_utils.Database) -> None:
    """What to decide again is what is flagged: ``rereview_alignments`` held every accepted decision
    that does not certify, so a decision on a statement retired by a re-import stayed "to re-review"
    after the committee accepted it again (only rejecting it, and losing it, took it off the list).
    Decided again, it leaves the list; it certifies nothing while its statement is retired
    (``current_alignments``), and again once a re-import brings the statement back.

    And a flag the importer lifts (a retired statement back, in the same words: importer._diff) is
    logged as the import's ('unflag', with the flag it lifted as the reason), not as a confirmation
    by the decision's reviewer."""
    lifted = "new.review_via = 'import' AND old.needs_review = 1 AND new.needs_review = 0"
    for kind, name, made_by, edits in (
        ("view", "rereview_alignments", "m016", (
            ("WHERE a.status = 'accepted' AND NOT EXISTS (SELECT 1 FROM current_alignments c WHERE c.id = a.id)",
             "WHERE a.status = 'accepted' AND a.needs_review = 1"),
            # (a flag without its reason: which statement was retired, else a statement changed)
            ("ELSE 'the standard ' || a.standard_code || ' was retired' END",
             "WHEN a.standard_status != 'active' THEN 'the standard ' || a.standard_code || ' was retired'\n"
             "                     ELSE 'a statement changed' END"))),
        ("trigger", "alignments_review_log", "m007", (
            ("ELSE 'confirm'", f"WHEN {lifted} THEN 'unflag' ELSE 'confirm'"),
            ("CASE WHEN new.review_via IS NULL OR (",
             "CASE WHEN new.review_via IS NULL OR new.review_via = 'import' OR ("),
            ("THEN new.needs_review_reason END",
             f"THEN new.needs_review_reason WHEN {lifted} THEN old.needs_review_reason END"),
            ("ELSE coalesce(new.reviewed_at,", f"WHEN {lifted} THEN coalesce(new.updated_at, {SQL_NOW})\n"
                                              "                    ELSE coalesce(new.reviewed_at,"))),
    ):
        _edit_stored(db, kind, name, made_by, edits)


@migrations()
def m020_an_alignment_the_matcher_never_scored_has_no_score(db: sqlite_utils.Database) -> None:
    """A pair decided from an imported crosswalk that the matcher never suggested was stored with
    score 0, shown as "Score 0.0 (- confidence)", as if the matcher had judged it 0% likely. Its score
    is now NULL: nothing. The table's NOT NULL is dropped in place (as m006 edits its CHECKs: every
    stored row stays valid, as SQLite documents for removing a NOT NULL constraint)."""
    _edit_table(db, "alignments", "m001", "score REAL NOT NULL CHECK (score >= 0 AND score <= 100)",
                "score REAL CHECK (score >= 0 AND score <= 100)")
    db.execute("UPDATE alignments SET score = NULL WHERE method = 'import-decisions' AND score = 0")


@migrations()
def m021_an_accepted_alignment_has_a_strength(db: sqlite_utils.Database) -> None:
    """An alignment accepted without a strength (before review.DECIDE gave such a decision full, or
    by bare SQL) read four ways: full to the review pages, partial to the CASE export,
    skos:relatedMatch to SSSOM, and to coverage no certification at all, while the evidence listed
    it. It is now full, as DECIDE makes every such decision (the change logged as the upgrade's,
    'upgrade', with no reviewer: the review log's trigger names no one for it, as for an import),
    and the table's CHECK refuses the state, edited in place as m006 edits its CHECKs (every row
    is valid once updated)."""
    _edit_stored(db, "trigger", "alignments_review_log", "m019", (
        ("CASE WHEN new.review_via IS NULL OR new.review_via = 'import' OR (",
         "CASE WHEN new.review_via IS NULL OR new.review_via IN ('import', 'upgrade') OR ("),))
    db.execute("UPDATE alignments SET strength = 'full', review_via = 'upgrade' "
               "WHERE status = 'accepted' AND strength IS NULL")
    _edit_table(db, "alignments", "m001", "strength TEXT CHECK (strength IN ('full', 'partial'))",
                f"strength TEXT CHECK ({STRENGTH_CHECK})")


@migrations()
def m022_flags_since_sign_off_apart_from_changes(db: sqlite_utils.Database) -> None:
    """What happened to a program's decisions since its sign-off, in two counts: the changes someone
    made to them (``changes_since_status``: decided, re-decided, a strength or rationale set; not
    m021's upgrade, which no one made), and its decisions flagged for re-review since and still
    waiting for it (``flagged_since_status``: a re-import changed or retired one of their statements;
    each once; not a flag a later import lifted, its statement back, nor a commented suggestion's).
    Counted as one, a re-import that changed three tasks made an approved program read "approved
    ...; 3 changes to its decisions since", though no one had changed a decision (a director's walk)."""
    since = ("coalesce(l.id > (SELECT max(g.id) FROM review_log g WHERE g.program_id = p.id), "
             "l.at > p.status_at)")
    _edit_stored(db, "view", "program_progress", "m016", (
        (f"WHERE p.status_at IS NOT NULL AND l.action != 'comment' AND {since}",
         "WHERE p.status_at IS NOT NULL AND l.action NOT IN ('comment', 'flag', 'unflag') AND l.via != 'upgrade'\n"
         f"                    AND {since}"),
        (") AS changes_since_status",
         ") AS changes_since_status,\n"
         "            (SELECT count(DISTINCT l.alignment_id) FROM review_log l JOIN alignments a ON a.id = l.alignment_id\n"
         "                JOIN standards s ON s.id = a.source_id\n"
         "                JOIN program_frameworks pf ON pf.framework_id = s.framework_id AND pf.program_id = p.id\n"
         "                WHERE p.status_at IS NOT NULL AND l.action = 'flag' AND a.needs_review = 1\n"
         f"                    AND a.status != 'suggested' AND {since}\n"
         "            ) AS flagged_since_status"),
    ))


@migrations()
def m023_a_database_knows_itself(db: sqlite_utils.Database) -> None:
    """A random identifier of the database, made once (a copy of the file keeps it): a review
    workbook's cover names it, so that one imported into another database is told so whatever the
    two files are called (an audit: two databases both called district.db, every row of the workbook a
    conflict blaming a sort, and no word of the other database)."""
    db.execute("CREATE TABLE IF NOT EXISTS database_identity (id TEXT NOT NULL)")
    db.execute("INSERT INTO database_identity (id) SELECT lower(hex(randomblob(16))) "
               "WHERE NOT EXISTS (SELECT 1 FROM database_identity)")


@migrations()
def m024_an_alignment_id_is_never_used_again(db: sqlite_utils.Database) -> None:
    """An alignment's id names one pair for good: SQLite gave a new row the highest id plus one, so
    once a re-match deleted the highest suggestions, the ids a reviewer had seen (on the site, in
    `history`, in a script) came back on other pairs, and `crosswalk decide DB 138372 accept`
    decided a pair never shown (a concurrency audit: four ids after an import and a match). The
    table is AUTOINCREMENT now, its stored CREATE statement edited in place as m006 edits its
    CHECKs (the rows and their b-tree are the same; only how a new id is chosen changes), and its
    sequence starts above every id a row, the review log or a comment has held."""
    if not db.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'").fetchone():
        # (SQLite makes its sequence table with the first AUTOINCREMENT table it creates.)
        db.execute("CREATE TABLE _crosswalk_sequence_maker (id INTEGER PRIMARY KEY AUTOINCREMENT)")
        db.execute("DROP TABLE _crosswalk_sequence_maker")
    _edit_table(db, "alignments", "m001", "id INTEGER PRIMARY KEY,", "id INTEGER PRIMARY KEY AUTOINCREMENT,")
    db.execute("DELETE FROM sqlite_sequence WHERE name = 'alignments'")
    db.execute("""INSERT INTO sqlite_sequence (name, seq) SELECT 'alignments', max(
                      coalesce((SELECT max(id) FROM alignments), 0),
                      coalesce((SELECT max(alignment_id) FROM review_log), 0),
                      coalesce((SELECT max(alignment_id) FROM review_comments), 0))""")


def database_identity(db) -> str | None:
    """The database's identifier (m023); None where it has none (a public copy)."""
    try:
        row = db.execute("SELECT id FROM database_identity LIMIT 1").fetchone()
    except sqlite3.OperationalError:
        return None
    return row[0] if row else None


# A strength is full or partial, and an accepted alignment has one (m021).
STRENGTH_CHECK = ("CASE WHEN strength IS NULL THEN status != 'accepted' "
                  "ELSE strength = 'full' OR strength = 'partial' END")


def refresh_statistics(db) -> None:
    """Refresh SQLite's statistics for its query planner (``ANALYZE`` of a sample of each index).

    Without them SQLite cannot tell that few of a standard's many alignments are accepted. On a
    crosswalk of 296,850 alignments the first /gaps?subject=Math of the working site took 1.27 s
    without statistics and 0.33 s with them; with ``analysis_limit`` 400 the ANALYZE itself took
    11 ms there, in process (a full one reads every row). The limit is this connection's, and is
    put back."""
    previous = db.execute("PRAGMA analysis_limit").fetchone()[0]
    db.execute("PRAGMA analysis_limit = 400")
    try:
        db.execute("ANALYZE")
    finally:
        db.execute(f"PRAGMA analysis_limit = {int(previous)}")


def program_status(value: str) -> str:
    """A program's status as stored (draft, in review, approved) from how a person may write it:
    'In-Review', 'in_review'. Raises :class:`ValueError` for any other."""
    text = " ".join(str(value).replace("-", " ").replace("_", " ").split()).casefold()
    if text not in PROGRAM_STATUSES:
        raise ValueError(f"{value!r}: use one of " + ", ".join(repr(s) for s in PROGRAM_STATUSES))
    return text


def set_program_status(db, program, status: str, reviewer: str, *, via: str = "cli") -> dict:
    """Set a program's sign-off status (draft, in review, approved): the one place that writes it.

    Who and when are stored on the program and logged in ``review_log`` by a trigger. Returns
    the program's row as it now is. Raises :class:`ValueError` for an unknown status or an empty
    reviewer name, ``NotFound`` for an unknown program.

    Example::

        set_program_status(db, "Welding Technology", "approved", "M. Levesque")
    """
    status = program_status(status)
    if not reviewer or not str(reviewer).strip():
        raise ValueError("a status change needs the name of who makes it")
    pid = program_id(db, program)
    with write_transaction(db):
        db.execute(
            "update programs set status = ?, status_by = ?, status_at = ?, status_via = ? where id = ?",
            [status, str(reviewer).strip(), now(), via, pid],
        )
    return next(db.query("select * from programs where id = ?", [pid]))


# --- a database being served ----------------------------------------------------------------
# A site that serves a database writes decisions to it; `crosswalk demo --fresh` must not replace the
# file under it (the site would go on writing to the replaced file, and its write-ahead log would be
# deleted under it). A serving process holds a shared lock (flock) on a small file of the system's
# temporary folder named after the database's path, never on the database itself: SQLite's own
# locks on the database are POSIX locks, which closing any other descriptor of the file would drop.
# The lock ends with the process, however it ends. The last process to let go of the lock removes
# the file (and a check that finds a file nobody holds removes it too), so the temporary folder does
# not keep one file for every database ever served; a process that locked a file just removed
# (between its opening and its locking) sees that the path now names another file, and starts again.


def _serving_lock_path(path) -> pathlib.Path:
    resolved = str(pathlib.Path(path).resolve())
    return pathlib.Path(tempfile.gettempdir()) / f"crosswalk-serving-{hashlib.sha256(resolved.encode()).hexdigest()[:24]}"


def _still_named(handle, lock_path) -> bool:
    """Whether ``lock_path`` still names the file ``handle`` has open (it was not removed meanwhile)."""
    try:
        return os.stat(lock_path).st_ino == os.fstat(handle.fileno()).st_ino
    except FileNotFoundError:
        return False


def _remove_if_unheld(handle, lock_path) -> bool:
    """Remove the lock file unless another process holds it (``handle`` may hold it shared); whether
    another process holds it."""
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True  # the last one to let go removes it
    if _still_named(handle, lock_path):
        with contextlib.suppress(OSError):
            os.unlink(lock_path)
    return False


@contextlib.contextmanager
def serving(path):
    """Mark the database at ``path`` as served while the block runs (see :func:`being_served`).
    Where the mark cannot be made (no ``fcntl``, a temporary folder that cannot be written), the
    block runs unmarked."""
    lock_path = _serving_lock_path(path)
    handle = None
    if fcntl is not None:
        for _ in range(100):
            try:
                handle = open(lock_path, "a")
            except OSError:
                break
            fcntl.flock(handle, fcntl.LOCK_SH)
            if _still_named(handle, lock_path):
                break
            handle.close()  # removed by the last one to leave, between our opening and our locking
            handle = None
    if handle is None:
        yield
        return
    try:
        yield
    finally:
        _remove_if_unheld(handle, lock_path)
        handle.close()  # and with it the lock


def being_served(path) -> bool:
    """Whether a site (``crosswalk serve``, ``crosswalk demo``) is serving the database at ``path`` now."""
    if fcntl is None:
        return False
    lock_path = _serving_lock_path(path)
    try:
        handle = open(lock_path)
    except OSError:
        return False  # no lock file: nobody serves it (or it cannot be known)
    with handle:  # a file nobody holds was left by a process that ended without removing it
        return _remove_if_unheld(handle, lock_path)


def open_db(path: str | pathlib.Path, *, migrate: bool = True) -> sqlite_utils.Database:
    """Open (or create) a crosswalk database and bring its schema up to date.

    WAL and a busy timeout let the CLI and a running review site write to the
    same file at once.

    Example::

        db = open_db("crosswalk.db")

    A file that is not a crosswalk database (not SQLite, a published copy, another program's
    database) or a folder that does not exist is a CrosswalkError, and the file is left as it was.
    """
    _check_database_file(pathlib.Path(path))
    db = sqlite_utils.Database(str(path))
    db.execute("PRAGMA busy_timeout = 30000")
    db.execute("PRAGMA foreign_keys = ON")
    # At most 64 MiB of pages (SQLite's default is 2 MiB). A match writes ~200,000 suggestions
    # in one transaction; with the default, the index pages it keeps coming back to are
    # evicted and read again, and the insert takes 1.6 times as long. Pages are cached as read.
    db.execute("PRAGMA cache_size = -65536")
    _check_made_by_crosswalk(db, path)  # (reading only too: eval, a dry run)
    if migrate and migrations.pending(db):
        if db.journal_mode != "wal":
            db.enable_wal()
        # Under the write lock, and looked at again there: two commands opening a new or older
        # database at once (a site starting beside a cron import) each applied the same migration,
        # and one failed with a traceback ("duplicate column name"), or, its deferred transaction
        # unable to take the lock, as locked for 30 seconds after one (a concurrency audit). The
        # second now waits for the first, then finds nothing left to do.
        with write_transaction(db):
            if migrations.pending(db):
                migrations.apply(db)
    return db


def _check_database_file(path: pathlib.Path) -> None:
    """Refuse, before SQLite opens it, a path where no crosswalk database is or can be made."""
    if not file_there(path, "create"):
        return
    try:
        with path.open("rb") as f:
            empty = not f.read(1)
    except OSError as exc:
        raise CrosswalkError(f"cannot open {path}: {exc.strerror or exc}") from None
    if not empty and not is_sqlite_file(path):
        raise CrosswalkError(f"{path} is not a crosswalk database (it is not an SQLite file)")


def _check_made_by_crosswalk(db: sqlite_utils.Database, path) -> None:
    """Refuse to build crosswalk's tables into an SQLite database that has tables of its own but
    no record of crosswalk's migrations: a published copy, or another program's database (one that
    keeps sqlite-utils migrations of its own too)."""
    names = set(db.table_names())
    tables = names - {"_sqlite_migrations"}
    if not tables:
        return
    if "_sqlite_migrations" in names and db.execute(
            "select count(*) from _sqlite_migrations where migration_set = ?", [migrations.name]).fetchone()[0]:
        return
    if {"about", "frameworks", "standards"} <= tables:
        folder = pathlib.Path(path).parent
        raise CrosswalkError(f"{path} is a published crosswalk (made by crosswalk publish), read only; "
                             f"serve it with: crosswalk serve {shlex.quote(str(folder))}")
    raise CrosswalkError(f"{path} is not a crosswalk database (an SQLite database of another program)")


def memory_db() -> sqlite_utils.Database:
    """An in-memory crosswalk database with the full schema (for tests and eval)."""
    db = sqlite_utils.Database(memory=True)
    db.execute("PRAGMA foreign_keys = ON")
    migrations.apply(db)
    return db


@contextlib.contextmanager
def write_transaction(db):
    """BEGIN IMMEDIATE: take the write lock before reading, so that a
    concurrent writer (the review site, ``match``) makes us wait for the busy
    timeout instead of failing with "database is locked".

    Inside a transaction already open, it joins that one.

    Example::

        with write_transaction(db):
            row = db.execute("select status from alignments where id = 1").fetchone()
            db.execute("update alignments set rationale = 'why' where id = 1")
    """
    conn = db.conn
    if conn.in_transaction:
        yield db
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    else:
        conn.execute("COMMIT")


def framework_id(db, framework) -> int:
    """The id of a framework given by its name (in any case) or its id.

    Example::

        framework_id(db, "welding tasks")  # the id of 'Welding tasks'
    """
    return _find_id(db, "frameworks", "framework", framework, "import one with 'crosswalk import'")


def program_id(db, program) -> int:
    """The id of a program given by its name (in any case) or its id.

    Example::

        program_id(db, "Welding Technology")
    """
    return _find_id(db, "programs", "program", program, "add one with 'crosswalk program add'")


def framework_name(db, fid: int) -> str:
    """The name, as written, of the framework of id ``fid`` (one :func:`framework_id` found)."""
    return db.execute("select name from frameworks where id = ?", [fid]).fetchone()[0]


def program_name(db, program) -> str:
    """A program's name as written, given by its name (in any case) or its id."""
    return db.execute("select name from programs where id = ?", [program_id(db, program)]).fetchone()[0]


def named_row(db, table: str, name: str) -> dict | None:
    """The framework or program (``table``) a name being added or imported names already: the one
    of that exact name, else the one of that name in another case (so that "welding tasks" updates
    'Welding tasks' rather than adding a second framework that only its case tells apart, as
    :func:`framework_id` and :func:`program_id` find them). None: a new one."""
    text = name.strip()
    rows = list(db[table].rows_where("name = ?", [text])) or [
        row for row in db[table].rows if row["name"].strip().casefold() == text.casefold()]
    return rows[0] if len(rows) == 1 else None


def close_names(text: str, names: list[str], most: int = 3) -> list[str]:
    """The names a mistyped ``text`` may mean: the rule of every "did you mean" for a name
    not found.

    Close in spelling (difflib, as 'Weldng Technology' for 'Welding Technology'), else the names
    that hold the text ('Welding' for 'Welding Technology tasks (O*NET 29.3)'), else those sharing the
    most words of five letters or more ('MLR Mathematics' for 'Maine Learning Results: Mathematics
    (CCSS)'); none where more than ``most`` would be named, which would be a list, not a hint.
    """
    folded = text.strip().casefold()
    if not folded:
        return []
    by_folded = {name.casefold(): name for name in names}
    spelled = difflib.get_close_matches(folded, list(by_folded), n=most, cutoff=0.6)
    if spelled:
        return [by_folded[n] for n in spelled]
    found = [name for folded_name, name in by_folded.items() if folded in folded_name]
    if not found:
        words = set(re.findall(r"\w{5,}", folded))
        shared = {name: len(words & set(re.findall(r"\w{5,}", folded_name))) for folded_name, name in by_folded.items()}
        best = max(shared.values(), default=0)
        found = [name for name, count in shared.items() if best and count == best]
    return found if len(found) <= most else []


def similar_names(db, table: str, name: str) -> list[str]:
    """The frameworks or programs (``table``) a new ``name`` may be a typo of: those at most two
    letters away ('Weldng Technology' for 'Welding Technology'). None where it names one already
    (:func:`named_row`). Stricter than :func:`close_names`, which looks for what a name not found
    meant: a new name is mostly meant ('Electrical Technology tasks' beside 'Welding Technology
    tasks', 0.86 alike to difflib)."""
    if named_row(db, table, name) is not None:
        return []
    typed = " ".join(name.split()).casefold()
    return [row[0] for row in db.execute(f"select name from [{table}] order by name")
            if len(typed) >= 6 and Levenshtein.distance(typed, " ".join(row[0].split()).casefold(), score_cutoff=2) <= 2]


def typo_note(db, table: str, name: str, *, would: bool = False) -> list[str]:
    """The note (none, or one) for a new framework or program (``table``) whose name is a typo of
    one there is (:func:`similar_names`): mostly, the director meant that one. ``would``: a dry run."""
    close = similar_names(db, table, name)
    if not close:
        return []
    noun, fix = {"frameworks": ("framework", "to re-import into it, give --framework its name as written"),
                 "programs": ("program", "to update it, give its name as written")}[table]
    return [f"{name!r} {'would be' if would else 'is'} a new {noun}; " + " and ".join(repr(n) for n in close)
            + (" is" if len(close) == 1 else " are") + f" already there: {fix}"]


def _find_id(db, table: str, noun: str, wanted, hint: str) -> int:
    """The exact name first, then the id, then the name in any case; else one NotFound naming the close names."""
    rows = db.execute(f"select id, name from [{table}] order by name").fetchall()
    text = str(wanted).strip() if wanted is not None else ""
    number = row_id(wanted)  # the one rule for an id from outside ("²" is no id)
    exact = [found for found, name in rows if name in (wanted, text)]
    by_id = [found for found, _ in rows if found == number]
    any_case = [found for found, name in rows if name.strip().casefold() == text.casefold()]  # as named_row
    for found in (exact, by_id, any_case):
        if len(found) == 1:
            return found[0]
    raise NotFound(_not_found(noun, wanted, [name for _, name in rows], hint))


def _not_found(noun: str, wanted, names: list[str], hint: str) -> str:
    text = str(wanted).strip() if wanted is not None else ""
    what = f"no {noun} with the id or name {wanted!r}" if isinstance(wanted, int) else f"no {noun} named {wanted!r}"
    same = [n for n in names if n.casefold() == text.casefold()]
    if len(same) > 1:
        return f"{what} exactly; " + ", ".join(repr(n) for n in same) + " differ only in case: give the exact name or the id"
    if not names:
        return f"{what}; the {noun}s are: none yet ({hint})"
    return what + names_there(text, names, f"the {noun}s")


def names_there(text: str, names: list[str], label: str) -> str:
    """What follows "no ... named X" in every such error: the names ``text`` may mean
    (:func:`close_names`), then the ``label``-led list of those there are (the first
    MAX_NAMES_SHOWN)."""
    close = close_names(text, names)
    meant = " (did you mean " + " or ".join(repr(n) for n in close) + "?)" if close else ""
    more = f" and {len(names) - MAX_NAMES_SHOWN} more" if len(names) > MAX_NAMES_SHOWN else ""
    return f"{meant}; {label} are: " + ", ".join(repr(n) for n in names[:MAX_NAMES_SHOWN]) + more
