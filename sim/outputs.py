"""The results folder: tables, manifest, figures and summary, written all at once or not at all.

A run's folder is reserved first (``reserve_folder``: it must not exist) and filled in a hidden
temporary folder beside it; only when every file is written does the temporary folder replace the
reserved one (one ``os.replace``), so a results folder is either complete or absent, and an
existing folder is never overwritten.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import subprocess
from collections.abc import Callable
from contextlib import contextmanager
from datetime import datetime
from importlib import metadata
from pathlib import Path

import pandas as pd

from sim.errors import UserError

PACKAGES = ("cloudrace", "mesa", "numpy", "pandas", "pydantic", "pyyaml", "matplotlib", "scipy")
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def default_folder(results_dir: Path, scenario_name: str, now: datetime) -> Path:
    """``results/<scenario>-<YYYYmmdd-HHMMSS>``, with a counter if that name is taken."""
    base = results_dir / f"{scenario_name}-{now:%Y%m%d-%H%M%S}"
    candidate, counter = base, 1
    while candidate.exists():
        counter += 1
        candidate = base.with_name(f"{base.name}-{counter}")
    return candidate


def reserve_folder(folder: Path) -> None:
    """Claim ``folder`` (created empty); refuse if it already exists."""
    if folder.exists():
        raise UserError(f"{folder}: the output folder already exists; results are never "
                        "overwritten (choose another --out or leave it out)")
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        folder.mkdir()
    except OSError as error:
        raise UserError(f"{folder}: cannot create the output folder ({error.strerror})") from None


@contextmanager
def staged_folder(folder: Path):
    """Yield a hidden temporary folder; on success it replaces the reserved ``folder``.

    On any failure the temporary folder and the empty reservation are removed.
    """
    staging = folder.parent / f".{folder.name}.partial-{os.getpid()}"
    staging.mkdir()
    try:
        yield staging
        os.replace(staging, folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
        raise


def write_csv(table: pd.DataFrame, path: Path, append: bool = False) -> None:
    """CSV with booleans as true/false, floats at full precision, no index.

    With ``append``, the rows are added to the end of the file, without a header.
    """
    table = table.copy()
    for column in table.columns:
        values = table[column].dropna()
        if len(values) and values.map(type).eq(bool).all():
            table[column] = table[column].map({True: "true", False: "false"})
    table.to_csv(path, index=False, lineterminator="\n", mode="a" if append else "w",
                 header=not append)


def git_commit() -> str:
    """The project's git commit (with ``-dirty`` for uncommitted changes), or ``unknown``."""
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=PROJECT_ROOT, text=True,
                                capture_output=True, timeout=10, check=True).stdout.strip()
        status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                                cwd=PROJECT_ROOT, text=True, capture_output=True, timeout=10,
                                check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return commit + ("-dirty" if status else "")


def package_versions() -> dict[str, str]:
    """Python and the versions of the packages the results depend on."""
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_manifest(path: Path, **fields) -> None:
    """manifest.json: what was run, with which seeds, code and packages, and when."""
    manifest = {"git_commit": git_commit(), "versions": package_versions(), **fields}
    path.write_text(json.dumps(manifest, indent=2, sort_keys=False, default=str) + "\n")


def write_results(folder: Path, writers: dict[str, Callable[[Path], None]]) -> None:
    """Fill ``folder`` atomically: each writer writes its file or folder at the given path."""
    with staged_folder(folder) as staging:
        for name, writer in writers.items():
            writer(staging / name)
