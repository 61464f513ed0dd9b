"""Each mechanism pushes the way DESIGN.md says it does.

Scenarios differ from the baseline in one lever; both run on the same seeds (common random
numbers) and the test compares totals over the seeds, so a direction is checked, not a number.
"""

from __future__ import annotations

from functools import partial

import pytest

from sim.model import BASELINE, CloudRaceModel, CloudRaceScenario
from sim.scenario import load_scenario

SEEDS = range(6)


def run_model(*overrides: str, seed: int = 0, end_year: int = 2021,
              record_tenders: bool = False) -> CloudRaceModel:
    settings = load_scenario(BASELINE, [f"run.end_year={end_year}", *overrides])
    model = CloudRaceModel(CloudRaceScenario.from_settings(settings, rng=seed),
                           record_tenders=record_tenders)
    model.run_model()
    return model


def total(overrides: tuple[str, ...], measure, end_year: int = 2021) -> float:
    return sum(measure(run_model(*overrides, seed=seed, end_year=end_year)) for seed in SEEDS)


def financed_by(state: str):
    return lambda model: sum(1 for c in model.contracts
                             if c.bid.financing_state is not None
                             and c.bid.financing_state.name == state)


def won_by_state(state: str, among=lambda government: True):
    return lambda model: sum(1 for c in model.contracts if c.provider.home.name == state
                             and among(c.tender.government))


def test_more_financing_budget_brings_more_financed_wins_for_that_states_providers():
    baseline = total((), financed_by("US"))
    funded = total(("states.US.financing_budget_usd_m={2006: 3000}",), financed_by("US"))
    assert funded > baseline + 20
    assert total(("states.US.financing_budget_usd_m={2006: 3000}",), won_by_state("US")) \
        > total((), won_by_state("US"))


def test_chinese_financing_wins_huawei_deals_in_poor_countries_and_overall():
    unfunded = ("states.China.financing_budget_usd_m=0",)
    assert total(unfunded, financed_by("China")) == 0

    def huawei_deals(model: CloudRaceModel, poor_only: bool = False) -> int:
        return sum(1 for c in model.contracts if c.provider.name == "Huawei"
                   and (not poor_only or c.tender.government.income_group
                        in ("Low", "Lower middle")))

    assert total(unfunded, huawei_deals) < total((), huawei_deals)
    assert total(unfunded, partial(huawei_deals, poor_only=True)) \
        < total((), partial(huawei_deals, poor_only=True))


def test_without_chinese_financing_huawei_wins_a_tenth_fewer_deals():
    unfunded = ("states.China.financing_budget_usd_m=0",)

    def huawei_deals(model: CloudRaceModel) -> int:
        return sum(1 for c in model.contracts if c.provider.name == "Huawei")

    assert total(unfunded, huawei_deals) < 0.9 * total((), huawei_deals)


def test_security_pressure_cuts_chinese_wins_among_governments_that_depend_on_the_us():
    partner = lambda government: government.us_security_partner  # noqa: E731
    calm = total(("states.US.security_pressure=0",), won_by_state("China", partner), 2030)
    pressed = total(("states.US.security_pressure=1",), won_by_state("China", partner), 2030)
    assert pressed < 0.9 * calm


def tender_with_bid(model, government, provider):
    """A fresh tender of ``government`` on which ``provider`` bids (entry is stochastic)."""
    for _ in range(100):
        tender = model.draw_tender(government)
        if (bid := provider.decide_bid(tender)) is not None:
            return tender, bid
    pytest.fail(f"{provider.name} bid on none of 100 tenders of {government.iso3}")


def test_pressure_reaches_a_government_only_through_its_dependence():
    model = run_model("states.US.security_pressure=1", end_year=2006)
    government = model.governments.to_list()[0]
    tender, bid = tender_with_bid(model, government, model.providers_by_name["Huawei"])
    government.dependence["US"] = 0.0
    independent = government.score_bid(tender, bid)
    government.dependence["US"] = 0.8
    dependent = government.score_bid(tender, bid)
    assert dependent == pytest.approx(independent - model.choice_weights.pressure * 0.8)


def test_export_controls_lower_huawei_capability_after_their_date_only():
    def huawei(end_year: int, *overrides: str):
        return run_model(*overrides, end_year=end_year).providers_by_name["Huawei"]

    no_controls = "states.US.export_controls=[]"
    assert huawei(2018).capability == huawei(2018, no_controls).capability
    controlled, free = huawei(2021), huawei(2021, no_controls)
    assert controlled.capability < free.capability
    assert controlled.cost_share > free.cost_share
    assert controlled.supply_risk > free.supply_risk == 0.0


def test_incumbents_win_renewals_more_often_than_newcomers():
    incumbent_wins = newcomer_wins = renewals = 0
    for seed in SEEDS:
        model = run_model(seed=seed, end_year=2030)
        for contract in model.contracts:
            if contract.tender.renewal:
                renewals += 1
                if contract.provider is contract.tender.incumbent:
                    incumbent_wins += 1
                else:
                    newcomer_wins += 1
    assert renewals > 100
    assert incumbent_wins > 2 * newcomer_wins


def test_without_lock_in_incumbents_lose_their_edge():
    def incumbent_share(model: CloudRaceModel) -> float:
        renewals = [c for c in model.contracts if c.tender.renewal]
        return sum(c.provider is c.tender.incumbent for c in renewals) / len(renewals)

    with_lock_in = total((), incumbent_share, 2030)
    without = total(("lock_in.incumbency_weight=0", "lock_in.switching_weight=0"),
                    incumbent_share, 2030)
    assert without < with_lock_in - 0.1 * len(SEEDS)


def test_a_troubled_contract_lowers_trust_in_its_provider_here_and_less_in_the_region():
    model = run_model(end_year=2016)
    contract = next(c for c in model.contracts if c.active and not c.troubled)
    government = contract.tender.government
    neighbour = next(g for g in model.governments_by_region[government.region]
                     if g is not government)
    provider = contract.provider
    before_here = government.trust.get(provider, 1.0)
    before_there = neighbour.trust.get(provider, 1.0)
    scrutiny = government.scrutiny
    government.suffer_incident(contract, "security")
    loss_here = before_here - government.trust[provider]
    loss_there = before_there - neighbour.trust[provider]
    assert contract.troubled
    assert loss_here > loss_there > 0
    assert government.scrutiny > scrutiny


def test_lost_trust_makes_a_providers_bid_less_attractive():
    model = run_model(end_year=2006)
    government = model.governments.to_list()[0]
    tender, bid = tender_with_bid(model, government, model.providers_by_name["Huawei"])
    trusted = government.score_bid(tender, bid)
    government.lose_trust(bid.provider, 0.5)
    assert government.score_bid(tender, bid) < trusted


def test_more_incidents_mean_more_troubled_contracts():
    troubled = lambda model: sum(c.troubled for c in model.contracts)  # noqa: E731
    assert total(("incidents.base_rate=0.1",), troubled) > total(("incidents.base_rate=0",),
                                                                 troubled)


def test_subsidies_lower_the_subsidised_providers_prices():
    def mean_price_ratio(model: CloudRaceModel) -> float:
        bids = [c.bid for c in model.contracts if c.provider.name == "Huawei"]
        return sum(b.price / b.cost for b in bids) / len(bids)

    plain = total(("states.China.subsidy_rate=0",), mean_price_ratio)
    subsidised = total(("states.China.subsidy_rate=0.3",
                        "states.China.subsidy_budget_usd_m=5000"), mean_price_ratio)
    assert subsidised < plain - 0.1 * len(SEEDS)


def test_bundling_wins_tenders_that_need_hardware():
    def huawei_hardware_wins(model: CloudRaceModel) -> int:
        return sum(1 for c in model.contracts
                   if c.tender.needs_hardware and c.provider.name == "Huawei")

    assert total(("choice.bundling_weight=0",), huawei_hardware_wins) \
        < total(("choice.bundling_weight=3",), huawei_hardware_wins)


def test_leverage_is_the_states_share_of_sensitive_workloads():
    model = run_model(end_year=2020)
    government = max(model.governments, key=lambda g: len(g.contracts))
    workloads = government.sensitive_workloads()
    assert sum(government.leverage_share(state) for state in model.states) \
        == pytest.approx(1.0)
    china = sum(c.tender.value * c.tender.sensitivity for c in government.contracts
                if c.provider.home.name == "China")
    assert government.leverage_share("China") == pytest.approx(china / sum(workloads.values()))


def test_coercion_brings_both_compliance_and_backlash():
    event = "states.China.coercion_events=[{year: 2028, leverage_threshold: 0.5}]"
    complied = backlash = 0
    for seed in SEEDS:
        model = run_model(event, seed=seed, end_year=2029)
        complied += model.coercion_outcomes["China"]["complied"]
        backlash += model.coercion_outcomes["China"]["backlash"]
    assert complied > 0 and backlash > 0


def test_backlash_cancels_the_coercing_states_contracts():
    model = run_model("coercion.rule=chance", end_year=2027)  # propensity 0: certain backlash
    china = model.states["China"]
    government = max(model.governments, key=lambda g: g.leverage_share("China"))
    assert government.leverage_share("China") > 0
    from sim.schema import CoercionEvent
    event = CoercionEvent(year=2027, compliance_propensity=0.0)
    government.face_coercion(china, event, government.leverage_share("China"))
    assert model.coercion_outcomes["China"]["backlash"] == 1
    cancelled = [c for c in model.contracts if c.extra.get("cancelled")]
    assert cancelled and all(not c.active for c in cancelled)


def test_governments_never_contract_chinese_providers_while_they_recognise_taiwan():
    for seed in SEEDS[:3]:
        model = run_model(seed=seed, end_year=2035)
        assert not [c for c in model.contracts if c.provider.home.name == "China"
                    and c.tender.government.recognises_taiwan(c.start)]


def test_markups_do_not_spiral_in_single_runs():
    """Damped, per-market learning: no provider's markups collapse to the floor everywhere."""
    for seed in SEEDS[:3]:
        model = run_model(seed=seed, end_year=2035)
        for provider in model.providers:
            markups = [c.bid.markup for c in model.contracts[-200:] if c.provider is provider]
            assert markups, f"{provider.name} won nothing late in seed {seed}"
            floor = model.scenario.bidding.min_markup
            assert sum(m <= floor + 1e-9 for m in markups) < len(markups) / 2


def test_a_lever_dated_1_january_is_in_force_when_that_year_opens():
    model = run_model("states.China.financing_budget_usd_m={2006: 250, 2007: 999}",
                      end_year=2007)
    assert model.states["China"].financing_budget_usd_m == 999


def test_a_budget_change_during_a_year_applies_to_the_rest_of_that_year_pro_rata():
    settings = load_scenario(BASELINE, ["run.end_year=2008",
                                        "states.US.financing_budget_usd_m={2006.75: 400}"])
    model = CloudRaceModel(CloudRaceScenario.from_settings(settings, rng=0))
    us = model.states["US"]
    assert us.financing_left == 0.0
    model.run_until(0.76)  # just after 1 October 2006
    assert us.financing_left + us.financing_spent == pytest.approx(100.0)


def test_taiwan_recognition_follows_the_dates_of_a_diplomatic_switch():
    model = run_model(end_year=2006)
    government = model.governments.to_list()[0]
    government.country = {**government.country, "taiwan_recognition": False,
                          "taiwan_recognition_from": None, "taiwan_recognition_until": 2018.33}
    assert government.recognises_taiwan(2018.0)
    assert not government.recognises_taiwan(2018.5)
    government.country = {**government.country, "taiwan_recognition": True,
                          "taiwan_recognition_from": 2007.33, "taiwan_recognition_until": None}
    assert not government.recognises_taiwan(2007.0)
    assert government.recognises_taiwan(2030.0)


def test_an_allied_pool_finances_its_allies_providers_when_their_home_banks_do_not():
    allies = ("states.Allies={bloc: west, financing_budget_usd_m: 3000, co_finances: [US]}",
              "states.US.financing_budget_usd_m=0")
    assert total(allies, financed_by("Allies")) > 20
    assert total(allies, financed_by("US")) == 0
    assert total(allies, won_by_state("US")) > total(("states.US.financing_budget_usd_m=0",),
                                                     won_by_state("US"))
