"""Writing one match's suggestions to SQLite, with the speed measures that made it fast."""

from __future__ import annotations

import collections
import sqlite3

from ..db import now, worked_on_sql
from ..errors import CrosswalkError
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
# The suggestions of some sources, to the targets this run ranked, that this run no longer
# makes; one a reviewer commented on is kept as it was (the comments are the reviewer's work).
# A pair is named by one number, source_id * 2**32 + target_id: for a pair of columns,
# "not in" scanned the whole list for NULLs each time a row was not in it (0.5 s a chunk).
_PAIR_KEY = 2**32
_DELETE_FALLEN_OUT = (
    # (The unary + keep SQLite to the rows of these sources, found through the (source, target)
    # index: by status it scanned every suggestion, by target it probed every pair.)
    "delete from alignments where +status = 'suggested' and source_id in ({sources}) "
    "and +target_id in (select id from temp.match_targets) and source_id * {key} + target_id not in ({pairs})"
)


def _padded(n: int) -> int:
    """``n`` rounded up to 1, 2, 4 ... 512, then to a multiple of 1,024."""
    return 1 << max(n - 1, 0).bit_length() if n <= 512 else -(-n // 1024) * 1024


class _SuggestionWriter:
    """Writes one match's suggestions, chunk by chunk, inside its write transaction.

    SQLite does the comparing, a few thousand rows per statement: new pairs are inserted; a
    pair suggested before is updated in place when something about it changed; a suggestion
    that fell out is deleted, unless a reviewer commented on it; a decided pair is never
    written. One statement is one step in C, during which the ranking threads hold the GIL
    (row by row, each row would wait for it)."""

    def __init__(self, db, method: str):
        self.conn, self.method, self.stamp = db.conn, method, now()
        self.pending: list[tuple] = []
        self.suggested = self.kept_commented = self.unlikely_count = 0
        self.decided: set = set()
        self.decided_here = 0
        self.unlikely: list[tuple] = []  # (source id, its best score): no likely alignment
        self.commented: dict = {}
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
        (largest,) = conn.execute("select max(id) from standards").fetchone()
        if (largest or 0) >= 2**31:  # pair keys stay 64-bit integers (rowids are never this large unless set so)
            raise CrosswalkError(f"a standard's id ({largest}) is too large for matching: ids must be below 2**31")
        commented, targets = collections.defaultdict(set), set(target_ids)
        # The suggestions a reviewer worked on (commented, gave a rationale, reopened: db.worked_on_sql).
        for source_id, target_id in conn.execute(
                "select a.source_id, a.target_id from alignments a join standards s on s.id = a.source_id "
                f"where s.framework_id = ? and a.status = 'suggested' and {worked_on_sql('a')}",
                [source_fid]):
            if target_id in targets:
                commented[source_id].add(target_id)
        self.commented = commented
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
        decided, pending, commented = self.decided, self.pending, self.commented
        method, stamp, target_keys, scores, bands, evidence = (
            self.method, self.stamp, chunk.target_keys, chunk.scores, chunk.bands, chunk.evidence)
        source_keys = [s.key for s in sources[chunk.start : chunk.stop]]
        pairs = []
        for row, first in enumerate(range(0, len(chunk.cols), chunk.per_row)):
            source_key, its_pairs = source_keys[row], len(pairs)
            for j in range(first, first + chunk.per_row):
                pair = (source_key, target_keys[j])
                if not chunk.keep[j] or pair in decided:
                    continue
                pairs.append(pair)
                pending.append(pair + (scores[j], bands[j], method, evidence[j], j - first + 1, stamp, stamp))
            if chunk.unlikely[row]:
                self.unlikely.append((source_key, chunk.best[row]))
            if source_key in commented:  # commented suggestions that fell out, kept
                self.kept_commented += len(commented[source_key] - {t for _, t in pairs[its_pairs:]})
        self._delete_fallen_out(source_keys, pairs)
        if len(pending) >= _INSERT_ROWS:
            self._upsert(len(pending) - len(pending) % _INSERT_ROWS)

    def _upsert(self, count: int) -> None:
        rows, self.pending = self.pending[:count], self.pending[count:]
        for at in range(0, len(rows), _INSERT_ROWS):
            batch = rows[at : at + _INSERT_ROWS]
            self.conn.execute(_UPSERT.format(values=", ".join(["(?, ?, ?, ?, ?, ?, ?, ?, ?)"] * len(batch))),
                              [value for row in batch for value in row])
        self.suggested += len(rows)

    def _delete_fallen_out(self, source_keys: list, pairs: list) -> None:
        """Delete what these sources were suggested before and no longer are, except what a
        reviewer commented on: one statement per group of sources within SQLite's parameter
        limit, each naming the pairs its sources keep."""
        keeps = collections.defaultdict(list)
        for s, t in pairs:
            keeps[s].append(s * _PAIR_KEY + t)
        for s in source_keys:
            keeps[s] += [s * _PAIR_KEY + t for t in self.commented.get(s, ())]
        group, keep = [], []
        for key in source_keys + [None]:
            if group and (key is None or
                          _padded(len(group) + 1) + _padded(len(keep) + len(keeps[key])) > _MAX_PARAMETERS):
                self._delete(group, keep)
                group, keep = [], []
            if key is not None:
                group.append(key)
                keep += keeps[key]

    def _delete(self, sources: list, keep: list) -> None:
        # Statements of a few sizes only (lists padded with repeats), so that SQLite prepares each
        # once: preparing one with thousands of parameters took as long as running it.
        n_sources, n_keep = _padded(len(sources)), _padded(max(len(keep), 1))
        sources = sources + sources[-1:] * (n_sources - len(sources))
        keep = keep + (keep[-1:] or [-1]) * (n_keep - len(keep))
        sql = _DELETE_FALLEN_OUT.format(sources=", ".join(["?"] * n_sources), key=_PAIR_KEY,
                                        pairs=", ".join(["?"] * n_keep))
        self.conn.execute(sql, sources + keep)

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
