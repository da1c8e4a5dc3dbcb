"""Build the O*NET benchmark database and gold file (shared by the quality and speed benchmarks).

    python benchmarks/onet_setup.py DATASETS_DIR OUT_DIR

DATASETS_DIR holds onet-29.3/ (Task Statements.xlsx, DWA Reference.xlsx, Tasks to DWAs.xlsx).
Writes OUT_DIR/onet.db (frameworks "O*NET tasks" and "O*NET DWAs") and OUT_DIR/tasks_to_dwas.csv
(source_code = Task ID, target_code = DWA ID).
"""

import csv
import pathlib
import sys
import time

import openpyxl

from crosswalk.db import open_db
from crosswalk.importer import import_file


def build(datasets: pathlib.Path, out: pathlib.Path) -> tuple[pathlib.Path, pathlib.Path]:
    out.mkdir(parents=True, exist_ok=True)
    onet = datasets / "onet-29.3"
    db_path = out / "onet.db"
    gold_path = out / "tasks_to_dwas.csv"
    if db_path.exists() and gold_path.exists():
        return db_path, gold_path
    db = open_db(db_path)
    start = time.perf_counter()
    import_file(db, onet / "Task Statements.xlsx", framework="O*NET tasks", kind="industry",
                columns={"code": "Task ID", "statement": "Task", "domain": "Title"})
    import_file(db, onet / "DWA Reference.xlsx", framework="O*NET DWAs", kind="academic",
                columns={"code": "DWA ID", "statement": "DWA Title", "domain": "IWA Title"})
    print(f"imported O*NET in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    db.close()
    workbook = openpyxl.load_workbook(onet / "Tasks to DWAs.xlsx", read_only=True)
    rows = workbook.active.iter_rows(values_only=True)
    header = next(rows)
    t_col, d_col = header.index("Task ID"), header.index("DWA ID")
    with open(gold_path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["source_code", "target_code"])
        for row in rows:
            writer.writerow([row[t_col], row[d_col]])
    workbook.close()
    return db_path, gold_path


if __name__ == "__main__":
    print(build(pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])))
