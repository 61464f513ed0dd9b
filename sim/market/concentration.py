"""Market concentration, leverage and dependence as pure functions of shares."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping


def herfindahl_index(amounts: Iterable[float]) -> float:
    """Herfindahl-Hirschman index of market shares, on a 0-1 scale (1 = monopoly).

    ``HHI = sum_i s_i^2`` with ``s_i`` each participant's share of the total; 0 for an empty
    market. (Multiply by 10,000 for the antitrust convention.)

    >>> herfindahl_index([50.0, 50.0])
    0.5
    """
    values = list(amounts)
    total = sum(values)
    if total <= 0.0:
        return 0.0
    return sum((value / total) ** 2 for value in values)


def leverage_share(sensitive_by_state: Mapping[str, float], state: str) -> float:
    """A state's leverage over a government: its providers' share of the sensitive workloads.

    ``sensitive_by_state`` maps each home state to the sensitivity-weighted value of the
    government's active contracts held by that state's providers (Clayton, Maggiori & Schreger
    2023: leverage grows with the target's dependence on the state's inputs).

    >>> leverage_share({"China": 3.0, "US": 1.0}, "China")
    0.75
    """
    total = sum(sensitive_by_state.values())
    if total <= 0.0:
        return 0.0
    return sensitive_by_state.get(state, 0.0) / total


def dependence_index(ties: Iterable[float]) -> float:
    """Combine weighted ties (security, trade, debt, aid) into a dependence in [0, 1).

    ``1 - exp(-sum(ties))``: each tie adds to dependence with diminishing returns, so no single
    tie makes a government fully dependent.

    >>> round(dependence_index([0.5, 0.5]), 4)
    0.6321
    """
    return 1.0 - math.exp(-sum(ties))
