"""Learning from decisions, and confidence bands."""

from __future__ import annotations

import collections

import numpy as np

from .base import DEFAULT, Settings, _top_k
from .features import FEATURES, _combine, _default_weights, _Index
from .vectors import _Vectors

# ---------------------------------------------------------------- ranking


def confidence_bands(scores: np.ndarray, settings: Settings = DEFAULT, learned: bool = False) -> list[str]:
    """"high", "medium" or "low" for each score (0-100): cold scores are similarities, learned
    (warm) ones probabilities of acceptance, with bands of their own (see :class:`Settings`)."""
    high, medium = (settings.learned_high, settings.learned_medium) if learned else (settings.high, settings.medium)
    return np.where(scores >= high, "high", np.where(scores >= medium, "medium", "low")).tolist()


def _learn_weights(vectors: _Vectors, accepted_rows: list[tuple[int, int]], n_targets: int,
                   semantic: bool, settings: Settings, known_contexts: list[str], seed: int = 0):
    """Train the score combiner on the decisions already made (logistic regression).

    Decided statements are split in ``learn_splits`` parts; each part is
    scored with only the other parts' decisions known, so the training
    features look like those of a statement nobody has decided yet (and, with
    more parts, like features computed with nearly every decision known).
    """
    from scipy.optimize import minimize

    by_source: dict[int, set] = collections.defaultdict(set)
    for known_row, target_col in accepted_rows:
        by_source[known_row].add(target_col)
    rows = sorted(by_source)
    rng = np.random.default_rng(seed)
    rng.shuffle(rows)
    rows = rows[: settings.learn_max_sources]
    splits = max(2, min(settings.learn_splits, len(rows)))
    parts = [rows[i::splits] for i in range(splits)]
    names = [f for f in FEATURES if semantic or "semantic" not in f]
    groups = []  # per decided statement: (features of its candidates, which are correct)
    for number, half in enumerate(parts):
        other = [r for j, part in enumerate(parts) if j != number for r in part]
        other_rows = sorted(other)
        remap = {r: i for i, r in enumerate(other_rows)}
        known = [(remap[r], t) for r, t in accepted_rows if r in remap]
        if not known or not half:
            continue
        index = _Index(
            n_targets, vectors.t_tfidf, vectors.t_emb,
            vectors.k_tfidf[other_rows], vectors.k_emb[other_rows] if semantic else None,
            known, settings, vectors.groups, [known_contexts[r] for r in other_rows],
        )
        weights = _default_weights(settings, semantic, warm=True)
        for start in range(0, len(half), settings.chunk):
            part = half[start : start + settings.chunk]
            feats = index.features(vectors.k_tfidf[part], vectors.k_emb[part] if semantic else None,
                                   [known_contexts[r] for r in part])
            fused = _combine(feats, weights)
            idx, _ = _top_k(fused, 50)
            for i, source_row in enumerate(part):
                truth = by_source[source_row]
                cols = list(idx[i]) + [t for t in truth if t not in set(idx[i])]
                X = np.array([[feats[n][i, c] if n in feats else 0.0 for n in names] for c in cols])
                groups.append((X, np.array([c in truth for c in cols]), len(idx[i])))
    if not groups:
        return None
    X = np.vstack([g[0] for g in groups]).astype(np.float64)
    y = np.concatenate([g[1] for g in groups]).astype(np.float64)
    sizes = np.array([len(g[1]) for g in groups])
    group_id = np.repeat(np.arange(len(groups)), sizes)

    def loss(w):
        # Listwise: the correct standards should take the probability mass among each
        # statement's candidates (softmax cross-entropy), which is what ranking needs.
        z = X @ w
        zmax = np.maximum.reduceat(z, np.r_[0, np.cumsum(sizes)[:-1]])[group_id]
        e = np.exp(z - zmax)
        denom = np.bincount(group_id, e)[group_id]
        p = e / denom
        pos_e = np.bincount(group_id, e * y)
        value = -np.log(np.maximum(pos_e, 1e-300)).sum() + np.log(np.bincount(group_id, e)).sum()
        q = (e * y) / np.maximum(pos_e[group_id], 1e-300)  # share among the correct ones
        grad = X.T @ (p - q)
        n = len(groups)
        return value / n + 0.5e-3 * (w @ w), grad / n + 1e-3 * w

    start_w = np.array([_default_weights(settings, semantic, True).get(n, 0.0) for n in names]) * 10
    w = minimize(loss, start_w, jac=True, method="L-BFGS-B").x
    # Calibrate: one-feature logistic regression from the fused score to "correct".
    z = X @ w
    def platt(params):
        a, b = params
        t = a * z + b
        value = np.logaddexp(0, t) - y * t
        p = 1 / (1 + np.exp(-t))
        return value.mean(), np.array([np.mean((p - y) * z), np.mean(p - y)])
    a, b = minimize(platt, np.array([1.0, 0.0]), jac=True, method="L-BFGS-B").x
    weights = {n: float(v * a) for n, v in zip(names, w)}
    reranker = None
    if len(groups) >= settings.rerank_min_sources:
        # The trees only ever see the first-stage candidates, so train them on those alone.
        within = np.concatenate([np.arange(len(g[1])) < g[2] for g in groups])
        shown = np.array([g[2] for g in groups])
        linear = 1 / (1 + np.exp(-(a * z + b)))
        reranker = _train_reranker(X[within], y[within], linear[within], shown, names, settings.rerank_trees)
    return weights, float(b), reranker


def _ranks_within(scores: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    ranks = np.empty(len(scores))
    start = 0
    for size in sizes:
        order = np.argsort(-scores[start : start + size], kind="stable")
        ranks[start + order] = np.arange(size)
        start += size
    return ranks


def _reranker_features(X, linear, sizes):
    """Each candidate's features, its first-stage score and its rank among the statement's candidates."""
    return np.column_stack([X, linear, _ranks_within(linear, sizes)])


def _train_reranker(X, y, linear, sizes, names, settings_iter=200):
    """Gradient-boosted trees over the features of each candidate, trained on decisions.

    Trees catch what a weighted sum cannot, such as "a near-duplicate statement was
    aligned to it" mattering far more than a moderate neighbour. None when
    scikit-learn is not installed (the weighted sum is used alone).
    """
    try:
        from sklearn.ensemble import HistGradientBoostingClassifier
    except ImportError:  # pragma: no cover - optional
        return None
    features = _reranker_features(X, linear, sizes)
    model = HistGradientBoostingClassifier(
        max_iter=settings_iter, learning_rate=0.1, max_leaf_nodes=31, min_samples_leaf=40,
        l2_regularization=1.0, early_stopping=False, random_state=0,
    )
    model.fit(features, y)
    model.feature_names_ = names
    return model


def _rerank(model, feats, fused, names, depth, top):
    """Re-score each row's best ``depth`` candidates with the trees; keep the best ``top``."""
    depth = min(depth, fused.shape[1])
    idx, vals = _top_k(fused, depth)
    rows = np.repeat(np.arange(idx.shape[0]), idx.shape[1])
    cols = idx.ravel()
    X = np.column_stack([feats[n][rows, cols] if n in feats else np.zeros(len(cols)) for n in names])
    sizes = np.full(idx.shape[0], idx.shape[1])
    probability = model.predict_proba(_reranker_features(X, vals.ravel(), sizes))[:, 1].reshape(idx.shape)
    probability[vals < 0] = -1  # rejected pairs stay out
    order = np.argsort(-probability, axis=1, kind="stable")[:, :top]
    idx_out, prob_out = np.take_along_axis(idx, order, axis=1), np.take_along_axis(probability, order, axis=1)
    if top > depth:
        # Beyond what the trees re-rank, keep the first stage's order, below the re-ranked ones.
        more_idx, more_vals = _top_k(fused, top)
        floor = np.maximum(prob_out.min(axis=1, keepdims=True), 0)
        more_vals = np.minimum(more_vals[:, depth:], floor)
        idx_out = np.concatenate([idx_out, more_idx[:, depth:]], axis=1)
        prob_out = np.concatenate([prob_out, more_vals], axis=1)
    return idx_out, prob_out
