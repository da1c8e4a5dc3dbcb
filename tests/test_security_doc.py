"""docs/SECURITY.md stays true: every file, module and name it gives in backticks exists."""

import importlib
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parent.parent
DOC = (ROOT / "docs" / "SECURITY.md").read_text(encoding="utf-8")
NAMES = re.findall(r"`([^`\n]+)`", DOC)


def test_every_file_it_names_exists():
    paths = [n for n in NAMES if re.fullmatch(r"[\w./-]+\.(py|md)", n) and "/" in n]
    assert paths, "SECURITY.md names no file"
    for path in paths:
        assert (ROOT / path).is_file(), path


def test_every_module_and_name_it_gives_exists():
    dotted = [n for n in NAMES if re.fullmatch(r"crosswalk(\.\w+)+", n)]
    assert len(dotted) > 10
    for name in dotted:
        parts = name.split(".")
        for cut in range(len(parts), 0, -1):  # the longest module, then attributes
            try:
                obj = importlib.import_module(".".join(parts[:cut]))
            except ModuleNotFoundError:
                continue
            for attribute in parts[cut:]:
                assert hasattr(obj, attribute), name
                obj = getattr(obj, attribute)
            break
        else:
            raise AssertionError(f"{name}: no such module")


def test_the_settings_and_limits_it_names_are_the_code_s():
    from crosswalk import review_site, site, site_guard
    assert "sql_time_limit_ms" in site.SETTINGS
    assert "frame-ancestors 'none'" in site_guard.CSP
    assert review_site.SESSION_SECONDS == 12 * 3600 and "12 hours" in DOC
    assert review_site.LoginLimits.FREE == {"account": 5, "address": 20} and "after 5" in DOC and "20 from" in DOC
    assert review_site.LoginLimits.MAX_WAIT == 15 * 60 and "15 minutes" in DOC
