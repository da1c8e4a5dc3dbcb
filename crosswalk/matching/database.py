"""Matching a framework in the database: read statements and decisions, rank, write the suggestions."""

from __future__ import annotations

import dataclasses

from ..db import framework_id, in_band_sql, names_there, refresh_statistics, write_transaction
from ..errors import CrosswalkError
from ..text import parse_grades, plural
from .base import DEFAULT, Decision, Doc, Settings
from .ranking import _Ranking
from .vectors import EmbeddingCache, lazy_encoder
from .writer import _SuggestionWriter

# ---------------------------------------------------------------- database


@dataclasses.dataclass
class MatchResult:
    source: str
    target: str
    sources: int
    targets: int
    suggested: int
    kept_decisions: int
    method: str
    kept_commented: int = 0
    unlikely: int = 0  # statements marked "no likely alignment"
    # (statements with an accepted alignment so far, how many it takes) while what is accepted most
    # does not count yet (Settings.shared_min_statements); None: it counts, or there are no decisions
    shared_waiting: tuple[int, int] | None = None
    # How the decisions fared on the held-out check (learning._select): (decided statements, share
    # with an accepted standard among their first 5 with the decisions, the same cold, how many of
    # the statements were decided for another framework); None: no check
    checked: tuple[int, float, float, int] | None = None

    def summary(self) -> str:
        n = self.kept_commented
        commented = (f"; {plural(n, 'suggestion')} with reviewers' comments or rationales kept, "
                     "though no longer in the top" if n else "")
        u = self.unlikely
        unlikely = (f"; {plural(u, 'statement')} with no likely alignment (no suggestions; "
                    "see the no_likely_alignment table)" if u else "")
        waiting = (f"; what is accepted most counts once {self.shared_waiting[1]} statements have an accepted "
                   f"alignment ({self.shared_waiting[0]} so far)" if self.shared_waiting else "")
        checked = ""
        if self.checked:
            decided, warm, cold, elsewhere = self.checked
            of_others = f"{elsewhere} of them another framework's; " if elsewhere else ""
            checked = (f"; checked on {plural(decided, 'reviewed statement')} ({of_others}each ranked with the "
                       f"others' decisions): an accepted standard in the first 5 for {warm:.0%} with the decisions, "
                       f"{cold:.0%} without")
        return (
            f"Matched {plural(self.sources, 'standard')} of {self.source!r} against {self.targets} of "
            f"{self.target!r}: {plural(self.suggested, 'suggestion')} ({self.method}); "
            f"{plural(self.kept_decisions, 'reviewed alignment')} left as "
            f"{'it was' if self.kept_decisions == 1 else 'they were'}{commented}{unlikely}{checked}{waiting}"
        )


def load_targets(db, target_fid: int, subject: str | None = None, grade: str | None = None) -> list[Doc]:
    where = ["framework_id = ?", "status = 'active'"]
    params: list = [target_fid]
    if subject:
        where.append("(lower(subject) = lower(?) or lower(domain) = lower(?))")
        params += [subject, subject]
    if grade:
        low, high = parse_grades(grade)
        if low is None:
            raise CrosswalkError(f"could not read the grade band {grade!r} (try 9-12, HS, K-5 or 8)")
        where.append(in_band_sql("standards", "?", "?"))
        params += [high, low]  # in the order in_band_sql writes them
    rows = db.query(
        f"select id, code, statement, domain, cluster, grade_low, grade_high from standards "
        f"where {' and '.join(where)} order by position",
        params,
    )
    return [Doc(r["id"], r["code"], r["statement"], _context(r), _grades(r)) for r in rows]


def load_decisions(db, target_ids: set[int], source_fid: int | None = None) -> list[Decision]:
    """Every accepted or rejected alignment to these targets, from any framework (those of
    another framework than ``source_fid`` marked so: see ``Decision.other_framework``)."""
    rows = db.query(
        "select a.source_id, a.target_id, a.status, s.code, s.statement, s.domain, s.cluster, s.grade_low, "
        "s.grade_high, s.framework_id "
        "from alignments a join standards s on s.id = a.source_id where a.status in ('accepted', 'rejected')"
    )
    return [
        Decision(r["statement"], r["target_id"], r["status"] == "accepted", r["code"], r["source_id"],
                 _context(r), _grades(r), source_fid is not None and r["framework_id"] != source_fid)
        for r in rows
        if r["target_id"] in target_ids
    ]


def _context(row) -> str:
    return ". ".join(x for x in (row["domain"], row["cluster"]) if x)


def _grades(row) -> tuple | None:
    return None if row["grade_low"] is None else (row["grade_low"], row["grade_high"])


def load_sources(db, source_fid: int) -> list[Doc]:
    return [
        Doc(r["id"], r["code"], r["statement"], _context(r), _grades(r))
        for r in db.query(
            "select id, code, statement, domain, cluster, grade_low, grade_high from standards "
            "where framework_id = ? and status = 'active' order by position",
            [source_fid],
        )
    ]


# How many times a match ranks the statements again where an import changed them while it ranked.
MATCH_ATTEMPTS = 3


def match(
    db,
    *,
    source: str,
    target: str,
    top: int = 5,
    subject: str | None = None,
    grade: str | None = None,
    use_embeddings: bool = True,
    settings: Settings = DEFAULT,
    progress=None,
) -> MatchResult:
    """Suggest the ``top`` academic standards for every standard of ``source``.

    Suggestions replace earlier *suggested* alignments of these sources; an
    accepted or rejected alignment is never touched, and a rejected pair is
    never suggested again.
    """
    if top < 1:
        raise CrosswalkError("--top must be at least 1")
    encoder = lazy_encoder() if use_embeddings else None
    for _ in range(MATCH_ATTEMPTS):
        source_fid, target_fid, source_name, target_name, targets = _checked(db, source, target, subject, grade)
        sources = load_sources(db, source_fid)
        decisions = load_decisions(db, {t.key for t in targets}, source_fid)
        ranking = None
        if sources:
            ranking = _Ranking(sources, targets, top=top, decisions=decisions, encoder=encoder,
                               cache=EmbeddingCache(db), settings=settings, with_evidence=True)
        chunks = ranking.chunks() if ranking else iter(())
        if ranking and ranking.warm:
            # Warm, scoring a chunk is slow: rank them all before taking the write lock.
            chunks = list(chunks)
        writer = _SuggestionWriter(db, ranking.method if ranking else "tfidf")
        # Cold, each chunk is written as it comes, while the threads score and explain the next
        # ones (SQLite lets go of the GIL while it inserts): the write lock is held from the
        # first chunk on, about as long as the write alone would take.
        with write_transaction(db):
            # The statements as they were read, or ranked again: an import while this one ranked
            # (a concurrency audit: 1,435 suggestions written for 287 statements it had just
            # retired, and the changed ones' scored on their old words, exit 0 both).
            if (load_sources(db, source_fid), load_targets(db, target_fid, subject, grade)) != (sources, targets):
                continue
            # Read decisions inside the write lock: one made while we were scoring must win.
            writer.begin(source_fid, [t.key for t in targets], target_fid)
            for chunk in chunks:
                writer.add(chunk, sources)
                if progress:
                    progress(chunk.stop - chunk.start)
            writer.finish()
            break
    else:
        raise CrosswalkError(f"the statements of {source_name!r} or {target_name!r} changed while they were matched, "
                             f"{MATCH_ATTEMPTS} times (imports running?); nothing was written: run match again")
    # A match rewrites most of the alignments: the planner's statistics follow (db.refresh_statistics).
    refresh_statistics(db)
    # (Said only where it can happen: a framework of fewer statements never gets there.)
    learned = ranking.learned if ranking else None
    waiting = learned.shared_waiting if learned and len(sources) >= settings.shared_min_statements else None
    checked = ((learned.statements, learned.warm_right, learned.cold_right, learned.checked_elsewhere)
               if learned and learned.warm_right is not None else None)
    return MatchResult(source_name, target_name, len(sources), len(targets), writer.suggested, writer.decided_here,
                       writer.method, writer.kept_commented, writer.unlikely_count,
                       (waiting, settings.shared_min_statements) if waiting is not None else None, checked)


def check_match(db, *, source: str, target: str, subject: str | None = None, grade: str | None = None) -> None:
    """Raise the error :func:`match` would raise for these frameworks and filters, writing nothing:
    several --to are all checked before the first is matched (the first was written, then the
    second refused: 'no active standard of ... is in subject ...', exit 1)."""
    _checked(db, source, target, subject, grade)


def _subjects_there(db, target_fid: int, subject: str) -> str:
    """What --subject may name in the framework (its subjects and domains), the close ones first."""
    names = [row[0] for row in db.execute(
        "select distinct value from (select subject as value from standards where framework_id = :f and status = 'active' "
        "union select domain from standards where framework_id = :f and status = 'active') "
        "where value is not null and trim(value) != '' order by value", {"f": target_fid})]
    if not names:
        return "; its standards name no subject or domain"
    return names_there(subject, names, "its subjects and domains")


def _checked(db, source: str, target: str, subject: str | None, grade: str | None):
    """The two frameworks' ids and names and the standards to match against, after every check."""
    source_fid = framework_id(db, source)
    target_fid = framework_id(db, target)
    (source_name, source_kind), (target_name, target_kind) = (
        db.execute("select name, kind from frameworks where id = ?", [fid]).fetchone() for fid in (source_fid, target_fid))
    if source_fid == target_fid:
        raise CrosswalkError(f"--from and --to both name {source_name!r}: match a framework to another one")
    if (source_kind, target_kind) == ("academic", "industry"):
        raise CrosswalkError(f"{source_name!r} is academic and {target_name!r} is industry: suggestions go from the "
                             "industry standards a program teaches (--from) to academic standards (--to); swap them")
    if source_kind == target_kind:  # (they went into the programs' review queues as academic suggestions)
        raise CrosswalkError(f"{source_name!r} and {target_name!r} are both {source_kind}: suggestions go from the "
                             "industry standards a program teaches (--from) to academic standards (--to); a framework "
                             "imported with the wrong kind is imported again with --kind")
    targets = load_targets(db, target_fid, subject, grade)
    if not targets:
        restriction = " and ".join(f"{what} {value!r}" for what, value in (("subject", subject), ("grade", grade)) if value)
        if not restriction:
            raise CrosswalkError(f"{target_name!r} has no active standards")
        raise CrosswalkError(f"no active standard of {target_name!r} is in {restriction}"
                             + (_subjects_there(db, target_fid, subject) if subject else ""))
    return source_fid, target_fid, source_name, target_name, targets
