"""Figures of a run: market shares with bands across replications, deals by group, leverage,
and a world map of the dominant provider.

Each function takes the run's tables and returns one matplotlib ``Figure`` (object API, no
pyplot state); ``write_figures`` saves them as PNGs; bands are the 5-95 % range across
replications and lines their mean. Margins are fixed per figure (``MARGINS``) rather than found
by ``tight_layout``, which draws every figure once more to measure its labels (about a third of
the time of the figures).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from sim.figures import subplots
from sim.palette import provider_colour, state_colour
from sim.schema import FH_STATUSES, REGIONS
from sim.worldmap import dominance_by_country, draw_dominance_map

MARGINS = {
    "two_panels": {"left": 0.06, "right": 0.99, "bottom": 0.13, "top": 0.92, "wspace": 0.12},
    "two_panels_apart": {"left": 0.06, "right": 0.99, "bottom": 0.13, "top": 0.92, "wspace": 0.18},
    "bars": {"left": 0.09, "right": 0.99, "bottom": 0.08, "top": 0.92},
    "map": {"left": 0.01, "right": 0.99, "bottom": 0.12, "top": 0.94},
}
"""Subplot margins (fractions of the figure) that fit each figure's titles, labels and legends."""


def _band(axis, yearly: pd.DataFrame, column: str, label: str, colour: str) -> None:
    by_year = yearly.groupby("year")[column]
    mean = by_year.mean()
    axis.plot(mean.index, mean.values, color=colour, label=label, linewidth=2)
    if yearly["replication"].nunique() > 1:
        axis.fill_between(
            mean.index,
            by_year.quantile(0.05).values,
            by_year.quantile(0.95).values,
            color=colour,
            alpha=0.2,
            linewidth=0,
        )


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


def plot_deals_by_group(
    contracts: pd.DataFrame,
    providers: list[str],
    column: str,
    order: tuple[str, ...],
    title: str,
    replications: int,
) -> Figure:
    """Contracts per replication by group (region or Freedom House status) and provider."""
    counts = (
        contracts.groupby([column, "provider"])
        .size()
        .unstack(fill_value=0)
        .reindex(index=list(order), columns=providers, fill_value=0)
    ) / replications
    figure, axis = subplots(figsize=(8, 4.2))
    bottom = pd.Series(0.0, index=counts.index)
    for index, name in enumerate(providers):
        axis.bar(
            counts.index,
            counts[name],
            bottom=bottom,
            label=name,
            color=provider_colour(name, index),
        )
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


def world_map_table(
    contracts: pd.DataFrame, blocs: dict[str, str], replications: int
) -> pd.DataFrame:
    """Each country's dominance over the run, as the world map draws it (``world_map.csv``).

    In each replication a country's dominant provider is the one awarded the most contract
    value there over the whole run, or "no bloc dominates" if no bloc's providers (``blocs``:
    state -> bloc) won a majority of it. The table gives the label of most replications, its
    consistency (share of replications in which its bloc leads) and strength (its bloc's share
    of the value) with the 5-95 % spread across replications.
    """
    value = contracts.groupby(["replication", "country", "provider"])["value_usd_m"].sum()
    bloc_of = {
        provider: blocs[state]
        for provider, state in zip(contracts["provider"], contracts["provider_state"], strict=True)
    }
    return dominance_by_country(value, bloc_of, replications)


def plot_world_map(
    contracts: pd.DataFrame,
    providers: list[str],
    centroids: dict[str, tuple[float, float]],
    blocs: dict[str, str],
    replications: int,
    dominance: pd.DataFrame | None = None,
) -> Figure:
    """Each country coloured by its dominant provider over the run (``world_map_table``).

    The map shows the label of most replications, pale where its bloc holds under
    ``STRONG_SHARE`` of the value on average, hatched where it leads in under
    ``CONSISTENT_SHARE`` of the replications. ``dominance``: the table, if already computed.
    """
    if dominance is None:
        dominance = world_map_table(contracts, blocs, replications)
    figure, axes = subplots(figsize=(10, 5.6))
    handles = draw_dominance_map(
        axes,
        dominance["dominant"].to_dict(),
        providers,
        centroids,
        strength=dominance["strength"].to_dict(),
        consistency=dominance["consistency"].to_dict(),
    )
    start, end = int(contracts["year"].min()), int(contracts["year"].max())
    axes.set_title(
        f"Dominant provider by country, contracts {start}-{end} (most value, or no "
        f"bloc with a majority; the label of most of {replications} replications)",
        fontsize=10,
    )
    figure.legend(
        handles=handles,
        loc="lower center",
        ncols=(len(handles) + 2) // 3,
        fontsize=8,
        frameon=False,
    )
    figure.subplots_adjust(**MARGINS["map"])
    return figure


def _noted(figure: Figure, yearly: pd.DataFrame) -> Figure:
    """The figure with a note of what its lines and bands are."""
    replications = yearly["replication"].nunique()
    note = f"mean of {replications} replications" + (", band 5-95 %" if replications > 1 else "")
    figure.text(0.99, 0.01, note, ha="right", va="bottom", fontsize=7, color="0.4")
    return figure


def write_figures(
    folder: Path,
    contracts: pd.DataFrame,
    yearly: pd.DataFrame,
    providers: list[str],
    states: list[str],
    centroids: dict[str, tuple[float, float]],
    blocs: dict[str, str],
) -> None:
    """All the run's figures into ``folder`` (``blocs``: state -> bloc, for the map)."""
    folder.mkdir()
    replications = int(yearly["replication"].nunique())
    figures = {
        "market_share": plot_market_share(yearly, providers),
        "deals_by_region": plot_deals_by_group(
            contracts, providers, "region", REGIONS, "Contracts by region", replications
        ),
        "deals_by_freedom_status": plot_deals_by_group(
            contracts,
            providers,
            "fh_status",
            FH_STATUSES,
            "Contracts by Freedom House status",
            replications,
        ),
        "leverage": plot_leverage(yearly, states),
    }
    if len(contracts):
        dominance = world_map_table(contracts, blocs, replications)
        dominance.round(4).to_csv(folder / "world_map.csv")
        figures["world_map"] = plot_world_map(
            contracts, providers, centroids, blocs, replications, dominance
        )
    for name, figure in figures.items():
        figure.savefig(folder / f"{name}.png", dpi=110)
