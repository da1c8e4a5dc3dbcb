"""The demo crosswalk: real standards from ``data/``, imported, matched, ready to serve.

Example::

    from crosswalk.demo import build_demo
    summary = build_demo("crosswalk-demo.db")
"""

from __future__ import annotations

import csv
import dataclasses
import pathlib

from .db import open_db
from .decisions import apply_decisions, read_decisions
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

    def summary(self) -> str:
        return (
            f"Built {self.path}: {plural(self.frameworks, 'framework')}, {plural(self.standards, 'standard')}, "
            f"{plural(self.programs, 'program')}, {plural(self.alignments, 'alignment')} "
            f"({self.accepted} accepted, {self.rejected} rejected, the rest suggested)"
        )


def build_demo(path, *, top: int = 5, use_embeddings: bool = True, with_decisions: bool = True,
               progress=None, log=None) -> DemoSummary:
    """Import the demo data, add its programs and suggest alignments.

    ``progress(done, total)`` is called as work proceeds; ``log(text)`` gets one
    line per step. ``with_decisions=False`` leaves out the illustrative decisions
    (every alignment is then a suggestion).
    """
    data = data_dir()
    db = open_db(path)
    programs = list(csv.DictReader(open(data / "programs.csv", encoding="utf-8")))
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
    summary = DemoSummary(
        path=str(path),
        frameworks=db["frameworks"].count,
        standards=db["standards"].count,
        programs=db["programs"].count,
        alignments=db["alignments"].count,
        accepted=db["alignments"].count_where("status = 'accepted'"),
        rejected=db["alignments"].count_where("status = 'rejected'"),
    )
    db.close()
    return summary
