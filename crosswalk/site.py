"""Serving a crosswalk database with Datasette.

Example::

    from crosswalk.site import make_datasette
    ds = make_datasette("crosswalk-demo.db")
    response = await ds.client.get("/crosswalk-demo/standards.json")
"""

from __future__ import annotations

import asyncio
import copy
import pathlib

import yaml

METADATA_DB_KEY = "crosswalk"


def metadata_path() -> pathlib.Path | None:
    here = pathlib.Path(__file__).resolve().parent
    for candidate in (here.parent / "metadata.yml", here / "metadata.yml"):
        if candidate.exists():
            return candidate
    return None


def load_metadata(db_names: list[str], path=None) -> dict:
    """metadata.yml, with its ``databases.crosswalk`` block applied to each served database.

    Links in the home page description point at ``/crosswalk/...``; they are
    rewritten to the first served database.
    """
    path = pathlib.Path(path) if path else metadata_path()
    if path is None:
        return {"title": "crosswalk"}
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    block = (raw.get("databases") or {}).pop(METADATA_DB_KEY, None)
    if block is not None:
        raw["databases"] = {name: copy.deepcopy(block) for name in db_names}
    if db_names and raw.get("description_html"):
        raw["description_html"] = raw["description_html"].replace(
            f'href="/{METADATA_DB_KEY}/', f'href="/{db_names[0]}/'
        )
    return raw


def make_datasette(*paths, immutable: bool = False, metadata=None, plugins_dir=None,
                   template_dir=None, static=None, settings=None, config_dir=None):
    """A Datasette app for crosswalk databases, with crosswalk's metadata."""
    from datasette.app import Datasette

    files = [str(p) for p in paths]
    names = [pathlib.Path(p).stem for p in files]
    md = metadata if isinstance(metadata, dict) else load_metadata(names, metadata)
    kwargs = dict(
        metadata=md,
        # Suggested facets cost a GROUP BY per column on every table page: too slow at 300,000 alignments.
        settings={"facet_time_limit_ms": 500, "sql_time_limit_ms": 3000, "suggest_facets": False, **(settings or {})},
    )
    if immutable:
        kwargs["immutables"] = files
    else:
        kwargs["files"] = files
    if plugins_dir:
        kwargs["plugins_dir"] = str(plugins_dir)
    if template_dir:
        kwargs["template_dir"] = str(template_dir)
    if static:
        kwargs["static_mounts"] = static
    return Datasette(**kwargs)


def serve(*paths, host: str = "127.0.0.1", port: int = 8001, immutable: bool = False, **kwargs) -> None:
    """Serve databases with Datasette until interrupted (like ``datasette serve``)."""
    import uvicorn

    ds = make_datasette(*paths, immutable=immutable, **kwargs)
    asyncio.run(ds.invoke_startup())
    uvicorn.run(ds.app(), host=host, port=port, log_level="warning")


def serve_published(outdir, host: str = "127.0.0.1", port: int = 8001) -> None:
    """Serve a folder made by ``crosswalk publish`` as the public site (immutable, read-only)."""
    import uvicorn

    from .publish import make_public_datasette

    ds = make_public_datasette(outdir)
    asyncio.run(ds.invoke_startup())
    uvicorn.run(ds.app(), host=host, port=port, log_level="warning")
