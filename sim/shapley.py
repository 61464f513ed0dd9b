"""Shapley values of a cooperative game: exact, and by sampling permutations.

A game has ``k`` players numbered ``0 .. k-1``; a coalition is a bit mask (player ``i`` is in the
coalition when bit ``i`` is set) and the game's value function is a mapping from masks to values.
Values may be numbers or numpy arrays of one shape (for instance replications x outcomes), so one
pass computes the Shapley values of many games that share their coalitions.

The Shapley value of player ``i`` (Shapley 1953) is its marginal contribution averaged over every
order in which the players can join:

    phi_i = sum over S not containing i of |S|! (k - |S| - 1)! / k! * (v(S + i) - v(S)).

``exact_shapley`` evaluates this over all ``2^k`` coalitions. ``permutation_shapley`` is the
estimator of Castro, Gomez & Tejada (2009, Computers & Operations Research 36(5), 1726-1730):
the mean of the marginal contributions along ``m`` sampled orders, which needs at most
``m (k - 1) + 2`` distinct coalitions. Both are efficient by construction: the values sum to
``v(all) - v(none)`` (along every order the marginal contributions telescope). Sampled orders
can come in antithetic pairs (an order and its reverse), which lowers the estimator's variance
(Mitchell, Cooper, Frank & Holmes 2022, JMLR 23(43)).
"""

from __future__ import annotations

from collections.abc import Mapping
from math import factorial

import numpy as np


def full_coalition(players: int) -> int:
    """The mask of the coalition of every player."""
    return (1 << players) - 1


def all_coalitions(players: int) -> list[int]:
    """Every coalition's mask, ``0 .. 2^k - 1``."""
    return list(range(1 << players))


def exact_shapley(players: int, values: Mapping[int, np.ndarray | float]) -> np.ndarray:
    """Exact Shapley values from the value of every coalition; shape ``(k, *value shape)``."""
    weights = [
        factorial(size) * factorial(players - size - 1) / factorial(players)
        for size in range(players)
    ]
    result = []
    for player in range(players):
        bit = 1 << player
        total = 0.0
        for coalition in range(1 << players):
            if coalition & bit:
                continue
            size = coalition.bit_count()
            total = total + weights[size] * (
                np.asarray(values[coalition | bit]) - np.asarray(values[coalition])
            )
        result.append(total)
    return np.array(result, dtype=float)


def sample_permutations(
    players: int, count: int, rng: np.random.Generator, antithetic: bool = True
) -> np.ndarray:
    """``count`` orders of the players, one per row; with ``antithetic`` every second row is the
    reverse of the row before it (``count`` is then rounded up to an even number)."""
    if antithetic:
        halves = rng.permuted(np.tile(np.arange(players), ((count + 1) // 2, 1)), axis=1)
        return np.stack([halves, halves[:, ::-1]], axis=1).reshape(-1, players)
    return rng.permuted(np.tile(np.arange(players), (count, 1)), axis=1)


def permutation_coalitions(permutations: np.ndarray) -> list[int]:
    """The distinct coalitions (masks) the estimator needs for these orders, sorted."""
    needed = {0}
    for order in permutations:
        coalition = 0
        for player in order:
            coalition |= 1 << int(player)
            needed.add(coalition)
    return sorted(needed)


def marginal_contributions(
    permutations: np.ndarray, values: Mapping[int, np.ndarray | float]
) -> np.ndarray:
    """Each player's marginal contribution along each order; shape ``(m, k, *value shape)``."""
    players = permutations.shape[1]
    shape = np.shape(values[0])
    contributions = np.empty((len(permutations), players, *shape))
    for row, order in enumerate(permutations):
        coalition = 0
        for player in order:
            joined = coalition | (1 << int(player))
            contributions[row, int(player)] = np.asarray(values[joined]) - np.asarray(
                values[coalition]
            )
            coalition = joined
    return contributions


def permutation_shapley(
    permutations: np.ndarray, values: Mapping[int, np.ndarray | float]
) -> np.ndarray:
    """Castro et al.'s estimate: the mean marginal contribution over the sampled orders."""
    return marginal_contributions(permutations, values).mean(axis=0)


def permutation_standard_error(
    permutations: np.ndarray, values: Mapping[int, np.ndarray | float], antithetic: bool = True
) -> np.ndarray:
    """Standard error of ``permutation_shapley`` from the sampling of orders.

    With antithetic pairs the pair means are the independent draws. Zero when the orders are
    all of them (or the game is additive).
    """
    contributions = marginal_contributions(permutations, values)
    if antithetic:
        contributions = contributions.reshape(-1, 2, *contributions.shape[1:]).mean(axis=1)
    draws = len(contributions)
    if draws < 2:
        return np.full(contributions.shape[1:], np.nan)
    return contributions.std(axis=0, ddof=1) / np.sqrt(draws)


def one_at_a_time(players: int, values: Mapping[int, np.ndarray | float]) -> np.ndarray:
    """Change from the full coalition when each player alone leaves it: ``v(all - i) - v(all)``."""
    full = full_coalition(players)
    return np.array(
        [
            np.asarray(values[full & ~(1 << player)]) - np.asarray(values[full])
            for player in range(players)
        ],
        dtype=float,
    )


def bootstrap_mean_interval(
    samples: np.ndarray, draws: int, rng: np.random.Generator, level: float = 0.9
) -> tuple[np.ndarray, np.ndarray]:
    """Percentile bootstrap interval of the mean over the first axis (Efron & Tibshirani 1993).

    ``samples`` has one row per independent draw (here: a replication); rows with a missing
    value are left out column by column. Returns the lower and upper bounds, shape
    ``samples.shape[1:]``.
    """
    samples = np.asarray(samples, dtype=float)
    count = len(samples)
    picks = rng.integers(0, count, size=(draws, count))
    means = np.nanmean(samples[picks], axis=1)
    tail = (1.0 - level) / 2.0
    return np.nanquantile(means, tail, axis=0), np.nanquantile(means, 1.0 - tail, axis=0)


def coalition_members(coalition: int, players: int) -> list[int]:
    """The players of a coalition, in order."""
    return [player for player in range(players) if coalition >> player & 1]
