"""The site under load: Datasette pages of a crosswalk with ≥ 200,000 alignments, 20 concurrent clients.

    benchmarks/run DATASETS_DIR --parts load [--duration 20] [--connections 20]

The database: all 18,796 O*NET tasks matched to all 2,087 DWAs with --top 15 (281,940 suggested
alignments), plus a "benchmark program" teaching the 1,000-task sample whose rank-1 suggestions are
accepted (1,000 accepted alignments, so the public program page has real evidence). It is served
twice on 127.0.0.1 only, each with `crosswalk serve`'s default workers (one process per core):
`crosswalk serve DB` (the working site: table, facets, search) and `crosswalk serve OUTDIR` after
`crosswalk publish --suggestions label` (the public site: program, standard and search pages). Then the
demo's working database (`crosswalk demo --no-serve`, built once and cached) served by `crosswalk serve`:
the director's pages (home with the coverage heat map, program with its band's coverage, a subject of
it, its suggestions awaiting review, a standard, gaps, search). The working database is cached; the public copy is published afresh on every run (a few seconds), so it
always has the current pages. Load comes from wrk (Debian package `wrk`), or a bounded asyncio/httpx
generator when wrk is missing. Besides latency, the server's CPU time per request (all its processes,
from /proc) is recorded: unlike latency, it hardly depends on what else the machine is running.
Writes benchmarks/results/load.md and load.json.
"""

import asyncio
import json
import os
import pathlib
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from benchlib import (CROSSWALK, REPO, fresh_copy, launch_figures, launched, loadavg, machine,  # noqa: E402
                      machine_line, measure)

from crosswalk.site import default_workers  # noqa: E402

LOAD_VERSION = 1
PROGRAM = "Benchmark program (1,000 O*NET tasks)"
TARGET_P95_MS = 300

WRK_LUA = r"""
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'JSON {"requests": %d, "duration_s": %.3f, "bytes": %d, "p50_ms": %.2f, "p90_ms": %.2f, ' ..
    '"p95_ms": %.2f, "p99_ms": %.2f, "max_ms": %.2f, "mean_ms": %.2f, "connect_errors": %d, ' ..
    '"read_errors": %d, "write_errors": %d, "status_errors": %d, "timeouts": %d}\n',
    summary.requests, summary.duration / 1e6, summary.bytes,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, latency.mean / 1000,
    e.connect, e.read, e.write, e.status, e.timeout))
end
"""


def build_load_db(ctx) -> tuple[pathlib.Path, pathlib.Path]:
    """The working database (folder load/crosswalk.db) and its published copy (load_public/), cached."""
    from speed import DWAS, FULL, sample_name

    from crosswalk.db import open_db
    from crosswalk.review import decide

    work = ctx["work"]
    folder = work / f"load_v{LOAD_VERSION}"
    db_path, public = folder / "crosswalk.db", work / f"load_v{LOAD_VERSION}_public"
    if db_path.exists():
        # the public copy is quick to make: made afresh so that it has the current pages and indexes
        r = measure([*CROSSWALK, "publish", db_path, public, "--force", "--suggestions", "label"])
        print(f"[load] published in {r['seconds']:.1f} s", file=sys.stderr, flush=True)
        return db_path, public
    start = time.perf_counter()
    folder.mkdir(parents=True, exist_ok=True)
    # start from the full matched run when there is one: its embedding cache is warm
    matched = work / "run_m_1_18796.db"
    tmp = fresh_copy(matched if matched.exists() else ctx["base"], folder / "partial.db")
    sample = sample_name(1000)
    for source in (FULL, sample):
        measure([*CROSSWALK, "match", tmp, "--from", source, "--to", DWAS, "--top", 15, "--silent"])
    measure([*CROSSWALK, "program", "add", tmp, PROGRAM, "--cip", "99.9999", "--cluster", "Manufacturing",
             "--framework", sample])
    db = open_db(tmp)
    ids = [r["id"] for r in db.query(
        "select a.id from alignments a join standards s on s.id = a.source_id join frameworks f on f.id = s.framework_id "
        "where f.name = ? and a.rank = 1", [sample])]
    for i in ids:
        decide(db, i, "accept", strength="full", rationale="benchmark acceptance", reviewer="benchmark")
    db.close()
    tmp.rename(db_path)
    measure([*CROSSWALK, "publish", db_path, public, "--force", "--suggestions", "label"])
    print(f"[load] databases built in {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)
    return db_path, public


DEMO_VERSION = 1


def build_demo_db(ctx) -> pathlib.Path:
    """The demo's working database (`crosswalk demo --no-serve`), built once and cached."""
    path = ctx["work"] / f"load_demo_v{DEMO_VERSION}" / "crosswalk-demo.db"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        r = measure([*CROSSWALK, "demo", "--db", path.with_suffix(".tmp"), "--no-serve", "--silent"])
        path.with_suffix(".tmp").rename(path)
        print(f"[load] demo built in {r['seconds']:.0f} s", file=sys.stderr, flush=True)
    # bring its schema up to date (the pages read the views of the newest migration)
    measure([*CROSSWALK, "frameworks", path])
    return path


def demo_pages(path) -> list[tuple[str, str, str]]:
    """The director's pages on the demo: (site, name, path)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    welding = conn.execute("select id from programs where name = 'Welding Technology'").fetchone()[0]
    standard = conn.execute("select target_id from alignments where status = 'accepted' "
                            "group by target_id order by count(*) desc, target_id limit 1").fetchone()[0]
    conn.close()
    return [
        ("demo", "home: programs, progress, heat map", "/"),
        ("demo", "program: band coverage by subject and domain", f"/program/{welding}"),
        ("demo", "program, one subject of its band", f"/program/{welding}?subject=Math"),
        ("demo", "program's suggestions awaiting review", f"/program/{welding}/review"),
        ("demo", "standard with evidence and suggestions", f"/standard/{standard}"),
        ("demo", "gaps by subject and domain", "/gaps"),
        ("demo", "gaps, one subject listed", "/gaps?subject=Math"),
        ("demo", "search", "/search?q=measure"),
    ]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def process_tree_cpu(pid) -> float:
    """CPU seconds (user + system) of a process and its descendants, from /proc (NaN elsewhere)."""
    tick = os.sysconf("SC_CLK_TCK")
    total, todo = 0.0, [pid]
    try:
        while todo:
            p = todo.pop()
            stat = pathlib.Path(f"/proc/{p}/stat").read_text()
            fields = stat[stat.rindex(")") + 2:].split()
            total += (int(fields[11]) + int(fields[12])) / tick
            children = pathlib.Path(f"/proc/{p}/task/{p}/children")
            todo += [int(c) for c in children.read_text().split()] if children.exists() else []
    except (OSError, ValueError):
        return float("nan")
    return total


class Server:
    """`crosswalk serve PATH` on 127.0.0.1 in a subprocess; peak RSS (largest process) read when it stops."""

    def __init__(self, path):
        self.port = free_port()
        # Started by benchlib's launcher, so that its peak memory is its own (see benchlib.LAUNCHER).
        handle, self.figures = tempfile.mkstemp(suffix=".rusage")
        os.close(handle)
        self.proc = subprocess.Popen(
            launched(self.figures, [*CROSSWALK, "serve", path, "--host", "127.0.0.1", "--port", self.port]),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO)
        self.base = f"http://127.0.0.1:{self.port}"
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                urllib.request.urlopen(self.base + "/-/versions.json", timeout=2).read()
                return
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"crosswalk serve {pathlib.Path(path).name} did not start")

    def stop(self) -> float:
        """Stop the server; its peak RSS in MB (its largest process), NaN if it cannot be read."""
        self.proc.terminate()
        self.proc.wait()
        try:
            return launch_figures(self.figures)[1]
        finally:
            pathlib.Path(self.figures).unlink(missing_ok=True)


def warm_ms(url, n=5) -> float:
    """Median time of n sequential requests after the first (templates compiled, caches filled)."""
    times = sorted(probe(url)["single_ms"] for _ in range(n))
    return times[n // 2]


def probe(url) -> dict:
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            body = r.read()
            status = r.status
    except urllib.error.HTTPError as e:
        body, status = e.read(), e.code
    return dict(status=status, bytes=len(body), single_ms=1000 * (time.perf_counter() - start), body=body)


def wrk(url, duration, connections, lua) -> dict:
    # a request only counts as timed out if it outlasts the run itself
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--timeout", f"{duration + 10}s",
                          "-s", str(lua), url],
                         capture_output=True, text=True, check=True).stdout
    line = next(x for x in out.splitlines() if x.startswith("JSON "))
    r = json.loads(line[5:])
    r["errors"] = r["connect_errors"] + r["read_errors"] + r["write_errors"] + r["status_errors"] + r["timeouts"]
    r["rps"] = r["requests"] / r["duration_s"]
    r["tool"] = "wrk -t2"
    return r


async def _python_load(url, duration, connections) -> dict:
    import httpx
    latencies, errors = [], 0
    stop = time.perf_counter() + duration

    async def client(c):
        nonlocal errors
        while time.perf_counter() < stop:
            t = time.perf_counter()
            try:
                r = await c.get(url)
                await r.aread()
                if r.status_code >= 400:
                    errors += 1
                    continue
            except httpx.HTTPError:
                errors += 1
                continue
            latencies.append(1000 * (time.perf_counter() - t))

    start = time.perf_counter()
    async with httpx.AsyncClient(timeout=10, limits=httpx.Limits(max_connections=connections)) as c:
        await asyncio.gather(*(client(c) for _ in range(connections)))
    elapsed = time.perf_counter() - start
    latencies.sort()

    def pct(p):
        return latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))] if latencies else float("nan")

    return dict(requests=len(latencies) + errors, duration_s=elapsed, p50_ms=pct(50), p90_ms=pct(90), p95_ms=pct(95),
                p99_ms=pct(99), max_ms=latencies[-1] if latencies else float("nan"),
                mean_ms=sum(latencies) / max(1, len(latencies)), errors=errors,
                rps=(len(latencies) + errors) / elapsed, tool="python asyncio/httpx")


def load_test(url, duration, connections, lua) -> dict:
    if shutil.which("wrk"):
        return wrk(url, duration, connections, lua)
    return asyncio.run(_python_load(url, duration, connections))


def run(ctx, duration=20, connections=20) -> dict:
    work = ctx["work"]
    db_path, public = build_load_db(ctx)
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    counts = dict(alignments=conn.execute("select count(*) from alignments").fetchone()[0],
                  accepted=conn.execute("select count(*) from alignments where status = 'accepted'").fetchone()[0],
                  standards=conn.execute("select count(*) from standards").fetchone()[0])
    conn.close()
    pconn = sqlite3.connect(f"file:{public / 'crosswalk.db'}?mode=ro", uri=True)
    program_id = pconn.execute("select id from programs where name = ?", [PROGRAM]).fetchone()[0]
    busiest = pconn.execute("select target_id from alignments group by target_id order by count(*) desc limit 1").fetchone()[0]
    pconn.close()
    lua = work / "wrk_report.lua"
    lua.write_text(WRK_LUA)
    pages = [
        ("working", "table page", "/crosswalk/alignments"),
        ("working", "faceted table page", "/crosswalk/alignments?_facet=status&_facet=confidence"),
        ("working", "full-text search", "/crosswalk/standards?_search=measure"),
        ("public", "program page", f"/program/{program_id}"),
        ("public", "standard page (most evidence)", f"/standard/{busiest}"),
        ("public", "public search", "/search?q=measure"),
        ("public", "suggestions table (public)", "/crosswalk/unreviewed_suggestions"),
    ]
    demo_path = build_demo_db(ctx)
    pages += demo_pages(demo_path)
    rows, rss = [], {}
    for site, path in (("working", db_path), ("public", public), ("demo", demo_path)):
        server = Server(path)
        try:
            for s, name, page in pages:
                if s != site:
                    continue
                first = probe(server.base + page)
                facet_note = ""
                if "_facet" in page:
                    j = json.loads(probe(server.base + page.replace("alignments?", "alignments.json?"))["body"])
                    facet_note = ", ".join(j.get("facets_timed_out") or []) or "none"
                warm = warm_ms(server.base + page)
                print(f"[load] {name} {page} status {first['status']} (load {loadavg()})", file=sys.stderr, flush=True)
                load_before = loadavg()
                cpu_before = process_tree_cpu(server.proc.pid)
                r = load_test(server.base + page, duration, connections, lua)
                cpu = process_tree_cpu(server.proc.pid) - cpu_before
                rows.append(dict(site=site, page=name, path=page, first_status=first["status"], page_bytes=first["bytes"],
                                 single_ms=first["single_ms"], warm_ms=warm, facets_timed_out=facet_note,
                                 load=load_before, server_cpu_ms=1000 * cpu / max(1, r["requests"]), **r))
        finally:
            rss[site] = server.stop()
    result = dict(machine=machine(), counts=counts, duration=duration, connections=connections, rows=rows,
                  workers=default_workers(), server_peak_mb=rss, load_average_after=loadavg())
    out = HERE / "results"
    (out / "load.json").write_text(json.dumps(result, indent=2, ensure_ascii=False))
    (out / "load.md").write_text(report(result))
    print(report(result))
    return result


def report(r) -> str:
    c = r["counts"]
    L = ["# The site under load", "", machine_line(r["machine"]), "",
         f"Database: {c['alignments']:,} alignments ({c['accepted']:,} accepted), {c['standards']:,} standards. "
         f"{r['connections']} concurrent clients for {r['duration']} s per page on 127.0.0.1 ({r['rows'][0]['tool'] if r['rows'] else ''}); "
         "the load generator shares the machine's cores with the server. "
         "Working site = `crosswalk serve crosswalk.db`; public site = `crosswalk serve OUTDIR` after "
         "`crosswalk publish --suggestions label`; demo = `crosswalk serve` of the demo's working database "
         f"(`crosswalk demo --no-serve`); {r.get('workers', 1)} worker processes each "
         "(the default, one per core). "
         "Target: p95 ≤ 300 ms, zero errors. Errors = socket errors, "
         "non-2xx/3xx answers and requests outlasting the run (wrk --timeout = duration + 10 s); "
         "requests still in flight when the run ends are not counted. First request = the page's first request "
         "to a freshly started server; warm = median of 5 sequential requests after it; server CPU = CPU time of all "
         "the server's processes during the run, per request. The public copy and the working site keep "
         "each answer to a visitor without a cookie until the database changes, Datasette's table pages too "
         "(`crosswalk.public_plugin.PageCache`): under load a page is sent as kept (one process makes it once), "
         "and the first request is what making one costs. Signed-in reviewers' pages are never kept.", "",
         "| site | page | path | requests | req/s | p50 ms | p95 ms | p99 ms | max ms | errors | first request ms | "
         "warm request ms | server CPU ms/request | KB | target | load (1/5/15 min) |",
         "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for x in r["rows"]:
        ok = ("met" if x["requests"] and x["p95_ms"] <= TARGET_P95_MS and x["errors"] == 0 and x["first_status"] == 200
              else "**missed**" if x["requests"] else f"**missed**: no request completed in {r['duration']} s")
        L.append(f"| {x['site']} | {x['page']} | `{x['path']}` | {x['requests']:,} | {x['rps']:.1f} | {x['p50_ms']:.0f} | "
                 f"{x['p95_ms']:.0f} | {x['p99_ms']:.0f} | {x['max_ms']:.0f} | {x['errors']} | {x['single_ms']:.0f} | "
                 f"{x.get('warm_ms', float('nan')):.0f} | {x.get('server_cpu_ms', float('nan')):.1f} | "
                 f"{x['page_bytes'] / 1024:.0f} | {ok} | {x['load']} |")
    facets = [x for x in r["rows"] if x["facets_timed_out"]]
    for x in facets:
        L.append(f"\nFacets timed out on `{x['path']}` (Datasette's facet_time_limit_ms): {x['facets_timed_out']}.")
    L += ["", f"Server peak memory (its largest process): working site "
          f"{r['server_peak_mb'].get('working', float('nan')):.0f} MB, "
          f"public site {r['server_peak_mb'].get('public', float('nan')):.0f} MB, "
          f"demo {r['server_peak_mb'].get('demo', float('nan')):.0f} MB.", ""]
    return "\n".join(L)


if __name__ == "__main__":
    import speed
    speed.main([*sys.argv[1:], "--parts", "load"])
