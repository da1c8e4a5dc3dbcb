"""What matching works on: statements, decisions, suggestions, settings; and two helpers every step uses."""

from __future__ import annotations

import collections
import contextlib
import dataclasses

import numpy as np

from .. import usable_cores

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

    chunk: int = 512  # source statements scored at a time: bounds memory
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


def _top_k(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices and values of the k best columns of each row, best first."""
    k = min(k, scores.shape[1])
    if k == 0:
        return np.zeros((scores.shape[0], 0), int), np.zeros((scores.shape[0], 0))
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    values = np.take_along_axis(scores, part, axis=1)
    order = np.argsort(-values, axis=1, kind="stable")
    return np.take_along_axis(part, order, axis=1), np.take_along_axis(values, order, axis=1)


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

def _groups(targets) -> list[np.ndarray]:
    """Targets under the same heading (domain, cluster), as column index arrays."""
    by_context: dict[str, list[int]] = collections.defaultdict(list)
    for i, t in enumerate(targets):
        if t.context:
            by_context[t.context].append(i)
    return [np.asarray(ids) for ids in by_context.values() if len(ids) > 1]
