import csv
import dataclasses
import fcntl
import functools
import json
import os
import pathlib
import shutil
import subprocess
import sys

import jsonschema
import openpyxl
import pytest
from click.testing import CliRunner

from crosswalk.db import memory_db, open_db
from crosswalk.importer import import_file
from crosswalk.matching import match
from crosswalk.publish import publish

ROOT = pathlib.Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
ARTIFACTS = ROOT / "tests" / "artifacts"


def pytest_configure(config):
    config.addinivalue_line("markers", "long: a test of seconds (a browser, a server, many generated files); "
                                       "run early, see pytest_collection_modifyitems")


def pytest_addoption(parser):
    parser.addoption("--screenshots", action="store_true",
                     help="save full-page screenshots of the browser walks in tests/artifacts/")


@pytest.fixture
def shot(request):
    """``shot(page, name)``: a full-page screenshot of the page as tests/artifacts/NAME.png, for a
    person to look at, with ``--screenshots`` only: nothing reads them, and the walks' 18 cost
    about 8 s of the suite's CPU (the director's day 13.6 s with them, 8.1 s without)."""
    if not request.config.getoption("screenshots"):
        return lambda page, name: None

    def take(page, name):
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    return take


SOFFICE = shutil.which("soffice")


@pytest.fixture(scope="session")
def libreoffice(tmp_path_factory):
    """``libreoffice(files, to, outdir, infilter=None)``: LibreOffice, headless, converts ``files`` (one
    path or several) to ``to`` (a ``--convert-to`` target: "pdf", "csv", "xlsx:Calc MS Excel 2007 XML")
    in ``outdir``, and returns the paths it wrote. One user profile per test process: LibreOffice
    builds a profile on its first start (1.8 s against 1.2 s for a start with one). Skips where
    LibreOffice is not installed (``./run test`` installs it on Debian)."""
    if SOFFICE is None:
        pytest.skip("LibreOffice (soffice) is not installed (./run test installs it on Debian)")
    home = tmp_path_factory.mktemp("libreoffice")

    def convert(files, to, outdir, infilter=None):
        files = [pathlib.Path(files)] if isinstance(files, (str, pathlib.Path)) else [pathlib.Path(f) for f in files]
        command = [SOFFICE, f"-env:UserInstallation=file://{home}/profile", "--headless", "--norestore"]
        command += [f"--infilter={infilter}"] if infilter else []
        done = subprocess.run([*command, "--convert-to", to, "--outdir", str(outdir), *map(str, files)],
                              capture_output=True, text=True, timeout=300, env={**os.environ, "HOME": str(home)})
        written = [pathlib.Path(outdir) / f"{f.stem}.{to.split(':')[0]}" for f in files]
        assert done.returncode == 0 and all(w.exists() for w in written), done.stdout + done.stderr
        return written
    return convert


CASE_SCHEMA = ROOT / "crosswalk" / "schemas" / "case-v1p0-cfpackage-schema.json"


@functools.cache
def _case_validator() -> jsonschema.Draft7Validator:
    schema = json.loads(CASE_SCHEMA.read_text(encoding="utf-8"))
    return jsonschema.Draft7Validator(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)


# The schema's documents, items and associations give ``additionalProperties`` as a map of field
# -> schema ({"CFDocumentURI": {"$ref": LinkURI}}), which JSON Schema reads as a schema of unknown
# keywords, allowing any extra field, of any shape (an audit: CFDocumentURI "not a link" and a field
# "bogus" passed). validate_case checks them as the schema's authors meant: the fields it names, of
# its shape; beside them only CASE 1.1's ``notes`` on an association (crosswalk's strength and rationale).
_CASE_PARTS = (("CFDocument", "CFPackageDocument"), ("CFItems", "CFPackageItem"),
               ("CFAssociations", "CFPackageAssociation"))
_CASE_1_1 = {"CFPackageAssociation": {"notes": {"type": "string"}}}


def validate_case(package: dict) -> None:
    """Check a package against the official 1EdTech CASE 1.0 CFPackage schema (vendored in
    crosswalk/schemas/), formats included, and its documents', items' and associations' extra fields
    as the schema means them (above); fails naming the first problem's place in the package."""
    error = min(_case_validator().iter_errors(package), key=lambda e: list(map(str, e.absolute_path)), default=None)
    if error is not None:
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path).lstrip(".")
        raise AssertionError(f"{where or 'the package'}: {error.message[:300]}")
    schema = _case_validator().schema
    for part, name in _CASE_PARTS:
        definition = schema["definitions"][name]
        extra = {**definition["additionalProperties"], **_CASE_1_1.get(name, {})}
        objects = package.get(part)
        for index, obj in (enumerate(objects) if isinstance(objects, list) else [(None, objects or {})]):
            where = part if index is None else f"{part}[{index}]"
            for key, value in obj.items():
                if key in definition["properties"]:
                    continue
                if key not in extra:
                    raise AssertionError(f"{where}.{key}: a field neither CASE 1.0's schema nor CASE 1.1 gives")
                problem = next(jsonschema.Draft7Validator(
                    {**extra[key], "definitions": schema["definitions"]},
                    format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER).iter_errors(value), None)
                if problem is not None:
                    raise AssertionError(f"{where}.{key}: {problem.message[:300]}")


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


def write_welding_xlsx(folder: pathlib.Path) -> pathlib.Path:
    """The Welding tasks as the workbook ``welding.xlsx`` in ``folder``, sheet "Tasks"."""
    return write_xlsx(folder / "welding.xlsx", WELDING, sheet="Tasks")


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
    return write_welding_xlsx(tmp_path)


@pytest.fixture
def academic_csv(tmp_path):
    return write_csv(tmp_path / "academic.csv", ACADEMIC)


@pytest.fixture(scope="session")
def _small_db_built(tmp_path_factory):
    folder = tmp_path_factory.mktemp("small")
    path = folder / "small.db"
    db = open_db(path)
    import_file(db, write_welding_xlsx(folder), framework="Welding", kind="industry")
    import_file(db, write_csv(folder / "academic.csv", ACADEMIC), framework="Academic", kind="academic")
    match(db, source="Welding", target="Academic", top=3, use_embeddings=False)
    db.close()
    return path


@pytest.fixture(scope="session")
def _base_db_built(tmp_path_factory):
    folder = tmp_path_factory.mktemp("base")
    db = open_db(folder / "base.db")
    import_file(db, write_welding_xlsx(folder), framework="Welding", kind="industry")
    db.close()
    return folder / "base.db"


@pytest.fixture
def base_db(_base_db_built, tmp_path):
    """A database holding the Welding tasks (W.1-W.4) alone: a copy of one built once per test process
    (the bad-input tests import their files beside it)."""
    return pathlib.Path(shutil.copy(_base_db_built, tmp_path / "base.db"))


@pytest.fixture
def small_db(_small_db_built, tmp_path, welding_xlsx, academic_csv):
    """A database file with a small industry and academic framework (``welding_xlsx`` and
    ``academic_csv``, beside it), matched: a copy of one built once per test process (creating the
    schema, importing and matching took about 75 ms for each of the 62 tests that use it)."""
    return pathlib.Path(shutil.copy(_small_db_built, tmp_path / "small.db"))


# ---- a reviewed demo and its published copy, built once per test session (publishing, report, exports)

REVIEWERS = ("A. Rivera", "J. Chen")
HOSTILE = '<b>bold</b><script>window.xssRan = 1</script> and =HYPERLINK("http://evil")'


def accept_sample(path, per_program=4):
    """Accept the best suggestion of the first undecided tasks of every program, as reviewers would."""
    db = open_db(path)
    programs = list(db.query("select id from programs order by id"))
    n = 0
    for program in programs:
        tasks = list(db.query(
            "select s.id from standards s join program_frameworks pf on pf.framework_id = s.framework_id "
            "where pf.program_id = ? and exists (select 1 from alignments a where a.source_id = s.id) "
            "and not exists (select 1 from alignments a where a.source_id = s.id and a.status != 'suggested') "
            "order by s.id limit ?", [program["id"], per_program]))
        for task in tasks:
            alignment = next(db.query(
                "select id from alignments where source_id = ? order by rank, score desc limit 1", [task["id"]]))
            n += 1
            db.execute(
                "update alignments set status = 'accepted', strength = ?, rationale = ?, reviewer = ?, "
                "reviewed_at = ? where id = ?",
                ["full" if n % 3 else "partial", f"Students do this when they complete task {task['id']}.",
                 REVIEWERS[n % 2], f"2026-0{1 + n % 3}-1{n % 10}T15:00:00+00:00", alignment["id"]])
    # One rejected decision, a review log entry and a hostile statement the site must show as text.
    rejected = next(db.query("select id from alignments where status = 'suggested' order by id limit 1"))["id"]
    db.execute("update alignments set status = 'rejected', reviewer = 'A. Rivera', rationale = 'SECRET-REJECT' "
               "where id = ?", [rejected])
    db.execute("insert into review_log (alignment_id, action, reviewer, at, new_rationale) "
               "values (?, 'reject', 'A. Rivera', '2026-01-01', 'SECRET-LOG')", [rejected])
    certified = next(db.query(
        "select t.id from alignments a join standards t on t.id = a.target_id where a.status = 'accepted' "
        "order by a.id limit 1"))["id"]
    db.execute("update standards set statement = ? || ' ' || statement where id = ?", [HOSTILE, certified])
    db.conn.commit()
    db.close()
    return path


@dataclasses.dataclass
class DemoRun:
    path: pathlib.Path
    stdout: str
    stderr: str


# The demo is built by a child process that starts with the run, so that both test processes run
# other tests meanwhile: built inside the first test that asked for it, the other process sat waiting
# for it (on 2 cores, 5-6 s of each run's wall time). The child holds an exclusive lock on the file
# "building" for as long as it runs (it inherits the lock's descriptor), and writes "run.json" when done.
BUILD = """
import json, pathlib, sys, traceback
from click.testing import CliRunner
from crosswalk.cli import cli
folder = pathlib.Path(sys.argv[1])
result = CliRunner().invoke(cli, ["demo", "--db", str(folder / "crosswalk-demo.db"), "--no-serve", "--no-embeddings"])
failure = "".join(traceback.format_exception(*result.exc_info)) if result.exit_code and result.exc_info else ""
(folder / "run.json").write_text(json.dumps(dict(code=result.exit_code, stdout=result.stdout, stderr=result.stderr,
                                                 failure=result.output + failure)), encoding="utf-8")
"""


def _demo_folder(tmp_path_factory) -> pathlib.Path:
    shared = tmp_path_factory.getbasetemp()
    # In pytest-xdist's test processes (its worker_id fixture is missing under -p no:xdist).
    if "PYTEST_XDIST_WORKER" in os.environ:
        shared = shared.parent  # the run's folder, above each process's own
    return shared / "session-demo"


@pytest.fixture(scope="session", autouse=True)
def _demo_in_the_background(request, tmp_path_factory):
    """Start building the session's demo as the run starts, where a collected test needs it; the
    first test process to come here starts it, once per run."""
    if not any("demo" in item.fixturenames for item in request.session.items):
        yield
        return
    folder = _demo_folder(tmp_path_factory)
    child = None
    with open(folder.parent / "session-demo.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not folder.exists():
            folder.mkdir()
            with open(folder / "building", "w") as building:
                fcntl.flock(building, fcntl.LOCK_EX)
                child = subprocess.Popen([sys.executable, "-c", BUILD, str(folder)], pass_fds=[building.fileno()],
                                         stdin=subprocess.DEVNULL, cwd=ROOT)
    yield
    if child is not None and child.poll() is None:  # this process's tests ended before the demo was built
        # The other test process may still need it (killed here, it found "ended without a result" where
        # this one had run only short tests); a run that failed wants no more of it.
        if request.session.testsfailed:
            child.kill()
        child.wait()


@pytest.fixture(scope="session")
def demo(_demo_in_the_background, tmp_path_factory):
    """`crosswalk demo`, run once for the whole test run: the whole pipeline, decisions and re-match
    included, built in the background from the run's start (above). Every test process shares it,
    read only: a test that writes works on a copy. (Each process built its own: on 2 cores both
    took 10-11 s at once, against 7 s for one alone.)"""
    folder = _demo_folder(tmp_path_factory)
    with open(folder / "building") as building:
        fcntl.flock(building, fcntl.LOCK_SH)  # granted once the child has ended
    done = folder / "run.json"
    if not done.exists():
        pytest.fail(f"the demo's build in {folder} ended without a result")
    run = json.loads(done.read_text(encoding="utf-8"))
    assert run["code"] == 0, run["failure"]
    return DemoRun(folder / "crosswalk-demo.db", run["stdout"], run["stderr"])


@pytest.fixture(scope="session")
def reviewed_demo(demo, tmp_path_factory):
    """A copy of the session's demo, with more reviewed (accepted) alignments."""
    path = tmp_path_factory.mktemp("reviewed") / "crosswalk-demo.db"
    shutil.copy(demo.path, path)
    return accept_sample(path)


@pytest.fixture(scope="session")
def published(reviewed_demo, tmp_path_factory):
    out = tmp_path_factory.mktemp("public") / "site"
    publish(reviewed_demo, out)
    return out


def pytest_collection_modifyitems(session, config, items):
    """The tests that need the session's demo run after the others, so that both test processes have
    work while the demo is built in the background; within each part the long ones (marked ``long``,
    or starting LibreOffice) run first, so that the short ones even out the two processes' ends (a
    stable sort: each file keeps its order otherwise). On the tests common with bbec986, before this
    order one process ended 3.8 s before the other (the LibreOffice report test ran last), after it
    within 0.6 s."""

    def long(item):
        return "libreoffice" in item.fixturenames or item.get_closest_marker("long") is not None

    items.sort(key=lambda item: ("demo" in item.fixturenames, not long(item)))
