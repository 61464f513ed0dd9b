"""Government-data localisation rules by country and date (mechanism 11, the other suppliers).

``sim/data/data_localisation.csv`` lists the countries whose law requires government (or
citizens') data to stay in the country, the date the rule took effect and the legal instrument,
one row each (see ``sim/data/README.md``). Where such a rule is in force, domestic operators and
suppliers with local data centres gain (``providers.<name>.localisation_quality``). The list is
deliberately short: only rules that name public-sector data, each with its instrument; a country
absent from it is treated as having none.
"""

from __future__ import annotations

import functools
from pathlib import Path

import pandas as pd

LOCALISATION_FILE = Path(__file__).resolve().parent / "data" / "data_localisation.csv"


@functools.cache
def localisation_since(path: Path = LOCALISATION_FILE) -> dict[str, float]:
    """ISO3 -> the fractional year from which the country's localisation rule is in force."""
    table = pd.read_csv(path)
    return {
        str(iso3): float(since) for iso3, since in zip(table["iso3"], table["since"], strict=True)
    }
