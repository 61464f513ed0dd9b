"""Policy scenarios and paired comparisons."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import REPO, run_cli

from sim.comparison import (
    effect_summary,
    load_structures,
    money_per_contract_gained,
    paired_differences,
)
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
    measured = differences.dropna(subset=["mean_ci90_low_chance"])
    assert len(measured) > 20
    intervals = ["difference", "mean_ci90_low_chance", "mean_ci90_high_chance",
                 "single_run_p05", "single_run_p95"]
    assert (measured[intervals] == 0).all().all()
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
    assert differences.loc["share_huawei_all", "single_run_p05"] > 0
    assert differences.loc["share_huawei_all", "mean_ci90_low_chance"] > 0
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
    assert (differences.dropna(subset=["mean_ci90_low_chance"])["draws"] == 4).all()
    assert "2 posterior members drawn by weight" in (out / "report.md").read_text()
    manifest = json.loads((out / "manifest.json").read_text())
    assert len(manifest["posterior_particles"]) == 2 and len(manifest["posterior_sha256"]) == 64


def paired(values: dict[tuple[str, int], list[float]]) -> pd.Series:
    """Differences indexed by (structure, member, replication)."""
    index, data = [], []
    for (structure, member), runs in values.items():
        for replication, value in enumerate(runs):
            index.append((structure, member, replication))
            data.append(value)
    return pd.Series(data, index=pd.MultiIndex.from_tuples(
        index, names=["structure", "member", "replication"]))


def test_the_confidence_interval_of_the_mean_is_the_t_interval_of_chance():
    runs = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    summary = effect_summary(paired({("s", 0): runs}))
    half = 2.015048 * np.std(runs, ddof=1) / np.sqrt(6)  # t(0.95, 5)
    assert summary["difference"] == pytest.approx(3.5)
    assert summary["mean_ci90_low_chance"] == pytest.approx(3.5 - half, rel=1e-5)
    assert summary["mean_ci90_high_chance"] == pytest.approx(3.5 + half, rel=1e-5)
    assert np.isnan(summary["predictive_p05_parameters_structure"])
    assert summary["variance_parameters"] == 0 and summary["variance_structure"] == 0


def test_the_variance_splits_into_chance_parameters_and_structure():
    noise = [-1.0, 1.0, -1.0, 1.0]
    by_parameters = effect_summary(paired({("s", m): [10 * m + e for e in noise]
                                           for m in range(4)}))
    assert by_parameters["variance_parameters"] > 10 * by_parameters["variance_chance"]
    assert by_parameters["variance_structure"] == 0
    assert by_parameters["predictive_p05_parameters_structure"] < 5 \
        < 25 < by_parameters["predictive_p95_parameters_structure"]
    by_structure = effect_summary(paired({(s, m): [100 * k + e for e in noise]
                                          for k, s in enumerate("ab") for m in range(2)}))
    assert by_structure["variance_structure"] > 100 * by_structure["variance_chance"]
    assert by_structure["variance_parameters"] == 0


def test_money_per_contract_gained_is_signed_and_undefined_unless_contracts_clearly_rise():
    keys = pd.MultiIndex.from_tuples([("s", 0, r) for r in range(5)],
                                     names=["structure", "member", "replication"])
    base = pd.DataFrame({"public_money_west": [100.0] * 5, "contracts_won_west": [10.0] * 5},
                        index=keys)

    def measure(money: list[float], contracts: list[float]) -> dict:
        scenario = pd.DataFrame({"public_money_west": money, "contracts_won_west": contracts},
                                index=keys)
        return money_per_contract_gained(scenario, base, "x")[0]

    gained = measure([150, 160, 140, 150, 150], [20, 21, 19, 20, 20])
    assert gained["difference"] == pytest.approx(5.0)
    cheaper = measure([50, 60, 40, 50, 50], [20, 21, 19, 20, 20])
    assert cheaper["difference"] == pytest.approx(-5.0)
    lost = measure([0, 0, 0, 0, 0], [0, 1, 0, 0, 0])
    assert np.isnan(lost["difference"]) and lost["note"] == "contracts lost"
    unclear = measure([150, 150, 150, 150, 150], [5, 15, 8, 12, 10])
    assert np.isnan(unclear["difference"]) and "not significant" in unclear["note"]


def test_a_structural_ensemble_is_every_combination_of_its_switches(tmp_path):
    path = tmp_path / "structures.yaml"
    path.write_text("switches:\n  a: {key: x.y, alternatives: [1, 2]}\n"
                    "  b: {key: z, alternatives: [true]}\n")
    structures = load_structures(path)
    assert len(structures) == 6
    assert structures["as specified"] == {}
    assert structures["a=2, b=True"] == {"x.y": 2, "z": True}
    path.write_text("switches:\n  a: {key: x.y}\n")
    with pytest.raises(Exception, match=r"switches\.a"):
        load_structures(path)
    assert len(load_structures(REPO / "calibration" / "structures.yaml")) >= 2


def test_identical_members_and_structures_add_no_parameter_or_structure_variance():
    outcomes = pd.DataFrame([
        {"scenario": name, "structure": s, "member": m, "replication": r,
         "share_huawei_all": float(r) + (1.0 if name == "b" else 0.0)}
        for name in "ab" for s in ("s1", "s2") for m in range(2) for r in range(3)])
    row = paired_differences(outcomes, "a").set_index("outcome").loc["share_huawei_all"]
    assert row["difference"] == 1.0
    assert row["variance_parameters"] == 0 and row["variance_structure"] == 0


def test_compare_with_posterior_structures_and_a_brief(tmp_path, capsys):
    structures = tmp_path / "structures.yaml"
    structures.write_text("switches:\n  china_reacts: {key: states.China.reactive.enabled, "
                          "alternatives: [true]}\n")
    out = tmp_path / "cmp"
    result = run_cli(["compare", str(REPO / "scenarios" / "baseline.yaml"),
                      str(REPO / "scenarios" / "policy" / "china_subsidy_surge.yaml"),
                      "-n", "2", "-q", "--posterior", "2", "--structures", str(structures),
                      "--brief", "--out", str(out), *[f"--set={s}" for s in SHORT]], capsys)
    assert result.code == 0, result.err
    outcomes = pd.read_csv(out / "outcomes.csv")
    assert set(outcomes["structure"]) == {"as specified", "china_reacts=True"}
    assert len(outcomes) == 2 * 2 * 2 * 2  # structures x members x replications x scenarios
    row = pd.read_csv(out / "differences.csv").set_index("outcome").loc["share_huawei_all"]
    assert row["predictive_p05_parameters_structure"] <= row["difference"] \
        <= row["predictive_p95_parameters_structure"]
    assert row[["variance_chance", "variance_parameters", "variance_structure"]].notna().all()
    report = (out / "report.md").read_text()
    assert "chance only" in report and "2 structures" in report
    check_brief_renders_offline(out / "brief.html")


def check_brief_renders_offline(path: Path) -> None:
    """Open the brief in the real Chromium; no request may leave the page."""
    text = path.read_text()
    assert "http://" not in text and "https://" not in text
    chromium = Path(os.environ.get("CLOUDRACE_CHROMIUM", "/usr/bin/chromium"))
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    if sync_playwright is None or not os.access(chromium, os.X_OK):
        if os.environ.get("CLOUDRACE_REQUIRE_BROWSER") == "1":
            pytest.fail("browser required but Playwright or chromium is missing")
        pytest.skip("no Playwright or chromium")
    requests: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(chromium),
            args=["--no-sandbox", "--headless=new", "--disable-gpu",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"])
        page = browser.new_page()
        page.on("request", lambda request: requests.append(request.url))
        page.goto(path.as_uri())
        page.wait_for_load_state("networkidle")
        assert "Policy brief" in page.title()
        assert page.locator("h2", has_text="china_subsidy_surge").count() == 1
        widths = page.eval_on_selector_all("img", "images => images.map(i => i.naturalWidth)")
        assert len(widths) == 2 and min(widths) > 100
        browser.close()
    assert [url for url in requests if not url.startswith(("file://", "data:"))] == []


def test_posterior_members_leave_out_parameters_of_parts_a_scenario_removes():
    """A policy scenario without the US export controls still runs under posterior members
    that carry the controls' calibrated magnitudes: those parameters are left out there."""
    from sim.calibration import candidate_values, load_spec
    from sim.errors import UserError
    from sim.scenario import load_scenario

    spec, base = load_spec(REPO / "calibration" / "abc.yaml")
    key = "states.US.export_controls[0].capability_loss"
    assert key in spec.parameters
    row = {key: 0.1}
    assert candidate_values(base, spec, row) == {key: 0.1}
    without = load_scenario(
        REPO / "scenarios" / "baseline.yaml", values={"states.US.export_controls": []}
    )
    assert candidate_values(without, spec, row, skip_missing=True) == {}
    with pytest.raises(UserError):
        candidate_values(without, spec, row)


def test_values_the_schema_refuses_give_one_message_not_a_traceback():
    """A posterior member's scale factor can take a policy scenario's lever out of its bounds:
    the comparison stops with one message naming the scenario, the member and the key."""
    from sim.calibration import load_scenario_values
    from sim.errors import UserError
    from sim.scenario import load_scenario

    base = load_scenario(REPO / "scenarios" / "baseline.yaml")
    with pytest.raises(UserError) as refused:
        load_scenario_values(base, {"states.US.technical_assistance": {2006: 2.0}},
                             "scenario x under posterior member 3")
    message = str(refused.value)
    assert "posterior member 3" in message and "states.US.technical_assistance" in message
