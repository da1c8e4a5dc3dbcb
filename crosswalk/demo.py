"""The demo crosswalk: real standards from ``data/``, imported, matched, ready to serve.

Example::

    from crosswalk.demo import build_demo
    summary = build_demo("crosswalk-demo.db")
"""

from __future__ import annotations

import csv
import dataclasses
import glob
import os
import pathlib
import sqlite3

from .db import being_served, open_db
from .decisions import apply_decisions, read_decisions
from .errors import CrosswalkError
from .importer import import_file
from .matching import match
from .programs import add_program
from .text import plural

CCSS_NOTICE = (
    "© Copyright 2010. National Governors Association Center for Best Practices and Council of "
    "Chief State School Officers. All rights reserved. Used under the CCSS Public License."
)
NGSS_NOTICE = (
    "NGSS Lead States. 2013. Next Generation Science Standards: For States, By States. "
    "Washington, DC: The National Academies Press. NGSS is a registered trademark of WestEd. "
    "Encoding: Achievement Standards Network (D2L)."
)
ONET_NOTICE = (
    "This product includes information from the O*NET 29.3 Database by the U.S. Department of "
    "Labor, Employment and Training Administration (USDOL/ETA). Used under the CC BY 4.0 license. "
    "O*NET® is a trademark of USDOL/ETA."
)
GUIDING_PRINCIPLES_NOTICE = (
    "Maine Department of Education, Rule Chapter 132 (05-071 CMR 132), Learning Results: Parameters "
    "for Essential Instruction, the Guiding Principles: a state regulation, public. Transcribed by the "
    "crosswalk developers without the official copy at hand: check it against the rule before "
    "certifying against it."
)
CIP_NOTICE = (
    "Program titles and definitions: Classification of Instructional Programs (CIP 2020) and the "
    "CIP 2020–SOC 2018 crosswalk, National Center for Education Statistics (public domain). Career "
    "Clusters: Perkins IV crosswalk table 4, U.S. Department of Education, OVAE (public domain)."
)

ACADEMIC = [
    dict(file="ccss_math.csv", framework="Maine Learning Results: Mathematics (CCSS)", subject="Math",
         publisher="NGA Center and CCSSO", version="2010", license="CCSS Public License",
         attribution=CCSS_NOTICE, source_url="https://www.corestandards.org/Math/"),
    dict(file="ccss_ela.csv", framework="Maine Learning Results: ELA and Literacy (CCSS)", subject="ELA",
         publisher="NGA Center and CCSSO", version="2010", license="CCSS Public License",
         attribution=CCSS_NOTICE, source_url="https://www.corestandards.org/ELA-Literacy/"),
    dict(file="ngss.csv", framework="Maine Learning Results: Science and Engineering (NGSS)", subject="Science",
         publisher="NGSS Lead States", version="2013", license="NGSS Lead States attribution; ASN terms of use",
         attribution=NGSS_NOTICE, source_url="https://www.nextgenscience.org/"),
    dict(file="guiding_principles.csv", framework="Maine Learning Results: Guiding Principles",
         subject="Guiding Principles", publisher="Maine Department of Education", version="2007",
         license="A state regulation, public", attribution=GUIDING_PRINCIPLES_NOTICE,
         source_url="https://www.maine.gov/doe/learning/guidingprinciples"),
]

# CTE programs are high-school programs: suggest high-school academic standards.
DEMO_GRADE = "9-12"


def data_dir() -> pathlib.Path:
    """The bundled ``data/`` folder (next to the package in a checkout)."""
    here = pathlib.Path(__file__).resolve().parent
    for candidate in (here.parent / "data", here / "data"):
        if (candidate / "programs.csv").exists():
            return candidate
    raise FileNotFoundError("the demo data folder (data/programs.csv) was not found next to the crosswalk package")


@dataclasses.dataclass
class DemoSummary:
    path: str
    frameworks: int
    standards: int
    programs: int
    alignments: int
    accepted: int = 0
    rejected: int = 0
    reused: bool = False  # the demo built earlier at ``path``, with every decision made in it since

    def summary(self) -> str:
        what = (f"{plural(self.frameworks, 'framework')}, {plural(self.standards, 'standard')}, "
                f"{plural(self.programs, 'program')}, {plural(self.alignments, 'alignment')} "
                f"({self.accepted} accepted, {self.rejected} rejected, the rest suggested)")
        if self.reused:
            return f"Kept the demo built earlier at {self.path}, with its decisions: {what} (--fresh builds it anew)"
        return f"Built {self.path}: {what}"


def _summary(db, path, reused=False) -> DemoSummary:
    return DemoSummary(
        path=str(path),
        frameworks=db["frameworks"].count,
        standards=db["standards"].count,
        programs=db["programs"].count,
        alignments=db["alignments"].count,
        accepted=db["alignments"].count_where("status = 'accepted'"),
        rejected=db["alignments"].count_where("status = 'rejected'"),
        reused=reused,
    )


def demo_programs(data: pathlib.Path | None = None) -> list[dict]:
    """The demo's CTE programs (``data/programs.csv``): name, framework, file, CIP code, cluster."""
    with open((data or data_dir()) / "programs.csv", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _demo_names() -> tuple[set, set]:
    """The frameworks and programs a demo database holds."""
    programs = demo_programs()
    return {s["framework"] for s in ACADEMIC} | {p["framework"] for p in programs}, {p["name"] for p in programs}


def is_demo(path) -> bool:
    """Whether the file at ``path`` is a demo database (its frameworks and programs are the demo's
    own, and there is at least one); False for another crosswalk database. A file that is not a
    crosswalk database at all is an error: nothing here may be mistaken for something to replace."""
    try:
        # Read-write, though it only reads: a read-only connection cannot remove the -wal and -shm
        # files that reading a database in WAL mode makes, so a refused demo left them behind.
        conn = sqlite3.connect(pathlib.Path(path).resolve().as_uri() + "?mode=rw", uri=True)
        try:
            frameworks = {r[0] for r in conn.execute("select name from frameworks")}
            programs = {r[0] for r in conn.execute("select name from programs")}
        finally:
            conn.close()
    except sqlite3.Error as e:
        raise CrosswalkError(f"{path} is not a crosswalk database ({e}); choose another --db for the demo") from None
    demo_frameworks, demo_programs = _demo_names()
    return bool(frameworks) and frameworks <= demo_frameworks and programs <= demo_programs


def open_demo(path, *, fresh: bool = False, top: int = 5, use_embeddings: bool = True, log=None) -> DemoSummary:
    """The demo database at ``path``: the one built there earlier, with every decision made in it
    since, or (when there is none, or ``fresh``) a new one from :func:`build_demo`.

    Nothing else is ever replaced: a crosswalk database that is not the demo's is an error, with
    or without ``fresh``. A new demo is built next to ``path`` and moved into place when it is
    complete, so a build that was stopped half way leaves nothing behind to be kept.
    """
    path = pathlib.Path(path)
    if path.exists():
        if not is_demo(path):
            raise CrosswalkError(
                f"{path} is a crosswalk database that is not the demo's; the demo neither uses nor replaces it. "
                "Choose another --db for the demo.")
        if not fresh:
            db = open_db(path)
            try:
                return _summary(db, path, reused=True)
            finally:
                db.close()
        _not_served(path)
    # This process's own file (two demos built at once each build and move their own: with one name,
    # the second deleted the first's half-built file, and the first moved the second's into place).
    building = path.with_name(f"{path.name}.building-{os.getpid()}")

    def clear():
        for suffix in ("", "-wal", "-shm"):
            pathlib.Path(str(building) + suffix).unlink(missing_ok=True)

    clear()
    _clear_stopped_builds(path)
    try:
        summary = build_demo(building, top=top, use_embeddings=use_embeddings, log=log)
    except BaseException:  # stopped (Ctrl+C) or failed: no half-built demo is left behind
        clear()
        raise
    if path.exists():
        try:
            # A site may have started on it during the build, or a district's crosswalk been made there.
            _not_served(path)
            if not is_demo(path):
                raise CrosswalkError(f"{path} became a crosswalk database that is not the demo's while the "
                                     "demo was built; the demo does not replace it. Choose another --db for the demo.")
        except CrosswalkError:
            clear()
            raise
    # build_demo closed the last connection, so SQLite has moved its write-ahead log into the file.
    for suffix in ("-wal", "-shm"):
        pathlib.Path(str(path) + suffix).unlink(missing_ok=True)
    os.replace(building, path)
    clear()
    return dataclasses.replace(summary, path=str(path))


def _clear_stopped_builds(path: pathlib.Path) -> None:
    """Remove what builds of the demo at ``path`` that were killed (kill -9, a power cut) left behind:
    the files of a process that no longer runs."""
    for leftover in path.parent.glob(f"{glob.escape(path.name)}.building-*"):
        pid = leftover.name[len(f"{path.name}.building-"):].split("-")[0]  # (and its -wal and -shm)
        if pid.isdigit() and not _running(int(pid)):
            leftover.unlink(missing_ok=True)


def _running(pid: int) -> bool:
    if os.name == "nt":  # (signal 0 is Ctrl+C there, not a test: every build is taken as running)
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process, or a system that cannot tell: running, to be safe
        return True
    try:  # a build killed whose parent has not yet reaped it (a zombie) ended all the same
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            return stat.read().rpartition(")")[2].split()[:1] != ["Z"]
    except OSError:  # no /proc (macOS): running, as signal 0 said
        return True


def _not_served(path) -> None:
    if being_served(path):
        raise CrosswalkError(
            f"{path} is being served (a crosswalk demo or serve still running): stop it first (Ctrl+C), "
            "then build the demo anew; decisions made on that site since would be lost with the old file.")


def build_demo(path, *, top: int = 5, use_embeddings: bool = True, with_decisions: bool = True,
               progress=None, log=None) -> DemoSummary:
    """Import the demo data, add its programs and suggest alignments.

    ``progress(done, total)`` is called as work proceeds; ``log(text)`` gets one
    line per step. ``with_decisions=False`` leaves out the illustrative decisions
    (every alignment is then a suggestion).
    """
    data = data_dir()
    db = open_db(path)
    programs = demo_programs(data)
    steps = len(ACADEMIC) + (3 * len(programs) + 1 if with_decisions else 2 * len(programs))
    done = 0

    def step(text):
        nonlocal done
        done += 1
        if log:
            log(text)
        if progress:
            progress(done, steps)

    for spec in ACADEMIC:
        result = import_file(
            db, data / spec["file"], framework=spec["framework"], kind="academic",
            subject=spec["subject"], publisher=spec["publisher"], version=spec["version"],
            license=spec["license"], attribution=spec["attribution"], source_url=spec["source_url"],
        )
        step(result.summary())
    for program in programs:
        result = import_file(
            db, data / program["file"], framework=program["framework"], kind="industry",
            publisher="USDOL/ETA O*NET (stand-in for a credential task list)", version="29.3",
            license="CC BY 4.0", attribution=ONET_NOTICE,
            source_url="https://www.onetcenter.org/database.html",
        )
        add_program(
            db, program["name"], cip_code=program["cip_code"], cip_title=program["cip_title"],
            career_cluster=program["career_cluster"], description=program["description"],
            frameworks=[program["framework"]],
        )
        step(result.summary())
    for program in programs:
        counts = []
        for spec in ACADEMIC:
            outcome = match(
                db, source=program["framework"], target=spec["framework"], top=top,
                grade=DEMO_GRADE, use_embeddings=use_embeddings,
            )
            counts.append(outcome.suggested)
        step(f"Matched {program['name']}: {plural(sum(counts), 'suggestion')}")
    # Illustrative decisions (data/demo_decisions.csv, written by the crosswalk developers to show
    # the review workflow; not an official Maine crosswalk), then a warm re-match that learns from them.
    if with_decisions:
        outcome = apply_decisions(db, read_decisions(data / "demo_decisions.csv"))
        step(outcome.summary())
    for program in programs if with_decisions else []:
        for spec in ACADEMIC:
            match(db, source=program["framework"], target=spec["framework"], top=top,
                  grade=DEMO_GRADE, use_embeddings=use_embeddings)
        step(f"Re-matched {program['name']} with what the decisions teach")
    summary = _summary(db, path)
    db.close()
    return summary
