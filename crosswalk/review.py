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

import dataclasses
import hashlib
import re

from .db import now, row_id, write_transaction
from .errors import CrosswalkError, NotFound
from .cells import CELL_LIMIT
from .text import plural, same_words, visible

DECISIONS = {"accept": "accepted", "reject": "rejected"}
STATUS_WORDS = {"accepted": "accepted", "rejected": "rejected", "suggested": "not decided yet"}


# --- the rules, written once ------------------------------------------------------------------
# Every change a reviewer makes to an alignment is one of the rules below, written once in SQL.
# Python (decide, the workbook and the decisions imports, and the review site's write queries,
# whose forms crosswalk.review_site.write_query reads as decide does) runs them with values it has
# checked; the site's query pages show the same statements. Parameters: :decision is 'accept' or 'reject'; :strength is
# 'full', 'partial', or NULL to keep the current one; :rationale is NULL to keep the current
# one, '' to clear it, or the text; :reviewer, :via and :at say who, through what and when.
# The alignments_review_log trigger logs every change, and nothing else writes review_log.

PARAMETER = re.compile(r":(\w+)")


@dataclasses.dataclass(frozen=True)
class Rule:
    """One change to an alignment: the new value of each column it sets, as SQL expressions."""

    sets: dict
    where: str = ""  # a further condition on the alignment
    decides: bool = False  # a decision also clears the "needs re-review" flag

    def update_sql(self, **values: str) -> str:
        """The UPDATE, with parameters replaced by the SQL given in ``values`` (``reviewer=":_actor_id"``).

        It changes a row only when something changes (or the row awaits re-review), so
        repeating a decision neither logs nor re-signs it.
        """
        sets = [f"{column} = {expression}" for column, expression in self.sets.items()]
        changes = [f"{column} IS NOT ({expression})" for column, expression in self.sets.items()]
        if self.decides:
            sets += ["needs_review = 0", "needs_review_reason = NULL"]
            changes.append("needs_review = 1")
        sets += ["reviewer = :reviewer", "reviewed_at = :at", "review_via = :via", "updated_at = :at"]
        where = ["id = :alignment_id"] + ([self.where] if self.where else []) + ["(" + " OR ".join(changes) + ")"]
        sql = "UPDATE alignments SET\n  " + ",\n  ".join(sets) + "\nWHERE " + "\n  AND ".join(where)
        return with_parameters(sql, values)

    def outcome_sql(self) -> str:
        """A SELECT of what the rule would make of the alignment's status, strength and rationale."""
        columns = ", ".join(f"{self.sets.get(c, c)} AS {c}" for c in ("status", "strength", "rationale"))
        return f"SELECT {columns} FROM alignments WHERE id = :alignment_id"


def with_parameters(sql: str, values: dict) -> str:
    """``sql`` with each ``:name`` in ``values`` replaced by its SQL (in one pass)."""
    return PARAMETER.sub(lambda m: values.get(m.group(1), m.group(0)), sql)


# Accept or reject. Accepting keeps the current strength and rationale unless new ones are
# given, and an alignment accepted with no strength at all is full (as every page's "Accept (full)"
# and a crosswalk's plain "Yes" mean): accepted with none, it was listed as evidence but certified
# nothing, as coverage counts a standard by its strength. Rejecting clears the strength (a rejected
# pair has none). A decision that turns accepted into rejected (or back) without a rationale of its
# own clears the old one: it gave the reasons for the other decision, and kept, it showed a
# rejection's reason ("not math") as the rationale of an acceptance signed by someone else. Sent
# back with the turned decision, the old rationale is not the reviewer's own but what a form or a
# workbook showed (the site's box, a workbook's pre-filled cell): cleared too. Written here, in the
# rule's SQL, so that the review site's canned queries keep it as crosswalk's own writers do.
_NEW_STATUS = "CASE :decision WHEN 'accept' THEN 'accepted' ELSE 'rejected' END"
_TURNED = f"status IN ('accepted', 'rejected') AND status != {_NEW_STATUS}"
DECIDE = Rule({
    "status": "CASE :decision WHEN 'accept' THEN 'accepted' WHEN 'reject' THEN 'rejected'\n"
              "    ELSE 'decision must be accept or reject' END",
    "strength": "CASE WHEN :decision = 'reject' THEN NULL ELSE coalesce(:strength, strength, 'full') END",
    "rationale": f"CASE WHEN :rationale IS NOT NULL AND NOT ({_TURNED} AND :rationale IS rationale)\n"
                 "    THEN nullif(:rationale, '')\n"
                 f"    WHEN status IN ('suggested', {_NEW_STATUS}) THEN rationale END",
}, decides=True)
# Amend an accepted alignment's strength, or any alignment's rationale, without deciding again.
SET_STRENGTH = Rule({"strength": ":strength"}, where="status = 'accepted'")
SET_RATIONALE = Rule({"rationale": "nullif(:rationale, '')"})
# A comment joins the alignment's history; it changes no decision.
COMMENT_SQL = ("INSERT INTO review_comments (alignment_id, comment, reviewer, via, at)\n"
               "VALUES (:alignment_id, :comment, :reviewer, :via, :at)")


# What people write for a decision (a review workbook's cell, an earlier crosswalk's column, the
# command line) and what crosswalk makes of it: (decision, strength or None: the strength then
# comes from elsewhere, or is full). Every way a decision comes in reads it here.
# A strength word is also a decision (accepted, with that strength): one list for both, so that a
# Strength cell and a Decision cell read the same words ("some" was a strength only, "related" a
# decision only).
STRENGTH_WORDS = {
    **dict.fromkeys(("full", "complete", "strong", "exact", "exact match", "exact match of"), "full"),
    **dict.fromkeys(("partial", "moderate", "weak", "some", "related", "is related to"), "partial"),
}
DECISION_WORDS = {
    **dict.fromkeys(("accept", "accepted", "yes", "y", "aligned", "approved", "x", "true", "1"), ("accept", None)),
    **{word: ("accept", strength) for word, strength in STRENGTH_WORDS.items()},
    **dict.fromkeys(("reject", "rejected", "no", "n", "not aligned", "none", "false", "0"), ("reject", None)),
}
DECISION_ALSO = "also read: accepted, rejected, yes, no, full, partial"
# What a row without a decision says in a decision column: a crosswalk CSV exported with its
# suggestions (--include-suggestions) says "suggested".
UNDECIDED_WORDS = ("suggested", "not reviewed", "pending")


def says_undecided(value) -> bool:
    """Whether a decision cell says that nobody decided ('suggested', 'Not reviewed')."""
    return _word(value) in UNDECIDED_WORDS


def _word(value) -> str:
    """What a person typed, as the vocabularies hold it: lower case, punctuation as single spaces."""
    return re.sub(r"[^0-9a-z]+", " ", str(value if value is not None else "").lower()).strip()


def read_decision(value) -> tuple[str, str | None]:
    """('accept' or 'reject', the strength the word says or None) from what a person wrote:
    'Accepted', ' reject ', 'yes', 'Partial'."""
    found = DECISION_WORDS.get(_word(value))
    if found is None:
        raise CrosswalkError(f"the decision must be accept or reject, not {value!r} ({DECISION_ALSO})")
    return found


def normalise_strength(value) -> str | None:
    """'full' or 'partial' from what a person typed ('Full', 'moderate'); None for nothing."""
    text = _word(value)
    if not text:
        return None
    if text not in STRENGTH_WORDS:
        raise CrosswalkError(f"the strength must be full or partial, not {value!r}")
    return STRENGTH_WORDS[text]


def clean_text(value) -> str | None:
    """A rationale, comment or name as typed, trimmed and without characters no one can see or type
    (a control character a workbook cannot hold, a NUL); None for nothing."""
    # (a browser sends a textarea's line breaks as CR LF: the same rationale as one typed with LF)
    text = visible(str(value).replace("\r\n", "\n"), nul=True).strip() if value is not None else ""
    return text or None


def get_alignment(db, alignment_id) -> dict:
    """An alignment with both of its standards (a row of the ``alignment_details`` view)."""
    number = row_id(alignment_id)
    if number is None:
        text = str(alignment_id).strip()
        if not text.lstrip("-").isdigit():
            raise CrosswalkError(f"an alignment id is a whole number, not {alignment_id!r}")
        raise NotFound(f"there is no alignment with id {text}")
    rows = list(db.query("select * from alignment_details where id = ?", [number]))
    if not rows:
        raise NotFound(f"there is no alignment with id {number}")
    return rows[0]


def fingerprint(row: dict, *, as_written: bool = False) -> str:
    """What a reviewer saw of an alignment: its decision and both statements' words
    (:func:`crosswalk.text.same_words`; ``as_written``: the statements as they were written, as
    workbooks exported before 2026-11-30 hold it).

    A workbook row whose fingerprint no longer matches was changed by someone
    else (or its statements were re-imported) after the export. A flag for
    re-review counts too (only where there is one, so that the fingerprints
    of unflagged rows stay as they were): a standard retired since the export
    changes no statement, and a stale workbook's "accept" confirmed it.

    So does a statement that is not active, each by its side: a row exported
    already flagged (a statement changed) is still flagged when its statement
    is retired after the export, with the same words, and the flag alone let
    the stale workbook's "accept" clear the retirement's flag unseen. (Why a
    row is flagged changes only with its words or with a statement's status,
    so the flag's reason itself is left out: its prose is not the reviewer's
    to see change.) A review workbook holds only rows whose statements are
    both active (:func:`crosswalk.workbook.select_alignments`), so this part
    is in no fingerprint written so far, and every workbook exported before
    it still matches the rows it holds.
    """
    words = str if as_written else same_words
    parts = [
        row.get("status") or "",
        row.get("strength") or "",
        row.get("rationale") or "",
        words(str(row.get("cte_statement") or "")),
        words(str(row.get("standard") or "")),
    ] + (["re-review"] if row.get("needs_review") else []) + [
        f"{side} {status}" for side, status in (("cte", row.get("cte_status")), ("standard", row.get("standard_status")))
        if status not in (None, "active")]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:16]


def seen_as_exported(row: dict, exported: str) -> bool:
    """Whether a workbook row's fingerprint is the alignment's as it is now: the same decision and
    the same words (a statement re-imported in another case, as "ph" -> "pH", is what its reviewer
    read; its import asks nobody to review again). A fingerprint of an older workbook, made from the
    statements as written, still matches."""
    return exported in (fingerprint(row), fingerprint(row, as_written=True))


@dataclasses.dataclass
class Outcome:
    """What one decision does (or did) to an alignment."""

    alignment: dict
    changed: bool
    old: dict
    new: dict
    values: dict = dataclasses.field(default_factory=dict, repr=False)  # the rule's parameters

    def summary(self) -> str:
        a = self.alignment
        pair = f"alignment {a['id']} ({a['cte_code']} → {a['standard_code']})"
        if not self.changed:
            return f"No change: {pair} is already {describe_state(self.new)}"
        text = f"Recorded: {pair} is now {describe_state(self.new)} (was {describe_state(self.old)})"
        retired = [a[code] for code, status in (("cte_code", "cte_status"), ("standard_code", "standard_status"))
                   if a.get(status) not in (None, "active")]
        if retired and self.new["status"] == "accepted":
            text += (f"; it certifies nothing while {' and '.join(retired)} "
                     f"{'is' if len(retired) == 1 else 'are'} retired (a re-import that brings "
                     f"{'it' if len(retired) == 1 else 'them'} back makes it count again)")
        return text


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


def plan_decision(db, row: dict, decision: str, *, strength=None, rationale=None) -> Outcome:
    """What a decision would do to an alignment row, by the DECIDE rule; writes nothing.

    ``strength`` None keeps the current one; ``rationale`` None keeps it and "" clears it. A rationale
    that is the current one, sent back with the opposite decision (accepted to rejected, or back), is
    not the reviewer's own but the one a form or workbook showed: the DECIDE rule clears it on such a
    flip (kept, the acceptance's reason stood under the rejection, and went into the report). Here a
    rationale written otherwise only in spacing or invisible characters is the current one.
    """
    if rationale and row["rationale"] and clean_text(rationale) == clean_text(row["rationale"]):
        rationale = row["rationale"]  # (the same text, as the rule compares it: see DECIDE)
    values = {"alignment_id": row["id"], "decision": decision, "strength": strength, "rationale": rationale}
    new = dict(next(db.query(DECIDE.outcome_sql(), values)))
    old = _state(row)
    return Outcome(row, new != old or bool(row["needs_review"]), old, new, values)


def record_decision(db, outcome: Outcome, *, reviewer: str | None, via: str, at: str | None = None) -> Outcome:
    """Write a planned decision (when it changes anything), signed by ``reviewer`` through ``via``."""
    if outcome.changed:
        stamp = at or now()
        db.execute(DECIDE.update_sql(), dict(outcome.values, reviewer=reviewer, via=via, at=stamp))
    return outcome


class Changed(CrosswalkError):
    """A decision made on what a page showed, where someone has decided the alignment since."""


def seen_token(status: str, last_change: int | None) -> str:
    """What a page showed of an alignment's decision: its status, and the last change logged for it
    (:data:`LAST_CHANGE`: a decision or a flag for re-review, not a comment), sent back with a
    decision made on the page: see :func:`decide`'s ``seen``. The log's order, not a time: times are
    to the second, and a second reviewer's change in the same second was overwritten unseen; and a
    flag, which changes no decision, is a change the page did not show."""
    return f"{status}@{last_change or ''}"


# The id of the last change logged for alignments (:func:`seen_token`), ``{ids}`` filled in (pages show
# many); LAST_CHANGE, the same for one (``?``).
_CHANGES = "select alignment_id, max(id) as last_change from review_log where action != 'comment' and alignment_id in ({ids})"
LAST_CHANGES = _CHANGES + " group by alignment_id"
LAST_CHANGE = f"select max(last_change) from ({LAST_CHANGES.format(ids='?')})"  # (a row, NULL where none)
# LAST_CHANGES among the changes logged up to ``:logged``, the log's last id before a page read what it
# shows: a change made while it was read may be one it does not show, and a token that counted it let
# a decision made on that page overwrite it unseen (a concurrency audit: another reviewer's rationale,
# saved while the page loaded, replaced by the one the page showed, 94 of 300 loads).
LAST_CHANGES_LOGGED = _CHANGES + " and id <= :logged group by alignment_id"
LAST_LOGGED = "select coalesce(max(id), 0) as logged from review_log"


# What a rationale or comment may hold: what a spreadsheet cell holds, so that every one goes into
# the review workbook and the report whole.
MAX_TEXT = CELL_LIMIT


def too_long(text: str | None, what: str) -> str | None:
    """What is wrong with a rationale or comment longer than MAX_TEXT (None: nothing)."""
    if text is not None and len(text) > MAX_TEXT:
        return f"the {what} is {len(text):,} characters long; at most {MAX_TEXT:,} (what a spreadsheet cell holds)"
    return None


def checked_text(text: str | None, what: str) -> str | None:
    """``text`` (a rationale or comment, cleaned), or the error of one longer than MAX_TEXT."""
    if problem := too_long(text, what):
        raise CrosswalkError(problem)
    return text


def decide(db, alignment_id, decision, strength=None, rationale=None, *, reviewer: str,
           via: str = "cli", seen: str | None = None) -> Outcome:
    """Accept or reject one alignment, logging the change in ``review_log``.

    ``seen``: the alignment's :func:`seen_token` on the page the decision was made on; where someone
    has decided it since, the decision is refused (:class:`Changed`) unless it changes nothing, so
    that a page left open does not overwrite another reviewer's decision unseen.

    Example::

        decide(db, 12, "accept", strength="partial", rationale="Only metric units", reviewer="alice")
    """
    decision, said = read_decision(decision)
    strength = normalise_strength(strength) or said
    reviewer = reviewer_name(reviewer, "decides")
    if strength and decision == "reject":
        raise CrosswalkError("a strength (full or partial) is only for accepted alignments")
    rationale = None if rationale is None else checked_text(clean_text(rationale), "rationale") or ""
    with write_transaction(db):
        row = get_alignment(db, alignment_id)
        outcome = plan_decision(db, row, decision, strength=strength, rationale=rationale)
        last = db.execute(LAST_CHANGE, [row["id"]]).fetchone()[0] if seen is not None else None
        if seen is not None and outcome.changed and seen != seen_token(row["status"], last):
            pair = f"alignment {row['id']} ({row['cte_code']} → {row['standard_code']})"
            action = db.execute("select action from review_log where id = ?", [last]).fetchone()
            if row["needs_review"] and action and action[0] == "flag":
                raise Changed(f"{pair} was flagged for re-review after this page was shown "
                              f"({row['needs_review_reason'] or 'a statement changed'}). Nothing was saved; "
                              "decide again on the page as it is now")
            by = f" by {row['reviewer']}" if row.get("reviewer") else ""
            raise Changed(f"{pair} was changed{by} after this page was shown: it is now "
                          f"{describe_state(_state(row))}. Nothing was saved; decide again on the page as it is now")
        return record_decision(db, outcome, reviewer=reviewer, via=via)


def reviewer_name(reviewer, does: str) -> str:
    """The reviewer's name as stored (:func:`clean_text`); one error where there is none (what
    the database would refuse with a CHECK constraint's traceback)."""
    name = clean_text(reviewer)
    if not name:
        raise CrosswalkError(f"say who {does}: the reviewer's name is required")
    return name


def add_comment(db, alignment_id, comment: str, *, reviewer: str, via: str = "cli") -> int:
    """Add a comment to an alignment's history; returns the comment's id."""
    reviewer = reviewer_name(reviewer, "comments")
    comment = checked_text(clean_text(comment), "comment")
    if not comment:
        raise CrosswalkError("the comment is empty")
    with write_transaction(db):
        row = get_alignment(db, alignment_id)
        cursor = db.execute(COMMENT_SQL, {"alignment_id": row["id"], "comment": comment, "reviewer": reviewer,
                                          "via": via, "at": now()})
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
    reason: str | None = None  # why an alignment was flagged for re-review (action 'flag')

    def describe(self) -> str:
        who = "the import" if self.action in ("flag", "unflag") and self.via == "import" else (
            "crosswalk's upgrade of the database" if self.via == "upgrade" else
            self.reviewer or "someone (not through crosswalk)")
        head = f"{self.at}  {who} ({self.via})"
        if self.action == "comment":
            return f"{head}  commented: {self.comment}"
        if self.action == "flag":
            return f"{head}  flagged for re-review: {self.reason}"
        if self.action == "unflag":
            return f"{head}  no longer to re-review, the statement is back (the flag was: {self.reason})"
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
            lines.append(f"History ({plural(len(self.entries), 'entry')}, oldest first):")
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
