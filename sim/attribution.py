"""What each state lever and mechanism explains: a Shapley decomposition under common seeds.

The players are the switches of ``sim.levers`` present in the scenario (one per state and lever,
``"China financing"``, ``"US financing"``, ..., and the non-state mechanisms). The value of a
coalition ``S`` is an outcome of the scenario with the switches in ``S`` on and every other one
off, run on the same replication seeds as every other coalition (common random numbers), so
every difference between coalitions is paired replication by replication. A switch's Shapley
value is what it adds to the outcome, averaged over the orders in which the switches could be
turned on (``sim.shapley``); the values sum to the outcome as the scenario stands minus the
outcome with everything off. Beside it the command reports the leave-one-out contribution,
``v(all) - v(all but the switch)``: what is lost when that switch alone is turned off (Turchin
et al. 2013, PNAS 110(41): take a mechanism out and see what is lost). The two differ by the
switch's interactions with the others.

With few switches every coalition is run and the decomposition is exact; otherwise orders are
sampled (Castro, Gomez & Tejada 2009), in antithetic pairs, and each coalition is run once for
all replications (a cache keyed by coalition). The same orders serve every replication, so each
replication has its own Shapley values; the interval is a percentile bootstrap over
replications of the mean Shapley value (chance only, given the sampled orders), and the
standard error of the order sampling is reported separately.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim import shapley
from sim.calibration import load_scenario_values
from sim.comparison import FUTURE
from sim.figures import subplots
from sim.levers import (
    MECHANISMS,
    STATE_LEVERS,
    Switch,
    discover_switches,
    lever_off_everywhere,
    switched_off,
)
from sim.schema import ScenarioFile
from sim.validation import TargetSet, record_outcomes

SWITCH_OFF = {
    lever: partial(lever_off_everywhere, lever=lever) for lever in (*STATE_LEVERS, *MECHANISMS)
}
"""Lever or mechanism name -> function giving the overrides that switch it off in a scenario
for every state that uses it (for callers that switch a lever off everywhere)."""

FUTURE_OUTCOMES = {
    "share_huawei_all": f"Huawei's share of new contracts {FUTURE[0]}-{FUTURE[1]} (%)",
    "share_china_all": f"Chinese providers' share of new contracts {FUTURE[0]}-{FUTURE[1]} (%)",
    "share_us_all": f"US providers' share of new contracts {FUTURE[0]}-{FUTURE[1]} (%)",
}
"""Outcomes beyond the validated ones: shares of new contracts in the projection window."""

EXACT_UP_TO = 6
"""Up to this many switches every coalition is run (2^6 = 64) and the values are exact."""

BOOTSTRAP_DRAWS = 2000
INTERVAL_LEVEL = 0.9


@dataclass(frozen=True)
class Design:
    """Which coalitions to run: the switches, the method and (if sampled) the orders."""

    switches: list[Switch]
    method: str
    permutations: np.ndarray | None
    coalitions: list[int]


@dataclass
class AttributionResult:
    """The decomposition: a long table, per-coalition means, and how it was computed."""

    table: pd.DataFrame
    coalitions: pd.DataFrame
    design: Design
    replications: int


def plan(switches: list[Switch], permutations: int, seed: int) -> Design:
    """Exact over all coalitions for few switches, else ``permutations`` sampled orders (in
    antithetic pairs); the leave-one-out coalitions are always included."""
    players = len(switches)
    full = shapley.full_coalition(players)
    leave_one_out = {full & ~(1 << player) for player in range(players)}
    if players <= EXACT_UP_TO:
        return Design(switches, "exact", None, shapley.all_coalitions(players))
    orders = shapley.sample_permutations(players, permutations, np.random.default_rng(seed))
    needed = set(shapley.permutation_coalitions(orders)) | leave_one_out
    return Design(switches, "permutation sampling", orders, sorted(needed))


def coalition_scenario(
    settings: ScenarioFile, switches: list[Switch], coalition: int
) -> ScenarioFile:
    """The scenario with the switches of ``coalition`` on and every other switch off."""
    off = [switch for index, switch in enumerate(switches) if not coalition >> index & 1]
    return load_scenario_values(settings, switched_off(off)) if off else settings


def future_shares(contracts: pd.DataFrame, window: tuple[int, int] = FUTURE) -> dict[str, float]:
    """Shares (%) of new contracts in ``window`` won by Huawei, Chinese and US providers."""
    new = contracts[(contracts["year"] >= window[0]) & (contracts["year"] <= window[1])]
    if new.empty:
        return dict.fromkeys(FUTURE_OUTCOMES, np.nan)
    return {
        "share_huawei_all": 100.0 * float((new["provider"] == "Huawei").mean()),
        "share_china_all": 100.0 * float((new["provider_state"] == "China").mean()),
        "share_us_all": 100.0 * float((new["provider_state"] == "US").mean()),
    }


def coalition_outcomes(task: tuple[ScenarioFile, int, int, int, TargetSet]) -> dict[str, Any]:
    """One replication of one coalition: validated outcomes and future shares (a module-level
    function, so worker processes can run it)."""
    from sim.runner import run_replication

    settings, coalition, replication, seed, targets = task
    contracts = run_replication(settings, replication, seed).contracts
    return {
        "coalition": coalition,
        "replication": replication,
        **record_outcomes(contracts, targets),
        **future_shares(contracts),
    }


def outcome_labels(targets: TargetSet) -> dict[str, str]:
    """Every decomposed outcome with its label, validated ones first."""
    return {**{t.outcome: t.label for t in targets.targets}, **FUTURE_OUTCOMES}


def attribute(
    settings: ScenarioFile,
    seeds: list[int],
    targets: TargetSet,
    permutations: int = 16,
    run: Any = None,
    order_seed: int = 0,
) -> AttributionResult:
    """Decompose each outcome over the scenario's switches.

    ``run(tasks)`` runs the tasks of ``coalition_outcomes`` and returns their results in order
    (e.g. ``sim.runner.run_tasks`` with workers); by default they run here, one after another.
    """
    switches = discover_switches(settings)
    if not switches:
        raise ValueError("the scenario has no lever or mechanism switched on to attribute")
    design = plan(switches, permutations, order_seed)
    tasks = [
        (coalition_scenario(settings, switches, coalition), coalition, replication, seed, targets)
        for coalition in design.coalitions
        for replication, seed in enumerate(seeds)
    ]
    results = run(tasks) if run is not None else [coalition_outcomes(task) for task in tasks]
    runs = pd.DataFrame(results)
    labels = outcome_labels(targets)
    means = runs.groupby("coalition")[list(labels)].mean()
    names = [switch.name for switch in switches]
    means.insert(
        0,
        "switches_on",
        [
            "; ".join(names[i] for i in shapley.coalition_members(int(c), len(names)))
            for c in means.index
        ],
    )
    return AttributionResult(decompose(runs, design, labels, targets), means, design, len(seeds))


def coalition_values(runs: pd.DataFrame, outcomes: list[str]) -> dict[int, np.ndarray]:
    """Coalition -> array (replications x outcomes), replications in order."""
    return {
        int(coalition): table.sort_values("replication")[outcomes].to_numpy(dtype=float)
        for coalition, table in runs.groupby("coalition")
    }


def decompose(
    runs: pd.DataFrame, design: Design, labels: dict[str, str], targets: TargetSet
) -> pd.DataFrame:
    """The long table: per switch and outcome, the Shapley value and the leave-one-out
    contribution (replication means), their bootstrap intervals, and the sampling error."""
    with warnings.catch_warnings():
        # An outcome missing in every replication (e.g. shares of 2022-2035 in a run that ends
        # earlier) has no mean: it stays missing, without a warning per cell.
        warnings.simplefilter("ignore", RuntimeWarning)
        return _decompose(runs, design, labels, targets)


def _decompose(
    runs: pd.DataFrame, design: Design, labels: dict[str, str], targets: TargetSet
) -> pd.DataFrame:
    outcomes = list(labels)
    values = coalition_values(runs, outcomes)
    # A replication in which an outcome is undefined in any coalition (e.g. a share of no deals)
    # is left out of that outcome everywhere, so every coalition's mean is over the same
    # replications and the Shapley values still add up to all-on minus all-off.
    undefined = np.any([np.isnan(array) for array in values.values()], axis=0)
    values = {coalition: np.where(undefined, np.nan, array) for coalition, array in values.items()}
    players = len(design.switches)
    full = shapley.full_coalition(players)
    if design.method == "exact":
        per_replication = shapley.exact_shapley(players, values)
        sampling_error = np.zeros((players, len(outcomes)))
    else:
        per_replication = shapley.permutation_shapley(design.permutations, values)
        means = {coalition: np.nanmean(array, axis=0) for coalition, array in values.items()}
        sampling_error = shapley.permutation_standard_error(design.permutations, means)
    leave_one_out = -shapley.one_at_a_time(players, values)
    rng = np.random.default_rng(0)
    bands = {t.outcome: t.band for t in targets.targets}
    estimates = {}
    for name, samples in (("shapley", per_replication), ("leave_one_out", leave_one_out)):
        by_replication = np.moveaxis(samples, 1, 0)  # replications x switches x outcomes
        low, high = shapley.bootstrap_mean_interval(
            by_replication, BOOTSTRAP_DRAWS, rng, INTERVAL_LEVEL
        )
        estimates[name] = (np.nanmean(by_replication, axis=0), low, high)
    rows = []
    for player, switch in enumerate(design.switches):
        for column, outcome in enumerate(outcomes):
            rows.append(
                {
                    "switch": switch.name,
                    "state": switch.state or "",
                    "lever": switch.lever,
                    "outcome": outcome,
                    "label": labels[outcome],
                    "band": bands.get(outcome, np.nan),
                    "all_on_mean": float(np.nanmean(values[full][:, column])),
                    "all_off_mean": float(np.nanmean(values[0][:, column])),
                    **{
                        f"{name}{suffix}": float(array[player, column])
                        for name, (mean, low, high) in estimates.items()
                        for suffix, array in (("", mean), ("_p05", low), ("_p95", high))
                    },
                    "permutation_se": float(sampling_error[player, column]),
                }
            )
    return pd.DataFrame(rows)


def uncertainty_label(result: AttributionResult) -> str:
    """What the intervals are, in words."""
    design = result.design
    method = (
        "exact (every coalition run)"
        if design.method == "exact"
        else f"estimated from {len(design.permutations)} sampled orders of the switches "
        f"(antithetic pairs; Castro, Gomez & Tejada 2009), "
        f"{len(design.coalitions)} distinct coalitions"
    )
    return (
        f"{len(design.switches)} switches; Shapley values {method}; each coalition run on "
        f"the same {result.replications} replication seeds. Brackets: 90 % percentile "
        f"bootstrap interval over replications of the mean (chance only, given the "
        "sampled orders); `permutation_se`: standard error from sampling the orders."
    )


def plot_attribution(table: pd.DataFrame, path: Path) -> None:
    """Heat map of the Shapley values: switches by outcomes, each column scaled to its largest
    absolute value (cells print the value). Purple-orange, not the providers' red and blue."""
    order = list(dict.fromkeys(table["label"]))
    switches = list(dict.fromkeys(table["switch"]))
    raw = table.pivot(index="switch", columns="label", values="shapley").loc[switches, order]
    scale = raw.abs().max().replace(0.0, 1.0)
    grid = raw / scale
    figure, axis = subplots(figsize=(13, 0.5 * len(raw) + 2.6))
    image = axis.imshow(grid.to_numpy(), cmap="PuOr_r", vmin=-1, vmax=1, aspect="auto")
    axis.set_xticks(
        range(len(order)),
        [
            label.replace("% of deals in ", "% ").replace("share of new contracts", "share")
            for label in order
        ],
        rotation=30,
        ha="right",
        fontsize=8,
    )
    axis.set_yticks(range(len(raw)), raw.index)
    for row in range(raw.shape[0]):
        for column in range(raw.shape[1]):
            colour = "white" if abs(grid.iat[row, column]) > 0.6 else "black"
            axis.text(
                column,
                row,
                f"{raw.iat[row, column]:+.1f}",
                ha="center",
                va="center",
                fontsize=7,
                color=colour,
            )
    figure.colorbar(image, ax=axis, label="Shapley value / largest in its column")
    axis.set_title(
        "What each switch contributes (Shapley value, mean over replications): "
        "validated outcomes to April 2021 and shares of new contracts "
        f"{FUTURE[0]}-{FUTURE[1]}",
        fontsize=9,
    )
    figure.tight_layout()
    figure.savefig(path, dpi=110)
