"""CTE programs and the industry frameworks (credentials) each one teaches.

Example::

    add_program(db, "Welding Technology", cip_code="48.0508",
                career_cluster="Manufacturing", frameworks=["AWS SENSE Level 1"])
"""

from __future__ import annotations

import dataclasses

from .db import framework_id
from .errors import CrosswalkError


@dataclasses.dataclass
class ProgramResult:
    name: str
    id: int
    created: bool
    frameworks: list[str]

    def summary(self) -> str:
        verb = "Added" if self.created else "Updated"
        teaches = ", ".join(repr(f) for f in self.frameworks) or "no frameworks yet"
        return f"{verb} program {self.name!r} (id {self.id}); it teaches {teaches}"


def add_program(db, name: str, *, cip_code=None, cip_title=None, career_cluster=None, school=None,
                description=None, frameworks: list[str] | None = None) -> ProgramResult:
    """Add a program, or update the one with this name; link it to frameworks."""
    if not name or not name.strip():
        raise CrosswalkError("a program needs a name")
    values = {
        k: v for k, v in dict(
            name=name.strip(), cip_code=cip_code, cip_title=cip_title, career_cluster=career_cluster,
            school=school, description=description,
        ).items() if v is not None
    }
    with db.atomic():
        existing = list(db["programs"].rows_where("name = ?", [values["name"]]))
        if existing:
            program_id = existing[0]["id"]
            db["programs"].update(program_id, values)
        else:
            program_id = db["programs"].insert(values).last_pk
        for fw in frameworks or []:
            fid = framework_id(db, fw)
            kind = db["frameworks"].get(fid)["kind"]
            if kind != "industry":
                raise CrosswalkError(
                    f"{fw!r} is an {kind} framework; a program teaches industry frameworks (credentials)"
                )
            db["program_frameworks"].insert({"program_id": program_id, "framework_id": fid}, ignore=True)
    linked = [
        r["name"] for r in db.query(
            "select f.name from program_frameworks pf join frameworks f on f.id = pf.framework_id "
            "where pf.program_id = ? order by f.name", [program_id])
    ]
    return ProgramResult(values["name"], program_id, not existing, linked)


def list_programs(db) -> list[dict]:
    return list(db.query(
        """
        select p.id, p.name, p.cip_code, p.career_cluster,
          (select group_concat(f.name, '; ') from program_frameworks pf
             join frameworks f on f.id = pf.framework_id where pf.program_id = p.id) as frameworks,
          (select count(distinct e.standard_id) from program_evidence e
             where e.program_id = p.id) as standards_certified
        from programs p order by p.name
        """
    ))
