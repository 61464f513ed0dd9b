"""Validation, calibration (ABC-SMC on pyabc) and attribution: arithmetic and commands."""

from __future__ import annotations

import json
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pyabc
import pytest
import yaml
from conftest import REPO, run_cli

from sim.abc_sampling import SeededFutureSampler, evaluation_seeds
from sim.calibration import (
    CalibrationSpec,
    FreeParameter,
    bands_passed,
    calibrate,
    candidate_values,
    distance,
    draw_members,
    load_spec,
    prior,
    weighted_quantiles,
)
from sim.experiments.executors import SerialExecutor
from sim.recovery import draw_truths, recover
from sim.scenario import load_scenario
from sim.validation import (
    TargetSet,
    compare_with_targets,
    joint_check,
    load_targets,
    predictive_p_value,
    record_outcomes,
    seed_stability,
)

TARGETS = load_targets()
FITTED = TARGETS.role("target")
TINY_WORLD = {"population.only": ["KEN", "ZMB", "GHA", "NGA", "BRA", "MEX", "IDN", "SAU"],
              "run.end_year": 2012}
COUNTS = TargetSet("Huawei", 2021.33, tuple(t for t in TARGETS.targets
                                            if t.outcome in ("deals", "countries")))


def test_the_patterns_are_the_public_record_with_their_roles():
    values = {t.outcome: t.value for t in TARGETS.targets}
    assert values["deals"] == 70 and values["countries"] == 41
    assert values["region_share_africa"] == 36 and values["fh_share_partly_free"] == 43
    assert TARGETS.cutoff == pytest.approx(2021.33)
    assert len(FITTED.targets) == 11 and values["bundled_share"] == 60
    holdouts = TARGETS.role("holdout").outcomes
    assert {"financed_share", "china_financed_share", "named_countries",
            "first_deal_year"} <= set(holdouts)
    assert all(t.source for t in TARGETS.targets)


def test_a_pattern_file_with_a_bad_role_is_refused_by_name(tmp_path):
    bad = tmp_path / "targets.yaml"
    bad.write_text("provider: Huawei\ncutoff: 2021.33\npatterns:\n  - {outcome: deals, "
                   "label: d, unit: deals, value: 70, band: 10, role: maybe}\n")
    with pytest.raises(Exception, match=r"patterns\[0\]\.role"):
        load_targets(bad)


def test_outcomes_count_huawei_deals_before_the_cutoff_only():
    contracts = pd.DataFrame({
        "provider": ["Huawei", "Huawei", "AWS", "Huawei"],
        "time": [2010.0, 2021.2, 2015.0, 2021.5],
        "country": ["KEN", "KEN", "GHA", "ZMB"],
        "region": ["Africa", "Africa", "Africa", "Africa"],
        "fh_status": ["Partly Free", "Partly Free", "Free", "Not Free"],
        "loan_usd_m": [10.0, 0.0, 5.0, 3.0],
        "financing_state": ["China", "", "US", "China"],
        "bundled_hardware": [True, False, True, True],
    })
    outcomes = record_outcomes(contracts, TARGETS)
    assert outcomes["deals"] == 2 and outcomes["countries"] == 1
    assert outcomes["region_share_africa"] == 100.0
    assert outcomes["fh_share_partly_free"] == 100.0 and outcomes["fh_share_free"] == 0.0
    assert outcomes["financed_share"] == 50.0 and outcomes["china_financed_share"] == 100.0
    assert outcomes["named_countries"] == 1 and outcomes["first_deal_year"] == 2010.0
    assert outcomes["bundled_share"] == 50.0


def test_a_target_passes_when_the_mean_lies_within_its_band():
    per_replication = pd.DataFrame({t.outcome: [t.value + t.band] * 3 for t in TARGETS.targets})
    assert compare_with_targets(per_replication, TARGETS)["passed"].all()
    per_replication["deals"] = 70 + 10.5
    table = compare_with_targets(per_replication, TARGETS).set_index("outcome")
    assert not table.loc["deals", "passed"]
    assert set(table["role"]) == {"target", "holdout"}


def test_the_predictive_p_value_is_small_only_when_the_record_is_rare_among_runs():
    runs = np.arange(100.0)
    assert predictive_p_value(runs, 49.5) == pytest.approx(1.0)
    assert predictive_p_value(runs, 2.0) == pytest.approx(0.06)
    assert predictive_p_value(runs, 150.0) == 0.0


def test_the_joint_check_fails_a_record_far_from_the_runs_and_passes_a_typical_one():
    rng = np.random.default_rng(1)
    runs = pd.DataFrame(rng.normal(size=(200, 2)) * [10, 6] + [70, 41],
                        columns=["deals", "countries"])
    typical = joint_check(runs, COUNTS)
    assert typical["rank"] == 2 and typical["p_monte_carlo"] > 0.5
    runs_far = runs + [40, 0]
    assert joint_check(runs_far, COUNTS)["p_monte_carlo"] < 0.01


def test_seed_stability_flags_a_verdict_that_changes_with_the_root_seed():
    table = pd.DataFrame({"outcome": ["a", "b"], "role": ["target", "holdout"]})
    verdicts = {1: table.assign(passed=[True, True]), 2: table.assign(passed=[True, False])}
    stability = seed_stability(verdicts).set_index("outcome")
    assert stability.loc["a", "stable"] and not stability.loc["b", "stable"]
    assert stability.loc["b", "passed_in"] == 1


def test_distance_is_the_rms_miss_in_bands():
    means = {t.outcome: t.value for t in FITTED.targets}
    assert distance(means, FITTED) == 0.0
    means["deals"] = 70 + 2 * 10
    assert distance(means, FITTED) == pytest.approx(np.sqrt(4 / len(FITTED.targets)))
    assert bands_passed(means, FITTED) == len(FITTED.targets) - 1


def small_spec(**changes) -> CalibrationSpec:
    values = dict(base="../scenarios/baseline.yaml", seed=5, population_size=8, batch_size=4,
                  max_generations=2, min_acceptance_rate=0.0, max_simulations=400,
                  representative_candidates=2, representative_replications=2,
                  overrides=TINY_WORLD,
                  parameters={"demand.tender_rate": FreeParameter(low=1.0, high=5.0),
                              "states.China.financing_budget_usd_m":
                                  FreeParameter(low=0.5, high=2.0, scale=True)})
    return CalibrationSpec(**{**values, **changes})


def test_a_scale_parameter_multiplies_the_base_step_function():
    base = load_scenario(REPO / "scenarios" / "baseline.yaml")
    values = candidate_values(base, small_spec(), {"demand.tender_rate": 0.2,
                                                   "states.China.financing_budget_usd_m": 2.0})
    assert values["demand.tender_rate"] == 0.2
    budget = base.states["China"].financing_budget_usd_m
    assert values["states.China.financing_budget_usd_m"] == {y: 2 * v for y, v in
                                                             budget.items()}


def test_evaluation_seeds_are_spawned_per_generation_and_evaluation():
    assert evaluation_seeds(1, 0, 5) == evaluation_seeds(1, 0, 5)
    seeds = {evaluation_seeds(1, t, j) for t in (-1, 0, 1) for j in range(50)}
    assert len(seeds) == 150
    assert evaluation_seeds(2, 0, 5) != evaluation_seeds(1, 0, 5)


def uninformative(parameters: dict) -> dict:
    """A toy model whose output ignores its parameter (module level: processes import it)."""
    return {"y": float(np.random.normal())}


def toy_run(sampler, population: int, generations: int) -> pd.DataFrame:
    spec = small_spec(parameters={"x": FreeParameter(low=0.0, high=1.0)})
    abc = pyabc.ABCSMC(uninformative, prior(spec), pyabc.PNormDistance(p=2),
                       population_size=population, sampler=sampler)
    abc.new("sqlite://", {"y": 0.0})
    history = abc.run(max_nr_populations=generations)
    frame, weights = history.get_distribution()
    return frame.assign(w=weights).sort_values("x").reset_index(drop=True)


def test_with_uninformative_data_the_posterior_is_the_truncated_prior():
    """Proposals near the prior's bounds are redrawn; the weights must undo that, so the
    weighted posterior of a model that ignores its parameter is the uniform prior again."""
    posterior = toy_run(SeededFutureSampler(SerialExecutor(), 3, 1, batch_size=20), 300, 3)
    x, w = posterior["x"].to_numpy(), posterior["w"].to_numpy()
    assert x.min() >= 0.0 and x.max() <= 1.0
    assert float(x @ w) == pytest.approx(0.5, abs=0.04)
    low, high = weighted_quantiles(x, w, (0.05, 0.95))
    assert low == pytest.approx(0.05, abs=0.04) and high == pytest.approx(0.95, abs=0.04)
    equal = weighted_quantiles(x, np.ones_like(w), (0.05, 0.95))
    assert abs(equal[0] - 0.05) + abs(equal[1] - 0.95) > abs(low - 0.05) + abs(high - 0.95)


def test_a_run_is_the_same_serially_in_processes_and_on_dask():
    from distributed import Client, LocalCluster

    from sim.abc_sampling import SeededDaskSampler
    from sim.calibration import make_sampler

    serial = toy_run(SeededFutureSampler(SerialExecutor(), 9, 1, batch_size=5), 20, 2)
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(2, mp_context=context) as pool:
        parallel = toy_run(SeededFutureSampler(pool, 9, 4, batch_size=5), 20, 2)
    pd.testing.assert_frame_equal(serial, parallel)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        dask = toy_run(SeededDaskSampler(client, 9, batch_size=5), 20, 2)
    pd.testing.assert_frame_equal(serial, dask)
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                      dashboard_address=None) as threaded, \
            pytest.raises(Exception, match="one thread"):
        make_sampler(9, 1, threaded.scheduler_address)


def test_members_are_drawn_by_weight_with_replacement():
    posterior = pd.DataFrame({"weight": [0.9, 0.1, 0.0]})
    drawn = draw_members(posterior, 200, seed=1)
    counts = drawn.index.value_counts()
    assert counts.get(2, 0) == 0 and 160 < counts[0] < 200
    assert draw_members(posterior, 200, seed=1).index.equals(drawn.index)


def test_calibration_runs_abc_smc_and_can_be_resumed(tmp_path):
    _, base = load_spec(REPO / "calibration" / "abc.yaml")
    result = calibrate(small_spec(), base, TARGETS, tmp_path / "abc.db", progress=False)
    assert list(result.generations["generation"]) == [0, 1]
    assert (result.generations["ess"] <= result.generations["particles"] + 1e-9).all()
    assert result.simulations >= result.generations["simulations"].sum()
    assert result.posterior["weight"].sum() == pytest.approx(1.0)
    assert set(FITTED.outcomes) <= set(result.posterior.columns)
    assert not set(TARGETS.role("holdout").outcomes) & set(result.posterior.columns)
    assert result.posterior["demand.tender_rate"].between(1.0, 5.0).all()
    assert "generation budget" in result.stop_reason
    assert result.representative.name in result.posterior.index
    resumed = calibrate(small_spec(max_generations=3), base, TARGETS, tmp_path / "abc.db",
                        resume=True, progress=False, representative=False)
    assert list(resumed.generations["generation"]) == [0, 1, 2]
    assert resumed.generations.iloc[:2].equals(result.generations)


def test_parameter_recovery_covers_the_truth(tmp_path):
    """Synthetic records from known values: the posterior 90 % intervals cover them, and the
    deal count narrows the tender rate, the one parameter these statistics identify (deals and
    countries in an eight-country world say little about China's budget factor, so only its
    coverage is checked). Model 2.0's stochastic entry and other suppliers add chance to the
    deal count: 30 particles and 3 generations left one truth's tender-rate interval at 0.94 of
    the prior; 60 particles and 4 generations (about 20 s of CPU) give 0.63 and 0.77."""
    _, base = load_spec(REPO / "calibration" / "abc.yaml")
    spec = small_spec(population_size=60, max_generations=4, seed=11)
    truths = draw_truths(spec, 2)
    table = recover(spec, base, COUNTS, truths, tmp_path)
    assert len(table) == 4
    assert table["covered"].sum() >= 3, table
    rate = table[table["parameter"] == "demand.tender_rate"]
    assert (rate["width_over_prior"] < 0.9).all(), "deals should inform the tender rate"


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("CLOUDRACE_SLOW"), reason="set CLOUDRACE_SLOW=1")
def test_parameter_recovery_coverage_is_near_nominal(tmp_path):
    """Ten truths from the prior, two parameters: coverage of the 90 % intervals in 0.7-1.0
    (at the nominal 0.9, 20 intervals fall below 0.7 with probability about 1 %)."""
    _, base = load_spec(REPO / "calibration" / "abc.yaml")
    spec = small_spec(population_size=100, max_generations=5, seed=12)
    table = recover(spec, base, COUNTS, draw_truths(spec, 10), tmp_path, workers=2)
    assert 0.7 <= table["covered"].mean() <= 1.0, table


def test_the_shipped_posterior_is_of_the_calibration_files_parameters():
    spec, _ = load_spec(REPO / "calibration" / "abc.yaml")
    posterior = pd.read_csv(REPO / "calibration" / "posterior.csv", index_col=0)
    assert len(posterior) >= 1
    assert posterior["weight"].sum() == pytest.approx(1.0)
    assert "governments.alignment_freedom_weight" not in posterior.columns
    for key, bounds in spec.parameters.items():
        assert posterior[key].between(bounds.low, bounds.high).all(), key
    representative = yaml.safe_load((REPO / "calibration" / "representative.yaml").read_text())
    assert set(spec.parameters) <= set(representative)


@pytest.mark.xfail(strict=True, reason=(
    "the refit posterior (issue 12: 4,080 simulations, ESS 31 of 150, no parameter identified) "
    "is installed in calibration/, but scenarios/baseline.yaml keeps its earlier calibrated "
    "values: on 30 replications x 5 root seeds the representative member misses Africa and Asia "
    "in every seed where the baseline passes them in 4 and 1 (docs/calibration.md, 'The Model "
    "2.0 refit'), so it is adopted only when a longer run with healthy weights fits better"))
def test_the_shipped_baseline_is_the_representative_member():
    from sim.calibration import lookup_value

    base = load_scenario(REPO / "scenarios" / "baseline.yaml")
    representative = yaml.safe_load((REPO / "calibration" / "representative.yaml").read_text())
    for key, value in representative.items():
        node = lookup_value(base.model_dump(), key)
        if isinstance(value, dict):
            assert node == pytest.approx({float(k): v for k, v in value.items()})
        else:
            assert node == pytest.approx(value), key


def write_small_spec(folder: Path, **changes) -> Path:
    spec = small_spec(base=str(REPO / "scenarios" / "baseline.yaml"), **changes)
    path = folder / "abc.yaml"
    path.write_text(yaml.safe_dump(spec.model_dump(mode="json")))
    return path


def test_calibrate_writes_its_folder_resumes_into_a_new_one_and_installs(tmp_path, capsys,
                                                                        monkeypatch):
    from sim.cli_calibration import install

    spec = write_small_spec(tmp_path)
    out = tmp_path / "cal"
    result = run_cli(["calibrate", str(spec), "-q", "--spread-members", "0", "--out", str(out)],
                     capsys)
    assert result.code == 0, result.err
    assert "effective sample size" in result.out
    for name in ("posterior.csv", "generations.csv", "marginals.csv", "fit.csv", "report.md",
                 "representative.yaml", "marginals.png"):
        assert (out / "calibration" / name).is_file(), name
    assert (out / "abc.db").is_file() and not list(tmp_path.glob(".*abc.db"))
    marginals = pd.read_csv(out / "calibration" / "marginals.csv")
    assert {"width_over_prior", "identified"} <= set(marginals.columns)
    before = (out / "abc.db").read_bytes()
    (tmp_path / "more").mkdir()
    more = write_small_spec(tmp_path / "more", max_generations=3)
    again = run_cli(["calibrate", str(more), "-q", "--spread-members", "0", "--resume", str(out),
                     "--out", str(tmp_path / "cal2")], capsys)
    assert again.code == 0, again.err
    assert len(pd.read_csv(tmp_path / "cal2" / "calibration" / "generations.csv")) == 3
    assert (out / "abc.db").read_bytes() == before
    monkeypatch.chdir(tmp_path)
    (tmp_path / "calibration").mkdir()
    install(out / "calibration", (out / "calibration" / "report.md").read_text())
    assert (tmp_path / "calibration" / "posterior.csv").is_file()
    assert "ABC-SMC (pyabc)" in (tmp_path / "docs" / "calibration.md").read_text()


def test_validate_reports_both_groups_with_predictive_checks(tmp_path, capsys):
    out = tmp_path / "validation"
    result = run_cli(["validate", "-n", "3", "-q", "--seeds", "2", "--out", str(out)], capsys)
    table = pd.read_csv(out / "validation.csv")
    assert result.code == (0 if table["passed"].all() else 1)
    assert len(table) == len(TARGETS.targets)
    assert table["predictive_p"].between(0, 1).all()
    assert {"mean_ci90_low", "single_run_p05"} <= set(table.columns)
    assert (out / "validation.png").stat().st_size > 1000
    assert len(pd.read_csv(out / "per_replication.csv")) == 3
    joint = json.loads((out / "joint.json").read_text())
    assert set(joint) == {"target", "holdout"}
    stability = pd.read_csv(out / "seed_stability.csv")
    assert (stability["root_seeds"] == 2).all()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["replications"] == 3 and len(manifest["root_seeds"]) == 2
    assert "Hold-out patterns" in result.out and "Joint check" in result.out


def test_attribute_reports_each_state_lever_and_mechanism(tmp_path, capsys):
    out = tmp_path / "attribution"
    result = run_cli(["attribute", "-n", "2", "-q", "--permutations", "2", "--set",
                      "run.end_year=2021", "--out", str(out)], capsys)
    assert result.code == 0, result.err
    table = pd.read_csv(out / "attribution.csv")
    assert {"China financing", "US financing", "lock-in", "US export controls", "incidents",
            "US security pressure", "China subsidies", "bundling", "China promotion",
            "US promotion", "China strategic value", "US strategic value"} <= set(table["switch"])
    financing = table[(table["switch"] == "China financing") & (table["outcome"] == "deals")]
    assert financing["leave_one_out"].iloc[0] > 0
    assert (out / "attribution.png").is_file()


def test_a_bad_calibration_file_is_refused_clearly(tmp_path, capsys):
    bad = tmp_path / "abc.yaml"
    bad.write_text("base: ../scenarios/baseline.yaml\nseed: 1\n")
    result = run_cli(["calibrate", str(bad), "--out", str(tmp_path / "x")], capsys)
    assert result.code == 2
    assert str(bad) in result.err
    assert not (tmp_path / "x").exists()


def test_the_screening_learns_a_parameter_that_moves_a_statistic_and_not_noise():
    from sim.calibration_proposal import screening_table

    rng = np.random.default_rng(4)
    draws = pd.DataFrame({"moves": rng.uniform(0, 1, 300), "noise": rng.uniform(0, 1, 300)})
    statistics = pd.DataFrame({"deals": 50 * draws["moves"] + rng.normal(0, 5, 300),
                               "flat": np.zeros(300)})
    table = screening_table(draws, statistics, 0.27).set_index("parameter")
    assert table.at["moves", "learned"] and table.at["moves", "statistic"] == "deals"
    assert not table.at["noise", "learned"]


def test_a_prior_proposed_block_cancels_from_the_weights():
    """The proposal's density factorises: the prior block's density is the prior's, so the
    weights ``prior / proposal`` vary only through the learned block."""
    from sim.calibration_proposal import PriorTransition, make_transition

    bounds = {"a": (0.0, 1.0), "b": (2.0, 6.0)}
    block = PriorTransition({"b": bounds["b"]})
    assert block.pdf(pd.Series({"b": 3.0})) == pytest.approx(0.25)
    assert block.pdf(pd.Series({"b": 7.0})) == 0.0
    transition = make_transition(bounds, ["a"], "multivariate_normal", 1.0)
    particles = pd.DataFrame({"a": [0.4, 0.5, 0.6], "b": [2.5, 4.0, 5.5]})
    transition.fit(particles, np.full(3, 1 / 3))
    near, far = pd.Series({"a": 0.5, "b": 2.1}), pd.Series({"a": 0.5, "b": 5.9})
    assert transition.pdf(near) == pytest.approx(transition.pdf(far))
    np.random.seed(1)
    draws = pd.DataFrame([transition.rvs_single() for _ in range(200)])
    assert draws["b"].between(2.0, 6.0).all() and draws["b"].std() > 1.0
