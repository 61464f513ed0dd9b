"""Patterns beyond the calibration targets (pattern-oriented modelling, Grimm et al. 2005).

Each test runs the baseline (or a stripped-down world) over many seeds and checks a pattern of
the public record or of the mechanism literature that the targets do not already fix.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.attribution import SWITCH_OFF
from sim.calibration import load_scenario_values
from sim.model import BASELINE, CloudRaceModel, CloudRaceScenario
from sim.scenario import load_scenario
from sim.schema import ProviderSettings, ScenarioFile

SEEDS = range(10)


def run(settings: ScenarioFile, seed: int) -> CloudRaceModel:
    model = CloudRaceModel(CloudRaceScenario.from_settings(settings, rng=seed))
    model.run_model()
    return model


@pytest.fixture(scope="module")
def record_period_runs() -> list[CloudRaceModel]:
    settings = load_scenario(BASELINE, ["run.end_year=2021"])
    return [run(settings, seed) for seed in SEEDS]


def huawei_record_deals(runs: list[CloudRaceModel]) -> list:
    return [c for model in runs for c in model.contracts
            if c.provider.name == "Huawei" and c.start < 2021.33]


def test_huawei_deals_with_financing_are_financed_by_chinese_policy_banks(record_period_runs):
    """CSIS: nearly all deals whose financing could be identified used China Exim or CDB."""
    financed = [c for c in huawei_record_deals(record_period_runs) if c.bid.loan > 0]
    assert financed
    assert all(c.bid.financing_state.name == "China" for c in financed)


@pytest.mark.xfail(strict=True, reason=(
    "the model misses this pattern (about 51 % of Huawei's deals before April 2021 carry a "
    "loan): Chinese banks lend only when the tender's financing need (by income group, "
    "tenders.financing_need) exceeds states.China.financing.min_need, so deals in upper-middle "
    "and high-income countries go unfinanced; see docs/calibration.md"))
def test_most_huawei_deals_carry_a_state_bank_loan(record_period_runs):
    """docs/ODD.md: at least 60 % of Huawei's deals before April 2021 carry a state-bank loan."""
    deals = huawei_record_deals(record_period_runs)
    financed = [c for c in deals if c.bid.loan > 0]
    assert len(financed) >= 0.6 * len(deals)


def test_incumbents_win_most_renewals_in_the_baseline():
    settings = load_scenario(BASELINE)
    renewals = kept = 0
    for seed in SEEDS[:5]:
        for contract in run(settings, seed).contracts:
            if contract.tender.renewal:
                renewals += 1
                kept += contract.provider is contract.tender.incumbent
    assert renewals > 200
    assert kept / renewals > 0.6


def symmetric_world(incumbency: float, switching: float) -> ScenarioFile:
    """State levers off, two equally good providers from rival states, a busy market.

    Arthur's (1989) setting: only chance and increasing returns can separate the two.
    """
    base = load_scenario(BASELINE, [
        "population.only=[KEN,GHA,ZMB,NGA,SEN,TZA,ETH,CIV,CMR,UGA,BRA,MEX,IDN,VNM,PHL,PAK,EGY,"
        "MAR,PER,COL]", "demand.tender_rate=1.0"])
    levers_off: dict = {}
    for mechanism in ("financing", "subsidies", "strategic value", "security pressure",
                      "promotion", "export controls", "incidents"):
        levers_off.update(SWITCH_OFF[mechanism](base))
    settings = load_scenario_values(base, {**levers_off,
                                           "lock_in.incumbency_weight": incumbency,
                                           "lock_in.switching_weight": switching})
    same = {"capability": 1.0, "cost_share": 0.85, "risk_appetite": 0.6}
    return settings.model_copy(update={
        "providers": {"Alpha": ProviderSettings(home_state="US", **same),
                      "Beta": ProviderSettings(home_state="China", **same)},
        "states": {name: state.model_copy(update={"exposure": 0.0})
                   for name, state in settings.states.items()}})


def beta_shares(settings: ScenarioFile) -> np.ndarray:
    """Beta's share of each country's installed base in 2035: countries x seeds."""
    rows: dict[str, list[float]] = {}
    for seed in SEEDS:
        for government in run(settings, seed).governments:
            total = sum(government.installed.values())
            beta = sum(v for p, v in government.installed.items() if p.name == "Beta")
            rows.setdefault(government.iso3, []).append(beta / total if total else np.nan)
    shares = np.array(list(rows.values()))
    return shares[~np.isnan(shares).any(axis=1)]  # countries with contracts in every seed


def test_strong_lock_in_tips_markets_to_different_winners_across_seeds():
    shares = beta_shares(symmetric_world(incumbency=6.0, switching=4.0))
    assert len(shares) >= 5
    tipped = (shares > 0.9) | (shares < 0.1)
    both_ways = np.mean([(row > 0.9).any() and (row < 0.1).any() for row in shares])
    assert np.mean(tipped) > 0.25
    assert both_ways > 0.25
    assert np.mean(np.std(shares, axis=1)) > 0.35


def test_without_lock_in_markets_do_not_tip():
    shares = beta_shares(symmetric_world(incumbency=0.0, switching=0.0))
    tipped = (shares > 0.9) | (shares < 0.1)
    assert np.mean(tipped) < 0.15
    assert np.mean(np.std(shares, axis=1)) < 0.25
