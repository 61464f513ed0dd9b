"""Sweeps: run every (design point, replication) of an experiment and store what each produced.

The pieces are independent: the design says what to run (``sim.experiments.designs``), the
executor where (``sim.experiments.executors``), the store where results go
(``sim.experiments.store``). What travels to the executor is a list of ``RunTask``s and the plain
function ``execute_batch``, whose ``execute`` calls ``run_once(scenario file, values, seed,
outcomes)`` for each: a run depends on nothing else, so any executor gives the same numbers. A
process pool gets one run per task; a Dask cluster a few large tasks per worker (see
``_runs_per_task``), each carrying the scenario once.

Seeds: one root seed; the run of design point ``p``, replication ``r`` is seeded from
``SeedSequence(root, spawn_key=(p, r))`` (its first 64-bit word, halved to stay a signed 64-bit
integer). A run's seed is therefore fixed by its place in the design, whatever the executor, the
number of workers or the order in which runs finish, and the runs of a resumed sweep are the runs
the first session would have made.

A run that raises is recorded with ``status: failed`` and its error, and the sweep goes on.
Finished runs are written in batches (every ``batch_size`` runs or ``flush_seconds``), so an
interrupted sweep loses at most the runs of one unwritten batch; ``resume`` runs only what is
missing.
"""

from __future__ import annotations

import functools
import gc
import hashlib
import os
import pickle
import socket
import sys
import tempfile
import time
import traceback
from collections import OrderedDict
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, CancelledError, Executor, Future, wait
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import yaml
from tqdm import tqdm

from sim.errors import UserError
from sim.experiments.designs import design_points
from sim.experiments.outcomes import Outcome
from sim.experiments.parameters import (
    CategoricalParameter,
    IntegerParameter,
    Parameter,
    RealParameter,
    salib_problem,
)
from sim.experiments.spec import Experiment
from sim.experiments.store import SweepStore
from sim.outputs import git_commit, package_versions
from sim.runner import run_replication
from sim.scenario import load_scenario, scenario_hash
from sim.schema import ScenarioFile

EXPERIMENT_PACKAGES = ("SALib", "dask", "distributed", "pyarrow")
RUN_COLUMNS = ("run_id", "point", "replication", "seed")
RUN_GC_THRESHOLD = 50_000
STATUS_COLUMNS = ("status", "error", "traceback", "seconds", "worker")


# --- one run ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScenarioText:
    """The resolved base scenario as YAML, so workers need no access to the scenario files."""

    text: str
    digest: str

    @classmethod
    def of(cls, text: str) -> ScenarioText:
        """Wrap YAML text with its SHA-256."""
        return cls(text, hashlib.sha256(text.encode()).hexdigest())


@dataclass(frozen=True)
class RunTask:
    """Everything one run needs: shipped to the executor as it is."""

    run_id: int
    seed: int
    values: dict[str, Any]
    scenario: ScenarioText
    outcomes: tuple[Outcome, ...]
    keep_yearly: bool


@dataclass
class RunRecord:
    """What one run produced, or why it failed."""

    run_id: int
    status: str
    outcomes: dict[str, float]
    yearly: pd.DataFrame | None
    error: str | None
    traceback: str | None
    seconds: float
    worker: str


def run_once(scenario_file: Path, values: dict[str, Any], seed: int,
             outcomes: tuple[Outcome, ...]) -> tuple[dict[str, float], pd.DataFrame]:
    """Run the scenario with ``values`` set (key paths) from ``seed``: outcomes and yearly table."""
    settings = _scenario_with(scenario_file, values)
    result = run_replication(settings, 0, seed)
    yearly = result.yearly.drop(columns=["replication", "seed"])
    return {outcome.name: outcome(result.contracts, yearly) for outcome in outcomes}, yearly


_LOADED: OrderedDict[tuple[Path, str], bytes] = OrderedDict()
LOADED_KEPT = 64


def _scenario_with(scenario_file: Path, values: dict[str, Any]) -> ScenarioFile:
    """``load_scenario(scenario_file, values=values)``, loaded once per process for each point.

    The replications of a design point share their values, and loading (reading, validating,
    checking against the country data) costs about a tenth of a run; each run gets its own copy,
    so a model can never see another run's changes.
    """
    key = (scenario_file, repr(values))
    loaded = _LOADED.get(key)
    if loaded is None:
        loaded = _LOADED[key] = pickle.dumps(load_scenario(scenario_file, values=values))
        if len(_LOADED) > LOADED_KEPT:
            _LOADED.popitem(last=False)
    return pickle.loads(loaded)


def execute(task: RunTask) -> RunRecord:
    """Run one task, turning any exception into a failed record (the sweep goes on)."""
    started = time.perf_counter()
    worker = f"{socket.gethostname()}:{os.getpid()}"
    scenario_file = _scenario_file(task.scenario)
    thresholds = gc.get_threshold()
    # A run allocates hundreds of thousands of short-lived objects; with Python's default
    # threshold the cycle collector runs ~250 times a run and takes a tenth of it. Collecting
    # every RUN_GC_THRESHOLD allocations instead costs a few MB and changes no result.
    gc.set_threshold(RUN_GC_THRESHOLD, *thresholds[1:])
    try:
        outcomes, yearly = run_once(scenario_file, task.values, task.seed, task.outcomes)
    except Exception as error:
        # The scenario's temporary path means nothing to the reader: name the sweep's copy.
        message = f"{type(error).__name__}: {error}".replace(str(scenario_file), "scenario.yaml")
        return RunRecord(task.run_id, "failed", {}, None, message, traceback.format_exc(),
                         time.perf_counter() - started, worker)
    finally:
        gc.set_threshold(*thresholds)
    return RunRecord(task.run_id, "ok", outcomes, yearly if task.keep_yearly else None, None,
                     None, time.perf_counter() - started, worker)


@functools.cache
def _scenario_file(scenario: ScenarioText) -> Path:
    """The scenario written once per process to a temporary file (the loader reads paths)."""
    path = Path(tempfile.gettempdir()) / f"cloudrace-scenario-{scenario.digest[:16]}.yaml"
    if not path.is_file():
        partial = path.with_name(f".{path.name}.{os.getpid()}")
        partial.write_text(scenario.text, encoding="utf-8")
        os.replace(partial, path)
    return path


def run_seed(root_seed: int, point: int, replication: int) -> int:
    """The seed of one run: spawned from the root by (design point, replication)."""
    sequence = np.random.SeedSequence(root_seed, spawn_key=(point, replication))
    return int(sequence.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


def design_seed(root_seed: int) -> int:
    """The sampler's seed, derived from the root so one number fixes the whole sweep."""
    return int(np.random.SeedSequence(root_seed).generate_state(1)[0])


# --- starting and resuming -------------------------------------------------------------------


def create_sweep(experiment: Experiment, folder: Path, command: str) -> SweepStore:
    """Sample the design and make the sweep folder with its manifest (nothing run yet)."""
    if folder.exists():
        raise UserError(f"{folder}: the sweep folder already exists; continue it with --resume "
                        "or choose another --out")
    root_seed = experiment.file.seed
    if root_seed is None:
        root_seed = int(np.random.SeedSequence().entropy % 2**63)
    coordinates = design_points(experiment.parameters, experiment.file.design,
                                design_seed(root_seed))
    design = pd.DataFrame(coordinates, columns=[p.name for p in experiment.parameters])
    design.insert(0, "point", np.arange(len(design), dtype=np.int64))
    replications = experiment.file.replications
    manifest = {
        "kind": "cloudrace sweep",
        "description": experiment.file.description,
        "experiment_file": str(experiment.path),
        "experiment_digest": experiment.digest(),
        "experiment": experiment.file.model_dump(mode="json"),
        "scenario_file": str(experiment.scenario_path),
        "scenario_hash": scenario_hash(experiment.base),
        "parameters": [_describe(p) for p in experiment.parameters],
        "problem": salib_problem(experiment.parameters),
        "design": experiment.file.design.model_dump(mode="json"),
        "points": len(design),
        "replications": replications,
        "runs": len(design) * replications,
        "root_seed": root_seed,
        "root_seed_source": "experiment file" if experiment.file.seed is not None else "entropy",
        "run_seeds": "SeedSequence(root_seed, spawn_key=(point, replication)), first 64-bit "
                     "word >> 1; design seed: SeedSequence(root_seed), first 32-bit word",
        "outcomes": [{"name": o.name, "description": o.description}
                     for o in experiment.outcomes],
        "git_commit": git_commit(),
        "versions": {**package_versions(), **_experiment_versions()},
        "command": command,
        "created": _now(),
        "sessions": [],
    }
    return SweepStore.create(folder, manifest=manifest,
                             scenario_text=scenario_yaml(experiment), design=design,
                             runs_schema=runs_schema(experiment),
                             yearly_schema=yearly_schema(experiment))


def open_sweep(experiment: Experiment, folder: Path) -> SweepStore:
    """Open a sweep folder to resume it; refuse if the experiment or its scenario changed."""
    if not folder.exists():
        raise UserError(f"{folder}: no such sweep folder to resume; leave out --resume to "
                        "start it")
    store = SweepStore.open(folder, for_writing=True)
    manifest = store.manifest()
    if manifest.get("experiment_digest") != experiment.digest():
        store.close()
        raise UserError(f"{folder}: the experiment or its resolved base scenario (files or "
                        "schema defaults) has changed since this sweep started (from "
                        f"{manifest.get('experiment_file')}); resume with the same files and "
                        "code, or start a new sweep with another --out")
    return store


def scenario_yaml(experiment: Experiment) -> str:
    """The resolved base scenario as YAML text (it loads back to the same scenario)."""
    return yaml.safe_dump(experiment.base.model_dump(), sort_keys=False, allow_unicode=True)


def runs_schema(experiment: Experiment) -> pa.Schema:
    """The runs table: ids and seed, one column per parameter, status, one per outcome."""
    fields = [pa.field(name, pa.int64()) for name in RUN_COLUMNS]
    for parameter in experiment.parameters:
        fields.append(pa.field(parameter.name, _arrow_type(parameter),
                               metadata={"kind": parameter.kind}))
    fields += [pa.field("status", pa.string()), pa.field("error", pa.string()),
               pa.field("traceback", pa.string()), pa.field("seconds", pa.float64()),
               pa.field("worker", pa.string())]
    fields += [pa.field(outcome.name, pa.float64(), metadata={"kind": "outcome"})
               for outcome in experiment.outcomes]
    return pa.schema(fields)


def yearly_schema(experiment: Experiment) -> pa.Schema:
    """The yearly table: run id, year and every yearly metric as a float."""
    return pa.schema([pa.field("run_id", pa.int64()), pa.field("year", pa.int64())]
                     + [pa.field(c, pa.float64()) for c in experiment.yearly_columns
                        if c != "year"])


def _arrow_type(parameter: Parameter) -> pa.DataType:
    if isinstance(parameter, IntegerParameter):
        return pa.int64()
    if isinstance(parameter, CategoricalParameter):
        return {"number": pa.float64(), "bool": pa.bool_()}.get(parameter.column_type(),
                                                                  pa.string())
    return pa.float64()


def _describe(parameter: Parameter) -> dict[str, Any]:
    if isinstance(parameter, CategoricalParameter):
        return {"name": parameter.name, "kind": parameter.kind, "type": "categorical",
                "levels": list(parameter.levels), "column": parameter.column_type()}
    description = {"name": parameter.name, "kind": parameter.kind,
                   "type": "integer" if isinstance(parameter, IntegerParameter) else "real",
                   "low": parameter.low, "high": parameter.high}
    if isinstance(parameter, RealParameter):
        description["scale"] = parameter.scale
    return description


def _experiment_versions() -> dict[str, str]:
    versions = {}
    for name in EXPERIMENT_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


# --- the orchestration -----------------------------------------------------------------------


@dataclass
class SweepCounts:
    """How a session of a sweep went."""

    total: int
    done_before: int
    ok: int = 0
    failed: int = 0

    @property
    def done(self) -> int:
        """Runs finished so far, this session and before."""
        return self.done_before + self.ok + self.failed


def run_sweep(experiment: Experiment, store: SweepStore, executor: Executor, *,
              executor_name: str = "", progress: bool = True, batch_size: int = 50,
              flush_seconds: float = 10.0) -> SweepCounts:
    """Run every unfinished run of the sweep in ``store`` on ``executor``, storing as they end.

    Keeps about two runs per executor slot in flight. On an interruption (Ctrl-C, SIGTERM
    turned into ``KeyboardInterrupt``) the finished runs are written before it propagates.
    """
    manifest = store.manifest()
    root_seed, replications = manifest["root_seed"], manifest["replications"]
    design = store.design()
    finished = store.finished_run_ids()
    counts = SweepCounts(manifest["runs"], len(finished))
    session = {"started": _now(), "executor": executor_name,
               "slots": getattr(executor, "slots", None), "status": "running"}
    manifest["sessions"].append(session)
    store.write_manifest(manifest)

    scenario = ScenarioText.of(store.scenario_text())
    pending = _unfinished_runs(experiment.parameters, design, replications, root_seed, finished)
    slots = max(1, getattr(executor, "slots", 1))
    runs_per_task = _runs_per_task(executor, counts.total - counts.done_before, batch_size)
    window = 2 * slots
    in_flight: dict[Future, list[int]] = {}
    batch: list[RunRecord] = []
    rows: dict[int, dict[str, Any]] = {}
    last_flush = time.monotonic()
    # In a log file (a cluster job) a redraw every few seconds would bury everything else.
    bar = tqdm(total=counts.total, initial=counts.done_before, unit="run", desc=experiment.name,
               disable=not progress, dynamic_ncols=True, smoothing=0.05,
               mininterval=0.1 if sys.stderr.isatty() else 30)

    def submit(runs: list[tuple[dict[str, Any], list[float]]]) -> None:
        tasks = []
        for row, coordinates in runs:
            tasks.append(RunTask(row["run_id"], row["seed"],
                                 experiment.scenario_values(coordinates), scenario,
                                 tuple(experiment.outcomes), experiment.file.yearly))
            rows[row["run_id"]] = row
        in_flight[executor.submit(execute_batch, tasks)] = [task.run_id for task in tasks]

    def collect(future: Future) -> None:
        for record in _records_of(future, in_flight.pop(future), experiment.yearly_columns):
            batch.append(record)
            if record.status == "ok":
                counts.ok += 1
            else:
                counts.failed += 1
                bar.set_postfix(failed=counts.failed, refresh=False)
            bar.update()

    def flush() -> None:
        nonlocal last_flush
        store.append([_row(rows[r.run_id], r) for r in batch],
                     [_keyed(r) for r in batch if r.yearly is not None])
        for record in batch:  # only once written: a failed write (disk full) keeps them
            del rows[record.run_id]
        batch.clear()
        last_flush = time.monotonic()

    try:
        while True:
            while len(in_flight) < window and (runs := list(islice(pending, runs_per_task))):
                submit(runs)
            if not in_flight:
                break
            done, _ = wait(in_flight, timeout=flush_seconds, return_when=FIRST_COMPLETED)
            for future in done:
                collect(future)
            if len(batch) >= batch_size or (batch and
                                            time.monotonic() - last_flush >= flush_seconds):
                flush()
        session["status"] = "complete" if counts.done == counts.total else "incomplete"
    except BaseException:
        session["status"] = "interrupted"
        for future in [f for f in in_flight if f.done() and not f.cancelled()]:
            collect(future)  # finished before the interruption: keep them
        raise
    finally:
        bar.close()
        try:
            if batch:
                flush()
        finally:
            executor.shutdown(wait=True, cancel_futures=True)
            session.update(finished=_now(), ok=counts.ok, failed=counts.failed)
            store.write_manifest(manifest)
    return counts


def _unfinished_runs(parameters: list[Parameter], design: pd.DataFrame, replications: int,
                     root_seed: int, finished: set[int]
                     ) -> Iterator[tuple[dict[str, Any], list[float]]]:
    """Each run still to do, in run-id order: its row's ids, seed and parameter values, and
    its design coordinates."""
    coordinates = design[[p.name for p in parameters]].to_numpy()
    for point, point_coordinates in zip(design["point"].tolist(), coordinates.tolist(),
                                        strict=True):
        values = {p.name: p.value_at(x)
                  for p, x in zip(parameters, point_coordinates, strict=True)}
        for replication in range(replications):
            run_id = point * replications + replication
            if run_id not in finished:
                row = {"run_id": run_id, "point": point, "replication": replication,
                       "seed": run_seed(root_seed, point, replication), **values}
                yield row, point_coordinates


def _runs_per_task(executor: Executor, runs: int, batch_size: int) -> int:
    """Runs per submitted task: one on a process pool (a task costs it little, and a crash
    then takes one run with it); on an executor with ``batches_per_slot`` (Dask, whose
    scheduler spends milliseconds per task) about that many tasks per slot, at most a store
    batch, so a cluster gets few large tasks and the scenario travels once per task."""
    per_slot = getattr(executor, "batches_per_slot", None)
    if not per_slot:
        return 1
    slots = max(1, getattr(executor, "slots", 1))
    return max(1, min(batch_size, -(-runs // (per_slot * slots))))


def execute_batch(tasks: list[RunTask]) -> list[RunRecord]:
    """Run several tasks in turn (one executor task; each run still fails on its own)."""
    return [execute(task) for task in tasks]


def _records_of(future: Future, run_ids: list[int], yearly_columns: list[str]
                ) -> list[RunRecord]:
    """The records of a task's runs; the runs of a task that killed its worker have failed."""
    try:
        records = future.result()
    except CancelledError:
        raise UserError("the executor cancelled a run (did the cluster lose its scheduler or "
                        "workers?); the finished runs are saved: continue with --resume") from None
    except Exception as error:
        return [RunRecord(run_id, "failed", {}, None, f"{type(error).__name__}: {error}",
                          None, float("nan"), "") for run_id in run_ids]
    return [_checked(record, yearly_columns) for record in records]


def _checked(record: RunRecord, yearly_columns: list[str]) -> RunRecord:
    """The record, or a failed one if its yearly table has other columns than the base's."""
    if record.yearly is not None and list(record.yearly.columns) != yearly_columns:
        return RunRecord(record.run_id, "failed", {}, None, "ValueError: the run's yearly "
                         "columns differ from the base scenario's (does a parameter add or "
                         "remove a provider or a state?)", None, record.seconds, record.worker)
    return record


def _row(static: dict[str, Any], record: RunRecord) -> dict[str, Any]:
    row = dict(static)
    row.update(record.outcomes, status=record.status, error=record.error,
               traceback=record.traceback, seconds=record.seconds, worker=record.worker)
    return row


def _keyed(record: RunRecord) -> pd.DataFrame:
    yearly = record.yearly.copy()
    yearly.insert(0, "run_id", record.run_id)
    return yearly
