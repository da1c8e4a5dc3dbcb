"""docs/ARCHITECTURE.md stays true: the modules it names exist, it names them all, and imports go one way."""

import ast
import importlib.util
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "crosswalk"
DOC = (ROOT / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")


def top_level_modules() -> set[str]:
    modules = {p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__"}
    return modules | {p.parent.name for p in PACKAGE.glob("*/__init__.py")}


def imports_of(name: str) -> set[str]:
    """The crosswalk modules a module (or every file of a package) imports, inside functions too."""
    package = PACKAGE / name
    files = sorted(package.rglob("*.py")) if package.is_dir() else [PACKAGE / f"{name}.py"]
    found = set()
    for path in files:
        depth = len(path.relative_to(PACKAGE).parts) - 1  # 0 for crosswalk/x.py, 1 inside crosswalk/x/
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ImportFrom):
                continue
            if node.level == depth + 1:  # from the crosswalk package itself: "from .db import" in crosswalk/
                found.update([node.module.split(".")[0]] if node.module else [a.name for a in node.names])
            elif (node.module or "").startswith("crosswalk."):
                found.add(node.module.split(".")[1])
    return found & top_level_modules() - {name}


def test_every_module_it_names_exists_and_it_names_every_module():
    named = set(re.findall(r"crosswalk\.([a-z_]+)", DOC))
    missing = sorted(name for name in named if importlib.util.find_spec(f"crosswalk.{name}") is None)
    assert missing == []
    assert sorted(top_level_modules() - named) == []


def test_imports_go_one_way():
    graph = {name: imports_of(name) for name in top_level_modules()}
    # Only `python -m crosswalk` (crosswalk.__main__) opens the command line; nothing else imports it.
    assert [name for name, deps in graph.items() if "cli" in deps] == ["__main__"]
    # No cycle: repeatedly remove the modules that import nothing left.
    left = dict(graph)
    while left:
        leaves = [name for name, deps in left.items() if not deps & set(left)]
        assert leaves, f"these modules import each other in a circle: {sorted(left)}"
        for name in leaves:
            del left[name]


def test_each_module_imports_only_its_own_layer_or_those_below():
    # The second picture of docs/ARCHITECTURE.md: layers from the command line down to the shared
    # vocabulary, separated by rules.
    picture = DOC.split("```")[3]
    layers = [re.findall(r"crosswalk\.([a-z_]+)", part) for part in re.split(r"\n─+\n", picture)]
    assert len(layers) >= 6 and all(layers)
    layer_of = {name: i for i, names in enumerate(layers) for name in names}
    upward = sorted(f"{name} -> {dep}" for name, i in layer_of.items() for dep in imports_of(name)
                    if dep in layer_of and layer_of[dep] < i)
    assert upward == []


def test_every_library_a_module_imports_as_it_loads_is_a_dependency_of_the_package():
    # decisions.py imported rapidfuzz, declared only among the test extras: `pip install crosswalk`
    # then failed on `crosswalk demo` (ModuleNotFoundError; a concurrency audit's own install).
    # (Imports inside functions are the optional extras', as the embeddings' are.)
    import importlib.metadata
    import sys

    tomllib = __import__("pytest").importorskip("tomllib")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = {re.split(r"[<>=!~;\[ ]", requirement)[0].lower().replace("_", "-")
                for requirement in project["dependencies"]}
    distributions = importlib.metadata.packages_distributions()
    missing = set()
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.Import):
                names = [alias.name.split(".")[0] for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module.split(".")[0]]
            else:
                continue
            for name in names:
                if name in sys.stdlib_module_names or name == "crosswalk":
                    continue
                if not {d.lower().replace("_", "-") for d in distributions.get(name, [name])} & declared:
                    missing.add((str(path.relative_to(ROOT)), name))
    assert sorted(missing) == []
