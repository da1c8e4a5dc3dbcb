"""Suggesting alignments: a hybrid matcher that learns from decisions.

Cold (no decisions yet): stemmed TF-IDF cosine over normalised statements,
fused with sentence-embedding cosine when the local model is installed.
Warm (accepted and rejected alignments exist): each academic standard is
also represented by the CTE statements already aligned to it, the nearest
already-aligned statements vote for their standards, what was decided for the
other statements under the same heading (duty area, occupation) counts, also
for standards under the same heading as, or worded like, the ones chosen there,
and standards that are often aligned get a small prior. With enough decisions
a combiner and re-ranking trees are trained on them. A rejected pair is never
suggested again.

The core, :func:`rank_candidates`, works on plain lists of statements so the
evaluator and the benchmarks use exactly what ``crosswalk match`` uses;
:func:`match` reads and writes the database.

Example::

    from crosswalk.matching import match
    result = match(db, source="Welding tasks", target="CCSS Math", top=5)
    result.suggested
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import functools
import gc
import hashlib
import math
import sqlite3

import numpy as np
import scipy.sparse as sp
from rapidfuzz import fuzz

from . import text as textmod
from . import usable_cores
from .db import now
from .errors import CrosswalkError, NotFound

CHUNK = 512  # source statements scored at a time: bounds memory
MAX_SIMILARITY_TARGETS = 4000  # standards x standards similarities kept for warm matching (64 MB at most)


@dataclasses.dataclass
class Doc:
    """A statement to match: its database id (or any key), code and text."""

    key: object
    code: str
    text: str
    context: str = ""  # headings above it (domain, cluster): they say what a short statement is about


@dataclasses.dataclass
class Decision:
    """An earlier decision: this source text was accepted / rejected for this target."""

    source_text: str
    target_key: object
    accepted: bool
    source_code: str = ""
    source_key: object = None
    source_context: str = ""  # the heading the source sits under (duty area, occupation)


@dataclasses.dataclass
class Candidate:
    source_key: object
    target_key: object
    score: float  # 0-100
    rank: int
    confidence: str
    evidence: str
    method: str


@dataclasses.dataclass
class Settings:
    """Weights of the fused score (tuned on O*NET Tasks-to-DWAs; see benchmarks/README.md)."""

    tfidf_weight: float = 0.3
    embedding_weight: float = 0.7
    context_weight: float = 0.3  # weight of a target's headings next to its own statement
    sibling_weight: float = 0.2  # weight of how well a target's heading matches as a whole
    source_context_weight: float = 0.1  # weight of a source's headings next to its own statement (embeddings)
    heading_weight: float = 0.35  # cold: how well the other statements under a source's heading match a target
    expansion_weight: float = 0.2  # cold: similarity to the sources that match a target best
    expansion_sources: int = 5  # how many of them
    ridge: float = 1.0  # regularisation of the learned statement -> standard map
    classifier_iterations: int = 40  # training steps of the per-standard classifier (0: none)
    classifier_scale: float = 20.0
    classifier_l2: float = 1e-3
    lexical_classifier_dims: int = 256  # also a classifier over TF-IDF folded to this many dimensions (0: none)
    neighbours: int = 10  # nearest already-aligned statements that vote
    vote_power: float = 3.0  # sharper votes from closer neighbours
    # Hand-set warm weights, used until there are enough decisions to learn them.
    centroid_weight: float = 0.3
    vote_weight: float = 0.35
    prior_weight: float = 0.02
    learn_min_decisions: int = 40  # accepted decisions needed to train the combiner
    learn_max_sources: int = 20000  # decided statements sampled to train it
    learn_splits: int = 4  # decided statements are scored in this many parts, the others' decisions known
    rerank_min_sources: int = 300  # decided statements needed to train the re-ranking trees
    rerank_depth: int = 50  # candidates per statement the trees re-rank
    rerank_trees: int = 200  # boosting iterations
    # Confidence bands, set from measured precision on O*NET Tasks-to-DWAs (benchmarks/README.md).
    # Cold scores are similarities: at 88+ about 42% of the suggestions are right, 73-88 about 18%.
    high: float = 88.0
    medium: float = 73.0
    # Learned (warm) scores are calibrated probabilities of acceptance, in percent.
    learned_high: float = 50.0
    learned_medium: float = 20.0


DEFAULT = Settings()


# ---------------------------------------------------------------- text vectors


class TfidfModel:
    """Stemmed, sublinear TF-IDF over a fixed vocabulary, L2-normalised rows."""

    def __init__(self, corpus: list[list[str]]):
        vocab: dict[str, int] = {}
        df = collections.Counter()
        for doc in corpus:
            for term in set(doc):
                df[term] += 1
                if term not in vocab:
                    vocab[term] = len(vocab)
        self.vocab = vocab
        n = max(len(corpus), 1)
        self.idf = np.ones(len(vocab), dtype=np.float32)
        for term, index in vocab.items():
            self.idf[index] = math.log((1 + n) / (1 + df[term])) + 1.0

    def transform(self, docs: list[list[str]]) -> sp.csr_matrix:
        vocab = self.vocab
        ids = [[vocab[t] for t in doc if t in vocab] for doc in docs]
        lengths = np.fromiter(map(len, ids), dtype=np.int64, count=len(ids))
        columns = np.fromiter((i for doc in ids for i in doc), dtype=np.int32, count=int(lengths.sum()))
        rows = np.repeat(np.arange(len(docs), dtype=np.int32), lengths)
        # Duplicates are summed: each (statement, term) cell holds the term's count.
        matrix = sp.csr_matrix((np.ones(len(columns), np.float32), (rows, columns)),
                               shape=(len(docs), len(vocab)))
        matrix.sum_duplicates()
        weights = (1.0 + np.log(matrix.data.astype(np.float64))).astype(np.float32)
        matrix.data = weights * self.idf[matrix.indices]
        return _l2(matrix)


def _l2(matrix):
    if sp.issparse(matrix):
        norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        return sp.csr_matrix(sp.diags(1.0 / norms).dot(matrix), dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (matrix / norms).astype(np.float32, copy=False)


def text_key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


class EmbeddingCache:
    """Sentence vectors by text hash, kept in the database's ``embeddings`` table."""

    def __init__(self, db=None, readonly: bool = False):
        self.db = db
        self.readonly = readonly  # evaluation reads the cache but never writes the user's database
        self.memory: dict[tuple[str, str], np.ndarray] = {}

    def get_many(self, model: str, keys: list[str]) -> dict[str, np.ndarray]:
        found = {}
        missing = []
        for key in keys:
            vector = self.memory.get((model, key))
            if vector is None:
                missing.append(key)
            else:
                found[key] = vector
        if self.db is not None and missing and self.db["embeddings"].exists():
            hashes, blobs = [], []
            for start in range(0, len(missing), 500):
                part = missing[start : start + 500]
                marks = ",".join("?" * len(part))
                for text_hash, blob in self.db.execute(
                    f"select text_hash, vector from embeddings where model = ? and text_hash in ({marks})",
                    [model, *part],
                ).fetchall():
                    hashes.append(text_hash)
                    blobs.append(blob)
            if blobs and len(set(map(len, blobs))) == 1:
                # Decoded in one go: vector by vector, this was a fifth of a cached re-run.
                rows = np.frombuffer(b"".join(blobs), dtype=np.float16).reshape(len(blobs), -1).astype(np.float32)
            else:
                rows = [np.frombuffer(blob, dtype=np.float16).astype(np.float32) for blob in blobs]
            for text_hash, vector in zip(hashes, rows):
                found[text_hash] = vector
                self.memory[(model, text_hash)] = vector
        return found

    def put_many(self, model: str, items: dict[str, np.ndarray]) -> None:
        for key, vector in items.items():
            self.memory[(model, key)] = vector
        if self.db is not None and items and not self.readonly:
            with self.db.atomic():
                self.db.conn.executemany(
                    "insert or replace into embeddings (model, text_hash, vector) values (?, ?, ?)",
                    [(model, k, v.astype(np.float16).tobytes()) for k, v in items.items()],
                )


class _LazyEncoder:
    """The sentence encoder, loaded only when a text is missing from the cache: a re-run
    whose statements are all cached never pays for loading the model (seconds)."""

    def __init__(self, name: str, dim: int):
        self.name, self.dim = name, dim

    def encode(self, texts, **kwargs):
        from . import embeddings

        self.loaded = True
        return embeddings.load_encoder().encode(texts, **kwargs)

    def release(self):
        """Free the model once every text is embedded: scoring needs the memory, not the model."""
        if getattr(self, "loaded", False):
            from . import embeddings

            embeddings.unload_encoder()
            self.loaded = False


def lazy_encoder():
    """An encoder for :func:`embed` that loads the model on first use; None when it is not installed."""
    from . import embeddings

    return _LazyEncoder(embeddings.MODEL_NAME, embeddings.Encoder.dim) if embeddings.available() else None


def embed(texts: list[str], encoder, cache: EmbeddingCache | None, progress=None) -> np.ndarray:
    """Unit vectors for texts, computing only those not in the cache."""
    cache = cache or EmbeddingCache()
    keys = [text_key(t) for t in texts]
    found = cache.get_many(encoder.name, list(dict.fromkeys(keys)))
    todo = list(dict.fromkeys(k for k in keys if k not in found))
    if todo:
        by_key = {k: t for k, t in zip(keys, texts)}
        vectors = encoder.encode([by_key[k] for k in todo], progress=progress)
        fresh = {k: v for k, v in zip(todo, vectors)}
        cache.put_many(encoder.name, fresh)
        found.update(fresh)
    if not keys:
        return np.zeros((0, encoder.dim), np.float32)
    # Each distinct text once (a task list repeats its duty areas thousands of times), then spread.
    row_of = {k: i for i, k in enumerate(dict.fromkeys(keys))}
    distinct = _l2(np.vstack([found[k] for k in row_of]).astype(np.float32, copy=False))
    return distinct[[row_of[k] for k in keys]] if len(row_of) < len(keys) else distinct


# ---------------------------------------------------------------- ranking


def confidence_bands(scores: np.ndarray, settings: Settings = DEFAULT, learned: bool = False) -> list[str]:
    """"high", "medium" or "low" for each score (0-100): cold scores are similarities, learned
    (warm) ones probabilities of acceptance, with bands of their own (see :class:`Settings`)."""
    high, medium = (settings.learned_high, settings.learned_medium) if learned else (settings.high, settings.medium)
    return np.where(scores >= high, "high", np.where(scores >= medium, "medium", "low")).tolist()


def _top_k(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices and values of the k best columns of each row, best first."""
    k = min(k, scores.shape[1])
    if k == 0:
        return np.zeros((scores.shape[0], 0), int), np.zeros((scores.shape[0], 0))
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    values = np.take_along_axis(scores, part, axis=1)
    order = np.argsort(-values, axis=1, kind="stable")
    return np.take_along_axis(part, order, axis=1), np.take_along_axis(values, order, axis=1)


FEATURES = ("lexical", "semantic", "siblings", "lexical_centroid", "semantic_centroid", "votes_lexical",
            "votes_semantic", "nearest_lexical", "nearest_semantic", "nearest_lexical_sharp",
            "nearest_semantic_sharp", "prior", "has_decisions", "heading_prior", "semantic_mapped",
            "classifier", "classifier_lexical", "heading_share", "heading_group", "heading_semantic",
            "votes_heading", "nearest_heading", "heading_known", "source_terms")


def _groups(targets) -> list[np.ndarray]:
    """Targets under the same heading (domain, cluster), as column index arrays."""
    by_context: dict[str, list[int]] = collections.defaultdict(list)
    for i, t in enumerate(targets):
        if t.context:
            by_context[t.context].append(i)
    return [np.asarray(ids) for ids in by_context.values() if len(ids) > 1]


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


class _Vectors:
    """TF-IDF and (optional) embedding vectors of sources, targets and decided statements."""

    def __init__(self, sources, targets, accepted_texts, encoder, cache, settings, accepted_contexts=()):
        source_terms = [textmod.terms(s.text) for s in sources]
        target_terms = [textmod.terms(t.text) for t in targets]
        known_terms = [textmod.terms(t) for t in accepted_texts]
        model = TfidfModel(source_terms + target_terms + known_terms)
        self.s_tfidf = model.transform(source_terms)
        self.t_tfidf = model.transform(target_terms)
        self.k_tfidf = model.transform(known_terms)
        has_context = settings.context_weight > 0 and any(t.context for t in targets)
        if has_context:
            context = model.transform([textmod.terms(t.context) for t in targets])
            self.t_tfidf = _l2(self.t_tfidf + settings.context_weight * context)
        self.groups = _groups(targets)
        self.s_emb = self.t_emb = self.k_emb = None
        if encoder is not None:
            texts = [textmod.strip_boilerplate(d.text) for d in list(sources) + list(targets)]
            texts += [textmod.strip_boilerplate(t) for t in accepted_texts]
            vectors = embed(texts, encoder, cache)
            self.s_emb = vectors[: len(sources)]
            self.t_emb = vectors[len(sources) : len(sources) + len(targets)]
            self.k_emb = vectors[len(sources) + len(targets) :]
            if has_context:
                c_emb = embed([t.context or t.text for t in targets], encoder, cache)
                self.t_emb = _l2(self.t_emb + settings.context_weight * c_emb)
            if settings.source_context_weight and any(s.context for s in sources):
                # A task's duty area or occupation says what a short statement is about; decided
                # statements get the same treatment so that they stay comparable with the sources.
                contexts = [s.context for s in sources] + [
                    accepted_contexts[i] if i < len(accepted_contexts) else "" for i in range(len(accepted_texts))]
                with_context = [i for i, c in enumerate(contexts) if c]
                c_emb = embed([contexts[i] for i in with_context], encoder, cache)
                c_emb *= np.float32(settings.source_context_weight)
                # (In place where it can be: these are 18,796 x 384 floats for a full task list.)
                mixed = np.vstack([self.s_emb, self.k_emb]) if len(self.k_emb) else self.s_emb
                if len(with_context) == len(contexts):
                    mixed += c_emb
                else:
                    mixed[with_context] += c_emb
                mixed = _l2(mixed)
                self.s_emb, self.k_emb = mixed[: len(sources)], mixed[len(sources) :]


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
        for start in range(0, len(half), CHUNK):
            part = half[start : start + CHUNK]
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
            stop = min(start + CHUNK, len(sources))
            if adjusted is not None:
                fused = adjusted(start // CHUNK)
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
        starts = range(0, len(self.sources), CHUNK)
        return _in_parallel(self._ranked, starts) if not self.warm else map(self._ranked, starts)



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


def _in_parallel(fn, items):
    """``fn`` over ``items`` in order, two at a time on machines with more than one core (what
    ``fn`` does must be numpy/scipy work, which releases the GIL): one more chunk's memory."""
    items = list(items)
    if len(items) < 2 or usable_cores() < 2:
        yield from map(fn, items)
        return
    from concurrent.futures import ThreadPoolExecutor

    # Two threads each asking BLAS for two more oversubscribe the cores (and BLAS threads
    # spin while they wait): with our own threads, BLAS keeps to one.
    with _blas_threads(1), ThreadPoolExecutor(2) as pool:
        pending = [pool.submit(fn, item) for item in items[:2]]
        for following in items[2:] + [None, None]:
            future = pending.pop(0)
            if following is not None:
                pending.append(pool.submit(fn, following))
            yield future.result()


def _blas_threads(limit: int):
    """A context in which BLAS (numpy's matrix products) uses at most ``limit`` threads."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - installed with scikit-learn
        return contextlib.nullcontext()
    return threadpool_limits(limit, user_api="blas")


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


def _supporting(decisions, source: Doc, limit: int = 2) -> list[str]:
    """The codes of the statements already aligned to a target (not the source itself)."""
    codes = [d.source_code or d.source_text[:40] for d in decisions if d.source_key != source.key]
    return codes[:limit] + ([f"{len(codes) - limit} more"] if len(codes) > limit else [])


# Evidence phrases of every whole-number score, formatted once (a run writes hundreds of thousands).
_OVERLAP = [f"word overlap {v}/100" for v in range(101)]
_MEANING = [f"meaning similarity {v}/100" for v in range(101)]


def _percent(values) -> list[int]:
    """0-1 values as whole percentages 0-100, rounded as ``f"{100 * v:.0f}"`` rounds."""
    return np.clip(np.rint(100 * np.maximum(np.asarray(values, np.float64), 0)), 0, 100).astype(int).tolist()


def _shared(source_forms, target_stems) -> str:
    """The terms a source shares with a target, in the source's own words (at most eight)."""
    shared = [word for stem, word in source_forms if stem in target_stems]
    return "shared terms: " + ", ".join(shared[:8]) if shared else "no shared terms"


def _explain_many(sources, targets, rows, cols, semantic, votes, supporting, target_words=None) -> list[str]:
    """Why each (source row, target column) pair was suggested, in words a reviewer understands:
    the shared terms in the source's own words, word overlap, meaning similarity, and the
    decisions that support it. Each statement is read once, and the word-overlap scores are
    computed together (rapidfuzz ``cpdist``). ``target_words`` keeps each target's stems and
    normalised text from one chunk to the next."""
    from rapidfuzz import process

    src_forms = [list(textmod.surface_forms(s.text).items()) for s in sources]
    src_norm = [textmod.normalised(s.text) for s in sources]
    tgt_cache: dict[int, tuple[frozenset, str]] = {} if target_words is None else target_words
    for col in set(cols.tolist()):
        if col not in tgt_cache:
            text = targets[col].text
            tgt_cache[col] = (frozenset(textmod.surface_forms(text)), textmod.normalised(text))
    rows_l, cols_l = rows.tolist(), cols.tolist()
    fuzzy = process.cpdist([src_norm[r] for r in rows_l], [tgt_cache[c][1] for c in cols_l],
                           scorer=fuzz.token_set_ratio, workers=-1)
    overlap = np.clip(np.rint(fuzzy), 0, 100).astype(int).tolist()
    meaning = _percent(semantic) if semantic is not None else None
    vot = votes.tolist() if votes is not None else None
    out = []
    for j, (r, c) in enumerate(zip(rows_l, cols_l)):
        parts = [_shared(src_forms[r], tgt_cache[c][0]), _OVERLAP[overlap[j]]]
        if meaning is not None:
            parts.append(_MEANING[meaning[j]])
        if supporting:
            codes = supporting(r, c)
            if codes:
                parts.append("already aligned to it: " + ", ".join(codes))
        if vot is not None and vot[j] > 0.05:
            parts.append(f"similar statements were aligned to it ({100 * vot[j]:.0f}%)")
        out.append("; ".join(parts))
    return out


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

    def summary(self) -> str:
        n = self.kept_commented
        commented = (f"; {n} suggestion{'s' if n != 1 else ''} with reviewers' comments kept, "
                     "though no longer in the top" if n else "")
        return (
            f"Matched {self.sources} standards of {self.source!r} against {self.targets} of "
            f"{self.target!r}: {self.suggested} suggestions ({self.method}); "
            f"{self.kept_decisions} reviewed alignments left as they were{commented}"
        )


def framework_id(db, name: str) -> int:
    rows = list(db["frameworks"].rows_where("name = ?", [name]))
    if not rows:
        names = [r["name"] for r in db["frameworks"].rows_where(order_by="name")]
        raise NotFound(
            f"no framework named {name!r}; the frameworks are: " + (", ".join(repr(n) for n in names) or "(none)")
        )
    return rows[0]["id"]


def load_targets(db, target_fid: int, subject: str | None = None, grade: str | None = None) -> list[Doc]:
    from .importer import parse_grades

    where = ["framework_id = ?", "status = 'active'"]
    params: list = [target_fid]
    if subject:
        where.append("(lower(subject) = lower(?) or lower(domain) = lower(?))")
        params += [subject, subject]
    if grade:
        low, high = parse_grades(grade)
        if low is None:
            raise CrosswalkError(f"could not read the grade band {grade!r} (try 9-12, HS, K-5 or 8)")
        where.append("grade_low is not null and grade_low <= ? and grade_high >= ?")
        params += [high, low]
    rows = db.query(
        f"select id, code, statement, domain, cluster from standards where {' and '.join(where)} order by position",
        params,
    )
    return [
        Doc(r["id"], r["code"], r["statement"], ". ".join(x for x in (r["domain"], r["cluster"]) if x))
        for r in rows
    ]


def load_decisions(db, target_ids: set[int]) -> list[Decision]:
    """Every accepted or rejected alignment to these targets, from any framework."""
    rows = db.query(
        "select a.source_id, a.target_id, a.status, s.code, s.statement, s.domain, s.cluster "
        "from alignments a join standards s on s.id = a.source_id where a.status in ('accepted', 'rejected')"
    )
    return [
        Decision(r["statement"], r["target_id"], r["status"] == "accepted", r["code"], r["source_id"],
                 _context(r))
        for r in rows
        if r["target_id"] in target_ids
    ]


def _context(row) -> str:
    return ". ".join(x for x in (row["domain"], row["cluster"]) if x)


def load_sources(db, source_fid: int) -> list[Doc]:
    return [
        Doc(r["id"], r["code"], r["statement"], _context(r))
        for r in db.query(
            "select id, code, statement, domain, cluster from standards "
            "where framework_id = ? and status = 'active' order by position",
            [source_fid],
        )
    ]


def _short_gil_turns(fn):
    """``fn`` with Python's thread switch interval at 1 ms instead of 5. While matching, the
    thread that writes to SQLite lets go of the GIL for each statement and then waits for it
    while a ranking thread runs Python: with the default interval it waited up to 5 ms, about
    a hundred times a run (the writer is the slowest part). Put back afterwards."""

    @functools.wraps(fn)
    def short(*args, **kwargs):
        import sys

        before = sys.getswitchinterval()
        sys.setswitchinterval(min(before, 0.001))
        try:
            return fn(*args, **kwargs)
        finally:
            sys.setswitchinterval(before)

    return short


@_gc_paused
@_short_gil_turns
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
    source_fid = framework_id(db, source)
    target_fid = framework_id(db, target)
    sources = load_sources(db, source_fid)
    targets = load_targets(db, target_fid, subject, grade)
    if not targets:
        raise CrosswalkError(f"no active standards of {target!r} match the subject/grade restriction")
    decisions = load_decisions(db, {t.key for t in targets})
    encoder = lazy_encoder() if use_embeddings else None
    ranking = None
    if sources:
        ranking = _Ranking(sources, targets, top=top, decisions=decisions, encoder=encoder,
                           cache=EmbeddingCache(db), settings=settings, with_evidence=True)
    chunks = ranking.chunks() if ranking else iter(())
    if ranking and ranking.warm:
        # Warm, scoring a chunk is slow: rank them all before taking the write lock.
        chunks = list(chunks)
    from .review import write_transaction

    writer = _SuggestionWriter(db, ranking.method if ranking else "tfidf")
    # Cold, each chunk is written as it comes, while the threads score and explain the next
    # ones (SQLite lets go of the GIL while it inserts): the write lock is held from the
    # first chunk on, about as long as the write alone would take.
    with write_transaction(db):
        # Read decisions inside the write lock: one made while we were scoring must win.
        writer.begin(source_fid, [t.key for t in targets])
        for chunk in chunks:
            writer.add(chunk, sources)
            if progress:
                progress(chunk.stop - chunk.start)
        writer.finish()
    return MatchResult(source, target, len(sources), len(targets), writer.suggested, len(writer.decided),
                       writer.method, writer.kept_commented)


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
        self.suggested = self.kept_commented = 0
        self.decided: set = set()
        self.commented: dict = {}
        self.guard = None

    def begin(self, source_fid: int, target_ids: list) -> None:
        conn = self.conn
        self.decided = set(conn.execute(
            "select source_id, target_id from alignments a join standards s on s.id = a.source_id "
            "where s.framework_id = ? and a.status in ('accepted', 'rejected')",  # the status index: decisions only
            [source_fid]))
        (largest,) = conn.execute("select max(id) from standards").fetchone()
        if (largest or 0) >= 2**31:  # pair keys stay 64-bit integers (rowids are never this large unless set so)
            raise CrosswalkError(f"a standard's id ({largest}) is too large for matching: ids must be below 2**31")
        commented, targets = collections.defaultdict(set), set(target_ids)
        for source_id, target_id in conn.execute(
                "select a.source_id, a.target_id from review_comments c join alignments a on a.id = c.alignment_id "
                "join standards s on s.id = a.source_id where s.framework_id = ? and a.status = 'suggested'",
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
        self.conn.execute("delete from temp.match_targets")
        if self.guard:
            self.conn.execute(self.guard)
