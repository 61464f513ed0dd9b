"""Dated country data: values by year, tie spells and eligibility bars, looked up fast.

The model asks, once per government and year (and at each dated change), for a country's income
group, Freedom House status and score, internet use and alignment anchor in that year, whether a
tie (US security partnership, Belt-and-Road membership) is in force, and whether a state's
providers or lenders are barred. The answers come from three files built offline by
``tools/build_country_years.py`` into ``sim/data/`` (sources in ``sim/data/README.md``):
``country_years.csv``, ``ties.csv`` and ``eligibility.csv``.

Everything is read once and turned into plain tuples and dicts, so a lookup is an index or a
short scan, never a pandas query. Years outside the panel take the nearest end: before its first
year the first value, after its last year the last value (the carry rules are in the README).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

DATA = Path(__file__).parent / "data"
PANEL_COLUMNS = (
    "income_group",
    "fh_status",
    "fh_score",
    "internet_pct",
    "unga_ideal_point",
    "alignment_anchor",
)
DATED_TIES = ("us_security_partner", "bri_mou")
# Eligibility rules the providers' own flag (barred_where_taiwan_recognised) enforces, from the
# same dates in countries.csv; the file lists them so that every contract can be checked.
FLAG_RULES = ("taiwan_recognition", "chinese_vendor_ban")


@dataclass(frozen=True, slots=True)
class Spell:
    """An interval of dates ``[start, end)`` in fractional years; ``None`` is open-ended."""

    start: float | None
    end: float | None

    def covers(self, year: float) -> bool:
        """Whether the spell is in force at ``year``."""
        return (self.start is None or year >= self.start) and (self.end is None or year < self.end)


@dataclass(frozen=True, slots=True)
class Bar:
    """One row of the eligibility file: ``state``'s providers or lenders barred in a country."""

    state: str
    rule: str
    contract: bool
    lend: bool
    spell: Spell


class CountryPanel:
    """Lookups over the three dated files (see the module docstring)."""

    def __init__(self, years: pd.DataFrame, ties: pd.DataFrame, bars: pd.DataFrame) -> None:
        self.first_year = int(years["year"].min())
        self.last_year = int(years["year"].max())
        span = self.last_year - self.first_year + 1
        self._values: dict[tuple[str, str], tuple] = {}
        for iso3, group in years.sort_values("year").groupby("iso3"):
            if list(group["year"]) != list(range(self.first_year, self.last_year + 1)):
                raise ValueError(
                    f"country_years.csv: {iso3} lacks some of the years "
                    f"{self.first_year}-{self.last_year}"
                )
            for column in PANEL_COLUMNS:
                values = group[column].tolist()
                self._values[(iso3, column)] = tuple(
                    int(v) if column == "fh_score" else v for v in values
                )
        self._span = span
        self.countries = frozenset(years["iso3"])
        self._ties: dict[tuple[str, str], tuple[Spell, ...]] = {}
        for row in ties.itertuples(index=False):
            key = (row.iso3, row.tie)
            self._ties[key] = (*self._ties.get(key, ()), Spell(_date(row.start), _date(row.end)))
        self._bars: dict[str, tuple[Bar, ...]] = {}
        for row in bars.itertuples(index=False):
            bar = Bar(
                row.state,
                row.rule,
                bool(row.contract),
                bool(row.lend),
                Spell(_date(row.start), _date(row.end)),
            )
            self._bars[row.iso3] = (*self._bars.get(row.iso3, ()), bar)

    def knows(self, iso3: str) -> bool:
        """Whether the panel has rows for this country (a user's own country may not)."""
        return iso3 in self.countries

    def value(self, iso3: str, column: str, year: float):
        """The value of ``column`` for ``iso3`` in calendar year ``int(year)``, ends held."""
        index = min(max(int(math.floor(year)) - self.first_year, 0), self._span - 1)
        return self._values[(iso3, column)][index]

    def tie(self, iso3: str, tie: str, year: float) -> bool:
        """Whether a dated tie (``us_security_partner``, ``bri_mou``) is in force at ``year``."""
        return any(spell.covers(year) for spell in self._ties.get((iso3, tie), ()))

    def bars(self, iso3: str, year: float, *, flagged: bool = True) -> tuple[Bar, ...]:
        """The eligibility bars in force in ``iso3`` at ``year``.

        With ``flagged`` false, leave out the rules the providers' flag enforces (FLAG_RULES).
        """
        return tuple(
            bar
            for bar in self._bars.get(iso3, ())
            if bar.spell.covers(year) and (flagged or bar.rule not in FLAG_RULES)
        )

    def change_dates(self, iso3: str) -> list[float]:
        """Every date at which one of the country's ties or bars starts or ends."""
        spells = [bar.spell for bar in self._bars.get(iso3, ())]
        spells += [
            spell for (code, _), group in self._ties.items() if code == iso3 for spell in group
        ]
        return sorted(
            {date for spell in spells for date in (spell.start, spell.end) if date is not None}
        )


def _date(value) -> float | None:
    return (
        None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)
    )


def read_panel_files(folder: Path = DATA) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The three files as tables (booleans parsed), for the panel and for tests."""
    years = pd.read_csv(
        folder / "country_years.csv",
        keep_default_na=False,
        na_values={"internet_pct": [""]},
        dtype={"income_from": str, "fh_from": str, "internet_from": str, "unga_from": str},
    )
    ties = pd.read_csv(folder / "ties.csv", dtype={"start_date": str, "end_date": str})
    bars = pd.read_csv(folder / "eligibility.csv", dtype={"start_date": str, "end_date": str})
    for column in ("contract", "lend"):
        bars[column] = bars[column].map({True: True, False: False, "true": True, "false": False})
    return years, ties, bars


@functools.lru_cache(maxsize=1)
def load_panel() -> CountryPanel:
    """The shipped panel, read once per process."""
    return CountryPanel(*read_panel_files())
