"""The public API, for notebooks and scripts: load a scenario, run it, compare, validate, ….

Every function is a thin layer over the library the commands use: ``load_scenario`` is the loader
of ``cloudrace run`` (``extends``, ``--set``, the schema's cross-checks), ``run`` its replications
and seeds (``sim.runner``) and ``Results.save`` its results folder (``sim.results``). A mistake
in the input raises ``sim.errors.UserError`` naming the file and key. Re-exported by ``sim``::

    import sim
    base = sim.load_scenario("baseline")
    results = sim.run(base, replications=4)
    results.yearly.head()
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sim.results import Results, RunRecord
from sim.schema import ScenarioFile

ScenarioLike = ScenarioFile | str | Path
"""A loaded scenario, a scenario file, or a shipped scenario's name (``policy/us_dfc_push``)."""


def load_scenario(
    path_or_name: str | Path, overrides: Mapping[str, Any] | Sequence[str] | None = None
) -> ScenarioFile:
    """A validated scenario from a file or a shipped scenario's name.

    ``overrides`` are applied as ``--set`` applies them, cross-checks included: either a mapping
    of key paths to values (``{"choice.cost_weight": 2.5}``) or ``key.path=value`` strings (the
    value read as YAML). A time-phased ``{year: value}`` mapping adds or replaces steps of the
    schedule, as in a child scenario file; ``"key.path=!replace {…}"`` replaces it whole.
    """
    from sim.scenario import load_scenario as load

    if overrides is None:
        return load(path_or_name)
    if isinstance(overrides, Mapping):
        return load(path_or_name, values=overrides, merge_values=True)
    return load(path_or_name, list(overrides))


def _scenario(scenario: ScenarioLike, name: str = "scenario") -> tuple[ScenarioFile, str, str]:
    """The scenario, its name (a file's stem, else ``name``) and where it came from."""
    if isinstance(scenario, ScenarioFile):
        return scenario, name, "(given in Python)"
    return load_scenario(scenario), Path(scenario).stem, str(scenario)


def _workers(workers: int, executor: Executor | None) -> int | Executor:
    from sim.runner import shared_executor

    return executor if executor is not None else shared_executor(workers)


def run(
    scenario: ScenarioLike,
    replications: int = 10,
    seed: int | None = None,
    workers: int = 1,
    executor: Executor | None = None,
    *,
    tenders: bool = False,
    progress: bool = False,
    name: str | None = None,
) -> Results:
    """Run ``replications`` of a scenario; the results are held in memory.

    Replication seeds are spawned from ``seed`` (default: the scenario's ``run.seed``) as
    ``cloudrace run`` spawns them, so the same seed gives the same tables as the command, with
    any number of ``workers`` (local processes) or any ``executor`` of
    ``sim.experiments.executors`` (e.g. a ``DaskExecutor``). ``tenders`` also records every
    tender with every bid. ``name`` titles the summary and the default results folder (default:
    the file's name, or ``scenario``).
    """
    from datetime import UTC, datetime

    from sim.runner import run_scenario

    settings, default_name, source = _scenario(scenario)
    root = settings.run.seed if seed is None else seed
    started = datetime.now(UTC)
    seeds, results = run_scenario(
        settings, replications, root, tenders, progress, _workers(workers, executor)
    )
    record = RunRecord(
        settings, name or default_name, source, [], replications, root, seeds, started
    )
    return Results(record, results)


@dataclass
class Comparison:
    """Scenarios run on common seeds: per-run outcomes, yearly trajectories and differences."""

    scenarios: dict[str, ScenarioFile]
    outcomes: pd.DataFrame
    """One row per scenario and replication, a column per outcome (``sim.comparison``)."""
    trajectories: pd.DataFrame
    differences: pd.DataFrame
    """Per scenario and outcome: means, mean paired difference and its labelled intervals."""
    replications: int

    def report(self) -> str:
        """The comparison as markdown (what ``cloudrace compare`` prints and writes)."""
        from sim.cli_compare import comparison_report

        return comparison_report(
            self.scenarios,
            next(iter(self.scenarios)),
            self.differences,
            f"{self.replications} replications on common seeds (chance)",
        )


def compare(
    base: ScenarioLike,
    others: Sequence[ScenarioLike] | Mapping[str, ScenarioLike],
    replications: int = 10,
    seed: int | None = None,
    workers: int = 1,
    executor: Executor | None = None,
    *,
    progress: bool = False,
) -> Comparison:
    """Run a base scenario and others on the same replication seeds and difference them.

    Scenarios are named by their file (``us_dfc_push``), by the keys of ``others`` if it is a
    mapping, else ``base`` and ``scenario_1``, ``scenario_2`` …. The intervals are chance
    only (common seeds); the posterior ensemble, structural ensembles and forks are
    ``cloudrace compare``'s options (``--posterior``, ``--structures``, ``--fork``) for now.
    """
    from sim.comparison import Draw, paired_differences, run_outcomes
    from sim.errors import UserError
    from sim.runner import replication_seeds, run_tasks

    if isinstance(others, Mapping):
        loaded = [
            (load_scenario(item) if not isinstance(item, ScenarioFile) else item, name, str(item))
            for name, item in others.items()
        ]
    else:
        loaded = [_scenario(item, f"scenario_{index}") for index, item in enumerate(others, 1)]
    loaded.insert(0, _scenario(base, "base"))
    scenarios = {name: settings for settings, name, _ in loaded}
    if len(scenarios) < len(loaded):
        raise UserError("compare: scenario names must differ (they name the scenarios)")
    base_name = loaded[0][1]
    root = loaded[0][0].run.seed if seed is None else seed
    draws = [
        Draw(-1, index, replication_seed)
        for index, replication_seed in enumerate(replication_seeds(root, replications))
    ]
    tasks = [(settings, name, draw) for draw in draws for name, settings in scenarios.items()]
    results = run_tasks(tasks, _workers(workers, executor), progress, "runs", function=run_outcomes)
    outcomes = pd.DataFrame([outcome for outcome, _ in results])
    trajectories = pd.concat([trajectory for _, trajectory in results], ignore_index=True)
    return Comparison(
        scenarios, outcomes, trajectories, paired_differences(outcomes, base_name), replications
    )


@dataclass
class Validation:
    """A scenario held against the public record to April 2021 (``sim.validation``)."""

    table: pd.DataFrame
    """One row per pattern: observed, simulated interval, predictive p-value, passed."""
    per_replication: pd.DataFrame
    joint: dict[str, dict[str, float]]

    def report(self) -> str:
        """The table ``cloudrace validate`` prints."""
        from sim.validation import format_table

        return format_table(self.table, self.joint)


def validate(
    scenario: str | Path = "baseline",
    replications: int = 30,
    seed: int | None = None,
    workers: int = 1,
    executor: Executor | None = None,
    overrides: Sequence[str] = (),
    *,
    progress: bool = False,
) -> Validation:
    """Run a scenario to the record's cut-off and compare it with every pattern of the record."""
    from sim.runner import run_scenario
    from sim.scenario import load_scenario as load
    from sim.validation import (
        ROLES,
        compare_with_targets,
        joint_check,
        load_targets,
        outcomes_by_replication,
    )

    targets = load_targets()
    settings = load(scenario, [*overrides, f"run.end_year={int(targets.cutoff)}"])
    root = settings.run.seed if seed is None else seed
    _, results = run_scenario(
        settings, replications, root, progress=progress, workers=_workers(workers, executor)
    )
    per_replication = outcomes_by_replication(pd.concat([r.contracts for r in results]), targets)
    joint = {role: joint_check(per_replication, targets.role(role)) for role in ROLES}
    return Validation(compare_with_targets(per_replication, targets), per_replication, joint)


def attribute(
    scenario: ScenarioLike,
    replications: int = 10,
    seed: int | None = None,
    permutations: int = 16,
    workers: int = 1,
    executor: Executor | None = None,
    *,
    progress: bool = False,
):
    """Shapley attribution of each outcome to the scenario's levers and mechanisms
    (``sim.attribution.attribute``); returns its ``AttributionResult``."""
    from functools import partial

    from sim.attribution import attribute as decompose
    from sim.attribution import coalition_outcomes
    from sim.runner import replication_seeds, run_tasks
    from sim.validation import load_targets

    settings, _, _ = _scenario(scenario)
    root = settings.run.seed if seed is None else seed
    runner = partial(
        run_tasks,
        workers=_workers(workers, executor),
        progress=progress,
        label="coalition runs",
        function=coalition_outcomes,
    )
    return decompose(
        settings, replication_seeds(root, replications), load_targets(), permutations, run=runner
    )


def calibrate(
    spec: str | Path | None = None,
    database: str | Path = "calibration.db",
    workers: int = 1,
    *,
    resume: bool = False,
    progress: bool = False,
):
    """ABC-SMC calibration on the record (``sim.calibration.calibrate``; needs the
    ``experiments`` extra). ``spec`` defaults to the shipped ``calibration/abc.yaml``."""
    from sim.calibration import calibrate as fit
    from sim.calibration import load_spec
    from sim.shipped import shipped_folder
    from sim.validation import load_targets

    path = Path(spec) if spec is not None else shipped_folder("calibration") / "abc.yaml"
    loaded, base = load_spec(path)
    return fit(
        loaded,
        base,
        load_targets(),
        Path(database),
        workers=workers,
        resume=resume,
        progress=progress,
    )


def sweep(
    experiment: str | Path,
    out: str | Path,
    executor: str = "processes",
    workers: int | None = None,
    *,
    progress: bool = False,
) -> Path:
    """Run an experiment file's design into a new sweep folder (``sim.experiments.sweep``);
    returns the folder, which ``sim.experiments.store`` and ``cloudrace sensitivity`` read."""
    from sim.experiments.executors import make_executor
    from sim.experiments.spec import load_experiment
    from sim.experiments.sweep import create_sweep, run_sweep

    loaded = load_experiment(experiment)
    folder = Path(out)
    pool = make_executor(executor, workers, preload=["sim.experiments.sweep"])
    try:
        with create_sweep(loaded, folder, f"sim.sweep({str(experiment)!r})") as store:
            run_sweep(loaded, store, pool, executor_name=executor, progress=progress)
    finally:
        pool.shutdown(wait=True)
    return folder
