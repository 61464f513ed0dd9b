"""A world map coloured by each country's dominant provider, from shapes shipped with the project.

The outlines are Natural Earth's 1:110m countries (public domain), converted once to
``app/data/world-110m.geojson`` (see ``app/data/README.md``) and drawn with matplotlib: no tile
server, no CDN, nothing downloaded. Small countries with no outline at that scale are drawn as
dots at their centroids. Used by the results figures and by the classroom app.

Over several replications a country's colour is the label that leads in most of them;
``dominance_by_country`` also says how consistent that label is (the share of replications in
which its bloc leads) and how strong (the share of the country's contract value its bloc
holds), and the map draws weak dominance pale and inconsistent dominance hatched.
"""

from __future__ import annotations

import functools
import json
from collections import Counter
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.collections import PolyCollection
from matplotlib.colors import to_rgba
from matplotlib.patches import Patch

from sim.palette import provider_colour

MAP_FILE = Path(__file__).resolve().parent / "app" / "data" / "world-110m.geojson"
NO_CONTRACT = "#d5d8dc"
NOT_MODELLED = "#f4f6f7"
NO_BLOC = "no bloc dominates"
NO_BLOC_COLOUR = "#b7950b"
MAJORITY = 0.5
"""A bloc dominates a country when it holds more than this share of the value."""
STRONG_SHARE = 0.75
"""A bloc holding at least this mean share of a country's contract value is drawn solid;
below it (but a majority) pale. A presentation threshold, not a model parameter."""
CONSISTENT_SHARE = 2 / 3
"""A label whose bloc leads in fewer than this share of replications is drawn hatched
(presentation)."""
PALE = 0.45
"""Opacity of a pale (weakly dominated) country over the white background."""


def dominant_label(
    installed: Mapping[str, float], bloc_of: Mapping[str, str], majority: float = MAJORITY
) -> str:
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


def dominance_by_country(
    value: pd.Series, bloc_of: Mapping[str, str], replications: int
) -> pd.DataFrame:
    """Each country's dominant label across replications, with its consistency and strength.

    ``value`` is contract value indexed by (replication, country, provider); ``bloc_of`` maps
    providers to blocs; ``replications`` is the number of replications in the run (a
    replication with no contract in a country is one in which no label leads there).

    Returns one row per country (index ``country``) with ``dominant`` (the ``dominant_label``
    of most replications; on a tie the one that leads first), ``replications_leading`` (the
    replications of which it is the label), ``bloc_leading`` (those in which its bloc holds a
    majority of the value; where no bloc dominates, those in which none does), ``consistency``
    (``bloc_leading`` over ``replications``: a country whose Chinese majority goes to Huawei in
    some replications and to Alibaba in others is consistently Chinese), and ``strength``: the
    mean, over the replications with contracts there, of the share of the value held by the
    dominant label's bloc (by the largest bloc where no bloc dominates), with
    ``strength_p05``/``strength_p95``, the 5-95 % spread of that share across those
    replications.
    """
    frame = value.rename("value").reset_index()
    frame["bloc"] = frame["provider"].map(bloc_of)
    by_bloc = frame.pivot_table(
        index=["replication", "country"],
        columns="bloc",
        values="value",
        aggfunc="sum",
        fill_value=0.0,
    )
    bloc_share = by_bloc.div(by_bloc.sum(axis=1), axis=0)
    labels = value.groupby(["replication", "country"]).agg(
        lambda amounts: dominant_label(
            dict(zip(amounts.index.get_level_values("provider"), amounts, strict=True)), bloc_of
        )
    )
    rows = {}
    for country, names in labels.groupby("country"):
        dominant, leading = Counter(names).most_common(1)[0]
        shares = bloc_share.xs(country, level="country")
        held = shares.max(axis=1) if dominant == NO_BLOC else shares[bloc_of[dominant]]
        bloc_leading = leading if dominant == NO_BLOC else int((held > MAJORITY).sum())
        rows[country] = {
            "dominant": dominant,
            "replications_leading": leading,
            "bloc_leading": bloc_leading,
            "consistency": bloc_leading / replications,
            "strength": held.mean(),
            "strength_p05": held.quantile(0.05),
            "strength_p95": held.quantile(0.95),
        }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("country")


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
        polygons = (
            geometry["coordinates"]
            if geometry["type"] == "MultiPolygon"
            else [geometry["coordinates"]]
        )
        rings = [np.asarray(polygon[0], dtype=float) for polygon in polygons]
        has_holes = any(len(polygon) > 1 for polygon in polygons)
        outlines.append((not has_holes, feature["properties"]["iso3"], rings))
    outlines.sort(key=lambda item: item[0])
    return {iso3: rings for _, iso3, rings in outlines}


def _provider_colours(providers: list[str]) -> dict[str, str]:
    return {name: provider_colour(name, index) for index, name in enumerate(providers)}


def country_fills(
    dominant: Mapping[str, str],
    providers: list[str],
    centroids: Mapping[str, tuple[float, float]],
    strength: Mapping[str, float] | None = None,
) -> dict[str, tuple]:
    """RGBA fill of every modelled or outlined country for ``draw_dominance_map``.

    A country's provider colour (``NO_BLOC_COLOUR`` where no bloc dominates), pale where its
    ``strength`` is below ``STRONG_SHARE``; ``NO_CONTRACT`` for a modelled country with no
    label, ``NOT_MODELLED`` for the rest of the world.
    """
    colours = _provider_colours(providers)
    strength = strength or {}

    def fill(iso3: str) -> tuple:
        if iso3 not in dominant:
            return to_rgba(NO_CONTRACT if iso3 in centroids else NOT_MODELLED)
        label = dominant[iso3]
        weak = label != NO_BLOC and strength.get(iso3, 1.0) < STRONG_SHARE
        return to_rgba(
            NO_BLOC_COLOUR if label == NO_BLOC else colours[label], PALE if weak else 1.0
        )

    return {iso3: fill(iso3) for iso3 in {*country_outlines(), *centroids}}


def draw_dominance_map(
    axes,
    dominant: Mapping[str, str],
    providers: list[str],
    centroids: Mapping[str, tuple[float, float]],
    strength: Mapping[str, float] | None = None,
    consistency: Mapping[str, float] | None = None,
) -> list[Patch]:
    """Colour each country by its dominant provider on ``axes``; return the legend handles.

    ``dominant`` maps ISO3 to a provider's name or ``NO_BLOC``; ``centroids`` maps every
    modelled country to its (lon, lat), used to draw countries too small for an outline and to
    tell "no contract yet" from "not in the model". With ``strength`` (ISO3 -> share of value
    held by the dominant bloc) weak dominance is pale; with ``consistency`` (ISO3 -> share of
    replications in which the label's bloc leads) a label whose bloc leads in fewer than
    ``CONSISTENT_SHARE`` of them is hatched.
    """
    fills = country_fills(dominant, providers, centroids, strength)
    unsettled = {iso3 for iso3, share in (consistency or {}).items() if share < CONSISTENT_SHARE}
    outlines = country_outlines()
    rings, faces, hatched = [], [], []
    for iso3, country_rings in outlines.items():
        rings += country_rings
        faces += [fills[iso3]] * len(country_rings)
        if iso3 in unsettled:
            hatched += country_rings
    axes.add_collection(PolyCollection(rings, facecolors=faces, edgecolors="white", linewidths=0.3))
    if hatched:
        axes.add_collection(
            PolyCollection(
                hatched, facecolors="none", edgecolors="0.25", linewidths=0.0, hatch="////"
            )
        )
    small = [iso3 for iso3 in centroids if iso3 not in outlines]
    axes.scatter(
        [centroids[i][0] for i in small],
        [centroids[i][1] for i in small],
        c=[fills[i] for i in small],
        s=14,
        edgecolors=["black" if i in unsettled else "grey" for i in small],
        linewidths=[1.0 if i in unsettled else 0.3 for i in small],
        zorder=3,
    )
    axes.set_xlim(-170, 180)
    axes.set_ylim(-57, 84)
    axes.set_aspect("equal")
    axes.axis("off")
    handles = [
        Patch(color=shade, label=name) for name, shade in _provider_colours(providers).items()
    ]
    handles += [
        Patch(color=NO_BLOC_COLOUR, label=NO_BLOC),
        Patch(color=NO_CONTRACT, label="no contract"),
        Patch(facecolor=NOT_MODELLED, edgecolor="grey", label="not in the model"),
    ]
    if strength is not None:
        handles.append(
            Patch(
                facecolor=to_rgba("0.3", PALE),
                edgecolor="none",
                label=f"pale: bloc holds < {STRONG_SHARE:.0%} of the value",
            )
        )
    if consistency is not None:
        handles.append(
            Patch(
                facecolor="white",
                edgecolor="0.25",
                hatch="////",
                label=f"hatched: bloc leads in < {CONSISTENT_SHARE:.0%} of replications",
            )
        )
    return handles
