"""Calibration by approximate Bayesian computation: ABC-SMC with pyabc.

Method: ABC sequential Monte Carlo (Toni, Welch, Strelkowa, Ipsen & Stumpf 2009; with
adaptive tolerances as in Del Moral, Doucet & Jasra 2012), as implemented by pyabc (Klinger,
Rickert & Hasenauer 2018; Schälte et al. 2022):

- **Prior**: independent uniforms on ``calibration/abc.yaml``'s bounds (a ``scale`` parameter is
  a factor on the base value). Proposals outside the bounds have prior density 0 and are drawn
  again (with a new parent), so the proposal is the kernel mixture restricted to the prior box
  and pyabc's importance weight ``prior(theta) / sum_j w_j K(theta | theta_j)`` is correct up to
  one constant that normalising removes: the truncation is respected.
- **Summary statistics**: the calibration targets of ``sim/data/targets.yaml`` (role
  ``target``; hold-outs are never used) from **one** run per particle, with a fresh seed
  spawned from the root seed by the particle's generation and evaluation number
  (``sim.abc_sampling``): the ABC posterior is then that of the model's stochastic output, not
  of a mean over a few common seeds.
- **Distance**: pyabc's ``AdaptivePNormDistance`` (Euclidean, each statistic scaled by its
  median absolute deviation among the generation's simulations, refitted every generation).
- **Tolerance**: the ``epsilon_quantile`` quantile of the last generation's accepted distances.
- **Stopping**: when the acceptance rate falls below ``min_acceptance_rate`` (further
  generations would cost more than they sharpen), or at ``max_generations``, or after
  ``max_simulations``; the run reports which.

The representative member (the baseline's values) is the one of ``representative_candidates``
members drawn by weight whose mean over ``representative_replications`` fresh seeds passes
most target bands, the closest among those.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sim.errors import UserError
from sim.runner import replication_seeds, run_tasks
from sim.scenario import format_validation_error, load_scenario, read_text
from sim.schema import ScenarioFile
from sim.strict_yaml import load_yaml
from sim.validation import TargetSet, record_outcomes

DATABASE = "abc.db"
"""pyabc's SQLite database, kept in the results folder (resumable)."""


class FreeParameter(BaseModel):
    """A calibrated parameter: a uniform prior on a key path (or on a scale factor for it)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    low: float
    high: float
    scale: bool = Field(False, description="Vary a factor on the base value (for step "
                                           "functions) instead of the value itself.")
    integer: bool = Field(False, description="Round the value to an integer (a count).")


class CalibrationSpec(BaseModel):
    """A calibration file (``calibration/abc.yaml``)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    base: str
    base_values: dict[str, Any] = Field(
        default_factory=dict, description="Values set in the base before calibrating: the "
        "sourced values that scale parameters multiply, so a calibrated baseline can be "
        "recalibrated without compounding its factors.")
    seed: int = Field(ge=0)
    population_size: int = Field(ge=2, description="Particles per generation.")
    max_generations: int = Field(ge=1)
    min_acceptance_rate: float = Field(ge=0, lt=1, description="Stop when a generation's "
                                       "acceptance rate falls below this.")
    max_simulations: int = Field(ge=2, description="Stop after this many simulations.")
    epsilon_quantile: float = Field(0.5, gt=0, lt=1, description="Next tolerance: this "
                                    "quantile of the accepted distances.")
    transition: Literal["multivariate_normal", "local"] = Field(
        "multivariate_normal", description="Perturbation kernel: pyabc's "
        "MultivariateNormalTransition (one covariance for all particles) or LocalTransition "
        "(each particle's covariance from its nearest neighbours, Filippi et al. 2013).")
    kernel_scaling: float = Field(1.0, gt=0, description="Factor on the learned kernel's "
                                  "covariance (pyabc's scaling; above 1 widens it).")
    screening_simulations: int = Field(0, ge=0, description="Prior draws run once each to "
                                       "choose the learned parameters (0: learn them all); "
                                       "sim/calibration_proposal.py.")
    screening_min_correlation: float = Field(0.16, gt=0, lt=1, description="Smallest "
                                             "absolute Spearman correlation with a statistic "
                                             "for a parameter to be learned.")
    batch_size: int = Field(1, ge=1, description="Evaluations per pyabc job: more saves "
                            "pyabc's per-job overhead for fast runs (part of the design: it "
                            "changes which evaluations run).")
    representative_candidates: int = Field(ge=1)
    representative_replications: int = Field(ge=1)
    overrides: dict[str, Any] = Field(
        default_factory=dict, description="Values set in every calibration run (e.g. a "
        "smaller world for a test); the end year is the record's cut-off year unless set "
        "here (a shorter horizon for a synthetic record).")
    parameters: dict[str, FreeParameter]


@dataclass
class CalibrationResult:
    """The posterior particles and the run's record, generation by generation."""

    posterior: pd.DataFrame
    """One row per particle: parameters, ``weight`` (sums to 1), ``distance`` and the run's
    summary statistics."""
    generations: pd.DataFrame
    """Per generation: ``epsilon``, ``particles``, ``simulations``, ``acceptance_rate``,
    ``ess`` (effective sample size)."""
    stop_reason: str
    simulations: int
    wall_seconds: float
    representative: pd.Series
    screening: pd.DataFrame | None = None
    """Per parameter: strongest correlation with a statistic and whether it was learned."""


def load_spec(path: Path) -> tuple[CalibrationSpec, ScenarioFile]:
    """Read and check a calibration file and its base scenario."""
    if not path.is_file():
        raise UserError(f"{path}: calibration file not found")
    try:
        spec = CalibrationSpec.model_validate(load_yaml(read_text(path, "calibration"), str(path)))
    except ValidationError as error:
        raise UserError(format_validation_error(str(path), error, [], CalibrationSpec,
                                                "calibration file")) from None
    base = load_scenario(path.parent / spec.base, values=spec.base_values)
    for key, prior in spec.parameters.items():
        if prior.high <= prior.low:
            raise UserError(f"{path}: parameters.{key}: expected high above low")
        try:
            candidate_values(base, spec, {key: prior.high})
        except UserError as error:
            raise UserError(f"{path}: parameters.{key}: {error}") from None
    return spec, base


def candidate_values(base: ScenarioFile, spec: CalibrationSpec, row: dict[str, float],
                     skip_missing: bool = False) -> dict[str, Any]:
    """Scenario overrides for a candidate; a ``scale`` parameter multiplies the base value.

    ``skip_missing`` (for applying posterior members to policy scenarios): a parameter of a
    part the scenario does not have, such as the magnitude of an export control a scenario
    removes, is left out instead of refused.
    """
    dumped = base.model_dump(mode="python")
    values: dict[str, Any] = {}
    for key, number in row.items():
        if skip_missing and not has_value(dumped, key):
            continue
        if spec.parameters[key].integer:
            lookup_value(dumped, key)
            values[key] = int(round(number))
        elif spec.parameters[key].scale:
            current = lookup_value(dumped, key)
            values[key] = ({year: value * number for year, value in current.items()}
                           if isinstance(current, dict) else current * number)
        else:
            lookup_value(dumped, key)
            values[key] = float(number)
    return values


def _path(key: str) -> list[str | int]:
    """A key path's parts; ``export_controls[0]`` is the list's item 0."""
    parts: list[str | int] = []
    for part in key.split("."):
        name, *indices = part.replace("]", "").split("[")
        parts += [name, *(int(index) for index in indices)]
    return parts


def has_value(tree: dict[str, Any], key: str) -> bool:
    """Whether a dumped scenario has a value at the key path."""
    try:
        lookup_value(tree, key)
    except UserError:
        return False
    return True


def lookup_value(tree: dict[str, Any], key: str) -> Any:
    """A copy of the value at a key path of a dumped scenario (UserError if absent)."""
    node: Any = tree
    for part in _path(key):
        found = (isinstance(node, dict) and part in node) or (
            isinstance(node, list) and isinstance(part, int) and part < len(node))
        if not found:
            raise UserError(f"calibration parameter {key}: no such key in the base scenario")
        node = node[part]
    return copy.deepcopy(node)


def load_scenario_values(base: ScenarioFile, values: dict[str, Any],
                         label: str = "calibration values") -> ScenarioFile:
    """The base scenario with ``values`` (key path -> value) applied and re-validated; values
    the schema refuses (e.g. a scale factor that takes a policy scenario's lever out of its
    bounds) give one UserError naming ``label`` and the keys."""
    raw = base.model_dump(mode="python")
    for key, value in values.items():
        node = raw
        *parents, last = _path(key)
        for part in parents:
            node = node[part]
        node[last] = value
    try:
        return ScenarioFile.model_validate(raw)
    except ValidationError as error:
        raise UserError(format_validation_error(label, error, [])) from None


def distance(means: dict[str, float], targets: TargetSet) -> float:
    """Root mean square of each outcome's miss in units of its pass band."""
    misses = [((means[t.outcome] - t.value) / t.band) ** 2 for t in targets.targets]
    return float(np.sqrt(np.mean(misses)))


def bands_passed(means: dict[str, float] | pd.Series, targets: TargetSet) -> int:
    """How many targets' bands the means fall within."""
    return sum(abs(means[t.outcome] - t.value) <= t.band for t in targets.targets)


def prior(spec: CalibrationSpec):
    """Independent uniform priors on the bounds (pyabc's ``RV("uniform", loc, scale)``)."""
    import pyabc

    return pyabc.Distribution(**{key: pyabc.RV("uniform", p.low, p.high - p.low)
                                 for key, p in spec.parameters.items()})


def summary_statistics(outcomes: dict[str, float], targets: TargetSet) -> dict[str, float]:
    """The targets' outcomes of one run as pyabc summary statistics.

    A share is undefined in a run without a deal; it is set to 0, far from every record, so
    such a run is simply far away rather than breaking the distance's scales.
    """
    return {t.outcome: float(np.nan_to_num(outcomes[t.outcome])) for t in targets.targets}


class Simulator:
    """pyabc's model: one run of the base scenario with a particle's values, to the cut-off.

    The seed comes from the evaluation's spawn key (``sim.abc_sampling.model_seed``), or,
    called directly (synthetic records, tests), from ``seed``.
    """

    def __init__(self, base: ScenarioFile, spec: CalibrationSpec, targets: TargetSet) -> None:
        self.base = load_scenario_values(base, {"run.end_year": int(targets.cutoff),
                                                **spec.overrides})
        self.spec, self.targets = spec, targets

    def settings(self, parameters: dict[str, float]) -> ScenarioFile:
        """The scenario of one particle."""
        row = {key: float(parameters[key]) for key in self.spec.parameters}
        return load_scenario_values(self.base, candidate_values(self.base, self.spec, row))

    def __call__(self, parameters: dict[str, float], seed: int | None = None
                 ) -> dict[str, float]:
        from sim.abc_sampling import model_seed

        task = (self.settings(parameters), model_seed() if seed is None else seed,
                self.targets)
        return summary_statistics(score_run(task), self.targets)


def score_run(task: tuple[ScenarioFile, int, TargetSet]) -> dict[str, float]:
    """Every pattern's outcome in one run (a module-level function, so processes can run it)."""
    from sim.model import CloudRaceModel, CloudRaceScenario
    from sim.runner import contracts_table

    settings, seed, targets = task
    model = CloudRaceModel(CloudRaceScenario.from_settings(settings, rng=seed))
    model.run_model()
    return record_outcomes(contracts_table(model), targets)


def make_sampler(seed: int, workers: int, scheduler: str | None, batch_size: int = 1):
    """A seeded pyabc sampler: Dask at ``scheduler``, else processes (or serial for 1).

    The processes are a plain ``ProcessPoolExecutor`` (forkserver): pyabc cancels the jobs it
    no longer needs, which the project's restartable pool does not expect.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from sim.abc_sampling import SeededDaskSampler, SeededFutureSampler
    from sim.experiments.executors import SerialExecutor

    if scheduler:
        from distributed import Client

        try:
            client = Client(scheduler, timeout="10s")
        except OSError as error:
            raise UserError(f"--scheduler {scheduler}: cannot connect ({error})") from None
        threads = client.nthreads()
        if any(count != 1 for count in threads.values()):
            client.close()
            raise UserError(f"--scheduler {scheduler}: every Dask worker must run one thread "
                            f"(dask worker --nthreads 1), got {sorted(set(threads.values()))}; "
                            "pyabc draws proposals from numpy's global random state, which "
                            "threads would share")
        return SeededDaskSampler(client, seed, batch_size), client.close
    if workers > 1:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["sim.calibration", "pyabc"])
        pool = ProcessPoolExecutor(workers, mp_context=context)
        return SeededFutureSampler(pool, seed, 2 * workers, batch_size), pool.shutdown
    return SeededFutureSampler(SerialExecutor(), seed, 1, batch_size), lambda: None


def calibrate(spec: CalibrationSpec, base: ScenarioFile, targets: TargetSet,
              database: Path, workers: int = 1, scheduler: str | None = None,
              resume: bool = False, progress: bool = True,
              observed: dict[str, float] | None = None,
              representative: bool = True) -> CalibrationResult:
    """Run ABC-SMC (see the module docstring) into ``database``; continue it if ``resume``.

    ``observed`` replaces the record's values (a synthetic record, for parameter recovery);
    ``representative`` False skips choosing the baseline's member.
    """
    import logging

    import pyabc

    from sim.calibration_proposal import make_transition, screen

    logging.getLogger("ABC").setLevel(logging.INFO if progress else logging.WARNING)
    fitted = targets.role("target")
    if not fitted.targets:
        raise UserError(f"{spec}: no pattern with role 'target' to calibrate on")
    simulator = Simulator(base, spec, fitted)
    bounds = {key: (p.low, p.high) for key, p in spec.parameters.items()}
    url = f"sqlite:///{database.resolve()}"
    started = time.perf_counter()
    screening = None
    if resume:
        learned = stored_learned(url)
    elif spec.screening_simulations:
        screening = screen(simulator, bounds, spec.screening_simulations,
                           spec.screening_min_correlation, spec.seed + 5, workers, progress)
        learned = list(screening.loc[screening["learned"], "parameter"])
    else:
        learned = list(bounds)
    sampler, close = make_sampler(spec.seed, workers, scheduler, spec.batch_size)
    try:
        abc = pyabc.ABCSMC(
            simulator, prior(spec),
            pyabc.AdaptivePNormDistance(p=2),
            population_size=spec.population_size,
            transitions=make_transition(bounds, learned, spec.transition, spec.kernel_scaling),
            eps=pyabc.QuantileEpsilon(alpha=spec.epsilon_quantile),
            sampler=sampler)
        done = 0
        if resume:
            done = int(abc.load(url, 1).max_t) + 1
            if done >= spec.max_generations:
                raise UserError(f"--resume: the stored run already has {done} generations; "
                                f"raise max_generations in the calibration file to continue")
        else:
            record = observed or {t.outcome: t.value for t in fitted.targets}
            abc.new(url, {key: float(record[key]) for key in fitted.outcomes},
                    meta_info={"learned": learned})
        history = abc.run(min_acceptance_rate=spec.min_acceptance_rate,
                          max_nr_populations=spec.max_generations - done,
                          max_total_nr_simulations=spec.max_simulations)
    finally:
        close()
    wall = time.perf_counter() - started
    generations = generation_table(history)
    posterior = posterior_table(history, spec)
    result = CalibrationResult(posterior, generations,
                               stop_reason(generations, spec), int(history.total_nr_simulations),
                               wall, pd.Series(dtype=float), screening)
    if representative:
        result.representative = representative_member(result, spec, base, fitted, workers,
                                                      progress)
    return result


def stored_learned(url: str) -> list[str]:
    """The learned parameters stored with a pyabc run (``meta_info`` of ``abc.new``)."""
    import ast

    import pyabc

    options = ast.literal_eval(pyabc.History(url).get_abc().json_parameters)
    return list(options["learned"])


def generation_table(history) -> pd.DataFrame:
    """Per generation: tolerance, particles, simulations, acceptance rate and ESS."""
    from pyabc.weighted_statistics import effective_sample_size

    populations = history.get_all_populations()
    populations = populations[populations["t"] >= 0].reset_index(drop=True)
    rows = []
    for row in populations.itertuples():
        weights = history.get_weighted_distances(t=row.t)["w"].to_numpy()
        rows.append({"generation": int(row.t), "epsilon": float(row.epsilon),
                     "particles": int(row.particles), "simulations": int(row.samples),
                     "acceptance_rate": row.particles / row.samples,
                     "ess": float(effective_sample_size(weights / weights.sum()))})
    return pd.DataFrame(rows)


def stop_reason(generations: pd.DataFrame, spec: CalibrationSpec) -> str:
    """Which of the stopping rules ended the run."""
    last = generations.iloc[-1]
    if last["acceptance_rate"] < spec.min_acceptance_rate:
        return (f"acceptance rate {last['acceptance_rate']:.3f} fell below "
                f"{spec.min_acceptance_rate:g}")
    if generations["simulations"].sum() >= spec.max_simulations:
        return f"simulation budget of {spec.max_simulations} reached"
    if len(generations) >= spec.max_generations:
        return f"generation budget of {spec.max_generations} reached"
    return "stopped by pyabc"


def posterior_table(history, spec: CalibrationSpec) -> pd.DataFrame:
    """The last generation's particles: parameters, weight, distance, summary statistics."""
    population = history.get_population()
    rows = [{**{key: float(particle.parameter[key]) for key in spec.parameters},
             "weight": float(particle.weight), "distance": float(particle.distance),
             **{key: float(np.asarray(value)) for key, value in particle.sum_stat.items()}}
            for particle in population.particles]
    frame = pd.DataFrame(rows)
    frame["weight"] /= frame["weight"].sum()
    frame.insert(len(spec.parameters) + 1, "generation", int(history.max_t))
    return frame.rename_axis("particle")


def weighted_quantiles(values: np.ndarray, weights: np.ndarray,
                       quantiles: tuple[float, ...]) -> list[float]:
    """Quantiles of a weighted sample (inverse of the weighted empirical distribution)."""
    order = np.argsort(values)
    cumulative = np.cumsum(weights[order]) / weights.sum()
    return [float(values[order][min(np.searchsorted(cumulative, q), len(values) - 1)])
            for q in quantiles]


def draw_members(posterior: pd.DataFrame, members: int, seed: int) -> pd.DataFrame:
    """``members`` posterior particles drawn by weight, with replacement (seeded)."""
    rng = np.random.default_rng(seed)
    weights = posterior["weight"].to_numpy(dtype=float)
    chosen = rng.choice(len(posterior), size=members, replace=True, p=weights / weights.sum())
    return posterior.iloc[chosen]


def representative_member(result: CalibrationResult, spec: CalibrationSpec,
                          base: ScenarioFile, targets: TargetSet, workers: int,
                          progress: bool) -> pd.Series:
    """The drawn member whose fresh-seed mean passes most target bands; the closest among those.

    The baseline should validate, so the representative is the best-fitting of a few members
    drawn by weight rather than the posterior's centre; the ensemble carries the spread.
    """
    simulator = Simulator(base, spec, targets)
    drawn = draw_members(result.posterior, spec.representative_candidates, spec.seed + 3)
    drawn = drawn[~drawn.index.duplicated()]
    seeds = replication_seeds(spec.seed + 3, spec.representative_replications)
    tasks = [(simulator.settings(row.to_dict()), seed, targets)
             for _, row in drawn[list(spec.parameters)].iterrows() for seed in seeds]
    outcomes = pd.DataFrame(run_tasks(tasks, workers, progress, "representative",
                                      function=score_run))
    rows = []
    for index, particle in enumerate(drawn.index):
        means = outcomes.iloc[index * len(seeds):(index + 1) * len(seeds)].mean().to_dict()
        rows.append({"particle": particle, "selection_bands_passed": bands_passed(means, targets),
                     "selection_distance": distance(means, targets)})
    ranked = pd.DataFrame(rows).sort_values(["selection_bands_passed", "selection_distance"],
                                            ascending=[False, True])
    best = ranked.iloc[0]
    member = result.posterior.loc[best["particle"]].copy()
    member["selection_bands_passed"] = best["selection_bands_passed"]
    member["selection_distance"] = best["selection_distance"]
    return member
