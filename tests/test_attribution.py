"""Attribution: the Shapley arithmetic against hand-worked games, the registry of switches, a
short ``cloudrace attribute`` run, and the docs section it writes."""

from __future__ import annotations

import itertools
import json
from math import factorial
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import run_cli

from sim import shapley
from sim.attribution import SWITCH_OFF, coalition_scenario, plan
from sim.attribution_report import (
    DOCS_END,
    DOCS_START,
    docs_are_current,
    docs_block,
    embed_in_docs,
)
from sim.calibration import load_scenario_values
from sim.levers import MECHANISMS, STATE_LEVERS, discover_switches, switched_off
from sim.model import BASELINE
from sim.scenario import load_scenario

DOCS = Path(__file__).resolve().parent.parent / "docs"

# The glove game: player 0 holds a left glove, players 1 and 2 a right one; a pair is worth 1.
# Shapley values (hand-worked over the 6 orders): 0 is pivotal in 4 of them -> 2/3; 1 and 2 in
# one each -> 1/6.
GLOVES = {mask: float(mask & 1 and mask & 0b110 != 0) for mask in range(8)}
GLOVE_VALUES = np.array([2 / 3, 1 / 6, 1 / 6])


def weighted_majority(weights: list[float], quota: float) -> dict[int, float]:
    return {
        mask: float(sum(w for i, w in enumerate(weights) if mask >> i & 1) >= quota)
        for mask in range(1 << len(weights))
    }


def test_exact_shapley_of_the_glove_game() -> None:
    assert np.allclose(shapley.exact_shapley(3, GLOVES), GLOVE_VALUES)


def test_exact_shapley_of_an_additive_game_is_each_players_own_worth() -> None:
    worth = np.array([3.0, -1.0, 0.5, 2.0])
    game = {mask: sum(worth[i] for i in range(4) if mask >> i & 1) for mask in range(16)}
    assert np.allclose(shapley.exact_shapley(4, game), worth)


def test_every_order_gives_the_exact_values_and_they_are_efficient() -> None:
    orders = np.array(list(itertools.permutations(range(3))))
    assert len(orders) == factorial(3)
    assert np.allclose(shapley.permutation_shapley(orders, GLOVES), GLOVE_VALUES)
    # Weighted majority [3, 2, 1, 1], quota 4 (hand-worked over the 24 orders): the weight-3
    # player is pivotal after any one other player or any pair of them (12 orders), each of the
    # others in 4 orders.
    game = weighted_majority([3, 2, 1, 1], 4)
    values = shapley.exact_shapley(4, game)
    assert np.allclose(values, [1 / 2, 1 / 6, 1 / 6, 1 / 6])
    assert values.sum() == pytest.approx(game[15] - game[0])


def test_sampled_orders_are_efficient_and_converge() -> None:
    rng = np.random.default_rng(3)
    game = {mask: float(rng.normal()) + mask.bit_count() ** 1.5 for mask in range(1 << 6)}
    exact = shapley.exact_shapley(6, game)
    few = shapley.sample_permutations(6, 8, np.random.default_rng(1))
    estimate = shapley.permutation_shapley(few, game)
    assert estimate.sum() == pytest.approx(game[63] - game[0])
    many = shapley.sample_permutations(6, 4000, np.random.default_rng(2))
    error = shapley.permutation_standard_error(many, game)
    assert np.all(np.abs(shapley.permutation_shapley(many, game) - exact) < 4 * error + 1e-9)


def test_antithetic_orders_come_in_reversed_pairs_and_need_few_coalitions() -> None:
    orders = shapley.sample_permutations(10, 6, np.random.default_rng(0))
    assert orders.shape == (6, 10)
    assert all(sorted(row) == list(range(10)) for row in orders)
    assert np.array_equal(orders[1], orders[0][::-1])
    coalitions = shapley.permutation_coalitions(orders)
    assert {0, shapley.full_coalition(10)} <= set(coalitions)
    assert len(coalitions) <= 6 * 9 + 2


def test_values_may_be_arrays_of_many_games() -> None:
    stacked = {mask: np.array([GLOVES[mask], 2 * GLOVES[mask]]) for mask in GLOVES}
    values = shapley.exact_shapley(3, stacked)
    assert values.shape == (3, 2)
    assert np.allclose(values[:, 1], 2 * GLOVE_VALUES)


def test_leave_one_out_and_bootstrap_interval() -> None:
    assert np.allclose(shapley.one_at_a_time(3, GLOVES), [-1.0, 0.0, 0.0])
    samples = np.random.default_rng(5).normal(2.0, 1.0, size=(400, 1))
    low, high = shapley.bootstrap_mean_interval(samples, 1000, np.random.default_rng(6))
    assert low[0] < samples.mean() < high[0]
    assert high[0] - low[0] == pytest.approx(2 * 1.645 / np.sqrt(400), rel=0.25)


# --- the registry of switches ---------------------------------------------------------------


@pytest.fixture(scope="module")
def baseline():
    return load_scenario(BASELINE)


def test_registry_finds_each_states_levers_separately(baseline) -> None:
    names = [switch.name for switch in discover_switches(baseline)]
    assert {
        "China financing",
        "US financing",
        "US development finance",
        "China strategic value",
        "US strategic value",
        "US security pressure",
        "China promotion",
        "US promotion",
        "China subsidies",
        "US export controls",
        "US technical assistance",
        "bundling",
        "lock-in",
        "incidents",
    } == set(names)
    # Levers the baseline does not use are not players.
    assert "China security pressure" not in names and "US subsidies" not in names
    assert "China barrier removal" not in names and "US coercion" not in names


def test_a_lever_a_scenario_switches_on_becomes_a_switch(baseline) -> None:
    settings = load_scenario_values(
        baseline, {"states.China.barrier_removal": {2025: 0.4}, "states.US.subsidy_rate": 0.1}
    )
    names = {switch.name for switch in discover_switches(settings)}
    assert {"China barrier removal", "US subsidies"} <= names


def test_a_registry_line_for_a_key_the_schema_lacks_is_skipped(baseline, monkeypatch) -> None:
    monkeypatch.setitem(
        STATE_LEVERS,
        "no such lever",
        {"states.<state>.no_such_lever_usd_m": 0.0},
    )
    names = {switch.name for switch in discover_switches(baseline)}
    assert not any("no such lever" in name for name in names)


def test_switching_one_state_off_leaves_the_other(baseline) -> None:
    switches = discover_switches(baseline)
    china_financing = next(s for s in switches if s.name == "China financing")
    off = load_scenario_values(baseline, switched_off([china_financing]))
    assert off.states["China"].financing_budget_usd_m == 0.0
    assert off.states["US"].financing_budget_usd_m == baseline.states["US"].financing_budget_usd_m
    full = shapley.full_coalition(len(switches))
    assert coalition_scenario(baseline, switches, full) == baseline
    nothing = coalition_scenario(baseline, switches, 0)
    assert discover_switches(nothing) == []


def test_switch_off_by_lever_covers_every_state(baseline) -> None:
    overrides = SWITCH_OFF["financing"](baseline)
    assert overrides == {
        "states.China.financing_budget_usd_m": 0.0,
        "states.US.financing_budget_usd_m": 0.0,
    }
    assert set(SWITCH_OFF) == set(STATE_LEVERS) | set(MECHANISMS)


def test_plan_is_exact_for_few_switches_and_samples_for_many(baseline) -> None:
    switches = discover_switches(baseline)
    few = plan(switches[:3], 4, seed=1)
    assert few.method == "exact" and few.coalitions == list(range(8))
    many = plan(switches, 4, seed=1)
    assert many.method == "permutation sampling"
    full = shapley.full_coalition(len(switches))
    assert {full & ~(1 << i) for i in range(len(switches))} <= set(many.coalitions)


# --- the command ----------------------------------------------------------------------------

TINY = ["--set", "population.only=[KEN,GHA,ZMB,BRA,IDN,EGY,PAK,VNM]", "--set", "run.end_year=2024"]


def test_attribute_writes_the_decomposition(tmp_path, capsys) -> None:
    out = tmp_path / "attribution"
    page = tmp_path / "docs" / "calibration.md"
    page.parent.mkdir()
    page.write_text(f"# Calibration\n\nProse.\n\n{DOCS_START}\nstale\n{DOCS_END}\n\nAfter.\n")
    result = run_cli(
        [
            "attribute",
            "-n",
            "2",
            "-q",
            "--permutations",
            "2",
            *TINY,
            "--out",
            str(out),
            "--docs",
            str(page),
        ],
        capsys,
    )
    assert result.code == 0, result.err
    for name in (
        "attribution.csv",
        "coalitions.csv",
        "attribution.png",
        "report.md",
        "facts.json",
        "manifest.json",
    ):
        assert (out / name).is_file(), name
    table = pd.read_csv(out / "attribution.csv")
    assert {"China financing", "US financing", "lock-in"} <= set(table["switch"])
    assert {"deals", "share_huawei_all", "share_us_all"} <= set(table["outcome"])
    for outcome, rows in table.groupby("outcome"):
        if rows["shapley"].notna().all():
            total = rows["all_on_mean"].iloc[0] - rows["all_off_mean"].iloc[0]
            assert rows["shapley"].sum() == pytest.approx(total, abs=1e-6), outcome
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["replications"] == 2 and manifest["method"] == "permutation sampling"
    assert "Shapley" in result.out and "bootstrap" in result.out
    text = page.read_text()
    assert text.startswith("# Calibration\n\nProse.") and text.endswith(f"{DOCS_END}\n\nAfter.\n")
    assert "stale" not in text and "China financing" in docs_block(text)
    assert f"at commit {manifest['git_commit']}." in docs_block(text)  # which code ran
    assert docs_are_current(page)
    page.write_text(text.replace("China financing", "China lending", 1))
    assert not docs_are_current(page)
    assert (page.parent / "images" / "attribution.png").is_file()


def test_attribute_refuses_bad_options(tmp_path, capsys) -> None:
    result = run_cli(
        ["attribute", "-n", "2", "--permutations", "1", "--out", str(tmp_path / "x")], capsys
    )
    assert result.code == 2 and "--permutations" in result.err
    assert not (tmp_path / "x").exists()


def test_embedding_keeps_the_page_around_the_markers() -> None:
    page = f"before\n{DOCS_START}\nold\n{DOCS_END}\nafter\n"
    assert embed_in_docs(page, "new") == f"before\n{DOCS_START}\n\nnew\n{DOCS_END}\nafter\n"
    assert DOCS_START in embed_in_docs("no markers\n", "new")


def test_the_docs_attribution_section_is_what_the_command_wrote() -> None:
    page = DOCS / "calibration.md"
    assert docs_block(page.read_text(encoding="utf-8")), (
        "docs/calibration.md has no attribution section: run cloudrace attribute --docs"
    )
    assert docs_are_current(page), (
        "the attribution section of docs/calibration.md differs from docs/data/attribution.csv "
        "and attribution.json: rerun `cloudrace attribute --docs docs/calibration.md`"
    )
