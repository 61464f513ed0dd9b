"""The app's world map: each country coloured by the provider with its largest installed base
(the value of its active contracts) now.

``map_geometry_svg`` draws it as SVG for the screen (it scales and stays sharp) and
``map_fills_css`` colours it; the outlines are ``sim.worldmap``'s (Natural Earth 1:110m, shipped
with the project), projected plate carrée.
``dominance_figure`` draws the same map with matplotlib (the game's teacher screen uses it).
"""

from __future__ import annotations

import functools

from matplotlib.figure import Figure

from sim.palette import provider_colour
from sim.worldmap import (
    NO_CONTRACT,
    NOT_MODELLED,
    country_outlines,
    dominant_label,
    draw_dominance_map,
)

WEST, EAST, NORTH, SOUTH = -170.0, 180.0, 84.0, -57.0
MAP_WIDTH = 760
SCALE = MAP_WIDTH / (EAST - WEST)
MAP_HEIGHT = round((NORTH - SOUTH) * SCALE)


def dominant_providers(model) -> dict[str, str]:
    """ISO3 -> name of the provider with the largest installed base, for every government
    with any, or "no bloc dominates" where no bloc holds a majority of it."""
    bloc_of = {provider.name: provider.home.bloc for provider in model.providers}
    return {
        government.iso3: dominant_label(
            {p.name: v for p, v in government.installed.items()}, bloc_of
        )
        for government in model.governments
        if government.installed
    }


def centroids_of(model) -> dict[str, tuple[float, float]]:
    """ISO3 -> (lon, lat) of every modelled country."""
    return {g.iso3: (g.country["lon"], g.country["lat"]) for g in model.governments}


def _xy(lon: float, lat: float) -> tuple[float, float]:
    return (lon - WEST) * SCALE, (NORTH - lat) * SCALE


@functools.cache
def _country_paths() -> dict[str, str]:
    """Each outlined country's SVG path data, in whole units (computed once)."""
    paths = {}
    for iso3, rings in country_outlines().items():
        parts = []
        for ring in rings:
            points: list[tuple[int, int]] = []
            for lon, lat in ring:
                x, y = _xy(lon, lat)
                point = (round(x), round(y))
                if not points or point != points[-1]:
                    points.append(point)
            if len(points) >= 3:
                parts.append("M" + "L".join(f"{x},{y}" for x, y in points) + "Z")
        paths[iso3] = "".join(parts)
    return paths


@functools.lru_cache(maxsize=8)
def map_geometry_svg(centroids: tuple[tuple[str, float, float], ...]) -> str:
    """The map's shapes as an ``<svg>`` that fills its container's width, every country in the
    "not in the model" shade; ``map_fills_css`` colours them. The shapes never change during a
    lesson, so the browser receives them once and then only the colours."""
    paths = _country_paths()
    parts = [
        f'<svg class="cloudrace-worldmap" viewBox="0 0 {MAP_WIDTH} {MAP_HEIGHT}" '
        'width="100%" preserveAspectRatio="xMidYMid meet" role="img" '
        'aria-label="World map: dominant provider by country">'
    ]
    for iso3, path in paths.items():
        parts.append(
            f'<path data-iso3="{iso3}" d="{path}" fill="{NOT_MODELLED}" '
            'stroke="white" stroke-width="0.4"/>'
        )
    for iso3, lon, lat in centroids:
        if iso3 not in paths:
            x, y = _xy(lon, lat)
            parts.append(
                f'<circle data-iso3="{iso3}" cx="{x:.0f}" cy="{y:.0f}" r="3.2" '
                f'fill="{NOT_MODELLED}" stroke="#777" stroke-width="0.5"/>'
            )
    parts.append("</svg>")
    return "".join(parts)


def map_fills(
    dominant: dict[str, str], providers: list[str], centroids: dict[str, tuple[float, float]]
) -> dict[str, str]:
    """ISO3 -> colour for every modelled country: its dominant provider's, or "no contract"."""
    colours = {name: provider_colour(name, index) for index, name in enumerate(providers)}
    return {
        iso3: colours[dominant[iso3]] if iso3 in dominant else NO_CONTRACT for iso3 in centroids
    }


def map_fills_css(
    dominant: dict[str, str], providers: list[str], centroids: dict[str, tuple[float, float]]
) -> str:
    """CSS rules colouring the map's countries (a few kB per year instead of the shapes)."""
    return "".join(
        f'.cloudrace-worldmap [data-iso3="{iso3}"]{{fill:{colour}}}'
        for iso3, colour in map_fills(dominant, providers, centroids).items()
    )


def legend_entries(providers: list[str]) -> list[tuple[str, str]]:
    """(colour, label) for the map's legend."""
    return [(provider_colour(name, index), name) for index, name in enumerate(providers)] + [
        (NO_CONTRACT, "no contract yet"),
        (NOT_MODELLED, "not in the model"),
    ]


def dominance_figure(
    dominant: dict[str, str],
    providers: list[str],
    centroids: dict[str, tuple[float, float]],
    title: str,
    figure: Figure | None = None,
    axes=None,
) -> Figure:
    """The same map with matplotlib (for saved pictures)."""
    if axes is None:
        figure = Figure(figsize=(7.2, 3.9), dpi=90, layout="constrained")
        axes = figure.subplots()
    handles = draw_dominance_map(axes, dominant, providers, centroids)
    axes.set_title(title, fontsize=11)
    figure.legend(
        handles=handles,
        loc="outside lower center",
        ncols=(len(handles) + 1) // 2,
        fontsize=9,
        frameon=False,
    )
    return figure


def world_map_figure(model) -> Figure:
    """The matplotlib map of a live model, now."""
    return dominance_figure(
        dominant_providers(model),
        [provider.name for provider in model.providers],
        centroids_of(model),
        f"Dominant provider by country, start of {int(model.year)}",
    )
