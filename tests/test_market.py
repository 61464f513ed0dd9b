"""The market arithmetic as pure functions, checked against hand-worked values."""

from __future__ import annotations

import math

import pytest

from sim.market.choice import (
    ChoiceWeights,
    bid_utility,
    choose_index,
    logit_probabilities,
    perceived_security_risk,
    unfunded_share,
)
from sim.market.concentration import dependence_index, herfindahl_index, leverage_share
from sim.market.financing import (
    debt_service_schedule,
    grant_element,
    loan_offer,
    outstanding_principal,
)
from sim.market.pricing import (
    bid_price,
    expected_bid_value,
    optimal_markup,
    subsidy_amount,
    update_belief,
    win_probability,
)
from sim.timephased import StepFunction

# --- financing: grant element -----------------------------------------------------------------


def annuity(n: int, rate: float) -> float:
    """Present value of 1 a year for ``n`` years: a_n = (1 - v^n) / i."""
    return (1.0 - (1.0 + rate) ** -n) / rate


def test_grant_element_of_aiddata_typical_loan_matches_hand_worked_value():
    # 2 %, 20 years, 5 years' grace, annual payments, 10 % discount rate, face value 1.
    # Years 1-5: interest only, 0.02 a year             -> PV = 0.02 * a_5
    # Years 6-20 (j = 1..15 after grace): principal 1/15 plus interest 0.02 on the balance
    #   before the payment, (16 - j)/15                  -> PV = v^5 [a_15 / 15
    #                                                          + 0.02/15 * sum (16-j) v^j]
    # and sum_{j=1..n} (n+1-j) v^j = (n - a_n) / i (the decreasing annuity).
    i, v = 0.10, 1 / 1.10
    a5, a15 = annuity(5, i), annuity(15, i)
    present_value = 0.02 * a5 + v**5 * (a15 / 15 + 0.02 / 15 * (15 - a15) / i)
    hand_worked = 1.0 - present_value
    assert hand_worked == pytest.approx(0.548118, abs=1e-6)
    assert grant_element(0.02, 20, 5) == pytest.approx(hand_worked, abs=1e-9)
    assert round(grant_element(0.02, 20, 5), 4) == 0.5481


def test_grant_element_written_out_as_an_explicit_sum_of_twenty_payments():
    payments = [0.02] * 5 + [1 / 15 + 0.02 * (15 - k) / 15 for k in range(15)]
    present_value = sum(amount / 1.1 ** (year + 1) for year, amount in enumerate(payments))
    assert sum(payments[5:]) - 0.02 * sum(range(16)) / 15 == pytest.approx(1.0)
    assert grant_element(0.02, 20, 5) == pytest.approx(1 - present_value, abs=1e-12)


def test_grant_element_with_semi_annual_payments_is_about_54_percent():
    assert grant_element(0.02, 20, 5, payments_per_year=2) == pytest.approx(0.539, abs=0.001)


def test_loan_at_the_discount_rate_has_no_grant_element():
    assert grant_element(0.10, 20, 5) == pytest.approx(0.0, abs=1e-12)
    assert grant_element(0.10, 7, 0) == pytest.approx(0.0, abs=1e-12)


def test_loan_dearer_than_the_discount_rate_has_a_negative_grant_element():
    assert grant_element(0.15, 10, 2) < 0.0


def test_zero_interest_loan_grant_element_is_one_minus_pv_of_its_instalments():
    # 0 %, 10 years, no grace: ten instalments of 0.1.
    assert grant_element(0.0, 10, 0) == pytest.approx(1 - 0.1 * annuity(10, 0.1), abs=1e-12)


def test_grant_element_rises_with_softer_terms():
    base = grant_element(0.02, 20, 5)
    assert grant_element(0.01, 20, 5) > base
    assert grant_element(0.02, 25, 5) > base
    assert grant_element(0.02, 20, 8) > base
    assert grant_element(0.02, 20, 5, discount_rate=0.05) < base


def test_debt_service_schedule_repays_the_face_value_in_equal_instalments_after_grace():
    schedule = debt_service_schedule(150.0, 0.04, 6, 2)
    assert [time for time, _ in schedule] == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    amounts = [amount for _, amount in schedule]
    assert amounts[:2] == pytest.approx([6.0, 6.0])  # interest only on 150
    # instalments of 37.5 with interest on 150, 112.5, 75, 37.5
    assert amounts[2:] == pytest.approx([43.5, 42.0, 40.5, 39.0])
    interest = sum(amounts) - 150.0
    assert interest == pytest.approx(0.04 * (150 * 2 + 150 + 112.5 + 75 + 37.5))


def test_semi_annual_schedule_has_two_payments_a_year_at_half_the_rate():
    schedule = debt_service_schedule(100.0, 0.04, 2, 1, payments_per_year=2)
    assert [time for time, _ in schedule] == [0.5, 1.0, 1.5, 2.0]
    assert [amount for _, amount in schedule] == pytest.approx([2.0, 2.0, 52.0, 51.0])


def test_schedule_refuses_a_grace_period_as_long_as_the_maturity():
    with pytest.raises(ValueError, match="maturity"):
        debt_service_schedule(100.0, 0.02, 5, 5)


def test_outstanding_principal_is_flat_through_grace_then_falls_linearly_to_zero():
    assert outstanding_principal(100.0, 20, 5, 0) == 100.0
    assert outstanding_principal(100.0, 20, 5, 5) == 100.0
    assert outstanding_principal(100.0, 20, 5, 8) == pytest.approx(80.0)
    assert outstanding_principal(100.0, 20, 5, 12.5) == pytest.approx(50.0)
    assert outstanding_principal(100.0, 20, 5, 20) == 0.0
    assert outstanding_principal(100.0, 20, 5, 30) == 0.0


# --- financing: loan offers -------------------------------------------------------------------


def test_loan_offer_lends_coverage_of_price_to_a_government_that_needs_it():
    assert loan_offer(100.0, 0.85, 0.6, 0.3, 1000.0) == pytest.approx(85.0)


def test_no_loan_for_a_government_below_the_minimum_need():
    assert loan_offer(100.0, 0.85, 0.29, 0.3, 1000.0) == 0.0


def test_loan_offered_exactly_at_the_minimum_need():
    assert loan_offer(100.0, 0.5, 0.3, 0.3, 1000.0) == pytest.approx(50.0)


def test_no_loan_for_a_government_with_no_financing_need_even_if_min_need_is_zero():
    assert loan_offer(100.0, 0.85, 0.0, 0.0, 1000.0) == 0.0


def test_bank_does_not_part_finance_when_budget_falls_short():
    assert loan_offer(100.0, 0.85, 0.6, 0.3, 84.99) == 0.0


def test_loan_offered_when_budget_exactly_covers_it():
    assert loan_offer(100.0, 0.5, 0.6, 0.3, 50.0) == pytest.approx(50.0)


# --- pricing ------------------------------------------------------------------------------------


def test_win_probability_at_reference_markup_is_the_logistic_of_the_belief():
    assert win_probability(0.15, 0.0, 8.0, 0.15) == pytest.approx(0.5)
    assert win_probability(0.15, math.log(3), 8.0, 0.15) == pytest.approx(0.75)


def test_win_probability_falls_as_markup_rises():
    chances = [win_probability(m, -0.5, 8.0, 0.15) for m in (-0.2, 0.0, 0.2, 0.5)]
    assert chances == sorted(chances, reverse=True)
    # one unit of sensitivity * markup is one unit of log-odds
    low, high = win_probability(0.1, 0.0, 10.0, 0.0), win_probability(0.2, 0.0, 10.0, 0.0)
    assert math.log(low / (1 - low)) - math.log(high / (1 - high)) == pytest.approx(1.0)


def foc_residual(markup, belief, sensitivity, reference, strategic):
    """``sensitivity * (m + s) * (1 - P(win | m)) - 1``: zero at the optimum."""
    chance = win_probability(markup, belief, sensitivity, reference)
    return sensitivity * (markup + strategic) * (1.0 - chance) - 1.0


@pytest.mark.parametrize(("belief", "sensitivity", "reference", "strategic"), [
    (0.0, 10.0, 0.0, 0.0),
    (-0.5, 8.0, 0.15, 0.0),
    (1.2, 8.0, 0.15, 0.3),
    (-3.0, 2.0, 0.5, 0.1),
    (2.0, 25.0, -0.1, 0.6),
])
def test_optimal_markup_satisfies_its_first_order_condition(belief, sensitivity, reference,
                                                            strategic):
    markup = optimal_markup(belief, sensitivity, reference, strategic, -10.0, 10.0)
    assert foc_residual(markup, belief, sensitivity, reference, strategic) == pytest.approx(
        0.0, abs=1e-9)


@pytest.mark.parametrize(("belief", "sensitivity", "reference", "strategic"), [
    (0.0, 10.0, 0.0, 0.0), (-0.5, 8.0, 0.15, 0.2), (1.0, 3.0, 0.3, 0.0)])
def test_optimal_markup_maximises_expected_bid_value(belief, sensitivity, reference, strategic):
    best = optimal_markup(belief, sensitivity, reference, strategic, -10.0, 10.0)
    value = expected_bid_value(best, belief, sensitivity, reference, strategic)
    for delta in (-0.05, -0.005, 0.005, 0.05):
        assert value > expected_bid_value(best + delta, belief, sensitivity, reference,
                                          strategic)


def test_optimal_markup_hand_worked_value():
    # belief 0, sensitivity 10, reference 0: 10 m = 1 + W(e^-1) = 1.27846...
    assert optimal_markup(0.0, 10.0, 0.0, 0.0, -1.0, 1.0) == pytest.approx(0.127846, abs=1e-6)


def test_optimal_markup_is_clipped_to_the_allowed_range():
    assert optimal_markup(0.0, 10.0, 0.0, 0.0, -1.0, 0.05) == 0.05
    assert optimal_markup(0.0, 10.0, 0.0, 3.0, -0.3, 0.8) == -0.3
    assert optimal_markup(8.0, 0.5, 2.0, 0.0, -0.3, 0.8) == 0.8


def test_strategic_value_lowers_the_markup():
    markups = [optimal_markup(-0.5, 8.0, 0.15, s, -5.0, 5.0) for s in (0.0, 0.1, 0.3, 1.0)]
    assert all(a > b for a, b in zip(markups, markups[1:], strict=False))


def test_a_more_confident_provider_asks_a_higher_markup():
    assert optimal_markup(1.0, 8.0, 0.15, 0.0, -5, 5) > optimal_markup(-1.0, 8.0, 0.15, 0.0, -5, 5)


def test_optimal_markup_beyond_the_overflow_guard_stays_finite_and_near_the_optimum():
    # exponent = belief + sensitivity * (reference + strategic) - 1 = 549 > 500
    belief, sensitivity, reference, strategic = 0.0, 100.0, 2.0, 3.5
    markup = optimal_markup(belief, sensitivity, reference, strategic, -100.0, 100.0)
    assert math.isfinite(markup)
    assert foc_residual(markup, belief, sensitivity, reference, strategic) == pytest.approx(
        0.0, abs=0.02)


def test_subsidy_is_rate_times_cost_up_to_the_budget():
    assert subsidy_amount(50.0, 0.1, 100.0) == pytest.approx(5.0)
    assert subsidy_amount(50.0, 0.1, 3.0) == pytest.approx(3.0)
    assert subsidy_amount(50.0, 0.1, 0.0) == 0.0
    assert subsidy_amount(50.0, 0.0, 100.0) == 0.0


def test_subsidy_is_never_negative_when_the_budget_is_overspent():
    assert subsidy_amount(50.0, 0.1, -10.0) == 0.0


def test_bid_price_is_cost_plus_markup_less_subsidy():
    assert bid_price(40.0, 0.15, 0.0) == pytest.approx(46.0)
    assert bid_price(40.0, 0.15, 4.0) == pytest.approx(42.0)
    assert bid_price(40.0, -0.2, 4.0) == pytest.approx(28.0)


def test_subsidised_price_never_below_zero():
    assert bid_price(10.0, -0.3, 50.0) == 0.0


def test_subsidy_lowers_the_price_one_for_one():
    cost, markup = 30.0, 0.2
    subsidy = subsidy_amount(cost, 0.1, 1000.0)
    assert bid_price(cost, markup, 0.0) - bid_price(cost, markup, subsidy) == pytest.approx(3.0)


def test_belief_update_moves_toward_the_outcome_by_the_learning_rate():
    assert update_belief(-0.5, True, 0.3, 0.15) == pytest.approx(-0.5 + 0.15 * 0.7)
    assert update_belief(-0.5, False, 0.3, 0.15) == pytest.approx(-0.5 - 0.15 * 0.3)
    assert update_belief(-0.5, True, 0.3, 0.0) == -0.5


def test_belief_update_has_zero_expected_change_when_the_prediction_is_right():
    belief, predicted, rate = 0.4, 0.35, 0.2
    expected = (predicted * update_belief(belief, True, predicted, rate)
                + (1 - predicted) * update_belief(belief, False, predicted, rate))
    assert expected == pytest.approx(belief)


def test_a_loss_lowers_the_belief_and_so_the_markup():
    belief = -0.5
    chance = win_probability(0.15, belief, 8.0, 0.15)
    after_loss = update_belief(belief, False, chance, 0.15)
    assert after_loss < belief
    assert optimal_markup(after_loss, 8.0, 0.15, 0.0, -1, 1) < \
        optimal_markup(belief, 8.0, 0.15, 0.0, -1, 1)


# --- choice -------------------------------------------------------------------------------------


def test_logit_probabilities_hand_worked():
    assert logit_probabilities([0.0, math.log(3.0)]) == pytest.approx([0.25, 0.75])
    utilities = [1.0, 2.0, -3.5]
    denominator = math.exp(1.0) + math.exp(2.0) + math.exp(-3.5)
    assert logit_probabilities(utilities) == pytest.approx(
        [math.exp(u) / denominator for u in utilities])


def test_logit_probabilities_sum_to_one_and_equal_utilities_split_evenly():
    probabilities = logit_probabilities([0.7, 0.7, 0.7, 0.7])
    assert sum(probabilities) == pytest.approx(1.0)
    assert probabilities == pytest.approx([0.25] * 4)


def test_logit_probabilities_do_not_change_when_every_utility_shifts():
    assert logit_probabilities([1.0, 2.0, 3.0]) == pytest.approx(
        logit_probabilities([101.0, 102.0, 103.0]))


def test_logit_scale_flattens_the_choice():
    sharp = logit_probabilities([0.0, 1.0], scale=0.5)
    flat = logit_probabilities([0.0, 1.0], scale=4.0)
    assert sharp[1] / sharp[0] == pytest.approx(math.exp(2.0))
    assert flat[1] / flat[0] == pytest.approx(math.exp(0.25))


def test_logit_probabilities_do_not_overflow_with_large_utilities():
    probabilities = logit_probabilities([1000.0, 0.0, -1000.0])
    assert probabilities == pytest.approx([1.0, 0.0, 0.0])
    assert all(math.isfinite(p) for p in probabilities)


def test_choose_index_follows_the_cumulative_probabilities():
    probabilities = [0.2, 0.5, 0.3]
    assert choose_index(probabilities, 0.0) == 0
    assert choose_index(probabilities, 0.1999) == 0
    assert choose_index(probabilities, 0.2) == 1
    assert choose_index(probabilities, 0.6999) == 1
    assert choose_index(probabilities, 0.7) == 2
    assert choose_index(probabilities, 0.9999999) == 2


def test_choose_index_returns_the_last_option_when_rounding_leaves_a_gap():
    assert choose_index([0.3, 0.3, 0.3999999], 0.99999995) == 2


def test_perceived_security_risk_lens_runs_from_partner_to_rival():
    assert perceived_security_risk(1.0, 0.5, 1.0, -0.5) == pytest.approx(0.75)
    assert perceived_security_risk(0.8, 0.5, 0.9, 1.0) == 0.0
    assert perceived_security_risk(0.8, 0.5, 0.9, -1.0) == pytest.approx(2 * 0.8 * 0.5 * 0.9)
    assert perceived_security_risk(0.8, 0.5, 0.0, -1.0) == 0.0


def test_unfunded_share_is_what_the_loan_and_the_upfront_budget_do_not_cover():
    # can pay 40 % of 100 up front; asks 90 with no loan -> 50 % unfunded
    assert unfunded_share(90.0, 0.0, 100.0, 0.6) == pytest.approx(0.5)
    # a loan of 60 leaves 30 up front, within the 40 it can pay
    assert unfunded_share(90.0, 60.0, 100.0, 0.6) == 0.0
    assert unfunded_share(90.0, 0.0, 100.0, 0.0) == 0.0
    assert unfunded_share(50.0, 80.0, 100.0, 1.0) == 0.0


WEIGHTS = ChoiceWeights(cost=3.0, liquidity=4.0, quality=2.0, bundling=1.0, incumbency=2.5,
                        switching=1.5, security=2.0, pressure=1.5, promotion=1.0, trust=2.0)
NEUTRAL = dict(effective_cost_share=0.0, unfunded=0.0, quality=0.0,
               bundles_needed_hardware=False, installed_share=0.0, is_switch=False,
               security_risk=0.0, rival_pressure=0.0, promotion=0.0, trust=1.0)


def test_bid_utility_of_a_neutral_bid_is_zero():
    assert bid_utility(WEIGHTS, **NEUTRAL) == 0.0


@pytest.mark.parametrize(("term", "value", "change"), [
    ("effective_cost_share", 0.5, -1.5),
    ("unfunded", 0.25, -1.0),
    ("quality", 0.9, 1.8),
    ("bundles_needed_hardware", True, 1.0),
    ("installed_share", 0.4, 1.0),
    ("is_switch", True, -1.5),
    ("security_risk", 0.3, -0.6),
    ("rival_pressure", 0.2, -0.3),
    ("promotion", 0.5, 0.5),
    ("trust", 0.7, -0.6),
])
def test_each_utility_term_moves_utility_by_its_weight_with_the_documented_sign(term, value,
                                                                                 change):
    assert bid_utility(WEIGHTS, **{**NEUTRAL, term: value}) == pytest.approx(change)


def test_bid_utility_adds_its_terms():
    bid = dict(effective_cost_share=0.9, unfunded=0.1, quality=1.0, bundles_needed_hardware=True,
               installed_share=0.5, is_switch=True, security_risk=0.2, rival_pressure=0.1,
               promotion=0.3, trust=0.9)
    expected = -2.7 - 0.4 + 2.0 + 1.0 + 1.25 - 1.5 - 0.4 - 0.15 + 0.3 - 0.2
    assert bid_utility(WEIGHTS, **bid) == pytest.approx(expected)


# --- concentration, leverage, dependence --------------------------------------------------------


def test_herfindahl_of_a_monopoly_is_one_and_of_n_equal_firms_one_over_n():
    assert herfindahl_index([42.0]) == 1.0
    assert herfindahl_index([42.0, 0.0, 0.0]) == 1.0
    assert herfindahl_index([5.0] * 4) == pytest.approx(0.25)


def test_herfindahl_hand_worked_and_scale_free():
    # shares 0.6, 0.3, 0.1 -> 0.36 + 0.09 + 0.01
    assert herfindahl_index([60.0, 30.0, 10.0]) == pytest.approx(0.46)
    assert herfindahl_index([6.0, 3.0, 1.0]) == pytest.approx(0.46)


def test_herfindahl_of_an_empty_market_is_zero():
    assert herfindahl_index([]) == 0.0
    assert herfindahl_index([0.0, 0.0]) == 0.0


def test_herfindahl_accepts_a_generator():
    assert herfindahl_index(x for x in (1.0, 1.0)) == pytest.approx(0.5)


def test_leverage_share_is_the_states_share_of_sensitive_workloads():
    assert leverage_share({"China": 3.0, "US": 1.0}, "China") == pytest.approx(0.75)
    assert leverage_share({"China": 3.0, "US": 1.0}, "US") == pytest.approx(0.25)


def test_leverage_of_an_absent_state_or_with_no_workloads_is_zero():
    assert leverage_share({"China": 3.0}, "US") == 0.0
    assert leverage_share({}, "US") == 0.0
    assert leverage_share({"China": 0.0, "US": 0.0}, "China") == 0.0


def test_dependence_index_hand_worked_and_bounded():
    assert dependence_index([]) == 0.0
    assert dependence_index([0.5, 0.5]) == pytest.approx(1 - math.exp(-1.0))
    assert dependence_index([1.0]) == pytest.approx(0.632120558)
    assert 0.0 < dependence_index([10.0, 10.0]) < 1.0


def test_each_extra_tie_adds_dependence_with_diminishing_returns():
    levels = [dependence_index([0.5] * n) for n in range(5)]
    steps = [b - a for a, b in zip(levels, levels[1:], strict=False)]
    assert all(step > 0 for step in steps)
    assert all(later < earlier for earlier, later in zip(steps, steps[1:], strict=False))


# --- time-phased values -------------------------------------------------------------------------


def test_constant_step_function_holds_at_every_time():
    step = StepFunction.of(0.5)
    assert [step.at(t) for t in (1900.0, 2006.0, 2035.9)] == [0.5, 0.5, 0.5]
    assert step.changes_after(2006.0) == []


def test_step_function_is_zero_before_its_first_year():
    step = StepFunction.of({2020: 300})
    assert step.at(2019.999) == 0.0
    assert step.at(2020.0) == 300.0
    assert step.at(2030.0) == 300.0


def test_step_function_takes_the_latest_step_at_or_before_the_time():
    step = StepFunction.of({2019.37: 0.5, 2006: 0.1, 2022: 0.8})  # unsorted on purpose
    assert step.years == (2006.0, 2019.37, 2022.0)
    assert step.at(2006.0) == 0.1
    assert step.at(2019.36) == 0.1
    assert step.at(2019.37) == 0.5  # right-continuous: the new value applies on its date
    assert step.at(2021.99) == 0.5
    assert step.at(2022.0) == 0.8


def test_step_function_can_switch_a_lever_off_again():
    step = StepFunction.of({2018: 0.3, 2021.1: 0.0})
    assert step.at(2020.0) == 0.3
    assert step.at(2021.5) == 0.0


def test_step_function_changes_after_lists_later_steps_only():
    step = StepFunction.of({2006: 0.05, 2018: 0.3, 2019.37: 0.6})
    assert step.changes_after(2006.0) == [(2018.0, 0.3), (2019.37, 0.6)]
    assert step.changes_after(2018.0) == [(2019.37, 0.6)]
    assert step.changes_after(2030.0) == []


def test_step_function_reads_integer_keys_and_values_as_floats():
    step = StepFunction.of({2020: 1})
    assert step.years == (2020.0,)
    assert isinstance(step.values[0], float)
