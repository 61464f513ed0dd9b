"""Where a sweep's results go: a folder of Parquet files that survives being killed at any time.

Layout of a sweep folder::

    manifest.json          what was run: experiment, scenario, design, seeds, versions, sessions
    scenario.yaml          the resolved base scenario every run starts from
    design.parquet         the design's coordinates, one row per point (what SALib sampled)
    runs/part-000001.parquet ...    one row per run: ids, seed, parameters, status, outcomes
    yearly/part-000001.parquet ...  each run's yearly table, keyed by run_id

Results are appended a batch at a time, one file per batch and table. Each file is written
under a hidden temporary name and renamed into place (``os.replace`` is atomic), the yearly part
before the runs part with the same number: a run counts as finished once its row is in a runs
part. A sweep killed at any instant (even with SIGKILL) therefore leaves whole files only, plus
perhaps a temporary file and a yearly part without its runs part; ``SweepStore.open`` removes
both, and the runs in them are run again. Readers ignore hidden (``.``) and ``_`` files, so the
dataset reads cleanly at any time, even while a sweep is writing it.

Both tables are written with an explicit schema (kept in each folder's ``_common_metadata``), so
a batch of integers, of floats or of nothing but missing values all land as the same types.
A lock file keeps two sweeps from writing the same folder at once.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sim.errors import UserError
from sim.outputs import release_folder, reserve_folder, staging_folder

MANIFEST = "manifest.json"
DESIGN = "design.parquet"
SCENARIO = "scenario.yaml"
TABLES = ("runs", "yearly")
SCHEMA_FILE = "_common_metadata"
PART = re.compile(r"part-(\d+)\.parquet")


class SweepStore:
    """A sweep folder, open for appending batches and reading results."""

    def __init__(self, folder: Path, lock: int | None = None) -> None:
        self.folder = Path(folder)
        self._lock = lock
        self.schemas = {table: pq.read_schema(self.folder / table / SCHEMA_FILE)
                        for table in TABLES}
        self._next_part = 1 + max((_part_number(p) for table in TABLES
                                   for p in (self.folder / table).glob("part-*.parquet")),
                                  default=0)

    # --- creating and opening --------------------------------------------------------------

    @classmethod
    def create(cls, folder: Path, *, manifest: dict[str, Any], scenario_text: str,
               design: pd.DataFrame, runs_schema: pa.Schema, yearly_schema: pa.Schema
               ) -> SweepStore:
        """Make a new sweep folder (it must not exist) and lock it for writing.

        The folder is filled in a hidden staging folder and renamed into place once its
        manifest is written, so a kill while it is being made leaves no half-made sweep folder
        (the next command writing beside it removes the staging folder).
        """
        folder = Path(folder)
        reserve_folder(folder)
        staging = staging_folder(folder)
        lock = None
        try:
            staging.mkdir()
            lock = _acquire_lock(staging)
            for table, schema in zip(TABLES, (runs_schema, yearly_schema), strict=True):
                (staging / table).mkdir()
                pq.write_metadata(schema, staging / table / SCHEMA_FILE)
            _write_atomically(staging / SCENARIO, scenario_text.encode())
            _replace_into(staging / DESIGN,
                          lambda path: pq.write_table(
                              pa.Table.from_pandas(design, preserve_index=False), path))
            text = json.dumps(manifest, indent=2, default=str) + "\n"
            _write_atomically(staging / MANIFEST, text.encode())
            os.rename(staging, folder)
        except BaseException as error:
            if lock is not None:
                os.close(lock)
            release_folder(folder)
            if isinstance(error, OSError):
                raise UserError(f"{folder}: cannot make the sweep folder ({error.strerror}); "
                                "nothing was written") from None
            raise
        release_folder(folder)
        return cls(folder, lock)

    @classmethod
    def open(cls, folder: Path, *, for_writing: bool = False) -> SweepStore:
        """Open an existing sweep folder; for writing, lock it and clear what a kill left.

        A folder that is not a whole sweep folder is refused, and nothing is written into it.
        """
        folder = Path(folder)
        _check_sweep_folder(folder)
        lock = None
        try:
            if for_writing:
                lock = _acquire_lock(folder)
                _clear_leftovers(folder)
            return cls(folder, lock)
        except OSError as error:
            if lock is not None:
                os.close(lock)
            raise UserError(f"{folder}: cannot open the sweep folder ({error.strerror}: "
                            f"{error.filename})") from None
        except (pa.ArrowException, ValueError) as error:
            if lock is not None:
                os.close(lock)
            raise UserError(f"{folder}: a damaged sweep folder ({str(error)[:200]})") from None

    def close(self) -> None:
        """Release the write lock."""
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None

    def __enter__(self) -> SweepStore:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    # --- writing ---------------------------------------------------------------------------

    def append(self, runs: list[dict[str, Any]], yearly: list[pd.DataFrame]) -> None:
        """Write one batch: its yearly part first, then its runs part (which marks them done)."""
        if not runs:
            return
        name = f"part-{self._next_part:06d}.parquet"
        self._next_part += 1
        if yearly:
            table = pa.Table.from_pandas(pd.concat(yearly, ignore_index=True),
                                         schema=self.schemas["yearly"], preserve_index=False)
            _replace_into(self.folder / "yearly" / name, lambda path: pq.write_table(table, path))
        table = pa.Table.from_pylist(runs, schema=self.schemas["runs"])
        _replace_into(self.folder / "runs" / name, lambda path: pq.write_table(table, path))

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        """Replace manifest.json (atomically)."""
        text = json.dumps(manifest, indent=2, default=str) + "\n"
        _write_atomically(self.folder / MANIFEST, text.encode())

    # --- reading ---------------------------------------------------------------------------

    def manifest(self) -> dict[str, Any]:
        """The manifest as written."""
        return json.loads((self.folder / MANIFEST).read_text())

    def scenario_text(self) -> str:
        """The resolved base scenario as YAML."""
        return (self.folder / SCENARIO).read_text()

    def design(self) -> pd.DataFrame:
        """The design's coordinates, one row per point, in the sampler's order."""
        try:
            return pd.read_parquet(self.folder / DESIGN)
        except (pa.ArrowException, OSError) as error:
            raise UserError(f"{self.folder}: a damaged sweep folder ({DESIGN}: "
                            f"{str(error)[:200]})") from None

    def finished_run_ids(self) -> set[int]:
        """Ids of the runs with a row in the runs table (finished, whether ok or failed)."""
        ids = self._read("runs", columns=["run_id"])["run_id"]
        return set(ids.to_pylist())

    def runs(self) -> pd.DataFrame:
        """Every finished run, by run id."""
        return self._read("runs").to_pandas().sort_values("run_id", ignore_index=True)

    def yearly(self) -> pd.DataFrame:
        """Every stored yearly row, by run id and year."""
        table = self._read("yearly").to_pandas()
        return table.sort_values(["run_id", "year"], ignore_index=True)

    def _read(self, table: str, columns: list[str] | None = None) -> pa.Table:
        try:
            return pq.read_table(self.folder / table, schema=self.schemas[table],
                                 columns=columns)
        except pa.ArrowException as error:
            raise UserError(f"{self.folder}: a damaged sweep folder ({table}/: "
                            f"{str(error)[:200]})") from None


def _check_sweep_folder(folder: Path) -> None:
    """``UserError`` unless ``folder`` holds the files of a sweep folder (checked read-only)."""
    if not (folder / MANIFEST).is_file():
        raise UserError(f"{folder}: not a sweep folder (no {MANIFEST}); run "
                        "'cloudrace sweep EXPERIMENT' to make one")
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise UserError(f"{folder}: not a sweep folder ({MANIFEST} cannot be read: "
                        f"{str(error)[:200]})") from None
    if not isinstance(manifest, dict):
        raise UserError(f"{folder}: not a sweep folder ({MANIFEST} is not a JSON mapping)")
    missing = [name for name in (DESIGN, SCENARIO, *(f"{t}/{SCHEMA_FILE}" for t in TABLES))
               if not (folder / name).is_file()]
    if missing:
        raise UserError(f"{folder}: a damaged sweep folder: {', '.join(missing)} missing")


def _part_number(path: Path) -> int:
    match = PART.fullmatch(path.name)
    return int(match[1]) if match else 0


def _acquire_lock(folder: Path) -> int:
    """An exclusive lock on ``folder/.lock``, released when the process ends (even by a kill)."""
    descriptor = os.open(folder / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(descriptor)
        raise UserError(f"{folder}: another sweep is writing this folder; wait for it to "
                        "finish or stop it first") from None
    return descriptor


def _clear_leftovers(folder: Path) -> None:
    """Remove temporary files and yearly parts whose runs part was never written."""
    for path in [*folder.glob(".*.tmp"), *(p for t in TABLES for p in (folder / t).glob(".*"))]:
        path.unlink()
    finished_parts = {path.name for path in (folder / "runs").glob("part-*.parquet")}
    for path in (folder / "yearly").glob("part-*.parquet"):
        if path.name not in finished_parts:
            path.unlink()


def _replace_into(path: Path, write) -> None:
    """Call ``write(temporary path)``, flush it to disk, then rename it to ``path``."""
    temporary = path.with_name(f".{path.name}.tmp")
    write(temporary)
    with open(temporary, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def _write_atomically(path: Path, data: bytes) -> None:
    _replace_into(path, lambda temporary: temporary.write_bytes(data))
