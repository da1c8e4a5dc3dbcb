"""Build the second gold crosswalk: CIP 2020 programs → SOC 2018 occupations.

    python benchmarks/cip_setup.py DATASETS_DIR OUT_DIR

Sources are CIP 2020 programs (title and definition, from NCES's CIPCode2020.csv); targets are
O*NET 29.3 occupations at SOC level (title and description, from Occupation Data.xlsx); the gold
is the official NCES/BLS CIP 2020–SOC 2018 crosswalk (5,723 real pairs; "no match" rows dropped).
A different kind of text from the tuning gold (program definitions and occupation descriptions
instead of task statements and work activities), so it checks that the tuning generalises.
Writes OUT_DIR/cip.db and OUT_DIR/cip_to_soc.csv.
"""

import csv
import pathlib
import sys

import openpyxl

from crosswalk.db import open_db
from crosswalk.importer import import_file


def build(datasets: pathlib.Path, out: pathlib.Path) -> tuple[pathlib.Path, pathlib.Path]:
    out.mkdir(parents=True, exist_ok=True)
    db_path, gold_path = out / "cip.db", out / "cip_to_soc.csv"
    if db_path.exists() and gold_path.exists():
        return db_path, gold_path
    programs = out / "cip_programs.csv"
    with open(programs, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["code", "statement", "domain"])
        families = {}
        rows = list(csv.DictReader(open(datasets / "cip2020-soc2018/CIPCode2020.csv", encoding="utf-8-sig")))
        for r in rows:
            code = r["CIPCode"].strip('="')
            if len(code) == 2:
                families[code] = r["CIPTitle"].strip().rstrip(".").title()
        for r in rows:
            code = r["CIPCode"].strip('="')
            if len(code) == 7 and r["Action"].strip().lower() not in ("deleted", "moved to"):
                definition = r["CIPDefinition"].strip()
                if definition.startswith("Instructional content"):
                    continue
                writer.writerow([code, f"{r['CIPTitle'].strip()} {definition}", families.get(code[:2], "")])
    occupations = out / "soc_occupations.csv"
    workbook = openpyxl.load_workbook(datasets / "onet-29.3/Occupation Data.xlsx", read_only=True)
    seen = set()
    with open(occupations, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["code", "statement"])
        rows = workbook.active.iter_rows(values_only=True)
        next(rows)
        for code, title, description in rows:
            soc = code[:7]
            if soc not in seen:  # the first (.00) O*NET occupation of each SOC code
                seen.add(soc)
                writer.writerow([soc, f"{title}. {description}"])
    workbook.close()
    db = open_db(db_path)
    import_file(db, programs, framework="CIP 2020 programs", kind="industry")
    import_file(db, occupations, framework="SOC occupations", kind="academic")
    db.close()
    with open(gold_path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["source_code", "target_code"])
        for r in csv.DictReader(open(datasets / "cip2020-soc2018/CIP2020_SOC2018_Crosswalk.csv", encoding="utf-8-sig")):
            if not r["SOC2018Code"].startswith("99-9999"):
                writer.writerow([r["CIP2020Code"], r["SOC2018Code"]])
    return db_path, gold_path


if __name__ == "__main__":
    print(build(pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])))
