"""The app's world map: each country coloured by the provider with its largest installed base
(the value of its active contracts) now; the drawing is ``sim.worldmap``'s."""

from __future__ import annotations

import solara
from matplotlib.figure import Figure
from mesa.visualization.utils import update_counter

from sim.app.charts import moment
from sim.worldmap import dominant_label, draw_dominance_map


def dominant_providers(model) -> dict[str, str]:
    """ISO3 -> name of the provider with the largest installed base, for every government
    with any, or "no bloc dominates" where no bloc holds a majority of it."""
    bloc_of = {provider.name: provider.home.bloc for provider in model.providers}
    return {government.iso3: dominant_label({p.name: v for p, v in government.installed.items()},
                                            bloc_of)
            for government in model.governments if government.installed}


def world_map_figure(model) -> Figure:
    """The choropleth: dominant provider by country, now."""
    figure = Figure(figsize=(7.2, 3.9), dpi=90, layout="constrained")
    axes = figure.subplots()
    centroids = {g.iso3: (g.country["lon"], g.country["lat"]) for g in model.governments}
    handles = draw_dominance_map(axes, dominant_providers(model),
                                 [provider.name for provider in model.providers], centroids)
    axes.set_title(f"Dominant provider by country, {moment(model)}", fontsize=11)
    figure.legend(handles=handles, loc="outside lower center", ncols=(len(handles) + 1) // 2,
                  fontsize=9, frameon=False)
    return figure


@solara.component
def WorldMap(model) -> None:
    """The map component, redrawn once per step."""
    counter = update_counter.get()
    figure = solara.use_memo(lambda: world_map_figure(model), [model, counter])
    with solara.Column(classes=["cloudrace-map"]):
        solara.FigureMatplotlib(figure, format="png", dependencies=[model, counter])
