"""The cold and warm calibrations, measured on the three gold crosswalks (see crosswalk/matching/learning.py).

    python benchmarks/calibrate.py [--work DIR] [--warm]

Uses the databases `benchmarks/quality` builds in its work folder. For every gold, ranks each
statement's top 10 cold (3,000 seeded O*NET tasks; every CIP program and NGSS expectation) and
fits P(right) = logistic(slope x similarity + bonus x [the statement's one best match] + intercept),
each gold weighing the same; then prints, per gold, how many suggestions each band holds and how
many of them are right with the calibration crosswalk ships (GOLD_CALIBRATION).

With --warm: a simulated committee (crosswalk eval --decisions) decides 10 and 25 statements
(seeds 0-2; 400 held-out statements, 100 for NGSS; O*NET: 4,000 seeded tasks), and the held-out
statements' top 10 give (warm probability, right?) pairs; per gold, a logistic in the log-odds is
fitted to them. Prints the three curves (GOLD_WARM_CALIBRATION is the lowest of them) and each
gold's band precision with the shipped calibration.
"""

import argparse
import pathlib
import random
import sys


import numpy as np
from scipy.optimize import minimize

from crosswalk.db import open_db
from crosswalk.evaluate import _read, committee_decisions
from crosswalk.matching import DEFAULT, EmbeddingCache, lazy_encoder, rank_candidates
from crosswalk.matching.learning import GOLD_CALIBRATION, GOLD_WARM_CALIBRATION, _logit, confidence_bands
from crosswalk.matching.ranking import _Ranking

HERE = pathlib.Path(__file__).resolve().parent
GOLDS = {
    "onet": ("onet.db", "tasks_to_dwas.csv", "O*NET tasks", "O*NET DWAs"),
    "cip": ("cip.db", "cip_to_soc.csv", "CIP 2020 programs", "SOC occupations"),
    "ngss": ("ngss.db", "ngss_to_ccss.csv", "NGSS performance expectations", "CCSS math and ELA"),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=pathlib.Path, default=HERE / "results" / "tmp")
    parser.add_argument("--warm", action="store_true", help="Fit and check the warm calibration instead")
    args = parser.parse_args()
    if args.warm:
        return warm(args.work)
    data = {}
    for name, (db_name, gold_name, source, target) in GOLDS.items():
        db = open_db(args.work / db_name, migrate=False)
        gold = _read(db, args.work / gold_name, source, target, None, None)
        keys = gold.keys if name != "onet" else sorted(random.Random(0).sample(gold.keys, 3000))
        ranked = rank_candidates([gold.docs[k] for k in keys], gold.targets, top=10, encoder=lazy_encoder(),
                                 cache=EmbeddingCache(db, readonly=True), with_evidence=False)
        rows = []
        for k, cands in zip(keys, ranked):
            for c in cands:
                rows.append((c.score, c.rank, c.confidence, c.target_key in gold.truth[k]))
        data[name] = rows
        for band in ("high", "medium", "low"):
            picked = [r for r in rows if r[2] == band]
            right = sum(r[3] for r in picked)
            print(f"{name:5} {band:7} {len(picked):6} suggestions, {right / len(picked) if picked else 0:.3f} right")
        top5 = [r for r in rows if r[1] <= 5 and r[3]]
        print(f"{name:5} right suggestions in the top 5 that are medium or high: "
              f"{sum(r[2] != 'low' for r in top5)} of {len(top5)}")
    print(f"shipped: {GOLD_CALIBRATION}", file=sys.stderr)


def _fit(x, y):
    def loss(theta):
        z = theta[0] * x + theta[1]
        g = 1.0 / (1.0 + np.exp(-z)) - y
        return float((np.logaddexp(0, z) - y * z).mean()), np.array([(g * x).mean(), g.mean()])

    return minimize(loss, np.array([1.0, 0.0]), jac=True, method="L-BFGS-B", bounds=[(1e-3, None), (None, None)]).x


def warm(work):
    for name, (db_name, gold_name, source, target) in GOLDS.items():
        db = open_db(work / db_name, migrate=False)
        gold = _read(db, work / gold_name, source, target, None, None)
        keys = gold.keys if name != "onet" else sorted(random.Random(0).sample(gold.keys, 4000))
        encoder, cache = lazy_encoder(), EmbeddingCache(db, readonly=True)
        first = rank_candidates([gold.docs[k] for k in keys], gold.targets, top=5, encoder=encoder, cache=cache,
                                with_evidence=False)
        shown = {k: [c.target_key for c in cands] for k, cands in zip(keys, first)}
        pairs = []  # (decisions, raw warm probability, shipped probability, right)
        for seed in (0, 1, 2):
            order = keys[:]
            random.Random(seed).shuffle(order)
            held, pool = order[: 100 if name == "ngss" else 400], order[100 if name == "ngss" else 400:]
            for n in (10, 25):
                made = committee_decisions(gold, pool[:n], shown, random.Random(seed + 1))
                ranking = _Ranking([gold.docs[k] for k in held], gold.targets, top=10, decisions=made,
                                   encoder=encoder, cache=cache, settings=DEFAULT, with_evidence=False)
                if not ranking.used or ranking.learned.calibration is not None:
                    continue
                i = 0
                for chunk in ranking.chunks():
                    for start in range(0, len(chunk.cols), chunk.per_row):
                        truth = gold.truth[held[i]]
                        i += 1
                        for j in range(start, start + chunk.per_row):
                            if chunk.keep[j]:
                                shipped = chunk.scores[j] / 100
                                raw = _inverse(shipped)
                                pairs.append((n, raw, shipped, chunk.target_keys[j] in truth))
        raw = np.array([p[1] for p in pairs])
        right = np.array([p[3] for p in pairs], float)
        slope, intercept = _fit(_logit(raw), right)
        print(f"{name:5} warm curve: slope {slope:.3f}, intercept {intercept:.3f} ({len(pairs)} pairs)")
        for n in (10, 25):
            rows = [p for p in pairs if p[0] == n]
            bands = confidence_bands(100 * np.array([p[2] for p in rows]))
            for band in ("high", "medium"):
                picked = [r for r, b in zip(rows, bands) if b == band]
                share = sum(r[3] for r in picked) / len(picked) if picked else float("nan")
                print(f"{name:5} N={n:<3} {band:7} {len(picked):6} suggestions, {share:.3f} right")
    print(f"shipped: {GOLD_WARM_CALIBRATION}", file=sys.stderr)


def _inverse(q):
    """The raw warm probability whose shipped figure is ``q`` (bisection on the monotone map)."""
    lo, hi = 1e-6, 1 - 1e-6
    for _ in range(50):
        mid = (lo + hi) / 2
        if GOLD_WARM_CALIBRATION(np.array([mid]))[0] < q:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


if __name__ == "__main__":
    main()
