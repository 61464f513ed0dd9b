"""Entry into a tender: a bid-preparation cost drawn per tender and provider (Levin & Smith 1994).

In Levin & Smith's ("Equilibrium in Auctions with Entry", American Economic Review 84(3), 1994)
model of procurement with entry, a potential bidder pays a cost to prepare a bid and enters when
its expected profit from the auction covers that cost. Here the cost is private and drawn per
tender and provider (as in Samuelson 1985 and the empirical entry models that follow, e.g. Li &
Zheng 2009, Econometrica 77(6)), log-normal with mean ``scale`` and log-sd ``dispersion``:

    K = scale * exp(dispersion * z - dispersion^2 / 2),   z ~ N(0, 1)

and the provider bids when the value of entering, its expected margin plus its home state's
strategic value (``V = P(win) * (markup + strategic share) * cost``, US$ m), beats ``K``. So the
chance of entering is

    P(enter) = Phi((ln(V / scale) + dispersion^2 / 2) / dispersion)

which lies strictly between 0 and 1 for every positive ``V``: no market is closed by a constant,
and the chance moves with everything that moves ``V`` (beliefs, tender value, presence, strategic
value) and the scale (country risk, risk appetite, barrier removal).

The scale of the bid-preparation cost rises with the market's risk (due diligence, payment
guarantees, local partners) and falls with the home state's removal of regulatory barriers:

    scale = bid_cost * (1 - barrier_removal) * (1 + risk_weight * country_risk * (1 - appetite))
"""

from __future__ import annotations

import math

from scipy.special import ndtr


def bid_cost_scale(
    bid_cost: float,
    barrier_removal: float,
    risk_weight: float,
    country_risk: float,
    risk_appetite: float,
) -> float:
    """Mean bid-preparation cost (US$ m) of one provider in one market (module docstring).

    >>> bid_cost_scale(0.6, 0.0, 2.0, 1.0, 0.5)
    1.2
    """
    return (
        bid_cost
        * (1.0 - barrier_removal)
        * (1.0 + risk_weight * country_risk * (1.0 - risk_appetite))
    )


def bid_cost_draw(scale: float, dispersion: float, z: float) -> float:
    """A bid-preparation cost: log-normal with mean ``scale``, log-sd ``dispersion``, at ``z``.

    >>> round(bid_cost_draw(1.0, 1.0, 0.5), 4)
    1.0
    """
    return scale * math.exp(dispersion * z - dispersion * dispersion / 2.0)


def entry_probability(entry_value: float, scale: float, dispersion: float) -> float:
    """Chance that a bid-preparation cost drawn at ``scale`` is below ``entry_value``.

    >>> round(entry_probability(1.0, 1.0, 1.0), 4)
    0.6915
    """
    if entry_value <= 0.0:
        return 0.0
    if scale <= 0.0:
        return 1.0
    return float(ndtr((math.log(entry_value / scale) + dispersion * dispersion / 2.0) / dispersion))


def enters(entry_value: float, scale: float, dispersion: float, z: float) -> bool:
    """Whether a provider whose entry value is ``entry_value`` bids, at cost draw ``z``."""
    return entry_value > bid_cost_draw(scale, dispersion, z)


def enters_knife_edge(
    expected_value_share: float, bid_cost: float, cost: float, risk_premium: float
) -> bool:
    """The old fixed rule (kept as a switch): bid when ``EV > bid_cost / cost + risk premium``.

    ``expected_value_share`` and the premium are in units of the bid's cost; a market whose
    premium exceeds every provider's expected value is closed to it whatever happens.
    """
    return expected_value_share > bid_cost / cost + risk_premium
