"""Measuring match quality against a gold crosswalk.

A gold crosswalk is a CSV or xlsx with a source code and a target code per
row (columns ``source_code`` and ``target_code``, or else the first two
columns). :func:`evaluate` ranks every target for each gold source exactly
as ``crosswalk match`` would and reports hit@k, recall@10, MRR and the
precision and recall of each confidence band. With ``folds`` it runs k-fold
cross-validation over source standards: the gold pairs of the other folds
act as accepted decisions (warm mode). Nothing is written to the database.

:func:`learning_curve` measures the regime a committee lives in: cold, then tens of
decisions. A simulated committee reviews N statements (a seeded sample), sees each one's
top 5, accepts the gold targets among them and rejects the others, and where none of the
five was right adds one gold target (as a reviewer who searched would); a fixed held-out set
of other statements is then ranked with those decisions. Besides hit@k and MRR it reports
*collapse*: the share of held-out top-1 suggestions that go to a standard the committee
accepted, beside the share of held-out statements whose gold has such a standard. The matcher's
first place is the statement's own best match, and a standard the decisions made popular can
score higher below it: hit@1 and collapse are also given for each statement's highest-scored
suggestion (*by score*), which is what lists sorted by score across statements (the review
queue, a band's suggestions) show of it.

Example::

    report = evaluate(db, gold="gold.csv", source="O*NET tasks", target="O*NET DWAs")
    report.as_dict()["hit_at_5"]
    curve = learning_curve(db, gold="gold.csv", source="O*NET tasks", target="O*NET DWAs",
                           decisions=[0, 10, 50])
    [point.hit_at_5 for point in curve.points]
"""

from __future__ import annotations

import collections
import dataclasses
import random
import time

from .db import CONFIDENCES, framework_id
from .decisions import COLUMNS as DECISION_FILE_COLUMNS
from .errors import CrosswalkError, NotFound
from .matching import (
    DEFAULT,
    Decision,
    EmbeddingCache,
    Settings,
    check_match,
    lazy_encoder,
    load_sources,
    load_targets,
    rank_candidates,
)
from .review import DECISIONS, read_decision, says_undecided
from .sources import PAIR_COLUMNS, cell_text, normalise_header, read_table
from .text import plural

DEPTH = 100  # ranks looked at for MRR


# A gold file's columns, by the names an earlier crosswalk's are found by (sources.PAIR_COLUMNS), and
# its decision column by import-decisions' names for it.
GOLD_COLUMNS = {field: frozenset(normalise_header(n) for n in names) for field, names in PAIR_COLUMNS.items()}
OTHER_COLUMNS = {field: frozenset(normalise_header(n) for n in DECISION_FILE_COLUMNS[field])
                 for field in ("decision", "source_framework", "target_framework")}


def read_gold(path, *, rows: bool = False) -> list[tuple]:
    """(source code, target code) pairs from a gold crosswalk file: its columns found by name (below
    title rows, in any order), or else its first two columns, every row a pair (a file without a
    header row: its first pair is not taken for one). A header that names one of the two columns
    and not the other is an error naming what it found. ``rows``: (source, target, where) triples,
    ``where`` the file and row a pair is on (for the notes on codes not found), then the row's source
    and target framework where the file has those columns ('' where not). A file with a decision
    column (an earlier crosswalk's decisions, crosswalk's own export) gives its accepted rows only
    (see :func:`read_gold_file`)."""
    return read_gold_file(path, rows=rows)[0]


def read_gold_file(path, *, rows: bool = False) -> tuple[list[tuple], int]:
    """:func:`read_gold`'s pairs, and how many rows it left out: a row whose decision column (found
    by the names ``import-decisions`` knows it by) says rejected or not decided yet is no gold pair.
    Counted as pairs, the demo's decisions file scored its rejected standard as a right answer."""
    table = read_table(path, header_names=GOLD_COLUMNS["source"] | GOLD_COLUMNS["target"])
    headers = [normalise_header(h) for h in table.headers]
    found = [next((i for i, h in enumerate(headers) if h in GOLD_COLUMNS[field]), None)
             for field in ("source", "target")]
    data = table.rows
    d_col = sf_col = tf_col = None
    if None not in found and found[0] != found[1]:
        s_col, t_col = found
        d_col, sf_col, tf_col = (next((i for i, h in enumerate(headers) if h in OTHER_COLUMNS[field]), None)
                                 for field in ("decision", "source_framework", "target_framework"))
    elif found.count(None) == 1:
        have, missing = ("source", "target") if found[0] is not None else ("target", "source")
        raise table.error(f"has a {have} code column but no {missing} code column; its columns are: "
                          + ", ".join(repr(h) for h in (table.header_texts or table.headers)),
                          row=table.header_row, column=found[0] if found[0] is not None else found[1],
                          hint="name the columns source_code and target_code")
    elif len(headers) >= 2:
        s_col, t_col = 0, 1
        data = [(table.header_row, table.header_texts or table.headers), *data]  # no header: a pair
    else:
        raise table.error("needs two columns: source_code and target_code", row=table.header_row)
    pairs = []
    left_out = 0
    for number, values in data:
        s = cell_text(values[s_col]) if s_col < len(values) else ""
        t = cell_text(values[t_col]) if t_col < len(values) else ""
        if not s and not t:
            continue
        if not s or not t:
            raise table.error("a gold row needs both a source code and a target code", row=number,
                              column=s_col if not s else t_col)
        decision = cell_text(values[d_col]) if d_col is not None and d_col < len(values) else ""
        if decision:  # (an empty decision cell: the row is a pair, as in a file without the column)
            if not says_undecided(decision):
                try:
                    decision = DECISIONS[read_decision(decision)[0]]
                except CrosswalkError as exc:
                    raise table.error(str(exc), row=number, column=d_col) from None
            if decision != "accepted":
                left_out += 1
                continue
        if rows:
            frameworks = tuple(cell_text(values[c]) if c is not None and c < len(values) else ""
                               for c in (sf_col, tf_col))
            pairs.append((s, t, f"{table.file}, row {number}", *frameworks))
        else:
            pairs.append((s, t))
    if not pairs:
        raise table.error("has no gold pairs" + (f" ({plural(left_out, 'row')} rejected or not decided yet)"
                                                 if left_out else ""))
    return pairs, left_out


@dataclasses.dataclass
class Report:
    hit_at_1: float
    hit_at_5: float
    hit_at_10: float
    recall_at_10: float
    mrr: float
    sources: int
    folds: int
    gold_pairs: int
    unknown_codes: int
    method: str
    bands: dict  # band -> {"suggestions", "correct", "precision", "recall"}
    confident_precision: float
    confident_recall: float
    baselines: dict = dataclasses.field(default_factory=dict)  # with folds: the popularity baselines
    top: int = 10  # suggestions per statement the bands' figures count
    outside_filters: int = 0  # gold pairs whose target --subject/--grade left out
    not_found: list = dataclasses.field(default_factory=list)  # where each unknown code is, in words
    left_out: int = 0  # the gold file's rows rejected, not decided yet or of other frameworks (_read)

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)

    def table(self) -> str:
        lines = [
            f"method        {self.method}",
            f"sources       {self.sources} (gold pairs {self.gold_pairs}; codes not found {self.unknown_codes}"
            + (f"; left out by --subject/--grade {self.outside_filters}" if self.outside_filters else "")
            + _left_out_text(self.left_out) + ")",
            f"folds         {self.folds or 'none (cold)'}",
            f"hit@1         {self.hit_at_1:.3f}",
            f"hit@5         {self.hit_at_5:.3f}",
            f"hit@10        {self.hit_at_10:.3f}",
            f"recall@10     {self.recall_at_10:.3f}",
            f"MRR           {self.mrr:.3f}",
            f"confident (high band): precision {self.confident_precision:.3f}, recall {self.confident_recall:.3f}",
        ]
        for band, figures in self.bands.items():
            lines.append(
                f"  {band:<7} {figures['suggestions']:>7} suggestions in the top {self.top}, "
                f"{figures['precision']:.3f} correct, {figures['recall']:.3f} of the gold pairs"
            )
        for name, figures in self.baselines.items():  # (with --folds: what a ranking by counts alone reaches)
            lines.append(f"baseline: {name}: hit@1 {figures['hit_at_1']:.3f}, hit@5 {figures['hit_at_5']:.3f}, "
                         f"hit@10 {figures['hit_at_10']:.3f}, MRR {figures['mrr']:.3f}")
        return "\n".join(lines)


def _metrics(ranked: dict, gold: dict, top: int) -> dict:
    hits = collections.Counter()
    recall_sum = 0.0
    rr_sum = 0.0
    bands = {b: {"suggestions": 0, "correct": 0} for b in CONFIDENCES}
    for key, cands in ranked.items():
        truth = gold[key]
        keys = [c.target_key for c in cands]
        first = _first_right(keys, truth)
        for k in (1, 5, 10):
            if first is not None and first < k:
                hits[k] += 1
        recall_sum += len(truth & set(keys[:10])) / len(truth)
        if first is not None:
            rr_sum += 1.0 / (first + 1)
        for c in cands[:top]:
            bands[c.confidence]["suggestions"] += 1
            bands[c.confidence]["correct"] += c.target_key in truth
    return dict(hits=hits, recall_sum=recall_sum, rr_sum=rr_sum, bands=bands, n=len(ranked))


def _first_right(keys: list, truth: set) -> int | None:
    """The place (0 = first) of the first right answer in a ranked list, None if there is none."""
    return next((i for i, k in enumerate(keys) if k in truth), None)


@dataclasses.dataclass
class _Gold:
    """A gold crosswalk read against the database: the statements it names and their answers."""

    docs: dict  # source key -> Doc
    targets: list
    truth: dict  # source key -> set of target keys
    unknown: int
    narrowed: int = 0  # pairs whose target --subject/--grade left out (the code is in the framework)
    not_found: list = dataclasses.field(default_factory=list)  # each pair whose code is not found, in words
    left_out: int = 0  # the file's rows rejected or not decided yet, or of other frameworks: no gold pairs

    @property
    def keys(self) -> list:
        return sorted(self.truth)


class _InAnyCase(dict):
    """Standards by code, found as import-decisions finds a decision's code (decisions._with_code): as
    written, else the one code that differs from it in case only ('hsn-q.a.1' for HSN-Q.A.1); a code
    that two standards share but for case is found only as written."""

    def __init__(self, by_code: dict):
        super().__init__(by_code)
        folded = collections.defaultdict(list)
        for code in by_code:
            folded[code.casefold()].append(code)
        self._folded = {key: codes[0] for key, codes in folded.items() if len(codes) == 1}

    def _code(self, code):
        return code if dict.__contains__(self, code) else self._folded.get(str(code).casefold())

    def __contains__(self, code) -> bool:
        return self._code(code) is not None

    def __getitem__(self, code):
        return dict.__getitem__(self, self._code(code))


def _read(db, gold, source, target, subject, grade) -> _Gold:
    # What match would refuse (an academic source, two frameworks of one kind, a subject with no
    # standard), eval refuses too, with match's words: measured, it printed a figure for a direction
    # no crosswalk is made in.
    check_match(db, source=source, target=target, subject=subject, grade=grade)
    pairs, left_out = read_gold_file(gold, rows=True) if not isinstance(gold, list) else (gold, 0)
    source_rows = _InAnyCase({d.code: d for d in load_sources(db, framework_id(db, source))})
    target_fid = framework_id(db, target)
    targets = load_targets(db, target_fid, subject, grade)
    target_by_code = _InAnyCase({t.code: t for t in targets})
    truth: dict = collections.defaultdict(set)
    unknown = 0
    every_target = (_InAnyCase({t.code: t for t in load_targets(db, target_fid, None, None)})
                    if subject or grade else target_by_code)
    narrowed = 0
    not_found = []  # where a code names no standard, in words (the first of them said by the CLI)
    # Rows that name other frameworks (a decisions file of several programs) are not this crosswalk's;
    # a framework is found by its name as everywhere (db.framework_id: in any case, or its id).
    wanted = (framework_id(db, source), target_fid)
    found_ids: dict[str, int | None] = {"": None}
    others = []
    for s, t, *where in pairs:
        for name in where[1:]:
            if name not in found_ids:
                try:
                    found_ids[name] = framework_id(db, name)
                except NotFound:
                    found_ids[name] = -1
        if any(found_ids[name] not in (None, fid) for name, fid in zip(where[1:], wanted)):
            others.append(where)
            continue
        where = where[:1]
        if s in source_rows and t in target_by_code:
            truth[source_rows[s].key].add(target_by_code[t].key)
        elif s in source_rows and t in every_target:
            narrowed += 1
        else:
            unknown += 1
            side, code, name = ("source", s, source) if s not in source_rows else ("target", t, target)
            not_found.append(f"{where[0] + ': ' if where else ''}{side} code {code!r} is not a standard of {name!r}")
    if not truth:
        filters = " and --subject/--grade, which leave out the standards outside them" if subject or grade else ""
        elsewhere = (f"; {plural(len(others), 'row')} name{'s' if len(others) == 1 else ''} other frameworks, "
                     f"the first {others[0][0]}: "
                     f"{others[0][1]!r} → {others[0][2]!r}" if others else "")
        raise CrosswalkError(
            "none of the gold pairs name a source standard of "
            f"{source!r} and a target standard of {target!r} (check the codes and the framework names{filters})"
            + elsewhere)
    docs = {d.key: d for d in source_rows.values() if d.key in truth}
    return _Gold(docs, targets, dict(truth), unknown, narrowed, not_found, left_out + len(others))


def _left_out_text(left_out: int) -> str:
    return f"; rows rejected, not decided yet or of other frameworks, left out {left_out}" if left_out else ""


def _bands(m: dict, truth: dict) -> dict:
    total_gold = sum(len(truth[k]) for k in truth)
    return {
        band: dict(suggestions=f["suggestions"], correct=f["correct"],
                   precision=round(f["correct"] / f["suggestions"], 4) if f["suggestions"] else 0.0,
                   recall=round(f["correct"] / total_gold, 4) if total_gold else 0.0)
        for band, f in m["bands"].items()
    }


def evaluate(
    db,
    *,
    gold,
    source: str,
    target: str,
    folds: int = 0,
    top: int = 10,
    subject: str | None = None,
    grade: str | None = None,
    use_embeddings: bool = True,
    settings: Settings = DEFAULT,
    seed: int = 0,
    progress=None,
) -> Report:
    """Rank targets for every gold source and score the ranking (see module docstring)."""
    if folds == 1 or folds < 0:
        raise CrosswalkError(f"--folds {folds} would leave no decisions to learn from: give 2 or more (0: cold)")
    g = _read(db, gold, source, target, subject, grade)
    docs, targets, truth = g.docs, g.targets, g.truth
    encoder = lazy_encoder() if use_embeddings else None
    cache = EmbeddingCache(db, readonly=True)
    depth = max(top, DEPTH)
    keys = g.keys
    ranked: dict = {}
    popular: dict = {}
    method = "?"
    if folds and folds > 1 and len(keys) < 2:
        raise CrosswalkError(f"--folds needs at least 2 gold statements to hold some out; the gold names "
                             f"{len(keys)} of this framework")
    folds = min(folds, len(keys)) if folds and folds > 1 else 0  # (no more parts than statements)
    methods: collections.Counter = collections.Counter()  # each fold's method: the check may choose apart
    if folds > 1:
        rng = random.Random(seed)
        shuffled = keys[:]
        rng.shuffle(shuffled)
        for fold in range(folds):
            test = shuffled[fold::folds]
            test_set = set(test)
            decisions = [
                Decision(docs[k].text, t, True, docs[k].code, k, docs[k].context, docs[k].grades)
                for k in keys if k not in test_set for t in truth[k]
            ]
            test_docs = [docs[k] for k in test]
            results = rank_candidates(
                test_docs, targets, top=depth, decisions=decisions, encoder=encoder,
                cache=cache, settings=settings, with_evidence=False, progress=progress,
            )
            ranked.update({k: r for k, r in zip(test, results)})
            methods[next((r[0].method for r in results if r), "?")] += 1
            cold_test = rank_candidates(test_docs, targets, top=depth, encoder=encoder, cache=cache,
                                        settings=settings, with_evidence=False)
            for name, band in (("popularity", False), ("popularity in grade band", True)):
                popular.setdefault(name, {}).update(zip(test, popularity_ranking(test_docs, decisions, cold_test, band)))
    else:
        results = rank_candidates(
            [docs[k] for k in keys], targets, top=depth, encoder=encoder, cache=cache,
            settings=settings, with_evidence=False, progress=progress,
        )
        ranked = dict(zip(keys, results))
        method = next((r[0].method for r in results if r), method)
    if methods:  # (it said the last fold's for all: 'no gain over cold' where one fold of 3 used decisions)
        method = next(iter(methods)) if len(methods) == 1 else "; ".join(
            f"{name} in {plural(n, 'fold')} of {folds}" for name, n in methods.most_common())
    m = _metrics(ranked, truth, top)
    n = m["n"]
    bands = _bands(m, truth)
    return Report(
        hit_at_1=round(m["hits"][1] / n, 4), hit_at_5=round(m["hits"][5] / n, 4),
        hit_at_10=round(m["hits"][10] / n, 4), recall_at_10=round(m["recall_sum"] / n, 4),
        mrr=round(m["rr_sum"] / n, 4), sources=n, folds=folds if folds > 1 else 0, top=top,
        gold_pairs=sum(len(v) for v in truth.values()), unknown_codes=g.unknown, outside_filters=g.narrowed,
        not_found=g.not_found, left_out=g.left_out, method=method, bands=bands,
        confident_precision=bands["high"]["precision"], confident_recall=bands["high"]["recall"],
        baselines={name: _ranking_metrics(lists, truth) for name, lists in popular.items()},
    )


def grade_band(grades) -> str | None:
    """The school band a grade range starts in: K-2, 3-5, 6-8 or 9-12 (None without grades)."""
    if not grades:
        return None
    low = grades[0]
    return "K-2" if low <= 2 else "3-5" if low <= 5 else "6-8" if low <= 8 else "9-12"


def popularity_ranking(docs: list, decisions: list, cold: list, within_band: bool) -> list[list]:
    """The baseline a committee could compute by hand: for each statement, the standards the
    decisions accepted most often (``within_band``: among the decided statements of the same
    grade band first, then all of them), ties and the rest in the cold order."""
    # A dict, not a set: the decisions' order breaks the last ties, the same in every run (a set
    # of strings iterates in a different order in every process).
    accepted = dict.fromkeys((d.source_text, d.target_key, grade_band(d.source_grades)) for d in decisions if d.accepted)
    overall = collections.Counter(t for _, t, _ in accepted)
    by_band: dict = collections.defaultdict(collections.Counter)
    for _, t, band in accepted:
        by_band[band][t] += 1
    out = []
    by_counts: dict = {}  # per band: the standards by their counts, each count's standards together
    for doc, cold_list in zip(docs, cold):
        band = grade_band(doc.grades) if within_band else None
        local = by_band.get(band, {}) if within_band else {}
        if band not in by_counts:
            ordered = sorted(overall, key=lambda t: (-local.get(t, 0), -overall[t]))
            # Only the first DEPTH places are ever scored: keep those, and the rest of the last
            # count group they reach into (its order is the cold one, per statement).
            end = min(DEPTH, len(ordered))
            if end:
                last = (local.get(ordered[end - 1], 0), overall[ordered[end - 1]])
                while end < len(ordered) and (local.get(ordered[end], 0), overall[ordered[end]]) == last:
                    end += 1
            by_counts[band] = ordered[:end]
        head = by_counts[band]
        cold_rank = {c.target_key: i for i, c in enumerate(cold_list)}
        popular = sorted(head, key=lambda t: (-local.get(t, 0), -overall[t], cold_rank.get(t, len(cold_rank))))
        chosen = set(popular)
        out.append(popular + [c.target_key for c in cold_list if c.target_key not in chosen])
    return out


def _ranking_metrics(ranked: dict, truth: dict) -> dict:
    """hit@1/5/10 and MRR of plain ranked lists of target keys."""
    hits, rr = collections.Counter(), 0.0
    for key, keys in ranked.items():
        first = _first_right(keys, truth[key])
        if first is not None:
            rr += 1.0 / (first + 1)
            for k in (1, 5, 10):
                hits[k] += first < k
    n = len(ranked)
    return dict(hit_at_1=round(hits[1] / n, 4), hit_at_5=round(hits[5] / n, 4), hit_at_10=round(hits[10] / n, 4),
                mrr=round(rr / n, 4))


@dataclasses.dataclass
class CurvePoint:
    """Quality on the held-out statements after a committee reviewed ``decisions`` statements."""

    decisions: int  # statements the committee reviewed
    accepted: int  # alignments it accepted (from the suggestions, or found by searching)
    rejected: int
    hit_at_1: float
    hit_at_5: float
    hit_at_10: float
    mrr: float
    bands: dict
    collapse: float  # share of held-out top-1 suggestions whose standard the committee accepted
    collapse_gold: float  # share of held-out statements whose gold has a standard the committee accepted
    # The same for each statement's highest-scored suggestion (lists sorted by score across statements).
    hit_at_1_by_score: float
    collapse_by_score: float
    unsuggested: float  # share of held-out statements marked "no likely alignment"
    method: str
    seconds: float
    baselines: dict = dataclasses.field(default_factory=dict)  # name -> hit@k, MRR of the same protocol

    @property
    def excess_collapse(self) -> float:
        return round(self.collapse - self.collapse_gold, 4)

    @property
    def excess_collapse_by_score(self) -> float:
        return round(self.collapse_by_score - self.collapse_gold, 4)


@dataclasses.dataclass
class Curve:
    held_out: int
    shown: int
    seed: int
    points: list
    gold_pairs: int = 0
    unknown_codes: int = 0  # gold pairs whose code names no standard (as the cold report counts them)
    outside_filters: int = 0  # gold pairs whose target --subject/--grade left out
    not_found: list = dataclasses.field(default_factory=list)  # where each unknown code is, in words
    left_out: int = 0  # the gold file's rows rejected, not decided yet or of other frameworks (_read)

    def as_dict(self) -> dict:
        return dict(held_out=self.held_out, shown=self.shown, seed=self.seed, gold_pairs=self.gold_pairs,
                    unknown_codes=self.unknown_codes, outside_filters=self.outside_filters, not_found=self.not_found,
                    left_out=self.left_out,
                    points=[dict(dataclasses.asdict(p), excess_collapse=p.excess_collapse,
                                 excess_collapse_by_score=p.excess_collapse_by_score) for p in self.points])

    def table(self) -> str:
        lines = [f"gold pairs {self.gold_pairs}; codes not found {self.unknown_codes}"
                 + (f"; left out by --subject/--grade {self.outside_filters}" if self.outside_filters else "")
                 + _left_out_text(self.left_out),
                 f"held-out statements {self.held_out}; the committee sees each reviewed statement's top "
                 f"{self.shown} (seed {self.seed})",
                 "decisions  accepted  rejected  hit@1  hit@5  hit@10    MRR  collapse (gold)  high   medium"
                 "   by score: hit@1  collapse  method",
                 "(high, medium: the share of the band's suggestions that are right / how many there are)",
                 ]
        for p in self.points:
            high, medium = p.bands["high"], p.bands["medium"]
            lines.append(
                f"{p.decisions:>9}  {p.accepted:>8}  {p.rejected:>8}  {p.hit_at_1:.3f}  {p.hit_at_5:.3f}  "
                f"{p.hit_at_10:.3f}  {p.mrr:.3f}  {p.collapse:.3f} ({p.collapse_gold:.3f})  "
                f"{_band_cell(high):>6} {_band_cell(medium):>8}   {p.hit_at_1_by_score:.3f}  {p.collapse_by_score:.3f}"
                f"  {p.method}")
        lines.append("baselines (hit@5): " + "; ".join(
            f"N = {p.decisions}: " + ", ".join(f"{name} {b['hit_at_5']:.3f}" for name, b in p.baselines.items())
            for p in self.points))
        return "\n".join(lines)


def _band_cell(band: dict) -> str:
    return f"{band['precision']:.2f}/{band['suggestions']}" if band["suggestions"] else "–"


def committee_decisions(gold: _Gold, reviewed: list, shown: dict, rng: random.Random) -> list[Decision]:
    """What a committee decides on the ``reviewed`` statements, each seen with its ``shown``
    suggestions: the gold ones are accepted, the others rejected; where none was right, one
    gold standard is added (a reviewer who searched for it)."""
    decisions = []
    for key in reviewed:
        doc, truth = gold.docs[key], gold.truth[key]
        seen = shown[key]
        right = [t for t in seen if t in truth]
        if not right:
            right = [rng.choice(sorted(truth, key=str))]
        for t in right:
            decisions.append(Decision(doc.text, t, True, doc.code, key, doc.context, doc.grades))
        for t in seen:
            if t not in truth:
                decisions.append(Decision(doc.text, t, False, doc.code, key, doc.context, doc.grades))
    return decisions


def learning_curve(
    db,
    *,
    gold,
    source: str,
    target: str,
    decisions=(0, 10, 25, 50, 100, 200),
    held_out: int | None = None,
    shown: int = 5,
    top: int = 10,
    subject: str | None = None,
    grade: str | None = None,
    use_embeddings: bool = True,
    settings: Settings = DEFAULT,
    seed: int = 0,
    progress=None,
) -> Curve:
    """Quality of the suggestions for a fixed set of held-out statements after a simulated
    committee reviewed N other statements, for each N of ``decisions`` (see module docstring).
    The committee's statements are the first N of one seeded order, so a larger N adds to a
    smaller one. ``held_out`` defaults to half of the gold's statements, at most 400."""
    g = _read(db, gold, source, target, subject, grade)
    keys = g.keys
    rng = random.Random(seed)
    order = keys[:]
    rng.shuffle(order)
    n_held = held_out if held_out is not None else min(400, len(keys) // 2)
    if len(keys) < 2:
        raise CrosswalkError(f"the gold names {len(keys)} statement of the framework: a committee's curve needs "
                             "two or more (some reviewed, some held out)")
    if not 0 < n_held < len(keys):
        raise CrosswalkError(f"the held-out set must have between 1 and {len(keys) - 1} statements, not {n_held}")
    held, pool = order[:n_held], order[n_held:]
    sizes = sorted(set(decisions))
    if sizes and sizes[-1] > len(pool):
        raise CrosswalkError(
            f"the gold has {len(pool)} statements outside the {n_held} held out: a committee cannot review "
            f"{sizes[-1]} (use smaller --decisions or a smaller --held-out)")
    encoder = lazy_encoder() if use_embeddings else None
    cache = EmbeddingCache(db, readonly=True)
    reviewed = pool[: sizes[-1]] if sizes else []
    # What the committee sees: each reviewed statement's top suggestions from a cold match of
    # every statement (as `crosswalk match` makes them before any decision).
    first = rank_candidates([g.docs[k] for k in keys], g.targets, top=shown, encoder=encoder, cache=cache,
                            settings=settings, with_evidence=False) if reviewed else []
    seen = {k: [c.target_key for c in cands] for k, cands in zip(keys, first)}
    points = []
    truth_held = {k: g.truth[k] for k in held}
    held_docs = [g.docs[k] for k in held]
    cold_held = rank_candidates(held_docs, g.targets, top=max(top, DEPTH), encoder=encoder, cache=cache,
                                settings=settings, with_evidence=False)
    for n in sizes:
        started = time.perf_counter()
        made = committee_decisions(g, reviewed[:n], seen, random.Random(seed + 1))
        results = rank_candidates([g.docs[k] for k in held], g.targets, top=max(top, DEPTH), decisions=made,
                                  encoder=encoder, cache=cache, settings=settings, with_evidence=False)
        ranked = dict(zip(held, results))
        m = _metrics(ranked, truth_held, top)
        count = len(held)
        accepted = {d.target_key for d in made if d.accepted}
        tops = [r[0].target_key for r in results if r]
        # max keeps the first of equal scores: the matcher's order where the scores do not differ.
        by_score = {k: max(r, key=lambda c: c.score).target_key for k, r in ranked.items() if r}
        points.append(CurvePoint(
            decisions=n, accepted=sum(d.accepted for d in made), rejected=sum(not d.accepted for d in made),
            hit_at_1=round(m["hits"][1] / count, 4), hit_at_5=round(m["hits"][5] / count, 4),
            hit_at_10=round(m["hits"][10] / count, 4), mrr=round(m["rr_sum"] / count, 4),
            bands=_bands(m, truth_held),
            collapse=round(sum(t in accepted for t in tops) / count, 4),
            collapse_gold=round(sum(bool(truth_held[k] & accepted) for k in held) / count, 4),
            hit_at_1_by_score=round(sum(t in truth_held[k] for k, t in by_score.items()) / count, 4),
            collapse_by_score=round(sum(t in accepted for t in by_score.values()) / count, 4),
            unsuggested=round(sum(not r for r in results) / count, 4),
            method=next((r[0].method for r in results if r), "?"),
            seconds=round(time.perf_counter() - started, 1),
            baselines={
                name: _ranking_metrics(dict(zip(held, popularity_ranking(held_docs, made, cold_held, band))),
                                       truth_held)
                for name, band in (("popularity", False), ("popularity in grade band", True))
            },
        ))
        if progress:
            progress(n)
    return Curve(held_out=n_held, shown=shown, seed=seed, points=points,
                 gold_pairs=sum(len(v) for v in g.truth.values()), unknown_codes=g.unknown,
                 outside_filters=g.narrowed, not_found=g.not_found, left_out=g.left_out)
