"""Calibration by approximate Bayesian computation: a posterior ensemble, not one point.

Procedure: ABC population Monte Carlo (Beaumont, Cornuet, Marin & Robert 2009, "Adaptive
approximate Bayesian computation", Biometrika 96(4)), then re-scoring on fresh seeds:

1. Generation 0 draws ``candidates`` parameter sets from uniform priors (a Latin hypercube,
   fixed seed). Each is scored on ``screening_replications`` common seeds: the distance between
   the mean of its validated outcomes and the targets, ``sqrt(mean(((mean - target) / band)
   ** 2))``. The ``accept`` closest become the particles, with equal weights.
2. Each later generation (``generations`` in all) proposes ``proposals`` sets: a particle drawn
   by weight, moved by a Gaussian kernel with twice the particles' weighted covariance (redrawn
   until inside the prior box). The ``accept`` closest proposals become the new particles, with
   importance weights ``prior / sum_i w_i K(theta | theta_i)`` (the prior is uniform). The
   tolerance (the largest kept distance) shrinks from generation to generation.
3. The final particles are re-scored on ``rescoring_replications`` fresh seeds, so that seed
   noise in the screening does not pick the winner. The posterior ensemble is every particle
   whose fresh-seed distance is within ``posterior_tolerance``, with its importance weight.
4. The representative member (the baseline's) is chosen on ``selection_replications`` further
   fresh seeds: the posterior member that passes most target bands there, the closest among
   those. Validation then runs on seeds used by none of these steps.

Each run is a plain function of (scenario, seed); runs go through ``sim.runner.run_tasks``.
"""

from __future__ import annotations

import copy
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from scipy.stats import qmc

from sim.errors import UserError
from sim.runner import replication_seeds, run_tasks
from sim.scenario import format_validation_error, load_scenario
from sim.schema import ScenarioFile
from sim.validation import TargetSet, record_outcomes


class FreeParameter(BaseModel):
    """A calibrated parameter: a uniform prior on a key path (or on a scale factor for it)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    low: float
    high: float
    scale: bool = Field(False, description="Vary a factor on the base value (for step "
                                           "functions) instead of the value itself.")


class CalibrationSpec(BaseModel):
    """A calibration file (``calibration/abc.yaml``)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    base: str
    base_values: dict[str, Any] = Field(
        default_factory=dict, description="Values set in the base before calibrating: the "
        "sourced values that scale parameters multiply, so a calibrated baseline can be "
        "recalibrated without compounding its factors.")
    seed: int = Field(ge=0)
    candidates: int = Field(ge=2)
    screening_replications: int = Field(ge=1)
    accept: int = Field(ge=2)
    generations: int = Field(ge=1)
    proposals: int = Field(ge=2)
    rescoring_replications: int = Field(ge=2)
    selection_replications: int = Field(ge=2)
    posterior_tolerance: float = Field(gt=0, description="Largest fresh-seed distance (RMS "
                                       "miss in pass bands) of a posterior member.")
    parameters: dict[str, FreeParameter]


@dataclass
class CalibrationResult:
    """Every scored candidate (with its generation), the re-scored particles, the posterior."""

    candidates: pd.DataFrame
    tolerances: list[float]
    rescored: pd.DataFrame
    posterior: pd.DataFrame
    representative: pd.Series


def load_spec(path: Path) -> tuple[CalibrationSpec, ScenarioFile]:
    """Read and check a calibration file and its base scenario."""
    if not path.is_file():
        raise UserError(f"{path}: calibration file not found")
    try:
        spec = CalibrationSpec.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except yaml.YAMLError as error:
        raise UserError(f"{path}: YAML syntax error: {error}") from None
    except ValidationError as error:
        raise UserError(format_validation_error(str(path), error, [], CalibrationSpec,
                                                "calibration file")) from None
    base = load_scenario(path.parent / spec.base, values=spec.base_values)
    for key, prior in spec.parameters.items():
        if prior.high <= prior.low:
            raise UserError(f"{path}: parameters.{key}: expected high above low")
        candidate_values(base, spec, {key: prior.high})  # raises on a bad key path
    return spec, base


def sample_candidates(spec: CalibrationSpec) -> pd.DataFrame:
    """``candidates`` draws from the uniform priors by Latin hypercube (fixed seed)."""
    keys = list(spec.parameters)
    unit = qmc.LatinHypercube(d=len(keys), seed=spec.seed).random(spec.candidates)
    low = np.array([spec.parameters[k].low for k in keys])
    high = np.array([spec.parameters[k].high for k in keys])
    frame = pd.DataFrame(low + unit * (high - low), columns=keys)
    return frame.rename_axis("candidate")


def candidate_values(base: ScenarioFile, spec: CalibrationSpec,
                     row: dict[str, float]) -> dict[str, Any]:
    """Scenario overrides for a candidate; a ``scale`` parameter multiplies the base value."""
    dumped = base.model_dump(mode="python")
    values: dict[str, Any] = {}
    for key, number in row.items():
        if spec.parameters[key].scale:
            current = _lookup(dumped, key)
            values[key] = ({year: value * number for year, value in current.items()}
                           if isinstance(current, dict) else current * number)
        else:
            values[key] = float(number)
    return values


def _lookup(tree: dict[str, Any], key: str) -> Any:
    node: Any = tree
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            raise UserError(f"calibration parameter {key}: no such key in the base scenario")
        node = node[part]
    return copy.deepcopy(node)


def distance(means: dict[str, float], targets: TargetSet) -> float:
    """Root mean square of each outcome's miss in units of its pass band."""
    misses = [((means[t.outcome] - t.value) / t.band) ** 2 for t in targets.targets]
    return float(np.sqrt(np.mean(misses)))


def bands_passed(means: dict[str, float] | pd.Series, targets: TargetSet) -> int:
    """How many targets' bands the means fall within."""
    return sum(abs(means[t.outcome] - t.value) <= t.band for t in targets.targets)


def passes(means: dict[str, float], targets: TargetSet) -> bool:
    """Whether every outcome's mean lies within its target's band."""
    return all(abs(means[t.outcome] - t.value) <= t.band for t in targets.targets)


def score_run(task: tuple[ScenarioFile, int, TargetSet]) -> dict[str, float]:
    """Validated outcomes of one run (a module-level function, so processes can run it)."""
    from sim.model import CloudRaceModel, CloudRaceScenario
    from sim.runner import contracts_table

    settings, seed, targets = task
    model = CloudRaceModel(CloudRaceScenario.from_settings(settings, rng=seed))
    model.run_model()
    return record_outcomes(contracts_table(model), targets)


def score_candidates(settings: list[ScenarioFile], seeds: list[int], targets: TargetSet,
                     workers: int | Executor, progress: bool, label: str) -> pd.DataFrame:
    """Mean validated outcomes of each candidate over the seeds, with distance and pass."""
    tasks = [(candidate, seed, targets) for candidate in settings for seed in seeds]
    outcomes = run_tasks(tasks, workers, progress, label, function=score_run)
    rows = []
    for index in range(len(settings)):
        runs = pd.DataFrame(outcomes[index * len(seeds):(index + 1) * len(seeds)])
        means = runs.mean().to_dict()
        rows.append({**means, "distance": distance(means, targets),
                     "passes": passes(means, targets)})
    return pd.DataFrame(rows)


def calibrate(spec: CalibrationSpec, base: ScenarioFile, targets: TargetSet,
              workers: int | Executor = 1,
              progress: bool = True) -> CalibrationResult:
    """Run the whole procedure (see the module docstring)."""
    keys = list(spec.parameters)
    horizon = {"run.end_year": int(targets.cutoff)}
    screening_seeds = replication_seeds(spec.seed, spec.screening_replications)
    rng = np.random.default_rng(spec.seed)

    def score(rows: pd.DataFrame, label: str, seeds: list[int]) -> pd.DataFrame:
        settings = [load_scenario_values(base, {**candidate_values(base, spec, row), **horizon})
                    for row in rows[keys].to_dict("records")]
        scores = score_candidates(settings, seeds, targets, workers, progress, label)
        return rows.join(scores.set_axis(rows.index))

    generation = score(sample_candidates(spec).assign(generation=0), "generation 0",
                       screening_seeds)
    scored = [generation]
    particles = generation.nsmallest(spec.accept, "distance")
    weights = np.full(len(particles), 1.0 / len(particles))
    tolerances = [float(particles["distance"].max())]
    for number in range(1, spec.generations):
        covariance = 2.0 * np.atleast_2d(np.cov(particles[keys].to_numpy().T, aweights=weights))
        proposed = propose(particles[keys].to_numpy(), weights, covariance, spec, rng)
        rows = pd.DataFrame(proposed, columns=keys).assign(generation=number)
        rows.index = pd.RangeIndex(sum(len(g) for g in scored),
                                   sum(len(g) for g in scored) + len(rows), name="candidate")
        generation = score(rows, f"generation {number}", screening_seeds)
        scored.append(generation)
        kept = generation.nsmallest(spec.accept, "distance")
        weights = importance_weights(kept[keys].to_numpy(), particles[keys].to_numpy(), weights,
                                     covariance)
        particles = kept
        tolerances.append(float(particles["distance"].max()))
    fresh = replication_seeds(spec.seed + 1, spec.rescoring_replications)
    rescored = score(particles[keys].assign(weight=weights, generation=particles["generation"]),
                     "re-scoring", fresh).sort_values("distance")
    posterior = rescored[rescored["distance"] <= spec.posterior_tolerance].copy()
    if posterior.empty:
        raise UserError("calibration: no particle is within the posterior tolerance on fresh "
                        "seeds; widen the priors, add candidates, proposals or generations, or "
                        "raise posterior_tolerance")
    posterior["bands_passed"] = [bands_passed(row, targets) for _, row in posterior.iterrows()]
    posterior["weight"] /= posterior["weight"].sum()
    selection = score(posterior[keys], "selecting the representative",
                      replication_seeds(spec.seed + 3, spec.selection_replications))
    posterior["selection_distance"] = selection["distance"]
    posterior["selection_bands_passed"] = [bands_passed(row, targets)
                                           for _, row in selection.iterrows()]
    candidates = pd.concat(scored)
    return CalibrationResult(candidates, tolerances, rescored, posterior,
                             representative_member(posterior))


def propose(particles: np.ndarray, weights: np.ndarray, covariance: np.ndarray,
            spec: CalibrationSpec, rng: np.random.Generator) -> np.ndarray:
    """``spec.proposals`` moves of weighted particles by the Gaussian kernel, inside the priors."""
    low = np.array([prior.low for prior in spec.parameters.values()])
    high = np.array([prior.high for prior in spec.parameters.values()])
    proposals = []
    while len(proposals) < spec.proposals:
        parent = particles[rng.choice(len(particles), p=weights)]
        candidate = rng.multivariate_normal(parent, covariance)
        if np.all(candidate >= low) and np.all(candidate <= high):
            proposals.append(candidate)
    return np.array(proposals)


def importance_weights(new: np.ndarray, old: np.ndarray, old_weights: np.ndarray,
                       covariance: np.ndarray) -> np.ndarray:
    """ABC-PMC weights under a uniform prior: ``1 / sum_i w_i K(new | old_i)``, normalised."""
    inverse = np.linalg.pinv(covariance)
    differences = new[:, None, :] - old[None, :, :]
    mahalanobis = np.einsum("jik,kl,jil->ji", differences, inverse, differences)
    kernel = np.exp(-0.5 * mahalanobis)  # the kernel's constant cancels on normalising
    weights = 1.0 / (kernel @ old_weights)
    return weights / weights.sum()


def load_scenario_values(base: ScenarioFile, values: dict[str, Any]) -> ScenarioFile:
    """The base scenario with ``values`` (key path -> value) applied and re-validated."""
    raw = base.model_dump(mode="python")
    for key, value in values.items():
        node = raw
        *parents, last = key.split(".")
        for part in parents:
            node = node[part]
        node[last] = value
    return ScenarioFile.model_validate(raw)


def representative_member(posterior: pd.DataFrame) -> pd.Series:
    """The member passing most target bands on the selection seeds; the closest among those.

    The baseline should validate, so the representative is the best-fitting member rather
    than the posterior's centre; the ensemble carries the spread.
    """
    ranked = posterior.sort_values(["selection_bands_passed", "selection_distance"],
                                   ascending=[False, True])
    return ranked.iloc[0]
