"""A world map coloured by each country's dominant provider, from shapes shipped with the project.

The outlines are Natural Earth's 1:110m countries (public domain), converted once to
``app/data/world-110m.geojson`` (see ``app/data/README.md``) and drawn with matplotlib: no tile
server, no CDN, nothing downloaded. Small countries with no outline at that scale are drawn as
dots at their centroids. Used by the results figures and by the classroom app.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from pathlib import Path

import numpy as np
from matplotlib.collections import PolyCollection
from matplotlib.patches import Patch

from sim.palette import provider_colour

MAP_FILE = Path(__file__).resolve().parent / "app" / "data" / "world-110m.geojson"
NO_CONTRACT = "#d5d8dc"
NOT_MODELLED = "#f4f6f7"
NO_BLOC = "no bloc dominates"
NO_BLOC_COLOUR = "#b7950b"


def dominant_label(installed: Mapping[str, float], bloc_of: Mapping[str, str],
                   majority: float = 0.5) -> str:
    """The provider with the largest installed base, or ``NO_BLOC`` if no bloc holds a majority.

    ``installed`` maps provider names to installed value, ``bloc_of`` maps them to their home
    state's bloc ("west", "china", "none" for the other suppliers).

    >>> dominant_label({"Huawei": 4.0, "AWS": 3.0, "Other": 3.0},
    ...                {"Huawei": "china", "AWS": "west", "Other": "none"})
    'no bloc dominates'
    """
    total = sum(installed.values())
    by_bloc: dict[str, float] = {}
    for name, amount in installed.items():
        by_bloc[bloc_of[name]] = by_bloc.get(bloc_of[name], 0.0) + amount
    if total <= 0.0 or max(by_bloc.values()) <= majority * total:
        return NO_BLOC
    return max(installed.items(), key=lambda item: item[1])[0]


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


def draw_dominance_map(axes, dominant: Mapping[str, str], providers: list[str],
                       centroids: Mapping[str, tuple[float, float]]) -> list[Patch]:
    """Colour each country by its dominant provider on ``axes``; return the legend handles.

    ``dominant`` maps ISO3 to a provider's name or ``NO_BLOC``; ``centroids`` maps every
    modelled country to its (lon, lat), used to draw countries too small for an outline and to
    tell "no contract yet" from "not in the model".
    """
    colours = {name: provider_colour(name, index) for index, name in enumerate(providers)}

    def colour(iso3: str) -> str:
        if iso3 in dominant:
            return NO_BLOC_COLOUR if dominant[iso3] == NO_BLOC else colours[dominant[iso3]]
        return NO_CONTRACT if iso3 in centroids else NOT_MODELLED

    outlines = country_outlines()
    rings, faces = [], []
    for iso3, country_rings in outlines.items():
        rings += country_rings
        faces += [colour(iso3)] * len(country_rings)
    axes.add_collection(PolyCollection(rings, facecolors=faces, edgecolors="white",
                                       linewidths=0.3))
    small = [iso3 for iso3 in centroids if iso3 not in outlines]
    axes.scatter([centroids[i][0] for i in small], [centroids[i][1] for i in small],
                 c=[colour(i) for i in small], s=14, edgecolors="grey", linewidths=0.3,
                 zorder=3)
    axes.set_xlim(-170, 180)
    axes.set_ylim(-57, 84)
    axes.set_aspect("equal")
    axes.axis("off")
    handles = [Patch(color=shade, label=name) for name, shade in colours.items()]
    return handles + [Patch(color=NO_BLOC_COLOUR, label=NO_BLOC),
                      Patch(color=NO_CONTRACT, label="no contract"),
                      Patch(facecolor=NOT_MODELLED, edgecolor="grey", label="not in the model")]
