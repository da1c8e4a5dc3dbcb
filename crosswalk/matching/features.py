"""Features: every signal of a (statement, standard) pair, for a chunk of statements at a time."""

from __future__ import annotations

import collections
import threading

import numpy as np
import scipy.sparse as sp

from .base import Settings, _in_parallel
from .vectors import _l2

# What the decisions teach, each a feature whose weight is chosen on the committee's own
# held-out decisions (learning.choose_weights); all at 0 is the cold ranking.
WARM_FEATURES = ("neighbours", "popularity", "heading", "rejections", "profile", "learned")


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
    """Targets as vectors, plus what decisions teach about each target.

    Every decided statement (accepted or rejected) is a row of ``vectors.k_tfidf`` / ``k_emb``;
    ``accepted`` and ``rejected`` are (row, target column) pairs. What a decision says reaches
    only statements *like* the decided one: a statement's similarity to a decided one counts
    above ``threshold`` (what separates related statements from the rest, see
    :func:`similarity_threshold`), so that a handful of decisions informs related statements
    without flooding every statement with the accepted standards. What is accepted most (overall,
    in a school band, under a heading) is counted on the ``counted`` rows only (None: every row):
    the decided statements of the framework being matched.
    """

    def __init__(self, vectors, accepted, rejected, known_contexts, settings, semantic, threshold=0.5, counted=None):
        n = vectors.t_tfidf.shape[0]
        self.n, self.settings = n, settings
        self.groups = vectors.groups
        self.t_tfidf_T = vectors.t_tfidf.T.tocsr()
        self.t_emb = vectors.t_emb if semantic else None
        self.t_grades = vectors.t_grades
        self.known = len(accepted)
        self.threshold = threshold
        if not self.known:
            return
        n_known = vectors.k_tfidf.shape[0]
        rows, cols = (np.asarray(x) for x in zip(*accepted))
        self.accepted = _indicator(rows, cols, (n_known, n))
        self.rejected = _indicator(*(np.asarray(x) for x in zip(*rejected)), (n_known, n)) if rejected else None
        self.k_tfidf_T = vectors.k_tfidf.T.tocsr()
        self.k_emb = vectors.k_emb if semantic else None
        counts = np.asarray(self.accepted.sum(axis=0)).ravel()
        statements = len(np.unique(rows))
        # Each standard's profile: the mean meaning of the decided statements accepted for it (a
        # nearest-centroid view, which sees what many loosely alike statements share where no one
        # of them is alike enough to count as a neighbour). 5-fold hit@5: O*NET 0.656 -> 0.686,
        # NGSS -> CCSS 0.818 -> 0.828, CIP -> SOC 0.954 -> 0.949 (benchmarks/README.md).
        self.profiles = None
        if self.k_emb is not None:
            summed = np.asarray(self.accepted.T.dot(self.k_emb), dtype=np.float32)
            norms = np.linalg.norm(summed, axis=1, keepdims=True)
            self.profiles = summed / np.maximum(norms, np.float32(1e-9))
            self.profiled = norms.ravel() > 0
        # How often a standard was accepted, shrunk toward nothing while few statements are decided:
        # overall, and among the decided statements of each school band (K-2, 3-5, 6-8, 9-12),
        # backing off to the overall rate where a band has few decisions. Counted in the framework
        # being matched only: on the demo, the three science standards accepted for three tasks of
        # two programs were among the first 5 science suggestions of 643 of its 644 tasks.
        shrink = settings.popularity_shrink
        own = np.ones(n_known, bool) if counted is None else np.isin(np.arange(n_known), list(counted))
        popular_rows = rows[own[rows]]
        popular_counts = np.bincount(cols[own[rows]], minlength=n).astype(counts.dtype)
        popular_statements = len(np.unique(popular_rows))
        self.popularity = (popular_counts / (popular_statements + shrink)).astype(np.float32)
        self.counts, self.statements = counts, statements
        self.popular_counts, self.popular_statements = popular_counts, popular_statements
        # Each standard's vector learned from the decisions (see learned_vectors), once
        # Settings.learned_min_statements statements of the framework are decided; fitted when first asked for,
        # with the basis that folds statements' words and the standards' own vectors it starts from.
        self._learning, self._learned, self._learned_lock = None, None, threading.Lock()
        self._basis = self._t_both = None
        if self.k_emb is not None and settings.learned_iterations and popular_statements >= settings.learned_min_statements:
            self._learning = (rows, cols)
        self.band_popularity: dict = {}
        if vectors.k_grades is not None and popular_statements:
            bands = school_bands(vectors.k_grades)
            for band in set(bands[np.unique(popular_rows)].tolist()) - {-1}:
                mine = np.flatnonzero((bands == band) & own)
                band_counts = np.asarray(self.accepted[mine].sum(axis=0)).ravel()
                n_band = len(np.intersect1d(mine, popular_rows))
                self.band_popularity[band] = ((band_counts + shrink * self.popularity) / (n_band + shrink)
                                              ).astype(np.float32)
        # What the statements under each heading (duty area, occupation) were aligned to.
        self.heading_counts: dict[str, np.ndarray] = {}
        heading_rows: dict[str, set] = collections.defaultdict(set)
        for row, col in set(accepted):
            context = known_contexts[row] if row < len(known_contexts) else ""
            if context and own[row]:
                self.heading_counts.setdefault(context, np.zeros(n, np.float32))[col] += 1
                heading_rows[context].add(row)
        # The decided statements under each heading (how many: the share's denominator; which: the evidence).
        self.heading_rows = {c: frozenset(r) for c, r in heading_rows.items()}

    @property
    def learned(self) -> np.ndarray | None:
        """The standards' vectors learned from the decisions (None: too few decided statements),
        fitted once, by the first of the ranking's threads to ask."""
        if self._learning is None:
            return None
        with self._learned_lock:
            if self._learned is None:
                dims = self.settings.learned_words_dims
                self._basis = words_basis(self.t_tfidf_T.T, self.k_tfidf_T.T, dims) if dims else None
                self._t_both = self._words_and_meaning(self.t_tfidf_T.T, self.t_emb)
                k_both = self._words_and_meaning(self.k_tfidf_T.T, self.k_emb)
                self._learned = learned_vectors(k_both, *self._learning, self._t_both, self.settings)
        return self._learned

    def _words_and_meaning(self, tfidf, emb) -> np.ndarray:
        """Statements' words (their TF-IDF folded onto the learned standards' basis) beside their
        meaning, each part weighed by the square root of a half, so that the dot product of two of
        them is the mean of their words' and their meaning's cosines."""
        if self._basis is None:
            return emb
        half = np.float32(np.sqrt(0.5))
        words = _l2(np.asarray(tfidf @ self._basis, dtype=np.float32))
        return np.hstack([half * words, half * emb])

    def similarity(self, s_tfidf, s_emb, other_tfidf_T, other_emb) -> np.ndarray:
        """The cold similarity mix (words and meaning) of statements to other statements."""
        lexical = np.asarray(s_tfidf.dot(other_tfidf_T).todense(), dtype=np.float32)
        if s_emb is None or other_emb is None:
            return lexical
        w_l, w_e = self.settings.tfidf_weight, self.settings.embedding_weight
        return (w_l * lexical + w_e * (s_emb @ other_emb.T)) / np.float32(w_l + w_e)

    def kernel(self, sim: np.ndarray) -> np.ndarray:
        """0 up to the threshold, then rising to 1 for identical statements."""
        t = self.threshold
        return np.maximum(sim - np.float32(t), 0) / np.float32(1 - t)

    def similarity_of(self, kernel_value: float) -> float:
        """Back from a kernel value above 0 to the similarity it came from (for the evidence's words)."""
        return self.threshold + float(kernel_value) * (1 - self.threshold)

    def features(self, s_tfidf, s_emb, s_contexts=None, s_grades=None, warm=True,
                 semantic=None) -> dict[str, np.ndarray]:
        """Every feature for a chunk of sources against every target (rows × targets). ``warm``: True
        for every warm feature, or the names of those wanted (the learned standards cost a fit);
        ``semantic``: ``s_emb @ t_emb.T`` where the caller computed it already."""
        out = {"lexical": np.asarray(s_tfidf.dot(self.t_tfidf_T).todense(), dtype=np.float32)}
        if s_emb is not None:
            out["semantic"] = s_emb @ self.t_emb.T if semantic is None else semantic
        if self.groups:
            base = (
                self.settings.tfidf_weight * out["lexical"] + self.settings.embedding_weight * out["semantic"]
                if s_emb is not None else out["lexical"]
            )
            out["siblings"] = _sibling_scores(base, self.groups)
        if s_grades is not None and self.t_grades is not None:
            out["grade_misfit"] = grade_misfit(s_grades, self.t_grades)
        if not (warm and self.known):
            return out
        rows = out["lexical"].shape[0]
        near = self.kernel(self.similarity(s_tfidf, s_emb, self.k_tfidf_T, self.k_emb))
        out["known_similarity"] = near  # rows × decided statements: who supports a suggestion
        # Among the decided statements like this one (weighted by how alike), the share that
        # accepted / rejected each standard; one more, undecided, statement keeps a lone
        # faint neighbour from speaking with certainty.
        alike = (near.sum(axis=1) + 1.0)[:, None]
        out["neighbours"] = np.asarray(self.accepted.T.dot(near.T).T, dtype=np.float32) / alike
        if self.rejected is not None:
            out["rejections"] = np.asarray(self.rejected.T.dot(near.T).T, dtype=np.float32) / alike
        if self.profiles is not None and s_emb is not None:
            out["profile"] = np.where(self.profiled, self.kernel(s_emb @ self.profiles.T), 0).astype(np.float32)
        if (warm is True or "learned" in warm) and s_emb is not None and self.learned is not None:
            # How much likelier than chance the learned vectors make a standard, on a log scale: log(1 +
            # n p) / log(1 + n) for the probability p they give it among n standards, from 0 (p far
            # below chance, 1 / n) to 1 (p = 1). It was the probability above what the standards' own
            # vectors give, which counted nothing where the decisions confirmed a standard's wording;
            # then the probability itself, which counted a standard ten times likelier than chance no
            # more than one at chance. 5-fold hit@1 / hit@5 / MRR (2026-12-01, benchmarks/README.md):
            # above the wording's, the probability, the log: O*NET 0.444 / 0.722 / 0.569, 0.459 / 0.731
            # / 0.580, 0.448 / 0.732 / 0.575; CIP -> SOC 0.799 / 0.965 / 0.870, 0.808 / 0.965 / 0.876,
            # 0.811 / 0.965 / 0.877; NGSS -> CCSS 0.591 / 0.828 / 0.702, 0.596 / 0.828 / 0.703, 0.591 /
            # 0.892 / 0.708.
            learned, scale = self.learned, np.float32(self.settings.learned_scale)
            s_both = self._words_and_meaning(s_tfidf, s_emb)
            p = _softmax(scale * (s_both @ learned.T))
            # For the evidence: where the decisions, learned together, point to a standard more than
            # its own words and meaning do.
            out["learned_points"] = p > _softmax(scale * (s_both @ self._t_both.T))
            p *= np.float32(self.n)
            np.log1p(p, out=p)
            p /= np.float32(np.log1p(self.n))
            out["learned"] = p
        # Popularity within the statement's school band, where the standard fits its grades.
        if self.band_popularity and s_grades is not None:
            popularity = np.empty((rows, self.n), np.float32)
            for i, band in enumerate(school_bands(s_grades).tolist()):
                popularity[i] = self.band_popularity.get(band, self.popularity)
        else:
            popularity = np.broadcast_to(self.popularity, (rows, self.n))
        out["popularity"] = popularity * (1.0 - out["grade_misfit"]) if "grade_misfit" in out else popularity
        if self.heading_counts and s_contexts is not None:
            heading = np.zeros((rows, self.n), np.float32)
            for i, context in enumerate(s_contexts):
                counts = self.heading_counts.get(context)
                if counts is not None:
                    heading[i] = counts / (len(self.heading_rows[context]) + self.settings.popularity_shrink)
            out["heading"] = heading
        return out


def _softmax(z: np.ndarray) -> np.ndarray:
    """Each row's softmax, in place."""
    z -= z.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=1, keepdims=True)
    return z


def learned_vectors(known: np.ndarray, rows: np.ndarray, cols: np.ndarray, standards: np.ndarray,
                    settings: Settings) -> np.ndarray:
    """Each standard's vector (``standards``: words and meaning side by side, see
    _Index._words_and_meaning, or meaning alone) moved to pick the standards the decided statements were
    aligned to (a softmax regression from a decided statement's vector to its accepted standards,
    one weight vector per standard), starting from and held near the standards' own vectors, so
    that a standard nobody aligned keeps its meaning. It learns which parts of a statement's meaning
    decide between close standards, where the similar statements and the profile only vote.
    5-fold hit@5 / hit@1 / MRR, at 15 steps (benchmarks/README.md): O*NET tasks -> DWAs 0.686 /
    0.388 / 0.523 -> 0.711 / 0.435 / 0.559, CIP -> SOC 0.949 / 0.752 / 0.840 -> 0.960 / 0.796 /
    0.868, NGSS -> CCSS 0.828 / 0.591 / 0.700 -> 0.828 / 0.591 / 0.701 (with words too, see
    Settings.learned_words_dims). ``known``: the decided statements' vectors, ``rows`` of them
    aligned to the standards ``cols``. (With 3,000 of O*NET's decided tasks sampled per fit, its
    5-fold gain is mostly lost: 0.691.)"""
    # The labels as (statement, standard, weight) triples, not a dense statements x standards
    # matrix: the loss reads the log-probability at the accepted pairs only, and the gradient
    # subtracts the labels there. On a fit the size of an O*NET 5-fold part (13,800 decided
    # statements x 2,087 standards, 384 dimensions, 2 cores): 14.9-17.1 s -> 7.8-8.9 s, the same
    # vectors; O*NET's 5-fold 580-631 s -> 399 s, the same figures (benchmarks/README.md).
    pairs = np.unique(np.stack([np.asarray(rows), np.asarray(cols)], axis=1), axis=0)
    decided, y_row = np.unique(pairs[:, 0], return_inverse=True)
    y_col = pairs[:, 1]
    y_weight = (1.0 / np.bincount(y_row))[y_row].astype(np.float32)  # a statement's standards share 1
    x = np.ascontiguousarray(known[decided], dtype=np.float32)
    v0 = np.asarray(standards, np.float32)
    scale, strength, n = np.float32(settings.learned_scale), np.float32(settings.learned_l2), len(decided)

    def loss(v: np.ndarray) -> tuple[float, np.ndarray]:
        z = x @ v.T
        z *= scale
        z -= z.max(axis=1, keepdims=True)
        at_labels = z[y_row, y_col]
        np.exp(z, out=z)
        sums = z.sum(axis=1)
        cross_entropy = -float(y_weight @ (at_labels - np.log(sums[y_row]))) / n
        z /= sums[:, None]  # the probabilities
        z[y_row, y_col] -= y_weight  # less the labels
        diff = v - v0
        grad = (scale / n) * (z.T @ x) + strength * diff
        return cross_entropy + 0.5 * float(strength) * float(np.vdot(diff, diff)), grad

    return lbfgs(loss, v0, settings.learned_iterations)


def lbfgs(loss, start: np.ndarray, steps: int, memory: int = 10) -> np.ndarray:
    """Minimise ``loss`` (array -> value, gradient of the array's shape) from ``start`` by at most
    ``steps`` steps of L-BFGS (Nocedal and Wright, algorithm 7.4: the last ``memory`` steps'
    curvature; a backtracking line search from the full step, the first one scaled to unit length;
    stopping, as scipy does, once no gradient component exceeds 1e-5), in float32.
    scipy's L-BFGS-B does the same in float64, with bounds this fit has none of, and its own work
    per step (about 0.35 s over a million weights) was most of a small fit's time. Measured on 2
    cores (2026-11-29, benchmarks/README.md): the 30 fits of NGSS -> CCSS's 5-fold 63.4 s -> 11.4 s
    (the 5-fold 98 -> 43 s, its figures the same to the third decimal); one fit over 2,087 standards
    x 640 dimensions, 300 decided statements 2.7-2.9 s -> 0.7 s, 13,800 of them 8.8-9.9 s -> 6.0-6.3 s."""
    x = np.array(start, np.float32)
    value, grad = loss(x)
    steps_taken: collections.deque = collections.deque(maxlen=memory)  # (s, y, 1 / s.y)
    for _ in range(steps):
        if float(np.abs(grad).max()) <= 1e-5:  # scipy's default stop (pgtol): as good as it gets
            break
        # The two-loop recursion: the direction -H grad, H the inverse curvature of the steps kept.
        q = grad.copy()
        alphas = []
        for s, y, rho in reversed(steps_taken):
            alpha = rho * float(np.vdot(s, q))
            alphas.append(alpha)
            q -= np.float32(alpha) * y
        if steps_taken:
            s, y, _ = steps_taken[-1]
            q *= np.float32(float(np.vdot(s, y)) / float(np.vdot(y, y)))
        else:
            q /= np.float32(max(float(np.linalg.norm(grad)), 1e-12))
        for (s, y, rho), alpha in zip(steps_taken, reversed(alphas)):
            q += np.float32(alpha - rho * float(np.vdot(y, q))) * s
        slope = -float(np.vdot(grad, q))
        if slope >= 0:  # no way down (a zero gradient)
            break
        t = 1.0
        for _ in range(30):  # Armijo's condition, halving the step until the value falls enough
            trial = x - np.float32(t) * q
            trial_value, trial_grad = loss(trial)
            if trial_value <= value + 1e-4 * t * slope:
                break
            t /= 2
        else:
            break
        s, y = trial - x, trial_grad - grad
        sy = float(np.vdot(s, y))
        if sy > 1e-10:  # keep only steps that curve upward (H stays positive definite)
            steps_taken.append((s, y, 1.0 / sy))
        x, value, grad = trial, trial_value, trial_grad
    return x


def words_basis(t_tfidf, k_tfidf, dims: int) -> np.ndarray | None:
    """A basis of ``dims`` dimensions for the words of the standards and the decided statements
    (truncated SVD of their TF-IDF, seeded), onto which the learned standards fold statements' words;
    None where there is one word or one statement in all (the learned standards read meaning alone)."""
    from sklearn.utils.extmath import randomized_svd  # (0.8 s to import: only a fit needs it)

    both = sp.vstack([t_tfidf, k_tfidf]).tocsr()
    if min(both.shape) < 2:
        return None
    _, _, vt = randomized_svd(both, min(dims, min(both.shape) - 1), random_state=0)
    return np.ascontiguousarray(vt.T, dtype=np.float32)


def _indicator(rows, cols, shape) -> sp.csr_matrix:
    """A 0/1 matrix with ones at (rows, cols); a pair given twice counts once."""
    matrix = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=shape)
    matrix.data[:] = 1
    return matrix


def school_bands(grades: np.ndarray) -> np.ndarray:
    """The school band each (lowest, highest) grade range starts in: 0 for K-2, 1 for 3-5, 2 for
    6-8, 3 for 9-12; -1 without grades."""
    low = grades[:, 0]
    return np.where(np.isnan(low), -1, np.searchsorted([2.5, 5.5, 8.5], np.nan_to_num(low))).astype(int)


def grade_misfit(s_grades: np.ndarray, t_grades: np.ndarray) -> np.ndarray:
    """The share of a statement's grade band that a standard's band leaves out (0: the standard
    covers every grade of the statement; 1: none), 0 where either has no grades. Rows are
    (lowest, highest) grades, NaN where unknown."""
    lo = np.maximum(s_grades[:, None, 0], t_grades[None, :, 0])
    hi = np.minimum(s_grades[:, None, 1], t_grades[None, :, 1])
    width = s_grades[:, 1] - s_grades[:, 0] + 1
    covered = np.clip(hi - lo + 1, 0, None) / width[:, None]
    return np.nan_to_num(1 - covered, nan=0.0).astype(np.float32)


def similarity_threshold(vectors, semantic, settings, sample: int = 400, seed: int = 0) -> float:
    """The similarity above which two statements count as alike: how similar a statement
    typically is to its ``alike_statements``-th closest statement of the source framework (and
    the decided ones), the median over a sample, and at least a high percentile of the
    similarities between its statements. So it means the same for any model and wording, and
    "alike" is a statement's few closest ones whether the framework has 200 statements or 20,000
    (with the percentile alone, 900 of O*NET's 18,796 tasks were "alike" to each). With too few
    statements, the setting's default."""
    pool_tfidf = sp.vstack([vectors.s_tfidf, vectors.k_tfidf]).tocsr()
    pool_emb = None
    if semantic:
        pool_emb = np.vstack([vectors.s_emb, vectors.k_emb]) if vectors.k_emb is not None else vectors.s_emb
    n = pool_tfidf.shape[0]
    if n < settings.threshold_min_statements:
        return settings.similarity_threshold
    pick = np.sort(np.random.default_rng(seed).choice(n, size=min(sample, n), replace=False))
    sim = np.asarray(pool_tfidf[pick].dot(pool_tfidf.T).todense(), dtype=np.float32)
    if pool_emb is not None:
        w_l, w_e = settings.tfidf_weight, settings.embedding_weight
        sim = (w_l * sim + w_e * (pool_emb[pick] @ pool_emb.T)) / (w_l + w_e)
    sim[np.arange(len(pick)), pick] = -np.inf  # not itself
    k = min(settings.alike_statements, n - 1)
    kth = -np.partition(-sim, k - 1, axis=1)[:, k - 1]
    among = sim[:, pick]  # and more alike than most pairs of statements are
    high = np.percentile(among[np.isfinite(among)], settings.threshold_percentile)
    return float(min(max(np.median(kth), high), 0.9))


def cold_scale(weights: dict[str, float]) -> float:
    """What puts a cold score on the scale of the similarity (1.0 = identical statements)."""
    return sum(w for w in weights.values() if w > 0) or 1.0


def _default_weights(settings: Settings, semantic: bool) -> dict[str, float]:
    """The cold score: word and meaning similarity, how well a standard's heading matches,
    less what the standard's grade band leaves out of the statement's."""
    w = {"lexical": settings.tfidf_weight, "semantic": settings.embedding_weight} if semantic else {"lexical": 1.0}
    w["siblings"] = settings.sibling_weight
    w["grade_misfit"] = -settings.grade_weight
    return w


def _combine(feats: dict[str, np.ndarray], weights: dict[str, float], bias: float = 0.0) -> np.ndarray:
    total = None
    for name, weight in weights.items():
        if name in feats and weight:
            part = weight * feats[name]
            total = part if total is None else total + part
    return total + bias if bias else total



def _chunk_features(index, vectors, start, stop, contexts, semantic, warm=True,
                    semantic_scores=None) -> dict[str, np.ndarray]:
    """Every feature of sources ``start:stop`` against every target (``warm=False``: the cold ones)."""
    grades = vectors.s_grades[start:stop] if vectors.s_grades is not None else None
    return index.features(vectors.s_tfidf[start:stop], vectors.s_emb[start:stop] if semantic else None,
                          contexts[start:stop], grades, warm, semantic_scores)


def _at(feats, name: str, rows: np.ndarray, cols: np.ndarray):
    """A feature's values at (row, column) pairs (None when the chunk has no such feature)."""
    if callable(feats):
        return feats(name, rows, cols)
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
    # The sentence vectors' cosines, chunk by chunk, computed here, as is the expansion's product
    # below, and not in the two threads: with two threads each calling BLAS, BLAS's own threads spun
    # waiting for work on the cores the others needed. O*NET's 18,796 tasks x 2,087 DWAs, top 10,
    # embeddings cached, `crosswalk match` re-run, six runs each alternated, 2 cores: median 6.8 s ->
    # 5.6 s, user CPU 10.5 s -> 6.6 s (BLAS held to one thread for the whole process instead, which a
    # library must not do: 6.4 s). Each chunk's fused scores are written over its cosines: the
    # memory is one float32 per pair, as before, each chunk's freed once it is ranked.
    cosines = ([vectors.s_emb[start : start + CHUNK] @ index.t_emb.T for start in range(0, n_sources, CHUNK)]
               if semantic else None)

    def score(start):
        stop = min(start + CHUNK, n_sources)
        block = None
        if cosines is not None:
            block, cosines[start // CHUNK] = cosines[start // CHUNK], None
        feats = _chunk_features(index, vectors, start, stop, contexts, semantic, warm=False, semantic_scores=block)
        fused = np.asarray(_combine(feats, weights, bias), dtype=np.float32)
        if block is None:
            return fused
        # Written over the chunk's cosines, which it no longer needs: fresh memory for every chunk's
        # fused scores cost 0.5 s of a 5.7 s re-run (first-touch page faults) and 70 MB of peak.
        block[...] = fused
        return block

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
            return None, None, fused.max(axis=1)
        mm = min(m, len(fused))
        by_target = np.negative(fused.T, order="C")  # by rows: partitioning along rows is faster than down columns
        top = np.argpartition(by_target, mm - 1, axis=1)[:, :mm]
        return -np.take_along_axis(by_target, top, axis=1), top + number * CHUNK, fused.max(axis=1)

    best = list(_in_parallel(adjust, range(len(chunks))))
    centroids = None
    if m:
        # The m best sources of each target over all chunks, from each chunk's m best.
        vals = np.concatenate([b[0] for b in best], axis=1)
        rows = np.concatenate([b[1] for b in best], axis=1)
        top = np.argpartition(-vals, min(m, vals.shape[1]) - 1, axis=1)[:, :m]
        best_rows = np.take_along_axis(rows, top, axis=1)  # targets x m
        centroids = _l2(vectors.s_emb[best_rows].mean(axis=1))  # targets x dim
        for start, fused in zip(range(0, n_sources, CHUNK), chunks):  # (here, not in the threads: see scores)
            fused += settings.expansion_weight * (vectors.s_emb[start : start + len(fused)] @ centroids.T)

    def finished(number):
        """Chunk ``number``'s scores, expansion included (called from the ranking threads, once)."""
        fused, chunks[number] = chunks[number], None  # free as we go
        return fused

    def decided(k_emb, k_contexts) -> np.ndarray:
        """What the same two adjustments add to the fused scores of decided statements (rows ×
        targets): their heading's sources' mean gain over every statement's, and their closeness
        to each target's best sources; so that the committee's calibration is fitted on the
        scores ranking gives (learning.learn). Keeps the headings' sums (headings × targets)."""
        extra = np.zeros((len(k_contexts), index.n), np.float32)
        if settings.heading_weight:
            for i, context in enumerate(k_contexts):
                g = heading_of.get(context)
                if g is not None:
                    extra[i] = settings.heading_weight * (heading_sum[g] / sizes[g] - column_mean)
        if centroids is not None and k_emb is not None:
            extra += np.float32(settings.expansion_weight) * (k_emb @ centroids.T)
        return extra

    finished.best = np.concatenate([b[2] for b in best]) / np.float32(cold_scale(weights))
    finished.decided = decided
    return finished


def _pair_features(vectors, start, semantic):
    """Cold feature values at given pairs, computed directly (without scoring every target again)."""

    def at(name, rows, cols):
        if name == "semantic" and semantic:
            return np.einsum("ij,ij->i", vectors.s_emb[start + rows], vectors.t_emb[cols])
        return None

    return at
