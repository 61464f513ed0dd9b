"""Bid pricing: the provider's belief about winning, its profit-maximising markup, subsidies.

A provider believes its chance of winning a tender in a market falls with its markup along a
logistic curve (the logit demand of a scoring auction, Che 1993):

    P(win | m) = 1 / (1 + exp(-(belief - sensitivity * (m - reference_markup))))

where ``belief`` is the log-odds of winning at the reference markup, learnt per market. The
provider prices to maximise expected value ``P(win | m) * (m + strategic_share)``, with margin
and its home state's strategic value both in units of the bid's cost. The first-order condition
``sensitivity * x * (1 - P) = 1`` with ``x = m + strategic_share`` has the closed form

    sensitivity * x = 1 + W(exp(belief + sensitivity * (reference_markup + strategic_share) - 1))

(W the Lambert W function), the monopoly price under logit demand. Losses lower the belief and
so the markup, which raises the chance of winning: the markup cannot spiral to zero bids, and
the belief update is damped (see ``update_belief``).
"""

from __future__ import annotations

import math

from scipy.special import wrightomega


def win_probability(
    markup: float, belief: float, sensitivity: float, reference_markup: float
) -> float:
    """The provider's believed chance of winning at ``markup`` (logistic in the markup)."""
    return 1.0 / (1.0 + math.exp(-(belief - sensitivity * (markup - reference_markup))))


def optimal_markup(
    belief: float,
    sensitivity: float,
    reference_markup: float,
    strategic_share: float,
    lowest: float,
    highest: float,
) -> float:
    """Markup maximising ``P(win | m) * (m + strategic_share)``, clipped to ``[lowest, highest]``.

    Closed form through the Lambert W function (see the module docstring). A large strategic
    value lowers the markup one for one: a state-backed provider bids close to, or below, cost.

    >>> round(optimal_markup(0.0, 10.0, 0.0, 0.0, -1.0, 1.0), 4)
    0.1278
    """
    exponent = belief + sensitivity * (reference_markup + strategic_share) - 1.0
    # W(e^z) is Wright's omega function of z: no exp to overflow, and on a scalar it costs a
    # fifth of lambertw (it differs from lambertw(exp(z)) by at most an ulp or two).
    lambert = float(wrightomega(exponent))
    markup = (1.0 + lambert) / sensitivity - strategic_share
    return min(max(markup, lowest), highest)


def expected_bid_value(
    markup: float, belief: float, sensitivity: float, reference_markup: float,
    strategic_share: float,
) -> float:
    """Expected value of bidding at ``markup``, in units of the bid's cost."""
    chance = win_probability(markup, belief, sensitivity, reference_markup)
    return chance * (markup + strategic_share)


def update_belief(belief: float, won: bool, predicted: float, learning_rate: float) -> float:
    """Damped update of the win belief after a tender: ``belief + rate * (won - predicted)``.

    This is one step of stochastic gradient ascent on the log-likelihood of the logistic win
    model: its expected change is zero when the belief is right, so it settles instead of
    spiralling, and a small ``learning_rate`` damps single-run swings.
    """
    return belief + learning_rate * ((1.0 if won else 0.0) - predicted)


def subsidy_amount(cost: float, subsidy_rate: float, budget_left: float) -> float:
    """State subsidy on a bid: ``subsidy_rate`` of its cost, as far as the budget reaches."""
    return max(0.0, min(subsidy_rate * cost, budget_left))


def bid_price(cost: float, markup: float, subsidy: float) -> float:
    """Price offered: ``cost * (1 + markup) - subsidy``, never below zero."""
    return max(0.0, cost * (1.0 + markup) - subsidy)
