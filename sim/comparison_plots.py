"""Figures of a comparison: trajectories side by side, and differences with intervals."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from sim.comparison import HEADLINES  # noqa: E402


def plot_trajectories(trajectories: pd.DataFrame, states: list[str], path: Path) -> None:
    """Each state's share of new contracts and leverage over time, one line per scenario."""
    figure, axes = plt.subplots(len(states), 2, figsize=(12, 3.6 * len(states)), squeeze=False)
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
    plt.close(figure)


def plot_differences(differences: pd.DataFrame, path: Path) -> None:
    """Forest plot: each scenario's paired difference from the base, with its 90 % interval."""
    outcomes = [o for o in HEADLINES if o in set(differences["outcome"])][:5]
    scenarios = list(dict.fromkeys(differences["scenario"]))
    figure, axes = plt.subplots(1, len(outcomes), figsize=(3.4 * len(outcomes),
                                                           0.4 * len(scenarios) + 1.6),
                                sharey=True, squeeze=False)
    for axis, outcome in zip(axes[0], outcomes, strict=True):
        rows = differences[differences["outcome"] == outcome].set_index("scenario").reindex(
            scenarios)
        positions = range(len(scenarios))
        axis.errorbar(rows["difference"], positions,
                      xerr=[rows["difference"] - rows["difference_p05"],
                            rows["difference_p95"] - rows["difference"]],
                      fmt="o", color="#264653", ecolor="#8ab17d", capsize=3)
        axis.axvline(0, color="0.5", linewidth=0.8)
        axis.set_title(HEADLINES[outcome], fontsize=8)
        axis.grid(axis="x", alpha=0.3)
    axes[0][0].set_yticks(range(len(scenarios)), scenarios, fontsize=8)
    axes[0][0].invert_yaxis()
    figure.suptitle("Paired difference from the base (dot: mean; bar: 90 % interval)",
                    fontsize=9)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
