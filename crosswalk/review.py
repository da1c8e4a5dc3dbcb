"""Decisions on suggested alignments, and their history.

Every decision, whatever path it takes (the ``decide`` command, a review
workbook, the review site), ends as an UPDATE of ``alignments`` that the
``alignments_review_log`` trigger records in ``review_log``: who, when,
through what, the old and the new values. The writers only say who they are
through the ``reviewer``, ``reviewed_at`` and ``review_via`` columns.

Example::

    from crosswalk.db import open_db
    from crosswalk.review import decide, history
    db = open_db("district.db")
    decide(db, 12, "accept", strength="full", rationale="Measuring in layout", reviewer="alice")
    for entry in history(db, 12).entries:
        print(entry.describe())
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib

from .db import STRENGTHS, now
from .errors import CrosswalkError, NotFound

DECISIONS = {"accept": "accepted", "reject": "rejected"}
STATUS_WORDS = {"accepted": "accepted", "rejected": "rejected", "suggested": "not decided yet"}


def normalise_decision(value) -> str:
    """'accept' or 'reject' from what a person typed ('Accepted', ' reject ')."""
    text = str(value or "").strip().lower()
    for decision, status in DECISIONS.items():
        if text in (decision, status):
            return decision
    raise CrosswalkError(f"the decision must be accept or reject, not {value!r}")


def normalise_strength(value) -> str | None:
    text = str(value or "").strip().lower()
    if not text:
        return None
    if text not in STRENGTHS:
        raise CrosswalkError(f"the strength must be full or partial, not {value!r}")
    return text


def clean_text(value) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text or None


@contextlib.contextmanager
def write_transaction(db):
    """BEGIN IMMEDIATE: take the write lock before reading, so that a
    concurrent writer (the review site, ``match``) makes us wait for the busy
    timeout instead of failing with "database is locked"."""
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


ALIGNMENT_SQL = """
select a.*, s.code as cte_code, s.statement as cte_statement, s.text_hash as cte_text_hash,
       t.code as standard_code, t.statement as standard, t.text_hash as standard_text_hash,
       t.subject as subject, t.grade as grade,
       sf.name as industry_framework, tf.name as academic_framework
from alignments a
join standards s on s.id = a.source_id
join standards t on t.id = a.target_id
join frameworks sf on sf.id = s.framework_id
join frameworks tf on tf.id = t.framework_id
"""


def get_alignment(db, alignment_id) -> dict:
    try:
        alignment_id = int(alignment_id)
    except (TypeError, ValueError):
        raise CrosswalkError(f"an alignment id is a whole number, not {alignment_id!r}") from None
    rows = list(db.query(ALIGNMENT_SQL + " where a.id = ?", [alignment_id]))
    if not rows:
        raise NotFound(f"there is no alignment with id {alignment_id}")
    return rows[0]


def fingerprint(row: dict) -> str:
    """What a reviewer saw of an alignment: its decision and both statements.

    A workbook row whose fingerprint no longer matches was changed by someone
    else (or its statements were re-imported) after the export.
    """
    parts = [
        row.get("status") or "",
        row.get("strength") or "",
        row.get("rationale") or "",
        str(row.get("cte_statement") or ""),
        str(row.get("standard") or ""),
    ]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:16]


@dataclasses.dataclass
class Outcome:
    """What one decision did."""

    alignment: dict
    changed: bool
    old: dict
    new: dict

    def summary(self) -> str:
        a = self.alignment
        pair = f"alignment {a['id']} ({a['cte_code']} → {a['standard_code']})"
        if not self.changed:
            return f"No change: {pair} is already {describe_state(self.new)}"
        return f"Recorded: {pair} is now {describe_state(self.new)} (was {describe_state(self.old)})"


def describe_state(state: dict) -> str:
    text = STATUS_WORDS.get(state["status"], state["status"])
    if state.get("strength"):
        text += f", {state['strength']}"
    if state.get("rationale"):
        rationale = state["rationale"]
        text += f', "{rationale[:60]}{"…" if len(rationale) > 60 else ""}"'
    return text


def _state(row: dict) -> dict:
    return {"status": row["status"], "strength": row["strength"], "rationale": row["rationale"]}


def apply_decision(db, row: dict, decision: str, *, strength=None, rationale=None, reviewer: str,
                   via: str, at: str | None = None) -> Outcome:
    """Apply one decision to an alignment row already read in this transaction.

    Accepting keeps the current strength and rationale unless new ones are
    given; rejecting clears the strength (a rejected pair has none). A
    decision also clears a "needs re-review" flag.
    """
    status = DECISIONS[decision]
    old = _state(row)
    new = dict(old, status=status)
    if strength is not None:
        new["strength"] = strength
    if status == "rejected":
        new["strength"] = None
    if rationale is not None:
        new["rationale"] = rationale or None
    changed = new != old or bool(row["needs_review"])
    if changed:
        stamp = at or now()
        db.execute(
            "update alignments set status = ?, strength = ?, rationale = ?, reviewer = ?, reviewed_at = ?, "
            "review_via = ?, needs_review = 0, needs_review_reason = null, updated_at = ? where id = ?",
            [new["status"], new["strength"], new["rationale"], reviewer, stamp, via, stamp, row["id"]],
        )
    return Outcome(row, changed, old, new)


def decide(db, alignment_id, decision, strength=None, rationale=None, *, reviewer: str,
           via: str = "cli") -> Outcome:
    """Accept or reject one alignment, logging the change in ``review_log``.

    Example::

        decide(db, 12, "accept", strength="partial", rationale="Only metric units", reviewer="alice")
    """
    decision = normalise_decision(decision)
    strength = normalise_strength(strength)
    reviewer = clean_text(reviewer)
    if not reviewer:
        raise CrosswalkError("say who decides: the reviewer's name is required")
    if strength and decision == "reject":
        raise CrosswalkError("a strength (full or partial) is only for accepted alignments")
    with write_transaction(db):
        row = get_alignment(db, alignment_id)
        return apply_decision(db, row, decision, strength=strength,
                              rationale=None if rationale is None else str(rationale).strip(),
                              reviewer=reviewer, via=via)


def add_comment(db, alignment_id, comment: str, *, reviewer: str, via: str = "cli") -> int:
    """Add a comment to an alignment's history; returns the comment's id."""
    comment = clean_text(comment)
    if not comment:
        raise CrosswalkError("the comment is empty")
    with write_transaction(db):
        get_alignment(db, alignment_id)
        cursor = db.execute(
            "insert into review_comments (alignment_id, comment, reviewer, via, at) values (?, ?, ?, ?, ?)",
            [int(alignment_id), comment, reviewer, via, now()],
        )
        return cursor.lastrowid


@dataclasses.dataclass
class LogEntry:
    id: int
    action: str
    at: str
    reviewer: str | None
    via: str | None
    old_status: str | None
    new_status: str | None
    old_strength: str | None
    new_strength: str | None
    old_rationale: str | None
    new_rationale: str | None
    comment: str | None

    def describe(self) -> str:
        who = self.reviewer or "someone (not through crosswalk)"
        head = f"{self.at}  {who} ({self.via})"
        if self.action == "comment":
            return f"{head}  commented: {self.comment}"
        changes = []
        if self.old_status != self.new_status:
            changes.append(f"status {self.old_status} → {self.new_status}")
        if self.old_strength != self.new_strength:
            changes.append(f"strength {self.old_strength or '(none)'} → {self.new_strength or '(none)'}")
        if self.old_rationale != self.new_rationale:
            old = f'"{self.old_rationale}"' if self.old_rationale else "(none)"
            new = f'"{self.new_rationale}"' if self.new_rationale else "(none)"
            changes.append(f"rationale {old} → {new}")
        if self.action == "confirm":
            changes.append("confirmed after the statement changed")
        return f"{head}  {self.action}: " + "; ".join(changes)


@dataclasses.dataclass
class History:
    alignment: dict
    entries: list[LogEntry]

    def lines(self) -> list[str]:
        a = self.alignment
        lines = [
            f"Alignment {a['id']}: {a['industry_framework']} {a['cte_code']} → "
            f"{a['academic_framework']} {a['standard_code']}",
            f"  {a['cte_code']}: {a['cte_statement']}",
            f"  {a['standard_code']}: {a['standard']}",
            f"Now: {describe_state(a)}"
            + (f" (by {a['reviewer']}, {a['reviewed_at']})" if a["reviewer"] and a["status"] != "suggested" else "")
            + ("; needs re-review: " + (a["needs_review_reason"] or "a statement changed") if a["needs_review"] else ""),
        ]
        if not self.entries:
            lines.append("No decisions or comments yet.")
        else:
            lines.append(f"History ({len(self.entries)} entries, oldest first):")
            lines.extend("  " + entry.describe() for entry in self.entries)
        return lines

    def as_dict(self) -> dict:
        return {
            "alignment": {k: v for k, v in self.alignment.items() if k != "review_via"},
            "history": [dataclasses.asdict(e) for e in self.entries],
        }


def history(db, alignment_id) -> History:
    """An alignment's current state and every logged decision and comment on it."""
    alignment = get_alignment(db, alignment_id)
    fields = [f.name for f in dataclasses.fields(LogEntry)]
    entries = [
        LogEntry(**{k: r[k] for k in fields})
        for r in db.query("select * from review_log where alignment_id = ? order by id", [alignment["id"]])
    ]
    return History(alignment, entries)
