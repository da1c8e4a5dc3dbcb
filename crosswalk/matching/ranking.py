"""Ranking: the best standards for each statement, chunk by chunk (the core that match, eval and the benchmarks share)."""

from __future__ import annotations

import collections
import dataclasses
import functools
import gc

import numpy as np

from .base import (
    DEFAULT,
    Candidate,
    Decision,
    Doc,
    Settings,
    _in_parallel,
    _top_k,
)
from .evidence import _explain_many, _supporting
from .features import (
    FEATURES,
    _at,
    _chunk_features,
    _combine,
    _context_adjust,
    _default_weights,
    _Index,
    _pair_features,
)
from .learning import _learn_weights, _rerank, confidence_bands
from .vectors import EmbeddingCache, _Vectors, text_key


def _gc_paused(fn):
    """``fn`` with Python's cycle collector paused. Matching makes millions of small objects
    (tuples, strings, suggestions), none of them in cycles, and the collector walking them over
    and over again cost a sixth of a cached re-run. It collects as usual afterwards."""

    @functools.wraps(fn)
    def paused(*args, **kwargs):
        if not gc.isenabled():
            return fn(*args, **kwargs)
        gc.disable()
        try:
            return fn(*args, **kwargs)
        finally:
            gc.enable()

    return paused


@_gc_paused
def rank_candidates(
    sources: list[Doc],
    targets: list[Doc],
    *,
    top: int = 5,
    decisions: list[Decision] | None = None,
    encoder=None,
    cache: EmbeddingCache | None = None,
    settings: Settings = DEFAULT,
    with_evidence: bool = True,
    progress=None,
) -> list[list[Candidate]]:
    """The ``top`` best targets for every source, with score, confidence and evidence.

    ``decisions`` are earlier accepted/rejected alignments (warm mode):
    accepted ones teach the matcher (target profiles, neighbour votes,
    priors, and, when there are enough, a combiner trained on them);
    rejected pairs are never returned.
    """
    if not sources or not targets:
        return [[] for _ in sources]
    ranking = _Ranking(sources, targets, top=top, decisions=decisions, encoder=encoder, cache=cache,
                       settings=settings, with_evidence=with_evidence)
    results: list[list[Candidate]] = []
    for chunk in ranking.chunks():
        for row, first in enumerate(range(0, len(chunk.cols), chunk.per_row)):
            source_key = sources[chunk.start + row].key
            results.append([
                Candidate(source_key, chunk.target_keys[j], chunk.scores[j], j - first + 1, chunk.bands[j],
                          chunk.evidence[j], ranking.method)
                for j in range(first, first + chunk.per_row) if chunk.keep[j]
            ])
        if progress:
            progress(chunk.stop - chunk.start)
    return results


@dataclasses.dataclass
class _Chunk:
    """The suggestions of sources ``start:stop``: ``per_row`` flat entries per source, best first
    (rank = position + 1); an entry whose ``keep`` is false is a rejected pair, never suggested."""

    start: int
    stop: int
    per_row: int
    cols: list[int]
    target_keys: list
    scores: list[float]
    keep: list[bool]
    bands: list[str]
    evidence: list[str]


class _Ranking:
    """Everything :func:`rank_candidates` learns and sets up before ranking (vectors, weights,
    the context adjustment), then :meth:`chunks`: the suggestions chunk by chunk, each chunk
    scored and explained in a thread, in order."""

    def __init__(self, sources, targets, *, top, decisions, encoder, cache, settings, with_evidence):
        self.sources, self.targets, self.top = sources, targets, top
        self.settings, self.with_evidence = settings, with_evidence
        self._target_words: dict = {}  # filled as chunks are explained (two threads: same values)
        self._set_up(decisions or [], encoder, cache)

    def _set_up(self, decisions, encoder, cache):
        sources, targets, settings, top = self.sources, self.targets, self.settings, self.top
        target_index = {t.key: i for i, t in enumerate(targets)}
        accepted = [d for d in decisions if d.accepted and d.target_key in target_index]
        rejected_by_source: dict[object, list] = collections.defaultdict(list)
        rejected_by_text: dict[str, list] = collections.defaultdict(list)
        for d in decisions:
            if not d.accepted and d.target_key in target_index:
                if d.source_key is not None:
                    rejected_by_source[d.source_key].append(d.target_key)
                rejected_by_text[text_key(d.source_text)].append(d.target_key)

        # One row per distinct decided statement, so a statement aligned to three
        # standards is one neighbour voting for three targets.
        known_texts: dict[str, int] = {}
        known_contexts: list[str] = []
        accepted_rows = []
        for d in accepted:
            row = known_texts.setdefault(d.source_text, len(known_texts))
            if row == len(known_contexts):
                known_contexts.append(d.source_context or "")
            accepted_rows.append((row, target_index[d.target_key]))
        accepted_rows = sorted(set(accepted_rows))
        vectors = _Vectors(sources, targets, list(known_texts), encoder, cache, settings, known_contexts)
        if hasattr(encoder, "release"):
            encoder.release()
        semantic = vectors.s_emb is not None and settings.embedding_weight > 0
        warm = bool(accepted_rows)
        method = "tfidf+embedding" if semantic else "tfidf"
        weights, bias, learned, reranker = _default_weights(settings, semantic, warm), 0.0, False, None
        if warm:
            method += "+decisions"
            if len(accepted_rows) >= settings.learn_min_decisions:
                trained = _learn_weights(vectors, accepted_rows, len(targets), semantic, settings, known_contexts)
                if trained:
                    weights, bias, reranker = trained
                    learned = True
                    method += " (learned" + (", re-ranked)" if reranker is not None else ")")
        names = [f for f in FEATURES if semantic or "semantic" not in f]
        index = _Index(
            len(targets), vectors.t_tfidf, vectors.t_emb if semantic else None,
            vectors.k_tfidf, vectors.k_emb if semantic else None,
            accepted_rows, settings, vectors.groups, known_contexts,
        )

        # Which decisions support each target, looked up per suggestion when explaining it.
        accepted_by_target: dict[object, list[Decision]] = collections.defaultdict(list)
        for d in accepted:
            accepted_by_target[d.target_key].append(d)
        contexts = [s.context for s in sources]
        # Hand-weighted scores are put on the scale of the cold similarity (1.0 = identical statements).
        scale = sum(_default_weights(settings, semantic, warm=False).values()) or 1.0
        # Cold, the statements being matched also teach something about each other: see _context_adjust.
        adjusted = None
        if not learned and len(sources) > 1 and (settings.heading_weight or settings.expansion_weight):
            adjusted = _context_adjust(index, vectors, contexts, weights, bias, semantic, settings)

        def ranked(start):
            """The best ``top`` targets of one chunk of sources, explained (runs in a thread)."""
            stop = min(start + self.settings.chunk, len(sources))
            if adjusted is not None:
                fused = adjusted(start // self.settings.chunk)
                feats = _pair_features(index, vectors, start, stop, contexts, semantic, warm)
            else:
                feats = _chunk_features(index, vectors, start, stop, contexts, semantic)
                fused = _combine(feats, weights, bias)
            if learned:
                fused = 1.0 / (1.0 + np.exp(-fused))  # probability that a reviewer accepts
            else:
                fused = np.clip(fused / scale, 0, None)
            # Rejected pairs can never come back.
            if rejected_by_source or rejected_by_text:
                for row, source in enumerate(sources[start:stop]):
                    for t_key in rejected_by_source.get(source.key, ()):
                        fused[row, target_index[t_key]] = -1
                    for t_key in rejected_by_text.get(text_key(source.text), ()):
                        fused[row, target_index[t_key]] = -1
            if reranker is not None:
                idx, vals = _rerank(reranker, feats, fused, names, settings.rerank_depth, top)
            else:
                idx, vals = _top_k(fused, top)
            return self._explained(start, stop, feats, idx, vals)

        self._ranked = ranked
        self.method, self.warm, self.learned = method, warm, learned
        self._accepted_by_target = accepted_by_target

    def _explained(self, start, stop, feats, idx, vals) -> _Chunk:
        """A chunk's suggestions with scores, bands and (in words) evidence."""
        sources, targets, warm = self.sources, self.targets, self.warm
        rows = np.repeat(np.arange(stop - start), idx.shape[1])
        cols = idx.ravel()
        scores = np.clip(np.round(100 * vals.astype(np.float64), 1), 0.0, 100.0).ravel()
        keep = (vals >= 0).ravel().tolist()
        bands = confidence_bands(scores, self.settings, self.learned)
        evidence = [""] * len(cols)
        if self.with_evidence:
            by_target = self._accepted_by_target
            evidence = _explain_many(
                sources[start:stop], targets, rows, cols, _at(feats, "semantic", rows, cols),
                _at(feats, "votes", rows, cols) if warm else None,
                (lambda i, col: _supporting(by_target.get(targets[col].key, ()), sources[start + i]))
                if warm else None,
                self._target_words,
            )
        cols = cols.tolist()
        return _Chunk(start, stop, idx.shape[1], cols, [targets[c].key for c in cols], scores.tolist(), keep,
                      bands, evidence)

    def chunks(self):
        """The suggestions, chunk by chunk in order. Cold, two chunks are scored and explained at
        a time (numpy and rapidfuzz let go of the GIL); warm, every chunk's features are large:
        one chunk at a time keeps memory flat."""
        starts = range(0, len(self.sources), self.settings.chunk)
        return _in_parallel(self._ranked, starts) if not self.warm else map(self._ranked, starts)
