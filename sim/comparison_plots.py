"""Figures of a comparison: trajectories side by side, and differences with intervals."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sim.comparison import HEADLINES
from sim.figures import subplots


def plot_trajectories(trajectories: pd.DataFrame, states: list[str], path: Path) -> None:
    """Each state's share of new contracts and leverage over time, one line per scenario."""
    figure, axes = subplots(len(states), 2, figsize=(12, 3.6 * len(states)), squeeze=False)
    scenarios = list(dict.fromkeys(trajectories["scenario"]))
    for row, state in enumerate(states):
        for column, (prefix, title) in enumerate(
                (("share_new_state_", "share of new contracts"), ("leverage_", "leverage index"))):
            axis = axes[row][column]
            for index, scenario in enumerate(scenarios):
                mean = trajectories[trajectories["scenario"] == scenario].groupby("year")[
                    f"{prefix}{state}"].mean()
                axis.plot(mean.index, mean.values, label=scenario, color=f"C{index % 10}",
                          linewidth=2.2 if index == 0 else 1.2)
            axis.set_title(f"{state}: {title}", fontsize=9)
            axis.set_ylim(0, 1)
            axis.axvline(2022, color="0.6", linewidth=0.8, linestyle=":")
            axis.grid(alpha=0.3)
    axes[0][1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0))
    figure.tight_layout()
    figure.savefig(path, dpi=100, bbox_inches="tight")


def plot_differences(differences: pd.DataFrame, path: Path) -> None:
    """Forest plot, one panel per outcome: each scenario's mean paired difference from the base,
    the 90 % confidence interval of that mean (chance only, thick) and, when the run has
    posterior members or structures, the 90 % predictive interval across them (thin)."""
    outcomes = [o for o in HEADLINES if o in set(differences["outcome"])][:6]
    scenarios = list(dict.fromkeys(differences["scenario"]))
    columns = 2
    rows_count = int(np.ceil(len(outcomes) / columns))
    figure, axes = subplots(rows_count, columns, figsize=(8.3, (0.28 * len(scenarios) + 1.2)
                                                              * rows_count),
                                sharey=True, squeeze=False)
    positions = np.arange(len(scenarios))
    for axis, outcome in zip(axes.flat, outcomes, strict=False):
        rows = differences[differences["outcome"] == outcome].set_index("scenario").reindex(
            scenarios)
        predictive = rows["predictive_p05_parameters_structure"]
        if predictive.notna().any():
            axis.hlines(positions, predictive, rows["predictive_p95_parameters_structure"],
                        color="#8ab17d", linewidth=1.2,
                        label="90 % predictive interval (parameters + structure)")
        axis.hlines(positions, rows["mean_ci90_low_chance"], rows["mean_ci90_high_chance"],
                    color="#264653", linewidth=4, label="90 % CI of the mean (chance)")
        axis.plot(rows["difference"], positions, "o", color="#e9c46a", markersize=4,
                  markeredgecolor="#264653", label="mean difference")
        axis.axvline(0, color="0.5", linewidth=0.8)
        axis.set_title(HEADLINES[outcome], fontsize=8)
        axis.tick_params(labelsize=7)
        axis.grid(axis="x", alpha=0.3)
    for axis in list(axes.flat)[len(outcomes):]:
        axis.axis("off")
    axes[0][0].set_yticks(positions, scenarios, fontsize=7)
    axes[0][0].invert_yaxis()
    handles, labels = axes[0][0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="lower center", ncol=3, fontsize=7, frameon=False)
    figure.suptitle("Paired difference from the base, 2022-2035 (units in each title)",
                    fontsize=9)
    figure.tight_layout(rect=(0, 0.05, 1, 1))
    figure.savefig(path, dpi=150)
