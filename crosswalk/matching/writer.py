"""Writing one match's suggestions to SQLite, with the speed measures that made it fast."""

from __future__ import annotations

import sqlite3

from ..db import now, worked_on_sql
from .base import Doc
from .ranking import _Chunk

# SQLite's limit on parameters per statement (32,766 since 3.32, 999 before).
_MAX_PARAMETERS = 32766 if sqlite3.sqlite_version_info >= (3, 32, 0) else 999
_INSERT_ROWS = _MAX_PARAMETERS // 9  # rows per multi-row upsert
_UPSERT = (
    "insert into alignments (source_id, target_id, score, confidence, method, evidence, rank, updated_at, "
    "created_at) values {values} "
    # A pair suggested before is updated in place (its id stays the same), and only if something
    # about it changed: else updated_at stays too. A decided pair is never touched.
    "on conflict (source_id, target_id) do update set score = excluded.score, confidence = excluded.confidence, "
    "method = excluded.method, evidence = excluded.evidence, rank = excluded.rank, updated_at = excluded.updated_at "
    "where alignments.status = 'suggested' and (alignments.score is not excluded.score "
    "or alignments.confidence is not excluded.confidence or alignments.method is not excluded.method "
    "or alignments.evidence is not excluded.evidence or alignments.rank is not excluded.rank)"
)
# Which pairs these sources are suggested now among the targets this run ranks (not what is shown:
# that the upsert compares). One that this run does not suggest again is deleted by its id, unless a
# reviewer worked on it (db.worked_on_sql). As one row per chunk: row by row, each row waited for the
# GIL that the ranking threads hold. Measured on O*NET's 18,796 tasks x 2,087 DWAs, top 10, a re-run
# with embeddings cached: row by row 1.35 s, as one row 0.55 s; before, a delete of "every pair of
# these sources but these" took 0.6 s, and finding the pairs a reviewer worked on 0.4 s more.
# (The unary + keep SQLite to the rows of these sources, found through the (source, target) index:
# by target it probed every pair, 9 s.)
_SUGGESTED_NOW = (
    "select group_concat(a.source_id || ' ' || a.target_id || ' ' || a.id || ' ' || ({worked_on}), ' ') "
    "from alignments a where a.source_id in ({sources}) and +a.status = 'suggested' "
    "and +a.target_id in (select id from temp.match_targets)"
)


def _padded(items: list) -> list:
    """``items`` (at most _MAX_PARAMETERS) padded with repeats of the last to 1, 2, 4 ... 512, then
    to a multiple of 1,024 (within _MAX_PARAMETERS): statements of a few sizes only, so that SQLite
    prepares each once (preparing one with thousands of parameters took as long as running it)."""
    n = len(items)
    size = 1 << max(n - 1, 0).bit_length() if n <= 512 else -(-n // 1024) * 1024
    return items + items[-1:] * (min(size, _MAX_PARAMETERS) - n)


class _SuggestionWriter:
    """Writes one match's suggestions, chunk by chunk, inside its write transaction.

    SQLite does the comparing, a few thousand rows per statement: new pairs are inserted; a
    pair suggested before is updated in place when something about it changed; a suggestion
    that fell out (of the pairs each chunk's sources are suggested now) is deleted by its id,
    unless a reviewer worked on it; a decided pair is never written. One statement is one step
    in C, during which the ranking threads hold the GIL (row by row, each row would wait for it)."""

    def __init__(self, db, method: str):
        self.conn, self.method, self.stamp = db.conn, method, now()
        self.pending: list[tuple] = []
        self.suggested = self.kept_commented = self.unlikely_count = 0
        self.decided: set = set()
        self.decided_here = 0
        self.unlikely: list[tuple] = []  # (source id, its best score): no likely alignment
        self.guard = None

    def begin(self, source_fid: int, target_ids: list, target_fid: int | None = None) -> None:
        conn = self.conn
        self.source_fid, self.target_fid = source_fid, target_fid
        decided = conn.execute(
            "select a.source_id, a.target_id, a.status from alignments a join standards s on s.id = a.source_id "
            "where s.framework_id = ? and a.status in ('accepted', 'rejected')",  # the status index: decisions only
            [source_fid]).fetchall()
        self.decided = {(s, t) for s, t, _ in decided}
        targets_here = set(target_ids)
        # What the summary counts as left as it was: the decisions on the targets this run ranks (those
        # to another framework were never at stake; counted, Welding -> NGSS said 3 for 3 math decisions).
        self.decided_here = sum(t in targets_here for _, t in self.decided)
        self.decided_accepted = {(s, t) for s, t, status in decided if status == "accepted" and t in targets_here}
        conn.execute("create temp table if not exists match_targets (id integer primary key)")
        conn.execute("delete from temp.match_targets")
        for at in range(0, len(target_ids), _MAX_PARAMETERS):
            some = target_ids[at : at + _MAX_PARAMETERS]
            conn.execute("insert into temp.match_targets (id) values " + ", ".join(["(?)"] * len(some)), some)
        # The alignments_keep_decisions trigger keeps any writer from suggesting a decided pair.
        # This writer has just read the decided pairs under the write lock and skips them, and
        # no other connection can write until it commits: the trigger is set aside for its
        # writes and put back, with the same SQL, in the same transaction. (Merely having a
        # BEFORE INSERT trigger doubled the cost of an insert or upsert.) Other connections
        # never see the table without it, and a failed match rolls back to it.
        found = conn.execute(
            "select sql from sqlite_master where type = 'trigger' and name = 'alignments_keep_decisions'").fetchone()
        self.guard = found[0] if found else None
        if self.guard:
            conn.execute("drop trigger alignments_keep_decisions")

    def add(self, chunk: _Chunk, sources: list[Doc]) -> None:
        decided, pending = self.decided, self.pending
        method, stamp, target_keys, scores, bands, evidence = (
            self.method, self.stamp, chunk.target_keys, chunk.scores, chunk.bands, chunk.evidence)
        source_keys = [s.key for s in sources[chunk.start : chunk.stop]]
        suggested = self._suggested_now(source_keys)  # (source, target) -> (id, worked on)
        for row, first in enumerate(range(0, len(chunk.cols), chunk.per_row)):
            source_key = source_keys[row]
            for j in range(first, first + chunk.per_row):
                pair = (source_key, target_keys[j])
                if not chunk.keep[j] or pair in decided:
                    continue
                suggested.pop(pair, None)
                pending.append(pair + (scores[j], bands[j], method, evidence[j], j - first + 1, stamp, stamp))
            if chunk.unlikely[row]:
                self.unlikely.append((source_key, chunk.best[row]))
        # What is left fell out of these sources' suggestions: deleted, unless a reviewer worked on it.
        fallen = [alignment_id for alignment_id, worked_on in suggested.values() if not worked_on]
        self.kept_commented += len(suggested) - len(fallen)
        for at in range(0, len(fallen), _MAX_PARAMETERS):
            some = _padded(fallen[at : at + _MAX_PARAMETERS])
            self.conn.execute("delete from alignments where +status = 'suggested' and id in "
                              f"({', '.join(['?'] * len(some))})", some)
        if len(pending) >= _INSERT_ROWS:
            self._upsert(len(pending) - len(pending) % _INSERT_ROWS)

    def _suggested_now(self, source_keys: list) -> dict:
        """These sources' suggestions to the targets this run ranks, as they stand: (source, target)
        -> (alignment id, whether a reviewer worked on it)."""
        suggested = {}
        for at in range(0, len(source_keys), _MAX_PARAMETERS):
            some = _padded(source_keys[at : at + _MAX_PARAMETERS])
            sql = _SUGGESTED_NOW.format(worked_on=worked_on_sql("a"), sources=", ".join(["?"] * len(some)))
            (found,) = self.conn.execute(sql, some).fetchone()
            numbers = list(map(int, found.split())) if found else []
            for at_row in range(0, len(numbers), 4):
                source_id, target_id, alignment_id, worked_on = numbers[at_row : at_row + 4]
                suggested[(source_id, target_id)] = (alignment_id, bool(worked_on))
        return suggested

    def _upsert(self, count: int) -> None:
        rows, self.pending = self.pending[:count], self.pending[count:]
        for at in range(0, len(rows), _INSERT_ROWS):
            batch = rows[at : at + _INSERT_ROWS]
            self.conn.execute(_UPSERT.format(values=", ".join(["(?, ?, ?, ?, ?, ?, ?, ?, ?)"] * len(batch))),
                              [value for row in batch for value in row])
        self.suggested += len(rows)

    def finish(self) -> None:
        self._upsert(len(self.pending))
        if self.target_fid is not None:
            # This match's marks replace the last match's, for these two frameworks; a statement
            # with an accepted alignment to the target framework is aligned, never marked.
            self.conn.execute(
                "delete from no_likely_alignment where target_framework_id = ? and source_id in "
                "(select id from standards where framework_id = ?)", [self.target_fid, self.source_fid])
            aligned = {s for s, _ in self.decided_accepted}
            self.conn.executemany(
                "insert into no_likely_alignment (source_id, target_framework_id, best_score, method, marked_at) "
                "values (?, ?, ?, ?, ?)",
                [(s, self.target_fid, best, self.method, self.stamp) for s, best in self.unlikely if s not in aligned])
            self.unlikely_count = sum(s not in aligned for s, _ in self.unlikely)
        self.conn.execute("delete from temp.match_targets")
        if self.guard:
            self.conn.execute(self.guard)
