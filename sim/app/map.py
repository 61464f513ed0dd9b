"""The world map: each country coloured by its dominant provider, drawn from shapes shipped here.

A country's dominant provider is the one holding the largest installed base there (the value of
its active contracts). The outlines are Natural Earth's 1:110m countries, converted once to
``data/world-110m.geojson`` (see ``data/README.md``) and drawn with matplotlib: no tile server,
no CDN. Small countries with no outline at that scale are drawn as dots at their centroids.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np
import solara
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from mesa.visualization.utils import update_counter

from sim.app.charts import moment, provider_colour

MAP_FILE = Path(__file__).resolve().parent / "data" / "world-110m.geojson"
NO_CONTRACT = "#d5d8dc"
NOT_MODELLED = "#f4f6f7"


@functools.cache
def country_outlines(path: Path = MAP_FILE) -> dict[str, list[np.ndarray]]:
    """Each country's outer rings (lon, lat arrays), keyed by ISO3; countries with holes first.

    Holes are left out: at this scale a hole is another country (Lesotho in South Africa),
    which is drawn on top because countries with holes come first.
    """
    features = json.loads(path.read_text(encoding="utf-8"))["features"]
    outlines: list[tuple[bool, str, list[np.ndarray]]] = []
    for feature in features:
        geometry = feature["geometry"]
        polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" \
            else [geometry["coordinates"]]
        rings = [np.asarray(polygon[0], dtype=float) for polygon in polygons]
        has_holes = any(len(polygon) > 1 for polygon in polygons)
        outlines.append((not has_holes, feature["properties"]["iso3"], rings))
    outlines.sort(key=lambda item: item[0])
    return {iso3: rings for _, iso3, rings in outlines}


def dominant_providers(model) -> dict[str, str]:
    """ISO3 -> name of the provider with the largest installed base, for every government
    with any."""
    dominant = {}
    for government in model.governments:
        if government.installed:
            provider = max(government.installed.items(), key=lambda item: item[1])[0]
            dominant[government.iso3] = provider.name
    return dominant


def world_map_figure(model) -> Figure:
    """The choropleth: dominant provider by country, now."""
    colours = {provider.name: provider_colour(provider.name, index)
               for index, provider in enumerate(model.providers)}
    dominant = dominant_providers(model)
    modelled = {government.iso3 for government in model.governments}

    def colour(iso3: str) -> str:
        if iso3 in dominant:
            return colours[dominant[iso3]]
        return NO_CONTRACT if iso3 in modelled else NOT_MODELLED

    outlines = country_outlines()
    rings, faces = [], []
    for iso3, country_rings in outlines.items():
        rings += country_rings
        faces += [colour(iso3)] * len(country_rings)
    figure = Figure(figsize=(7.2, 3.9), dpi=90, layout="constrained")
    axes = figure.subplots()
    axes.add_collection(PolyCollection(rings, facecolors=faces, edgecolors="white",
                                       linewidths=0.3))
    small = [government for government in model.governments if government.iso3 not in outlines]
    axes.scatter([g.country["lon"] for g in small], [g.country["lat"] for g in small],
                 c=[colour(g.iso3) for g in small], s=14, edgecolors="grey", linewidths=0.3,
                 zorder=3)
    axes.set_xlim(-170, 180)
    axes.set_ylim(-57, 84)
    axes.set_aspect("equal")
    axes.axis("off")
    axes.set_title(f"Dominant provider by country, {moment(model)}", fontsize=11)
    handles = [Patch(color=colour_, label=name) for name, colour_ in colours.items()]
    handles += [Patch(color=NO_CONTRACT, label="no contract yet"),
                Patch(facecolor=NOT_MODELLED, edgecolor="grey", label="not in the model")]
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
