"""The results folder: tables, manifest, figures and summary, written all at once or not at all.

A command claims its results folder first (``reserve_folder``: the folder must not exist, and no
other live process may be writing it), fills a hidden staging folder beside it, and only when
every file is written renames the staging folder into place. A results folder is therefore
complete or absent, and an existing folder is never overwritten.

The claim is a hidden lock file beside the folder, ``.NAME.claim``, held with ``flock``: the
kernel releases it when the process ends, however it ends. A run killed with SIGKILL leaves its
claim and perhaps its staging folder ``.NAME.partial-PID``; the next command that writes into the
same parent folder finds the claim unheld and removes both (``clear_stale``), so a rerun to the
same folder succeeds. ``reserve_default_folder`` claims the first free ``NAME-DATE-TIME[-N]``, so
two runs started in the same second get different folders.
"""

from __future__ import annotations

import errno
import fcntl
import glob
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from importlib import metadata
from pathlib import Path

import pandas as pd

from sim.errors import UserError

PACKAGES = ("cloudrace", "mesa", "numpy", "pandas", "pydantic", "pyyaml", "matplotlib", "scipy")
PROJECT_ROOT = Path(__file__).resolve().parent.parent
STAGING = re.compile(r"\.(?P<name>.+)\.partial-(?P<pid>\d+)")
_claims: dict[Path, int] = {}
"""The folders this process has claimed, with the open descriptor of each claim's lock."""


def claim_results_folder(out: Path | None, name: str, now: datetime) -> Path:
    """Claim ``--out`` (which must not exist) or a new ``results/NAME-DATE-TIME`` folder."""
    if out is None:
        return reserve_default_folder(Path("results"), name, now.astimezone())
    reserve_folder(out)
    return out


def reserve_default_folder(results_dir: Path, name: str, now: datetime) -> Path:
    """Claim ``results/<name>-<YYYYmmdd-HHMMSS>``, or the first free ``...-2``, ``...-3``."""
    base = results_dir / f"{name}-{now:%Y%m%d-%H%M%S}"
    for counter in range(1, 10_000):
        candidate = base if counter == 1 else base.with_name(f"{base.name}-{counter}")
        if not _exists(candidate) and _claim(candidate, quiet=True):
            return candidate
    raise UserError(f"{results_dir}: no free folder name for {base.name}; give --out")


def reserve_folder(folder: Path) -> None:
    """Claim ``folder`` for this process; refuse if it exists or another process is writing it.

    Nothing visible is created (only the hidden claim); what killed runs left beside it is
    cleared first.
    """
    if _exists(folder):
        raise UserError(f"{folder}: the output folder already exists; results are never "
                        "overwritten (choose another --out or leave it out)")
    if not _claim(folder, quiet=False):
        raise UserError(f"{folder}: another cloudrace process is writing this folder; wait for "
                        "it to finish or choose another --out")


def release_folder(folder: Path) -> None:
    """Give up the claim on ``folder`` and remove this process's staging folder (after a failure
    or once the folder is in place)."""
    folder = Path(folder)
    shutil.rmtree(staging_folder(folder), ignore_errors=True)
    descriptor = _claims.pop(folder.absolute(), None)
    if descriptor is not None:
        _claim_file(folder).unlink(missing_ok=True)
        os.close(descriptor)


@contextmanager
def staged(folder: Path) -> Iterator[Path]:
    """Yield the hidden staging folder of the claimed ``folder``; on success it becomes ``folder``.

    On any failure (an error, Ctrl-C, SIGTERM) the staging folder and the claim are removed and
    the exception goes on; a write the file system refuses (full, read-only) becomes a
    ``UserError`` naming the file.
    """
    folder = Path(folder)
    if folder.absolute() not in _claims:
        reserve_folder(folder)
    staging = staging_folder(folder)
    try:
        try:
            staging.mkdir()
            yield staging
            if _exists(folder):
                raise UserError(f"{folder}: the output folder appeared while the results were "
                                "being written; they were not written over it")
            os.rename(staging, folder)
        except OSError as error:
            raise UserError(f"{folder}: cannot write the results ({_reason(error)}); nothing "
                            "was written") from None
    finally:
        release_folder(folder)


def staging_folder(folder: Path) -> Path:
    """Where this process fills ``folder`` before renaming it into place."""
    return folder.parent / f".{folder.name}.partial-{os.getpid()}"


def clear_stale(parent: Path) -> list[str]:
    """Remove the claims and staging folders that killed processes left in ``parent``.

    A claim is stale when no process holds its lock; a staging folder without a claim is stale
    when the process named in it has ended. Returns the names removed.
    """
    removed = []
    for claim in parent.glob(".*.claim"):
        descriptor = _lock(claim)
        if descriptor is None:
            continue  # a live process holds it
        name = claim.name[1 : -len(".claim")]
        for staging in parent.glob(f".{glob.escape(name)}.partial-*"):
            shutil.rmtree(staging, ignore_errors=True)
            removed.append(staging.name)
        claim.unlink(missing_ok=True)
        os.close(descriptor)
        removed.append(claim.name)
    for staging in parent.glob(".*.partial-*"):
        match = STAGING.fullmatch(staging.name)
        if match and not (parent / f".{match['name']}.claim").exists() and \
                not _alive(int(match["pid"])):
            shutil.rmtree(staging, ignore_errors=True)
            removed.append(staging.name)
    return removed


def _claim(folder: Path, quiet: bool) -> bool:
    """Take the claim on ``folder`` (clearing stale leftovers first); False if another holds it."""
    folder = Path(folder)
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        clear_stale(folder.parent)
        descriptor = _lock(_claim_file(folder), create=True)
    except OSError as error:
        raise UserError(f"{folder}: cannot create the output folder ({_reason(error)})") from None
    if descriptor is None:
        return False
    if _exists(folder):  # made by someone else between the check and the claim
        _claim_file(folder).unlink(missing_ok=True)
        os.close(descriptor)
        if quiet:
            return False
        raise UserError(f"{folder}: the output folder already exists; results are never "
                        "overwritten (choose another --out or leave it out)")
    _claims[folder.absolute()] = descriptor
    return True


def _lock(path: Path, create: bool = False) -> int | None:
    """An exclusive ``flock`` on ``path``, or None if another open file holds it.

    The file can be removed by its holder between our ``open`` and our ``flock``; then the lock
    is on a file nobody else will see, so we try again on the current file.
    """
    while True:
        try:
            descriptor = os.open(path, os.O_RDWR | (os.O_CREAT if create else 0), 0o644)
        except FileNotFoundError:
            if create:
                raise
            return None
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(descriptor)
            return None
        try:
            current = os.stat(path)
        except FileNotFoundError:
            current = None
        if current is not None and os.path.samestat(os.fstat(descriptor), current):
            return descriptor
        os.close(descriptor)
        if not create:
            return None


def _claim_file(folder: Path) -> Path:
    return folder.parent / f".{folder.name}.claim"


def _exists(path: Path) -> bool:
    return path.exists() or path.is_symlink()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _reason(error: OSError) -> str:
    """``strerror`` and the file, e.g. ``No space left on device: results/x/contracts.csv``."""
    reason = error.strerror or errno.errorcode.get(error.errno or 0, str(error))
    return f"{reason}: {error.filename}" if error.filename else reason


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
    with staged(folder) as staging:
        for name, writer in writers.items():
            writer(staging / name)
