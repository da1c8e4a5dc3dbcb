"""The cold calibration, measured on the three gold crosswalks (see crosswalk/matching/learning.py).

    python benchmarks/calibrate.py [--work DIR]

Uses the databases `benchmarks/quality` builds in its work folder. For every gold, ranks each
statement's top 10 cold (3,000 seeded O*NET tasks; every CIP program and NGSS expectation) and
fits P(right) = logistic(slope x similarity + bonus x [the statement's one best match] + intercept),
each gold weighing the same; then prints, per gold, how many suggestions each band holds and how
many of them are right with the calibration crosswalk ships (GOLD_CALIBRATION).
"""

import argparse
import pathlib
import random
import sys


from crosswalk.db import open_db
from crosswalk.evaluate import _read
from crosswalk.matching import EmbeddingCache, lazy_encoder, rank_candidates
from crosswalk.matching.learning import GOLD_CALIBRATION

HERE = pathlib.Path(__file__).resolve().parent
GOLDS = {
    "onet": ("onet.db", "tasks_to_dwas.csv", "O*NET tasks", "O*NET DWAs"),
    "cip": ("cip.db", "cip_to_soc.csv", "CIP 2020 programs", "SOC occupations"),
    "ngss": ("ngss.db", "ngss_to_ccss.csv", "NGSS performance expectations", "CCSS math and ELA"),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=pathlib.Path, default=HERE / "results" / "tmp")
    args = parser.parse_args()
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


if __name__ == "__main__":
    main()
