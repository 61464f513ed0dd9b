"""Experiment files: what to vary, how to sample it, how often to run it, what to record.

An experiment file is YAML, validated like a scenario file (unknown keys, wrong types and
out-of-range values refused with the file, the key path, what was expected and the nearest
valid key; the messages come from ``sim.scenario``'s formatter)::

    description: Which uncertainties and levers drive Huawei's share of new contracts?
    scenario: ../scenarios/baseline.yaml     # the base scenario, relative to this file
    set: {run.end_year: 2035}                # fixed changes to the base scenario (optional)
    uncertainties:                           # what the world decides
      choice.security_weight: {range: [1.0, 3.0]}
      states.China.financing_budget_usd_m: {range: [0.5, 1.5], scale: true}
    levers:                                  # what states decide
      states.US.security_pressure: {levels: [0.0, 0.4, 0.8]}
    design: {method: sobol, samples: 64}     # full_factorial, latin_hypercube, sobol, morris
    replications: 2                          # runs per design point
    seed: 20210401                           # root seed of the design and of every run
    outcomes: [huawei_deals_to_2021_04, share_new_china_2022_2035, leverage_china_2035]

``load_experiment`` also checks what the schema alone cannot: that the base scenario loads, that
each parameter's extreme values (each level) are valid scenario values, that parameters do not
overlap, and that every outcome name is understood and within the horizon.
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from sim.errors import UserError
from sim.experiments.designs import design_size
from sim.experiments.outcomes import Outcome, resolve_outcome
from sim.experiments.parameters import (
    CategoricalParameter,
    IntegerParameter,
    Parameter,
    RealParameter,
    value_at_path,
)
from sim.limits import MAX_DESIGN_POINTS, MAX_SWEEP_RUNS
from sim.scenario import format_validation_error, load_scenario, read_text, scenario_hash, show
from sim.schema import ScenarioFile
from sim.strict_yaml import load_yaml

DESIGN_OPTIONS = {
    "full_factorial": {"resolution"},
    "latin_hypercube": {"samples"},
    "sobol": {"samples", "second_order"},
    "morris": {"trajectories", "levels"},
}
REQUIRED_OPTIONS = {"latin_hypercube": "samples", "sobol": "samples", "morris": "trajectories"}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


class ParameterSpec(_Strict):
    """One varied parameter: a ``range`` (optionally ``integer`` or ``scale``) or ``levels``."""

    range: list[float] | None = Field(None, description="[low, high], inclusive.")
    levels: list[Any] | None = Field(None, description="The values to choose among.")
    integer: bool = Field(False, description="Whole numbers only (with range).")
    scale: bool = Field(False, description="The value multiplies the base scenario's value, "
                        "every step of a time-phased one (with range).")

    @model_validator(mode="after")
    def _one_form(self) -> ParameterSpec:
        if (self.range is None) == (self.levels is None):
            raise ValueError("either 'range: [low, high]' or 'levels: [a, b, ...]'")
        if self.levels is not None:
            if len(self.levels) < 2:
                raise ValueError(f"at least two levels, got {show(self.levels)}")
            if self.integer or self.scale:
                raise ValueError("'integer' and 'scale' only with a range, not with levels")
            return self
        if len(self.range) != 2 or not self.range[0] < self.range[1]:
            raise ValueError(f"a range [low, high] with low < high, got {show(self.range)}")
        if self.integer and (self.scale or any(v != int(v) for v in self.range)):
            raise ValueError(f"whole-number bounds and no 'scale' with 'integer', got "
                             f"{show(self.range)}")
        return self

    def to_parameter(self, name: str, kind: Literal["uncertainty", "lever"]) -> Parameter:
        """The parameter this specification describes."""
        if self.levels is not None:
            return CategoricalParameter(name, kind, tuple(self.levels))
        low, high = self.range
        if self.integer:
            return IntegerParameter(name, kind, int(low), int(high))
        return RealParameter(name, kind, float(low), float(high), self.scale)


class DesignSpec(_Strict):
    """How to sample the parameter space (each method takes only its own options)."""

    method: Literal["full_factorial", "latin_hypercube", "sobol", "morris"] = Field(
        ..., description="The sampling design.")
    samples: int | None = Field(None, ge=1, le=1_000_000, description="Latin hypercube points, "
                                "or Sobol' base samples N (a power of 2; N(D+2) points).")
    second_order: bool = Field(False, description="Sobol': also second-order indices "
                               "(N(2D+2) points).")
    resolution: int = Field(3, ge=2, le=1000, description="Full factorial: values per range.")
    trajectories: int | None = Field(None, ge=2, le=100_000, description="Morris trajectories "
                                     "(D+1 points each).")
    levels: int = Field(4, ge=2, le=100, description="Morris: grid levels.")

    @model_validator(mode="after")
    def _options_fit_the_method(self) -> DesignSpec:
        allowed = DESIGN_OPTIONS[self.method]
        foreign = sorted(self.model_fields_set - allowed - {"method"})
        if foreign:
            raise ValueError(f"only {', '.join(sorted(allowed))} with method {self.method}; "
                             f"remove {', '.join(foreign)}")
        required = REQUIRED_OPTIONS.get(self.method)
        if required and getattr(self, required) is None:
            raise ValueError(f"'{required}' with method {self.method}")
        if self.method == "sobol" and self.samples & (self.samples - 1):
            below = 1 << (self.samples.bit_length() - 1)
            raise ValueError(f"samples a power of 2 with method sobol (e.g. {below} or "
                             f"{below * 2}), got {self.samples}")
        return self


class ExperimentFile(_Strict):
    """A whole experiment file."""

    description: str = Field("", description="The question the experiment answers.")
    scenario: str = Field(..., description="Base scenario file, relative to this file.")
    set: dict[str, Any] = Field(default_factory=dict, description="Fixed changes to the base "
                                "scenario, {key.path: value}.")
    uncertainties: dict[str, ParameterSpec] = Field(default_factory=dict, description=
                                                    "Uncertain parameters, by key path.")
    levers: dict[str, ParameterSpec] = Field(default_factory=dict, description=
                                             "Policy levers, by key path.")
    design: DesignSpec = Field(..., description="The sampling design.")
    replications: int = Field(1, ge=1, le=100_000, description="Runs per design point.")
    seed: int | None = Field(None, ge=0, le=2**63 - 1, description="Root seed of the design and "
                             "of every run; drawn at random (and recorded) if left out.")
    outcomes: list[str] = Field(..., min_length=1, description="Outcome names to record.")
    yearly: bool = Field(True, description="Also store each run's yearly table.")


@dataclass(frozen=True)
class Experiment:
    """A validated experiment, resolved against its base scenario."""

    path: Path
    file: ExperimentFile
    scenario_path: Path
    base: ScenarioFile
    """The base scenario with ``set`` applied: what every run starts from."""
    parameters: list[Parameter]
    """Uncertainties first, then levers, in file order: the design's columns."""
    outcomes: list[Outcome]
    yearly_columns: list[str]

    @property
    def name(self) -> str:
        """The experiment file's stem."""
        return self.path.stem

    def digest(self) -> str:
        """SHA-256 of the experiment and its resolved base scenario (same inputs, same digest)."""
        canonical = json.dumps({"experiment": self.file.model_dump(mode="json"),
                                "scenario": scenario_hash(self.base)},
                               sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()

    @functools.cached_property
    def base_values(self) -> dict[str, Any]:
        """Each parameter's value in the base scenario (what ``scale`` multiplies)."""
        tree = self.base.model_dump()
        return {p.name: value_at_path(tree, p.name) for p in self.parameters}

    def scenario_values(self, coordinates: list[float]) -> dict[str, Any]:
        """The scenario values of one design point, ``{key.path: value}``."""
        return {p.name: p.scenario_value(x, self.base_values[p.name])
                for p, x in zip(self.parameters, coordinates, strict=True)}


def load_experiment(path: str | Path) -> Experiment:
    """Read, validate and resolve an experiment file; a mistake raises one ``UserError``."""
    path = Path(path)
    raw = _read_yaml(path)
    try:
        file = ExperimentFile.model_validate(raw)
    except ValidationError as error:
        raise UserError(format_validation_error(str(path), error, [], root=ExperimentFile,
                                                 noun="experiment")) from None
    scenario_path = path.parent / file.scenario
    try:
        base = load_scenario(scenario_path, values=file.set)
    except UserError as error:
        raise UserError(f"{path}: cannot use the base scenario (with 'set' applied): "
                        f"{_without_set_note(error)}") from None
    parameters = _parameters(path, file)
    _check_size(path, file, parameters)
    _check_parameter_values(path, file, scenario_path, base, parameters)
    yearly_columns = _yearly_columns(base)
    outcomes = _outcomes(path, file, base, yearly_columns, parameters)
    return Experiment(path, file, scenario_path, base, parameters, outcomes, yearly_columns)


def _read_yaml(path: Path) -> dict[str, Any]:
    data = load_yaml(read_text(path, "experiment"), str(path))
    if not isinstance(data, dict):
        raise UserError(f"{path}: expected a mapping with scenario, uncertainties or levers, "
                        f"design and outcomes, got {type(data).__name__}")
    return data


def _check_size(path: Path, file: ExperimentFile, parameters: list[Parameter]) -> None:
    """Refuse a design or a sweep beyond the documented limits before anything is sampled."""
    points = design_size(parameters, file.design)
    if points > MAX_DESIGN_POINTS:
        raise UserError(f"{path}: design: {file.design.method} with these options makes "
                        f"{points:,} points; at most {MAX_DESIGN_POINTS:,} are allowed (lower "
                        "the resolution, samples or trajectories)")
    runs = points * file.replications
    if runs > MAX_SWEEP_RUNS:
        raise UserError(f"{path}: replications: {points:,} points x {file.replications:,} "
                        f"replications make {runs:,} runs; at most {MAX_SWEEP_RUNS:,} are allowed")


def _without_set_note(error: UserError) -> str:
    # The scenario loader marks values that did not come from its file as set with --set; here
    # they come from the experiment file, which the surrounding message already names.
    return str(error).replace(" (set with --set)", "")


def _parameters(path: Path, file: ExperimentFile) -> list[Parameter]:
    sections = [("uncertainties", "uncertainty", file.uncertainties),
                ("levers", "lever", file.levers)]
    parameters = [spec.to_parameter(name, kind) for _, kind, specs in sections
                  for name, spec in specs.items()]
    if not parameters:
        raise UserError(f"{path}: invalid experiment: expected at least one parameter under "
                        "uncertainties or levers")
    names = [p.name for p in parameters]
    problems = []
    for name in sorted({n for n in names if names.count(n) > 1}):
        problems.append(f"{name}: listed both as an uncertainty and as a lever")
    for name in names:
        for other in [*names, *file.set]:
            if other != name and other.startswith(name + "."):
                problems.append(f"{other}: inside {name}, which is varied as a whole")
        if name in file.set:
            problems.append(f"{name}: both varied and fixed under 'set'")
    if problems:
        raise UserError(f"{path}: invalid experiment\n" + "\n".join(f"  {p}" for p in problems))
    return parameters


def _check_parameter_values(path: Path, file: ExperimentFile, scenario_path: Path,
                            base: ScenarioFile, parameters: list[Parameter]) -> None:
    """Each parameter's extreme values (every level) must be valid scenario values on their own.

    Combinations are checked when they run: a combination the scenario refuses is a failed run.
    """
    tree = base.model_dump()
    for parameter in parameters:
        section = "uncertainties" if parameter.kind == "uncertainty" else "levers"
        where = f"{path}: {section}.{parameter.name}"
        base_value = value_at_path(tree, parameter.name)
        if isinstance(parameter, RealParameter) and parameter.scale and not _scalable(base_value):
            raise UserError(f"{where}: 'scale' needs a number or a {{year: value}} mapping at "
                            f"that key in the base scenario, found {show(base_value)}")
        for coordinate in parameter.grid(2):  # both ends of a range, every level
            value = parameter.scenario_value(coordinate, base_value)
            try:
                load_scenario(scenario_path, values={**file.set, parameter.name: value})
            except UserError as error:
                raise UserError(f"{where}: the base scenario refuses the value {show(value)}: "
                                f"{_without_set_note(error)}") from None


def _scalable(value: Any) -> bool:
    numbers = value.values() if isinstance(value, dict) else [value]
    return bool(numbers) and all(isinstance(v, int | float) and not isinstance(v, bool)
                                 for v in numbers)


def _yearly_columns(base: ScenarioFile) -> list[str]:
    """The yearly table's columns for this scenario (they depend on its providers and states)."""
    from sim.model import CloudRaceModel, CloudRaceScenario

    model = CloudRaceModel(CloudRaceScenario.from_settings(base, rng=0))
    return list(model.datacollector.model_reporters)


def _outcomes(path: Path, file: ExperimentFile, base: ScenarioFile, yearly_columns: list[str],
              parameters: list[Parameter]) -> list[Outcome]:
    outcomes, problems = [], []
    horizon_varies = any(p.name.startswith("run.") for p in parameters)
    for name in file.outcomes:
        if file.outcomes.count(name) > 1:
            problems.append(f"{name}: listed more than once")
            continue
        try:
            outcome = resolve_outcome(name, base.providers, base.states, yearly_columns)
        except ValueError as error:
            problems.append(str(error))
            continue
        if outcome.year is not None and not horizon_varies and not \
                base.run.start_year <= outcome.year <= base.run.end_year:
            problems.append(f"{name}: the year {outcome.year} is outside the runs' horizon "
                            f"({base.run.start_year}-{base.run.end_year})")
        outcomes.append(outcome)
    if problems:
        listed = sorted(set(problems), key=problems.index)
        if len(listed) == 1:
            raise UserError(f"{path}: invalid experiment: outcomes: {listed[0]}")
        raise UserError(f"{path}: invalid experiment: outcomes\n"
                        + "\n".join(f"  {p}" for p in listed))
    return outcomes
