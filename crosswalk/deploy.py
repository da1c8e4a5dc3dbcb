"""Handing a published folder to Datasette's own publishers: ``datasette publish cloudrun`` and ``datasette package``.

The command serves the folder as ``crosswalk serve`` does: the same metadata,
templates, plugin, stylesheet and Datasette settings, with Datasette pinned
(``datasette publish`` would otherwise install the newest, a 1.0 alpha that
ignores the canned queries).

Example::

    from crosswalk.deploy import format_command, publish_command
    print(format_command(publish_command("public/", "package", tag="district/crosswalk")))
"""

from __future__ import annotations

import os
import pathlib
import shlex
import shutil
import subprocess
import sys

from .errors import CrosswalkError
from .metadata import STATIC_MOUNT
from .publish import PUBLISHED_DB
from .site import datasette_settings

DATASETTE_PIN = "datasette==0.65.5"
TARGETS = ("cloudrun", "package")


def datasette_command() -> list[str]:
    """How to run Datasette: the ``datasette`` on PATH, or this Python's ``-m datasette``."""
    found = shutil.which("datasette")
    return [found] if found else [sys.executable, "-m", "datasette"]


def setting_options() -> str:
    """The site's Datasette settings as ``datasette serve`` options (for ``--extra-options``)."""
    def text(value):
        return ("on" if value else "off") if isinstance(value, bool) else str(value)

    return " ".join(f"--setting {name} {text(value)}" for name, value in datasette_settings().items())


def check_deploy_options(to: str, *, service=None, tag=None, memory=None, max_instances=None, port=None,
                         extra_install=()) -> None:
    """Refuse options that do not fit ``--to`` (before anything is written: ``crosswalk publish``
    calls it ahead of making the copy)."""
    if to not in TARGETS:
        raise CrosswalkError(f"--to must be one of {', '.join(TARGETS)}, not {to!r}")
    if to == "cloudrun":
        if not service:
            raise CrosswalkError("--to cloudrun needs --service NAME (the Cloud Run service to create or update)")
        wrong, fits = {"--tag": tag, "--port": port}, "package"
    else:
        wrong, fits = {"--service": service, "--memory": memory, "--max-instances": max_instances}, "cloudrun"
    for name, value in wrong.items():
        if value:
            raise CrosswalkError(f"{name} applies to --to {fits} only")
    for package in extra_install:
        if package.split("==")[0].split(">")[0].split("<")[0].strip().lower() == "datasette":
            raise CrosswalkError(f"Datasette is pinned to {DATASETTE_PIN}; do not --install {package!r}")


def publish_command(outdir, to: str, *, service=None, tag=None, title=None, memory=None, max_instances=None,
                    port=None, extra_install=(), version_note=None) -> list[str]:
    """The ``datasette publish cloudrun`` / ``datasette package`` command for a published folder."""
    check_deploy_options(to, service=service, tag=tag, memory=memory, max_instances=max_instances, port=port,
                         extra_install=extra_install)
    out = pathlib.Path(outdir).resolve()
    if not (out / PUBLISHED_DB).exists():
        raise CrosswalkError(f"{outdir} has no {PUBLISHED_DB}; run crosswalk publish first")
    if to == "cloudrun":
        args = _cloudrun_args(out, service=service, memory=memory, max_instances=max_instances)
    else:
        args = _package_args(out, tag=tag, port=port)
    args += [
        "--metadata", str(out / "metadata.yml"),
        "--template-dir", str(out / "templates"),
        "--plugins-dir", str(out / "plugins"),
        "--static", f"{STATIC_MOUNT}:{out / 'static'}",
        "--install", DATASETTE_PIN,
        # The same settings as `crosswalk serve`. (Datasette's Dockerfile runs `datasette inspect` itself.)
        "--extra-options", setting_options(),
    ]
    for package in extra_install:
        args += ["--install", package]
    if title:
        args += ["--title", title]
    if version_note:
        args += ["--version-note", version_note]
    return datasette_command() + args


def _cloudrun_args(out: pathlib.Path, *, service, memory, max_instances) -> list[str]:
    args = ["publish", "cloudrun", str(out / PUBLISHED_DB), "--service", service]
    if memory:
        args += ["--memory", memory]
    if max_instances:
        args += ["--max-instances", str(max_instances)]
    return args


def _package_args(out: pathlib.Path, *, tag, port) -> list[str]:
    args = ["package", str(out / PUBLISHED_DB)]
    if tag:
        args += ["--tag", tag]
    if port:
        args += ["--port", str(port)]
    return args


def format_command(command: list[str]) -> str:
    return " ".join(shlex.quote(part) for part in command)


def run_publish_command(command: list[str], *, cwd=None) -> int:
    """Run Datasette's publisher, passing its output through; a clear error when it fails."""
    try:
        completed = subprocess.run(command, cwd=cwd, env=os.environ.copy())
    except FileNotFoundError as exc:
        raise CrosswalkError(f"could not run {command[0]}: {exc.strerror}") from None
    if completed.returncode != 0:
        raise CrosswalkError(f"datasette {command[1 if len(command) > 1 else 0]} failed "
                             f"(exit status {completed.returncode}); its messages are above")
    return completed.returncode
