"""Match quality on real gold crosswalks, in one run.

    benchmarks/quality DATASETS_DIR [--work DIR] [--skip-baselines]

DATASETS_DIR holds onet-29.3/ and cip2020-soc2018/ (see data/README.md). Measures, with the
project's own `crosswalk eval`:

1. O*NET 29.3 Tasks → DWAs (tuning gold): all 18,495 tasks that have published links, against
   all 2,087 DWAs; cold lexical, cold hybrid (TF-IDF + MiniLM), warm 5-fold; plus the rapidfuzz
   baselines a user might reach for.
2. CIP 2020 programs → SOC occupations (check gold, not tuned on): same methods.

Prints a Markdown table and writes it, with the JSON reports, to benchmarks/results/.
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
from onet_setup import build as build_onet  # noqa: E402


def crosswalk_eval(db, gold, source, target, *extra):
    cmd = [sys.executable, "-m", "crosswalk.cli", "eval", str(db), "--gold", str(gold),
           "--from", source, "--to", target, "--json", "--silent", *extra]
    start = time.perf_counter()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    report = json.loads(out)
    report["seconds"] = round(time.perf_counter() - start, 1)
    return report


def rapidfuzz_baseline(db_path, gold_path, source, target, scorer_name):
    """What a user would do: rank targets by a rapidfuzz scorer (cdist, both cores)."""
    import numpy as np
    from rapidfuzz import fuzz, process, utils

    from crosswalk.db import open_db
    from crosswalk.evaluate import _metrics, read_gold
    from crosswalk.matching import Candidate, framework_id

    db = open_db(db_path, migrate=False)
    src = {r["code"]: r for r in db.query(
        "select id, code, statement from standards where framework_id = ?", [framework_id(db, source)])}
    tgt = list(db.query("select id, code, statement from standards where framework_id = ?",
                        [framework_id(db, target)]))
    by_code = {t["code"]: t for t in tgt}
    truth = {}
    for s, t in read_gold(gold_path):
        if s in src and t in by_code:
            truth.setdefault(src[s]["id"], set()).add(by_code[t]["id"])
    keys = sorted(truth)
    texts = {r["id"]: r["statement"] for r in src.values()}
    scorer = getattr(fuzz, scorer_name)
    start = time.perf_counter()
    ranked = {}
    for i in range(0, len(keys), 2000):
        part = keys[i:i + 2000]
        scores = process.cdist([texts[k] for k in part], [t["statement"] for t in tgt], scorer=scorer,
                               processor=utils.default_process, workers=-1, dtype=np.float32)
        order = np.argsort(-scores, axis=1)[:, :100]
        for row, k in enumerate(part):
            ranked[k] = [Candidate(k, tgt[c]["id"], float(scores[row, c]), r, "low", "", scorer_name)
                         for r, c in enumerate(order[row], 1)]
    m = _metrics(ranked, truth, 10)
    n = m["n"]
    return dict(method=f"rapidfuzz {scorer_name}", hit_at_1=m["hits"][1] / n, hit_at_5=m["hits"][5] / n,
                hit_at_10=m["hits"][10] / n, recall_at_10=m["recall_sum"] / n, mrr=m["rr_sum"] / n,
                sources=n, folds=0, seconds=round(time.perf_counter() - start, 1))


def row(name, r):
    return (f"| {name} | {r['method']} | {r.get('folds') or '–'} | {r['sources']} | {r['hit_at_1']:.3f} | "
            f"{r['hit_at_5']:.3f} | {r['hit_at_10']:.3f} | {r['recall_at_10']:.3f} | {r['mrr']:.3f} | "
            f"{r.get('confident_precision', float('nan')):.3f} | {r['seconds']} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("datasets", type=pathlib.Path)
    parser.add_argument("--work", type=pathlib.Path, default=HERE / "results" / "tmp")
    parser.add_argument("--skip-baselines", action="store_true")
    args = parser.parse_args()
    onet_db, onet_gold = build_onet(args.datasets, args.work)
    cip_db, cip_gold = build_cip(args.datasets, args.work)
    suites = [
        ("O*NET tasks → DWAs", onet_db, onet_gold, "O*NET tasks", "O*NET DWAs"),
        ("CIP programs → SOC occupations", cip_db, cip_gold, "CIP 2020 programs", "SOC occupations"),
    ]
    lines = [
        f"Machine: {os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}; "
        f"{time.strftime('%Y-%m-%d')}",
        "",
        "| gold | method | folds | sources | hit@1 | hit@5 | hit@10 | recall@10 | MRR | high-band precision | seconds |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    reports = []
    for name, db, gold, source, target in suites:
        runs = []
        if not args.skip_baselines:
            for scorer in ("token_set_ratio",):
                runs.append(rapidfuzz_baseline(db, gold, source, target, scorer))
        runs.append(crosswalk_eval(db, gold, source, target, "--no-embeddings"))
        runs.append(crosswalk_eval(db, gold, source, target))
        runs.append(crosswalk_eval(db, gold, source, target, "--folds", "5", "--no-embeddings"))
        runs.append(crosswalk_eval(db, gold, source, target, "--folds", "5"))
        for r in runs:
            lines.append(row(name, r))
            print(lines[-1], flush=True)
            reports.append(dict(gold=name, **r))
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / "quality.md").write_text("\n".join(lines) + "\n")
    (out / "quality.json").write_text(json.dumps(reports, indent=2))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
