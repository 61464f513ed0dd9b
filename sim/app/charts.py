"""The app's live charts: who wins new contracts, the installed base by region, leverage.

Each chart is a Solara component drawn with matplotlib (no browser-side chart library, so
nothing more to cache for offline use) and redrawn at every step. The colours are shared with
the map: reds and oranges for Chinese providers, blues for US ones.
"""

from __future__ import annotations

import solara
from matplotlib.figure import Figure
from mesa.visualization.utils import update_counter

from sim.palette import provider_colour, state_colour
from sim.schema import REGIONS


def moment(model) -> str:
    """When the model is: ``"start of 2012"`` (each step closes one year)."""
    return f"start of {int(model.year)}"


def new_contracts_figure(model) -> Figure:
    """Lines: each provider's share of the year's new contracts, year by year."""
    figure, axes = _figure("Who wins the new contracts")
    data = model.datacollector.get_model_vars_dataframe()
    if data.empty:
        _waiting(axes)
    else:
        for index, provider in enumerate(model.providers):
            axes.plot(data["year"], 100 * data[f"share_new_{provider.name}"], marker=".",
                      color=provider_colour(provider.name, index), label=provider.name)
        _legend(figure, axes)
    axes.set_ylim(0, 100)
    axes.set_ylabel("% of the year's new contracts")
    _years_axis(axes, model)
    return figure


def installed_base_figure(model) -> Figure:
    """Stacked bars: each region's installed base (active contracts' value) by provider."""
    figure, axes = _figure(f"Installed base by region, {moment(model)}")
    value = {(region, provider): 0.0 for region in REGIONS for provider in model.providers}
    for government in model.governments:
        for provider, amount in government.installed.items():
            value[government.region, provider] += amount
    left = [0.0] * len(REGIONS)
    for index, provider in enumerate(model.providers):
        widths = [value[region, provider] / 1000 for region in REGIONS]
        axes.barh(REGIONS, widths, left=left, color=provider_colour(provider.name, index),
                  label=provider.name)
        left = [a + b for a, b in zip(left, widths, strict=True)]
    axes.invert_yaxis()
    axes.set_xlabel("US$ bn of active contracts")
    axes.set_xlim(0, max(left) * 1.08 or 1.0)
    if max(left) == 0:
        _waiting(axes)
    _legend(figure, axes)
    return figure


def leverage_figure(model) -> Figure:
    """Lines: each state's leverage index (share of sensitive workloads its providers host).

    States without providers of their own (an allied lending pool) have none and are left out.
    """
    figure, axes = _figure("Each state's leverage")
    data = model.datacollector.get_model_vars_dataframe()
    if data.empty:
        _waiting(axes)
    else:
        for index, state in enumerate(name for name, actor in model.states.items()
                                      if actor.providers):
            axes.plot(data["year"], data[f"leverage_{state}"], marker=".",
                      color=state_colour(state, index), label=state)
        _legend(figure, axes)
    axes.set_ylim(0, 1)
    axes.set_ylabel("share of sensitive workloads\nits providers host (average)")
    _years_axis(axes, model)
    return figure


def _figure(title: str) -> tuple[Figure, object]:
    figure = Figure(figsize=(6.0, 3.4), dpi=90, layout="constrained")
    axes = figure.subplots()
    axes.set_title(title, fontsize=11)
    axes.grid(alpha=0.3)
    return figure, axes


def _legend(figure: Figure, axes) -> None:
    handles, labels = axes.get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside lower center", ncols=len(labels), fontsize=9,
                  frameon=False)


def _years_axis(axes, model) -> None:
    axes.set_xlim(model.start_year - 0.5, model.end_year + 0.5)
    axes.set_xlabel("year")


def _waiting(axes) -> None:
    axes.text(0.5, 0.5, "Press Step or ▶ to start", transform=axes.transAxes,
              ha="center", va="center", color="grey")


def _chart(make_figure, model, css_class: str) -> None:
    """Draw a figure once per model step (and per new model), inside a named column."""
    counter = update_counter.get()
    figure = solara.use_memo(lambda: make_figure(model), [model, counter])
    with solara.Column(classes=[css_class]):
        solara.FigureMatplotlib(figure, format="png", dependencies=[model, counter])


@solara.component
def NewContractsChart(model) -> None:
    """Chart: share of new contracts by provider over time."""
    _chart(new_contracts_figure, model, "cloudrace-new-contracts")


@solara.component
def InstalledBaseChart(model) -> None:
    """Chart: installed base by region and provider."""
    _chart(installed_base_figure, model, "cloudrace-installed-base")


@solara.component
def LeverageChart(model) -> None:
    """Chart: each state's leverage over time."""
    _chart(leverage_figure, model, "cloudrace-leverage")
