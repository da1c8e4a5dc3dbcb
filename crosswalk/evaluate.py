"""Measuring match quality against a gold crosswalk.

A gold crosswalk is a CSV or xlsx with a source code and a target code per
row (columns ``source_code`` and ``target_code``, or else the first two
columns). :func:`evaluate` ranks every target for each gold source exactly
as ``crosswalk match`` would and reports hit@k, recall@10, MRR and the
precision and recall of each confidence band. With ``folds`` it runs k-fold
cross-validation over source standards: the gold pairs of the other folds
act as accepted decisions (warm mode). Nothing is written to the database.

Example::

    report = evaluate(db, gold="gold.csv", source="O*NET tasks", target="O*NET DWAs")
    report.as_dict()["hit_at_5"]
"""

from __future__ import annotations

import collections
import dataclasses
import random

from .errors import CrosswalkError
from .matching import (
    DEFAULT, Decision, EmbeddingCache, Settings, framework_id, lazy_encoder, load_sources, load_targets,
    rank_candidates,
)
from .sources import cell_text, normalise_header, read_table

DEPTH = 100  # ranks looked at for MRR


def read_gold(path) -> list[tuple[str, str]]:
    """(source code, target code) pairs from a gold crosswalk file."""
    table = read_table(path)
    headers = [normalise_header(h) for h in table.headers]
    if "source code" in headers and "target code" in headers:
        s_col, t_col = headers.index("source code"), headers.index("target code")
    elif len(headers) >= 2:
        s_col, t_col = 0, 1
    else:
        raise table.error("needs two columns: source_code and target_code", row=table.header_row)
    pairs = []
    for number, values in table.rows:
        s = cell_text(values[s_col]) if s_col < len(values) else ""
        t = cell_text(values[t_col]) if t_col < len(values) else ""
        if not s and not t:
            continue
        if not s or not t:
            raise table.error("a gold row needs both a source code and a target code", row=number,
                              column=s_col if not s else t_col)
        pairs.append((s, t))
    if not pairs:
        raise table.error("has no gold pairs")
    return pairs


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

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)

    def table(self) -> str:
        lines = [
            f"method        {self.method}",
            f"sources       {self.sources} (gold pairs {self.gold_pairs}; codes not found {self.unknown_codes})",
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
                f"  {band:<7} {figures['suggestions']:>7} suggestions in the top 10, "
                f"{figures['precision']:.3f} correct"
            )
        return "\n".join(lines)


def _metrics(ranked: dict, gold: dict, top: int) -> dict:
    hits = collections.Counter()
    recall_sum = 0.0
    rr_sum = 0.0
    bands = {b: {"suggestions": 0, "correct": 0} for b in ("high", "medium", "low")}
    for key, cands in ranked.items():
        truth = gold[key]
        keys = [c.target_key for c in cands]
        first = next((i for i, k in enumerate(keys) if k in truth), None)
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
    pairs = read_gold(gold) if not isinstance(gold, list) else gold
    source_fid = framework_id(db, source)
    target_fid = framework_id(db, target)
    source_rows = {d.code: d for d in load_sources(db, source_fid)}
    targets = load_targets(db, target_fid, subject, grade)
    target_by_code = {t.code: t for t in targets}
    truth: dict = collections.defaultdict(set)
    unknown = 0
    for s, t in pairs:
        if s in source_rows and t in target_by_code:
            truth[source_rows[s].key].add(target_by_code[t].key)
        else:
            unknown += 1
    if not truth:
        raise CrosswalkError(
            "none of the gold pairs name a source standard of "
            f"{source!r} and a target standard of {target!r} (check the codes and the framework names)"
        )
    docs = {d.key: d for d in source_rows.values() if d.key in truth}
    encoder = lazy_encoder() if use_embeddings else None
    cache = EmbeddingCache(db, readonly=True)
    depth = max(top, DEPTH)
    keys = sorted(truth)
    ranked: dict = {}
    if folds and folds > 1:
        rng = random.Random(seed)
        shuffled = keys[:]
        rng.shuffle(shuffled)
        for fold in range(folds):
            test = shuffled[fold::folds]
            test_set = set(test)
            decisions = [
                Decision(docs[k].text, t, True, docs[k].code, k, docs[k].context)
                for k in keys if k not in test_set for t in truth[k]
            ]
            results = rank_candidates(
                [docs[k] for k in test], targets, top=depth, decisions=decisions, encoder=encoder,
                cache=cache, settings=settings, with_evidence=False, progress=progress,
            )
            ranked.update({k: r for k, r in zip(test, results)})
            method = results[0][0].method if results and results[0] else "?"
    else:
        results = rank_candidates(
            [docs[k] for k in keys], targets, top=depth, encoder=encoder, cache=cache,
            settings=settings, with_evidence=False, progress=progress,
        )
        ranked = dict(zip(keys, results))
        method = results[0][0].method if results and results[0] else "?"
    m = _metrics(ranked, truth, top)
    n = m["n"]
    bands = {}
    total_gold = sum(len(v) for v in truth.values())
    for band, f in m["bands"].items():
        bands[band] = dict(
            suggestions=f["suggestions"], correct=f["correct"],
            precision=round(f["correct"] / f["suggestions"], 4) if f["suggestions"] else 0.0,
            recall=round(f["correct"] / total_gold, 4),
        )
    return Report(
        hit_at_1=round(m["hits"][1] / n, 4), hit_at_5=round(m["hits"][5] / n, 4),
        hit_at_10=round(m["hits"][10] / n, 4), recall_at_10=round(m["recall_sum"] / n, 4),
        mrr=round(m["rr_sum"] / n, 4), sources=n, folds=folds if folds and folds > 1 else 0,
        gold_pairs=total_gold, unknown_codes=unknown, method=method, bands=bands,
        confident_precision=bands["high"]["precision"], confident_recall=bands["high"]["recall"],
    )
