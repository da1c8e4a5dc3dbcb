"""Ranking: the best standards for each statement, chunk by chunk (the core that match, eval and the benchmarks share)."""

from __future__ import annotations

import collections
import dataclasses

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
from .evidence import explain
from .features import (
    _chunk_features,
    _combine,
    _context_adjust,
    _default_weights,
    _Index,
    _pair_features,
    cold_scale,
    similarity_threshold,
)
from .learning import (
    GOLD_CALIBRATION,
    GOLD_WARM_CALIBRATION,
    SHARED_SIGNALS,
    Learned,
    best_flags,
    combine,
    confidence_bands,
    learn,
)
from .vectors import EmbeddingCache, _Vectors, text_key


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

    ``decisions`` are earlier accepted/rejected alignments (warm mode): what they teach
    (similar decided statements, popularity within the grade band, the heading's decisions,
    rejections, each standard's profile) counts as far as the committee's own held-out decisions
    show it helps (:mod:`crosswalk.matching.learning`); rejected pairs are never returned. A
    source that matches nothing likely (its best cold score under the lower fence of all the
    sources' best scores, ``settings.floor_iqr``, or under ``settings.floor_score``) and that no
    decision lifts to medium gets no suggestions: an empty list ("no likely alignment").
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
    (rank = position + 1); an entry whose ``keep`` is false is not suggested (a rejected pair, or
    a source with no likely alignment: ``unlikely`` per source)."""

    start: int
    stop: int
    per_row: int
    cols: list[int]
    target_keys: list
    scores: list[float]
    keep: list[bool]
    bands: list[str]
    evidence: list[str]
    unlikely: list[bool]
    best: list[float]  # each source's best score (the one below the floor, where unlikely)


class _Ranking:
    """Everything :func:`rank_candidates` learns and sets up before ranking (vectors, weights,
    calibration, the context adjustment), then :meth:`chunks`: the suggestions chunk by chunk,
    each chunk scored and explained in a thread, in order."""

    def __init__(self, sources, targets, *, top, decisions, encoder, cache, settings, with_evidence):
        self.sources, self.targets, self.top = sources, targets, top
        self.settings, self.with_evidence = settings, with_evidence
        self._target_words: dict = {}  # filled as chunks are explained (two threads: same values)
        self._set_up(decisions or [], encoder, cache)

    def _set_up(self, decisions, encoder, cache):
        sources, targets, settings, top = self.sources, self.targets, self.settings, self.top
        target_index = {t.key: i for i, t in enumerate(targets)}
        usable = [d for d in decisions if d.target_key in target_index]
        rejected_by_source: dict[object, list] = collections.defaultdict(list)
        rejected_by_text: dict[str, list] = collections.defaultdict(list)
        for d in usable:
            if not d.accepted:
                if d.source_key is not None:
                    rejected_by_source[d.source_key].append(d.target_key)
                rejected_by_text[text_key(d.source_text)].append(d.target_key)

        # One row per distinct decided statement, so a statement aligned to three standards is
        # one neighbour for three targets; rejected-only statements are rows too (they teach). The
        # same words decided in another framework (a task two programs share) are a row apart: what
        # the other program accepted for it is not counted as this one's, under its heading or in
        # what is accepted most, nor named as this program's in the evidence.
        known: dict[tuple[str, bool], int] = {}
        self.known_statements: list[Decision] = []
        accepted_rows, rejected_rows = set(), set()
        counted = set()  # rows of the framework being matched (Decision.other_framework)
        for d in usable:
            row = known.setdefault((d.source_text, d.other_framework), len(known))
            if row == len(self.known_statements):
                self.known_statements.append(d)
            (accepted_rows if d.accepted else rejected_rows).add((row, target_index[d.target_key]))
            if not d.other_framework:
                counted.add(row)
        rejected_rows -= accepted_rows
        accepted_rows, rejected_rows = sorted(accepted_rows), sorted(rejected_rows)
        known_contexts = [d.source_context or "" for d in self.known_statements]
        vectors = _Vectors(sources, targets, [text for text, _ in known], encoder, cache, settings, known_contexts,
                           [d.source_grades for d in self.known_statements])
        if hasattr(encoder, "release"):
            encoder.release()
        semantic = vectors.s_emb is not None and settings.embedding_weight > 0
        cold_weights = _default_weights(settings, semantic)
        # Scores are put on the scale of the cold similarity (1.0 = identical statements).
        scale = cold_scale(cold_weights)
        warm = bool(accepted_rows)
        threshold = similarity_threshold(vectors, semantic, settings) if warm else settings.similarity_threshold
        index = _Index(vectors, accepted_rows, rejected_rows, known_contexts, settings, semantic, threshold, counted)
        contexts = [s.context for s in sources]
        # Cold, the statements being matched also teach something about each other: see _context_adjust.
        adjusted = None
        if len(sources) > 1 and (settings.heading_weight or settings.expansion_weight):
            adjusted = _context_adjust(index, vectors, contexts, cold_weights, 0.0, semantic, settings)
        # The committee's calibration is fitted on the scores ranking gives, these adjustments
        # included (see learn).
        learned = (learn(vectors, accepted_rows, rejected_rows, known_contexts, settings, semantic, threshold, scale,
                         context=adjusted.decided if adjusted is not None else None, counted=counted)
                   if warm else Learned({}, None, 0))
        used = learned.used  # warm signal -> how far it is trusted
        method = "tfidf+embedding" if semantic else "tfidf"
        if warm:
            method += "+decisions" if used else " (decisions checked: no gain over cold)"
        fence = _floor_fence(adjusted.best, settings) if adjusted is not None else -np.inf
        # Under the golds' floor (Settings.floor_score, for the sentence model's scores), on the same
        # figure it was measured on: the best cold score before expansion (adjusted.best).
        floor = settings.floor_score if semantic else -np.inf
        cold_calibration = learned.cold or GOLD_CALIBRATION

        def _reject(scores, chunk_sources):
            """Rejected pairs can never come back."""
            if rejected_by_source or rejected_by_text:
                for row, source in enumerate(chunk_sources):
                    for t_key in rejected_by_source.get(source.key, ()):
                        scores[row, target_index[t_key]] = -np.inf
                    for t_key in rejected_by_text.get(text_key(source.text), ()):
                        scores[row, target_index[t_key]] = -np.inf

        def _cold_top(fused, chunk_sources):
            """Cold, the order of the similarities is the order of the probabilities: the best
            ``top`` by similarity, with each row's one best match flagged (calibrating only these
            instead of every pair: a sigmoid over 39 M pairs cost 0.2 s of a 2.8 s re-run)."""
            _reject(fused, chunk_sources)
            idx, raw = _top_k(fused, top)
            flags = np.zeros(raw.shape, bool)
            if raw.shape[1]:
                flags[:, 0] = raw[:, 0] > raw[:, 1] if raw.shape[1] > 1 else True
            return idx, (raw, flags), None

        def ranked(start):
            """The best ``top`` targets of one chunk of sources, explained (runs in a thread)."""
            stop = min(start + settings.chunk, len(sources))
            feats = None
            if adjusted is not None:
                fused = adjusted(start // settings.chunk)
            else:
                feats = _chunk_features(index, vectors, start, stop, contexts, semantic, warm=set(used))
                fused = _combine(feats, cold_weights)
            fused = fused / np.float32(scale)
            if not used:
                idx, ranked_raw, _ = _cold_top(fused, sources[start:stop])
                overall, first = ranked_raw
                cold_best = overall[:, 0] if overall.shape[1] else np.full(len(overall), -np.inf, np.float32)
                vals, vouched = _calibrated(cold_calibration, ranked_raw), _calibrated(GOLD_CALIBRATION, ranked_raw)
                if learned.calibration is not None:
                    vals = vouched = _committee(learned.calibration, vals)
            else:
                cold_best = fused.max(axis=1)
                # The one best match among what may still be suggested: a statement's best match
                # rejected, the next takes the first place's calibration, as it does cold (_cold_top).
                if rejected_by_source or rejected_by_text:
                    open_ = fused.copy()
                    _reject(open_, sources[start:stop])
                    flags = best_flags(open_)
                    del open_
                else:
                    flags = best_flags(fused)
                if feats is None:
                    feats = _chunk_features(index, vectors, start, stop, contexts, semantic)
                probability, own = combine(cold_calibration(fused, flags), feats, learned.weights)
                if not (settings.first_from_statement and learned.statement_first and set(used) & set(SHARED_SIGNALS)):
                    own = probability
                _reject(probability, sources[start:stop])
                idx, vals = _top_k(probability, top)
                if own is not probability and top > 1:
                    own = np.where(np.isfinite(probability), own, -np.inf)
                    idx, vals = _statement_first(probability, own, idx, vals)
                overall = np.take_along_axis(fused, idx, axis=1)
                first = np.take_along_axis(flags, idx, axis=1)
                # The order stays; the figures become the committee's calibration, or until its
                # decisions can calibrate them, what such a figure meant on every gold.
                vals = vouched = _committee(learned.calibration or GOLD_WARM_CALIBRATION, vals)
            # A statement that matches nothing likely (its best cold score far below the others', or
            # below any of the golds') and that no decision speaks for has no likely alignment.
            below = (cold_best < fence) | ((adjusted.best[start:stop] if adjusted is not None else cold_best) < floor)
            # (on the best score as it is stored and shown, to 0.1: a 24.97 is a 25.0, medium, and liked)
            unlikely = below & (np.round(100 * np.max(np.where(np.isfinite(vals), vals, 0), axis=1).astype(np.float64), 1)
                                < settings.medium)
            return self._explained(start, stop, feats if feats is not None else _pair_features(vectors, start, semantic),
                                   idx, vals, unlikely, vouched, overall, first)

        self._ranked = ranked
        self.method, self.warm, self.learned, self.used, self.index = method, warm, learned, used, index

    def _explained(self, start, stop, feats, idx, vals, unlikely, vouched, overall, first) -> _Chunk:
        """A chunk's suggestions with scores (probability that it is right, 0-100), bands and
        (in words) evidence; ``overall``: each pair's cold similarity (what orders the suggestions
        cold), ``first``: whether it is its statement's one best match (the score's first-place part)."""
        sources, targets, settings = self.sources, self.targets, self.settings
        rows = np.repeat(np.arange(stop - start), idx.shape[1])
        cols = idx.ravel()
        finite = np.isfinite(vals)
        scores = np.clip(np.round(100 * np.where(finite, vals, 0).astype(np.float64), 1), 0.0, 100.0)
        # A figure is never more than the golds' calibration vouches for, so that the score shown and
        # its band never disagree (on the figures as shown, to 0.1: a score of 25.0 is never 'low').
        # Without it, a ranking left cold by 20 decisions showed 60.7 'low': the committee's cold
        # calibration, fitted on so few, lifts figures the golds do not bear out.
        scores = np.minimum(scores, np.round(100 * np.nan_to_num(vouched, neginf=0).astype(np.float64), 1))
        best = scores.max(axis=1) if scores.shape[1] else np.zeros(len(scores))
        keep = (finite & ~unlikely[:, None]).ravel().tolist()
        scores = scores.ravel()
        bands = confidence_bands(scores, settings)
        evidence = [""] * len(cols)
        if self.with_evidence:
            evidence = explain(sources[start:stop], targets, rows, cols, feats, self.used, self.index,
                               self.known_statements, self._target_words, overall=overall.ravel(),
                               first=first.ravel())
        cols = cols.tolist()
        return _Chunk(start, stop, idx.shape[1], cols, [targets[c].key for c in cols], scores.tolist(), keep,
                      bands, evidence, unlikely.tolist(), best.tolist())

    def chunks(self):
        """The suggestions, chunk by chunk in order, two chunks scored and explained at a time
        (numpy lets go of the GIL)."""
        starts = range(0, len(self.sources), self.settings.chunk)
        return _in_parallel(self._ranked, starts)


def _floor_fence(best: np.ndarray, settings) -> float:
    """The best cold score below which a statement stands out as matching nothing: Tukey's lower
    fence (first quartile less 1.5 times the interquartile range) of the statements' best scores,
    so that it means the same in a crosswalk whose statements all score low (across domains) and
    in one whose statements score high. -inf with too few statements to tell."""
    if len(best) < settings.floor_min_statements:
        return -np.inf
    q1, q3 = np.percentile(best, [25, 75])
    return float(q1 - settings.floor_iqr * (q3 - q1))


# What the decisions say about standards in general (how popular they are, overall or under a
# heading), as opposed to what they say about statements like this one.


def _statement_first(fused, own, idx, vals):
    """Each statement's first suggestion is its own best match (its words, its meaning, the
    decisions on statements like it: ``own``); popularity ranks the rest. So that a few accepted
    standards do not become every statement's first suggestion."""
    first = np.argmax(own, axis=1)
    rows = np.arange(len(first))
    out_idx = np.empty_like(idx)
    out_vals = np.empty_like(vals)
    out_idx[:, 0] = first
    out_vals[:, 0] = fused[rows, first]
    for i in range(len(first)):
        rest = [j for j in range(idx.shape[1]) if idx[i, j] != first[i]][: idx.shape[1] - 1]
        out_idx[i, 1:] = idx[i, rest]
        out_vals[i, 1:] = vals[i, rest]
    return out_idx, out_vals


def _calibrated(calibration, ranked):
    """Calibrated probabilities of (similarities, best flags); -inf (a rejected pair) stays -inf."""
    raw, flags = ranked
    finite = np.isfinite(raw)
    return np.where(finite, calibration(np.where(finite, raw, 0), flags), -np.inf)


def _committee(calibration, vals):
    finite = np.isfinite(vals)
    return np.where(finite, calibration(np.where(finite, vals, 0.5)), vals)
