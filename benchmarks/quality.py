"""Match quality on three real gold crosswalks, cold and in the committee's regime, in one run.

    benchmarks/quality DATASETS_DIR [--work DIR] [--golds onet,cip,ngss] [--seeds 0,1,2,3] [--skip-baselines]

DATASETS_DIR holds onet-29.3/, cip2020-soc2018/, ngss/ and ccss/ (see data/README.md). For each
gold, with the project's own `crosswalk eval`:

* cold (no decisions), every statement of the gold: crosswalk with embeddings and lexical only,
  beside rapidfuzz token_set_ratio (what a user would reach for);
* the committee's learning curve (`--decisions`): a simulated committee reviews N statements
  (sees each one's top 5, accepts the gold among them, rejects the rest, adds one gold standard
  where none was shown), then held-out statements are ranked with those decisions; beside the two
  popularity baselines under the same protocol (the standards accepted most often, overall and
  within the statement's grade band), and the collapse (share of held-out first suggestions going
  to an accepted standard, less the share of held-out statements whose gold has one); and the
  same hit@1 and collapse "by score": for each statement's highest-scored suggestion, which lists
  sorted by score across statements (the review queue) show first;
* 5-fold cross-validation (80% of the answers known), beside the same two baselines;
* the learning curve again with other committees (`--seeds`, default 0-3: `--seed` draws other
  statements to review and to hold out): hit@5 at each N beside cold's, the points where the
  committee's decisions rank below cold marked, so that "warm never ranks below cold" is judged on
  more than one draw.

1. O*NET 29.3 Tasks → DWAs (the gold the cold weights were tuned on): 18,495 tasks, 2,087 DWAs.
2. CIP 2020 programs → SOC occupations (never tuned on).
3. NGSS performance expectations → CCSS math and ELA, the NGSS writers' "Connections to Common
   Core" (never tuned on; cross-domain, the closest public analogue of CTE → academic).

Writes one table per gold to benchmarks/results/quality.md, and the JSON reports to quality.json.
"""

import argparse
import json
import os
import pathlib
import platform
import subprocess
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from cip_setup import build as build_cip  # noqa: E402
from ngss_setup import SOURCE as NGSS_SOURCE, TARGET as NGSS_TARGET, build as build_ngss  # noqa: E402
from onet_setup import build as build_onet  # noqa: E402

# 3 and 5: a committee's first decisions, the regime of the demo's programs, where a few decisions
# once lifted the accepted standards above every statement's own.
CURVE = (0, 3, 5, 10, 25, 50, 100, 200)


def crosswalk_eval(db, gold, source, target, *extra):
    cmd = [sys.executable, "-m", "crosswalk.cli", "eval", str(db), "--gold", str(gold),
           "--from", source, "--to", target, "--json", "--silent", *extra]
    start = time.perf_counter()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    report = json.loads(out)
    report["seconds"] = round(time.perf_counter() - start, 1)
    return report


def rapidfuzz_baseline(db_path, gold_path, source, target, scorer_name="token_set_ratio"):
    """What a user would do: rank targets by a rapidfuzz scorer (cdist, both cores)."""
    import numpy as np
    from rapidfuzz import fuzz, process, utils

    from crosswalk.db import open_db
    from crosswalk.evaluate import _ranking_metrics, _read

    db = open_db(db_path, migrate=False)
    gold = _read(db, gold_path, source, target, None, None)
    keys = gold.keys
    texts = [t.text for t in gold.targets]
    scorer = getattr(fuzz, scorer_name)
    start = time.perf_counter()
    ranked = {}
    for i in range(0, len(keys), 2000):
        part = keys[i:i + 2000]
        scores = process.cdist([gold.docs[k].text for k in part], texts, scorer=scorer,
                               processor=utils.default_process, workers=-1, dtype=np.float32)
        order = np.argsort(-scores, axis=1, kind="stable")[:, :100]
        for row, k in enumerate(part):
            ranked[k] = [gold.targets[c].key for c in order[row]]
    m = _ranking_metrics(ranked, gold.truth)
    return dict(m, sources=len(keys), seconds=round(time.perf_counter() - start, 1))


def _band(bands, name):
    b = bands.get(name) or {}
    return f"{b['precision']:.2f} ({b['suggestions']})" if b.get("suggestions") else "–"


def gold_table(name, runs) -> list[str]:
    lines = [f"### {name}", "",
             "| method | decisions | statements ranked | hit@1 | hit@5 | hit@10 | MRR | collapse (excess) "
             "| by score: hit@1, collapse (excess) "
             "| high: precision (n) | medium: precision (n) | seconds |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for label, r in runs:
        lines.append(
            f"| {label} | {r.get('decisions', '–')} | {r.get('sources', '–')} | {r['hit_at_1']:.3f} | "
            f"{r['hit_at_5']:.3f} | {r['hit_at_10']:.3f} | {r['mrr']:.3f} | {r.get('collapse', '–')} | "
            f"{r.get('by_score', '–')} | "
            f"{_band(r.get('bands', {}), 'high')} | {_band(r.get('bands', {}), 'medium')} | {r.get('seconds', '–')} |")
    return lines + [""]


def seeds_table(curves: dict) -> list[str]:
    """hit@5 per seed and N; * where the committee's decisions rank below cold (N = 0) on that seed."""
    sizes = [p["decisions"] for p in next(iter(curves.values()))["points"]]
    lines = ["Learning curve on other committees (hit@5; * below cold, N = 0, of the same seed):", "",
             "| seed | " + " | ".join(f"N = {n}" for n in sizes) + " |",
             "|---|" + "---|" * len(sizes)]
    below, shortfall = 0, 0.0
    for seed, c in curves.items():
        cold = c["points"][0]["hit_at_5"]
        cells = []
        for p in c["points"]:
            mark = "*" if p["hit_at_5"] < cold - 1e-9 else ""
            below += bool(mark)
            shortfall += max(0.0, cold - p["hit_at_5"])
            cells.append(f"{p['hit_at_5']:.3f}{mark}")
        lines.append(f"| {seed} | " + " | ".join(cells) + " |")
    points = len(curves) * (len(sizes) - 1)
    return lines + ["", f"Below cold: {below} of {points} points, summed shortfall {shortfall:.3f}.", ""]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("datasets", type=pathlib.Path)
    parser.add_argument("--work", type=pathlib.Path, default=HERE / "results" / "tmp")
    parser.add_argument("--golds", default="onet,cip,ngss")
    parser.add_argument("--skip-baselines", action="store_true")
    parser.add_argument("--seeds", default="0,1,2,3", help="committees (eval --seed) for the curve across seeds")
    args = parser.parse_args()
    suites = {
        "onet": ("O*NET tasks → DWAs", build_onet, "O*NET tasks", "O*NET DWAs", CURVE, None),
        "cip": ("CIP programs → SOC occupations", build_cip, "CIP 2020 programs", "SOC occupations", CURVE, None),
        # 203 PEs: 100 held out, so a committee can review at most 103.
        "ngss": ("NGSS performance expectations → CCSS math and ELA", build_ngss, NGSS_SOURCE, NGSS_TARGET,
                 (0, 3, 5, 10, 25, 50, 100), 100),
    }
    lines = [f"Machine: {os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}; "
             f"{time.strftime('%Y-%m-%d')}. Command: `benchmarks/quality DATASETS_DIR`.", ""]
    reports = []
    for key in args.golds.split(","):
        name, build, source, target, curve, held_out = suites[key]
        db, gold = build(args.datasets, args.work)
        runs = []
        if not args.skip_baselines:
            runs.append(("rapidfuzz token_set_ratio (cold)", rapidfuzz_baseline(db, gold, source, target)))
        for label, extra in (("crosswalk cold, lexical", ["--no-embeddings"]), ("crosswalk cold", [])):
            r = crosswalk_eval(db, gold, source, target, *extra)
            runs.append((label, r))
        extra = ["--decisions", ",".join(map(str, curve))] + (["--held-out", str(held_out)] if held_out else [])
        c = crosswalk_eval(db, gold, source, target, *extra)
        for p in c["points"]:
            p = dict(p, sources=c["held_out"], collapse=f"{p['collapse']:.2f} ({p['excess_collapse']:+.2f})",
                     by_score=f"{p['hit_at_1_by_score']:.3f}, {p['collapse_by_score']:.2f} "
                            f"({p['excess_collapse_by_score']:+.2f})")
            runs.append(("crosswalk, committee's decisions", p))
            for base, m in p["baselines"].items():
                runs.append((f"baseline: {base}", dict(m, decisions=p["decisions"], sources=c["held_out"])))
        f = crosswalk_eval(db, gold, source, target, "--folds", "5")
        runs.append(("crosswalk, 5-fold", dict(f, decisions="5-fold")))
        for base, m in f.get("baselines", {}).items():
            runs.append((f"baseline: {base}, 5-fold", dict(m, decisions="5-fold", sources=f["sources"])))
        table = gold_table(name, runs)
        curves = {}
        for seed in [int(x) for x in args.seeds.split(",") if x.strip()]:
            curves[seed] = c if seed == 0 else crosswalk_eval(db, gold, source, target, *extra, "--seed", str(seed))
        if curves:
            table += seeds_table(curves)
        print("\n".join(table), flush=True)
        lines += table
        reports.append(dict(gold=name, runs=[dict(label=label, **r) for label, r in runs],
                            seeds={str(seed): curve["points"] for seed, curve in curves.items()}))
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / "quality.md").write_text("\n".join(lines) + "\n")
    (out / "quality.json").write_text(json.dumps(reports, indent=2))


if __name__ == "__main__":
    main()
