"""Build the cross-domain gold crosswalk: NGSS performance expectations → CCSS math and ELA.

    python benchmarks/ngss_setup.py DATASETS_DIR OUT_DIR

Sources are the 208 NGSS performance expectations (ngss/ngss_performance_expectations.csv: code,
grade levels, topic, text); the target is the Common Core, math and ELA/literacy together as one
framework (ccss/*.csv, full codes such as CCSS.Math.Practice.MP2, with grades, domain and cluster);
the gold is the NGSS writers' own "Connections to Common Core" (ngss/ngss_pe_to_ccss_connections.csv,
932 rows from 203 PEs, 922 distinct pairs whose standard is in ccss/*.csv). Science practice to
math and literacy: the closest public analogue of a CTE → academic crosswalk, and a gold the
matcher was never tuned on. Writes OUT_DIR/ngss.db and OUT_DIR/ngss_to_ccss.csv.
"""

import csv
import pathlib
import sys

from crosswalk.db import open_db
from crosswalk.importer import import_file

SOURCE, TARGET = "NGSS performance expectations", "CCSS math and ELA"


def build(datasets: pathlib.Path, out: pathlib.Path) -> tuple[pathlib.Path, pathlib.Path]:
    out.mkdir(parents=True, exist_ok=True)
    db_path, gold_path = out / "ngss.db", out / "ngss_to_ccss.csv"
    if db_path.exists() and gold_path.exists():
        return db_path, gold_path
    pes = out / "ngss_pes.csv"
    with open(pes, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["code", "statement", "grade", "domain"])
        for r in csv.DictReader(open(datasets / "ngss/ngss_performance_expectations.csv", encoding="utf-8")):
            topic = r["parent_topic"].split(" > ")[-1] if r["parent_topic"] else ""
            writer.writerow([r["code"], r["text"], r["grade_levels"], topic])
    ccss = out / "ccss_math_ela.csv"
    with open(ccss, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["code", "statement", "grade", "subject", "domain", "cluster"])
        for name, domain in (("ccss_math_standards.csv", "domain"), ("ccss_ela_standards.csv", "strand")):
            for r in csv.DictReader(open(datasets / "ccss" / name, encoding="utf-8")):
                if r["text"].strip():
                    writer.writerow([r["code"], r["text"], r["grade"], r["subject"], r[domain], r["cluster"]])
    db = open_db(db_path)
    import_file(db, pes, framework=SOURCE, kind="industry")
    import_file(db, ccss, framework=TARGET, kind="academic")
    db.close()
    with open(gold_path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["source_code", "target_code"])
        for r in csv.DictReader(open(datasets / "ngss/ngss_pe_to_ccss_connections.csv", encoding="utf-8")):
            writer.writerow([r["ngss_pe"], r["ccss_code"]])
    return db_path, gold_path


if __name__ == "__main__":
    print(build(pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])))
