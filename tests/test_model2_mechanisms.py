"""Model 2.0 mechanisms (issue 9, items 3, 4, 5, 6, 8, 11, and the results map): hand-worked
arithmetic and the baseline checks the issue asks for.

The pure functions are checked against values worked by hand; the model checks run the baseline
on a few seeds (a run takes well under a second).
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from conftest import run_cli
from matplotlib.colors import to_rgba

from sim.country_panel import load_panel
from sim.government import bloc_direction
from sim.market.choice import logit_probabilities, nested_logit_probabilities, unfunded_share
from sim.market.coercion import (
    chance_compliance_probability,
    compliance_probability,
    cost_of_complying,
    cost_of_defying,
)
from sim.market.controls import control_factor, pre_control_path, step_value
from sim.market.entry import bid_cost_draw, bid_cost_scale, enters, entry_probability
from sim.market.financing import (
    arrangement_terms_problems,
    capacity_cost_discount,
    cirr,
    discount_rate_for,
    grant_element,
    invest_capacity,
)
from sim.model import BASELINE, CloudRaceModel, CloudRaceScenario
from sim.palette import provider_colour
from sim.plots import plot_world_map, world_map_table
from sim.scenario import load_scenario
from sim.schema import INCOME_GROUPS
from sim.worldmap import (
    NO_BLOC,
    NO_BLOC_COLOUR,
    NO_CONTRACT,
    PALE,
    country_outlines,
    dominant_label,
    draw_dominance_map,
)

# --- item 3: financing instruments and the discount convention ------------------------------


def test_grant_element_at_the_imf_unified_rate_worked_by_hand():
    # China Exim terms (2 %, 20 years, 5 years' grace), annual payments, discounted at 5 %:
    # interest 0.02 on the full face value for 5 years, then 15 instalments of 1/15 with
    # interest on the balance.
    present_value = sum(0.02 / 1.05**t for t in range(1, 6))
    for k in range(15):
        balance = 1.0 - k / 15.0
        present_value += (0.02 * balance + 1.0 / 15.0) / 1.05 ** (6 + k)
    assert grant_element(0.02, 20, 5, discount_rate=0.05) == pytest.approx(1 - present_value)
    assert round(1 - present_value, 4) == 0.2747  # about half of the 0.548 at 10 %


def test_discount_conventions_give_the_imf_dac_and_legacy_rates():
    assert [discount_rate_for("dac", group) for group in INCOME_GROUPS] == [0.09, 0.07, 0.06, 0.05]
    assert {discount_rate_for("imf", group) for group in INCOME_GROUPS} == {0.05}
    assert discount_rate_for("legacy", "Low") == 0.10
    with pytest.raises(ValueError):
        discount_rate_for("world bank", "Low")


def test_the_discount_switch_sets_each_loans_grant_element():
    legacy = run("choice.grant_discount=legacy", end_year=2014)
    chinese = [
        c.grant_element for c in legacy.contracts if c.bid.financing_state is legacy.states["China"]
    ]
    assert chinese and chinese == pytest.approx([0.5481] * len(chinese), abs=1e-4)
    dac = run("choice.grant_discount=dac", end_year=2020)  # to 2014 only Lower-middle borrowers
    by_group = {round(grant_element(0.02, 20, 5, rate), 9) for rate in (0.09, 0.07, 0.06, 0.05)}
    seen = {
        round(c.grant_element, 9)
        for c in dac.contracts
        if c.bid.financing_state is dac.states["China"]
    }
    assert seen <= by_group and len(seen) >= 2  # the borrower's income group sets the rate


def test_cirr_and_the_arrangement_limits():
    assert cirr(0.0404) == pytest.approx(0.0504)
    assert arrangement_terms_problems(0.85, 10.5, 0.5) == []
    problems = arrangement_terms_problems(0.9, 12.0, 1.0)
    assert len(problems) == 3  # coverage, first repayment and repayment term all too long


def test_us_exim_terms_outside_the_arrangement_are_refused(tmp_path, capsys):
    scenario = tmp_path / "exim.yaml"
    scenario.write_text(f"extends: {BASELINE}\nstates:\n  US:\n    financing: {{coverage: 1.0}}\n")
    result = run_cli(["run", str(scenario), "-n", "1", "-q", "--out", str(tmp_path / "o")], capsys)
    assert result.code == 2
    assert "states.US.financing" in result.err and "0.85" in result.err


def test_development_finance_capacity_and_its_cost_discount_worked_by_hand():
    assert capacity_cost_discount(500.0, 500.0, 0.08) == pytest.approx(0.08 * (1 - math.exp(-1)))
    assert capacity_cost_discount(0.0, 500.0, 0.08) == 0.0
    assert capacity_cost_discount(1e9, 500.0, 0.08) == pytest.approx(0.08)
    assert invest_capacity(200.0, 30.0, 0.05) == pytest.approx(220.0)


def run(
    *overrides: str, seed: int = 0, end_year: int = 2035, record_tenders: bool = False
) -> CloudRaceModel:
    settings = load_scenario(BASELINE, [f"run.end_year={end_year}", *overrides])
    model = CloudRaceModel(
        CloudRaceScenario.from_settings(settings, rng=seed), record_tenders=record_tenders
    )
    model.run_model()
    return model


@pytest.fixture(scope="module")
def baseline_runs() -> list[CloudRaceModel]:
    return [run(seed=seed, record_tenders=True) for seed in range(3)]


def test_a_chinese_loan_counts_more_as_cash_now_than_as_a_grant_and_the_budget_binds(
    baseline_runs,
):
    """docs/baseline.md's decomposition: why the discount convention hardly moves the effect."""
    for model in baseline_runs:
        china = model.states["China"]
        chinese = {p.name for p in model.providers if p.home is china}
        financed = [
            row
            for row in model.tender_log
            if row["time"] >= 2022 and row["provider"] in chinese and row["loan_usd_m"] > 0.0
        ]
        weights, grant = model.choice_weights, china.grant_element_for("Low")
        grant_term = np.mean(
            [weights.cost * grant * row["loan_usd_m"] / row["value_usd_m"] for row in financed]
        )
        unfunded_term = np.mean(
            [
                weights.liquidity
                * (
                    unfunded_share(
                        row["price_usd_m"], 0.0, row["value_usd_m"], row["financing_need"]
                    )
                    - unfunded_share(
                        row["price_usd_m"],
                        row["loan_usd_m"],
                        row["value_usd_m"],
                        row["financing_need"],
                    )
                )
                for row in financed
            ]
        )
        assert unfunded_term > 3 * grant_term > 0.0
        lent = sum(
            c.bid.loan
            for c in model.contracts
            if c.start >= 2022 and c.bid.financing_state is china
        )
        assert lent > 0.9 * 14 * china.financing_budget_usd_m  # 2022-2035: nearly all of it


def test_governments_owe_more_to_chinese_than_to_us_lenders_in_2035(baseline_runs):
    for model in baseline_runs:
        owed = {
            name: sum(g.debt.get(name, 0.0) for g in model.governments) for name in model.states
        }
        assert owed["China"] > owed["US"] > 0.0
        assert owed["Others"] == 0.0


def test_us_loans_are_exim_export_credit_on_arrangement_terms(baseline_runs):
    us_loans = [
        c
        for model in baseline_runs
        for c in model.contracts
        if c.bid.financing_state is not None and c.bid.financing_state.name == "US"
    ]
    assert us_loans
    for contract in us_loans:
        assert contract.bid.loan == pytest.approx(0.85 * contract.bid.price)
        assert contract.start >= 2019.95


def test_development_finance_lowers_us_costs_without_lending_to_governments():
    with_finance = run("states.US.financing_budget_usd_m=0", end_year=2030)
    us = with_finance.states["US"]
    aws = with_finance.providers_by_name["AWS"]
    africa = next(g for g in with_finance.governments if g.region == "Africa")
    assert us.capacity["Africa"] > 0.0
    assert 0.0 < aws.development_discount(africa) <= 0.08
    assert with_finance.providers_by_name["Huawei"].development_discount(africa) == 0.0
    assert sum(g.debt.get("US", 0.0) for g in with_finance.governments) == 0.0


# --- item 9: the hardware fall-off against the record ---------------------------------------


@pytest.mark.xfail(
    strict=True,
    reason="tenders.hardware_internet_falloff (0.9) has no source; it is a calibrated parameter "
    "with this share as its target (sim/data/targets.yaml), but the shipped baseline keeps its "
    "earlier values (not the thin refit's member, docs/calibration.md): with 0.9 about a third "
    "of Huawei's deals to April 2021 bundle hardware; a fall-off near 0 gives the record's 60 %",
)
def test_huaweis_deals_bundle_hard_infrastructure_as_often_as_the_record(baseline_runs):
    # CSIS 2021: Huawei "usually packages the delivery of hard infrastructure with services (60
    # percent of deals)", of 70 deals 2006 - April 2021; a binomial 90 % band on 70 deals is
    # about +-10 points.
    deals = [
        contract
        for model in baseline_runs
        for contract in model.contracts
        if contract.provider.name == "Huawei"
        and contract.start < 2021.33
        and not contract.tender.renewal
    ]
    bundled = sum(contract.bid.bundled for contract in deals) / len(deals)
    assert 0.5 <= bundled <= 0.7


# --- item 4: entry that is not a knife edge --------------------------------------------------


def test_entry_probability_is_the_chance_the_drawn_bid_cost_is_below_the_value():
    scale = bid_cost_scale(0.6, 0.0, 2.0, 1.0, 0.3)
    assert scale == pytest.approx(0.6 * (1 + 2.0 * 0.7))
    draws = np.random.default_rng(1).standard_normal(40_000)
    for value in (0.5, 1.44, 4.0):
        frequency = np.mean([enters(value, scale, 1.0, z) for z in draws])
        assert frequency == pytest.approx(entry_probability(value, scale, 1.0), abs=0.01)
    assert np.mean([bid_cost_draw(scale, 1.0, z) for z in draws]) == pytest.approx(scale, rel=0.03)
    assert 0.0 < entry_probability(1e-3, 10.0, 1.0) < entry_probability(10.0, 10.0, 1.0) < 1.0


def test_every_provider_bids_in_every_income_group_in_some_tenders(tmp_path, capsys):
    # Read from `cloudrace run ... --tenders`: every bid of every tender, each tender placed in
    # its country's income group in the year it was held (the dated panel, as the model reads it).
    out = tmp_path / "tenders"
    result = run_cli(
        ["run", str(BASELINE), "-n", "1", "-q", "--no-figures", "--tenders", "--out", str(out)],
        capsys,
    )
    assert result.code == 0, result.err
    tenders = pd.read_csv(out / "tenders.csv")
    panel = load_panel()
    tenders["income_group"] = [
        panel.value(iso3, "income_group", time)
        for iso3, time in zip(tenders["country"], tenders["time"], strict=True)
    ]
    bids = tenders[tenders["provider"].notna()].groupby(["provider", "income_group"]).size()
    for provider in ("Huawei", "Alibaba", "AWS", "Microsoft", "Other"):
        for group in INCOME_GROUPS:
            assert bids.get((provider, group), 0) > 0, (provider, group)


def test_the_knife_edge_switch_keeps_the_old_closed_markets():
    model = run("bidding.entry_rule=knife_edge", end_year=2025, record_tenders=True)
    low = {g.iso3 for g in model.governments if g.income_group == "Low"}
    aws_low = [
        row for row in model.tender_log if row["provider"] == "AWS" and row["country"] in low
    ]
    assert aws_low == []


# --- item 5: nested logit --------------------------------------------------------------------


def test_nested_logit_worked_by_hand_train_2009_eq_4_2():
    # Two west bids of utility 1 and 0, one Chinese bid of utility 0.5, deferral at -1,
    # nesting 0.5: I_west = e^(1/0.5) + e^0 = e^2 + 1; I_china = e^1; I_defer = e^-1.
    utilities = [1.0, 0.0, 0.5, -1.0]
    nests = ["west", "west", "china", "defer"]
    i_west, i_china, i_defer = math.exp(2) + 1, math.exp(1), math.exp(-1)
    denominator = i_west**0.5 + i_china**0.5 + i_defer
    expected = [
        math.exp(2) / i_west * i_west**0.5 / denominator,
        1 / i_west * i_west**0.5 / denominator,
        i_china**0.5 / denominator,
        i_defer / denominator,
    ]
    got = nested_logit_probabilities(utilities, nests, {"west": 0.5, "china": 0.5})
    assert got == pytest.approx(expected)
    assert sum(got) == pytest.approx(1.0)


def test_flat_logit_is_the_nested_logit_at_nesting_one():
    rng = np.random.default_rng(3)
    for _ in range(50):
        utilities = list(rng.normal(0.0, 2.0, 5))
        nests = list(rng.choice(["west", "china", "none", "defer"], 5))
        ones = {"west": 1.0, "china": 1.0, "none": 1.0}
        assert nested_logit_probabilities(utilities, nests, ones, 1.3) == pytest.approx(
            logit_probabilities(utilities, 1.3)
        )


def test_nests_break_iia_a_new_bid_draws_most_from_its_nest_mate():
    before = nested_logit_probabilities([0.0, 0.0], ["china", "west"], {"china": 0.4})
    after = nested_logit_probabilities([0.0, 0.0, 0.0], ["china", "west", "china"], {"china": 0.4})
    # Under the flat logit both would lose a third; here the west bid loses less.
    assert after[1] / before[1] > after[0] / before[0]


# --- item 6: export controls counted once ---------------------------------------------------

OBSERVED_HUAWEI = {2006: 0.55, 2012: 0.6, 2017: 0.7, 2020: 0.78, 2025: 0.85}
"""Huawei's capability path as observed under the controls (docs/baseline.md)."""


def test_huaweis_pre_control_path_times_the_controls_is_the_observed_path():
    baseline = load_scenario(BASELINE)
    controls = [(c.start, c.capability_loss) for c in baseline.states["US"].export_controls]
    derived = pre_control_path(OBSERVED_HUAWEI, controls)
    shipped = {
        float(year): value for year, value in baseline.providers["Huawei"].capability.items()
    }
    assert shipped == pytest.approx(
        {float(year): value for year, value in derived.items()}, abs=1e-6
    )
    model = CloudRaceModel(CloudRaceScenario.from_settings(baseline, rng=0))
    huawei = model.providers_by_name["Huawei"]
    for date in (2018.0, 2019.5, 2020.2, 2020.5, 2020.7, 2022.0, 2026.0, 2035.0):
        model.run_until(date - model.start_year)
        assert huawei.capability == pytest.approx(
            step_value(OBSERVED_HUAWEI, model.year), abs=1e-5
        ), date
    assert control_factor(controls, 2030.0) == pytest.approx(0.95 * 0.95 * 0.92)


def test_the_baseline_page_shows_the_observed_path_after_the_controls():
    """docs/baseline.md says its derived capabilities after the controls are the observed path."""
    page = (Path(__file__).resolve().parents[1] / "docs" / "baseline.md").read_text("utf-8")
    for year in (2021, 2025):
        row = re.search(
            rf"\| Huawei's capability in {year} after the controls \| ([0-9.]+) \|", page
        )
        assert row, year
        assert float(row.group(1)) == pytest.approx(step_value(OBSERVED_HUAWEI, year), abs=5e-4)


# --- item 8: coercion as a decision ---------------------------------------------------------


def test_compliance_decision_worked_by_hand():
    defy = cost_of_defying(0.8, 1.5, 3.0)  # (1.5 + 3) * 0.8 = 3.6
    comply = cost_of_complying(2.0, 0.2)  # 2 * (1 - 0.2) = 1.6
    assert (defy, comply) == pytest.approx((3.6, 1.6))
    assert compliance_probability(defy, comply, 1.0) == pytest.approx(1 / (1 + math.exp(-2.0)))
    assert compliance_probability(cost_of_defying(0.3, 1.5, 3.0), comply, 1.0) < 0.5
    assert chance_compliance_probability(1.0, 0.8, 0.5) == pytest.approx(0.4)


def test_coercion_costs_the_coercer_trust_across_the_region_and_raises_scrutiny():
    model = run(end_year=2027)
    china = model.states["China"]
    target = max(model.governments, key=lambda g: g.leverage_share("China"))
    neighbours = [g for g in model.governments_by_region[target.region] if g is not target]
    huawei = model.providers_by_name["Huawei"]
    trust_before = [n.trust.get(huawei, 1.0) for n in neighbours]
    scrutiny_before = [n.scrutiny for n in neighbours]
    from sim.schema import CoercionEvent

    china.coerce(CoercionEvent(year=2027, leverage_threshold=target.leverage_share("China")))
    assert all(n.trust.get(huawei, 1.0) < t for n, t in zip(neighbours, trust_before, strict=True))
    assert all(n.scrutiny >= s for n, s in zip(neighbours, scrutiny_before, strict=True))
    assert sum(model.coercion_outcomes["China"].values()) >= 1


# --- item 11: the other suppliers ----------------------------------------------------------


def test_other_suppliers_are_stronger_in_large_markets_and_where_data_must_stay(baseline_runs):
    model = baseline_runs[0]
    other = model.providers_by_name["Other"]
    by_iso = {g.iso3: g for g in model.governments}
    india, ghana = by_iso["IND"], by_iso["GHA"]
    assert other.quality_for(india) > other.quality_for(ghana)
    assert model.localises("IND") and not model.localises("GHA")
    expected = other.capability + 0.1 * math.log(india.gdp / 50.0) + 0.2
    assert other.quality_for(india) == pytest.approx(expected)


def test_shares_include_the_other_suppliers_and_the_map_can_show_no_bloc(baseline_runs):
    model = baseline_runs[0]
    others = [c for c in model.contracts if c.provider.name == "Other"]
    assert others
    row = model.metrics.current
    shares = sum(row[f"share_new_{p.name}"] for p in model.providers)
    assert shares == pytest.approx(1.0)
    assert (
        dominant_label(
            {"Huawei": 5.0, "Alibaba": 1.0, "AWS": 4.0},
            {"Huawei": "china", "Alibaba": "china", "AWS": "west"},
        )
        == "Huawei"
    )
    assert (
        dominant_label(
            {"Huawei": 4.0, "AWS": 4.0, "Other": 2.0},
            {"Huawei": "china", "AWS": "west", "Other": "none"},
        )
        == NO_BLOC
    )


def _map_contracts() -> pd.DataFrame:
    """Three replications' contracts: Other leads India, no bloc has Brazil, Huawei holds Ghana
    weakly (60 % of the value) and Kenya in one replication of three; Zambia is Chinese in every
    replication, Huawei's in one and Alibaba's in two."""
    rows = []
    for replication in range(3):
        rows += [
            (replication, "IND", "Other", "Others", 80.0),
            (replication, "IND", "Huawei", "China", 20.0),
            (replication, "BRA", "Huawei", "China", 45.0),
            (replication, "BRA", "AWS", "US", 40.0),
            (replication, "BRA", "Other", "Others", 15.0),
            (replication, "GHA", "Huawei", "China", 60.0),
            (replication, "GHA", "AWS", "US", 40.0),
        ]
    rows.append((0, "KEN", "Huawei", "China", 10.0))
    rows += [(0, "ZMB", "Huawei", "China", 90.0), (1, "ZMB", "Alibaba", "China", 90.0)]
    rows += [(2, "ZMB", "Alibaba", "China", 80.0)]
    rows += [
        (replication, "ZMB", "AWS", "US", 10.0 + 10.0 * (replication == 2))
        for replication in range(3)
    ]
    frame = pd.DataFrame(
        rows, columns=["replication", "country", "provider", "provider_state", "value_usd_m"]
    )
    return frame.assign(year=2020)


def test_the_results_map_draws_other_leading_no_bloc_weak_and_unsettled_countries(tmp_path):
    providers = ["Huawei", "Alibaba", "AWS", "Microsoft", "Other"]
    centroids = {iso3: (0.0, 0.0) for iso3 in ("IND", "BRA", "GHA", "KEN", "ZMB", "NGA")}
    blocs = {"China": "china", "US": "west", "Others": "none"}
    contracts = _map_contracts()
    dominance = world_map_table(contracts, blocs, 3)
    dominance.round(4).to_csv(tmp_path / "world_map.csv")
    plot_world_map(contracts, providers, centroids, blocs, 3, dominance).savefig(
        tmp_path / "world_map.png"
    )
    assert (tmp_path / "world_map.png").stat().st_size > 0
    table = pd.read_csv(tmp_path / "world_map.csv", index_col="country")
    assert table.loc["IND", "dominant"] == "Other" and table.loc["IND", "strength"] == 0.8
    assert table.loc["BRA", "dominant"] == NO_BLOC and table.loc["BRA", "strength"] == 0.45
    assert table.loc["GHA", "dominant"] == "Huawei" and table.loc["GHA", "strength"] == 0.6
    assert table.loc["KEN", "replications_leading"] == 1
    assert table.loc["KEN", "consistency"] == pytest.approx(1 / 3, abs=1e-4)
    assert (
        table.loc["ZMB", "dominant"] == "Alibaba" and table.loc["ZMB", "replications_leading"] == 2
    )
    assert table.loc["ZMB", "bloc_leading"] == 3 and table.loc["ZMB", "consistency"] == 1.0
    assert "NGA" not in table.index  # modelled, no contract

    figure, axes = plt.subplots()
    draw_dominance_map(
        axes,
        table["dominant"].to_dict(),
        providers,
        centroids,
        strength=table["strength"].to_dict(),
        consistency=table["consistency"].to_dict(),
    )
    faces, start, first_ring = axes.collections[0].get_facecolors(), 0, {}
    for iso3, rings in country_outlines().items():
        first_ring[iso3] = start
        start += len(rings)
    drawn = {iso3: tuple(faces[first_ring[iso3]]) for iso3 in centroids}
    plt.close(figure)
    assert drawn["IND"] == pytest.approx(to_rgba(provider_colour("Other")))
    assert drawn["BRA"] == pytest.approx(to_rgba(NO_BLOC_COLOUR))
    assert drawn["GHA"] == pytest.approx(to_rgba(provider_colour("Huawei"), PALE))
    assert drawn["KEN"] == pytest.approx(to_rgba(provider_colour("Huawei")))
    assert drawn["ZMB"] == pytest.approx(to_rgba(provider_colour("Alibaba")))
    assert drawn["NGA"] == pytest.approx(to_rgba(NO_CONTRACT))
    hatched = axes.collections[1].get_paths()
    assert len(hatched) == len(country_outlines()["KEN"])  # only Kenya is unsettled, not Zambia


# --- docs/ODD.md: each Model 2.0 submodel with its equations, sources and numbers ------------

ODD = Path(__file__).resolve().parent.parent / "docs" / "ODD.md"

SUBMODELS = {
    # submodel: (a passage of its description, its equation as written, its source, its code)
    "eligibility": ("### Bars", "may_borrow_from", "sim/data/eligibility.csv", "update_bars"),
    "dated data": (
        "**The dated country data.**",
        "carried\n  from the latest earlier record year",
        "OGHIST",
        "sim.country_panel",
    ),
    "export credit": (
        "**OECD Arrangement terms.**",
        "L = coverage_S * price",
        "TAD/PG(2023)7",
        "sim.market.financing.cirr",
    ),
    "development finance": (
        "**Development finance to providers.**",
        "d_r = max_cost_discount * (1 - exp(-capacity_r / capacity_scale_usd_m))",
        "Africa Data Centres",
        "invest_development_finance",
    ),
    "discount rate": (
        "The discount rate is a convention",
        "GE = 1 - sum_j payment_j / (1 + delta) ** (j / n)",
        "Unification of Discount Rates",
        "choice.grant_discount",
    ),
    "stochastic entry": (
        "**Whether to bid: entry with a bid-preparation cost**",
        "K = K_bar * exp(sigma * z - sigma^2 / 2)",
        "Levin & Smith 1994",
        "sim/market/entry.py",
    ),
    "nested logit": (
        "**nested logit**",
        "P_i = exp(V_i / lambda_k) * I_k ** (lambda_k - 1) / sum_l I_l ** lambda_l",
        "Train\n2009",
        "nested_logit_probabilities",
    ),
    "export controls counted once": (
        "**Counted once**",
        "pre(t) = observed(t) / prod_{controls c with start_c <= t} (1 - capability_loss_c)",
        "issue 9 item 6",
        "pre_control_path",
    ),
    "alignment restoring force": (
        "**Alignment.**",
        "A <- clip(A + governments.alignment_restoring_rate * (anchor(t) - A)",
        "Bailey, Strezhnev & Voeten 2017",
        "tools/build_country_years.py",
    ),
    "coercion as a decision": (
        "*Coercion as a decision*",
        "P(comply) = 1 / (1 + exp(-(D - C) / choice.scale))",
        "Clayton, Maggiori & Schreger 2023",
        "coercion.rule: chance",
    ),
    "other suppliers": (
        "### Other suppliers",
        "providers.<name>.market_size_quality * ln(GDP_g / demand.reference_gdp_usd_bn)",
        "sim/data/data_localisation.csv",
        "Provider.quality_for",
    ),
}


@pytest.mark.parametrize("submodel", sorted(SUBMODELS))
def test_the_odd_describes_each_model_2_submodel(submodel):
    text = ODD.read_text(encoding="utf-8")
    for passage in SUBMODELS[submodel]:
        assert passage in text, (submodel, passage)


def test_the_odds_grant_elements_are_the_codes():
    # docs/ODD.md, Financing: "GE = 0.275 at 5 %, 0.405 at 7 %, 0.506 at 9 % and 0.548 at 10 %"
    # for China's terms, and about 0.15 and -0.01 for US EXIM's at a 1.9 % and 5.1 % CIRR.
    text = " ".join(ODD.read_text(encoding="utf-8").split())
    china = re.search(
        r"give GE = ([\d.]+) at 5 %, ([\d.]+) at 7 %, ([\d.]+) at 9 % and ([\d.]+) at 10 %", text
    )
    assert china, "the ODD no longer quotes China's grant elements"
    for quoted, rate in zip(china.groups(), (0.05, 0.07, 0.09, 0.10), strict=True):
        assert float(quoted) == round(grant_element(0.02, 20, 5, rate), 3)
    us = re.search(r"about ([\d.]+) at a 1\.9 % CIRR and (-?[\d.]+) at 5\.1 %", text)
    assert us, "the ODD no longer quotes US EXIM's grant elements"
    for quoted, rate in zip(us.groups(), (0.019, 0.051), strict=True):
        assert float(quoted) == round(grant_element(rate, 10.5, 0.5, 0.05, 2), 2)


def test_a_state_on_neither_side_pulls_alignment_nowhere():
    """The other suppliers' home (bloc none) has no side on the China-west axis: its pressure
    and promotion move scrutiny but not alignment (a state outside both blocs used to push
    governments toward China)."""
    assert (bloc_direction("west"), bloc_direction("china"), bloc_direction("none")) == (1, -1, 0)
    settings = load_scenario(
        BASELINE, values={"states.Others.security_pressure": 1.0, "states.Others.promotion": 1.0}
    )
    model = CloudRaceModel(CloudRaceScenario.from_settings(settings, rng=1))
    government = next(iter(model.governments))
    government.dependence = {name: 0.0 for name in model.states} | {"Others": 1.0}
    government.alignment = government.alignment_anchor
    government.respond_to_pressure()
    assert government.alignment == government.alignment_anchor
