"""What matching works on: statements, decisions, suggestions, settings; and two helpers every step uses."""

from __future__ import annotations

import collections
import dataclasses

import numpy as np

from .. import usable_cores


@dataclasses.dataclass
class Doc:
    """A statement to match: its database id (or any key), code and text."""

    key: object
    code: str
    text: str
    context: str = ""  # headings above it (domain, cluster): they say what a short statement is about
    grades: tuple | None = None  # (lowest, highest) grade, K = 0, when the standard has a grade band


@dataclasses.dataclass
class Decision:
    """An earlier decision: this source text was accepted / rejected for this target."""

    source_text: str
    target_key: object
    accepted: bool
    source_code: str = ""
    source_key: object = None
    source_context: str = ""  # the heading the source sits under (duty area, occupation)
    source_grades: tuple | None = None  # the source's grade band (lowest, highest), when it has one
    # Decided for a statement of another framework than the one being matched (another program's
    # tasks): it teaches through the statements like it and the standard's profile, but what is
    # accepted most, overall or under a heading, is counted in each framework apart.
    other_framework: bool = False


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
    """Weights and thresholds of matching (cold weights tuned on O*NET Tasks-to-DWAs and checked
    on CIP → SOC and NGSS → CCSS; see benchmarks/README.md)."""

    chunk: int = 512  # source statements scored at a time: bounds memory
    tfidf_weight: float = 0.3
    embedding_weight: float = 0.7
    context_weight: float = 0.3  # weight of a target's headings next to its own statement
    sibling_weight: float = 0.2  # weight of how well a target's heading matches as a whole
    source_context_weight: float = 0.1  # weight of a source's headings next to its own statement (embeddings)
    heading_weight: float = 0.35  # cold: how well the other statements under a source's heading match a target
    expansion_weight: float = 0.2  # cold: similarity to the sources that match a target best
    expansion_sources: int = 5  # how many of them
    grade_weight: float = 0.3  # cold: a standard whose grade band leaves out the statement's grades loses this
    # Warm: what decisions teach reaches statements whose similarity to a decided one is above a
    # threshold: how similar a source statement typically is to its alike_statements-th closest one,
    # and at least this percentile of the similarities among the source statements (or, with fewer
    # statements than threshold_min_statements, similarity_threshold).
    alike_statements: int = 10
    threshold_percentile: float = 95.0
    threshold_min_statements: int = 30
    similarity_threshold: float = 0.35
    popularity_shrink: float = 10.0
    # What speaks for every statement (popularity, a standard's profile) waits until this many
    # statements of the framework being matched have an accepted alignment; before, decisions speak
    # only for statements like the decided ones and for those under their heading. Two to five
    # cannot show whether a standard is accepted for most statements or for a few: counted at once,
    # they lifted the accepted standards above every statement's own (CIP -> SOC, 3 decided
    # statements, seed 1: hit@5 0.892 -> 0.613; O*NET, 5, seed 1: 0.562 -> 0.265), though it helped
    # NGSS -> CCSS (seed 1, 3: 0.28 -> 0.53; with it waiting, 0.28). The heading does not wait:
    # expert CTE crosswalks align a duty area's tasks to the same standards (two Missouri DESE
    # agriculture crosswalks, 27 tasks, held out 13, seeds 0-7: hit@5 at 3 decided statements
    # 0.00-0.38 -> 0.38-0.77, at 5 0.23-0.54 -> 0.54-0.85; benchmarks/README.md); on the three
    # golds at 2-5 decided statements, 8 of 52 points moved, 4 up and 4 down by one statement of 100
    # (NGSS seeds 0, 4) or 4-5 of 400 (CIP seeds 1, 5); at 1, Missouri seeds 1-3 rose (0.23 ->
    # 0.31-0.54) and CIP seed 3 fell by one program of 400. From 10 on, the held-out check chooses
    # (learning._select).
    shared_min_statements: int = 10
    # Each standard's vector learned from the decisions (features.learned_vectors): steps of the fit
    # (0: none), the softmax's sharpness over cosines, and how firmly the vectors are held to the
    # standards' own. Set as in 07b60f2's classifier (there 40 steps); 15 steps keep O*NET's 5-fold
    # gain (hit@5 0.711) at half the time. It waits for learned_min_statements decided statements
    # of the framework being matched (in each of the check's parts too, so it counts from about
    # 125): one vector per standard fitted on fewer fits what the check cannot see. Waiting for 10
    # like popularity, at 25 decided statements (seed 0) CIP -> SOC fell from hit@5 0.895 to 0.843
    # and NGSS -> CCSS from 0.750 to 0.690, its "high" suggestions right for 18%; at 50 and 100,
    # NGSS moved by one PE of 100 either way (benchmarks/README.md).
    learned_min_statements: int = 100
    learned_iterations: int = 15
    learned_scale: float = 20.0
    learned_l2: float = 1e-3
    # The learned standards read a statement's words too (its TF-IDF folded to this many dimensions,
    # beside its sentence vector; 0: meaning only). 5-fold hit@5 / hit@1 / MRR (2026-11-29, scratch
    # harness): O*NET 0.711 / 0.435 / 0.559 -> 0.720 / 0.443 / 0.568, CIP -> SOC 0.960 / 0.796 /
    # 0.868 -> 0.965 / 0.798 / 0.870, NGSS -> CCSS 0.828 / 0.591 / 0.701 -> 0.828 / 0.591 / 0.702; at
    # 128 dimensions 0.718, 0.964, 0.828; at 256 with 30 steps 0.720, 0.960, 0.828. Its price is
    # the fit's time (640 weights a standard instead of 384): NGSS -> CCSS 5-fold 61 -> 93 s; a match
    # of 400 statements with 200 decided, O*NET 12.5 -> 18.2 s (benchmarks/README.md); 7.0 s since the
    # fit runs its own L-BFGS (features.lbfgs), NGSS -> CCSS 5-fold 48 s.
    learned_words_dims: int = 256
    # shared signals take a statement's first place only when, on the held-out decisions, that ranks
    # the right standard better by this many statements' reciprocal rank
    validation_margin_first: float = 0.0
    first_from_statement: bool = True  # off: shared signals may always take a statement's first place
    cold_prior: float = 10.0  # belief in the golds' cold calibration, in decided pairs' worth
    signal_prior: float = 1.0  # weight of a warm signal (log-odds per unit of evidence) before the decisions show it
    signal_prior_weight: float = 2.0  # ... worth this many acceptances
    # Where the committee searched for most decided statements (cold showed none it accepted), fall back
    # to cold when more than this many of them lose their accepted standard from the first 5. The check
    # leans to cold there: a committee accepts from what cold showed, and where it searched it names one
    # right standard of several. At 0.5, NGSS -> CCSS fell back to cold at 10 and 25 decided statements
    # (hit@5 0.28 against 0.66 and 0.69 warm, seed 1). Where cold showed one for most, warm must win
    # more statements than it loses, or lose none (learning._select).
    validation_tolerance: float = 1.0
    # The whole allowance holds where the committee searched for this share of the decided statements
    # or more; between half and this share it grows from none. Given in full from half on, it let a
    # check that saw warm lose one statement of 10 (6 searched) through, and warm ranked O*NET tasks
    # -> DWAs below cold (seed 1, 10 and 25 decided statements: hit@5 0.487 and 0.515 against 0.562);
    # NGSS -> CCSS (where a committee searches for 60-80%) and CIP -> SOC moved at no point of their
    # curves (seeds 0-3, benchmarks/README.md).
    validation_searched: float = 0.7
    # Where cold showed an accepted standard for most decided statements, a check that saw warm
    # neither win nor lose one lets warm through only from this many decided statements on, or
    # where a standard was accepted for two of them: on fewer, "no difference" is no evidence, and
    # warm let through on it ranked below cold (2026-11-30, seeds 0-7 at 3 and 5 decided statements:
    # CIP -> SOC below cold at 6 of 16 points, O*NET at 4, now 1 and 3, hit@1 and MRR up at each;
    # no point rose above cold that way, and NGSS -> CCSS, where a committee searches for most PEs,
    # did not move). Where a standard recurs, a duty area's decisions speak for its other tasks, a
    # gain the check cannot see where cold showed the standard for the decided ones (on the demo,
    # whose decisions recur: without that exception, no decision counted; benchmarks/README.md).
    validation_tie_statements: int = 10
    validation_folds: int = 5  # the decided statements are scored in this many parts, the others' decisions known
    validation_max_statements: int = 1500  # at most this many of them (sampled)
    # Confidence: calibrated probability that a suggestion is right, in percent.
    high: float = 60.0
    medium: float = 25.0
    # "No likely alignment": a statement whose best cold score is below the lower fence of all the
    # statements' best scores (first quartile - floor_iqr x interquartile range), with at least
    # floor_min_statements statements to tell, or below floor_score (with sentence vectors), and
    # that no decision lifts to medium. The fence alone marked what stands out in its own crosswalk,
    # but not a program whose tasks are mostly far from a framework: on the demo, Culinary Arts ->
    # mathematics marked no task ("Turn or stir foods to ensure even cooking" -> HSF-TF.A.4 first).
    # floor_score is under the lowest best score of any statement of the three golds, every one of
    # which has an alignment: NGSS -> CCSS 0.150 (cross-domain), CIP -> SOC 0.234, O*NET 0.234; so
    # no gold statement is marked cold; on the demo, cold, it marks 307 of 2,576 task x framework
    # pairs (12%; benchmarks/README.md). Measured on the best cold score before expansion (the
    # figure Tukey's fence reads), not on the score a suggestion shows.
    floor_iqr: float = 1.5
    floor_min_statements: int = 20
    floor_score: float = 0.14
    calibrate_min_statements: int = 30  # decided statements needed to calibrate on the committee's own decisions
    calibrate_min_accepted: int = 20  # and accepted alignments among their suggestions


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

    # BLAS keeps its own threads, and holding it to one (threadpoolctl) is a setting of the whole
    # process: where ``fn`` calls BLAS, BLAS's threads spin on the cores these two need. The cold
    # scores leave their products to the calling thread (features._context_adjust); a warm ranking's
    # chunks still compute theirs here (the decisions' features).
    with ThreadPoolExecutor(2) as pool:
        pending = [pool.submit(fn, item) for item in items[:2]]
        for following in items[2:] + [None, None]:
            future = pending.pop(0)
            if following is not None:
                pending.append(pool.submit(fn, following))
            yield future.result()


def _groups(targets) -> list[np.ndarray]:
    """Targets under the same heading (domain, cluster), as column index arrays."""
    by_context: dict[str, list[int]] = collections.defaultdict(list)
    for i, t in enumerate(targets):
        if t.context:
            by_context[t.context].append(i)
    return [np.asarray(ids) for ids in by_context.values() if len(ids) > 1]
