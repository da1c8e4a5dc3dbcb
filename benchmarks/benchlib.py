"""Shared helpers for the speed and load benchmarks: machine facts, timed subprocesses, medians.

Peak memory is the child's own maximum resident set size, read with os.wait4 (no psutil needed).
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


def measure(argv, *, env=None, cwd=REPO) -> dict:
    """Run argv to completion; wall seconds, peak RSS (MB) of that child, load average before it."""
    before = os.getloadavg()[0]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen([str(a) for a in argv], stdout=out, stderr=err, env=env, cwd=cwd)
        # wait4 gives this child's own rusage (RUSAGE_CHILDREN would mix all earlier children)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, argv[:4]))}... failed ({proc.returncode}):\n"
                           f"{stderr.decode(errors='replace')[-3000:]}")
    return dict(seconds=seconds, peak_mb=usage.ru_maxrss / 1024, load1=before, stdout=stdout.decode(errors="replace"))


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
