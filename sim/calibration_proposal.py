"""The ABC-SMC proposal: a learned kernel where the record teaches, the prior elsewhere.

Why not one multivariate normal kernel for every free parameter. pyabc weighs an accepted
particle by ``prior(theta) / q(theta)``, ``q`` the kernel mixture fitted to the previous
generation. Where the record does not constrain a parameter its posterior stays flat on the
prior box, but a Gaussian kernel mixture is not flat: it piles its mass near the particles'
centre and thins out towards the box's edges. The log of a ``d``-dimensional Gaussian density
at its own draws varies with variance ``d / 2``, so the weights are roughly log-normal with that
variance and the effective sample size falls like ``n * exp(-d / 2)``: with 13 free parameters
the trial run's ESS fell 100 -> 23 -> 2 -> 3 (docs/calibration.md); with the ~130 that Model 2.0
frees, a Gaussian kernel over all of them would leave one particle carrying the posterior.

What is done instead (an importance-sampling proposal, valid for any proposal that covers the
prior's support; Toni et al. 2009, eq. 3):

- **Screening.** Before the ABC-SMC run, ``screening_simulations`` parameter vectors are drawn
  from the prior and run once each; a parameter is *learned* when the absolute Spearman
  correlation of its value with at least one calibration statistic reaches
  ``screening_min_correlation`` (with ``n`` draws a correlation that is pure noise has standard
  deviation ``1 / sqrt(n - 1)``; the threshold is set well above the largest of the
  parameters x statistics noise correlations). The table is written to the results
  (``screening.csv``) and the chosen list is stored in pyabc's database, so ``--resume`` uses it.
- **Proposal.** pyabc's ``AggregatedTransition``: the learned parameters move together by a
  multivariate normal (or local) kernel fitted to the last generation; every other parameter is
  drawn afresh from its uniform prior (``PriorTransition``). The proposal density factorises, so
  the prior-drawn block cancels from the weight exactly (``prior / prior = 1``): the weights
  vary only through the learned block. The prior-drawn parameters are still inferred (a value
  that spoils the fit is rejected, so their weighted posterior is correct), only not
  efficiently: that is the price of not learning them, and the report shows their posterior
  width beside the learned ones'.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyabc
from pyabc.transition import Transition
from scipy.stats import spearmanr

from sim.runner import replication_seeds, run_tasks


class PriorTransition(Transition):
    """Proposes parameters from their independent uniform priors, ignoring the particles."""

    def __init__(self, bounds: dict[str, tuple[float, float]]) -> None:
        self.bounds = bounds

    def fit(self, X: pd.DataFrame, w: np.ndarray) -> None:  # noqa: N803 (pyabc's signature)
        """Nothing to fit: the proposal is the prior."""

    def rvs_single(self) -> pyabc.Parameter:
        """One draw from the uniform priors (numpy's global state, seeded per pyabc job)."""
        return pyabc.Parameter(
            {key: np.random.uniform(low, high) for key, (low, high) in self.bounds.items()}
        )

    def pdf(self, x: pyabc.Parameter | pd.Series | pd.DataFrame) -> float | np.ndarray:
        """The product of the uniform densities (0 outside the box)."""
        frame = pd.DataFrame([dict(x)]) if not isinstance(x, pd.DataFrame) else x
        density = np.ones(len(frame))
        for key, (low, high) in self.bounds.items():
            values = frame[key].to_numpy(dtype=float)
            density *= np.where((values >= low) & (values <= high), 1.0 / (high - low), 0.0)
        return density if isinstance(x, pd.DataFrame) else float(density[0])


def make_transition(
    bounds: dict[str, tuple[float, float]], learned: list[str], kind: str, scaling: float
) -> Transition:
    """The learned block's kernel and the prior for every other parameter."""
    kernel = (
        pyabc.LocalTransition(scaling=scaling)
        if kind == "local"
        else pyabc.MultivariateNormalTransition(scaling=scaling)
    )
    rest = [key for key in bounds if key not in learned]
    if not rest:
        return kernel
    mapping: dict[tuple[str, ...], Transition] = {
        tuple(rest): PriorTransition({key: bounds[key] for key in rest})
    }
    if learned:
        mapping[tuple(learned)] = kernel
    return pyabc.AggregatedTransition(mapping)


def screening_table(
    draws: pd.DataFrame, statistics: pd.DataFrame, min_correlation: float
) -> pd.DataFrame:
    """Per parameter: its largest absolute Spearman correlation with a statistic, which
    statistic, and whether it reaches ``min_correlation`` (learned)."""
    rows = []
    for key in draws.columns:
        correlations = {}
        for name in statistics.columns:
            column = statistics[name].to_numpy(dtype=float)
            if np.ptp(column) == 0:
                continue
            rho = spearmanr(draws[key].to_numpy(dtype=float), column).statistic
            correlations[name] = 0.0 if np.isnan(rho) else abs(float(rho))
        statistic = max(correlations, key=correlations.get) if correlations else ""
        strongest = correlations.get(statistic, 0.0)
        rows.append(
            {
                "parameter": key,
                "max_abs_spearman": strongest,
                "statistic": statistic,
                "learned": strongest >= min_correlation,
            }
        )
    return pd.DataFrame(rows).sort_values("max_abs_spearman", ascending=False, ignore_index=True)


def screen(
    simulator,
    bounds: dict[str, tuple[float, float]],
    simulations: int,
    min_correlation: float,
    seed: int,
    workers: int,
    progress: bool,
) -> pd.DataFrame:
    """Run ``simulations`` prior draws once each and tabulate which parameters to learn."""
    from sim.calibration import score_run, summary_statistics

    rng = np.random.default_rng(seed)
    draws = pd.DataFrame(
        {key: rng.uniform(low, high, simulations) for key, (low, high) in bounds.items()}
    )
    seeds = replication_seeds(seed, simulations)
    tasks = [
        (simulator.settings(row), run_seed, simulator.targets)
        for row, run_seed in zip(draws.to_dict("records"), seeds, strict=True)
    ]
    outcomes = run_tasks(tasks, workers, progress, "screening", function=score_run)
    statistics = pd.DataFrame([summary_statistics(o, simulator.targets) for o in outcomes])
    return screening_table(draws, statistics, min_correlation)
