"""Speed and memory of `crosswalk match`, import and publish, against what a user would do instead.

    benchmarks/run DATASETS_DIR [--repeat 3] [--parts match,growth,profile,import,publish,review,load]

Workloads (DATASETS_DIR/onet-29.3 and the demo's academic standards in data/):

* O*NET 29.3 task statements (1,000 / 2,500 / 5,000 / 10,000 seeded, nested samples and all 18,796)
  against all 2,087 DWAs (gold: O*NET's Tasks to DWAs) and against the demo's academic standards
  (CCSS math + CCSS ELA + NGSS, 1,744 standards in three frameworks: three `crosswalk match` runs,
  as a user would type them).
* `crosswalk match` end to end as a user runs it (the CLI in a subprocess): from nothing (a fresh copy
  of the database, empty embedding cache), again with embeddings cached (a re-run: suggestions that
  did not change are not rewritten), again after deleting every suggestion (embeddings cached, all
  written anew), lexical only, and with embeddings once more (most suggestions replaced: the worst
  case of a re-run).
* The alternatives: a Python loop of rapidfuzz `token_set_ratio`, a SQLite cross join with the
  same scorer registered as an SQL function, and rapidfuzz `process.cdist(workers=-1)`; each keeps
  the top 10 per task, on a named subset; pairs/s is extrapolated to the full size.

Every timing is repeated --repeat times (median reported); runs "from nothing" (a fresh copy of the
database) --repeat-cold times at the headline sizes and once at the other growth sizes (each table
row says how many runs it has). Results go to
benchmarks/results/speed.md and speed.json; set-up artefacts to benchmarks/results/tmp/.
"""

import argparse
import csv
import heapq
import json
import math
import pathlib
import random
import sqlite3
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from benchlib import (CROSSWALK, REPO, fmt_rate, fmt_s, fresh_copy, loadavg, machine,  # noqa: E402
                      machine_line, measure, median)

FULL = "O*NET tasks"
DWAS = "O*NET DWAs"
SIZES = (1000, 2500, 5000, 10000)
TOP = 10
ACADEMIC = [
    ("ccss_math.csv", "Maine Learning Results: Mathematics (CCSS)", "Math"),
    ("ccss_ela.csv", "Maine Learning Results: ELA and Literacy (CCSS)", "ELA"),
    ("ngss.csv", "Maine Learning Results: Science and Engineering (NGSS)", "Science"),
]
ACADEMIC_NAMES = [name for _, name, _ in ACADEMIC]
LOOP_SUBSET = 1000   # tasks for the Python loop and cdist
SQL_SUBSET = 200     # tasks for the SQLite cross join
SETUP_VERSION = 1


def sample_name(n: int) -> str:
    return f"O*NET tasks ({n:,} sample)"


def source_name(n: int | None) -> str:
    return FULL if n is None else sample_name(n)


# ---------------------------------------------------------------- set-up

def setup(datasets: pathlib.Path, work: pathlib.Path) -> dict:
    """The base database (no alignments, no embeddings) and the gold, built once and cached."""
    from onet_setup import build as build_onet

    from crosswalk.db import open_db
    from crosswalk.importer import import_file

    onet_db, gold = build_onet(datasets, work)
    base = work / f"speed_base_v{SETUP_VERSION}.db"
    if not base.exists():
        start = time.perf_counter()
        tmp = fresh_copy(onet_db, work / "speed_base.partial.db")
        db = open_db(tmp)
        db.execute("delete from embeddings")
        tasks = list(db.query(
            "select s.code, s.statement, s.domain from standards s join frameworks f on f.id = s.framework_id "
            "where f.name = ? and s.status = 'active' order by s.position", [FULL]))
        order = list(range(len(tasks)))
        random.Random(7).shuffle(order)  # nested samples: each size is a prefix of the next
        for n in SIZES:
            path = work / f"tasks_{n}.csv"
            with open(path, "w", newline="") as fh:
                w = csv.writer(fh)
                w.writerow(["code", "statement", "domain"])
                for i in order[:n]:
                    w.writerow([tasks[i]["code"], tasks[i]["statement"], tasks[i]["domain"]])
            import_file(db, path, framework=sample_name(n), kind="industry",
                        columns={"code": "code", "statement": "statement", "domain": "domain"})
        for file, name, subject in ACADEMIC:
            import_file(db, REPO / "data" / file, framework=name, kind="academic", subject=subject)
        db.conn.commit()
        db.execute("vacuum")
        db.close()
        tmp.rename(base)
        print(f"set-up: base database built in {time.perf_counter() - start:.0f} s", file=sys.stderr)
    return dict(base=base, gold=gold, onet=onet_db)


def read_gold(gold: pathlib.Path) -> dict[str, set[str]]:
    truth: dict[str, set[str]] = {}
    with open(gold, newline="") as fh:
        for row in csv.DictReader(fh):
            truth.setdefault(row["source_code"], set()).add(row["target_code"])
    return truth


def framework_size(db_path, name) -> int:
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    n = conn.execute("select count(*) from standards s join frameworks f on f.id = s.framework_id "
                     "where f.name = ? and s.status = 'active'", [name]).fetchone()[0]
    conn.close()
    return n


def source_codes(db_path, name, limit=None) -> list[str]:
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    sql = ("select s.code from standards s join frameworks f on f.id = s.framework_id "
           "where f.name = ? and s.status = 'active' order by s.position")
    rows = conn.execute(sql + (f" limit {int(limit)}" if limit else ""), [name]).fetchall()
    conn.close()
    return [r[0] for r in rows]


def crosswalk_ranked(db_path, source) -> dict[str, list[str]]:
    """The suggestions `crosswalk match` wrote: source code -> target codes by rank."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    rows = conn.execute("""
        select s.code, t.code from alignments a
        join standards s on s.id = a.source_id join frameworks f on f.id = s.framework_id
        join standards t on t.id = a.target_id
        where f.name = ? order by s.code, a.rank""", [source]).fetchall()
    conn.close()
    ranked: dict[str, list[str]] = {}
    for s, t in rows:
        ranked.setdefault(s, []).append(t)
    return ranked


def hit_at(ranked: dict[str, list[str]], truth: dict[str, set[str]], codes, k=5) -> tuple[float, int]:
    judged = [c for c in codes if c in truth]
    if not judged:
        return float("nan"), 0
    hits = sum(1 for c in judged if truth[c] & set(ranked.get(c, [])[:k]))
    return hits / len(judged), len(judged)


# ---------------------------------------------------------------- crosswalk match, as a user runs it

def crosswalk_match(db, source, targets, *extra, top=TOP) -> dict:
    runs = [measure([*CROSSWALK, "match", db, "--from", source, "--to", t, "--top", top, "--silent", *extra])
            for t in targets]
    return dict(seconds=sum(r["seconds"] for r in runs), peak_mb=max(r["peak_mb"] for r in runs),
                load1=runs[0]["load1"])


MODE_LABELS = dict(cold="from nothing", cached="embeddings cached, re-run",
                   rewritten="embeddings cached, every suggestion written anew",
                   updated="embeddings cached, re-run after --no-embeddings: most suggestions replaced",
                   lexical="--no-embeddings")


def run_modes(base, work, source, targets, truth, cold: bool, tag: str) -> dict:
    """One repetition, each run on the database the one before left:
    (fresh copy →) from nothing; re-run (nothing changed since the last run with embeddings: every
    pair is scored again, no suggestion needs writing); every suggestion deleted, then a run that
    writes them all anew; lexical only; a run with embeddings again, after which most suggestions
    change (deleted and inserted, or updated in place). hit@5 of each mode."""
    db = work / f"run_{tag}.db"
    out = {}
    if cold:
        fresh_copy(base, db)
        out["cold"] = crosswalk_match(db, source, targets)
    elif not db.exists():
        raise RuntimeError(f"{db.name} missing: a cached run needs a cold run first")
    out["cached"] = crosswalk_match(db, source, targets)
    if truth is not None:
        out["cached"]["ranked"] = crosswalk_ranked(db, source)
    with sqlite3.connect(db) as conn:
        conn.execute("delete from alignments where status = 'suggested'")
    conn.close()
    out["rewritten"] = crosswalk_match(db, source, targets)
    if truth is not None:
        out["rewritten"]["ranked"] = crosswalk_ranked(db, source)
    out["lexical"] = crosswalk_match(db, source, targets, "--no-embeddings")
    if truth is not None:
        out["lexical"]["ranked"] = crosswalk_ranked(db, source)
    out["updated"] = crosswalk_match(db, source, targets)
    if truth is not None:
        out["updated"]["ranked"] = crosswalk_ranked(db, source)
    out["db"] = db
    return out


# ---------------------------------------------------------------- the alternatives (run as `speed.py alt ...`)

def _load_texts(db_path, source, targets, limit):
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    src = conn.execute(
        "select s.id, s.code, s.statement from standards s join frameworks f on f.id = s.framework_id "
        "where f.name = ? and s.status = 'active' order by s.position limit ?", [source, limit]).fetchall()
    tgt = conn.execute(
        f"select s.id, s.code, s.statement from standards s join frameworks f on f.id = s.framework_id "
        f"where f.name in ({','.join('?' * len(targets))}) and s.status = 'active' order by s.id",
        targets).fetchall()
    return conn, src, tgt


def alt_main(argv):
    """What a user would write instead; prints JSON {seconds, pairs, ranked} (seconds exclude start-up)."""
    method, db_path, source, targets_json, limit = argv
    targets, limit = json.loads(targets_json), int(limit)
    from rapidfuzz import fuzz, process, utils
    conn, src, tgt = _load_texts(db_path, source, targets, limit)
    start = time.perf_counter()
    ranked = {}
    if method == "loop":
        for _, scode, stext in src:
            best = heapq.nlargest(TOP, ((fuzz.token_set_ratio(stext, ttext, processor=utils.default_process), tcode)
                                        for _, tcode, ttext in tgt))
            ranked[scode] = [c for _, c in best]
    elif method == "cdist":
        import numpy as np
        tcodes = [t[1] for t in tgt]
        for i in range(0, len(src), 2000):
            part = src[i:i + 2000]
            scores = process.cdist([s[2] for s in part], [t[2] for t in tgt], scorer=fuzz.token_set_ratio,
                                   processor=utils.default_process, workers=-1, dtype=np.float32)
            top = np.argpartition(-scores, TOP, axis=1)[:, :TOP]
            for row, s in enumerate(part):
                idx = top[row][np.argsort(-scores[row, top[row]], kind="stable")]
                ranked[s[1]] = [tcodes[j] for j in idx]
    elif method == "sql":
        # as a Datasette user with a fuzzy-matching plugin would: the scorer as an SQL function
        conn.create_function("token_set_ratio", 2,
                             lambda a, b: fuzz.token_set_ratio(a, b, processor=utils.default_process),
                             deterministic=True)
        conn.execute("create temp table src as select id from standards where 0")
        conn.executemany("insert into temp.src values (?)", [(s[0],) for s in src])
        conn.execute("create temp table tgt as select id from standards where 0")
        conn.executemany("insert into temp.tgt values (?)", [(t[0],) for t in tgt])
        rows = conn.execute("""
            with pairs as (
              select s.code as scode, t.code as tcode, token_set_ratio(s.statement, t.statement) as score
              from temp.src ss cross join temp.tgt tt
              join standards s on s.id = ss.id join standards t on t.id = tt.id),
            ranked as (select *, row_number() over (partition by scode order by score desc) as rk from pairs)
            select scode, tcode from ranked where rk <= ? order by scode, rk""", [TOP]).fetchall()
        for scode, tcode in rows:
            ranked.setdefault(scode, []).append(tcode)
    else:
        raise SystemExit(f"unknown method {method}")
    seconds = time.perf_counter() - start
    print(json.dumps(dict(seconds=seconds, pairs=len(src) * len(tgt), ranked=ranked)))


def alternative(method, db, source, targets, limit) -> dict:
    r = measure([sys.executable, HERE / "speed.py", "alt", method, db, source, json.dumps(targets), limit])
    data = json.loads(r["stdout"])
    return dict(wall=r["seconds"], seconds=data["seconds"], pairs=data["pairs"], peak_mb=r["peak_mb"],
                load1=r["load1"], ranked=data["ranked"])


# ---------------------------------------------------------------- parts

def part_match(ctx) -> dict:
    """Side by side: crosswalk (full size and the 1,000 subset) versus the alternatives."""
    base, work, truth, repeat = ctx["base"], ctx["work"], ctx["truth"], ctx["repeat"]
    workloads = [("tasks → DWAs", [DWAS], truth), ("tasks → academic (CCSS math + ELA + NGSS)", ACADEMIC_NAMES, None)]
    results = []
    for wname, targets, gold in workloads:
        n_targets = sum(framework_size(base, t) for t in targets)
        n_full = framework_size(base, FULL)
        full_pairs = n_full * n_targets
        rows = []
        sub = sample_name(LOOP_SUBSET)
        sub_codes = source_codes(base, sub)
        sql_codes = source_codes(base, sub, SQL_SUBSET)
        # crosswalk: full size and the 1,000 subset, every mode, `repeat` times
        for size in (None, LOOP_SUBSET):
            source = source_name(size)
            n = n_full if size is None else size
            reps = []
            for r in range(repeat):
                print(f"[match] {wname} {source} rep {r + 1}/{repeat} (load {loadavg()})", file=sys.stderr, flush=True)
                reps.append(run_modes(base, work, source, targets, gold, cold=r < ctx["repeat_cold"],
                                      tag=f"m_{len(targets)}_{n}"))
            ctx.setdefault("match_reps", {})[(wname, size)] = reps
            if size is None:
                ctx.setdefault("full_dbs", {})[wname] = reps[-1]["db"]
            for mode in ("cold", "cached", "rewritten", "updated", "lexical"):
                mreps = [x for x in reps if mode in x]
                secs = median([x[mode]["seconds"] for x in mreps])
                q = hit_at(reps[0][mode]["ranked"], gold, sub_codes if size else list(gold)) if gold and mode != "cold" else (float("nan"), 0)
                if gold and mode == "cold":
                    q = hit_at(reps[0]["cached"]["ranked"], gold, sub_codes if size else list(gold))
                q_sql = hit_at(reps[0][mode if mode != "cold" else "cached"]["ranked"], gold, sql_codes) if gold and size else (float("nan"), 0)
                rows.append(dict(
                    method=f"crosswalk match ({MODE_LABELS[mode]})",
                    subset=f"{n:,} tasks", sources=n, pairs=n * n_targets, runs=len(mreps), seconds=secs,
                    pairs_per_s=n * n_targets / secs, est_full_s=secs if size is None else float("nan"),
                    peak_mb=median([x[mode]["peak_mb"] for x in mreps]), hit5=q[0], judged=q[1], hit5_sql_subset=q_sql[0],
                    load1=median([x[mode]["load1"] for x in mreps]), kind="crosswalk", mode=mode, full=size is None))
        # alternatives on named subsets
        for method, limit, label in (("loop", LOOP_SUBSET, "rapidfuzz Python loop (token_set_ratio)"),
                                     ("sql", SQL_SUBSET, "SQLite cross join + token_set_ratio SQL function"),
                                     ("cdist", LOOP_SUBSET, "rapidfuzz process.cdist(workers=-1)")):
            reps = []
            for r in range(repeat):
                print(f"[match] {wname} alternative {method} rep {r + 1}/{repeat} (load {loadavg()})", file=sys.stderr, flush=True)
                reps.append(alternative(method, base, sub, targets, limit))
            secs = median([x["wall"] for x in reps])
            compute = median([x["seconds"] for x in reps])
            pairs = reps[0]["pairs"]
            rate = pairs / compute
            q = hit_at(reps[0]["ranked"], gold, sub_codes[:limit]) if gold else (float("nan"), 0)
            rows.append(dict(method=label, subset=(f"the {limit:,}-task sample" if limit == LOOP_SUBSET
                                     else f"first {limit:,} of the {LOOP_SUBSET:,}-task sample"), sources=limit,
                             pairs=pairs, runs=len(reps), seconds=secs, compute_seconds=compute, pairs_per_s=rate,
                             est_full_s=full_pairs / rate, peak_mb=median([x["peak_mb"] for x in reps]),
                             hit5=q[0], judged=q[1], load1=median([x["load1"] for x in reps]), kind="alternative",
                             method_key=method))
        results.append(dict(workload=wname, targets=n_targets, full_sources=n_full, full_pairs=full_pairs, rows=rows))
    return dict(workloads=results)


def part_growth(ctx) -> dict:
    """Time and peak memory against the number of source statements (tasks → DWAs)."""
    base, work, repeat = ctx["base"], ctx["work"], ctx["repeat"]
    n_targets = framework_size(base, DWAS)
    rows = []
    for size in (*SIZES, None):
        source = source_name(size)
        n = framework_size(base, source)
        reps = ctx.get("match_reps", {}).get(("tasks → DWAs", size), [])
        earlier = _earlier_match(ctx, n) if not reps else None
        if earlier:
            rows.append(dict(sources=n, pairs=n * n_targets, **earlier))
            continue
        for r in range(0 if reps else repeat):
            cold = r < min(1, ctx["repeat_cold"])
            print(f"[growth] {source} rep {r + 1}/{repeat} (load {loadavg()})", file=sys.stderr, flush=True)
            reps.append(run_modes(base, work, source, [DWAS], None, cold=cold, tag=f"g_{n}"))
        row = dict(sources=n, pairs=n * n_targets)
        for mode in ("cold", "cached", "lexical"):
            vals = [x[mode] for x in reps if mode in x]
            row[mode] = dict(seconds=median([v["seconds"] for v in vals]), peak_mb=median([v["peak_mb"] for v in vals]),
                             runs=len(vals), load1=median([v["load1"] for v in vals]))
        rows.append(row)
    # power-law exponent between smallest and largest size: 1.0 = linear
    a, b = rows[0], rows[-1]
    ratio = math.log(b["sources"] / a["sources"])
    slopes = {m: math.log(b[m]["seconds"] / a[m]["seconds"]) / ratio for m in ("cold", "cached", "lexical")}
    # memory: marginal MB per 1,000 sources (least squares) over the fixed start-up footprint
    mem = {}
    for m in ("cold", "cached", "lexical"):
        xs = [r["sources"] for r in rows]
        ys = [r[m]["peak_mb"] for r in rows]
        mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
        slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
        mem[m] = dict(mb_per_1000=slope * 1000, intercept_mb=my - slope * mx)
    return dict(targets=n_targets, rows=rows, time_exponent=slopes, memory_fit=mem)


def _earlier_match(ctx, n) -> dict | None:
    """The match part's tasks → DWAs rows for n tasks, from this run or the saved speed.json."""
    for w in ctx.get("results", {}).get("match", {}).get("workloads", []):
        if w["workload"] != "tasks → DWAs":
            continue
        found = {r["mode"]: dict(seconds=r["seconds"], peak_mb=r["peak_mb"], runs=r["runs"], load1=r["load1"])
                 for r in w["rows"] if r["kind"] == "crosswalk" and r["sources"] == n}
        if len(found) == 3:
            return found
    return None


def part_profile(ctx) -> dict:
    """cProfile of `crosswalk match` at the full size (from nothing and cached), summarised."""
    import pstats
    base, work = ctx["base"], ctx["work"]
    db = fresh_copy(base, work / "profile.db")
    out = {}
    for mode in ("cold", "cached"):
        prof = work / f"profile_{mode}.prof"
        print(f"[profile] {mode} (load {loadavg()})", file=sys.stderr, flush=True)
        r = measure([sys.executable, "-m", "cProfile", "-o", prof, "-m", "crosswalk.cli", "match", db,
                     "--from", FULL, "--to", DWAS, "--top", TOP, "--silent"])
        stats = pstats.Stats(str(prof))
        total = stats.total_tt
        entries = []
        for (file, line, func), (cc, nc, tt, ct, callers) in stats.stats.items():
            entries.append(dict(where=_short(file, line, func), tottime=tt, cumtime=ct, calls=nc))
        by_cum = sorted((e for e in entries if "crosswalk/" in e["where"]), key=lambda e: -e["cumtime"])[:14]
        by_tot = sorted(entries, key=lambda e: -e["tottime"])[:12]
        out[mode] = dict(wall=r["seconds"], total=total, cumulative=by_cum, self=by_tot)
    return out


def _short(file, line, func):
    p = pathlib.PurePath(file)
    parts = p.parts
    for anchor in ("site-packages", "crosswalk", "lib"):
        if anchor in parts:
            i = len(parts) - 1 - parts[::-1].index(anchor)
            rest = parts[i + 1:] if anchor == "site-packages" else parts[i:]
            file = "/".join(rest)
            if anchor == "lib":
                file = "stdlib/" + "/".join(parts[i + 2:])
            break
    else:
        file = p.name if file != "~" else ""
    return f"{file}:{line}({func})" if file else func


def figures(runs: list[dict]) -> dict:
    """The medians of some runs of one command (``measure``'s figures), and how many there were."""
    return dict(seconds=median([x["seconds"] for x in runs]), peak_mb=median([x["peak_mb"] for x in runs]),
                load1=median([x["load1"] for x in runs]), runs=len(runs))


def part_import(ctx) -> dict:
    """`crosswalk import` of a 20,000-row xlsx made from real O*NET task statements (into a new
    database, again unchanged, again with every statement edited), and `crosswalk import-decisions`
    of 5,000 of the O*NET gold's pairs."""
    import openpyxl
    work, repeat, datasets = ctx["work"], ctx["repeat"], ctx["datasets"]
    xlsx = work / "import_20000.xlsx"
    if not xlsx.exists():
        src = openpyxl.load_workbook(datasets / "onet-29.3" / "Task Statements.xlsx", read_only=True)
        rows = src.active.iter_rows(values_only=True)
        header = list(next(rows))
        t_id, t_text, t_title = header.index("Task ID"), header.index("Task"), header.index("Title")
        data = [(f"T{r[t_id]}", r[t_text], r[t_title]) for r in rows]
        src.close()
        extra = [(f"D{i + 1}", data[i][1] + " (repeated)", data[i][2]) for i in range(20000 - len(data))]
        wb = openpyxl.Workbook(write_only=True)
        ws = wb.create_sheet("Tasks")
        ws.append(["Task ID", "Task", "Title"])
        for row in (data + extra)[:20000]:
            ws.append(list(row))
        wb.save(work / "import_20000.partial.xlsx")
        (work / "import_20000.partial.xlsx").rename(xlsx)
    # The same workbook with every statement edited, as a publisher's new edition would be.
    edited = work / "import_20000_edited.xlsx"
    if not edited.exists():
        wb = openpyxl.load_workbook(xlsx)
        for row in wb.active.iter_rows(min_row=2):
            row[1].value = row[1].value + " Record the results."
        wb.save(work / "import_20000_edited.partial.xlsx")
        (work / "import_20000_edited.partial.xlsx").rename(edited)
    # An earlier crosswalk's decisions: the first 5,000 pairs of the O*NET gold, accepted.
    decisions = work / "decisions_5000.csv"
    if not decisions.exists():
        with open(ctx["gold"], newline="") as fh, open(decisions, "w", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(["Source code", "Target code", "Decision"])
            for row, _ in zip(csv.DictReader(fh), range(5000)):
                writer.writerow([row["source_code"], row["target_code"], "accepted"])
    options = ["--framework", "Import benchmark", "--kind", "industry",
               "--code-column", "Task ID", "--text-column", "Task", "--domain-column", "Title", "--silent"]
    fresh, again, changed, decided = [], [], [], []
    for r in range(repeat):
        print(f"[import] rep {r + 1}/{repeat} (load {loadavg()})", file=sys.stderr, flush=True)
        db = work / "import.db"
        for suffix in ("", "-wal", "-shm"):
            pathlib.Path(str(db) + suffix).unlink(missing_ok=True)
        fresh.append(measure([*CROSSWALK, "import", db, xlsx, *options]))
        again.append(measure([*CROSSWALK, "import", db, xlsx, *options]))
        changed.append(measure([*CROSSWALK, "import", db, edited, *options]))
        # Without --from and --to, each code is looked up among the frameworks of its kind.
        target = fresh_copy(ctx["onet"], work / "decisions.db")
        decided.append(measure([*CROSSWALK, "import-decisions", target, decisions]))
    n = framework_size(work / "import.db", "Import benchmark")

    return dict(rows=n, fresh=figures(fresh), reimport=figures(again), edited=figures(changed),
                decisions=dict(figures(decided), count=5000))


def part_review(ctx) -> dict:
    """The review workbook's round trip on the demo (every program): `crosswalk review export` of
    every alignment, then `crosswalk review import` of that workbook with 1,000 decisions filled in
    (two in three accepted), each on a fresh copy of the demo's database."""
    import openpyxl
    from load import build_demo_db

    work, repeat = ctx["work"], ctx["repeat"]
    demo = build_demo_db(ctx)
    exported, imported = [], []
    for r in range(repeat):
        print(f"[review] rep {r + 1}/{repeat} (load {loadavg()})", file=sys.stderr, flush=True)
        db = fresh_copy(demo, work / "review.db")
        book = work / "review.xlsx"
        book.unlink(missing_ok=True)
        exported.append(measure([*CROSSWALK, "review", "export", db, book]))
        wb = openpyxl.load_workbook(book)
        ws = wb["Suggestions"]
        column = {c.value: c.column for c in ws[1]}
        rows, filled = ws.max_row - 1, 0
        for row in range(2, ws.max_row + 1):
            if filled == 1000:
                break
            if str(ws.cell(row, column["Current status"]).value).startswith("not decided"):
                ws.cell(row, column["Decision"]).value = "accept" if filled % 3 else "reject"
                filled += 1
        wb.save(book)
        imported.append(measure([*CROSSWALK, "review", "import", db, book, "--reviewer", "Benchmark committee"]))

    return dict(rows=rows, decisions=filled, export=figures(exported), import_=figures(imported))


def part_publish(ctx) -> dict:
    """`crosswalk publish` of the matched full database (tasks → DWAs, all 18,796 × top 10)."""
    work, repeat = ctx["work"], ctx["repeat"]
    db = ctx.get("full_dbs", {}).get("tasks → DWAs")
    if db is None or not db.exists():
        db = fresh_copy(ctx["base"], work / "publish_src.db")
        crosswalk_match(db, FULL, [DWAS])
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    alignments = conn.execute("select count(*) from alignments").fetchone()[0]
    conn.close()
    out = {}
    for mode in ("label", "omit"):
        reps = []
        for r in range(repeat):
            print(f"[publish] --suggestions {mode} rep {r + 1}/{repeat} (load {loadavg()})", file=sys.stderr, flush=True)
            reps.append(measure([*CROSSWALK, "publish", db, work / f"published_{mode}", "--force", "--suggestions", mode]))
        out[mode] = figures(reps)
    return dict(alignments=alignments, **out)


# ---------------------------------------------------------------- report

def report(results: dict) -> str:
    m = results["machine"]
    L = ["# Speed and memory benchmarks", "", machine_line(m), "",
         "Medians of the runs shown; wall time of the whole command (start-up included) unless said; peak = "
         "maximum resident set size of the process. Load average (1 min) at the start of each run in the last "
         "column: other work shared this machine.", ""]
    if "match" in results:
        L += ["## `crosswalk match` versus what a user would do instead", ""]
        for w in results["match"]["workloads"]:
            L += [f"### {w['workload']}: {w['full_sources']:,} tasks × {w['targets']:,} targets = "
                  f"{w['full_pairs'] / 1e6:.1f} M pairs, top {TOP}", ""]
            cw = {(r["mode"], r["full"]): r for r in w["rows"] if r["kind"] == "crosswalk"}
            L += ["| method | inputs | runs | wall s | pairs/s | est. s at full size | peak MB | hit@5 (judged tasks) | "
                  "crosswalk (cached, re-run) is × faster | crosswalk (cached, all written anew) is × faster | "
                  "crosswalk (cached, most replaced) is × faster | crosswalk (from nothing) is × faster | load |",
                  "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
            for r in w["rows"]:
                hit = "–" if not _num(r["hit5"]) else f"{r['hit5']:.3f} ({r['judged']:,})"
                if r["kind"] == "alternative":
                    fx = f"{r['est_full_s'] / cw[('cached', True)]['seconds']:.1f}×"
                    fw = (f"{r['est_full_s'] / cw[('rewritten', True)]['seconds']:.1f}×"
                          if ("rewritten", True) in cw else "–")
                    fu = (f"{r['est_full_s'] / cw[('updated', True)]['seconds']:.1f}×"
                          if ("updated", True) in cw else "–")
                    fc = f"{r['est_full_s'] / cw[('cold', True)]['seconds']:.1f}×"
                    wall = f"{fmt_s(r['seconds'])} ({fmt_s(r['compute_seconds'])} scoring)"
                else:
                    fx = fw = fu = fc = ""
                    wall = fmt_s(r["seconds"])
                subset = r["subset"].replace(f"first {LOOP_SUBSET:,} of the ", "the ")
                L.append(f"| {r['method']} | {subset} | {r['runs']} | {wall} | {fmt_rate(r['pairs_per_s'])} | "
                         f"{fmt_s(r['est_full_s'])} | {r['peak_mb']:.0f} | {hit} | {fx} | {fw} | {fu} | {fc} | {r['load1']:.1f} |")
            if any(_num(r["hit5"]) for r in w["rows"]):
                for r in w["rows"]:
                    if r["kind"] == "crosswalk" and not r["full"] and r["mode"] != "cold":
                        L.append(f"\ncrosswalk ({r['mode']}) hit@5 on the {SQL_SUBSET} tasks of the SQL subset: "
                                 f"{r['hit5_sql_subset']:.3f}.")
            L += ["", "Alternatives: pairs/s from the scoring time (loading and start-up excluded), extrapolated "
                  "linearly to the full size; the speed-up is that estimate over crosswalk's measured wall time at "
                  "the full size.", ""]
    if "growth" in results:
        g = results["growth"]
        L += ["## Growth with the number of source statements (tasks → all 2,087 DWAs, top 10)", "",
              "| tasks | pairs (M) | from nothing s | runs | embeddings cached s | lexical s | runs | peak MB from nothing | "
              "peak MB cached | peak MB lexical | ms per task (cached) | load |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for r in g["rows"]:
            L.append(f"| {r['sources']:,} | {r['pairs'] / 1e6:.1f} | {fmt_s(r['cold']['seconds'])} | {r['cold']['runs']} | "
                     f"{fmt_s(r['cached']['seconds'])} | {fmt_s(r['lexical']['seconds'])} | {r['cached']['runs']} | "
                     f"{r['cold']['peak_mb']:.0f} | {r['cached']['peak_mb']:.0f} | {r['lexical']['peak_mb']:.0f} | "
                     f"{1000 * r['cached']['seconds'] / r['sources']:.2f} | {r['cached']['load1']:.1f} |")
        e, mf = g["time_exponent"], g["memory_fit"]
        L += ["", f"Time grows as sources^k between the smallest and largest size: k = {e['cold']:.2f} from nothing, "
              f"{e['cached']:.2f} cached, {e['lexical']:.2f} lexical (1.00 = linear; start-up makes k < 1 at small sizes).",
              f"Peak memory, least-squares line: from nothing {mf['cold']['intercept_mb']:.0f} MB + "
              f"{mf['cold']['mb_per_1000']:.1f} MB per 1,000 tasks; cached {mf['cached']['intercept_mb']:.0f} MB + "
              f"{mf['cached']['mb_per_1000']:.1f} MB per 1,000; lexical {mf['lexical']['intercept_mb']:.0f} MB + "
              f"{mf['lexical']['mb_per_1000']:.1f} MB per 1,000.", ""]
    if "profile" in results:
        L += ["## Where the time goes (cProfile, all 18,796 tasks → 2,087 DWAs, top 10)", ""]
        for mode in ("cold", "cached"):
            p = results["profile"].get(mode)
            if not p:
                continue
            L += [f"### {dict(cold='From nothing', cached='Embeddings cached')[mode]}: {p['total']:.1f} s profiled "
                  f"({p['wall']:.1f} s wall under the profiler)", "",
                  "| crosswalk function | cumulative s | share |", "|---|---|---|"]
            for e in p["cumulative"]:
                L.append(f"| `{e['where']}` | {e['cumtime']:.2f} | {100 * e['cumtime'] / p['total']:.0f}% |")
            L += ["", "| own time, any function | self s | calls |", "|---|---|---|"]
            for e in p["self"]:
                L.append(f"| `{e['where']}` | {e['tottime']:.2f} | {e['calls']:,} |")
            L.append("")
    if "import" in results:
        i = results["import"]
        L += ["## Import and publish", "", "| command | size | runs | wall s | peak MB | load |", "|---|---|---|---|---|---|",
              f"| `crosswalk import` into a new database | {i['rows']:,}-row xlsx | {i['fresh']['runs']} | "
              f"{fmt_s(i['fresh']['seconds'])} | {i['fresh']['peak_mb']:.0f} | {i['fresh']['load1']:.1f} |",
              f"| `crosswalk import` again (same file, update in place) | {i['rows']:,}-row xlsx | {i['reimport']['runs']} | "
              f"{fmt_s(i['reimport']['seconds'])} | {i['reimport']['peak_mb']:.0f} | {i['reimport']['load1']:.1f} |"]
        for key, what, size in (("edited", "`crosswalk import` again, every statement edited", f"{i['rows']:,}-row xlsx"),
                                ("decisions", "`crosswalk import-decisions` (an earlier crosswalk)",
                                 f"{i.get('decisions', {}).get('count', 0):,} decisions, CSV")):
            if key in i:
                L.append(f"| {what} | {size} | {i[key]['runs']} | {fmt_s(i[key]['seconds'])} | "
                         f"{i[key]['peak_mb']:.0f} | {i[key]['load1']:.1f} |")
        if "publish" not in results:
            L.append("")
    if "publish" in results:
        p = results["publish"]
        if "import" not in results:
            L += ["## Publish", "", "| command | size | runs | wall s | peak MB | load |", "|---|---|---|---|---|---|"]
        for mode in ("label", "omit"):
            L.append(f"| `crosswalk publish --suggestions {mode}` | {p['alignments']:,} alignments | {p[mode]['runs']} | "
                     f"{fmt_s(p[mode]['seconds'])} | {p[mode]['peak_mb']:.0f} | {p[mode]['load1']:.1f} |")
        L.append("")
    if "review" in results:
        v = results["review"]
        L += ["## Review workbook round trip (the demo, every program)", "",
              "| command | size | runs | wall s | peak MB | load |", "|---|---|---|---|---|---|",
              f"| `crosswalk review export` | {v['rows']:,} alignments | {v['export']['runs']} | "
              f"{fmt_s(v['export']['seconds'])} | {v['export']['peak_mb']:.0f} | {v['export']['load1']:.1f} |",
              f"| `crosswalk review import` | {v['rows']:,} rows, {v['decisions']:,} decided | {v['import_']['runs']} | "
              f"{fmt_s(v['import_']['seconds'])} | {v['import_']['peak_mb']:.0f} | {v['import_']['load1']:.1f} |", ""]
    return "\n".join(L)


def _num(x) -> bool:
    return isinstance(x, (int, float)) and x == x


def strip(obj):
    """Drop bulky or machine-specific values (rankings, paths) before writing JSON."""
    if isinstance(obj, dict):
        return {k: strip(v) for k, v in obj.items() if k not in ("ranked", "db", "stdout", "full_dbs")}
    if isinstance(obj, list):
        return [strip(v) for v in obj]
    if isinstance(obj, pathlib.PurePath):
        return obj.name
    if isinstance(obj, float) and obj != obj:
        return None
    return obj


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("datasets", type=pathlib.Path)
    parser.add_argument("--work", type=pathlib.Path, default=HERE / "results" / "tmp")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--repeat-cold", type=int, default=3,
                        help="runs from nothing (fresh database) at the headline sizes; growth sizes run once")
    parser.add_argument("--parts", default="match,growth,profile,import,publish,review,load")
    parser.add_argument("--duration", type=int, default=20, help="seconds of load per page (load part)")
    parser.add_argument("--connections", type=int, default=20)
    args = parser.parse_args(argv)
    parts = args.parts.split(",")
    args.work.mkdir(parents=True, exist_ok=True)
    out = HERE / "results"
    ctx = dict(setup(args.datasets, args.work), work=args.work, repeat=args.repeat, datasets=args.datasets,
               repeat_cold=min(args.repeat, args.repeat_cold))
    ctx["truth"] = read_gold(ctx["gold"])
    results_path = out / "speed.json"
    results = json.loads(results_path.read_text()) if results_path.exists() else {}
    results["machine"] = machine()
    ctx["results"] = results
    import load
    for name, fn in (("match", part_match), ("growth", part_growth), ("import", part_import),
                     ("publish", part_publish), ("review", part_review),
                     ("load", lambda c: load.run(c, duration=args.duration, connections=args.connections)),
                     ("profile", part_profile)):
        if name in parts:
            start = time.perf_counter()
            results[name] = strip(fn(ctx))
            results[name]["load_average_after"] = loadavg()
            results[name]["part_seconds"] = round(time.perf_counter() - start)
            results_path.write_text(json.dumps(results, indent=2, ensure_ascii=False))
            (out / "speed.md").write_text(report(results))
            print(f"[{name}] done in {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)
    print(report(results))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "alt":
        alt_main(sys.argv[2:])
    else:
        main()
