import csv
import pathlib

import openpyxl
import pytest
from click.testing import CliRunner

from crosswalk.db import memory_db, open_db

ROOT = pathlib.Path(__file__).resolve().parent.parent
DATA = ROOT / "data"


@pytest.fixture
def db():
    return memory_db()


@pytest.fixture
def runner():
    return CliRunner()


def write_xlsx(path, rows, sheet="Sheet1", extra_sheets=None):
    workbook = openpyxl.Workbook()
    worksheet = workbook.active
    worksheet.title = sheet
    for row in rows:
        worksheet.append(row)
    for name, more in (extra_sheets or {}).items():
        ws = workbook.create_sheet(name)
        for row in more:
            ws.append(row)
    workbook.save(path)
    return path


def write_csv(path, rows, encoding="utf-8", delimiter=","):
    with open(path, "w", newline="", encoding=encoding) as fh:
        csv.writer(fh, delimiter=delimiter).writerows(rows)
    return path


WELDING = [
    ["Welding tasks — a credential task list"],
    [],
    ["Task ID", "Task", "Duty Area"],
    ["W.1", "Measure and calculate the dimensions of workpieces using rulers and calipers.", "Layout"],
    ["W.2", "Read blueprints and technical drawings to determine the angles of joints.", "Layout"],
    ["W.3", "Write an incident report describing the cause of a workplace accident.", "Safety"],
    ["W.4", "Explain how heat energy transfers through metal during welding.", "Process"],
]

ACADEMIC = [
    ["code", "statement", "grade", "subject"],
    ["N-Q.1", "Use units as a way to understand problems; choose and interpret units and measure quantities.", "9-12", "Math"],
    ["G-MG.1", "Use geometric shapes and their properties to describe objects, such as angles of a joint.", "9-12", "Math"],
    ["W.9-10.2", "Write informative texts to explain a topic and describe the cause of events clearly.", "9-10", "ELA"],
    ["HS-PS3-4", "Plan an investigation of the transfer of heat energy through materials.", "HS", "Science"],
    ["3.OA.1", "Interpret products of whole numbers.", "3", "Math"],
]


@pytest.fixture
def welding_xlsx(tmp_path):
    return write_xlsx(tmp_path / "welding.xlsx", WELDING, sheet="Tasks")


@pytest.fixture
def academic_csv(tmp_path):
    return write_csv(tmp_path / "academic.csv", ACADEMIC)


@pytest.fixture
def small_db(tmp_path, welding_xlsx, academic_csv):
    """A database file with a small industry and academic framework, matched."""
    from crosswalk.importer import import_file
    from crosswalk.matching import match

    path = tmp_path / "small.db"
    db = open_db(path)
    import_file(db, welding_xlsx, framework="Welding", kind="industry")
    import_file(db, academic_csv, framework="Academic", kind="academic")
    match(db, source="Welding", target="Academic", top=3, use_embeddings=False)
    db.close()
    return path
