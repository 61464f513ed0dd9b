"""Coercion as a decision: does a threatened government comply? (mechanism 9)

A state that hosts a large share of a government's sensitive workloads threatens to cut the
service unless the government complies (Clayton, Maggiori & Schreger 2023, "A Framework for
Geoeconomics": the hegemon's threat is credible in proportion to what the target would lose;
Drezner 1999, *The Sanctions Paradox*: targets weigh the cost of the threatened cut against the
cost of conceding). The government compares, in the utility units of its procurement choice:

    cost of defying   D = (w_switching + w_service) * leverage
    cost of complying C = c_comply * (1 - alignment_with_coercer)

with ``leverage`` the coercer's share of the government's sensitive workloads, ``w_switching``
the migration cost of the choice rule (``lock_in.switching_weight``), ``w_service`` the cost of
the service lost meanwhile (``coercion.service_weight``) and ``c_comply`` the sovereignty cost of
conceding (``coercion.compliance_cost``), nil for a government fully aligned with the coercer and
doubled for one aligned against it. It complies with the logit probability

    P(comply) = 1 / (1 + exp(-(D - C) / scale))

(``choice.scale``): a random-utility decision between two options, like the procurement choice.
"""

from __future__ import annotations

import math


def cost_of_defying(leverage: float, switching_weight: float, service_weight: float) -> float:
    """What defying costs: migrating and doing without the coercer's share of the workloads.

    >>> cost_of_defying(0.5, 1.5, 3.0)
    2.25
    """
    return (switching_weight + service_weight) * leverage


def cost_of_complying(compliance_cost: float, alignment_with_coercer: float) -> float:
    """What conceding costs: ``compliance_cost * (1 - alignment)``, alignment in [-1, 1].

    >>> cost_of_complying(2.0, -0.5)
    3.0
    """
    return compliance_cost * (1.0 - alignment_with_coercer)


def compliance_probability(cost_defying: float, cost_complying: float, scale: float) -> float:
    """Logit chance of complying: ``1 / (1 + exp(-(D - C) / scale))``.

    >>> compliance_probability(2.0, 2.0, 1.0)
    0.5
    """
    gap = (cost_defying - cost_complying) / scale
    if gap < -500.0:
        return 0.0
    return 1.0 / (1.0 + math.exp(-gap))


def chance_compliance_probability(propensity: float, leverage: float, dependence: float) -> float:
    """The old rule (kept as a switch): ``min(1, propensity * leverage * dependence)``.

    >>> chance_compliance_probability(1.0, 0.8, 0.5)
    0.4
    """
    return min(1.0, propensity * leverage * dependence)
