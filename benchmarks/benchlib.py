"""Shared helpers for the speed and load benchmarks: machine facts, timed subprocesses, medians.

Peak memory is the command's own maximum resident set size, read with os.wait4 (no psutil needed)
in a small launcher process that starts it (see measure).
Nothing written by these helpers holds an absolute path of the machine.
"""

import os
import pathlib
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parent
CROSSWALK = [sys.executable, "-m", "crosswalk.cli"]


def machine() -> dict:
    """Cores, memory and CPU model, recorded with every table."""
    model = ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    from crosswalk import __version__
    return dict(cores=os.cpu_count(), memory_gb=round(mem_gb, 1), cpu=model or platform.processor(),
                python=platform.python_version(), crosswalk=__version__, date=time.strftime("%Y-%m-%d %H:%M"))


def machine_line(m: dict) -> str:
    return (f"Machine: {m['cores']} cores ({m['cpu']}), {m['memory_gb']} GB RAM, Python {m['python']}, "
            f"crosswalk {m['crosswalk']}; {m['date']}")


def loadavg() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


# Started by a small Python process, the command's peak memory begins at its own pages: Linux gives
# a forked child the high-water mark of its parent's memory, so a command forked from the benchmark
# itself reported at least the benchmark's size (every small peak of a full run was 337-349 MB; the
# 20,000-row import, measured alone through this launcher, 93 MB). Each server of load.py too.
LAUNCHER = """
import os, signal, sys, time
pid = 0
def forward(signum, frame):  # a server stopped by the benchmark: stop the command, then report
    if pid:
        os.kill(pid, signum)
for signum in (signal.SIGTERM, signal.SIGINT):
    signal.signal(signum, forward)
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execvp(sys.argv[2], sys.argv[2:])
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as out:
    out.write(f"{time.perf_counter() - start} {usage.ru_maxrss}")
code = os.waitstatus_to_exitcode(status)
sys.exit(code if code >= 0 else 128 - code)
"""


def launched(figures, argv) -> list[str]:
    """The command line that runs ``argv`` through LAUNCHER, which writes its figures to ``figures``."""
    return [sys.executable, "-c", LAUNCHER, str(figures), *[str(a) for a in argv]]


def launch_figures(figures) -> tuple[float, float]:
    """Seconds and peak RSS (MB) that LAUNCHER wrote; NaN where it wrote nothing."""
    parts = pathlib.Path(figures).read_text().split()
    if len(parts) != 2:
        return float("nan"), float("nan")
    return float(parts[0]), float(parts[1]) / 1024


def measure(argv, *, env=None, cwd=REPO) -> dict:
    """Run argv to completion; wall seconds, peak RSS (MB) of that command, load average before it.
    The seconds are the launcher's, from just before the command starts to its end."""
    before = os.getloadavg()[0]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile("r", suffix=".rusage") as figures:
        proc = subprocess.run(launched(figures.name, argv), stdout=out, stderr=err, env=env, cwd=cwd)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
        seconds, peak_mb = launch_figures(figures.name)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, argv[:4]))}... failed ({proc.returncode}):\n"
                           f"{stderr.decode(errors='replace')[-3000:]}")
    return dict(seconds=seconds, peak_mb=peak_mb, load1=before, stdout=stdout.decode(errors="replace"))


def median(values):
    return statistics.median(values) if values else float("nan")


def fresh_copy(src: pathlib.Path, dst: pathlib.Path) -> pathlib.Path:
    for suffix in ("", "-wal", "-shm"):
        p = pathlib.Path(str(dst) + suffix)
        if p.exists():
            p.unlink()
    shutil.copyfile(src, dst)
    return dst


def fmt_s(x: float) -> str:
    if x is None or x != x:  # nan (None once written to JSON)
        return "–"
    return f"{x:.2f}" if x < 10 else f"{x:.1f}"


def fmt_rate(pairs_per_s: float) -> str:
    if pairs_per_s >= 1e6:
        return f"{pairs_per_s / 1e6:.2f} M"
    return f"{pairs_per_s / 1e3:.0f} k"
