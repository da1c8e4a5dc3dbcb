"""CTE programs: the industry frameworks (credentials) each one teaches, its grade band, its
Career Cluster, and its sign-off status.

Example::

    add_program(db, "Welding Technology", cip_code="48.0508", career_cluster="Manufacturing",
                grades="9-12", frameworks=["AWS SENSE Level 1"])
    set_status(db, "Welding Technology", "approved", "M. Levesque")
"""

from __future__ import annotations

import dataclasses
import pathlib
import re
import shlex

from .db import DEFAULT_BAND, framework_id, named_row, set_program_status, typo_note, write_transaction
from .errors import CrosswalkError
from .text import grade_label, parse_grades, plural, program_status_text

# The 16 Career Clusters of the Perkins IV crosswalk (U.S. Department of Education, OVAE, Table 4,
# September 2007), spelled as that table spells them; a program's career_cluster is one of these.
CAREER_CLUSTERS = (
    "Agriculture, Food and Natural Resource Career Cluster",
    "Architecture and Construction Career Cluster",
    "Arts, A/V Technology and Communication Career Cluster",
    "Business and Administration Career Cluster",
    "Education and Training Career Cluster",
    "Finance and Insurance Career Cluster",
    "Government and Public Administration Career Cluster",
    "Health Science Career Cluster",
    "Hospitality and Tourism Career Cluster",
    "Human Services Career Cluster",
    "Information Technology Career Cluster",
    "Law and Public Safety Career Cluster",
    "Manufacturing Career Cluster",
    "Marketing Sales and Service Career Cluster",
    "Scientific Research/Engineering Career Cluster",
    "Transportation, Distribution, and Logistics Career Cluster",
)
CLUSTER_SUFFIX = " Career Cluster"


def _cluster_key(name: str) -> str:
    """A cluster's name without case, punctuation, '&' for 'and', or the trailing 'Career Cluster'."""
    text = re.sub(r"\s+", " ", str(name).casefold().replace("&", " and ")).strip()
    text = re.sub(r"\s*career cluster$", "", text)
    return re.sub(r"[^a-z0-9]+", "", text)


# The same 16 as directors write them: the names of the National Career Clusters Framework (as States'
# Career Clusters / Advance CTE published them before 2024), and STEM.
CLUSTER_NAMES_IN_USE = {
    "Agriculture, Food & Natural Resources": "Agriculture, Food and Natural Resource Career Cluster",
    "Arts, A/V Technology & Communications": "Arts, A/V Technology and Communication Career Cluster",
    "Business Management & Administration": "Business and Administration Career Cluster",
    "Finance": "Finance and Insurance Career Cluster",
    "Law, Public Safety, Corrections & Security": "Law and Public Safety Career Cluster",
    "Marketing": "Marketing Sales and Service Career Cluster",
    "Marketing, Sales & Service": "Marketing Sales and Service Career Cluster",
    "Science, Technology, Engineering & Mathematics": "Scientific Research/Engineering Career Cluster",
    "STEM": "Scientific Research/Engineering Career Cluster",
    "Transportation, Distribution & Logistics": "Transportation, Distribution, and Logistics Career Cluster",
}
_CLUSTERS_BY_KEY = {_cluster_key(name): name for name in CAREER_CLUSTERS} | {
    _cluster_key(alias): name for alias, name in CLUSTER_NAMES_IN_USE.items()}


def canonical_cluster(name: str) -> str:
    """The Career Cluster ``name`` names, as the Perkins IV table spells it.

    Case, punctuation, '&' for 'and' and a trailing 'Career Cluster' do not matter, and the names
    of the National Career Clusters Framework (:data:`CLUSTER_NAMES_IN_USE`) are known too; an
    unknown name is an error listing the 16.

    Example::

        >>> canonical_cluster("manufacturing")
        'Manufacturing Career Cluster'
    """
    key = _cluster_key(name)
    found = _CLUSTERS_BY_KEY.get(key)
    if found is None and len(key) >= 4:
        # The start of one cluster's name ("Transportation", "Health"): that cluster (a director's walk:
        # "Transportation" was refused, the 16 listed); the start of several: those, as "did you mean".
        starting = sorted({cluster for k, cluster in _CLUSTERS_BY_KEY.items() if k.startswith(key)})
        if len(starting) == 1:
            return starting[0]
        if starting:
            raise CrosswalkError(f"{name!r} is the start of several Career Clusters: did you mean "
                                 + " or ".join(repr(c[: -len(CLUSTER_SUFFIX)]) for c in starting) + "?")
    if found is None:
        names = "; ".join(c[: -len(CLUSTER_SUFFIX)] for c in CAREER_CLUSTERS)
        raise CrosswalkError(f"{name!r} is not one of the 16 Career Clusters (Perkins IV): {names}")
    return found


CIP_CODE = re.compile(r"\d{2}(\.\d{2}(\d{2})?)?")


def cip(code) -> str:
    """A CIP 2020 code as the classification writes it: a program (48.0508), a series (48.05) or a
    family (48). Raises for anything else (a director's walk: --cip abc was stored, and the site and
    the report named it as the program's CIP code).

    Example::

        >>> cip(" 48.0508 ")
        '48.0508'
    """
    text = str(code).strip()
    if not CIP_CODE.fullmatch(text):
        raise CrosswalkError(f"{code!r} is not a CIP code: give it as the CIP 2020 writes it, such as 48.0508 "
                             "(a program), 48.05 (a series) or 48 (a family)")
    return text


def grade_band(text: str) -> tuple[int, int]:
    """A program's grade band from text such as '9-12', '11-12', 'HS' or '10' (K = 0).

    Example::

        >>> grade_band("9-12")
        (9, 12)
    """
    low, high = parse_grades(text)
    if low is None or low < 0 or high > 12:
        raise CrosswalkError(f"{text!r} is not a grade band: give grades from K to 12, such as 9-12, 11-12 or 10")
    return low, high


@dataclasses.dataclass
class ProgramResult:
    name: str
    id: int
    created: bool
    frameworks: list[str]
    grade_low: int
    grade_high: int
    warnings: list[str] = dataclasses.field(default_factory=list)

    def summary(self) -> str:
        verb = "Added" if self.created else "Updated"
        teaches = ", ".join(repr(f) for f in self.frameworks) or "no frameworks yet"
        return (f"{verb} program {self.name!r} (id {self.id}, {grade_label(self.grade_low, self.grade_high)}); "
                f"it teaches {teaches}")


def add_program(db, name: str, *, cip_code=None, cip_title=None, career_cluster=None, school=None,
                description=None, grades: str | None = None, frameworks: list[str] | None = None) -> ProgramResult:
    """Add a program, or update the one with this name; link it to frameworks.

    ``grades`` is its grade band (a new program's is 9–12 unless given); ``career_cluster`` one
    of the 16 Career Clusters, stored as :data:`CAREER_CLUSTERS` spells it. Everything is
    checked before anything is written.
    """
    if not name or not name.strip():
        raise CrosswalkError("a program needs a name")
    if cip_code is not None:
        cip_code = cip(cip_code)
    values = {
        k: v for k, v in dict(
            name=name.strip(), cip_code=cip_code, cip_title=cip_title, school=school, description=description,
            career_cluster=canonical_cluster(career_cluster) if career_cluster is not None else None,
        ).items() if v is not None
    }
    if grades is not None:
        values["grade_low"], values["grade_high"] = grade_band(grades)
    with write_transaction(db):  # (see importer.import_rows)
        existing = named_row(db, "programs", values["name"])
        warnings = typo_note(db, "programs", values["name"])
        if existing and existing["status"] == "approved":
            _refuse_to_change_what_approved_certifies(db, existing, values, frameworks or [])
        if existing:
            pid = existing["id"]
            values["name"] = existing["name"]  # the name as it was first written, whatever its case here
            db["programs"].update(pid, values)
        else:
            values.setdefault("grade_low", DEFAULT_BAND[0])
            values.setdefault("grade_high", DEFAULT_BAND[1])
            pid = db["programs"].insert(values).last_pk
        for fw in frameworks or []:
            fid = framework_id(db, fw)
            kind = db["frameworks"].get(fid)["kind"]
            if kind != "industry":
                raise CrosswalkError(
                    f"{fw!r} is an {kind} framework; a program teaches industry frameworks (credentials)"
                )
            db["program_frameworks"].insert({"program_id": pid, "framework_id": fid}, ignore=True)
    linked = [
        r["name"] for r in db.query(
            "select f.name from program_frameworks pf join frameworks f on f.id = pf.framework_id "
            "where pf.program_id = ? order by f.name", [pid])
    ]
    row = db["programs"].get(pid)
    return ProgramResult(values["name"], pid, not existing, linked, row["grade_low"], row["grade_high"], warnings)


def _refuse_to_change_what_approved_certifies(db, program: dict, values: dict, frameworks: list[str]) -> None:
    """An approved program's grade band and credentials are what its sign-off certified: changed,
    the program went on reading "approved by ..." over another set of standards (a band of 11-12
    widened to 9-12 took in 2 standards; a credential added, its decisions), with nothing logged and
    nothing said (publish --approved-only and the report presented it as approved). The sign-off is
    set back first, by someone named, as every status change is."""
    changes = []
    band = (values.get("grade_low", program["grade_low"]), values.get("grade_high", program["grade_high"]))
    if band != (program["grade_low"], program["grade_high"]):
        changes.append(f"its grade band ({grade_label(program['grade_low'], program['grade_high'])} → "
                       f"{grade_label(*band)})")
    linked = {r[0] for r in db.execute("select framework_id from program_frameworks where program_id = ?",
                                       [program["id"]])}
    added = [fw for fw in dict.fromkeys(frameworks) if framework_id(db, fw) not in linked]
    if added:
        changes.append("the credentials it teaches (+ " + ", ".join(repr(fw) for fw in added) + ")")
    if changes:
        raise CrosswalkError(
            f"{program['name']!r} is {program_status_text(program['status'], program['status_by'], program['status_at'])}"
            f": changing {' and '.join(changes)} changes what it certifies; set it back to in review first "
            f"(crosswalk approve {shlex.quote(_database_name(db))} --program {shlex.quote(program['name'])} "
            "--by NAME --status \"in review\"), then change it and approve it again")


def _database_name(db) -> str:
    """The database's file as a command in this folder names it (else its whole path)."""
    path = pathlib.Path(db.conn.execute("PRAGMA database_list").fetchone()[2] or "DATABASE")
    try:
        return str(path.relative_to(pathlib.Path.cwd()))
    except ValueError:
        return str(path)


def list_programs(db) -> list[dict]:
    """Every program with its frameworks, band, status and review progress (the ``program_progress`` view).

    ``standards_certified`` counts the academic standards of the program's grade band it certifies:
    the ``program_coverage`` view's figures, as the site and the report count them (a standard an
    accepted decision certifies outside the band is not counted)."""
    rows = list(db.query(
        """
        select p.id, p.name, p.cip_code, p.career_cluster, g.grade_low, g.grade_high,
          (select group_concat(f.name, '; ') from program_frameworks pf
             join frameworks f on f.id = pf.framework_id where pf.program_id = p.id) as frameworks,
          coalesce(c.certified, 0) as standards_certified,
          g.status, g.status_by, g.status_at, g.statements, g.statements_decided, g.suggested, g.accepted,
          g.rejected, g.needs_rereview, g.no_likely_alignment, g.changes_since_status, g.flagged_since_status
        from programs p join program_progress g on g.program_id = p.id
        left join (select program_id, sum(certified) as certified from program_coverage group by program_id) c
          on c.program_id = p.id
        order by p.name
        """
    ))
    for row in rows:
        row["grades"] = grade_label(row["grade_low"], row["grade_high"])
    return rows


@dataclasses.dataclass
class StatusResult:
    program: str
    status: str
    by: str
    at: str
    suggested: int
    needs_rereview: int

    def summary(self) -> str:
        return f"{self.program}: {program_status_text(self.status, self.by, self.at)}"

    def warnings(self) -> list[str]:
        """What is still open in the program's review, when it is approved all the same."""
        if self.status != "approved":
            return []
        notes = []
        if self.suggested:
            notes.append(f"{plural(self.suggested, 'suggestion')} still awaiting review")
        if self.needs_rereview:
            notes.append(f"{plural(self.needs_rereview, 'accepted decision')} needing re-review "
                         "(not counted as certified until decided again)")
        return [f"{self.program} has {note}" for note in notes]


def set_status(db, program, status: str, by: str, *, via: str = "cli") -> StatusResult:
    """Set a program's sign-off status (draft, in review, approved), naming who sets it.

    Written by :func:`crosswalk.db.set_program_status` (logged in ``review_log``); the result
    carries what is still open in the review (``program_progress``), for a warning.

    Example::

        set_status(db, "Welding Technology", "approved", "M. Levesque").summary()
        # 'Welding Technology: approved by M. Levesque on 2026-11-28'
    """
    try:
        row = set_program_status(db, program, status, by, via=via)
    except ValueError as exc:  # an unknown status or no name: the user's to fix
        raise CrosswalkError(str(exc)) from None
    progress = next(db.query("select suggested, needs_rereview from program_progress where program_id = ?",
                             [row["id"]]))
    return StatusResult(row["name"], row["status"], row["status_by"], row["status_at"],
                        progress["suggested"], progress["needs_rereview"])
