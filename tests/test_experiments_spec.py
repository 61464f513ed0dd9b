"""Experiment files, parameters, designs and outcomes: validation, sampling and arithmetic.

No sweep runs here: these check what an experiment file means and what each piece computes.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import BASELINE, REPO

from sim.errors import UserError
from sim.experiments import designs
from sim.experiments.outcomes import (
    countries_to,
    deals_to,
    resolve_outcome,
    share_of_new_contracts,
    yearly_value,
)
from sim.experiments.parameters import (
    CategoricalParameter,
    IntegerParameter,
    RealParameter,
    salib_problem,
)
from sim.experiments.spec import load_experiment
from sim.experiments.sweep import design_seed, run_seed

EXPERIMENTS = sorted((REPO / "experiments").glob("*.yaml"))

VALID = f"""\
description: test experiment
scenario: {BASELINE}
set: {{run.end_year: 2012}}
uncertainties:
  choice.security_weight: {{range: [1.0, 3.0]}}
  states.China.financing_budget_usd_m: {{range: [0.5, 1.5], scale: true}}
levers:
  states.US.security_pressure: {{levels: [0.0, 0.8]}}
design: {{method: sobol, samples: 4}}
replications: 2
seed: 1
outcomes: [huawei_deals_to_2010_06, leverage_china_2012]
"""


def write_experiment(folder: Path, text: str, name: str = "experiment.yaml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def load_text(tmp_path: Path, text: str):
    return load_experiment(write_experiment(tmp_path, text))


def error_of(tmp_path: Path, text: str) -> str:
    with pytest.raises(UserError) as caught:
        load_text(tmp_path, text)
    return str(caught.value)


# --- experiment files ------------------------------------------------------------------------


@pytest.mark.parametrize("path", EXPERIMENTS, ids=[p.name for p in EXPERIMENTS])
def test_shipped_experiment_files_are_valid(path: Path):
    experiment = load_experiment(path)
    assert experiment.file.description
    assert experiment.parameters and experiment.outcomes


def test_uncertainties_and_levers_are_kept_apart_in_file_order(tmp_path):
    experiment = load_text(tmp_path, VALID)
    assert [(p.name, p.kind) for p in experiment.parameters] == [
        ("choice.security_weight", "uncertainty"),
        ("states.China.financing_budget_usd_m", "uncertainty"),
        ("states.US.security_pressure", "lever")]


def test_set_values_apply_to_the_base_scenario(tmp_path):
    assert load_text(tmp_path, VALID).base.run.end_year == 2012


def test_misspelt_top_level_key_names_the_nearest_valid_key(tmp_path):
    message = error_of(tmp_path, VALID.replace("design:", "desing:"))
    assert "invalid experiment" in message
    assert "desing: unknown key; did you mean 'design'?" in message


def test_misspelt_key_of_a_parameter_names_the_nearest_valid_key(tmp_path):
    message = error_of(tmp_path, VALID.replace("{range: [1.0, 3.0]}", "{rnage: [1.0, 3.0]}"))
    assert "did you mean 'range'?" in message
    assert "uncertainties.choice.security_weight" in message


@pytest.mark.parametrize(("spec", "expected"), [
    ("{range: [3.0, 1.0]}", "low < high"),
    ("{range: [1.0, 3.0], levels: [1, 2]}", "either 'range: [low, high]' or 'levels"),
    ("{levels: [1]}", "at least two levels"),
    ("{levels: [1, 2], scale: true}", "only with a range"),
    ("{range: [1.5, 3], integer: true}", "whole-number bounds"),
    ("{range: [1, 'x']}", "expected a number, got 'x'"),
])
def test_malformed_parameter_is_refused_with_what_was_expected(tmp_path, spec, expected):
    message = error_of(tmp_path, VALID.replace("{range: [1.0, 3.0]}", spec))
    assert expected in message
    assert str(tmp_path / "experiment.yaml") in message


@pytest.mark.parametrize(("design", "expected"), [
    ("{method: sobol, samples: 6}", "power of 2 with method sobol (e.g. 4 or 8), got 6"),
    ("{method: sobol}", "'samples' with method sobol"),
    ("{method: latin_hypercube, samples: 8, second_order: true}", "remove second_order"),
    ("{method: morris, trajectories: 4, resolution: 3}", "remove resolution"),
    ("{method: factorial}", "expected 'full_factorial', 'latin_hypercube', 'sobol' or"),
])
def test_design_options_must_fit_the_method(tmp_path, design, expected):
    message = error_of(tmp_path, VALID.replace("{method: sobol, samples: 4}", design))
    assert expected in message
    assert "design" in message


def test_a_value_the_scenario_refuses_is_named_with_the_scenario_reason(tmp_path):
    message = error_of(tmp_path, VALID.replace("choice.security_weight: {range: [1.0, 3.0]}",
                                               "choice.scale: {range: [0.0, 3.0]}"))
    assert "uncertainties.choice.scale: the base scenario refuses the value 0.0" in message
    assert "expected a number >= 0.01" in message
    assert "--set" not in message


def test_a_misspelt_parameter_path_names_the_nearest_scenario_key(tmp_path):
    message = error_of(tmp_path, VALID.replace("choice.security_weight", "choice.security_weigth"))
    assert "did you mean 'security_weight'?" in message


def test_scale_needs_a_number_in_the_base_scenario(tmp_path):
    text = VALID.replace("choice.security_weight: {range: [1.0, 3.0]}",
                         "states.US.bloc: {range: [0.5, 1.5], scale: true}")
    assert "'scale' needs a number or a {year: value} mapping" in error_of(tmp_path, text)


def test_a_parameter_both_varied_and_fixed_is_refused(tmp_path):
    text = VALID.replace("set: {run.end_year: 2012}",
                         "set: {run.end_year: 2012, choice.security_weight: 2.0}")
    assert "choice.security_weight: both varied and fixed under 'set'" in error_of(tmp_path, text)


def test_a_parameter_inside_another_varied_one_is_refused(tmp_path):
    text = VALID.replace("  states.US.security_pressure: {levels: [0.0, 0.8]}",
                         "  states.US.security_pressure: {levels: [0.0, 0.8]}\n"
                         "  states.US: {levels: [{}, {}]}")
    assert "states.US.security_pressure: inside states.US" in error_of(tmp_path, text)


def test_an_experiment_without_parameters_is_refused(tmp_path):
    text = VALID.split("uncertainties:")[0] + VALID.split("security_pressure: {levels: [0.0, "
                                                          "0.8]}\n")[1]
    assert "at least one parameter" in error_of(tmp_path, text)


def test_unknown_outcome_lists_the_patterns_understood(tmp_path):
    message = error_of(tmp_path, VALID.replace("leverage_china_2012", "leverage_russia_2012"))
    assert "unknown outcome 'leverage_russia_2012'" in message
    assert "<provider>_deals_to_<YYYY>_<MM>" in message
    assert "states China, Others, US" in message


def test_outcome_beyond_the_horizon_is_refused(tmp_path):
    message = error_of(tmp_path, VALID.replace("leverage_china_2012", "leverage_china_2035"))
    assert "outside the runs' horizon (2006-2012)" in message


def test_missing_base_scenario_is_named(tmp_path):
    message = error_of(tmp_path, VALID.replace(str(BASELINE), "nowhere.yaml"))
    assert "nowhere.yaml: scenario file not found" in message


def test_digest_changes_with_the_experiment_and_not_otherwise(tmp_path):
    first = load_text(tmp_path, VALID).digest()
    assert load_text(tmp_path, VALID).digest() == first
    assert load_text(tmp_path, VALID.replace("seed: 1", "seed: 2")).digest() != first


# --- parameters ------------------------------------------------------------------------------


def test_integer_parameter_gives_every_integer_an_equal_cell():
    parameter = IntegerParameter("x", "uncertainty", 2, 4)
    assert parameter.bounds() == (2.0, 5.0)
    assert [parameter.value_at(x) for x in (2.0, 2.99, 3.0, 4.5, 5.0)] == [2, 2, 3, 4, 4]


def test_categorical_parameter_maps_cells_to_levels():
    parameter = CategoricalParameter("x", "lever", (0.0, 0.4, 0.8))
    assert parameter.bounds() == (0.0, 3.0)
    assert [parameter.value_at(x) for x in (0.0, 0.99, 1.5, 2.7, 3.0)] == [0.0, 0.0, 0.4, 0.8,
                                                                          0.8]


def test_step_function_levels_are_recorded_as_json_and_applied_whole():
    parameter = CategoricalParameter("x", "lever", (0.0, {2020.0: 300.0}))
    assert parameter.column_type() == "json"
    assert parameter.value_at(1.2) == '{"2020.0": 300.0}'
    assert parameter.scenario_value(1.2, None) == {2020.0: 300.0}


def test_scale_multiplies_every_step_of_a_time_phased_value():
    parameter = RealParameter("x", "uncertainty", 0.5, 1.5, scale=True)
    assert parameter.scenario_value(0.5, {2006.0: 250.0, 2016.0: 700.0}) == {2006.0: 125.0,
                                                                            2016.0: 350.0}
    assert parameter.scenario_value(1.5, 2.0) == 3.0
    assert parameter.value_at(1.5) == 1.5


def test_scaled_parameter_reaches_the_scenario_as_scaled_steps(tmp_path):
    experiment = load_text(tmp_path, VALID)
    values = experiment.scenario_values([2.0, 0.5, 1.0])
    baseline_budget = experiment.base.states["China"].financing_budget_usd_m
    assert values["states.China.financing_budget_usd_m"] == {
        year: value * 0.5 for year, value in baseline_budget.items()}
    assert values["choice.security_weight"] == 2.0
    assert values["states.US.security_pressure"] == 0.8


# --- designs ---------------------------------------------------------------------------------


PARAMETERS = [RealParameter("a", "uncertainty", 0.0, 1.0),
              IntegerParameter("b", "uncertainty", 1, 3),
              CategoricalParameter("c", "lever", ("x", "y"))]


def test_full_factorial_holds_every_combination_once():
    points = designs.full_factorial(PARAMETERS, resolution=3)
    values = {tuple(p.value_at(x) for p, x in zip(PARAMETERS, row, strict=True))
              for row in points}
    assert len(points) == 3 * 3 * 2 == len(values)
    assert values == set(itertools.product([0.0, 0.5, 1.0], [1, 2, 3], ["x", "y"]))


def test_latin_hypercube_puts_one_point_in_each_slice_of_each_parameter():
    points = designs.latin_hypercube(PARAMETERS, samples=10, seed=3)
    for column, parameter in enumerate(PARAMETERS):
        low, high = parameter.bounds()
        slices = np.floor((points[:, column] - low) / (high - low) * 10)
        assert sorted(slices) == list(range(10))


@pytest.mark.parametrize(("second_order", "size"), [(False, 8 * (3 + 2)), (True, 8 * (6 + 2))])
def test_sobol_design_has_saltelli_size(second_order, size):
    assert designs.sobol(PARAMETERS, 8, second_order, seed=1).shape == (size, 3)


def test_morris_design_has_one_more_point_than_parameters_per_trajectory():
    points = designs.morris(PARAMETERS, trajectories=5, levels=4, seed=1)
    assert points.shape == (5 * 4, 3)
    problem = salib_problem(PARAMETERS)
    for (low, high), column in zip(problem["bounds"], points.T, strict=True):
        assert low <= column.min() and column.max() <= high


def test_same_seed_gives_the_same_design_and_another_seed_another():
    first = designs.latin_hypercube(PARAMETERS, 6, seed=design_seed(1))
    assert np.array_equal(first, designs.latin_hypercube(PARAMETERS, 6, seed=design_seed(1)))
    assert not np.array_equal(first, designs.latin_hypercube(PARAMETERS, 6,
                                                             seed=design_seed(2)))


def test_run_seed_is_spawned_from_the_root_by_point_and_replication():
    sequence = np.random.SeedSequence(99, spawn_key=(3, 1))
    assert run_seed(99, 3, 1) == int(sequence.generate_state(1, dtype=np.uint64)[0] >> 1)
    seeds = {run_seed(99, point, rep) for point in range(20) for rep in range(3)}
    assert len(seeds) == 60 and all(0 <= s < 2**63 for s in seeds)


# --- outcomes --------------------------------------------------------------------------------


CONTRACTS = pd.DataFrame({
    "time": [2007.2, 2010.5, 2021.30, 2021.34, 2022.0, 2030.9, 2036.0],
    "year": [2007, 2010, 2021, 2021, 2022, 2030, 2036],
    "country": ["KEN", "KEN", "GHA", "NGA", "KEN", "BRA", "BRA"],
    "provider": ["Huawei", "Huawei", "Huawei", "Huawei", "AWS", "Huawei", "Huawei"],
    "provider_state": ["China", "China", "China", "China", "US", "China", "China"],
})
YEARLY = pd.DataFrame({"year": [2034, 2035], "leverage_China": [0.4, 0.5],
                       "debt_usd_m_China": [10.0, 12.5]})


def test_deals_and_countries_count_up_to_the_end_of_the_month():
    april_2021 = 2021 + 4 / 12
    assert deals_to(CONTRACTS, "Huawei", april_2021) == 3.0  # 2021.34 is in May
    assert countries_to(CONTRACTS, "Huawei", april_2021) == 2.0


def test_share_of_new_contracts_counts_the_years_inclusive():
    assert share_of_new_contracts(CONTRACTS, "provider", "Huawei", 2022, 2035) == 0.5
    assert share_of_new_contracts(CONTRACTS, "provider_state", "US", 2022, 2030) == 0.5
    assert np.isnan(share_of_new_contracts(CONTRACTS, "provider", "AWS", 2040, 2041))


def test_yearly_value_reads_the_year_or_gives_nan():
    assert yearly_value(YEARLY, "leverage_China", 2035) == 0.5
    assert np.isnan(yearly_value(YEARLY, "leverage_China", 2036))


@pytest.mark.parametrize(("name", "value"), [
    ("huawei_deals_to_2021_04", 3.0),
    ("Huawei_countries_to_2021_04", 2.0),
    ("share_new_huawei_2022_2035", 0.5),
    ("share_new_china_2022_2035", 0.5),
    ("share_new_us_2022_2035", 0.5),
    ("leverage_china_2035", 0.5),
    ("debt_China_2034", 10.0),
])
def test_outcome_names_resolve_to_their_functions(name, value):
    outcome = resolve_outcome(name, ["Huawei", "AWS"], ["China", "US"],
                              ["year", "leverage_China", "debt_usd_m_China"])
    assert outcome.name == name
    assert outcome(CONTRACTS, YEARLY) == value


def test_unknown_provider_in_an_outcome_name_is_refused():
    with pytest.raises(ValueError, match="unknown outcome 'google_deals_to_2021_04'"):
        resolve_outcome("google_deals_to_2021_04", ["Huawei"], ["China"], ["year"])


def test_experiment_guide_names_only_shipped_experiment_files():
    guide = (REPO / "docs" / "experiments.md").read_text(encoding="utf-8")
    named = set(re.findall(r"experiments/(\w+\.yaml)", guide))
    assert named and named <= {path.name for path in EXPERIMENTS}
