"""Validation, calibration and attribution: the arithmetic and the commands end to end."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import REPO, run_cli

from sim.calibration import (
    CalibrationSpec,
    FreeParameter,
    bands_passed,
    calibrate,
    candidate_values,
    distance,
    importance_weights,
    load_spec,
    representative_member,
    sample_candidates,
)
from sim.scenario import load_scenario
from sim.validation import compare_with_targets, load_targets, record_outcomes

TARGETS = load_targets()


def test_targets_are_the_public_record():
    values = {t.outcome: t.value for t in TARGETS.targets}
    assert values["deals"] == 70 and values["countries"] == 41
    assert values["region_share_africa"] == 36 and values["fh_share_partly_free"] == 43
    assert TARGETS.cutoff == pytest.approx(2021.33)


def test_outcomes_count_huawei_deals_before_the_cutoff_only():
    contracts = pd.DataFrame({
        "provider": ["Huawei", "Huawei", "AWS", "Huawei"],
        "time": [2010.0, 2021.2, 2015.0, 2021.5],
        "country": ["KEN", "KEN", "GHA", "ZMB"],
        "region": ["Africa", "Africa", "Africa", "Africa"],
        "fh_status": ["Partly Free", "Partly Free", "Free", "Not Free"],
    })
    outcomes = record_outcomes(contracts, TARGETS)
    assert outcomes["deals"] == 2 and outcomes["countries"] == 1
    assert outcomes["region_share_africa"] == 100.0
    assert outcomes["fh_share_partly_free"] == 100.0 and outcomes["fh_share_free"] == 0.0


def test_a_target_passes_when_the_mean_lies_within_its_band():
    per_replication = pd.DataFrame({t.outcome: [t.value + t.band] * 3 for t in TARGETS.targets})
    assert compare_with_targets(per_replication, TARGETS)["passed"].all()
    per_replication["deals"] = 70 + 10.5
    table = compare_with_targets(per_replication, TARGETS).set_index("outcome")
    assert not table.loc["deals", "passed"]


def test_distance_is_the_rms_miss_in_bands():
    means = {t.outcome: t.value for t in TARGETS.targets}
    assert distance(means, TARGETS) == 0.0
    means["deals"] = 70 + 2 * 10
    assert distance(means, TARGETS) == pytest.approx(np.sqrt(4 / len(TARGETS.targets)))
    assert bands_passed(means, TARGETS) == len(TARGETS.targets) - 1


def small_spec(**changes) -> CalibrationSpec:
    values = dict(base="../scenarios/baseline.yaml", seed=5, candidates=6,
                  screening_replications=1, accept=3, generations=2, proposals=4,
                  rescoring_replications=2, selection_replications=2,
                  posterior_tolerance=50.0,
                  parameters={"demand.tender_rate": FreeParameter(low=0.1, high=0.3),
                              "states.China.financing_budget_usd_m":
                                  FreeParameter(low=0.5, high=2.0, scale=True)})
    return CalibrationSpec(**{**values, **changes})


def test_candidates_are_a_reproducible_latin_hypercube_inside_the_priors():
    spec = small_spec(candidates=20)
    first, second = sample_candidates(spec), sample_candidates(spec)
    assert first.equals(second)
    assert first["demand.tender_rate"].between(0.1, 0.3).all()
    # a Latin hypercube puts one draw in each of the 20 equal strata of every parameter
    strata = np.floor((first["demand.tender_rate"] - 0.1) / 0.2 * 20).astype(int)
    assert sorted(strata) == list(range(20))


def test_a_scale_parameter_multiplies_the_base_step_function():
    base = load_scenario(REPO / "scenarios" / "baseline.yaml")
    values = candidate_values(base, small_spec(), {"demand.tender_rate": 0.2,
                                                   "states.China.financing_budget_usd_m": 2.0})
    assert values["demand.tender_rate"] == 0.2
    budget = base.states["China"].financing_budget_usd_m
    assert values["states.China.financing_budget_usd_m"] == {y: 2 * v for y, v in
                                                             budget.items()}


def test_importance_weights_favour_particles_the_old_population_rarely_proposed():
    old = np.array([[0.0], [0.1], [0.2]])
    new = np.array([[0.1], [3.0]])
    weights = importance_weights(new, old, np.full(3, 1 / 3), np.array([[1.0]]))
    assert weights.sum() == pytest.approx(1.0)
    assert weights[1] > weights[0]


def test_the_representative_passes_most_bands_then_fits_closest():
    posterior = pd.DataFrame({"selection_bands_passed": [9, 10, 10],
                              "selection_distance": [0.1, 0.6, 0.5]})
    assert representative_member(posterior).name == 2


def test_calibration_yields_a_weighted_posterior_ensemble(tmp_path):
    spec_path = REPO / "calibration" / "abc.yaml"
    _, base = load_spec(spec_path)
    result = calibrate(small_spec(), base, TARGETS, workers=1, progress=False)
    assert len(result.candidates) == 6 + 4
    assert list(result.candidates["generation"].unique()) == [0, 1]
    assert len(result.rescored) == 3
    assert result.posterior["weight"].sum() == pytest.approx(1.0)
    assert result.representative.name in result.posterior.index


@pytest.mark.xfail(strict=True, reason=(
    "issue 9 item 7 (branch m2data) removed governments.alignment_freedom_weight (initial "
    "alignment now comes from the UNGA anchor); the shipped posterior and its representative "
    "member still carry it, so they no longer describe the baseline until the refit of the "
    "inference issue (which should free governments.alignment_restoring_rate, prior 0.05-0.8)"))
def test_the_shipped_posterior_and_baseline_agree():
    spec, _ = load_spec(REPO / "calibration" / "abc.yaml")
    base = load_scenario(REPO / "scenarios" / "baseline.yaml")
    posterior = pd.read_csv(REPO / "calibration" / "posterior.csv", index_col=0)
    assert len(posterior) >= 1
    assert posterior["weight"].sum() == pytest.approx(1.0)
    assert (posterior["distance"] <= spec.posterior_tolerance).all()
    representative = yaml.safe_load((REPO / "calibration" / "representative.yaml").read_text())
    for key, value in representative.items():
        node = base.model_dump()
        for part in key.split("."):
            node = node[part]
        if isinstance(value, dict):
            assert node == pytest.approx({float(k): v for k, v in value.items()})
        else:
            assert node == pytest.approx(value), key


def test_validate_writes_its_table_and_figure_and_exits_by_the_result(tmp_path, capsys):
    out = tmp_path / "validation"
    result = run_cli(["validate", "-n", "3", "-q", "--out", str(out)], capsys)
    table = pd.read_csv(out / "validation.csv")
    assert result.code == (0 if table["passed"].all() else 1)
    assert len(table) == len(TARGETS.targets)
    assert (out / "validation.png").stat().st_size > 1000
    assert len(pd.read_csv(out / "per_replication.csv")) == 3
    assert json.loads((out / "manifest.json").read_text())["replications"] == 3
    assert "targets pass" in result.out


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
