"""The government's choice among bids: a random-utility (multinomial logit) rule.

Each bid ``b`` gets a systematic utility

    U_b = - w_cost       * effective_cost / tender_value
          - w_liquidity  * unfunded_share
          + w_quality    * quality
          + w_bundling   * [tender needs hardware and the bid bundles it]
          + w_incumbency * installed_share
          - w_switching  * [renewal won by a newcomer]
          - w_security   * perceived_security_risk
          - w_pressure   * rival_pressure
          + w_promotion  * promotion
          + w_trust      * (trust - 1)

and deferring the tender has utility ``defer_utility``. The options are grouped in nests (the
model's: one per bloc of the bidders' home states, with the other suppliers a nest of their own,
and deferral alone), and the government picks option ``i`` of nest ``k`` with the nested-logit
probability (McFadden 1978; Train 2009, *Discrete Choice Methods with Simulation*, 2nd ed.,
ch. 4, eq. 4.2)

    P_i = exp(V_i / lambda_k) * I_k ** (lambda_k - 1) / sum_l I_l ** lambda_l,
    I_k = sum_{j in k} exp(V_j / lambda_k),          V = U / scale

with ``lambda_k`` in (0, 1] the nest's dissimilarity parameter (``choice.nesting``; a one-option
nest's is irrelevant). Options in one nest are closer substitutes than options in different
nests: a new Chinese bid draws share mostly from the other Chinese bid. At ``lambda = 1`` every
nest collapses and this is the multinomial logit ``exp(U_i / scale) / sum_j exp(U_j / scale)``
(McFadden 1974). The terms are built by the functions below; the model supplies the numbers.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from typing import NamedTuple


class ChoiceWeights(NamedTuple):
    """Weights of the utility terms (all >= 0) and the logit scale."""

    cost: float
    liquidity: float
    quality: float
    bundling: float
    incumbency: float
    switching: float
    security: float
    pressure: float
    promotion: float
    trust: float
    scale: float = 1.0


def perceived_security_risk(
    sensitivity: float, scrutiny: float, state_exposure: float, alignment_with_state: float
) -> float:
    """Security risk a government sees in a provider: ``sensitivity * scrutiny * exposure * lens``.

    ``alignment_with_state`` in [-1, 1] is the government's alignment with the provider's home
    state; the lens ``1 - alignment_with_state`` runs from 0 (a close partner sees no risk) to 2
    (a rival's client sees double). ``state_exposure`` is how far the home state can reach into
    its providers' data (0 none, 1 full).

    >>> perceived_security_risk(1.0, 0.5, 1.0, -0.5)
    0.75
    """
    return sensitivity * scrutiny * state_exposure * (1.0 - alignment_with_state)


def unfunded_share(price: float, loan: float, tender_value: float, financing_need: float) -> float:
    """Share of the tender's value the government would have to find and cannot.

    The government can pay ``(1 - financing_need) * tender_value`` up front; whatever the bid
    asks beyond that and its loan does not cover is unfunded.
    """
    upfront = max(0.0, price - loan)
    return max(0.0, upfront / tender_value - (1.0 - financing_need))


def bid_utility(
    weights: ChoiceWeights,
    *,
    effective_cost_share: float,
    unfunded: float,
    quality: float,
    bundles_needed_hardware: bool,
    installed_share: float,
    is_switch: bool,
    security_risk: float,
    rival_pressure: float,
    promotion: float,
    trust: float,
) -> float:
    """Systematic utility of one bid (see the module docstring for the formula)."""
    return (
        -weights.cost * effective_cost_share
        - weights.liquidity * unfunded
        + weights.quality * quality
        + (weights.bundling if bundles_needed_hardware else 0.0)
        + weights.incumbency * installed_share
        - (weights.switching if is_switch else 0.0)
        - weights.security * security_risk
        - weights.pressure * rival_pressure
        + weights.promotion * promotion
        + weights.trust * (trust - 1.0)
    )


def logit_probabilities(utilities: Sequence[float], scale: float = 1.0) -> list[float]:
    """Multinomial logit choice probabilities ``exp(U_i/scale) / sum_j exp(U_j/scale)``.

    >>> [round(p, 4) for p in logit_probabilities([0.0, math.log(3.0)])]
    [0.25, 0.75]
    """
    top = max(utilities)
    weights = [math.exp((u - top) / scale) for u in utilities]
    total = sum(weights)
    return [w / total for w in weights]


def nested_logit_probabilities(
    utilities: Sequence[float], nests: Sequence[Hashable], nesting: Mapping[Hashable, float],
    scale: float = 1.0,
) -> list[float]:
    """Nested-logit choice probabilities (module docstring; Train 2009, eq. 4.2).

    ``nests[i]`` names option ``i``'s nest and ``nesting`` maps each nest to its dissimilarity
    parameter in (0, 1] (a nest missing from it has 1). With every parameter 1 this equals
    ``logit_probabilities``. Two options sharing a nest at 0.5 and one alone, all of utility 0:
    the pair's nest gets ``sqrt(2) / (1 + sqrt(2))``, split evenly.

    >>> [round(p, 4) for p in nested_logit_probabilities([0.0, 0.0, 0.0], "aab", {"a": 0.5})]
    [0.2929, 0.2929, 0.4142]
    """
    top = max(utilities) / scale
    members: dict[Hashable, list[int]] = {}
    for index, nest in enumerate(nests):
        members.setdefault(nest, []).append(index)
    # Work relative to the top utility: exp((V - top)/lambda) and I_k^lambda_k * exp(-top) stay
    # finite; the common factor exp(-top) cancels between numerator and denominator.
    inclusive: dict[Hashable, float] = {}
    for nest, indices in members.items():
        lam = nesting.get(nest, 1.0)
        inclusive[nest] = sum(math.exp((utilities[i] / scale - top) / lam) for i in indices)
    denominator = sum(value ** nesting.get(nest, 1.0) for nest, value in inclusive.items())
    probabilities = []
    for index, nest in enumerate(nests):
        lam = nesting.get(nest, 1.0)
        within = math.exp((utilities[index] / scale - top) / lam) / inclusive[nest]
        probabilities.append(within * inclusive[nest] ** lam / denominator)
    return probabilities


def choose_index(probabilities: Sequence[float], draw: float) -> int:
    """Index picked by a uniform ``draw`` in [0, 1) through the cumulative probabilities."""
    cumulative = 0.0
    for index, probability in enumerate(probabilities):
        cumulative += probability
        if draw < cumulative:
            return index
    return len(probabilities) - 1
