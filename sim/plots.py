"""Figures of a run: market shares with bands across replications, deals by group, leverage,
and a world map of the dominant provider.

Each function takes the run's tables and returns one matplotlib ``Figure`` (object API, no
pyplot state); ``write_figures`` saves them as PNGs; bands are the 5-95 % range across
replications and lines their mean. Margins are fixed per figure (``MARGINS``) rather than found
by ``tight_layout``, which draws every figure once more to measure its labels (about a third of
the time of the figures).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from sim.figures import subplots
from sim.palette import provider_colour, state_colour
from sim.schema import FH_STATUSES, REGIONS
from sim.worldmap import dominant_label, draw_dominance_map

MARGINS = {
    "two_panels": {"left": 0.06, "right": 0.99, "bottom": 0.13, "top": 0.92, "wspace": 0.12},
    "two_panels_apart": {"left": 0.06, "right": 0.99, "bottom": 0.13, "top": 0.92,
                         "wspace": 0.18},
    "bars": {"left": 0.09, "right": 0.99, "bottom": 0.08, "top": 0.92},
    "map": {"left": 0.01, "right": 0.99, "bottom": 0.08, "top": 0.94},
}
"""Subplot margins (fractions of the figure) that fit each figure's titles, labels and legends."""


def _band(axis, yearly: pd.DataFrame, column: str, label: str, colour: str) -> None:
    by_year = yearly.groupby("year")[column]
    mean = by_year.mean()
    axis.plot(mean.index, mean.values, color=colour, label=label, linewidth=2)
    if yearly["replication"].nunique() > 1:
        axis.fill_between(mean.index, by_year.quantile(0.05).values,
                          by_year.quantile(0.95).values, color=colour, alpha=0.2, linewidth=0)


def plot_market_share(yearly: pd.DataFrame, providers: list[str]) -> Figure:
    """Share of new contracts and of the installed base, by provider, over time."""
    figure, axes = subplots(1, 2, figsize=(11, 4.2), sharey=True)
    for index, name in enumerate(providers):
        colour = provider_colour(name, index)
        _band(axes[0], yearly, f"share_new_{name}", name, colour)
        _band(axes[1], yearly, f"installed_share_{name}", name, colour)
    axes[0].set_title("Share of new contracts")
    axes[1].set_title("Share of installed base (contract value)")
    for axis in axes:
        axis.set_xlabel("year")
        axis.set_ylim(0, 1)
        axis.grid(alpha=0.3)
    axes[0].set_ylabel("share")
    axes[1].legend(loc="upper right", fontsize=8)
    figure.subplots_adjust(**MARGINS["two_panels"])
    return _noted(figure, yearly)


def plot_deals_by_group(contracts: pd.DataFrame, providers: list[str], column: str,
                        order: tuple[str, ...], title: str, replications: int) -> Figure:
    """Contracts per replication by group (region or Freedom House status) and provider."""
    counts = (contracts.groupby([column, "provider"]).size().unstack(fill_value=0)
              .reindex(index=list(order), columns=providers, fill_value=0)) / replications
    figure, axis = subplots(figsize=(8, 4.2))
    bottom = pd.Series(0.0, index=counts.index)
    for index, name in enumerate(providers):
        axis.bar(counts.index, counts[name], bottom=bottom, label=name,
                 color=provider_colour(name, index))
        bottom += counts[name]
    axis.set_title(title)
    axis.set_ylabel("contracts per replication")
    axis.legend(fontsize=8)
    axis.grid(axis="y", alpha=0.3)
    figure.subplots_adjust(**MARGINS["bars"])
    return figure


def plot_leverage(yearly: pd.DataFrame, states: list[str]) -> Figure:
    """Each state's leverage index and the governments dependent on it, over time."""
    figure, axes = subplots(1, 2, figsize=(11, 4.2))
    for index, name in enumerate(states):
        colour = state_colour(name, index)
        _band(axes[0], yearly, f"leverage_{name}", name, colour)
        _band(axes[1], yearly, f"dependent_{name}", name, colour)
    axes[0].set_title("Leverage index (share of sensitive workloads)")
    axes[0].set_ylim(0, 1)
    axes[1].set_title("Governments dependent on the state")
    for axis in axes:
        axis.set_xlabel("year")
        axis.grid(alpha=0.3)
        axis.legend(fontsize=8)
    figure.subplots_adjust(**MARGINS["two_panels_apart"])
    return _noted(figure, yearly)


def plot_world_map(contracts: pd.DataFrame, providers: list[str],
                   centroids: dict[str, tuple[float, float]],
                   blocs: dict[str, str] | None = None) -> Figure:
    """Each country coloured by its dominant provider over the run.

    In each replication a country's dominant provider is the one awarded the most contract
    value there over the whole run, or "no bloc dominates" if, with ``blocs`` (state -> bloc),
    no bloc's providers won a majority of it; the map shows the label of most replications.
    """
    value = contracts.groupby(["replication", "country", "provider"])["value_usd_m"].sum()
    if blocs:
        bloc_of = {provider: blocs[state] for provider, state
                   in zip(contracts["provider"], contracts["provider_state"], strict=True)}
        leaders = value.groupby(["replication", "country"]).agg(
            lambda amounts: dominant_label(dict(zip(amounts.index.get_level_values("provider"),
                                                    amounts, strict=True)), bloc_of))
    else:
        leaders = value.groupby(["replication", "country"]).idxmax().map(lambda key: key[2])
    # The most frequent leader; on a tie, the one that leads first (as value_counts orders).
    dominant = {country: Counter(names).most_common(1)[0][0]
                for country, names in leaders.groupby("country")}
    figure, axes = subplots(figsize=(10, 5.4))
    handles = draw_dominance_map(axes, dominant, providers, centroids)
    start, end = int(contracts["year"].min()), int(contracts["year"].max())
    axes.set_title(f"Dominant provider by country, contracts {start}-{end} (most value, or no "
                   "bloc with a majority; the label of most replications)", fontsize=10)
    figure.legend(handles=handles, loc="lower center", ncols=(len(handles) + 1) // 2,
                  fontsize=8, frameon=False)
    figure.subplots_adjust(**MARGINS["map"])
    return figure


def _noted(figure: Figure, yearly: pd.DataFrame) -> Figure:
    """The figure with a note of what its lines and bands are."""
    replications = yearly["replication"].nunique()
    note = f"mean of {replications} replications" + (", band 5-95 %" if replications > 1 else "")
    figure.text(0.99, 0.01, note, ha="right", va="bottom", fontsize=7, color="0.4")
    return figure


def write_figures(folder: Path, contracts: pd.DataFrame, yearly: pd.DataFrame,
                  providers: list[str], states: list[str],
                  centroids: dict[str, tuple[float, float]],
                  blocs: dict[str, str] | None = None) -> None:
    """All the run's figures into ``folder`` (``blocs``: state -> bloc, for the map)."""
    folder.mkdir()
    replications = int(yearly["replication"].nunique())
    figures = {
        "market_share": plot_market_share(yearly, providers),
        "deals_by_region": plot_deals_by_group(contracts, providers, "region", REGIONS,
                                               "Contracts by region", replications),
        "deals_by_freedom_status": plot_deals_by_group(
            contracts, providers, "fh_status", FH_STATUSES, "Contracts by Freedom House status",
            replications),
        "leverage": plot_leverage(yearly, states),
    }
    if len(contracts):
        figures["world_map"] = plot_world_map(contracts, providers, centroids, blocs)
    for name, figure in figures.items():
        figure.savefig(folder / f"{name}.png", dpi=110)
