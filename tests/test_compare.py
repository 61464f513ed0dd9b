"""Policy scenarios and paired comparisons."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from conftest import REPO, run_cli

from sim.runner import run_replication
from sim.scenario import load_scenario

POLICY = sorted((REPO / "scenarios" / "policy").glob("*.yaml"))
SHORT = ["run.end_year=2029", "population.only=[KEN,ZMB,GHA,NGA,BRA,MEX,IDN,SAU,VNM,EGY]",
         "demand.tender_rate=1.0"]


def test_the_debates_scenarios_are_all_there():
    names = {path.stem for path in POLICY}
    assert {"us_dfc_push", "allied_pooling", "technical_assistance",
            "regulatory_barriers_removed", "export_controls_tightened", "export_controls_never",
            "china_subsidy_surge", "china_package_deals", "no_us_security_pressure",
            "china_coercion_2028", "us_coercion_2028", "level_playing_field"} <= names


@pytest.mark.parametrize("path", POLICY, ids=lambda path: path.stem)
def test_every_policy_scenario_loads_says_what_it_asks_and_runs(path: Path):
    settings = load_scenario(path, SHORT)
    assert settings.description.strip().endswith("?") or "?" in settings.description
    assert settings.run.end_year == 2029
    result = run_replication(settings, 0, 7)
    assert len(result.contracts) > 0
    assert result.yearly["year"].max() == 2029


def test_identical_scenarios_give_zero_differences(tmp_path, capsys):
    twin = tmp_path / "twin.yaml"
    twin.write_text(f"extends: {REPO / 'scenarios' / 'baseline.yaml'}\n"
                    "description: The baseline again, under another name.\n")
    base = tmp_path / "base.yaml"
    base.write_text(f"extends: {REPO / 'scenarios' / 'baseline.yaml'}\n")
    out = tmp_path / "cmp"
    result = run_cli(["compare", str(base), str(twin), "-n", "3", "-q", "--out", str(out),
                      *[f"--set={s}" for s in SHORT]], capsys)
    assert result.code == 0, result.err
    differences = pd.read_csv(out / "differences.csv")
    measured = differences.dropna(subset=["difference_p05"])
    assert len(measured) > 20
    assert (measured[["difference", "difference_p05", "difference_p95"]] == 0).all().all()
    for name in ("outcomes.csv", "trajectories.csv", "trajectories.png", "differences.png",
                 "report.md", "manifest.json"):
        assert (out / name).is_file()


def test_a_policy_moves_its_outcome_in_the_expected_direction(tmp_path, capsys):
    out = tmp_path / "cmp"
    result = run_cli(["compare", str(REPO / "scenarios" / "baseline.yaml"),
                      str(REPO / "scenarios" / "policy" / "china_subsidy_surge.yaml"),
                      "-n", "4", "-q", "--out", str(out), "--set=run.end_year=2029"], capsys)
    assert result.code == 0, result.err
    differences = pd.read_csv(out / "differences.csv").set_index("outcome")
    assert differences.loc["share_huawei_all", "difference"] > 0
    assert differences.loc["share_huawei_all", "difference_p05"] > 0
    report = (out / "report.md").read_text()
    assert "`states.China.subsidy_rate.2022.0` = 0.3" in report


def test_compare_needs_at_least_two_replications(tmp_path, capsys):
    result = run_cli(["compare", str(REPO / "scenarios" / "baseline.yaml"),
                      str(POLICY[0]), "-n", "1", "--out", str(tmp_path / "x")], capsys)
    assert result.code == 2
    assert "--replications" in result.err
    assert not (tmp_path / "x").exists()


def test_compare_with_a_fork_differs_only_after_it(tmp_path, capsys):
    out = tmp_path / "cmp"
    result = run_cli(["compare", str(REPO / "scenarios" / "baseline.yaml"),
                      str(REPO / "scenarios" / "policy" / "china_subsidy_surge.yaml"),
                      "-n", "3", "-q", "--fork", "2022", "--out", str(out),
                      *[f"--set={s}" for s in SHORT]], capsys)
    assert result.code == 0, result.err
    trajectories = pd.read_csv(out / "trajectories.csv")
    before = trajectories[trajectories["year"] < 2022].drop(columns="scenario")
    base = before[trajectories.loc[before.index, "scenario"] == "baseline"]
    branch = before[trajectories.loc[before.index, "scenario"] == "china_subsidy_surge"]
    assert len(base) > 0
    assert base.reset_index(drop=True).equals(branch.reset_index(drop=True))
    differences = pd.read_csv(out / "differences.csv").set_index("outcome")
    assert differences.loc["share_huawei_all", "difference"] != 0
    assert "continues from the same history up to 2022" in (out / "report.md").read_text()


def test_a_fork_outside_the_run_is_refused(tmp_path, capsys):
    result = run_cli(["compare", str(REPO / "scenarios" / "baseline.yaml"), str(POLICY[0]),
                      "-n", "2", "--fork", "2050", "--out", str(tmp_path / "x")], capsys)
    assert result.code == 2
    assert "--fork" in result.err
    assert not (tmp_path / "x").exists()


def test_compare_over_the_posterior_carries_parameter_uncertainty(tmp_path, capsys):
    out = tmp_path / "cmp"
    result = run_cli(["compare", str(REPO / "scenarios" / "baseline.yaml"),
                      str(REPO / "scenarios" / "policy" / "china_subsidy_surge.yaml"),
                      "-n", "2", "-q", "--posterior", "2", "--out", str(out),
                      *[f"--set={s}" for s in SHORT]], capsys)
    assert result.code == 0, result.err
    outcomes = pd.read_csv(out / "outcomes.csv")
    assert outcomes["member"].nunique() == 2
    assert len(outcomes) == 2 * 2 * 2  # members x replications x scenarios
    differences = pd.read_csv(out / "differences.csv")
    assert (differences.dropna(subset=["difference_p05"])["draws"] == 4).all()
    assert "parameter uncertainty: 2 posterior members" in (out / "report.md").read_text()
