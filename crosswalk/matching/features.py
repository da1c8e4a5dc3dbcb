"""Features: every signal of a (statement, standard) pair, for a chunk of statements at a time."""

from __future__ import annotations

import collections
import math

import numpy as np
import scipy.sparse as sp

from .base import MAX_SIMILARITY_TARGETS, Settings, _in_parallel, _top_k
from .vectors import _l2

FEATURES = ("lexical", "semantic", "siblings", "lexical_centroid", "semantic_centroid", "votes_lexical",
            "votes_semantic", "nearest_lexical", "nearest_semantic", "nearest_lexical_sharp",
            "nearest_semantic_sharp", "prior", "has_decisions", "heading_prior", "semantic_mapped",
            "classifier", "classifier_lexical", "heading_share", "heading_group", "heading_semantic",
            "votes_heading", "nearest_heading", "heading_known", "source_terms")



def _sibling_scores(scores: np.ndarray, groups: list[np.ndarray], k: int = 3) -> np.ndarray:
    """For each target, the mean of the best k scores under its heading: a heading
    whose standards match well as a whole makes each of them more likely."""
    by_size: dict[int, list[np.ndarray]] = collections.defaultdict(list)
    for ids in groups:
        by_size[len(ids)].append(ids)
    # Targets as rows: a heading's members are then contiguous rows, and the best k of each
    # heading are kept by a running insertion over its members, whole rows at a time (faster
    # than partitioning hundreds of thousands of tiny groups).
    by_target = np.ascontiguousarray(scores.T)
    out = np.zeros_like(by_target)
    for size, members in by_size.items():  # headings of one size at once: (headings, size, rows)
        ids = np.stack(members)
        block = by_target[ids]
        kk = min(k, size)
        if size <= k:
            best = block.mean(axis=1)
        else:
            tops = [block[:, 0].copy()] + [np.full(block.shape[::2], -np.inf, block.dtype) for _ in range(kk - 1)]
            spare = np.empty_like(tops[0])
            for j in range(1, size):
                value = block[:, j].copy()
                for r in range(kk):  # tops stay sorted best first; the loser moves down
                    np.maximum(tops[r], value, out=spare)
                    np.minimum(tops[r], value, out=value)
                    tops[r], spare = spare, tops[r]
            best = sum(tops) / kk
        out[ids] = best[:, None, :]
    return np.ascontiguousarray(out.T)


class _Index:
    """Targets as vectors, plus what accepted decisions teach about each target."""

    def __init__(self, n_targets, t_tfidf, t_emb, known_tfidf, known_emb, pairs, settings, groups=(),
                 known_contexts=()):
        """``pairs`` are (row of known_tfidf/known_emb, target column) of accepted decisions;
        ``known_contexts`` the heading of each decided statement."""
        self.n = n_targets
        self.groups = groups
        # What statements under the same heading (duty area, occupation) were aligned to.
        self.heading_counts: dict[str, np.ndarray] = {}
        heading_rows: dict[str, set] = collections.defaultdict(set)
        for row, col in pairs:
            context = known_contexts[row] if row < len(known_contexts) else ""
            if context:
                counts = self.heading_counts.setdefault(context, np.zeros(n_targets, np.float32))
                counts[col] += 1
                heading_rows[context].add(row)
        self.heading_statements = {c: len(rows) for c, rows in heading_rows.items()}
        self.heading_ids = {c: i for i, c in enumerate(heading_rows)}
        self.known_heading = np.full(known_tfidf.shape[0], -1, np.int64)
        for context, statements in heading_rows.items():
            self.known_heading[list(statements)] = self.heading_ids[context]
        # Standards under the same heading as one another (each with itself), and how alike
        # the standards' wordings are: what a heading's decisions say spreads to related standards.
        self.group_matrix = self.target_similarity = None
        if self.heading_counts:
            members = [(i, j) for ids in groups for i in ids for j in ids]
            if members:
                r, c = np.asarray(members).T
                self.group_matrix = sp.csr_matrix((np.ones(len(r), np.float32), (r, c)), shape=(n_targets, n_targets))
            if t_emb is not None and n_targets <= MAX_SIMILARITY_TARGETS:
                self.target_similarity = np.maximum(t_emb @ t_emb.T, 0).astype(np.float32)
        self.t_tfidf_T = t_tfidf.T.tocsr()
        self.t_emb = t_emb
        self.settings = settings
        self.known = len(pairs)
        if self.known:
            known_rows = np.asarray([r for r, _ in pairs])
            target_cols = np.asarray([t for _, t in pairs])
            fold = sp.csr_matrix(
                (np.ones(len(pairs), np.float32), (target_cols, known_rows)),
                shape=(self.n, known_tfidf.shape[0]),
            )
            counts = np.asarray(fold.sum(axis=1)).ravel()
            mean = sp.diags(1.0 / np.maximum(counts, 1)).dot(fold).tocsr()
            self.centroid_tfidf_T = _l2(mean.dot(known_tfidf)).T.tocsr()
            self.centroid_emb = _l2(np.asarray(mean.dot(known_emb))) if known_emb is not None else None
            self.known_tfidf_T = known_tfidf.T.tocsr()
            self.known_emb = known_emb
            self.vote_matrix = fold.T.tocsr()  # known decision -> its target
            if known_emb is not None:
                # A linear map from decided statements to the standards they were aligned to
                # (ridge regression): learns how this committee's wording relates to the standards'.
                X = known_emb[known_rows].astype(np.float64)
                Y = t_emb[target_cols].astype(np.float64)
                gram = X.T @ X + settings.ridge * np.eye(X.shape[1])
                self.mapping = np.linalg.solve(gram, X.T @ Y).astype(np.float32)
                self.classifier = (
                    _train_classifier(known_emb, known_rows, target_cols, t_emb, settings)
                    if settings.classifier_iterations else None
                )
            self.lexical_projection = None
            if settings.lexical_classifier_dims and settings.classifier_iterations:
                # The same kind of classifier over the words: TF-IDF folded into a few hundred
                # dimensions (truncated SVD of the standards and the decided statements).
                from sklearn.utils.extmath import randomized_svd

                both = sp.vstack([t_tfidf, known_tfidf]).tocsr()
                dims = min(settings.lexical_classifier_dims, min(both.shape) - 1)
                if dims > 0:
                    _, _, vt = randomized_svd(both, dims, random_state=0)
                    self.lexical_projection = vt.T.astype(np.float32)
                    k_lex = _l2(np.asarray(known_tfidf @ self.lexical_projection))
                    t_lex = _l2(np.asarray(t_tfidf @ self.lexical_projection))
                    self.lexical_classifier = _train_classifier(k_lex, known_rows, target_cols, t_lex, settings)
            self.prior = (np.log1p(counts) / math.log1p(max(counts.max(), 1))).astype(np.float32)
            self.has = (counts > 0).astype(np.float32)

    def _votes(self, sim: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Weighted votes of the nearest decided statements, and the closest one per target."""
        k = min(self.settings.neighbours, sim.shape[1])
        idx, vals = _top_k(sim, k)
        vals = np.maximum(vals, 0)
        rows = np.repeat(np.arange(sim.shape[0]), k)
        weights = sp.csr_matrix(
            ((vals ** self.settings.vote_power).ravel(), (rows, idx.ravel())), shape=sim.shape
        )
        totals = np.asarray(weights.sum(axis=1)).ravel()
        totals[totals == 0] = 1
        votes = np.asarray(sp.diags(1 / totals).dot(weights).dot(self.vote_matrix).todense(), dtype=np.float32)
        nearest = np.zeros((sim.shape[0], self.n), dtype=np.float32)
        for j in range(k):  # neighbours are sorted best first, so the first hit per target is the max
            hits = self.vote_matrix[idx[:, j]].tocoo()
            values = vals[hits.row, j]
            current = nearest[hits.row, hits.col]
            nearest[hits.row, hits.col] = np.maximum(current, values)
        return votes, nearest

    def features(self, s_tfidf, s_emb, s_contexts=None) -> dict[str, np.ndarray]:
        """Every feature for a chunk of sources against every target (rows × targets)."""
        out = {"lexical": np.asarray(s_tfidf.dot(self.t_tfidf_T).todense(), dtype=np.float32)}
        if s_emb is not None:
            out["semantic"] = s_emb @ self.t_emb.T
        if self.groups:
            base = (
                self.settings.tfidf_weight * out["lexical"] + self.settings.embedding_weight * out["semantic"]
                if s_emb is not None else out["lexical"]
            )
            out["siblings"] = _sibling_scores(base, self.groups)
        if self.known:
            out["lexical_centroid"] = np.asarray(s_tfidf.dot(self.centroid_tfidf_T).todense(), dtype=np.float32)
            out["votes_lexical"], out["nearest_lexical"] = self._votes(
                np.asarray(s_tfidf.dot(self.known_tfidf_T).todense())
            )
            if s_emb is not None:
                out["semantic_centroid"] = s_emb @ self.centroid_emb.T
                known_sim = s_emb @ self.known_emb.T
                out["votes_semantic"], out["nearest_semantic"] = self._votes(known_sim)
                out["nearest_semantic_sharp"] = out["nearest_semantic"] ** 8  # near-duplicates
                out["semantic_mapped"] = _l2(s_emb @ self.mapping) @ self.t_emb.T
                if self.classifier is not None:
                    out["classifier"] = _softmax(self.settings.classifier_scale,
                                                 s_emb @ self.classifier.T)
            out["nearest_lexical_sharp"] = out["nearest_lexical"] ** 8
            if self.lexical_projection is not None:
                s_lex = _l2(np.asarray(s_tfidf @ self.lexical_projection))
                out["classifier_lexical"] = _softmax(self.settings.classifier_scale, s_lex @ self.lexical_classifier.T)
            rows = out["lexical"].shape[0]
            out["prior"] = np.broadcast_to(self.prior, (rows, self.n))
            out["has_decisions"] = np.broadcast_to(self.has, (rows, self.n))
            if self.heading_counts and s_contexts is not None:
                heading = np.zeros((rows, self.n), np.float32)
                share = np.zeros((rows, self.n), np.float32)
                for i, context in enumerate(s_contexts):
                    counts = self.heading_counts.get(context)
                    if counts is not None:
                        heading[i] = counts / counts.sum()
                        share[i] = counts / self.heading_statements[context]
                out["heading_prior"] = heading
                # The votes of the closest decided statements under the source's own heading.
                mine = np.array([self.heading_ids.get(c, -2) for c in s_contexts])
                same = mine[:, None] == self.known_heading[None, :]
                sim = known_sim if s_emb is not None else np.asarray(s_tfidf.dot(self.known_tfidf_T).todense())
                sim = np.where(same, np.maximum(sim, 0), 0).astype(np.float32)
                out["votes_heading"], out["nearest_heading"] = self._votes(sim)
                # How much the heading's decisions can say, and how much the statement says itself.
                known_here = np.array([self.heading_statements.get(c, 0) for c in s_contexts], np.float32)
                out["heading_known"] = np.broadcast_to(np.log1p(known_here)[:, None], (rows, self.n))
                n_terms = np.diff(s_tfidf.indptr).astype(np.float32)
                out["source_terms"] = np.broadcast_to(n_terms[:, None], (rows, self.n))
                out["heading_share"] = share
                if self.group_matrix is not None:
                    out["heading_group"] = np.asarray(self.group_matrix.T.dot(heading.T).T, dtype=np.float32)
                if self.target_similarity is not None:
                    out["heading_semantic"] = heading @ self.target_similarity
        return out


def _softmax(scale: float, logits: np.ndarray) -> np.ndarray:
    z = scale * logits
    z -= z.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=1, keepdims=True)
    return z


def _train_classifier(known_emb, known_rows, target_cols, t_emb, settings):
    """One weight vector per standard, trained (softmax regression) to pick the standards
    decided statements were aligned to; it starts from, and is held near, the standards'
    own sentence vectors, so standards nobody has aligned yet keep a sensible vector."""
    from scipy.optimize import minimize

    rows = np.unique(known_rows)
    remap = {r: i for i, r in enumerate(rows)}
    X = known_emb[rows].astype(np.float32)
    Y = np.zeros((len(rows), t_emb.shape[0]), np.float32)
    for r, c in zip(known_rows, target_cols):
        Y[remap[r], c] = 1
    Y /= Y.sum(axis=1, keepdims=True)
    V0 = t_emb.astype(np.float32)
    scale, lam, n = settings.classifier_scale, settings.classifier_l2, len(rows)

    def loss(v):
        V = v.reshape(V0.shape).astype(np.float32)
        P = _softmax(scale, X @ V.T)
        value = -(Y * np.log(P + 1e-12)).sum() / n + 0.5 * lam * ((V - V0) ** 2).sum()
        grad = scale * ((P - Y).T @ X) / n + lam * (V - V0)
        return float(value), grad.ravel().astype(np.float64)

    result = minimize(loss, V0.ravel().astype(np.float64), jac=True, method="L-BFGS-B",
                      options={"maxiter": settings.classifier_iterations})
    return result.x.reshape(V0.shape).astype(np.float32)


def _default_weights(settings: Settings, semantic: bool, warm: bool) -> dict[str, float]:
    if semantic:
        w = {"lexical": settings.tfidf_weight, "semantic": settings.embedding_weight}
    else:
        w = {"lexical": 1.0}
    w["siblings"] = settings.sibling_weight
    if warm:
        if semantic:
            w.update(semantic_centroid=settings.centroid_weight, votes_semantic=settings.vote_weight)
        else:
            w.update(lexical_centroid=settings.centroid_weight, votes_lexical=settings.vote_weight)
        w["prior"] = settings.prior_weight
    return w


def _combine(feats: dict[str, np.ndarray], weights: dict[str, float], bias: float = 0.0) -> np.ndarray:
    total = None
    for name, weight in weights.items():
        if name in feats and weight:
            part = weight * feats[name]
            total = part if total is None else total + part
    return total + bias if bias else total



def _chunk_features(index, vectors, start, stop, contexts, semantic) -> dict[str, np.ndarray]:
    """Every feature of sources ``start:stop`` against every target."""
    return index.features(vectors.s_tfidf[start:stop], vectors.s_emb[start:stop] if semantic else None,
                          contexts[start:stop])


def _at(feats, name: str, rows: np.ndarray, cols: np.ndarray):
    """A feature's values at (row, column) pairs; "votes" is the semantic vote if there is one."""
    if callable(feats):
        return feats(name, rows, cols)
    if name == "votes":
        name = "votes_semantic" if "votes_semantic" in feats else "votes_lexical"
    return feats[name][rows, cols] if name in feats else None


def _context_adjust(index, vectors, contexts, weights, bias, semantic, settings):
    """Fused scores of every source, adjusted by what the sources say about each other: a
    function giving chunk ``number``'s scores (each chunk once).

    * Statements under the same heading (duty area, occupation) are about related things:
      each source gains how well its heading's other statements match a target, above what
      every statement gets (the mean over all sources), times ``heading_weight``.
    * Each target is also represented by the few sources that match it best (pseudo-relevance
      feedback on the target side): a source close to those gains ``expansion_weight`` times
      its cosine with their centroid.

    Both were measured on O*NET Tasks-to-DWAs (benchmarks/README.md). Memory: one float32
    score per (source, target) pair, the same order as the suggestions themselves.
    """
    n_sources = vectors.s_tfidf.shape[0]
    CHUNK = settings.chunk
    chunks = []
    heading_of = {}
    for c in contexts:
        if c and c not in heading_of:
            heading_of[c] = len(heading_of)
    group = np.array([heading_of.get(c, -1) for c in contexts])
    sizes = np.bincount(group[group >= 0], minlength=len(heading_of)) if heading_of else np.zeros(0, int)
    heading_sum = np.zeros((len(heading_of), index.n), np.float64)
    column_sum = np.zeros(index.n, np.float64)

    def score(start):
        feats = _chunk_features(index, vectors, start, min(start + CHUNK, n_sources), contexts, semantic)
        return np.asarray(_combine(feats, weights, bias), dtype=np.float32)

    for start, fused in zip(range(0, n_sources, CHUNK), _in_parallel(score, range(0, n_sources, CHUNK))):
        stop = start + len(fused)
        column_sum += fused.sum(axis=0)
        g = group[start:stop]
        if settings.heading_weight and (g >= 0).any():
            rows = np.nonzero(g >= 0)[0]
            members = sp.csr_matrix((np.ones(len(rows), np.float32), (g[rows], rows)),
                                    shape=(len(heading_of), len(g)))
            heading_sum += members @ fused
        chunks.append(fused)
    column_mean = (column_sum / n_sources).astype(np.float32)
    m = min(settings.expansion_sources, n_sources) if semantic and settings.expansion_weight else 0

    def adjust(number):
        """One chunk's heading adjustment, and its ``m`` best sources per target (threads: numpy work)."""
        fused = chunks[number]
        g = group[number * CHUNK : number * CHUNK + len(fused)]
        if settings.heading_weight:
            mine = (g >= 0) & (sizes[np.maximum(g, 0)] > 1) if len(sizes) else np.zeros(len(g), bool)
            if mine.any():
                # The same arithmetic as (sum - own) / (n - 1), in place: a chunk is 512 x targets.
                every = mine.all()
                others = heading_sum[g] if every else heading_sum[g[mine]]
                others -= fused if every else fused[mine]
                others /= (sizes[g if every else g[mine]] - 1)[:, None]
                delta = others.astype(np.float32)
                delta -= column_mean
                delta *= np.float32(settings.heading_weight)
                if every:
                    fused += delta
                else:
                    fused[mine] += delta
        if not m:
            return None
        mm = min(m, len(fused))
        by_target = np.negative(fused.T, order="C")  # by rows: partitioning along rows is faster than down columns
        top = np.argpartition(by_target, mm - 1, axis=1)[:, :mm]
        return -np.take_along_axis(by_target, top, axis=1), top + number * CHUNK

    best = list(_in_parallel(adjust, range(len(chunks))))
    centroids = None
    if m:
        # The m best sources of each target over all chunks, from each chunk's m best.
        vals = np.concatenate([b[0] for b in best], axis=1)
        rows = np.concatenate([b[1] for b in best], axis=1)
        top = np.argpartition(-vals, min(m, vals.shape[1]) - 1, axis=1)[:, :m]
        best_rows = np.take_along_axis(rows, top, axis=1)  # targets x m
        centroids = _l2(vectors.s_emb[best_rows].mean(axis=1))  # targets x dim

    def finished(number):
        """Chunk ``number``'s scores, expansion included (called from the ranking threads, once)."""
        fused, chunks[number] = chunks[number], None  # free as we go
        if centroids is not None:
            start = number * CHUNK
            fused += settings.expansion_weight * (vectors.s_emb[start : start + len(fused)] @ centroids.T)
        return fused

    return finished


def _pair_features(index, vectors, start, stop, contexts, semantic, warm):
    """Feature values at given pairs, computed directly (without scoring every target again)."""
    full = None
    if warm:  # votes need the neighbours of each statement: score the chunk again
        full = _chunk_features(index, vectors, start, stop, contexts, semantic)

    def at(name, rows, cols):
        if full is not None:
            return _at(full, name, rows, cols)
        if name == "semantic" and semantic:
            return np.einsum("ij,ij->i", vectors.s_emb[start + rows], vectors.t_emb[cols])
        return None

    return at
